// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Whole-buffer pread/pwrite and the other file calls of the qcow format layer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef HAVE_URING
#include <liburing.h>
#endif

#include "qcow_priv.h"

/* Read len bytes at off; what lies past the end of the file reads as zeroes. */
int qio_pread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int qio_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Drop done bytes from the front of v[0..*n); returns the new start. */
static struct iovec *iov_advance(struct iovec *v, size_t *n, size_t done)
{
	while (*n && done >= v->iov_len) {
		done -= v->iov_len;
		v++;
		(*n)--;
	}
	if (*n) {
		v->iov_base = (uint8_t *)v->iov_base + done;
		v->iov_len -= done;
	}
	return v;
}

/* Vectored whole transfers; v is consumed.  Past the end of the file reads as zeroes. */
int qio_preadv(int fd, struct iovec *v, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = preadv(fd, v, (int)(n < IOV_MAX ? n : IOV_MAX), (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {
			for (; n; v++, n--)
				memset(v->iov_base, 0, v->iov_len);
			return 0;
		}
		v = iov_advance(v, &n, (size_t)r);
		off += (uint64_t)r;
	}
	return 0;
}

int qio_pwritev(int fd, struct iovec *v, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pwritev(fd, v, (int)(n < IOV_MAX ? n : IOV_MAX), (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		v = iov_advance(v, &n, (size_t)r);
		off += (uint64_t)r;
	}
	return 0;
}

int qio_sync(int fd)
{
	return fdatasync(fd) ? -errno : 0;
}

/*
 * fdatasync for the bytes [off, off + len) only: their dirty pages are
 * written and waited for, and the file's size and block map and the disk's
 * cache are made durable as fdatasync does, but other dirty pages of the
 * file (guest data not flushed yet) are left to writeback.  Linux has this
 * as a ranged io_uring fsync; without io_uring (not built, or refused by the
 * kernel) it is a whole fdatasync.
 */
int qio_sync_range(int fd, uint64_t off, uint64_t len)
{
#ifdef HAVE_URING
	static int no_ring; /* atomic: io_uring was refused once */
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int ret;

	if (!len || len > UINT32_MAX || off > (uint64_t)LLONG_MAX - len ||
	    __atomic_load_n(&no_ring, __ATOMIC_RELAXED))
		return qio_sync(fd);
	/* A ring per call: this runs once per reserve refill or copy-up. */
	ret = io_uring_queue_init(1, &ring, 0);
	if (ret) {
		__atomic_store_n(&no_ring, 1, __ATOMIC_RELAXED);
		return qio_sync(fd);
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	sqe->off = off;
	sqe->len = (uint32_t)len;
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret >= 0)
		ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret >= 0) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	if (ret == -EINVAL || ret == -EOPNOTSUPP)
		return qio_sync(fd);
	return ret < 0 ? ret : 0;
#else
	(void)off;
	(void)len;
	return qio_sync(fd);
#endif
}

/* Give a freed cluster's space back to the file system where it can. */
void qio_punch(int fd, uint64_t off, uint64_t len)
{
	/* Best effort: tmpfs, ext4 and xfs can; others keep the blocks. */
	(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}
