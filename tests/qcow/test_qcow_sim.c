// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_qcow.so in the daemon core on the simulated kernel: refusals at
 * add (size mismatch, dirty bit, encryption) reach the netlink reply and the
 * log; WRITE/READ/FUA/SYNCHRONIZE CACHE/UNMAP/GET LBA STATUS on a qcow2 v3
 * image, then 'qemu-img check' is clean and qemu-io reads our data; a
 * corrupt-marked image takes reads and refuses writes with DATA PROTECT.
 * Usage: test_qcow_sim <folder holding handler_qcow.so>   (77: no qemu-img)
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "dsim.h"

#define BS	 512
#define DEV_SIZE (16u << 20)

static int sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int rw10(struct sim_dev *d, bool write, uint32_t lba, uint16_t blocks, const void *data,
		bool fua, struct sim_result *res)
{
	uint8_t cdb[10] = { write ? WRITE_10 : READ_10, fua ? 0x08 : 0 };

	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
	return run(d, cdb, 10, write ? data : NULL, write ? blocks * BS : 0,
		   write ? 0 : blocks * BS, res);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void t_refusals(const char *img)
{
	char cfg[600], bad[400];
	struct sim_dev *d;
	int ret;

	STEP("a LUN size other than the image's is refused, naming both sizes");
	snprintf(cfg, sizeof(cfg), "qcow/%s", img);
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE * 2, 1 << 20, &d);
	CHECK(ret != 0, "added with the wrong size");
	CHECK(log_has("they must be equal"), "log gives the reason");
	if (!ret)
		dsim_remove_dev(d);

	STEP("an image with the dirty bit is refused with the reason in the log");
	snprintf(bad, sizeof(bad), "%s/dirty.qcow2", tmp);
	ENSURE(!sh("cp %s %s", img, bad) &&
		       !sh("printf '\\001' | dd of=%s bs=1 seek=79 conv=notrunc status=none%s", bad,
			   ""),
	       "make dirty image");
	snprintf(cfg, sizeof(cfg), "qcow/%s", bad);
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 1 << 20, &d);
	CHECK(ret != 0, "dirty image added");
	CHECK(log_has("dirty bit"), "log names the dirty bit");
	if (!ret)
		dsim_remove_dev(d);

	STEP("a relative path is refused");
	ret = dsim_add_dev(NULL, "qcow/rel.qcow2", DEV_SIZE, 1 << 20, &d);
	CHECK(ret != 0, "relative path added");
	if (!ret)
		dsim_remove_dev(d);
}

static void t_io(const char *img)
{
	uint8_t w[64 * BS], zero[64 * BS] = { 0 };
	struct sim_result r;
	struct sim_dev *d;
	char cfg[600];
	int ret;

	snprintf(cfg, sizeof(cfg), "qcow/%s", img);
	STEP("add %s", cfg);
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 4 << 20, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);

	STEP("WRITE(10) 64 blocks over a cluster boundary, read back; FUA write");
	memset(w, 0x6b, sizeof(w));
	ret = rw10(d, true, 100, 64, w, false, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	ret = rw10(d, false, 100, 64, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && !memcmp(r.data_in, w, sizeof(w)), "read back");
	ret = rw10(d, true, 20000, 64, w, true, &r);
	CHECK(!ret && r.scsi_status == 0, "FUA write: %d/%d", ret, r.scsi_status);
	{
		uint8_t sc[10] = { SYNCHRONIZE_CACHE };

		ret = run(d, sc, 10, NULL, 0, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "sync cache: %d/%d", ret, r.scsi_status);
	}

	STEP("UNMAP 1 MiB at LBA 16384: reads zero, GET LBA STATUS says deallocated");
	memset(w, 0x11, sizeof(w));
	for (uint32_t lba = 16384; lba < 16384 + 2048; lba += 64)
		rw10(d, true, lba, 64, w, false, &r);
	{
		uint8_t cdb[10] = { UNMAP, 0, 0, 0, 0, 0, 0, 0, 24 };
		uint8_t list[24] = { 0, 22, 0, 16 };

		put32(list + 12, 16384);
		put32(list + 16, 2048);
		ret = run(d, cdb, 10, list, sizeof(list), 0, &r);
		CHECK(!ret && r.scsi_status == 0, "unmap: %d/%d key %x asc %x", ret, r.scsi_status,
		      r.sense[2] & 0xf, r.sense[12]);
	}
	ret = rw10(d, false, 16384 + 64, 64, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && !memcmp(r.data_in, zero, sizeof(zero)),
	      "unmapped range reads zero");
	{
		uint8_t cdb[16] = { SERVICE_ACTION_IN_16, GET_LBA_STATUS };
		const uint8_t *dsc;

		cdb[2 + 6] = 0x40; /* LBA 16384 */
		cdb[13] = 64;
		ret = run(d, cdb, 16, NULL, 0, 64, &r);
		CHECK(!ret && r.scsi_status == 0 && r.xfer_len >= 24, "get lba status: %d/%d", ret,
		      r.scsi_status);
		dsc = r.data_in + 8;
		CHECK(r.xfer_len < 24 || (dsc[12] & 0xf) == 1, "deallocated: %u", dsc[12] & 0xf);
		cdb[2 + 6] = 0;
		cdb[2 + 7] = 100; /* LBA 100: written */
		ret = run(d, cdb, 16, NULL, 0, 64, &r);
		dsc = r.data_in + 8;
		CHECK(!ret && r.xfer_len >= 24 && (dsc[12] & 0xf) == 0, "mapped");
	}
	STEP("remove; qemu-img check clean; qemu-io reads what we wrote");
	CHECK(dsim_remove_dev(d) == 0, "remove");
	CHECK(sh("qemu-img check -q %s%s", img, "") == 0, "qemu-img check");
	CHECK(sh("qemu-io -c 'read -P 0x6b 51200 32768' %s | grep -q 'read 32768'%s", img, "") == 0,
	      "qemu-io reads the pattern");
	CHECK(sh("qemu-io -c 'read -P 0 8388608 1048576' %s | grep -q 'read 1048576'%s", img, "") ==
		      0,
	      "qemu-io reads the unmapped range as zero");
}

