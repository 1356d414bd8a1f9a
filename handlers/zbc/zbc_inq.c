// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * What identifies the zoned model:
 *  - standard INQUIRY: peripheral device type 0x14 (host managed zoned
 *    block device) for HM; HA keeps type 0 (the generic layer answers);
 *  - VPD 00 lists B1 and B6 besides the generic pages;
 *  - VPD B1 (block device characteristics): non-rotating; ZONED field
 *    (byte 8 bits 5..4) 01b for host aware, 00b for HM (the type says it);
 *  - VPD B6 (zoned block device characteristics, ZBC-2 6.5.2): URSWRZ,
 *    the optimal open zone counts (HA) or the maximum number of open
 *    sequential write required zones (HM), constant zone length;
 *  - READ CAPACITY (16) with RC BASIS 01b: the returned LBA is the last
 *    one of the device (what REPORT ZONES says too).
 * The other VPD pages (80, 83, B0, B2) are left to the generic layer.
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

#define ZBC_TYPE_HM 0x14
#define INQ_BUF	    256

static const uint8_t vpd_pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2, 0xb6 };

static int respond(struct iovec *iov, size_t iov_cnt, const uint8_t *buf, size_t len, size_t alloc)
{
	tcmu_iovec_zero(iov, iov_cnt);
	tcmu_memcpy_into_iovec(iov, iov_cnt, (void *)buf, len < alloc ? len : alloc);
	return TCMU_STS_OK;
}

static size_t vpd_b6(const struct zbc_dev *z, uint8_t *b)
{
	scsi_put_be16(b + 2, 0x3c);
	b[4] = z->urswrz ? 0x01 : 0x00;
	if (z->ha) {
		scsi_put_be32(b + 8, z->max_open);  /* optimal open seq. preferred */
		scsi_put_be32(b + 12, z->max_open); /* optimal non-seq. written */
		scsi_put_be32(b + 16, 0xffffffff);  /* not reported */
	} else {
		scsi_put_be32(b + 8, 0xffffffff);
		scsi_put_be32(b + 12, 0xffffffff);
		scsi_put_be32(b + 16, z->max_open);
	}
	b[23] = 0x01; /* zone alignment method: constant zone length */
	return 64;
}

/* TCMU_STS_NOT_HANDLED for what the generic layer answers as is. */
int zbc_inquiry(struct zbc_dev *z, uint8_t *cdb, struct iovec *iov, size_t iov_cnt)
{
	uint8_t b[INQ_BUF] = { 0 };
	size_t alloc = scsi_get_be16(cdb + 3), len;
	int ret;

	if (cdb[1] & 0xfe)
		return TCMU_STS_INVALID_CDB;
	if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			return TCMU_STS_INVALID_CDB;
		if (z->ha || !z->std_inquiry)
			return TCMU_STS_NOT_HANDLED;
		ret = z->std_inquiry(z->std_inquiry_arg, cdb, b, sizeof(b));
		if (ret != TCMU_STS_OK)
			return ret;
		b[0] = (b[0] & 0xe0) | ZBC_TYPE_HM;
		return respond(iov, iov_cnt, b, (size_t)b[4] + 5, alloc);
	}
	b[0] = z->ha ? 0x00 : ZBC_TYPE_HM;
	b[1] = cdb[2];
	switch (cdb[2]) {
	case 0x00:
		b[3] = sizeof(vpd_pages);
		memcpy(b + 4, vpd_pages, sizeof(vpd_pages));
		len = 4 + sizeof(vpd_pages);
		break;
	case 0xb1:
		scsi_put_be16(b + 2, 0x3c);
		scsi_put_be16(b + 4, 1);    /* medium rotation rate: non-rotating */
		b[8] = z->ha ? 0x10 : 0x00; /* ZONED */
		len = 64;
		break;
	case 0xb6:
		len = vpd_b6(z, b);
		break;
	default:
		return TCMU_STS_NOT_HANDLED;
	}
	return respond(iov, iov_cnt, b, len, alloc);
}

/* READ CAPACITY (10) 0x25 and (16) 0x9e/0x10. */
int zbc_read_capacity(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt)
{
	uint8_t b[32] = { 0 };
	uint64_t last = z->nr_lbas - 1;

	if (cdb[0] == READ_CAPACITY) {
		if (scsi_get_be32(cdb + 2) && !(cdb[8] & 0x01))
			return TCMU_STS_INVALID_CDB; /* LBA without PMI */
		scsi_put_be32(b, last > 0xffffffffull ? 0xffffffffu : (uint32_t)last);
		scsi_put_be32(b + 4, z->lba_size);
		return respond(iov, iov_cnt, b, 8, 8);
	}
	scsi_put_be64(b, last);
	scsi_put_be32(b + 8, z->lba_size);
	b[12] = 0x10; /* RC BASIS 01b: the last LBA of the device */
	return respond(iov, iov_cnt, b, sizeof(b), scsi_get_be32(cdb + 10));
}
