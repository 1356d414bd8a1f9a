/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * A RAM-backed device for the engine's unit tests: the engine's backend
 * operations on RAM (struct scsi_backend_ops) and a minimal fake of the
 * libtcmu device accessors (a real struct tcmu_device needs a kernel UIO
 * device).  Nothing of the daemon.
 */
#ifndef TCMU_TEST_FAKE_DEV_H
#define TCMU_TEST_FAKE_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "emul.h"

struct fake_stats {
	unsigned int reads, writes, fua_writes, flushes, unmaps, writesames, caws, lba_status;
};

/* Sense of the last command, decoded from fixed format. */
struct fake_result {
	int status; /* SCSI status */
	uint8_t sense[TCMU_SENSE_BUFFERSIZE];
	uint8_t key, asc, ascq;
	bool read_len_valid;
	uint32_t read_len;
	enum scsi_class cls;
	uint16_t ha_tag; /* SCSI_CLASS_LOCK/UNLOCK */
};

struct tcmu_device *fake_dev_new(uint64_t num_lbas, uint32_t block_size, const char *serial);
void fake_dev_free(struct tcmu_device *dev);
/*
 * The device's backend operations, as the engine reads them: a test may
 * clear an optional one (or set it from fake_ram_ops) between commands.
 * New devices have all of fake_ram_ops but writesame, caw and
 * get_lba_status.
 */
struct scsi_backend_ops *fake_dev_ops(struct tcmu_device *dev);
extern const struct scsi_backend_ops fake_ram_ops;
uint8_t *fake_dev_mem(struct tcmu_device *dev);
struct fake_stats *fake_dev_stats(struct tcmu_device *dev);
struct scsi_dev *fake_dev_scsi(struct tcmu_device *dev);
int fake_dev_refs(struct tcmu_device *dev);
/* Make a block look deallocated / mapped for GET LBA STATUS. */
bool fake_dev_mapped(struct tcmu_device *dev, uint64_t lba);
void fake_dev_set_wp(struct tcmu_device *dev, bool wp);
/* Fail the next n backend I/Os with sts. */
void fake_dev_inject(struct tcmu_device *dev, int sts, unsigned int n);
/* The same after letting skip backend I/Os through. */
void fake_dev_inject_after(struct tcmu_device *dev, unsigned int skip, int sts, unsigned int n);

/*
 * Run one CDB through scsi_dispatch (and the daemon's part: READ/WRITE/
 * FLUSH on RAM, scsi_exec_slow for SLOW).  buf/len is the data buffer,
 * split over several iovecs.  Returns the SCSI status.
 */
int fake_exec(struct tcmu_device *dev, const uint8_t *cdb, void *buf, size_t len,
	      struct fake_result *res);

/*
 * The configfs root the engine sees (tcmu_cfgfs_root()); a device's
 * directory is <root>/core/user_1/<serial>.  Defaults to a missing path.
 */
extern const char *fake_cfgfs_root;

/* Errors the fake itself detected (out of bounds I/O, bad rw length). */
extern unsigned int fake_internal_errors;

#endif
