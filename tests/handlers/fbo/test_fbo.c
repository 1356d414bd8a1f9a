// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The fbo handler's command code (handlers/fbo, fbo_exec) on scratch files,
 * without the daemon: cfgstrings, a new writable medium, reads and writes,
 * read-only media, eject/load/medium change with their unit attention and
 * GESN events, PREVENT ALLOW, GET CONFIGURATION profiles and features,
 * READ TOC, MODE SENSE/SELECT, FORMAT UNIT with IMMED and its progress.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../check.h"
#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define NBLK 512u /* 1 MiB medium */

static uint8_t sense[96], buf[1 << 20];
static char dir[] = "/tmp/test_fbo.XXXXXX";
static char p_rw[64], p_iso[64];

static int exec(struct fbo_dev *f, const uint8_t *c, size_t cdb_len, size_t len)
{
	uint8_t cdb[16] = { 0 };
	struct iovec v = { .iov_base = buf, .iov_len = len };

	memcpy(cdb, c, cdb_len);
	memset(sense, 0, sizeof(sense));
	return fbo_exec(f, cdb, &v, 1, sense);
}

static unsigned int kaq(void)
{
	return (unsigned int)((sense[2] & 0xf) << 16 | sense[12] << 8 | sense[13]);
}

static int rw10(struct fbo_dev *f, uint8_t op, uint32_t lba, uint16_t n)
{
	uint8_t c[10] = { op };

	scsi_put_be32(c + 2, lba);
	scsi_put_be16(c + 7, n);
	return exec(f, c, 10, (size_t)n * FBO_BLOCK);
}

static int tur(struct fbo_dev *f)
{
	uint8_t c[6] = { TEST_UNIT_READY };

	return exec(f, c, 6, 0);
}

static uint8_t gesn_event(struct fbo_dev *f)
{
	uint8_t c[10] = { FBO_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8 };

	CHECK_EQ(exec(f, c, 10, 8), TCMU_STS_OK);
	return buf[4] & 0x0f;
}

static int fake_std(void *arg, uint8_t *cdb, uint8_t *b, size_t len)
{
	memset(b, 0, len);
	b[4] = 31;
	return TCMU_STS_OK;
}

static void open_dev(struct fbo_dev *f, const char *cfgstring)
{
	struct fbo_cfg c;

	CHECK_EQ(fbo_cfg_parse(cfgstring, &c, NULL), 0);
	fbo_init(f, &c, NBLK);
	f->std_inquiry = fake_std;
	CHECK_EQ(fbo_load(f, false), 0);
	fbo_cfg_free(&c);
}

static void test_cfg(void)
{
	struct fbo_cfg c;
	char *r;

	STEP("cfgstring");
	CHECK_EQ(fbo_cfg_parse("fbo//a/b", &c, &r), 0);
	CHECK(!c.ro && !strcmp(c.path, "/a/b"));
	fbo_cfg_free(&c);
	CHECK_EQ(fbo_cfg_parse("fbo/ro//a/b", &c, &r), 0);
	CHECK(c.ro && !strcmp(c.path, "/a/b"));
	fbo_cfg_free(&c);
	CHECK_EQ(fbo_cfg_parse("fbo/rel", &c, &r), -EINVAL);
	free(r);
	fbo_cfg_free(&c);
}

static void test_rw(struct fbo_dev *f)
{
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 36 }, rc[10] = { READ_CAPACITY };
	uint8_t vfy[10] = { VERIFY, 0x02, 0, 0, 0, 3, 0, 0, 1 };

	STEP("new writable medium");
	CHECK_EQ(exec(f, inq, 6, 36), TCMU_STS_OK);
	CHECK_EQ(buf[0], 0x05);
	CHECK_EQ(buf[1] & 0x80, 0x80);
	CHECK_EQ(exec(f, rc, 10, 8), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), NBLK - 1);
	CHECK_EQ(scsi_get_be32(buf + 4), 2048);
	memset(buf, 0x3c, 4 * FBO_BLOCK);
	CHECK_EQ(rw10(f, WRITE_10, 3, 4), TCMU_STS_OK);
	memset(buf, 0, 4 * FBO_BLOCK);
	CHECK_EQ(rw10(f, READ_10, 3, 4), TCMU_STS_OK);
	CHECK(buf[0] == 0x3c && buf[4 * FBO_BLOCK - 1] == 0x3c);
	CHECK_EQ(rw10(f, READ_10, NBLK - 1, 2), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052100);
	CHECK_EQ(rw10(f, WRITE_VERIFY, 7, 1), TCMU_STS_OK);
	memset(buf, 0x3c, FBO_BLOCK);
	CHECK_EQ(exec(f, vfy, 10, FBO_BLOCK), TCMU_STS_OK);
	buf[5] ^= 1;
	CHECK_EQ(exec(f, vfy, 10, FBO_BLOCK), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x0e1d00);
}

