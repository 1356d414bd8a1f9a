// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Checks the stateless tcmu_emulate_* calls: INQUIRY (standard and VPD
 * 00/80/83/B0/B1/B2), READ CAPACITY 10/16, MODE SENSE/SELECT, START STOP.
 */
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

static uint8_t data[4096];
static struct iovec iov[2];

/* Two segments, and a fill pattern so zero padding is visible. */
static void reset_buf(size_t len)
{
	memset(data, 0xa5, sizeof(data));
	iov[0].iov_base = data;
	iov[0].iov_len = len / 2;
	iov[1].iov_base = data + len / 2;
	iov[1].iov_len = len - len / 2;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static int inquiry(struct tcmu_device *dev, int evpd, int page, uint16_t alloc, size_t buflen)
{
	uint8_t cdb[6] = { INQUIRY, evpd, page, 0, 0, 0 };

	scsi_put_be16(&cdb[3], alloc);
	reset_buf(buflen);
	return tcmu_emulate_inquiry(dev, NULL, cdb, iov, 2);
}

static void test_inquiry(struct tcmu_device *dev)
{
	uint8_t cdb[6] = { INQUIRY, 0x02, 0, 0, 255, 0 };
	const uint8_t *d;
	size_t pos;

	STEP("standard INQUIRY");
	CHECK_EQ(inquiry(dev, 0, 0, 255, 255), TCMU_STS_OK);
	CHECK_EQ(data[0], 0);
	CHECK_EQ(data[2], 6);
	CHECK_EQ(data[3] & 0x0f, 2);
	CHECK_EQ(data[4], 91);
	CHECK(!memcmp(&data[8], "LIO-ORG ", 8));
	CHECK(!memcmp(&data[16], "TCMU device     ", 16));
	CHECK_EQ(scsi_get_be16(&data[60]), 0x0460); /* SPC-4 descriptor */
	CHECK(all_zero(&data[96], 255 - 96));	    /* padding, not stale */

	STEP("allocation length honoured, the rest zeroed");
	CHECK_EQ(inquiry(dev, 0, 0, 5, 64), TCMU_STS_OK);
	CHECK_EQ(data[4], 91);
	CHECK(all_zero(&data[5], 59));

	STEP("bad CDB fields");
	CHECK_EQ(inquiry(dev, 0, 0x80, 255, 255), TCMU_STS_INVALID_CDB);
	CHECK_EQ(inquiry(dev, 1, 0x42, 255, 255), TCMU_STS_INVALID_CDB);
	reset_buf(255);
	CHECK_EQ(tcmu_emulate_inquiry(dev, NULL, cdb, iov, 2), TCMU_STS_INVALID_CDB);

	STEP("VPD 00: sorted supported pages");
	CHECK_EQ(inquiry(dev, 1, 0x00, 255, 255), TCMU_STS_OK);
	CHECK_EQ(data[1], 0);
	CHECK_EQ(data[3], 6);
	for (pos = 5; pos < 4u + data[3]; pos++)
		CHECK(data[pos] > data[pos - 1]);
	CHECK_EQ(data[9], 0xb2);

	STEP("VPD 80: unit serial");
	CHECK_EQ(inquiry(dev, 1, 0x80, 255, 255), TCMU_STS_OK);
	CHECK_EQ(data[3], 26);
	CHECK(!memcmp(&data[4], "0123456789abcdef0123456789", 26));

	STEP("VPD 83: T10 vendor id, NAA 6 (LIO layout), vendor specific");
	CHECK_EQ(inquiry(dev, 1, 0x83, 255, 255), TCMU_STS_OK);
	d = &data[4];
	CHECK_EQ(d[1] & 0x0f, 1);
	CHECK(!memcmp(&d[4], "LIO-ORG 0123456789abcdef", 24));
	d += 4 + d[3];
	CHECK_EQ(d[1] & 0x0f, 3);
	CHECK_EQ(d[3], 16);
	{
		static const uint8_t naa[16] = { 0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78,
						 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78 };

		CHECK(!memcmp(&d[4], naa, 16));
	}
	d += 4 + d[3];
	CHECK_EQ(d[1] & 0x0f, 0);
	CHECK(!memcmp(&d[4], "ram/", 4));
	CHECK_EQ(scsi_get_be16(&data[2]), (d + 4 + d[3]) - data - 4);

	STEP("VPD 83 with a 300-character serial stays well formed");
	{
		struct tcmu_device *big;
		char serial[301];

		memset(serial, 'a', 300);
		serial[300] = '\0';
		big = fake_dev_new(8, 512, serial);
		CHECK_EQ(inquiry(big, 1, 0x83, 1024, 1024), TCMU_STS_OK);
		CHECK_EQ(data[7], 255); /* T10 designator: 8 + 247 */
		d = &data[4 + 4 + 255];
		CHECK_EQ(d[1] & 0x0f, 3); /* NAA follows */
		CHECK_EQ(inquiry(big, 1, 0x80, 1024, 1024), TCMU_STS_OK);
		CHECK_EQ(data[3], 254);
		fake_dev_free(big);
	}

	STEP("VPD B0: block limits");
	CHECK_EQ(inquiry(dev, 1, 0xb0, 255, 255), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(&data[2]), 0x3c);
	CHECK_EQ(data[4] & 1, 1); /* WSNZ */
	CHECK_EQ(data[5], 1);	  /* max CAW */
	CHECK_EQ(scsi_get_be32(&data[8]), 128);
	CHECK_EQ(scsi_get_be32(&data[20]), 0); /* no unmap: no limits */
	CHECK(all_zero(&data[64], 255 - 64));
	tcmu_dev_set_unmap_enabled(dev, true);
	tcmu_dev_set_max_unmap_len(dev, 8192);
	CHECK_EQ(inquiry(dev, 1, 0xb0, 255, 255), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(&data[20]), 8192);
	CHECK_EQ(scsi_get_be32(&data[24]), SCSI_DEF_MAX_UNMAP_DESC);
	tcmu_dev_set_max_unmap_len(dev, 0xffffff); /* libiscsi: <= 1 Mi */
	CHECK_EQ(inquiry(dev, 1, 0xb0, 255, 255), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(&data[20]), 1024 * 1024);

	STEP("VPD B2: LBPU/LBPWS/LBPWS10/LBPRZ follow unmap");
	CHECK_EQ(inquiry(dev, 1, 0xb2, 255, 255), TCMU_STS_OK);
	CHECK_EQ(data[5] & 0xe4, 0xe4);
	tcmu_dev_set_unmap_enabled(dev, false);
	CHECK_EQ(inquiry(dev, 1, 0xb2, 255, 255), TCMU_STS_OK);
	CHECK_EQ(data[5], 0);

	STEP("VPD B1: rotation rate");
	CHECK_EQ(inquiry(dev, 1, 0xb1, 255, 255), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(&data[4]), 0);
	tcmu_dev_set_solid_state_media(dev, true);
	CHECK_EQ(inquiry(dev, 1, 0xb1, 255, 255), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(&data[4]), 1);
}

static void test_capacity(void)
{
	uint8_t cdb10[10] = { READ_CAPACITY };
	uint8_t cdb16[16] = { SERVICE_ACTION_IN_16, READ_CAPACITY_16 };
	int i;

	STEP("READ CAPACITY(10)");
	reset_buf(8);
	CHECK_EQ(tcmu_emulate_read_capacity_10(1000, 512, cdb10, iov, 2), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(&data[0]), 999);
	CHECK_EQ(scsi_get_be32(&data[4]), 512);
	CHECK_EQ(tcmu_emulate_read_capacity_10(1ull << 33, 4096, cdb10, iov, 2), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(&data[0]), 0xffffffff);
	cdb10[5] = 1; /* LBA without PMI */
	CHECK_EQ(tcmu_emulate_read_capacity_10(1000, 512, cdb10, iov, 2), TCMU_STS_INVALID_CDB);

	STEP("READ CAPACITY(16) with every short allocation length");
	for (i = 0; i <= 32; i++) {
		scsi_put_be32(&cdb16[10], i);
		reset_buf(32);
		CHECK_EQ(tcmu_emulate_read_capacity_16(1ull << 33, 512, cdb16, iov, 2),
			 TCMU_STS_OK);
		CHECK(all_zero(&data[i], 32 - i));
	}
	CHECK_EQ(scsi_get_be64(&data[0]), (1ull << 33) - 1);
	CHECK_EQ(scsi_get_be32(&data[8]), 512);
	cdb16[1] = 0x11;
	CHECK_EQ(tcmu_emulate_read_capacity_16(1000, 512, cdb16, iov, 2), TCMU_STS_INVALID_CDB);
}

static int mode_sense(struct tcmu_device *dev, bool ten, uint8_t b1, uint8_t b2, uint8_t sub,
		      uint16_t alloc)
{
	uint8_t cdb[10] = { 0 };

	cdb[0] = ten ? MODE_SENSE_10 : MODE_SENSE;
	cdb[1] = b1;
	cdb[2] = b2;
	cdb[3] = sub;
	if (ten)
		scsi_put_be16(&cdb[7], alloc);
	else
		cdb[4] = alloc;
	reset_buf(alloc ? alloc : 1);
	return tcmu_emulate_mode_sense(dev, cdb, iov, 2);
}

static void test_mode(struct tcmu_device *dev)
{
	uint8_t cdb[10] = { 0 };
	uint8_t page[64];

	STEP("MODE SENSE(6) all pages with a block descriptor");
	CHECK_EQ(mode_sense(dev, false, 0, 0x3f, 0, 255), TCMU_STS_OK);
	CHECK_EQ(data[0], 3 + 8 + 12 + 20 + 12);
	CHECK_EQ(data[3], 8);
	CHECK_EQ(scsi_get_be32(&data[4]), 1000);
	CHECK_EQ(scsi_get_be24(&data[9]), 512);
	CHECK_EQ(data[12], 0x01);
	CHECK_EQ(data[24], 0x08);
	CHECK_EQ(data[26] & 0x04, 0x04); /* WCE */
	CHECK_EQ(data[44], 0x0a);
	CHECK(all_zero(&data[56], 255 - 56));

	STEP("DBD, single page, subpage FF of all pages");
	CHECK_EQ(mode_sense(dev, false, 0x08, 0x08, 0, 255), TCMU_STS_OK);
	CHECK_EQ(data[3], 0);
	CHECK_EQ(data[4], 0x08);
	CHECK_EQ(data[0], 3 + 20);
	CHECK_EQ(mode_sense(dev, false, 0x08, 0x3f, 0xff, 255), TCMU_STS_OK);

	STEP("MODE SENSE(10) long LBA block descriptor");
	CHECK_EQ(mode_sense(dev, true, 0x10, 0x0a, 0, 512), TCMU_STS_OK);
	CHECK_EQ(data[4] & 1, 1);
	CHECK_EQ(scsi_get_be16(&data[6]), 16);
	CHECK_EQ(scsi_get_be64(&data[8]), 1000);
	CHECK_EQ(scsi_get_be32(&data[20]), 512);
	CHECK_EQ(data[24], 0x0a);
	CHECK_EQ(scsi_get_be16(&data[0]), 6 + 16 + 12);

	STEP("changeable values: nothing changeable in the stateless view");
	CHECK_EQ(mode_sense(dev, false, 0x08, 0x48, 0, 255), TCMU_STS_OK);
	CHECK(all_zero(&data[6], 18));

	STEP("write protect bit");
	tcmu_dev_set_write_protect_enabled(dev, true);
	CHECK_EQ(mode_sense(dev, false, 0x08, 0x08, 0, 255), TCMU_STS_OK);
	CHECK_EQ(data[2] & 0x80, 0x80);
	tcmu_dev_set_write_protect_enabled(dev, false);

	STEP("MODE SENSE errors");
	CHECK_EQ(mode_sense(dev, false, 0, 0xc8, 0, 255), TCMU_STS_NOTSUPP_SAVE_PARAMS);
	CHECK_EQ(mode_sense(dev, false, 0, 0x1c, 0, 255), TCMU_STS_INVALID_CDB);
	CHECK_EQ(mode_sense(dev, false, 0, 0x08, 1, 255), TCMU_STS_INVALID_CDB);

	STEP("truncated by allocation length");
	CHECK_EQ(mode_sense(dev, false, 0, 0x3f, 0, 4), TCMU_STS_OK);
	CHECK_EQ(data[0], 3 + 8 + 12 + 20 + 12);

	STEP("MODE SELECT(6): current data accepted, WCE change refused here");
	CHECK_EQ(mode_sense(dev, false, 0x08, 0x08, 0, 255), TCMU_STS_OK);
	memcpy(page, data, 24);
	page[0] = 0;
	cdb[0] = MODE_SELECT;
	cdb[1] = 0x10;
	cdb[4] = 24;
	reset_buf(24);
	memcpy(data, page, 24);
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_OK);
	memcpy(data, page, 24);
	data[6] &= ~0x04;
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_INVALID_PARAM_LIST);
	memcpy(data, page, 24);
	data[5] = 0x13; /* wrong page length */
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_INVALID_PARAM_LIST);
	memcpy(data, page, 24);
	cdb[4] = 20; /* page cut short */
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_INVALID_PARAM_LIST_LEN);
	cdb[4] = 2;
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_INVALID_PARAM_LIST_LEN);
	cdb[4] = 0;
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_OK);
	cdb[4] = 24;
	cdb[1] = 0x11;
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_NOTSUPP_SAVE_PARAMS);
	cdb[1] = 0x00;
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_INVALID_CDB);

	STEP("MODE SELECT(10) with a block descriptor of the wrong size");
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = MODE_SELECT_10;
	cdb[1] = 0x10;
	scsi_put_be16(&cdb[7], 16);
	reset_buf(16);
	memset(data, 0, 16);
	scsi_put_be16(&data[6], 8);
	scsi_put_be32(&data[12], 4096);
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_INVALID_PARAM_LIST);
	scsi_put_be32(&data[12], 512);
	CHECK_EQ(tcmu_emulate_mode_select(dev, cdb, iov, 2), TCMU_STS_OK);
}

