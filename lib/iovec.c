// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Helpers over a command's scatter list (struct iovec arrays): length,
 * copies in and out, zeroing, seeking and comparison.
 */
#include <string.h>

#include "libtcmu.h"

size_t tcmu_iovec_length(struct iovec *iovec, size_t iov_cnt)
{
	size_t len = 0;

	while (iov_cnt--)
		len += iovec++->iov_len;
	return len;
}

size_t tcmu_iovec_fill(struct iovec *iovec, size_t iov_cnt, void *src, size_t len)
{
	const uint8_t *s = src;
	size_t done = 0;

	for (; len && iov_cnt; iovec++, iov_cnt--) {
		size_t n = iovec->iov_len < len ? iovec->iov_len : len;

		if (n)
			memcpy(iovec->iov_base, s + done, n);
		done += n;
		len -= n;
	}
	return done;
}

size_t tcmu_iovec_gather(void *dest, size_t len, struct iovec *iovec, size_t iov_cnt)
{
	uint8_t *d = dest;
	size_t done = 0;

	for (; len && iov_cnt; iovec++, iov_cnt--) {
		size_t n = iovec->iov_len < len ? iovec->iov_len : len;

		if (n)
			memcpy(d + done, iovec->iov_base, n);
		done += n;
		len -= n;
	}
	return done;
}

void tcmu_iovec_zero(struct iovec *iovec, size_t iov_cnt)
{
	for (; iov_cnt; iovec++, iov_cnt--)
		if (iovec->iov_len)
			memset(iovec->iov_base, 0, iovec->iov_len);
}

/*
 * Consume count bytes from the front of the array: fully used entries are
 * left with iov_len 0, a partly used one is advanced in place.
 */
size_t tcmu_iovec_advance(struct iovec *iovec, size_t iov_cnt, size_t count)
{
	size_t consumed = 0;

	for (; count && iov_cnt; iovec++, iov_cnt--) {
		if (count < iovec->iov_len) {
			iovec->iov_base = (uint8_t *)iovec->iov_base + count;
			iovec->iov_len -= count;
			break;
		}
		count -= iovec->iov_len;
		if (iovec->iov_len)
			iovec->iov_base = (uint8_t *)iovec->iov_base + iovec->iov_len;
		iovec->iov_len = 0;
		consumed++;
	}
	return consumed;
}

/*
 * Upstream's meanings of three names (see libtcmu.h): tcmu_iovec_seek()
 * has no entry count (the caller guarantees count fits), and the memcpy
 * pair consumes what it copied.
 */
#undef tcmu_iovec_seek
#undef tcmu_memcpy_into_iovec
#undef tcmu_memcpy_from_iovec
size_t tcmu_iovec_seek(struct iovec *iovec, size_t count);
size_t tcmu_iovec_seek(struct iovec *iovec, size_t count)
{
	return tcmu_iovec_advance(iovec, SIZE_MAX, count);
}

size_t tcmu_memcpy_into_iovec(struct iovec *iovec, size_t iov_cnt, void *src, size_t len)
{
	size_t done = tcmu_iovec_fill(iovec, iov_cnt, src, len);

	tcmu_iovec_advance(iovec, iov_cnt, done);
	return done;
}

size_t tcmu_memcpy_from_iovec(void *dest, size_t len, struct iovec *iovec, size_t iov_cnt)
{
	size_t done = tcmu_iovec_gather(dest, len, iovec, iov_cnt);

	tcmu_iovec_advance(iovec, iov_cnt, done);
	return done;
}

off_t tcmu_iovec_compare(void *mem, struct iovec *iovec, size_t size)
{
	const uint8_t *m = mem;
	size_t off = 0;

	for (; size; iovec++) {
		const uint8_t *b = iovec->iov_base;
		size_t n = iovec->iov_len < size ? iovec->iov_len : size;

		if (n && memcmp(m + off, b, n)) {
			size_t i;

			for (i = 0; i < n; i++)
				if (m[off + i] != b[i])
					return off + i;
		}
		off += n;
		size -= n;
	}
	return -1;
}

bool tcmu_iovec_is_zero(struct iovec *iovec, size_t iov_cnt)
{
	for (; iov_cnt; iovec++, iov_cnt--) {
		const uint8_t *b = iovec->iov_base;
		size_t i;

		for (i = 0; i < iovec->iov_len; i++)
			if (b[i])
				return false;
	}
	return true;
}
