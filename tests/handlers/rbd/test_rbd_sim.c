// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_rbd.so on the simulated kernel against a real single-node Ceph
 * cluster on loopback (tests/ceph/run-test.sh starts it and exports
 * CEPH_CONF): bad cfgstrings, missing pool/image, a wrong conf path, an
 * unreachable cluster (bounded), a size mismatch; I/O checked through the
 * test's own librbd client; WRITE SAME, UNMAP, COMPARE AND WRITE (match,
 * miscompare with its offset); resize of the LUN and of the image; our
 * client blocklisted, then recovered; implicit-ALUA locking between two
 * devices on one image (lock break, fencing, the lock tag).
 * Usage: test_rbd_sim <folder holding handler_rbd.so>
 */
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "dsim.h"

#define BS	  512
#define DEV_SIZE  (16u << 20)
#define SAM_CHECK 0x02
#define SAM_BUSY  0x08
#define WWN	  "naa.5001405000000001"

static const char *conf;
static rados_t peer;
static rados_ioctx_t pio;

/* Add a device and wait up to 60 s for the reply (an unreachable cluster
 * takes the connect timeout): the reply status, or < -999 when none. */
static int add_rbd(const char *name, const char *cfg, uint64_t size, struct sim_dev **d)
{
	struct sim_nl_reply r;
	int ret = dsim_add(name, cfg, size, 4 << 20, d, &r);

	if (ret == -1002)
		ret = wait_reply(&r, 55000) ? -1002 : 0;
	return ret ? ret : r.status;
}

static int mkimage(const char *name, uint64_t size)
{
	int order = 22;

	rbd_remove(pio, name);
	return rbd_create2(pio, name, size, RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK,
			   &order);
}

static int rw16(struct sim_dev *d, uint8_t op, uint8_t flags, uint64_t lba, uint32_t blocks,
		const void *out, size_t out_len, size_t in_len, struct sim_result *r)
{
	uint8_t cdb[16] = { op, flags };

	scsi_put_be64(&cdb[2], lba);
	scsi_put_be32(&cdb[10], blocks);
	return run(d, cdb, 16, out, out_len, in_len, r);
}

static bool read_is(struct sim_dev *d, uint64_t lba, uint32_t blocks, const uint8_t *want)
{
	struct sim_result r;
	int ret = rw16(d, READ_16, 0, lba, blocks, NULL, 0, blocks * BS, &r);

	return !ret && r.scsi_status == 0 && r.xfer_len == blocks * BS &&
	       !memcmp(r.data_in, want, blocks * BS);
}

/* The image's bytes, read by the test's own client. */
static bool image_is(const char *name, uint64_t off, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len);
	rbd_image_t img;
	bool ok = false;

	if (buf && !rbd_open_read_only(pio, name, &img, NULL)) {
		ok = rbd_read(img, off, len, (char *)buf) == (ssize_t)len &&
		     !memcmp(buf, want, len);
		rbd_close(img);
	}
	free(buf);
	return ok;
}

/* Write until GOOD for up to limit_s: seconds taken or -1; counts the rest. */
static double write_until_good(struct sim_dev *d, uint64_t lba, const uint8_t *data, double limit_s,
			       int *busy, int *other)
{
	double t0 = now_s();
	struct sim_result r;
	int ret;

	while (now_s() - t0 < limit_s) {
		ret = rw16(d, WRITE_16, 0, lba, 8, data, 8 * BS, 0, &r);
		if (!ret && r.scsi_status == 0)
			return now_s() - t0;
		if (!ret && r.scsi_status == SAM_BUSY)
			(*busy)++;
		else
			(*other)++;
		usleep(50000);
	}
	return -1;
}

static void bad_one(const char *cfg, uint64_t size, const char *why)
{
	struct sim_dev *d;
	double t0 = now_s();
	int st = add_rbd(NULL, cfg, size, &d);

	CHECK(st < 0 && st > -1000, "%s: status %d", cfg, st);
	CHECK(log_has(why), "%s: log says '%s'", cfg, why);
	printf("  %s: refused in %.1f s\n", cfg, now_s() - t0);
	sim_dev_destroy(d);
}

