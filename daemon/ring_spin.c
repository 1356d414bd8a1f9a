// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The ring thread's spin rule: whether, and how long, it looks at the ring
 * and the handler's completion queue before it sleeps in poll().
 *
 * Spinning pays when work comes back sooner than a sleeping thread could be
 * woken and the CPU it burns is not needed by the initiator or the kernel.
 * Neither is known in advance (a wake-up costs a few us on bare metal and
 * hundreds under emulation; the CPU pressure a guest sees says little about
 * who needs the CPU), so the rule (tcmu.conf(5), ring_poll = adaptive) is
 * the fixed rule below, switched off where it does not pay:
 *
 *  1. Is there a CPU to spare?  Spinners together never take more than all
 *     CPUs but one (the initiator and the kernel need one): none at all on
 *     a single CPU.
 *  2. Does spinning do more commands?  Time is cut into windows of
 *     SPIN_WINDOW_NS.  Each epoch of SPIN_EPOCH windows starts with one
 *     window spinning and one not, counting the commands taken off the ring
 *     in each; the other windows of the epoch spin only if the spinning
 *     window did SPIN_WIN_PCT % of the other's commands or more.  An idle
 *     pair (no command in either) keeps the earlier answer; a pair with
 *     fewer than SPIN_AB_MIN commands in all says "do not spin": a dozen
 *     commands per window cannot tell the modes apart (the glfs handler at
 *     4k QD1 won half its A/Bs either way, and spinning cost it 20%), and
 *     at such rates there are few wake-ups to save.
 *  3. Otherwise, as fixed: spin ring_poll_us on each idle pass, and after
 *     SPIN_MAX_MISS empty spins in a row not again until a wake-up (or a
 *     spin) brings work, so an idle device costs at most SPIN_MAX_MISS
 *     spins per wake-up.
 *
 * An earlier version also stopped spinning when fewer than a quarter of the
 * recent spins found work, and kept backing off across wake-ups.  At QD1
 * under emulation that left the A/B's spinning window hardly spinning, so
 * the A/B compared two ways of not spinning: 4k QD1 ran at a third of
 * the fixed rule's rate (docs/performance.md, 2026-12-07).
 *
 * ring_poll = fixed is the same without 1 and 2.
 *
 * Everything here is arithmetic on the values passed in (times in ns), so
 * tests drive it with a fake clock.
 */
#include <string.h>

#include "daemon.h"

void tcmur_spin_init(struct tcmur_spin *s, unsigned int ncpus)
{
	memset(s, 0, sizeof(*s));
	s->ncpus = ncpus;
	s->spin_wins = true; /* until the first A/B says otherwise */
}

/* Window w of the epoch: spin in it? */
static bool window_spins(const struct tcmur_spin *s)
{
	if (s->win == 0)
		return true;
	if (s->win == 1)
		return false;
	return s->spin_wins;
}

void tcmur_spin_clock(struct tcmur_spin *s, uint64_t now_ns)
{
	uint64_t wall, rate;

	if (!s->win_start_ns) {
		s->win_start_ns = now_ns;
		s->win_cmds = 0;
		return;
	}
	if (now_ns < s->win_start_ns || now_ns - s->win_start_ns < SPIN_WINDOW_NS)
		return;
	wall = now_ns - s->win_start_ns;
	rate = s->win_cmds * 1000000000ull / wall;
	if (s->win == 0) {
		s->rate_on = rate;
		s->cmds_on = s->win_cmds;
	} else if (s->win == 1) {
		s->rate_off = rate;
		if (s->cmds_on + s->win_cmds >= SPIN_AB_MIN) {
			s->spin_wins = s->rate_on * 100 >= s->rate_off * SPIN_WIN_PCT;
			s->nr_epochs++;
			if (s->spin_wins)
				s->nr_on_won++;
		} else if (s->cmds_on || s->win_cmds) {
			s->spin_wins = false; /* too few to tell, and few wake-ups to save */
			s->nr_few++;
		}
	}
	s->win = (s->win + 1) % SPIN_EPOCH;
	s->win_start_ns = now_ns;
	s->win_cmds = 0;
}

uint64_t tcmur_spin_budget(struct tcmur_spin *s, enum tcmur_ring_poll mode, unsigned int cap_us,
			   unsigned int others_spinning)
{
	uint64_t cap = (uint64_t)cap_us * 1000u;

	if (mode == TCMUR_RING_POLL_OFF || !cap)
		return 0;
	if (mode == TCMUR_RING_POLL_ADAPTIVE) {
		/* 1. a CPU to spare */
		if (s->ncpus < 2 || others_spinning + 1 > s->ncpus - 1) {
			s->nr_no_cpu++;
			return 0;
		}
		/* 2. the A/B */
		if (!window_spins(s)) {
			s->nr_off++;
			return 0;
		}
	}
	/* 3. empty spins in a row: wait for a wake-up */
	if (s->miss_run >= SPIN_MAX_MISS) {
		s->nr_skipped++;
		return 0;
	}
	return cap;
}

void tcmur_spin_hit(struct tcmur_spin *s, uint64_t waited_ns)
{
	/* EWMA, weight 1/8 (the log line reports it) */
	s->hit_wait_ns = s->hit_wait_ns - s->hit_wait_ns / 8 + waited_ns / 8;
	s->miss_run = 0;
	s->nr_hit++;
}

void tcmur_spin_miss(struct tcmur_spin *s)
{
	s->miss_run++;
	s->nr_miss++;
}

void tcmur_spin_woken(struct tcmur_spin *s)
{
	s->miss_run = 0;
}
