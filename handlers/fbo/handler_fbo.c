// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_fbo.so: the tcmu-runner side of the fbo handler (style a,
 * .handle_cmd).  One worker thread per device (SERIALIZE) runs every
 * command; a FORMAT UNIT with IMMED continues on a thread of its own, and
 * a mutex keeps it and the commands apart.  Changing the medium: tcmu-stat
 * --eject / --load (DBus Admin1, change_medium()), or a new cfgstring
 * (dev_config) written to the enabled device (reconfig()); both eject the
 * old file and load the new one (docs/fbo.md).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcmu-runner.h"
#include "fbo.h"

struct fbo_handle {
	struct fbo_dev f;
	pthread_mutex_t lock; /* f, fmt_running */
	pthread_t fmt_thread;
	bool fmt_running, fmt_joinable;
};

/* Any thread; never blocks. */
static bool fbo_check_config(const char *cfgstring, char **reason)
{
	struct fbo_cfg cfg;
	int ret = fbo_cfg_parse(cfgstring, &cfg, reason);

	fbo_cfg_free(&cfg);
	return !ret;
}

/* The device's worker thread, inside fbo_exec: the generic standard INQUIRY. */
static int fbo_std_inquiry(void *arg, uint8_t *cdb, uint8_t *buf, size_t len)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	uint8_t c[6];

	memcpy(c, cdb, sizeof(c));
	scsi_put_be16(c + 3, (uint16_t)len);
	return tcmu_emulate_inquiry(arg, NULL, c, &v, 1);
}

/* The format thread: one step at a time under the lock. */
static void *fbo_format_thread(void *arg)
{
	struct fbo_handle *h = arg;
	bool more = true;

	while (more) {
		pthread_mutex_lock(&h->lock);
		more = fbo_format_step(&h->f);
		if (!more)
			h->fmt_running = false;
		pthread_mutex_unlock(&h->lock);
	}
	return NULL;
}

static void fbo_join_format(struct fbo_handle *h)
{
	if (h->fmt_joinable) {
		pthread_join(h->fmt_thread, NULL);
		h->fmt_joinable = false;
	}
}

/* A per-device setup thread (or the recovery thread on reopen); may block. */
static int fbo_open(struct tcmu_device *dev, bool reopen)
{
	uint64_t bytes = tcmu_dev_get_num_lbas(dev) * tcmu_dev_get_block_size(dev);
	struct fbo_handle *h;
	struct fbo_cfg cfg;
	char *reason = NULL;
	int ret;

	ret = fbo_cfg_parse(tcmu_dev_get_cfgstring(dev), &cfg, &reason);
	if (ret) {
		tcmu_dev_err(dev, "%s\n", reason ? reason : "fbo: bad cfgstring");
		free(reason);
		return ret;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fbo_cfg_free(&cfg);
		return -ENOMEM;
	}
	pthread_mutex_init(&h->lock, NULL);
	fbo_init(&h->f, &cfg, bytes / FBO_BLOCK);
	h->f.std_inquiry = fbo_std_inquiry;
	h->f.std_inquiry_arg = dev;
	ret = fbo_load(&h->f, false);
	if (ret) {
		tcmu_dev_err(dev, "fbo: cannot load %s: %s\n", cfg.path, strerror(-ret));
		fbo_destroy(&h->f);
		pthread_mutex_destroy(&h->lock);
		free(h);
		fbo_cfg_free(&cfg);
		return ret;
	}
	h->f.media_event = FBO_EV_NEW_MEDIA;
	tcmu_dev_set_block_size(dev, FBO_BLOCK);
	tcmu_dev_set_num_lbas(dev, h->f.nblocks);
	tcmu_dev_set_write_cache_enabled(dev, true);
	tcmur_dev_set_private(dev, h);
	tcmu_dev_info(dev, "fbo: %s, %llu blocks%s\n", cfg.path, (unsigned long long)h->f.nblocks,
		      cfg.ro ? ", read-only" : "");
	fbo_cfg_free(&cfg);
	return 0;
}

/* The thread removing the device (or its recovery thread); may block. */
static void fbo_close(struct tcmu_device *dev)
{
	struct fbo_handle *h = tcmur_dev_get_private(dev);

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->f.formatting = false; /* the format thread stops at its next step */
	pthread_mutex_unlock(&h->lock);
	fbo_join_format(h);
	fbo_destroy(&h->f);
	pthread_mutex_destroy(&h->lock);
	free(h);
	tcmur_dev_set_private(dev, NULL);
}

