// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The "rbd" handler: a LUN backed by a Ceph RBD image, through librbd
 * (cfgstring "rbd/<pool>/<image>[;osd_op_timeout=N][;conf=<path>][;id=<client>]").
 *
 * ASYNC thread model: the callouts run on the device's ring thread and only
 * queue librbd aio calls (reads and writes straight from the command's
 * iovec); librbd calls io_done() on its completion thread, which completes
 * the command with tcmur_cmd_complete().  With rbd_non_blocking_aio off
 * (rbd_cluster.c) librbd dispatches a call on the ring thread before it
 * returns; that never waits for the OSDs, at most (briefly) for the
 * objecter's in-flight throttle.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd_priv.h"
#include "../iovec_clip.h"

enum rbd_op { ROP_READ, ROP_WRITE, ROP_FLUSH, ROP_DISCARD, ROP_ZERO, ROP_WRITESAME, ROP_CAW };

static const char *op_name[] = {
	"read", "write", "flush", "discard", "write zeroes", "write same", "compare and write"
};

/* One librbd call of a command. */
struct rbd_part {
	enum rbd_op op;
	uint64_t off;
	size_t len;
};

/*
 * A command's librbd calls (UNMAP: up to three); freed by the completion
 * of the last one, which completes the command.
 */
struct rbd_io {
	struct tcmu_device *dev;
	struct tcmur_cmd *cmd;
	enum rbd_op op;
	uint64_t off;
	size_t len;
	atomic_int pending; /* calls not completed, plus one while issuing */
	atomic_int sts;	    /* the first failure's status */
	uint64_t mismatch;  /* compare and write: first differing byte */
	char *buf;	    /* write same: one block; compare and write: both halves */
	size_t iov_cnt;
	struct iovec iov[]; /* reads and writes: the callout's iovec, ending at len */
};

/* Any thread; never blocks (syntax only: reaching the cluster is open()'s job). */
static bool tr_check_config(const char *cfgstring, char **reason)
{
	struct rbd_cfg cfg;

	if (rbd_cfg_parse(cfgstring, &cfg, reason))
		return false;
	rbd_cfg_free(&cfg);
	return true;
}

/* A failed librbd call (err < 0) as a command status; reports losses. */
static int io_err_sts(struct rbd_io *io, int err)
{
	struct rbd_dev *rd = tcmur_dev_get_private(io->dev);
	struct rbd_track *t = rd ? rd->track : NULL;

	if (err == -EILSEQ && io->op == ROP_CAW)
		return TCMU_STS_MISCOMPARE;
	tcmu_dev_err(io->dev, "%s of %zu bytes at %llu failed: %s\n", op_name[io->op], io->len,
		     (unsigned long long)io->off, strerror(-err));
	switch (err) {
	case -ETIMEDOUT:
		/* The OSDs did not answer within osd_op_timeout: reconnect. */
		rbd_track_count(t, RBD_CNT_TIMED_OUT);
		rbd_track_count(t, RBD_CNT_CONN_LOST);
		tcmu_notify_cmd_timed_out(io->dev);
		tcmu_notify_conn_lost(io->dev);
		return TCMU_STS_TIMEOUT;
	case -ESHUTDOWN: /* our client is blocklisted */
	case -EROFS:	 /* another client holds the exclusive lock */
		rbd_track_count(t, RBD_CNT_LOCK_LOST);
		if (rd)
			rd->lock_owner = false;
		tcmu_notify_lock_lost(io->dev);
		return TCMU_STS_BUSY;
	case -EINVAL:
		return TCMU_STS_INVALID_CDB;
	case -ENOMEM:
		return TCMU_STS_NO_RESOURCE;
	default:
		return io->op == ROP_READ ? TCMU_STS_RD_ERR : TCMU_STS_WR_ERR;
	}
}

static void io_free(struct rbd_io *io)
{
	free(io->buf);
	free(io);
}

