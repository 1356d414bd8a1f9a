// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Per-device recovery (daemon/recovery.c) on the simulated kernel with the
 * test-only handler_faulty.so: a LUN whose handler reports its backend
 * connection lost answers BUSY (the emulated commands still GOOD), another
 * LUN keeps serving I/O, the handler is reopened with back-off until the
 * fault is gone, data written before reads back; a lost lock recovers the
 * same way; removal and shutdown during a recovery finish promptly.
 * Usage: test_daemon_reconnect <handler_file.so folder> <handler_faulty.so folder>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "dsim.h"

#define BS	 512
#define DEV_SIZE (8u << 20)
#define SAM_BUSY 0x08

static int add_dev(const char *name, const char *cfg, struct sim_dev **d)
{
	return dsim_add_dev(name, cfg, DEV_SIZE, 1 << 20, d);
}

/* READ/WRITE(10); returns -errno or the SCSI status. */
static int rw(struct sim_dev *d, bool write, uint32_t lba, uint16_t blocks, const void *data,
	      void *out)
{
	struct sim_result r;
	uint16_t id;
	int ret;

	ret = sim_submit_rw10(d, write, lba, blocks, BS, write ? data : NULL, &id);
	if (!ret)
		ret = sim_wait(d, id, 5000, &r);
	if (ret)
		return ret;
	if (!write && out && r.scsi_status == 0)
		memcpy(out, r.data_in, (size_t)blocks * BS);
	return r.scsi_status;
}

struct pick {
	const char *name;
	char state[32];
	struct tcmur_dev_metrics m;
};

static void pick_cb(const struct tcmur_dbus_device *dev, void *arg)
{
	struct pick *p = arg;

	if (!strcmp(dev->name, p->name)) {
		snprintf(p->state, sizeof(p->state), "%s", dev->state);
		p->m = dev->metrics;
	}
}

static struct pick info_of(const char *name)
{
	struct pick p = { .name = name };

	tcmur_for_each_device(pick_cb, &p);
	return p;
}

static void touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0600);

	if (fd >= 0)
		close(fd);
}

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed);
}

/* Write until GOOD; returns seconds taken, or -1 after limit_s. */
static double write_until_good(struct sim_dev *d, uint32_t lba, uint16_t blocks, const void *data,
			       double limit_s, int *busy)
{
	double t0 = now_s();
	int st;

	while (now_s() - t0 < limit_s) {
		st = rw(d, true, lba, blocks, data, NULL);
		if (st == 0)
			return now_s() - t0;
		if (st == SAM_BUSY)
			(*busy)++;
		usleep(50000);
	}
	return -1;
}

/* ---- tests ------------------------------------------------------------- */

