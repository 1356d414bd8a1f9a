// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * qcow2 refcounts and cluster allocation (qcow v1: appending).  Every
 * function here runs with img->meta held.  A refill ahead of the reserve is
 * synced by its caller with the mutex released (qmeta_refill_begin/end).
 *
 * Crash ordering (an interrupted update leaks clusters, never corrupts):
 *  - a cluster's refcount is raised, and its contents written and synced,
 *    before any table points to it;
 *  - a table stops pointing to a cluster, and that is synced, before the
 *    cluster's refcount is lowered;
 *  - a new refcount table is complete and synced before the header names it.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "qcow_priv.h"

/* ---- refcounts ------------------------------------------------------------ */

static void rb_evict(struct qimg *img, uint64_t keep)
{
	uint64_t tries;

	for (tries = 0; img->rbc_bytes > img->rbc_max && tries < img->rt_entries * 2; tries++) {
		uint64_t i = img->rbc_hand++ % img->rt_entries;

		if (i == keep || !img->rbc[i])
			continue;
		free(img->rbc[i]);
		img->rbc[i] = NULL;
		img->rbc_bytes -= img->cluster_size;
	}
}

/* Refcount block ti (NULL when the table has no block there). */
static int rb_get(struct qimg *img, uint64_t ti, uint8_t **blk)
{
	uint64_t off;
	uint8_t *b;
	int ret;

	*blk = NULL;
	if (ti >= img->rt_entries)
		return 0;
	if (img->rbc[ti]) {
		*blk = img->rbc[ti];
		return 0;
	}
	off = img->rt[ti] & QCOW_OFFSET_MASK;
	if (!off)
		return 0;
	ret = qmeta_read(img, off, img->cluster_size, (void **)&b);
	if (ret)
		return ret;
	img->rbc[ti] = b;
	img->rbc_bytes += img->cluster_size;
	rb_evict(img, ti);
	*blk = b;
	return 0;
}

static uint64_t rb_entry_get(const struct qimg *img, const uint8_t *b, uint64_t i)
{
	unsigned int w = img->refcount_bits;
	uint64_t v = 0;

	if (w < 8)
		return (b[i * w / 8] >> (i * w % 8)) & ((1u << w) - 1);
	for (unsigned int k = 0; k < w / 8; k++)
		v = (v << 8) | b[i * (w / 8) + k];
	return v;
}

static void rb_entry_put(const struct qimg *img, uint8_t *b, uint64_t i, uint64_t v)
{
	unsigned int w = img->refcount_bits;

	if (w < 8) {
		unsigned int sh = (unsigned int)(i * w % 8), m = ((1u << w) - 1) << sh;

		b[i * w / 8] = (uint8_t)((b[i * w / 8] & ~m) | ((v << sh) & m));
		return;
	}
	for (int k = (int)(w / 8) - 1; k >= 0; k--) {
		b[i * (w / 8) + (unsigned int)k] = (uint8_t)v;
		v >>= 8;
	}
}

int qmeta_refcount(struct qimg *img, uint64_t cluster, uint64_t *rc)
{
	uint8_t *b;
	int ret = rb_get(img, cluster / img->rb_entries, &b);

	*rc = 0;
	if (ret || !b)
		return ret;
	*rc = rb_entry_get(img, b, cluster % img->rb_entries);
	return 0;
}

/*
 * The aligned 8 bytes holding cluster's refcount (one sector, written
 * whole): their offset in the refcount block.
 */
static uint64_t rc_word(const struct qimg *img, uint64_t cluster)
{
	return (cluster % img->rb_entries * img->refcount_bits / 8) & ~7ull;
}

