// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The backing file of a zbc device:
 *
 *   offset 0        header (one 4 KiB block), big-endian fields:
 *                   0 magic "TCMUZBC1", 8 version (1), 12 LBA size,
 *                   16 model (0 HM, 1 HA), 20 zone count, 24 conventional
 *                   zone count, 28 max open zones, 32 zone size in LBAs,
 *                   40 data offset in bytes
 *   offset 4096     one 16-byte record per zone: 0 write pointer LBA,
 *                   8 condition, 9 flags (bit 0 non-sequential)
 *   data offset     LBA 0 (the records area rounded up to 1 MiB)
 *
 * A zone's record is rewritten after its data and before the command is
 * acknowledged, so after a crash of the daemon the write pointer is never
 * behind acknowledged data.  SYNCHRONIZE CACHE (and FUA) make both stable.
 * A file without the magic is formatted; one whose geometry differs from
 * the cfgstring is refused (nothing is overwritten).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scsi_defs.h"
#include "zbc.h"

#define META_MAGIC   "TCMUZBC1"
#define META_VERSION 1
#define META_HDR_LEN 4096u
#define META_REC_LEN 16u

static int say(char **reason, int err, const char *fmt, unsigned long long a, unsigned long long b)
{
	if (reason && asprintf(reason, fmt, a, b) < 0)
		*reason = NULL;
	return err;
}

/* Zone count and layout from the cfgstring and the LUN size. */
static int meta_geometry(struct zbc_dev *z, const struct zbc_cfg *cfg, uint64_t dev_bytes,
			 char **reason)
{
	uint64_t zone_bytes = (uint64_t)cfg->zone_mib * ZBC_MIB, nz = dev_bytes / zone_bytes;
	uint32_t nr_seq;

	if (nz < 2 || nz > (1u << 24))
		return say(reason, -EINVAL, "zbc: %llu zones of %llu MiB: need 2 to 16M zones",
			   (unsigned long long)nz, cfg->zone_mib);
	z->ha = cfg->ha;
	z->lba_size = cfg->lba_size;
	z->zone_lbas = zone_bytes / cfg->lba_size;
	z->nr_zones = (uint32_t)nz;
	z->nr_lbas = nz * z->zone_lbas;
	z->nr_conv = cfg->conv ? cfg->conv : (z->nr_zones / 100 ? z->nr_zones / 100 : 1);
	if (z->nr_conv >= z->nr_zones)
		return say(reason, -EINVAL,
			   "zbc: %llu conventional zones of %llu leave none sequential", z->nr_conv,
			   z->nr_zones);
	nr_seq = z->nr_zones - z->nr_conv;
	z->max_open = cfg->max_open;
	if (!z->max_open)
		z->max_open = nr_seq / 2 < 128 ? (nr_seq / 2 ? nr_seq / 2 : 1) : 128;
	if (z->max_open > nr_seq)
		return say(reason, -EINVAL, "zbc: open limit %llu above the %llu sequential zones",
			   z->max_open, nr_seq);
	z->data_off = META_HDR_LEN + (uint64_t)z->nr_zones * META_REC_LEN;
	z->data_off = (z->data_off + ZBC_MIB - 1) / ZBC_MIB * ZBC_MIB;
	z->urswrz = true;
	return 0;
}

static void meta_fresh_zones(struct zbc_dev *z)
{
	uint32_t i;

	for (i = 0; i < z->nr_zones; i++) {
		struct zbc_zone *zn = &z->zones[i];

		zn->start = (uint64_t)i * z->zone_lbas;
		zn->len = z->zone_lbas;
		zn->wp = zn->start;
		zn->non_seq = false;
		if (i < z->nr_conv) {
			zn->type = ZBC_TYPE_CONV;
			zn->cond = ZBC_COND_NOT_WP;
		} else {
			zn->type = z->ha ? ZBC_TYPE_SEQ_PREF : ZBC_TYPE_SEQ_REQ;
			zn->cond = ZBC_COND_EMPTY;
		}
	}
}

static void meta_header(const struct zbc_dev *z, uint8_t *h)
{
	memset(h, 0, META_HDR_LEN);
	memcpy(h, META_MAGIC, 8);
	scsi_put_be32(h + 8, META_VERSION);
	scsi_put_be32(h + 12, z->lba_size);
	scsi_put_be32(h + 16, z->ha);
	scsi_put_be32(h + 20, z->nr_zones);
	scsi_put_be32(h + 24, z->nr_conv);
	scsi_put_be32(h + 28, z->max_open);
	scsi_put_be64(h + 32, z->zone_lbas);
	scsi_put_be64(h + 40, z->data_off);
}

