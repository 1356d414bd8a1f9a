// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Implicit-ALUA lock acquisition (daemon/ha.c) on the simulated kernel with
 * the "faultyl" registration of handler_faulty.so (lock callouts logged to
 * <img>.locklog, failing while <img>.lockfail exists), in a configfs ALUA
 * group "grp_i" (id 7, alua_access_type Implicit) holding the device's only
 * port.  Checks: no lock() before the first media command; that command gets
 * 02/04/0A and a retry succeeds after exactly one lock(7); RTPG shows the
 * local group Active/Non-optimized, then Active/Optimized; a failing lock()
 * keeps 02/04/0A and is retried about once a second; a lost lock makes the
 * next write lock again; FENCED from lock() reopens the device; removal
 * calls unlock().  A lock handler without implicit ALUA is never locked.
 * A group made after the open, with no RTPG since, is found within a second
 * (the next media command takes the lock path).
 * The query callouts: get_lock_state() saying this node holds the lock
 * already spares the lock() call; a failed lock() logs the owner's tag from
 * get_lock_tag(); report_event() follows every lock and unlock.
 * SET TARGET PORT GROUPS, in a group with alua_access_type Explicit and one
 * with Implicit and Explicit: to Active/Optimized or Active/Non-optimized
 * it calls lock(7) once before answering GOOD (none when held already), a
 * failing lock() makes it CHECK CONDITION 04/67/0A with the state kept, and
 * to Standby or Unavailable it calls unlock() when held; no lock() while
 * the group is Standby.
 * Usage: test_daemon_ha <handler_faulty.so folder>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "dsim.h"

#define BS	  512
#define DEV_SIZE  (8u << 20)
#define SAM_CHECK 0x02
#define SAM_BUSY  0x08
#define WWN	  "naa.5001405000000001"

static int add_dev(const char *name, const char *cfg, struct sim_dev **d)
{
	return dsim_add_dev(name, cfg, DEV_SIZE, 1 << 20, d);
}

/* WRITE(10) of one block; SCSI status, -errno; *sense_kcq = key/asc/ascq. */
static int wr(struct sim_dev *d, uint32_t lba, uint32_t *kcq)
{
	static uint8_t data[BS];
	struct sim_result r;
	uint16_t id;
	int ret;

	if (kcq)
		*kcq = 0;
	ret = sim_submit_rw10(d, true, lba, 1, BS, data, &id);
	if (!ret)
		ret = sim_wait(d, id, 5000, &r);
	if (ret)
		return ret;
	if (kcq)
		*kcq = r.scsi_status == SAM_CHECK ? (uint32_t)(r.sense[2] & 0x0f) << 16 |
							    (uint32_t)r.sense[12] << 8 | r.sense[13]
						  : 0;
	return r.scsi_status;
}

#define KCQ_TRANSITION 0x02040a

/* RTPG: the access state of group id 7, or -1. */
static int rtpg_state(struct sim_dev *d)
{
	uint8_t cdb[12] = { MAINTENANCE_IN, MI_REPORT_TARGET_PGS, 0, 0, 0, 0, 0, 0, 1, 0 };
	struct sim_result r;
	uint32_t len, pos;

	if (run(d, cdb, 12, NULL, 0, 256, &r) || r.scsi_status || r.xfer_len < 12)
		return -1;
	len = (uint32_t)r.data_in[0] << 24 | (uint32_t)r.data_in[1] << 16 |
	      (uint32_t)r.data_in[2] << 8 | r.data_in[3];
	for (pos = 4; pos + 8 <= len + 4 && pos + 8 <= r.xfer_len;
	     pos += 8 + 4u * r.data_in[pos + 7]) {
		if ((r.data_in[pos + 2] << 8 | r.data_in[pos + 3]) == 7)
			return r.data_in[pos] & 0x0f;
	}
	return -1;
}

struct pick {
	const char *name;
	unsigned long long lock_lost;
};

