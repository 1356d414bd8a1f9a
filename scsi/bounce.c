// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Helpers of the slow commands: bounded bounce buffers, copying a window
 * of a command's Data-Out, zero-filling and pattern-filling the medium.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

/* Copy len bytes starting at off of the iovec data into dst; returns bytes. */
size_t scsi_iov_read_at(struct iovec *iov, size_t iov_cnt, size_t off, void *dst, size_t len)
{
	uint8_t *d = dst;
	size_t done = 0;

	for (; iov_cnt && done < len; iov++, iov_cnt--) {
		size_t n;

		if (off >= iov->iov_len) {
			off -= iov->iov_len;
			continue;
		}
		n = iov->iov_len - off;
		if (n > len - done)
			n = len - done;
		memcpy(d + done, (uint8_t *)iov->iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

/* Copy len bytes from src into the iovec data at off; returns bytes. */
size_t scsi_iov_write_at(struct iovec *iov, size_t iov_cnt, size_t off, const void *src, size_t len)
{
	const uint8_t *s = src;
	size_t done = 0;

	for (; iov_cnt && done < len; iov++, iov_cnt--) {
		size_t n;

		if (off >= iov->iov_len) {
			off -= iov->iov_len;
			continue;
		}
		n = iov->iov_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)iov->iov_base + off, s + done, n);
		done += n;
		off = 0;
	}
	return done;
}

/* A chunk size in bytes: whole blocks, at most SCSI_BOUNCE_MAX, at most total. */
size_t scsi_chunk_len(uint32_t block_size, uint64_t total)
{
	size_t chunk = SCSI_BOUNCE_MAX - SCSI_BOUNCE_MAX % block_size;

	if (!chunk)
		chunk = block_size;
	return total < chunk ? (size_t)total : chunk;
}

/*
 * Write the block at pattern repeatedly over [off, off+len) with plain
 * writes; len is a multiple of block_size.  A NULL pattern writes zeroes.
 */
int scsi_write_pattern(struct scsi_dev *sd, const void *pattern, uint32_t block_size, uint64_t off,
		       uint64_t len, bool fua, atomic_uint *progress)
{
	size_t chunk = scsi_chunk_len(block_size, len), i;
	uint64_t done = 0;
	uint8_t *buf;
	int ret = TCMU_STS_OK;

	if (!len)
		return TCMU_STS_OK;
	buf = calloc(1, chunk);
	if (!buf)
		return TCMU_STS_NO_RESOURCE;
	if (pattern)
		for (i = 0; i < chunk; i += block_size)
			memcpy(buf + i, pattern, block_size);

	while (done < len) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		struct iovec iov = { .iov_base = buf, .iov_len = n };

		ret = scsi_be_write(sd, &iov, 1, n, off + done, fua);
		if (ret != TCMU_STS_OK)
			break;
		done += n;
		if (progress)
			atomic_store(progress, (unsigned int)((double)done / len * 65535));
	}
	free(buf);
	return ret;
}

int scsi_write_zeroes(struct scsi_dev *sd, uint64_t off, uint64_t len)
{
	return scsi_write_pattern(sd, NULL, tcmu_dev_get_block_size(sd->dev), off, len, false,
				  NULL);
}