static void test_misc(struct tcmu_device *dev)
{
	uint8_t cdb[6] = { START_STOP, 0, 0, 0, 0, 0 };

	STEP("START STOP UNIT and TEST UNIT READY");
	CHECK_EQ(tcmu_emulate_start_stop(dev, cdb), TCMU_STS_OK);
	cdb[4] = 0x03; /* LOEJ + START */
	CHECK_EQ(tcmu_emulate_start_stop(dev, cdb), TCMU_STS_OK);
	cdb[4] = 0x00; /* stop */
	CHECK_EQ(tcmu_emulate_start_stop(dev, cdb), TCMU_STS_OK);
	cdb[4] = 0x50; /* reserved power condition */
	CHECK_EQ(tcmu_emulate_start_stop(dev, cdb), TCMU_STS_INVALID_CDB);
	cdb[4] = 0x20; /* IDLE */
	CHECK_EQ(tcmu_emulate_start_stop(dev, cdb), TCMU_STS_OK);
	cdb[0] = TEST_UNIT_READY;
	CHECK_EQ(tcmu_emulate_test_unit_ready(cdb, iov, 0), TCMU_STS_OK);
}

int main(void)
{
	struct tcmu_device *dev = fake_dev_new(1000, 512, "0123456789abcdef0123456789");

	test_inquiry(dev);
	test_capacity();
	test_mode(dev);
	test_misc(dev);
	fake_dev_free(dev);
	return check_exit();
}
