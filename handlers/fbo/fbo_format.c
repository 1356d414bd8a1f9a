// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * FORMAT UNIT (0x04) and READ FORMAT CAPACITIES (0x23).  Formatting zeroes
 * the medium in steps of FMT_STEP blocks (fbo_format_step); meanwhile
 * commands that need the medium get NOT READY, FORMAT IN PROGRESS
 * (02/04/04) with the progress indication, as REQUEST SENSE does.  With
 * IMMED the command returns at once and the caller runs the steps; else
 * they all run before the status.  Parameter list (FMTDATA): a 4-byte
 * header (byte 1 bit 1 IMMED) and one 8-byte format descriptor whose
 * format type must be 00h (full format).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define FMT_STEP 8192u /* blocks: 16 MiB */

/* One step; false when the format is complete (or none runs). */
bool fbo_format_step(struct fbo_dev *f)
{
	static const uint8_t zeros[FBO_BLOCK];
	uint64_t n, i;

	if (!f->formatting || f->fd < 0)
		return false;
	n = f->fmt_total - f->fmt_done < FMT_STEP ? f->fmt_total - f->fmt_done : FMT_STEP;
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(f->fmt_done * FBO_BLOCK), (off_t)(n * FBO_BLOCK))) {
		for (i = 0; i < n; i++) /* no hole punching here: write zeros */
			if (pwrite(f->fd, zeros, FBO_BLOCK,
				   (off_t)((f->fmt_done + i) * FBO_BLOCK)) != FBO_BLOCK)
				break;
	}
	f->fmt_done += n;
	if (f->fmt_done < f->fmt_total)
		return true;
	(void)fdatasync(f->fd);
	f->formatting = false;
	return false;
}

int fbo_format_unit(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		    uint8_t *sense, bool *immed)
{
	uint8_t p[12] = { 0 };
	int ret = fbo_check_ready(f, sense);

	*immed = false;
	if (ret != TCMU_STS_OK)
		return ret;
	if (f->ro)
		return fbo_sense(sense, DATA_PROTECT, ASC_WRITE_PROTECTED);
	if (cdb[1] & 0x10) { /* FMTDATA */
		if ((cdb[1] & 0x07) != 1)
			return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		if (tcmu_iovec_length(iov, iov_cnt) < sizeof(p))
			return fbo_sense(sense, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		tcmu_memcpy_from_iovec(p, sizeof(p), iov, iov_cnt);
		if (scsi_get_be16(p + 2) != 8 || (p[8] >> 2) != 0x00)
			return fbo_sense(sense, ILLEGAL_REQUEST,
					 ASC_INVALID_FIELD_IN_PARAMETER_LIST);
		*immed = p[1] & 0x02;
	}
	f->formatting = true;
	f->fmt_done = 0;
	f->fmt_total = f->nblocks;
	if (!*immed)
		while (fbo_format_step(f))
			;
	return TCMU_STS_OK;
}

int fbo_read_format_caps(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt)
{
	uint8_t b[20] = { 0 };
	uint64_t blocks = f->fd >= 0 ? f->nblocks : f->new_blocks;
	size_t len = 12;

	if (blocks > 0xffffffffu)
		blocks = 0xffffffffu;
	/* Current/maximum capacity descriptor. */
	scsi_put_be32(b + 4, (uint32_t)blocks);
	b[8] = f->fd >= 0 ? 0x02 : 0x03; /* formatted media / no media present */
	scsi_put_be32(b + 8, (scsi_get_be32(b + 8) & 0xff000000u) | FBO_BLOCK);
	if (f->fd >= 0 && !f->ro) {
		/* One formattable capacity: full format (type 00h). */
		scsi_put_be32(b + 12, (uint32_t)blocks);
		scsi_put_be32(b + 16, FBO_BLOCK); /* type 00h in byte 16 */
		len = 20;
	}
	b[3] = (uint8_t)(len - 4);
	return fbo_respond(iov, iov_cnt, b, len, scsi_get_be16(cdb + 7));
}
