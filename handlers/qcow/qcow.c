// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The "qcow" handler: a LUN backed by a qcow2 image (v2 or v3), a qcow v1
 * image or a raw file, cfgstring "qcow/<absolute path>".  The format work is in
 * qcow_format.h; this file is the glue to the daemon.
 *
 * Thread model: ASYNC when io_uring works (see qcow_async.h: the ring
 * thread queues each command to io_uring or to the handler's own workers),
 * else PARALLEL (the daemon's worker threads call read, write, flush and
 * unmap concurrently, and they block).  get_lba_status always runs on a
 * daemon worker and may block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../uring_probe.h"
#include "qcow_async.h"
#include "qcow_format.h"
#include "tcmu-runner.h"

#define QCOW_THREADS 4

/* The device's private data. */
struct qcow_dev {
	struct qimg *img;
	struct qasync *as; /* ASYNC thread model; NULL in the PARALLEL one */
};

static bool have_uring; /* decided once in handler_init() */

static struct qimg *dev_img(struct tcmu_device *dev)
{
	return ((struct qcow_dev *)tcmur_dev_get_private(dev))->img;
}

static const char *cfg_path(const char *cfg)
{
	const char *slash = cfg ? strchr(cfg, '/') : NULL;

	return slash && slash[1] ? slash + 1 : NULL;
}

static bool say(char **reason, const char *fmt, const char *arg)
{
	if (asprintf(reason, fmt, arg) < 0)
		*reason = NULL;
	return false;
}

/* Any thread; may block briefly (stat). */
static bool qcow_check_config(const char *cfgstring, char **reason)
{
	const char *path = cfg_path(cfgstring);
	struct stat st;

	if (!path)
		return say(reason, "no image path in '%s' (expected qcow/<path>)",
			   cfgstring ? cfgstring : "");
	if (path[0] != '/')
		return say(reason, "image path '%s' is relative; give an absolute path", path);
	if (stat(path, &st))
		return say(reason, "image %s does not exist", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return say(reason, "%s is not a file", path);
	return true;
}

static int to_sts(int ret, int fail)
{
	if (!ret)
		return TCMU_STS_OK;
	if (ret == -EROFS)
		return TCMU_STS_WRITE_PROTECTED;
	if (ret == -ENOMEM)
		return TCMU_STS_NO_RESOURCE;
	if (ret == -ENOSPC || ret == -EFBIG)
		return TCMU_STS_WR_ERR;
	return fail;
}

/*
 * A read, write, flush or unmap to the end.  A worker thread: the daemon's
 * (PARALLEL model) or the handler's own (ASYNC model); may block.  UNMAP
 * (also WRITE SAME with UNMAP) leaves the whole range reading as zero:
 * whole clusters are deallocated, the parts of clusters at the ends are
 * written with zeroes.
 */
static int qcow_run(struct tcmu_device *dev, const struct qjob *j)
{
	struct qimg *img = dev_img(dev);
	int ret;

	switch (j->op) {
	case QJ_READ:
		ret = qimg_readv(img, j->iov, j->cnt, (size_t)j->len, j->off);
		if (ret)
			tcmu_dev_err(dev, "read of %llu bytes at %llu failed: %s\n",
				     (unsigned long long)j->len, (unsigned long long)j->off,
				     strerror(-ret));
		return to_sts(ret, TCMU_STS_RD_ERR);
	case QJ_WRITE:
		ret = qimg_writev(img, j->iov, j->cnt, (size_t)j->len, j->off);
		if (ret && ret != -EROFS)
			tcmu_dev_err(dev, "write of %llu bytes at %llu failed: %s\n",
				     (unsigned long long)j->len, (unsigned long long)j->off,
				     strerror(-ret));
		return to_sts(ret, TCMU_STS_WR_ERR);
	case QJ_FLUSH:
		ret = qimg_flush(img);
		if (ret)
			tcmu_dev_err(dev, "flush failed: %s\n", strerror(-ret));
		return to_sts(ret, TCMU_STS_WR_ERR);
	case QJ_UNMAP:
		ret = qimg_discard(img, j->off, j->len, true);
		if (ret && ret != -EROFS)
			tcmu_dev_err(dev, "unmap of %llu bytes at %llu failed: %s\n",
				     (unsigned long long)j->len, (unsigned long long)j->off,
				     strerror(-ret));
		return to_sts(ret, TCMU_STS_WR_ERR);
	}
	return TCMU_STS_HW_ERR;
}

/*
 * The callouts.  ASYNC model: the device's ring thread, never block; the
 * command is queued (io_uring or a handler worker) and completed later.
 * PARALLEL model (no io_uring): the daemon's workers, run to the end, may
 * block.
 */
static int qcow_queue(struct tcmu_device *dev, const struct qjob *j)
{
	struct qcow_dev *qd = tcmur_dev_get_private(dev);

	return qd->as ? qasync_queue(qd->as, j) : qcow_run(dev, j);
}

static int qcow_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	struct qjob j = { .cmd = cmd,
			  .op = QJ_READ,
			  .iov = iov,
			  .cnt = iov_cnt,
			  .len = len,
			  .off = (uint64_t)off };

	return qcow_queue(dev, &j);
}

static int qcow_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		      size_t iov_cnt, size_t len, off_t off)
{
	struct qjob j = { .cmd = cmd,
			  .op = QJ_WRITE,
			  .iov = iov,
			  .cnt = iov_cnt,
			  .len = len,
			  .off = (uint64_t)off };

	return qcow_queue(dev, &j);
}

