// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * COMPARE AND WRITE (SBC-3 5.2): at most one block; the backend's caw
 * operation when it has one, else read, compare, write under the device's
 * CAW lock so that no other COMPARE AND WRITE interleaves.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

int scsi_fast_caw(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint64_t lba = scsi_get_be64(&c->cdb[2]);
	uint8_t nr = c->cdb[13];
	int ret;

	if (nr > 1) /* MAXIMUM COMPARE AND WRITE LENGTH in VPD B0 */
		return TCMU_STS_INVALID_CDB;
	ret = scsi_check_lba(c, lba, nr);
	if (ret || !nr)
		return ret;
	if (c->data_len != 2ull * nr * c->block_size)
		return TCMU_STS_INVALID_CDB;
	*cls = SCSI_CLASS_SLOW;
	return TCMU_STS_OK;
}

static int caw_emulate(struct scsi_ctx *c, uint64_t off, size_t len, bool fua)
{
	uint8_t *medium, *data;
	struct iovec iov;
	size_t i;
	int ret;

	medium = malloc(2 * len);
	if (!medium)
		return TCMU_STS_NO_RESOURCE;
	data = medium + len;

	iov.iov_base = medium;
	iov.iov_len = len;
	ret = scsi_be_read(c->sd, &iov, 1, len, off);
	if (ret != TCMU_STS_OK)
		goto out;

	scsi_iov_read_at(c->iov, c->iov_cnt, 0, data, len);
	if (memcmp(medium, data, len)) {
		for (i = 0; medium[i] == data[i]; i++)
			;
		tcmu_sense_set_info(c->lc->sense_buf, i);
		ret = TCMU_STS_MISCOMPARE;
		goto out;
	}

	scsi_iov_read_at(c->iov, c->iov_cnt, len, data, len);
	iov.iov_base = data;
	ret = scsi_be_write(c->sd, &iov, 1, len, off, fua);
out:
	free(medium);
	return ret;
}

/*
 * The backend's caw reported a miscompare without an offset: read the
 * block back (still under the CAW lock) and report the first difference.
 */
static void caw_miscompare_offset(struct scsi_ctx *c, uint64_t off, size_t len)
{
	uint8_t *medium = malloc(2 * len), *data;
	struct iovec iov;
	size_t i;

	if (!medium)
		return;
	data = medium + len;
	iov.iov_base = medium;
	iov.iov_len = len;
	if (scsi_be_read(c->sd, &iov, 1, len, off) == TCMU_STS_OK) {
		scsi_iov_read_at(c->iov, c->iov_cnt, 0, data, len);
		for (i = 0; i < len && medium[i] == data[i]; i++)
			;
		if (i < len)
			tcmu_sense_set_info(c->lc->sense_buf, i);
	}
	free(medium);
}

int scsi_slow_caw(struct scsi_ctx *c)
{
	uint64_t off = scsi_get_be64(&c->cdb[2]) * c->block_size;
	size_t len = (size_t)c->cdb[13] * c->block_size;
	bool fua = (c->cdb[1] & 0x08) || (c->sd->wce_default && !scsi_dev_wce(c->sd));
	int ret = TCMU_STS_NOT_HANDLED;

	pthread_mutex_lock(&c->sd->caw_lock);
	ret = scsi_be_caw(c->sd, off, len, c->iov, c->iov_cnt);
	if (ret == TCMU_STS_MISCOMPARE && !(c->lc->sense_buf[0] & 0x80))
		caw_miscompare_offset(c, off, len);
	if (ret == TCMU_STS_NOT_HANDLED)
		ret = caw_emulate(c, off, len, fua);
	pthread_mutex_unlock(&c->sd->caw_lock);
	return ret;
}