/* Record a failure (the first one wins). */
static void io_fail(struct rbd_io *io, int sts)
{
	int ok = TCMU_STS_OK;

	atomic_compare_exchange_strong(&io->sts, &ok, sts);
}

/* Drop n references; the last one completes the command.  Any thread. */
static void io_put(struct rbd_io *io, int n)
{
	if (atomic_fetch_sub(&io->pending, n) != n)
		return;
	tcmur_cmd_complete(io->dev, io->cmd, atomic_load(&io->sts));
	io_free(io);
}

/* librbd's completion thread; never blocks. */
static void io_done(rbd_completion_t c, void *arg)
{
	struct rbd_io *io = arg;
	ssize_t ret = rbd_aio_get_return_value(c);
	int sts;

	rbd_aio_release(c);
	if (ret < 0) {
		sts = io_err_sts(io, (int)ret);
		if (sts == TCMU_STS_MISCOMPARE) {
			/* librbd gives the image offset of the first difference. */
			uint64_t rel = io->mismatch >= io->off ? io->mismatch - io->off : 0;

			tcmu_sense_set_info(io->cmd->lib_cmd->sense_buf, (uint32_t)rel);
			tcmu_dev_dbg(io->dev, "miscompare at byte %llu\n", (unsigned long long)rel);
		}
		io_fail(io, sts);
	} else if (io->op == ROP_READ && (size_t)ret < io->len) {
		tcmu_dev_err(io->dev, "short read at %llu: %zd of %zu bytes\n",
			     (unsigned long long)io->off, ret, io->len);
		io_fail(io, TCMU_STS_RD_ERR);
	}
	io_put(io, 1);
}

static struct rbd_io *new_io(struct tcmu_device *dev, struct tcmur_cmd *cmd, enum rbd_op op,
			     const struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off)
{
	struct rbd_io *io = calloc(1, sizeof(*io) + iov_cnt * sizeof(*iov));

	if (!io)
		return NULL;
	io->dev = dev;
	io->cmd = cmd;
	io->op = op;
	io->len = len;
	io->off = off;
	atomic_init(&io->pending, 0);
	atomic_init(&io->sts, TCMU_STS_OK);
	io->iov_cnt = handler_iovec_clip(io->iov, iov, iov_cnt, len);
	return io;
}

static char *flatten(const struct iovec *iov, size_t cnt, size_t skip, size_t len)
{
	char *buf = malloc(len ? len : 1);
	size_t i, done = 0, n;

	if (!buf)
		return NULL;
	for (i = 0; i < cnt && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - skip;
		if (n > len - done)
			n = len - done;
		memcpy(buf + done, (char *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	if (done < len) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int issue(struct rbd_dev *rd, struct rbd_io *io, const struct rbd_part *p,
		 rbd_completion_t c)
{
	switch (p->op) {
	case ROP_READ:
		return rbd_aio_readv(rd->image, io->iov, (int)io->iov_cnt, p->off, c);
	case ROP_WRITE:
		return rbd_aio_writev(rd->image, io->iov, (int)io->iov_cnt, p->off, c);
	case ROP_FLUSH:
		return rbd_aio_flush(rd->image, c);
	case ROP_DISCARD:
		return rbd_aio_discard(rd->image, p->off, p->len, c);
	case ROP_ZERO:
		return rbd_aio_write_zeroes(rd->image, p->off, p->len, c, 0, 0);
	case ROP_WRITESAME:
		return rbd_aio_writesame(rd->image, p->off, p->len, io->buf, rd->block_size, c, 0);
	case ROP_CAW:
		return (int)rbd_aio_compare_and_write(rd->image, p->off, p->len, io->buf,
						      io->buf + p->len, c, &io->mismatch, 0);
	}
	return -EINVAL;
}

/*
 * Queue io's n calls.  None queued: io is freed and the status returned.
 * Else TCMU_STS_OK, and the last completion (maybe already here) completes
 * the command, with the status of the first call that failed.
 */
static int submit_parts(struct tcmu_device *dev, struct rbd_io *io, const struct rbd_part *parts,
			int n)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	rbd_completion_t c;
	int i, ret, queued = 0, sts = TCMU_STS_BUSY;

	atomic_store(&io->pending, n + 1);
	for (i = 0; rd && i < n; i++) {
		if (rbd_aio_create_completion(io, io_done, &c)) {
			sts = TCMU_STS_NO_RESOURCE;
			break;
		}
		ret = issue(rd, io, &parts[i], c);
		if (ret < 0) {
			rbd_aio_release(c);
			sts = io_err_sts(io, ret);
			break;
		}
		queued++;
	}
	if (!queued) {
		io_free(io);
		return sts;
	}
	if (queued < n)
		io_fail(io, sts);
	io_put(io, 1 + n - queued);
	return TCMU_STS_OK;
}

static int submit(struct tcmu_device *dev, struct rbd_io *io)
{
	struct rbd_part p = { io->op, io->off, io->len };

	return submit_parts(dev, io, &p, 1);
}

/* ---- callouts: the ring thread; never wait for I/O (see the file top) -- */

static int tr_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		   size_t iov_cnt, size_t len, off_t off)
{
	struct rbd_io *io = new_io(dev, cmd, ROP_READ, iov, iov_cnt, len, (uint64_t)off);

	return io ? submit(dev, io) : TCMU_STS_NO_RESOURCE;
}

static int tr_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off)
{
	struct rbd_io *io = new_io(dev, cmd, ROP_WRITE, iov, iov_cnt, len, (uint64_t)off);

	return io ? submit(dev, io) : TCMU_STS_NO_RESOURCE;
}

static int tr_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct rbd_io *io = new_io(dev, cmd, ROP_FLUSH, NULL, 0, 0, 0);

	return io ? submit(dev, io) : TCMU_STS_NO_RESOURCE;
}

