// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The "file" handler: a LUN backed by a regular file (cfgstring "file/<path>").
 * io_uring (ASYNC thread model) where the kernel allows it, else preadv/pwritev
 * on the daemon's worker threads (PARALLEL).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_URING
#include <liburing.h>
#endif

#include "../uring_probe.h"
#include "tcmu-runner.h"

#define FILE_URING_DEPTH      512
#define FILE_PARALLEL_THREADS 4

/* io_uring user_data: the tcmur_cmd pointer with the operation in the low bits. */
enum file_op {
	FOP_READ = 1,
	FOP_WRITE,
	FOP_FLUSH,
	FOP_OTHER, /* fallocate: result only */
};
#define FOP_MASK 7ul

struct file_dev {
	int fd;
	uint32_t block_size;
	bool uring; /* this device submits to io_uring */
#ifdef HAVE_URING
	struct io_uring ring; /* completions reaped by the ring thread */
	unsigned int queued;  /* SQEs prepared since the last submit (ring thread) */
#endif
};

static bool have_uring; /* decided once in handler_init() */

static struct tcmur_handler file_handler;

/* "file/<path>": everything after the first '/' is the path. */
static const char *cfg_path(const char *cfg)
{
	const char *slash = cfg ? strchr(cfg, '/') : NULL;

	return slash && slash[1] ? slash + 1 : NULL;
}

/* Any thread; may block briefly (stat). */
static bool file_check_config(const char *cfgstring, char **reason)
{
	const char *path = cfg_path(cfgstring);
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (!path) {
		if (asprintf(reason, "no file path in '%s' (expected file/<path>)",
			     cfgstring ? cfgstring : "") < 0)
			*reason = NULL;
		return false;
	}
	if (path[0] != '/') {
		/* The daemon's working folder is no place to resolve it against. */
		if (asprintf(reason,
			     "file path '%s' is relative; give an absolute path "
			     "(file//folder/name)",
			     path) < 0)
			*reason = NULL;
		return false;
	}
	if (strlen(path) >= sizeof(dir)) {
		*reason = strdup("file path too long");
		return false;
	}
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (!dir[0])
			strcpy(dir, "/");
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		if (asprintf(reason, "folder %s does not exist", dir) < 0)
			*reason = NULL;
		return false;
	}
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			if (asprintf(reason, "%s is a folder, not a file", path) < 0)
				*reason = NULL;
			return false;
		}
		if (access(path, R_OK | W_OK)) {
			if (asprintf(reason, "file %s is not readable and writable: %s", path,
				     strerror(errno)) < 0)
				*reason = NULL;
			return false;
		}
	} else if (access(dir, W_OK)) {
		if (asprintf(reason, "cannot create %s: folder %s not writable", path, dir) < 0)
			*reason = NULL;
		return false;
	}
	return true;
}

/* ---- synchronous I/O (thread pool mode, fallbacks, completion fix-ups) -- */

/*
 * Copy into dst (room for cnt entries) the entries of src that hold its first
 * len bytes, the last one cut short.  The iovec a callout gets can be longer
 * than len (partial blocks, engine sub-I/O): the bytes past len belong to
 * someone else, and so does the caller's array.  Returns the entries used.
 */
static size_t iov_clip(struct iovec *dst, const struct iovec *src, size_t cnt, size_t len)
{
	size_t i;

	for (i = 0; i < cnt && len; i++) {
		dst[i] = src[i];
		if (dst[i].iov_len > len)
			dst[i].iov_len = len;
		len -= dst[i].iov_len;
	}
	return i;
}

/* Read len bytes at off into iov; bytes past the end of the file read as zero.
 * Touches neither iov[] nor the buffer past len. */
