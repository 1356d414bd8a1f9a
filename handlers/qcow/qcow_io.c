// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Guest I/O on a qcow2 image, cluster by cluster.  Reads and overwrites of
 * clusters this image owns (COPIED) move data outside the metadata mutex, so
 * they run in parallel.  First writes (allocation, copy-up from the backing
 * file, copy-on-write of snapshot or compressed clusters) pick the new
 * cluster and set the L2 entry under it, and move the data between the two
 * without it, the guest cluster marked pending meanwhile.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow_priv.h"

enum ckind { C_UNALLOC, C_ZERO, C_NORMAL, C_COMPRESSED };

static enum ckind classify(const struct qimg *img, uint64_t e)
{
	if (e & img->oflag_compressed)
		return C_COMPRESSED;
	if (img->version >= 3 && (e & QCOW_OFLAG_ZERO))
		return C_ZERO;
	return (e & QCOW_OFFSET_MASK) ? C_NORMAL : C_UNALLOC;
}

/* The L2 entry of virtual offset off (0 when unmapped); meta held. */
static int lookup(struct qimg *img, uint64_t off, uint64_t *entry)
{
	uint64_t cl = off >> img->cluster_bits, *l2;
	uint32_t l1i = (uint32_t)(cl >> img->l2_bits);
	int ret = qmeta_l2_get(img, l1i, &l2);

	*entry = ret || !l2 ? 0 : l2[cl & ((1ull << img->l2_bits) - 1)];
	return ret;
}

static int read_backing(struct qimg *img, uint8_t *buf, size_t len, uint64_t off)
{
	struct qimg *b = img->backing;
	size_t n;

	if (!b || off >= b->size) {
		memset(buf, 0, len);
		return 0;
	}
	n = b->size - off < len ? (size_t)(b->size - off) : len;
	memset(buf + n, 0, len - n);
	return qimg_read(b, buf, n, off);
}

/* Read part of one cluster, given its entry (no lock needed for the data). */
static int read_part(struct qimg *img, uint64_t e, uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t in = off & (img->cluster_size - 1), host;
	uint8_t *c;
	int ret;

	switch (classify(img, e)) {
	case C_ZERO:
		memset(buf, 0, len);
		return 0;
	case C_UNALLOC:
		return read_backing(img, buf, len, off);
	case C_COMPRESSED:
		c = malloc(img->cluster_size);
		if (!c)
			return -ENOMEM;
		ret = qdata_read_compressed(img, e, c);
		if (!ret)
			memcpy(buf, c + in, len);
		free(c);
		return ret;
	default:
		host = e & QCOW_OFFSET_MASK;
		if (!qmeta_valid_host(img, host, img->cluster_size))
			return -EIO;
		return qio_pread(img->fd, buf, len, host + in);
	}
}

static bool in_range(const struct qimg *img, size_t len, uint64_t off)
{
	return off <= img->size && len <= img->size - off;
}

/* A position in an iovec array. */
struct iovpos {
	const struct iovec *iov;
	size_t cnt, i, skip;
};

/*
 * The next len bytes at p as entries of out (room for p->cnt of them), or
 * just skipped when out is NULL; advances p.
 */
static size_t iov_take(struct iovpos *p, size_t len, struct iovec *out)
{
	size_t n = 0;

	while (len && p->i < p->cnt) {
		size_t avail = p->iov[p->i].iov_len - p->skip, take = avail < len ? avail : len;

		if (take && out) {
			out[n].iov_base = (uint8_t *)p->iov[p->i].iov_base + p->skip;
			out[n++].iov_len = take;
		}
		len -= take;
		p->skip += take;
		if (p->skip == p->iov[p->i].iov_len) {
			p->i++;
			p->skip = 0;
		}
	}
	return n;
}

