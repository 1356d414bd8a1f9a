// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Data commands on 2048-byte blocks: READ (6/10/12), WRITE (6/10/12), WRITE
 * AND VERIFY (10/12), VERIFY (10/12, BYTCHK compares the Data-Out with the
 * medium: MISCOMPARE 0E/1D/00), SYNCHRONIZE CACHE (IMMED accepted; the sync
 * is done before the status either way).  Past the end of the medium:
 * 05/21/00; a read-only medium: DATA PROTECT 07/27/00.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

/*
 * len bytes between the file at off and the iovec array, through one bounce
 * buffer (optical transfers are small); 0 or -errno.
 */
static int file_io(int fd, bool wr, struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	uint8_t *buf = malloc(len ? len : 1);
	size_t done = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	if (wr)
		tcmu_memcpy_from_iovec(buf, len, iov, iov_cnt);
	while (done < len) {
		ssize_t r = wr ? pwrite(fd, buf + done, len - done, off + (off_t)done)
			       : pread(fd, buf + done, len - done, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && wr)) {
			ret = r < 0 ? -errno : -EIO;
			goto out;
		}
		if (r == 0) { /* a file shorter than the medium: zeros */
			memset(buf + done, 0, len - done);
			break;
		}
		done += (size_t)r;
	}
	if (!wr)
		tcmu_memcpy_into_iovec(iov, iov_cnt, buf, len);
out:
	free(buf);
	return ret;
}

/* VERIFY with BYTCHK: compare the Data-Out with the medium. */
static int verify_bytes(struct fbo_dev *f, struct iovec *iov, size_t iov_cnt, size_t len, off_t off,
			uint8_t *sense)
{
	uint8_t *a = malloc(len ? len : 1), *b = malloc(len ? len : 1);
	struct iovec v = { .iov_base = a, .iov_len = len };
	int ret = TCMU_STS_OK;

	if (!a || !b) {
		ret = TCMU_STS_NO_RESOURCE;
		goto out;
	}
	if (file_io(f->fd, false, &v, 1, len, off)) {
		ret = TCMU_STS_RD_ERR;
		goto out;
	}
	tcmu_memcpy_from_iovec(b, len, iov, iov_cnt);
	if (memcmp(a, b, len))
		ret = fbo_sense(sense, MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
out:
	free(a);
	free(b);
	return ret;
}

int fbo_rw(struct fbo_dev *f, uint8_t *cdb, struct iovec *iov, size_t iov_cnt, uint8_t *sense)
{
	uint64_t lba = tcmu_cdb_get_lba(cdb), n = tcmu_cdb_get_xfer_length(cdb);
	bool wr = cdb[0] == WRITE_6 || cdb[0] == WRITE_10 || cdb[0] == WRITE_12 ||
		  cdb[0] == WRITE_VERIFY || cdb[0] == WRITE_VERIFY_12;
	bool verify = cdb[0] == VERIFY || cdb[0] == VERIFY_12;
	size_t len = (size_t)n * FBO_BLOCK;
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	if (lba > f->nblocks || n > f->nblocks - lba)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (wr && f->ro)
		return fbo_sense(sense, DATA_PROTECT, ASC_WRITE_PROTECTED);
	if (!n)
		return TCMU_STS_OK;
	if (verify && !(cdb[1] & 0x02))
		return TCMU_STS_OK; /* BYTCHK 0: the medium is always readable */
	if ((wr || verify || cdb[0] == READ_6 || cdb[0] == READ_10 || cdb[0] == READ_12) &&
	    tcmu_iovec_length(iov, iov_cnt) < len)
		return fbo_sense(sense, ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	if (verify)
		return verify_bytes(f, iov, iov_cnt, len, (off_t)(lba * FBO_BLOCK), sense);
	if (file_io(f->fd, wr, iov, iov_cnt, len, (off_t)(lba * FBO_BLOCK)))
		return wr ? TCMU_STS_WR_ERR : TCMU_STS_RD_ERR;
	return TCMU_STS_OK;
}

int fbo_sync(struct fbo_dev *f, uint8_t *sense)
{
	int ret = fbo_check_ready(f, sense);

	if (ret != TCMU_STS_OK)
		return ret;
	return fdatasync(f->fd) && errno != EINVAL ? TCMU_STS_WR_ERR : TCMU_STS_OK;
}
