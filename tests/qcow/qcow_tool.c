// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Drives the qcow format layer from the test scripts (test-qcow.sh):
 *   qcow_tool open IMG                      open, print the description
 *   qcow_tool dump IMG RAW                  virtual disk -> raw file
 *   qcow_tool load IMG RAW                  raw file -> virtual disk (all of it)
 *   qcow_tool random IMG MIRROR OPS SEED    random writes and discards on both
 *   qcow_tool threads IMG MIRROR NTHREADS SEED   parallel random writes
 *   qcow_tool interleave IMG MIRROR NTHREADS SEED
 *                                           threads walk the clusters in the same
 *                                           order, each writing its own sectors of
 *                                           each: first writes to one cluster race
 *   qcow_tool discard IMG OFF LEN           discard (zeroing the edges) on IMG
 *   qcow_tool status IMG                    allocated bytes per qimg_status
 *   qcow_tool grow IMG SIZE                 grow the virtual size (qimg_grow)
 *   qcow_tool extents IMG OFF LEN BYTE      write LEN bytes of BYTE at OFF and
 *                                           read them back through the fast
 *                                           path (4 KiB iovecs, as the data area
 *                                           gives them); print the number of
 *                                           extents (io_uring SQEs) of each, or
 *                                           "none" when the fast path refused
 * MIRROR is a raw file of the virtual size getting the same changes, for
 * 'qemu-img compare'.  Exit 0 on success, 1 with a message otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "qcow_format.h"

static int fail(const char *what, int ret)
{
	fprintf(stderr, "qcow_tool: %s: %s\n", what, strerror(ret < 0 ? -ret : ret));
	return 1;
}

static struct qimg *open_img(const char *path)
{
	char err[QIMG_ERR_LEN];
	struct qimg *img;
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		perror(path);
		return NULL;
	}
	if (qimg_open(fd, path, 0, &img, err)) {
		fprintf(stderr, "qcow_tool: open %s refused: %s\n", path, err);
		return NULL;
	}
	return img;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int pwrite_all(int fd, const void *b, size_t n, off_t off)
{
	return pwrite(fd, b, n, off) == (ssize_t)n ? 0 : -EIO;
}

static int copy(struct qimg *img, const char *raw, bool to_raw)
{
	uint64_t size = qimg_size(img), off;
	size_t chunk = 1 << 20;
	uint8_t *b = malloc(chunk);
	int fd = open(raw, to_raw ? O_RDWR | O_CREAT | O_TRUNC : O_RDONLY, 0644), ret = 0;

	if (fd < 0 || !b)
		return -errno;
	for (off = 0; off < size && !ret; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		if (to_raw) {
			ret = qimg_read(img, b, n, off);
			if (!ret)
				ret = pwrite_all(fd, b, n, (off_t)off);
		} else {
			ret = pread(fd, b, n, (off_t)off) == (ssize_t)n ? 0 : -EIO;
			if (!ret)
				ret = qimg_write(img, b, n, off);
		}
	}
	if (to_raw && ftruncate(fd, (off_t)size))
		ret = -errno;
	close(fd);
	free(b);
	return ret;
}

static unsigned long fast_hits; /* I/Os that took qimg_fast_map */

