// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Opening a qcow2 or raw image: header checks (every refusal says why),
 * L1 and refcount tables, the backing chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow_priv.h"

#define EXT_END		   0x00000000u
#define EXT_BACKING_FORMAT 0xe2792acau
#define EXT_DATA_FILE	   0x44415441u
#define QCOW_KNOWN_INCOMPAT                                                                        \
	(QCOW_INCOMPAT_DIRTY | QCOW_INCOMPAT_CORRUPT | QCOW_INCOMPAT_DATA_FILE |                   \
	 QCOW_INCOMPAT_COMPRESS | QCOW_INCOMPAT_EXTL2)

int qimg_refuse(char *err, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, QIMG_ERR_LEN, fmt, ap);
	va_end(ap);
	return ret;
}

static int open_chain(int fd, const char *path, unsigned int flags, unsigned int depth,
		      bool force_raw, struct qimg **out, char *err);

static int read_table(struct qimg *img, uint64_t off, uint64_t n, uint64_t **t)
{
	uint64_t i, *v = calloc(n ? n : 1, 8);
	int ret;

	if (!v)
		return -ENOMEM;
	ret = qio_pread(img->fd, v, n * 8, off);
	if (ret) {
		free(v);
		return ret;
	}
	for (i = 0; i < n; i++)
		v[i] = be64_get((uint8_t *)&v[i]);
	*t = v;
	return 0;
}

/* Header extensions: the backing format, and refusal of an external data file. */
static int parse_extensions(struct qimg *img, const uint8_t *h, uint64_t hlen, uint64_t start,
			    bool *backing_raw, char *err)
{
	uint64_t pos = start;

	while (pos + 8 <= hlen) {
		uint32_t type = be32_get(h + pos), len = be32_get(h + pos + 4);

		if (type == EXT_END)
			return 0;
		if (len > hlen - pos - 8)
			return qimg_refuse(err, -EINVAL,
					   "header extension 0x%08x at %llu runs past "
					   "the first cluster",
					   type, (unsigned long long)pos);
		if (type == EXT_BACKING_FORMAT)
			*backing_raw = len == 3 && !memcmp(h + pos + 8, "raw", 3);
		if (type == EXT_DATA_FILE)
			return qimg_refuse(err, -EOPNOTSUPP,
					   "external data files are not supported");
		pos += 8 + (((uint64_t)len + 7) & ~7ull);
	}
	(void)img;
	return 0;
}

static int check_features(struct qimg *img, const uint8_t *h, uint64_t hlen, char *err)
{
	uint64_t inc = be64_get(h + QH_INCOMPAT);

	if (inc & ~QCOW_KNOWN_INCOMPAT)
		return qimg_refuse(err, -EOPNOTSUPP, "unknown incompatible feature bits 0x%llx",
				   (unsigned long long)(inc & ~QCOW_KNOWN_INCOMPAT));
	if (inc & QCOW_INCOMPAT_DIRTY)
		return qimg_refuse(err, -EOPNOTSUPP,
				   "the dirty bit is set (lazy refcounts not "
				   "written back); repair it with 'qemu-img check -r all'");
	if (inc & QCOW_INCOMPAT_DATA_FILE)
		return qimg_refuse(err, -EOPNOTSUPP, "external data files are not supported");
	if (inc & QCOW_INCOMPAT_EXTL2)
		return qimg_refuse(err, -EOPNOTSUPP,
				   "extended L2 entries (subclusters) are not "
				   "supported");
	if (inc & QCOW_INCOMPAT_COMPRESS) {
		unsigned int type = hlen > QH_COMPRESSION_TYPE ? h[QH_COMPRESSION_TYPE] : 0;

#ifndef HAVE_ZSTD
		if (type == 1)
			return qimg_refuse(err, -EOPNOTSUPP,
					   "zstd compression is not supported "
					   "(built without libzstd)");
#endif
		if (type > 1)
			return qimg_refuse(err, -EOPNOTSUPP, "unknown compression type %u", type);
		img->compression = type;
	}
	if (inc & QCOW_INCOMPAT_CORRUPT)
		img->read_only = true;
	return 0;
}

static int check_l1(struct qimg *img, uint64_t fsize, char *err)
{
	uint64_t l2_span = img->cluster_size << img->l2_bits;
	uint64_t l1_need = (img->size + l2_span - 1) / l2_span;

	if (img->l1_size < l1_need || (uint64_t)img->l1_size * 8 > QCOW_L1_MAX_BYTES)
		return qimg_refuse(err, -EINVAL, "L1 table of %u entries for %llu needed",
				   img->l1_size, (unsigned long long)l1_need);
	if (img->l1_size && ((img->l1_offset & 7) || img->l1_offset < 8 || img->l1_offset > fsize ||
			     img->l1_size * 8ull > fsize - img->l1_offset))
		return qimg_refuse(err, -EINVAL, "L1 table at %llu is not inside the file",
				   (unsigned long long)img->l1_offset);
	return 0;
}

