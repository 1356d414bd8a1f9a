// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Whole-buffer pread/pwrite and the other file calls of the qcow format layer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
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
