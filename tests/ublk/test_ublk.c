// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu-ublk without a kernel: the ublk request -> callout mapping, the
 * status -> errno mapping, cfgstring refusal (unknown handler, SCSI-only
 * zbc, missing file) and, with the file handler in its thread-pool mode, a
 * write and read back through the callouts the queue threads make.
 *
 * usage: test_ublk [FILE_HANDLER_DIR ZBC_HANDLER_DIR]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ublk.h"

static const struct tublk_caps full = {
	.read = true,
	.write = true,
	.flush = true,
	.unmap = true,
	.writesame = true,
	.block_size = 4096,
	.size = 1 << 30,
};

static void test_plan(void)
{
	struct tublk_caps c = full;
	struct tublk_plan pl;

	tublk_plan_request(&c, UBLKA_IO_OP_READ, 8, 16, &pl);
	CHECK_EQ(pl.call, TUBLK_CALL_READ);
	CHECK_EQ(pl.off, 4096);
	CHECK_EQ(pl.len, 8192);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), 8192);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_RD_ERR), -EIO);

	tublk_plan_request(&c, UBLKA_IO_OP_WRITE, 0, 8, &pl);
	CHECK_EQ(pl.call, TUBLK_CALL_WRITE);
	CHECK(!pl.fua && !pl.flush_after);

	/* FUA: the handler's own support, else a flush after the write. */
	tublk_plan_request(&c, UBLKA_IO_OP_WRITE | UBLKA_IO_F_FUA, 0, 8, &pl);
	CHECK(!pl.fua && pl.flush_after, "FUA emulated with a flush");
	c.fua_native = true;
	tublk_plan_request(&c, UBLKA_IO_OP_WRITE | UBLKA_IO_F_FUA, 0, 8, &pl);
	CHECK(pl.fua && !pl.flush_after, "FUA passed to the handler");
	c = full;

	tublk_plan_request(&c, UBLKA_IO_OP_FLUSH, 0, 0, &pl);
	CHECK_EQ(pl.call, TUBLK_CALL_FLUSH);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), 0);
	c.flush = false;
	tublk_plan_request(&c, UBLKA_IO_OP_FLUSH, 0, 0, &pl);
	CHECK_EQ(pl.call, TUBLK_CALL_NONE);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), 0);
	c = full;

	tublk_plan_request(&c, UBLKA_IO_OP_DISCARD, 16, 2048, &pl);
	CHECK_EQ(pl.call, TUBLK_CALL_UNMAP);
	CHECK_EQ(pl.off, 8192);
	CHECK_EQ(pl.len, 1 << 20);
	tublk_plan_request(&c, UBLKA_IO_OP_WRITE_ZEROES, 0, 8, &pl);
	CHECK_EQ(pl.call, TUBLK_CALL_WRITE_ZEROS);
	c.unmap = c.writesame = false;
	tublk_plan_request(&c, UBLKA_IO_OP_DISCARD, 0, 8, &pl);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), -EOPNOTSUPP);
	tublk_plan_request(&c, UBLKA_IO_OP_WRITE_ZEROES, 0, 8, &pl);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), -EOPNOTSUPP);
	c = full;

	/* Not block aligned, past the end, unknown operations. */
	tublk_plan_request(&c, UBLKA_IO_OP_READ, 1, 8, &pl);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), -EINVAL);
	tublk_plan_request(&c, UBLKA_IO_OP_READ, (1 << 30) / 512 - 8, 16, &pl);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), -EIO);
	tublk_plan_request(&c, UBLKA_IO_OP_WRITE_SAME, 0, 8, &pl);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), -EOPNOTSUPP);
	tublk_plan_request(&c, 0x22, 0, 8, &pl);
	CHECK_EQ(tublk_result(&pl, TCMU_STS_OK), -EOPNOTSUPP);
}

static void test_errno(void)
{
	CHECK_EQ(tublk_sts_errno(TCMU_STS_OK), 0);
	CHECK_EQ(tublk_sts_errno(TCMU_STS_WR_ERR), -EIO);
	CHECK_EQ(tublk_sts_errno(TCMU_STS_BUSY), -EAGAIN);
	CHECK_EQ(tublk_sts_errno(TCMU_STS_WRITE_PROTECTED), -EROFS);
	CHECK_EQ(tublk_sts_errno(TCMU_STS_NO_RESOURCE), -ENOMEM);
}

static int scsi_only(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	(void)dev;
	(void)cmd;
	return TCMU_STS_NOT_HANDLED;
}

static void test_refusal_static(void)
{
	struct tcmur_handler h = { .subtype = "scsi", .handle_cmd = scsi_only };
	char sub[16], err[256] = "";

	CHECK_EQ(tublk_handler_usable(&h, err, sizeof(err)), -EOPNOTSUPP);
	CHECK(strstr(err, "SCSI") != NULL, "reason names SCSI: %s", err);
	h.read = (void *)1;
	h.write = (void *)1;
	CHECK_EQ(tublk_handler_usable(&h, err, sizeof(err)), 0);

	CHECK_EQ(tublk_cfg_subtype("file//tmp/x", sub, sizeof(sub)), 0);
	CHECK(!strcmp(sub, "file"));
	CHECK_EQ(tublk_cfg_subtype(";tcmur_cmd_time_out=5;qcow//x", sub, sizeof(sub)), 0);
	CHECK(!strcmp(sub, "qcow"));
	CHECK_EQ(tublk_cfg_subtype("garbage", sub, sizeof(sub)), -EINVAL);
	CHECK_EQ(tublk_cfg_subtype("/abs", sub, sizeof(sub)), -EINVAL);
}

