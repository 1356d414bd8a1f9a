// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The per-device ring thread: drains the command ring, dispatches each
 * command (handler handle_cmd, the SCSI engine, the handler callouts in its
 * thread model) and completes commands.  Every completion funnels through
 * this thread (an MPSC stack plus an eventfd), so the in-flight list and the
 * metrics need no lock and the kernel is kicked once per batch.
 *
 * Data area full: the kernel keeps commands it cannot place in its own
 * queue (qfull) and retries when we complete others; the ring thread never
 * blocks waiting for space.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "scsi_defs.h"

static __thread struct tcmur_device *ring_self;

/* ---- the event stack: any thread -> ring thread ---------------------------- */

static void ring_wake(struct tcmur_device *rdev)
{
	uint64_t one = 1;

	if (ring_self == rdev)
		return; /* the ring thread looks at its stack before sleeping */
	/*
	 * Seq-cst push, load and (ring side) clear-then-take: if we see a wake
	 * pending, the ring thread's next take of the stack sees our push.
	 */
	if (atomic_load(&rdev->wake_pending) || atomic_exchange(&rdev->wake_pending, true))
		return; /* a wake is already on its way */
	if (write(rdev->efd, &one, sizeof(one)) < 0)
		tcmu_dev_err(rdev->dev, "cannot wake the ring thread: %m\n");
}

void tcmur_ring_push(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, int stage)
{
	struct tcmur_cmd_priv *old;

	p->stage = (uint8_t)stage;
	if (ring_self == rdev) {
		/* Completed from a callout on the ring thread: no atomics, no wake. */
		p->next = NULL;
		if (rdev->local_tail)
			rdev->local_tail->next = p;
		else
			rdev->local_head = p;
		rdev->local_tail = p;
		return;
	}
	old = atomic_load_explicit(&rdev->events, memory_order_relaxed);
	do {
		p->next = old;
	} while (!atomic_compare_exchange_weak_explicit(
		&rdev->events, &old, p, memory_order_seq_cst, memory_order_relaxed));
	ring_wake(rdev);
}

void tcmur_cmd_finish_async(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, int sts)
{
	if (atomic_fetch_or(&p->flags, TCMUR_CMD_DONE) & TCMUR_CMD_DONE)
		return; /* already completed (stop-time BUSY) */
	p->sts = sts;
	tcmur_ring_push(rdev, p, TCMUR_STAGE_COMPLETE);
}

void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc)
{
	struct tcmur_cmd_priv *p = data;
	struct tcmur_device *rdev;

	if (!p)
		return;
	if (atomic_load(&p->flags) & TCMUR_CMD_FOREIGN) {
		p->tc.done(dev, &p->tc, rc);
		return;
	}
	if (atomic_load(&p->flags) & TCMUR_CMD_FORCED) {
		/*
		 * Completed with BUSY at stop time while the handler still had it;
		 * the device may be gone (do not use dev).  Drop it.
		 */
		rdev = p->rdev;
		if (!atomic_exchange(&rdev->late_logged, true))
			tcmu_err("a handler completed a command after the device stopped "
				 "waiting for it (status %d); ignored\n",
				 rc);
		return;
	}
	if (p->subio) {
		tcmur_subio_done(p, rc);
		return;
	}
	rdev = p->rdev;
	p->hsts = rc;
	if (atomic_fetch_or(&p->flags, TCMUR_CMD_COMPLETED) & TCMUR_CMD_IN_CALLOUT)
		return; /* from inside a callout that returns the status: the worker decides */
	if (p->fua_pending) {
		p->fua_pending = false;
		if (rc == TCMU_STS_OK) {
			tcmur_ring_push(rdev, p, TCMUR_STAGE_FUA_FLUSH);
			return;
		}
	}
	if (atomic_fetch_or(&p->flags, TCMUR_CMD_DONE) & TCMUR_CMD_DONE) {
		if (!(atomic_load(&p->flags) & TCMUR_CMD_TIMED_OUT))
			tcmu_dev_err(dev, "command completed twice by the handler; ignored\n");
		return;
	}
	p->sts = rc;
	tcmur_ring_push(rdev, p, TCMUR_STAGE_COMPLETE);
}

