/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The libtcmu context: handlers, the device list, the master (netlink) fd,
 * startup discovery with ring recovery, and the add/remove/reconfig events
 * with their (possibly deferred) replies to the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

bool tcmu_dbus_registration = true;

void tcmulib_set_dbus_registration(bool enable)
{
	tcmu_dbus_registration = enable;
}

/* The device filter (tcmulib_set_device_filter), read on the main thread only. */
static tcmulib_dev_filter_fn dev_filter;
static void *dev_filter_arg;

void tcmulib_set_device_filter(tcmulib_dev_filter_fn fn, void *arg)
{
	dev_filter = fn;
	dev_filter_arg = arg;
}

/* Ask the filter about a device; the subtype is "" when cfg has none. */
static bool ctx_filter_match(unsigned int hba, const char *dname, const char *cfg)
{
	char subtype[64] = "";
	const char *sub;
	size_t len;

	if (!tcmu_cfgstr_subtype(cfg, &sub, &len) && len < sizeof(subtype)) {
		memcpy(subtype, sub, len);
		subtype[len] = '\0';
	}
	return dev_filter(hba, dname, subtype, cfg, dev_filter_arg);
}

#ifndef TCMU_HAVE_GIO
/* Built without GIO: nothing to announce handlers with. */
void tcmu_register_start(struct tcmulib_context *ctx)
{
	if (tcmu_dbus_registration)
		tcmu_dbg("built without GIO: handlers are not registered with tcmu-runner\n");
}

void tcmu_register_add(struct tcmulib_context *ctx, struct tcmulib_handler *h)
{
}

void tcmu_register_stop(struct tcmulib_context *ctx)
{
}
#endif

struct tcmulib_handler *tcmu_ctx_find_handler(struct tcmulib_context *ctx, const char *cfg)
{
	struct tcmulib_handler *h = NULL;
	const char *sub;
	size_t len, i;