static void pick_cb(const struct tcmur_dbus_device *dev, void *arg)
{
	struct pick *p = arg;

	if (!strcmp(dev->name, p->name))
		p->lock_lost = dev->metrics.lock_lost;
}

/* The device's lock_lost counter (tcmu_notify_lock_lost calls). */
static int info_lock_lost(const char *name)
{
	struct pick p = { .name = name };

	tcmur_for_each_device(pick_cb, &p);
	return (int)p.lock_lost;
}

static void put(const char *rel, const char *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sim_configfs_root(k), rel);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len)
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

/* Group "grp_i" (id 7, type) of device name holding loopback tpgt_1/lun_0. */
static void make_alua(const char *name, const char *type)
{
	static const char *sup[] = { "transitioning",	    "offline",
				     "unavailable",	    "standby",
				     "active_nonoptimized", "active_optimized" };
	static const char members[] = "loopback/" WWN "/tpgt_1/lun_0\n";
	char dir[256], rel[512];
	size_t i;

	snprintf(dir, sizeof(dir), "core/user_1/%s/alua/grp_i", name);
	mkdirs(dir);
#define P(f, v)                                                                                    \
	do {                                                                                       \
		snprintf(rel, sizeof(rel), "%s/%s", dir, f);                                       \
		put(rel, v, strlen(v));                                                            \
	} while (0)
	P("tg_pt_gp_id", "7\n");
	P("alua_access_state", "0\n");
	P("alua_access_status", "None\n");
	P("alua_access_type", type);
	for (i = 0; i < sizeof(sup) / sizeof(sup[0]); i++) {
		char f[64];

		snprintf(f, sizeof(f), "alua_support_%s", sup[i]);
		P(f, "1\n");
	}
	P("alua_support_lba_dependent", "0\n");
	P("preferred", "0\n");
	P("implicit_trans_secs", "10\n");
#undef P
	snprintf(rel, sizeof(rel), "%s/members", dir);
	put(rel, members, sizeof(members)); /* "\n\0" like the kernel */
	mkdirs("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_port");
	put("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_port/indx", "3\n", 2);
	mkdirs("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_transport");
	put("loopback/" WWN "/tpgt_1/lun/lun_0/statistics/scsi_transport/proto_id", "6\n", 2);
}

static void touch(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	if (fd < 0)
		return;
	if (text && write(fd, text, strlen(text)) < 0)
		perror(path);
	close(fd);
}

/* Write until GOOD; seconds taken or -1; counts 02/04/0A and BUSY answers. */
static double write_until_good(struct sim_dev *d, double limit_s, int *trans, int *busy, int *other)
{
	double t0 = now_s();
	uint32_t kcq;
	int st;

	while (now_s() - t0 < limit_s) {
		st = wr(d, 10, &kcq);
		if (st == 0)
			return now_s() - t0;
		if (st == SAM_CHECK && kcq == KCQ_TRANSITION)
			(*trans)++;
		else if (st == SAM_BUSY)
			(*busy)++;
		else
			(*other)++;
		usleep(20000);
	}
	return -1;
}