static int sync_read(int fd, struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct iovec local[16], *v = iov_cnt <= 16 ? local : malloc(iov_cnt * sizeof(*v));
	size_t done = 0, cnt;
	int ret = TCMU_STS_OK;

	if (!v)
		return TCMU_STS_NO_RESOURCE;
	cnt = iov_clip(v, iov, iov_cnt, len);
	while (done < len) {
		ssize_t n = preadv(fd, v, (int)(cnt > IOV_MAX ? IOV_MAX : cnt), off + (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = TCMU_STS_RD_ERR;
			break;
		}
		if (n == 0) {
			/* End of file: the rest reads as zeroes. */
			tcmu_iovec_zero(v, cnt);
			break;
		}
		done += (size_t)n;
		size_t used = tcmu_iovec_seek(v, cnt, (size_t)n);

		memmove(v, v + used, (cnt - used) * sizeof(*v));
		cnt -= used;
	}
	if (v != local)
		free(v);
	return ret;
}

/* Write len bytes of iov at off; touches neither iov[] nor the file past len. */
static int sync_write(int fd, struct iovec *iov, size_t iov_cnt, size_t len, off_t off, int flags)
{
	struct iovec local[16], *v = iov_cnt <= 16 ? local : malloc(iov_cnt * sizeof(*v));
	size_t done = 0, cnt;
	int ret = TCMU_STS_OK;

	if (!v)
		return TCMU_STS_NO_RESOURCE;
	cnt = iov_clip(v, iov, iov_cnt, len);
	while (done < len && cnt) {
		ssize_t n = pwritev2(fd, v, (int)(cnt > IOV_MAX ? IOV_MAX : cnt), off + (off_t)done,
				     flags);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = TCMU_STS_WR_ERR;
			break;
		}
		done += (size_t)n;
		size_t used = tcmu_iovec_seek(v, cnt, (size_t)n);

		memmove(v, v + used, (cnt - used) * sizeof(*v));
		cnt -= used;
	}
	if (v != local)
		free(v);
	return ret;
}

static bool want_dsync(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	/* FUA, or write cache turned off: the data must be stable now. */
	return cmd->fua || !tcmu_dev_get_write_cache_enabled(dev);
}

/* ---- io_uring ----------------------------------------------------------- */

#ifdef HAVE_URING

/*
 * Submission of a read or write: the iovec io_uring gets, ending at len, and
 * what finish_short() needs if the transfer comes back short.  That is the
 * caller's own array when it already ends at len (the usual case), else a
 * clipped copy, owned through cmd->iov_base_copy until forget().  Returns
 * TCMU_STS_OK or TCMU_STS_NO_RESOURCE.
 */
static int remember(struct tcmur_cmd *cmd, struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	struct iovec *v = iov;

	cmd->iov_base_copy = NULL;
	if (tcmu_iovec_length(iov, iov_cnt) > len) {
		v = malloc(iov_cnt * sizeof(*v));
		if (!v)
			return TCMU_STS_NO_RESOURCE;
		iov_cnt = iov_clip(v, iov, iov_cnt, len);
		cmd->iov_base_copy = v;
	}
	cmd->iovec = v;
	cmd->iov_cnt = iov_cnt;
	cmd->requested = len;
	cmd->handler_private = (void *)(uintptr_t)off;
	return TCMU_STS_OK;
}

/* The read or write is over (or was never queued): drop remember()'s copy. */
static void forget(struct tcmur_cmd *cmd)
{
	free(cmd->iov_base_copy);
	cmd->iov_base_copy = NULL;
}

/*
 * Ring thread: io_uring moved only done of cmd->requested bytes; move the
 * rest synchronously (a read past EOF zero-fills), over the iovec and length
 * the callout was given (remember()), never the command's whole data buffer.
 * Returns TCMU_STS_*.
 */
static int finish_short(struct tcmu_device *dev, struct file_dev *fdev, struct tcmur_cmd *cmd,
			size_t done, bool write)
{
	off_t off = (off_t)(uintptr_t)cmd->handler_private + (off_t)done;
	size_t cnt = cmd->iov_cnt, left = cmd->requested - done, used;
	struct iovec local[16], *v = cnt <= 16 ? local : malloc(cnt * sizeof(*v));
	int sts;

	if (!v)
		return TCMU_STS_NO_RESOURCE;
	/* The callout's own iovec: not always the command's (engine sub-I/O). */
	cnt = iov_clip(v, cmd->iovec, cnt, cmd->requested);
	used = tcmu_iovec_seek(v, cnt, done);
	if (write)
		sts = sync_write(fdev->fd, v + used, cnt - used, left, off,
				 want_dsync(dev, cmd) ? RWF_DSYNC : 0);
	else
		sts = sync_read(fdev->fd, v + used, cnt - used, left, off);
	if (v != local)
		free(v);
	return sts;
}