int qmeta_refcount_add(struct qimg *img, uint64_t cluster, int delta)
{
	uint64_t ti = cluster / img->rb_entries, i = cluster % img->rb_entries, v, byte;
	uint8_t *b;
	int ret = rb_get(img, ti, &b);

	if (ret)
		return ret;
	if (!b)
		return -EIO;
	v = rb_entry_get(img, b, i);
	if ((delta < 0 && v < (uint64_t)-delta) ||
	    (delta > 0 && img->refcount_max - v < (uint64_t)delta))
		return -EIO;
	v += (uint64_t)(int64_t)delta;
	rb_entry_put(img, b, i, v);
	byte = rc_word(img, cluster);
	ret = qio_pwrite(img->fd, b + byte, 8, (img->rt[ti] & QCOW_OFFSET_MASK) + byte);
	if (ret)
		return ret;
	if (!v) {
		if (cluster < img->free_hint)
			img->free_hint = cluster;
		qio_punch(img->fd, cluster * img->cluster_size, img->cluster_size);
	}
	return 0;
}

/* ---- growing the refcount table ------------------------------------------ */

static bool rb_missing(const struct qimg *img, uint64_t ti)
{
	return ti >= img->rt_entries || !(img->rt[ti] & QCOW_OFFSET_MASK);
}

/*
 * A bigger refcount table covering block index need, placed with the new
 * refcount blocks it needs for itself after the end of the file.  Written
 * and synced before the header names it; the old table is freed after.
 */
static int rt_grow(struct qimg *img, uint64_t need)
{
	uint64_t cs = img->cluster_size, base = (img->file_end + cs - 1) / cs;
	uint64_t entries = img->rt_entries * 2, nclus = 0, nblk = 0, end, ti, k;
	uint64_t old_off = img->rt_offset, old_clus = img->rt_clusters, *nt = NULL;
	uint8_t **nrbc = NULL, *blk = NULL, hdr[12];
	int ret, iter;

	if (entries <= need)
		entries = need + 1;
	for (iter = 0; iter < 16; iter++) {
		uint64_t want = 0;

		nclus = (entries * 8 + cs - 1) / cs;
		end = base + nclus + nblk;
		if ((end - 1) / img->rb_entries >= entries) {
			entries = (end - 1) / img->rb_entries + 1;
			continue;
		}
		for (ti = base / img->rb_entries; ti <= (end - 1) / img->rb_entries; ti++)
			want += rb_missing(img, ti);
		if (want == nblk)
			break;
		nblk = want;
	}
	nclus = (entries * 8 + cs - 1) / cs;
	end = base + nclus + nblk;
	if (iter == 16 || nclus * cs > QCOW_RT_MAX_BYTES)
		return -EFBIG;
	nt = calloc(nclus * cs / 8, 8);
	nrbc = calloc(nclus * cs / 8, sizeof(*nrbc));
	blk = malloc(cs);
	if (!nt || !nrbc || !blk) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(nt, img->rt, img->rt_entries * 8);
	/* New blocks, each counting the new clusters in its range. */
	k = base + nclus;
	for (ti = base / img->rb_entries; ti <= (end - 1) / img->rb_entries; ti++) {
		uint64_t c;

		if (!rb_missing(img, ti))
			continue;
		memset(blk, 0, cs);
		for (c = ti * img->rb_entries; c < (ti + 1) * img->rb_entries; c++)
			if (c >= base && c < end)
				rb_entry_put(img, blk, c % img->rb_entries, 1);
		ret = qio_pwrite(img->fd, blk, cs, k * cs);
		if (ret)
			goto out;
		nt[ti] = k * cs;
		k++;
	}
	/* New clusters in ranges that already have a block (a crash leaks them). */
	for (k = base; k < end; k++)
		if (!rb_missing(img, k / img->rb_entries)) {
			ret = qmeta_refcount_add(img, k, 1);
			if (ret)
				goto out;
		}
	ret = qmeta_write_table(img, nt, nclus * cs / 8, base * cs);
	if (!ret)
		ret = qio_sync(img->fd);
	if (ret)
		goto out;
	be64_put(hdr, base * cs);
	be32_put(hdr + 8, (uint32_t)nclus);
	ret = qio_pwrite(img->fd, hdr, sizeof(hdr), QH_RT_OFFSET);
	if (!ret)
		ret = qio_sync(img->fd);
	if (ret)
		goto out;
	memcpy(nrbc, img->rbc, img->rt_entries * sizeof(*nrbc));
	free(img->rbc);
	free(img->rt);
	img->rbc = nrbc;
	img->rt = nt;
	nrbc = NULL;
	nt = NULL;
	img->rt_offset = base * cs;
	img->rt_clusters = (uint32_t)nclus;
	img->rb_made++;
	img->rt_entries = nclus * cs / 8;
	qmeta_note_end(img, end * cs);
	for (k = 0; k < old_clus; k++) {
		ret = qmeta_refcount_add(img, old_off / cs + k, -1);
		if (ret)
			break;
	}
out:
	free(nt);
	free(nrbc);
	free(blk);
	return ret;
}

