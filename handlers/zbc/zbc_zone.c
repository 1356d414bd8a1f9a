// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Zone conditions (ZBC-2 4.5.3): EMPTY, IMPLICITLY/EXPLICITLY OPEN, CLOSED
 * and FULL for the sequential zones, NOT WRITE POINTER for conventional
 * ones.  Open zones are limited to max_open: an implicit open (a write)
 * closes an implicitly opened zone to make room, an explicit open only
 * fails with INSUFFICIENT ZONE RESOURCES (DATA PROTECT/55/0E) when the
 * explicitly opened zones alone use up the limit.  Callers persist the
 * zones they change (zbc_meta_put_zone).
 */
#include <errno.h>
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

/* Fixed-format sense: a TCMU status that carries it. */
int zbc_sense(uint8_t *sense, uint8_t key, uint16_t asc_ascq)
{
	tcmu_set_sense_data(sense, key, asc_ascq);
	return TCMU_STS_PASSTHROUGH_ERR;
}

struct zbc_zone *zbc_zone_of(struct zbc_dev *z, uint64_t lba)
{
	if (lba >= z->nr_lbas)
		return NULL;
	return &z->zones[lba / z->zone_lbas];
}

bool zbc_zone_is_seq(const struct zbc_zone *zn)
{
	return zn->type != ZBC_TYPE_CONV;
}

static bool is_open(const struct zbc_zone *zn)
{
	return zn->cond == ZBC_COND_IMP_OPEN || zn->cond == ZBC_COND_EXP_OPEN;
}

/* Recount the open zones from the conditions. */
void zbc_zone_count(struct zbc_dev *z)
{
	uint32_t i;

	z->nr_imp_open = z->nr_exp_open = 0;
	for (i = 0; i < z->nr_zones; i++) {
		if (z->zones[i].cond == ZBC_COND_IMP_OPEN)
			z->nr_imp_open++;
		else if (z->zones[i].cond == ZBC_COND_EXP_OPEN)
			z->nr_exp_open++;
	}
}

static void set_cond(struct zbc_dev *z, struct zbc_zone *zn, uint8_t cond)
{
	if (zn->cond == ZBC_COND_IMP_OPEN)
		z->nr_imp_open--;
	else if (zn->cond == ZBC_COND_EXP_OPEN)
		z->nr_exp_open--;
	zn->cond = cond;
	if (cond == ZBC_COND_IMP_OPEN)
		z->nr_imp_open++;
	else if (cond == ZBC_COND_EXP_OPEN)
		z->nr_exp_open++;
}

/* Close the lowest implicitly open zone to free an open slot. */
static int close_one_implicit(struct zbc_dev *z)
{
	uint32_t i;

	for (i = z->nr_conv; i < z->nr_zones; i++) {
		if (z->zones[i].cond == ZBC_COND_IMP_OPEN) {
			zbc_zone_close(z, &z->zones[i]);
			return zbc_meta_put_zone(z, &z->zones[i]);
		}
	}
	return -ENOSPC;
}

/*
 * Open zn, implicitly (a write) or explicitly (OPEN ZONE).  TCMU_STS_OK,
 * or an error status with sense.  A FULL zone stays FULL.
 */
int zbc_zone_open(struct zbc_dev *z, struct zbc_zone *zn, bool explicit, uint8_t *sense)
{
	uint8_t want = explicit ? ZBC_COND_EXP_OPEN : ZBC_COND_IMP_OPEN;

	if (zn->cond == ZBC_COND_FULL || zn->cond == want ||
	    (!explicit && zn->cond == ZBC_COND_EXP_OPEN))
		return TCMU_STS_OK;
	if (zn->cond != ZBC_COND_IMP_OPEN) {
		/* EMPTY or CLOSED: needs an open slot. */
		if (explicit && z->nr_exp_open >= z->max_open)
			return zbc_sense(sense, DATA_PROTECT, ZBC_ASC_INSUFFICIENT_ZONE_RES);
		if (z->nr_imp_open + z->nr_exp_open >= z->max_open) {
			int ret = close_one_implicit(z);

			if (ret == -ENOSPC)
				return zbc_sense(sense, DATA_PROTECT,
						 ZBC_ASC_INSUFFICIENT_ZONE_RES);
			if (ret)
				return TCMU_STS_WR_ERR;
		}
	}
	set_cond(z, zn, want);
	return TCMU_STS_OK;
}

void zbc_zone_close(struct zbc_dev *z, struct zbc_zone *zn)
{
	if (is_open(zn))
		set_cond(z, zn, zn->wp == zn->start ? ZBC_COND_EMPTY : ZBC_COND_CLOSED);
}

void zbc_zone_finish(struct zbc_dev *z, struct zbc_zone *zn)
{
	zn->wp = zn->start + zn->len;
	set_cond(z, zn, ZBC_COND_FULL);
}

void zbc_zone_reset(struct zbc_dev *z, struct zbc_zone *zn)
{
	zn->wp = zn->start;
	zn->non_seq = false;
	set_cond(z, zn, ZBC_COND_EMPTY);
}

/*
 * After n blocks were written at first (inside zn): move the write pointer
 * (never back), note an out of order write (HA) and fill the zone.
 */
void zbc_zone_written(struct zbc_dev *z, struct zbc_zone *zn, uint64_t first, uint64_t n)
{
	if (first != zn->wp)
		zn->non_seq = true;
	if (first + n > zn->wp)
		zn->wp = first + n;
	if (zn->wp == zn->start + zn->len)
		set_cond(z, zn, ZBC_COND_FULL);
	else if (zn->cond == ZBC_COND_EMPTY)
		set_cond(z, zn, ZBC_COND_CLOSED); /* HA, no open slot left */
}
