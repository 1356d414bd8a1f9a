// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * What describes the disc: one session holding one data track (track 1,
 * from LBA 0) and the lead-out (track AAh) at the end of the medium.
 *   READ CAPACITY (10)          last LBA, 2048
 *   READ TOC/PMA/ATIP (0x43)    formats 0 (TOC) and 1 (session info), LBA or MSF;
 *                               also in the older field (byte 9 bits 7..6)
 *   READ DISC INFORMATION (0x51) complete disc, erasable when writable
 *   READ TRACK INFORMATION (0x52) track 1: the whole medium, complete
 *   READ DVD STRUCTURE (0xAD)   formats 00h (physical) and 01h (copyright)
 *   MECHANISM STATUS (0xBD)     no changer; door state
 *   GET EVENT STATUS NOTIFICATION (0x4A)  polled, media class: the pending
 *                               media event and whether a medium is there
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define LEADOUT 0xaa

int fbo_read_capacity(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		      uint8_t *sense)
{
	uint8_t b[8];
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	scsi_put_be32(b, f->nblocks ? (uint32_t)(f->nblocks - 1) : 0);
	scsi_put_be32(b + 4, FBO_BLOCK);
	return fbo_respond(iov, iov_cnt, b, sizeof(b), sizeof(b));
}

/* An address as LBA, or as MSF (0, M, S, F; 75 frames a second, 2 s offset). */
static void put_addr(uint8_t *b, uint64_t lba, bool msf)
{
	if (!msf) {
		scsi_put_be32(b, (uint32_t)lba);
		return;
	}
	lba += 150;
	b[0] = 0;
	b[1] = (uint8_t)(lba / (75 * 60));
	b[2] = (uint8_t)(lba / 75 % 60);
	b[3] = (uint8_t)(lba % 75);
}

static size_t toc_desc(uint8_t *b, uint8_t track, uint64_t lba, bool msf)
{
	b[1] = 0x14; /* ADR 1, CONTROL: data track, recorded uninterrupted */
	b[2] = track;
	put_addr(b + 4, lba, msf);
	return 8;
}

int fbo_read_toc(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		 uint8_t *sense)
{
	uint8_t b[4 + 3 * 8] = { 0 }, format = cdb[2] & 0x0f, track = cdb[6];
	bool msf = cdb[1] & 0x02;
	size_t len = 4;
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	if (!format)
		format = cdb[9] >> 6; /* the older format field (Linux's sr uses it) */
	b[2] = 1;		      /* first track (format 0) / first session (format 1) */
	b[3] = 1;
	switch (format) {
	case 0:
		if (track > 1 && track != LEADOUT)
			return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		if (track <= 1)
			len += toc_desc(b + len, 1, 0, msf);
		len += toc_desc(b + len, LEADOUT, f->nblocks, msf);
		break;
	case 1:
		len += toc_desc(b + len, 1, 0, msf);
		break;
	default:
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	}
	scsi_put_be16(b, (uint16_t)(len - 2));
	return fbo_respond(iov, iov_cnt, b, len, scsi_get_be16(cdb + 7));
}

int fbo_read_disc_info(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		       uint8_t *sense)
{
	uint8_t b[34] = { 0 };
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	if (cdb[1] & 0x07) /* only the standard disc information */
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	scsi_put_be16(b, sizeof(b) - 2);
	/* Last session complete, disc complete; erasable when writable. */
	b[2] = 0x0c | 0x02 | (f->ro ? 0 : 0x10);
	b[3] = 1;		 /* first track on disc */
	b[4] = 1;		 /* sessions */
	b[5] = 1;		 /* first track in last session */
	b[6] = 1;		 /* last track in last session */
	b[7] = 0x20;		 /* URU: unrestricted use */
	b[8] = 0x00;		 /* disc type: data */
	memset(b + 16, 0xff, 8); /* lead-in / last lead-out: not given */
	return fbo_respond(iov, iov_cnt, b, sizeof(b), scsi_get_be16(cdb + 7));
}