static void test_config(struct fbo_dev *f, uint16_t profile, bool rw)
{
	uint8_t c[10] = { FBO_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0x02, 0 };
	size_t off;
	int found = 0;

	STEP("GET CONFIGURATION");
	CHECK_EQ(exec(f, c, 10, 512), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf + 6), profile);
	CHECK_EQ(scsi_get_be16(buf + 8), 0x0000); /* profile list first */
	for (off = 12; off < 12u + buf[11]; off += 4)
		found += scsi_get_be16(buf + off) == profile && (buf[off + 2] & 1);
	CHECK_EQ(found, 1);
	/* What Linux asks before a write open: 0020h and 0024h from there on. */
	c[3] = 0x20;
	CHECK_EQ(exec(f, c, 10, 512), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf + 8), 0x0020);
	CHECK_EQ(buf[10] & 1, rw);
	c[3] = 0x24;
	CHECK_EQ(exec(f, c, 10, 512), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf + 8), 0x0024);
	c[1] = 2; /* RT 2: that feature only */
	c[3] = 0x01;
	CHECK_EQ(exec(f, c, 10, 512), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be32(buf), 4 + 12);
	c[1] = 3;
	CHECK_EQ(exec(f, c, 10, 512), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
}

static void test_toc_mode(struct fbo_dev *f)
{
	uint8_t toc[10] = { FBO_READ_TOC, 0, 0, 0, 0, 0, 0, 0, 100 };
	uint8_t ms[10] = { MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 100 };
	uint8_t sel[10] = { MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, 0, 8 + 20 };

	STEP("READ TOC, MODE SENSE/SELECT");
	CHECK_EQ(exec(f, toc, 10, 100), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf), 18);
	CHECK_EQ(buf[4 + 8 + 2], 0xaa);
	CHECK_EQ(scsi_get_be32(buf + 4 + 8 + 4), NBLK);
	toc[1] = 0x02; /* MSF: 00:02:00 for LBA 0 */
	CHECK_EQ(exec(f, toc, 10, 100), TCMU_STS_OK);
	CHECK(buf[4 + 5] == 0 && buf[4 + 6] == 2 && buf[4 + 7] == 0);
	toc[2] = 1;
	CHECK_EQ(exec(f, toc, 10, 100), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf), 10);
	toc[2] = 0;
	toc[9] = 0x40; /* session info in the older format field */
	CHECK_EQ(exec(f, toc, 10, 100), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf), 10);
	toc[9] = 0;
	toc[2] = 2;
	CHECK_EQ(exec(f, toc, 10, 100), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(exec(f, ms, 10, 100), TCMU_STS_OK);
	CHECK_EQ(buf[8], 0x2a);
	CHECK_EQ(buf[8 + 3] & 0x20, 0x20); /* writes DVD-RAM */
	CHECK_EQ(buf[8 + 6] & 0x08, 0x08); /* eject */
	ms[2] = 0x08;
	CHECK_EQ(exec(f, ms, 10, 100), TCMU_STS_OK);
	CHECK_EQ(buf[8 + 2] & 0x04, 0x04); /* WCE */
	memset(buf, 0, 8);
	buf[8] = 0x08;
	buf[9] = 18;
	memset(buf + 10, 0, 18);
	CHECK_EQ(exec(f, sel, 10, 8 + 20), TCMU_STS_OK);
	CHECK_EQ(exec(f, ms, 10, 100), TCMU_STS_OK);
	CHECK_EQ(buf[8 + 2] & 0x04, 0);
	ms[2] = 0xc8; /* saved values */
	CHECK_EQ(exec(f, ms, 10, 100), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x053900);
	ms[2] = 0x05;
	CHECK_EQ(exec(f, ms, 10, 100), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
}

static void test_track_info(struct fbo_dev *f)
{
	uint8_t c[10] = { FBO_READ_TRACK_INFO, 0x01, 0, 0, 0, 1, 0, 0, 48 };

	STEP("READ TRACK INFORMATION");
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_OK); /* track 1 */
	CHECK_EQ(scsi_get_be16(buf), 46);
	CHECK(buf[2] == 1 && buf[3] == 1);
	CHECK_EQ(buf[5] & 0x0f, 0x04);
	CHECK_EQ(buf[6] & 0x40, 0);    /* not blank */
	CHECK_EQ(buf[7] & 0x03, 0x02); /* LRA valid, NWA not */
	CHECK_EQ(scsi_get_be32(buf + 8), 0);
	CHECK_EQ(scsi_get_be32(buf + 24), f->nblocks);
	CHECK_EQ(scsi_get_be32(buf + 28), f->nblocks - 1);
	c[1] = 0x00; /* by LBA */
	scsi_put_be32(c + 2, (uint32_t)f->nblocks - 1);
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_OK);
	CHECK_EQ(buf[2], 1);
	scsi_put_be32(c + 2, (uint32_t)f->nblocks);
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052100);
	c[1] = 0x02; /* session 1 */
	scsi_put_be32(c + 2, 1);
	c[8] = 8; /* allocation length */
	memset(buf, 0xee, 48);
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_OK);
	CHECK(buf[2] == 1 && buf[8] == 0);
	c[1] = 0x01; /* track 2, and 0xff (the invisible track) do not exist */
	scsi_put_be32(c + 2, 2);
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	scsi_put_be32(c + 2, 0xff);
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_PASSTHROUGH_ERR);
	c[1] = 0x03;
	scsi_put_be32(c + 2, 1);
	CHECK_EQ(exec(f, c, 10, 48), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
}

