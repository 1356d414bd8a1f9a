// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The upstream 1.5 ABI as an upstream-style handler sees it (built with
 * -DTCMU_UPSTREAM_COMPAT): status numbers and struct layouts as upstream's
 * x86-64 binaries use them, the consuming tcmu_memcpy_into_iovec() /
 * tcmu_memcpy_from_iovec(), the two-argument tcmu_iovec_seek(), and the
 * daemon's status translation (every upstream status survives a round trip
 * through the native numbers).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tcmu-runner.h"
#include "tcmur_device.h"
#include "libtcmu.h"

#include "../check.h"

/* The daemon's translation (daemon/compat.h; native mode there). */
int tcmur_compat_sts_to_native(int up_sts);
int tcmur_compat_sts_to_upstream(int sts);

static void t_numbers_and_layout(void)
{
	printf("check: upstream status numbers and struct offsets (x86-64)\n");
	CHECK(TCMU_STS_ASYNC_HANDLED == -2 && TCMU_STS_NOT_HANDLED == -1 && TCMU_STS_OK == 0,
	      "async %d not handled %d", TCMU_STS_ASYNC_HANDLED, TCMU_STS_NOT_HANDLED);
	CHECK(TCMU_STS_PASSTHROUGH_ERR == 2 && TCMU_STS_TIMEOUT == 11 && TCMU_STS_RANGE == 14 &&
		      TCMU_STS_NO_LOCK_HOLDERS == 22 && TCMU_STS_TOO_MANY_TGT_DESC == 28,
	      "numbers");
	CHECK(SENSE_BUFFERSIZE == 96, "%d", SENSE_BUFFERSIZE);
#if defined(__x86_64__)
	CHECK(offsetof(struct tcmulib_cmd, sense_buf) == 32 &&
		      offsetof(struct tcmulib_cmd, hm_private) == 128,
	      "tcmulib_cmd");
	CHECK(sizeof(struct tcmur_cmd) == 96 && offsetof(struct tcmur_cmd, requested) == 40 &&
		      offsetof(struct tcmur_cmd, done) == 88,
	      "tcmur_cmd %zu", sizeof(struct tcmur_cmd));
	CHECK(offsetof(struct tcmur_handler, nr_threads) == 64 &&
		      offsetof(struct tcmur_handler, handle_cmd) == 72 &&
		      offsetof(struct tcmur_handler, _is_dbus_handler) == 168 &&
		      sizeof(struct tcmur_handler) == 200,
	      "tcmur_handler %zu", sizeof(struct tcmur_handler));
#endif
}

static void t_iovec(void)
{
	char a[4], b[6], out[10];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	size_t n;

	printf("check: tcmu_memcpy_into_iovec() consumes, tcmu_iovec_seek(iov, count)\n");
	n = tcmu_memcpy_into_iovec(iov, 2, "0123456", 7);
	CHECK(n == 7 && iov[0].iov_len == 0 && iov[1].iov_len == 3 && iov[1].iov_base == b + 3,
	      "copied %zu, left %zu/%zu", n, iov[0].iov_len, iov[1].iov_len);
	n = tcmu_memcpy_into_iovec(iov, 2, "789", 3);
	CHECK(n == 3 && !memcmp(a, "0123", 4) && !memcmp(b, "456789", 6), "second copy");

	iov[0] = (struct iovec){ a, sizeof(a) };
	iov[1] = (struct iovec){ b, sizeof(b) };
	n = tcmu_iovec_seek(iov, 5);
	CHECK(n == 1 && iov[1].iov_base == b + 1 && iov[1].iov_len == 5, "seek consumed %zu", n);
	n = tcmu_memcpy_from_iovec(out, sizeof(out), iov, 2);
	CHECK(n == 5 && !memcmp(out, "56789", 5) && iov[1].iov_len == 0, "from: %zu", n);
}

static void t_translation(void)
{
	static const int all[] = {
#define ONE_(name, value) TCMU_STS_##name,
		TCMU_UPSTREAM_STS_LIST(ONE_)
#undef ONE_
	};
	size_t i;

	printf("check: every upstream status survives upstream -> native -> upstream\n");
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		CHECK(tcmur_compat_sts_to_upstream(tcmur_compat_sts_to_native(all[i])) == all[i],
		      "status %d", all[i]);
	CHECK(tcmur_compat_sts_to_native(TCMU_STS_ASYNC_HANDLED) != TCMU_STS_ASYNC_HANDLED,
	      "ASYNC_HANDLED has a different native number");
}

int main(void)
{
	t_numbers_and_layout();
	t_iovec();
	t_translation();
	return check_exit();
}
