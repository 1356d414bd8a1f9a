// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_lifecycle.so: a test-only ASYNC handler with no storage (reads
 * return zeroes, writes are dropped) that breaks the completion contract
 * in the way its cfgstring asks ("lcbug/<mode>" or "lcbugh/<mode>"):
 *   twice     every read/write/flush callout completes the command with
 *             tcmur_cmd_complete() and then returns TCMU_STS_HW_ERR;
 *   fuatwice  only flush does that (a FUA write without TCMUR_CAP_FUA gets
 *             its flush from the daemon after the write completed);
 *   hold      writes are not completed before returning: a thread of ours
 *             completes each one hold_ms (default 2500) after the callout,
 *             "hold/<ms>" sets it;
 *   ok        nothing wrong.
 * "lcbugh" adds a handle_cmd that, with mode "twice", completes TEST UNIT
 * READY and then returns TCMU_STS_HW_ERR (everything else: NOT_HANDLED).
 * "lcbugp" is "lcbug" in the PARALLEL model, where the return value is the
 * status and calling tcmur_cmd_complete() as well is the bug.
 * Not installed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcmu-runner.h"

enum lc_mode { LC_OK, LC_TWICE, LC_FUATWICE, LC_HOLD };

struct lc_dev {
	enum lc_mode mode;
	unsigned int hold_ms;
};

struct held {
	struct tcmu_device *dev;
	struct tcmur_cmd *cmd;
	unsigned int ms;
};

/* Setup or recovery thread; may block. */
static int lc_open(struct tcmu_device *dev, bool reopen)
{
	const char *cfg = tcmu_dev_get_cfgstring(dev);
	const char *m = cfg ? strchr(cfg, '/') : NULL;
	struct lc_dev *l = calloc(1, sizeof(*l));

	(void)reopen;
	if (!l)
		return -ENOMEM;
	m = m ? m + 1 : "ok";
	l->hold_ms = 2500;
	if (!strcmp(m, "twice")) {
		l->mode = LC_TWICE;
	} else if (!strcmp(m, "fuatwice")) {
		l->mode = LC_FUATWICE;
	} else if (!strncmp(m, "hold", 4)) {
		l->mode = LC_HOLD;
		if (m[4] == '/')
			l->hold_ms = (unsigned int)strtoul(m + 5, NULL, 10);
	} else if (strcmp(m, "ok")) {
		tcmu_dev_err(dev, "lifecycle: unknown mode '%s'\n", m);
		free(l);
		return -EINVAL;
	}
	tcmur_dev_set_private(dev, l);
	return 0;
}

/* Teardown or recovery thread; may block. */
static void lc_close(struct tcmu_device *dev)
{
	free(tcmur_dev_get_private(dev));
	tcmur_dev_set_private(dev, NULL);
}

static enum lc_mode mode_of(struct tcmu_device *dev)
{
	struct lc_dev *l = tcmur_dev_get_private(dev);

	return l ? l->mode : LC_OK;
}

/* Our own thread: the late completion of a held write. */
static void *release_thread(void *arg)
{
	struct held *h = arg;
	struct timespec ts = { .tv_sec = h->ms / 1000, .tv_nsec = (h->ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	/* The device may be gone by now: the daemon must cope. */
	tcmur_cmd_complete(h->dev, h->cmd, TCMU_STS_OK);
	free(h);
	return NULL;
}

/* The ring thread (ASYNC) or a worker; never blocks.  Completes cmd now or (hold) later. */
static int finish(struct tcmu_device *dev, struct tcmur_cmd *cmd, bool held, bool twice)
{
	struct lc_dev *l = tcmur_dev_get_private(dev);
	struct held *h;
	pthread_t t;

	if (held && l && l->mode == LC_HOLD) {
		h = malloc(sizeof(*h));
		if (!h)
			return TCMU_STS_NO_RESOURCE;
		*h = (struct held){ .dev = dev, .cmd = cmd, .ms = l->hold_ms };
		if (pthread_create(&t, NULL, release_thread, h)) {
			free(h);
			return TCMU_STS_NO_RESOURCE;
		}
		pthread_detach(t);
		tcmu_dev_info(dev, "lifecycle: holding a write for %u ms\n", h->ms);
		return TCMU_STS_OK;
	}
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return twice ? TCMU_STS_HW_ERR : TCMU_STS_OK;
}

/* Ring thread (ASYNC) or a worker (PARALLEL); never blocks. */
static int lc_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		   size_t iov_cnt, size_t len, off_t off)
{
	(void)off;
	(void)len;
	tcmu_iovec_zero(iov, iov_cnt);
	return finish(dev, cmd, false, mode_of(dev) == LC_TWICE);
}

/* Ring thread (ASYNC) or a worker (PARALLEL); never blocks. */
static int lc_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off)
{
	(void)iov, (void)iov_cnt, (void)len, (void)off;
	return finish(dev, cmd, true, mode_of(dev) == LC_TWICE);
}

/* Ring thread (ASYNC) or a worker (PARALLEL); never blocks. */
static int lc_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	enum lc_mode m = mode_of(dev);

	return finish(dev, cmd, false, m == LC_TWICE || m == LC_FUATWICE);
}

/* Ring thread (ASYNC); never blocks. */
static int lc_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	if (cmd->lib_cmd->cdb[0] != 0x00 /* TEST UNIT READY */ || mode_of(dev) != LC_TWICE)
		return TCMU_STS_NOT_HANDLED;
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_HW_ERR;
}

static bool lc_check_config(const char *cfgstring, char **reason)
{
	(void)cfgstring;
	(void)reason;
	return true;
}

static struct tcmur_handler lc_handler = {
	.name = "Command lifecycle test handler",
	.subtype = "lcbug",
	.cfg_desc = "lcbug/<twice|fuatwice|hold[/ms]|ok>",
	.check_config = lc_check_config,
	.open = lc_open,
	.close = lc_close,
	.read = lc_read,
	.write = lc_write,
	.flush = lc_flush,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

static struct tcmur_handler lc_handle_cmd_handler = {
	.name = "Command lifecycle test handler (handle_cmd)",
	.subtype = "lcbugh",
	.cfg_desc = "lcbugh/<twice|ok>",
	.check_config = lc_check_config,
	.open = lc_open,
	.close = lc_close,
	.handle_cmd = lc_handle_cmd,
	.read = lc_read,
	.write = lc_write,
	.flush = lc_flush,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

static struct tcmur_handler lc_parallel_handler = {
	.name = "Command lifecycle test handler (parallel)",
	.subtype = "lcbugp",
	.cfg_desc = "lcbugp/<twice|ok>",
	.check_config = lc_check_config,
	.open = lc_open,
	.close = lc_close,
	.read = lc_read,
	.write = lc_write,
	.flush = lc_flush,
	.nr_threads = 2,
	.thread_model = TCMUR_THREAD_MODEL_PARALLEL,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	int ret = tcmur_register_handler(&lc_handler);

	if (!ret)
		ret = tcmur_register_handler(&lc_handle_cmd_handler);
	return ret ? ret : tcmur_register_handler(&lc_parallel_handler);
}
