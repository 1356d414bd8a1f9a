/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * iovec_clip.h: the part of an iovec that covers its first len bytes, for
 * the async handlers (rbd, glfs) that keep a private copy of a command's
 * iovec.  The engine's sub-I/O may hand over an iovec that runs past len.
 */
#ifndef TCMU_HANDLERS_IOVEC_CLIP_H
#define TCMU_HANDLERS_IOVEC_CLIP_H

#include <stddef.h>
#include <sys/uio.h>

/* Copy iov into dst (room for iov_cnt entries), ending at len bytes; returns
 * the number of entries used.  Any thread; never blocks. */
static inline size_t handler_iovec_clip(struct iovec *dst, const struct iovec *iov, size_t iov_cnt,
					size_t len)
{
	size_t i;

	for (i = 0; i < iov_cnt && len; i++) {
		dst[i] = iov[i];
		if (dst[i].iov_len > len)
			dst[i].iov_len = len;
		len -= dst[i].iov_len;
	}
	return i;
}

#endif
