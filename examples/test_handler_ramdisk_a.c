// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_ramdisk_a.so (the style (a) example) loaded by the daemon core on
 * the simulated kernel: INQUIRY answered by tcmu_emulate_inquiry(), a
 * WRITE(10) read back with READ(10), and REQUEST SENSE, which the handler
 * leaves to the daemon's SCSI layer.
 * Usage: test_handler_ramdisk_a <folder holding handler_ramdisk_a.so>
 */
#include "dsim.h"

#define BS 512

int main(int argc, char **argv)
{
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96, 0 };
	uint8_t w10[10] = { WRITE_10, 0, 0, 0, 0, 8, 0, 0, 2, 0 };
	uint8_t r10[10] = { READ_10, 0, 0, 0, 0, 8, 0, 0, 2, 0 };
	uint8_t rs[6] = { REQUEST_SENSE, 0, 0, 0, 18, 0 };
	uint8_t data[2 * BS];
	struct tcmulib_handler *lh;
	struct sim_result r;
	struct sim_dev *d;
	size_t i, n;
	int ret;

	REQUIRE(argc == 2, "usage: test_handler_ramdisk_a <handler dir>");
	ret = dsim_setup("ramdisk_a");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret >= 1 && tcmur_handler_find("ramdisk_a"), "load: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");
	ret = dsim_add_dev(NULL, "ramdisk_a/x", 1 << 20, 1 << 20, &d);
	REQUIRE(ret == 0, "add: %d", ret);
	clear_ua(d);

	STEP("INQUIRY through tcmu_emulate_inquiry()");
	ret = run(d, inq, sizeof(inq), NULL, 0, 96, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len >= 36 && (r.data_in[0] & 0x1f) == 0,
	      "inquiry: ret %d status %d", ret, r.scsi_status);

	STEP("WRITE(10) of 2 blocks at LBA 8, READ(10) returns them");
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	ret = run(d, w10, sizeof(w10), data, sizeof(data), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: ret %d status %d", ret, r.scsi_status);
	ret = run(d, r10, sizeof(r10), NULL, 0, sizeof(data), &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == sizeof(data) &&
		      !memcmp(r.data_in, data, sizeof(data)),
	      "read: ret %d status %d", ret, r.scsi_status);

	STEP("REQUEST SENSE: TCMU_STS_NOT_HANDLED falls back to the SCSI layer");
	ret = run(d, rs, sizeof(rs), NULL, 0, 18, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == 18 && (r.data_in[0] & 0x7f) == 0x70,
	      "request sense: ret %d status %d", ret, r.scsi_status);

	CHECK(dsim_remove_dev(d) == 0, "remove");
	tcmulib_close(ctx);
	return dsim_finish();
}
