// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Checks the engine's SPC side through scsi_dispatch on a RAM device:
 * unit attention, REQUEST SENSE, CDB field checks, REPORT SUPPORTED
 * OPERATION CODES, MODE SELECT of WCE, write protection, FORMAT UNIT.
 */
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "engine_priv.h"
#include "fake_dev.h"

static uint8_t buf[65536];
static struct fake_result res;

#define EXPECT_SENSE(k, a)                                                                         \
	do {                                                                                       \
		CHECK_EQ(res.status, SAM_STAT_CHECK_CONDITION);                                    \
		CHECK_EQ(res.key, (k));                                                            \
		CHECK_EQ((res.asc << 8) | res.ascq, (a));                                          \
	} while (0)

static int run6(struct tcmu_device *dev, uint8_t op, uint8_t b1, uint8_t b2, uint8_t b3, uint8_t b4,
		size_t len)
{
	uint8_t cdb[6] = { op, b1, b2, b3, b4, 0 };

	memset(buf, 0xa5, sizeof(buf));
	return fake_exec(dev, cdb, buf, len, &res);
}

static void test_ua(struct tcmu_device *dev)
{
	STEP("CAPACITY DATA HAS CHANGED: once, not on INQUIRY, via REQUEST SENSE");
	scsi_dev_capacity_changed(fake_dev_scsi(dev));
	run6(dev, INQUIRY, 0, 0, 0, 36, 36);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0);
	EXPECT_SENSE(UNIT_ATTENTION, ASC_CAPACITY_DATA_HAS_CHANGED);
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0);
	CHECK_EQ(res.status, SAM_STAT_GOOD);

	scsi_dev_capacity_changed(fake_dev_scsi(dev));
	run6(dev, REQUEST_SENSE, 0, 0, 0, 252, 252);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[0], 0x70);
	CHECK_EQ(buf[2], UNIT_ATTENTION);
	CHECK_EQ(buf[12], 0x2a);
	CHECK_EQ(buf[13], 0x09);
	CHECK(res.read_len_valid && res.read_len == 18);
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0);
	CHECK_EQ(res.status, SAM_STAT_GOOD);

	/*
	 * TCMU does not say which I_T nexus sent a command, so the UA is the
	 * device's, not each nexus's: the first command that may carry it
	 * gets it, whoever sent it, and the others never see it.  Two resizes
	 * before any command give one UA (docs/scsi-engine.md).
	 */
	STEP("UA per device, not per I_T nexus: first command only");
	scsi_dev_capacity_changed(fake_dev_scsi(dev));
	scsi_dev_capacity_changed(fake_dev_scsi(dev));
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0); /* "initiator A" */
	EXPECT_SENSE(UNIT_ATTENTION, ASC_CAPACITY_DATA_HAS_CHANGED);
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0); /* "initiator B": no UA */
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0); /* A again: nothing */
	CHECK_EQ(res.status, SAM_STAT_GOOD);

	STEP("unknown opcode with a pending UA reports the UA first");
	scsi_dev_capacity_changed(fake_dev_scsi(dev));
	run6(dev, 0x02, 0, 0, 0, 0, 0);
	EXPECT_SENSE(UNIT_ATTENTION, ASC_CAPACITY_DATA_HAS_CHANGED);
	run6(dev, 0x02, 0, 0, 0, 0, 0);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
}

static void test_request_sense(struct tcmu_device *dev)
{
	STEP("REQUEST SENSE: NO SENSE, fixed and descriptor format");
	run6(dev, REQUEST_SENSE, 0, 0, 0, 18, 18);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[0], 0x70);
	CHECK_EQ(buf[2], 0);
	CHECK_EQ(buf[7], 10);
	run6(dev, REQUEST_SENSE, 1, 0, 0, 252, 252);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[0], 0x72);
	CHECK_EQ(buf[7], 0);
	CHECK(res.read_len == 8);
	CHECK_EQ(buf[8], 0); /* zero padding, not the 0xa5 fill */
	run6(dev, REQUEST_SENSE, 0, 0, 0, 4, 252);
	CHECK_EQ(res.read_len, 4);
	run6(dev, REQUEST_SENSE, 2, 0, 0, 18, 18);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
}

static void test_cdb_checks(struct tcmu_device *dev)
{
	STEP("reserved bits, NACA, unknown opcodes");
	run6(dev, TEST_UNIT_READY, 0x01, 0, 0, 0, 0);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	CHECK_EQ(res.sense[15], 0x80 | 0x40 | 0x08 | 0); /* SKSV, C/D, BPV, bit 0 */
	CHECK_EQ(scsi_get_be16(&res.sense[16]), 1);
	{
		uint8_t cdb[6] = { TEST_UNIT_READY, 0, 0, 0, 0, 0x04 };

		fake_exec(dev, cdb, buf, 0, &res);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	}
	run6(dev, 0x1d, 0, 0, 0, 0, 0); /* SEND DIAGNOSTIC */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	run6(dev, 0xc0, 0, 0, 0, 0, 0); /* vendor specific */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	run6(dev, START_STOP, 0, 0, 0, 0x01, 0);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
}