static int open_err(const char *cfg, uint64_t size, char *err, size_t len)
{
	struct tublk_dev_conf conf = {
		.name = "t", .cfgstring = cfg, .size = size, .block_size = 512
	};
	struct tublk_dev d;
	int ret = tublk_dev_open(&d, &conf, err, len);

	if (!ret)
		tublk_dev_close(&d);
	return ret;
}

/* The file handler, thread-pool mode: callouts return their status. */
static void test_file_io(const char *dir)
{
	char path[256], cfg[300], err[512];
	struct tublk_dev_conf conf = { .name = "io", .cfgstring = cfg, .block_size = 4096 };
	static uint8_t buf[65536], back[65536];
	struct tublk_req r;
	struct tublk_dev d;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/ublk-test.img", dir);
	snprintf(cfg, sizeof(cfg), "file/%s", path);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fclose(f);
	CHECK_EQ(truncate(path, 1 << 20), 0);

	ret = tublk_dev_open(&d, &conf, err, sizeof(err));
	CHECK_EQ(ret, 0);
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(d.model != TCMUR_THREAD_MODEL_ASYNC, "TCMU_FILE_NO_URING gives the pool model");
	CHECK_EQ(d.caps.size, 1 << 20);
	CHECK(d.caps.unmap && d.caps.flush && d.caps.fua_native);

	memset(&r, 0, sizeof(r));
	r.p.tc.lib_cmd = &r.lc;
	r.p.rdev = &d.rdev;
	r.lc.hm_private = &r.p;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);

	/* WRITE with FUA of 64 KiB at 128 KiB, then READ it back. */
	tublk_plan_request(&d.caps, UBLKA_IO_OP_WRITE | UBLKA_IO_F_FUA, 256, 128, &r.plan);
	r.iov.iov_base = buf;
	r.iov.iov_len = sizeof(buf);
	tublk_req_prepare(&d, &r);
	CHECK_EQ(tublk_result(&r.plan, tublk_req_run_sync(&d, &r)), 65536);

	tublk_plan_request(&d.caps, UBLKA_IO_OP_READ, 256, 128, &r.plan);
	r.iov.iov_base = back;
	tublk_req_prepare(&d, &r);
	CHECK_EQ(tublk_result(&r.plan, tublk_req_run_sync(&d, &r)), 65536);
	CHECK(!memcmp(buf, back, sizeof(buf)), "read back what was written");

	/* WRITE_ZEROES over the first 4 KiB of it, FLUSH, DISCARD. */
	tublk_plan_request(&d.caps, UBLKA_IO_OP_WRITE_ZEROES, 256, 8, &r.plan);
	tublk_req_prepare(&d, &r);
	CHECK_EQ(tublk_result(&r.plan, tublk_req_run_sync(&d, &r)), 0);
	tublk_plan_request(&d.caps, UBLKA_IO_OP_READ, 256, 16, &r.plan);
	r.iov.iov_base = back;
	r.iov.iov_len = 8192;
	tublk_req_prepare(&d, &r);
	CHECK_EQ(tublk_result(&r.plan, tublk_req_run_sync(&d, &r)), 8192);
	CHECK(back[0] == 0 && back[4095] == 0 && back[4096] == buf[4096]);
	tublk_plan_request(&d.caps, UBLKA_IO_OP_FLUSH, 0, 0, &r.plan);
	tublk_req_prepare(&d, &r);
	CHECK_EQ(tublk_result(&r.plan, tublk_req_run_sync(&d, &r)), 0);
	tublk_plan_request(&d.caps, UBLKA_IO_OP_DISCARD, 0, 2048, &r.plan);
	tublk_req_prepare(&d, &r);
	CHECK_EQ(tublk_result(&r.plan, tublk_req_run_sync(&d, &r)), 0);

	tublk_dev_close(&d);
	unlink(path);
}

static void test_refusal_plugins(const char *file_dir, const char *zbc_dir)
{
	char err[512] = "", cfg[300], tmp[] = "/tmp/tublk-XXXXXX";

	CHECK(mkdtemp(tmp) != NULL);
	CHECK(tcmur_load_handlers(file_dir) >= 1);
	CHECK(tcmur_load_handlers(zbc_dir) >= 1);

	CHECK_EQ(open_err("nosuch/x", 1 << 20, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "no handler") != NULL, "%s", err);

	snprintf(cfg, sizeof(cfg), "zbc/%s/z.img", tmp);
	CHECK_EQ(open_err(cfg, 1 << 26, err, sizeof(err)), -EOPNOTSUPP);
	CHECK(strstr(err, "SCSI") != NULL, "%s", err);

	snprintf(cfg, sizeof(cfg), "file/%s/missing.img", tmp);
	CHECK_EQ(open_err(cfg, 0, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "No such file") != NULL, "%s", err);
	CHECK(access(cfg + 5, F_OK) != 0, "no file made by the refusal");

	CHECK_EQ(open_err(";tcmur_bogus=1;file//x", 0, err, sizeof(err)), -EINVAL);

	test_file_io(tmp);
	tcmur_unload_handlers();
	rmdir(tmp);
}

int main(int argc, char **argv)
{
	test_plan();
	test_errno();
	test_refusal_static();
	if (argc == 3) {
		setenv("TCMU_FILE_NO_URING", "1", 1);
		test_refusal_plugins(argv[1], argv[2]);
	}
	return check_exit();
}
