// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Fuzz target: CDBs and Data-Out through the zbc handler's zbc_exec() on a
 * small zoned device kept in a memfd (8 zones of 1 MiB, 2 conventional, 2
 * open at most), no daemon.  After each command the zone state must still
 * be one the file format accepts: conditions valid for their type, write
 * pointers inside their zones, the open counts equal to the conditions.
 * Built as a libFuzzer target with clang and -DFUZZ=ON, else as a
 * random-run program that ctest runs briefly.
 *
 * Input: byte 0 flags (bit 0 host-aware, bit 1 URSWRZ off, bit 2 reformat),
 * bytes 1..16 the CDB, the rest Data-Out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

#define DEV_BYTES (8u << 20)
#define DATA_MAX  (256 * 1024)

static struct zbc_dev zdev[2];
static int fds[2] = { -1, -1 };
static uint8_t data[DATA_MAX];

static int std_inq(void *arg, uint8_t *cdb, uint8_t *b, size_t len)
{
	memset(b, 0, len);
	b[4] = 31;
	return TCMU_STS_OK;
}

static struct zbc_dev *dev_get(int ha, bool reformat)
{
	const char *cfg =
		ha ? "zbc/model-HA/zsize-1/conv-2/open-2@/m" : "zbc/zsize-1/conv-2/open-2@/m";
	struct zbc_cfg c;

	if (fds[ha] >= 0 && !reformat)
		return &zdev[ha];
	if (fds[ha] >= 0) {
		zbc_meta_close(&zdev[ha]);
		close(fds[ha]);
	}
	fds[ha] = memfd_create("fuzz_zbc", 0);
	if (fds[ha] < 0 || zbc_cfg_parse(cfg, &c, NULL))
		abort();
	memset(&zdev[ha], 0, sizeof(zdev[ha]));
	if (zbc_meta_open(&zdev[ha], fds[ha], &c, DEV_BYTES, NULL))
		abort();
	zbc_cfg_free(&c);
	zdev[ha].std_inquiry = std_inq;
	return &zdev[ha];
}

static void check_state(const struct zbc_dev *z)
{
	uint32_t i, imp = 0, exp = 0;

	for (i = 0; i < z->nr_zones; i++) {
		const struct zbc_zone *zn = &z->zones[i];

		if (zn->type == ZBC_TYPE_CONV) {
			if (zn->cond != ZBC_COND_NOT_WP)
				abort();
			continue;
		}
		if (zn->wp < zn->start || zn->wp > zn->start + zn->len)
			abort();
		if ((zn->cond == ZBC_COND_EMPTY) != (zn->wp == zn->start) &&
		    zn->cond != ZBC_COND_IMP_OPEN && zn->cond != ZBC_COND_EXP_OPEN)
			abort();
		if (zn->cond == ZBC_COND_FULL && zn->wp != zn->start + zn->len)
			abort();
		imp += zn->cond == ZBC_COND_IMP_OPEN;
		exp += zn->cond == ZBC_COND_EXP_OPEN;
	}
	if (imp != z->nr_imp_open || exp != z->nr_exp_open)
		abort();
	if (!z->ha && imp + exp > z->max_open)
		abort();
}

static void fuzz_one(const uint8_t *in, size_t size)
{
	struct zbc_dev *z;
	uint8_t cdb[16] = { 0 }, sense[TCMU_SENSE_BUFFERSIZE];
	struct iovec v = { .iov_base = data, .iov_len = 0 };
	size_t n;
	int ret;

	if (size < 2)
		return;
	z = dev_get(in[0] & 1, in[0] & 4);
	z->urswrz = !(in[0] & 2);
	n = size - 1 < sizeof(cdb) ? size - 1 : sizeof(cdb);
	memcpy(cdb, in + 1, n);
	size -= 1 + n;
	in += 1 + n;
	memset(data, 0, sizeof(data));
	memcpy(data, in, size < sizeof(data) ? size : sizeof(data));
	/* The kernel sizes Data-In/Out; give what the CDB's length asks for. */
	v.iov_len = sizeof(data);
	if (cdb[0] == READ_10 || cdb[0] == WRITE_10 || cdb[0] == READ_16 || cdb[0] == WRITE_16 ||
	    cdb[0] == READ_12 || cdb[0] == WRITE_12) {
		uint64_t len = (uint64_t)tcmu_cdb_get_xfer_length(cdb) * z->lba_size;

		v.iov_len = len < sizeof(data) ? len : sizeof(data);
	}
	memset(sense, 0, sizeof(sense));
	ret = zbc_exec(z, cdb, &v, 1, sense);
	if (ret == TCMU_STS_PASSTHROUGH_ERR && (sense[0] & 0x7f) != 0x70)
		abort();
	check_state(z);
}

#if defined(TCMU_LIBFUZZER)
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	fuzz_one(in, size);
	return 0;
}
#else
static const uint8_t opcodes[] = {
	0x94, 0x95, 0x28, 0x2a, 0x88, 0x8a, 0xa8, 0xaa, 0x41, 0x93, 0x12, 0x25, 0x9e, 0x35, 0x91,
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

int main(int argc, char **argv)
{
	static uint8_t in[17 + 4096];
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : 50000, i;
	uint64_t zl = (1u << 20) / 512;

	printf("fuzz_zbc: %lu random commands through zbc_exec\n", iters);
	for (i = 0; i < iters; i++) {
		size_t len = 17 + next_rand() % 4096, j;

		for (j = 0; j < len; j++)
			in[j] = (uint8_t)next_rand();
		in[0] &= (i % 5000) ? 0x03 : 0x07;
		in[1] = opcodes[next_rand() % sizeof(opcodes)];
		if (next_rand() % 4) {
			/* Plausible fields: zone starts, write pointers, short lengths. */
			uint64_t lba =
				(next_rand() % 9) * zl + (next_rand() % 2 ? 0 : next_rand() % 64);

			memset(in + 2, 0, 15);
			in[2] = (uint8_t)(next_rand() % 5);
			if (in[1] == 0x28 || in[1] == 0x2a || in[1] == 0x41) {
				scsi_put_be32(in + 3, (uint32_t)lba);
				in[9] = (uint8_t)(next_rand() % 16);
			} else {
				scsi_put_be64(in + 3, lba);
				in[14] = (uint8_t)(next_rand() % 16);
				in[15] = (uint8_t)(next_rand() % 2 ? 0x01 : next_rand());
			}
			if (in[1] == 0x9e) {
				/* READ CAPACITY (16) or GET LBA STATUS, report type 0. */
				in[2] = next_rand() % 2 ? 0x10 : 0x12;
				in[13] = (uint8_t)(next_rand() % 3);
				in[15] = 0;
			}
		}
		fuzz_one(in, len);
	}
	printf("fuzz_zbc: ok\n");
	return 0;
}
#endif