static void t_implicit(void)
{
	char cfg[400], img[300], lk[320], fail[320];
	struct sim_dev *a;
	uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96 };
	struct sim_result r;
	uint32_t kcq = 0;
	int ret, st, trans = 0, busy = 0, other = 0, i, n;
	double took, t0;

	snprintf(img, sizeof(img), "%s/ha.img", tmp);
	snprintf(lk, sizeof(lk), "%s.locklog", img);
	snprintf(fail, sizeof(fail), "%s.lockfail", img);
	snprintf(cfg, sizeof(cfg), "faultyl/%s", img);

	STEP("implicit group: no lock() before the first media command");
	make_alua("ha0", "Implicit\n");
	ret = add_dev("ha0", cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	clear_ua(a);
	CHECK(!run(a, inq, 6, NULL, 0, 96, &r) && r.scsi_status == 0 &&
		      (r.data_in[5] & 0x30) == 0x10,
	      "INQUIRY TPGS implicit: %02x", r.data_in ? r.data_in[5] : 0);
	CHECK(rtpg_state(a) == 1, "RTPG before the lock: state %d (want 1, A/NO)", rtpg_state(a));
	CHECK(access(lk, F_OK), "no lock()/unlock() call yet");

	STEP("first write: ALUA STATE TRANSITION, then GOOD after one lock(7)");
	st = wr(a, 10, &kcq);
	CHECK(st == SAM_CHECK && kcq == KCQ_TRANSITION, "first write: status %d sense %06x", st,
	      kcq);
	took = write_until_good(a, 3.0, &trans, &busy, &other);
	CHECK(took >= 0 && took < 1.0, "GOOD after %.3f s", took);
	CHECK(!busy && !other, "only 02/04/0A meanwhile (%d BUSY, %d other)", busy, other);
	printf("  GOOD %.3f s after the first write, %d more 02/04/0A\n", took, trans);
	for (i = 0; i < 5; i++)
		CHECK(wr(a, 20 + (uint32_t)i, NULL) == 0, "write %d", i);
	CHECK(file_count(lk, "lock 7 ok\n") == 1 && file_count(lk, "lock ") == 1,
	      "exactly one lock(7): %d", file_count(lk, "lock "));
	CHECK(rtpg_state(a) == 0, "RTPG when locked: state %d (want 0, A/O)", rtpg_state(a));

	STEP("lock lost: recovery, then the next write locks again");
	{
		char ll[320];

		snprintf(ll, sizeof(ll), "%s.locklost", img);
		touch(ll, NULL);
	}
	st = wr(a, 10, NULL);
	CHECK(st == SAM_BUSY, "write when the lock is lost: %d", st);
	trans = busy = other = 0;
	took = write_until_good(a, 10.0, &trans, &busy, &other);
	CHECK(took >= 0 && trans >= 1 && !other,
	      "GOOD after %.2f s (%d BUSY, %d 02/04/0A, "
	      "%d other)",
	      took, busy, trans, other);
	CHECK(file_count(lk, "lock 7 ok\n") == 2, "second lock(7): %d",
	      file_count(lk, "lock 7 ok\n"));

	STEP("lock() failing: 02/04/0A persists, lock() retried about once a second");
	touch(fail, "busy");
	{
		char ll[320];

		snprintf(ll, sizeof(ll), "%s.locklost", img);
		touch(ll, NULL);
	}
	st = wr(a, 10, NULL);
	CHECK(st == SAM_BUSY, "write when the lock is lost: %d", st);
	n = file_count(lk, "lock 7 fail\n");
	trans = busy = other = 0;
	t0 = now_s();
	while (now_s() - t0 < 3.5) {
		st = wr(a, 10, &kcq);
		if (st == 0)
			other++;
		else if (st == SAM_CHECK && kcq == KCQ_TRANSITION)
			trans++;
		else if (st == SAM_BUSY)
			busy++;
		else
			other++;
		usleep(20000);
	}
	n = file_count(lk, "lock 7 fail\n") - n;
	CHECK(!other && trans > 20, "%d 02/04/0A, %d BUSY, %d other/GOOD", trans, busy, other);
	CHECK(n >= 2 && n <= 5, "%d failed lock() calls in 3.5 s", n);
	printf("  lock() failing: %d attempts in 3.5 s, %d answers 02/04/0A\n", n, trans);
	CHECK(rtpg_state(a) == 1, "RTPG while unlocked: %d", rtpg_state(a));
	unlink(fail);
	trans = busy = other = 0;
	took = write_until_good(a, 3.0, &trans, &busy, &other);
	CHECK(took >= 0 && took < 1.5, "GOOD %.2f s after lock() works again", took);
	CHECK(file_count(lk, "lock 7 ok\n") == 3, "third lock(7): %d",
	      file_count(lk, "lock 7 ok\n"));

	STEP("lock() fenced: the device is reopened, then locks");
	{
		char ll[320];
		int fails0 = file_count(lk, "lock 7 fail\n");
		int recs0 = log_count("recovered after", 0);

		snprintf(ll, sizeof(ll), "%s.locklost", img);
		touch(ll, NULL);
		CHECK(wr(a, 10, NULL) == SAM_BUSY, "BUSY when the lock is lost");
		touch(fail, "fenced");
		/* Writes: BUSY during the reopen, then one fenced lock(). */
		for (i = 0; i < 200 && file_count(lk, "lock 7 fail\n") == fails0; i++) {
			wr(a, 10, NULL);
			usleep(20000);
		}
		CHECK(file_count(lk, "lock 7 fail\n") == fails0 + 1, "one fenced lock(): %d",
		      file_count(lk, "lock 7 fail\n") - fails0);
		unlink(fail);
		trans = busy = other = 0;
		took = write_until_good(a, 10.0, &trans, &busy, &other);
		CHECK(took >= 0, "GOOD %.2f s after the fence (%d BUSY, %d 02/04/0A)", took, busy,
		      trans);
		CHECK(log_count("recovered after", recs0 + 2) >= recs0 + 2 &&
			      log_count("lock (tag 7) failed with status", 1) >= 1,
		      "lock lost, then fenced lock(): two reopens (%d)",
		      log_count("recovered after", 0) - recs0);
		CHECK(info_lock_lost("ha0") >= 4, "lock_lost metric %d (3 files + fenced)",
		      info_lock_lost("ha0"));
	}

	STEP("removal calls unlock()");
	n = file_count(lk, "unlock\n");
	ret = dsim_remove_dev(a);
	CHECK(ret == 0, "remove: %d", ret);
	CHECK(file_count(lk, "unlock\n") == n + 1, "unlock() at close: %d",
	      file_count(lk, "unlock\n") - n);
	unlink(lk);
	unlink(img);
	(void)fail;
}

