// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The "glfs" handler: a LUN backed by a file in a Gluster volume, through
 * libgfapi (cfgstring "glfs/<volume>@<host>[:port]/<path>").
 *
 * ASYNC thread model: the callouts run on the device's ring thread and only
 * queue gfapi's *_async calls; gfapi calls io_done() on its own event
 * threads, which completes the command with tcmur_cmd_complete().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "glfs_priv.h"
#include "tcmu-runner.h"
#include "../iovec_clip.h"

enum glfs_op { GOP_READ, GOP_WRITE, GOP_FLUSH, GOP_DISCARD, GOP_ZERO };

/* One queued gfapi call; freed by io_done(). */
struct glfs_io {
	struct tcmu_device *dev;
	struct glfs_dev *gdev;
	struct tcmur_cmd *cmd;
	enum glfs_op op;
	size_t len;
	uint64_t off;
	size_t iov_cnt;
	struct iovec iov[]; /* reads and writes: the callout's iovec, ending at len */
};

static const char *op_name[] = { "read", "write", "fdatasync", "discard", "zerofill" };

/* Any thread; never blocks (syntax only: reaching the volume is open()'s job). */
static bool tg_check_config(const char *cfgstring, char **reason)
{
	struct glfs_cfg cfg;

	if (glfs_cfg_parse(cfgstring, &cfg, reason))
		return false;
	glfs_cfg_free(&cfg);
	return true;
}

/* Zero the bytes of iov past done (a read that came back short: past EOF). */
static void zero_tail(struct iovec *iov, size_t cnt, size_t done)
{
	size_t i;

	for (i = 0; i < cnt; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		memset((char *)iov[i].iov_base + done, 0, iov[i].iov_len - done);
		done = 0;
	}
}

/* gfapi's event thread; never blocks. */
static void io_done(glfs_fd_t *fd, ssize_t ret, struct glfs_stat *prestat,
		    struct glfs_stat *poststat, void *data)
{
	struct glfs_io *io = data;
	int err = ret < 0 ? errno : 0, sts = TCMU_STS_OK;

	(void)fd;
	(void)prestat;
	(void)poststat;
	if (ret < 0) {
		tcmu_dev_err(io->dev, "%s of %zu bytes at %llu failed: %s\n", op_name[io->op],
			     io->len, (unsigned long long)io->off, strerror(err));
		if (glfs_lock_io_error(io->dev, io->gdev, err)) {
			sts = TCMU_STS_BUSY;
		} else if (glfs_conn_error(err)) {
			/* Brick down, connection reset, fd lost on reconnect:
			 * BUSY, and the daemon reopens the device. */
			tcmu_notify_conn_lost(io->dev);
			sts = TCMU_STS_BUSY;
		} else if (err == EOPNOTSUPP && (io->op == GOP_DISCARD || io->op == GOP_ZERO)) {
			sts = TCMU_STS_INVALID_CMD;
		} else {
			sts = io->op == GOP_READ ? TCMU_STS_RD_ERR : TCMU_STS_WR_ERR;
		}
	} else if (io->op == GOP_READ && (size_t)ret < io->len) {
		zero_tail(io->iov, io->iov_cnt, (size_t)ret);
	} else if (io->op == GOP_WRITE && (size_t)ret < io->len) {
		tcmu_dev_err(io->dev, "short write at %llu: %zd of %zu bytes\n",
			     (unsigned long long)io->off, ret, io->len);
		sts = TCMU_STS_WR_ERR;
	}
	tcmur_cmd_complete(io->dev, io->cmd, sts);
	free(io);
}

static struct glfs_io *new_io(struct tcmu_device *dev, struct tcmur_cmd *cmd, enum glfs_op op,
			      const struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off)
{
	struct glfs_io *io = calloc(1, sizeof(*io) + iov_cnt * sizeof(*iov));

	if (!io)
		return NULL;
	io->dev = dev;
	io->cmd = cmd;
	io->op = op;
	io->len = len;
	io->off = off;
	io->iov_cnt = handler_iovec_clip(io->iov, iov, iov_cnt, len);
	return io;
}

/* The gfapi call was not queued: io_done() will not run. */
static int queue_failed(struct glfs_io *io)
{
	int err = errno;

	tcmu_dev_err(io->dev, "cannot queue %s at %llu: %s\n", op_name[io->op],
		     (unsigned long long)io->off, strerror(err));
	free(io);
	if (glfs_conn_error(err))
		return TCMU_STS_BUSY;
	return err == ENOMEM ? TCMU_STS_NO_RESOURCE : TCMU_STS_HW_ERR;
}

