// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * lib/clock.c: tcmulib_now_ns() stays on the CLOCK_MONOTONIC timeline,
 * never goes back, and honours TCMU_CLOCK.  ctest runs it three times:
 * TCMU_CLOCK unset, =fine and =coarse (argv[1] says which to expect).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../check.h"
#include "libtcmu.h"

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static uint64_t mono(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts_ns(&ts);
}

int main(int argc, char **argv)
{
	const char *want = argc > 1 ? argv[1] : "auto";
	uint64_t cost = 0, prev, now, before, after, res_ns;
	struct timespec res;
	bool coarse;
	int i;

	coarse = tcmulib_clock_is_coarse(&cost);
	printf("clock: %s, CLOCK_MONOTONIC read costs %llu ns here\n",
	       coarse ? "CLOCK_MONOTONIC_COARSE" : "CLOCK_MONOTONIC", (unsigned long long)cost);
	CHECK(cost > 0);

	STEP("TCMU_CLOCK");
	if (!strcmp(want, "fine"))
		CHECK(!coarse);
	else if (!strcmp(want, "coarse"))
		CHECK(coarse);
	else
		CHECK(coarse == (cost > 1000)); /* the documented threshold */

	STEP("on the CLOCK_MONOTONIC timeline");
	CHECK(!clock_getres(coarse ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC, &res));
	res_ns = ts_ns(&res);
	for (i = 0; i < 100; i++) {
		before = mono(CLOCK_MONOTONIC);
		now = tcmulib_now_ns();
		after = mono(CLOCK_MONOTONIC);
		/* The coarse clock lags the fine one by about a tick; ticks
		 * come late on a loaded VM, so allow 100 ms (any other
		 * clock is off by far more). */
		CHECK(now <= after);
		CHECK(now + res_ns + 100000000ull >= before);
	}

	STEP("never goes back");
	prev = tcmulib_now_ns();
	for (i = 0; i < 100000; i++) {
		now = tcmulib_now_ns();
		if (now < prev) {
			CHECK(now >= prev);
			break;
		}
		prev = now;
	}
	return check_exit();
}
