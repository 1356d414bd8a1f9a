// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * ZBC IN (0x95), REPORT ZONES (service action 0x00), ZBC-2 5.4.
 * CDB: 2..9 zone start LBA, 10..13 allocation length, 14 bit 7 PARTIAL,
 * bits 5..0 reporting options.  Data: a 64-byte header (zone list length,
 * SAME, maximum LBA) and one 64-byte descriptor per zone, starting with the
 * zone holding the start LBA.  Without PARTIAL the zone list length counts
 * every matching zone, with it only those that fit the allocation length.
 */
#include <stdlib.h>
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

#define RZ_DESC_LEN 64u

/* Reporting options (ZBC-2 table "REPORTING OPTIONS field"). */
enum {
	RO_ALL = 0x00,
	RO_EMPTY = 0x01,
	RO_IMP_OPEN = 0x02,
	RO_EXP_OPEN = 0x03,
	RO_CLOSED = 0x04,
	RO_FULL = 0x05,
	RO_READ_ONLY = 0x06,
	RO_OFFLINE = 0x07,
	RO_RWP_RECOMMENDED = 0x10,
	RO_NON_SEQ = 0x11,
	RO_NOT_WP = 0x3f,
};

static bool ro_valid(uint8_t ro)
{
	return ro <= RO_OFFLINE || ro == RO_RWP_RECOMMENDED || ro == RO_NON_SEQ || ro == RO_NOT_WP;
}

static bool ro_match(uint8_t ro, const struct zbc_zone *zn)
{
	switch (ro) {
	case RO_ALL:
		return true;
	case RO_EMPTY:
		return zn->cond == ZBC_COND_EMPTY;
	case RO_IMP_OPEN:
		return zn->cond == ZBC_COND_IMP_OPEN;
	case RO_EXP_OPEN:
		return zn->cond == ZBC_COND_EXP_OPEN;
	case RO_CLOSED:
		return zn->cond == ZBC_COND_CLOSED;
	case RO_FULL:
		return zn->cond == ZBC_COND_FULL;
	case RO_NON_SEQ:
		return zn->non_seq;
	case RO_NOT_WP:
		return zn->cond == ZBC_COND_NOT_WP;
	default: /* read only, offline, reset recommended: never */
		return false;
	}
}

static void put_desc(uint8_t *d, const struct zbc_zone *zn)
{
	memset(d, 0, RZ_DESC_LEN);
	d[0] = zn->type;
	d[1] = (uint8_t)(zn->cond << 4) | (zn->non_seq ? 0x02 : 0);
	scsi_put_be64(d + 8, zn->len);
	scsi_put_be64(d + 16, zn->start);
	/* Conventional zones have no write pointer: report all ones. */
	scsi_put_be64(d + 24, zbc_zone_is_seq(zn) ? zn->wp : ~0ull);
}

/* SAME field over the listed zones (ZBC-2 table "SAME field"). */
static uint8_t same_field(const struct zbc_zone *first, const struct zbc_zone *last, bool same_type,
			  bool same_len_but_last, bool same_len)
{
	if (first == last || (same_type && same_len))
		return 1;
	if (same_type && same_len_but_last)
		return 2;
	if (!same_type && same_len)
		return 3;
	return 0;
}

int zbc_report_zones(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		     uint8_t *sense)
{
	uint64_t lba = scsi_get_be64(cdb + 2);
	uint32_t alloc = scsi_get_be32(cdb + 10), room, count = 0, listed = 0;
	bool partial = cdb[14] & 0x80, same_type = true, same_len = true, same_len_but_last = true;
	uint8_t ro = cdb[14] & 0x3f, *buf;
	const struct zbc_zone *zn, *first = NULL, *prev = NULL;
	size_t total = tcmu_iovec_length(iov, iov_cnt);
	uint32_t i;

	if (!ro_valid(ro))
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	if (lba >= z->nr_lbas)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (alloc > total)
		alloc = (uint32_t)total;
	room = alloc < RZ_DESC_LEN ? 0 : (alloc - RZ_DESC_LEN) / RZ_DESC_LEN;
	buf = calloc(1,
		     RZ_DESC_LEN + (size_t)(room < z->nr_zones ? room : z->nr_zones) * RZ_DESC_LEN);
	if (!buf)
		return TCMU_STS_NO_RESOURCE;

	for (i = (uint32_t)(lba / z->zone_lbas); i < z->nr_zones; i++) {
		zn = &z->zones[i];
		if (!ro_match(ro, zn))
			continue;
		count++;
		if (listed < room) {
			put_desc(buf + RZ_DESC_LEN * (1 + listed), zn);
			listed++;
		} else if (partial) {
			break;
		}
		if (!first)
			first = zn;
		if (prev) {
			if (zn->type != prev->type)
				same_type = false;
			if (zn->len != first->len)
				same_len = false;
			if (prev->len != first->len)
				same_len_but_last = false;
		}
		prev = zn;
	}
	scsi_put_be32(buf, (partial ? listed : count) * RZ_DESC_LEN);
	if (first)
		buf[4] = same_field(first, prev, same_type, same_len_but_last, same_len);
	scsi_put_be64(buf + 8, z->nr_lbas - 1);

	tcmu_iovec_zero(iov, iov_cnt);
	tcmu_memcpy_into_iovec(iov, iov_cnt, buf,
			       alloc < RZ_DESC_LEN * (1 + listed) ? alloc
								  : RZ_DESC_LEN * (1 + listed));
	free(buf);
	return TCMU_STS_OK;
}
