// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The zbc opcode switch.  What it does not name goes to the generic SCSI
 * layer (TCMU_STS_NOT_HANDLED): TEST UNIT READY, REQUEST SENSE, MODE
 * SENSE/SELECT, REPORT LUNS, the other VPD pages...  Commands that would
 * touch the medium behind the zone rules' back are refused here instead.
 */
#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

static int zbc_rw(struct zbc_dev *z, uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		  uint8_t *sense)
{
	uint64_t lba = tcmu_cdb_get_lba(cdb);
	uint32_t n = tcmu_cdb_get_xfer_length(cdb);
	bool fua = cdb[1] & 0x08;

	switch (cdb[0]) {
	case READ_10:
	case READ_12:
	case READ_16:
		return zbc_read(z, lba, n, iov, iov_cnt, sense);
	default:
		return zbc_write(z, lba, n, iov, iov_cnt, fua, sense);
	}
}

/*
 * Any single thread per device (the handler runs SERIALIZE): the zone
 * state has no lock.  May block on the backing file.
 */
int zbc_exec(struct zbc_dev *z, uint8_t *cdb, struct iovec *iov, size_t iov_cnt, uint8_t *sense)
{
	switch (cdb[0]) {
	case INQUIRY:
		return zbc_inquiry(z, cdb, iov, iov_cnt);
	case READ_CAPACITY:
		return zbc_read_capacity(z, cdb, iov, iov_cnt);
	case SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1f) == READ_CAPACITY_16)
			return zbc_read_capacity(z, cdb, iov, iov_cnt);
		if ((cdb[1] & 0x1f) == GET_LBA_STATUS)
			return zbc_get_lba_status(z, cdb, iov, iov_cnt, sense);
		return TCMU_STS_NOT_HANDLED;
	case ZBC_IN:
		if ((cdb[1] & 0x1f) != ZBC_SA_REPORT_ZONES)
			return TCMU_STS_INVALID_CDB;
		return zbc_report_zones(z, cdb, iov, iov_cnt, sense);
	case ZBC_OUT:
		return zbc_zone_action(z, cdb, sense);
	case READ_10:
	case READ_12:
	case READ_16:
	case WRITE_10:
	case WRITE_12:
	case WRITE_16:
		return zbc_rw(z, cdb, iov, iov_cnt, sense);
	case WRITE_SAME:
	case WRITE_SAME_16:
		return zbc_write_same(z, cdb, iov, iov_cnt, sense);
	case SYNCHRONIZE_CACHE:
	case SYNCHRONIZE_CACHE_16:
		return zbc_sync(z);
	case READ_6:
	case WRITE_6:
	case WRITE_VERIFY:
	case WRITE_VERIFY_12:
	case WRITE_VERIFY_16:
	case VERIFY:
	case VERIFY_12:
	case VERIFY_16:
	case UNMAP:
	case COMPARE_AND_WRITE:
	case EXTENDED_COPY:
	case PRE_FETCH_10:
	case PRE_FETCH_16:
	case FORMAT_UNIT:
	case SANITIZE:
	case VARIABLE_LENGTH_CMD:
		return TCMU_STS_INVALID_CMD;
	default:
		return TCMU_STS_NOT_HANDLED;
	}
}