static int rsoc(struct tcmu_device *dev, uint8_t opts, uint8_t op, uint16_t sa, uint32_t alloc)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, opts, op };

	scsi_put_be16(&cdb[4], sa);
	scsi_put_be32(&cdb[6], alloc);
	memset(buf, 0xa5, sizeof(buf));
	return fake_exec(dev, cdb, buf, alloc, &res);
}

/* Find (op, sa) in an all-commands list; returns its descriptor or NULL. */
static const uint8_t *rsoc_find(uint8_t op, int sa, bool rctd)
{
	uint32_t len = scsi_get_be32(buf), pos = 4;

	while (pos < 4 + len) {
		const uint8_t *d = &buf[pos];

		if (d[0] == op && (sa < 0 || scsi_get_be16(&d[2]) == sa))
			return d;
		pos += 8 + (rctd ? 12 : 0);
	}
	return NULL;
}

static void test_rsoc(struct tcmu_device *dev)
{
	struct scsi_backend_ops *ops = fake_dev_ops(dev);
	const uint8_t *d;

	STEP("REPORT SUPPORTED OPCODES: all commands");
	rsoc(dev, 0, 0, 0, 4096);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK(scsi_get_be32(buf) % 8 == 0);
	d = rsoc_find(READ_10, -1, false);
	CHECK(d && scsi_get_be16(&d[6]) == 10 && !(d[5] & 1));
	d = rsoc_find(SERVICE_ACTION_IN_16, READ_CAPACITY_16, false);
	CHECK(d && (d[5] & 1) && scsi_get_be16(&d[6]) == 16);
	CHECK(rsoc_find(UNMAP, -1, false) != NULL);
	CHECK(rsoc_find(INQUIRY, -1, false) != NULL);
	CHECK(rsoc_find(0x1d, -1, false) == NULL);

	STEP("UNMAP is not listed without the backend's unmap");
	ops->unmap = NULL;
	rsoc(dev, 0, 0, 0, 4096);
	CHECK(rsoc_find(UNMAP, -1, false) == NULL);
	rsoc(dev, 1, UNMAP, 0, 64);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[1] & 7, 1); /* not supported */
	{
		uint8_t cdb[10] = { UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0 };

		fake_exec(dev, cdb, buf, 24, &res);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	}
	ops->unmap = fake_ram_ops.unmap;

	STEP("RCTD: timeouts descriptors");
	rsoc(dev, 0x80, 0, 0, 4096);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK(scsi_get_be32(buf) % 20 == 0);
	d = rsoc_find(WRITE_16, -1, true);
	CHECK(d && (d[5] & 2) && scsi_get_be16(&d[8]) == 0x0a);

	STEP("one command: by opcode, by opcode + service action");
	rsoc(dev, 1, WRITE_10, 0, 64);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[1] & 7, 3);
	CHECK_EQ(scsi_get_be16(&buf[2]), 10);
	CHECK_EQ(buf[4], WRITE_10);
	CHECK_EQ(buf[5], 0x1a);
	CHECK_EQ(res.read_len, 14);
	rsoc(dev, 1, SERVICE_ACTION_IN_16, READ_CAPACITY_16, 64);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	rsoc(dev, 2, SERVICE_ACTION_IN_16, READ_CAPACITY_16, 64);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[4], SERVICE_ACTION_IN_16);
	CHECK_EQ(buf[5], READ_CAPACITY_16);
	rsoc(dev, 2, WRITE_10, 0, 64);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	rsoc(dev, 0x81, COMPARE_AND_WRITE, 0, 64);
	CHECK_EQ(buf[1], 0x83);
	CHECK_EQ(buf[5] & 0x18, 0x18); /* DPO/FUA usage, as DPOFUA is set */
	CHECK_EQ(scsi_get_be16(&buf[20]), 0x0a);
	rsoc(dev, 5, 0, 0, 64);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

	STEP("every listed command round-trips through the one-command form");
	rsoc(dev, 0, 0, 0, 4096);
	{
		uint8_t all[4096];
		uint32_t len = scsi_get_be32(buf), pos;

		memcpy(all, buf, sizeof(all));
		for (pos = 4; pos < 4 + len; pos += 8) {
			bool sa = all[pos + 5] & 1;

			rsoc(dev, sa ? 2 : 1, all[pos], scsi_get_be16(&all[pos + 2]), 64);
			CHECK_EQ(res.status, SAM_STAT_GOOD);
			CHECK_EQ(buf[4], all[pos]);
			CHECK_EQ(scsi_get_be16(&buf[2]), scsi_get_be16(&all[pos + 6]));
		}
	}
}

