// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Whole-buffer pread/pwrite and the other file calls of the qcow format layer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

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

/* Give a freed cluster's space back to the file system where it can. */
void qio_punch(int fd, uint64_t off, uint64_t len)
{
	/* Best effort: tmpfs, ext4 and xfs can; others keep the blocks. */
	(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}
