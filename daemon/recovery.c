// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Per-device recovery after a handler reports that its backend connection
 * (tcmu_notify_conn_lost) or its HA lock (tcmu_notify_lock_lost) is gone.
 *
 * Only the device concerned is affected: its ring thread keeps running and
 * answers commands that need the backend with BUSY (the initiator retries)
 * while the emulated ones (INQUIRY, READ CAPACITY, ...) are still served.
 * A recovery thread of the device, started on its first loss:
 *   1. waits until the ring thread acknowledged the new state, so that every
 *      command dispatched before is counted in flight;
 *   2. waits for those to come back from the handler (never completes them
 *      itself: the handler owns them), warning once after the command time
 *      out (or 30 s);
 *   3. restarts the ring thread with the handler marked closed (so that an
 *      ASYNC handler's batch_end/reap/completion fd are left alone) and
 *      calls close();
 *   4. calls open(dev, true) until it succeeds, waiting 1, 2, ... 5 s
 *      between attempts;
 *   5. restarts the ring thread with the handler open and ends the BUSY.
 * Removal and shutdown end it at any step (tcmur_recovery_stop()); a handler
 * left closed is not closed again.  Timed-out commands never start one.
 *
 * The same thread makes the implicit-ALUA lock() calls of ha.c (started by
 * the first one), so that lock() never runs during a close/reopen; a
 * pending recovery goes first.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "scsi_defs.h"

#define REC_DRAIN_WARN_S  30 /* without a command time out */
#define REC_BACKOFF_MAX_S 5
#define REC_POLL_MS	  10

void tcmur_recovery_init(struct tcmur_device *rdev)
{
	struct tcmur_recovery *r = &rdev->rec;
	pthread_condattr_t ca;

	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&rdev->rec_gen, 0);
	atomic_init(&rdev->rec_ack, 0);
	rdev->rec_seen = 0;
	rdev->hclosed = false;
}

void tcmur_recovery_fini(struct tcmur_device *rdev)
{
	pthread_cond_destroy(&rdev->rec.cond);
	pthread_mutex_destroy(&rdev->rec.lock);
}

bool tcmur_recovery_busy(const struct tcmur_device *rdev, const struct tcmulib_cmd *lc)
{
	if (rdev->h->handle_cmd)
		return true; /* it goes to the handler first */
	/* Only what the SCSI engine answers from its own state goes on. */
	return scsi_cdb_need(lc->cdb) != SCSI_NEED_NONE;
}

static const char *why_name(unsigned int why)
{
	if ((why & TCMUR_REC_CONN_LOST) && (why & TCMUR_REC_LOCK_LOST))
		return "connection and lock lost";
	return why & TCMUR_REC_LOCK_LOST ? "lock lost" : "connection lost";
}

/* ---- the recovery thread ---------------------------------------------- */

static void *recovery_thread(void *arg);

/* r->lock held; never blocks.  0 or -errno (logged with what). */
static int start_thread_locked(struct tcmur_device *rdev, const char *what)
{
	struct tcmur_recovery *r = &rdev->rec;
	char name[16];
	int ret;

	if (r->started)
		return 0;
	ret = pthread_create(&r->thread, NULL, recovery_thread, rdev);
	if (ret) {
		tcmu_dev_err(rdev->dev, "%s: cannot start the recovery thread: %s\n", what,
			     strerror(ret));
		return -ret;
	}
	snprintf(name, sizeof(name), "rec-%s", tcmu_dev_get_uio_name(rdev->dev));
	pthread_setname_np(r->thread, name);
	r->started = true;
	return 0;
}

/*
 * ha.c, from the ring thread: queue work for the recovery thread, lock(tag)
 * (p NULL: mark the device LOCKING) or the STPG p.  Never blocks (one short
 * leaf lock).  0, or -errno when nothing was queued (the device stays
 * UNLOCKED).
 */
