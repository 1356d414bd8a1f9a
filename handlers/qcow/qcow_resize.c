// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Growing the virtual size of an image (a LUN resize).  qcow2: the L1 table
 * grows in place when its last cluster has room, else a bigger copy is
 * written to new clusters and the header is switched to it.  Raw files are
 * extended.  Shrinking, and qcow v1 images, are refused with a reason.
 *
 * Crash ordering: the new L1 table is written and synced before the header
 * names it; the header (size, L1 size and L1 offset: 24 bytes in one sector)
 * is synced before the old table's clusters are freed.  A crash at any point
 * leaves the old or the new image, at worst with leaked clusters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow_priv.h"

/* Size, crypt method, L1 size and L1 offset: header bytes 24..47. */
static int header_set(struct qimg *img, uint64_t size, uint32_t l1_size, uint64_t l1_off)
{
	uint8_t h[QH_L1_OFFSET + 8 - QH_SIZE];
	int ret;

	be64_put(h, size);
	be32_put(h + QH_CRYPT - QH_SIZE, 0); /* encrypted images are refused at open */
	be32_put(h + QH_L1_SIZE - QH_SIZE, l1_size);
	be64_put(h + QH_L1_OFFSET - QH_SIZE, l1_off);
	ret = qio_pwrite(img->fd, h, sizeof(h), QH_SIZE);
	return ret ? ret : qio_sync(img->fd);
}

/*
 * n free clusters in a row, with refcount 1, after the end of the file.
 * qmeta_alloc_now() hands out clusters in increasing order from free_hint; a
 * run is broken only where a new refcount block (or table) is placed, so
 * at most a few clusters are given back.  A run can never be longer than
 * one refcount block covers.
 */
static int alloc_run(struct qimg *img, uint64_t n, uint64_t *first)
{
	uint64_t cs = img->cluster_size, hint = img->free_hint, start = 0, run = 0, tries, host;
	int ret = 0;

	if (n + 1 >= img->rb_entries)
		return -EFBIG;
	img->free_hint = (img->file_end + cs - 1) / cs;
	for (tries = 0; run < n && tries < n + 4 * img->rb_entries; tries++) {
		uint64_t c;

		ret = qmeta_alloc_now(img, &host);
		if (ret)
			break;
		c = host / cs;
		if (run && c == start + run) {
			run++;
			continue;
		}
		/* Not next to the run: the run so far goes back. */
		for (; run && !ret; run--)
			ret = qmeta_refcount_add(img, start + run - 1, -1);
		start = c;
		run = 1;
		img->free_hint = c + 1;
		if (ret)
			break;
	}
	if (!ret && run < n)
		ret = -EFBIG;
	if (ret)
		for (; run; run--)
			qmeta_refcount_add(img, start + run - 1, -1);
	img->free_hint = hint;
	*first = start * cs;
	return ret;
}

/* A table of n entries (host order) padded with zeroes to whole clusters. */
static int l1_write_padded(struct qimg *img, const uint64_t *l1, uint32_t n, uint64_t off)
{
	uint64_t cs = img->cluster_size, total = ((uint64_t)n * 8 + cs - 1) / cs * cs / 8;
	uint64_t *t = calloc(total, 8);
	int ret;

	if (!t)
		return -ENOMEM;
	memcpy(t, l1, (size_t)n * 8);
	ret = qmeta_write_table(img, t, total, off);
	free(t);
	return ret;
}

