// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The "qcow" handler: a LUN backed by a qcow2 image (v2 or v3), a qcow v1
 * image or a raw file, cfgstring "qcow/<absolute path>".  The format work is in
 * qcow_format.h; this file is the glue to the daemon.
 *
 * PARALLEL thread model: the daemon's worker threads call read, write,
 * flush, unmap and get_lba_status concurrently, and they may block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow_format.h"
#include "tcmu-runner.h"

#define QCOW_THREADS 4

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

/* Worker thread; may block. */
static int qcow_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	int ret = qimg_readv(tcmur_dev_get_private(dev), iov, iov_cnt, len, (uint64_t)off);

	(void)cmd;
	if (ret)
		tcmu_dev_err(dev, "read of %zu bytes at %lld failed: %s\n", len, (long long)off,
			     strerror(-ret));
	return to_sts(ret, TCMU_STS_RD_ERR);
}

/* Worker thread; may block. */
static int qcow_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		      size_t iov_cnt, size_t len, off_t off)
{
	int ret = qimg_writev(tcmur_dev_get_private(dev), iov, iov_cnt, len, (uint64_t)off);

	(void)cmd;
	if (ret && ret != -EROFS)
		tcmu_dev_err(dev, "write of %zu bytes at %lld failed: %s\n", len, (long long)off,
			     strerror(-ret));
	return to_sts(ret, TCMU_STS_WR_ERR);
}

/* Worker thread; may block. */
static int qcow_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	int ret = qimg_flush(tcmur_dev_get_private(dev));

	(void)cmd;
	if (ret)
		tcmu_dev_err(dev, "flush failed: %s\n", strerror(-ret));
	return to_sts(ret, TCMU_STS_WR_ERR);
}

/*
 * Worker thread; may block.  The whole range reads as zero afterwards (the
 * engine also uses this for WRITE SAME with UNMAP): whole clusters are
 * deallocated, the parts of clusters at the ends are written with zeroes.
 */
static int qcow_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	int ret = qimg_discard(tcmur_dev_get_private(dev), off, len, true);

	(void)cmd;
	if (ret && ret != -EROFS)
		tcmu_dev_err(dev, "unmap of %llu bytes at %llu failed: %s\n",
			     (unsigned long long)len, (unsigned long long)off, strerror(-ret));
	return to_sts(ret, TCMU_STS_WR_ERR);
}

/* Worker thread; may block. */
static int qcow_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas, int *state)
{
	struct qimg *img = tcmur_dev_get_private(dev);
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
	tcmur_dev_set_private(dev, img);
	tcmu_dev_info(dev, "%s: %s, %llu bytes\n", path, qimg_describe(img),
		      (unsigned long long)lio_size);
	return 0;
}

/* Removing or recovery thread, after every command completed; may block. */
static void qcow_close(struct tcmu_device *dev)
{
	struct qimg *img = tcmur_dev_get_private(dev);

	if (!img)
		return;
	qimg_flush(img);
	qimg_close(img);
	tcmur_dev_set_private(dev, NULL);
}

/*
 * Main thread; may block (a few writes and fdatasyncs of the image, after
 * the I/O in flight).  A new size grows the image; the daemon then tells
 * the initiator (CAPACITY DATA HAS CHANGED).
 */
static int qcow_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct qimg *img = tcmur_dev_get_private(dev);
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
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&qcow_handler);
}
