// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_glfs.so on the simulated kernel against a real one-brick Gluster
 * volume on loopback (tests/gluster/run-test.sh starts it and passes its
 * name): bad cfgstrings, I/O checked through a second gfapi client, WRITE
 * SAME (zero with UNMAP: upstream #702, and a pattern), UNMAP, SYNCHRONIZE
 * CACHE, resize, a shared connection, the gfapi log file, a brick outage,
 * and fencing on the volume "<volume>lk", which enforces mandatory locks.
 * Usage: test_glfs_sim <folder holding handler_glfs.so> <volume>
 */
#include <fcntl.h>
#include <glusterfs/api/glfs.h>
#include <sys/stat.h>

#include "dsim.h"

#define BS	 512
#define DEV_SIZE (16u << 20)

static const char *vol;
static char vol_lk[128];
static glfs_t *peer; /* the test's own client, to look at the volume */

/* Add a device and wait up to 60 s for the reply (a failed glfs_init takes
 * some seconds): the reply status, or < -999 when there was none. */
static int add_glfs(const char *cfg, uint64_t size, struct sim_dev **d)
{
	struct sim_nl_reply r;
	int ret = dsim_add(NULL, cfg, size, 4 << 20, d, &r);

	if (ret == -1002)
		ret = wait_reply(&r, 55000) ? -1002 : 0;
	return ret ? ret : r.status;
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

/* The bytes of the backing file, read by the test's own client. */
static bool file_is(const char *path, off_t off, const uint8_t *want, size_t len)
{
	uint8_t *buf = malloc(len);
	glfs_fd_t *fd = glfs_open(peer, path, O_RDONLY);
	bool ok = false;

	if (buf && fd)
		ok = glfs_pread(fd, buf, len, off, 0, NULL) == (ssize_t)len &&
		     !memcmp(buf, want, len);
	if (fd)
		glfs_close(fd);
	free(buf);
	return ok;
}

/* The backing file's size once it is want, or after 5 s what it is (the
 * test's client caches attributes for a second). */
static off_t file_size(const char *path, off_t want)
{
	struct stat st;
	int i;

	for (i = 0; i < 50; i++) {
		if (glfs_stat(peer, path, &st))
			return -1;
		if (st.st_size == want)
			break;
		usleep(100000);
	}
	return st.st_size;
}

static void t_bad_input(void)
{
	struct sim_dev *d;
	char cfg[256];
	int st;

	STEP("bad cfgstrings and unreachable volumes fail the add, the log says why");
	st = add_glfs("glfs/novolume/x.img", DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "no '@': status %d", st);
	CHECK(log_has("no '<volume>@' before the host"), "log names the syntax error");
	sim_dev_destroy(d);

	st = add_glfs("glfs/nosuchvolume@127.0.0.1/x.img", DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "missing volume: status %d", st);
	CHECK(log_has("cannot reach volume 'nosuchvolume' on 127.0.0.1:24007"),
	      "log names the missing volume");
	sim_dev_destroy(d);

	snprintf(cfg, sizeof(cfg), "glfs/%s@no-such-host.invalid/x.img", vol);
	st = add_glfs(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "host that does not resolve: status %d", st);
	CHECK(log_has("on no-such-host.invalid:24007"), "log names the host");
	sim_dev_destroy(d);

	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1:1/x.img", vol);
	st = add_glfs(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "nothing listening on the port: status %d", st);
	CHECK(log_has("on 127.0.0.1:1:"), "log names host and port");
	sim_dev_destroy(d);

	CHECK(!glfs_mkdir(peer, "/adir", 0755) || errno == EEXIST, "mkdir: %m");
	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/adir", vol);
	st = add_glfs(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "folder as backing file: status %d", st);
	CHECK(log_has("/adir in volume") && log_has("is a folder, not a regular file"),
	      "log says folder");
	sim_dev_destroy(d);
}

static void t_io(void)
{
	static uint8_t wbuf[64 * BS], zero[64 * BS], pat[8 * BS];
	struct sim_nl_reply nr;
	struct sim_result r;
	struct sim_dev *d, *d2;
	char cfg[256];
	int ret, i;

	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/lun0.img", vol);
	glfs_unlink(peer, "/lun0.img");

	STEP("add a glfs LUN: the backing file is created at the LUN size");
	ret = add_glfs(cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	CHECK(file_size("/lun0.img", DEV_SIZE) == DEV_SIZE, "file size %lld",
	      (long long)file_size("/lun0.img", DEV_SIZE));
	clear_ua(d);

	STEP("write 64 blocks at LBA 4096, read them back, and find them in the file");
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
	CHECK(file_is("/lun0.img", 4096 * BS, wbuf, sizeof(wbuf)), "data in the volume");

	STEP("WRITE SAME(16) with UNMAP of a zero block (upstream #702): GOOD, zeroes");
	ret = rw16(d, WRITE_SAME_16, 0x08, 4096, 64, zero, BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write same unmap: %d/%d sense %02x/%02x", ret,
	      r.scsi_status, r.sense[2], r.sense[12]);
	CHECK(read_is(d, 4096, 64, zero), "reads zero");
	CHECK(file_is("/lun0.img", 4096 * BS, zero, sizeof(zero)), "zero in the volume");

	STEP("WRITE SAME(16) of zeroes without UNMAP (zerofill) and of a pattern");
	ret = rw16(d, WRITE_16, 0, 100, 64, wbuf, sizeof(wbuf), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	ret = rw16(d, WRITE_SAME_16, 0, 100, 64, zero, BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write same zero: %d/%d", ret, r.scsi_status);
	CHECK(read_is(d, 100, 64, zero), "zerofilled");
	for (i = 0; i < (int)sizeof(pat); i++)
		pat[i] = (uint8_t)(0xa0 + i % BS % 7);
	ret = rw16(d, WRITE_SAME_16, 0, 200, 8, pat, BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write same pattern: %d/%d", ret, r.scsi_status);
	CHECK(read_is(d, 200, 8, pat), "pattern repeated");

	STEP("UNMAP of written blocks: GOOD, they read as zeroes");
	ret = rw16(d, WRITE_16, 0, 8192, 64, wbuf, sizeof(wbuf), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	{
		uint8_t cdb[10] = { UNMAP }, list[24] = { 0, 22, 0, 16 };

		scsi_put_be64(&list[8], 8192);
		scsi_put_be32(&list[16], 64);
		cdb[8] = sizeof(list);
		ret = run(d, cdb, 10, list, sizeof(list), 0, &r);
		CHECK(!ret && r.scsi_status == 0, "unmap: %d/%d sense %02x/%02x", ret,
		      r.scsi_status, r.sense[2], r.sense[12]);
	}
	CHECK(read_is(d, 8192, 64, zero), "unmapped reads zero");

	STEP("resize: the backing file grows, I/O past the old end works");
	CHECK(!sim_nl_reconfig_size(d, 2 * DEV_SIZE) && !tcmulib_master_fd_ready(ctx) &&
		      !wait_reply(&nr, 10000) && nr.status == 0,
	      "resize reply %d", nr.status);
	CHECK(file_size("/lun0.img", 2 * DEV_SIZE) == 2 * DEV_SIZE, "file %lld",
	      (long long)file_size("/lun0.img", 2 * DEV_SIZE));
	clear_ua(d);
	ret = rw16(d, WRITE_16, 0, DEV_SIZE / BS + 10, 8, wbuf, 8 * BS, 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write past the old end: %d/%d", ret, r.scsi_status);
	CHECK(read_is(d, DEV_SIZE / BS + 10, 8, wbuf), "read past the old end");

	STEP("a second LUN on the volume shares the connection");
	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/lun1.img", vol);
	glfs_unlink(peer, "/lun1.img");
	ret = add_glfs(cfg, DEV_SIZE, &d2);
	CHECK(ret == 0, "add second: %d", ret);
	if (!ret) {
		clear_ua(d2);
		ret = rw16(d2, WRITE_16, 0, 0, 8, pat, 8 * BS, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
		CHECK(read_is(d2, 0, 8, pat), "read back");
		CHECK(read_is(d, DEV_SIZE / BS + 10, 8, wbuf), "first LUN unchanged");
		CHECK(dsim_remove_dev(d2) == 0, "remove second");
	} else {
		sim_dev_destroy(d2);
	}
	snprintf(cfg, sizeof(cfg), "connected to volume %s on 127.0.0.1:24007", vol);
	CHECK(log_count(cfg, 1) == 1, "one connection: %d", log_count(cfg, 1));

	STEP("gfapi logs to tcmu-runner-glfs.log in the daemon's log folder");
	{
		char p[400];
		struct stat st;

		snprintf(p, sizeof(p), "%s/log/tcmu-runner-glfs.log", tmp);
		CHECK(!stat(p, &st) && st.st_size > 0, "%s", p);
	}

	STEP("remove: success reply; a new device reuses the connection");
	CHECK(dsim_remove_dev(d) == 0, "remove");
	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/lun0.img", vol);
	ret = add_glfs(cfg, 2 * DEV_SIZE, &d);
	CHECK(ret == 0, "re-add: %d", ret);
	if (!ret) {
		clear_ua(d);
		CHECK(read_is(d, DEV_SIZE / BS + 10, 8, wbuf), "data survived the re-add");
		CHECK(dsim_remove_dev(d) == 0, "remove");
	} else {
		sim_dev_destroy(d);
	}
	STEP("a backing file bigger than the LUN: used as it is, never truncated");
	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/lun0.img", vol);
	ret = add_glfs(cfg, DEV_SIZE / 2, &d);
	CHECK(ret == 0, "add smaller LUN: %d", ret);
	if (!ret) {
		clear_ua(d);
		CHECK(read_is(d, 200, 8, pat), "the file's data, seen through the smaller LUN");
		CHECK(log_has("/lun0.img is 33554432 bytes, more than the LUN's 8388608"),
		      "the log says the file is bigger");
		CHECK(dsim_remove_dev(d) == 0, "remove");
	} else {
		sim_dev_destroy(d);
	}
	CHECK(file_size("/lun0.img", 2 * DEV_SIZE) == 2 * DEV_SIZE, "file kept at %lld",
	      (long long)file_size("/lun0.img", 2 * DEV_SIZE));
	snprintf(cfg, sizeof(cfg), "connected to volume %s on 127.0.0.1:24007", vol);
	CHECK(log_count(cfg, 1) == 1, "still one connection: %d", log_count(cfg, 1));
}

/* gluster.sh WHAT (the volume's control script, from run-test.sh): 0 if done. */
static int gluster(const char *what)
{
	const char *sh = getenv("GLFS_SH");
	char cmd[600];

	if (!sh)
		return -1;
	snprintf(cmd, sizeof(cmd), "\"%s\" %s", sh, what);
	return system(cmd);
}

static void t_outage(void)
{
	static uint8_t a[8 * BS], b[8 * BS];
	struct sim_result r;
	struct sim_dev *d;
	char cfg[256];
	int ret, i, tries;

	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/lun2.img", vol);
	STEP("brick killed: a write completes (not GOOD) instead of hanging");
	ret = add_glfs(cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	memset(a, 0x3c, sizeof(a));
	for (i = 0; i < (int)sizeof(b); i++)
		b[i] = (uint8_t)(i * 31 + 1);
	ret = rw16(d, WRITE_16, 0, 0, 8, a, sizeof(a), 0, &r);
	CHECK(!ret && r.scsi_status == 0, "write before: %d/%d", ret, r.scsi_status);
	ENSURE(gluster("stop-brick") == 0, "gluster.sh stop-brick");
	ret = rw16(d, WRITE_16, 0, 8, 8, b, sizeof(b), 0, &r);
	CHECK(!ret && r.scsi_status != 0, "write with the brick down: ret %d status 0x%02x", ret,
	      r.scsi_status);
	printf("  write with the brick down: status 0x%02x sense %02x/%02x\n", r.scsi_status,
	       r.sense[2], r.sense[12]);
	CHECK(log_has("Transport endpoint is not connected"), "the loss is logged");

	STEP("brick back: the device is reopened and the write goes through");
	ENSURE(gluster("start-brick") == 0, "gluster.sh start-brick");
	for (tries = 0; tries < 120; tries++) {
		ret = rw16(d, WRITE_16, 0, 8, 8, b, sizeof(b), 0, &r);
		if (!ret && r.scsi_status == 0)
			break;
		usleep(500000);
	}
	CHECK(!ret && r.scsi_status == 0, "write after the brick came back: %d/0x%02x (%d tries)",
	      ret, r.scsi_status, tries);
	printf("  write went through after %d retries\n", tries);
	CHECK(log_has("reopened /lun2.img in volume"), "the daemon's recovery reopened it");
	CHECK(read_is(d, 0, 8, a) && read_is(d, 8, 8, b), "data before and after the outage");
	CHECK(file_is("/lun2.img", 0, a, sizeof(a)), "in the volume");
	CHECK(dsim_remove_dev(d) == 0, "remove");
}

/* The daemon's device behind d, found by the NAA in its VPD page 0x83
 * (tcmur_dev_put() it), or NULL. */
static struct tcmu_device *daemon_dev(struct sim_dev *d)
{
	uint8_t cdb[6] = { INQUIRY, 1, 0x83, 0, 255 };
	struct sim_result r;
	size_t i;

	if (run(d, cdb, 6, NULL, 0, 255, &r) || r.scsi_status || r.xfer_len < 4)
		return NULL;
	for (i = 4; i + 4 <= r.xfer_len; i += 4 + r.data_in[i + 3])
		if ((r.data_in[i + 1] & 0x0f) == 3 && r.data_in[i + 3] == 16 &&
		    i + 20 <= r.xfer_len)
			return tcmur_dev_find_by_naa(&r.data_in[i + 4], 16);
	return NULL;
}

/* Write 8 blocks of byte v at lba: the SCSI status (-1: no answer). */
static int write8(struct sim_dev *d, uint64_t lba, uint8_t v)
{
	static uint8_t buf[8 * BS];
	struct sim_result r;

	memset(buf, v, sizeof(buf));
	if (rw16(d, WRITE_16, 0, lba, 8, buf, sizeof(buf), 0, &r))
		return -1;
	return r.scsi_status;
}

static void t_fence(void)
{
	/* Aligned: the peer's O_DIRECT I/O reaches the brick's O_DIRECT fd. */
	static uint8_t a[8 * BS] __attribute__((aligned(4096))),
		b[8 * BS] __attribute__((aligned(4096))), zero[8 * BS];
	struct tcmur_handler_rec *h = tcmur_handler_find("glfs");
	struct sim_dev *da, *db;
	struct tcmu_device *dev;
	glfs_t *lk_peer;
	glfs_fd_t *pfd = NULL;
	char cfg[256];
	int ret, i, st, n;

	snprintf(cfg, sizeof(cfg), "glfs/%s@127.0.0.1/fence.img", vol_lk);
	lk_peer = glfs_new(vol_lk);
	ENSURE(lk_peer && !glfs_set_volfile_server(lk_peer, "tcp", "127.0.0.1", 24007), "glfs_new");
	glfs_set_logging(lk_peer, "/dev/null", 0);
	/* The peer's writes must reach the brick, not write-behind's cache. */
	glfs_set_xlator_option(lk_peer, "*-write-behind", "strict-O_DIRECT", "on");
	ENSURE(!glfs_init(lk_peer), "the test's client cannot reach volume %s: %m", vol_lk);
	glfs_unlink(lk_peer, "/fence.img");
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));

	STEP("volume enforcing mandatory locks: LUN A takes the lock at open, its I/O works");
	ret = add_glfs(cfg, DEV_SIZE, &da);
	ENSURE(ret == 0, "add A: %d", ret);
	clear_ua(da);
	CHECK(log_count("/fence.img: mandatory lock taken", 1) == 1, "A locked");
	CHECK(write8(da, 0, 0xa1) == 0, "A writes");
	CHECK(read_is(da, 0, 8, a), "A reads back");

	STEP("LUN B on the same file (same daemon, same connection) takes the lock: A is fenced");
	ret = add_glfs(cfg, DEV_SIZE, &db);
	ENSURE(ret == 0, "add B: %d", ret);
	clear_ua(db);
	CHECK(log_count("/fence.img: mandatory lock taken", 2) == 2, "B locked");
	CHECK(write8(db, 8, 0xb2) == 0, "B writes");
	CHECK(read_is(db, 0, 8, a), "B reads what A wrote before");
	st = write8(da, 16, 0xa1);
	CHECK(st == SAM_STAT_BUSY, "A's write after B took the lock: status 0x%02x (want BUSY)",
	      st);
	CHECK(log_has("/fence.img: lock lost (another holder took it)"),
	      "A reported the lost lock");
	CHECK(read_is(db, 16, 8, zero), "A's write did not reach the file");

	STEP("A stays fenced after its recovery (no lock without an ALUA request): BUSY");
	for (i = 0; i < 100 && !log_has("fenced by another lock holder"); i++) {
		write8(da, 16, 0xa1);
		usleep(100000);
	}
	CHECK(log_has("/fence.img: fenced by another lock holder; not taking the lock back"),
	      "A reopened without the lock");
	for (i = 0; i < 5; i++) {
		st = write8(da, 16, 0xa1);
		CHECK(st != 0, "fenced A's write %d: status 0x%02x", i, st);
	}
	CHECK(read_is(db, 16, 8, zero) && read_is(db, 8, 8, b), "B's view unchanged");
	{
		/* sd syncs the cache when the disk goes away: never BUSY for it */
		uint8_t cdb[10] = { SYNCHRONIZE_CACHE };
		struct sim_result r;
		int rc = run(da, cdb, 10, NULL, 0, 0, &r);

		CHECK(!rc && r.scsi_status == 0, "fenced A's SYNCHRONIZE CACHE: %d/%d", rc,
		      r.scsi_status);
	}

	STEP("another client takes the lock: B is fenced; B's lock() takes it back");
	pfd = glfs_open(lk_peer, "/fence.img", O_RDWR | O_DIRECT);
	CHECK(pfd && !glfs_fsetxattr(pfd, "trusted.glusterfs.enforce-mandatory-lock", "set", 4, 0),
	      "peer open: %m");
	if (pfd) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		CHECK(!glfs_file_lock(pfd, F_SETLK, &fl, GLFS_LK_MANDATORY), "peer lock: %m");
		CHECK(glfs_pwrite(pfd, b, BS, 24 * BS, 0, NULL, NULL) == BS, "peer writes: %m");
	}
	sleep(1); /* A's last recovery is over */
	n = file_count(logpath, "reopened /fence.img");
	st = write8(db, 32, 0xb2);
	CHECK(st == SAM_STAT_BUSY, "B's write after the peer took the lock: 0x%02x", st);
	CHECK(log_count("lock lost (another holder took it)", 2) >= 2, "B reported it");
	/* B's recovery: reopened without the lock. */
	for (i = 0; i < 5 && file_count(logpath, "reopened /fence.img") <= n; i++)
		log_count("reopened /fence.img", n + 1);
	CHECK(file_count(logpath, "reopened /fence.img") > n, "B reopened");
	dev = daemon_dev(db);
	CHECK(dev && h && h->h.lock && h->h.get_lock_state, "B's device and callouts");
	if (dev && h) {
		CHECK(h->h.get_lock_state(dev) == TCMUR_DEV_LOCK_UNLOCKED, "B: unlocked");
		CHECK(h->h.lock(dev, 7) == TCMU_STS_OK, "B's lock(7)");
		CHECK(h->h.get_lock_state(dev) == TCMUR_DEV_LOCK_WRITE_LOCKED, "B: locked");
		tcmur_dev_put(dev);
	}
	CHECK(write8(db, 32, 0xb2) == 0, "B writes again");
	CHECK(read_is(db, 32, 8, b), "B reads it back");
	if (pfd) {
		errno = 0;
		CHECK(glfs_pwrite(pfd, a, BS, 40 * BS, 0, NULL, NULL) < 0 &&
			      (errno == EBUSY || errno == EAGAIN),
		      "the peer is fenced now: %m");
		glfs_close(pfd);
	}
	CHECK(dsim_remove_dev(db) == 0, "remove B");
	CHECK(dsim_remove_dev(da) == 0, "remove A");
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 3, "usage: test_glfs_sim <handler dir> <volume>");
	vol = argv[2];
	snprintf(vol_lk, sizeof(vol_lk), "%slk", vol);
	ret = dsim_setup("glfssim");
	if (ret)
		return ret;
	peer = glfs_new(vol);
	REQUIRE(peer && !glfs_set_volfile_server(peer, "tcp", "127.0.0.1", 24007), "glfs_new");
	glfs_set_logging(peer, "/dev/null", 0);
	REQUIRE(!glfs_init(peer), "FAIL: the test's own gfapi client cannot reach volume %s: %m",
		vol);

	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret == 1 && tcmur_handler_find("glfs"), "load handler_glfs.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	t_bad_input();
	t_io();
	t_outage();
	t_fence();

	tcmur_devices_shutdown();
	tcmulib_close(ctx);
	/* No glfs_fini: it takes ~10 s, and the process ends here. */
	sim_kernel_destroy(k);
	tcmu_destroy_log();
	if (check_failures)
		printf("log kept: %s\n", logpath);
	else
		dt_rmrf(tmp);
	return check_exit();
}
