// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * CDB decoding helpers: length from the group code, LBA and transfer
 * length for the READ/WRITE-style layouts of SBC-3, and a debug dump.
 */
#include <errno.h>
#include <stdio.h>

#include "libtcmu.h"
#include "scsi_defs.h"

int tcmu_get_cdb_length(const uint8_t *cdb)
{
	uint8_t group = cdb[0] >> 5;

	switch (group) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 3:
		/* Only the variable length CDB lives in group 3; 8 header bytes. */
		if (cdb[0] == VARIABLE_LENGTH_CMD)
			return 8 + cdb[7];
		return -EINVAL;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		/* Vendor specific groups 6 and 7 have no defined length. */
		return -EINVAL;
	}
}

uint64_t tcmu_cdb_get_lba(const uint8_t *cdb)
{
	switch (tcmu_get_cdb_length(cdb)) {
	case 6:
		return scsi_get_be24(&cdb[1]) & 0x1fffff;
	case 10:
	case 12:
		return scsi_get_be32(&cdb[2]);
	case 16:
		return scsi_get_be64(&cdb[2]);
	case 32:
		return scsi_get_be64(&cdb[12]);
	default:
		return 0;
	}
}

uint32_t tcmu_cdb_get_xfer_length(const uint8_t *cdb)
{
	switch (tcmu_get_cdb_length(cdb)) {
	case 6:
		/* SBC: a transfer length of 0 means 256 blocks for READ/WRITE(6). */
		if ((cdb[0] == READ_6 || cdb[0] == WRITE_6) && cdb[4] == 0)
			return 256;
		return cdb[4];
	case 10:
		return scsi_get_be16(&cdb[7]);
	case 12:
		return scsi_get_be32(&cdb[6]);
	case 16:
		return scsi_get_be32(&cdb[10]);
	case 32:
		return scsi_get_be32(&cdb[28]);
	default:
		return 0;
	}
}

void tcmu_cdb_print_info(struct tcmu_device *dev, const struct tcmulib_cmd *cmd, const char *info)
{
	/* 3 characters per byte; the longest CDB the ring delivers is 8 + 255. */
	char buf[3 * 263 + 1];
	int len, i, pos = 0;

	len = tcmu_get_cdb_length(cmd->cdb);
	if (len < 0)
		len = cmd->cdb_len ? (int)cmd->cdb_len : 1;
	if (cmd->cdb_len && (uint32_t)len > cmd->cdb_len)
		len = cmd->cdb_len;

	for (i = 0; i < len; i++)
		pos += snprintf(buf + pos, sizeof(buf) - pos, "%02x ", cmd->cdb[i]);
	if (pos)
		buf[pos - 1] = '\0';
	else
		buf[0] = '\0';

	if (info)
		tcmu_dev_info(dev, "%s: %s\n", info, buf);
	else
		tcmu_dev_dbg_scsi_cmd(dev, "%s\n", buf);
}
