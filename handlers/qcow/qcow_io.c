// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Guest I/O on a qcow2 image, cluster by cluster.  Reads and overwrites of
 * clusters this image owns (COPIED) move data outside the metadata mutex, so
 * they run in parallel; first writes (allocation, copy-up from the backing
 * file, copy-on-write of snapshot or compressed clusters) run under it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int qimg_read(struct qimg *img, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	int ret = 0;

	if (!in_range(img, len, off))
		return -EINVAL;
	if (img->raw)
		return qio_pread(img->fd, buf, len, off);
	pthread_rwlock_rdlock(&img->io_lock);
	while (len && !ret) {
		size_t n = img->cluster_size - (off & (img->cluster_size - 1));
		uint64_t e;

		if (n > len)
			n = len;
		pthread_mutex_lock(&img->meta);
		ret = lookup(img, off, &e);
		pthread_mutex_unlock(&img->meta);
		if (!ret)
			ret = read_part(img, e, p, n, off);
		p += n;
		off += n;
		len -= n;
	}
	pthread_rwlock_unlock(&img->io_lock);
	return ret;
}

/*
 * First write to a cluster (meta held): build the whole new cluster from its
 * old contents and the new bytes, write it to a cluster this image owns,
 * then point the L2 entry to it and release the old one.
 */
static int write_slow(struct qimg *img, const uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t cs = img->cluster_size, start = off & ~(cs - 1), cl = off >> img->cluster_bits;
	uint32_t l1i = (uint32_t)(cl >> img->l2_bits);
	uint32_t l2i = (uint32_t)(cl & ((1ull << img->l2_bits) - 1));
	uint64_t e, host, *l2;
	enum ckind k;
	uint8_t *c;
	bool in_place, moved;
	int ret;

	ret = qmeta_l2_writable(img, l1i, &l2);
	if (ret)
		return ret;
	e = l2[l2i];
	k = classify(img, e);
	c = malloc(cs);
	if (!c)
		return -ENOMEM;
	if (len == cs)
		ret = 0;
	else if (k == C_ZERO)
		memset(c, 0, cs);
	else
		ret = read_part(img, e, c,
				(size_t)(start + cs <= img->size ? cs : img->size - start), start);
	if (ret)
		goto out;
	if (start + cs > img->size)
		memset(c + (img->size - start), 0, (size_t)(start + cs - img->size));
	memcpy(c + (off - start), buf, len);

	/* A preallocated zero cluster of ours is reused; anything shared is copied. */
	in_place = k == C_ZERO && (e & QCOW_OFLAG_COPIED) && (e & QCOW_OFFSET_MASK);
	if (in_place) {
		host = e & QCOW_OFFSET_MASK;
		if (!qmeta_valid_host(img, host, cs)) {
			ret = -EIO;
			goto out;
		}
	} else {
		ret = qmeta_alloc(img, &host);
		if (ret)
			goto out;
	}
	ret = qio_pwrite(img->fd, c, cs, host);
	if (!ret)
		ret = qio_sync(img->fd);
	if (!ret)
		ret = qmeta_l2_set(img, l1i, l2i, host | img->oflag_copied);
	if (ret) {
		if (!in_place && img->version > 1)
			qmeta_refcount_add(img, host / cs, -1);
		goto out;
	}
	moved = !in_place && (k == C_COMPRESSED || (e & QCOW_OFFSET_MASK));
	if (moved) {
		ret = qio_sync(img->fd);
		if (!ret)
			ret = qmeta_free_entry(img, e);
	}
out:
	free(c);
	return ret;
}

int qimg_write(struct qimg *img, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	int ret = 0;

	if (img->read_only)
		return -EROFS;
	if (!in_range(img, len, off))
		return -EINVAL;
	if (img->raw)
		return qio_pwrite(img->fd, buf, len, off);
	pthread_rwlock_rdlock(&img->io_lock);
	while (len && !ret) {
		size_t n = img->cluster_size - (off & (img->cluster_size - 1));
		uint64_t e;

		if (n > len)
			n = len;
		pthread_mutex_lock(&img->meta);
		ret = lookup(img, off, &e);
		if (!ret && classify(img, e) == C_NORMAL && qimg_owned(img, e)) {
			uint64_t host = e & QCOW_OFFSET_MASK;

			pthread_mutex_unlock(&img->meta);
			if (!qmeta_valid_host(img, host, img->cluster_size))
				ret = -EIO;
			else
				ret = qio_pwrite(img->fd, p, n,
						 host + (off & (img->cluster_size - 1)));
		} else {
			if (!ret)
				ret = write_slow(img, p, n, off);
			pthread_mutex_unlock(&img->meta);
		}
		p += n;
		off += n;
		len -= n;
	}
	pthread_rwlock_unlock(&img->io_lock);
	return ret;
}

int qimg_flush(struct qimg *img)
{
	return img->read_only ? 0 : qio_sync(img->fd);
}