/*
 * UNMAP (and WRITE SAME with UNMAP), split at the discard granularity:
 * whole granules are discarded (librbd frees whole objects); a partial
 * granule at either end is zeroed instead, since librbd skips partial
 * discards and the LUN must read zeroes there.
 */
static int tr_unmap(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len)
{
	uint64_t gran = (uint64_t)tcmu_dev_get_opt_unmap_gran(dev) * tcmu_dev_get_block_size(dev);
	uint64_t end = off + len, a = off, b = end;
	struct rbd_part parts[3];
	struct rbd_io *io;
	int n = 0;

	if (gran > 1) {
		a = (off + gran - 1) / gran * gran;
		b = end / gran * gran;
	}
	if (a >= b) {
		parts[n++] = (struct rbd_part){ ROP_ZERO, off, (size_t)len };
	} else {
		if (a > off)
			parts[n++] = (struct rbd_part){ ROP_ZERO, off, (size_t)(a - off) };
		parts[n++] = (struct rbd_part){ ROP_DISCARD, a, (size_t)(b - a) };
		if (end > b)
			parts[n++] = (struct rbd_part){ ROP_ZERO, b, (size_t)(end - b) };
	}
	io = new_io(dev, cmd, ROP_DISCARD, NULL, 0, (size_t)len, off);
	return io ? submit_parts(dev, io, parts, n) : TCMU_STS_NO_RESOURCE;
}

static int tr_writesame(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
			struct iovec *iov, size_t iov_cnt)
{
	uint32_t bs = tcmu_dev_get_block_size(dev);
	struct rbd_io *io;

	if (!bs || len % bs)
		return TCMU_STS_INVALID_CDB;
	io = new_io(dev, cmd, ROP_WRITESAME, NULL, 0, (size_t)len, off);
	if (!io)
		return TCMU_STS_NO_RESOURCE;
	io->buf = flatten(iov, iov_cnt, 0, bs);
	if (!io->buf) {
		free(io);
		return TCMU_STS_NO_RESOURCE;
	}
	return submit(dev, io);
}

/* iov: the compare data then the write data, len bytes each. */
static int tr_caw(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
		  struct iovec *iov, size_t iov_cnt)
{
	struct rbd_io *io = new_io(dev, cmd, ROP_CAW, NULL, 0, (size_t)len, off);