/* A new cluster with refcount 1: contents undefined, nothing points to it. */
/* qcow v1 has no refcounts: new clusters go at the end of the file. */
int qmeta_alloc_v1(struct qimg *img, uint64_t len, uint64_t *host)
{
	uint64_t cs = img->cluster_size, at = (img->file_end + cs - 1) & ~(cs - 1);

	if (at >= QCOW_OFFSET_MASK)
		return -ENOSPC;
	qmeta_note_end(img, at + len);
	*host = at;
	return 0;
}

/*
 * Extend the file over the new reserve's clusters past its end (a hole, one
 * ftruncate for the lot), so that a first write to one of them writes only
 * its data: the file already covers the cluster, as qemu-img check wants of
 * every cluster in use.  Never shrinks the file.
 */
static int cover_reserve(struct qimg *img, const uint64_t *got, uint32_t n)
{
	uint64_t end = 0, c;
	struct stat st;
	uint32_t i;

	for (i = 0; i < n; i++) {
		c = (got[i] & ~1ull) + img->cluster_size;
		if ((got[i] & 1) && c > end)
			end = c;
	}
	if (!end)
		return 0;
	if (fstat(img->fd, &st))
		return -errno;
	if ((uint64_t)st.st_size >= end)
		return 0;
	return ftruncate(img->fd, (off_t)end) ? -errno : 0;
}

/* Clusters per reserve batch (4 MiB worth, 1 to QCOW_RESV_BATCH). */
static uint32_t resv_batch(const struct qimg *img)
{
	uint64_t want = QCOW_RESERVE_BYTES / img->cluster_size;

	return want < 1 ? 1 : want > QCOW_RESV_BATCH ? QCOW_RESV_BATCH : (uint32_t)want;
}

/*
 * The next batch of clusters for the reserve into got (room for
 * QCOW_RESV_BATCH): refcounts raised (written, not synced), file extended
 * over them.  Bit 0 of an entry: past everything the file ever held, so all
 * zeroes (a hole).  *n gets the count, which may be non-zero on an error
 * (then the caller gives them back).
 */
static int reserve_take(struct qimg *img, uint64_t *got, uint32_t *n, struct qspan *sp)
{
	uint32_t want = resv_batch(img);
	uint64_t made = img->rb_made;
	int ret = 0;

	*n = 0;
	sp->lo = UINT64_MAX;
	sp->hi = 0;
	while (*n < want && !ret) {
		uint64_t end = img->file_end, c, at;

		ret = qmeta_alloc_now(img, &got[*n]);
		if (ret)
			break;
		/* Where its refcount sits: what qmeta_refcount_add wrote. */
		c = got[*n] / img->cluster_size;
		at = (img->rt[c / img->rb_entries] & QCOW_OFFSET_MASK) + rc_word(img, c);
		if (at < sp->lo)
			sp->lo = at;
		if (at + 8 > sp->hi)
			sp->hi = at + 8;
		if (got[*n] >= end)
			got[*n] |= 1;
		(*n)++;
	}
	/* A new refcount block or table is named by entries outside that range. */
	sp->full = img->rb_made != made;
	/* Out of room part way (ENOSPC, EFBIG): a smaller batch will do. */
	return *n ? cover_reserve(img, got, *n) : ret;
}

