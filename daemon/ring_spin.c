// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The ring thread's spin rule: whether, and how long, it looks at the ring
 * and the handler's completion queue before it sleeps in poll().
 *
 * Spinning pays when work comes back sooner than a sleeping thread could be
 * woken, and when the CPU it burns would otherwise be idle.  The rule
 * (tcmu.conf(5), ring_poll = adaptive) therefore asks three questions on
 * each idle pass:
 *
 *  1. Is there a CPU to spare?  Spinners together never take more than all
 *     CPUs but one (the initiator and the kernel need one), and none spins
 *     while the kernel reports CPU pressure (/proc/pressure/cpu "some":
 *     tasks waiting for a CPU) above SPIN_PSI_PERMILLE of a window.  A
 *     window with pressure holds spinning off for a number of windows that
 *     doubles each time spinning is tried again and pressure comes back
 *     (up to SPIN_HOLD_MAX); a window without pressure shortens it again.
 *  2. Does spinning find work?  An EWMA of the share of spins that found
 *     work before their budget ran out.  Below SPIN_MIN_HIT_RATE, or after
 *     SPIN_MAX_MISS empty spins in a row, only one idle pass in
 *     SPIN_PROBE_EVERY spins (a probe), so a change of load is noticed.
 *  3. How long?  Three times the recent wait of a successful spin, at least
 *     half of ring_poll_us and at most ring_poll_us.
 *
 * ring_poll = fixed is the earlier rule: spin ring_poll_us on every idle pass,
 * stop after SPIN_MAX_MISS empty spins in a row until a wake-up brings work.
 *
 * Everything here is arithmetic on the values passed in (times in ns, the
 * pressure counter in us), so tests drive it with a fake clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

#define RATE_ONE 1024u /* hit_rate scale */

void tcmur_spin_init(struct tcmur_spin *s, unsigned int ncpus)
{
	memset(s, 0, sizeof(*s));
	s->ncpus = ncpus;
	s->hit_rate = RATE_ONE; /* optimistic: the first spins decide */
	s->hold_next = 1;
}

uint64_t tcmur_spin_budget(struct tcmur_spin *s, enum tcmur_ring_poll mode, unsigned int cap_us,
			   unsigned int others_spinning)
{
	uint64_t cap = (uint64_t)cap_us * 1000u, b;

	if (mode == TCMUR_RING_POLL_OFF || !cap)
		return 0;
	if (mode == TCMUR_RING_POLL_FIXED)
		return s->miss_run < SPIN_MAX_MISS ? cap : 0;

	/* 1. a CPU to spare */
	if (s->ncpus < 2 || others_spinning + 1 > s->ncpus - 1) {
		s->nr_no_cpu++;
		return 0;
	}
	if (s->hold) {
		s->nr_held++;
		return 0;
	}
	/* 2. spins that find nothing: probe now and then */
	if (s->hit_rate < SPIN_MIN_HIT_RATE || s->miss_run >= SPIN_MAX_MISS) {
		if (++s->skipped < SPIN_PROBE_EVERY) {
			s->nr_skipped++;
			return 0;
		}
		s->skipped = 0;
	}
	/* 3. how long */
	b = 3 * s->hit_wait_ns;
	if (b < cap / 2)
		b = cap / 2;
	if (b > cap)
		b = cap;
	return b;
}

void tcmur_spin_hit(struct tcmur_spin *s, uint64_t waited_ns)
{
	s->hit_rate += (RATE_ONE - s->hit_rate) / 8;
	/* EWMA, weight 1/8 */
	s->hit_wait_ns = s->hit_wait_ns - s->hit_wait_ns / 8 + waited_ns / 8;
	s->miss_run = 0;
	s->skipped = 0;
	s->nr_hit++;
}

void tcmur_spin_miss(struct tcmur_spin *s)
{
	s->hit_rate -= s->hit_rate / 8;
	s->miss_run++;
	s->nr_miss++;
}

void tcmur_spin_woken(struct tcmur_spin *s, enum tcmur_ring_poll mode)
{
	if (mode == TCMUR_RING_POLL_FIXED)
		s->miss_run = 0; /* the fixed rule: look again after each wake-up */
}

bool tcmur_spin_sample_due(const struct tcmur_spin *s, uint64_t now_ns)
{
	return now_ns - s->win_start_ns >= SPIN_WINDOW_NS;
}

void tcmur_spin_sample(struct tcmur_spin *s, uint64_t now_ns, uint64_t psi_some_us)
{
	uint64_t wall = now_ns - s->win_start_ns, stall;
	bool first = !s->win_start_ns;

	s->win_start_ns = now_ns;
	if (first || psi_some_us < s->win_psi_us || !wall) {
		s->win_psi_us = psi_some_us;
		return;
	}
	stall = (psi_some_us - s->win_psi_us) * 1000u; /* ns */
	s->win_psi_us = psi_some_us;
	s->last_stall_permille = (unsigned int)(stall * 1000u / wall);
	s->nr_windows++;
	if (s->last_stall_permille > SPIN_PSI_PERMILLE) {
		s->nr_pressure++;
		if (!s->hold) {
			s->hold = s->hold_next;
			if (s->hold_next < SPIN_HOLD_MAX)
				s->hold_next *= 2;
		}
		/* pressure while held: not our spinning; stay off */
	} else if (s->hold) {
		s->hold--;
	} else if (s->hold_next > 1) {
		s->hold_next /= 2;
	}
}

int tcmur_psi_parse(const char *buf, uint64_t *some_us)
{
	const char *p;

	if (strncmp(buf, "some ", 5))
		return -EINVAL;
	p = strstr(buf, "total=");
	if (!p || (strchr(buf, '\n') && p > strchr(buf, '\n')))
		return -EINVAL;
	p += 6;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	*some_us = strtoull(p, NULL, 10);
	return 0;
}

int tcmur_psi_read(int fd, uint64_t *some_us)
{
	char buf[256];
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	return tcmur_psi_parse(buf, some_us);
}