static void t_not_implicit(void)
{
	char cfg[400], img[300], lk[320];
	struct sim_dev *a;
	int i, ret;

	snprintf(img, sizeof(img), "%s/hx.img", tmp);
	snprintf(lk, sizeof(lk), "%s.locklog", img);
	snprintf(cfg, sizeof(cfg), "faultyl/%s", img);

	STEP("explicit-only group: a lock handler is never locked");
	make_alua("hx0", "Explicit\n");
	ret = add_dev("hx0", cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	clear_ua(a);
	for (i = 0; i < 5; i++)
		CHECK(wr(a, (uint32_t)i, NULL) == 0, "write %d", i);
	CHECK(rtpg_state(a) == 0, "RTPG state %d (configfs A/O)", rtpg_state(a));
	CHECK(dsim_remove_dev(a) == 0, "remove");
	CHECK(access(lk, F_OK), "no lock()/unlock() call");

	STEP("no ALUA group: a lock handler is never locked");
	snprintf(img, sizeof(img), "%s/hn.img", tmp);
	snprintf(lk, sizeof(lk), "%s.locklog", img);
	snprintf(cfg, sizeof(cfg), "faultyl/%s", img);
	ret = add_dev("hn0", cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	clear_ua(a);
	for (i = 0; i < 5; i++)
		CHECK(wr(a, (uint32_t)i, NULL) == 0, "write %d", i);
	CHECK(dsim_remove_dev(a) == 0, "remove");
	CHECK(access(lk, F_OK), "no lock()/unlock() call");
}

/*
 * The LUN is put in an implicit group after the device opened, and no
 * INQUIRY/RTPG/STPG reaches the daemon since (a standby path in a multipath
 * map): within about a second the daemon reads the groups again, and the
 * next media command takes the lock path instead of reaching the handler
 * without the lock.
 */
static void t_group_later(void)
{
	char cfg[400], img[300], lk[320];
	int ret, i, trans = 0, busy = 0, other = 0;
	struct sim_dev *a;
	uint32_t kcq = 0;
	double took;
	int st;

	snprintf(img, sizeof(img), "%s/hl.img", tmp);
	snprintf(lk, sizeof(lk), "%s.locklog", img);
	snprintf(cfg, sizeof(cfg), "faultyl/%s", img);

	STEP("group made after the open, no RTPG since: the lock path within a second");
	ret = add_dev("hl0", cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	clear_ua(a);
	for (i = 0; i < 3; i++)
		CHECK(wr(a, (uint32_t)i, NULL) == 0, "write %d before the group exists", i);
	make_alua("hl0", "Implicit\n");
	usleep(1100 * 1000); /* past the re-read interval */
	st = wr(a, 10, &kcq);
	CHECK(st == SAM_CHECK && kcq == KCQ_TRANSITION,
	      "first write after the group appeared: status %d sense %06x (want 02/04/0A)", st,
	      kcq);
	took = write_until_good(a, 3.0, &trans, &busy, &other);
	CHECK(took >= 0, "GOOD after %.3f s", took);
	CHECK(file_count(lk, "lock 7 ok\n") == 1, "one lock(7): %d", file_count(lk, "lock 7 ok\n"));
	CHECK(dsim_remove_dev(a) == 0, "remove");
	unlink(lk);
	unlink(img);
}

static void t_lock_queries(void)
{
	char cfg[400], img[300], lk[320], held[320], tagf[320], fail[320], lost[320], ev[320];
	int ret, trans = 0, busy = 0, other = 0, owner0;
	struct sim_dev *a;
	double took;

	snprintf(img, sizeof(img), "%s/hq.img", tmp);
	snprintf(lk, sizeof(lk), "%s.locklog", img);
	snprintf(held, sizeof(held), "%s.lockheld", img);
	snprintf(tagf, sizeof(tagf), "%s.locktag", img);
	snprintf(fail, sizeof(fail), "%s.lockfail", img);
	snprintf(lost, sizeof(lost), "%s.locklost", img);
	snprintf(ev, sizeof(ev), "%s.eventlog", img);
	snprintf(cfg, sizeof(cfg), "faultyl/%s", img);

	STEP("get_lock_state says the lock is ours: no lock() call, one report_event");
	make_alua("hq0", "Implicit\n");
	touch(held, NULL);
	ret = add_dev("hq0", cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	clear_ua(a);
	took = write_until_good(a, 3.0, &trans, &busy, &other);
	CHECK(took >= 0 && !busy && !other, "GOOD after %.3f s (%d BUSY, %d other)", took, busy,
	      other);
	CHECK(!file_count(lk, "lock ") && file_count(ev, "event\n") == 1,
	      "no lock() (%d), one report_event (%d)", file_count(lk, "lock "),
	      file_count(ev, "event\n"));
	CHECK(log_has("this node holds the lock already (tag 7)"), "logged as already held");
	CHECK(rtpg_state(a) == 0, "RTPG: state %d (want 0, A/O)", rtpg_state(a));

	STEP("a failed lock() logs the owner's tag from get_lock_tag");
	unlink(held);
	touch(tagf, "9\n");
	touch(fail, "busy");
	owner0 = log_count("the lock is held by tag 9", 0);
	touch(lost, NULL);
	trans = busy = other = 0;
	took = write_until_good(a, 2.0, &trans, &busy, &other);
	CHECK(took < 0 && file_count(lk, "lock 7 fail\n") >= 1, "lock() fails: %d",
	      file_count(lk, "lock 7 fail\n"));
	CHECK(log_count("the lock is held by tag 9", owner0 + 1) > owner0,
	      "the owner's tag is logged");
	unlink(fail);
	trans = busy = other = 0;
	took = write_until_good(a, 3.0, &trans, &busy, &other);
	CHECK(took >= 0 && file_count(lk, "lock 7 ok\n") == 1, "GOOD after lock(7): %.2f s, %d",
	      took, file_count(lk, "lock 7 ok\n"));
	CHECK(file_count(ev, "event\n") == 2, "report_event after lock(): %d",
	      file_count(ev, "event\n"));

	STEP("removal: unlock(), then report_event");
	ret = dsim_remove_dev(a);
	CHECK(ret == 0, "remove: %d", ret);
	CHECK(file_count(lk, "unlock\n") == 1 && file_count(ev, "event\n") == 3,
	      "unlock() (%d), then report_event (%d events)", file_count(lk, "unlock\n"),
	      file_count(ev, "event\n"));
	unlink(tagf);
	unlink(ev);
	unlink(lk);
	unlink(img);
}

/* SET TARGET PORT GROUPS: group 7 to state; SCSI status, *kcq as wr(). */
static int stpg(struct sim_dev *d, uint8_t state, uint32_t *kcq)
{
	uint8_t cdb[12] = { MAINTENANCE_OUT, MO_SET_TARGET_PGS, 0, 0, 0, 0, 0, 0, 0, 8 };
	uint8_t list[8] = { 0, 0, 0, 0, state, 0, 0, 7 };
	struct sim_result r;
	int ret;

	*kcq = 0;
	ret = run(d, cdb, 12, list, sizeof(list), 0, &r);
	if (ret)
		return ret;
	if (r.scsi_status == SAM_CHECK)
		*kcq = (uint32_t)(r.sense[2] & 0x0f) << 16 | (uint32_t)r.sense[12] << 8 |
		       r.sense[13];
	return r.scsi_status;
}

#define KCQ_STANDBY	0x02040b
#define KCQ_STPG_FAILED 0x04670a
#define ALUA_ST_AO	0
#define ALUA_ST_ANO	1
#define ALUA_ST_STANDBY 2
#define ALUA_ST_UNAVAIL 3

/* STPG to state answers GOOD, and RTPG then reports want. */
static void stpg_good(struct sim_dev *d, uint8_t state, int want, const char *what)
{
	uint32_t kcq;
	int st = stpg(d, state, &kcq);

	CHECK(st == 0, "%s: STPG to %u: status %d sense %06x", what, state, st, kcq);
	CHECK(rtpg_state(d) == want, "%s: RTPG state %d (want %d)", what, rtpg_state(d), want);
}

/* Explicit ALUA (alua_access_type 2, and 3 with implicit): STPG moves the lock. */
static void t_stpg(const char *type, const char *name)
{
	char cfg[400], img[300], lk[320], fail[320];
	bool impl = strstr(type, "Implicit") != NULL;
	int st, trans = 0, busy = 0, other = 0, ret;
	struct sim_dev *a;
	uint32_t kcq;
	double took;

	snprintf(img, sizeof(img), "%s/%s.img", tmp, name);
	snprintf(lk, sizeof(lk), "%s.locklog", img);
	snprintf(fail, sizeof(fail), "%s.lockfail", img);
	snprintf(cfg, sizeof(cfg), "faultyl/%s", img);
	make_alua(name, type);
	ret = add_dev(name, cfg, &a);
	ENSURE(ret == 0, "add %s: %d", cfg, ret);
	clear_ua(a);

	if (impl) {
		STEP("explicit+implicit: the first write takes the lock implicitly");
		took = write_until_good(a, 3.0, &trans, &busy, &other);
		CHECK(took >= 0 && file_count(lk, "lock 7 ok\n") == 1,
		      "GOOD after %.2f s, %d lock()", took, file_count(lk, "lock "));
	} else {
		STEP("explicit only: STPG to Standby while unlocked calls nothing");
		stpg_good(a, ALUA_ST_STANDBY, ALUA_ST_STANDBY, "standby");
		CHECK(access(lk, F_OK), "no lock()/unlock() call");
	}

	STEP("STPG to Standby releases a held lock; writes get 02/04/0B, no lock()");
	if (impl) {
		stpg_good(a, ALUA_ST_STANDBY, ALUA_ST_STANDBY, "standby");
		CHECK(file_count(lk, "unlock\n") == 1, "unlock() after STPG standby: %d",
		      file_count(lk, "unlock\n"));
	}
	st = wr(a, 10, &kcq);
	CHECK(st == SAM_CHECK && kcq == KCQ_STANDBY, "write in standby: %d %06x", st, kcq);
	usleep(100000);
	st = wr(a, 10, &kcq);
	CHECK(st == SAM_CHECK && kcq == KCQ_STANDBY, "write in standby: %d %06x", st, kcq);
	CHECK(file_count(lk, "lock ") == (impl ? 1 : 0), "no lock() in standby: %d",
	      file_count(lk, "lock "));

	STEP("STPG to Active/Optimized: one lock(7) before GOOD, then writes work");
	stpg_good(a, ALUA_ST_AO, ALUA_ST_AO, "A/O");
	CHECK(file_count(lk, "lock 7 ok\n") == (impl ? 2 : 1), "lock(7) for the STPG: %d",
	      file_count(lk, "lock 7 ok\n"));
	CHECK(wr(a, 10, NULL) == 0, "write after STPG A/O");
	stpg_good(a, ALUA_ST_AO, ALUA_ST_AO, "A/O again");
	CHECK(file_count(lk, "lock ") == (impl ? 2 : 1), "held: no second lock(): %d",
	      file_count(lk, "lock "));
	CHECK(log_has("explicit ALUA (SET TARGET PORT GROUPS): lock acquired (tag 7)"),
	      "lock logged");

	STEP("STPG to Unavailable: unlock(); lock() failing: STPG A/O gets 04/67/0A");
	stpg_good(a, ALUA_ST_UNAVAIL, ALUA_ST_UNAVAIL, "unavailable");
	CHECK(file_count(lk, "unlock\n") == (impl ? 2 : 1), "unlock(): %d",
	      file_count(lk, "unlock\n"));
	touch(fail, "busy");
	st = stpg(a, ALUA_ST_AO, &kcq);
	CHECK(st == SAM_CHECK && kcq == KCQ_STPG_FAILED, "STPG when lock() fails: %d %06x", st,
	      kcq);
	CHECK(file_count(lk, "lock 7 fail\n") == 1, "one failed lock(): %d",
	      file_count(lk, "lock 7 fail\n"));
	CHECK(rtpg_state(a) == ALUA_ST_UNAVAIL, "state unchanged: %d", rtpg_state(a));
	st = wr(a, 10, &kcq);
	CHECK(st == SAM_CHECK && kcq == 0x02040c, "write still refused: %d %06x", st, kcq);

	STEP("lock() works again: STPG to Active/Non-optimized takes it");
	unlink(fail);
	stpg_good(a, ALUA_ST_ANO, impl ? ALUA_ST_AO : ALUA_ST_ANO, "A/NO");
	CHECK(file_count(lk, "lock 7 ok\n") == (impl ? 3 : 2), "lock(7): %d",
	      file_count(lk, "lock 7 ok\n"));
	CHECK(wr(a, 10, NULL) == 0, "write after STPG A/NO");

	STEP("removal calls unlock()");
	CHECK(dsim_remove_dev(a) == 0, "remove");
	CHECK(file_count(lk, "unlock\n") == (impl ? 3 : 2), "unlock() at close: %d",
	      file_count(lk, "unlock\n"));
	unlink(lk);
	unlink(img);
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_daemon_ha <faulty dir>");
	ret = dsim_setup("ha");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret == 1 && tcmur_handler_find("faultyl"), "load handler_faulty.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	t_implicit();
	t_not_implicit();
	t_group_later();
	t_lock_queries();
	t_stpg("Explicit\n", "hs0");
	t_stpg("Implicit and Explicit\n", "hb0");

	return dsim_finish();
}