static void cmd_done_cb(struct tcmu_device *dev, struct tcmur_cmd *cmd, int ret)
{
	tcmur_cmd_complete(dev, cmd, ret);
}

/* ---- the command pool (ring thread) ---------------------------------------- */

#define CMD_CHUNK 64

struct tcmur_cmd_chunk {
	struct tcmur_cmd_chunk *next;
	struct tcmur_cmd_priv cmds[CMD_CHUNK];
};

static struct tcmur_cmd_priv *cmd_get(struct tcmur_device *rdev)
{
	struct tcmur_cmd_priv *p = rdev->free_cmds;

	if (!p) {
		struct tcmur_cmd_chunk *c = calloc(1, sizeof(*c));
		unsigned int i;

		if (!c)
			return NULL;
		c->next = rdev->cmd_chunks;
		rdev->cmd_chunks = c;
		for (i = 0; i < CMD_CHUNK - 1; i++)
			c->cmds[i].next = &c->cmds[i + 1];
		p = &c->cmds[0];
	}
	rdev->free_cmds = p->next;
	memset(p, 0, sizeof(*p));
	return p;
}

static void cmd_put(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	p->tc.lib_cmd = NULL;
	p->next = rdev->free_cmds;
	rdev->free_cmds = p;
}

void tcmur_cmd_pool_free(struct tcmur_device *rdev)
{
	struct tcmur_cmd_chunk *c;

	while ((c = rdev->cmd_chunks)) {
		rdev->cmd_chunks = c->next;
		free(c);
	}
	rdev->free_cmds = NULL;
}

/* ---- ring thread: completion ----------------------------------------------- */

static void finish(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, int sts, uint64_t now)
{
	struct tcmulib_cmd *lc = p->tc.lib_cmd;
	uint64_t bytes = 0;

	p->in_prev->in_next = p->in_next;
	p->in_next->in_prev = p->in_prev;
	rdev->nr_inflight--;
	tcmur_metrics_set_inflight(&rdev->m, rdev->nr_inflight);

	if (sts == TCMU_STS_OK)
		bytes = p->dir == TCMUR_METRICS_READ && lc->read_len_valid ? lc->read_len
									   : lc->data_len;
	tcmur_metrics_complete(&rdev->m, p->dir, bytes,
			       now > p->tc.start_ns ? now - p->tc.start_ns : 0, sts);
	if (sts == TCMU_STS_ASYNC_HANDLED || sts == TCMU_STS_NOT_HANDLED)
		sts = TCMU_STS_INVALID_CMD; /* never a final status */
	tcmulib_command_complete(rdev->dev, lc, sts);
	rdev->need_notify = true;
	if (!(atomic_load_explicit(&p->flags, memory_order_relaxed) & TCMUR_CMD_FORCED))
		cmd_put(rdev, p); /* a forced one stays: the handler may still use it */
}

/* ---- ring thread: dispatch ------------------------------------------------- */

static void queue_work(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, int work)
{
	p->work = (uint8_t)work;
	p->next = NULL;
	if (rdev->batch_tail)
		rdev->batch_tail->next = p;
	else
		rdev->batch_head = p;
	rdev->batch_tail = p;
	rdev->batch_n++;
}

static void flush_work(struct tcmur_device *rdev)
{
	if (!rdev->batch_n)
		return;
	tcmur_workers_queue(rdev, rdev->batch_head, rdev->batch_tail, rdev->batch_n);
	rdev->batch_head = rdev->batch_tail = NULL;
	rdev->batch_n = 0;
}

/* Data direction of a command for the counters. */
static uint8_t cmd_dir(const struct tcmur_cmd_priv *p, enum scsi_class cls)
{
	const struct tcmulib_cmd *lc = p->tc.lib_cmd;

	switch (cls) {
	case SCSI_CLASS_READ:
		return TCMUR_METRICS_READ;
	case SCSI_CLASS_WRITE:
		return TCMUR_METRICS_WRITE;
	case SCSI_CLASS_FLUSH:
		return TCMUR_METRICS_OTHER;
	default:
		break;
	}
	if (!lc->data_len)
		return TCMUR_METRICS_OTHER;
	return scsi_cdb_writes(lc->cdb) ? TCMUR_METRICS_WRITE : TCMUR_METRICS_READ;
}

