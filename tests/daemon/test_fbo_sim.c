// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_fbo.so in the daemon on the simulated kernel: INQUIRY says
 * CD/DVD and removable, READ CAPACITY gives the medium, a reconfig with a
 * new cfgstring changes the medium (unit attention 06/28/00, the new size,
 * read-only), FORMAT UNIT with IMMED finishes on its thread, and the
 * administrator's eject and load (the daemon side of DBus Admin1), a
 * failed load leaving the drive empty.
 * Usage: test_daemon_fbo_sim <folder holding handler_fbo.so>
 */
#include <fcntl.h>

#include "dsim.h"

#define DEV_SIZE (8u << 20)

/* A command without Data-Out: 0, or sense key << 16 | ASC << 8 | ASCQ. */
static int run_kcq(struct sim_dev *d, const uint8_t *cdb, size_t cdb_len, size_t in,
		   struct sim_result *r)
{
	int ret = run(d, cdb, cdb_len, NULL, 0, in, r);

	if (ret)
		return ret;
	if (r->scsi_status)
		return (r->sense[2] & 0xf) << 16 | r->sense[12] << 8 | r->sense[13];
	return 0;
}

static int read_cap(struct sim_dev *d, uint32_t *last)
{
	uint8_t cdb[10] = { READ_CAPACITY };
	struct sim_result r;
	int ret = run_kcq(d, cdb, 10, 8, &r);

	if (!ret)
		*last = scsi_get_be32(r.data_in);
	return ret;
}

static int tur_kcq(struct sim_dev *d)
{
	uint8_t cdb[6] = { TEST_UNIT_READY };
	struct sim_result r;

	return run_kcq(d, cdb, 6, 0, &r);
}

static void copy_cfgstring(const struct tcmur_dbus_device *dev, void *arg)
{
	if (!strcmp(dev->name, "cd0"))
		snprintf(arg, 600, "%s", dev->cfgstring);
}

static void make_iso(const char *path, unsigned int blocks)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0600);

	CHECK(fd >= 0 && ftruncate(fd, (off_t)blocks * 2048) == 0, "make %s", path);
	if (fd >= 0)
		close(fd);
}

static void admin_medium(struct sim_dev *d)
{
	uint8_t prevent[6] = { ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 1 };
	char iso[400], want[600], got[600] = "", *reason = NULL;
	struct sim_result r;
	uint32_t last = 0;

	STEP("the administrator ejects and loads (tcmu-stat --eject/--load)");
	CHECK(tcmur_dev_change_medium("nope", NULL, &reason) == -ENODEV && !reason,
	      "an unknown device");
	CHECK(tcmur_dev_change_medium("cd0", NULL, &reason) == 0 && !reason, "eject");
	CHECK(tur_kcq(d) == 0x023a02, "no medium, tray open");
	snprintf(iso, sizeof(iso), "%s/two.iso", tmp);
	make_iso(iso, 30);
	snprintf(want, sizeof(want), "ro/%s", iso);
	CHECK(tcmur_dev_change_medium("cd0", want, &reason) == 0 && !reason, "load %s", want);
	CHECK(tur_kcq(d) == 0x062800, "the unit attention comes first");
	CHECK(!read_cap(d, &last) && last == 29, "the new medium's capacity %u", last);
	tcmur_for_each_device(copy_cfgstring, got);
	snprintf(want, sizeof(want), "fbo/ro/%s", iso);
	CHECK(!strcmp(got, want), "the device's cfgstring is now %s", got);

	STEP("a failed load leaves no medium, tray closed, logged");
	snprintf(iso, sizeof(iso), "ro/%s/missing.iso", tmp); /* ro/: not created */
	CHECK(tcmur_dev_change_medium("cd0", iso, &reason) == -ENOENT, "load of a missing file");
	CHECK(reason && strstr(reason, "cannot load") && strstr(reason, "no medium"), "reason %s",
	      reason ? reason : "(none)");
	free(reason);
	reason = NULL;
	CHECK(tur_kcq(d) == 0x023a01, "NOT READY, MEDIUM NOT PRESENT - TRAY CLOSED");
	CHECK(read_cap(d, &last) == 0x023a01, "READ CAPACITY too");
	CHECK(log_has("the drive has no medium"), "the log says so");
	tcmur_for_each_device(copy_cfgstring, got);
	CHECK(!strcmp(got, want), "the cfgstring stays the last loaded medium: %s", got);

	STEP("an eject while the initiator prevents removal is refused");
	snprintf(iso, sizeof(iso), "ro/%s/two.iso", tmp);
	CHECK(tcmur_dev_change_medium("cd0", iso, &reason) == 0, "load again");
	clear_ua(d);
	CHECK(!run(d, prevent, 6, NULL, 0, 0, &r) && !r.scsi_status, "PREVENT");
	CHECK(tcmur_dev_change_medium("cd0", NULL, &reason) == -EBUSY, "eject refused");
	CHECK(reason && strstr(reason, "prevents medium removal"), "reason %s",
	      reason ? reason : "(none)");
	free(reason);
	CHECK(tur_kcq(d) == 0, "the medium is still there");
}