/* Meta and io_lock (exclusive) held: L1 table of need entries, header for size. */
static int l1_grow(struct qimg *img, uint32_t need, uint64_t size)
{
	uint64_t cs = img->cluster_size, old_off = img->l1_offset, new_off = old_off, k;
	uint64_t old_clus = ((uint64_t)img->l1_size * 8 + cs - 1) / cs;
	uint64_t new_clus = ((uint64_t)need * 8 + cs - 1) / cs;
	uint64_t *l1 = realloc(img->l1, (size_t)need * 8);
	uint64_t **l2c;
	int ret;

	if (!l1)
		return -ENOMEM;
	img->l1 = l1;
	memset(l1 + img->l1_size, 0, (size_t)(need - img->l1_size) * 8);
	l2c = realloc(img->l2c, (size_t)need * sizeof(*l2c));
	if (!l2c)
		return -ENOMEM;
	img->l2c = l2c;
	memset(l2c + img->l1_size, 0, (size_t)(need - img->l1_size) * sizeof(*l2c));

	if (old_off && new_clus <= old_clus) {
		/* Room in the table's last cluster: zero the new entries there. */
		ret = qmeta_write_table(img, l1 + img->l1_size, need - img->l1_size,
					old_off + 8ull * img->l1_size);
		if (!ret)
			ret = qio_sync(img->fd);
		if (!ret)
			ret = header_set(img, size, need, old_off);
		if (!ret)
			img->l1_size = need;
		return ret;
	}
	ret = alloc_run(img, new_clus, &new_off);
	if (ret)
		return ret;
	ret = l1_write_padded(img, l1, need, new_off);
	if (!ret)
		ret = qio_sync(img->fd);
	if (!ret)
		ret = header_set(img, size, need, new_off);
	if (ret) {
		for (k = 0; k < new_clus; k++)
			qmeta_refcount_add(img, new_off / cs + k, -1);
		return ret;
	}
	img->l1_offset = new_off;
	img->l1_size = need;
	/* The header no longer names the old table (synced): free it. */
	for (k = 0; k < old_clus && old_off && !ret; k++)
		ret = qmeta_refcount_add(img, old_off / cs + k, -1);
	return ret;
}

static int grow_raw(struct qimg *img, uint64_t size, char *err)
{
	int ret = 0;

	pthread_rwlock_wrlock(&img->io_lock);
	if (ftruncate(img->fd, (off_t)size))
		ret = -errno;
	else
		img->size = size;
	pthread_rwlock_unlock(&img->io_lock);
	return ret ? qimg_refuse(err, ret, "cannot extend the file: %s", strerror(-ret)) : 0;
}

int qimg_grow(struct qimg *img, uint64_t size, char err[QIMG_ERR_LEN])
{
	uint64_t old = img->size, cs = img->cluster_size, span, need, tail, len;
	bool tail_used = false;
	int ret;

	err[0] = '\0';
	if (size == old)
		return 0;
	if (size < old)
		return qimg_refuse(err, -EINVAL,
				   "shrinking from %llu to %llu bytes is not supported: the data "
				   "past the new end would be lost",
				   (unsigned long long)old, (unsigned long long)size);
	if (img->read_only)
		return qimg_refuse(err, -EROFS, "the image is read-only");
	if (img->raw)
		return grow_raw(img, size, err);
	if (img->version == 1)
		return qimg_refuse(err, -EOPNOTSUPP,
				   "qcow version 1 images cannot grow: convert the image to "
				   "qcow2, or use 'qemu-img resize' while the LUN is removed");
	if (img->backing && img->backing->size > old)
		return qimg_refuse(err, -EOPNOTSUPP,
				   "the backing file (%llu bytes) is bigger than the image: its "
				   "data would show in the new area",
				   (unsigned long long)img->backing->size);
	span = cs << img->l2_bits;
	need = size / span + (size % span != 0);
	if (size > (1ull << 56) || need * 8 > QCOW_L1_MAX_BYTES)
		return qimg_refuse(err, -EFBIG, "%llu bytes is too big for this image",
				   (unsigned long long)size);

	/* Bytes past the old end in its last cluster must read as zero. */
	tail = old % cs ? cs - old % cs : 0;
	if (tail && qimg_status(img, old - old % cs, &len, &tail_used))
		tail_used = true;

	pthread_rwlock_wrlock(&img->io_lock);
	pthread_mutex_lock(&img->meta);
	if (need > img->l1_size)
		ret = l1_grow(img, (uint32_t)need, size);
	else
		ret = header_set(img, size, img->l1_size, img->l1_offset);
	if (!ret)
		img->size = size;
	pthread_mutex_unlock(&img->meta);
	pthread_rwlock_unlock(&img->io_lock);
	if (ret)
		return qimg_refuse(err, ret, "cannot grow the image: %s", strerror(-ret));

	if (tail_used) {
		uint8_t *z;

		if (tail > size - old)
			tail = size - old;
		z = calloc(1, tail);
		ret = z ? qimg_write(img, z, tail, old) : -ENOMEM;
		free(z);
		if (ret)
			return qimg_refuse(err, ret,
					   "cannot zero the end of the old last cluster: %s",
					   strerror(-ret));
	}
	return 0;
}
