// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Fuzz target: random CDBs and parameter data through scsi_dispatch() and
 * scsi_exec_slow() on two RAM devices (tests/unit/fake_dev.c).  Built as a
 * libFuzzer target with clang and -DFUZZ=ON, else as a replay/random-run
 * program that ctest runs briefly.
 *
 * Input layout: byte 0 flags (bit 0: queue a capacity UA, bits 1-2: which
 * device, bit 3: write protect), bytes 1..32 the CDB, the rest Data-Out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_dev.h"

#define FUZZ_DATA_MAX (256 * 1024)

static struct tcmu_device *devs[2];
static uint8_t data[FUZZ_DATA_MAX];

static void fuzz_setup(void)
{
	if (devs[0])
		return;
	devs[0] = fake_dev_new(256, 512, "0011223344556677");
	devs[1] = fake_dev_new(64, 512, "8899aabbccddeeff");
}

static void fuzz_one(const uint8_t *in, size_t size)
{
	struct tcmu_device *dev;
	struct fake_result res;
	uint8_t cdb[32];
	size_t n;

	if (size < 2)
		return;
	fuzz_setup();
	dev = devs[(in[0] >> 1) & 1];
	if (in[0] & 0x01)
		scsi_dev_capacity_changed(fake_dev_scsi(dev));
	fake_dev_set_wp(dev, in[0] & 0x08);

	memset(cdb, 0, sizeof(cdb));
	n = size - 1 < sizeof(cdb) ? size - 1 : sizeof(cdb);
	memcpy(cdb, in + 1, n);
	/* Keep variable length CDBs inside the 32 bytes we have. */
	if (cdb[0] == VARIABLE_LENGTH_CMD)
		cdb[7] &= 0x17;
	size -= 1 + n;
	in += 1 + n;
	if (size > sizeof(data))
		size = sizeof(data);
	memcpy(data, in, size);

	fake_exec(dev, cdb, data, size, &res);
	if (fake_internal_errors) {
		fprintf(stderr, "engine issued an invalid backend I/O\n");
		abort();
	}
	if (res.status == SAM_STAT_CHECK_CONDITION && (res.sense[0] & 0x7f) != 0x70)
		abort();
	if (res.read_len_valid && res.read_len > size)
		abort();
}

#if defined(FUZZ_LIBFUZZER) || defined(TCMU_LIBFUZZER)
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	fuzz_one(in, size);
	return 0;
}
#else
/* Interesting opcodes, so random runs reach deep paths quickly. */
static const uint8_t opcodes[] = {
	0x00, 0x03, 0x04, 0x08, 0x0a, 0x12, 0x15, 0x1a, 0x1b, 0x25, 0x28, 0x2a, 0x2e,
	0x2f, 0x34, 0x35, 0x41, 0x42, 0x55, 0x5a, 0x83, 0x84, 0x88, 0x89, 0x8a, 0x8e,
	0x8f, 0x90, 0x91, 0x93, 0x9e, 0xa3, 0xa8, 0xaa, 0xae, 0xaf, 0x7f, 0xc0,
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static int replay(const char *path)
{
	static uint8_t in[FUZZ_DATA_MAX + 33];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return 1;
	}
	n = fread(in, 1, sizeof(in), f);
	fclose(f);
	fuzz_one(in, n);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t in[33 + 8192];
	unsigned long iters = 20000, i;
	int a;

	if (argc > 1 && strcmp(argv[1], "-n")) {
		for (a = 1; a < argc; a++)
			if (replay(argv[a]))
				return 1;
		printf("fuzz_cdb: replayed %d inputs\n", argc - 1);
		return 0;
	}
	if (argc > 2)
		iters = strtoul(argv[2], NULL, 0);

	printf("fuzz_cdb: %lu random CDBs through the engine\n", iters);
	for (i = 0; i < iters; i++) {
		size_t len = 1 + 32 + next_rand() % 4096, j;

		for (j = 0; j < len; j++)
			in[j] = next_rand();
		in[0] &= 0x0e; /* UAs now and then only */
		if (!(i % 64))
			in[0] |= 1;
		in[1] = opcodes[next_rand() % sizeof(opcodes)];
		if (next_rand() % 2) {
			/* Plausible fields: small LBAs and lengths. */
			memset(in + 3, 0, 12);
			in[6] = next_rand() % 4;
			in[9] = next_rand() % 16;
			in[14] = next_rand() % 16;
		}
		fuzz_one(in, len);
	}
	printf("fuzz_cdb: ok\n");
	return 0;
}
#endif
