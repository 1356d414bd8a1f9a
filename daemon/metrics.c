// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Per-device command counters: accounting on the ring thread, snapshots for
 * the DBus thread and tests.
 */
#include "metrics.h"
#include "libtcmu_common.h"

/* tcmur_metrics_lat_bucket() without its loop: floor(log2(us)), capped. */
static inline unsigned int lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int b;

	if (us < 2)
		return 0;
	b = 63u - (unsigned int)__builtin_clzll(us);
	return b < TCMUR_METRICS_LAT_BUCKETS - 1 ? b : TCMUR_METRICS_LAT_BUCKETS - 1;
}

void tcmur_metrics_complete(struct tcmur_metrics *m, unsigned int dir, uint64_t bytes,
			    uint64_t lat_ns, int sts)
{
	if (dir >= TCMUR_METRICS_NR_DIRS)
		dir = TCMUR_METRICS_OTHER;
	tcmur_metrics_add(&m->cmds[dir], 1);
	tcmur_metrics_add(&m->bytes[dir], bytes);
	tcmur_metrics_add(&m->lat_buckets[lat_bucket(lat_ns)], 1);
	tcmur_metrics_add(&m->lat_total_ns, lat_ns);
	if (sts != TCMU_STS_OK)
		tcmur_metrics_add(&m->errors, 1);
}

void tcmur_metrics_snapshot(const struct tcmur_metrics *m, struct tcmur_dev_metrics *out)
{
	unsigned int i;

	for (i = 0; i < TCMUR_METRICS_NR_DIRS; i++) {
		out->cmds[i] = atomic_load_explicit(&m->cmds[i], memory_order_relaxed);
		out->bytes[i] = atomic_load_explicit(&m->bytes[i], memory_order_relaxed);
	}
	for (i = 0; i < TCMUR_METRICS_LAT_BUCKETS; i++)
		out->lat_buckets[i] =
			atomic_load_explicit(&m->lat_buckets[i], memory_order_relaxed);
	out->lat_total_ns = atomic_load_explicit(&m->lat_total_ns, memory_order_relaxed);
	out->in_flight = atomic_load_explicit(&m->in_flight, memory_order_relaxed);
	out->errors = atomic_load_explicit(&m->errors, memory_order_relaxed);
	out->timeouts = atomic_load_explicit(&m->timeouts, memory_order_relaxed);
	out->aborts = atomic_load_explicit(&m->aborts, memory_order_relaxed);
	out->lock_lost = atomic_load_explicit(&m->lock_lost, memory_order_relaxed);
	out->conn_lost = atomic_load_explicit(&m->conn_lost, memory_order_relaxed);
	out->recoveries = atomic_load_explicit(&m->recoveries, memory_order_relaxed);
}

void tcmur_metrics_sum(struct tcmur_dev_metrics *acc, const struct tcmur_dev_metrics *m)
{
	unsigned int i;

	for (i = 0; i < TCMUR_METRICS_NR_DIRS; i++) {
		acc->cmds[i] += m->cmds[i];
		acc->bytes[i] += m->bytes[i];
	}
	for (i = 0; i < TCMUR_METRICS_LAT_BUCKETS; i++)
		acc->lat_buckets[i] += m->lat_buckets[i];
	acc->lat_total_ns += m->lat_total_ns;
	acc->in_flight += m->in_flight;
	acc->errors += m->errors;
	acc->timeouts += m->timeouts;
	acc->aborts += m->aborts;
	acc->lock_lost += m->lock_lost;
	acc->conn_lost += m->conn_lost;
	acc->recoveries += m->recoveries;
}