/* Copy between a flat buffer and the next len bytes at p (to_iov: buf -> iovec). */
static void iov_copy(struct iovpos *p, uint8_t *buf, size_t len, struct iovec *tmp, bool to_iov)
{
	size_t n = iov_take(p, len, tmp), i;

	for (i = 0; i < n; i++) {
		if (to_iov)
			memcpy(tmp[i].iov_base, buf, tmp[i].iov_len);
		else
			memcpy(buf, tmp[i].iov_base, tmp[i].iov_len);
		buf += tmp[i].iov_len;
	}
}

/*
 * One guest I/O: clusters whose data sits next to each other in the file
 * are collected into a run and moved with one preadv/pwritev.
 */
struct xfer {
	struct qimg *img;
	struct iovpos pos, run_pos; /* where the next cluster's bytes, and the run's, start */
	uint64_t run_host;	    /* file offset of the run, and its length */
	size_t run_len;
	struct iovec *tmp; /* room for pos.cnt entries */
	uint8_t *bounce;   /* one cluster, for anything that is not a plain run */
	struct iovec stack[32];
};

static int xfer_init(struct xfer *x, struct qimg *img, const struct iovec *iov, size_t cnt)
{
	memset(x, 0, offsetof(struct xfer, stack));
	x->img = img;
	x->pos.iov = iov;
	x->pos.cnt = cnt;
	x->tmp = cnt <= 32 ? x->stack : malloc(cnt * sizeof(*x->tmp));
	return x->tmp ? 0 : -ENOMEM;
}

static void xfer_done(struct xfer *x)
{
	if (x->tmp != x->stack)
		free(x->tmp);
	free(x->bounce);
}

static uint8_t *xfer_bounce(struct xfer *x)
{
	if (!x->bounce)
		x->bounce = malloc(x->img->cluster_size);
	return x->bounce;
}

static int run_flush(struct xfer *x, bool write)
{
	size_t n;
	int ret;

	if (!x->run_len)
		return 0;
	n = iov_take(&x->run_pos, x->run_len, x->tmp);
	ret = write ? qio_pwritev(x->img->fd, x->tmp, n, x->run_host)
		    : qio_preadv(x->img->fd, x->tmp, n, x->run_host);
	x->run_len = 0;
	return ret;
}

/* The next len bytes of the I/O go to or come from host offset host. */
static int run_add(struct xfer *x, uint64_t host, size_t len, bool write)
{
	int ret = 0;

	if (!x->run_len || x->run_host + x->run_len != host) {
		ret = run_flush(x, write);
		x->run_pos = x->pos;
		x->run_host = host;
	}
	x->run_len += len;
	iov_take(&x->pos, len, NULL);
	return ret;
}

int qimg_readv(struct qimg *img, const struct iovec *iov, size_t cnt, size_t len, uint64_t off)
{
	struct xfer x;
	int ret;

	if (!in_range(img, len, off))
		return -EINVAL;
	ret = xfer_init(&x, img, iov, cnt);
	if (ret)
		return ret;
	if (img->raw) {
		ret = run_add(&x, off, len, false);
		ret = ret ? ret : run_flush(&x, false);
		xfer_done(&x);
		return ret;
	}
	pthread_rwlock_rdlock(&img->io_lock);
	while (len && !ret) {
		size_t n = img->cluster_size - (off & (img->cluster_size - 1));
		uint64_t e, host;

		if (n > len)
			n = len;
		pthread_mutex_lock(&img->meta);
		ret = lookup(img, off, &e);
		pthread_mutex_unlock(&img->meta);
		if (ret)
			break;
		host = e & QCOW_OFFSET_MASK;
		if (classify(img, e) == C_NORMAL) {
			if (!qmeta_valid_host(img, host, img->cluster_size))
				ret = -EIO;
			else
				ret = run_add(&x, host + (off & (img->cluster_size - 1)), n, false);
		} else {
			uint8_t *b = xfer_bounce(&x);

			ret = run_flush(&x, false);
			if (!ret)
				ret = b ? read_part(img, e, b, n, off) : -ENOMEM;
			if (!ret)
				iov_copy(&x.pos, b, n, x.tmp, true);
		}
		off += n;
		len -= n;
	}
	if (!ret)
		ret = run_flush(&x, false);
	pthread_rwlock_unlock(&img->io_lock);
	xfer_done(&x);
	return ret;
}

