// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * ZBC OUT (0x94), ZBC-2 5.2/5.3/5.5/5.6: CLOSE ZONE (01), FINISH ZONE (02),
 * OPEN ZONE (03), RESET WRITE POINTER (04).  CDB: 1 service action, 2..9
 * zone ID (the first LBA of a zone), 12..13 zone count (0 means 1), 14 bit 0
 * ALL (zone ID and count ignored).  A zone ID that is not a zone start, or
 * names a conventional zone, is an invalid field; one past the end is out of
 * range.  RESET also gives the zone's blocks back to the file system.
 */
#include <fcntl.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

/* Punch the zone's data out of the file (best effort: reads return zeros). */
static void discard_zone(struct zbc_dev *z, const struct zbc_zone *zn)
{
	(void)fallocate(z->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			(off_t)(z->data_off + zn->start * z->lba_size),
			(off_t)(zn->len * z->lba_size));
}

/* Whether ALL applies the action to zn. */
static bool all_selects(uint8_t sa, const struct zbc_zone *zn)
{
	switch (sa) {
	case ZBC_SA_CLOSE:
		return zn->cond == ZBC_COND_IMP_OPEN || zn->cond == ZBC_COND_EXP_OPEN;
	case ZBC_SA_FINISH:
		return zn->cond == ZBC_COND_IMP_OPEN || zn->cond == ZBC_COND_EXP_OPEN ||
		       zn->cond == ZBC_COND_CLOSED;
	case ZBC_SA_OPEN:
		return zn->cond == ZBC_COND_CLOSED;
	default: /* RESET */
		return zn->cond != ZBC_COND_EMPTY;
	}
}

/* One zone; TCMU_STS_OK or an error with sense. */
static int act(struct zbc_dev *z, uint8_t sa, struct zbc_zone *zn, uint8_t *sense)
{
	int ret = TCMU_STS_OK;

	switch (sa) {
	case ZBC_SA_CLOSE:
		zbc_zone_close(z, zn);
		break;
	case ZBC_SA_FINISH:
		if (zn->cond != ZBC_COND_FULL)
			zbc_zone_finish(z, zn);
		break;
	case ZBC_SA_OPEN:
		ret = zbc_zone_open(z, zn, true, sense);
		break;
	default:
		if (zn->cond != ZBC_COND_EMPTY)
			discard_zone(z, zn);
		zbc_zone_reset(z, zn);
		break;
	}
	if (ret == TCMU_STS_OK && zbc_meta_put_zone(z, zn))
		ret = TCMU_STS_WR_ERR;
	return ret;
}

static int act_all(struct zbc_dev *z, uint8_t sa, uint8_t *sense)
{
	uint32_t i, closed = 0;
	int ret;

	if (sa == ZBC_SA_OPEN) {
		/* All or nothing: every closed zone must fit. */
		for (i = z->nr_conv; i < z->nr_zones; i++)
			closed += z->zones[i].cond == ZBC_COND_CLOSED;
		if (closed + z->nr_exp_open > z->max_open)
			return zbc_sense(sense, DATA_PROTECT, ZBC_ASC_INSUFFICIENT_ZONE_RES);
	}
	for (i = z->nr_conv; i < z->nr_zones; i++) {
		if (!all_selects(sa, &z->zones[i]))
			continue;
		ret = act(z, sa, &z->zones[i], sense);
		if (ret != TCMU_STS_OK)
			return ret;
	}
	return TCMU_STS_OK;
}

int zbc_zone_action(struct zbc_dev *z, const uint8_t *cdb, uint8_t *sense)
{
	uint8_t sa = cdb[1] & 0x1f;
	uint64_t id = scsi_get_be64(cdb + 2), i;
	uint32_t count = scsi_get_be16(cdb + 12);
	struct zbc_zone *zn;
	int ret;

	if (sa < ZBC_SA_CLOSE || sa > ZBC_SA_RESET_WP)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	if (cdb[14] & 0x01)
		return act_all(z, sa, sense);
	if (!count)
		count = 1;
	zn = zbc_zone_of(z, id);
	if (!zn)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (zn->start != id || !zbc_zone_is_seq(zn))
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	if (count > z->nr_zones - (uint32_t)(zn - z->zones))
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	for (i = 0; i < count; i++) {
		ret = act(z, sa, zn + i, sense);
		if (ret != TCMU_STS_OK)
			return ret;
	}
	return TCMU_STS_OK;
}
