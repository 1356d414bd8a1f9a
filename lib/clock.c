// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The clock commands are stamped with (tcmulib_cmd.start_ns) and the daemon
 * measures latencies and timeouts with.
 *
 * CLOCK_MONOTONIC is read in the vDSO without entering the kernel when the
 * clocksource allows it (TSC, arm's counter, kvm-clock).  Where it does not
 * (hpet, acpi_pm: VMs with an unstable TSC, qemu TCG), every read is a system
 * call and costs more than the rest of a command's bookkeeping; there
 * CLOCK_MONOTONIC_COARSE (same timeline, one tick of resolution, always
 * served by the vDSO) is used instead.  Means over many commands stay
 * right; single latencies are then rounded to the tick.
 *
 * TCMU_CLOCK=fine or TCMU_CLOCK=coarse in the environment overrides the
 * choice (tests, or a user who wants one or the other).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Above this many ns per CLOCK_MONOTONIC read, the coarse clock is used. */
#define CLOCK_SLOW_NS 1000
/* ... unless the coarse clock is coarser than this. */
#define COARSE_MAX_RES_NS 20000000

static clockid_t stamp_clock = CLOCK_MONOTONIC;
static uint64_t fine_cost_ns;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

static inline uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* Cheapest of three rounds of 16 reads, in ns per read. */
static uint64_t fine_read_cost(void)
{
	uint64_t best = UINT64_MAX;
	struct timespec a, b, t;
	int r, i;

	for (r = 0; r < 3; r++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (i = 0; i < 16; i++)
			clock_gettime(CLOCK_MONOTONIC, &t);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ts_ns(&b) > ts_ns(&a) && (ts_ns(&b) - ts_ns(&a)) / 17 < best)
			best = (ts_ns(&b) - ts_ns(&a)) / 17;
	}
	return best == UINT64_MAX ? 0 : best;
}

static void clock_pick(void)
{
	const char *force = getenv("TCMU_CLOCK");
	struct timespec res;
	bool coarse_ok =
		!clock_getres(CLOCK_MONOTONIC_COARSE, &res) && ts_ns(&res) <= COARSE_MAX_RES_NS;

	fine_cost_ns = fine_read_cost();
	if (force && !strcmp(force, "fine"))
		stamp_clock = CLOCK_MONOTONIC;
	else if (force && !strcmp(force, "coarse") && coarse_ok)
		stamp_clock = CLOCK_MONOTONIC_COARSE;
	else
		stamp_clock = coarse_ok && fine_cost_ns > CLOCK_SLOW_NS ? CLOCK_MONOTONIC_COARSE
									: CLOCK_MONOTONIC;
}

uint64_t tcmulib_now_ns(void)
{
	struct timespec ts;

	pthread_once(&clock_once, clock_pick);
	clock_gettime(stamp_clock, &ts);
	return ts_ns(&ts);
}

bool tcmulib_clock_is_coarse(uint64_t *fine_read_ns)
{
	pthread_once(&clock_once, clock_pick);
	if (fine_read_ns)
		*fine_read_ns = fine_cost_ns;
	return stamp_clock == CLOCK_MONOTONIC_COARSE;
}
