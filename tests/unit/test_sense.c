// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Checks lib/sense.c: every TCMU_STS_* maps as documented, INFO/SKS kept. */
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

struct expect {
	int sts;
	uint8_t status, key;
	uint16_t asc;
};

static const struct expect table[] = {
	{ TCMU_STS_NOT_HANDLED, 2, 0x5, 0x2000 },
	{ TCMU_STS_OK, 0, 0, 0 },
	{ TCMU_STS_ASYNC_HANDLED, 2, 0x4, 0x4400 },
	{ TCMU_STS_PASSTHROUGH_ERR, 2, 0xff, 0 }, /* sense left alone */
	{ TCMU_STS_NO_RESOURCE, 0x28, 0, 0 },
	{ TCMU_STS_BUSY, 0x08, 0, 0 },
	{ TCMU_STS_TIMEOUT, 0x08, 0, 0 },
	{ TCMU_STS_RANGE, 2, 0x5, 0x2100 },
	{ TCMU_STS_HW_ERR, 2, 0x4, 0x4400 },
	{ TCMU_STS_MISCOMPARE, 2, 0xe, 0x1d00 },
	{ TCMU_STS_RD_ERR, 2, 0x3, 0x1100 },
	{ TCMU_STS_WR_ERR, 2, 0x3, 0x0c00 },
	{ TCMU_STS_INVALID_CMD, 2, 0x5, 0x2000 },
	{ TCMU_STS_INVALID_CDB, 2, 0x5, 0x2400 },
	{ TCMU_STS_INVALID_PARAM_LIST, 2, 0x5, 0x2600 },
	{ TCMU_STS_INVALID_PARAM_LIST_LEN, 2, 0x5, 0x1a00 },
	{ TCMU_STS_NOTSUPP_SEG_DESC_TYPE, 2, 0x5, 0x2609 },
	{ TCMU_STS_NOTSUPP_TGT_DESC_TYPE, 2, 0x5, 0x2607 },
	{ TCMU_STS_TOO_MANY_SEG_DESC, 2, 0x5, 0x2608 },
	{ TCMU_STS_TOO_MANY_TGT_DESC, 2, 0x5, 0x2606 },
	{ TCMU_STS_CP_TGT_DEV_NOTCONN, 2, 0xa, 0x0d02 },
	{ TCMU_STS_INVALID_CP_TGT_DEV_TYPE, 2, 0xa, 0x0d03 },
	{ TCMU_STS_CAPACITY_CHANGED, 2, 0x6, 0x2a09 },
	{ TCMU_STS_TRANSITION, 2, 0x2, 0x040a },
	{ TCMU_STS_IMPL_TRANSITION_ERR, 2, 0x6, 0x2a07 },
	{ TCMU_STS_EXPL_TRANSITION_ERR, 2, 0x4, 0x670a },
	{ TCMU_STS_FENCED, 2, 0x2, 0x040b },
	{ TCMU_STS_WR_ERR_INCOMPAT_FRMT, 2, 0x5, 0x3005 },
	{ TCMU_STS_NOTSUPP_SAVE_PARAMS, 2, 0x5, 0x3900 },
	{ TCMU_STS_FRMT_IN_PROGRESS, 2, 0x2, 0x0404 },
	{ TCMU_STS_WRITE_PROTECTED, 2, 0x7, 0x2700 },
	{ TCMU_STS_NOT_READY, 2, 0x2, 0x0400 },
	{ TCMU_STS_STOPPED, 2, 0x2, 0x0402 },
	{ TCMU_STS_ABORTED, 2, 0xb, 0x0000 },
	{ TCMU_STS_MEDIUM_NOT_PRESENT, 2, 0x2, 0x3a00 },
	{ TCMU_STS_INSUFFICIENT_RESOURCES, 2, 0xb, 0x5503 },
	{ TCMU_STS_INVALID_LUN, 2, 0x5, 0x2500 },
	{ TCMU_STS_PARAM_VALUE_INVALID, 2, 0x5, 0x2602 },
	{ TCMU_STS_SAVING_PARAMS_UNSUP, 2, 0x5, 0x3900 },
	{ TCMU_STS_MODE_PARAMS_CHANGED, 2, 0x6, 0x2a01 },
	{ TCMU_STS_POWER_ON_RESET, 2, 0x6, 0x2900 },
	{ TCMU_STS_COPY_ABORTED_ERR, 2, 0xa, 0x1d00 },
	{ TCMU_STS_ALUA_UNAVAILABLE, 2, 0x2, 0x040c },
	{ TCMU_STS_ALUA_OFFLINE, 2, 0x2, 0x0412 },
};

