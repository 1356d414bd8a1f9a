// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Checks lib/cdb.c: CDB length per group code, LBA and transfer length. */
#include <errno.h>
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

int main(void)
{
	uint8_t cdb[40];
	int g;

	STEP("length from the group code");
	for (g = 0; g < 8; g++) {
		static const int expect[8] = { 6, 10, 10, -EINVAL, 16, 12, -EINVAL, -EINVAL };

		memset(cdb, 0, sizeof(cdb));
		cdb[0] = (g << 5) | 0x01;
		CHECK_EQ(tcmu_get_cdb_length(cdb), expect[g]);
	}
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = VARIABLE_LENGTH_CMD;
	cdb[7] = 0x18;
	CHECK_EQ(tcmu_get_cdb_length(cdb), 32);

	STEP("READ(6): 21-bit LBA, 0 blocks means 256");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = READ_6;
	cdb[1] = 0xff; /* upper 3 bits are not LBA */
	cdb[2] = 0x34;
	cdb[3] = 0x56;
	CHECK_EQ(tcmu_cdb_get_lba(cdb), 0x1f3456);
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 256);
	cdb[4] = 7;
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 7);
	cdb[0] = INQUIRY;
	cdb[4] = 0;
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 0);

	STEP("READ(10)/(12)/(16)");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = READ_10;
	scsi_put_be32(&cdb[2], 0xdeadbeef);
	scsi_put_be16(&cdb[7], 0x1234);
	CHECK_EQ(tcmu_cdb_get_lba(cdb), 0xdeadbeef);
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 0x1234);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = READ_12;
	scsi_put_be32(&cdb[2], 0x01020304);
	scsi_put_be32(&cdb[6], 0x05060708);
	CHECK_EQ(tcmu_cdb_get_lba(cdb), 0x01020304);
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 0x05060708);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = WRITE_16;
	scsi_put_be64(&cdb[2], 0x0102030405060708ull);
	scsi_put_be32(&cdb[10], 0x90abcdef);
	CHECK_EQ(tcmu_cdb_get_lba(cdb), 0x0102030405060708ull);
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 0x90abcdef);

	STEP("32-byte variable length layout");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = VARIABLE_LENGTH_CMD;
	cdb[7] = 0x18;
	scsi_put_be64(&cdb[12], 0x1122334455667788ull);
	scsi_put_be32(&cdb[28], 42);
	CHECK_EQ(tcmu_cdb_get_lba(cdb), 0x1122334455667788ull);
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 42);

	STEP("vendor group: no LBA, no length");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xc0;
	CHECK_EQ(tcmu_cdb_get_lba(cdb), 0);
	CHECK_EQ(tcmu_cdb_get_xfer_length(cdb), 0);

	STEP("byte order helpers");
	scsi_put_be64(cdb, 0x8877665544332211ull);
	CHECK_EQ(cdb[0], 0x88);
	CHECK_EQ(cdb[7], 0x11);
	CHECK_EQ(scsi_get_be24(&cdb[1]), 0x776655);

	STEP("print_info does not crash on any group");
	{
		struct tcmulib_cmd cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.cdb = cdb;
		cdb[0] = 0xe0;
		tcmu_cdb_print_info(NULL, &cmd, NULL);
		cdb[0] = READ_16;
		cmd.cdb_len = 16;
		tcmu_cdb_print_info(NULL, &cmd, "info");
	}
	return check_exit();
}