static void t_corrupt(const char *img)
{
	uint8_t w[BS] = { 1 };
	struct sim_result r;
	struct sim_dev *d;
	char cfg[600];
	int ret;

	STEP("corrupt bit: the LUN reads, writes get DATA PROTECT / WRITE PROTECTED");
	ENSURE(!sh("printf '\\002' | dd of=%s bs=1 seek=79 conv=notrunc status=none%s", img, ""),
	       "set corrupt bit");
	snprintf(cfg, sizeof(cfg), "qcow/%s", img);
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 1 << 20, &d);
	ENSURE(ret == 0, "add corrupt image: %d", ret);
	clear_ua(d);
	CHECK(log_has("marked corrupt"), "log says why");
	ret = rw10(d, false, 100, 1, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0, "read: %d/%d", ret, r.scsi_status);
	ret = rw10(d, true, 100, 1, w, false, &r);
	CHECK(!ret && r.scsi_status == 2 && (r.sense[2] & 0xf) == 7 && r.sense[12] == 0x27,
	      "write: status %d key %x asc %x", r.scsi_status, r.sense[2] & 0xf, r.sense[12]);
	CHECK(dsim_remove_dev(d) == 0, "remove");
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	char img[300];
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_qcow_sim <handler dir>");
	if (system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1")) {
		printf("SKIP: qemu-img/qemu-io not installed\n");
		return 77;
	}
	ret = dsim_setup("qcowsim");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret >= 1 && tcmur_handler_find("qcow"), "load handler_qcow.so: %d", ret);
	/* ASYNC (io_uring fast path plus the handler's workers), or PARALLEL without io_uring. */
	if (getenv("TCMU_QCOW_NO_URING"))
		CHECK(tcmur_handler_find("qcow")->model == TCMUR_THREAD_MODEL_PARALLEL,
		      "PARALLEL without io_uring");
	else
		CHECK(tcmur_handler_find("qcow")->model == TCMUR_THREAD_MODEL_ASYNC ||
			      tcmur_handler_find("qcow")->model == TCMUR_THREAD_MODEL_PARALLEL,
		      "ASYNC or PARALLEL");
	printf("qcow handler: %s\n", tcmur_handler_find("qcow")->model == TCMUR_THREAD_MODEL_ASYNC
					     ? "ASYNC (io_uring)"
					     : "PARALLEL");
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	snprintf(img, sizeof(img), "%s/a.qcow2", tmp);
	REQUIRE(!sh("qemu-img create -q -f qcow2 %s %s", img, "16M"), "qemu-img create");
	t_refusals(img);
	t_io(img);
	t_corrupt(img);

	tcmulib_close(ctx);
	ctx = NULL;
	return dsim_finish();
}