static void test_mode_select(struct tcmu_device *dev)
{
	uint8_t page[24];

	STEP("WCE changeable (backend has flush) and applied by MODE SELECT");
	run6(dev, MODE_SENSE, 0x08, 0x48, 0, 255, 255);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[6] & 0x04, 0x04);
	run6(dev, MODE_SENSE, 0x08, 0x08, 0, 255, 255);
	CHECK_EQ(buf[2] & 0x10, 0x10); /* DPOFUA */
	memcpy(page, buf, sizeof(page));
	page[0] = 0;
	page[6] &= ~0x04;
	{
		uint8_t cdb[6] = { MODE_SELECT, 0x10, 0, 0, 24, 0 };

		memcpy(buf, page, sizeof(page));
		fake_exec(dev, cdb, buf, 24, &res);
		CHECK_EQ(res.status, SAM_STAT_GOOD);
	}
	run6(dev, MODE_SENSE, 0x08, 0x08, 0, 255, 255);
	CHECK_EQ(buf[6] & 0x04, 0);
	CHECK(!tcmu_dev_get_write_cache_enabled(dev));
	run6(dev, MODE_SENSE, 0x08, 0x88, 0, 255, 255); /* default values */
	CHECK_EQ(buf[6] & 0x04, 0x04);

	STEP("with WCE off every write is FUA");
	{
		uint8_t cdb[10] = { WRITE_10, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
		unsigned int before = fake_dev_stats(dev)->fua_writes;

		fake_exec(dev, cdb, buf, 512, &res);
		CHECK_EQ(res.status, SAM_STAT_GOOD);
		CHECK_EQ(fake_dev_stats(dev)->fua_writes, before + 1);
	}
	page[6] |= 0x04;
	{
		uint8_t cdb[6] = { MODE_SELECT, 0x10, 0, 0, 24, 0 };

		memcpy(buf, page, sizeof(page));
		fake_exec(dev, cdb, buf, 24, &res);
		CHECK_EQ(res.status, SAM_STAT_GOOD);
		CHECK(tcmu_dev_get_write_cache_enabled(dev));
	}
}

static void test_wp_and_capacity(struct tcmu_device *dev)
{
	uint8_t cdb[16] = { SERVICE_ACTION_IN_16, READ_CAPACITY_16 };

	STEP("READ CAPACITY(16): LBPME/LBPRZ from the backend's unmap");
	cdb[13] = 32;
	fake_exec(dev, cdb, buf, 32, &res);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(scsi_get_be64(buf), 2047);
	CHECK_EQ(buf[14] & 0xc0, 0xc0);

	STEP("write protected: DATA PROTECT for writes, reads fine");
	tcmu_dev_set_write_protect_enabled(dev, true);
	{
		uint8_t w[10] = { WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
		uint8_t r[10] = { READ_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

		fake_exec(dev, w, buf, 512, &res);
		EXPECT_SENSE(DATA_PROTECT, ASC_WRITE_PROTECTED);
		fake_exec(dev, r, buf, 512, &res);
		CHECK_EQ(res.status, SAM_STAT_GOOD);
	}
	tcmu_dev_set_write_protect_enabled(dev, false);
}

static void test_format(struct tcmu_device *dev)
{
	struct scsi_dev *sd = fake_dev_scsi(dev);
	uint8_t *mem = fake_dev_mem(dev);
	int i;

	STEP("format in progress: NOT READY with progress, INQUIRY still served");
	atomic_store(&sd->format_progress, 0x4000);
	atomic_store(&sd->formatting, true);
	run6(dev, TEST_UNIT_READY, 0, 0, 0, 0, 0);
	EXPECT_SENSE(NOT_READY, ASC_NOT_READY_FORMAT_IN_PROGRESS);
	CHECK_EQ(res.sense[15], 0x80);
	CHECK_EQ(scsi_get_be16(&res.sense[16]), 0x4000);
	run6(dev, INQUIRY, 0, 0, 0, 36, 36);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	run6(dev, REQUEST_SENSE, 0, 0, 0, 18, 18);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[2], NOT_READY);
	CHECK_EQ(buf[15], 0x80);
	CHECK_EQ(scsi_get_be16(&buf[16]), 0x4000);
	run6(dev, REQUEST_SENSE, 1, 0, 0, 252, 252); /* descriptor format */
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK(buf[0] == 0x72 && buf[1] == NOT_READY && buf[2] == 0x04 && buf[3] == 0x04);
	CHECK_EQ(buf[7], 8);
	CHECK(buf[8] == 0x02 && buf[9] == 0x06 && buf[12] == 0x80);
	CHECK_EQ(scsi_get_be16(&buf[13]), 0x4000);
	CHECK_EQ(res.read_len, 16);
	run6(dev, FORMAT_UNIT, 0, 0, 0, 0, 0);
	EXPECT_SENSE(NOT_READY, ASC_NOT_READY_FORMAT_IN_PROGRESS);
	atomic_store(&sd->formatting, false);

	STEP("FORMAT UNIT zero-fills (plain writes without unmap)");
	fake_dev_ops(dev)->unmap = NULL;
	memset(mem, 0x77, 2048 * 512);
	run6(dev, FORMAT_UNIT, 0, 0, 0, 0, 0);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK(mem[0] == 0 && mem[2048 * 512 - 1] == 0);
	CHECK(!atomic_load(&sd->formatting));

	STEP("FORMAT UNIT parameter list: IMMED runs in the background");
	memset(mem, 0x77, 2048 * 512);
	memset(buf, 0, 4);
	buf[1] = 0x02; /* IMMED */
	{
		uint8_t cdb[6] = { FORMAT_UNIT, 0x10, 0, 0, 0, 0 };

		fake_exec(dev, cdb, buf, 4, &res);
		CHECK_EQ(res.status, SAM_STAT_GOOD);
	}
	for (i = 0; i < 500 && atomic_load(&sd->formatting); i++)
		usleep(10000);
	CHECK(!atomic_load(&sd->formatting));
	CHECK(mem[0] == 0 && mem[2048 * 512 - 1] == 0);

	STEP("FORMAT UNIT errors");
	{
		uint8_t cdb[6] = { FORMAT_UNIT, 0x10, 0, 0, 0, 0 };

		fake_exec(dev, cdb, buf, 2, &res);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_PARAMETER_LIST_LENGTH_ERROR);
		memset(buf, 0, 4);
		buf[3] = 8; /* a defect list */
		fake_exec(dev, cdb, buf, 4, &res);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
		cdb[1] = 0x80; /* FMTPINFO */
		fake_exec(dev, cdb, buf, 0, &res);
		EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
	}
	CHECK(!atomic_load(&sd->formatting));
}