	if (!io)
		return TCMU_STS_NO_RESOURCE;
	io->buf = flatten(iov, iov_cnt, 0, 2 * (size_t)len);
	if (!io->buf) {
		free(io);
		return TCMU_STS_NO_RESOURCE;
	}
	return submit(dev, io);
}

/* ---- size changes made by others (rbd resize) ---------------------------- */

/* librbd's watch thread: never block there (librbd calls would deadlock). */
static void header_changed(void *arg)
{
	struct rbd_dev *rd = arg;

	pthread_mutex_lock(&rd->size_lock);
	rd->size_kick = true;
	pthread_cond_signal(&rd->size_cond);
	pthread_mutex_unlock(&rd->size_lock);
}

/* The device's own thread: push a new image size to LIO (capacity UA). */
static void *size_thread(void *arg)
{
	struct rbd_dev *rd = arg;
	uint64_t size, lio;

	pthread_mutex_lock(&rd->size_lock);
	for (;;) {
		while (!rd->size_kick && !rd->size_stop)
			pthread_cond_wait(&rd->size_cond, &rd->size_lock);
		if (rd->size_stop)
			break;
		rd->size_kick = false;
		pthread_mutex_unlock(&rd->size_lock);
		lio = tcmu_dev_get_num_lbas(rd->dev) * rd->block_size;
		if (!rbd_get_size(rd->image, &size) && size != lio && size % rd->block_size == 0 &&
		    size != atomic_load(&rd->reconfig_size)) {
			tcmu_dev_info(rd->dev, "image %s/%s resized from %llu to %llu bytes\n",
				      rd->pool, rd->name, (unsigned long long)lio,
				      (unsigned long long)size);
			tcmur_dev_update_size(rd->dev, size);
		}
		pthread_mutex_lock(&rd->size_lock);
	}
	pthread_mutex_unlock(&rd->size_lock);
	return NULL;
}

static void watch_start(struct rbd_dev *rd)
{
	pthread_mutex_init(&rd->size_lock, NULL);
	pthread_cond_init(&rd->size_cond, NULL);
	if (pthread_create(&rd->size_thread, NULL, size_thread, rd)) {
		tcmu_dev_warn(rd->dev, "no size watch thread: image resizes go unnoticed\n");
		return;
	}
	rd->size_thread_on = true;
	if (rbd_update_watch(rd->image, &rd->watch_handle, header_changed, rd))
		tcmu_dev_warn(rd->dev, "cannot watch the image header: resizes go unnoticed\n");
	else
		rd->watching = true;
}

static void watch_stop(struct rbd_dev *rd)
{
	if (rd->watching)
		rbd_update_unwatch(rd->image, rd->watch_handle);
	rd->watching = false;
	if (!rd->size_thread_on)
		goto out;
	pthread_mutex_lock(&rd->size_lock);
	rd->size_stop = true;
	pthread_cond_signal(&rd->size_cond);
	pthread_mutex_unlock(&rd->size_lock);
	pthread_join(rd->size_thread, NULL);
	rd->size_thread_on = false;
out:
	pthread_cond_destroy(&rd->size_cond);
	pthread_mutex_destroy(&rd->size_lock);
}

/* ---- open / close / reconfig --------------------------------------------- */

