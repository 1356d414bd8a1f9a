// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The ring thread's spin rule (daemon/ring_spin.c), driven with a fake clock
 * and a fake CPU pressure counter: every decision is checked, no time is
 * measured.
 */
#include <errno.h>

#include "daemon.h"
#include "dtest.h"

#define US 1000ull
#define MS 1000000ull

/* Feed one pressure window of len ns with stall ns of "some" pressure. */
static void window(struct tcmur_spin *s, uint64_t *now, uint64_t *psi, uint64_t len, uint64_t stall)
{
	*now += len;
	*psi += stall / 1000;
	CHECK(tcmur_spin_sample_due(s, *now), "window of %llu ns is due", (unsigned long long)len);
	tcmur_spin_sample(s, *now, *psi);
}

static void test_modes(void)
{
	struct tcmur_spin s;
	int i;

	STEP("off, or ring_poll_us = 0: never spin");
	tcmur_spin_init(&s, 4);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_OFF, 50, 0) == 0, "off");
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 0, 0) == 0, "adaptive, 0 us");
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_FIXED, 0, 0) == 0, "fixed, 0 us");

	STEP("fixed: the whole ring_poll_us until SPIN_MAX_MISS misses, again after a wake-up");
	tcmur_spin_init(&s, 1); /* one CPU: fixed spins anyway */
	for (i = 0; i < SPIN_MAX_MISS; i++) {
		CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_FIXED, 50, 7) == 50 * US, "spin %d", i);
		tcmur_spin_miss(&s);
	}
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_FIXED, 50, 0) == 0, "backed off");
	tcmur_spin_woken(&s, TCMUR_RING_POLL_FIXED);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_FIXED, 50, 0) == 50 * US, "after wake-up");
}

static void test_cpus(void)
{
	struct tcmur_spin s;

	STEP("adaptive: never on one CPU");
	tcmur_spin_init(&s, 1);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 0, "1 CPU");
	CHECK(s.nr_no_cpu == 1, "counted as no CPU to spare");

	STEP("adaptive: spinners leave one CPU free");
	tcmur_spin_init(&s, 2);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0, "2 CPUs, alone");
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 1) == 0, "2 CPUs, 1 other");
	tcmur_spin_init(&s, 8);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 6) > 0, "8 CPUs, 6 others");
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 7) == 0, "8 CPUs, 7 others");
}

static void test_budget(void)
{
	struct tcmur_spin s;
	uint64_t b;
	int i;

	STEP("adaptive budget: half of ring_poll_us at first, 3x the recent hit wait, capped");
	tcmur_spin_init(&s, 2);
	b = tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0);
	CHECK(b == 25 * US, "first budget %llu", (unsigned long long)b);
	for (i = 0; i < 64; i++)
		tcmur_spin_hit(&s, 12 * US);
	b = tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0);
	CHECK(b > 30 * US && b <= 36 * US, "hits at 12 us: budget %llu", (unsigned long long)b);
	for (i = 0; i < 64; i++)
		tcmur_spin_hit(&s, 40 * US);
	b = tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0);
	CHECK(b == 50 * US, "hits at 40 us: capped at ring_poll_us, %llu", (unsigned long long)b);
	b = tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 20, 0);
	CHECK(b == 20 * US, "new ring_poll_us applies at once, %llu", (unsigned long long)b);
	for (i = 0; i < 64; i++)
		tcmur_spin_hit(&s, 1 * US);
	b = tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0);
	CHECK(b == 25 * US, "hits at 1 us: floor of half, %llu", (unsigned long long)b);
}

static void test_backoff(void)
{
	struct tcmur_spin s;
	int i, spins;

	STEP("adaptive: after SPIN_MAX_MISS empty spins only every SPIN_PROBE_EVERY-th pass spins");
	tcmur_spin_init(&s, 2);
	for (i = 0; i < SPIN_MAX_MISS; i++) {
		CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0, "spin %d", i);
		tcmur_spin_miss(&s);
	}
	tcmur_spin_woken(&s, TCMUR_RING_POLL_ADAPTIVE); /* a wake-up alone changes nothing */
	spins = 0;
	for (i = 0; i < 4 * SPIN_PROBE_EVERY; i++)
		if (tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0)) {
			spins++;
			tcmur_spin_miss(&s);
		}
	CHECK(spins == 4, "%d probes in %d passes", spins, 4 * SPIN_PROBE_EVERY);
	CHECK(s.nr_skipped == (uint64_t)(4 * SPIN_PROBE_EVERY - 4), "skipped %llu",
	      (unsigned long long)s.nr_skipped);

	STEP("a probe that finds work brings spinning back at once");
	for (i = 0; i < SPIN_PROBE_EVERY; i++)
		if (tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0))
			break;
	CHECK(i == SPIN_PROBE_EVERY - 1, "probe on pass %d", i);
	for (i = 0; i < 12; i++)
		tcmur_spin_hit(&s, 5 * US); /* hit rate climbs back above the floor */
	CHECK(s.hit_rate >= SPIN_MIN_HIT_RATE, "hit rate %u", s.hit_rate);
	for (i = 0; i < 5; i++)
		CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0, "pass %d spins",
		      i);

	STEP("a low hit rate alone backs off too (misses interleaved with hits)");
	tcmur_spin_init(&s, 2);
	for (i = 0; i < 40; i++) {
		if (i % 4 == 0)
			tcmur_spin_hit(&s, 5 * US);
		else
			tcmur_spin_miss(&s);
	}
	CHECK(s.miss_run < SPIN_MAX_MISS && s.hit_rate < SPIN_MIN_HIT_RATE, "rate %u run %u",
	      s.hit_rate, s.miss_run);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 0, "backed off");
}

