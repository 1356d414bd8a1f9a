// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The zbc handler's command code (handlers/zbc, zbc_exec) on a scratch
 * file, without the daemon: cfgstrings, the file format and its reload,
 * REPORT ZONES and its options, the zone actions, the write pointer rules
 * and their sense codes, open-zone limits, the host-aware model.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../check.h"
#include "libtcmu.h"
#include "scsi_defs.h"
#include "zbc.h"

#define ZL 8192u /* zone length in 512-byte LBAs (zsize-4) */
#define NZ 16u

static uint8_t sense[96], buf[8 << 20];
static char path[] = "/tmp/test_zbc.XXXXXX";

static int exec(struct zbc_dev *z, uint8_t *cdb, size_t len)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };

	memset(sense, 0, sizeof(sense));
	return zbc_exec(z, cdb, &v, 1, sense);
}

/* key/ASC/ASCQ of the last command's sense as 0xKKAAQQ. */
static unsigned int kaq(void)
{
	return (unsigned int)((sense[2] & 0xf) << 16 | sense[12] << 8 | sense[13]);
}

static int rw(struct zbc_dev *z, uint8_t op, uint64_t lba, uint32_t n)
{
	uint8_t cdb[16] = { op };

	if (op == READ_10 || op == WRITE_10) {
		scsi_put_be32(cdb + 2, (uint32_t)lba);
		scsi_put_be16(cdb + 7, (uint16_t)n);
	} else {
		scsi_put_be64(cdb + 2, lba);
		scsi_put_be32(cdb + 10, n);
	}
	return exec(z, cdb, (size_t)n * 512);
}

static int zone_out(struct zbc_dev *z, uint8_t sa, uint64_t id, bool all)
{
	uint8_t cdb[16] = { ZBC_OUT, sa };

	scsi_put_be64(cdb + 2, id);
	cdb[14] = all;
	return exec(z, cdb, 0);
}

static int report(struct zbc_dev *z, uint64_t lba, uint8_t opt, uint32_t alloc)
{
	uint8_t cdb[16] = { ZBC_IN, 0 };

	scsi_put_be64(cdb + 2, lba);
	scsi_put_be32(cdb + 10, alloc);
	cdb[14] = opt;
	memset(buf, 0xaa, 4096);
	return exec(z, cdb, 4096); /* the iovec may be longer than alloc */
}

static uint8_t cond_of(struct zbc_dev *z, uint32_t zone)
{
	return z->zones[zone].cond;
}

static int dev_open(struct zbc_dev *z, int fd, const char *cfgstring)
{
	struct zbc_cfg cfg;
	char *reason = NULL;
	int ret;

	memset(z, 0, sizeof(*z));
	ret = zbc_cfg_parse(cfgstring, &cfg, &reason);
	if (!ret)
		ret = zbc_meta_open(z, fd, &cfg, (uint64_t)NZ * 4 * ZBC_MIB + 12345, &reason);
	if (reason)
		printf("   (%s)\n", reason);
	free(reason);
	zbc_cfg_free(&cfg);
	return ret;
}

static void test_cfg(void)
{
	struct zbc_cfg c;
	char *r;

	STEP("cfgstring");
	CHECK_EQ(zbc_cfg_parse("zbc//var/z", &c, &r), 0);
	CHECK(!c.ha && c.lba_size == 512 && c.zone_mib == 256 && !strcmp(c.path, "/var/z"));
	zbc_cfg_free(&c);
	CHECK_EQ(zbc_cfg_parse("zbc/model-HA/lba-4096/zsize-16/conv-3/open-9@/x", &c, &r), 0);
	CHECK(c.ha && c.lba_size == 4096 && c.zone_mib == 16 && c.conv == 3 && c.max_open == 9);
	CHECK(!strcmp(c.path, "/x"));
	zbc_cfg_free(&c);
	CHECK_EQ(zbc_cfg_parse("zbc/model-XX@/x", &c, &r), -EINVAL);
	free(r);
	zbc_cfg_free(&c);
	CHECK_EQ(zbc_cfg_parse("zbc/zsize-0@/x", &c, &r), -EINVAL);
	free(r);
	zbc_cfg_free(&c);
	CHECK_EQ(zbc_cfg_parse("zbc/rel/path", &c, &r), -EINVAL);
	free(r);
	zbc_cfg_free(&c);
}

