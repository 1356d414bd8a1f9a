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
	tcmur_spin_woken(&s);
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
	int i;

	STEP("adaptive budget: all of ring_poll_us, a new value at once");
	tcmur_spin_init(&s, 2);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 50 * US, "first");
	for (i = 0; i < 64; i++)
		tcmur_spin_hit(&s, 12 * US);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 50 * US, "after hits");
	CHECK(s.hit_wait_ns > 10 * US && s.hit_wait_ns <= 12 * US, "mean hit wait %llu",
	      (unsigned long long)s.hit_wait_ns);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 20, 0) == 20 * US, "20 us");
}

static void test_backoff(void)
{
	struct tcmur_spin s;
	int i, n;

	STEP("adaptive: after SPIN_MAX_MISS empty spins no spin until a wake-up");
	tcmur_spin_init(&s, 2);
	for (i = 0; i < SPIN_MAX_MISS; i++) {
		CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0, "spin %d", i);
		tcmur_spin_miss(&s);
	}
	n = 0;
	for (i = 0; i < 100; i++)
		n += tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0;
	CHECK(n == 0 && s.nr_skipped == 100, "%d spins, %llu skipped", n,
	      (unsigned long long)s.nr_skipped);
	tcmur_spin_woken(&s);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 50 * US, "woken: spins");

	STEP("a hit resets the run of misses; misses between hits never back off");
	tcmur_spin_init(&s, 2);
	for (i = 0; i < 400; i++) {
		CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) > 0, "pass %d", i);
		if (i % SPIN_MAX_MISS == 0)
			tcmur_spin_hit(&s, 5 * US);
		else
			tcmur_spin_miss(&s);
	}
	CHECK(s.nr_hit == 100 && s.nr_miss == 300, "hits %llu misses %llu",
	      (unsigned long long)s.nr_hit, (unsigned long long)s.nr_miss);

	STEP("a wake-up does not override the A/B or the CPU rule");
	tcmur_spin_init(&s, 1);
	tcmur_spin_woken(&s);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 0, "1 CPU");
	tcmur_spin_init(&s, 2);
	s.win = 1;
	tcmur_spin_woken(&s);
	CHECK(tcmur_spin_budget(&s, TCMUR_RING_POLL_ADAPTIVE, 50, 0) == 0, "window 1");
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

	STEP("fewer than SPIN_AB_MIN commands in a pair: do not spin, whoever won");
	while (s.win)
		window(&s, &now, SPIN_WINDOW_NS, 0);
	window(&s, &now, SPIN_WINDOW_NS, SPIN_AB_MIN - 2); /* spinning does far more */
	window(&s, &now, SPIN_WINDOW_NS, 1);
	CHECK(!s.spin_wins && s.nr_epochs == 3 && s.nr_few == 1, "spin wins %d, epochs %llu",
	      s.spin_wins, (unsigned long long)s.nr_epochs);
	CHECK(!spins(&s), "window 2 does not spin");
	while (s.win)
		window(&s, &now, SPIN_WINDOW_NS, 0);
	window(&s, &now, SPIN_WINDOW_NS, SPIN_AB_MIN - 1); /* one more: enough to decide */
	window(&s, &now, SPIN_WINDOW_NS, 1);
	CHECK(s.spin_wins && s.nr_epochs == 4 && s.nr_few == 1, "spin wins %d, epochs %llu",
	      s.spin_wins, (unsigned long long)s.nr_epochs);
	CHECK(spins(&s), "window 2 spins");

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
