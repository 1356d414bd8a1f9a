// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * MODE SENSE (6/10) and MODE SELECT (6/10) (SPC-4 6.11-6.14) over the
 * read-write error recovery (01), caching (08) and control (0A) pages.
 */
#include <string.h>

#include "emul.h"

#define MODE_PAGE_MAX	20 /* longest page we know, header included */
#define MODE_BUF_LEN	256
#define MODE_SELECT_MAX 512

enum mode_pc { PC_CURRENT, PC_CHANGEABLE, PC_DEFAULT, PC_SAVED };

struct mode_page {
	uint8_t code;
	uint8_t len; /* whole page, header included */
	/* Fill page bytes for a page control value; buf is zeroed. */
	void (*fill)(const struct scsi_caps *caps, enum mode_pc pc, uint8_t *buf);
};

static void fill_rw_recovery(const struct scsi_caps *caps, enum mode_pc pc, uint8_t *b)
{
	/* All fields zero: no recovery options, nothing changeable. */
}

static void fill_caching(const struct scsi_caps *caps, enum mode_pc pc, uint8_t *b)
{
	switch (pc) {
	case PC_CHANGEABLE:
		if (caps->wce_changeable)
			b[2] = 0x04;
		break;
	case PC_DEFAULT:
		if (caps->wce_default)
			b[2] = 0x04;
		break;
	case PC_CURRENT:
	default:
		if (caps->wce)
			b[2] = 0x04; /* WCE */
		break;
	}
}

static void fill_control(const struct scsi_caps *caps, enum mode_pc pc, uint8_t *b)
{
	if (pc == PC_CHANGEABLE)
		return;
	b[2] = 0x02;		      /* GLTSD: no implicit log saving */
	b[3] = 0x10;		      /* queue algorithm modifier 1: unrestricted */
	b[5] = 0x40;		      /* TAS */
	scsi_put_be16(&b[8], 0xffff); /* busy timeout period: unlimited */
}

static const struct mode_page mode_pages[] = {
	{ 0x01, 12, fill_rw_recovery },
	{ 0x08, 20, fill_caching },
	{ 0x0a, 12, fill_control },
};

#define N_PAGES (sizeof(mode_pages) / sizeof(mode_pages[0]))

static const struct mode_page *find_page(uint8_t code)
{
	size_t i;

	for (i = 0; i < N_PAGES; i++)
		if (mode_pages[i].code == code)
			return &mode_pages[i];
	return NULL;
}

static size_t put_page(const struct scsi_caps *caps, const struct mode_page *p, enum mode_pc pc,
		       uint8_t *b)
{
	memset(b, 0, p->len);
	p->fill(caps, pc, b);
	b[0] = p->code;
	b[1] = p->len - 2;
	return p->len;
}

int scsi_mode_sense(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
		    size_t iov_cnt, size_t *out_len)
{
	uint8_t buf[MODE_BUF_LEN];
	bool ten = cdb[0] == MODE_SENSE_10;
	bool dbd = cdb[1] & 0x08;
	bool llbaa = ten && (cdb[1] & 0x10);
	enum mode_pc pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f, subpage = cdb[3];
	size_t alloc_len = ten ? scsi_get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4, pos, bd_len = 0;

	*out_len = 0;
	if (cdb[1] & (ten ? 0xe7 : 0xf7))
		return TCMU_STS_INVALID_CDB;
	if (pc == PC_SAVED)
		return TCMU_STS_NOTSUPP_SAVE_PARAMS;
	if (page == 0x3f) {
		if (subpage != 0x00 && subpage != 0xff)
			return TCMU_STS_INVALID_CDB;
	} else if (subpage || !find_page(page)) {
		return TCMU_STS_INVALID_CDB;
	}

	memset(buf, 0, sizeof(buf));
	pos = hdr;
	if (!dbd) {
		uint64_t n = caps->num_lbas;

		if (llbaa) {
			bd_len = 16;
			scsi_put_be64(&buf[pos], n);
			scsi_put_be32(&buf[pos + 12], caps->block_size);
		} else {
			bd_len = 8;
			scsi_put_be32(&buf[pos], n > 0xffffffffull ? 0xffffffffu : (uint32_t)n);
			scsi_put_be32(&buf[pos + 4], caps->block_size & 0xffffff);
		}
		pos += bd_len;
	}

	if (page == 0x3f) {
		size_t i;

		for (i = 0; i < N_PAGES; i++)
			pos += put_page(caps, &mode_pages[i], pc, &buf[pos]);
	} else {
		pos += put_page(caps, find_page(page), pc, &buf[pos]);
	}

	/* Device-specific parameter: WP and DPOFUA. */
	if (ten) {
		scsi_put_be16(&buf[0], pos - 2);
		buf[3] = (caps->wp ? 0x80 : 0) | (caps->fua ? 0x10 : 0);
		buf[4] = llbaa && bd_len ? 0x01 : 0;
		scsi_put_be16(&buf[6], bd_len);
	} else {
		buf[0] = pos - 1;
		buf[2] = (caps->wp ? 0x80 : 0) | (caps->fua ? 0x10 : 0);
		buf[3] = bd_len;
	}
	*out_len = scsi_respond(iov, iov_cnt, buf, pos, alloc_len);
	return TCMU_STS_OK;
}