int main(void)
{
	uint8_t sb[TCMU_SENSE_BUFFERSIZE];
	size_t i;
	int sts;

	STEP("every status in the table, aliases distinct from new codes");
	CHECK_EQ(sizeof(table) / sizeof(table[0]), TCMU_STS__MAX + 1);
	CHECK(TCMU_STS_LBA_OUT_OF_RANGE == TCMU_STS_RANGE);
	CHECK(TCMU_STS_NOT_READY != TCMU_STS_INVALID_PARAM_LIST_LEN);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct expect *e = &table[i];

		memset(sb, 0, sizeof(sb));
		CHECK_EQ(tcmu_sts_to_scsi(e->sts, sb), e->status);
		if (e->status != SAM_STAT_CHECK_CONDITION || e->key == 0xff) {
			CHECK_EQ(sb[0], 0); /* untouched */
			continue;
		}
		CHECK_EQ(sb[0], 0x70);
		CHECK_EQ(sb[2], e->key);
		CHECK_EQ(sb[7], 10);
		CHECK_EQ((sb[12] << 8) | sb[13], e->asc);
		CHECK_EQ(sb[15], 0);
	}

	STEP("every value 0.._MAX-1 is mapped to a real status");
	for (sts = TCMU_STS_NOT_HANDLED; sts < TCMU_STS__MAX; sts++) {
		memset(sb, 0, sizeof(sb));
		if (tcmu_sts_to_scsi(sts, sb) == SAM_STAT_CHECK_CONDITION &&
		    sts != TCMU_STS_PASSTHROUGH_ERR)
			CHECK(sb[12] != 0 || sb[2] == 0xb);
	}

	STEP("unknown status: internal target failure");
	memset(sb, 0, sizeof(sb));
	CHECK_EQ(tcmu_sts_to_scsi(TCMU_STS__MAX + 5, sb), SAM_STAT_CHECK_CONDITION);
	CHECK_EQ(sb[2], 0x4);
	CHECK_EQ(sb[12], 0x44);

	STEP("PASSTHROUGH_ERR keeps the handler's sense");
	memset(sb, 0, sizeof(sb));
	tcmu_set_sense_data(sb, MEDIUM_ERROR, 0x1100);
	CHECK_EQ(tcmu_sts_to_scsi(TCMU_STS_PASSTHROUGH_ERR, sb), SAM_STAT_CHECK_CONDITION);
	CHECK_EQ(sb[2], MEDIUM_ERROR);
	CHECK_EQ(sb[12], 0x11);

	STEP("miscompare offset in INFORMATION survives the mapping");
	memset(sb, 0xee, sizeof(sb)); /* stale bytes must not leak */
	memset(sb, 0, 18);
	tcmu_sense_set_info(sb, 0x01020304);
	CHECK_EQ(tcmu_sts_to_scsi(TCMU_STS_MISCOMPARE, sb), SAM_STAT_CHECK_CONDITION);
	CHECK_EQ(sb[0], 0xf0);
	CHECK_EQ(scsi_get_be32(&sb[3]), 0x01020304);
	CHECK_EQ(sb[2], MISCOMPARE);
	CHECK_EQ(sb[15], 0);

	STEP("progress indication survives, no VALID without INFO");
	memset(sb, 0, sizeof(sb));
	tcmu_sense_set_progress(sb, 0x8000);
	tcmu_sts_to_scsi(TCMU_STS_FRMT_IN_PROGRESS, sb);
	CHECK_EQ(sb[0], 0x70);
	CHECK_EQ(sb[15], 0x80);
	CHECK_EQ(scsi_get_be16(&sb[16]), 0x8000);
	CHECK_EQ(sb[12], 0x04);
	CHECK_EQ(sb[13], 0x04);

	STEP("stale INFO without VALID is cleared");
	memset(sb, 0, sizeof(sb));
	sb[3] = 0x55;
	sb[16] = 0x66;
	tcmu_sts_to_scsi(TCMU_STS_INVALID_CDB, sb);
	CHECK_EQ(sb[3], 0);
	CHECK_EQ(sb[16], 0);

	STEP("field pointer");
	memset(sb, 0, sizeof(sb));
	tcmu_sense_set_field_pointer(sb, true, 2, 5);
	tcmu_sts_to_scsi(TCMU_STS_INVALID_CDB, sb);
	CHECK_EQ(sb[15], 0x80 | 0x40 | 0x08 | 5);
	CHECK_EQ(scsi_get_be16(&sb[16]), 2);
	memset(sb, 0, sizeof(sb));
	tcmu_sense_set_field_pointer(sb, false, 300, -1);
	CHECK_EQ(sb[15], 0x80);
	CHECK_EQ(scsi_get_be16(&sb[16]), 300);

	STEP("tcmu_set_sense_data returns CHECK CONDITION");
	memset(sb, 0, sizeof(sb));
	CHECK_EQ(tcmu_set_sense_data(sb, NOT_READY, 0x0401), SAM_STAT_CHECK_CONDITION);
	CHECK_EQ(sb[2], NOT_READY);
	CHECK_EQ(sb[13], 0x01);
	return check_exit();
}