int qimg_read(struct qimg *img, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };

	return qimg_readv(img, &v, 1, len, off);
}

/* ---- first writes --------------------------------------------------------- */

/*
 * A first write marks its guest cluster pending while it moves data without
 * the mutex; any other write to that cluster waits for it (first_done), then
 * finds the cluster allocated.  Reads meanwhile see the old contents.
 */
static bool pending_has(const struct qimg *img, uint64_t cl)
{
	for (uint32_t i = 0; i < img->pending_n; i++)
		if (img->pending[i] == cl)
			return true;
	return false;
}

static int pending_add(struct qimg *img, uint64_t cl)
{
	if (img->pending_n == img->pending_cap) {
		uint32_t cap = img->pending_cap ? 2 * img->pending_cap : 16;
		uint64_t *p = realloc(img->pending, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		img->pending = p;
		img->pending_cap = cap;
	}
	img->pending[img->pending_n++] = cl;
	return 0;
}

static void pending_del(struct qimg *img, uint64_t cl)
{
	for (uint32_t i = 0; i < img->pending_n; i++)
		if (img->pending[i] == cl) {
			img->pending[i] = img->pending[--img->pending_n];
			break;
		}
	pthread_cond_broadcast(&img->first_done);
}

/*
 * The new contents of a cluster at host: its old contents (entry e) with
 * len bytes of buf at off.  Runs without the mutex: the cluster is pending,
 * and nothing frees the old one meanwhile (a discard waits on io_lock).
 * Made durable (the cluster's range) unless fresh.
 */
static int first_data(struct qimg *img, uint64_t e, uint64_t host, bool fresh, bool virgin,
		      const uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t cs = img->cluster_size, start = off & ~(cs - 1);
	uint8_t *c;
	int ret = 0;

	if (fresh && virgin) {
		/*
		 * All zeroes already: only the data.  qcow2's reserve extended the
		 * file over the cluster already; version 1 writes the cluster's
		 * last sector so that the file covers it.
		 */
		uint64_t in = off - start, z = in + len > cs - 512 ? in + len : cs - 512;
		static const uint8_t zero[512];

		ret = qio_pwrite(img->fd, buf, len, host + in);
		if (!ret && z < cs && img->version == 1)
			ret = qio_pwrite(img->fd, zero, (size_t)(cs - z), host + z);
		return ret;
	}
	c = malloc(cs);
	if (!c)
		return -ENOMEM;
	if (len == cs)
		ret = 0;
	else if (fresh)
		memset(c, 0, cs);
	else
		ret = read_part(img, e, c,
				(size_t)(start + cs <= img->size ? cs : img->size - start), start);
	if (!ret) {
		if (start + cs > img->size)
			memset(c + (img->size - start), 0, (size_t)(start + cs - img->size));
		memcpy(c + (off - start), buf, len);
		ret = qio_pwrite(img->fd, c, cs, host);
	}
	if (!ret && !fresh)
		ret = qio_sync_range(img->fd, host, cs);
	free(c);
	return ret;
}

/*
 * First write to a cluster (meta held, the cluster not pending; the mutex is
 * released while the data moves): build the whole new cluster from its old
 * contents and the new bytes, write it to a cluster this image owns, then
 * point the L2 entry to it and release the old one.
 */
static int write_slow(struct qimg *img, const uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t cs = img->cluster_size, start = off & ~(cs - 1), cl = off >> img->cluster_bits;
	uint32_t l1i = (uint32_t)(cl >> img->l2_bits);
	uint32_t l2i = (uint32_t)(cl & ((1ull << img->l2_bits) - 1));
	uint64_t e, host, *l2;
	enum ckind k;
	bool in_place, moved, fresh, refill, virgin = false;
	int ret, synced = 0;

	ret = qmeta_l2_writable(img, l1i, &l2);
	if (ret)
		return ret;
	e = l2[l2i];
	k = classify(img, e);
	/* A preallocated zero cluster of ours is reused; anything shared is copied. */
	in_place = k == C_ZERO && (e & QCOW_OFLAG_COPIED) && (e & QCOW_OFFSET_MASK);
	/*
	 * The new contents are made durable before the entry points to them
	 * when they carry old data (copy-up, copy-on-write, a preallocated
	 * cluster reused).  A cluster that read as zeroes before needs no sync:
	 * a power loss can only lose the unflushed write, and the new cluster
	 * comes from the reserve, whose refcounts are on disk already.
	 */
	fresh = !in_place &&
		(k == C_ZERO || (k == C_UNALLOC && (!img->backing || start >= img->backing->size)));
	if (in_place) {
		host = e & QCOW_OFFSET_MASK;
		if (!qmeta_valid_host(img, host, cs))
			return -EIO;
	} else {
		ret = qmeta_alloc(img, &host, &virgin);
		if (ret)
			return ret;
	}
	ret = pending_add(img, cl);
	if (ret)
		goto undo;
	refill = qmeta_refill_begin(img);
	pthread_mutex_unlock(&img->meta);
	ret = first_data(img, e, host, fresh, virgin, buf, len, off);
	if (refill)
		synced = qmeta_refill_sync(img);
	pthread_mutex_lock(&img->meta);
	if (refill)
		qmeta_refill_end(img, synced);
	if (!ret)
		ret = qmeta_l2_set(img, l1i, l2i, host | img->oflag_copied);
	pending_del(img, cl);
	if (ret)
		goto undo;
	moved = !in_place && (k == C_COMPRESSED || (e & QCOW_OFFSET_MASK));
	if (moved) {
		/* The new entry on disk before the old clusters lose a reference. */
		ret = qio_sync_range(img->fd, qmeta_l2_entry_off(img, l1i, l2i), 8);
		if (!ret)
			ret = qmeta_free_entry(img, e);
	}
	return ret;
undo:
	if (!in_place && img->version > 1)
		qmeta_refcount_add(img, host / cs, -1);
	return ret;
}

int qimg_writev(struct qimg *img, const struct iovec *iov, size_t cnt, size_t len, uint64_t off)
{
	struct xfer x;
	int ret;

	if (img->read_only)
		return -EROFS;
	if (!in_range(img, len, off))
		return -EINVAL;
	ret = xfer_init(&x, img, iov, cnt);
	if (ret)
		return ret;
	if (img->raw) {
		ret = run_add(&x, off, len, true);
		ret = ret ? ret : run_flush(&x, true);
		xfer_done(&x);
		return ret;
	}
	pthread_rwlock_rdlock(&img->io_lock);
	while (len && !ret) {
		size_t n = img->cluster_size - (off & (img->cluster_size - 1));
		uint64_t e, host;

		if (n > len)
			n = len;
		pthread_mutex_lock(&img->meta);
		ret = lookup(img, off, &e);
		if (!ret && classify(img, e) == C_NORMAL && qimg_owned(img, e)) {
			/* Ours alone: the data moves without the mutex. */
			pthread_mutex_unlock(&img->meta);
			host = e & QCOW_OFFSET_MASK;
			if (!qmeta_valid_host(img, host, img->cluster_size))
				ret = -EIO;
			else
				ret = run_add(&x, host + (off & (img->cluster_size - 1)), n, true);
		} else if (!ret && pending_has(img, off >> img->cluster_bits)) {
			/* Another first write to this cluster: wait, then look again. */
			pthread_cond_wait(&img->first_done, &img->meta);
			pthread_mutex_unlock(&img->meta);
			continue;
		} else if (!ret) {
			uint8_t *b = xfer_bounce(&x);

			/* A run holds bytes that follow each other in the I/O too. */
			ret = b ? run_flush(&x, true) : -ENOMEM;
			if (!ret) {
				iov_copy(&x.pos, b, n, x.tmp, false);
				ret = write_slow(img, b, n, off);
			}
			pthread_mutex_unlock(&img->meta);
		} else {
			pthread_mutex_unlock(&img->meta);
		}
		off += n;
		len -= n;
	}
	if (!ret)
		ret = run_flush(&x, true);
	pthread_rwlock_unlock(&img->io_lock);
	xfer_done(&x);
	return ret;
}

int qimg_write(struct qimg *img, const void *buf, size_t len, uint64_t off)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };

	return qimg_writev(img, &v, 1, len, off);
}

