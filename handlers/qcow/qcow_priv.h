/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/* Internals of the qcow format layer, shared by its source files. */
#ifndef QCOW_PRIV_H
#define QCOW_PRIV_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "qcow_format.h"

#define QCOW_MAGIC	       0x514649fbu /* "QFI\xfb" */
#define QCOW_MAX_BACKING_DEPTH 16
#define QCOW_L1_MAX_BYTES      (32u << 20) /* 32 MiB of L1 maps 2^64 at 2 MiB clusters */
#define QCOW_RT_MAX_BYTES      (64u << 20)
#define QCOW_L2_CACHE_BYTES    (64u << 20) /* memory cap of the L2 cache */
#define QCOW_RB_CACHE_BYTES    (16u << 20) /* memory cap of the refcount cache */
#define QCOW_RESERVE_BYTES     (4u << 20)  /* clusters reserved per refcount sync */
#define QCOW_RESV_BATCH	       256u	   /* ... but at most this many */

/* Incompatible feature bits. */
#define QCOW_INCOMPAT_DIRTY	(1ull << 0)
#define QCOW_INCOMPAT_CORRUPT	(1ull << 1)
#define QCOW_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW_INCOMPAT_COMPRESS	(1ull << 3)
#define QCOW_INCOMPAT_EXTL2	(1ull << 4)

/* L1/L2 entry bits. */
#define QCOW_OFLAG_COPIED     (1ull << 63)
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO	      (1ull << 0)
#define QCOW_OFFSET_MASK      0x00fffffffffffe00ull

/* Header field offsets (big-endian on disk). */
#define QH_VERSION	    4
#define QH_BACKING_OFFSET   8
#define QH_BACKING_SIZE	    16
#define QH_CLUSTER_BITS	    20
#define QH_SIZE		    24
#define QH_CRYPT	    32
#define QH_L1_SIZE	    36
#define QH_L1_OFFSET	    40
#define QH_RT_OFFSET	    48
#define QH_RT_CLUSTERS	    56
#define QH_INCOMPAT	    72
#define QH_AUTOCLEAR	    88
#define QH_REFCOUNT_ORDER   96
#define QH_HEADER_LENGTH    100
#define QH_COMPRESSION_TYPE 104
#define QH_V2_LENGTH	    72
#define QH_V3_LENGTH	    104

/* A file range to make durable, or the whole file (full). */
struct qspan {
	uint64_t lo, hi;
	bool full;
};

struct qimg {
	int fd;
	bool raw;
	bool read_only;
	unsigned int version;
	char desc[96];
	uint64_t size;
	struct qimg *backing;

	/* qcow2 geometry */
	unsigned int cluster_bits;
	uint64_t cluster_size;
	unsigned int l2_bits;	   /* log2 of entries per L2 table */
	uint64_t l2_bytes;	   /* bytes per L2 table (a cluster, but for v1) */
	uint64_t oflag_compressed; /* bit 62, or 63 in v1 */
	uint64_t oflag_copied;	   /* bit 63, or none in v1 */
	unsigned int refcount_bits;
	uint64_t refcount_max;
	uint64_t rb_entries;	  /* refcounts per refcount block */
	unsigned int compression; /* 0 zlib, 1 zstd */
	unsigned int csize_shift; /* compressed descriptor layout */
	uint64_t csize_mask;
	uint64_t coffset_mask;

	pthread_rwlock_t io_lock;  /* shared: read/write; exclusive: discard */
	pthread_mutex_t meta;	   /* everything below */
	pthread_cond_t first_done; /* a first write ended: pending shrank (with meta) */
	unsigned int fast_io;	   /* atomic: fast-path I/O in flight (qimg_fast_map) */
	unsigned int fast_block;   /* atomic: no new fast-path I/O while non-zero */

	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1;	/* host byte order */
	uint64_t **l2c; /* per L1 index, cached L2 table (host order) */
	uint64_t l2c_bytes, l2c_max;
	uint32_t l2c_hand; /* eviction clock */

	uint64_t rt_offset;
	uint32_t rt_clusters;
	uint64_t rt_entries;
	uint64_t *rt;  /* refcount table, host order */
	uint8_t **rbc; /* per refcount-table index, cached block (disk bytes) */
	uint64_t rbc_bytes, rbc_max;
	uint64_t rbc_hand;