static void t_bad_input(void)
{
	char cfg[512], path[400];
	char *reason = NULL;
	struct tcmur_handler_rec *rec = tcmur_handler_find("rbd");
	struct tcmur_handler *h = rec ? &rec->h : NULL;
	FILE *f;

	STEP("check_config: syntax, osd_op_timeout=abc refused");
	ENSURE(h && h->check_config, "rbd handler with check_config");
	CHECK(h->check_config("rbd/rbd/img;osd_op_timeout=30;conf=/x.conf;id=admin", &reason),
	      "full cfgstring accepted: %s", reason ? reason : "");
	free(reason);
	reason = NULL;
	CHECK(!h->check_config("rbd/rbd/img;osd_op_timeout=abc", &reason) && reason &&
		      strstr(reason, "osd_op_timeout must be a whole number of seconds"),
	      "abc refused: %s", reason ? reason : "(no reason)");
	free(reason);
	reason = NULL;
	CHECK(!h->check_config("rbd/justapool", &reason) && reason, "no image: %s",
	      reason ? reason : "(no reason)");
	free(reason);
	reason = NULL;
	CHECK(!h->check_config("rbd/rbd/img;colour=blue", &reason) && reason &&
		      strstr(reason, "unknown option colour"),
	      "unknown option: %s", reason ? reason : "(no reason)");
	free(reason);

	STEP("missing pool or image, wrong conf path, size mismatch: the add fails, the log says "
	     "why");
	ENSURE(!mkimage("bad", 2 * DEV_SIZE), "create image bad");
	bad_one("rbd/rbd/img;osd_op_timeout=abc", DEV_SIZE,
		"osd_op_timeout must be a whole number");
	bad_one("rbd/nosuchpool/img", DEV_SIZE, "cannot open pool 'nosuchpool': no such pool");
	bad_one("rbd/rbd/nosuchimage", DEV_SIZE,
		"cannot open image 'nosuchimage' in pool 'rbd': no such image");
	bad_one("rbd/rbd/bad;conf=/nonexistent/ceph.conf", DEV_SIZE,
		"cannot read the Ceph configuration from /nonexistent/ceph.conf");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/bad;conf=%s", conf);
	bad_one(cfg, DEV_SIZE, "image rbd/bad is 33554432 bytes but the LUN is 16777216");

	STEP("osd_op_timeout=5 is not above heartbeat grace + interval: 20 + 6 + 5 s instead");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/bad;osd_op_timeout=5;conf=%s", conf);
	bad_one(cfg, DEV_SIZE, "osd_op_timeout=5 is not above osd_heartbeat_grace");
	CHECK(log_has("OSD operations time out after 31 s"), "fallback 31 s");

	STEP("an unreachable cluster fails the add within the connect timeout");
	snprintf(path, sizeof(path), "%s/unreachable.conf", tmp);
	f = fopen(path, "w");
	ENSURE(f, "%s", path);
	fprintf(f, "[global]\nmon host = 127.0.0.1:1\nauth client required = none\n");
	fclose(f);
	snprintf(cfg, sizeof(cfg), "rbd/rbd/bad;conf=%s", path);
	{
		double t0 = now_s();

		bad_one(cfg, 2 * DEV_SIZE, "cannot connect to the Ceph cluster");
		CHECK(now_s() - t0 < 50, "took %.1f s", now_s() - t0);
	}
	rbd_remove(pio, "bad");
}

