/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The qcow2 / qcow v1 / raw image format layer of the qcow handler, independent of the
 * daemon: open an image on a file descriptor, read, write, discard, flush.
 * Used by handler_qcow.so, the unit tests and the fuzz target.
 *
 * Thread safety: every call may run concurrently on one image.  Metadata
 * (L1/L2 tables, refcounts) is changed under the image's metadata mutex;
 * data of allocated clusters is read and overwritten outside it.  Discards
 * exclude all other I/O (the image's I/O rwlock).
 *
 * Functions return 0 or -errno; a refusal at open leaves a reason in err.
 */
#ifndef QCOW_FORMAT_H
#define QCOW_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define QIMG_ERR_LEN 256

struct qimg;

/* Open flags. */
#define QIMG_RDONLY	(1u << 0) /* never write; refuse writes with -EROFS */
#define QIMG_NO_BACKING (1u << 1) /* do not open a backing file (fuzzing) */

/*
 * Open the image on fd (owned by the image from now on, closed by
 * qimg_close(), also on failure).  path names the image for resolving a
 * relative backing file name; may be NULL when flags has QIMG_NO_BACKING.
 * An image without the qcow2 magic is raw.
 */
int qimg_open(int fd, const char *path, unsigned int flags, struct qimg **out,
	      char err[QIMG_ERR_LEN]);
void qimg_close(struct qimg *img);

uint64_t qimg_size(const struct qimg *img);	    /* virtual size in bytes */
uint32_t qimg_cluster_size(const struct qimg *img); /* 512 for raw */
bool qimg_is_raw(const struct qimg *img);
int qimg_fd(const struct qimg *img);	     /* the image file (fast-path I/O) */
bool qimg_read_only(const struct qimg *img); /* opened so, or marked corrupt */
bool qimg_has_backing(const struct qimg *img);
const char *qimg_describe(const struct qimg *img);
/* Discarding gives space back (false for qcow v1: it writes zeroes). */
bool qimg_discard_frees(const struct qimg *img); /* e.g. "qcow2 v3, 64 KiB clusters" */

/* Move len bytes at virtual offset off; off + len must be within the size. */
int qimg_read(struct qimg *img, void *buf, size_t len, uint64_t off);
int qimg_write(struct qimg *img, const void *buf, size_t len, uint64_t off);
/*
 * The same over the first len bytes of an iovec.  Clusters that follow each
 * other in the file move in one preadv/pwritev.
 */
int qimg_readv(struct qimg *img, const struct iovec *iov, size_t cnt, size_t len, uint64_t off);
int qimg_writev(struct qimg *img, const struct iovec *iov, size_t cnt, size_t len, uint64_t off);
/*
 * Deallocate the whole clusters in [off, off + len): they read as zeroes
 * afterwards.  Parts of clusters are written with zeroes when zero is set,
 * else left alone (UNMAP is advisory).
 */
int qimg_discard(struct qimg *img, uint64_t off, uint64_t len, bool zero);
/*
 * Grow the virtual size to size bytes (the L1 table grows, or moves to new
 * clusters): the new area reads as zeroes.  Waits for the I/O in flight and
 * holds off new I/O meanwhile.  Shrinking, qcow v1 images, read-only images
 * and images smaller than their backing file are refused with a reason in err.
 */
int qimg_grow(struct qimg *img, uint64_t size, char err[QIMG_ERR_LEN]);
/*
 * The fast path, for callers that move the data themselves (io_uring): the
 * file extents of the I/O when every cluster in it is plain data of this
 * image alone whose L2 table is cached, and the metadata lock is free right
 * now.  Never blocks.  ext gets up to max extents, each with its part of
 * iov in vbuf (room for cnt + max entries).  Returns 0, the image then
 * counts the I/O until qimg_fast_done() (a discard waits for it), or -EAGAIN:
 * use qimg_readv/qimg_writev.
 */
struct qimg_ext {
	uint64_t host; /* file offset */
	uint64_t len;
	struct iovec *iov;
	size_t cnt;
};
int qimg_fast_map(struct qimg *img, const struct iovec *iov, size_t cnt, size_t len, uint64_t off,
		  bool write, struct qimg_ext *ext, size_t max, struct iovec *vbuf, size_t *n);
void qimg_fast_done(struct qimg *img);
/* Make every completed write stable (fdatasync). */
int qimg_flush(struct qimg *img);
/*
 * Allocation status of the range at off: *allocated true when the data
 * lives in this image, false when it reads as zeroes or from the backing
 * file; *len the length (bytes, >= 1 cluster or to the end) with that status.
 */
int qimg_status(struct qimg *img, uint64_t off, uint64_t *len, bool *allocated);

#endif
