// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Compressed clusters: zlib raw deflate, as qemu writes them. */
#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

#include "qcow_priv.h"

/* Inflate the compressed cluster an L2 entry describes into cluster (cluster_size bytes). */
int qdata_read_compressed(struct qimg *img, uint64_t entry, uint8_t *cluster)
{
	uint64_t off = entry & img->coffset_mask;
	uint64_t nsec = ((entry >> img->csize_shift) & img->csize_mask) + 1;
	/* v1 gives the length in bytes, v2/v3 in 512-byte sectors. */
	uint64_t len = img->version == 1 ? (entry >> img->csize_shift) & img->csize_mask :
		       nsec * 512 - (off & 511);
	uint64_t end = __atomic_load_n(&img->file_end, __ATOMIC_RELAXED);
	uint8_t *in;
	z_stream zs = { 0 };
	int ret, zr;

	if (!off || off >= end)
		return -EIO;
	if (len > end - off)
		len = end - off;
	in = malloc(len);
	if (!in)
		return -ENOMEM;
	ret = qio_pread(img->fd, in, len, off);
	if (ret)
		goto out;
	if (inflateInit2(&zs, -15) != Z_OK) {
		ret = -ENOMEM;
		goto out;
	}
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	zs.next_out = cluster;
	zs.avail_out = (uInt)img->cluster_size;
	zr = inflate(&zs, Z_FINISH);
	/* The whole cluster must come out; trailing input is sector padding. */
	if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || zs.avail_out)
		ret = -EIO;
	inflateEnd(&zs);
out:
	free(in);
	return ret;
}