int tcmur_exec_io(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	struct tcmur_handler *h = rdev->h;
	struct tcmulib_cmd *lc = p->tc.lib_cmd;
	bool async = rdev->hrec->model == TCMUR_THREAD_MODEL_ASYNC;
	bool fua_flush;
	int rc;

	switch (p->cls) {
	case SCSI_CLASS_READ:
		return h->read(rdev->dev, &p->tc, lc->iovec, lc->iov_cnt, p->rw.len,
			       (off_t)p->rw.off);
	case SCSI_CLASS_WRITE:
		p->tc.fua = p->rw.fua;
		fua_flush = p->rw.fua && !(h->caps & TCMUR_CAP_FUA) && h->flush;
		/* ASYNC: the completion may come before write() returns. */
		p->fua_pending = async && fua_flush;
		rc = h->write(rdev->dev, &p->tc, lc->iovec, lc->iov_cnt, p->rw.len,
			      (off_t)p->rw.off);
		if (!async && rc == TCMU_STS_OK && fua_flush)
			rc = h->flush(rdev->dev, &p->tc);
		return rc;
	case SCSI_CLASS_FLUSH:
		return h->flush(rdev->dev, &p->tc);
	default:
		return TCMU_STS_HW_ERR;
	}
}

void tcmur_log_completed_and_returned(struct tcmur_device *rdev, struct tcmur_cmd_priv *p,
				      const char *what, int rc)
{
	tcmu_dev_err(rdev->dev,
		     "handler bug: %s completed command 0x%x and then returned %d; "
		     "the completion stands\n",
		     what, p->tc.lib_cmd->cdb[0], rc);
}

/*
 * Ring thread: an ASYNC callout (what: its name) returned a final status rc
 * (an I/O callout: an error; handle_cmd: anything but ASYNC_HANDLED), so p
 * is ours to finish with rc, unless the handler also completed it already.  That is a handler bug: logged, and the
 * completion it made stands (finishing here as well would complete the
 * command twice).
 */
static void async_final_status(struct tcmur_device *rdev, struct tcmur_cmd_priv *p,
			       const char *what, int rc, uint64_t now)
{
	if (atomic_load(&p->flags) & TCMUR_CMD_COMPLETED) {
		tcmur_log_completed_and_returned(rdev, p, what, rc);
		return;
	}
	p->fua_pending = false;
	if (atomic_fetch_or(&p->flags, TCMUR_CMD_DONE) & TCMUR_CMD_DONE)
		return; /* claimed meanwhile (stop-time BUSY) */
	finish(rdev, p, rc, now);
}

void tcmur_generic_dispatch(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	enum scsi_class cls;
	int sts = TCMU_STS_HW_ERR, rc;

	cls = scsi_dispatch(rdev->scsi, &p->tc, &p->rw, &sts);
	p->cls = (uint8_t)cls;
	p->dir = cmd_dir(p, cls);

	switch (cls) {
	case SCSI_CLASS_DONE:
		break;
	case SCSI_CLASS_FLUSH:
		if (!rdev->h->flush) {
			/* Nothing to flush: the handler writes through. */
			sts = TCMU_STS_OK;
			break;
		}
		/* fall through */
	case SCSI_CLASS_READ:
	case SCSI_CLASS_WRITE:
		if (rdev->hrec->model != TCMUR_THREAD_MODEL_ASYNC) {
			queue_work(rdev, p, TCMUR_WORK_IO);
			return;
		}
		rc = tcmur_exec_io(rdev, p);
		if (rc != TCMU_STS_OK && rc != TCMU_STS_ASYNC_HANDLED)
			async_final_status(rdev, p, "an I/O callout", rc, tcmur_now_ns());
		return;
	case SCSI_CLASS_SLOW:
		queue_work(rdev, p, TCMUR_WORK_SLOW);
		return;
	case SCSI_CLASS_LOCK:
	case SCSI_CLASS_UNLOCK:
		/* STPG and the HA lock (ha.c): lock()/unlock() on the recovery thread. */
		sts = tcmur_ha_stpg(rdev, p);
		if (sts == TCMU_STS_ASYNC_HANDLED)
			return;
		break;
	default:
		sts = TCMU_STS_HW_ERR;
		break;
	}
	if (!(atomic_fetch_or(&p->flags, TCMUR_CMD_DONE) & TCMUR_CMD_DONE))
		finish(rdev, p, sts, tcmur_now_ns());
}

