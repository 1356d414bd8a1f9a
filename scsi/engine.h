/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The generic SCSI engine of tcmu-runner (internal; not installed).
 *
 * The engine knows nothing of its user.  The user (the daemon, the unit
 * tests) hands it, per device, a table of backend operations and an opaque
 * handle; the engine calls nothing else outside scsi/ but libtcmu.
 *
 *  - The ring thread calls scsi_dispatch() for each command its user did
 *    not take.  It never blocks.  It checks pending unit attentions, format
 *    in progress and write protection, decodes the CDB, runs the cheap
 *    emulations in place (INQUIRY, READ CAPACITY, MODE SENSE, TEST UNIT
 *    READY, REQUEST SENSE, REPORT SUPPORTED OPCODES ...) and says what the
 *    caller must do next.
 *  - READ/WRITE/FLUSH are done by the caller (the fast path), in whatever
 *    thread model it likes.
 *  - Everything else that needs the backend (COMPARE AND WRITE, WRITE SAME,
 *    UNMAP, VERIFY, WRITE AND VERIFY, EXTENDED COPY, FORMAT UNIT, GET LBA
 *    STATUS, PRE-FETCH, ...) is SCSI_CLASS_SLOW: the caller runs
 *    scsi_exec_slow() on a thread that may block, and the engine drives the
 *    backend through the synchronous operations of struct scsi_backend_ops.
 *
 * Unit attentions are per device, not per I_T nexus: TCMU does not tell
 * userspace which nexus sent a command, so a pending UA (CAPACITY DATA HAS
 * CHANGED) is reported to the first command that may carry it, from
 * whichever initiator, and then cleared (docs/scsi-engine.md).
 */
#ifndef TCMU_SCSI_ENGINE_H
#define TCMU_SCSI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcmu-runner.h"

struct scsi_dev;

enum scsi_class {
	SCSI_CLASS_DONE,  /* *sts is final; complete the command now */
	SCSI_CLASS_READ,  /* caller reads rw->{off,len} from the backend */
	SCSI_CLASS_WRITE, /* caller writes; rw->fua set for FUA */
	SCSI_CLASS_FLUSH, /* caller flushes (SYNCHRONIZE CACHE) */
	SCSI_CLASS_SLOW,  /* run scsi_exec_slow() on a worker */
	/*
	 * SET TARGET PORT GROUPS with an HA lock (scsi_dev_set_ha_lock() not
	 * NONE).  LOCK: the command makes the local group Active/Optimized or
	 * Active/Non-optimized while the lock is not held; nothing is applied.
	 * The caller takes the lock (tag rw->ha_tag, the group id) off the ring
	 * thread, reports it held, then runs scsi_dispatch() on the command
	 * again, which applies it; or ends it with TCMU_STS_EXPL_TRANSITION_ERR
	 * when the lock cannot be taken.  UNLOCK: the command moved the local
	 * group to Standby or Unavailable while the lock is held; it is applied.
	 * The caller releases the lock off the ring thread, then ends it GOOD.
	 */
	SCSI_CLASS_LOCK,
	SCSI_CLASS_UNLOCK,
};

struct scsi_rw {
	uint64_t off; /* bytes */
	size_t len;   /* bytes; equals the command's iovec length */
	bool fua;
	uint16_t ha_tag; /* SCSI_CLASS_LOCK/UNLOCK: the local group id */
};

/*
 * The backend of one device.  Every operation is called on the thread that
 * runs scsi_exec_slow() (or the format thread it starts), may block until
 * the I/O completes, and returns a TCMU_STS_* status; be is the handle given
 * to scsi_dev_create().  Offsets and lengths are in bytes, whole blocks.
 *
 * read and write are mandatory.  flush is what the caller runs for
 * SCSI_CLASS_FLUSH; the engine only tests it for presence.  An optional
 * operation left NULL says the
 * backend lacks it, which the engine reports and works around:
 *  - flush NULL: no volatile cache (SYNCHRONIZE CACHE succeeds at once, WCE
 *    is not changeable);
 *  - unmap NULL: no thin provisioning (UNMAP and WRITE SAME with UNMAP are
 *    refused, LBPU/LBPWS and LBPRZ are clear, FORMAT UNIT writes zeroes);
 *  - writesame NULL: WRITE SAME is emulated with plain writes;
 *  - caw NULL: COMPARE AND WRITE is emulated with read, compare, write;
 *  - get_lba_status NULL: every block is reported mapped;
 *  - find_by_naa NULL: EXTENDED COPY only reaches this device.
 * Any of them may still return TCMU_STS_NOT_HANDLED at run time; the engine
 * then falls back as if it were NULL (unmap: the command fails).
 *
 * find_by_naa() looks up another device served by the same user from its
 * NAA designator (16 bytes, type 6, as in VPD page 0x83) for EXTENDED COPY;
 * the returned scsi_dev stays valid until put().  NULL if none.
 *
 * The table is read at each use and must outlive the scsi_dev; its user may
 * change an entry only while no command runs on the device.
 */