/* scsi_cdb_need(): the one classification behind recovery and HA locking. */
static void test_cdb_need(void)
{
	static const struct {
		uint8_t op, b1;
		enum scsi_need need;
	} t[] = {
		{ READ_10, 0, SCSI_NEED_MEDIUM },
		{ WRITE_16, 0, SCSI_NEED_MEDIUM },
		{ SYNCHRONIZE_CACHE, 0, SCSI_NEED_MEDIUM },
		{ UNMAP, 0, SCSI_NEED_MEDIUM },
		{ COMPARE_AND_WRITE, 0, SCSI_NEED_MEDIUM },
		{ EXTENDED_COPY, 0, SCSI_NEED_MEDIUM },
		{ FORMAT_UNIT, 0, SCSI_NEED_MEDIUM },
		{ SERVICE_ACTION_IN_16, GET_LBA_STATUS, SCSI_NEED_MEDIUM },
		{ SERVICE_ACTION_IN_16, READ_CAPACITY_16, SCSI_NEED_NONE },
		{ TEST_UNIT_READY, 0, SCSI_NEED_NONE },
		{ INQUIRY, 0, SCSI_NEED_NONE },
		{ REQUEST_SENSE, 0, SCSI_NEED_NONE },
		{ MODE_SENSE_10, 0, SCSI_NEED_NONE },
		{ READ_CAPACITY, 0, SCSI_NEED_NONE },
		{ MAINTENANCE_IN, MI_REPORT_TARGET_PGS, SCSI_NEED_NONE },
		{ MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, SCSI_NEED_NONE },
		{ MODE_SELECT, 0, SCSI_NEED_BACKEND },
		{ START_STOP, 0, SCSI_NEED_BACKEND },
		{ MAINTENANCE_OUT, MO_SET_TARGET_PGS, SCSI_NEED_BACKEND },
		{ 0xc0, 0, SCSI_NEED_BACKEND }, /* unknown to the engine */
	};
	size_t i;

	STEP("scsi_cdb_need: medium, engine-only, other");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t cdb[16] = { t[i].op, t[i].b1 };

		CHECK_EQ(scsi_cdb_need(cdb), t[i].need);
	}
}

int main(void)
{
	struct tcmu_device *dev = fake_dev_new(2048, 512, "5001405abcdef");

	test_ua(dev);
	test_request_sense(dev);
	test_cdb_checks(dev);
	test_rsoc(dev);
	test_mode_select(dev);
	test_wp_and_capacity(dev);
	test_format(dev);
	test_cdb_need();
	CHECK_EQ(fake_internal_errors, 0);
	fake_dev_free(dev);
	return check_exit();
}