	if (tcmu_cfgstr_subtype(cfg, &sub, &len))
		return NULL;
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->n_handlers; i++) {
		const char *s = ctx->handlers[i]->subtype;

		if (s && strlen(s) == len && !memcmp(s, sub, len)) {
			h = ctx->handlers[i];
			break;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	return h;
}

/* Caller holds ctx->lock. */
static struct tcmu_device *ctx_find_dev_locked(struct tcmulib_context *ctx, unsigned int minor)
{
	struct tcmu_device *dev;

	for (dev = ctx->devs; dev; dev = dev->next)
		if (dev->minor == minor)
			break;
	return dev;
}

static bool ctx_has_dev(struct tcmulib_context *ctx, unsigned int minor)
{
	bool found;

	pthread_mutex_lock(&ctx->lock);
	found = ctx_find_dev_locked(ctx, minor) != NULL;
	pthread_mutex_unlock(&ctx->lock);
	return found;
}

/* Caller holds ctx->lock. */
static void ctx_unlink_dev_locked(struct tcmulib_context *ctx, struct tcmu_device *dev)
{
	struct tcmu_device **pp;

	for (pp = &ctx->devs; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
}

/*
 * --- events -------------------------------------------------------------
 *
 * Each ADDED/REMOVED/RECONFIG runs as one event on its device: begin (under
 * ctx->lock, only when no other event is in progress), the handler
 * callback, end of callback.  If the callback called tcmulib_defer_event(),
 * the event concludes when both the callback has returned and
 * tcmulib_event_done() was called, on whichever thread comes last; until
 * then the library touches the device only under ctx->lock.  Concluding
 * applies the outcome, may free the device and replies to the kernel.
 */

static const char *ev_name(int kind)
{
	switch (kind) {
	case TCMU_EV_ADD:
		return "add";
	case TCMU_EV_REMOVE:
		return "remove";
	case TCMU_EV_RECONFIG:
		return "reconfig";
	case TCMU_EV_CLOSE:
		return "close";
	default:
		return "none";
	}
}

/* Caller holds ctx->lock and checked that no event is in progress. */
static void ev_begin_locked(struct tcmu_device *dev, int kind, int reply)
{
	dev->ev_kind = kind;
	dev->ev_reply = reply;
	dev->ev_in_cb = true;
	dev->ev_deferred = false;
	dev->ev_done = false;
	dev->ev_status = 0;
}

static void remove_run(struct tcmu_device *dev);

/*
 * Exactly one party gets here per event.  A failed add and any remove
 * unlink and free the device before the kernel hears back.
 */
static void ev_conclude(struct tcmu_device *dev, int status)
{
	struct tcmulib_context *ctx = dev->ctx;
	uint32_t dev_id, rm_id = 0;
	bool free_dev = false, rm = false;
	char *cfg;
	int kind, reply;

	pthread_mutex_lock(&ctx->lock);
	ctx->concluding++;
	dev_id = dev->dev_id;
	kind = dev->ev_kind;
	reply = dev->ev_reply;
	cfg = dev->ev_cfg;
	dev->ev_cfg = NULL;
	switch (kind) {
	case TCMU_EV_ADD:
		if (status < 0)
			free_dev = true;
		else
			dev->added = true;
		break;
	case TCMU_EV_REMOVE:
		free_dev = true;
		break;
	case TCMU_EV_RECONFIG:
		/*
		 * Keep the new cfgstring when the handler accepted it and did
		 * not store its own version with tcmu_dev_set_cfgstring().
		 */
		if (!status && cfg && !dev->cfgstring_set) {
			char *old = dev->cfgstring;

			dev->cfgstring = cfg;
			cfg = old;
		}
		break;
	default:
		break;
	}
	rm = dev->ev_remove_queued;
	rm_id = dev->ev_remove_id;
	dev->ev_remove_queued = false;
	dev->ev_kind = TCMU_EV_NONE;
	dev->ev_deferred = false;
	dev->ev_done = false;
	if (free_dev)
		ctx_unlink_dev_locked(ctx, dev);
	else if (rm) {
		if (rm_id)
			dev->dev_id = rm_id;
		ev_begin_locked(dev, TCMU_EV_REMOVE, TCMU_CMD_REMOVED_DEVICE_DONE);
	}
	pthread_cond_broadcast(&ctx->ev_cond);
	pthread_mutex_unlock(&ctx->lock);
	free(cfg);

	if (free_dev)
		tcmu_dev_close(dev);
	if (reply && dev_id)
		tcmu_genl_reply(ctx, reply, dev_id, status);
	if (rm) {
		if (free_dev) {
			/* Nothing left to remove. */
			if (rm_id)
				tcmu_genl_reply(ctx, TCMU_CMD_REMOVED_DEVICE_DONE, rm_id, 0);
		} else {
			/* Runs removed() on this thread: see tcmu_ctx_remove_device(). */
			remove_run(dev);
		}
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->concluding--;
	pthread_cond_broadcast(&ctx->ev_cond);
	pthread_mutex_unlock(&ctx->lock);
}

/* The callback returned ret (0 or -errno). */
static void ev_end_callback(struct tcmu_device *dev, int ret)
{
	struct tcmulib_context *ctx = dev->ctx;

	pthread_mutex_lock(&ctx->lock);
	dev->ev_in_cb = false;
	if (dev->ev_deferred) {
		if (ret < 0)
			tcmu_dev_warn(dev,
				      "%s callback returned %d after tcmulib_defer_event(): "
				      "the status of tcmulib_event_done() counts\n",
				      ev_name(dev->ev_kind), ret);
		if (!dev->ev_done) {
			/* tcmulib_event_done() concludes, maybe right now. */
			pthread_mutex_unlock(&ctx->lock);
			return;
		}
		ret = dev->ev_status;
	} else if (ret < 0) {
		tcmu_dev_err(dev, "handler %s refused %s: %s\n", dev->handler->subtype,
			     ev_name(dev->ev_kind), strerror(-ret));
	}
	pthread_mutex_unlock(&ctx->lock);
	ev_conclude(dev, ret);
}

void tcmulib_defer_event(struct tcmu_device *dev)
{
	struct tcmulib_context *ctx = dev->ctx;

	pthread_mutex_lock(&ctx->lock);
	if (dev->ev_kind == TCMU_EV_NONE || !dev->ev_in_cb)
		tcmu_dev_err(dev, "tcmulib_defer_event() outside an event callback, ignored\n");
	else
		dev->ev_deferred = true;
	pthread_mutex_unlock(&ctx->lock);
}

void tcmulib_event_done(struct tcmu_device *dev, int status)
{
	struct tcmulib_context *ctx = dev->ctx;

	if (status > 0)
		status = 0;
	pthread_mutex_lock(&ctx->lock);
	if (dev->ev_kind == TCMU_EV_NONE || !dev->ev_deferred || dev->ev_done) {
		pthread_mutex_unlock(&ctx->lock);
		tcmu_dev_err(dev, "tcmulib_event_done() without a deferred event, ignored\n");
		return;
	}
	dev->ev_done = true;
	dev->ev_status = status;
	if (dev->ev_in_cb || dev->ev_kind == TCMU_EV_CLOSE) {
		/* The callback's return (or tcmulib_close) concludes. */
		pthread_cond_broadcast(&ctx->ev_cond);
		pthread_mutex_unlock(&ctx->lock);
		return;
	}
	pthread_mutex_unlock(&ctx->lock);
	ev_conclude(dev, status);
}

static void recover_ring(struct tcmu_device *dev, bool block)
{
	/* Missing files mean an old kernel: the action helper logs at debug. */
	tcmu_cfgfs_dev_exec_action(dev, "block_dev", block ? 1 : 0);
	if (block)
		tcmu_cfgfs_dev_exec_action(dev, "reset_ring", 1);
}

/*
 * Adopt uio<minor>.  From a netlink ADDED event (replies to the kernel) or
 * from startup discovery (recover: the ring may hold commands of a process
 * that died, so block the device and reset its ring first).  Main thread.
 * only: adopt only devices of this handler (NULL: any).
 */
static int ctx_add_device(struct tcmulib_context *ctx, unsigned int minor, const char *name,
			  uint32_t dev_id, bool recover, struct tcmulib_handler *only)
{
	int reply_cmd = recover ? 0 : TCMU_CMD_ADDED_DEVICE_DONE;
	struct tcmulib_handler *h;
	struct tcmu_device *dev;
	unsigned int hba;
	const char *cfg, *sub;
	char dname[256];
	size_t sublen;
	int ret;

	if (tcmu_parse_uio_name(name, &hba, dname, sizeof(dname), &cfg)) {
		tcmu_err("uio%u: bad device name \"%s\"\n", minor, name);
		ret = -EINVAL;
		goto err_reply;
	}
	if (dev_filter && !ctx_filter_match(hba, dname, cfg)) {
		/*
		 * Another process serves it: no open, no reply (the kernel takes
		 * the first reply to a request, so one from us would be stolen).
		 */
		tcmu_dbg("uio%u (user_%u/%s) does not match the device filter, left alone\n", minor,
			 hba, dname);
		return -ENOENT;
	}
	h = tcmu_ctx_find_handler(ctx, cfg);
	if (only && h != only)
		return -ENOENT;
	if (!h) {
		if (tcmu_cfgstr_subtype(cfg, &sub, &sublen)) {
			sub = cfg;
			sublen = strlen(cfg);
		}
		if (recover) {
			tcmu_dbg("uio%u: no handler for subtype \"%.*s\", left alone\n", minor,
				 (int)sublen, sub);
			return -ENOENT;
		}
		tcmu_err("uio%u (%s): no handler for subtype \"%.*s\"\n", minor, dname, (int)sublen,
			 sub);
		ret = -ENOENT;
		goto err_reply;
	}
	if (ctx_has_dev(ctx, minor)) {
		/* Found by discovery and announced again: already served. */
		tcmu_info("uio%u (%s) is already open\n", minor, dname);
		ret = 0;
		goto err_reply;
	}
	ret = tcmu_dev_open(ctx, minor, name, dev_id, &dev);
	if (ret)
		goto err_reply;
	dev->handler = h;
	if (recover)
		recover_ring(dev, true);
	ret = tcmu_ring_init(dev);
	if (ret) {
		if (recover)
			recover_ring(dev, false);
		tcmu_dev_close(dev);
		goto err_reply;
	}

	pthread_mutex_lock(&ctx->lock);
	dev->next = ctx->devs;
	ctx->devs = dev;
	ev_begin_locked(dev, TCMU_EV_ADD, reply_cmd);
	pthread_mutex_unlock(&ctx->lock);

	ret = h->added ? h->added(dev) : 0;
	if (ret > 0)
		ret = 0;
	if (recover)
		recover_ring(dev, false);
	ev_end_callback(dev, ret); /* dev may be gone from here on */
	return ret;

err_reply:
	if (reply_cmd && dev_id)
		tcmu_genl_reply(ctx, reply_cmd, dev_id, ret);
	return ret;
}

int tcmu_ctx_add_device(struct tcmulib_context *ctx, unsigned int minor, const char *name,
			uint32_t dev_id, bool recover)
{
	return ctx_add_device(ctx, minor, name, dev_id, recover, NULL);
}

/* A remove has begun on dev (ev_begin_locked): run removed() and end it. */
static void remove_run(struct tcmu_device *dev)
{
	if (dev->added && dev->handler->removed)
		dev->handler->removed(dev);
	ev_end_callback(dev, 0);
}

/*
 * Main thread.  Devices that are not ours get no reply.  A remove that
 * arrives while an event of the device is deferred waits for it (an old
 * kernel does not wait for our replies) and then runs on the thread that
 * concludes that event.
 */
void tcmu_ctx_remove_device(struct tcmulib_context *ctx, unsigned int minor, uint32_t dev_id)
{
	struct tcmu_device *dev;

	pthread_mutex_lock(&ctx->lock);
	dev = ctx_find_dev_locked(ctx, minor);
	if (!dev) {
		pthread_mutex_unlock(&ctx->lock);
		tcmu_dbg("REMOVED_DEVICE for uio%u, which is not ours\n", minor);
		return;
	}
	if (dev->ev_kind != TCMU_EV_NONE) {
		tcmu_dev_info(dev, "remove queued behind the %s in progress\n",
			      ev_name(dev->ev_kind));
		dev->ev_remove_queued = true;
		dev->ev_remove_id = dev_id;
		pthread_mutex_unlock(&ctx->lock);
		return;
	}
	if (dev_id)
		dev->dev_id = dev_id;
	ev_begin_locked(dev, TCMU_EV_REMOVE, TCMU_CMD_REMOVED_DEVICE_DONE);
	pthread_mutex_unlock(&ctx->lock);
	remove_run(dev);
}

void tcmu_ctx_reconfig_device(struct tcmulib_context *ctx, unsigned int minor, uint32_t dev_id,
			      struct tcmulib_cfg_info *info)
{
	struct tcmu_device *dev;
	char *cfg = NULL;
	int ret = 0;

	if (info->type == TCMULIB_CFG_DEV_CFGSTR) {
		cfg = strdup(info->data.dev_cfgstring);
		if (!cfg)
			ret = -ENOMEM;
	}
	pthread_mutex_lock(&ctx->lock);
	dev = ctx_find_dev_locked(ctx, minor);
	if (!dev) {
		pthread_mutex_unlock(&ctx->lock);
		free(cfg);
		tcmu_dbg("RECONFIG_DEVICE for uio%u, which is not ours\n", minor);
		return;
	}
	if (!ret && dev->ev_kind != TCMU_EV_NONE) {
		tcmu_dev_warn(dev, "reconfig refused: %s in progress\n", ev_name(dev->ev_kind));
		ret = -EBUSY;
	} else if (!ret && !dev->handler->reconfig) {
		tcmu_dev_info(dev, "handler %s does not support reconfiguration\n",
			      dev->handler->subtype);
		ret = -EOPNOTSUPP;
	}
	if (ret) {
		if (!dev_id && dev->ev_kind == TCMU_EV_NONE)
			dev_id = dev->dev_id;
		pthread_mutex_unlock(&ctx->lock);
		free(cfg);
		if (dev_id)
			tcmu_genl_reply(ctx, TCMU_CMD_RECONFIG_DEVICE_DONE, dev_id, ret);
		return;
	}
	if (dev_id)
		dev->dev_id = dev_id;
	ev_begin_locked(dev, TCMU_EV_RECONFIG, TCMU_CMD_RECONFIG_DEVICE_DONE);
	dev->ev_cfg = cfg;
	dev->cfgstring_set = false;
	pthread_mutex_unlock(&ctx->lock);

	ret = dev->handler->reconfig(dev, info);
	if (ret > 0)
		ret = 0;
	ev_end_callback(dev, ret);
}

/* Adopt the existing devices of handler only (NULL: of every handler). */
static void ctx_discover(struct tcmulib_context *ctx, struct tcmulib_handler *only)
{
	char path[512], name[1024];
	struct dirent *de;
	unsigned int minor;
	char tail;
	DIR *d;

	snprintf(path, sizeof(path), "%s/class/uio", ctx->ops->sysfs_root);
	d = opendir(path);
	if (!d) {
		tcmu_dbg("no %s: no existing devices\n", path);
		return;
	}
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "uio%u%c", &minor, &tail) != 1)
			continue;
		if (tcmu_uio_read_name(ctx->ops->sysfs_root, minor, name, sizeof(name)))
			continue;
		if (strncmp(name, "tcm-user/", 9))
			continue;
		ctx_add_device(ctx, minor, name, 0, true, only);
	}
	closedir(d);
}

