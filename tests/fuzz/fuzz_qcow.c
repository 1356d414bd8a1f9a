/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Fuzz target for the qcow format layer: the input bytes are an image file
 * (header, L1, refcount table and blocks, L2 tables, data) on a memfd,
 * opened without its backing file; when the open succeeds, reads, a status
 * walk, writes and a discard run over it.  Every image must either be
 * refused or handled without a crash (ASan/UBSan builds check memory).
 * Built for libFuzzer with -DFUZZ=ON (clang); otherwise a standalone driver
 * replays files or runs generated images: valid little qcow2 images (v2/v3,
 * 512 B..64 KiB clusters, refcount widths 1..64) and qcow v1 images, with
 * corrupted fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qcow_format.h"

static unsigned long n_open, n_refused, n_io_ok;

static int run_one(const uint8_t *data, size_t size)
{
	char err[QIMG_ERR_LEN];
	struct qimg *img;
	uint8_t buf[8192];
	uint64_t vsize, off, len;
	int fd = memfd_create("fuzz_qcow", MFD_CLOEXEC), i;
	bool a;

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	if (qimg_open(fd, NULL, QIMG_NO_BACKING, &img, err)) {
		n_refused++;
		if (!err[0])
			abort(); /* every refusal says why */
		return 0;
	}
	n_open++;
	vsize = qimg_size(img);
	/* Reads at places the input picks, then the whole allocation map. */
	for (i = 0; i < 8 && vsize; i++) {
		off = (size > 17 + (size_t)i * 4 ? ((uint64_t)data[16 + i * 4] << 24 |
						    (uint64_t)data[17 + i * 4] << 8)
						 : 0) %
		      vsize;
		len = vsize - off < sizeof(buf) ? vsize - off : sizeof(buf);
		if (!qimg_read(img, buf, (size_t)len, off))
			n_io_ok++;
	}
	for (off = 0, i = 0; off < vsize && i < 64; i++) {
		if (qimg_status(img, off, &len, &a) || !len)
			break;
		off += len;
	}
	/* Writes over whatever the tables say, then a discard, then reads. */
	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < 4 && vsize; i++) {
		off = ((uint64_t)i * 40961 + (size ? data[size - 1] : 0) * 512ull) % vsize;
		len = vsize - off < sizeof(buf) ? vsize - off : sizeof(buf);
		if (!qimg_write(img, buf, (size_t)len, off))
			n_io_ok++;
	}
	/* Bounded: a v1 image discards by writing zeroes. */
	if (vsize)
		qimg_discard(img, 0, vsize / 2 < (1u << 20) ? vsize / 2 : (1u << 20), true);
	if (vsize && !qimg_read(img, buf, (size_t)(vsize < sizeof(buf) ? vsize : sizeof(buf)), 0))
		n_io_ok++;
	qimg_flush(img);
	qimg_close(img);
	return 0;
}

#ifdef TCMU_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (4u << 20))
		return 0;
	return run_one(data, size);
}
#else
static uint32_t rng = 4242;

static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Refcount entry i of a block, width w bits (as the format stores it). */
static void rc_put(uint8_t *b, unsigned int w, uint64_t i, uint64_t v)
{
	if (w < 8) {
		b[i * w / 8] |= (uint8_t)(v << (i * w % 8));
		return;
	}
	for (int k = (int)(w / 8) - 1; k >= 0; k--, v >>= 8)
		b[i * (w / 8) + (unsigned int)k] = (uint8_t)v;
}

/*
 * A consistent image: header, L1, refcount table, one refcount block, one
 * L2 table per L1 entry, some data clusters; then damage.
 */