static void test_disc(struct fbo_dev *f)
{
	uint8_t di[10] = { FBO_READ_DISC_INFO, 0, 0, 0, 0, 0, 0, 0, 34 };
	uint8_t ds[12] = { FBO_READ_DVD_STRUCTURE, 0, 0, 0, 0, 0, 0, 0, 0, 64 };
	uint8_t ms[12] = { FBO_MECHANISM_STATUS, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
	uint8_t sc[10] = { SYNCHRONIZE_CACHE, 0x02 }, rw12[12] = { WRITE_12 };

	STEP("READ DISC INFORMATION, READ DVD STRUCTURE, MECHANISM STATUS, SYNC, 12-byte I/O");
	CHECK_EQ(exec(f, di, 10, 34), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf), 32);
	CHECK_EQ(buf[2] & 0x1f, 0x1e); /* erasable, last session and disc complete */
	CHECK(buf[3] == 1 && buf[4] == 1 && buf[6] == 1);
	di[1] = 1; /* track resources: not given */
	CHECK_EQ(exec(f, di, 10, 34), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	CHECK_EQ(exec(f, ds, 12, 64), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf), 19);
	CHECK_EQ(buf[4], 0x11); /* DVD-RAM book */
	CHECK_EQ(scsi_get_be32(buf + 12), 0x030000 + NBLK - 1);
	ds[7] = 0x01;
	CHECK_EQ(exec(f, ds, 12, 64), TCMU_STS_OK);
	CHECK_EQ(scsi_get_be16(buf), 6);
	ds[7] = 0x02;
	CHECK_EQ(exec(f, ds, 12, 64), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052400);
	CHECK_EQ(exec(f, ms, 12, 8), TCMU_STS_OK);
	CHECK_EQ(buf[1] & 0x10, 0); /* door closed */
	CHECK_EQ(exec(f, sc, 10, 0), TCMU_STS_OK);
	scsi_put_be32(rw12 + 2, 9);
	scsi_put_be32(rw12 + 6, 2);
	memset(buf, 0x6b, 2 * FBO_BLOCK);
	CHECK_EQ(exec(f, rw12, 12, 2 * FBO_BLOCK), TCMU_STS_OK);
	rw12[0] = READ_12;
	memset(buf, 0, 2 * FBO_BLOCK);
	CHECK_EQ(exec(f, rw12, 12, 2 * FBO_BLOCK), TCMU_STS_OK);
	CHECK(buf[0] == 0x6b && buf[2 * FBO_BLOCK - 1] == 0x6b);
}

