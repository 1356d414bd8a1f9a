/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Per-device command counters.  Every command completes on its device's ring
 * thread, which is the single writer of these counters: updates are plain
 * relaxed load+store (no lock, no locked RMW), readers take snapshots.
 */
#ifndef TCMUR_METRICS_H
#define TCMUR_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "dbus.h"

struct tcmur_metrics {
	_Atomic uint64_t cmds[TCMUR_METRICS_NR_DIRS];
	_Atomic uint64_t bytes[TCMUR_METRICS_NR_DIRS];
	_Atomic uint64_t lat_buckets[TCMUR_METRICS_LAT_BUCKETS];
	_Atomic uint64_t lat_total_ns;
	_Atomic uint64_t errors;
	_Atomic uint64_t timeouts;
	_Atomic uint64_t aborts;
	_Atomic uint32_t in_flight;
	/* Any thread (handler notifications): atomic_fetch_add. */
	_Atomic uint64_t lock_lost;
	_Atomic uint64_t conn_lost;
	_Atomic uint64_t recoveries;	/* recovery.c: reopened after a loss */
};

/* Single-writer increment (ring thread only). */
static inline void tcmur_metrics_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline void tcmur_metrics_set_inflight(struct tcmur_metrics *m, uint32_t n)
{
	atomic_store_explicit(&m->in_flight, n, memory_order_relaxed);
}

/* Ring thread: account one completed command. */
void tcmur_metrics_complete(struct tcmur_metrics *m, unsigned int dir, uint64_t bytes,
			    uint64_t lat_ns, int sts);
/* Any thread: a consistent-enough copy for DBus or tests. */
void tcmur_metrics_snapshot(const struct tcmur_metrics *m, struct tcmur_dev_metrics *out);

#endif
