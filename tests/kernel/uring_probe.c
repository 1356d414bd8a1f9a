/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * uring_probe FILE: does liburing's io_uring work on this kernel?
 *
 * Sets up a ring, prints the kernel's io_uring opcode probe (URING_CMD is what
 * ublk needs), then writes one 4 KiB block to FILE with O_DIRECT through the
 * ring, fsyncs it through the ring, reads it back through the ring and
 * compares.  Prints one "uring_probe: ..." line per step; exit status 0 when
 * every step worked.  Single-threaded, blocking: a test tool run by the VM
 * suite "kfeatures", never by the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define BLK 4096

/* Submit the one prepared SQE and wait for its completion: cqe->res or -errno. */
static int run_one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int print_probe(void)
{
	static const struct {
		int op;
		const char *name;
	} ops[] = {
		{ IORING_OP_READV, "READV" },	      { IORING_OP_WRITEV, "WRITEV" },
		{ IORING_OP_FSYNC, "FSYNC" },	      { IORING_OP_READ, "READ" },
		{ IORING_OP_WRITE, "WRITE" },	      { IORING_OP_FALLOCATE, "FALLOCATE" },
		{ IORING_OP_URING_CMD, "URING_CMD" },
	};
	struct io_uring_probe *p = io_uring_get_probe();
	size_t i;

	if (!p) {
		printf("uring_probe: io_uring_get_probe failed\n");
		return -ENOSYS;
	}
	printf("uring_probe: last opcode %u; supported:", (unsigned int)p->last_op);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		printf(" %s=%s", ops[i].name,
		       io_uring_opcode_supported(p, ops[i].op) ? "yes" : "no");
	printf("\n");
	io_uring_free_probe(p);
	return 0;
}

/* Run the prepared SQE, print its result, 0 if it returned WANT, else -errno. */
static int step(struct io_uring *ring, const char *what, int want)
{
	int ret = run_one(ring);

	printf("uring_probe: %s: %d\n", what, ret);
	if (ret == want)
		return 0;
	return ret < 0 ? ret : -EIO;
}

/* Write, fsync, read back and compare one block of FD through RING. */
static int block_io(struct io_uring *ring, int fd)
{
	unsigned char *wbuf = NULL, *rbuf = NULL;
	int ret, i;

	if (posix_memalign((void **)&wbuf, BLK, BLK) || posix_memalign((void **)&rbuf, BLK, BLK)) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < BLK; i++)
		wbuf[i] = (unsigned char)(i * 7 + 3);
	memset(rbuf, 0, BLK);

	/* The ring has 8 entries and holds one at a time: get_sqe cannot fail. */
	io_uring_prep_write(io_uring_get_sqe(ring), fd, wbuf, BLK, 0);
	ret = step(ring, "O_DIRECT write", BLK);
	if (ret)
		goto out;
	io_uring_prep_fsync(io_uring_get_sqe(ring), fd, IORING_FSYNC_DATASYNC);
	ret = step(ring, "fdatasync", 0);
	if (ret)
		goto out;
	io_uring_prep_read(io_uring_get_sqe(ring), fd, rbuf, BLK, 0);
	ret = step(ring, "O_DIRECT read", BLK);
	if (ret)
		goto out;

	ret = memcmp(wbuf, rbuf, BLK) ? -EIO : 0;
	printf("uring_probe: data %s\n", ret ? "DIFFERS" : "matches");
out:
	free(wbuf);
	free(rbuf);
	return ret;
}

int main(int argc, char **argv)
{
	struct io_uring ring;
	struct utsname u;
	int fd, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	if (!uname(&u))
		printf("uring_probe: kernel %s\n", u.release);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		printf("uring_probe: io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}
	ret = print_probe();
	if (ret)
		goto out_ring;

	fd = open(argv[1], O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		printf("uring_probe: open %s: %s\n", argv[1], strerror(errno));
		goto out_ring;
	}
	ret = block_io(&ring, fd);
	close(fd);
out_ring:
	io_uring_queue_exit(&ring);
	printf("uring_probe: %s\n", ret ? "FAILED" : "ok");
	return ret ? 1 : 0;
}