static void dispatch(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, uint64_t now)
{
	struct tcmur_handler *h = rdev->h;
	int rc;

	if (!h->handle_cmd) {
		tcmur_generic_dispatch(rdev, p);
		return;
	}
	if (rdev->hrec->model != TCMUR_THREAD_MODEL_ASYNC) {
		p->dir = cmd_dir(p, SCSI_CLASS_SLOW);
		queue_work(rdev, p, TCMUR_WORK_HANDLE_CMD);
		return;
	}
	rc = h->handle_cmd(rdev->dev, &p->tc);
	if (rc == TCMU_STS_ASYNC_HANDLED)
		return;
	if (rc == TCMU_STS_NOT_HANDLED && !(atomic_load(&p->flags) & TCMUR_CMD_COMPLETED)) {
		tcmur_generic_dispatch(rdev, p);
		return;
	}
	p->dir = cmd_dir(p, SCSI_CLASS_SLOW);
	async_final_status(rdev, p, "handle_cmd", rc, now);
}

/* ---- ring thread: main loop ------------------------------------------------ */

static void process_event(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, uint64_t now)
{
	int rc;

	switch (p->stage) {
	case TCMUR_STAGE_COMPLETE:
		finish(rdev, p, p->sts, now);
		break;
	case TCMUR_STAGE_GENERIC:
		if (atomic_load(&p->flags) & TCMUR_CMD_DONE)
			break; /* forced at stop meanwhile */
		tcmur_generic_dispatch(rdev, p);
		break;
	case TCMUR_STAGE_FUA_FLUSH:
		if (atomic_load(&p->flags) & TCMUR_CMD_DONE)
			break; /* forced at stop meanwhile */
		/* The write's completion is done with: watch for the flush's. */
		atomic_fetch_and(&p->flags, ~TCMUR_CMD_COMPLETED);
		rc = rdev->h->flush(rdev->dev, &p->tc);
		if (rc != TCMU_STS_OK && rc != TCMU_STS_ASYNC_HANDLED)
			async_final_status(rdev, p, "flush (FUA)", rc, now);
		break;
	case TCMUR_STAGE_SUBIO:
		tcmur_subio_issue(rdev, p);
		break;
	}
}

/* Returns whether anything was processed. */
static bool drain_events(struct tcmur_device *rdev, uint64_t *now)
{
	struct tcmur_cmd_priv *list, *rev = NULL, *p;
	bool did = false;

	/* Ours first (callouts completing inline), in order. */
	while ((p = rdev->local_head)) {
		rdev->local_head = rdev->local_tail = NULL;
		did = true;
		if (!*now)
			*now = tcmur_now_ns();
		while (p) {
			struct tcmur_cmd_priv *next = p->next;

			process_event(rdev, p, *now);
			p = next;
		}
	}
	if (atomic_load_explicit(&rdev->wake_pending, memory_order_relaxed))
		atomic_store(&rdev->wake_pending, false);
	if (!atomic_load(&rdev->events)) /* seq-cst: pairs with ring_wake() */
		return did;
	list = atomic_exchange_explicit(&rdev->events, NULL, memory_order_acquire);
	if (!list)
		return did;
	/* The stack is LIFO: reverse it to complete in arrival order. */
	while (list) {
		p = list;
		list = p->next;
		p->next = rev;
		rev = p;
	}
	if (!*now)
		*now = tcmur_now_ns();
	while (rev) {
		p = rev;
		rev = p->next;
		process_event(rdev, p, *now);
	}
	return true;
}