static void t_io(void)
{
	static uint8_t wbuf[64 * BS], zero[64 * BS], pat[8 * BS], caw[2 * BS];
	struct sim_nl_reply nr;
	struct sim_result r;
	struct sim_dev *d;
	char cfg[512];
	int ret, i;

	STEP("add an rbd LUN (conf given, osd_op_timeout=40): writes land in the image");
	ENSURE(!mkimage("lun0", DEV_SIZE), "create image lun0");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/lun0;osd_op_timeout=40;conf=%s;id=admin", conf);
	ret = add_rbd("lun0", cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	for (i = 0; i < (int)sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 13 + 5);
	ret = rw16(d, WRITE_16, 0, 4096, 64, wbuf, sizeof(wbuf), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	CHECK(read_is(d, 4096, 64, wbuf), "read back");
	{
		uint8_t cdb[10] = { SYNCHRONIZE_CACHE };

		ret = run(d, cdb, 10, NULL, 0, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "SYNCHRONIZE CACHE: %d/%d", ret, r.scsi_status);
	}
	CHECK(image_is("lun0", 4096 * BS, wbuf, sizeof(wbuf)), "data in the image");
	CHECK(log_has("OSD operations time out after 40 s"), "osd_op_timeout=40 applied");

	STEP("VPD B0: unmap granularity and xcopy length from the object size");
	{
		uint8_t cdb[6] = { INQUIRY, 1, 0xb0, 0, 64 };
		uint32_t gran, maxu;

		ret = run(d, cdb, 6, NULL, 0, 64, &r);
		ENSURE(!ret && r.scsi_status == 0 && r.xfer_len >= 32, "VPD B0: %d/%d", ret,
		       r.scsi_status);
		maxu = (uint32_t)r.data_in[20] << 24 | (uint32_t)r.data_in[21] << 16 |
		       (uint32_t)r.data_in[22] << 8 | r.data_in[23];
		gran = (uint32_t)r.data_in[28] << 24 | (uint32_t)r.data_in[29] << 16 |
		       (uint32_t)r.data_in[30] << 8 | r.data_in[31];
		printf("  max unmap %u blocks, granularity %u blocks\n", maxu, gran);
		CHECK(maxu == 4 * (4u << 20) / BS, "max unmap = 4 objects: %u", maxu);
		CHECK(gran == 65536 / BS, "granularity = rbd_discard_granularity_bytes: %u", gran);
	}

	STEP("WRITE SAME(16): a pattern, and zeroes with UNMAP");
	for (i = 0; i < (int)sizeof(pat); i++)
		pat[i] = (uint8_t)(0xa0 + i % BS % 7);
	ret = rw16(d, WRITE_SAME_16, 0, 200, 8, pat, BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write same pattern: %d/%d", ret, r.scsi_status);
	CHECK(read_is(d, 200, 8, pat), "pattern repeated");
	CHECK(image_is("lun0", 200 * BS, pat, sizeof(pat)), "pattern in the image");
	ret = rw16(d, WRITE_SAME_16, 0x08, 4096, 64, zero, BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write same unmap: %d/%d sense %02x/%02x", ret,
	      r.scsi_status, r.sense[2], r.sense[12]);
	CHECK(read_is(d, 4096, 64, zero), "reads zero");

	STEP("UNMAP of written blocks (aligned and not): GOOD, they read as zeroes");
	ret = rw16(d, WRITE_16, 0, 8192, 64, wbuf, sizeof(wbuf), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	ret = rw16(d, WRITE_16, 0, 8192 + 64, 64, wbuf, sizeof(wbuf), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	{
		uint8_t cdb[10] = { UNMAP }, list[24] = { 0, 22, 0, 16 };

		scsi_put_be64(&list[8], 8192 + 3);
		scsi_put_be32(&list[16], 120);
		cdb[8] = sizeof(list);
		ret = run(d, cdb, 10, list, sizeof(list), 0, &r);
		CHECK(!ret && r.scsi_status == 0, "unmap: %d/%d sense %02x/%02x", ret,
		      r.scsi_status, r.sense[2], r.sense[12]);
	}
	CHECK(read_is(d, 8192 + 3, 64, zero) && read_is(d, 8192 + 3 + 56, 64, zero),
	      "unmapped range reads zero");
	CHECK(read_is(d, 8192, 3, wbuf), "the blocks before it are kept");
	CHECK(image_is("lun0", (8192 + 3) * BS, zero, 64 * BS), "zero in the image");

	STEP("COMPARE AND WRITE: a match writes, a miscompare reports the offset");
	memset(caw, 0x11, BS);
	ret = rw16(d, WRITE_16, 0, 300, 1, caw, BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	memset(caw + BS, 0x22, BS);
	{
		uint8_t cdb[16] = { COMPARE_AND_WRITE };

		scsi_put_be64(&cdb[2], 300);
		cdb[13] = 1;
		ret = run(d, cdb, 16, caw, 2 * BS, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "match: %d/%d sense %02x/%02x", ret,
		      r.scsi_status, r.sense[2], r.sense[12]);
		CHECK(read_is(d, 300, 1, caw + BS), "written");
		/* compare with 0x22 except byte 77 */
		memset(caw, 0x22, BS);
		caw[77] = 0x99;
		memset(caw + BS, 0x33, BS);
		ret = run(d, cdb, 16, caw, 2 * BS, 0, &r);
		CHECK(!ret && r.scsi_status == SAM_CHECK && (r.sense[2] & 0x0f) == 0x0e &&
			      r.sense[12] == 0x1d,
		      "miscompare: %d/%d sense %02x/%02x", ret, r.scsi_status, r.sense[2],
		      r.sense[12]);
		CHECK((r.sense[0] & 0x80) && r.sense[6] == 77 && !r.sense[5],
		      "offset 77 in the sense information: valid %d, %02x%02x%02x%02x",
		      r.sense[0] >> 7, r.sense[3], r.sense[4], r.sense[5], r.sense[6]);
		memset(caw, 0x22, BS);
		CHECK(read_is(d, 300, 1, caw), "not written on a miscompare");
	}

	STEP("LUN resize: the image grows, I/O past the old end works");
	CHECK(!sim_nl_reconfig_size(d, 2 * DEV_SIZE) && !tcmulib_master_fd_ready(ctx) &&
		      !wait_reply(&nr, 10000) && nr.status == 0,
	      "resize reply %d", nr.status);
	{
		rbd_image_t img;
		uint64_t sz = 0;

		if (!rbd_open_read_only(pio, "lun0", &img, NULL)) {
			rbd_get_size(img, &sz);
			rbd_close(img);
		}
		CHECK(sz == 2 * DEV_SIZE, "image size %llu", (unsigned long long)sz);
	}
	clear_ua(d);
	ret = rw16(d, WRITE_16, 0, DEV_SIZE / BS + 10, 8, wbuf, 8 * BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write past the old end: %d/%d", ret, r.scsi_status);
	CHECK(read_is(d, DEV_SIZE / BS + 10, 8, wbuf), "read past the old end");

	STEP("image resized by another client: capacity changed unit attention, new size");
	{
		rbd_image_t img;
		uint8_t rc16[16] = { SERVICE_ACTION_IN_16, READ_CAPACITY_16 };
		uint8_t tur[6] = { TEST_UNIT_READY };
		uint64_t last = 0;
		bool ua = false;

		rc16[13] = 32;
		ENSURE(!rbd_open(pio, "lun0", &img, NULL), "peer open");
		CHECK(!rbd_resize(img, 3 * DEV_SIZE), "peer resize");
		rbd_close(img);
		for (i = 0; i < 100 && !ua; i++) {
			if (!run(d, tur, 6, NULL, 0, 0, &r) && r.scsi_status == SAM_CHECK &&
			    (r.sense[2] & 0x0f) == 6 && r.sense[12] == 0x2a && r.sense[13] == 0x09)
				ua = true;
			else
				usleep(100000);
		}
		CHECK(ua, "CAPACITY DATA HAS CHANGED unit attention");
		clear_ua(d);
		if (!run(d, rc16, 16, NULL, 0, 32, &r) && !r.scsi_status && r.xfer_len >= 8)
			last = scsi_get_be64(r.data_in);
		CHECK(last == 3ull * DEV_SIZE / BS - 1, "READ CAPACITY last LBA %llu",
		      (unsigned long long)last);
	}

	STEP("remove: success reply; the image keeps the data");
	CHECK(dsim_remove_dev(d) == 0, "remove");
	CHECK(image_is("lun0", 4096 * BS, zero, sizeof(zero)) &&
		      image_is("lun0", 200 * BS, pat, sizeof(pat)),
	      "data in the image after removal");
}

/* The client address the daemon logged for its last open of any image. */
static bool logged_addr(char *addr, size_t len)
{
	char *t = dt_slurp(logpath), *p = t, *last = NULL, *e;

	while (p && (p = strstr(p, "(client address "))) {
		last = p + strlen("(client address ");
		p = last;
	}
	if (last) {
		e = strchr(last, ')');
		if (e && (size_t)(e - last) < len) {
			memcpy(addr, last, (size_t)(e - last));
			addr[e - last] = '\0';
		} else {
			last = NULL;
		}
	}
	free(t);
	return last != NULL;
}

/* A monitor command; its output, if out, as a string the caller frees. */
static int mon_out(const char *json, char **out)
{
	const char *cmd[1] = { json };
	char *o = NULL, *s = NULL;
	size_t ol = 0, sl = 0;
	int ret = rados_mon_command(peer, cmd, 1, "", 0, &o, &ol, &s, &sl);

	if (ret)
		printf("  %s: %d %.*s\n", json, ret, (int)sl, s ? s : "");
	if (out)
		*out = ret ? NULL : strndup(o ? o : "", ol);
	rados_buffer_free(o);
	rados_buffer_free(s);
	return ret;
}

static int mon(const char *json)
{
	return mon_out(json, NULL);
}

/* Whether addr is in the OSD blocklist (false when it cannot be listed). */
static bool blocklisted(const char *addr)
{
	char *o = NULL;
	bool in;

	if (mon_out("{\"prefix\": \"osd blocklist ls\", \"format\": \"json\"}", &o) || !o)
		return false;
	in = strstr(o, addr) != NULL;
	free(o);
	return in;
}

static void t_blocklist(void)
{
	static uint8_t a[8 * BS], b[8 * BS];
	char cfg[512], addr[256], cmd[512];
	struct sim_result r;
	struct sim_dev *d;
	int ret, busy = 0, other = 0;
	double took;

	STEP("our client blocklisted: BUSY, the device reopens, I/O resumes");
	ENSURE(!mkimage("lun1", DEV_SIZE), "create image lun1");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/lun1;conf=%s", conf);
	ret = add_rbd("lun1", cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	memset(a, 0x5a, sizeof(a));
	memset(b, 0xa5, sizeof(b));
	ret = rw16(d, WRITE_16, 0, 0, 8, a, sizeof(a), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write before: %d/%d", ret, r.scsi_status);
	ENSURE(logged_addr(addr, sizeof(addr)), "the daemon logged its client address");
	printf("  our client: %s\n", addr);
	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd blocklist\", \"blocklistop\": \"add\", \"addr\": \"%s\"}",
		 addr);
	ENSURE(!mon(cmd), "blocklist add %s", addr);
	took = write_until_good(d, 8, b, 60.0, &busy, &other);
	CHECK(took >= 0, "GOOD again after %.1f s (%d BUSY, %d other)", took, busy, other);
	printf("  write went through %.1f s after the blocklisting (%d BUSY, %d other)\n", took,
	       busy, other);
	CHECK(busy >= 1 && !other, "the blocklisted write got BUSY only");
	CHECK(log_has("reopened image rbd/lun1"), "the daemon's recovery reopened it");
	snprintf(cmd, sizeof(cmd), "removed my old address %s from the OSD blocklist", addr);
	CHECK(log_has(cmd), "old address removed from the blocklist");
	/*
	 * And it stays out: the old client's exclusive lock is broken (which
	 * blocklists its owner again) before the address is removed, not by
	 * librbd on the first write afterwards.
	 */
	CHECK(!blocklisted(addr), "%s no longer in the OSD blocklist after the first write", addr);
	CHECK(read_is(d, 0, 8, a) && read_is(d, 8, 8, b), "data before and after");
	CHECK(dsim_remove_dev(d) == 0, "remove");
}

static void put(const char *rel, const char *data)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sim_configfs_root(k), rel);
	f = fopen(path, "w");
	if (!f || fputs(data, f) < 0)
		perror(path);
	if (f)
		fclose(f);
}

static void mkdirs(const char *rel)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", sim_configfs_root(k), rel);
	if (system(cmd))
		fprintf(stderr, "%s failed\n", cmd);
}

/* An implicit-ALUA group "grp_i" (id 7) for device name (see test_daemon_ha). */
static void make_implicit(const char *name)
{
	static const char *files[][2] = {
		{ "tg_pt_gp_id", "7\n" },
		{ "alua_access_state", "0\n" },
		{ "alua_access_status", "None\n" },
		{ "alua_access_type", "Implicit\n" },
		{ "alua_support_transitioning", "1\n" },
		{ "alua_support_offline", "1\n" },
		{ "alua_support_unavailable", "1\n" },
		{ "alua_support_standby", "1\n" },
		{ "alua_support_active_nonoptimized", "1\n" },
		{ "alua_support_active_optimized", "1\n" },
		{ "alua_support_lba_dependent", "0\n" },
		{ "preferred", "0\n" },
		{ "implicit_trans_secs", "10\n" },
		{ "members", "loopback/" WWN "/tpgt_1/lun_0\n" },
	};
	char dir[256], rel[512];
	size_t i;

	snprintf(dir, sizeof(dir), "core/user_1/%s/alua/grp_i", name);
	mkdirs(dir);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, files[i][0]);
		put(rel, files[i][1]);
	}
	mkdirs("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_port");
	put("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_port/indx", "3\n");
	mkdirs("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_transport");
	put("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_transport/proto_id", "6\n");
}

/* The lock tag recorded in the image metadata ("" when none). */
static void meta_tag(char *val, size_t len)
{
	rbd_image_t img;

	val[0] = '\0';
	if (rbd_open_read_only(pio, "ha", &img, NULL))
		return;
	if (rbd_metadata_get(img, "tcmu_rbd_locker_tag", val, &len))
		val[0] = '\0';
	rbd_close(img);
}

static void t_ha(void)
{
	static uint8_t a[8 * BS], b[8 * BS];
	char cfg[512], tag[512];
	struct sim_dev *da, *db;
	int ret, busy = 0, other = 0;
	double took;

	STEP("two devices on one image, implicit ALUA: the writer takes the lock");
	ENSURE(!mkimage("ha", DEV_SIZE), "create image ha");
	snprintf(cfg, sizeof(cfg), "rbd/rbd/ha;conf=%s", conf);
	make_implicit("ha_a");
	make_implicit("ha_b");
	ret = add_rbd("ha_a", cfg, DEV_SIZE, &da);
	ENSURE(ret == 0, "add a: %d", ret);
	ret = add_rbd("ha_b", cfg, DEV_SIZE, &db);
	ENSURE(ret == 0, "add b: %d", ret);
	clear_ua(da);
	clear_ua(db);
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	took = write_until_good(da, 0, a, 20.0, &busy, &other);
	CHECK(took >= 0, "a: GOOD after %.2f s", took);
	CHECK(log_has("took the exclusive lock of rbd/ha (tag 7)"), "a locked with tag 7");
	meta_tag(tag, sizeof(tag));
	CHECK(!strncmp(tag, "tcmu_tag=7,rbd_client=", 22), "metadata tag '%s'", tag);

	STEP("b writes: it breaks a's lock (a is blocklisted), a's next write is BUSY");
	busy = other = 0;
	took = write_until_good(db, 8, b, 30.0, &busy, &other);
	CHECK(took >= 0, "b: GOOD after %.2f s (%d BUSY, %d other)", took, busy, other);
	CHECK(log_has("breaking the lock of"), "b broke a's lock");
	CHECK(log_count("took the exclusive lock of rbd/ha (tag 7)", 2) == 2, "b locked");
	{
		struct sim_result r;

		ret = rw16(da, WRITE_16, 0, 0, 8, b, sizeof(b), 0, &r);
		CHECK(!ret && r.scsi_status != 0, "a (fenced) cannot write: %d/%d", ret,
		      r.scsi_status);
	}
	CHECK(read_is(db, 0, 8, a), "b reads a's acknowledged data");
	CHECK(read_is(db, 8, 8, b), "b reads its own");

	STEP("a recovers (reopen), takes the lock back, sees b's data");
	busy = other = 0;
	took = write_until_good(da, 16, a, 60.0, &busy, &other);
	CHECK(took >= 0, "a: GOOD again after %.2f s (%d BUSY, %d other)", took, busy, other);
	printf("  a wrote again %.1f s after it was fenced\n", took);
	CHECK(read_is(da, 8, 8, b), "a reads b's data");
	meta_tag(tag, sizeof(tag));
	CHECK(!strncmp(tag, "tcmu_tag=7,rbd_client=", 22), "metadata tag '%s'", tag);

	CHECK(dsim_remove_dev(da) == 0, "remove a");
	CHECK(dsim_remove_dev(db) == 0, "remove b");
	CHECK(log_has("released the exclusive lock of rbd/ha"), "unlock at removal");
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_rbd_sim <handler dir>");
	conf = getenv("CEPH_CONF");
	REQUIRE(conf, "FAIL: CEPH_CONF is not set (run through tests/ceph/run-test.sh)");
	ret = dsim_setup("rbdsim");
	if (ret)
		return ret;
	REQUIRE(!rados_create(&peer, NULL) && !rados_conf_read_file(peer, conf) &&
			!rados_conf_set(peer, "client_mount_timeout", "20") &&
			!rados_connect(peer) && !rados_ioctx_create(peer, "rbd", &pio),
		"FAIL: the test's own librados client cannot reach the cluster (%s)", conf);

	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret == 1 && tcmur_handler_find("rbd"), "load handler_rbd.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	t_bad_input();
	t_io();
	t_blocklist();
	t_ha();

	tcmur_devices_shutdown();
	tcmulib_close(ctx);
	rados_ioctx_destroy(pio);
	rados_shutdown(peer);
	sim_kernel_destroy(k);
	tcmu_destroy_log();
	if (check_failures)
		printf("log kept: %s\n", logpath);
	else
		dt_rmrf(tmp);
	return check_exit();
}
