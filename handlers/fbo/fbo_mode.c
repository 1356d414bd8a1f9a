// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * MODE SENSE (6/10) and MODE SELECT (6/10) with the pages of an MMC drive:
 *   01h read/write error recovery   (changeable: bytes 2..11, kept as sent)
 *   08h caching                     (changeable: WCE)
 *   1Dh timeout and protect         (changeable: bytes 2..11, kept as sent)
 *   2Ah CD/DVD capabilities and mechanical status (read only)
 * 3Fh returns them all.  No block descriptors.  Saved values are not
 * supported (05/39/00); unknown pages are invalid fields (05/24/00 in the
 * CDB, 05/26/00 in a parameter list).
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define MODE_BUF 256

void fbo_mode_init(struct fbo_dev *f)
{
	memset(f->page01, 0, sizeof(f->page01));
	memset(f->page08, 0, sizeof(f->page08));
	memset(f->page1d, 0, sizeof(f->page1d));
	f->page01[1] = 5;		      /* read retry count */
	f->page08[0] = 0x04;		      /* WCE */
	scsi_put_be16(f->page1d + 4, 0x0064); /* group 1 timeout: 100 s */
	scsi_put_be16(f->page1d + 6, 0x0064); /* group 2 timeout */
}

/* The 2Ah body (28 bytes after the page header). */
static void page_2a(const struct fbo_dev *f, uint8_t *b)
{
	b[0] = 0x3b; /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
	b[1] = 0x20; /* writes DVD-RAM */
	b[2] = 0x00;
	b[3] = 0x00;
	/* Tray loading mechanism, eject, lock, current lock state. */
	b[4] = 0x20 | 0x08 | 0x01 | (f->prevent ? 0x02 : 0);
	scsi_put_be16(b + 6, 0x2b50);  /* maximum read speed (obsolete), kB/s */
	scsi_put_be16(b + 10, 0x0800); /* buffer size, KiB */
	scsi_put_be16(b + 12, 0x2b50); /* current read speed (obsolete) */
	scsi_put_be16(b + 16, 0x2b50); /* maximum write speed (obsolete) */
	scsi_put_be16(b + 18, 0x2b50); /* current write speed (obsolete) */
}

/* Append page code (pc: 0 current, 1 changeable, 2 default) at b; its length. */
static size_t put_page(const struct fbo_dev *f, uint8_t code, uint8_t pc, uint8_t *b)
{
	struct fbo_dev def;
	const struct fbo_dev *src = f;
	size_t body;

	if (pc == 2) {
		memset(&def, 0, sizeof(def));
		fbo_mode_init(&def);
		src = &def;
	}
	b[0] = code;
	switch (code) {
	case 0x01:
		body = sizeof(f->page01);
		if (pc == 1)
			memset(b + 2, 0xff, body);
		else
			memcpy(b + 2, src->page01, body);
		break;
	case 0x08:
		body = sizeof(f->page08);
		memset(b + 2, 0, body);
		if (pc == 1)
			b[2] = 0x04;
		else
			memcpy(b + 2, src->page08, body);
		break;
	case 0x1d:
		body = sizeof(f->page1d);
		if (pc == 1)
			memset(b + 2, 0xff, body);
		else
			memcpy(b + 2, src->page1d, body);
		break;
	default: /* 0x2a */
		body = 28;
		memset(b + 2, 0, body);
		if (pc != 1)
			page_2a(f, b + 2);
		break;
	}
	b[1] = (uint8_t)body;
	return body + 2;
}

int fbo_mode_sense(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		   uint8_t *sense)
{
	static const uint8_t all[] = { 0x01, 0x08, 0x1d, 0x2a };
	bool ten = cdb[0] == MODE_SENSE_10;
	uint8_t b[MODE_BUF] = { 0 }, pc = cdb[2] >> 6, code = cdb[2] & 0x3f;
	size_t hdr = ten ? 8 : 4, len = hdr, i;

	if (pc == 3)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
	if (cdb[3])
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	for (i = 0; i < sizeof(all); i++)
		if (code == 0x3f || code == all[i])
			len += put_page(f, all[i], pc, b + len);
	if (len == hdr)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	if (ten)
		scsi_put_be16(b, (uint16_t)(len - 2));
	else
		b[0] = (uint8_t)(len - 1);
	return fbo_respond(iov, iov_cnt, b, len, ten ? scsi_get_be16(cdb + 7) : cdb[4]);
}

/* One page of a MODE SELECT parameter list; TCMU_STS_OK or sense. */
static int select_page(struct fbo_dev *f, const uint8_t *p, uint8_t *sense)
{
	uint8_t code = p[0] & 0x3f, cur[64];

	if (code != 0x01 && code != 0x08 && code != 0x1d && code != 0x2a)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	if ((size_t)p[1] + 2 != put_page(f, code, 0, cur))
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	switch (code) {
	case 0x01:
		memcpy(f->page01, p + 2, sizeof(f->page01));
		break;
	case 0x08:
		f->page08[0] = (f->page08[0] & ~0x04) | (p[2] & 0x04);
		break;
	case 0x1d:
		memcpy(f->page1d, p + 2, sizeof(f->page1d));
		break;
	default: /* 2Ah: nothing is changeable */
		if (memcmp(p + 2, cur + 2, p[1]))
			return fbo_sense(sense, ILLEGAL_REQUEST,
					 ASC_INVALID_FIELD_IN_PARAMETER_LIST);
		break;
	}
	return TCMU_STS_OK;
}

int fbo_mode_select(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		    uint8_t *sense)
{
	bool ten = cdb[0] == MODE_SELECT_10;
	size_t plen = ten ? scsi_get_be16(cdb + 7) : cdb[4], hdr = ten ? 8 : 4, off, bdl;
	uint8_t b[MODE_BUF];
	int ret;

	if (cdb[1] & 0x01) /* SP */
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
	if (!(cdb[1] & 0x10)) /* PF */
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	if (!plen)
		return TCMU_STS_OK;
	if (plen < hdr || plen > sizeof(b) || tcmu_iovec_length(iov, iov_cnt) < plen)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	tcmu_memcpy_from_iovec(b, plen, iov, iov_cnt);
	bdl = ten ? scsi_get_be16(b + 6) : b[3];
	for (off = hdr + bdl; off < plen; off += (size_t)b[off + 1] + 2) {
		if (off + 2 > plen || off + 2 + b[off + 1] > plen)
			return fbo_sense(sense, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		ret = select_page(f, b + off, sense);
		if (ret != TCMU_STS_OK)
			return ret;
	}
	return TCMU_STS_OK;
}