int main(int argc, char **argv)
{
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 36 }, fmt[6] = { FORMAT_UNIT, 0x11 };
	uint8_t tur[6] = { TEST_UNIT_READY }, wr[10] = { WRITE_10, 0, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t plist[12] = { 0, 0x02, 0, 8 }, blk[2048] = { 0 };
	struct tcmulib_handler *lh;
	struct sim_result r;
	struct sim_dev *d;
	char cfg[600], iso[400];
	uint32_t last = 0;
	size_t n;
	int ret, i, fd;

	REQUIRE(argc == 2, "usage: test_daemon_fbo_sim <handler dir>");
	ret = dsim_setup("fbosim");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret >= 1 && tcmur_handler_find("fbo"), "load handler_fbo.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	STEP("a new writable medium");
	snprintf(cfg, sizeof(cfg), "fbo/%s/disc", tmp);
	REQUIRE(dsim_add_dev("cd0", cfg, DEV_SIZE, 1 << 20, &d) == 0, "add %s", cfg);
	clear_ua(d);
	ret = run(d, inq, 6, NULL, 0, 36, &r);
	CHECK(!ret && !r.scsi_status && r.data_in[0] == 0x05 && (r.data_in[1] & 0x80),
	      "INQUIRY: type 5, removable");
	CHECK(!read_cap(d, &last) && last == DEV_SIZE / 2048 - 1, "capacity %u", last);

	STEP("FORMAT UNIT with IMMED finishes on its thread");
	ret = run(d, fmt, 6, plist, sizeof(plist), 0, &r);
	CHECK(!ret && !r.scsi_status, "FORMAT UNIT: status %d", r.scsi_status);
	for (i = 0; i < 500; i++) {
		if (!run(d, tur, 6, NULL, 0, 0, &r) && !r.scsi_status)
			break;
		usleep(10000);
	}
	CHECK(i < 500, "TEST UNIT READY never GOOD after the format");

	STEP("a reconfig loads another medium: unit attention, new size, read-only");
	snprintf(iso, sizeof(iso), "%s/one.iso", tmp);
	fd = open(iso, O_CREAT | O_WRONLY, 0600);
	REQUIRE(fd >= 0 && ftruncate(fd, 40 * 2048) == 0, "make %s", iso);
	close(fd);
	snprintf(cfg, sizeof(cfg), "fbo/ro/%s", iso);
	{
		struct sim_nl_reply rep;

		REQUIRE(!sim_nl_reconfig_cfg(d, cfg) && !tcmulib_master_fd_ready(ctx), "reconfig");
		CHECK(!wait_reply(&rep, 5000) && rep.status == 0, "reconfig reply %d", rep.status);
	}
	CHECK(read_cap(d, &last) == 0x062800, "the unit attention comes first");
	CHECK(!read_cap(d, &last) && last == 39, "new capacity %u", last);
	ret = run(d, wr, 10, blk, sizeof(blk), 0, &r);
	CHECK(!ret && r.scsi_status == 2 && (r.sense[2] & 0xf) == DATA_PROTECT,
	      "write to the read-only medium: DATA PROTECT");
	CHECK(log_has("medium changed to"), "the log says so");
	admin_medium(d);
	CHECK(dsim_remove_dev(d) == 0, "remove");

	tcmulib_close(ctx);
	return dsim_finish();
}