static void finish_uring(struct tcmu_device *dev, struct file_dev *fdev, struct io_uring_cqe *cqe)
{
	struct tcmur_cmd *cmd = (struct tcmur_cmd *)(uintptr_t)(cqe->user_data & ~FOP_MASK);
	int op = (int)(cqe->user_data & FOP_MASK);
	size_t len = cmd->requested;
	off_t off = (off_t)(uintptr_t)cmd->handler_private;
	int res = cqe->res, sts = TCMU_STS_OK;

	switch (op) {
	case FOP_READ:
		if (res < 0) {
			tcmu_dev_err(dev, "read of %zu bytes at %lld failed: %s\n", len,
				     (long long)off, strerror(-res));
			sts = TCMU_STS_RD_ERR;
		} else if ((size_t)res < len) {
			/* Short read: finish it (zero-filling past EOF) here. */
			sts = finish_short(dev, fdev, cmd, (size_t)res, false);
		}
		forget(cmd);
		break;
	case FOP_WRITE:
		if (res < 0) {
			tcmu_dev_err(dev, "write of %zu bytes at %lld failed: %s\n", len,
				     (long long)off, strerror(-res));
			sts = TCMU_STS_WR_ERR;
		} else if ((size_t)res < len) {
			sts = finish_short(dev, fdev, cmd, (size_t)res, true);
		}
		forget(cmd);
		break;
	case FOP_FLUSH:
		if (res < 0) {
			tcmu_dev_err(dev, "fdatasync failed: %s\n", strerror(-res));
			sts = TCMU_STS_WR_ERR;
		}
		break;
	default:
		if (res == -EOPNOTSUPP) {
			sts = TCMU_STS_INVALID_CMD;
		} else if (res < 0) {
			tcmu_dev_err(dev, "fallocate failed: %s\n", strerror(-res));
			sts = TCMU_STS_WR_ERR;
		}
		break;
	}
	tcmur_cmd_complete(dev, cmd, sts);
}

/* Ring thread: finish every completion that is there; never blocks. */
static void file_reap(struct tcmu_device *dev)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	struct io_uring_cqe *cqe;

	if (!fdev || !fdev->uring)
		return;
	while (!io_uring_peek_cqe(&fdev->ring, &cqe)) {
		finish_uring(dev, fdev, cqe);
		io_uring_cqe_seen(&fdev->ring, cqe);
	}
}

/* The ring thread polls the io_uring fd itself (see file_reap). */
static int file_completion_fd(struct tcmu_device *dev)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);

	return fdev && fdev->uring ? fdev->ring.ring_fd : -1;
}

static struct io_uring_sqe *get_sqe(struct file_dev *fdev)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&fdev->ring);

	if (!sqe) {
		/* SQ full: hand what is queued to the kernel and retry once. */
		if (io_uring_submit(&fdev->ring) >= 0)
			fdev->queued = 0;
		sqe = io_uring_get_sqe(&fdev->ring);
	}
	return sqe;
}

/* Queue an SQE; file_batch_end() submits the batch when the ring thread is done. */
static int submit(struct file_dev *fdev, struct io_uring_sqe *sqe, struct tcmur_cmd *cmd, int op)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)cmd | (uint64_t)op);
	fdev->queued++;
	return TCMU_STS_OK;
}

/* Ring thread, after a batch of callouts; must not block. */
static void file_batch_end(struct tcmu_device *dev)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	int ret, i;

	if (!fdev || !fdev->uring || !fdev->queued)
		return;
	ret = io_uring_submit(&fdev->ring);
	for (i = 0; (ret == -EBUSY || ret == -EAGAIN) && i < 100; i++) {
		/* Completion backlog: make room by reaping, then retry. */
		file_reap(dev);
		ret = io_uring_submit(&fdev->ring);
	}
	if (ret < 0)
		tcmu_dev_err(dev, "io_uring_submit: %s\n", strerror(-ret));
	else
		fdev->queued = 0;
}
#endif

/* ---- callouts ------------------------------------------------------------
 * ASYNC model (io_uring): called on the device's ring thread, never block;
 * they return TCMU_STS_OK once queued and file_reap() completes them, also on
 * the ring thread.
 * PARALLEL model: called on worker threads, block, return the status.
 */

static int file_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	int sts;

#ifdef HAVE_URING
	if (fdev->uring) {
		struct io_uring_sqe *sqe;

		sts = remember(cmd, iov, iov_cnt, len, off);
		if (sts != TCMU_STS_OK)
			return sts;
		sqe = get_sqe(fdev);
		if (!sqe) {
			forget(cmd);
			return TCMU_STS_BUSY;
		}
		io_uring_prep_readv(sqe, fdev->fd, cmd->iovec, (unsigned int)cmd->iov_cnt,
				    (uint64_t)off);
		return submit(fdev, sqe, cmd, FOP_READ);
	}
#endif
	sts = sync_read(fdev->fd, iov, iov_cnt, len, off);
	if (sts != TCMU_STS_OK)
		tcmu_dev_err(dev, "read of %zu bytes at %lld failed: %m\n", len, (long long)off);
	if (file_handler.thread_model == TCMUR_THREAD_MODEL_ASYNC) {
		tcmur_cmd_complete(dev, cmd, sts);
		return TCMU_STS_OK;
	}
	return sts;
}