/*
 * qcow version 1: 48-byte header (cluster_bits and l2_bits are bytes at 32
 * and 33, crypt_method at 36, L1 offset at 40); no refcounts, no snapshots.
 */
#define QH1_CLUSTER_BITS 32
#define QH1_L2_BITS	 33
#define QH1_CRYPT	 36
#define QH1_L1_OFFSET	 40
static int parse_v1(struct qimg *img, const uint8_t *h, uint64_t fsize, char *err)
{
	uint64_t l2_span;

	img->cluster_bits = h[QH1_CLUSTER_BITS];
	img->l2_bits = h[QH1_L2_BITS];
	if (img->cluster_bits < 9 || img->cluster_bits > 16 || img->l2_bits < 6 ||
	    img->l2_bits > 13)
		return qimg_refuse(err, -EINVAL,
				   "qcow v1 cluster_bits %u / l2_bits %u out of range",
				   img->cluster_bits, img->l2_bits);
	if (be32_get(h + QH1_CRYPT))
		return qimg_refuse(err, -EOPNOTSUPP, "encrypted images are not supported");
	img->cluster_size = 1ull << img->cluster_bits;
	img->l2_bytes = 8ull << img->l2_bits;
	img->size = be64_get(h + QH_SIZE);
	if (img->size > (1ull << 50))
		return qimg_refuse(err, -EINVAL, "virtual size %llu too big",
				   (unsigned long long)img->size);
	l2_span = img->cluster_size << img->l2_bits;
	img->l1_size = (uint32_t)((img->size + l2_span - 1) / l2_span);
	img->l1_offset = be64_get(h + QH1_L1_OFFSET);
	img->oflag_compressed = 1ull << 63;
	img->csize_shift = 63 - img->cluster_bits;
	img->csize_mask = img->cluster_size - 1;
	img->coffset_mask = (1ull << img->csize_shift) - 1;
	return check_l1(img, fsize, err);
}

/* Geometry and table placement; every number bounded before use. */
static int parse_header(struct qimg *img, const uint8_t *h, uint64_t fsize, char *err)
{
	uint64_t crypt;
	unsigned int order;
	int ret;

	img->version = be32_get(h + QH_VERSION);
	if (img->version == 1)
		return parse_v1(img, h, fsize, err);
	if (img->version != 2 && img->version != 3)
		return qimg_refuse(err, -EOPNOTSUPP, "unknown qcow version %u", img->version);
	img->cluster_bits = be32_get(h + QH_CLUSTER_BITS);
	if (img->cluster_bits < 9 || img->cluster_bits > 21)
		return qimg_refuse(err, -EINVAL, "cluster_bits %u outside 9..21",
				   img->cluster_bits);
	img->cluster_size = 1ull << img->cluster_bits;
	img->l2_bits = img->cluster_bits - 3;
	img->l2_bytes = img->cluster_size;
	img->oflag_compressed = QCOW_OFLAG_COMPRESSED;
	img->oflag_copied = QCOW_OFLAG_COPIED;
	crypt = be32_get(h + QH_CRYPT);
	if (crypt)
		return qimg_refuse(err, -EOPNOTSUPP,
				   "encrypted images are not supported "
				   "(crypt_method %llu)",
				   (unsigned long long)crypt);
	img->size = be64_get(h + QH_SIZE);
	if (img->size > (1ull << 56))
		return qimg_refuse(err, -EINVAL, "virtual size %llu too big",
				   (unsigned long long)img->size);
	order = 4;
	if (img->version == 3) {
		uint64_t hlen = be32_get(h + QH_HEADER_LENGTH);

		if (hlen < QH_V3_LENGTH || hlen > img->cluster_size)
			return qimg_refuse(err, -EINVAL, "bad header_length %llu",
					   (unsigned long long)hlen);
		order = be32_get(h + QH_REFCOUNT_ORDER);
		if (order > 6)
			return qimg_refuse(err, -EINVAL, "refcount_order %u outside 0..6", order);
	}
	img->refcount_bits = 1u << order;
	img->refcount_max = order == 6 ? UINT64_MAX : (1ull << img->refcount_bits) - 1;
	img->rb_entries = img->cluster_size * 8 / img->refcount_bits;
	img->csize_shift = 62 - (img->cluster_bits - 8);
	img->csize_mask = (1ull << (img->cluster_bits - 8)) - 1;
	img->coffset_mask = (1ull << img->csize_shift) - 1;

	img->l1_size = be32_get(h + QH_L1_SIZE);
	img->l1_offset = be64_get(h + QH_L1_OFFSET);
	if (img->l1_offset & (img->cluster_size - 1))
		return qimg_refuse(err, -EINVAL, "L1 table at %llu is not cluster aligned",
				   (unsigned long long)img->l1_offset);
	ret = check_l1(img, fsize, err);
	if (ret)
		return ret;
	img->rt_offset = be64_get(h + QH_RT_OFFSET);
	img->rt_clusters = be32_get(h + QH_RT_CLUSTERS);
	if (!img->rt_clusters || img->rt_clusters * img->cluster_size > QCOW_RT_MAX_BYTES ||
	    (img->rt_offset & (img->cluster_size - 1)) || !img->rt_offset ||
	    img->rt_offset > fsize || img->rt_clusters * img->cluster_size > fsize - img->rt_offset)
		return qimg_refuse(err, -EINVAL,
				   "refcount table (%u clusters at %llu) is not inside "
				   "the file",
				   img->rt_clusters, (unsigned long long)img->rt_offset);
	img->rt_entries = img->rt_clusters * img->cluster_size / 8;
	return 0;
}