	uint64_t free_hint; /* first cluster index that may be free */
	uint64_t *resv;	    /* reserved clusters (refcount 1 and synced, unused): a stack of
			     * offsets, bit 0 set when past anything the file ever held */
	uint32_t resv_n, resv_cap;
	uint64_t *refill; /* the next reserve, while its owner syncs it (refill_n > 0) */
	uint32_t refill_n;
	struct qspan refill_span; /* the file range of its refcounts */
	uint64_t rb_made;	  /* refcount blocks and tables made (a ranged sync misses them) */
	uint64_t *pending;	  /* guest clusters whose first write runs without meta */
	uint32_t pending_n, pending_cap;
	uint64_t file_end; /* bytes: allocations never go below this as "unknown" */
};

static inline uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Where in the file entry l2i of the L2 table of L1 entry l1i sits. */
static inline uint64_t qmeta_l2_entry_off(const struct qimg *img, uint32_t l1i, uint32_t l2i)
{
	return (img->l1[l1i] & QCOW_OFFSET_MASK) + 8ull * l2i;
}

/* The active image alone refers to the cluster of entry e (v1: always). */
static inline bool qimg_owned(const struct qimg *img, uint64_t e)
{
	return img->version == 1 || (e & img->oflag_copied);
}

/* qcow_open.c: a refusal's reason into err (QIMG_ERR_LEN bytes); returns ret. */
int qimg_refuse(char *err, int ret, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* qcow_fileio.c: whole transfers at an offset (short read past EOF = zeroes). */
int qio_pread(int fd, void *buf, size_t len, uint64_t off);
int qio_pwrite(int fd, const void *buf, size_t len, uint64_t off);
int qio_preadv(int fd, struct iovec *v, size_t n, uint64_t off); /* v is consumed */
int qio_pwritev(int fd, struct iovec *v, size_t n, uint64_t off);
int qio_sync(int fd);
int qio_sync_range(int fd, uint64_t off, uint64_t len);
void qio_punch(int fd, uint64_t off, uint64_t len);

/* Raise the known end of the file (read without the mutex by the data paths). */
static inline void qmeta_note_end(struct qimg *img, uint64_t end)
{
	if (end > img->file_end)
		__atomic_store_n(&img->file_end, end, __ATOMIC_RELAXED);
}

/* qcow_l2.c and qcow_refcount.c: metadata, called with img->meta held. */
int qmeta_read(struct qimg *img, uint64_t off, uint64_t len, void **out);
int qmeta_write_table(struct qimg *img, const uint64_t *t, uint64_t n, uint64_t off);
int qmeta_alloc_v1(struct qimg *img, uint64_t len, uint64_t *host);
int qmeta_l2_get(struct qimg *img, uint32_t l1i, uint64_t **l2);
int qmeta_l2_writable(struct qimg *img, uint32_t l1i, uint64_t **l2);
int qmeta_l2_set(struct qimg *img, uint32_t l1i, uint32_t l2i, uint64_t entry);
int qmeta_refcount(struct qimg *img, uint64_t cluster, uint64_t *rc);
int qmeta_refcount_add(struct qimg *img, uint64_t cluster, int delta);
int qmeta_alloc(struct qimg *img, uint64_t *host, bool *virgin); /* virgin: never written, zeroes */
int qmeta_alloc_now(struct qimg *img, uint64_t *host);
bool qmeta_refill_begin(struct qimg *img);
int qmeta_refill_sync(struct qimg *img);
void qmeta_refill_end(struct qimg *img, int synced);
void qmeta_release_reserve(struct qimg *img);
int qmeta_free_entry(struct qimg *img, uint64_t entry);
void qmeta_free_caches(struct qimg *img);
bool qmeta_valid_host(struct qimg *img, uint64_t off, uint64_t len);

/* qcow_io.c: wait for fast-path I/O to finish and keep new ones out (a discard). */
void qmeta_fast_block(struct qimg *img);
void qmeta_fast_unblock(struct qimg *img);

/* qcow_cluster.c: cluster contents. */
int qdata_read_compressed(struct qimg *img, uint64_t entry, uint8_t *cluster);

#endif
