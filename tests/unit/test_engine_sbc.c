// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Checks the engine's SBC side on a RAM device: READ/WRITE 6/10/12/16,
 * SYNCHRONIZE CACHE, PRE-FETCH, VERIFY, WRITE AND VERIFY, COMPARE AND
 * WRITE, WRITE SAME, UNMAP and GET LBA STATUS, with their error paths.
 */
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

#define NBLK 2048
#define BS   512

static uint8_t buf[1 << 20];
static struct fake_result res;
static struct tcmu_device *dev;
static uint8_t *mem;

#define EXPECT_SENSE(k, a)                                                                         \
	do {                                                                                       \
		CHECK_EQ(res.status, SAM_STAT_CHECK_CONDITION);                                    \
		CHECK_EQ(res.key, (k));                                                            \
		CHECK_EQ((res.asc << 8) | res.ascq, (a));                                          \
	} while (0)
#define EXPECT_GOOD() CHECK_EQ(res.status, SAM_STAT_GOOD)

static int cmd10(uint8_t op, uint8_t b1, uint32_t lba, uint16_t nr, size_t len)
{
	uint8_t cdb[10] = { op, b1 };

	scsi_put_be32(&cdb[2], lba);
	scsi_put_be16(&cdb[7], nr);
	return fake_exec(dev, cdb, buf, len, &res);
}

static int cmd12(uint8_t op, uint8_t b1, uint32_t lba, uint32_t nr, size_t len)
{
	uint8_t cdb[12] = { op, b1 };

	scsi_put_be32(&cdb[2], lba);
	scsi_put_be32(&cdb[6], nr);
	return fake_exec(dev, cdb, buf, len, &res);
}

static int cmd16(uint8_t op, uint8_t b1, uint64_t lba, uint32_t nr, size_t len)
{
	uint8_t cdb[16] = { op, b1 };

	scsi_put_be64(&cdb[2], lba);
	scsi_put_be32(&cdb[10], nr);
	return fake_exec(dev, cdb, buf, len, &res);
}