/* A relative backing name is relative to the image's folder. */
static int backing_path(const char *path, const uint8_t *name, size_t len, char *out, char *err)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;

	if (memchr(name, '\0', len))
		return qimg_refuse(err, -EINVAL, "backing file name holds a NUL byte");
	if (!strncmp((const char *)name, "file:", 5)) {
		name += 5;
		len -= 5;
	}
	if (len && name[0] == '/')
		dlen = 0;
	if (dlen + len >= PATH_MAX)
		return qimg_refuse(err, -ENAMETOOLONG, "backing file name too long");
	memcpy(out, path, dlen);
	memcpy(out + dlen, name, len);
	out[dlen + len] = '\0';
	return 0;
}

static int open_backing(struct qimg *img, const uint8_t *h, const char *path, unsigned int depth,
			bool backing_raw, char *err)
{
	uint64_t off = be64_get(h + QH_BACKING_OFFSET);
	uint32_t len = be32_get(h + QH_BACKING_SIZE);
	char bpath[PATH_MAX];
	int fd, ret;

	if (!off)
		return 0;
	if (!len || len > 1023 || off > img->cluster_size || len > img->cluster_size - off)
		return qimg_refuse(err, -EINVAL,
				   "backing file name (%u bytes at %llu) is not in the "
				   "first cluster",
				   len, (unsigned long long)off);
	ret = backing_path(path, h + off, len, bpath, err);
	if (ret)
		return ret;
	if (depth + 1 >= QCOW_MAX_BACKING_DEPTH)
		return qimg_refuse(err, -ELOOP, "backing chain deeper than %d (a loop?)",
				   QCOW_MAX_BACKING_DEPTH);
	fd = open(bpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return qimg_refuse(err, -errno, "cannot open backing file %s: %s", bpath,
				   strerror(errno));
	ret = open_chain(fd, bpath, QIMG_RDONLY, depth + 1, backing_raw, &img->backing, err);
	if (ret) {
		char inner[QIMG_ERR_LEN];

		memcpy(inner, err, QIMG_ERR_LEN);
		return qimg_refuse(err, ret, "backing file %s: %.180s", bpath, inner);
	}
	return 0;
}

static int clear_autoclear(struct qimg *img, const uint8_t *h)
{
	uint8_t zero[8] = { 0 };
	int ret;

	/* Bits we do not maintain (bitmaps) must not claim to be current. */
	if (img->version < 3 || img->read_only || !be64_get(h + QH_AUTOCLEAR))
		return 0;
	ret = qio_pwrite(img->fd, zero, 8, QH_AUTOCLEAR);
	return ret ? ret : qio_sync(img->fd);
}

static int open_qcow2(struct qimg *img, const uint8_t *h, uint64_t fsize, const char *path,
		      unsigned int flags, unsigned int depth, char *err)
{
	uint64_t hlen = img->cluster_size < fsize ? img->cluster_size : fsize;
	bool backing_raw = false;
	int ret;

	ret = parse_header(img, h, fsize, err);
	if (!ret && img->version == 3)
		ret = check_features(img, h, be32_get(h + QH_HEADER_LENGTH), err);
	if (!ret && img->version > 1)
		ret = parse_extensions(img, h, hlen,
				       img->version == 3 ? be32_get(h + QH_HEADER_LENGTH)
							 : QH_V2_LENGTH,
				       &backing_raw, err);
	if (ret)
		return ret;
	img->file_end = (fsize + img->cluster_size - 1) & ~(img->cluster_size - 1);
	img->l2c_max = QCOW_L2_CACHE_BYTES;
	img->rbc_max = QCOW_RB_CACHE_BYTES;
	ret = read_table(img, img->l1_offset, img->l1_size, &img->l1);
	if (!ret && img->version > 1)
		ret = read_table(img, img->rt_offset, img->rt_entries, &img->rt);
	if (ret)
		return qimg_refuse(err, ret, "cannot read the L1 or refcount table: %s",
				   strerror(-ret));
	img->l2c = calloc(img->l1_size ? img->l1_size : 1, sizeof(*img->l2c));
	img->rbc = calloc(img->rt_entries ? img->rt_entries : 1, sizeof(*img->rbc));
	if (!img->l2c || !img->rbc)
		return qimg_refuse(err, -ENOMEM, "out of memory");
	if (!(flags & QIMG_NO_BACKING)) {
		ret = open_backing(img, h, path, depth, backing_raw, err);
		if (ret)
			return ret;
	}
	ret = clear_autoclear(img, h);
	if (ret)
		return qimg_refuse(err, ret, "cannot update the header: %s", strerror(-ret));
	if (img->version == 1)
		snprintf(img->desc, sizeof(img->desc), "qcow v1, %llu-byte clusters%s%s",
			 (unsigned long long)img->cluster_size,
			 img->backing ? ", backing file" : "", img->read_only ? ", read-only" : "");
	else
		snprintf(img->desc, sizeof(img->desc),
			 "qcow2 v%u, %llu-byte clusters, %u-bit "
			 "refcounts%s%s",
			 img->version, (unsigned long long)img->cluster_size, img->refcount_bits,
			 img->backing ? ", backing file" : "", img->read_only ? ", read-only" : "");
	return 0;
}

static int open_chain(int fd, const char *path, unsigned int flags, unsigned int depth,
		      bool force_raw, struct qimg **out, char *err)
{
	struct qimg *img = calloc(1, sizeof(*img));
	uint8_t *h = NULL;
	struct stat st;
	int ret;

	err[0] = '\0';
	*out = NULL;
	if (!img) {
		close(fd);
		return qimg_refuse(err, -ENOMEM, "out of memory");
	}
	img->fd = fd;
	img->read_only = flags & QIMG_RDONLY;
	{
		pthread_rwlockattr_t a;

		/* A discard must not starve behind a stream of reads and writes. */
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&img->io_lock, &a);
		pthread_rwlockattr_destroy(&a);
	}
	pthread_mutex_init(&img->meta, NULL);
	pthread_cond_init(&img->first_done, NULL);
	if (fstat(fd, &st)) {
		ret = qimg_refuse(err, -errno, "fstat: %s", strerror(errno));
		goto fail;
	}
	h = calloc(1, 1u << 21);
	if (!h) {
		ret = qimg_refuse(err, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = qio_pread(
		fd, h,
		(size_t)((uint64_t)st.st_size < (1u << 21) ? (uint64_t)st.st_size : (1u << 21)), 0);
	if (ret) {
		qimg_refuse(err, ret, "cannot read the header: %s", strerror(-ret));
		goto fail;
	}
	if (force_raw || be32_get(h) != QCOW_MAGIC) {
		img->raw = true;
		img->size = (uint64_t)st.st_size;
		img->cluster_size = 512;
		snprintf(img->desc, sizeof(img->desc), "raw%s",
			 img->read_only ? ", read-only" : "");
	} else {
		ret = open_qcow2(img, h, (uint64_t)st.st_size, path, flags, depth, err);
		if (ret)
			goto fail;
	}
	free(h);
	*out = img;
	return 0;
fail:
	free(h);
	qimg_close(img);
	return ret;
}

int qimg_open(int fd, const char *path, unsigned int flags, struct qimg **out,
	      char err[QIMG_ERR_LEN])
{
	return open_chain(fd, path, flags, 0, false, out, err);
}

void qimg_close(struct qimg *img)
{
	if (!img)
		return;
	qimg_close(img->backing);
	if (img->resv_n) {
		qmeta_release_reserve(img);
		qio_sync(img->fd);
	}
	qmeta_free_caches(img);
	pthread_rwlock_destroy(&img->io_lock);
	pthread_mutex_destroy(&img->meta);
	pthread_cond_destroy(&img->first_done);
	close(img->fd);
	free(img);
}

uint64_t qimg_size(const struct qimg *img)
{
	return img->size;
}
uint32_t qimg_cluster_size(const struct qimg *img)
{
	return (uint32_t)img->cluster_size;
}
int qimg_fd(const struct qimg *img)
{
	return img->fd;
}
bool qimg_is_raw(const struct qimg *img)
{
	return img->raw;
}
bool qimg_read_only(const struct qimg *img)
{
	return img->read_only;
}
bool qimg_has_backing(const struct qimg *img)
{
	return img->backing;
}
const char *qimg_describe(const struct qimg *img)
{
	return img->desc;
}
bool qimg_discard_frees(const struct qimg *img)
{
	return img->raw || img->version > 1;
}