static void t_conn_lost(const char *subtype)
{
	static uint8_t p1[16 * BS], p2[16 * BS], back[16 * BS], pb[8 * BS];
	char cfg[400], img[300], fail[320], lockf[330], name[32], pat[96];
	struct sim_dev *a, *b;
	struct sim_result r;
	struct pick pi;
	double t0, t_fix, took, worst = 0;
	int ret, busy = 0, i, b_ok = 0, attempts = -1;
	int fails = log_count("reopen attempt 1 failed", 0);

	snprintf(name, sizeof(name), "a-%s", subtype);
	snprintf(img, sizeof(img), "%s/%s.img", tmp, name);
	snprintf(fail, sizeof(fail), "%s.fail", img);
	snprintf(lockf, sizeof(lockf), "%s.locklost", img);
	snprintf(cfg, sizeof(cfg), "%s/%s", subtype, img);

	STEP("%s: two LUNs (%s and file); data written before the fault", subtype, subtype);
	ret = add_dev(name, cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	snprintf(cfg, sizeof(cfg), "file/%s/b-%s.img", tmp, subtype);
	ret = add_dev("b", cfg, &b);
	ENSURE(ret == 0, "add file LUN: %d", ret);
	clear_ua(a);
	clear_ua(b);
	fill(p1, sizeof(p1), 1);
	fill(p2, sizeof(p2), 2);
	CHECK(rw(a, true, 100, 16, p1, NULL) == 0, "write before the fault");

	STEP("%s: backend down: the failing write gets BUSY, the device recovers", subtype);
	touch(fail);
	t0 = now_s();
	ret = rw(a, true, 200, 16, p2, NULL);
	CHECK(ret == SAM_BUSY, "write during the fault: %d", ret);
	pi = info_of(name);
	CHECK(!strcmp(pi.state, "recovering"), "state '%s'", pi.state);
	CHECK(pi.m.conn_lost >= 1, "conn_lost %llu", (unsigned long long)pi.m.conn_lost);
	ret = rw(a, false, 100, 16, NULL, back);
	CHECK(ret == SAM_BUSY, "read while recovering: %d", ret);
	{
		uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96 };
		uint8_t rc10[10] = { READ_CAPACITY };

		/* BUSY too while the ring thread restarts around close(): retry. */
		for (i = 0; i < 10; i++) {
			ret = run(a, inq, 6, NULL, 0, 96, &r);
			if (ret || r.scsi_status != SAM_BUSY)
				break;
			usleep(50000);
		}
		CHECK(!ret && r.scsi_status == 0, "INQUIRY while recovering: %d/%d", ret,
		      r.scsi_status);
		for (i = 0; i < 10; i++) {
			ret = run(a, rc10, 10, NULL, 0, 8, &r);
			if (ret || r.scsi_status != SAM_BUSY)
				break;
			usleep(50000);
		}
		CHECK(!ret && r.scsi_status == 0, "READ CAPACITY while recovering: %d/%d", ret,
		      r.scsi_status);
	}

	STEP("%s: the other LUN keeps serving I/O meanwhile", subtype);
	for (i = 0; i < 20; i++) {
		double t = now_s();

		fill(pb, sizeof(pb), (unsigned int)i);
		if (rw(b, true, (uint32_t)i * 8, 8, pb, NULL) == 0 &&
		    rw(b, false, (uint32_t)i * 8, 8, NULL, back) == 0 &&
		    !memcmp(back, pb, sizeof(pb)))
			b_ok++;
		if (now_s() - t > worst)
			worst = now_s() - t;
		usleep(20000);
	}
	CHECK(b_ok == 20 && worst < 1.0, "file LUN: %d/20 good, slowest %.3f s", b_ok, worst);
	CHECK(log_count("reopen attempt 1 failed", fails + 1) > fails, "first reopen failed");
	CHECK(!strcmp(info_of(name).state, "recovering"), "still recovering");

	STEP("%s: backend back: I/O succeeds again, data reads back", subtype);
	usleep(1200000);
	unlink(fail);
	t_fix = now_s();
	took = write_until_good(a, 200, 16, p2, 15.0, &busy);
	CHECK(took >= 0, "no GOOD write within 15 s of the fix");
	printf("  %s: BUSY for %.2f s in all, GOOD %.2f s after the fix, %d BUSY retries\n",
	       subtype, now_s() - t0, now_s() - t_fix, busy);
	CHECK(rw(a, false, 100, 16, NULL, back) == 0 && !memcmp(back, p1, sizeof(p1)),
	      "data written before the fault");
	CHECK(rw(a, false, 200, 16, NULL, back) == 0 && !memcmp(back, p2, sizeof(p2)),
	      "data written after the recovery");
	pi = info_of(name);
	CHECK(!strcmp(pi.state, "open"), "state '%s'", pi.state);
	CHECK(pi.m.recoveries == 1, "recoveries %llu", (unsigned long long)pi.m.recoveries);
	snprintf(pat, sizeof(pat), "device %s recovered after ", name);
	CHECK(log_has(pat), "log says recovered");
	{
		char *t = dt_slurp(logpath), *p = t ? strstr(t, pat) : NULL;

		if (p)
			attempts = atoi(p + strlen(pat));
		free(t);
	}
	CHECK(attempts >= 2, "attempts %d", attempts);
	printf("  %s: recovered after %d attempt(s)\n", subtype, attempts);

	STEP("%s: lock lost: BUSY, then reopened at the first attempt", subtype);
	touch(lockf);
	ret = rw(a, true, 300, 16, p1, NULL);
	CHECK(ret == SAM_BUSY, "write when the lock is lost: %d", ret);
	busy = 0;
	took = write_until_good(a, 300, 16, p1, 10.0, &busy);
	CHECK(took >= 0 && took < 3.0, "GOOD again after %.2f s", took);
	pi = info_of(name);
	CHECK(pi.m.recoveries == 2 && pi.m.lock_lost == 1, "recoveries %llu lock_lost %llu",
	      (unsigned long long)pi.m.recoveries, (unsigned long long)pi.m.lock_lost);
	CHECK(log_has("handler reports lock lost"), "log names the lock");

	STEP("%s: removal while the backend is down and the handler closed", subtype);
	fails = log_count("reopen attempt 1 failed", 0);
	touch(fail);
	CHECK(rw(a, true, 0, 1, p1, NULL) == SAM_BUSY, "BUSY");
	CHECK(log_count("reopen attempt 1 failed", fails + 1) > fails, "recovering again");
	t0 = now_s();
	ret = dsim_remove_dev(a);
	CHECK(ret == 0 && now_s() - t0 < 3.0, "removed: %d in %.2f s", ret, now_s() - t0);
	unlink(fail);
	CHECK(dsim_remove_dev(b) == 0, "remove file LUN");
	CHECK(!log_has("callout while the handler is closed"), "no callout on a closed handler");
	CHECK(!log_has("close() without a successful open()"), "no second close()");
}