static void test_report(struct zbc_dev *z)
{
	STEP("REPORT ZONES");
	CHECK_EQ(report(z, 0, 0, 64 + NZ * 64), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), NZ * 64);
	CHECK_EQ(buf[4] & 0xf, 3); /* same length, types differ */
	CHECK_EQ(scsi_get_be64(buf + 8), NZ * ZL - 1);
	CHECK_EQ(buf[64], ZBC_TYPE_CONV);
	CHECK_EQ(buf[64 + 1] >> 4, ZBC_COND_NOT_WP);
	CHECK_EQ(buf[64 * 3], ZBC_TYPE_SEQ_REQ); /* zone 2 */
	CHECK_EQ(buf[64 * 3 + 1] >> 4, ZBC_COND_EMPTY);
	CHECK_EQ(scsi_get_be64(buf + 64 * 3 + 16), 2 * ZL);
	CHECK_EQ(scsi_get_be64(buf + 64 * 3 + 24), 2 * ZL);
	/* Not partial: the length counts every zone; partial: what fits. */
	CHECK_EQ(report(z, 0, 0, 64 + 2 * 64), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), NZ * 64);
	CHECK_EQ(buf[64 * 3], 0); /* nothing past alloc */
	CHECK_EQ(report(z, 0, 0x80, 64 + 2 * 64), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), 2 * 64);
	/* Start inside zone 3: the list starts with zone 3. */
	CHECK_EQ(report(z, 3 * ZL + 7, 0, 128), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), (NZ - 3) * 64);
	CHECK_EQ(scsi_get_be64(buf + 64 + 16), 3 * ZL);
	CHECK_EQ(buf[4] & 0xf, 1);			 /* all sequential, same length */
	CHECK_EQ(report(z, 0, 0x3f, 4096), TCMU_STS_OK); /* not write pointer */
	CHECK_EQ(scsi_get_be32(buf), 2 * 64);
	CHECK_EQ(report(z, 0, 0x01, 4096), TCMU_STS_OK); /* empty */
	CHECK_EQ(scsi_get_be32(buf), (NZ - 2) * 64);
	CHECK_EQ(report(z, NZ * ZL, 0, 4096), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052100);
	CHECK_EQ(report(z, 0, 0x09, 4096), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
}

static void test_writes(struct zbc_dev *z)
{
	STEP("write pointer rules");
	memset(buf, 0x5a, 8 * 512);
	CHECK_EQ(rw(z, WRITE_16, 2 * ZL, 8), TCMU_STS_OK);
	CHECK_EQ(z->zones[2].wp, 2 * ZL + 8);
	CHECK_EQ(cond_of(z, 2), ZBC_COND_IMP_OPEN);
	CHECK_EQ(rw(z, WRITE_16, 2 * ZL, 8), TCMU_STS_PASSTHROUGH_ERR); /* behind the WP */
	CHECK_EQ(kaq(), 0x052104);
	CHECK_EQ(rw(z, WRITE_16, 2 * ZL + 16, 8), TCMU_STS_PASSTHROUGH_ERR); /* ahead */
	CHECK_EQ(kaq(), 0x052104);
	CHECK_EQ(rw(z, WRITE_16, 3 * ZL, 2 * ZL / 2 + ZL / 2 + 1), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052105);
	CHECK_EQ(rw(z, WRITE_10, 2 * ZL - 4, 8), TCMU_STS_PASSTHROUGH_ERR); /* conv -> seq */
	CHECK_EQ(kaq(), 0x052105);
	CHECK_EQ(rw(z, WRITE_10, ZL - 4, 8), TCMU_STS_OK); /* conv -> conv, anywhere */
	CHECK_EQ(rw(z, WRITE_16, NZ * ZL - 1, 2), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052100);

	STEP("reads");
	CHECK_EQ(rw(z, READ_16, 2 * ZL - 4, 8), TCMU_STS_PASSTHROUGH_ERR); /* conv + seq */
	CHECK_EQ(kaq(), 0x052107);
	memset(buf, 0xee, 16 * 512);
	CHECK_EQ(rw(z, READ_16, 2 * ZL, 16), TCMU_STS_OK); /* 8 written, 8 past WP */
	CHECK(buf[0] == 0x5a && buf[8 * 512 - 1] == 0x5a);
	CHECK(buf[8 * 512] == 0 && buf[16 * 512 - 1] == 0);
	z->urswrz = false;
	CHECK_EQ(rw(z, READ_16, 2 * ZL, 16), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052106);
	CHECK_EQ(rw(z, READ_16, 3 * ZL - 1, 2), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052107);
	z->urswrz = true;

	STEP("fill a zone");
	CHECK_EQ(rw(z, WRITE_16, 2 * ZL + 8, ZL - 8), TCMU_STS_OK);
	CHECK_EQ(cond_of(z, 2), ZBC_COND_FULL);
	CHECK_EQ(rw(z, WRITE_16, 3 * ZL - 8, 8), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052104);
}