/*
 * READ TRACK INFORMATION: byte 1 bits 1..0 say what bytes 2..5 hold: an LBA
 * (00b, inside the medium), a track number (01b, 1) or a session number
 * (10b, 1: its first track).  Each names track 1, the whole medium.
 */
int fbo_read_track_info(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
			uint8_t *sense)
{
	uint8_t b[48] = { 0 };
	uint32_t addr = scsi_get_be32(cdb + 2);
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	switch (cdb[1] & 0x03) {
	case 0:
		if (addr >= f->nblocks)
			return fbo_sense(sense, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		break;
	case 1:
	case 2:
		if (addr != 1)
			return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		break;
	default:
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	}
	scsi_put_be16(b, sizeof(b) - 2);
	b[2] = 1;		   /* track number (LSB) */
	b[3] = 1;		   /* session number (LSB) */
	b[5] = 0x04;		   /* track mode: data, recorded uninterrupted */
	b[6] = 0x01;		   /* data mode 1; not blank, not reserved, no packets */
	b[7] = 0x02;		   /* LRA_V: the last recorded address is valid */
	scsi_put_be32(b + 20, 16); /* blocking factor: one ECC block */
	scsi_put_be32(b + 24, (uint32_t)f->nblocks);	 /* track size */
	scsi_put_be32(b + 28, (uint32_t)f->nblocks - 1); /* last recorded address */
	return fbo_respond(iov, iov_cnt, b, sizeof(b), scsi_get_be16(cdb + 7));
}

int fbo_read_dvd_structure(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
			   uint8_t *sense)
{
	uint8_t b[4 + 17] = { 0 };
	size_t len;
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	if (cdb[1] & 0x0f || cdb[6]) /* media type (DVD only), layer 0 only */
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	switch (cdb[7]) {
	case 0x00:			    /* physical format information */
		b[4] = f->ro ? 0x01 : 0x11; /* book type DVD-ROM / DVD-RAM, part 1 */
		b[5] = 0x02;		    /* 120 mm, 10.08 Mbit/s */
		b[6] = f->ro ? 0x01 : 0x04; /* one layer; embossed / rewritable */
		scsi_put_be32(b + 8, 0x030000);
		scsi_put_be32(b + 12, (uint32_t)(0x030000 + f->nblocks - 1));
		len = 4 + 17;
		break;
	case 0x01: /* copyright information: no protection */
		len = 8;
		break;
	default:
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	}
	scsi_put_be16(b, (uint16_t)(len - 2));
	return fbo_respond(iov, iov_cnt, b, len, scsi_get_be16(cdb + 8));
}

int fbo_mechanism_status(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt)
{
	uint8_t b[8] = { 0 };

	b[1] = f->tray_open ? 0x10 : 0x00; /* mechanism idle; door open */
	return fbo_respond(iov, iov_cnt, b, sizeof(b), scsi_get_be16(cdb + 8));
}

int fbo_event_status(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		     uint8_t *sense)
{
	uint8_t b[8] = { 0 };

	if (!(cdb[1] & 0x01)) /* asynchronous notification: not supported */
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	b[3] = 0x10; /* supported classes: media */
	if (!(cdb[4] & 0x10)) {
		b[2] = 0x80; /* NEA: no event of the requested classes */
		scsi_put_be16(b, 2);
		return fbo_respond(iov, iov_cnt, b, 4, scsi_get_be16(cdb + 7));
	}
	scsi_put_be16(b, 6);
	b[2] = 0x04; /* media class */
	b[4] = f->media_event;
	b[5] = f->fd >= 0 ? 0x02 : (f->tray_open ? 0x01 : 0x00);
	f->media_event = FBO_EV_NONE;
	return fbo_respond(iov, iov_cnt, b, sizeof(b), scsi_get_be16(cdb + 7));
}