static void test_rw(void)
{
	uint8_t cdb6[6] = { READ_6, 0, 0, 0, 0, 0 };
	int i;

	STEP("WRITE(10) then READ(16) round trip over three iovecs");
	for (i = 0; i < 4 * BS; i++)
		buf[i] = i * 7;
	cmd10(WRITE_10, 0, 10, 4, 4 * BS);
	EXPECT_GOOD();
	CHECK(!memcmp(mem + 10 * BS, buf, 4 * BS));
	memset(buf, 0, 4 * BS);
	cmd16(READ_16, 0, 10, 4, 4 * BS);
	EXPECT_GOOD();
	CHECK(!memcmp(mem + 10 * BS, buf, 4 * BS));
	CHECK_EQ(res.cls, SCSI_CLASS_READ);

	STEP("READ(6) of 0 blocks means 256, READ(12)");
	fake_exec(dev, cdb6, buf, 256 * BS, &res);
	EXPECT_GOOD();
	CHECK(!memcmp(buf + 10 * BS, mem + 10 * BS, BS));
	cmd12(READ_12, 0, NBLK - 1, 1, BS);
	EXPECT_GOOD();

	STEP("range checks");
	cmd10(READ_10, 0, NBLK - 1, 2, 2 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	cmd16(WRITE_16, 0, ~0ull, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	cmd10(READ_10, 0, NBLK + 1, 0, 0);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	cmd10(READ_10, 0, 0, 0, 0);
	EXPECT_GOOD();
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);

	STEP("RDPROTECT/WRPROTECT refused, DPO/FUA accepted, FUA reaches rw->fua");
	for (i = 1; i < 8; i++) {
		cmd10(READ_10, i << 5, 0, 1, BS);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	}
	cmd16(WRITE_16, 0x20, 0, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	cmd10(READ_10, 0x18, 0, 1, BS);
	EXPECT_GOOD();
	i = fake_dev_stats(dev)->fua_writes;
	cmd10(WRITE_10, 0x08, 0, 1, BS);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->fua_writes, i + 1);
	cmd10(WRITE_10, 0x10, 0, 1, BS);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->fua_writes, i + 1);

	STEP("transfer length vs Data-Out/Data-In size (iSCSI over/underflow)");
	memset(mem + 20 * BS, 0, 2 * BS);
	memset(buf, 0x61, 2 * BS);
	cmd10(WRITE_10, 0, 20, 2, BS + 100); /* one whole block fits */
	EXPECT_GOOD();
	CHECK(mem[20 * BS + BS - 1] == 0x61 && mem[21 * BS + 99] == 0x61);
	CHECK(mem[21 * BS + 100] == 0);
	cmd10(WRITE_10, 0, 20, 2, 0);
	EXPECT_GOOD();
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);
	memset(buf, 0, 2 * BS);
	cmd10(READ_10, 0, 20, 1, 100); /* EDTL 100 < one block */
	EXPECT_GOOD();
	CHECK_EQ(res.cls, SCSI_CLASS_SLOW);
	CHECK(buf[0] == 0x61 && buf[99] == 0x61);
	CHECK(!res.read_len_valid || res.read_len == 100);
	memset(buf, 0, 2 * BS);
	cmd16(READ_16, 0, 20, 2, BS + 7); /* a block and a bit */
	EXPECT_GOOD();
	CHECK(buf[BS - 1] == 0x61 && buf[BS + 6] == 0x61 && buf[BS + 7] == 0);
	memset(buf, 0x62, 2 * BS);
	cmd10(WRITE_10, 0, 20, 2, BS + 200); /* partial block merged */
	EXPECT_GOOD();
	CHECK(mem[20 * BS] == 0x62 && mem[21 * BS + 199] == 0x62);
	CHECK(mem[21 * BS + 200] == 0);
	cmd10(WRITE_10, 0, 20, 1, 0);
	EXPECT_GOOD();
	CHECK(mem[20 * BS] == 0x62);
	cmd10(READ_10, 0, 0, 1, 2 * BS);
	EXPECT_GOOD();
	CHECK(res.read_len_valid && res.read_len == BS);
	cmd10(READ_10, 0, 0, 2, BS);
	EXPECT_GOOD();

	/*
	 * READ_LEN only for a short read (underflow): with it the kernel
	 * completes through target_complete_cmd_with_length().  A full buffer,
	 * an overflow (buffer smaller than the CDB asks) or an empty buffer
	 * completes without it (docs/scsi-engine.md, "Residuals").
	 */
	STEP("READ_LEN only for a Data-In buffer longer than the data");
	cmd10(READ_10, 0, 0, 2, 2 * BS); /* exact */
	EXPECT_GOOD();
	CHECK_EQ(res.cls, SCSI_CLASS_READ);
	CHECK(!res.read_len_valid);
	cmd16(READ_16, 0, 0, 2, BS); /* overflow, whole blocks */
	EXPECT_GOOD();
	CHECK(!res.read_len_valid);
	cmd10(READ_10, 0, 0, 1, 200); /* overflow inside a block */
	EXPECT_GOOD();
	CHECK(!res.read_len_valid);
	cmd10(READ_10, 0, 0, 1, 0); /* overflow, no buffer */
	EXPECT_GOOD();
	CHECK(!res.read_len_valid);
	cmd10(READ_10, 0, 0, 0, BS); /* underflow: nothing to read */
	EXPECT_GOOD();
	CHECK(res.read_len_valid && res.read_len == 0);
}

static void test_sync_prefetch(void)
{
	struct scsi_backend_ops *ops = fake_dev_ops(dev);
	unsigned int n = fake_dev_stats(dev)->flushes;

	STEP("SYNCHRONIZE CACHE(10/16): flush, range checked");
	cmd10(SYNCHRONIZE_CACHE, 0x02, 0, 0, 0);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->flushes, n + 1);
	cmd16(SYNCHRONIZE_CACHE_16, 0, NBLK, 1, 0);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	ops->flush = NULL;
	cmd16(SYNCHRONIZE_CACHE_16, 0, 0, 0, 0);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->flushes, n + 1);
	ops->flush = fake_ram_ops.flush;

	STEP("PRE-FETCH(10/16)");
	cmd10(PRE_FETCH_10, 0x02, 0, 16, 0);
	EXPECT_GOOD();
	cmd10(PRE_FETCH_10, 0, NBLK + 1, 0, 0);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	cmd16(PRE_FETCH_16, 0, NBLK - 1, 2, 0);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
}

