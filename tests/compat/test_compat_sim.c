// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The legacy (upstream 1.5) handler ABI on the simulated kernel: the
 * upstream-style handler (handler_upstyle.so) and a second copy claiming the
 * same subtype are loaded; the copy is refused with a log line naming both
 * files; the first serves a LUN through the trampolines (async callouts
 * completed with the upstream tcmur_cmd_complete(), handle_cmd for a vendor
 * opcode, sense built by tcmu_sense_set_data()).
 *
 * Usage: test_compat_sim <handler dir>.  With TCMU_DEBIAN_HANDLERS set to a
 * folder of Debian's prebuilt handlers, its fbo handler also answers
 * INQUIRY (SKIP otherwise).
 */
#include "dsim.h"

#define BS	 512
#define DEV_SIZE (8u << 20)

static int rw10(struct sim_dev *d, bool write, uint32_t lba, uint16_t blocks, const void *out,
		struct sim_result *r)
{
	uint8_t cdb[10] = { write ? WRITE_10 : READ_10 };

	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
	return run(d, cdb, sizeof(cdb), write ? out : NULL, write ? (size_t)blocks * BS : 0,
		   write ? 0 : (size_t)blocks * BS, r);
}

static void t_duplicate(const char *dir)
{
	char first[300], second[700];

	STEP("a second handler for subtype upstyle is refused, naming both files");
	snprintf(first, sizeof(first), "%s/handler_upstyle.so", dir);
	snprintf(second, sizeof(second),
		 "%s/handler_upstyle_dup.so: subtype 'upstyle' is "
		 "already served by %s; refusing",
		 dir, first);
	CHECK(log_has(second), "no refusal line \"%s\" in %s", second, logpath);
	CHECK(log_has("handler upstyle registered through the upstream 1.5 ABI"),
	      "legacy registration not logged");
}