static int file_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		      size_t iov_cnt, size_t len, off_t off)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	int flags = want_dsync(dev, cmd) ? RWF_DSYNC : 0;
	int sts;

#ifdef HAVE_URING
	if (fdev->uring) {
		struct io_uring_sqe *sqe;

		sts = remember(cmd, iov, iov_cnt, len, off);
		if (sts != TCMU_STS_OK)
			return sts;
		sqe = get_sqe(fdev);
		if (!sqe) {
			forget(cmd);
			return TCMU_STS_BUSY;
		}
		io_uring_prep_writev2(sqe, fdev->fd, cmd->iovec, (unsigned int)cmd->iov_cnt,
				      (uint64_t)off, flags);
		return submit(fdev, sqe, cmd, FOP_WRITE);
	}
#endif
	sts = sync_write(fdev->fd, iov, iov_cnt, len, off, flags);
	if (sts != TCMU_STS_OK)
		tcmu_dev_err(dev, "write of %zu bytes at %lld failed: %m\n", len, (long long)off);
	if (file_handler.thread_model == TCMUR_THREAD_MODEL_ASYNC) {
		tcmur_cmd_complete(dev, cmd, sts);
		return TCMU_STS_OK;
	}
	return sts;
}

static int file_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_OK;

#ifdef HAVE_URING
	if (fdev->uring) {
		struct io_uring_sqe *sqe = get_sqe(fdev);

		if (!sqe)
			return TCMU_STS_BUSY;
		io_uring_prep_fsync(sqe, fdev->fd, IORING_FSYNC_DATASYNC);
		return submit(fdev, sqe, cmd, FOP_FLUSH);
	}
#endif
	if (fdatasync(fdev->fd)) {
		tcmu_dev_err(dev, "fdatasync failed: %m\n");
		sts = TCMU_STS_WR_ERR;
	}
	if (file_handler.thread_model == TCMUR_THREAD_MODEL_ASYNC) {
		tcmur_cmd_complete(dev, cmd, sts);
		return TCMU_STS_OK;
	}
	return sts;
}

static int do_fallocate(struct tcmu_device *dev, struct tcmur_cmd *cmd, int mode, uint64_t off,
			uint64_t len)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	int sts = TCMU_STS_OK;

#ifdef HAVE_URING
	if (fdev->uring) {
		struct io_uring_sqe *sqe = get_sqe(fdev);

		if (!sqe)
			return TCMU_STS_BUSY;
		io_uring_prep_fallocate(sqe, fdev->fd, mode, off, len);
		return submit(fdev, sqe, cmd, FOP_OTHER);
	}
#endif
	if (fallocate(fdev->fd, mode, (off_t)off, (off_t)len)) {
		if (errno == EOPNOTSUPP) {
			sts = TCMU_STS_INVALID_CMD;
		} else {
			tcmu_dev_err(dev, "fallocate(0x%x, %llu, %llu) failed: %m\n", mode,
				     (unsigned long long)off, (unsigned long long)len);
			sts = TCMU_STS_WR_ERR;
		}
	}
	if (file_handler.thread_model == TCMUR_THREAD_MODEL_ASYNC) {
		tcmur_cmd_complete(dev, cmd, sts);
		return TCMU_STS_OK;
	}
	return sts;
}

static int file_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	return do_fallocate(dev, cmd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
}

static int file_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off,
			  uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	/* Only zeroes have a cheap path; the engine emulates other patterns. */
	if (!tcmu_iovec_is_zero(iov, iov_cnt))
		return TCMU_STS_NOT_HANDLED;
	return do_fallocate(dev, cmd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
}

/* Worker thread; may block.  Extent of mapped or deallocated blocks at lba. */
static int file_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas, int *state)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);
	uint64_t bs = fdev->block_size, end = tcmu_dev_get_num_lbas(dev) * bs;
	off_t pos = (off_t)(lba * bs), data, next;

	data = lseek(fdev->fd, pos, SEEK_DATA);
	if (data < 0 && errno != ENXIO)
		return TCMU_STS_HW_ERR;
	if (data < 0 || (uint64_t)data >= end) {
		/* A hole up to the end of the device. */
		*state = 1;
		*nr_lbas = (end - (uint64_t)pos) / bs;
	} else if (data > pos) {
		*state = 1;
		*nr_lbas = ((uint64_t)data - (uint64_t)pos) / bs;
	} else {
		next = lseek(fdev->fd, pos, SEEK_HOLE);
		if (next < 0 || (uint64_t)next > end)
			next = (off_t)end;
		*state = 0;
		*nr_lbas = ((uint64_t)next - (uint64_t)pos + bs - 1) / bs;
	}
	if (!*nr_lbas)
		*nr_lbas = 1;
	return TCMU_STS_OK;
}

