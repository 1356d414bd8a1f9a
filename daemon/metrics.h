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

/* Data direction of a command, for the per-direction counters. */
enum tcmur_metrics_dir {
	TCMUR_METRICS_READ,  /* data in: READ*, INQUIRY, ... */
	TCMUR_METRICS_WRITE, /* data out: WRITE*, UNMAP, ... */
	TCMUR_METRICS_OTHER, /* no data (TUR, SYNC CACHE, ...) */
	TCMUR_METRICS_NR_DIRS,
};

/*
 * Latency histogram: bucket 0 counts completions under 2 us, bucket i
 * (1 <= i < last) those in [2^i, 2^(i+1)) us, the last bucket everything from
 * 2^(TCMUR_METRICS_LAT_BUCKETS-1) us (about 8.4 s) up.  Latency is measured
 * from taking the command off the ring to its completion.
 */
#define TCMUR_METRICS_LAT_BUCKETS 24

/* Cumulative counters of one device since it was opened (a snapshot). */
struct tcmur_dev_metrics {
	uint64_t cmds[TCMUR_METRICS_NR_DIRS];  /* commands completed */
	uint64_t bytes[TCMUR_METRICS_NR_DIRS]; /* data bytes transferred */
	uint64_t lat_buckets[TCMUR_METRICS_LAT_BUCKETS];
	uint64_t lat_total_ns; /* sum of all latencies (mean = total/cmds) */
	uint32_t in_flight;    /* taken off the ring, not completed yet */
	uint64_t errors;       /* completed with a status other than GOOD */
	uint64_t timeouts;     /* passed tcmur_cmd_time_out */
	uint64_t aborts;       /* aborted by a TMR (ABORT TASK, LUN RESET...) */
	uint64_t lock_lost;    /* HA: tcmu_notify_lock_lost() */
	uint64_t conn_lost;    /* HA: tcmu_notify_conn_lost() */
	uint64_t recoveries;   /* handler reopened after such a loss */
};

/* The histogram bucket for a latency, for the daemon's bookkeeping. */
static inline unsigned int tcmur_metrics_lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int b = 0;

	while (us >= 2 && b < TCMUR_METRICS_LAT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

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
	_Atomic uint64_t recoveries; /* recovery.c: reopened after a loss */
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
/* acc += m, counter by counter (a device with several queues, each its own writer). */
void tcmur_metrics_sum(struct tcmur_dev_metrics *acc, const struct tcmur_dev_metrics *m);

#endif
