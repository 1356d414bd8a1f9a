// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * GET CONFIGURATION (0x46), MMC-6 5.2 and 6.6.  Profiles: DVD-RAM (current
 * with a writable medium), DVD-ROM (current with a read-only one), CD-ROM.
 * Features, in ascending order: 0000 profile list, 0001 core, 0002
 * morphing, 0003 removable medium, 0010 random readable, 001D multi-read,
 * 001E CD read, 001F DVD read, 0020 random writable, 0023 formattable,
 * 0024 hardware defect management, 0100 power management, 0105 timeout.
 * Linux's cdrom layer asks for 0020 and 0024 (with RT=0 from that number)
 * before it opens the drive for writing; udev's cdrom_id reads them all.
 * CDB: 1 RT (0 all from the start feature, 1 current ones, 2 just that one),
 * 2..3 starting feature number, 7..8 allocation length.
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define CONF_BUF 512

static uint16_t current_profile(const struct fbo_dev *f)
{
	if (f->fd < 0)
		return 0;
	return f->ro ? FBO_PROFILE_DVD_ROM : FBO_PROFILE_DVD_RAM;
}

/* Feature header at b: code, version, persistent, current, additional length. */
static size_t feature(uint8_t *b, uint16_t code, uint8_t version, bool persistent, bool current,
		      uint8_t add_len)
{
	scsi_put_be16(b, code);
	b[2] = (uint8_t)(version << 2) | (persistent ? 0x02 : 0) | (current ? 0x01 : 0);
	b[3] = add_len;
	return 4u + add_len;
}

/* Descriptor of feature code at b (0 if there is none); *current is set. */
static size_t put_feature(const struct fbo_dev *f, uint16_t code, uint8_t *b, bool *current)
{
	static const uint16_t profiles[] = { FBO_PROFILE_DVD_RAM, FBO_PROFILE_DVD_ROM,
					     FBO_PROFILE_CD_ROM };
	bool medium = f->fd >= 0, rw = medium && !f->ro;
	size_t i;

	switch (code) {
	case 0x0000:
		for (i = 0; i < 3; i++) {
			scsi_put_be16(b + 4 + 4 * i, profiles[i]);
			b[6 + 4 * i] = profiles[i] == current_profile(f);
		}
		*current = true;
		return feature(b, code, 0, true, true, 12);
	case 0x0001:
		scsi_put_be32(b + 4, 1); /* physical interface: SCSI */
		b[8] = 0x01;		 /* DBE */
		*current = true;
		return feature(b, code, 2, true, true, 8);
	case 0x0002:
		b[4] = 0x02; /* OCEvent: GESN is supported */
		*current = true;
		return feature(b, code, 1, true, true, 4);
	case 0x0003:
		b[4] = 0x20 | 0x08 | 0x01; /* tray, eject, lock */
		if (f->prevent)
			b[4] |= 0x04;
		*current = true;
		return feature(b, code, 0, true, true, 4);
	case 0x0010:
		scsi_put_be32(b + 4, FBO_BLOCK);
		scsi_put_be16(b + 8, 16); /* blocking: one ECC block */
		*current = medium;
		return feature(b, code, 0, false, medium, 8);
	case 0x001d:
		*current = false;
		return feature(b, code, 0, false, false, 0);
	case 0x001e:
		*current = false;
		return feature(b, code, 2, false, false, 4);
	case 0x001f:
		*current = medium;
		return feature(b, code, 0, false, medium, 4);
	case 0x0020:
		scsi_put_be32(b + 4, f->nblocks ? (uint32_t)(f->nblocks - 1) : 0);
		scsi_put_be32(b + 8, FBO_BLOCK);
		scsi_put_be16(b + 12, 16);
		*current = rw;
		return feature(b, code, 0, false, rw, 12);
	case 0x0023:
		*current = rw;
		return feature(b, code, 0, false, rw, 0);
	case 0x0024:
		*current = rw;
		return feature(b, code, 0, false, rw, 4);
	case 0x0100:
		*current = true;
		return feature(b, code, 0, true, true, 0);
	case 0x0105:
		*current = true;
		return feature(b, code, 0, true, true, 0);
	default:
		return 0;
	}
}

int fbo_get_configuration(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
			  uint8_t *sense)
{
	static const uint16_t codes[] = { 0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001d, 0x001e,
					  0x001f, 0x0020, 0x0023, 0x0024, 0x0100, 0x0105 };
	uint8_t b[CONF_BUF] = { 0 }, rt = cdb[1] & 0x03;
	uint16_t start = scsi_get_be16(cdb + 2);
	size_t len = 8, i, n;
	bool current = false;

	if (rt == 3)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i] < start || (rt == 2 && codes[i] != start))
			continue;
		memset(b + len, 0, CONF_BUF - len);
		n = put_feature(f, codes[i], b + len, &current);
		if (rt == 1 && !current)
			continue;
		len += n;
	}
	scsi_put_be32(b, (uint32_t)(len - 4));
	scsi_put_be16(b + 6, current_profile(f));
	return fbo_respond(iov, iov_cnt, b, len, scsi_get_be16(cdb + 7));
}