static void test_verify(void)
{
	STEP("VERIFY: BYTCHK 0, 1, 3 and the miscompare offset");
	memset(mem + 100 * BS, 0x3c, 8 * BS);
	cmd10(VERIFY, 0, 100, 8, 0);
	EXPECT_GOOD();
	memset(buf, 0x3c, 8 * BS);
	cmd10(VERIFY, 0x02, 100, 8, 8 * BS);
	EXPECT_GOOD();
	buf[5 * BS + 17] ^= 0x40;
	cmd12(VERIFY_12, 0x02, 100, 8, 8 * BS);
	EXPECT_SENSE(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	CHECK_EQ(res.sense[0], 0xf0);
	CHECK_EQ(scsi_get_be32(&res.sense[3]), 5 * BS + 17);
	memset(buf, 0x3c, BS);
	cmd16(VERIFY_16, 0x06, 100, 8, BS);
	EXPECT_GOOD();
	mem[107 * BS + 3] = 0;
	cmd16(VERIFY_16, 0x06, 100, 8, BS);
	EXPECT_SENSE(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	CHECK_EQ(scsi_get_be32(&res.sense[3]), 7 * BS + 3);

	STEP("VERIFY errors");
	cmd10(VERIFY, 0x04, 100, 8, 8 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	cmd10(VERIFY, 0x02, NBLK - 1, 2, 2 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	cmd10(VERIFY, 0x06, 100, 8, BS - 1); /* BYTCHK 3 needs one block */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	cmd10(VERIFY, 0x20, 0, 1, 0); /* VRPROTECT */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	cmd10(VERIFY, 0x02, NBLK, 0, 0);
	EXPECT_GOOD();

	STEP("backend read error during VERIFY");
	fake_dev_inject(dev, TCMU_STS_RD_ERR, 1);
	cmd10(VERIFY, 0x02, 0, 1, BS);
	EXPECT_SENSE(MEDIUM_ERROR, ASC_READ_ERROR);

	STEP("WRITE AND VERIFY(10/12/16)");
	memset(buf, 0x5a, 4 * BS);
	cmd10(WRITE_VERIFY, 0x02, 200, 4, 4 * BS);
	EXPECT_GOOD();
	CHECK_EQ(mem[200 * BS], 0x5a);
	CHECK_EQ(mem[204 * BS - 1], 0x5a);
	memset(buf, 0x5b, 4 * BS);
	cmd12(WRITE_VERIFY_12, 0, 200, 4, 2 * BS); /* overflow: two blocks */
	EXPECT_GOOD();
	CHECK(mem[201 * BS] == 0x5b && mem[202 * BS] == 0x5a);
	cmd10(WRITE_VERIFY, 0x02, 200, 1, 0);
	EXPECT_GOOD();
	memset(buf, 0x5c, 4 * BS);
	cmd16(WRITE_VERIFY_16, 0x02, 200, 2, 300); /* partial block merged */
	EXPECT_GOOD();
	CHECK(mem[200 * BS + 299] == 0x5c && mem[200 * BS + 300] == 0x5b);
	cmd16(WRITE_VERIFY_16, 0, NBLK, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	cmd16(WRITE_VERIFY_16, 0x04, 0, 1, BS); /* bit 2 is not BYTCHK here */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
}

static int caw(uint8_t b1, uint64_t lba, uint8_t nr, size_t len)
{
	uint8_t cdb[16] = { COMPARE_AND_WRITE, b1 };

	scsi_put_be64(&cdb[2], lba);
	cdb[13] = nr;
	return fake_exec(dev, cdb, buf, len, &res);
}

static void test_caw(void)
{
	struct scsi_backend_ops *ops = fake_dev_ops(dev);

	STEP("COMPARE AND WRITE emulated: match writes, miscompare does not");
	memset(mem + 300 * BS, 'A', BS);
	memset(buf, 'A', BS);
	memset(buf + BS, 'B', BS);
	caw(0x18, 300, 1, 2 * BS);
	EXPECT_GOOD();
	CHECK_EQ(mem[300 * BS], 'B');
	memset(buf, 'A', BS);
	buf[BS - 27] = 'C';
	memset(buf + BS, 'D', BS);
	caw(0, 300, 1, 2 * BS);
	EXPECT_SENSE(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	CHECK_EQ(scsi_get_be32(&res.sense[3]), 0);
	CHECK_EQ(mem[300 * BS], 'B');
	memset(buf, 'B', BS);
	buf[BS - 27] = 'C';
	caw(0, 300, 1, 2 * BS);
	CHECK_EQ(scsi_get_be32(&res.sense[3]), BS - 27);
	CHECK_EQ(mem[300 * BS + 1], 'B');

	STEP("COMPARE AND WRITE limits and sizes");
	caw(0, 300, 0, 0);
	EXPECT_GOOD();
	caw(0, 300, 2, 4 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	caw(0, 300, 1, 4 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	caw(0, 300, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	caw(0, NBLK, 1, 2 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	caw(0x20, 0, 1, 2 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

	STEP("COMPARE AND WRITE through the backend's caw");
	ops->caw = fake_ram_ops.caw;
	memset(buf, 'B', BS);
	memset(buf + BS, 'E', BS);
	caw(0, 300, 1, 2 * BS);
	EXPECT_GOOD();
	CHECK_EQ(mem[300 * BS], 'E');
	CHECK_EQ(fake_dev_stats(dev)->caws, 1);
	memset(buf, 'E', BS);
	buf[100] = 'x';
	caw(0, 300, 1, 2 * BS);
	EXPECT_SENSE(MISCOMPARE, ASC_MISCOMPARE_DURING_VERIFY_OPERATION);
	CHECK_EQ(fake_dev_stats(dev)->caws, 2);
	CHECK_EQ(res.sense[0], 0xf0); /* offset found by reading back */
	CHECK_EQ(scsi_get_be32(&res.sense[3]), 100);
	ops->caw = NULL;
}

static int ws(bool sixteen, uint8_t b1, uint64_t lba, uint32_t nr, size_t len)
{
	return sixteen ? cmd16(WRITE_SAME_16, b1, lba, nr, len)
		       : cmd10(WRITE_SAME, b1, (uint32_t)lba, (uint16_t)nr, len);
}

static void test_write_same(void)
{
	struct scsi_backend_ops *ops = fake_dev_ops(dev);
	unsigned int unmaps;
	int i;

	STEP("WRITE SAME(10/16) writes the block pattern");
	for (i = 0; i < BS; i++)
		buf[i] = i;
	ws(false, 0, 400, 300, BS);
	EXPECT_GOOD();
	CHECK(!memcmp(mem + 400 * BS, buf, BS));
	CHECK(!memcmp(mem + 699 * BS, buf, BS));
	ws(true, 0, NBLK - 3, 3, BS);
	EXPECT_GOOD();
	CHECK(!memcmp(mem + (NBLK - 1) * BS, buf, BS));

	STEP("UNMAP bit: zero block deallocates, other data is written");
	unmaps = fake_dev_stats(dev)->unmaps;
	memset(buf, 0, BS);
	ws(false, 0x08, 400, 10, BS);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->unmaps, unmaps + 1);
	CHECK(!fake_dev_mapped(dev, 405));
	memset(buf, 0xee, BS);
	ws(true, 0x08, 400, 10, BS);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->unmaps, unmaps + 1);
	CHECK_EQ(mem[409 * BS], 0xee);

	STEP("NDOB: zeroes without Data-Out");
	ws(true, 0x01, 400, 10, 0);
	EXPECT_GOOD();
	CHECK_EQ(mem[409 * BS], 0);
	ws(true, 0x09, 400, 10, 0);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->unmaps, unmaps + 2);

	STEP("backend writesame used when present");
	ops->writesame = fake_ram_ops.writesame;
	memset(buf, 0x42, BS);
	ws(false, 0, 800, 5, BS);
	EXPECT_GOOD();
	CHECK_EQ(fake_dev_stats(dev)->writesames, 1);
	CHECK_EQ(mem[804 * BS + 511], 0x42);
	ops->writesame = NULL;

	STEP("WRITE SAME errors");
	ws(false, 0, 0, 0, BS); /* WSNZ */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	ws(false, 0x10, 0, 1, BS); /* ANCHOR */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	ws(false, 0x18, 0, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	ws(false, 0x08, 0, 1, BS / 2);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	ws(false, 0x08, 0, 1, 2 * BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	ws(true, 0, NBLK, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	ws(false, 0, 0x80000000u, 1, BS);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	ws(true, 0x04, 0, 1, BS); /* obsolete LBDATA */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	fake_dev_inject(dev, TCMU_STS_WR_ERR, 1);
	ws(false, 0, 0, 1, BS);
	EXPECT_SENSE(MEDIUM_ERROR, ASC_WRITE_ERROR);

	STEP("UNMAP bit without the backend's unmap is refused (LBPWS clear)");
	{
		ops->unmap = NULL;
		memset(buf, 0, BS);
		ws(false, 0x08, 0, 1, BS);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
		ws(true, 0x01, 0, 1, 0); /* NDOB alone still works */
		EXPECT_GOOD();
		ops->unmap = fake_ram_ops.unmap;
	}
}

static int unmap(uint8_t b1, size_t ndesc, const uint64_t *lba, const uint32_t *nr, size_t list_len)
{
	uint8_t cdb[10] = { UNMAP, b1 };
	size_t i;

	memset(buf, 0, 8 + 16 * ndesc);
	scsi_put_be16(&buf[0], 6 + 16 * ndesc);
	scsi_put_be16(&buf[2], 16 * ndesc);
	for (i = 0; i < ndesc; i++) {
		scsi_put_be64(&buf[8 + 16 * i], lba[i]);
		scsi_put_be32(&buf[16 + 16 * i], nr[i]);
	}
	scsi_put_be16(&cdb[7], list_len);
	return fake_exec(dev, cdb, buf, list_len, &res);
}

static void test_unmap(void)
{
	uint64_t lba[300];
	uint32_t nr[300];
	size_t i;

	STEP("UNMAP: descriptors deallocate, zero length ones are fine");
	memset(mem, 0x11, 64 * BS);
	cmd10(WRITE_10, 0, 0, 64, 64 * BS);
	for (i = 0; i < 256; i++) {
		lba[i] = i % 64;
		nr[i] = i < 2 ? 8 : 0;
	}
	lba[1] = 32;
	unmap(0, 256, lba, nr, 8 + 16 * 256);
	EXPECT_GOOD();
	CHECK(!fake_dev_mapped(dev, 7) && fake_dev_mapped(dev, 8));
	CHECK(!fake_dev_mapped(dev, 39) && fake_dev_mapped(dev, 40));
	CHECK_EQ(mem[7 * BS], 0);
	unmap(0, 0, lba, nr, 0);
	EXPECT_GOOD();
	unmap(0, 0, lba, nr, 8);
	EXPECT_GOOD();

	STEP("UNMAP errors: list length, count, range, ANCHOR, limits");
	unmap(0, 1, lba, nr, 6);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	for (i = 0; i < 257; i++) {
		lba[i] = 0;
		nr[i] = 1;
	}
	unmap(0, 257, lba, nr, 8 + 16 * 257);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	lba[0] = NBLK - 1;
	nr[0] = 2;
	unmap(0, 1, lba, nr, 24);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	unmap(0x01, 1, lba, nr, 24);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	tcmu_dev_set_max_unmap_len(dev, 4);
	lba[0] = 0;
	nr[0] = 5;
	unmap(0, 1, lba, nr, 24);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	tcmu_dev_set_max_unmap_len(dev, 0);
	{
		uint8_t cdb[10] = { UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0 };

		memset(buf, 0, 24);
		scsi_put_be16(&buf[2], 32); /* claims more than sent */
		fake_exec(dev, cdb, buf, 24, &res);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	}
	STEP("a bad descriptor leaves every block mapped");
	cmd10(WRITE_10, 0, 0, 4, 4 * BS);
	lba[0] = 0;
	nr[0] = 1;
	lba[1] = NBLK;
	nr[1] = 1;
	unmap(0, 2, lba, nr, 40);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	CHECK(fake_dev_mapped(dev, 0));

	/*
	 * Deallocated blocks cannot be given back: a backend failure stops at
	 * its descriptor.  The initiator gets that failure's sense; the ranges
	 * before it stay unmapped, it and the later ones are untouched
	 * (docs/scsi-engine.md, "UNMAP that fails partway").
	 */
	STEP("UNMAP failing partway: earlier ranges unmapped, the rest left");
	memset(buf, 0x11, 30 * BS);
	cmd10(WRITE_10, 0, 100, 30, 30 * BS);
	EXPECT_GOOD();
	for (i = 0; i < 3; i++) {
		lba[i] = 100 + 10 * i;
		nr[i] = 10;
	}
	i = fake_dev_stats(dev)->unmaps;
	fake_dev_inject_after(dev, 1, TCMU_STS_HW_ERR, 1);
	unmap(0, 3, lba, nr, 8 + 16 * 3);
	EXPECT_SENSE(HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE);
	CHECK_EQ(fake_dev_stats(dev)->unmaps, i + 2); /* the third never sent */
	CHECK(!fake_dev_mapped(dev, 100) && !fake_dev_mapped(dev, 109));
	CHECK(fake_dev_mapped(dev, 110) && fake_dev_mapped(dev, 119));
	CHECK(fake_dev_mapped(dev, 120) && fake_dev_mapped(dev, 129));
	CHECK_EQ(mem[100 * BS], 0);
	CHECK_EQ(mem[110 * BS], 0x11);
	unmap(0, 3, lba, nr, 8 + 16 * 3); /* a retry completes it */
	EXPECT_GOOD();
	CHECK(!fake_dev_mapped(dev, 110) && !fake_dev_mapped(dev, 129));
}

static int lba_status(uint64_t lba, uint32_t alloc)
{
	uint8_t cdb[16] = { SERVICE_ACTION_IN_16, GET_LBA_STATUS };

	scsi_put_be64(&cdb[2], lba);
	scsi_put_be32(&cdb[10], alloc);
	memset(buf, 0xa5, alloc + 64);
	return fake_exec(dev, cdb, buf, alloc, &res);
}

static void test_lba_status(void)
{
	struct scsi_backend_ops *ops = fake_dev_ops(dev);
	uint64_t lba[1] = { 16 };
	uint32_t nr[1] = { 16 };

	STEP("GET LBA STATUS without backend support: all mapped");
	lba_status(5, 24);
	EXPECT_GOOD();
	CHECK_EQ(scsi_get_be32(buf), 20);
	CHECK_EQ(scsi_get_be64(&buf[8]), 5);
	CHECK_EQ(scsi_get_be32(&buf[16]), NBLK - 5);
	CHECK_EQ(buf[20], 0);
	lba_status(NBLK, 24);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	lba_status(0, 8);
	EXPECT_GOOD();
	CHECK(!res.read_len_valid || res.read_len == 8);
	CHECK_EQ(scsi_get_be32(buf), 20); /* full size, truncated data */

	STEP("GET LBA STATUS from the backend: mapped/deallocated extents");
	ops->get_lba_status = fake_ram_ops.get_lba_status;
	cmd10(WRITE_10, 0, 0, 64, 64 * BS);
	unmap(0, 1, lba, nr, 24);
	lba_status(0, 8 + 16 * 3);
	EXPECT_GOOD();
	CHECK_EQ(scsi_get_be32(buf), 4 + 16 * 3);
	CHECK_EQ(scsi_get_be32(&buf[16]), 16);
	CHECK_EQ(buf[20], 0);
	CHECK_EQ(scsi_get_be64(&buf[24]), 16);
	CHECK_EQ(buf[36], 1);
	CHECK_EQ(scsi_get_be64(&buf[40]), 32);
	CHECK_EQ(buf[56], 0xa5); /* nothing past the allocation length */
	ops->get_lba_status = NULL;
}

int main(void)
{
	dev = fake_dev_new(NBLK, BS, "600140512345678");
	mem = fake_dev_mem(dev);

	test_rw();
	test_sync_prefetch();
	test_verify();
	test_caw();
	test_write_same();
	test_unmap();
	test_lba_status();
	CHECK_EQ(fake_internal_errors, 0);
	fake_dev_free(dev);
	return check_exit();
}