/* ---- open / close / reconfig --------------------------------------------- */

static int grow_file(struct tcmu_device *dev, int fd, uint64_t size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < size && ftruncate(fd, (off_t)size)) {
		int ret = -errno;

		tcmu_dev_err(dev, "cannot extend the file to %llu bytes: %s\n",
			     (unsigned long long)size, strerror(-ret));
		return ret;
	}
	return 0;
}

/* Setup thread; may block. */
static int file_open(struct tcmu_device *dev, bool reopen)
{
	const char *path = cfg_path(tcmu_dev_get_cfgstring(dev));
	struct file_dev *fdev;
	char *reason = NULL;
	uint64_t size;
	int ret;

	if (!file_check_config(tcmu_dev_get_cfgstring(dev), &reason)) {
		tcmu_dev_err(dev, "%s\n", reason ? reason : "bad cfgstring");
		free(reason);
		return -EINVAL;
	}
	fdev = calloc(1, sizeof(*fdev));
	if (!fdev)
		return -ENOMEM;
	fdev->block_size = tcmu_dev_get_block_size(dev);
	if (!fdev->block_size) {
		tcmu_dev_err(dev, "the kernel gave no block size\n");
		ret = -EINVAL;
		goto err_free;
	}
	size = tcmu_dev_get_num_lbas(dev) * fdev->block_size;

	fdev->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fdev->fd < 0) {
		ret = -errno;
		tcmu_dev_err(dev, "cannot open %s: %s\n", path, strerror(-ret));
		goto err_free;
	}
	/* Never truncate a bigger file; extend a smaller one. */
	ret = grow_file(dev, fdev->fd, size);
	if (ret)
		goto err_close;

	tcmu_dev_set_write_cache_enabled(dev, true);
	tcmu_dev_set_unmap_enabled(dev, true);
	tcmur_dev_set_private(dev, fdev);

#ifdef HAVE_URING
	if (have_uring) {
		ret = io_uring_queue_init(FILE_URING_DEPTH, &fdev->ring, 0);
		if (ret) {
			tcmu_dev_warn(dev,
				      "io_uring unavailable (%s): synchronous I/O on the "
				      "ring thread\n",
				      strerror(-ret));
		} else {
			fdev->uring = true;
		}
	}
#endif
	tcmu_dev_dbg(dev, "%s: %llu bytes, %s\n", path, (unsigned long long)size,
		     fdev->uring ? "io_uring" : "thread pool");
	return 0;

err_close:
	close(fdev->fd);
err_free:
	free(fdev);
	return ret;
}

/* Teardown thread, after every command completed; may block. */
static void file_close(struct tcmu_device *dev)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);

	if (!fdev)
		return;
#ifdef HAVE_URING
	/* The ring thread reaped every completion before it stopped. */
	if (fdev->uring)
		io_uring_queue_exit(&fdev->ring);
#endif
	close(fdev->fd);
	tcmur_dev_set_private(dev, NULL);
	free(fdev);
}

/* Main thread; may block briefly (ftruncate). */
static int file_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct file_dev *fdev = tcmur_dev_get_private(dev);

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		return grow_file(dev, fdev->fd, cfg->data.dev_size);
	case TCMULIB_CFG_WRITE_CACHE:
		/* With the cache off every write is written through (RWF_DSYNC). */
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static struct tcmur_handler file_handler = {
	.name = "File-backed Handler",
	.subtype = "file",
	.cfg_desc = "The path to the backing file",
	.check_config = file_check_config,
	.reconfig = file_reconfig,
	.open = file_open,
	.close = file_close,
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.unmap = file_unmap,
	.writesame = file_writesame,
	.get_lba_status = file_get_lba_status,
#ifdef HAVE_URING
	.batch_end = file_batch_end,
	.completion_fd = file_completion_fd,
	.reap = file_reap,
#endif
	.caps = TCMUR_CAP_FUA | TCMUR_CAP_LBA_STATUS,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	have_uring = handler_uring_usable("TCMU_FILE_NO_URING");
	if (have_uring) {
		file_handler.thread_model = TCMUR_THREAD_MODEL_ASYNC;
		file_handler.nr_threads = 0;
	} else {
		file_handler.thread_model = TCMUR_THREAD_MODEL_PARALLEL;
		file_handler.nr_threads = FILE_PARALLEL_THREADS;
	}
	return tcmur_register_handler(&file_handler);
}