/* Check one page of a MODE SELECT list: only changeable bits may differ. */
static int select_page(const struct scsi_caps *caps, const uint8_t *in, size_t avail, bool *new_wce,
		       size_t *page_len)
{
	const struct mode_page *p;
	uint8_t cur[MODE_PAGE_MAX], mask[MODE_PAGE_MAX];
	size_t i;

	if (avail < 2)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (in[0] & 0x40) /* SPF: no subpages here */
		return TCMU_STS_INVALID_PARAM_LIST;
	p = find_page(in[0] & 0x3f);
	if (!p || (size_t)in[1] + 2 != p->len)
		return TCMU_STS_INVALID_PARAM_LIST;
	if (avail < p->len)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;

	put_page(caps, p, PC_CURRENT, cur);
	put_page(caps, p, PC_CHANGEABLE, mask);
	for (i = 2; i < p->len; i++)
		if ((in[i] ^ cur[i]) & ~mask[i])
			return TCMU_STS_INVALID_PARAM_LIST;
	if (p->code == 0x08 && (mask[2] & 0x04))
		*new_wce = in[2] & 0x04;
	*page_len = p->len;
	return TCMU_STS_OK;
}

int scsi_mode_select(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
		     size_t iov_cnt, bool *new_wce)
{
	uint8_t buf[MODE_SELECT_MAX];
	bool ten = cdb[0] == MODE_SELECT_10;
	size_t list_len = ten ? scsi_get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4, bd_len, pos;
	bool wce = caps->wce;

	*new_wce = caps->wce;
	if (cdb[1] & 0xee) /* reserved bits */
		return TCMU_STS_INVALID_CDB;
	if (!(cdb[1] & 0x10)) /* PF: only the standard page format */
		return TCMU_STS_INVALID_CDB;
	if (cdb[1] & 0x01) /* SP */
		return TCMU_STS_NOTSUPP_SAVE_PARAMS;
	if (!list_len)
		return TCMU_STS_OK;
	if (list_len < hdr)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (list_len > sizeof(buf) || tcmu_iovec_length(iov, iov_cnt) < list_len)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;

	memset(buf, 0, sizeof(buf));
	tcmu_memcpy_from_iovec(buf, list_len, iov, iov_cnt);

	bd_len = ten ? scsi_get_be16(&buf[6]) : buf[3];
	if (hdr + bd_len > list_len)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (bd_len) {
		bool long_lba = ten && (buf[4] & 0x01);
		uint32_t bs;

		if (bd_len != (long_lba ? 16u : 8u))
			return TCMU_STS_INVALID_PARAM_LIST;
		bs = long_lba ? scsi_get_be32(&buf[hdr + 12]) : scsi_get_be24(&buf[hdr + 5]);
		if (bs != caps->block_size)
			return TCMU_STS_INVALID_PARAM_LIST;
	}

	for (pos = hdr + bd_len; pos < list_len;) {
		size_t page_len = 0;
		int ret = select_page(caps, &buf[pos], list_len - pos, &wce, &page_len);

		if (ret != TCMU_STS_OK)
			return ret;
		pos += page_len;
	}
	*new_wce = wce;
	return TCMU_STS_OK;
}
