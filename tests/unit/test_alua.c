// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * ALUA in the engine against a fake configfs tree in a temporary
 * directory: TPGS and VPD 0x83 port designators, REPORT TARGET PORT
 * GROUPS (both formats, short allocation length), SET TARGET PORT GROUPS
 * and the access state check of scsi_dispatch().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "engine_priv.h"
#include "fake_dev.h"

#define SERIAL "aluadev"
#define WWN    "naa.5001405aaaaaaaaa"

static char root[256];
static uint8_t buf[4096];
static struct fake_result res;

#define EXPECT_SENSE(k, a)                                                                         \
	do {                                                                                       \
		CHECK_EQ(res.status, SAM_STAT_CHECK_CONDITION);                                    \
		CHECK_EQ(res.key, (k));                                                            \
		CHECK_EQ((res.asc << 8) | res.ascq, (a));                                          \
	} while (0)

static void mkdirs(const char *rel)
{
	char path[1024], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/* Like put() for text with NULs (members: "line\n\0" per port). */
static void put_bin(const char *rel, const char *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len) {
		perror(path);
		exit(2);
	}
	fclose(f);
}

static void make_group(const char *name, const char *id, const char *state, const char *type,
		       const char *standby_sup, const char *members)
{
	static const char *sup[] = { "transitioning", "offline", "unavailable",
				     "active_nonoptimized", "active_optimized" };
	char dir[256], rel[512];
	size_t i;

	snprintf(dir, sizeof(dir), "core/user_1/" SERIAL "/alua/%s", name);
	mkdirs(dir);
#define P(f, v)                                                                                    \
	do {                                                                                       \
		snprintf(rel, sizeof(rel), "%s/%s", dir, f);                                       \
		put(rel, v);                                                                       \
	} while (0)
	P("tg_pt_gp_id", id);
	P("alua_access_state", state);
	P("alua_access_status", "None\n");
	P("alua_access_type", type);
	for (i = 0; i < sizeof(sup) / sizeof(sup[0]); i++) {
		char f[64];

		snprintf(f, sizeof(f), "alua_support_%s", sup[i]);
		P(f, "1\n");
	}
	P("alua_support_lba_dependent", "0\n");
	P("alua_support_standby", standby_sup);
	P("preferred", strcmp(name, "grp_a") ? "0\n" : "1\n");
	P("implicit_trans_secs", "10\n");
	P("members", members);
#undef P
}

static void make_port(const char *tpgt, const char *rtpi, const char *enable)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "loopback/" WWN "/%s/lun/lun_0/statistics/scsi_port", tpgt);
	mkdirs(rel);
	snprintf(rel, sizeof(rel), "loopback/" WWN "/%s/lun/lun_0/statistics/scsi_port/indx", tpgt);
	put(rel, rtpi);
	snprintf(rel, sizeof(rel), "loopback/" WWN "/%s/lun/lun_0/statistics/scsi_transport", tpgt);
	mkdirs(rel);
	snprintf(rel, sizeof(rel),
		 "loopback/" WWN "/%s/lun/lun_0/statistics/scsi_transport/proto_id", tpgt);
	put(rel, "6\n");
	if (enable) {
		snprintf(rel, sizeof(rel), "loopback/" WWN "/%s/enable", tpgt);
		put(rel, enable);
	}
}

static void build_tree(void)
{
	/* default_tg_pt_gp does not count and is never reported. */
	make_group("default_tg_pt_gp", "0\n", "0\n", "Implicit and Explicit\n", "1\n", "");
	make_group("grp_a", "17\n", "0\n", "Implicit and Explicit\n", "1\n",
		   "loopback/" WWN "/tpgt_1/lun_0\n");
	/* Its only port is disabled: never the local group.  No Standby. */
	make_group("grp_b", "20\n", "1\n", "Explicit\n", "0\n", "loopback/" WWN "/tpgt_2/lun_0\n");
	/* Garbled: skipped. */
	make_group("grp_bad", "not-a-number\n", "0\n", "None\n", "1\n", "");
	make_port("tpgt_1", "3\n", NULL); /* tcm_loop: no enable file */
	make_port("tpgt_2", "4\n", "0\n");
	make_port("tpgt_3", "5\n", "1\n");
	/* The kernel's format: each member line ends with "\n\0". */
	put_bin("core/user_1/" SERIAL "/alua/grp_a/members",
		"loopback/" WWN "/tpgt_1/lun_0\n\0loopback/" WWN "/tpgt_3/lun_0\n\0",
		2 * (sizeof("loopback/" WWN "/tpgt_1/lun_0\n\0") - 1));
}

