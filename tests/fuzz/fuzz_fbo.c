// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Fuzz target: CDBs and Data-Out through the fbo handler's fbo_exec() on a
 * 2 MiB medium kept in a memfd (reached again through /proc/self/fd on
 * LOAD), no daemon.  A FORMAT UNIT with IMMED is run to its end after the
 * command, as the handler's format thread would.  Every CHECK CONDITION
 * must carry fixed-format sense and the medium size must stay that of the
 * file.  Built as a libFuzzer target with clang and -DFUZZ=ON, else as a
 * random-run program that ctest runs briefly.
 *
 * Input: byte 0 flags (bit 0 read-only medium), bytes 1..12 the CDB, the
 * rest Data-Out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define MEDIUM_BLOCKS 1024u
#define DATA_MAX      (128 * 1024)

static struct fbo_dev fdev[2];
static bool ready[2];
static uint8_t data[DATA_MAX];

static int std_inq(void *arg, uint8_t *cdb, uint8_t *b, size_t len)
{
	memset(b, 0, len);
	b[4] = 31;
	return TCMU_STS_OK;
}

static struct fbo_dev *dev_get(int ro)
{
	char cfgstring[64];
	struct fbo_cfg c;
	int fd;

	if (ready[ro])
		return &fdev[ro];
	fd = memfd_create("fuzz_fbo", 0);
	if (fd < 0 || ftruncate(fd, (off_t)MEDIUM_BLOCKS * FBO_BLOCK))
		abort();
	/* The descriptor stays open: LOAD reopens the medium by this path. */
	snprintf(cfgstring, sizeof(cfgstring), "fbo/%s/proc/self/fd/%d", ro ? "ro/" : "", fd);
	if (fbo_cfg_parse(cfgstring, &c, NULL))
		abort();
	fbo_init(&fdev[ro], &c, MEDIUM_BLOCKS);
	fbo_cfg_free(&c);
	fdev[ro].std_inquiry = std_inq;
	if (fbo_load(&fdev[ro], false))
		abort();
	ready[ro] = true;
	return &fdev[ro];
}

static void fuzz_one(const uint8_t *in, size_t size)
{
	struct fbo_dev *f;
	uint8_t cdb[16] = { 0 }, sense[TCMU_SENSE_BUFFERSIZE];
	struct iovec v = { .iov_base = data, .iov_len = sizeof(data) };
	size_t n;
	int ret;

	if (size < 2)
		return;
	f = dev_get(in[0] & 1);
	n = size - 1 < 12 ? size - 1 : 12;
	memcpy(cdb, in + 1, n);
	size -= 1 + n;
	in += 1 + n;
	memset(data, 0, sizeof(data));
	memcpy(data, in, size < sizeof(data) ? size : sizeof(data));
	memset(sense, 0, sizeof(sense));
	ret = fbo_exec(f, cdb, &v, 1, sense);
	if (ret == TCMU_STS_PASSTHROUGH_ERR && (sense[0] & 0x7f) != 0x70)
		abort();
	while (fbo_format_step(f))
		;
	if (f->fd >= 0 && f->nblocks != MEDIUM_BLOCKS)
		abort();
	if (f->fd < 0 && f->nblocks)
		abort();
}

#if defined(TCMU_LIBFUZZER)
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	fuzz_one(in, size);
	return 0;
}
#else
static const uint8_t opcodes[] = {
	0x00, 0x03, 0x04, 0x08, 0x0a, 0x12, 0x15, 0x1a, 0x1b, 0x1e, 0x23, 0x25, 0x28, 0x2a, 0x2e,
	0x2f, 0x35, 0x43, 0x46, 0x4a, 0x51, 0x52, 0x55, 0x5a, 0xa8, 0xaa, 0xad, 0xae, 0xaf, 0xbd,
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

int main(int argc, char **argv)
{
	static uint8_t in[13 + 4096];
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : 30000, i;

	printf("fuzz_fbo: %lu random commands through fbo_exec\n", iters);
	for (i = 0; i < iters; i++) {
		size_t len = 13 + next_rand() % 4096, j;

		for (j = 0; j < len; j++)
			in[j] = (uint8_t)next_rand();
		in[0] &= 1;
		in[1] = opcodes[next_rand() % sizeof(opcodes)];
		if (next_rand() % 2) {
			/* Plausible fields: small LBAs, lengths and allocation lengths. */
			memset(in + 3, 0, 7);
			in[6] = (uint8_t)(next_rand() % 8);
			in[9] = (uint8_t)(next_rand() % 16);
			in[5] = (uint8_t)(next_rand() % 4);
		}
		fuzz_one(in, len);
	}
	printf("fuzz_fbo: ok\n");
	return 0;
}
#endif