struct scsi_backend_ops {
	int (*read)(void *be, struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off);
	int (*write)(void *be, struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off,
		     bool fua);
	int (*flush)(void *be);
	int (*unmap)(void *be, uint64_t off, uint64_t len);
	int (*writesame)(void *be, uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt);
	int (*caw)(void *be, uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt);
	int (*get_lba_status)(void *be, uint64_t lba, uint64_t *nr_lbas, int *state);
	struct scsi_dev *(*find_by_naa)(void *be, const uint8_t *naa, size_t len);
	void (*put)(void *be, struct scsi_dev *other);
};

/*
 * Per-device SCSI state (UA, format progress, mode pages, xcopy list ids).
 * dev gives the geometry and configfs attributes (libtcmu accessors).
 * Returns 0 or -errno (-EINVAL without read or write).  Any thread; may
 * block briefly (reads configfs).
 */
int scsi_dev_create(struct tcmu_device *dev, const struct scsi_backend_ops *ops, void *be,
		    struct scsi_dev **out);
/* Waits for a background FORMAT UNIT.  May block. */
void scsi_dev_destroy(struct scsi_dev *sd);
struct tcmu_device *scsi_dev_tcmu(struct scsi_dev *sd);
/* The device's NAA designator (from its unit serial); false if it has none. */
bool scsi_dev_naa(struct scsi_dev *sd, uint8_t naa[16]);
/* Queue the CAPACITY DATA HAS CHANGED unit attention (after a resize). */
void scsi_dev_capacity_changed(struct scsi_dev *sd);

/*
 * The ALUA lock of an HA handler (daemon/ha.c).  Any thread, never
 * block (one atomic each).  scsi_dev_set_ha_lock(): SCSI_HA_NONE (the
 * handler has no lock callout), SCSI_HA_UNLOCKED or SCSI_HA_LOCKED; while
 * not NONE, the local group of an implicit ALUA configuration is reported
 * Active/Optimized when locked and Active/Non-optimized when not (unless
 * configfs holds an inaccessible state for it).  scsi_dev_implicit_group():
 * the local group's id when its alua_access_type includes Implicit and it
 * is Active/Optimized or Active/Non-optimized, else -1; as of the last
 * INQUIRY/RTPG/STPG (or device creation), or of the last
 * scsi_dev_alua_reload().  SET TARGET PORT GROUPS on the local group asks
 * for the lock (SCSI_CLASS_LOCK/UNLOCK above).
 * scsi_dev_alua_reload(): re-read the groups from configfs now (a LUN
 * exported, or put in a group, after the last INQUIRY/RTPG/STPG reached
 * us); any thread, blocks on configfs reads (a few syscalls).
 */
#define SCSI_HA_NONE	 0
#define SCSI_HA_UNLOCKED 1
#define SCSI_HA_LOCKED	 2
void scsi_dev_set_ha_lock(struct scsi_dev *sd, int state);
int scsi_dev_implicit_group(struct scsi_dev *sd);
void scsi_dev_alua_reload(struct scsi_dev *sd);

/*
 * What a CDB needs of the backend, from the opcode table; any thread, never
 * blocks.  The one classification the daemon uses for recovery (which
 * commands get BUSY while the backend is away) and implicit-ALUA locking
 * (which commands wait for the lock).
 */
enum scsi_need {
	SCSI_NEED_NONE,	   /* answered from the engine's state (INQUIRY ...) */
	SCSI_NEED_MEDIUM,  /* reads or changes the medium */
	SCSI_NEED_BACKEND, /* anything else, and opcodes the engine lacks */
};
enum scsi_need scsi_cdb_need(const uint8_t *cdb);
/* Any thread; never blocks.  Does the command carry data to the target
 * (writes, parameter lists)?  False for opcodes the engine lacks. */
bool scsi_cdb_writes(const uint8_t *cdb);

/* Ring thread; never blocks.  See above. */
enum scsi_class scsi_dispatch(struct scsi_dev *sd, struct tcmur_cmd *cmd, struct scsi_rw *rw,
			      int *sts);
/* Worker thread; may block.  Returns the final TCMU_STS_* status. */
int scsi_exec_slow(struct scsi_dev *sd, struct tcmur_cmd *cmd);

#endif