/* Make the refcounts reserve_take raised durable (with the file's new size). */
static int reserve_sync(struct qimg *img, const struct qspan *sp)
{
	if (sp->full || sp->hi <= sp->lo)
		return qio_sync(img->fd);
	return qio_sync_range(img->fd, sp->lo, sp->hi - sp->lo);
}

/* Put n synced clusters under the reserve's stack (the lowest nearest its top). */
static void reserve_push(struct qimg *img, const uint64_t *got, uint32_t n)
{
	memmove(img->resv + n, img->resv, img->resv_n * sizeof(*img->resv));
	for (uint32_t i = 0; i < n; i++)
		img->resv[i] = got[n - 1 - i];
	img->resv_n += n;
}

/* Give clusters taken for the reserve back (their refcounts were not synced). */
static void reserve_drop(struct qimg *img, const uint64_t *got, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (qmeta_refcount_add(img, (got[i] & ~1ull) / img->cluster_size, -1))
			break;
}

static int reserve_alloc_arrays(struct qimg *img)
{
	if (!img->resv) {
		/* A batch synced at once, and one from a refill ahead on top. */
		img->resv = malloc(2 * QCOW_RESV_BATCH * sizeof(*img->resv));
		if (!img->resv)
			return -ENOMEM;
		img->resv_cap = 2 * QCOW_RESV_BATCH;
	}
	if (!img->refill) {
		img->refill = malloc(QCOW_RESV_BATCH * sizeof(*img->refill));
		if (!img->refill)
			return -ENOMEM;
	}
	return 0;
}

/*
 * A new cluster with refcount 1, taken from the reserve.  The reserve is
 * refilled a few MiB at a time: the refcounts are raised and synced once for
 * the lot, so that a table may point to any reserved cluster without another
 * sync (after a crash, unused reserved clusters are leaks).  Normally a
 * refill ahead (qmeta_refill_begin) keeps it from running dry; when it does,
 * this refills and syncs with the mutex held.
 */
int qmeta_alloc(struct qimg *img, uint64_t *host, bool *virgin)
{
	uint64_t got[QCOW_RESV_BATCH];
	struct qspan sp;
	uint32_t n;
	int ret;

	*virgin = true;
	if (img->version == 1)
		return qmeta_alloc_v1(img, img->cluster_size, host);
	if (!img->resv_n) {
		ret = reserve_alloc_arrays(img);
		if (ret)
			return ret;
		ret = reserve_take(img, got, &n, &sp);
		if (!ret)
			ret = reserve_sync(img, &sp);
		if (ret) {
			reserve_drop(img, got, n);
			return ret;
		}
		reserve_push(img, got, n);
	}
	*host = img->resv[--img->resv_n] & ~1ull;
	*virgin = img->resv[img->resv_n] & 1;
	return 0;
}

/*
 * Refill ahead: when the reserve is down to half a batch and no refill is
 * under way, take the next batch into img->refill.  Returns true when the
 * caller must sync the file, with the mutex released so that I/O goes on,
 * then call qmeta_refill_end.  Until then the batch is nobody's to use.
 */
bool qmeta_refill_begin(struct qimg *img)
{
	uint32_t n;

	if (img->version == 1 || img->refill_n || img->resv_n > resv_batch(img) / 2 ||
	    reserve_alloc_arrays(img))
		return false;
	if (reserve_take(img, img->refill, &n, &img->refill_span)) {
		/* Whatever was taken goes back; qmeta_alloc will meet the error. */
		reserve_drop(img, img->refill, n);
		return false;
	}
	img->refill_n = n;
	return n > 0;
}

/*
 * The sync of a refill ahead, without the mutex: its range was noted under
 * the mutex, and nobody else touches the refill until qmeta_refill_end.
 */
int qmeta_refill_sync(struct qimg *img)
{
	return reserve_sync(img, &img->refill_span);
}