/* Returns how many commands it took off the ring. */
static unsigned int drain_ring(struct tcmur_device *rdev, bool stopping)
{
	struct tcmu_device *dev = rdev->dev;
	struct tcmulib_cmd *lc;
	bool dump = tcmu_get_log_level() >= TCMU_LOG_DEBUG_SCSI_CMD;
	bool recovering = tcmur_ring_recovering(rdev); /* recovery.c */
	/* Implicit-ALUA lock (ha.c): above LOCKED, media commands may wait. */
	bool ha_hold =
		atomic_load_explicit(&rdev->ha_state, memory_order_relaxed) > TCMUR_HA_LOCKED;
	unsigned int taken = 0;

	while ((lc = tcmulib_get_next_command(dev, 0))) {
		taken++;
		struct tcmur_cmd_priv *p = cmd_get(rdev);
		/* libtcmu stamps each command as it takes it off the ring. */
		uint64_t now = lc->start_ns ? lc->start_ns : tcmur_now_ns();

		if (!p) {
			tcmu_dev_err(dev, "out of memory for a command; BUSY\n");
			tcmulib_command_complete(dev, lc, TCMU_STS_BUSY);
			rdev->need_notify = true;
			continue;
		}
		if (dump)
			tcmu_cdb_print_info(dev, lc, NULL); /* log level 5 */

		p->tc.lib_cmd = lc;
		p->tc.start_ns = now;
		p->tc.done = cmd_done_cb;
		p->tc.daemon_private = p;
		p->rdev = rdev;
		atomic_init(&p->flags, 0);
		p->in_prev = rdev->inflight.in_prev;
		p->in_next = &rdev->inflight;
		rdev->inflight.in_prev->in_next = p;
		rdev->inflight.in_prev = p;
		rdev->nr_inflight++;

		if (stopping || (recovering && tcmur_recovery_busy(rdev, lc))) {
			/* Not taking new work: the initiator retries on BUSY. */
			atomic_fetch_or(&p->flags, TCMUR_CMD_DONE);
			p->dir = TCMUR_METRICS_OTHER;
			finish(rdev, p, TCMU_STS_BUSY, now);
			continue;
		}
		if (__builtin_expect(ha_hold, 0) && tcmur_ha_hold(rdev, lc, now)) {
			/* 02/04/0A: Linux retries it while the lock is taken. */
			atomic_fetch_or(&p->flags, TCMUR_CMD_DONE);
			p->dir = TCMUR_METRICS_OTHER;
			finish(rdev, p, TCMU_STS_TRANSITION, now);
			continue;
		}
		dispatch(rdev, p, now);
	}
	tcmur_metrics_set_inflight(&rdev->m, rdev->nr_inflight);
	return taken;
}

/* Stop deadline passed: complete whatever is left with BUSY. */
static void force_complete(struct tcmur_device *rdev)
{
	struct tcmur_cmd_priv *p, *next;
	uint64_t now = tcmur_now_ns();
	unsigned int n = 0;

	for (p = rdev->inflight.in_next; p != &rdev->inflight; p = next) {
		next = p->in_next;
		if (atomic_fetch_or(&p->flags, TCMUR_CMD_DONE) & TCMUR_CMD_DONE)
			continue; /* its completion is on the way */
		/* The handler may still complete it: p is never reused. */
		atomic_fetch_or(&p->flags, TCMUR_CMD_FORCED);
		rdev->nr_forced++;
		finish(rdev, p, TCMU_STS_BUSY, now);
		n++;
	}
	if (n)
		tcmu_dev_err(
			rdev->dev,
			"%u command(s) still in the handler after %u ms; completed with BUSY\n", n,
			rdev->stop_wait_ms);
}

/* ---- ring thread: busy-poll before sleeping ---------------------------------- */

/*
 * Waking up through the UIO interrupt can cost far more than a few tens of
 * microseconds of looking at the mailbox (bench/: QD1 throughput doubled
 * under qemu TCG with 50 us); but a spin takes a CPU the initiator and the
 * kernel may need (it cost throughput at QD32 on 2 vCPUs).  ring_spin.c
 * decides; this part runs the spin.  The budget is counted in loop
 * iterations, calibrated once per ring thread, so the loop reads no clock.
 */