/* VPD: unmap granularity, unmap and xcopy lengths from the object size. */
static void set_limits(struct rbd_dev *rd)
{
	struct tcmu_device *dev = rd->dev;
	uint64_t gran = rd->obj_size, four = 4 * rd->obj_size / rd->block_size;
	char buf[32];

	if (!rados_conf_get(rd->cluster, "rbd_discard_granularity_bytes", buf, sizeof(buf)) &&
	    strtoull(buf, NULL, 10) >= rd->block_size && strtoull(buf, NULL, 10) < gran)
		gran = strtoull(buf, NULL, 10);
	if (four > UINT32_MAX)
		four = UINT32_MAX;
	tcmu_dev_set_unmap_enabled(dev, true);
	tcmu_dev_set_opt_unmap_gran(dev, (uint32_t)(gran / rd->block_size), false);
	tcmu_dev_set_unmap_gran_align(dev, 0);
	tcmu_dev_set_max_unmap_len(dev, (uint32_t)four);
	tcmu_dev_set_opt_xcopy_rw_len(dev, (uint32_t)four);
	/* rbd_cache is off: a completed write is on the OSDs. */
	tcmu_dev_set_write_cache_enabled(dev, false);
	tcmu_dev_set_solid_state_media(dev, rbd_cluster_pool_solid_state(rd));
}

/* The image must be as large as the LUN (reopen: follow a resize done meanwhile). */
static int check_size(struct rbd_dev *rd, bool reopen)
{
	uint64_t size, lio = tcmu_dev_get_num_lbas(rd->dev) * rd->block_size;
	int ret = rbd_get_size(rd->image, &size);

	if (ret) {
		tcmu_dev_err(rd->dev, "cannot read the size of %s/%s: %s\n", rd->pool, rd->name,
			     strerror(-ret));
		return ret;
	}
	if (size == lio)
		return 0;
	if (reopen && size % rd->block_size == 0) {
		tcmu_dev_info(rd->dev, "image %s/%s resized from %llu to %llu bytes\n", rd->pool,
			      rd->name, (unsigned long long)lio, (unsigned long long)size);
		return tcmur_dev_update_size(rd->dev, size);
	}
	tcmu_dev_err(rd->dev,
		     "image %s/%s is %llu bytes but the LUN is %llu: they must match "
		     "(resize the image, then the LUN)\n",
		     rd->pool, rd->name, (unsigned long long)size, (unsigned long long)lio);
	return -EINVAL;
}

static int open_image(struct rbd_dev *rd)
{
	rbd_image_info_t info;
	int ret;

	ret = rbd_open(rd->io, rd->name, &rd->image, NULL);
	if (ret) {
		tcmu_dev_err(rd->dev, "cannot open image '%s' in pool '%s': %s\n", rd->name,
			     rd->pool, ret == -ENOENT ? "no such image" : strerror(-ret));
		rd->image = NULL;
		return ret;
	}
	ret = rbd_stat(rd->image, &info, sizeof(info));
	if (ret) {
		tcmu_dev_err(rd->dev, "cannot stat %s/%s: %s\n", rd->pool, rd->name,
			     strerror(-ret));
		return ret;
	}
	rd->obj_size = info.obj_size;
	if (rd->obj_size < rd->block_size)
		rd->obj_size = rd->block_size;
	return 0;
}

static void free_rd(struct rbd_dev *rd)
{
	free(rd->pool);
	free(rd->name);
	free(rd);
}

/* Setup thread, or the recovery thread when reopen; blocks, bounded (see rbd_priv.h). */
static int tr_open_dev(struct tcmu_device *dev, bool reopen)
{
	struct rbd_dev *rd;
	struct rbd_cfg cfg;
	char *reason = NULL, *old;
	int ret;

	ret = rbd_cfg_parse(tcmu_dev_get_cfgstring(dev), &cfg, &reason);
	if (ret) {
		tcmu_dev_err(dev, "%s\n", reason ? reason : "bad cfgstring");
		free(reason);
		return ret;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		ret = -ENOMEM;
		goto out_cfg;
	}
	rd->dev = dev;
	rd->block_size = tcmu_dev_get_block_size(dev);
	rd->track = rbd_track_get(dev, !reopen);
	rd->pool = cfg.pool;
	rd->name = cfg.image;
	cfg.pool = cfg.image = NULL;
	if (!rd->block_size) {
		tcmu_dev_err(dev, "the kernel gave no block size\n");
		ret = -EINVAL;
		goto err_free;
	}
	ret = rbd_cluster_connect(rd, &cfg);
	if (ret)
		goto err_free;
	/* If we were blocklisted: our old lock goes first, then the entry. */
	old = rbd_track_take_addr(rd->track);
	ret = open_image(rd);
	if (old) {
		if (!ret)
			rbd_lock_drop_stale(rd, old);
		rbd_cluster_unblocklist(rd, old);
		free(old);
	}
	if (ret)
		goto err_close;
	ret = check_size(rd, reopen);
	if (ret)
		goto err_close;
	set_limits(rd);
	tcmur_dev_set_private(dev, rd);
	watch_start(rd);
	rbd_cluster_register(rd);
	old = rbd_cluster_addr(rd);
	tcmu_dev_info(dev, "%s image %s/%s (client address %s)\n", reopen ? "reopened" : "opened",
		      rd->pool, rd->name, old ? old : "unknown");
	free(old);
	goto out_cfg;

err_close:
	if (rd->image)
		rbd_close(rd->image);
	rbd_cluster_shutdown(rd);
err_free:
	free_rd(rd);
out_cfg:
	rbd_cfg_free(&cfg);
	return ret;
}