/* ---- the fast path: data moved by the caller (io_uring) ------------------ */

static bool fast_enter(struct qimg *img)
{
	if (__atomic_load_n(&img->fast_block, __ATOMIC_SEQ_CST))
		return false;
	__atomic_add_fetch(&img->fast_io, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&img->fast_block, __ATOMIC_SEQ_CST))
		return true;
	__atomic_sub_fetch(&img->fast_io, 1, __ATOMIC_SEQ_CST);
	return false;
}

void qimg_fast_done(struct qimg *img)
{
	__atomic_sub_fetch(&img->fast_io, 1, __ATOMIC_SEQ_CST);
}

void qmeta_fast_block(struct qimg *img)
{
	__atomic_add_fetch(&img->fast_block, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&img->fast_io, __ATOMIC_SEQ_CST))
		usleep(50);
}

void qmeta_fast_unblock(struct qimg *img)
{
	__atomic_sub_fetch(&img->fast_block, 1, __ATOMIC_SEQ_CST);
}

static void ext_add(struct qimg_ext *ext, size_t *n, struct iovec *vbuf, size_t *used,
		    struct iovpos *at, uint64_t host, size_t len)
{
	ext[*n].host = host;
	ext[*n].len = len;
	ext[*n].iov = vbuf + *used;
	ext[*n].cnt = iov_take(at, len, vbuf + *used);
	*used += ext[*n].cnt;
	(*n)++;
}

