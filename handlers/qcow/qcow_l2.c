// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * qcow L1/L2 tables: the L2 table cache, making an L2 table the active
 * image's own (allocating it, or copying one shared with a snapshot), and
 * writing entries.  Every function here runs with img->meta held; the crash
 * ordering is described in qcow_refcount.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow_priv.h"

bool qmeta_valid_host(struct qimg *img, uint64_t off, uint64_t len)
{
	uint64_t end = __atomic_load_n(&img->file_end, __ATOMIC_RELAXED);

	return off && !(off & (img->cluster_size - 1)) && off <= end && len <= end - off;
}

static void l2_evict(struct qimg *img, uint32_t keep)
{
	uint32_t tries;

	for (tries = 0; img->l2c_bytes > img->l2c_max && tries < img->l1_size * 2u; tries++) {
		uint32_t i = img->l2c_hand++ % img->l1_size;

		if (i == keep || !img->l2c[i])
			continue;
		free(img->l2c[i]);
		img->l2c[i] = NULL;
		img->l2c_bytes -= img->l2_bytes;
	}
}

static int l2_insert(struct qimg *img, uint32_t l1i, uint64_t *t)
{
	img->l2c[l1i] = t;
	img->l2c_bytes += img->l2_bytes;
	l2_evict(img, l1i);
	return 0;
}

/* A metadata table of len bytes at off, checked to lie inside the file; malloc()ed. */
int qmeta_read(struct qimg *img, uint64_t off, uint64_t len, void **out)
{
	void *b;
	int ret;

	if (!qmeta_valid_host(img, off, len))
		return -EIO;
	b = malloc(len);
	if (!b)
		return -ENOMEM;
	ret = qio_pread(img->fd, b, len, off);
	if (ret) {
		free(b);
		return ret;
	}
	*out = b;
	return 0;
}

/* The L2 table of L1 entry l1i (NULL when none); valid until the next call. */
int qmeta_l2_get(struct qimg *img, uint32_t l1i, uint64_t **l2)
{
	uint64_t off = img->l1[l1i] & QCOW_OFFSET_MASK, n = img->l2_bytes / 8, i;
	uint64_t *t;
	int ret;

	*l2 = img->l2c[l1i];
	if (*l2)
		return 0;
	if (!off)
		return 0;
	ret = qmeta_read(img, off, img->l2_bytes, (void **)&t);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		t[i] = be64_get((uint8_t *)&t[i]);
	l2_insert(img, l1i, t);
	*l2 = t;
	return 0;
}

int qmeta_write_table(struct qimg *img, const uint64_t *t, uint64_t n, uint64_t off)
{
	uint8_t *b = malloc(n * 8);
	uint64_t i;
	int ret;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		be64_put(b + 8 * i, t[i]);
	ret = qio_pwrite(img->fd, b, n * 8, off);
	free(b);
	return ret;
}

static int l1_set(struct qimg *img, uint32_t l1i, uint64_t entry)
{
	uint8_t b[8];
	int ret;

	be64_put(b, entry);
	ret = qio_pwrite(img->fd, b, 8, img->l1_offset + 8ull * l1i);
	if (!ret)
		img->l1[l1i] = entry;
	return ret;
}

/*
 * Make L1 entry l1i point to an L2 table of the active image only (COPIED):
 * allocate a zeroed one, or copy one shared with a snapshot.
 */
int qmeta_l2_writable(struct qimg *img, uint32_t l1i, uint64_t **l2)
{
	uint64_t old = img->l1[l1i], n = img->l2_bytes / 8, host, *t;
	bool virgin;
	int ret;

	if (qimg_owned(img, old) && (old & QCOW_OFFSET_MASK))
		return qmeta_l2_get(img, l1i, l2);
	ret = qmeta_l2_get(img, l1i, &t);
	if (ret)
		return ret;
	if (!t) {
		t = calloc(n, 8);
		if (!t)
			return -ENOMEM;
		l2_insert(img, l1i, t);
	}
	/* A v1 L2 table need not be one cluster long. */
	ret = img->version == 1 ? qmeta_alloc_v1(img, img->l2_bytes, &host)
				: qmeta_alloc(img, &host, &virgin);
	if (ret)
		return ret;
	ret = qmeta_write_table(img, t, n, host);
	if (!ret)
		ret = qio_sync(img->fd);
	if (!ret)
		ret = l1_set(img, l1i, host | img->oflag_copied);
	if (ret) {
		if (img->version > 1)
			qmeta_refcount_add(img, host / img->cluster_size, -1);
		return ret;
	}
	if (old & QCOW_OFFSET_MASK) {
		/* The snapshot keeps the old table; it loses our reference. */
		ret = qio_sync(img->fd);
		if (!ret)
			ret = qmeta_refcount_add(img, (old & QCOW_OFFSET_MASK) / img->cluster_size,
						 -1);
		if (ret)
			return ret;
	}
	return qmeta_l2_get(img, l1i, l2);
}

int qmeta_l2_set(struct qimg *img, uint32_t l1i, uint32_t l2i, uint64_t entry)
{
	uint64_t *t;
	uint8_t b[8];
	int ret = qmeta_l2_get(img, l1i, &t);

	if (ret)
		return ret;
	if (!t)
		return -EIO;
	be64_put(b, entry);
	ret = qio_pwrite(img->fd, b, 8, qmeta_l2_entry_off(img, l1i, l2i));
	if (!ret)
		t[l2i] = entry;
	return ret;
}