static int qcow_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct qjob j = { .cmd = cmd, .op = QJ_FLUSH };

	return qcow_queue(dev, &j);
}

static int qcow_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	struct qjob j = { .cmd = cmd, .op = QJ_UNMAP, .len = len, .off = off };

	return qcow_queue(dev, &j);
}

/* ASYNC model, ring thread, never block: io_uring completions and submission. */
static int qcow_completion_fd(struct tcmu_device *dev)
{
	struct qcow_dev *qd = tcmur_dev_get_private(dev);

	return qd ? qasync_fd(qd->as) : -1;
}

static void qcow_reap(struct tcmu_device *dev)
{
	struct qcow_dev *qd = tcmur_dev_get_private(dev);

	if (qd)
		qasync_reap(qd->as);
}

static void qcow_batch_end(struct tcmu_device *dev)
{
	struct qcow_dev *qd = tcmur_dev_get_private(dev);

	if (qd)
		qasync_submit(qd->as);
}

/* Worker thread; may block. */
static int qcow_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas, int *state)
{
	struct qimg *img = dev_img(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);
	uint64_t len;
	bool allocated;
	int ret = qimg_status(img, lba * bs, &len, &allocated);

	if (ret)
		return TCMU_STS_HW_ERR;
	*state = allocated ? 0 : 1;
	*nr_lbas = len / bs ? len / bs : 1;
	return TCMU_STS_OK;
}