static void t_upstyle_io(void)
{
	static uint8_t wbuf[16 * BS];
	uint8_t vendor[6] = { 0xc0, 0, 0, 0, 16, 0 };
	uint8_t sync[10] = { SYNCHRONIZE_CACHE };
	struct sim_result r;
	struct sim_dev *d;
	size_t i;
	int ret;

	STEP("an upstyle LUN: write 16 blocks, read them back, flush");
	ret = dsim_add_dev(NULL, "upstyle/a", DEV_SIZE, 4 << 20, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	for (i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 13 + 5);
	ret = rw10(d, true, 1000, 16, wbuf, &r);
	CHECK(!ret && r.scsi_status == 0, "write: ret %d status %d", ret, r.scsi_status);
	ret = rw10(d, false, 1000, 16, NULL, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == sizeof(wbuf) &&
		      !memcmp(r.data_in, wbuf, sizeof(wbuf)),
	      "read back: ret %d status %d len %u", ret, r.scsi_status, r.xfer_len);
	ret = run(d, sync, sizeof(sync), NULL, 0, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "sync cache: ret %d status %d", ret, r.scsi_status);

	STEP("handle_cmd: vendor opcode 0xc0 answers the signature");
	ret = run(d, vendor, sizeof(vendor), NULL, 0, 16, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == 16 &&
		      !memcmp(r.data_in, "UPSTYLE-COMPAT-1", 16),
	      "vendor: ret %d status %d len %u", ret, r.scsi_status, r.xfer_len);

	STEP("handle_cmd: tcmu_sense_set_data() sense reaches the initiator");
	vendor[1] = 1;
	ret = run(d, vendor, sizeof(vendor), NULL, 0, 16, &r);
	CHECK(!ret && r.scsi_status == 2 && (r.sense[2] & 0xf) == ILLEGAL_REQUEST &&
		      r.sense[12] == 0x24,
	      "bad vendor cdb: ret %d status %d key %x asc %x", ret, r.scsi_status,
	      r.sense[2] & 0xf, r.sense[12]);

	CHECK(dsim_remove_dev(d) == 0, "remove");
}

static const char *debian_dir(void)
{
	const char *dir = getenv("TCMU_DEBIAN_HANDLERS");

	return dir && *dir ? dir : NULL;
}

static void t_debian_fbo(void)
{
	const char *dir = debian_dir();
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96, 0 };
	char cfg[400];
	struct sim_result r;
	struct sim_dev *d;
	int ret;

	STEP("Debian's prebuilt handler_file_optical.so: INQUIRY device type 5");
	if (!dir) {
		printf("SKIP: TCMU_DEBIAN_HANDLERS not set\n");
		return;
	}
	if (!tcmur_handler_find("fbo")) {
		printf("SKIP: no fbo handler in %s\n", dir);
		return;
	}
	snprintf(cfg, sizeof(cfg), "fbo/%s/optical.img", tmp);
	ret = dsim_add_dev(NULL, cfg, 64u << 20, 4 << 20, &d);
	ENSURE(ret == 0, "add fbo: %d", ret);
	clear_ua(d);
	ret = run(d, inq, sizeof(inq), NULL, 0, 96, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len >= 1 && (r.data_in[0] & 0x1f) == 5,
	      "inquiry: ret %d status %d type %d", ret, r.scsi_status,
	      r.xfer_len ? r.data_in[0] & 0x1f : -1);
	CHECK(dsim_remove_dev(d) == 0, "remove fbo");
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* REPORT ZONES builds its reply with the consuming tcmu_memcpy_into_iovec(). */
static void t_debian_zbc(void)
{
	uint8_t rz[16] = { 0x95, 0x00 };
	char cfg[400];
	struct sim_result r;
	struct sim_dev *d;
	int ret;

	STEP("Debian's prebuilt handler_file_zbc.so: REPORT ZONES (16 zones of 16 MiB)");
	if (!debian_dir() || !tcmur_handler_find("zbc")) {
		printf("SKIP: no zbc handler (TCMU_DEBIAN_HANDLERS)\n");
		return;
	}
	snprintf(cfg, sizeof(cfg), "zbc/zsize-16/conv-2@%s/zbc.img", tmp);
	ret = dsim_add_dev(NULL, cfg, 256u << 20, 4 << 20, &d);
	ENSURE(ret == 0, "add zbc: %d", ret);
	clear_ua(d);
	rz[12] = 0x02; /* allocation length 512: header + 7 zones */
	ret = run(d, rz, sizeof(rz), NULL, 0, 512, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == 512,
	      "report zones: ret %d status %d "
	      "len %u",
	      ret, r.scsi_status, r.xfer_len);
	if (!ret && r.xfer_len == 512) {
		uint32_t list = (uint32_t)r.data_in[0] << 24 | r.data_in[1] << 16 |
				r.data_in[2] << 8 | r.data_in[3];

		CHECK(list == 16 * 64, "zone list length %u", list);
		CHECK((r.data_in[64] & 0xf) == 1 && be64_at(&r.data_in[72]) == 32768 &&
			      be64_at(&r.data_in[80]) == 0,
		      "zone 0: type %u len %llu start %llu", r.data_in[64] & 0xf,
		      (unsigned long long)be64_at(&r.data_in[72]),
		      (unsigned long long)be64_at(&r.data_in[80]));
		CHECK((r.data_in[64 + 2 * 64] & 0xf) == 2 &&
			      be64_at(&r.data_in[80 + 2 * 64]) == 2 * 32768,
		      "zone 2 sequential at 65536");
	}
	CHECK(dsim_remove_dev(d) == 0, "remove zbc");
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_compat_sim <handler dir>");
	ret = dsim_setup("compatsim");
	if (ret)
		return ret;
	STEP("load the upstream-style handler and its duplicate");
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret == 1 && tcmur_handler_find("upstyle"), "loaded %d", ret);
	t_duplicate(argv[1]);
	/* Handlers register before libtcmu learns the list. */
	if (debian_dir())
		printf("  %d Debian handler(s) loaded from %s\n", tcmur_load_handlers(debian_dir()),
		       debian_dir());
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");
	t_upstyle_io();
	t_debian_fbo();
	t_debian_zbc();
	return dsim_finish();
}