static int ctx_add_handler(struct tcmulib_context *ctx, struct tcmulib_handler *h)
{
	struct tcmulib_handler **arr;
	size_t i;

	if (!h->subtype || !*h->subtype || strchr(h->subtype, '/')) {
		tcmu_err("handler \"%s\" has an invalid subtype\n", h->name ? h->name : "?");
		return -EINVAL;
	}
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->n_handlers; i++) {
		if (!strcmp(ctx->handlers[i]->subtype, h->subtype)) {
			pthread_mutex_unlock(&ctx->lock);
			tcmu_err("handler subtype \"%s\" is already registered\n", h->subtype);
			return -EEXIST;
		}
	}
	arr = realloc(ctx->handlers, (ctx->n_handlers + 1) * sizeof(*arr));
	if (!arr) {
		pthread_mutex_unlock(&ctx->lock);
		return -ENOMEM;
	}
	arr[ctx->n_handlers++] = h;
	ctx->handlers = arr;
	h->ctx = ctx;
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

struct tcmulib_context *tcmulib_initialize(struct tcmulib_handler *handlers, size_t handler_count)
{
	struct tcmulib_context *ctx;
	size_t i;
	int ret;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->ev_cond, NULL);
	pthread_mutex_init(&ctx->nl_send_lock, NULL);
	ctx->ops = tcmu_kops_get();
	ctx->nl_fd = -1;
	for (i = 0; i < handler_count; i++) {
		if (ctx_add_handler(ctx, &handlers[i]))
			goto err_free;
	}

	ret = ctx->ops->nl_open(ctx->ops->arg, &ctx->nl, &ctx->nl_fd);
	if (ret) {
		tcmu_err("cannot listen to TCM-USER netlink events: %s\n", strerror(-ret));
		goto err_free;
	}
	ret = ctx->ops->nl_set_features(ctx->ops->arg, ctx->nl);
	if (ret == -EOPNOTSUPP || ret == -EINVAL)
		tcmu_info("kernel does not wait for netlink replies (no SET_FEATURES)\n");
	else if (ret)
		tcmu_warn("SET_FEATURES failed: %s\n", strerror(-ret));

	/* Listen first, then look: a device added meanwhile is seen twice at worst. */
	ctx_discover(ctx, NULL);
	if (handler_count)
		tcmu_register_start(ctx);
	return ctx;