static int submit(struct tcmu_device *dev, struct tcmur_cmd *cmd, enum glfs_op op,
		  const struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off)
{
	struct glfs_dev *gdev = tcmur_dev_get_private(dev);
	struct glfs_io *io;
	int ret = -1;

	/*
	 * Fenced: data commands get BUSY without reaching the bricks.  A flush
	 * is answered GOOD at once: this device has acknowledged no write since
	 * it lost the lock, its earlier writes went through write-behind
	 * (strict O_DIRECT) to the bricks, and the file now belongs to the new
	 * lock holder, whose flushes cover it.  A BUSY flush would hold the
	 * initiator's cache sync (sd sends one when the disk goes away) for
	 * minutes.
	 */
	if (glfs_lock_fenced(gdev)) {
		if (op != GOP_FLUSH)
			return TCMU_STS_BUSY;
		tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
		return TCMU_STS_OK; /* "queued": the completion above stands */
	}
	io = new_io(dev, cmd, op, iov, iov_cnt, len, off);
	if (!io)
		return TCMU_STS_NO_RESOURCE;
	io->gdev = gdev;
	glfs_lock_tag_thread(gdev);
	switch (op) {
	case GOP_READ:
		ret = glfs_preadv_async(gdev->fd, io->iov, (int)io->iov_cnt, (off_t)off, 0, io_done,
					io);
		break;
	case GOP_WRITE:
		ret = glfs_pwritev_async(gdev->fd, io->iov, (int)io->iov_cnt, (off_t)off, 0,
					 io_done, io);
		break;
	case GOP_FLUSH:
		ret = glfs_fdatasync_async(gdev->fd, io_done, io);
		break;
	case GOP_DISCARD:
		ret = glfs_discard_async(gdev->fd, (off_t)off, len, io_done, io);
		break;
	case GOP_ZERO:
		ret = glfs_zerofill_async(gdev->fd, (off_t)off, (off_t)len, io_done, io);
		break;
	}
	return ret < 0 ? queue_failed(io) : TCMU_STS_OK;
}

/* ---- callouts: the ring thread; never block (see the file top) --------- */

static int tg_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		   size_t iov_cnt, size_t len, off_t off)
{
	return submit(dev, cmd, GOP_READ, iov, iov_cnt, len, (uint64_t)off);
}

static int tg_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off)
{
	return submit(dev, cmd, GOP_WRITE, iov, iov_cnt, len, (uint64_t)off);
}

static int tg_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	return submit(dev, cmd, GOP_FLUSH, NULL, 0, 0, 0);
}

static int tg_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	return submit(dev, cmd, GOP_DISCARD, NULL, 0, (size_t)len, off);
}

/* Zeroes: zerofill on the bricks.  Other patterns: NOT_HANDLED, and the
 * engine writes the pattern out with write(). */
static int tg_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
			struct iovec *iov, size_t iov_cnt)
{
	if (!tcmu_iovec_is_zero(iov, iov_cnt))
		return TCMU_STS_NOT_HANDLED;
	return submit(dev, cmd, GOP_ZERO, NULL, 0, (size_t)len, off);
}

/* ---- open / close / reconfig --------------------------------------------- */

/* Extend the backing file to size; never shrink it.  0 or -errno. */
static int grow_file(struct tcmu_device *dev, struct glfs_dev *gdev, uint64_t size)
{
	struct stat st;

	if (glfs_fstat(gdev->fd, &st))
		return -errno;
	if ((uint64_t)st.st_size > size)
		tcmu_dev_info(dev,
			      "%s is %lld bytes, more than the LUN's %llu: the rest is unused\n",
			      gdev->path, (long long)st.st_size, (unsigned long long)size);
	if ((uint64_t)st.st_size >= size)
		return 0;
	glfs_lock_tag_thread(gdev);
	if (glfs_ftruncate(gdev->fd, (off_t)size, NULL, NULL)) {
		int ret = -errno;

		tcmu_dev_err(dev, "cannot extend %s from %lld to %llu bytes: %s\n", gdev->path,
			     (long long)st.st_size, (unsigned long long)size, strerror(-ret));
		return ret;
	}
	tcmu_dev_info(dev, "extended %s from %lld to %llu bytes\n", gdev->path,
		      (long long)st.st_size, (unsigned long long)size);
	return 0;
}

/* Open (creating it if missing) the regular file at path in the volume. */
static int open_file(struct tcmu_device *dev, struct glfs_dev *gdev, const char *volume)
{
	glfs_t *fs = glfs_conn_fs(gdev->conn);
	struct stat st;
	int ret;

	if (!glfs_stat(fs, gdev->path, &st) && !S_ISREG(st.st_mode)) {
		tcmu_dev_err(dev, "%s in volume %s is %s, not a regular file\n", gdev->path, volume,
			     S_ISDIR(st.st_mode) ? "a folder" : "special");
		return -EINVAL;
	}
	gdev->fd = glfs_open(fs, gdev->path, O_RDWR | O_DIRECT);
	if (!gdev->fd && errno == ENOENT)
		gdev->fd = glfs_creat(fs, gdev->path, O_RDWR | O_DIRECT, 0600);
	if (!gdev->fd) {
		ret = errno ? -errno : -EIO;
		tcmu_dev_err(dev, "cannot open %s in volume %s: %s\n", gdev->path, volume,
			     strerror(-ret));
		return ret;
	}
	return 0;
}