static void rm_tree(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", root);
}

static int run(struct tcmu_device *dev, const uint8_t *cdb, size_t len)
{
	return fake_exec(dev, cdb, buf, len, &res);
}

static int inquiry(struct tcmu_device *dev, bool evpd, uint8_t page, uint16_t alloc)
{
	uint8_t cdb[6] = { INQUIRY, evpd, page, alloc >> 8, alloc & 0xff, 0 };

	memset(buf, 0xa5, sizeof(buf));
	return run(dev, cdb, alloc);
}

static int rtpg(struct tcmu_device *dev, uint8_t fmt, uint32_t alloc, size_t len)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, (uint8_t)(fmt << 5 | MI_REPORT_TARGET_PGS) };

	scsi_put_be32(&cdb[6], alloc);
	memset(buf, 0xa5, sizeof(buf));
	return run(dev, cdb, len);
}

/* One descriptor: state, id. */
static int stpg(struct tcmu_device *dev, uint8_t state, uint16_t id)
{
	uint8_t cdb[12] = { MAINTENANCE_OUT, MO_SET_TARGET_PGS };

	scsi_put_be32(&cdb[6], 8);
	memset(buf, 0, 8);
	buf[4] = state;
	scsi_put_be16(&buf[6], id);
	return run(dev, cdb, 8);
}

static int read10(struct tcmu_device *dev)
{
	uint8_t cdb[10] = { READ_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

	return run(dev, cdb, 512);
}

static int tur(struct tcmu_device *dev)
{
	uint8_t cdb[6] = { TEST_UNIT_READY };

	return run(dev, cdb, 0);
}

/* Find designator type t (association target port when tport) in VPD 0x83. */
static const uint8_t *find_desig(uint8_t type, bool tport)
{
	size_t len = 4 + scsi_get_be16(&buf[2]), pos = 4;

	while (pos + 4 <= len) {
		const uint8_t *d = &buf[pos];

		if ((d[1] & 0x0f) == type && (((d[1] >> 4) & 3) == 1) == tport)
			return d;
		pos += 4 + d[3];
	}
	return NULL;
}

static void test_no_alua(void)
{
	struct tcmu_device *dev = fake_dev_new(64, 512, "plain");

	STEP("no groups: TPGS 0, RTPG and STPG are invalid opcodes");
	inquiry(dev, false, 0, 96);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[5] & 0x30, 0);
	inquiry(dev, true, 0x83, 512);
	CHECK(!find_desig(4, true));
	rtpg(dev, 0, 512, 512);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	stpg(dev, ALUA_STANDBY, 17);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	read10(dev);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	fake_dev_free(dev);
}

static void check_descs(const uint8_t *d, uint8_t state_a)
{
	/* grp_a: PREF, state, T/O/U/S/AN/AO supported, id 17, ports 3 and 5. */
	CHECK_EQ(d[0], 0x80 | state_a);
	CHECK_EQ(d[1], 0xcf);
	CHECK_EQ(scsi_get_be16(&d[2]), 17);
	CHECK_EQ(d[5], 0);
	CHECK_EQ(d[7], 2);
	CHECK_EQ(scsi_get_be16(&d[10]), 3);
	CHECK_EQ(scsi_get_be16(&d[14]), 5);
	/* grp_b: ANO, no S_SUP, id 20, port 4. */
	d += 16;
	CHECK_EQ(d[0], ALUA_ANO);
	CHECK_EQ(d[1], 0xcb);
	CHECK_EQ(scsi_get_be16(&d[2]), 20);
	CHECK_EQ(d[7], 1);
	CHECK_EQ(scsi_get_be16(&d[10]), 4);
}

