// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Data commands.  Host-managed rules (ZBC-2 4.5.3):
 *  - a write in a sequential write required zone starts at the write
 *    pointer (else UNALIGNED WRITE COMMAND, 05/21/04; a FULL zone has none)
 *    and stays in the zone (else WRITE BOUNDARY VIOLATION, 05/21/05);
 *    writes in conventional zones go anywhere but not into a sequential one;
 *  - a write to an EMPTY or CLOSED zone opens it implicitly (which may
 *    close another implicitly open zone, or fail with 07/55/0E);
 *  - a read may not span a conventional and a sequential zone (READ BOUNDARY
 *    VIOLATION, 05/21/07); past the write pointer it returns zeros when
 *    URSWRZ is set, else READ BOUNDARY VIOLATION across zones and ATTEMPT
 *    TO READ INVALID DATA (05/21/06) past the write pointer.
 * Host-aware devices accept any write; the write pointer follows the
 * highest block written and out of order writes set NON_SEQ.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

#define IO_VECS	 64
#define WS_CHUNK (1024u * 1024u)

/* len bytes between the file at off and the iovec array; 0 or -errno. */
static int file_io(struct zbc_dev *z, bool wr, struct iovec *iov, size_t iov_cnt, size_t len,
		   off_t off)
{
	size_t idx = 0, skip = 0;

	while (len) {
		struct iovec v[IO_VECS];
		size_t cnt = 0, want = 0, i, s;
		ssize_t r;

		for (i = idx, s = skip; i < iov_cnt && cnt < IO_VECS && want < len; i++, s = 0) {
			size_t l = iov[i].iov_len - s;

			if (!l)
				continue;
			if (l > len - want)
				l = len - want;
			v[cnt].iov_base = (uint8_t *)iov[i].iov_base + s;
			v[cnt++].iov_len = l;
			want += l;
		}
		if (!cnt)
			return -EINVAL; /* the iovec is shorter than the transfer */
		r = wr ? pwritev(z->fd, v, (int)cnt, off) : preadv(z->fd, v, (int)cnt, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r) {
			if (wr)
				return -EIO;
			r = (ssize_t)want; /* past the end of the file */
			for (i = 0; i < cnt; i++)
				memset(v[i].iov_base, 0, v[i].iov_len);
		}
		off += r;
		len -= (size_t)r;
		/* Move the cursor r bytes on. */
		while (r > 0 && idx < iov_cnt) {
			size_t l = iov[idx].iov_len - skip;

			if ((size_t)r < l) {
				skip += (size_t)r;
				break;
			}
			r -= (ssize_t)l;
			idx++;
			skip = 0;
		}
	}
	return 0;
}

/* Zero len bytes at offset off of the iovec array. */
static void iov_zero_at(struct iovec *iov, size_t iov_cnt, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < iov_cnt && len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		memset((uint8_t *)iov[i].iov_base + off, 0, l);
		len -= l;
		off = 0;
	}
}

static off_t lba_off(const struct zbc_dev *z, uint64_t lba)
{
	return (off_t)(z->data_off + lba * z->lba_size);
}

static int range_check(struct zbc_dev *z, uint64_t lba, uint64_t n, size_t iov_len, uint8_t *sense)
{
	if (lba > z->nr_lbas || n > z->nr_lbas - lba)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (n * z->lba_size > iov_len)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	return TCMU_STS_OK;
}

/* HM read rules; TCMU_STS_OK or an error with sense. */
static int read_check(struct zbc_dev *z, uint64_t lba, uint64_t n, uint8_t *sense)
{
	struct zbc_zone *zn = zbc_zone_of(z, lba), *last = zbc_zone_of(z, lba + n - 1), *p;

	if (z->ha)
		return TCMU_STS_OK;
	for (p = zn; p <= last; p++) {
		if (zbc_zone_is_seq(p) != zbc_zone_is_seq(zn))
			return zbc_sense(sense, ILLEGAL_REQUEST, ZBC_ASC_READ_BOUNDARY);
		if (z->urswrz || !zbc_zone_is_seq(p))
			continue;
		if (last != zn)
			return zbc_sense(sense, ILLEGAL_REQUEST, ZBC_ASC_READ_BOUNDARY);
		if (lba + n > p->wp)
			return zbc_sense(sense, ILLEGAL_REQUEST, ZBC_ASC_READ_INVALID_DATA);
	}
	return TCMU_STS_OK;
}

int zbc_read(struct zbc_dev *z, uint64_t lba, uint32_t n, struct iovec *iov, size_t iov_cnt,
	     uint8_t *sense)
{
	struct zbc_zone *zn, *last;
	int ret = range_check(z, lba, n, tcmu_iovec_length(iov, iov_cnt), sense);

	if (ret != TCMU_STS_OK || !n)
		return ret;
	ret = read_check(z, lba, n, sense);
	if (ret != TCMU_STS_OK)
		return ret;
	if (file_io(z, false, iov, iov_cnt, (size_t)n * z->lba_size, lba_off(z, lba)))
		return TCMU_STS_RD_ERR;
	/* Blocks past a write pointer read as zeros, whatever the file holds. */
	last = zbc_zone_of(z, lba + n - 1);
	for (zn = zbc_zone_of(z, lba); zn <= last; zn++) {
		uint64_t from = zn->wp > lba ? zn->wp : lba, to = zn->start + zn->len;

		if (!zbc_zone_is_seq(zn) || zn->cond == ZBC_COND_FULL)
			continue;
		if (to > lba + n)
			to = lba + n;
		if (from < to)
			iov_zero_at(iov, iov_cnt, (from - lba) * z->lba_size,
				    (to - from) * z->lba_size);
	}
	return TCMU_STS_OK;
}

