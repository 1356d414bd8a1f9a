// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Discard (UNMAP, WRITE SAME with UNMAP) and allocation status of a qcow2 image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow_priv.h"

struct freelist {
	uint64_t *e;
	size_t n, cap;
};

static int remember(struct freelist *f, uint64_t entry)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		uint64_t *e = realloc(f->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		f->e = e;
		f->cap = cap;
	}
	f->e[f->n++] = entry;
	return 0;
}

/*
 * Whole clusters [first, last): entries become "reads as zero" (0 without a
 * backing file, the v3 zero flag with one); the old clusters are released
 * once the new entries are synced.  v2 over a backing file cannot say zero:
 * those clusters stay (UNMAP is advisory) unless zero is asked, then -ENOTSUP.
 */
static int drop_clusters(struct qimg *img, uint64_t first, uint64_t last, bool zero)
{
	bool backing = img->backing != NULL;
	struct freelist fl = { 0 };
	uint64_t cl, *l2;
	int ret = 0;
	size_t i;

	/* v1 has no refcounts to free clusters with: zeroes are written. */
	if (img->version == 1 || (backing && img->version < 3))
		return zero ? -ENOTSUP : 0;
	for (cl = first; cl < last && !ret; cl++) {
		uint32_t l1i = (uint32_t)(cl >> img->l2_bits);
		uint32_t l2i = (uint32_t)(cl & ((1ull << img->l2_bits) - 1));
		uint64_t e, ne = backing ? QCOW_OFLAG_ZERO : 0;

		ret = qmeta_l2_get(img, l1i, &l2);
		if (ret)
			break;
		e = l2 ? l2[l2i] : 0;
		if (e == ne)
			continue;
		if (!l2 && !backing)
			continue;
		ret = qmeta_l2_writable(img, l1i, &l2);
		if (!ret)
			ret = qmeta_l2_set(img, l1i, l2i, ne);
		if (!ret && ((e & QCOW_OFLAG_COMPRESSED) || (e & QCOW_OFFSET_MASK)))
			ret = remember(&fl, e);
	}
	if (fl.n) {
		int r = qio_sync(img->fd);

		for (i = 0; i < fl.n && !r; i++)
			r = qmeta_free_entry(img, fl.e[i]);
		if (!ret)
			ret = r;
	}
	free(fl.e);
	return ret;
}

static int zero_part(struct qimg *img, uint64_t off, uint64_t len)
{
	size_t chunk = len < (1u << 20) ? (size_t)len : (1u << 20);
	uint8_t *z;
	int ret = 0;

	if (!len)
		return 0;
	z = calloc(1, chunk);
	if (!z)
		return -ENOMEM;
	while (len && !ret) {
		size_t n = len < chunk ? (size_t)len : chunk;

		ret = qimg_write(img, z, n, off);
		off += n;
		len -= n;
	}
	free(z);
	return ret;
}

int qimg_discard(struct qimg *img, uint64_t off, uint64_t len, bool zero)
{
	uint64_t cs = img->cluster_size, first, last, end = off + len;
	int ret;

	if (img->read_only)
		return -EROFS;
	if (off > img->size || len > img->size - off)
		return -EINVAL;
	if (img->raw) {
		if (!zero) {
			qio_punch(img->fd, off, len);
			return 0;
		}
		return zero_part(img, off, len);
	}
	first = (off + cs - 1) / cs;
	last = end == img->size ? (end + cs - 1) / cs : end / cs;
	if (first >= last) {
		return zero ? zero_part(img, off, len) : 0;
	}
	pthread_rwlock_wrlock(&img->io_lock);
	qmeta_fast_block(img);
	pthread_mutex_lock(&img->meta);
	ret = drop_clusters(img, first, last, zero);
	pthread_mutex_unlock(&img->meta);
	qmeta_fast_unblock(img);
	pthread_rwlock_unlock(&img->io_lock);
	if (ret == -ENOTSUP)
		return zero_part(img, off, len);
	if (!ret && zero)
		ret = zero_part(img, off, first * cs - off);
	if (!ret && zero && last * cs < end)
		ret = zero_part(img, last * cs, end - last * cs);
	return ret;
}

int qimg_status(struct qimg *img, uint64_t off, uint64_t *len, bool *allocated)
{
	uint64_t cs = img->cluster_size, cl = off / cs, n = 0, *l2;
	int ret = 0;
	bool first_alloc = false;

	if (off >= img->size)
		return -EINVAL;
	if (img->raw) {
		*allocated = true;
		*len = img->size - off;
		return 0;
	}
	pthread_mutex_lock(&img->meta);
	for (; cl * cs < img->size && n < 4096; cl++, n++) {
		uint32_t l1i = (uint32_t)(cl >> img->l2_bits);
		uint64_t e;
		bool a;

		ret = qmeta_l2_get(img, l1i, &l2);
		if (ret)
			break;
		e = l2 ? l2[cl & ((1ull << img->l2_bits) - 1)] : 0;
		/* Data from the backing file counts as mapped: it does not read as zero. */
		if (img->version >= 3 && (e & QCOW_OFLAG_ZERO) && !(e & img->oflag_compressed))
			a = false;
		else if (e & (img->oflag_compressed | QCOW_OFFSET_MASK))
			a = true;
		else
			a = img->backing && cl * cs < img->backing->size;
		if (!n)
			first_alloc = a;
		else if (a != first_alloc)
			break;
	}
	pthread_mutex_unlock(&img->meta);
	if (ret)
		return ret;
	*allocated = first_alloc;
	*len = (cl * cs < img->size ? cl * cs : img->size) - off;
	return 0;
}