#define SPIN_CAL_ITERS 2000

static _Atomic unsigned int ring_poll_us = TCMUR_RING_POLL_US_DEFAULT;
static _Atomic int ring_poll_mode = TCMUR_RING_POLL_ADAPTIVE;
/* Ring threads spinning right now (all devices). */
static _Atomic unsigned int nr_spinning;

void tcmur_set_ring_poll_us(unsigned int us)
{
	if (us > TCMUR_RING_POLL_US_MAX)
		us = TCMUR_RING_POLL_US_MAX;
	atomic_store_explicit(&ring_poll_us, us, memory_order_relaxed);
}

void tcmur_set_ring_poll(enum tcmur_ring_poll mode)
{
	atomic_store_explicit(&ring_poll_mode, (int)mode, memory_order_relaxed);
}

static const char *const poll_names[] = {
	[TCMUR_RING_POLL_ADAPTIVE] = "adaptive",
	[TCMUR_RING_POLL_FIXED] = "fixed",
	[TCMUR_RING_POLL_OFF] = "off",
};

int tcmur_ring_poll_parse(const char *s, enum tcmur_ring_poll *mode)
{
	unsigned int i;

	for (i = 0; i < sizeof(poll_names) / sizeof(poll_names[0]); i++)
		if (!strcmp(s, poll_names[i])) {
			*mode = (enum tcmur_ring_poll)i;
			return 0;
		}
	return -EINVAL;
}

const char *tcmur_ring_poll_name(enum tcmur_ring_poll mode)
{
	return (unsigned int)mode < sizeof(poll_names) / sizeof(poll_names[0]) ? poll_names[mode]
									       : "?";
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Ring thread: iterations spun before there was something to do, or iters. */
static unsigned int spin_for_work(struct tcmur_device *rdev, void (*reap)(struct tcmu_device *dev),
				  unsigned int iters)
{
	struct tcmu_device *dev = rdev->dev;
	unsigned int i;

	for (i = 0; i < iters; i++) {
		if (tcmulib_commands_pending(dev) ||
		    atomic_load_explicit(&rdev->events, memory_order_relaxed))
			return i;
		if (reap) {
			reap(dev); /* a peek at the completion queue */
			if (rdev->local_head)
				return i;
		}
		cpu_relax();
	}
	return iters;
}

static uint64_t fine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Ring thread, once: spin iterations per millisecond (0: do not spin). */
static unsigned int spin_calibrate(struct tcmur_device *rdev)
{
	uint64_t t0, t1, per_ms;
	unsigned int i;

	/* The fine clock even where it is a system call: two reads, once. */
	t0 = fine_now_ns();
	for (i = 0; i < SPIN_CAL_ITERS; i++) {
		if (tcmulib_commands_pending(rdev->dev) ||
		    atomic_load_explicit(&rdev->events, memory_order_relaxed))
			break;
		cpu_relax();
	}
	t1 = fine_now_ns();
	if (!i || t1 <= t0)
		return SPIN_CAL_ITERS; /* work already waiting: any sane guess */
	per_ms = (uint64_t)i * 1000000ull / (t1 - t0);
	if (per_ms > UINT32_MAX / TCMUR_RING_POLL_US_MAX)
		per_ms = UINT32_MAX / TCMUR_RING_POLL_US_MAX;
	return per_ms ? (unsigned int)per_ms : 1;
}

struct spinner {
	struct tcmur_spin rule;
	/* what the log line at exit reports besides the spin counters */
	uint64_t batches, batched; /* ring passes that took commands; commands */
	unsigned int max_inflight;
	unsigned int per_ms; /* calibrated iterations per ms */
};

static void spinner_init(struct spinner *sp, struct tcmur_device *rdev)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	tcmur_spin_init(&sp->rule, n > 0 ? (unsigned int)n : 1);
	sp->per_ms = spin_calibrate(rdev);
}