err_free:
	free(ctx->handlers);
	pthread_mutex_destroy(&ctx->nl_send_lock);
	pthread_cond_destroy(&ctx->ev_cond);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return NULL;
}

/*
 * Main thread.  The new handler's devices that already exist are adopted
 * as at startup (ring recovery included), and the handler is announced
 * over DBus like the ones given to tcmulib_initialize().
 */
int tcmulib_register(struct tcmulib_context *ctx, struct tcmulib_handler *handler)
{
	int ret = ctx_add_handler(ctx, handler);

	if (ret)
		return ret;
	ctx_discover(ctx, handler);
	tcmu_register_add(ctx, handler);
	return 0;
}

int tcmulib_get_master_fd(struct tcmulib_context *ctx)
{
	return ctx->nl_fd;
}

int tcmulib_master_fd_ready(struct tcmulib_context *ctx)
{
	return ctx->ops->nl_recv(ctx->ops->arg, ctx->nl, tcmu_genl_handle_msg, ctx);
}

/* Wait on ev_cond for up to 5 s; caller holds ctx->lock. */
static void ctx_wait_event(struct tcmulib_context *ctx, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_cond_timedwait(&ctx->ev_cond, &ctx->lock, &ts) == ETIMEDOUT)
		tcmu_warn("tcmulib_close: still waiting for %s\n", what);
}

