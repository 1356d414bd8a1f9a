// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Checks EXTENDED COPY (LID1) and RECEIVE COPY RESULTS: copies within a
 * LUN and between two LUNs found by NAA, and the parameter list checks
 * libiscsi's conformance suite makes.
 */
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

#define BS 512

static uint8_t buf[8192];
static struct fake_result res;

#define EXPECT_SENSE(k, a)                                                                         \
	do {                                                                                       \
		CHECK_EQ(res.status, SAM_STAT_CHECK_CONDITION);                                    \
		CHECK_EQ(res.key, (k));                                                            \
		CHECK_EQ((res.asc << 8) | res.ascq, (a));                                          \
	} while (0)
#define EXPECT_GOOD() CHECK_EQ(res.status, SAM_STAT_GOOD)

struct seg {
	uint16_t src, dst, nr;
	uint64_t src_lba, dst_lba;
};

/* Build a LID1 parameter list in buf; returns its length. */
static size_t build(uint8_t list_id, uint8_t usage, const char **serials, size_t n_cscd,
		    const struct seg *segs, size_t n_seg)
{
	size_t pos = 16, i;

	memset(buf, 0, sizeof(buf));
	buf[0] = list_id;
	buf[1] = usage << 3;
	for (i = 0; i < n_cscd; i++, pos += 32) {
		uint8_t *d = &buf[pos];

		d[0] = 0xe4;
		d[4] = 0x01;
		d[5] = 0x03;
		d[7] = 16;
		scsi_naa6_from_serial(serials[i], &d[8]);
		d[29] = (BS >> 16) & 0xff;
		d[30] = (BS >> 8) & 0xff;
		d[31] = BS & 0xff;
	}
	scsi_put_be16(&buf[2], n_cscd * 32);
	for (i = 0; i < n_seg; i++, pos += 28) {
		uint8_t *s = &buf[pos];

		s[0] = 0x02;
		scsi_put_be16(&s[2], 0x18);
		scsi_put_be16(&s[4], segs[i].src);
		scsi_put_be16(&s[6], segs[i].dst);
		scsi_put_be16(&s[10], segs[i].nr);
		scsi_put_be64(&s[12], segs[i].src_lba);
		scsi_put_be64(&s[20], segs[i].dst_lba);
	}
	scsi_put_be32(&buf[8], n_seg * 28);
	return pos;
}

static int xcopy(struct tcmu_device *dev, size_t len, size_t plen)
{
	uint8_t cdb[16] = { EXTENDED_COPY };

	scsi_put_be32(&cdb[10], plen);
	return fake_exec(dev, cdb, buf, len, &res);
}

static int rcr(struct tcmu_device *dev, uint8_t sa, uint8_t list_id, uint32_t alloc)
{
	uint8_t cdb[16] = { RECEIVE_COPY_RESULTS, sa, list_id };

	scsi_put_be32(&cdb[10], alloc);
	memset(buf, 0xa5, sizeof(buf));
	return fake_exec(dev, cdb, buf, alloc, &res);
}

