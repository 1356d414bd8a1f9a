// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The ring thread's spin rule (daemon/ring_spin.c), driven with a fake clock
 * and fake command counts: every decision is checked, no time is
 * measured.
 */
#include <errno.h>

#include "daemon.h"
#include "dtest.h"

#define US 1000ull
#define MS 1000000ull

/* One A/B window of len ns in which the ring thread took cmds commands. */
static void window(struct tcmur_spin *s, uint64_t *now, uint64_t len, uint64_t cmds)
{
	tcmur_spin_count(s, (unsigned int)cmds);
	*now += len;
	tcmur_spin_clock(s, *now);
}

static bool spins(struct tcmur_spin *s)
{
	return tcmur_spin_budget(s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0;
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

static void test_ab(void)
{
	struct tcmur_spin s;
	uint64_t now = 5000 * MS;
	unsigned int i, on;

	STEP("the first clock reading opens window 0, which spins");
	tcmur_spin_init(&s, 2);
	tcmur_spin_clock(&s, now);
	CHECK(s.win == 0 && spins(&s), "window %u", s.win);
	window(&s, &now, SPIN_WINDOW_NS - 1, 100);
	CHECK(s.win == 0, "a window lasts SPIN_WINDOW_NS");

	STEP("window 1 does not spin; spinning wins with 5%% more commands");
	window(&s, &now, 1, 0); /* window 0: 100 commands in 100 ms */
	CHECK(s.win == 1 && !spins(&s), "window %u spins", s.win);
	window(&s, &now, SPIN_WINDOW_NS, 95); /* window 1: 95 */
	CHECK(s.spin_wins && s.nr_epochs == 1 && s.nr_on_won == 1, "spin wins %d", s.spin_wins);
	on = 0;
	for (i = 2; i < SPIN_EPOCH; i++) {
		on += spins(&s);
		window(&s, &now, SPIN_WINDOW_NS, 100);
	}
	CHECK(on == SPIN_EPOCH - 2, "%u of %u exploiting windows spun", on, SPIN_EPOCH - 2);
	CHECK(s.win == 0, "a new epoch");

	STEP("fewer than 5%% more: not spinning wins (it costs less CPU)");
	window(&s, &now, SPIN_WINDOW_NS, 104);
	window(&s, &now, SPIN_WINDOW_NS, 100);
	CHECK(!s.spin_wins && s.nr_epochs == 2, "spin wins %d", s.spin_wins);
	CHECK(!spins(&s), "window 2 does not spin");

	STEP("windows are measured by their length (a long sleep stretches one)");
	while (s.win)
		window(&s, &now, SPIN_WINDOW_NS, 0);
	window(&s, &now, 4 * SPIN_WINDOW_NS, 400); /* 1000/s */
	window(&s, &now, SPIN_WINDOW_NS, 50);	   /* 500/s */
	CHECK(s.spin_wins && s.rate_on == 1000 && s.rate_off == 500, "on %llu off %llu",
	      (unsigned long long)s.rate_on, (unsigned long long)s.rate_off);

	STEP("an idle pair keeps the earlier answer");
	while (s.win)
		window(&s, &now, SPIN_WINDOW_NS, 0);
	window(&s, &now, SPIN_WINDOW_NS, 0);
	window(&s, &now, SPIN_WINDOW_NS, 0);
	CHECK(s.spin_wins && s.nr_epochs == 3, "kept, epochs %llu",
	      (unsigned long long)s.nr_epochs);

	STEP("a clock going back does not end a window");
	now -= SPIN_WINDOW_NS;
	i = s.win;
	tcmur_spin_clock(&s, now);
	CHECK(s.win == i, "window %u", s.win);
}

int main(void)
{
	test_modes();
	test_cpus();
	test_budget();
	test_backoff();
	test_ab();
	return check_exit();
}
