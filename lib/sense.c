// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The one table mapping TCMU_STS_* results to SCSI status and fixed format
 * sense data (SPC-4 4.5.3), plus helpers for INFORMATION and the
 * sense-key-specific bytes.
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"

#define SENSE_FIXED_LEN	    18
#define SENSE_VALID	    0x80
#define SENSE_FIXED_CURRENT 0x70
#define SENSE_SKSV	    0x80

struct sts_map {
	uint8_t status;
	uint8_t key; /* meaningful only for CHECK CONDITION */
	uint16_t asc_ascq;
	bool keep_sense; /* the sense buffer was filled by the caller */
};

#define CC(k, a)                                                                                   \
	{                                                                                          \
		SAM_STAT_CHECK_CONDITION, (k), (a), false                                          \
	}

/* Indexed by TCMU_STS_* + 1 (TCMU_STS_NOT_HANDLED is -1). */
static const struct sts_map sts_table[TCMU_STS__MAX + 1] = {
	[TCMU_STS_NOT_HANDLED + 1] = CC(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE),
	[TCMU_STS_OK + 1] = { SAM_STAT_GOOD, 0, 0, true },
	/* Never a final result; completing with it is a bug, say so. */
	[TCMU_STS_ASYNC_HANDLED + 1] = CC(HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE),
	[TCMU_STS_PASSTHROUGH_ERR + 1] = { SAM_STAT_CHECK_CONDITION, 0, 0, true },
	[TCMU_STS_NO_RESOURCE + 1] = { SAM_STAT_TASK_SET_FULL, 0, 0, true },
	[TCMU_STS_BUSY + 1] = { SAM_STAT_BUSY, 0, 0, true },
	[TCMU_STS_TIMEOUT + 1] = { SAM_STAT_BUSY, 0, 0, true },
	[TCMU_STS_RANGE + 1] = CC(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE),
	[TCMU_STS_HW_ERR + 1] = CC(HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE),
	[TCMU_STS_MISCOMPARE + 1] = CC(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION),
	[TCMU_STS_RD_ERR + 1] = CC(MEDIUM_ERROR, ASC_READ_ERROR),
	[TCMU_STS_WR_ERR + 1] = CC(MEDIUM_ERROR, ASC_WRITE_ERROR),
	[TCMU_STS_INVALID_CMD + 1] = CC(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE),
	[TCMU_STS_INVALID_CDB + 1] = CC(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB),
	[TCMU_STS_INVALID_PARAM_LIST + 1] =
		CC(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST),
	[TCMU_STS_INVALID_PARAM_LIST_LEN + 1] =
		CC(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR),
	[TCMU_STS_NOTSUPP_SEG_DESC_TYPE + 1] =
		CC(ILLEGAL_REQUEST, ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE),
	[TCMU_STS_NOTSUPP_TGT_DESC_TYPE + 1] =
		CC(ILLEGAL_REQUEST, ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE),
	[TCMU_STS_TOO_MANY_SEG_DESC + 1] = CC(ILLEGAL_REQUEST, ASC_TOO_MANY_SEGMENT_DESCRIPTORS),
	[TCMU_STS_TOO_MANY_TGT_DESC + 1] = CC(ILLEGAL_REQUEST, ASC_TOO_MANY_TARGET_DESCRIPTORS),
	[TCMU_STS_CP_TGT_DEV_NOTCONN + 1] = CC(COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE),
	[TCMU_STS_INVALID_CP_TGT_DEV_TYPE + 1] =
		CC(COPY_ABORTED, ASC_INCORRECT_COPY_TARGET_DEVICE_TYPE),
	[TCMU_STS_CAPACITY_CHANGED + 1] = CC(UNIT_ATTENTION, ASC_CAPACITY_DATA_HAS_CHANGED),
	[TCMU_STS_TRANSITION + 1] = CC(NOT_READY, ASC_STATE_TRANSITION),
	[TCMU_STS_IMPL_TRANSITION_ERR + 1] =
		CC(UNIT_ATTENTION, ASC_IMPLICIT_ALUA_TRANSITION_FAILED),
	[TCMU_STS_EXPL_TRANSITION_ERR + 1] = CC(HARDWARE_ERROR, ASC_STPG_CMD_FAILED),
	[TCMU_STS_FENCED + 1] = CC(NOT_READY, ASC_PORT_IN_STANDBY),
	[TCMU_STS_WR_ERR_INCOMPAT_FRMT + 1] =
		CC(ILLEGAL_REQUEST, ASC_CANT_WRITE_INCOMPATIBLE_FORMAT),
	[TCMU_STS_NOTSUPP_SAVE_PARAMS + 1] =
		CC(ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED),
	[TCMU_STS_FRMT_IN_PROGRESS + 1] = CC(NOT_READY, ASC_NOT_READY_FORMAT_IN_PROGRESS),
	[TCMU_STS_WRITE_PROTECTED + 1] = CC(DATA_PROTECT, ASC_WRITE_PROTECTED),
	[TCMU_STS_NOT_READY + 1] = CC(NOT_READY, ASC_NOT_READY_CAUSE_NOT_REPORTABLE),
	[TCMU_STS_STOPPED + 1] = CC(NOT_READY, ASC_NOT_READY_INIT_CMD_REQUIRED),
	[TCMU_STS_ABORTED + 1] = CC(ABORTED_COMMAND, ASC_NO_ADDITIONAL_SENSE),
	[TCMU_STS_MEDIUM_NOT_PRESENT + 1] = CC(NOT_READY, ASC_MEDIUM_NOT_PRESENT),
	[TCMU_STS_INSUFFICIENT_RESOURCES + 1] = CC(ABORTED_COMMAND, ASC_INSUFFICIENT_RESOURCES),
	[TCMU_STS_INVALID_LUN + 1] = CC(ILLEGAL_REQUEST, ASC_LOGICAL_UNIT_NOT_SUPPORTED),
	[TCMU_STS_PARAM_VALUE_INVALID + 1] = CC(ILLEGAL_REQUEST, ASC_PARAMETER_VALUE_INVALID),
	[TCMU_STS_SAVING_PARAMS_UNSUP + 1] =
		CC(ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED),
	[TCMU_STS_MODE_PARAMS_CHANGED + 1] = CC(UNIT_ATTENTION, ASC_MODE_PARAMETERS_CHANGED),
	[TCMU_STS_POWER_ON_RESET + 1] = CC(UNIT_ATTENTION, ASC_POWER_ON_RESET),
	[TCMU_STS_COPY_ABORTED_ERR + 1] = CC(COPY_ABORTED, ASC_MISCOMPARE_DURING_VERIFY_OPERATION),
	[TCMU_STS_ALUA_UNAVAILABLE + 1] = CC(NOT_READY, ASC_PORT_IN_UNAVAILABLE),
	[TCMU_STS_ALUA_OFFLINE + 1] = CC(NOT_READY, ASC_ALUA_OFFLINE),
};