/*
 * Eject (cfgstring NULL) or load the medium cfgstring names; 0, or -errno
 * with *reason NULL or a malloc()ed message (logged too).  The calling callout's
 * thread (reconfig or change_medium); may block (open, fdatasync, the end of
 * a FORMAT UNIT step).
 */
static int fbo_new_medium(struct tcmu_device *dev, struct fbo_handle *h, const char *cfgstring,
			  char **reason)
{
	struct fbo_cfg c = { 0 };
	char *msg = NULL;
	int ret, n;

	if (cfgstring) {
		ret = fbo_cfg_parse(cfgstring, &c, reason);
		if (ret) {
			tcmu_dev_err(dev, "%s\n", *reason ? *reason : "fbo: bad cfgstring");
			return ret;
		}
	}
	pthread_mutex_lock(&h->lock);
	ret = cfgstring ? fbo_change_medium(&h->f, &c) : fbo_admin_eject(&h->f);
	pthread_mutex_unlock(&h->lock);
	fbo_join_format(h);
	if (!ret) {
		if (cfgstring)
			tcmu_dev_info(dev, "fbo: medium changed to %s, %llu blocks%s\n", c.path,
				      (unsigned long long)h->f.nblocks, c.ro ? ", read-only" : "");
		else
			tcmu_dev_info(dev, "fbo: medium ejected by the administrator\n");
		goto out;
	}
	if (!cfgstring)
		n = asprintf(&msg, "fbo: eject refused: the initiator prevents medium removal");
	else
		n = asprintf(&msg, "fbo: cannot load %s: %s; the drive has no medium", c.path,
			     strerror(-ret));
	if (n < 0)
		msg = NULL;
	tcmu_dev_err(dev, "%s\n", msg ? msg : "fbo: the medium change failed");
	*reason = msg;
out:
	fbo_cfg_free(&c);
	return ret;
}

/* Main thread, device quiesced: a new cfgstring is a new medium. */
static int fbo_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct fbo_handle *h = tcmur_dev_get_private(dev);
	char *reason = NULL;
	int ret;

	if (cfg->type == TCMULIB_CFG_WRITE_CACHE)
		return 0;
	if (cfg->type != TCMULIB_CFG_DEV_CFGSTR || !h)
		return -EOPNOTSUPP;
	ret = fbo_new_medium(dev, h, cfg->data.dev_cfgstring, &reason);
	free(reason);
	return ret;
}

/*
 * The DBus thread (Admin1 EjectMedium/LoadMedium, tcmu-stat --eject/--load),
 * on the open device, no command in the handler meanwhile (SERIALIZE); may
 * block as fbo_new_medium().
 */
static int fbo_admin_medium(struct tcmu_device *dev, const char *cfgstring, char **reason)
{
	struct fbo_handle *h = tcmur_dev_get_private(dev);

	if (!h)
		return -ENODEV;
	return fbo_new_medium(dev, h, cfgstring, reason);
}

/* The device's one worker thread (SERIALIZE); may block on the file. */
static int fbo_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct fbo_handle *h = tcmur_dev_get_private(dev);
	struct tcmulib_cmd *lc = cmd->lib_cmd;
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = fbo_exec(&h->f, lc->cdb, lc->iovec, lc->iov_cnt, lc->sense_buf);
	if (h->f.formatting && !h->fmt_running) {
		/* FORMAT UNIT with IMMED: the zeroing goes on in the background. */
		if (h->fmt_joinable) {
			pthread_mutex_unlock(&h->lock);
			fbo_join_format(h);
			pthread_mutex_lock(&h->lock);
		}
		h->fmt_running = true;
		if (pthread_create(&h->fmt_thread, NULL, fbo_format_thread, h)) {
			while (fbo_format_step(&h->f))
				;
			h->fmt_running = false;
		} else {
			h->fmt_joinable = true;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static struct tcmur_handler fbo_handler = {
	.name = "File-backed optical drive (MMC)",
	.subtype = "fbo",
	.cfg_desc = "[ro/]<path>: a 2048-byte-block medium in a file (created if missing)",
	.check_config = fbo_check_config,
	.reconfig = fbo_reconfig,
	.change_medium = fbo_admin_medium,
	.open = fbo_open,
	.close = fbo_close,
	.handle_cmd = fbo_handle_cmd,
	.nr_threads = 1,
	.thread_model = TCMUR_THREAD_MODEL_SERIALIZE,
};

/* Main thread, when tcmu-runner loads the plugin. */
__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&fbo_handler);
}