static void test_alua(void)
{
	struct tcmu_device *dev;
	const uint8_t *d;
	uint8_t rsoc[12] = { MAINTENANCE_IN,
			     MI_REPORT_SUPPORTED_OPERATION_CODES,
			     0x02,
			     MAINTENANCE_IN,
			     0,
			     MI_REPORT_TARGET_PGS,
			     0,
			     0,
			     0,
			     64 };

	build_tree();
	dev = fake_dev_new(64, 512, SERIAL);

	STEP("INQUIRY: TPGS 11b from the local group's access type");
	inquiry(dev, false, 0, 96);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[5] & 0x30, 0x30);

	STEP("VPD 0x83: relative port, port group and port name designators");
	inquiry(dev, true, 0x83, 1024);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK(find_desig(3, false) != NULL); /* the NAA designator is still there */
	d = find_desig(4, true);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d[0], 0x61); /* SAS protocol id, binary */
		CHECK_EQ(d[1], 0x94); /* PIV, target port, type 4 */
		CHECK_EQ(scsi_get_be16(&d[6]), 3);
	}
	d = find_desig(5, true);
	CHECK(d != NULL);
	if (d)
		CHECK_EQ(scsi_get_be16(&d[6]), 17);
	d = find_desig(8, true);
	CHECK(d != NULL);
	if (d) {
		CHECK_EQ(d[0] & 0x0f, 3); /* UTF-8 */
		CHECK_EQ(d[3] % 4, 0);
		CHECK(!strcmp((const char *)&d[4], WWN ",t,0x0001"));
	}

	STEP("RSOC lists RTPG when ALUA is enabled");
	memset(buf, 0, sizeof(buf));
	run(dev, rsoc, 64);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[1] & 0x07, 0x03);

	STEP("RTPG, length-only header");
	rtpg(dev, 0, 512, 512);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(scsi_get_be32(&buf[0]), 28);
	CHECK(res.read_len_valid && res.read_len == 32);
	check_descs(&buf[4], ALUA_AO);

	STEP("RTPG, extended header with the implicit transition time");
	rtpg(dev, 1, 512, 512);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(scsi_get_be32(&buf[0]), 32);
	CHECK_EQ(buf[4], 0x10);
	CHECK_EQ(buf[5], 10);
	check_descs(&buf[8], ALUA_AO);

	STEP("RTPG, short allocation length: truncated, no stale bytes");
	rtpg(dev, 0, 10, 64);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(scsi_get_be32(&buf[0]), 28);
	CHECK(res.read_len_valid && res.read_len == 10);
	CHECK_EQ(buf[10], 0);
	CHECK_EQ(buf[63], 0);
	rtpg(dev, 2, 512, 512);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

	STEP("STPG to Standby: media access NOT READY 04/0B, INQUIRY fine");
	stpg(dev, ALUA_STANDBY, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	read10(dev);
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_STANDBY);
	tur(dev);
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_STANDBY);
	inquiry(dev, false, 0, 96);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	rtpg(dev, 0, 512, 512);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(buf[4] & 0x0f, ALUA_STANDBY);

	STEP("STPG errors: unknown group, unsupported states");
	stpg(dev, ALUA_AO, 99);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	stpg(dev, ALUA_STANDBY, 20); /* grp_b has no S_SUP */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	stpg(dev, ALUA_TRANSITIONING, 17);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	stpg(dev, ALUA_LBA_DEPENDENT, 17);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	read10(dev); /* still standby */
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_STANDBY);

	STEP("back to active/optimized");
	stpg(dev, ALUA_AO, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	read10(dev);
	CHECK_EQ(res.status, SAM_STAT_GOOD);

	STEP("Unavailable 04/0C, Offline (per port) 04/12");
	stpg(dev, ALUA_UNAVAILABLE, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	read10(dev);
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_UNAVAILABLE);
	rtpg(dev, 0, 512, 512);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	stpg(dev, ALUA_AO, 17);
	stpg(dev, ALUA_OFFLINE, 3); /* relative port 3 */
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	read10(dev);
	EXPECT_SENSE(NOT_READY, ASC_ALUA_OFFLINE);
	inquiry(dev, false, 0, 96);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	stpg(dev, ALUA_OFFLINE, 77); /* no such port */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	stpg(dev, ALUA_AO, 17);
	read10(dev);
	CHECK_EQ(res.status, SAM_STAT_GOOD);

	STEP("implicit-only local group: TPGS 01b, STPG invalid opcode");
	put("core/user_1/" SERIAL "/alua/grp_a/alua_access_type", "Implicit\n");
	inquiry(dev, false, 0, 96);
	CHECK_EQ(buf[5] & 0x30, 0x10);
	stpg(dev, ALUA_STANDBY, 17);
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_OP_CODE);
	put("core/user_1/" SERIAL "/alua/grp_a/alua_access_type", "Explicit\n");
	inquiry(dev, false, 0, 96);
	CHECK_EQ(buf[5] & 0x30, 0x20);

	STEP("HA lock: STPG to an active state while unlocked asks for the lock first");
	scsi_dev_set_ha_lock(fake_dev_scsi(dev), SCSI_HA_UNLOCKED);
	stpg(dev, ALUA_STANDBY, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(res.cls, SCSI_CLASS_DONE); /* not held: nothing to release */
	stpg(dev, ALUA_AO, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(res.cls, SCSI_CLASS_LOCK);
	CHECK_EQ(res.ha_tag, 17);
	read10(dev); /* not applied: still standby */
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_STANDBY);
	stpg(dev, ALUA_ANO, 17);
	CHECK_EQ(res.cls, SCSI_CLASS_LOCK);
	stpg(dev, ALUA_AO, 99); /* a bad list is refused before any lock */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);
	stpg(dev, ALUA_STANDBY, 20); /* another group, no S_SUP */
	EXPECT_SENSE(ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAMETER_LIST);

	STEP("HA lock held: STPG applies; Standby/Unavailable asks for the release");
	scsi_dev_set_ha_lock(fake_dev_scsi(dev), SCSI_HA_LOCKED);
	stpg(dev, ALUA_AO, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);
	read10(dev);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	stpg(dev, ALUA_OFFLINE, 3); /* per port: the lock stays */
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);
	stpg(dev, ALUA_UNAVAILABLE, 17);
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	CHECK_EQ(res.cls, SCSI_CLASS_UNLOCK);
	CHECK_EQ(res.ha_tag, 17);
	read10(dev); /* applied before the release */
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_UNAVAILABLE);
	scsi_dev_set_ha_lock(fake_dev_scsi(dev), SCSI_HA_UNLOCKED);
	stpg(dev, ALUA_STANDBY, 17);
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);
	scsi_dev_set_ha_lock(fake_dev_scsi(dev), SCSI_HA_NONE);
	stpg(dev, ALUA_AO, 17); /* no lock callout: applied at once */
	CHECK_EQ(res.cls, SCSI_CLASS_DONE);
	read10(dev);
	CHECK_EQ(res.status, SAM_STAT_GOOD);

	STEP("state changed in configfs is seen on the next INQUIRY");
	put("core/user_1/" SERIAL "/alua/grp_a/alua_access_state", "2\n");
	read10(dev); /* cached: still active */
	CHECK_EQ(res.status, SAM_STAT_GOOD);
	inquiry(dev, false, 0, 96);
	read10(dev);
	EXPECT_SENSE(NOT_READY, ASC_PORT_IN_STANDBY);

	fake_dev_free(dev);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/test-alua.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	test_no_alua();
	fake_cfgfs_root = root;
	test_no_alua(); /* the tree exists but has no groups for "plain" */
	test_alua();
	rm_tree();
	if (fake_internal_errors)
		check_failures++;
	return check_exit();
}