int qimg_fast_map(struct qimg *img, const struct iovec *iov, size_t cnt, size_t len, uint64_t off,
		  bool write, struct qimg_ext *ext, size_t max, struct iovec *vbuf, size_t *n)
{
	struct iovpos pos = { .iov = iov, .cnt = cnt }, run_pos = pos;
	uint64_t cs = img->cluster_size, run_host = 0;
	size_t run_len = 0, used = 0;

	*n = 0;
	if (!in_range(img, len, off) || !max || (write && img->read_only) || !fast_enter(img))
		return -EAGAIN;
	if (img->raw) {
		ext_add(ext, n, vbuf, &used, &pos, off, len);
		return 0;
	}
	if (pthread_mutex_trylock(&img->meta))
		goto busy;
	while (len) {
		size_t piece = cs - (off & (cs - 1));
		uint64_t cl = off >> img->cluster_bits, e, host, *l2;

		if (piece > len)
			piece = len;
		l2 = img->l2c[cl >> img->l2_bits];
		if (!l2)
			goto unlock;
		e = l2[cl & ((1ull << img->l2_bits) - 1)];
		host = e & QCOW_OFFSET_MASK;
		/* Only plain clusters of our own: nothing can free them meanwhile. */
		if (classify(img, e) != C_NORMAL || !qimg_owned(img, e) ||
		    !qmeta_valid_host(img, host, cs))
			goto unlock;
		host += off & (cs - 1);
		if (!run_len || run_host + run_len != host) {
			if (run_len) {
				if (*n + 1 == max)
					goto unlock;
				ext_add(ext, n, vbuf, &used, &run_pos, run_host, run_len);
			}
			run_pos = pos;
			run_host = host;
			run_len = 0;
		}
		run_len += piece;
		iov_take(&pos, piece, NULL);
		off += piece;
		len -= piece;
	}
	pthread_mutex_unlock(&img->meta);
	if (run_len)
		ext_add(ext, n, vbuf, &used, &run_pos, run_host, run_len);
	return 0;
unlock:
	pthread_mutex_unlock(&img->meta);
busy:
	*n = 0;
	qimg_fast_done(img);
	return -EAGAIN;
}

int qimg_flush(struct qimg *img)
{
	return img->read_only ? 0 : qio_sync(img->fd);
}