static size_t gen(uint8_t *img, size_t cap)
{
	unsigned int cb = 9 + rnd() % 8, v = 1 + rnd() % 3, order = v == 3 ? rnd() % 7 : 4;
	uint64_t cs = 1ull << cb, l2n = cs / 8, nclus = 4 + rnd() % 12, size;
	uint64_t l1n, data0, total, i;

	size = (1 + rnd() % (uint32_t)(nclus * 2)) * cs;
	l1n = (size / cs + l2n - 1) / l2n;
	data0 = 4 + l1n;
	total = (data0 + nclus) * cs;
	if (total > cap || 3 * cs < l1n * 8)
		return 0;
	memset(img, 0, total);
	be32(img, 0x514649fb);
	be32(img + 4, v);
	be64(img + 24, size);
	if (v == 1) {
		/* qcow v1: cluster_bits, l2_bits bytes; L1 offset at 40; no refcounts. */
		img[32] = (uint8_t)cb;
		img[33] = (uint8_t)(cb - 3);
		be64(img + 40, cs);
		for (i = 0; i < l1n; i++)
			be64(img + cs + 8 * i, (4 + i) * cs);
		goto data;
	}
	be32(img + 20, cb);
	be32(img + 36, (uint32_t)l1n);
	be64(img + 40, cs);	/* L1 at cluster 1 */
	be64(img + 48, 2 * cs); /* refcount table at 2 */
	be32(img + 56, 1);
	if (v == 3) {
		be32(img + 96, order);
		be32(img + 100, 104);
	}
	be64(img + 2 * cs, 3 * cs); /* one refcount block at 3 */
	for (i = 0; i < data0 + nclus && i < cs * 8 >> order; i++)
		rc_put(img + 3 * cs, 1u << order, i, 1);
	for (i = 0; i < l1n; i++)
		be64(img + cs + 8 * i, ((4 + i) * cs) | (1ull << 63));
data:
	for (i = 0; i < nclus && i < size / cs; i++) {
		uint64_t e = ((data0 + i) * cs) | (v > 1 ? 1ull << 63 : 0);

		if (rnd() % 6 == 0) /* a compressed entry of garbage */
			e = (v > 1 ? (1ull << 62) | ((uint64_t)(rnd() % 3) << (62 - (cb - 8)))
				   : (1ull << 63) | ((uint64_t)(rnd() % cs) << (63 - cb))) |
			    ((data0 + i) * cs);
		be64(img + 4 * cs + 8 * (i % l2n) + (i / l2n) * cs, e);
		memset(img + (data0 + i) * cs, (int)rnd(), cs);
	}
	/* Damage: random bytes in the metadata clusters, or a chosen field. */
	for (i = rnd() % 4; i; i--) {
		uint64_t pos = rnd() % (4 + l1n) * cs + rnd() % cs;

		img[pos] = (uint8_t)rnd();
	}
	switch (rnd() % 8) {
	case 0:
		be64(img + 24, (uint64_t)rnd() << (rnd() % 40)); /* size */
		break;
	case 1:
		be64(img + cs, (uint64_t)rnd() * cs); /* L1 entry anywhere */
		break;
	case 2:
		be64(img + 4 * cs, cs | (1ull << 63)); /* L2 entry -> L1 table */
		break;
	case 3:
		be64(img + 2 * cs, (uint64_t)rnd() << 20); /* refcount block far away */
		break;
	case 4:
		return total / 2 + rnd() % cs; /* truncated file */
	default:
		break;
	}
	return total;
}

int main(int argc, char **argv)
{
	static uint8_t buf[4u << 20];
	const char *seed = getenv("FUZZ_QCOW_SEED");
	int i, iters = 3000;

	if (seed)
		rng = (uint32_t)strtoul(seed, NULL, 0);

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "rb");
			size_t n;

			if (!f) {
				perror(argv[i]);
				return 1;
			}
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			run_one(buf, n);
		}
		printf("replayed %d input(s)\n", argc - 1);
		return 0;
	}
	printf("check: %d generated damaged qcow2 images through open, read, write, discard\n",
	       iters);
	for (i = 0; i < iters; i++) {
		size_t n = gen(buf, sizeof(buf));

		if (n)
			run_one(buf, n);
	}
	printf("%lu opened, %lu refused, %lu I/O calls succeeded\n", n_open, n_refused, n_io_ok);
	/* A generator that only makes refused images tests little. */
	if (n_open < (unsigned long)iters / 10 || !n_refused || !n_io_ok) {
		printf("FAIL: the generated images did not reach both outcomes\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
#endif