static void spinner_fini(struct spinner *sp, struct tcmur_device *rdev)
{
	struct tcmur_spin *s = &sp->rule;

	tcmu_dev_info(rdev->dev,
		      "ring spin (%s): %llu found work (mean wait %llu ns), %llu empty; slept "
		      "without spinning: %llu backed off, %llu in not-spinning windows, %llu no "
		      "CPU to spare; "
		      "spinning won %llu of %llu A/Bs (%llu more too few to tell); %llu commands "
		      "in %llu ring passes, at most %u in flight\n",
		      tcmur_ring_poll_name(atomic_load(&ring_poll_mode)),
		      (unsigned long long)s->nr_hit, (unsigned long long)s->hit_wait_ns,
		      (unsigned long long)s->nr_miss, (unsigned long long)s->nr_skipped,
		      (unsigned long long)s->nr_off, (unsigned long long)s->nr_no_cpu,
		      (unsigned long long)s->nr_on_won, (unsigned long long)s->nr_epochs,
		      (unsigned long long)s->nr_few, (unsigned long long)sp->batched,
		      (unsigned long long)sp->batches, sp->max_inflight);
}

/* Ring thread, on an idle pass: true if a spin found work. */
static bool spin_idle(struct spinner *sp, struct tcmur_device *rdev,
		      void (*reap)(struct tcmu_device *dev))
{
	enum tcmur_ring_poll mode = atomic_load_explicit(&ring_poll_mode, memory_order_relaxed);
	unsigned int us = atomic_load_explicit(&ring_poll_us, memory_order_relaxed);
	unsigned int iters, got, others;
	uint64_t budget;

	if (mode == TCMUR_RING_POLL_OFF || !us || !sp->per_ms)
		return false;
	if (mode == TCMUR_RING_POLL_ADAPTIVE)
		tcmur_spin_clock(&sp->rule, tcmur_now_ns()); /* coarse is fine for 100 ms */
	others = atomic_fetch_add_explicit(&nr_spinning, 1, memory_order_relaxed);
	budget = tcmur_spin_budget(&sp->rule, mode, us, others);
	if (!budget) {
		atomic_fetch_sub_explicit(&nr_spinning, 1, memory_order_relaxed);
		return false;
	}
	iters = (unsigned int)(budget * sp->per_ms / 1000000u) + 1;
	got = spin_for_work(rdev, reap, iters);
	atomic_fetch_sub_explicit(&nr_spinning, 1, memory_order_relaxed);
	if (got < iters) {
		tcmur_spin_hit(&sp->rule, (uint64_t)got * 1000000u / sp->per_ms);
		return true;
	}
	tcmur_spin_miss(&sp->rule);
	return false;
}