/*
 * Close every device (handler removed() called, no kernel reply) and
 * netlink.  Events in progress (deferred) are waited for first, and so is
 * the tcmulib_event_done() of a removed() that defers.
 */
void tcmulib_close(struct tcmulib_context *ctx)
{
	struct tcmu_device *dev;

	if (!ctx)
		return;
	tcmu_register_stop(ctx);
	pthread_mutex_lock(&ctx->lock);
	for (;;) {
		for (dev = ctx->devs; dev; dev = dev->next)
			if (dev->ev_kind == TCMU_EV_NONE)
				break;
		if (!dev) {
			if (!ctx->devs)
				break;
			ctx_wait_event(ctx, "deferred device events (tcmulib_event_done)");
			continue;
		}
		ctx_unlink_dev_locked(ctx, dev);
		ev_begin_locked(dev, TCMU_EV_CLOSE, 0);
		pthread_mutex_unlock(&ctx->lock);

		if (dev->added && dev->handler->removed)
			dev->handler->removed(dev);

		pthread_mutex_lock(&ctx->lock);
		dev->ev_in_cb = false;
		while (dev->ev_deferred && !dev->ev_done)
			ctx_wait_event(ctx, "a deferred removal (tcmulib_event_done)");
		dev->ev_kind = TCMU_EV_NONE;
		pthread_mutex_unlock(&ctx->lock);
		tcmu_dev_close(dev);
		pthread_mutex_lock(&ctx->lock);
	}
	/* A thread that concluded an event may still be replying. */
	while (ctx->concluding)
		ctx_wait_event(ctx, "a thread replying to the kernel");
	pthread_mutex_unlock(&ctx->lock);
	ctx->ops->nl_close(ctx->ops->arg, ctx->nl);
	free(ctx->handlers);
	pthread_mutex_destroy(&ctx->nl_send_lock);
	pthread_cond_destroy(&ctx->ev_cond);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}