static int full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int full_pread(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n) { /* past the end of the file: zeros */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int zbc_meta_put_zone(struct zbc_dev *z, const struct zbc_zone *zn)
{
	uint8_t rec[META_REC_LEN] = { 0 };
	uint64_t idx = (uint64_t)(zn - z->zones);

	scsi_put_be64(rec, zn->wp);
	rec[8] = zn->cond;
	rec[9] = zn->non_seq ? 1 : 0;
	return full_pwrite(z->fd, rec, sizeof(rec), (off_t)(META_HDR_LEN + idx * META_REC_LEN));
}

static int meta_format(struct zbc_dev *z)
{
	uint8_t *buf;
	uint32_t i;
	int ret;

	if (ftruncate(z->fd, (off_t)(z->data_off + z->nr_lbas * z->lba_size)))
		return -errno;
	meta_fresh_zones(z);
	buf = malloc(META_HDR_LEN);
	if (!buf)
		return -ENOMEM;
	/* Records first, the header (which makes the file valid) last. */
	for (i = 0, ret = 0; i < z->nr_zones && !ret; i++)
		ret = zbc_meta_put_zone(z, &z->zones[i]);
	if (!ret) {
		meta_header(z, buf);
		ret = full_pwrite(z->fd, buf, META_HDR_LEN, 0);
	}
	if (!ret && fdatasync(z->fd))
		ret = -errno;
	free(buf);
	return ret;
}

/* One loaded record: its condition must suit its type and wp its range. */
static bool meta_zone_ok(const struct zbc_zone *zn)
{
	uint64_t end = zn->start + zn->len;

	if (zn->type == ZBC_TYPE_CONV)
		return zn->cond == ZBC_COND_NOT_WP;
	if (zn->wp < zn->start || zn->wp > end)
		return false;
	switch (zn->cond) {
	case ZBC_COND_EMPTY:
		return zn->wp == zn->start;
	case ZBC_COND_FULL:
		return zn->wp == end;
	case ZBC_COND_IMP_OPEN:
	case ZBC_COND_EXP_OPEN:
	case ZBC_COND_CLOSED:
		return true;
	default:
		return false;
	}
}

/*
 * Load the records.  Open zones become closed (or empty), as after a power
 * cycle: the initiator that opened them is gone.
 */
static int meta_load(struct zbc_dev *z, char **reason)
{
	uint8_t rec[META_REC_LEN];
	uint32_t i;
	int ret;

	meta_fresh_zones(z);
	for (i = 0; i < z->nr_zones; i++) {
		struct zbc_zone *zn = &z->zones[i];

		ret = full_pread(z->fd, rec, sizeof(rec),
				 (off_t)(META_HDR_LEN + (uint64_t)i * META_REC_LEN));
		if (ret)
			return ret;
		if (zn->type != ZBC_TYPE_CONV) {
			zn->wp = scsi_get_be64(rec);
			zn->cond = rec[8];
			zn->non_seq = rec[9] & 1;
		}
		if (!meta_zone_ok(zn))
			return say(reason, -EINVAL,
				   "zbc: zone %llu record is corrupt (condition %llu)", i, rec[8]);
		if (zn->cond == ZBC_COND_IMP_OPEN || zn->cond == ZBC_COND_EXP_OPEN) {
			zn->cond = zn->wp == zn->start ? ZBC_COND_EMPTY : ZBC_COND_CLOSED;
			ret = zbc_meta_put_zone(z, zn);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Compare the header with the geometry the cfgstring asks for. */
static int meta_check_header(struct zbc_dev *z, const uint8_t *h, char **reason)
{
	uint8_t want[META_HDR_LEN];

	meta_header(z, want);
	if (scsi_get_be32(h + 8) != META_VERSION)
		return say(reason, -EINVAL, "zbc: metadata version %llu, expected %llu",
			   scsi_get_be32(h + 8), META_VERSION);
	if (memcmp(h, want, 48))
		return say(reason, -EINVAL,
			   "zbc: the file holds %llu zones of %llu LBAs in another geometry than "
			   "the cfgstring asks for (remove it to reformat)",
			   scsi_get_be32(h + 20), scsi_get_be64(h + 32));
	return 0;
}

/* The device's setup thread; may block.  0 or -errno (*reason may be set). */
int zbc_meta_open(struct zbc_dev *z, int fd, const struct zbc_cfg *cfg, uint64_t dev_bytes,
		  char **reason)
{
	uint8_t *h = NULL;
	int ret;

	z->fd = fd;
	ret = meta_geometry(z, cfg, dev_bytes, reason);
	if (ret)
		return ret;
	z->zones = calloc(z->nr_zones, sizeof(*z->zones));
	h = malloc(META_HDR_LEN);
	if (!z->zones || !h) {
		ret = -ENOMEM;
		goto out;
	}
	ret = full_pread(fd, h, META_HDR_LEN, 0);
	if (ret)
		goto out;
	if (memcmp(h, META_MAGIC, 8))
		ret = meta_format(z);
	else
		ret = meta_check_header(z, h, reason);
	if (!ret)
		ret = meta_load(z, reason);
	if (!ret)
		zbc_zone_count(z);
out:
	free(h);
	if (ret) {
		free(z->zones);
		z->zones = NULL;
	}
	return ret;
}

void zbc_meta_close(struct zbc_dev *z)
{
	free(z->zones);
	z->zones = NULL;
}