static void t_remove_while_draining(void)
{
	static uint8_t blk[BS];
	char cfg[400], img[300], fail[320];
	struct sim_dev *a;
	double t0;
	int ret;

	STEP("removal right after the loss (recovery still draining or reopening)");
	snprintf(img, sizeof(img), "%s/r.img", tmp);
	snprintf(fail, sizeof(fail), "%s.fail", img);
	snprintf(cfg, sizeof(cfg), "faulty/%s", img);
	ret = add_dev("r", cfg, &a);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(a);
	touch(fail);
	CHECK(rw(a, true, 0, 1, blk, NULL) == SAM_BUSY, "BUSY");
	t0 = now_s();
	ret = dsim_remove_dev(a);
	CHECK(ret == 0 && now_s() - t0 < 3.0, "removed: %d in %.2f s", ret, now_s() - t0);
	unlink(fail);
}

static void t_shutdown_during_recovery(void)
{
	static uint8_t blk[BS];
	char cfg[400], img[300], fail[320];
	struct sim_dev *a;
	double t0;
	int ret;

	STEP("shutdown (SIGTERM path) during a recovery is prompt");
	snprintf(img, sizeof(img), "%s/s.img", tmp);
	snprintf(fail, sizeof(fail), "%s.fail", img);
	snprintf(cfg, sizeof(cfg), "faulty/%s", img);
	ret = add_dev("s", cfg, &a);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(a);
	touch(fail);
	CHECK(rw(a, true, 0, 1, blk, NULL) == SAM_BUSY, "BUSY");
	usleep(300000);
	t0 = now_s();
	tcmur_devices_refuse_new(true);
	tcmur_devices_shutdown();
	CHECK(now_s() - t0 < 3.0, "shutdown took %.2f s", now_s() - t0);
	CHECK(tcmur_device_count() == 0, "devices left: %u", tcmur_device_count());
	tcmulib_close(ctx);
	ctx = NULL;
	sim_dev_destroy(a);
	unlink(fail);
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 3, "usage: test_daemon_reconnect <file handler dir> <faulty dir>");
	ret = dsim_setup("reconnect");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret >= 1 && tcmur_handler_find("file"), "load handler_file.so: %d", ret);
	ret = tcmur_load_handlers(argv[2]);
	REQUIRE(ret == 1 && tcmur_handler_find("faulty") && tcmur_handler_find("faultya"),
		"load handler_faulty.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	t_conn_lost("faulty");
	t_conn_lost("faultya");
	t_remove_while_draining();
	t_shutdown_during_recovery();

	return dsim_finish();
}
