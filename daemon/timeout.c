// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Per-device command time out (cfgstring ";tcmur_cmd_time_out=N"): the ring
 * thread flags commands older than N seconds once, logs and counts them, and
 * tells the handler.  The command itself still completes exactly once.
 */
#include "daemon.h"

int tcmur_timeouts_check(struct tcmur_device *rdev, uint64_t now_ns)
{
	uint64_t tmo = (uint64_t)rdev->opts.cmd_time_out * 1000000000ull;
	struct tcmur_cmd_priv *p;

	if (!tmo)
		return -1;
	/* The in-flight list is in arrival order: stop at the first young one. */
	for (p = rdev->inflight.in_next; p != &rdev->inflight; p = p->in_next) {
		uint64_t deadline = p->tc.start_ns + tmo;

		if (atomic_load_explicit(&p->flags, memory_order_relaxed) & TCMUR_CMD_TIMED_OUT)
			continue;
		if (deadline > now_ns)
			return (int)((deadline - now_ns) / 1000000ull) + 1;
		atomic_fetch_or(&p->flags, TCMUR_CMD_TIMED_OUT);
		p->tc.timed_out = true;
		tcmur_metrics_add(&rdev->m.timeouts, 1);
		tcmu_dev_warn(rdev->dev, "command %u (opcode 0x%02x) timed out after %u s\n",
			      p->tc.lib_cmd->cmd_id, p->tc.lib_cmd->cdb[0],
			      rdev->opts.cmd_time_out);
		if (rdev->h->cmd_timed_out)
			rdev->h->cmd_timed_out(rdev->dev, &p->tc);
	}
	return -1;
}
