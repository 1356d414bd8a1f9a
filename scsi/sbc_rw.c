// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The fast path: READ/WRITE 6/10/12/16 decoding into a scsi_rw for the
 * daemon (plus the rare buffer ending inside a block, on a worker),
 * SYNCHRONIZE CACHE and PRE-FETCH (SBC-3 5.x).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

/*
 * LBA and block count of the 6/10/12/16-byte layouts, decoded in place
 * (the same values as tcmu_cdb_get_lba() and tcmu_cdb_get_xfer_length()).
 */
static void decode_lba_len(const uint8_t *cdb, uint64_t *lba, uint32_t *nr)
{
	switch (cdb[0] >> 5) {
	case 0: /* 6 bytes; a length of 0 is 256 blocks for READ/WRITE(6) */
		*lba = scsi_get_be24(&cdb[1]) & 0x1fffff;
		*nr = cdb[4];
		if (!*nr && (cdb[0] == READ_6 || cdb[0] == WRITE_6))
			*nr = 256;
		break;
	case 1:
	case 2: /* 10 bytes */
		*lba = scsi_get_be32(&cdb[2]);
		*nr = scsi_get_be16(&cdb[7]);
		break;
	case 4: /* 16 bytes */
		*lba = scsi_get_be64(&cdb[2]);
		*nr = scsi_get_be32(&cdb[10]);
		break;
	case 5: /* 12 bytes */
		*lba = scsi_get_be32(&cdb[2]);
		*nr = scsi_get_be32(&cdb[6]);
		break;
	default:
		*lba = tcmu_cdb_get_lba(cdb);
		*nr = tcmu_cdb_get_xfer_length(cdb);
		break;
	}
}

static bool is_write(uint8_t op)
{
	return op == WRITE_6 || op == WRITE_10 || op == WRITE_12 || op == WRITE_16;
}

/* FUA, or a write-back handler whose cache the initiator disabled. */
static bool write_fua(struct scsi_ctx *c)
{
	return (c->cdb[0] != WRITE_6 && (c->cdb[1] & 0x08)) ||
	       (c->sd->wce_default && !scsi_dev_wce(c->sd));
}

int scsi_fast_rw(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	bool write = is_write(c->cdb[0]);
	uint64_t lba, bytes;
	uint32_t nr;
	int ret;

	decode_lba_len(c->cdb, &lba, &nr);
	ret = scsi_check_lba(c, lba, nr);
	if (ret)
		return ret;
	if (!nr) {
		scsi_set_read_len(c, 0);
		return TCMU_STS_OK;
	}

	/*
	 * A Data-In/Data-Out buffer smaller than the CDB asks for (iSCSI
	 * overflow): transfer only what fits, the kernel reports the
	 * residual.  A partial last block goes through a bounce buffer on a
	 * worker, so that handlers only ever see whole blocks.
	 */
	bytes = scsi_xfer_bytes(c, nr);
	if (bytes < (uint64_t)nr * c->block_size && c->data_len % c->block_size) {
		if (!write)
			scsi_set_read_len(c, c->data_len);
		*cls = SCSI_CLASS_SLOW;
		return TCMU_STS_OK;
	}
	if (!bytes) {
		scsi_set_read_len(c, 0);
		return TCMU_STS_OK;
	}

	rw->off = lba * c->block_size;
	rw->len = bytes;
	if (!write) {
		scsi_set_read_len(c, bytes);
		*cls = SCSI_CLASS_READ;
		return TCMU_STS_OK;
	}
	rw->fua = write_fua(c);
	*cls = SCSI_CLASS_WRITE;
	return TCMU_STS_OK;
}

/*
 * READ/WRITE whose buffer ends inside a block: whole blocks go straight to
 * the backend, the last partial block is read (and for WRITE merged and
 * written back) through a bounce buffer.
 */
int scsi_rw_partial(struct scsi_ctx *c, bool write, bool fua)
{
	uint64_t off = tcmu_cdb_get_lba(c->cdb) * c->block_size;
	size_t whole = c->data_len - c->data_len % c->block_size;
	size_t tail = c->data_len - whole;
	struct iovec biov;
	uint8_t *blk;
	int ret = TCMU_STS_OK;

	if (whole) {
		if (write) {
			ret = scsi_be_write(c->sd, c->iov, c->iov_cnt, whole, off, fua);
		} else {
			/* The iovec is longer than whole: the handler gets len. */
			ret = scsi_be_read(c->sd, c->iov, c->iov_cnt, whole, off);
		}
		if (ret != TCMU_STS_OK)
			return ret;
	}

	blk = malloc(c->block_size);
	if (!blk)
		return TCMU_STS_NO_RESOURCE;
	biov.iov_base = blk;
	biov.iov_len = c->block_size;
	ret = scsi_be_read(c->sd, &biov, 1, c->block_size, off + whole);
	if (ret != TCMU_STS_OK)
		goto out;
	if (write) {
		scsi_iov_read_at(c->iov, c->iov_cnt, whole, blk, tail);
		ret = scsi_be_write(c->sd, &biov, 1, c->block_size, off + whole, fua);
	} else {
		scsi_iov_write_at(c->iov, c->iov_cnt, whole, blk, tail);
	}
out:
	free(blk);
	return ret;
}

int scsi_slow_rw_partial(struct scsi_ctx *c)
{
	bool write = is_write(c->cdb[0]);

	return scsi_rw_partial(c, write, write && write_fua(c));
}

int scsi_fast_sync_cache(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint64_t lba;
	uint32_t nr;
	int ret;

	decode_lba_len(c->cdb, &lba, &nr);
	ret = scsi_check_lba(c, lba, nr);
	if (ret)
		return ret;
	/* Without a flush callout there is no volatile cache to write back. */
	if (scsi_be_has(c->sd, flush))
		*cls = SCSI_CLASS_FLUSH;
	return TCMU_STS_OK;
}

int scsi_fast_prefetch(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint64_t lba;
	uint32_t nr;

	decode_lba_len(c->cdb, &lba, &nr);
	return scsi_check_lba(c, lba, nr);
}
