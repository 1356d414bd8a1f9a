// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Legacy registration: tcmur_register_handler() takes upstream's struct
 * tcmur_handler (built against upstream tcmu-runner 1.5 headers), wraps it
 * in a native handler and registers that.  Callouts whose C types match are
 * installed as they are; the command callouts go through trampolines that
 * build upstream's struct tcmur_cmd around the native command (same
 * tcmulib_cmd, so CDB, data and sense buffer are shared) and translate
 * status numbers both ways.
 *
 * Threads are the native ones for the same nr_threads: > 0 workers call the
 * trampolines, which may block as long as the handler does; 0 the ring
 * thread, and the handler completes later with tcmur_cmd_complete().
 */
#define TCMUR_COMPAT_IMPL
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat.h"

struct compat_handler {
	struct tcmur_handler native; /* what the registry copies */
	struct tcmur_upstream_handler *up;
	struct compat_handler *next;
};

/* Wrappers made so far; main thread only (registration and unload). */
static struct compat_handler *wrappers;

/* Upstream's view of one native command, alive until it completes. */
struct compat_cmd {
	struct tcmur_upstream_cmd up; /* first: handlers get &up */
	struct tcmur_cmd *native;
};

static const struct tcmur_upstream_handler *up_of(struct tcmu_device *dev)
{
	const struct compat_handler *ch = tcmur_dev_get_handler(dev)->opaque;

	return ch->up;
}

static void compat_cmd_done(struct tcmu_device *dev, struct tcmur_upstream_cmd *ucmd, int rc)
{
	struct compat_cmd *c = (struct compat_cmd *)ucmd;
	struct tcmur_cmd *native = c->native;

	free(c);
	tcmur_cmd_finish(dev, native, tcmur_compat_sts_to_native(rc));
}

#undef tcmur_cmd_complete
void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc)
{
	if (data)
		compat_cmd_done(dev, data, rc);
}

static struct compat_cmd *cmd_wrap(struct tcmur_cmd *native)
{
	struct compat_cmd *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->native = native;
	c->up.lib_cmd = native->lib_cmd;
	c->up.iovec = native->iovec;
	c->up.iov_cnt = native->iov_cnt;
	c->up.iov_base_copy = native->iov_base_copy;
	c->up.requested = native->requested;
	c->up.timed_out = native->timed_out;
	c->up.done = compat_cmd_done;
	clock_gettime(CLOCK_MONOTONIC, &c->up.start_time);
	return c;
}

/*
 * After an upstream callout returned up_rc: the command is still the
 * handler's (it completes later) when it said so; otherwise free the
 * wrapper and return the native status.
 */
static int cmd_returned(struct compat_cmd *c, int up_rc, bool pending)
{
	if (!pending)
		free(c);
	return tcmur_compat_sts_to_native(up_rc);
}

/* Async handlers (nr_threads 0) keep a callout that returned OK. */
static bool callout_pending(const struct tcmur_upstream_handler *up, int up_rc)
{
	return up->nr_threads == 0 && up_rc == TCMU_UPSTREAM_STS_OK;
}

#define WRAP_OR_BUSY(c, cmd)                                                                       \
	do {                                                                                       \
		(c) = cmd_wrap(cmd);                                                               \
		if (!(c))                                                                          \
			return TCMU_STS_NO_RESOURCE;                                               \
	} while (0)

static int tr_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->handle_cmd(dev, &c->up);
	return cmd_returned(c, rc, rc == TCMU_UPSTREAM_STS_ASYNC_HANDLED);
}

static int tr_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
		   size_t iov_cnt, size_t len, off_t off)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->read(dev, &c->up, iovec, iov_cnt, len, off);
	return cmd_returned(c, rc, callout_pending(up, rc));
}

static int tr_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
		    size_t iov_cnt, size_t len, off_t off)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->write(dev, &c->up, iovec, iov_cnt, len, off);
	return cmd_returned(c, rc, callout_pending(up, rc));
}

