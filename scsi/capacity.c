// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * READ CAPACITY (10) and (16) (SBC-3 5.15, 5.16) and START STOP UNIT
 * (SBC-3 5.25) for a fixed, always ready medium.
 */
#include <string.h>

#include "emul.h"

int scsi_read_capacity_10(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
			  size_t iov_cnt, size_t *out_len)
{
	uint8_t buf[8];
	uint64_t last = caps->num_lbas ? caps->num_lbas - 1 : 0;

	*out_len = 0;
	/* RELADR and reserved bits; an LBA is only meaningful with PMI. */
	if ((cdb[1] & 0x01) || (cdb[8] & 0xfe))
		return TCMU_STS_INVALID_CDB;
	if (!(cdb[8] & 0x01) && scsi_get_be32(&cdb[2]))
		return TCMU_STS_INVALID_CDB;

	scsi_put_be32(&buf[0], last > 0xffffffffull ? 0xffffffffu : (uint32_t)last);
	scsi_put_be32(&buf[4], caps->block_size);
	*out_len = scsi_respond(iov, iov_cnt, buf, sizeof(buf), sizeof(buf));
	return TCMU_STS_OK;
}

int scsi_read_capacity_16(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
			  size_t iov_cnt, size_t *out_len)
{
	uint8_t buf[32];
	uint32_t alloc_len = scsi_get_be32(&cdb[10]);

	*out_len = 0;
	if ((cdb[1] & 0x1f) != READ_CAPACITY_16 || (cdb[14] & 0xfe))
		return TCMU_STS_INVALID_CDB;
	if (!(cdb[14] & 0x01) && scsi_get_be64(&cdb[2]))
		return TCMU_STS_INVALID_CDB;

	memset(buf, 0, sizeof(buf));
	scsi_put_be64(&buf[0], caps->num_lbas ? caps->num_lbas - 1 : 0);
	scsi_put_be32(&buf[8], caps->block_size);
	if (caps->unmap)
		buf[14] |= 0x80; /* LBPME */
	if (caps->lbprz)
		buf[14] |= 0x40; /* LBPRZ */
	*out_len = scsi_respond(iov, iov_cnt, buf, sizeof(buf), alloc_len);
	return TCMU_STS_OK;
}

/*
 * The medium is not removable and always ready: START, STOP and LOEJ are
 * accepted and have no effect.  Reserved power conditions are refused.
 */
int scsi_start_stop(const uint8_t *cdb)
{
	uint8_t pc = cdb[4] >> 4;

	if ((cdb[1] & 0xfe) || (cdb[3] & 0xf0) || (cdb[4] & 0x08))
		return TCMU_STS_INVALID_CDB;
	switch (pc) {
	case 0x0: /* START_VALID */
	case 0x1: /* ACTIVE */
	case 0x2: /* IDLE */
	case 0x3: /* STANDBY */
	case 0x7: /* LU_CONTROL */
	case 0xa: /* FORCE_IDLE_0 */
	case 0xb: /* FORCE_STANDBY_0 */
		return TCMU_STS_OK;
	default:
		return TCMU_STS_INVALID_CDB;
	}
}