static void *ring_thread(void *arg)
{
	struct tcmur_device *rdev = arg;
	struct tcmu_device *dev = rdev->dev;
	struct pollfd pfd[3] = {
		{ .fd = tcmu_dev_get_fd(dev), .events = POLLIN },
		{ .fd = rdev->efd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	/* Handler closed by a recovery: none of its hooks until restarted. */
	bool async = rdev->hrec->model == TCMUR_THREAD_MODEL_ASYNC && !rdev->hclosed;
	void (*batch_end)(struct tcmu_device * dev) = async ? rdev->h->batch_end : NULL;
	void (*reap)(struct tcmu_device * dev) = NULL;
	nfds_t npfd = 2;
	struct spinner sp = { 0 };
	unsigned int taken;
	uint64_t deadline = 0, now;
	unsigned int subio;
	bool forced = false;
	int timeout;

	ring_self = rdev;
	spinner_init(&sp, rdev);
	/* Completions on a pollable fd are reaped here: no thread hop. */
	if (async && rdev->h->completion_fd && rdev->h->reap) {
		pfd[2].fd = rdev->h->completion_fd(dev);
		if (pfd[2].fd >= 0) {
			reap = rdev->h->reap;
			npfd = 3;
		}
	}
	for (;;) {
		bool stopping = atomic_load_explicit(&rdev->stop_ring, memory_order_relaxed);

		now = 0; /* read the clock only when something needs it */
		drain_events(rdev, &now);
		taken = drain_ring(rdev, stopping);
		if (taken) {
			tcmur_spin_count(&sp.rule, taken);
			sp.batches++;
			sp.batched += taken;
			if (rdev->nr_inflight > sp.max_inflight)
				sp.max_inflight = rdev->nr_inflight;
		}
		now = 0;
		drain_events(rdev, &now);
		flush_work(rdev);

		timeout = -1;
		if ((rdev->opts.cmd_time_out && rdev->nr_inflight) || stopping)
			now = tcmur_now_ns();
		if (rdev->opts.cmd_time_out && rdev->nr_inflight) {
			if (now >= rdev->next_timeout_check) {
				int ms = tcmur_timeouts_check(rdev, now);

				rdev->next_timeout_check = ms < 0 ? now + 1000000000ull
								  : now + (uint64_t)ms * 1000000ull;
			}
			timeout = (int)((rdev->next_timeout_check - now) / 1000000ull) + 1;
		}
		if (stopping) {
			if (!deadline)
				deadline = now + (uint64_t)rdev->stop_wait_ms * 1000000ull;
			/* Sub-I/O for the workers' commands counts as in flight. */
			subio = atomic_load(&rdev->nr_subio);
			if (!rdev->nr_inflight && !subio)
				break;
			if (now >= deadline && !forced) {
				force_complete(rdev);
				forced = true;
				/* Claimed ones are about to arrive; give them a moment. */
				deadline = now + 1000000000ull;
			} else if (now >= deadline) {
				tcmu_dev_err(dev,
					     "%u completion(s) and %u sub-I/O request(s) never "
					     "arrived; leaving\n",
					     rdev->nr_inflight, subio);
				break;
			}
			timeout = (int)((deadline - now) / 1000000ull) + 1;
			if (timeout > 100)
				timeout = 100;
		}
		if (batch_end)
			batch_end(dev); /* submit what the callouts queued */
		if (reap)
			reap(dev); /* what finished at submit time: handled next pass */
		if (rdev->need_notify) {
			rdev->need_notify = false;
			tcmulib_processing_complete(dev);
		}
		if (rdev->local_head || atomic_load_explicit(&rdev->events, memory_order_relaxed))
			continue; /* more to do (a wake may be pending too: harmless) */

		if (!stopping && spin_idle(&sp, rdev, reap))
			continue;
		if (poll(pfd, npfd, timeout) < 0 && errno != EINTR) {
			tcmu_dev_err(dev, "poll: %m\n");
			break;
		}
		if (pfd[0].revents & POLLIN) {
			tcmulib_processing_start(dev);
			tcmur_spin_woken(&sp.rule);
		}
		if (reap && (pfd[2].revents & POLLIN))
			reap(dev);
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(rdev->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				tcmu_dev_dbg(dev, "eventfd read: %m\n");
		}
	}
	if (rdev->need_notify) {
		rdev->need_notify = false;
		tcmulib_processing_complete(dev);
	}
	spinner_fini(&sp, rdev);
	/* Sub-I/O requests still waited for now are failed by their waiters. */
	atomic_store(&rdev->ring_dead, true);
	ring_self = NULL;
	return NULL;
}

int tcmur_ring_start(struct tcmur_device *rdev)
{
	char name[16];
	int ret;

	atomic_store(&rdev->stop_ring, false);
	atomic_store(&rdev->ring_dead, false);
	ret = -pthread_create(&rdev->ring_thread, NULL, ring_thread, rdev);
	if (ret)
		return ret;
	snprintf(name, sizeof(name), "ring-%s", tcmu_dev_get_uio_name(rdev->dev));
	pthread_setname_np(rdev->ring_thread, name);
	rdev->ring_started = true;
	return 0;
}

void tcmur_ring_stop(struct tcmur_device *rdev)
{
	uint64_t one = 1;

	if (!rdev->ring_started)
		return;
	atomic_store(&rdev->stop_ring, true);
	if (write(rdev->efd, &one, sizeof(one)) < 0)
		tcmu_dev_err(rdev->dev, "cannot wake the ring thread: %m\n");
	pthread_join(rdev->ring_thread, NULL);
	rdev->ring_started = false;
}