/* Move buf with qimg_writev/qimg_readv, cut into up to 6 pieces of random sizes. */
static int split_io(struct qimg *img, uint8_t *buf, size_t len, uint64_t off, uint64_t *s,
		    bool write)
{
	struct iovec v[6];
	size_t n = 0, left = len;

	while (left) {
		size_t piece = n == 5 ? left : (size_t)(rnd(s) % (left + 1));

		if (rnd(s) % 3 == 0)
			piece = left;
		v[n].iov_base = buf + (len - left);
		v[n++].iov_len = piece;
		left -= piece;
	}
	/* Every other time, the fast path first (what the handler gives io_uring). */
	if (rnd(s) % 2) {
		struct qimg_ext ext[4];
		struct iovec vbuf[6 + 4];
		size_t next, i;
		int ret = 0;

		if (!qimg_fast_map(img, v, n, len, off, write, ext, 4, vbuf, &next)) {
			for (i = 0; i < next && !ret; i++) {
				ssize_t r = write ? pwritev(qimg_fd(img), ext[i].iov,
							    (int)ext[i].cnt, (off_t)ext[i].host)
						  : preadv(qimg_fd(img), ext[i].iov,
							   (int)ext[i].cnt, (off_t)ext[i].host);

				ret = r == (ssize_t)ext[i].len ? 0 : -EIO;
			}
			qimg_fast_done(img);
			__atomic_add_fetch(&fast_hits, 1, __ATOMIC_RELAXED);
			return ret;
		}
	}
	return write ? qimg_writev(img, v, n, len, off) : qimg_readv(img, v, n, len, off);
}

/* One random write (or discard, 1 in 8) of up to 3 clusters, on both. */
static int random_op(struct qimg *img, int mfd, uint64_t *s, uint64_t lo, uint64_t hi,
		     bool discards)
{
	uint64_t cs = qimg_cluster_size(img), span = hi - lo, off, len, i;
	uint8_t *b;
	int ret;

	off = lo + (rnd(s) % span) / 512 * 512;
	len = ((rnd(s) % (3 * cs)) / 512 + 1) * 512;
	if (len > hi - off)
		len = hi - off;
	b = malloc(len);
	if (!b)
		return -ENOMEM;
	if (discards && rnd(s) % 8 == 0) {
		memset(b, 0, len);
		ret = qimg_discard(img, off, len, true);
	} else {
		uint64_t v = rnd(s);

		for (i = 0; i < len; i++)
			b[i] = (uint8_t)(v + i * 131 + (i >> 9));
		ret = split_io(img, b, len, off, s, true);
		/* Read back through another split of the buffer. */
		if (!ret) {
			uint8_t *r = malloc(len);

			ret = r ? split_io(img, r, len, off, s, false) : -ENOMEM;
			if (!ret && memcmp(r, b, len))
				ret = -EILSEQ;
			free(r);
		}
	}
	if (!ret)
		ret = pwrite_all(mfd, b, len, (off_t)off);
	free(b);
	return ret;
}

struct worker {
	struct qimg *img;
	int mfd;
	uint64_t seed, lo, hi;
	int ret;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 300 && !w->ret; i++)
		w->ret = random_op(w->img, w->mfd, &w->seed, w->lo, w->hi, false);
	return NULL;
}

/* Threads write disjoint slices at once; each checks its slice reads back. */
static int threads(struct qimg *img, int mfd, int n, uint64_t seed)
{
	struct worker w[16];
	pthread_t t[16];
	uint64_t slice = qimg_size(img) / (uint64_t)n / 512 * 512;
	int i, ret = 0;

	if (n > 16 || !slice)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		w[i] = (struct worker){ img,
					mfd,
					seed + (uint64_t)i * 7919 + 1,
					slice * (uint64_t)i,
					slice * (uint64_t)(i + 1),
					0 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (w[i].ret)
			ret = w[i].ret;
	}
	return ret;
}

/* interleave: NTHREADS threads, the same cluster order, sectors t, t+n, ... each. */
struct ilv {
	struct qimg *img;
	int mfd, t, n;
	uint64_t seed;
	pthread_barrier_t *go;
	int ret;
};