/* HM write rules and implicit opens, before the data moves. */
static int write_begin(struct zbc_dev *z, uint64_t lba, uint64_t n, uint8_t *sense)
{
	struct zbc_zone *zn = zbc_zone_of(z, lba), *last = zbc_zone_of(z, lba + n - 1), *p;

	if (z->ha) {
		for (p = zn; p <= last; p++)
			if (zbc_zone_is_seq(p))
				(void)zbc_zone_open(z, p, false, sense); /* best effort */
		return TCMU_STS_OK;
	}
	if (!zbc_zone_is_seq(zn)) {
		for (p = zn; p <= last; p++)
			if (zbc_zone_is_seq(p))
				return zbc_sense(sense, ILLEGAL_REQUEST, ZBC_ASC_WRITE_BOUNDARY);
		return TCMU_STS_OK;
	}
	if (zn->cond == ZBC_COND_FULL || lba != zn->wp)
		return zbc_sense(sense, ILLEGAL_REQUEST, ZBC_ASC_UNALIGNED_WRITE);
	if (last != zn)
		return zbc_sense(sense, ILLEGAL_REQUEST, ZBC_ASC_WRITE_BOUNDARY);
	return zbc_zone_open(z, zn, false, sense);
}

/* After the data: write pointers, persisted before the acknowledgement. */
static int write_end(struct zbc_dev *z, uint64_t lba, uint64_t n, bool fua)
{
	struct zbc_zone *zn = zbc_zone_of(z, lba), *last = zbc_zone_of(z, lba + n - 1);

	for (; zn <= last; zn++) {
		uint64_t first = lba > zn->start ? lba : zn->start;
		uint64_t end = lba + n < zn->start + zn->len ? lba + n : zn->start + zn->len;

		if (!zbc_zone_is_seq(zn))
			continue;
		zbc_zone_written(z, zn, first, end - first);
		if (zbc_meta_put_zone(z, zn))
			return TCMU_STS_WR_ERR;
	}
	if (fua && fdatasync(z->fd))
		return TCMU_STS_WR_ERR;
	return TCMU_STS_OK;
}

int zbc_write(struct zbc_dev *z, uint64_t lba, uint32_t n, struct iovec *iov, size_t iov_cnt,
	      bool fua, uint8_t *sense)
{
	int ret = range_check(z, lba, n, tcmu_iovec_length(iov, iov_cnt), sense);

	if (ret != TCMU_STS_OK || !n)
		return ret;
	ret = write_begin(z, lba, n, sense);
	if (ret != TCMU_STS_OK)
		return ret;
	if (file_io(z, true, iov, iov_cnt, (size_t)n * z->lba_size, lba_off(z, lba)))
		return TCMU_STS_WR_ERR;
	return write_end(z, lba, n, fua);
}

/*
 * WRITE SAME (10) 0x41 and (16) 0x93: one block of Data-Out (zeros with
 * NDOB) repeated, under the rules of a write.  UNMAP and ANCHOR are not
 * supported (no thin provisioning); a zero block count is refused.
 */
int zbc_write_same(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		   uint8_t *sense)
{
	bool ws16 = cdb[0] == WRITE_SAME_16, ndob = ws16 && (cdb[1] & 0x01);
	uint64_t lba = ws16 ? scsi_get_be64(cdb + 2) : scsi_get_be32(cdb + 2);
	uint64_t n = ws16 ? scsi_get_be32(cdb + 10) : scsi_get_be16(cdb + 7), done;
	size_t bs = z->lba_size, per = WS_CHUNK / bs;
	uint8_t *chunk;
	int ret;

	if ((cdb[1] & 0x18) || !n) /* UNMAP, ANCHOR */
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	ret = range_check(z, lba, n, ndob ? ~(size_t)0 : n * bs, sense);
	if (ret != TCMU_STS_OK)
		return ret;
	if (!ndob && tcmu_iovec_length(iov, iov_cnt) < bs)
		return zbc_sense(sense, ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	ret = write_begin(z, lba, n, sense);
	if (ret != TCMU_STS_OK)
		return ret;
	chunk = calloc(per, bs);
	if (!chunk)
		return TCMU_STS_NO_RESOURCE;
	if (!ndob)
		for (done = 0; done < per; done++)
			tcmu_memcpy_from_iovec(chunk + done * bs, bs, iov, iov_cnt);
	for (done = 0, ret = TCMU_STS_OK; done < n && ret == TCMU_STS_OK; done += per) {
		uint64_t k = n - done < per ? n - done : per;
		struct iovec v = { .iov_base = chunk, .iov_len = k * bs };

		if (file_io(z, true, &v, 1, k * bs, lba_off(z, lba + done)))
			ret = TCMU_STS_WR_ERR;
	}
	free(chunk);
	return ret == TCMU_STS_OK ? write_end(z, lba, n, false) : ret;
}

int zbc_sync(struct zbc_dev *z)
{
	return fdatasync(z->fd) ? TCMU_STS_WR_ERR : TCMU_STS_OK;
}
