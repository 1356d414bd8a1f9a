// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Compressed clusters: zlib raw deflate, as qemu writes them, and zstd
 * (qcow2 v3 compression_type 1) when built with libzstd.
 */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "qcow_priv.h"

/* Raw deflate in -> exactly out_len bytes out; trailing input is sector padding. */
static int inflate_zlib(const uint8_t *in, uint64_t len, uint8_t *out, uint64_t out_len)
{
	z_stream zs = { 0 };
	int ret = 0, zr;

	if (inflateInit2(&zs, -15) != Z_OK)
		return -ENOMEM;
	zs.next_in = (uint8_t *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)out_len;
	zr = inflate(&zs, Z_FINISH);
	if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || zs.avail_out)
		ret = -EIO;
	inflateEnd(&zs);
	return ret;
}

#ifdef HAVE_ZSTD
/* zstd frames in -> exactly out_len bytes out; trailing input is padding. */
static int inflate_zstd(const uint8_t *in, uint64_t len, uint8_t *out, uint64_t out_len)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	int ret = 0;

	if (!dc)
		return -ENOMEM;
	while (ob.pos < ob.size && ib.pos < ib.size) {
		size_t r = ZSTD_decompressStream(dc, &ob, &ib);

		if (ZSTD_isError(r)) {
			ret = -EIO;
			break;
		}
		if (!r && ob.pos < ob.size && ib.pos == ib.size)
			break;
	}
	if (!ret && ob.pos != ob.size)
		ret = -EIO;
	ZSTD_freeDCtx(dc);
	return ret;
}
#endif

/* Inflate the compressed cluster an L2 entry describes into cluster (cluster_size bytes). */
int qdata_read_compressed(struct qimg *img, uint64_t entry, uint8_t *cluster)
{
	uint64_t off = entry & img->coffset_mask;
	uint64_t nsec = ((entry >> img->csize_shift) & img->csize_mask) + 1;
	/* v1 gives the length in bytes, v2/v3 in 512-byte sectors. */
	uint64_t len = img->version == 1 ? (entry >> img->csize_shift) & img->csize_mask
					 : nsec * 512 - (off & 511);
	uint64_t end = __atomic_load_n(&img->file_end, __ATOMIC_RELAXED);
	uint8_t *in;
	int ret;

	if (!off || off >= end)
		return -EIO;
	if (len > end - off)
		len = end - off;
	if (!len)
		return -EIO;
	in = malloc(len);
	if (!in)
		return -ENOMEM;
	ret = qio_pread(img->fd, in, len, off);
	if (ret)
		goto out;
#ifdef HAVE_ZSTD
	if (img->compression == 1) {
		ret = inflate_zstd(in, len, cluster, img->cluster_size);
		goto out;
	}
#endif
	ret = inflate_zlib(in, len, cluster, img->cluster_size);
out:
	free(in);
	return ret;
}
