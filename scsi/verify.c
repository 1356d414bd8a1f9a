// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * VERIFY (10/12/16) and WRITE AND VERIFY (10/12/16) (SBC-3 5.30-5.35):
 * compare Data-Out with the medium; a miscompare reports the offset of the
 * first differing byte in INFORMATION.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

/* Byte offset of the first difference, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	if (!memcmp(a, b, len))
		return -1;
	for (i = 0; a[i] == b[i]; i++)
		;
	return i;
}

/*
 * Read [off, off+len) and compare it with the Data-Out: the whole buffer
 * (repeat = false) or its first block repeated (repeat = true).
 */
static int compare_medium(struct scsi_ctx *c, uint64_t off, uint64_t len, bool repeat)
{
	size_t chunk = scsi_chunk_len(c->block_size, len);
	uint8_t *medium, *expect;
	uint64_t done = 0;
	int ret = TCMU_STS_OK;
	size_t i;

	medium = malloc(chunk);
	expect = malloc(chunk);
	if (!medium || !expect) {
		ret = TCMU_STS_NO_RESOURCE;
		goto out;
	}
	if (repeat) {
		scsi_iov_read_at(c->iov, c->iov_cnt, 0, expect, c->block_size);
		for (i = c->block_size; i < chunk; i += c->block_size)
			memcpy(expect + i, expect, c->block_size);
	}

	while (done < len) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		struct iovec iov = { .iov_base = medium, .iov_len = n };
		long diff;

		ret = scsi_be_read(c->sd, &iov, 1, n, off + done);
		if (ret != TCMU_STS_OK)
			goto out;
		if (!repeat)
			scsi_iov_read_at(c->iov, c->iov_cnt, done, expect, n);
		diff = first_diff(expect, medium, n);
		if (diff >= 0) {
			tcmu_sense_set_info(c->lc->sense_buf, (uint32_t)(done + diff));
			ret = TCMU_STS_MISCOMPARE;
			goto out;
		}
		done += n;
	}
out:
	free(medium);
	free(expect);
	return ret;
}

static void decode(const uint8_t *cdb, uint64_t *lba, uint32_t *nr)
{
	*lba = tcmu_cdb_get_lba(cdb);
	*nr = tcmu_cdb_get_xfer_length(cdb);
}

int scsi_fast_verify(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint8_t bytchk = (c->cdb[1] >> 1) & 0x03;
	uint64_t lba;
	uint32_t nr;
	int ret;

	decode(c->cdb, &lba, &nr);
	if (bytchk == 2)
		return TCMU_STS_INVALID_CDB;
	ret = scsi_check_lba(c, lba, nr);
	if (ret || !nr || bytchk == 0)
		return ret; /* BYTCHK 0: the medium is always readable */
	if (bytchk == 3 && c->data_len < c->block_size)
		return TCMU_STS_INVALID_CDB;
	/* BYTCHK 1 with a short Data-Out (overflow): compare what came. */
	if (bytchk == 1 && !scsi_xfer_bytes(c, nr))
		return TCMU_STS_OK;
	*cls = SCSI_CLASS_SLOW;
	return TCMU_STS_OK;
}

int scsi_slow_verify(struct scsi_ctx *c)
{
	bool repeat = ((c->cdb[1] >> 1) & 0x03) == 3;
	uint64_t lba, len;
	uint32_t nr;

	decode(c->cdb, &lba, &nr);
	/* BYTCHK 3 reads every block; BYTCHK 1 what the Data-Out covers. */
	len = repeat ? (uint64_t)nr * c->block_size : scsi_xfer_bytes(c, nr);
	return compare_medium(c, lba * c->block_size, len, repeat);
}

int scsi_fast_write_verify(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint64_t lba;
	uint32_t nr;
	int ret;

	decode(c->cdb, &lba, &nr);
	ret = scsi_check_lba(c, lba, nr);
	if (ret || !nr || !c->data_len)
		return ret; /* nothing to write */
	*cls = SCSI_CLASS_SLOW;
	return TCMU_STS_OK;
}

/* Write through to the medium, then read it back and compare. */
int scsi_slow_write_verify(struct scsi_ctx *c)
{
	uint64_t lba, off, len;
	uint32_t nr;
	int ret;

	decode(c->cdb, &lba, &nr);
	off = lba * c->block_size;
	len = scsi_xfer_bytes(c, nr);
	if (len < (uint64_t)nr * c->block_size && c->data_len % c->block_size) {
		/* Overflow ending inside a block: merge the tail, check the rest. */
		ret = scsi_rw_partial(c, true, true);
	} else {
		ret = scsi_be_write(c->sd, c->iov, c->iov_cnt, len, off, true);
	}
	if (ret != TCMU_STS_OK)
		return ret;
	return compare_medium(c, off, len, false);
}