int main(void)
{
	const char *sa = "0123456789abcdef", *sb = "fedcba9876543210", *sx = "00000000000";
	struct tcmu_device *a = fake_dev_new(1024, BS, sa);
	struct tcmu_device *b = fake_dev_new(512, BS, sb);
	const char *both[2] = { sa, sb }, *many[9];
	struct seg seg = { 0, 1, 64, 10, 20 }, segs[40];
	uint8_t *ma = fake_dev_mem(a), *mb = fake_dev_mem(b);
	size_t len, i;

	STEP("RECEIVE COPY RESULTS: operating parameters");
	rcr(a, RCR_SA_OPERATING_PARAMETERS, 0, 256);
	EXPECT_GOOD();
	CHECK_EQ(scsi_get_be32(buf), 42);
	CHECK_EQ(scsi_get_be16(&buf[8]), 8);
	CHECK_EQ(scsi_get_be16(&buf[10]), 16);
	CHECK_EQ(scsi_get_be32(&buf[12]), 1024);
	CHECK_EQ(buf[43], 2);
	CHECK(buf[44] == 0x02 && buf[45] == 0xe4);
	CHECK_EQ(buf[46], 0); /* zero padding */
	CHECK_EQ(res.read_len, 46);
	rcr(a, 0x07, 0, 256);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	rcr(a, RCR_SA_COPY_STATUS, 1, 256);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

	STEP("copy between two LUNs, found by NAA, references dropped");
	for (i = 0; i < 64 * BS; i++)
		ma[10 * BS + i] = i * 3;
	len = build(1, 0, both, 2, &seg, 1);
	xcopy(a, len, len);
	EXPECT_GOOD();
	CHECK(!memcmp(ma + 10 * BS, mb + 20 * BS, 64 * BS));
	CHECK_EQ(fake_dev_refs(b), 0);
	rcr(a, RCR_SA_COPY_STATUS, 1, 256);
	EXPECT_GOOD();
	CHECK_EQ(buf[4], 0x01);
	CHECK_EQ(scsi_get_be16(&buf[5]), 1);
	CHECK_EQ(scsi_get_be32(&buf[8]), 64 * BS);
	rcr(a, RCR_SA_COPY_STATUS, 1, 256); /* held status is read once */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

	STEP("copy within one LUN, no list id");
	seg = (struct seg){ 0, 0, 8, 10, 500 };
	len = build(0, 3, both, 1, &seg, 1);
	xcopy(a, len, len);
	EXPECT_GOOD();
	CHECK(!memcmp(ma + 10 * BS, ma + 500 * BS, 8 * BS));

	STEP("empty list, truncated lists, oversize list");
	xcopy(a, 0, 0);
	EXPECT_GOOD();
	seg = (struct seg){ 0, 0, 8, 0, 0 };
	len = build(1, 0, both, 1, &seg, 1);
	xcopy(a, 16 + 32 - 1, 16 + 32 - 1);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	xcopy(a, len - 1, len - 1);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	xcopy(a, 8, 8);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
	for (i = 0; i < 9; i++)
		many[i] = sa;
	for (i = 0; i < 40; i++)
		segs[i] = seg;
	len = build(3, 0, many, 9, segs, 27); /* 288 + 756 > 1024 */
	xcopy(a, len, len);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);

	STEP("too many descriptors");
	len = build(1, 0, many, 9, segs, 1);
	xcopy(a, len, len);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_TOO_MANY_TARGET_DESCRIPTORS);
	len = build(2, 0, many, 1, segs, 17);
	xcopy(a, len, len);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_TOO_MANY_SEGMENT_DESCRIPTORS);

	STEP("unsupported descriptor types");
	len = build(1, 0, both, 1, &seg, 1);
	buf[16] = 0xe0;
	xcopy(a, len, len);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE);
	len = build(1, 0, both, 1, &seg, 1);
	buf[48] = 0x03;
	xcopy(a, len, len);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE);

	STEP("reserved LU ID TYPE ignored (SPC-4), inline data refused");
	len = build(1, 0, both, 1, &seg, 1);
	buf[17] = 0xc0;
	xcopy(a, len, len);
	EXPECT_GOOD();
	len = build(1, 0, both, 1, &seg, 1);
	scsi_put_be32(&buf[12], 4);
	xcopy(a, len + 4, len + 4);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);

	STEP("COPY ABORTED: bad index, beyond capacity, unknown LUN");
	seg = (struct seg){ 0, 1, 8, 0, 0 };
	len = build(1, 0, both, 1, &seg, 1);
	xcopy(a, len, len);
	EXPECT_SENSE(COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE);
	seg = (struct seg){ 0, 1, 8, 0, 510 };
	len = build(1, 0, both, 2, &seg, 1);
	xcopy(a, len, len);
	EXPECT_SENSE(COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE);
	CHECK_EQ(fake_dev_refs(b), 0);
	{
		const char *unknown[2] = { sa, sx };

		seg = (struct seg){ 0, 1, 8, 0, 0 };
		len = build(1, 0, unknown, 2, &seg, 1);
		xcopy(a, len, len);
		EXPECT_SENSE(COPY_ABORTED, ASC_COPY_TARGET_DEVICE_NOT_REACHABLE);
	}
	rcr(a, RCR_SA_COPY_STATUS, 1, 256);
	EXPECT_GOOD();
	CHECK_EQ(buf[4], 0x02); /* completed with an error */
	seg = (struct seg){ 0, 0, 1, 0, 1 };
	len = build(9, 2, both, 1, &seg, 1); /* 10b: do not hold */
	xcopy(a, len, len);
	EXPECT_GOOD();
	rcr(a, RCR_SA_COPY_STATUS, 9, 256);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

	STEP("write protected destination");
	tcmu_dev_set_write_protect_enabled(b, true);
	seg = (struct seg){ 0, 1, 8, 0, 0 };
	len = build(1, 0, both, 2, &seg, 1);
	xcopy(a, len, len);
	EXPECT_SENSE(DATA_PROTECT, ASC_WRITE_PROTECTED);
	tcmu_dev_set_write_protect_enabled(b, false);
	CHECK_EQ(fake_dev_refs(b), 0);

	CHECK_EQ(fake_internal_errors, 0);
	fake_dev_free(b);
	fake_dev_free(a);
	return check_exit();
}
