/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Internal interface of the SCSI emulations (scsi/): the parametrised
 * builders behind the public tcmu_emulate_* calls, shared with the engine.
 */
#ifndef TCMU_SCSI_EMUL_H
#define TCMU_SCSI_EMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "libtcmu.h"
#include "scsi_defs.h"

#define SCSI_VENDOR_ID	 "LIO-ORG"
#define SCSI_PRODUCT_ID	 "TCMU device"
#define SCSI_PRODUCT_REV "0002"

/* Defaults for the block limits VPD page when the device sets none. */
#define SCSI_DEF_MAX_UNMAP_LBAS	 (1024 * 1024) /* libiscsi: <= 1 Mi */
#define SCSI_DEF_MAX_UNMAP_DESC	 256
#define SCSI_MAX_WRITE_SAME_LBAS 0xffffffffu

/* What the device can do, as reported in INQUIRY/READ CAPACITY/MODE SENSE. */
struct scsi_caps {
	const char *serial;    /* unit serial; NULL or "" when unknown */
	const char *cfgstring; /* vendor specific designator; may be NULL */
	uint64_t num_lbas;
	uint32_t block_size;
	uint32_t max_xfer_len;	   /* blocks, 0 = not reported */
	uint32_t max_unmap_lbas;   /* 0 = default */
	uint32_t unmap_gran;	   /* optimal unmap granularity, blocks */
	uint32_t unmap_align;	   /* unmap granularity alignment, 0 = none */
	bool solid_state;	   /* medium rotation rate 1 */
	bool unmap;		   /* UNMAP and WRITE SAME with UNMAP work */
	bool lbprz;		   /* unmapped blocks read back as zeroes */
	bool caw;		   /* COMPARE AND WRITE available */
	bool xcopy;		   /* EXTENDED COPY available (3PC) */
	bool wce;		   /* current write cache enable */
	bool wce_default;	   /* MODE SENSE default values */
	bool wce_changeable;	   /* MODE SELECT may change WCE */
	bool wp;		   /* write protected */
	bool fua;		   /* DPOFUA in the mode parameter header */
	uint8_t tpgs;		   /* INQUIRY TPGS field (ALUA), 0 = none */
	const uint8_t *port_desig; /* extra VPD 0x83 designators (ALUA) */
	size_t port_desig_len;
};

/* Fill caps from the device accessors (stateless libtcmu view). */
void scsi_caps_from_dev(struct tcmu_device *dev, struct scsi_caps *caps);

/*
 * Put a response into Data-In: the whole buffer is zeroed first (never leak
 * stale data), then min(len, alloc_len) bytes are copied.  Returns the
 * number of bytes that carry data (for tcmulib_cmd_set_read_len).
 */
size_t scsi_respond(struct iovec *iov, size_t iov_cnt, const void *buf, size_t len,
		    size_t alloc_len);

/* inquiry.c: all return TCMU_STS_*; *out_len gets the Data-In byte count. */
int scsi_inquiry(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
		 size_t iov_cnt, size_t *out_len);
/* NAA type 6 designator (16 bytes) derived from a unit serial, as LIO does. */
void scsi_naa6_from_serial(const char *serial, uint8_t naa[16]);

/* capacity.c */
int scsi_read_capacity_10(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
			  size_t iov_cnt, size_t *out_len);
int scsi_read_capacity_16(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
			  size_t iov_cnt, size_t *out_len);
int scsi_start_stop(const uint8_t *cdb);

/* modepage.c */
int scsi_mode_sense(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
		    size_t iov_cnt, size_t *out_len);
/*
 * Validate a MODE SELECT parameter list against caps; on success *new_wce
 * holds the WCE value to apply (changes only when caps->wce_changeable).
 */
int scsi_mode_select(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
		     size_t iov_cnt, bool *new_wce);

#endif