static int tr_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->flush(dev, &c->up);
	return cmd_returned(c, rc, callout_pending(up, rc));
}

static int tr_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->unmap(dev, &c->up, off, len);
	return cmd_returned(c, rc, callout_pending(up, rc));
}

static int tr_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
			struct iovec *iovec, size_t iov_cnt)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->writesame(dev, &c->up, off, len, iovec, iov_cnt);
	return cmd_returned(c, rc, callout_pending(up, rc));
}

static int tr_caw(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
		  struct iovec *iovec, size_t iov_cnt)
{
	const struct tcmur_upstream_handler *up = up_of(dev);
	struct compat_cmd *c;
	int rc;

	WRAP_OR_BUSY(c, cmd);
	rc = up->caw(dev, &c->up, off, len, iovec, iov_cnt);
	return cmd_returned(c, rc, callout_pending(up, rc));
}

/* HA hooks: a worker thread; they may block; statuses translated. */
static int tr_lock(struct tcmu_device *dev, uint16_t tag)
{
	return tcmur_compat_sts_to_native(up_of(dev)->lock(dev, tag));
}

static int tr_unlock(struct tcmu_device *dev)
{
	return tcmur_compat_sts_to_native(up_of(dev)->unlock(dev));
}

static int tr_get_lock_tag(struct tcmu_device *dev, uint16_t *tag)
{
	return tcmur_compat_sts_to_native(up_of(dev)->get_lock_tag(dev, tag));
}

/* The native header maps the name to tcmur_register_handler_v(); not here. */
#undef tcmur_register_handler

#define TRAMPOLINE(n, up, field) ((n)->field = (up)->field ? tr_##field : NULL)

int tcmur_register_handler(struct tcmur_upstream_handler *up)
{
	struct compat_handler *ch;
	struct tcmur_handler *n;
	int ret;

	if (!up)
		return tcmur_register_handler_v(NULL, 0, TCMUR_HANDLER_API_VERSION);
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->up = up;
	n = &ch->native;
	n->name = up->name;
	n->subtype = up->subtype;
	n->cfg_desc = up->cfg_desc;
	n->opaque = ch;
	n->nr_threads = up->nr_threads;
	n->_is_dbus_handler = up->_is_dbus_handler;

	/* Same C types: called directly, on the threads the native API names. */
	n->check_config = up->check_config;
	n->reconfig = up->reconfig;
	n->open = up->open;
	n->close = up->close;
	n->report_event = up->report_event;
	n->get_lock_state = up->get_lock_state;
	n->init = up->init;
	n->destroy = up->destroy;
	/* Upstream returns a bool nobody reads; void (*)(void) fits any type. */
	n->update_logdir = (void (*)(void))up->update_logdir;

	TRAMPOLINE(n, up, handle_cmd);
	TRAMPOLINE(n, up, read);
	TRAMPOLINE(n, up, write);
	TRAMPOLINE(n, up, flush);
	TRAMPOLINE(n, up, unmap);
	TRAMPOLINE(n, up, writesame);
	TRAMPOLINE(n, up, caw);
	TRAMPOLINE(n, up, lock);
	TRAMPOLINE(n, up, unlock);
	TRAMPOLINE(n, up, get_lock_tag);

	ret = tcmur_register_handler_v(n, (uint32_t)sizeof(*n), TCMUR_HANDLER_API_VERSION);
	if (ret) {
		free(ch);
		return ret;
	}
	ch->next = wrappers;
	wrappers = ch;
	tcmu_info("handler %s registered through the upstream 1.5 ABI\n", up->subtype);
	return 0;
}

void tcmur_compat_release(struct tcmur_handler *native)
{
	struct compat_handler **pp, *ch;

	for (pp = &wrappers; (ch = *pp); pp = &ch->next) {
		if (&ch->native == native) {
			*pp = ch->next;
			free(ch);
			return;
		}
	}
}