/* The sync after qmeta_refill_begin returned synced (0 or -errno); meta held. */
void qmeta_refill_end(struct qimg *img, int synced)
{
	if (synced || img->resv_n + img->refill_n > img->resv_cap)
		reserve_drop(img, img->refill, img->refill_n);
	else
		reserve_push(img, img->refill, img->refill_n);
	img->refill_n = 0;
}

/* Give the unused reserved clusters back (closing). */
void qmeta_release_reserve(struct qimg *img)
{
	while (img->resv_n)
		if (qmeta_refcount_add(img, (img->resv[--img->resv_n] & ~1ull) / img->cluster_size,
				       -1))
			break;
	img->resv_n = 0;
}

/* A new cluster with refcount 1 (written, not synced): the allocator itself. */
int qmeta_alloc_now(struct qimg *img, uint64_t *host)
{
	uint64_t c = img->free_hint ? img->free_hint : 1, cs = img->cluster_size, rc;
	uint64_t limit = (QCOW_OFFSET_MASK >> img->cluster_bits);
	int ret;

	if (img->version == 1)
		return qmeta_alloc_v1(img, img->cluster_size, host);

	for (; c < limit; c++) {
		uint64_t ti = c / img->rb_entries;

		if (ti >= img->rt_entries) {
			ret = rt_grow(img, ti);
			if (ret)
				return ret;
			c--; /* look at c again: the new table may sit there */
			continue;
		}
		if (!(img->rt[ti] & QCOW_OFFSET_MASK)) {
			/* No block for c: c becomes the block, counting itself. */
			uint8_t *b = calloc(1, cs), e[8];

			if (!b)
				return -ENOMEM;
			rb_entry_put(img, b, c % img->rb_entries, 1);
			ret = qio_pwrite(img->fd, b, cs, c * cs);
			if (!ret)
				ret = qio_sync(img->fd);
			be64_put(e, c * cs);
			if (!ret)
				ret = qio_pwrite(img->fd, e, 8, img->rt_offset + 8 * ti);
			if (ret) {
				free(b);
				return ret;
			}
			img->rt[ti] = c * cs;
			img->rb_made++;
			img->rbc[ti] = b;
			img->rbc_bytes += cs;
			rb_evict(img, ti);
			qmeta_note_end(img, (c + 1) * cs);
			continue;
		}
		ret = qmeta_refcount(img, c, &rc);
		if (ret)
			return ret;
		if (rc)
			continue;
		ret = qmeta_refcount_add(img, c, 1);
		if (ret)
			return ret;
		img->free_hint = c + 1;
		qmeta_note_end(img, (c + 1) * cs);
		*host = c * cs;
		return 0;
	}
	return -ENOSPC;
}

/* Drop one reference to the clusters an L2 entry used (after it stopped). */
int qmeta_free_entry(struct qimg *img, uint64_t entry)
{
	uint64_t cs = img->cluster_size, first, last, c;
	int ret = 0;

	if (img->version == 1)
		return 0; /* no refcounts: the space stays used */
	if (entry & QCOW_OFLAG_COMPRESSED) {
		uint64_t off = entry & img->coffset_mask;
		uint64_t nsec = ((entry >> img->csize_shift) & img->csize_mask) + 1;

		first = (off & ~511ull) / cs;
		last = ((off & ~511ull) + nsec * 512 - 1) / cs;
	} else {
		first = (entry & QCOW_OFFSET_MASK) / cs;
		last = first;
		if (!first)
			return 0;
	}
	for (c = first; c <= last && !ret; c++)
		ret = qmeta_refcount_add(img, c, -1);
	return ret;
}

void qmeta_free_caches(struct qimg *img)
{
	uint64_t i;

	if (img->l2c)
		for (i = 0; i < img->l1_size; i++)
			free(img->l2c[i]);
	if (img->rbc)
		for (i = 0; i < img->rt_entries; i++)
			free(img->rbc[i]);
	free(img->l2c);
	free(img->rbc);
	free(img->l1);
	free(img->rt);
	free(img->resv);
	free(img->refill);
	free(img->pending);
}