/* The removing or recovery thread, after every command completed; may block. */
static void tr_close_dev(struct tcmu_device *dev)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	char *addr;
	int ret;

	if (!rd)
		return;
	watch_stop(rd);
	/* Kept for the next open: if we were blocklisted, it unblocks it. */
	addr = rbd_cluster_addr(rd);
	rbd_track_set_addr(rd->track, addr);
	free(addr);
	ret = rbd_close(rd->image);
	if (ret)
		tcmu_dev_warn(dev, "close of %s/%s: %s\n", rd->pool, rd->name, strerror(-ret));
	rbd_cluster_shutdown(rd);
	tcmur_dev_set_private(dev, NULL);
	free_rd(rd);
}

/*
 * Main thread; blocks on the cluster.  A larger LUN grows the image; a
 * smaller one is taken only once the image was shrunk to match (shrinking
 * drops data: that is the administrator's rbd resize --allow-shrink).
 */
static int tr_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	uint64_t size;
	int ret;

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		if (!rd)
			return -EBUSY;
		ret = rbd_get_size(rd->image, &size);
		if (ret || size == cfg->data.dev_size)
			return ret;
		if (size > cfg->data.dev_size) {
			tcmu_dev_err(dev,
				     "LUN size %llu is below the image's %llu bytes: shrink the "
				     "image first\n",
				     (unsigned long long)cfg->data.dev_size,
				     (unsigned long long)size);
			return -EINVAL;
		}
		atomic_store(&rd->reconfig_size, cfg->data.dev_size);
		ret = rbd_resize(rd->image, cfg->data.dev_size);
		if (ret)
			tcmu_dev_err(dev, "cannot grow %s/%s to %llu bytes: %s\n", rd->pool,
				     rd->name, (unsigned long long)cfg->data.dev_size,
				     strerror(-ret));
		else
			tcmu_dev_info(dev, "grew image %s/%s from %llu to %llu bytes\n", rd->pool,
				      rd->name, (unsigned long long)size,
				      (unsigned long long)cfg->data.dev_size);
		return ret;
	case TCMULIB_CFG_WRITE_CACHE:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static struct tcmur_handler rbd_handler = {
	.name = "Ceph rbd handler",
	.subtype = "rbd",
	.cfg_desc = "rbd/<pool>/<image>[;osd_op_timeout=N][;conf=<path>][;id=<client>]: "
		    "a Ceph RBD image",
	.check_config = tr_check_config,
	.reconfig = tr_reconfig,
	.open = tr_open_dev,
	.close = tr_close_dev,
	.read = tr_read,
	.write = tr_write,
	.flush = tr_flush,
	.unmap = tr_unmap,
	.writesame = tr_writesame,
	.caw = tr_caw,
	.lock = tr_lock,
	.unlock = tr_unlock,
	.get_lock_state = tr_get_lock_state,
	.get_lock_tag = tr_get_lock_tag,
	.nr_threads = 0,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&rbd_handler);
}
