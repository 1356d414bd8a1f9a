// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_zbc.so in the daemon on the simulated kernel: a bad cfgstring is
 * refused with a log line, INQUIRY says host managed, READ CAPACITY (16)
 * and REPORT ZONES agree, a write at the write pointer moves it, and the
 * write pointer is still there after the device is removed and added again.
 * Usage: test_daemon_zbc_sim <folder holding handler_zbc.so>
 */
#include "dsim.h"

#define DEV_SIZE (16u << 20)
#define ZL	 2048u /* zsize-1: 1 MiB of 512-byte LBAs */

static int report_wp(struct sim_dev *d, uint64_t zone_lba, uint64_t *wp)
{
	uint8_t cdb[16] = { ZBC_IN, 0 };
	struct sim_result r;
	int ret;

	scsi_put_be64(cdb + 2, zone_lba);
	scsi_put_be32(cdb + 10, 128);
	cdb[14] = 0x80; /* PARTIAL */
	ret = run(d, cdb, 16, NULL, 0, 128, &r);
	if (ret || r.scsi_status)
		return -1;
	*wp = scsi_get_be64(r.data_in + 64 + 24);
	return 0;
}

static void t_zbc(const char *cfg)
{
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 36 }, rc[16] = { SERVICE_ACTION_IN_16, 0x10 };
	uint8_t wr[16] = { WRITE_16 }, data[8 * 512];
	struct sim_result r;
	struct sim_dev *d;
	uint64_t wp = 0;
	int ret;

	STEP("host-managed LUN: identity, capacity, a write, the WP after a re-add");
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 1 << 20, &d);
	CHECK(ret == 0, "add %s: %d", cfg, ret);
	if (ret)
		return;
	clear_ua(d);
	ret = run(d, inq, 6, NULL, 0, 36, &r);
	CHECK(!ret && !r.scsi_status && (r.data_in[0] & 0x1f) == 0x14, "INQUIRY type %#x",
	      ret ? 0 : r.data_in[0]);
	scsi_put_be32(rc + 10, 32);
	ret = run(d, rc, 16, NULL, 0, 32, &r);
	CHECK(!ret && !r.scsi_status && scsi_get_be64(r.data_in) == DEV_SIZE / 512 - 1 &&
		      ((r.data_in[12] >> 4) & 3) == 1,
	      "READ CAPACITY (16)");
	memset(data, 0xa5, sizeof(data));
	scsi_put_be64(wr + 2, 3 * ZL);
	scsi_put_be32(wr + 10, 8);
	ret = run(d, wr, 16, data, sizeof(data), 0, &r);
	CHECK(!ret && !r.scsi_status, "write at the WP: status %d", r.scsi_status);
	ret = run(d, wr, 16, data, sizeof(data), 0, &r);
	CHECK(!ret && r.scsi_status == 2 && r.sense[12] == 0x21 && r.sense[13] == 0x04,
	      "the same write again: unaligned (status %d)", r.scsi_status);
	CHECK(!report_wp(d, 3 * ZL, &wp) && wp == 3 * ZL + 8, "WP %llu", (unsigned long long)wp);
	CHECK(dsim_remove_dev(d) == 0, "remove");

	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 1 << 20, &d);
	CHECK(ret == 0, "add again: %d", ret);
	if (ret)
		return;
	clear_ua(d);
	wp = 0;
	CHECK(!report_wp(d, 3 * ZL, &wp) && wp == 3 * ZL + 8, "WP after re-add %llu",
	      (unsigned long long)wp);
	CHECK(dsim_remove_dev(d) == 0, "remove");
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	struct sim_dev *d;
	char cfg[400];
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_daemon_zbc_sim <handler dir>");
	ret = dsim_setup("zbcsim");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret >= 1 && tcmur_handler_find("zbc"), "load handler_zbc.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	STEP("a bad cfgstring is refused");
	snprintf(cfg, sizeof(cfg), "zbc/zsize-1/frob@%s/z.img", tmp);
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 1 << 20, &d);
	CHECK(ret < 0 && ret > -1000, "status %d", ret);
	CHECK(log_has("unknown option 'frob'"), "log names the option");
	sim_dev_destroy(d);

	snprintf(cfg, sizeof(cfg), "zbc/zsize-1/conv-2@%s/z.img", tmp);
	t_zbc(cfg);

	tcmulib_close(ctx);
	return dsim_finish();
}