static void test_open_limit(struct zbc_dev *z)
{
	STEP("open zone limit (open-3)");
	CHECK_EQ(rw(z, WRITE_16, 3 * ZL, 1), TCMU_STS_OK);
	CHECK_EQ(rw(z, WRITE_16, 4 * ZL, 1), TCMU_STS_OK);
	CHECK_EQ(rw(z, WRITE_16, 5 * ZL, 1), TCMU_STS_OK);
	CHECK_EQ(z->nr_imp_open, 3);
	CHECK_EQ(rw(z, WRITE_16, 6 * ZL, 1), TCMU_STS_OK); /* closes zone 3 */
	CHECK_EQ(cond_of(z, 3), ZBC_COND_CLOSED);
	CHECK_EQ(z->nr_imp_open, 3);
	CHECK_EQ(zone_out(z, ZBC_SA_OPEN, 7 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(zone_out(z, ZBC_SA_OPEN, 8 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(zone_out(z, ZBC_SA_OPEN, 9 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(z->nr_exp_open, 3);
	CHECK_EQ(z->nr_imp_open, 0);
	CHECK_EQ(zone_out(z, ZBC_SA_OPEN, 10 * ZL, false), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x07550e);
	CHECK_EQ(rw(z, WRITE_16, 10 * ZL, 1), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x07550e);
	CHECK_EQ(rw(z, WRITE_16, 7 * ZL, 1), TCMU_STS_OK); /* open already */
	CHECK_EQ(cond_of(z, 7), ZBC_COND_EXP_OPEN);
	CHECK_EQ(report(z, 0, 0x03, 4096), TCMU_STS_OK); /* explicitly open */
	CHECK_EQ(scsi_get_be32(buf), 3 * 64);
	CHECK_EQ(report(z, 0, 0x04, 4096), TCMU_STS_OK); /* closed: 3 4 5 6 */
	CHECK_EQ(scsi_get_be32(buf), 4 * 64);
	CHECK_EQ(zone_out(z, ZBC_SA_OPEN, 0, true), TCMU_STS_PASSTHROUGH_ERR); /* 4 closed + 3 */
	CHECK_EQ(kaq(), 0x07550e);
}

static void test_actions(struct zbc_dev *z)
{
	STEP("ZBC OUT");
	CHECK_EQ(zone_out(z, ZBC_SA_CLOSE, 8 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(cond_of(z, 8), ZBC_COND_EMPTY); /* nothing written */
	CHECK_EQ(zone_out(z, ZBC_SA_CLOSE, 0, true), TCMU_STS_OK);
	CHECK_EQ(cond_of(z, 7), ZBC_COND_CLOSED);
	CHECK_EQ(z->nr_exp_open + z->nr_imp_open, 0);
	CHECK_EQ(zone_out(z, ZBC_SA_FINISH, 11 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(cond_of(z, 11), ZBC_COND_FULL);
	CHECK_EQ(z->zones[11].wp, 12 * ZL);
	CHECK_EQ(zone_out(z, ZBC_SA_FINISH, 0, true), TCMU_STS_OK); /* closed ones */
	CHECK_EQ(cond_of(z, 3), ZBC_COND_FULL);
	CHECK_EQ(cond_of(z, 12), ZBC_COND_EMPTY);
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 3 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(cond_of(z, 3), ZBC_COND_EMPTY);
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 3 * ZL + 1, false), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 0, false), TCMU_STS_PASSTHROUGH_ERR); /* conv */
	CHECK_EQ(kaq(), 0x052400);
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, NZ * ZL, false), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052100);
	CHECK_EQ(zone_out(z, 0x07, 3 * ZL, false), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	CHECK_EQ(rw(z, WRITE_16, 4 * ZL, 4), TCMU_STS_PASSTHROUGH_ERR); /* full */
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 0, true), TCMU_STS_OK);
	CHECK_EQ(report(z, 0, 0x01, 4096), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), (NZ - 2) * 64);
	memset(buf, 0xee, 512);
	CHECK_EQ(rw(z, READ_16, 2 * ZL, 1), TCMU_STS_OK); /* reset reads zeros */
	CHECK_EQ(buf[0], 0);
}

static int lba_status(struct zbc_dev *z, uint64_t lba, uint32_t alloc)
{
	uint8_t cdb[16] = { SERVICE_ACTION_IN_16, GET_LBA_STATUS };

	scsi_put_be64(cdb + 2, lba);
	scsi_put_be32(cdb + 10, alloc);
	memset(buf, 0xaa, 4096);
	return exec(z, cdb, 4096);
}

/* Descriptor i of the last GET LBA STATUS: LBA, count, status. */
static bool ls_desc(unsigned int i, uint64_t lba, uint32_t n, uint8_t status)
{
	const uint8_t *d = buf + 8 + 16 * i;

	return scsi_get_be64(d) == lba && scsi_get_be32(d + 8) == n && d[12] == status;
}

static void test_lba_status(struct zbc_dev *z)
{
	uint8_t cdb[16] = { SERVICE_ACTION_IN_16, GET_LBA_STATUS };

	STEP("GET LBA STATUS: mapped up to the write pointers");
	/* Zones 0-1 conventional, 2 FULL, 3 holds 8 blocks, 4.. empty. */
	CHECK_EQ(zone_out(z, ZBC_SA_FINISH, 2 * ZL, false), TCMU_STS_OK);
	memset(buf, 0x11, 8 * 512);
	CHECK_EQ(rw(z, WRITE_16, 3 * ZL, 8), TCMU_STS_OK);
	CHECK_EQ(lba_status(z, 0, 4096), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), 4 + 2 * 16);
	CHECK(ls_desc(0, 0, 3 * ZL + 8, 0));			/* conv, conv, full, 8 written */
	CHECK(ls_desc(1, 3 * ZL + 8, (NZ - 3) * ZL - 8, 1));	/* the rest, deallocated */
	CHECK_EQ(buf[8 + 32], 0);				/* two descriptors only */
	CHECK_EQ(lba_status(z, 3 * ZL + 2, 4096), TCMU_STS_OK); /* inside an extent */
	CHECK(ls_desc(0, 3 * ZL + 2, 6, 0));
	CHECK_EQ(lba_status(z, 5 * ZL, 24), TCMU_STS_OK); /* room for one */
	CHECK_EQ(scsi_get_be32(buf), 4 + 16);
	CHECK(ls_desc(0, 5 * ZL, (NZ - 5) * ZL, 1));
	CHECK_EQ(buf[24], 0); /* nothing past the allocation length */
	CHECK_EQ(lba_status(z, NZ * ZL, 4096), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052100);
	cdb[14] = 1; /* report types other than 0: 05/24/00 */
	CHECK_EQ(exec(z, cdb, 4096), TCMU_STS_INVALID_CDB);
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 3 * ZL, false), TCMU_STS_OK);
	CHECK_EQ(lba_status(z, 2 * ZL, 4096), TCMU_STS_OK);
	CHECK(ls_desc(0, 2 * ZL, ZL, 0) && ls_desc(1, 3 * ZL, (NZ - 3) * ZL, 1));
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 0, true), TCMU_STS_OK);
}