static int request_ha(struct tcmur_device *rdev, uint16_t tag, struct tcmur_cmd_priv *p)
{
	struct tcmur_recovery *r = &rdev->rec;
	int ret = -ESHUTDOWN;

	pthread_mutex_lock(&r->lock);
	if (r->stop || atomic_load(&rdev->state) != TCMUR_DEV_RUNNING)
		goto out;
	ret = start_thread_locked(rdev, p ? "SET TARGET PORT GROUPS lock" : "implicit ALUA lock");
	if (ret)
		goto out;
	if (p) {
		p->next = NULL;
		if (r->stpg_tail)
			r->stpg_tail->next = p;
		else
			r->stpg_head = p;
		r->stpg_tail = p;
	} else {
		atomic_store(&rdev->ha_state, TCMUR_HA_LOCKING);
		r->lock_pending = true;
		r->lock_tag = tag;
	}
	pthread_cond_signal(&r->cond);
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int tcmur_recovery_request_lock(struct tcmur_device *rdev, uint16_t tag)
{
	return request_ha(rdev, tag, NULL);
}

int tcmur_recovery_request_stpg(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	return request_ha(rdev, 0, p);
}

/* r->lock held: the oldest queued STPG, or NULL. */
static struct tcmur_cmd_priv *stpg_pop_locked(struct tcmur_recovery *r)
{
	struct tcmur_cmd_priv *p = r->stpg_head;

	if (p) {
		r->stpg_head = p->next;
		if (!r->stpg_head)
			r->stpg_tail = NULL;
	}
	return p;
}

void tcmur_recovery_request(struct tcmur_device *rdev, unsigned int why)
{
	struct tcmur_recovery *r = &rdev->rec;
	struct tcmu_device *dev = rdev->dev;

	tcmur_ha_lost(rdev); /* implicit ALUA: a reopened handler holds no lock */
	if (atomic_load(&rdev->state) != TCMUR_DEV_RUNNING) {
		tcmu_dev_dbg(dev, "%s while not open: no recovery\n", why_name(why));
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (r->stop)
		goto out;
	r->why |= why;
	if (r->active) {
		r->again = true; /* ignored until the reopen returned */
		goto out;
	}
	if (start_thread_locked(rdev, why_name(why)))
		goto out;
	r->active = true;
	r->pending = true;
	r->again = false;
	/* Odd: from the ring thread's next pass on, backend commands get BUSY. */
	atomic_fetch_add(&rdev->rec_gen, 1);
	tcmu_dev_warn(dev, "handler reports %s: recovering the device (BUSY meanwhile)\n",
		      why_name(why));
	pthread_cond_signal(&r->cond);
out:
	pthread_mutex_unlock(&r->lock);
}

/* Sleep ms (CLOCK_MONOTONIC) unless told to stop; r->lock held.  True if stopping. */
static bool nap_locked(struct tcmur_recovery *r, unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!r->stop)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) == ETIMEDOUT)
			break;
	return r->stop;
}

/* Recovery thread: sleep unless told to stop.  True if stopping. */
static bool nap(struct tcmur_device *rdev, unsigned int ms)
{
	bool stop;

	pthread_mutex_lock(&rdev->rec.lock);
	stop = nap_locked(&rdev->rec, ms);
	pthread_mutex_unlock(&rdev->rec.lock);
	return stop;
}

static void ring_kick(struct tcmur_device *rdev)
{
	uint64_t one = 1;

	if (write(rdev->efd, &one, sizeof(one)) < 0)
		tcmu_dev_dbg(rdev->dev, "eventfd write: %m\n");
}

/* Steps 1 and 2: the ring thread saw gen, nothing is with the handler.  0 or -EINTR. */
static int wait_quiet(struct tcmur_device *rdev, unsigned int gen)
{
	struct tcmu_device *dev = rdev->dev;
	unsigned int warn_s = rdev->opts.cmd_time_out ? rdev->opts.cmd_time_out : REC_DRAIN_WARN_S;
	uint64_t t0 = tcmur_now_ns(), warn_at = t0 + (uint64_t)warn_s * 1000000000ull;
	bool warned = false;
	unsigned int ms = 1;

	ring_kick(rdev);
	for (;;) {
		uint32_t n = UINT32_MAX;
		int refs = 0;

		if (atomic_load_explicit(&rdev->rec_ack, memory_order_acquire) == gen) {
			n = atomic_load_explicit(&rdev->m.in_flight, memory_order_relaxed);
			refs = atomic_load(&rdev->refs); /* EXTENDED COPY from another LUN */
			if (!n && !refs)
				return 0;
		}
		if (!warned && tcmur_now_ns() >= warn_at) {
			if (n == UINT32_MAX)
				tcmu_dev_warn(dev,
					      "recovery: the ring thread has not answered for "
					      "%u s; still waiting\n",
					      warn_s);
			else
				tcmu_dev_warn(dev,
					      "recovery: %u command(s) still with handler %s "
					      "after %u s%s; waiting for them\n",
					      n, rdev->h->subtype, warn_s,
					      refs ? " (and a copy from another LUN)" : "");
			warned = true;
		}
		if (nap(rdev, ms))
			return -EINTR;
		if (ms < 100)
			ms = ms * 2 < 100 ? ms * 2 : 100;
	}
}

/*
 * Restart the ring thread so that it sees hclosed (it reads the handler's
 * ASYNC hooks once at start).  Nothing is in flight but BUSY answers.
 * Retries a failed start until told to stop.  0 or -EINTR.
 */
static int ring_restart(struct tcmur_device *rdev, bool hclosed)
{
	int ret;

	tcmur_ring_stop(rdev);
	rdev->hclosed = hclosed;
	while ((ret = tcmur_ring_start(rdev))) {
		tcmu_dev_err(rdev->dev, "recovery: cannot restart the ring thread: %s\n",
			     strerror(-ret));
		if (nap(rdev, 1000))
			return -EINTR;
	}
	return 0;
}

static void handler_close(struct tcmur_device *rdev)
{
	bool locked = tcmur_serial_lock(rdev);

	if (rdev->h->close)
		rdev->h->close(rdev->dev);
	tcmur_serial_unlock(rdev, locked);
}

