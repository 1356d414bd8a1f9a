// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * GET LBA STATUS (SERVICE ACTION IN (16) 0x9e, service action 0x12), SBC-4.
 * CDB: 2..9 starting LBA, 10..13 allocation length, 14 report type (only
 * 0, every extent, is supported).  What is mapped follows the zones: a
 * sequential zone is mapped from its start up to its write pointer and
 * deallocated after it (RESET WRITE POINTER punches its blocks out of the
 * file); a conventional zone, and an HA zone written out of order, are
 * mapped whole.  Data: an 8-byte header, then one 16-byte descriptor per
 * extent (LBA, number of blocks, provisioning status 0 mapped / 1
 * deallocated) from the extent holding the starting LBA, adjacent extents of
 * the same status merged, as many as the allocation length holds.
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

#define LS_DESC_LEN 16u
#define LS_MAX_DESC 64u

enum { LS_MAPPED = 0, LS_DEALLOCATED = 1 };

/* The end of the extent holding lba (exclusive) and its status. */
static uint64_t extent_end(struct zbc_dev *z, uint64_t lba, uint8_t *status)
{
	struct zbc_zone *zn = zbc_zone_of(z, lba);
	uint64_t end = zn->start + zn->len;

	if (!zbc_zone_is_seq(zn) || zn->non_seq) {
		*status = LS_MAPPED;
		return end;
	}
	if (lba < zn->wp) {
		*status = LS_MAPPED;
		return zn->wp;
	}
	*status = LS_DEALLOCATED;
	return end;
}

int zbc_get_lba_status(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		       uint8_t *sense)
{
	uint8_t b[8 + LS_MAX_DESC * LS_DESC_LEN] = { 0 }, status, next_status;
	uint64_t lba = scsi_get_be64(cdb + 2), end, next;
	uint32_t alloc = scsi_get_be32(cdb + 10);
	size_t n = 0, max = LS_MAX_DESC;

	if (cdb[14])
		return TCMU_STS_INVALID_CDB;
	if (lba >= z->nr_lbas)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (alloc < 8 + LS_DESC_LEN * max)
		max = alloc > 8 + LS_DESC_LEN ? (alloc - 8) / LS_DESC_LEN : 1;
	while (lba < z->nr_lbas && n < max) {
		end = extent_end(z, lba, &status);
		while (end < z->nr_lbas) {
			next = extent_end(z, end, &next_status);
			if (next_status != status)
				break;
			end = next;
		}
		if (end - lba > 0xffffffffull)
			end = lba + 0xffffffffull;
		scsi_put_be64(b + 8 + n * LS_DESC_LEN, lba);
		scsi_put_be32(b + 16 + n * LS_DESC_LEN, (uint32_t)(end - lba));
		b[20 + n * LS_DESC_LEN] = status;
		n++;
		lba = end;
	}
	scsi_put_be32(b, (uint32_t)(4 + n * LS_DESC_LEN));
	tcmu_iovec_zero(iov, iov_cnt);
	tcmu_memcpy_into_iovec(iov, iov_cnt, b,
			       8 + n * LS_DESC_LEN < alloc ? 8 + n * LS_DESC_LEN : alloc);
	return TCMU_STS_OK;
}
