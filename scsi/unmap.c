// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * UNMAP (SBC-3 5.28) with its parameter list checks against the VPD B0
 * limits, and GET LBA STATUS (SBC-3 5.7).
 */
#include <string.h>

#include "engine_priv.h"

#define UNMAP_HDR      8
#define UNMAP_DESC     16
#define LBA_STATUS_MAX 64 /* descriptors per GET LBA STATUS */

static uint32_t max_unmap_lbas(struct tcmu_device *dev)
{
	uint32_t max = tcmu_dev_get_max_unmap_len(dev);

	return !max || max > SCSI_DEF_MAX_UNMAP_LBAS ? SCSI_DEF_MAX_UNMAP_LBAS : max;
}

/*
 * Validate the parameter list (copied into buf); *count gets the number of
 * descriptors.  Nothing is deallocated unless the whole list is valid.
 */
static int unmap_parse(struct scsi_ctx *c, uint8_t *buf, size_t *count)
{
	size_t list_len = scsi_get_be16(&c->cdb[7]), bd_len, i;
	uint32_t max = max_unmap_lbas(c->dev);

	*count = 0;
	if (!list_len)
		return TCMU_STS_OK;
	if (list_len < UNMAP_HDR || c->data_len < list_len)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	scsi_iov_read_at(c->iov, c->iov_cnt, 0, buf, list_len);

	bd_len = scsi_get_be16(&buf[2]);
	if (bd_len > list_len - UNMAP_HDR)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	/* An incomplete last descriptor is ignored. */
	*count = bd_len / UNMAP_DESC;
	if (*count > SCSI_DEF_MAX_UNMAP_DESC)
		return TCMU_STS_INVALID_PARAM_LIST;

	for (i = 0; i < *count; i++) {
		const uint8_t *d = &buf[UNMAP_HDR + i * UNMAP_DESC];
		uint64_t lba = scsi_get_be64(d);
		uint32_t nr = scsi_get_be32(&d[8]);
		int ret;

		if (nr > max)
			return TCMU_STS_INVALID_PARAM_LIST;
		ret = scsi_check_lba(c, lba, nr);
		if (ret)
			return ret;
	}
	return TCMU_STS_OK;
}

#define UNMAP_LIST_MAX (UNMAP_HDR + UNMAP_DESC * SCSI_DEF_MAX_UNMAP_DESC + UNMAP_DESC)

int scsi_fast_unmap(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	size_t count, list_len = scsi_get_be16(&c->cdb[7]);
	uint8_t buf[UNMAP_LIST_MAX];
	int ret;

	if (c->cdb[1] & 0x01) /* ANCHOR: ANC_SUP is clear */
		return TCMU_STS_INVALID_CDB;
	if (list_len > UNMAP_LIST_MAX)
		return TCMU_STS_INVALID_PARAM_LIST;
	ret = unmap_parse(c, buf, &count);
	if (ret == TCMU_STS_OK && count)
		*cls = SCSI_CLASS_SLOW;
	return ret;
}

/*
 * The whole list was validated by unmap_parse() (nothing is unmapped when a
 * descriptor is bad).  Then descriptors go to the backend in order; a
 * failure stops there and is the command's status: earlier ranges stay
 * unmapped (no rollback is possible), later ones are untouched, and a retry
 * of the same list completes it (docs/scsi-engine.md).
 */
int scsi_slow_unmap(struct scsi_ctx *c)
{
	size_t count, i, list_len = scsi_get_be16(&c->cdb[7]);
	uint8_t buf[UNMAP_LIST_MAX];
	int ret;

	if (list_len > UNMAP_LIST_MAX)
		return TCMU_STS_INVALID_PARAM_LIST;
	ret = unmap_parse(c, buf, &count);
	for (i = 0; ret == TCMU_STS_OK && i < count; i++) {
		const uint8_t *d = &buf[UNMAP_HDR + i * UNMAP_DESC];
		uint64_t lba = scsi_get_be64(d);
		uint32_t nr = scsi_get_be32(&d[8]);

		if (nr)
			ret = scsi_be_unmap(c->sd, lba * c->block_size,
					    (uint64_t)nr * c->block_size);
	}
	return ret;
}

/* Fill GET LBA STATUS data from lba on; status comes from the backend. */
static int lba_status_fill(struct scsi_ctx *c, uint64_t lba, uint8_t *buf, size_t max_desc,
			   size_t *len)
{
	size_t n = 0;
	bool ask = scsi_be_has(c->sd, get_lba_status);

	while (n < max_desc && lba < c->num_lbas) {
		uint8_t *d = &buf[8 + n * 16];
		uint64_t nr = c->num_lbas - lba;
		int state = 0, ret;

		if (ask) {
			ret = scsi_be_get_lba_status(c->sd, lba, &nr, &state);
			if (ret == TCMU_STS_NOT_HANDLED) {
				nr = c->num_lbas - lba;
				state = 0;
				ask = false;
			} else if (ret != TCMU_STS_OK) {
				return ret;
			}
		}
		if (!nr)
			break;
		if (nr > c->num_lbas - lba)
			nr = c->num_lbas - lba;
		if (nr > 0xffffffffull)
			nr = 0xffffffffull;
		memset(d, 0, 16);
		scsi_put_be64(d, lba);
		scsi_put_be32(&d[8], (uint32_t)nr);
		d[12] = state & 0x0f;
		lba += nr;
		n++;
	}
	scsi_put_be32(&buf[0], 4 + n * 16);
	*len = 8 + n * 16;
	return TCMU_STS_OK;
}

static int lba_status_run(struct scsi_ctx *c, size_t max_desc)
{
	uint8_t buf[8 + LBA_STATUS_MAX * 16];
	uint32_t alloc_len = scsi_get_be32(&c->cdb[10]);
	size_t len;
	int ret;

	memset(buf, 0, sizeof(buf));
	ret = lba_status_fill(c, scsi_get_be64(&c->cdb[2]), buf, max_desc, &len);
	if (ret != TCMU_STS_OK)
		return ret;
	scsi_set_read_len(c, scsi_respond(c->iov, c->iov_cnt, buf, len, alloc_len));
	return TCMU_STS_OK;
}

static size_t lba_status_max_desc(struct scsi_ctx *c)
{
	uint32_t alloc_len = scsi_get_be32(&c->cdb[10]);
	size_t n = alloc_len > 8 ? (alloc_len - 8) / 16 : 0;

	if (!n)
		n = 1; /* PARAMETER DATA LENGTH still tells the size of one */
	return n > LBA_STATUS_MAX ? LBA_STATUS_MAX : n;
}

int scsi_fast_get_lba_status(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint64_t lba = scsi_get_be64(&c->cdb[2]);

	if (lba >= c->num_lbas)
		return TCMU_STS_RANGE;
	if (scsi_be_has(c->sd, get_lba_status)) {
		*cls = SCSI_CLASS_SLOW;
		return TCMU_STS_OK;
	}
	/* Fully provisioned: one descriptor, everything mapped. */
	return lba_status_run(c, 1);
}

int scsi_slow_get_lba_status(struct scsi_ctx *c)
{
	return lba_status_run(c, lba_status_max_desc(c));
}