static int handler_reopen(struct tcmur_device *rdev)
{
	bool locked;
	int ret = 0;

	if (!rdev->h->open)
		return 0;
	locked = tcmur_serial_lock(rdev);
	ret = rdev->h->open(rdev->dev, true);
	tcmur_serial_unlock(rdev, locked);
	if (ret > 0)
		ret = -ret;
	return ret;
}

/* One recovery; returns with rec_gen even, or early when told to stop. */
static void recover(struct tcmur_device *rdev, unsigned int gen, unsigned int why)
{
	struct tcmu_device *dev = rdev->dev;
	struct tcmur_recovery *r = &rdev->rec;
	uint64_t t0 = tcmur_now_ns();
	unsigned int attempts = 0, backoff = 1;
	int ret;

	if (wait_quiet(rdev, gen))
		return;
	tcmu_dev_info(dev, "recovery: no command in flight after %llu ms; closing handler %s\n",
		      (unsigned long long)((tcmur_now_ns() - t0) / 1000000ull), rdev->h->subtype);
	if (ring_restart(rdev, true))
		return;
	handler_close(rdev);

	for (;;) {
		attempts++;
		ret = handler_reopen(rdev);
		if (!ret)
			break;
		tcmu_dev_warn(dev, "recovery: reopen attempt %u failed (%s); next in %u s\n",
			      attempts, strerror(-ret), backoff);
		if (nap(rdev, backoff * 1000))
			return;
		if (backoff < REC_BACKOFF_MAX_S)
			backoff++;
	}
	/* Open again: notifications from now on start a new recovery. */
	pthread_mutex_lock(&r->lock);
	r->again = false;
	pthread_mutex_unlock(&r->lock);
	if (ring_restart(rdev, false)) {
		/* Stopping with the handler open: the device's close() closes it. */
		return;
	}
	atomic_fetch_add_explicit(&rdev->m.recoveries, 1, memory_order_relaxed);
	pthread_mutex_lock(&r->lock);
	atomic_fetch_add(&rdev->rec_gen, 1); /* even: serve again */
	r->active = false;
	r->why = 0;
	if (r->again && !r->stop) {
		/* Lost again right after the reopen: go round once more. */
		r->active = true;
		r->pending = true;
		r->again = false;
		atomic_fetch_add(&rdev->rec_gen, 1);
		tcmu_dev_warn(dev, "handler reported a loss again right after the reopen\n");
	}
	pthread_mutex_unlock(&r->lock);
	tcmu_dev_info(dev, "device %s recovered after %u attempt(s) in %llu ms (%s)\n",
		      tcmu_dev_get_dev_name(dev), attempts,
		      (unsigned long long)((tcmur_now_ns() - t0) / 1000000ull), why_name(why));
}

static void *recovery_thread(void *arg)
{
	struct tcmur_device *rdev = arg;
	struct tcmur_recovery *r = &rdev->rec;
	unsigned int gen, why;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		uint16_t tag;

		while (!r->pending && !r->lock_pending && !r->stpg_head && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			break;
		if (!r->pending && r->stpg_head) {
			/* SET TARGET PORT GROUPS (ha.c): also never while a recovery is due. */
			struct tcmur_cmd_priv *p = stpg_pop_locked(r);

			pthread_mutex_unlock(&r->lock);
			tcmur_ha_stpg_run(rdev, p);
			pthread_mutex_lock(&r->lock);
			continue;
		}
		if (!r->pending) {
			/* Implicit ALUA (ha.c): never while a recovery is due. */
			r->lock_pending = false;
			tag = r->lock_tag;
			pthread_mutex_unlock(&r->lock);
			tcmur_ha_acquire(rdev, tag);
			pthread_mutex_lock(&r->lock);
			continue;
		}
		r->pending = false;
		gen = atomic_load(&rdev->rec_gen);
		why = r->why;
		pthread_mutex_unlock(&r->lock);
		recover(rdev, gen, why);
		pthread_mutex_lock(&r->lock);
	}
	/* Closing: queued STPGs end BUSY (the ring thread still runs). */
	for (struct tcmur_cmd_priv *p; (p = stpg_pop_locked(r));)
		tcmur_cmd_finish_async(rdev, p, TCMU_STS_BUSY);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

void tcmur_recovery_stop(struct tcmur_device *rdev)
{
	struct tcmur_recovery *r = &rdev->rec;
	bool started;

	pthread_mutex_lock(&r->lock);
	r->stop = true;
	started = r->started;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	if (!started)
		return;
	pthread_join(r->thread, NULL);
	pthread_mutex_lock(&r->lock);
	r->started = false;
	pthread_mutex_unlock(&r->lock);
	if (tcmur_recovering(rdev))
		tcmu_dev_info(rdev->dev, "recovery abandoned: the device is closing%s\n",
			      rdev->hclosed ? " (handler already closed)" : "");
}