static void *ilv_work(void *arg)
{
	struct ilv *w = arg;
	uint64_t cs = qimg_cluster_size(w->img), ncl = qimg_size(w->img) / cs, s = w->seed;
	uint64_t per = cs / 512 / (uint64_t)w->n, k;
	uint8_t b[512], r[512];

	pthread_barrier_wait(w->go);
	for (k = 0; k < ncl && !w->ret; k++) {
		/* An odd stride over a power-of-two count: every cluster once. */
		uint64_t c = (k * 2654435761u) % ncl;
		uint64_t off = c * cs + ((uint64_t)w->t + (uint64_t)w->n * (rnd(&s) % per)) * 512;
		uint64_t v = rnd(&s);

		for (int i = 0; i < 512; i++)
			b[i] = (uint8_t)(v + (uint64_t)i * 131);
		w->ret = split_io(w->img, b, sizeof(b), off, &s, true);
		if (!w->ret)
			w->ret = split_io(w->img, r, sizeof(r), off, &s, false);
		if (!w->ret && memcmp(b, r, sizeof(b)))
			w->ret = -EILSEQ;
		if (!w->ret)
			w->ret = pwrite_all(w->mfd, b, sizeof(b), (off_t)off);
	}
	return NULL;
}

static int interleave(struct qimg *img, int mfd, int n, uint64_t seed)
{
	uint64_t cs = qimg_cluster_size(img), ncl = qimg_size(img) / cs;
	struct ilv w[16];
	pthread_t t[16];
	pthread_barrier_t go;
	int i, ret = 0;

	/* Room for every thread's sectors in a cluster; a power-of-two cluster count. */
	if (n < 1 || n > 16 || cs / 512 < (uint64_t)n || !ncl || (ncl & (ncl - 1)))
		return -EINVAL;
	pthread_barrier_init(&go, NULL, (unsigned int)n);
	for (i = 0; i < n; i++) {
		w[i] = (struct ilv){ img, mfd, i, n, seed + (uint64_t)i * 104729, &go, 0 };
		pthread_create(&t[i], NULL, ilv_work, &w[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (w[i].ret)
			ret = w[i].ret;
	}
	pthread_barrier_destroy(&go);
	return ret;
}

#define TOOL_MAX_EXT 16 /* as the handler's QA_MAX_EXT (qcow_async.c) */

/*
 * One I/O the way the handler's ASYNC model does it: qimg_fast_map() over
 * buf cut in 4 KiB iovecs, then one preadv/pwritev per extent (one SQE
 * each); or qimg_readv/qimg_writev (a worker) when the fast path refuses.
 * *n gets the number of extents, 0 when refused.
 */
static int fast_io(struct qimg *img, uint8_t *buf, size_t len, uint64_t off, bool write, size_t *n)
{
	size_t cnt = (len + 4095) / 4096, i;
	struct iovec *v = calloc(cnt, sizeof(*v)), *vbuf = calloc(cnt + TOOL_MAX_EXT, sizeof(*v));
	struct qimg_ext ext[TOOL_MAX_EXT];
	int ret = -ENOMEM;

	*n = 0;
	if (!v || !vbuf)
		goto out;
	for (i = 0; i < cnt; i++) {
		v[i].iov_base = buf + i * 4096;
		v[i].iov_len = i + 1 < cnt ? 4096 : len - i * 4096;
	}
	if (qimg_fast_map(img, v, cnt, len, off, write, ext, TOOL_MAX_EXT, vbuf, n)) {
		*n = 0;
		ret = write ? qimg_writev(img, v, cnt, len, off)
			    : qimg_readv(img, v, cnt, len, off);
		goto out;
	}
	ret = 0;
	for (i = 0; i < *n && !ret; i++) {
		ssize_t r = write ? pwritev(qimg_fd(img), ext[i].iov, (int)ext[i].cnt,
					    (off_t)ext[i].host)
				  : preadv(qimg_fd(img), ext[i].iov, (int)ext[i].cnt,
					   (off_t)ext[i].host);

		ret = r == (ssize_t)ext[i].len ? 0 : -EIO;
	}
	qimg_fast_done(img);
out:
	free(v);
	free(vbuf);
	return ret;
}

/*
 * extents: LEN bytes of BYTE written at OFF through the fast path, read back
 * through it, and read again with qimg_readv (the workers' path); both reads
 * must give BYTE.  L2 tables are loaded first (a read), as the fast path
 * only uses cached ones.
 */
static int extents(struct qimg *img, uint64_t off, size_t len, int byte)
{
	uint8_t *w = malloc(len), *r = malloc(len);
	size_t nw = 0, nr = 0, i;
	int ret = -ENOMEM;

	if (!w || !r)
		goto out;
	ret = qimg_read(img, r, len, off);
	if (ret)
		goto out;
	memset(w, byte, len);
	ret = fast_io(img, w, len, off, true, &nw);
	if (!ret) {
		memset(r, ~byte, len);
		ret = fast_io(img, r, len, off, false, &nr);
	}
	for (i = 0; !ret && i < len; i++)
		if (r[i] != (uint8_t)byte)
			ret = -EILSEQ;
	if (!ret) {
		memset(r, ~byte, len);
		ret = qimg_read(img, r, len, off);
	}
	for (i = 0; !ret && i < len; i++)
		if (r[i] != (uint8_t)byte)
			ret = -EILSEQ;
	if (!ret) {
		char a[24] = "none", b[24] = "none";

		if (nw)
			snprintf(a, sizeof(a), "%zu", nw);
		if (nr)
			snprintf(b, sizeof(b), "%zu", nr);
		printf("write=%s read=%s\n", a, b);
	}
out:
	free(w);
	free(r);
	return ret;
}

int main(int argc, char **argv)
{
	struct qimg *img;
	int ret = 0, mfd = -1;

	if (argc < 3) {
		fprintf(stderr, "usage: see the top of qcow_tool.c\n");
		return 2;
	}
	img = open_img(argv[2]);
	if (!img)
		return 1;
	if (!strcmp(argv[1], "open")) {
		printf("%s size %llu\n", qimg_describe(img), (unsigned long long)qimg_size(img));
	} else if (!strcmp(argv[1], "dump") && argc == 4) {
		ret = copy(img, argv[3], true);
	} else if (!strcmp(argv[1], "load") && argc == 4) {
		ret = copy(img, argv[3], false);
	} else if ((!strcmp(argv[1], "random") || !strcmp(argv[1], "threads") ||
		    !strcmp(argv[1], "interleave")) &&
		   argc == 6) {
		uint64_t seed = strtoull(argv[5], NULL, 0) | 1;
		long n = strtol(argv[4], NULL, 0);

		mfd = open(argv[3], O_RDWR);
		if (mfd < 0)
			return fail(argv[3], errno);
		if (argv[1][0] == 'r')
			for (long i = 0; i < n && !ret; i++)
				ret = random_op(img, mfd, &seed, 0, qimg_size(img), true);
		else if (argv[1][0] == 'i')
			ret = interleave(img, mfd, (int)n, seed);
		else
			ret = threads(img, mfd, (int)n, seed);
		close(mfd);
		if (getenv("QCOW_TOOL_VERBOSE"))
			printf("fast path: %lu I/Os\n", fast_hits);
	} else if (!strcmp(argv[1], "discard") && argc == 5) {
		ret = qimg_discard(img, strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				   true);
	} else if (!strcmp(argv[1], "grow") && argc == 4) {
		char err[QIMG_ERR_LEN];

		ret = qimg_grow(img, strtoull(argv[3], NULL, 0), err);
		if (ret)
			fprintf(stderr, "qcow_tool: grow refused: %s\n", err);
	} else if (!strcmp(argv[1], "extents") && argc == 6) {
		ret = extents(img, strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
			      (int)strtol(argv[5], NULL, 0));
	} else if (!strcmp(argv[1], "status")) {
		uint64_t off = 0, len, total = 0;
		bool a;

		while (!ret && off < qimg_size(img)) {
			ret = qimg_status(img, off, &len, &a);
			total += a ? len : 0;
			off += len;
		}
		printf("%llu\n", (unsigned long long)total);
	} else {
		fprintf(stderr, "qcow_tool: bad command\n");
		ret = -EINVAL;
	}
	if (!ret)
		ret = qimg_flush(img);
	qimg_close(img);
	return ret ? fail(argv[1], ret) : 0;
}
