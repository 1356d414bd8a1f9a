// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Checks lib/iovec.c over a scatter list with uneven and empty segments. */
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

int main(void)
{
	uint8_t a[5], b[0 + 1], c[11], src[16], dst[16];
	struct iovec iov[4];
	size_t i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = i + 1;
	iov[0] = (struct iovec){ a, sizeof(a) };
	iov[1] = (struct iovec){ b, 0 };
	iov[2] = (struct iovec){ c, sizeof(c) };
	iov[3] = (struct iovec){ NULL, 0 };

	STEP("length");
	CHECK_EQ(tcmu_iovec_length(iov, 4), 16);
	CHECK_EQ(tcmu_iovec_length(iov, 0), 0);

	STEP("copy in, bounded by the iovec and by len");
	CHECK_EQ(tcmu_memcpy_into_iovec(iov, 4, src, 16), 16);
	CHECK_EQ(a[4], 5);
	CHECK_EQ(c[0], 6);
	CHECK_EQ(c[10], 16);
	CHECK_EQ(tcmu_memcpy_into_iovec(iov, 4, src, 100), 16);
	memset(c, 0, sizeof(c));
	CHECK_EQ(tcmu_memcpy_into_iovec(iov, 4, src, 3), 3);
	CHECK_EQ(c[0], 0);

	STEP("copy out");
	tcmu_memcpy_into_iovec(iov, 4, src, 16);
	memset(dst, 0, sizeof(dst));
	CHECK_EQ(tcmu_memcpy_from_iovec(dst, sizeof(dst), iov, 4), 16);
	CHECK(!memcmp(dst, src, 16));
	CHECK_EQ(tcmu_memcpy_from_iovec(dst, 7, iov, 4), 7);

	STEP("compare: equal, first difference offset");
	CHECK_EQ(tcmu_iovec_compare(src, iov, 16), -1);
	c[3] ^= 1;
	CHECK_EQ(tcmu_iovec_compare(src, iov, 16), 8);
	CHECK_EQ(tcmu_iovec_compare(src, iov, 8), -1);

	STEP("zero and is_zero");
	CHECK(!tcmu_iovec_is_zero(iov, 4));
	tcmu_iovec_zero(iov, 4);
	CHECK(tcmu_iovec_is_zero(iov, 4));
	CHECK_EQ(a[0] | c[10], 0);

	STEP("seek: whole entries consumed, partial one advanced");
	CHECK_EQ(tcmu_iovec_seek(iov, 4, 7), 2);
	CHECK_EQ(iov[0].iov_len, 0);
	CHECK(iov[2].iov_base == c + 2);
	CHECK_EQ(iov[2].iov_len, 9);
	CHECK_EQ(tcmu_iovec_length(iov, 4), 9);
	CHECK_EQ(tcmu_iovec_seek(iov, 4, 100), 4);
	CHECK_EQ(tcmu_iovec_length(iov, 4), 0);
	return check_exit();
}