static void test_same_sync(struct zbc_dev *z)
{
	uint8_t ws[16] = { WRITE_SAME_16 }, rc[10] = { READ_CAPACITY };
	uint8_t sc[10] = { SYNCHRONIZE_CACHE };

	STEP("WRITE SAME, SYNCHRONIZE CACHE, READ CAPACITY (10)");
	scsi_put_be64(ws + 2, 4 * ZL);
	scsi_put_be32(ws + 10, 8);
	memset(buf, 0x4d, 512);
	CHECK_EQ(exec(z, ws, 512), TCMU_STS_OK);
	CHECK_EQ(z->zones[4].wp, 4 * ZL + 8);
	CHECK_EQ(exec(z, ws, 512), TCMU_STS_PASSTHROUGH_ERR); /* not at the WP any more */
	CHECK_EQ(kaq(), 0x052104);
	ws[1] = 0x01; /* NDOB: zeros, no Data-Out */
	scsi_put_be64(ws + 2, 4 * ZL + 8);
	CHECK_EQ(exec(z, ws, 0), TCMU_STS_OK);
	CHECK_EQ(z->zones[4].wp, 4 * ZL + 16);
	memset(buf, 0xee, 16 * 512);
	CHECK_EQ(rw(z, READ_16, 4 * ZL, 16), TCMU_STS_OK);
	CHECK(buf[0] == 0x4d && buf[8 * 512 - 1] == 0x4d && buf[8 * 512] == 0 &&
	      buf[16 * 512 - 1] == 0);
	ws[1] = 0x08; /* UNMAP */
	CHECK_EQ(exec(z, ws, 512), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	ws[1] = 0;
	scsi_put_be32(ws + 10, 0);
	CHECK_EQ(exec(z, ws, 512), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	CHECK_EQ(exec(z, sc, 0), TCMU_STS_OK);
	CHECK_EQ(exec(z, rc, 8), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), NZ * ZL - 1);
	CHECK_EQ(scsi_get_be32(buf + 4), 512);
	scsi_put_be32(rc + 2, 5); /* an LBA without PMI */
	CHECK_EQ(exec(z, rc, 8), TCMU_STS_INVALID_CDB);
	CHECK_EQ(zone_out(z, ZBC_SA_RESET_WP, 4 * ZL, false), TCMU_STS_OK);
}

static void test_reload(struct zbc_dev *z, int fd)
{
	struct zbc_dev z2;

	STEP("reload");
	CHECK_EQ(rw(z, WRITE_16, 5 * ZL, 24), TCMU_STS_OK);
	CHECK_EQ(cond_of(z, 5), ZBC_COND_IMP_OPEN);
	zbc_meta_close(z);
	/* A crash: no close, no sync; the records are already written. */
	CHECK_EQ(dev_open(&z2, fd, "zbc/zsize-4/conv-2/open-3@/x"), 0);
	CHECK_EQ(z2.zones[5].wp, 5 * ZL + 24);
	CHECK_EQ(z2.zones[5].cond, ZBC_COND_CLOSED);
	CHECK_EQ(z2.nr_imp_open, 0);
	zbc_meta_close(&z2);
	CHECK_EQ(dev_open(&z2, fd, "zbc/zsize-4/conv-3/open-3@/x"), -EINVAL); /* geometry */
	CHECK_EQ(dev_open(z, fd, "zbc/zsize-4/conv-2/open-3@/x"), 0);
}

static void test_ha(int fd)
{
	struct zbc_dev z;
	uint8_t inq[6] = { INQUIRY, 1, 0xb1, 0, 64 };

	STEP("host aware");
	CHECK_EQ(ftruncate(fd, 0), 0);
	CHECK_EQ(dev_open(&z, fd, "zbc/model-HA/zsize-4/conv-1@/x"), 0);
	CHECK_EQ(z.zones[1].type, ZBC_TYPE_SEQ_PREF);
	CHECK_EQ(rw(&z, WRITE_16, ZL + 100, 8), TCMU_STS_OK); /* anywhere */
	CHECK(z.zones[1].non_seq);
	CHECK_EQ(z.zones[1].wp, ZL + 108);
	CHECK_EQ(rw(&z, WRITE_16, 2 * ZL - 4, 8), TCMU_STS_OK); /* across zones */
	CHECK_EQ(z.zones[1].cond, ZBC_COND_FULL);
	CHECK_EQ(rw(&z, READ_16, ZL - 4, 8), TCMU_STS_OK);
	CHECK_EQ(report(&z, 0, 0x11, 4096), TCMU_STS_OK); /* non-seq */
	CHECK_EQ(scsi_get_be32(buf), 1 * 64);
	CHECK_EQ(exec(&z, inq, 64), TCMU_STS_OK);
	CHECK_EQ(buf[0], 0);
	CHECK_EQ((buf[8] >> 4) & 3, 1); /* ZONED: host aware */
	inq[1] = 0;
	inq[2] = 0;
	CHECK_EQ(exec(&z, inq, 64), TCMU_STS_NOT_HANDLED); /* a plain disk */
	zbc_meta_close(&z);
}

static int fake_std(void *arg, uint8_t *cdb, uint8_t *b, size_t len)
{
	memset(b, 0, len);
	b[2] = 6;
	b[4] = 31;
	return TCMU_STS_OK;
}

static void test_identity(struct zbc_dev *z)
{
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96 }, rc16[16] = { SERVICE_ACTION_IN_16, 0x10 };
	uint8_t vpd[6] = { INQUIRY, 1, 0, 0, 64 };

	STEP("INQUIRY, VPD, READ CAPACITY");
	z->std_inquiry = fake_std;
	CHECK_EQ(exec(z, inq, 96), TCMU_STS_OK);
	CHECK_EQ(buf[0], 0x14);
	CHECK_EQ(exec(z, vpd, 64), TCMU_STS_OK);
	CHECK(memchr(buf + 4, 0xb6, buf[3]) && memchr(buf + 4, 0xb1, buf[3]));
	vpd[2] = 0xb6;
	CHECK_EQ(exec(z, vpd, 64), TCMU_STS_OK);
	CHECK_EQ(buf[4] & 1, 1);	      /* URSWRZ */
	CHECK_EQ(scsi_get_be32(buf + 16), 3); /* max open */
	vpd[2] = 0x83;
	CHECK_EQ(exec(z, vpd, 64), TCMU_STS_NOT_HANDLED);
	scsi_put_be32(rc16 + 10, 32);
	CHECK_EQ(exec(z, rc16, 32), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be64(buf), NZ * ZL - 1);
	CHECK_EQ(scsi_get_be32(buf + 8), 512);
	CHECK_EQ((buf[12] >> 4) & 3, 1); /* RC BASIS */
}

int main(void)
{
	struct zbc_dev z;
	int fd = mkstemp(path);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	unlink(path);
	test_cfg();
	STEP("format");
	CHECK_EQ(dev_open(&z, fd, "zbc/zsize-4/conv-2/open-3@/x"), 0);
	CHECK_EQ(z.nr_zones, NZ);
	CHECK_EQ(z.zone_lbas, ZL);
	test_report(&z);
	test_writes(&z);
	test_open_limit(&z);
	test_actions(&z);
	test_lba_status(&z);
	test_same_sync(&z);
	test_reload(&z, fd);
	test_identity(&z);
	zbc_meta_close(&z);
	test_ha(fd);
	close(fd);
	return check_exit();
}