/* Setup or recovery thread; may block. */
static int qcow_open(struct tcmu_device *dev, bool reopen)
{
	const char *path = cfg_path(tcmu_dev_get_cfgstring(dev));
	uint64_t lio_size = tcmu_dev_get_num_lbas(dev) * tcmu_dev_get_block_size(dev);
	char err[QIMG_ERR_LEN], *reason = NULL;
	unsigned int flags = 0;
	struct qcow_dev *qd;
	struct qimg *img;
	int fd, ret;

	(void)reopen;
	if (!qcow_check_config(tcmu_dev_get_cfgstring(dev), &reason)) {
		tcmu_dev_err(dev, "%s\n", reason ? reason : "bad cfgstring");
		free(reason);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS)) {
		tcmu_dev_warn(dev, "%s is not writable: the LUN is write protected\n", path);
		flags |= QIMG_RDONLY;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		ret = -errno;
		tcmu_dev_err(dev, "cannot open %s: %s\n", path, strerror(-ret));
		return ret;
	}
	ret = qimg_open(fd, path, flags, &img, err);
	if (ret) {
		tcmu_dev_err(dev, "cannot use image %s: %s\n", path, err);
		return ret;
	}
	if (qimg_size(img) != lio_size) {
		tcmu_dev_err(dev,
			     "image %s is %llu bytes but the LUN is %llu bytes; they must "
			     "be equal\n",
			     path, (unsigned long long)qimg_size(img),
			     (unsigned long long)lio_size);
		qimg_close(img);
		return -EINVAL;
	}
	if (qimg_read_only(img)) {
		if (!(flags & QIMG_RDONLY))
			tcmu_dev_warn(dev,
				      "image %s is marked corrupt: the LUN is write "
				      "protected (repair with 'qemu-img check -r all')\n",
				      path);
		tcmu_dev_set_write_protect_enabled(dev, true);
	}
	tcmu_dev_set_write_cache_enabled(dev, true);
	/* qcow v1 cannot free clusters: no UNMAP rather than one that writes zeroes. */
	tcmu_dev_set_unmap_enabled(dev, !qimg_read_only(img) && qimg_discard_frees(img));
	if (qimg_cluster_size(img) > tcmu_dev_get_block_size(dev)) {
		tcmu_dev_set_opt_unmap_gran(
			dev, qimg_cluster_size(img) / tcmu_dev_get_block_size(dev), false);
		tcmu_dev_set_unmap_gran_align(dev, 0);
	}
	qd = calloc(1, sizeof(*qd));
	if (!qd) {
		qimg_close(img);
		return -ENOMEM;
	}
	qd->img = img;
	if (have_uring) {
		ret = qasync_start(dev, img, qcow_run, &qd->as);
		if (ret) {
			tcmu_dev_err(dev, "cannot start the I/O threads: %s\n", strerror(-ret));
			qimg_close(img);
			free(qd);
			return ret;
		}
	}
	tcmur_dev_set_private(dev, qd);
	tcmu_dev_info(dev, "%s: %s, %llu bytes\n", path, qimg_describe(img),
		      (unsigned long long)lio_size);
	return 0;
}

/* Removing or recovery thread, after every command completed; may block. */
static void qcow_close(struct tcmu_device *dev)
{
	struct qcow_dev *qd = tcmur_dev_get_private(dev);

	if (!qd)
		return;
	qasync_stop(qd->as);
	qimg_flush(qd->img);
	qimg_close(qd->img);
	free(qd);
	tcmur_dev_set_private(dev, NULL);
}

/*
 * Main thread; may block (a few writes and fdatasyncs of the image, after
 * the I/O in flight).  A new size grows the image; the daemon then tells
 * the initiator (CAPACITY DATA HAS CHANGED).
 */
static int qcow_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct qimg *img = dev_img(dev);
	const char *path = cfg_path(tcmu_dev_get_cfgstring(dev));
	char err[QIMG_ERR_LEN];
	uint64_t old;
	int ret;

	switch (cfg->type) {
	case TCMULIB_CFG_WRITE_CACHE:
		return 0; /* flush does the fdatasync either way */
	case TCMULIB_CFG_DEV_SIZE:
		old = qimg_size(img);
		ret = qimg_grow(img, cfg->data.dev_size, err);
		if (ret) {
			tcmu_dev_err(dev, "cannot resize %s to %llu bytes: %s\n", path,
				     (unsigned long long)cfg->data.dev_size, err);
			return ret;
		}
		tcmu_dev_info(dev, "grew image %s from %llu to %llu bytes\n", path,
			      (unsigned long long)old, (unsigned long long)cfg->data.dev_size);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static struct tcmur_handler qcow_handler = {
	.name = "QEMU Copy-On-Write image file (qcow2)",
	.subtype = "qcow",
	.cfg_desc = "The absolute path to a qcow2, qcow or raw image",
	.check_config = qcow_check_config,
	.reconfig = qcow_reconfig,
	.open = qcow_open,
	.close = qcow_close,
	.nr_threads = QCOW_THREADS,
	.thread_model = TCMUR_THREAD_MODEL_PARALLEL,
	.read = qcow_read,
	.write = qcow_write,
	.flush = qcow_flush,
	.unmap = qcow_unmap,
	.get_lba_status = qcow_get_lba_status,
	.caps = TCMUR_CAP_LBA_STATUS,
	.completion_fd = qcow_completion_fd,
	.reap = qcow_reap,
	.batch_end = qcow_batch_end,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	have_uring = handler_uring_usable("TCMU_QCOW_NO_URING");
	if (have_uring) {
		qcow_handler.thread_model = TCMUR_THREAD_MODEL_ASYNC;
		qcow_handler.nr_threads = 0;
	}
	return tcmur_register_handler(&qcow_handler);
}
