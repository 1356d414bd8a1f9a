// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * WRITE SAME (10/16) (SBC-3 5.41, 5.42): UNMAP and NDOB, the backend's
 * writesame operation when it has one, else a pattern written in chunks.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

struct ws_args {
	uint64_t lba;
	uint32_t nr;
	bool unmap;
	bool anchor;
	bool ndob;
};

static void ws_decode(const uint8_t *cdb, struct ws_args *a)
{
	a->anchor = cdb[1] & 0x10;
	a->unmap = cdb[1] & 0x08;
	if (cdb[0] == WRITE_SAME_16) {
		a->lba = scsi_get_be64(&cdb[2]);
		a->nr = scsi_get_be32(&cdb[10]);
		a->ndob = cdb[1] & 0x01;
	} else {
		a->lba = scsi_get_be32(&cdb[2]);
		a->nr = scsi_get_be16(&cdb[7]);
		a->ndob = false;
	}
}

int scsi_fast_write_same(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	struct ws_args a;
	int ret;

	ws_decode(c->cdb, &a);
	/*
	 * WSNZ is set in VPD B0; ANC_SUP is clear in VPD B2.  The maximum
	 * WRITE SAME length (B0) is 0xffffffff: any 32-bit count is fine.
	 */
	if (!a.nr || a.anchor)
		return TCMU_STS_INVALID_CDB;
	/* LBPWS/LBPWS10 are clear without unmap: refuse rather than ignore. */
	if (a.unmap && !scsi_be_has(c->sd, unmap))
		return TCMU_STS_INVALID_CDB;
	ret = scsi_check_lba(c, a.lba, a.nr);
	if (ret)
		return ret;
	/* Exactly one logical block of Data-Out, none with NDOB. */
	if (!a.ndob && c->data_len != c->block_size)
		return TCMU_STS_INVALID_CDB;
	*cls = SCSI_CLASS_SLOW;
	return TCMU_STS_OK;
}

int scsi_slow_write_same(struct scsi_ctx *c)
{
	bool fua = c->sd->wce_default && !scsi_dev_wce(c->sd);
	struct iovec blk_iov;
	struct ws_args a;
	uint64_t off, len;
	uint8_t *blk;
	int ret = TCMU_STS_NOT_HANDLED;

	ws_decode(c->cdb, &a);
	off = a.lba * c->block_size;
	len = (uint64_t)a.nr * c->block_size;

	blk = calloc(1, c->block_size);
	if (!blk)
		return TCMU_STS_NO_RESOURCE;
	if (!a.ndob)
		scsi_iov_read_at(c->iov, c->iov_cnt, 0, blk, c->block_size);
	blk_iov.iov_base = blk;
	blk_iov.iov_len = c->block_size;

	/* Deallocate only when that reads back the same data (LBPRZ). */
	if (a.unmap && tcmu_iovec_is_zero(&blk_iov, 1))
		ret = scsi_be_unmap(c->sd, off, len);
	if (ret == TCMU_STS_NOT_HANDLED)
		ret = scsi_be_writesame(c->sd, off, len, &blk_iov, 1);
	if (ret == TCMU_STS_NOT_HANDLED)
		ret = scsi_write_pattern(c->sd, blk, c->block_size, off, len, fua, NULL);
	free(blk);
	return ret;
}