static void test_eject(struct fbo_dev *f)
{
	uint8_t eject[6] = { START_STOP, 0, 0, 0, 0x02 }, load[6] = { START_STOP, 0, 0, 0, 0x03 };
	uint8_t prevent[6] = { ALLOW_MEDIUM_REMOVAL, 0, 0, 0, 1 };
	struct fbo_cfg c;

	STEP("eject, load, medium change");
	memset(buf, 0x3c, FBO_BLOCK);
	CHECK_EQ(rw10(f, WRITE_10, 3, 1), TCMU_STS_OK);
	CHECK_EQ(exec(f, prevent, 6, 0), TCMU_STS_OK);
	CHECK_EQ(exec(f, eject, 6, 0), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x055302);
	prevent[4] = 0;
	CHECK_EQ(exec(f, prevent, 6, 0), TCMU_STS_OK);
	CHECK_EQ(exec(f, eject, 6, 0), TCMU_STS_OK);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x023a02);
	CHECK_EQ(gesn_event(f), FBO_EV_MEDIA_REMOVAL);
	CHECK_EQ(buf[5] & 0x03, 0x01); /* tray open, no medium */
	CHECK_EQ(rw10(f, READ_10, 0, 1), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(exec(f, load, 6, 0), TCMU_STS_OK);
	CHECK_EQ(gesn_event(f), FBO_EV_NEW_MEDIA);
	CHECK_EQ(gesn_event(f), FBO_EV_NONE); /* reported once */
	CHECK_EQ(buf[5] & 0x02, 0x02);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR); /* the unit attention, once */
	CHECK_EQ(kaq(), 0x062800);
	CHECK_EQ(tur(f), TCMU_STS_OK);
	memset(buf, 0, FBO_BLOCK);
	CHECK_EQ(rw10(f, READ_10, 3, 1), TCMU_STS_OK); /* the data survived */
	CHECK_EQ(buf[0], 0x3c);

	STEP("medium change to a read-only disc");
	CHECK_EQ(fbo_cfg_parse(p_iso, &c, NULL), 0);
	CHECK_EQ(fbo_change_medium(f, &c), 0);
	fbo_cfg_free(&c);
	CHECK_EQ(gesn_event(f), FBO_EV_NEW_MEDIA);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x062800);
	CHECK_EQ(f->nblocks, 20);
	CHECK_EQ(rw10(f, READ_10, 19, 1), TCMU_STS_OK);
	CHECK_EQ(buf[0], 0x77);
	CHECK_EQ(rw10(f, WRITE_10, 0, 1), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x072700);
	test_config(f, FBO_PROFILE_DVD_ROM, false);

	STEP("the administrator's eject is refused while removal is prevented");
	prevent[4] = 1;
	CHECK_EQ(exec(f, prevent, 6, 0), TCMU_STS_OK);
	CHECK_EQ(fbo_admin_eject(f), -EBUSY);
	CHECK_EQ(gesn_event(f), FBO_EV_EJECT_REQUEST);
	CHECK_EQ(tur(f), TCMU_STS_OK);
	prevent[4] = 0;
	CHECK_EQ(exec(f, prevent, 6, 0), TCMU_STS_OK);
	CHECK_EQ(fbo_admin_eject(f), 0);
	CHECK_EQ(gesn_event(f), FBO_EV_MEDIA_REMOVAL);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x023a02);

	STEP("fbo failed medium change leaves no medium");
	CHECK_EQ(fbo_cfg_parse(p_iso, &c, NULL), 0);
	CHECK_EQ(fbo_change_medium(f, &c), 0);
	fbo_cfg_free(&c);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x062800);
	CHECK_EQ(fbo_cfg_parse("fbo/ro//nonexistent/fbo-test.iso", &c, NULL), 0);
	CHECK_EQ(fbo_change_medium(f, &c), -ENOENT);
	fbo_cfg_free(&c);
	CHECK_EQ(gesn_event(f), FBO_EV_MEDIA_REMOVAL);
	CHECK_EQ(buf[5] & 0x03, 0x00);		    /* tray closed, no medium */
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR); /* no unit attention */
	CHECK_EQ(kaq(), 0x023a01);
	CHECK_EQ(rw10(f, READ_10, 0, 1), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x023a01);
	{
		uint8_t gc[10] = { FBO_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 8 };

		CHECK_EQ(exec(f, gc, 10, 8), TCMU_STS_OK);
		CHECK_EQ(scsi_get_be16(buf + 6), 0); /* no current profile */
	}
	CHECK_EQ(exec(f, load, 6, 0),
		 TCMU_STS_PASSTHROUGH_ERR); /* the initiator's load retries it */
	CHECK_EQ(kaq(), 0x023a01);
	CHECK_EQ(fbo_cfg_parse(p_iso, &c, NULL), 0);
	CHECK_EQ(fbo_change_medium(f, &c), 0);
	fbo_cfg_free(&c);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x062800);
	CHECK_EQ(tur(f), TCMU_STS_OK);
}