static void test_pressure(void)
{
	struct tcmur_spin s;
	uint64_t now = 5 * 1000 * MS, psi = 777;
	unsigned int i;

	STEP("the first window only sets the baseline");
	tcmur_spin_init(&s, 2);
	CHECK(tcmur_spin_sample_due(&s, now), "due at once");
	tcmur_spin_sample(&s, now, psi);
	CHECK(!tcmur_spin_sample_due(&s, now + SPIN_WINDOW_NS - 1), "not due within the window");
	CHECK(s.hold == 0, "no hold");

	STEP("pressure at or below 10%% of a window: spinning stays on");
	window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS / 10);
	CHECK(s.last_stall_permille == 100 && s.hold == 0, "stall %u hold %u",
	      s.last_stall_permille, s.hold);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0, "spins");

	STEP("pressure above it: hold off one window, then two, then four ...");
	window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS / 2);
	CHECK(s.hold == 1, "hold %u", s.hold);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 0, "held");
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_FIXED, 50, 0) > 0, "fixed ignores pressure");
	window(&s, &now, &psi, SPIN_WINDOW_NS, 0);
	CHECK(s.hold == 0, "released after one quiet window");
	window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS); /* spinning: pressure again */
	CHECK(s.hold == 2, "second hold %u", s.hold);
	window(&s, &now, &psi, SPIN_WINDOW_NS, 0);
	window(&s, &now, &psi, SPIN_WINDOW_NS, 0);
	window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS);
	CHECK(s.hold == 4, "third hold %u", s.hold);

	STEP("pressure while held (not ours) keeps the hold; it never grows past SPIN_HOLD_MAX");
	for (i = 0; i < 10; i++)
		window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS);
	CHECK(s.hold == 4, "hold %u unchanged under outside pressure", s.hold);
	for (i = 0; i < 20; i++) {
		while (s.hold)
			window(&s, &now, &psi, SPIN_WINDOW_NS, 0);
		window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS);
	}
	CHECK(s.hold == SPIN_HOLD_MAX, "hold %u", s.hold);

	STEP("quiet windows while spinning shorten the next hold again");
	while (s.hold)
		window(&s, &now, &psi, SPIN_WINDOW_NS, 0);
	for (i = 0; i < 10; i++)
		window(&s, &now, &psi, SPIN_WINDOW_NS, 0);
	CHECK(s.hold_next == 1, "next hold %u", s.hold_next);
	window(&s, &now, &psi, SPIN_WINDOW_NS, SPIN_WINDOW_NS);
	CHECK(s.hold == 1, "hold %u", s.hold);

	STEP("a longer window is measured by its length; a counter going back resets");
	tcmur_spin_init(&s, 2);
	tcmur_spin_sample(&s, now, psi);
	window(&s, &now, &psi, 4 * SPIN_WINDOW_NS, SPIN_WINDOW_NS / 2); /* 12.5% */
	CHECK(s.last_stall_permille == 125 && s.hold == 1, "stall %u hold %u",
	      s.last_stall_permille, s.hold);
	now += SPIN_WINDOW_NS;
	tcmur_spin_sample(&s, now, 3);
	CHECK(s.hold == 1 && s.win_psi_us == 3, "reset to the new counter");
}

static void test_psi_parse(void)
{
	uint64_t v = 0;

	STEP("/proc/pressure/cpu: the 'some' line's total");
	CHECK(!tcmur_psi_parse("some avg10=1.00 avg60=0.50 avg300=0.10 total=123456789\n"
			       "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
			       &v) &&
		      v == 123456789ull,
	      "total %llu", (unsigned long long)v);
	CHECK(tcmur_psi_parse("full avg10=0 total=5\n", &v) == -EINVAL, "needs 'some' first");
	CHECK(tcmur_psi_parse("some avg10=0.00\nfull total=5\n", &v) == -EINVAL,
	      "total= on the first line only");
	CHECK(tcmur_psi_parse("some total=x\n", &v) == -EINVAL, "digits");
	CHECK(tcmur_psi_read(-1, &v) == -EBADF, "no fd");
}

int main(void)
{
	test_modes();
	test_cpus();
	test_budget();
	test_backoff();
	test_pressure();
	test_psi_parse();
	return check_exit();
}