/*
 * Fill the fixed format header, key and ASC/ASCQ.  INFORMATION (with VALID)
 * and the sense-key-specific bytes (with SKSV) a caller set beforehand are
 * kept, e.g. a miscompare offset or a format progress indication; all other
 * bytes of the 18-byte sense are rewritten.
 */
static void sense_fill_fixed(uint8_t *sb, uint8_t key, uint16_t asc_ascq)
{
	bool valid = sb[0] & SENSE_VALID;
	bool sksv = sb[15] & SENSE_SKSV;
	uint8_t info[4], sks[3];

	memcpy(info, &sb[3], sizeof(info));
	memcpy(sks, &sb[15], sizeof(sks));
	memset(sb, 0, SENSE_FIXED_LEN);

	sb[0] = SENSE_FIXED_CURRENT | (valid ? SENSE_VALID : 0);
	sb[2] = key & 0x0f;
	if (valid)
		memcpy(&sb[3], info, sizeof(info));
	sb[7] = SENSE_FIXED_LEN - 8;
	sb[12] = asc_ascq >> 8;
	sb[13] = asc_ascq & 0xff;
	if (sksv)
		memcpy(&sb[15], sks, sizeof(sks));
}

int tcmu_set_sense_data(uint8_t *sense_buf, uint8_t key, uint16_t asc_ascq)
{
	sense_fill_fixed(sense_buf, key, asc_ascq);
	return SAM_STAT_CHECK_CONDITION;
}

void tcmu_sense_set_info(uint8_t *sense_buf, uint32_t info)
{
	sense_buf[0] |= SENSE_VALID | SENSE_FIXED_CURRENT;
	scsi_put_be32(&sense_buf[3], info);
}

void tcmu_sense_set_key_specific_info(uint8_t *sense_buf, uint16_t info)
{
	sense_buf[0] |= SENSE_FIXED_CURRENT;
	sense_buf[15] = SENSE_SKSV;
	scsi_put_be16(&sense_buf[16], info);
}

void tcmu_sense_set_progress(uint8_t *sense_buf, uint16_t progress)
{
	tcmu_sense_set_key_specific_info(sense_buf, progress);
}

void tcmu_sense_set_field_pointer(uint8_t *sense_buf, bool in_cdb, uint16_t byte, int bit)
{
	uint8_t b = SENSE_SKSV;

	if (in_cdb)
		b |= 0x40; /* C/D */
	if (bit >= 0 && bit <= 7)
		b |= 0x08 | bit; /* BPV and the bit pointer */
	sense_buf[0] |= SENSE_FIXED_CURRENT;
	sense_buf[15] = b;
	scsi_put_be16(&sense_buf[16], byte);
}

int tcmu_sts_to_scsi(int sts, uint8_t *sense_buf)
{
	const struct sts_map *m;

	if (sts < TCMU_STS_NOT_HANDLED || sts >= TCMU_STS__MAX ||
	    (sts != TCMU_STS_OK && !sts_table[sts + 1].status)) {
		/* Unknown result: report an internal target failure. */
		return tcmu_set_sense_data(sense_buf, HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	}

	m = &sts_table[sts + 1];
	if (m->keep_sense)
		return m->status;
	sense_fill_fixed(sense_buf, m->key, m->asc_ascq);
	return m->status;
}
