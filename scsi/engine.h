/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The generic SCSI engine of tcmu-runner (internal; not installed).
 *
 * Contract between scsi/ (the emulation) and daemon/ (threads, handlers):
 *
 *  - The ring thread calls scsi_dispatch() for each command the handler did
 *    not take.  It never blocks.  It checks pending unit attentions, format
 *    in progress and write protection, decodes the CDB, runs the cheap
 *    emulations in place (INQUIRY, READ CAPACITY, MODE SENSE, TEST UNIT
 *    READY, REQUEST SENSE, REPORT SUPPORTED OPCODES ...) and says what the
 *    daemon must do next.
 *  - READ/WRITE/FLUSH go straight to the handler's callouts, by the daemon,
 *    in the handler's thread model (the fast path).
 *  - Everything else that needs the backend (COMPARE AND WRITE, WRITE SAME,
 *    UNMAP, VERIFY, WRITE AND VERIFY, EXTENDED COPY, FORMAT UNIT, GET LBA
 *    STATUS, PRE-FETCH, ...) is SCSI_CLASS_SLOW: the daemon runs
 *    scsi_exec_slow() on a worker thread, where it may block, and the engine
 *    drives the backend through the synchronous tcmur_io_*() calls below,
 *    which the daemon implements on top of the handler's callouts.
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
	SCSI_CLASS_DONE,	/* *sts is final; complete the command now */
	SCSI_CLASS_READ,	/* call handler read with rw->{off,len} */
	SCSI_CLASS_WRITE,	/* call handler write; rw->fua set for FUA */
	SCSI_CLASS_FLUSH,	/* call handler flush (SYNCHRONIZE CACHE) */
	SCSI_CLASS_SLOW,	/* run scsi_exec_slow() on a worker */
};

struct scsi_rw {
	uint64_t off;		/* bytes */
	size_t len;		/* bytes; equals the command's iovec length */
	bool fua;
};

/* --- engine side (scsi/) --------------------------------------------- */

/* Per-device SCSI state (UA, format progress, mode pages, xcopy list ids). */
int scsi_dev_create(struct tcmu_device *dev, struct scsi_dev **out);
void scsi_dev_destroy(struct scsi_dev *sd);
/* Queue the CAPACITY DATA HAS CHANGED unit attention (after a resize). */
void scsi_dev_capacity_changed(struct scsi_dev *sd);

/*
 * Implicit-ALUA lock of an HA handler (daemon/ha.c).  Any thread, never
 * block (one atomic each).  scsi_dev_set_ha_lock(): SCSI_HA_NONE (the
 * handler has no lock callout), SCSI_HA_UNLOCKED or SCSI_HA_LOCKED; while
 * not NONE, the local group of an implicit ALUA configuration is reported
 * Active/Optimized when locked and Active/Non-optimized when not (unless
 * configfs holds an inaccessible state for it).  scsi_dev_implicit_group():
 * the local group's id when its alua_access_type includes Implicit, else
 * -1; as of the last INQUIRY/RTPG/STPG (or device creation).
 */
#define SCSI_HA_NONE		0
#define SCSI_HA_UNLOCKED	1
#define SCSI_HA_LOCKED		2
void scsi_dev_set_ha_lock(struct scsi_dev *sd, int state);
int scsi_dev_implicit_group(struct scsi_dev *sd);

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
enum scsi_class scsi_dispatch(struct tcmu_device *dev, struct tcmur_cmd *cmd,
			      struct scsi_rw *rw, int *sts);
/* Worker thread; may block.  Returns the final TCMU_STS_* status. */
int scsi_exec_slow(struct tcmu_device *dev, struct tcmur_cmd *cmd);

/* --- daemon side (daemon/): what the engine calls -------------------- */

struct scsi_dev *tcmur_dev_get_scsi(struct tcmu_device *dev);

/*
 * Synchronous backend I/O for compound commands.  Worker thread only; they
 * block until the handler's callout completes, whatever its thread model.
 * Return TCMU_STS_*.  A missing optional callout gives TCMU_STS_NOT_HANDLED
 * (the engine then emulates: e.g. WRITE SAME with plain writes).
 */
int tcmur_io_read(struct tcmu_device *dev, struct iovec *iov, size_t iov_cnt, size_t len,
		  uint64_t off);
int tcmur_io_write(struct tcmu_device *dev, struct iovec *iov, size_t iov_cnt, size_t len,
		   uint64_t off, bool fua);
int tcmur_io_flush(struct tcmu_device *dev);
int tcmur_io_unmap(struct tcmu_device *dev, uint64_t off, uint64_t len);
int tcmur_io_writesame(struct tcmu_device *dev, uint64_t off, uint64_t len,
		       struct iovec *iov, size_t iov_cnt);
int tcmur_io_caw(struct tcmu_device *dev, uint64_t off, uint64_t len, struct iovec *iov,
		 size_t iov_cnt);
int tcmur_io_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas,
			    int *state);

/*
 * EXTENDED COPY between LUNs of this daemon: find a served device by its
 * NAA designator (16 bytes for NAA type 6, as in VPD page 0x83).  The
 * device stays valid until tcmur_dev_put().  NULL if none.
 */
struct tcmu_device *tcmur_dev_find_by_naa(const uint8_t *naa, size_t len);
void tcmur_dev_put(struct tcmu_device *dev);

#endif