static void test_format(struct fbo_dev *f)
{
	uint8_t fmt[6] = { FORMAT_UNIT, 0x11 }, rs[6] = { REQUEST_SENSE, 0, 0, 0, 18 };
	uint8_t rfc[10] = { FBO_READ_FORMAT_CAPS, 0, 0, 0, 0, 0, 0, 0, 252 };

	STEP("FORMAT UNIT");
	CHECK_EQ(exec(f, rfc, 10, 252), TCMU_STS_OK);
	CHECK_EQ(buf[3], 16);
	CHECK_EQ(scsi_get_be32(buf + 4), NBLK);
	CHECK_EQ(buf[8] & 3, 2); /* formatted */
	memset(buf, 0, 12);
	buf[1] = 0x02; /* IMMED */
	buf[3] = 8;
	scsi_put_be32(buf + 4, NBLK);
	f->nblocks = 3 * 8192; /* so that it takes steps (the file is sparse) */
	CHECK_EQ(exec(f, fmt, 6, 12), TCMU_STS_OK);
	CHECK(f->formatting);
	CHECK_EQ(tur(f), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x020404);
	CHECK(fbo_format_step(f));
	CHECK_EQ(exec(f, rs, 6, 18), TCMU_STS_OK);
	CHECK_EQ(buf[12], 0x04);
	CHECK_EQ(buf[15] & 0x80, 0x80); /* SKSV: progress */
	CHECK_EQ(scsi_get_be16(buf + 16), 8192 * 2 * 65536 / (3 * 8192) / 2);
	while (fbo_format_step(f))
		;
	CHECK_EQ(tur(f), TCMU_STS_OK);
	f->nblocks = NBLK;
	CHECK_EQ(rw10(f, READ_10, 3, 1), TCMU_STS_OK);
	CHECK_EQ(buf[0], 0); /* zeroed */
	memset(buf, 0, 12);  /* a format type it does not do */
	buf[3] = 8;
	buf[8] = 0x04 << 2;
	CHECK_EQ(exec(f, fmt, 6, 12), TCMU_STS_PASSTHROUGH_ERR);
	CHECK_EQ(kaq(), 0x052600);
}

int main(void)
{
	struct fbo_dev f;
	uint8_t iso[20 * FBO_BLOCK];
	int fd;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(p_rw, sizeof(p_rw), "fbo/%s/disc", dir);
	snprintf(p_iso, sizeof(p_iso), "fbo/ro/%s/iso", dir);
	memset(iso, 0x77, sizeof(iso));
	fd = open(p_iso + 7, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || write(fd, iso, sizeof(iso)) != (ssize_t)sizeof(iso))
		return 1;
	close(fd);

	test_cfg();
	open_dev(&f, p_rw);
	CHECK_EQ(f.nblocks, NBLK);
	test_rw(&f);
	test_config(&f, FBO_PROFILE_DVD_RAM, true);
	test_toc_mode(&f);
	test_track_info(&f);
	test_disc(&f);
	test_format(&f);
	test_eject(&f);
	fbo_destroy(&f);
	unlink(p_iso + 7);
	snprintf(p_rw, sizeof(p_rw), "%s/disc", dir);
	unlink(p_rw);
	rmdir(dir);
	return check_exit();
}