/* UNMAP granularity: the volume's block size in logical blocks, never 0. */
static void set_unmap_limits(struct tcmu_device *dev, struct glfs_dev *gdev)
{
	struct statvfs sv;
	uint32_t gran = 1;

	if (!glfs_statvfs(glfs_conn_fs(gdev->conn), "/", &sv) && sv.f_bsize > gdev->block_size)
		gran = (uint32_t)(sv.f_bsize / gdev->block_size);
	tcmu_dev_set_unmap_enabled(dev, true);
	tcmu_dev_set_opt_unmap_gran(dev, gran, false);
	tcmu_dev_set_unmap_gran_align(dev, 0);
}

/* Setup thread, or the recovery thread when reopen; may block. */
static int tg_open_dev(struct tcmu_device *dev, bool reopen)
{
	struct glfs_dev *gdev;
	struct glfs_cfg cfg;
	char *reason = NULL;
	int ret;

	ret = glfs_cfg_parse(tcmu_dev_get_cfgstring(dev), &cfg, &reason);
	if (ret) {
		tcmu_dev_err(dev, "%s\n", reason ? reason : "bad cfgstring");
		free(reason);
		return ret;
	}
	gdev = calloc(1, sizeof(*gdev));
	if (!gdev) {
		ret = -ENOMEM;
		goto out_cfg;
	}
	gdev->block_size = tcmu_dev_get_block_size(dev);
	if (!gdev->block_size) {
		tcmu_dev_err(dev, "the kernel gave no block size\n");
		ret = -EINVAL;
		goto err_free;
	}
	gdev->path = cfg.path;
	cfg.path = NULL;
	ret = glfs_conn_get(&cfg, &gdev->conn, &reason);
	if (ret) {
		tcmu_dev_err(dev, "%s\n", reason ? reason : "cannot connect");
		free(reason);
		goto err_free;
	}
	ret = open_file(dev, gdev, cfg.volume);
	if (ret)
		goto err_put;
	ret = glfs_lock_open(dev, gdev, reopen);
	if (ret)
		goto err_close;
	ret = grow_file(dev, gdev, tcmu_dev_get_num_lbas(dev) * gdev->block_size);
	if (ret)
		goto err_close;

	tcmu_dev_set_write_cache_enabled(dev, true);
	set_unmap_limits(dev, gdev);
	tcmur_dev_set_private(dev, gdev);
	tcmu_dev_info(dev, "%s %s in volume %s on %s\n", reopen ? "reopened" : "opened", gdev->path,
		      cfg.volume, cfg.host);
	goto out_cfg;

err_close:
	glfs_close(gdev->fd);
err_put:
	glfs_conn_put(gdev->conn);
err_free:
	free(gdev->path);
	free(gdev);
out_cfg:
	glfs_cfg_free(&cfg);
	return ret;
}

/* The removing or recovery thread, after every command completed; may block. */
static void tg_close_dev(struct tcmu_device *dev)
{
	struct glfs_dev *gdev = tcmur_dev_get_private(dev);

	if (!gdev)
		return;
	/* Fails when the brick is gone; the fd is released either way. */
	if (glfs_close(gdev->fd))
		tcmu_dev_warn(dev, "close of %s: %s\n", gdev->path, strerror(errno));
	glfs_conn_put(gdev->conn);
	tcmur_dev_set_private(dev, NULL);
	free(gdev->path);
	free(gdev);
}

/* Main thread; blocks for one round trip to the volume (ftruncate). */
static int tg_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct glfs_dev *gdev = tcmur_dev_get_private(dev);

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		return grow_file(dev, gdev, cfg->data.dev_size);
	case TCMULIB_CFG_WRITE_CACHE:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* Main thread, after log_dir changed. */
static void tg_update_logdir(void)
{
	glfs_conn_relog();
}

static struct tcmur_handler tg_handler = {
	.name = "Gluster glfs handler",
	.subtype = "glfs",
	.cfg_desc = "glfs/<volume>@<host>/<path>: a file in a Gluster volume "
		    "(host[:port], default 24007)",
	.check_config = tg_check_config,
	.reconfig = tg_reconfig,
	.open = tg_open_dev,
	.close = tg_close_dev,
	.read = tg_read,
	.write = tg_write,
	.flush = tg_flush,
	.unmap = tg_unmap,
	.writesame = tg_writesame,
	.update_logdir = tg_update_logdir,
	.lock = glfs_lock_take,
	.unlock = glfs_lock_release,
	.get_lock_state = glfs_lock_state,
	.nr_threads = 0,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&tg_handler);
}
