// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * ALUA lock acquisition for HA handlers (those with a lock callout, e.g.
 * rbd, glfs): only the node holding the image's exclusive lock writes, and
 * a node takes the lock when an initiator starts using its path (implicit
 * ALUA) or moves its target port group to an active state with SET TARGET
 * PORT GROUPS (explicit ALUA).
 *
 * Implicit: armed only when the handler has lock() and the device's local
 * target port group has an alua_access_type including Implicit and is
 * Active/Optimized or Active/Non-optimized (as the SCSI engine last read it
 * from configfs, with STPG changes).  Then:
 *   - the first media command (read, write, flush, unmap, ...) while the
 *     lock is not held queues lock(dev, tag) on the device's recovery
 *     thread (recovery.c), tag = the local group id;
 *   - until lock() succeeds, media commands end with NOT READY, LOGICAL
 *     UNIT NOT ACCESSIBLE, ASYMMETRIC ACCESS STATE TRANSITION (02/04/0A):
 *     Linux retries it (scsi_dh_alua requeues it and re-reads the port
 *     groups; plain SCSI error handling treats it as NEEDS_RETRY), and
 *     dm-multipath does not fail the path for it;
 *   - a failed lock() leaves the device unlocked; the next media command
 *     retries, at most once a second.  FENCED from lock() reports the lock
 *     lost and TIMEOUT the connection lost: the device is reopened;
 *   - tcmu_notify_lock_lost()/conn_lost() (any recovery) make it unlocked.
 *
 * Explicit (SET TARGET PORT GROUPS, alua_access_type Explicit or Implicit
 * and Explicit), whenever the handler has lock():
 *   - an STPG that makes the local group Active/Optimized or Active/Non-
 *     optimized while the lock is not held is not applied on the ring
 *     thread: the engine answers SCSI_CLASS_LOCK, the command is queued on
 *     the recovery thread, which takes the lock (tag = the local group id)
 *     and hands the command back to the ring thread; dispatched again, the
 *     engine applies it and it ends GOOD.  When the lock is held already,
 *     the STPG is applied at once;
 *   - a failed lock() ends the STPG with CHECK CONDITION, HARDWARE ERROR,
 *     SET TARGET PORT GROUPS COMMAND FAILED (04/67/0A), nothing applied.
 *     67h/0Ah is SPC-4's additional sense code for this failure (the
 *     existing TCMU_STS_EXPL_TRANSITION_ERR); Linux treats a HARDWARE
 *     ERROR as final (no midlayer retry; scsi_dh_alua logs "stpg
 *     failed" and re-reads the port groups), where ABORTED COMMAND or
 *     02/04/0A would be retried at once, each retry calling lock() again;
 *   - an STPG that makes the local group Standby or Unavailable while the
 *     lock is held is applied on the ring thread (media commands are
 *     refused from then on), then unlock() runs on the recovery thread and
 *     the STPG ends GOOD (also when unlock() failed: logged).  Commands
 *     already with the handler are not drained first;
 *   - Offline (a per port state) and changes to other groups do not touch
 *     the lock;
 *   - losing the lock later (tcmu_notify_lock_lost) does not change the
 *     state STPG set: writes keep reaching the handler, as without a lock
 *     callout, until the next STPG to an active state takes the lock again.
 *
 * Both paths:
 *   - before lock(), get_lock_state() (if any): a node that holds the
 *     lock already does not take it again;
 *   - after a failed lock(), get_lock_tag() (if any) names the owner's
 *     tag in the log;
 *   - after the lock changed hands here (acquired, released),
 *     report_event() (if any);
 *   - at close, unlock() when the lock is held.
 * Every handler HA callout runs on the device's recovery thread, except
 * unlock() at close and the report_event() after it, on its teardown
 * thread; each under the SERIALIZE lock if the handler has that model; all
 * may block.  The recovery thread runs lock()/unlock() for one STPG at a
 * time, in arrival order, never while a reopen is due.
 * Commands the engine answers itself (INQUIRY, RTPG, TUR, ...) always run.
 * In-flight commands are not drained before lock(): while the lock is not
 * held no media command reaches the handler (implicit), and losing it while
 * held goes through a recovery, which drains.
 *
 * Cost when not armed: the ring thread's one relaxed load per batch of
 * ha_state, which stays NONE.
 */
#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "scsi_defs.h"

#define HA_RETRY_NS  1000000000ull /* lock attempts: at most one a second */
#define HA_RELOAD_NS 1000000000ull /* group re-reads: at most one a second */

static void ha_set(struct tcmur_device *rdev, int state)
{
	atomic_store(&rdev->ha_state, state);
	if (rdev->scsi)
		scsi_dev_set_ha_lock(rdev->scsi,
				     state == TCMUR_HA_LOCKED ? SCSI_HA_LOCKED : SCSI_HA_UNLOCKED);
}

void tcmur_ha_init(struct tcmur_device *rdev)
{
	atomic_init(&rdev->ha_state, TCMUR_HA_NONE);
	rdev->ha_next_try = 0;
	rdev->ha_next_reload = 0;
	if (!rdev->h->lock || !rdev->scsi)
		return;
	ha_set(rdev, TCMUR_HA_UNLOCKED);
	tcmu_dev_dbg(rdev->dev,
		     "handler %s has a lock callout: implicit ALUA takes it on "
		     "the first media command\n",
		     rdev->h->subtype);
}

bool tcmur_ha_hold(struct tcmur_device *rdev, const struct tcmulib_cmd *lc, uint64_t now)
{
	int grp, state;

	if (scsi_cdb_need(lc->cdb) != SCSI_NEED_MEDIUM || !rdev->scsi)
		return false;
	grp = scsi_dev_implicit_group(rdev->scsi);
	if (grp < 0 && now >= rdev->ha_next_reload) {
		/*
		 * The groups are known as of the last INQUIRY/RTPG/STPG.  A LUN
		 * put in an implicit group later (a standby path that has seen
		 * no RTPG since) would let media commands reach the handler
		 * without the lock: read them again, at most once a second.
		 */
		rdev->ha_next_reload = now + HA_RELOAD_NS;
		scsi_dev_alua_reload(rdev->scsi);
		grp = scsi_dev_implicit_group(rdev->scsi);
		if (grp >= 0)
			tcmu_dev_dbg(rdev->dev, "implicit ALUA: the LUN is in group %d now\n", grp);
	}
	if (grp < 0)
		return false; /* no implicit ALUA on the local group */
	state = atomic_load(&rdev->ha_state);
	if (state == TCMUR_HA_LOCKED)
		return false; /* taken since the batch started */
	if (state == TCMUR_HA_UNLOCKED && now >= rdev->ha_next_try) {
		rdev->ha_next_try = now + HA_RETRY_NS;
		if (!tcmur_recovery_request_lock(rdev, (uint16_t)grp))
			tcmu_dev_info(rdev->dev,
				      "implicit ALUA: acquiring the lock for group "
				      "%d (commands get ALUA STATE TRANSITION meanwhile)\n",
				      grp);
	}
	return true;
}

/*
 * Recovery thread, under the serial lock if any: does the handler say this
 * node holds the lock already (get_lock_state)?  Then lock() is not called.
 */
static bool ha_already_owner(struct tcmur_device *rdev)
{
	return rdev->h->get_lock_state &&
	       rdev->h->get_lock_state(rdev->dev) == TCMUR_DEV_LOCK_WRITE_LOCKED;
}

/* Recovery thread, after a failed lock(): log who holds it, if the handler knows. */
static void ha_log_owner(struct tcmur_device *rdev)
{
	uint16_t owner;
	bool locked;
	int ret;

	if (!rdev->h->get_lock_tag)
		return;
	locked = tcmur_serial_lock(rdev);
	ret = rdev->h->get_lock_tag(rdev->dev, &owner);
	tcmur_serial_unlock(rdev, locked);
	if (ret == TCMU_STS_OK)
		tcmu_dev_info(rdev->dev, "ALUA: the lock is held by tag %u\n", owner);
}

/* Recovery or teardown thread: the lock changed hands; tell the handler. */
static void ha_report(struct tcmur_device *rdev)
{
	bool locked;
	int ret;

	if (!rdev->h->report_event)
		return;
	locked = tcmur_serial_lock(rdev);
	ret = rdev->h->report_event(rdev->dev);
	tcmur_serial_unlock(rdev, locked);
	if (ret)
		tcmu_dev_warn(rdev->dev, "ALUA: report_event failed: %d\n", ret);
}

/*
 * Recovery thread, ha_state LOCKING: lock(tag) (unless get_lock_state says
 * this node holds it already), then LOCKED, or UNLOCKED on failure (FENCED:
 * reopen, TIMEOUT: connection lost).  what names the path in the log.
 * TCMU_STS_OK when the lock is held on return.
 */
static int ha_take(struct tcmur_device *rdev, uint16_t tag, const char *what)
{
	struct tcmu_device *dev = rdev->dev;
	int expect = TCMUR_HA_LOCKING;
	uint64_t t0 = tcmur_now_ns();
	bool locked, owner;
	int ret;

	locked = tcmur_serial_lock(rdev);
	owner = ha_already_owner(rdev);
	ret = owner ? TCMU_STS_OK : rdev->h->lock(dev, tag);
	tcmur_serial_unlock(rdev, locked);
	if (ret == TCMU_STS_OK) {
		if (atomic_compare_exchange_strong(&rdev->ha_state, &expect, TCMUR_HA_LOCKED)) {
			ha_set(rdev, TCMUR_HA_LOCKED);
			if (owner)
				tcmu_dev_info(dev,
					      "%s: this node holds the lock "
					      "already (tag %u)\n",
					      what, tag);
			else
				tcmu_dev_info(
					dev, "%s: lock acquired (tag %u) in %llu ms\n", what, tag,
					(unsigned long long)((tcmur_now_ns() - t0) / 1000000ull));
			ha_report(rdev);
			return TCMU_STS_OK;
		}
		tcmu_dev_warn(dev, "%s: lock acquired but reported lost meanwhile\n", what);
		return TCMU_STS_BUSY;
	}
	if (atomic_compare_exchange_strong(&rdev->ha_state, &expect, TCMUR_HA_UNLOCKED))
		ha_set(rdev, TCMUR_HA_UNLOCKED);
	tcmu_dev_warn(dev, "%s: lock (tag %u) failed with status %d\n", what, tag, ret);
	ha_log_owner(rdev);
	if (ret == TCMU_STS_FENCED)
		tcmu_notify_lock_lost(dev); /* fenced: reopen */
	else if (ret == TCMU_STS_TIMEOUT)
		tcmu_notify_conn_lost(dev);
	return ret;
}

void tcmur_ha_acquire(struct tcmur_device *rdev, uint16_t tag)
{
	if (atomic_load(&rdev->ha_state) != TCMUR_HA_LOCKING)
		return; /* lost or reopened since it was queued */
	if (ha_take(rdev, tag, "implicit ALUA") == TCMU_STS_BUSY)
		tcmu_dev_warn(rdev->dev, "implicit ALUA: the next command takes it again\n");
}

/* Ring thread, never blocks: STPG needs the lock taken (or released) first. */
int tcmur_ha_stpg(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	if (atomic_load(&rdev->ha_state) == TCMUR_HA_NONE)
		return TCMU_STS_HW_ERR; /* the engine asks only when armed */
	if (p->cls == SCSI_CLASS_LOCK && p->ha_locked) {
		/* Locked for it, then lost before it ran again. */
		tcmu_dev_warn(rdev->dev, "explicit ALUA: the lock was lost again before SET "
					 "TARGET PORT GROUPS took effect\n");
		return TCMU_STS_EXPL_TRANSITION_ERR;
	}
	if (tcmur_recovery_request_stpg(rdev, p))
		return TCMU_STS_BUSY;
	return TCMU_STS_ASYNC_HANDLED;
}

/* Recovery thread: release the lock for an STPG to Standby/Unavailable. */
static int ha_unlock(struct tcmur_device *rdev, const char *why)
{
	struct tcmu_device *dev = rdev->dev;
	bool locked;
	int ret;

	if (atomic_load(&rdev->ha_state) != TCMUR_HA_LOCKED)
		return TCMU_STS_OK;
	ha_set(rdev, TCMUR_HA_UNLOCKED);
	if (!rdev->h->unlock || rdev->hclosed)
		return TCMU_STS_OK;
	locked = tcmur_serial_lock(rdev);
	ret = rdev->h->unlock(dev);
	tcmur_serial_unlock(rdev, locked);
	if (ret != TCMU_STS_OK) {
		tcmu_dev_warn(dev, "%s: unlock failed with status %d\n", why, ret);
		return ret;
	}
	tcmu_dev_info(dev, "%s: lock released\n", why);
	ha_report(rdev);
	return TCMU_STS_OK;
}

void tcmur_ha_stpg_run(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	int ret;

	if (p->cls == SCSI_CLASS_UNLOCK) {
		/* Applied already: the STPG succeeds even if unlock() did not. */
		ha_unlock(rdev, "explicit ALUA (SET TARGET PORT GROUPS)");
		tcmur_cmd_finish_async(rdev, p, TCMU_STS_OK);
		return;
	}
	/* SCSI_CLASS_LOCK; an implicit lock() may have taken it meanwhile. */
	if (atomic_load(&rdev->ha_state) == TCMUR_HA_LOCKED) {
		ret = TCMU_STS_OK;
	} else {
		atomic_store(&rdev->ha_state, TCMUR_HA_LOCKING);
		ret = ha_take(rdev, p->rw.ha_tag, "explicit ALUA (SET TARGET PORT GROUPS)");
	}
	if (ret != TCMU_STS_OK) {
		tcmur_cmd_finish_async(rdev, p, TCMU_STS_EXPL_TRANSITION_ERR);
		return;
	}
	/* Held: the ring thread dispatches it again, and the engine applies it. */
	p->ha_locked = true;
	tcmur_ring_push(rdev, p, TCMUR_STAGE_GENERIC);
}

void tcmur_ha_lost(struct tcmur_device *rdev)
{
	if (atomic_load(&rdev->ha_state) == TCMUR_HA_NONE)
		return;
	ha_set(rdev, TCMUR_HA_UNLOCKED);
}

void tcmur_ha_release(struct tcmur_device *rdev)
{
	ha_unlock(rdev, "ALUA at close");
}
