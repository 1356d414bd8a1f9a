// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The daemon core and handler_file.so on the simulated kernel: add with
 * good and bad cfgstrings, write/read back, FUA, flush, unmap, WRITE SAME,
 * resize, metrics, command time outs, TMR aborts, removal with commands in
 * flight, shutdown.  A built-in "slow" handler holds commands on demand.
 * Usage: test_daemon_file_sim <folder holding handler_file.so>
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#include "dsim.h"

#define BS	 512
#define DEV_SIZE (16u << 20)

/* ---- the "slow" handler: reads wait until released --------------------- */

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static bool slow_release;
static atomic_int slow_reads, slow_timed_out, slow_waiting, slow_returned;

static int slow_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	struct timespec ts;

	atomic_fetch_add(&slow_reads, 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&slow_lock);
	atomic_fetch_add(&slow_waiting, 1);
	while (!slow_release)
		if (pthread_cond_timedwait(&slow_cond, &slow_lock, &ts) == ETIMEDOUT)
			break;
	atomic_fetch_sub(&slow_waiting, 1);
	pthread_mutex_unlock(&slow_lock);
	tcmu_iovec_zero(iov, iov_cnt);
	atomic_fetch_add(&slow_returned, 1);
	return TCMU_STS_OK;
}

static int slow_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		      size_t iov_cnt, size_t len, off_t off)
{
	return TCMU_STS_OK;
}

static void slow_timed_out_cb(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	atomic_fetch_add(&slow_timed_out, 1);
}

static struct tcmur_handler slow_handler = {
	.name = "slow test handler",
	.subtype = "slow",
	.read = slow_read,
	.write = slow_write,
	.nr_threads = 2,
	.cmd_timed_out = slow_timed_out_cb,
};

static void slow_set(bool release)
{
	pthread_mutex_lock(&slow_lock);
	slow_release = release;
	pthread_cond_broadcast(&slow_cond);
	pthread_mutex_unlock(&slow_lock);
}

static bool wait_for(atomic_int *v, int want, int ms)
{
	while (atomic_load(v) != want && ms-- > 0)
		usleep(1000);
	return atomic_load(v) == want;
}

/* ---- "rec" handlers: record callout order (FUA emulation, handle_cmd) -- */

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static char rec_log[256];

static void rec(const char *what)
{
	pthread_mutex_lock(&rec_lock);
	if (strlen(rec_log) + strlen(what) + 2 < sizeof(rec_log)) {
		strcat(rec_log, what);
		strcat(rec_log, " ");
	}
	pthread_mutex_unlock(&rec_lock);
}

static bool rec_async(struct tcmu_device *dev)
{
	return tcmur_dev_get_handler(dev)->thread_model == TCMUR_THREAD_MODEL_ASYNC;
}

static int rec_done(struct tcmu_device *dev, struct tcmur_cmd *cmd, int sts)
{
	if (!rec_async(dev))
		return sts;
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int rec_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off)
{
	rec("read");
	tcmu_iovec_zero(iov, iov_cnt);
	return rec_done(dev, cmd, TCMU_STS_OK);
}

static int rec_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	rec(cmd->fua ? "write(fua)" : "write");
	return rec_done(dev, cmd, TCMU_STS_OK);
}

static int rec_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	rec("flush");
	return rec_done(dev, cmd, TCMU_STS_OK);
}

/* START STOP UNIT is ours; everything else goes to the generic layer. */
static int rec_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	if (cmd->lib_cmd->cdb[0] == START_STOP) {
		rec("handle_cmd");
		return TCMU_STS_WR_ERR; /* recognisable */
	}
	return TCMU_STS_NOT_HANDLED;
}

static char rec_cfg[128];

/* Main thread; records the new cfgstring it is given. */
static int rec_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	if (cfg->type != TCMULIB_CFG_DEV_CFGSTR)
		return -EOPNOTSUPP;
	snprintf(rec_cfg, sizeof(rec_cfg), "%s", cfg->data.dev_cfgstring);
	return 0;
}

struct cfg_pick {
	const char *subtype;
	char cfg[128];
};

static void pick_cfg(const struct tcmur_dbus_device *dev, void *arg)
{
	struct cfg_pick *p = arg;

	if (!strcmp(dev->subtype, p->subtype))
		snprintf(p->cfg, sizeof(p->cfg), "%s", dev->cfgstring);
}

static struct tcmur_handler rec_async_handler = {
	.subtype = "reca",
	.read = rec_read,
	.write = rec_write,
	.flush = rec_flush,
	.handle_cmd = rec_handle_cmd,
	.reconfig = rec_reconfig,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

static struct tcmur_handler rec_serial_handler = {
	.subtype = "recs",
	.read = rec_read,
	.write = rec_write,
	.flush = rec_flush,
	.handle_cmd = rec_handle_cmd,
	.nr_threads = 1,
};

/* ---- "late": ASYNC, holds reads; the test completes them itself --------- */

static struct tcmur_cmd *late_cmds[4];
static struct tcmu_device *late_dev;
static atomic_int late_held;

static int late_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	int i = atomic_load(&late_held);

	if (i >= 4)
		return TCMU_STS_BUSY;
	late_dev = dev;
	late_cmds[i] = cmd;
	atomic_store(&late_held, i + 1);
	return TCMU_STS_ASYNC_HANDLED;
}

static struct tcmur_handler late_handler = {
	.subtype = "late",
	.read = late_read,
	.write = slow_write,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

/* ---- "ser": SERIALIZE; detects two callouts at once -------------------- */

static atomic_int ser_inside, ser_overlaps, ser_writes;
static struct tcmu_device *ser_dev;

static int ser_open(struct tcmu_device *dev, bool reopen)
{
	ser_dev = dev;
	return 0;
}

static int ser_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	if (atomic_fetch_add(&ser_inside, 1))
		atomic_fetch_add(&ser_overlaps, 1);
	usleep(500);
	atomic_fetch_sub(&ser_inside, 1);
	atomic_fetch_add(&ser_writes, 1);
	return TCMU_STS_OK;
}

static struct tcmur_handler ser_handler = {
	.subtype = "ser",
	.open = ser_open,
	.read = slow_read,
	.write = ser_write,
	.thread_model = TCMUR_THREAD_MODEL_SERIALIZE,
};

/* ---- helpers ---------------------------------------------------------- */

/* What the daemon's main loop does when the netlink fd is readable. */
static int nl_ready(struct tcmulib_context *c)
{
	return tcmulib_master_fd_ready(c);
}

/* Create and announce a device; returns the reply status (0 = added). */
static int add_dev(const char *cfg, uint64_t size, struct sim_dev **d)
{
	struct sim_nl_reply r;
	int ret = dsim_add(NULL, cfg, size, 4 << 20, d, &r);

	if (ret)
		return ret;
	if (r.cmd != TCMU_CMD_ADDED_DEVICE_DONE || r.dev_id != sim_dev_id(*d))
		return -1003;
	return r.status;
}

static int remove_dev(struct sim_dev *d)
{
	struct sim_nl_reply r;
	int ret = dsim_remove(d, 10000, &r);

	if (ret)
		return ret;
	if (r.cmd != TCMU_CMD_REMOVED_DEVICE_DONE)
		return -1003;
	sim_dev_destroy(d);
	return r.status;
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

struct metrics_pick {
	const char *name;
	struct tcmur_dev_metrics m;
	bool found;
};

static void pick(const struct tcmur_dbus_device *dev, void *arg)
{
	struct metrics_pick *p = arg;

	if (!strcmp(dev->name, p->name)) {
		p->m = dev->metrics;
		p->found = true;
	}
}

static bool metrics_of(const char *name, struct tcmur_dev_metrics *m)
{
	struct metrics_pick p = { .name = name };

	tcmur_for_each_device(pick, &p);
	*m = p.m;
	return p.found;
}

/* ---- tests ------------------------------------------------------------ */

static void t_bad_cfgstrings(void)
{
	char cfg[512];
	struct sim_dev *d;
	int st;

	STEP("add fails with an error reply and a log line naming the cause");

	snprintf(cfg, sizeof(cfg), "file/%s/no-such-folder/x.img", tmp);
	st = add_dev(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "missing folder: status %d", st);
	CHECK(log_has("no-such-folder does not exist"), "log names the missing folder");
	sim_dev_destroy(d);

	snprintf(cfg, sizeof(cfg), "file/%s", tmp);
	st = add_dev(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "folder as file: status %d", st);
	CHECK(log_has("is a folder, not a file"), "log says folder");
	sim_dev_destroy(d);

	if (geteuid()) {
		char path[400];
		int fd;

		snprintf(path, sizeof(path), "%s/locked.img", tmp);
		fd = open(path, O_CREAT | O_WRONLY, 0);
		close(fd);
		snprintf(cfg, sizeof(cfg), "file/%s", path);
		st = add_dev(cfg, DEV_SIZE, &d);
		CHECK(st < 0 && st > -1000, "unreadable file: status %d", st);
		CHECK(log_has("is not readable and writable"), "log says unreadable");
		sim_dev_destroy(d);
	} else {
		printf("  (root: unreadable-file case skipped)\n");
	}

	snprintf(cfg, sizeof(cfg), "file/%s/a.img;tcmur_cmd_time_out=abc", tmp);
	st = add_dev(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "bad option value: status %d", st);
	CHECK(log_has("bad value 'abc' for tcmur_cmd_time_out"), "log names the bad value");
	sim_dev_destroy(d);

	snprintf(cfg, sizeof(cfg), ";tcmur_frob=1;file/%s/a.img", tmp);
	st = add_dev(cfg, DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "unknown option: status %d", st);
	CHECK(log_has("unknown daemon option 'tcmur_frob=1'"), "log names the option");
	sim_dev_destroy(d);

	st = add_dev("file/", DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "no path: status %d", st);
	CHECK(log_has("no file path in 'file/'"), "log says no path");
	sim_dev_destroy(d);

	st = add_dev("file/relative.img", DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "relative path: status %d", st);
	CHECK(log_has("'relative.img' is relative"), "log says relative");
	sim_dev_destroy(d);
	{
		struct tcmur_handler_rec *fr = tcmur_handler_find("file");
		char *why = NULL;

		CHECK(fr && fr->h.check_config && !fr->h.check_config("file/rel/x.img", &why) &&
			      why && strstr(why, "relative"),
		      "check_config: %s", why ? why : "-");
		free(why);
	}

	st = add_dev("nosuchhandler//x", DEV_SIZE, &d);
	CHECK(st < 0 && st > -1000, "unknown handler: status %d", st);
	sim_dev_destroy(d);
}

static void t_file_io(void)
{
	static uint8_t wbuf[64 * BS], zero[64 * BS];
	char cfg[512], path[400];
	struct sim_result r;
	struct sim_dev *d;
	struct stat st;
	int fd, i, ret;
	off_t hole;

	snprintf(path, sizeof(path), "%s/disk.img", tmp);
	snprintf(cfg, sizeof(cfg), "file/;tcmur_cmd_time_out=30;%s", path);

	STEP("add a file LUN (daemon option stripped): file created at the kernel size");
	ret = add_dev(cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	CHECK(!stat(path, &st) && st.st_size == DEV_SIZE, "file size %lld", (long long)st.st_size);
	clear_ua(d);

	STEP("write 64 blocks at LBA 4096 and read them back");
	for (i = 0; i < (int)sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 7 + 3);
	ret = rw10(d, true, 4096, 64, wbuf, false, &r);
	CHECK(!ret && r.scsi_status == 0, "write: ret %d status %d", ret, r.scsi_status);
	ret = rw10(d, false, 4096, 64, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == sizeof(wbuf) &&
		      !memcmp(r.data_in, wbuf, sizeof(wbuf)),
	      "read back: ret %d status %d len %u", ret, r.scsi_status, r.xfer_len);
	fd = open(path, O_RDONLY);
	{
		static uint8_t fbuf[64 * BS];

		CHECK(pread(fd, fbuf, sizeof(fbuf), 4096 * BS) == sizeof(fbuf) &&
			      !memcmp(fbuf, wbuf, sizeof(fbuf)),
		      "data is in the file");
	}

	STEP("log level 5 dumps each CDB");
	tcmu_set_log_level(TCMU_LOG_DEBUG_SCSI_CMD);
	ret = rw10(d, false, 0x1234, 1, NULL, false, &r);
	tcmu_set_log_level(TCMU_LOG_INFO);
	CHECK(!ret && log_has("[DEBUG_SCSI_CMD] tcmu_cdb_print_info") &&
		      log_has("28 00 00 00 12 34 00 00 01 00"),
	      "CDB dump in the log");

	STEP("FUA write and SYNCHRONIZE CACHE complete GOOD");
	wbuf[0] ^= 0xff;
	ret = rw10(d, true, 8, 1, wbuf, true, &r);
	CHECK(!ret && r.scsi_status == 0, "FUA write: %d/%d", ret, r.scsi_status);
	{
		uint8_t sync[10] = { SYNCHRONIZE_CACHE };

		ret = run(d, sync, 10, NULL, 0, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "sync cache: %d/%d", ret, r.scsi_status);
	}
	ret = rw10(d, false, 8, 1, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && !memcmp(r.data_in, wbuf, BS), "FUA data read");

	STEP("out-of-range read gets CHECK CONDITION / LBA out of range");
	ret = rw10(d, false, DEV_SIZE / BS - 1, 2, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 2 && (r.sense[2] & 0xf) == 5 && r.sense[12] == 0x21,
	      "status %d key %x asc %x", r.scsi_status, r.sense[2] & 0xf, r.sense[12]);

	STEP("UNMAP punches a hole in the file; the range reads back as zeroes");
	{
		uint8_t cdb[10] = { UNMAP, 0, 0, 0, 0, 0, 0, 0, 24 };
		uint8_t list[24] = { 0, 22, 0, 16 };
		uint32_t lba = 4096, n = 2048; /* 1 MiB, aligned */

		list[8 + 4] = (uint8_t)(lba >> 24);
		list[8 + 5] = (uint8_t)(lba >> 16);
		list[8 + 6] = (uint8_t)(lba >> 8);
		list[8 + 7] = (uint8_t)lba;
		list[8 + 8] = (uint8_t)(n >> 24);
		list[8 + 9] = (uint8_t)(n >> 16);
		list[8 + 10] = (uint8_t)(n >> 8);
		list[8 + 11] = (uint8_t)n;
		ret = run(d, cdb, 10, list, sizeof(list), 0, &r);
		CHECK(!ret && r.scsi_status == 0, "unmap: %d/%d key %x asc %x", ret, r.scsi_status,
		      r.sense[2] & 0xf, r.sense[12]);
		hole = lseek(fd, 4096 * BS, SEEK_HOLE);
		CHECK(hole == 4096 * BS, "hole at %lld", (long long)hole);
		ret = rw10(d, false, 4096, 64, NULL, false, &r);
		CHECK(!ret && r.scsi_status == 0 && !memcmp(r.data_in, zero, sizeof(zero)),
		      "unmapped range reads zero");
	}

	STEP("GET LBA STATUS reports the punched range as deallocated, data as mapped");
	{
		uint8_t cdb[16] = { SERVICE_ACTION_IN_16, GET_LBA_STATUS };
		const uint8_t *dsc;

		cdb[2 + 6] = 0x10; /* LBA 4096 */
		cdb[13] = 64;	   /* allocation length */
		ret = run(d, cdb, 16, NULL, 0, 64, &r);
		dsc = r.data_in + 8;
		CHECK(!ret && r.scsi_status == 0 && r.xfer_len >= 24 && (dsc[12] & 0xf) == 1 &&
			      ((uint32_t)dsc[8] << 24 | dsc[9] << 16 | dsc[10] << 8 | dsc[11]) >=
				      2048,
		      "hole: %d/%d len %u state %d", ret, r.scsi_status, r.xfer_len,
		      r.xfer_len >= 24 ? dsc[12] & 0xf : -1);
		cdb[8] = 0;
		cdb[9] = 8; /* LBA 8: written */
		ret = run(d, cdb, 16, NULL, 0, 64, &r);
		dsc = r.data_in + 8;
		CHECK(!ret && r.scsi_status == 0 && r.xfer_len >= 24 && (dsc[12] & 0xf) == 0,
		      "data: %d/%d state %d", ret, r.scsi_status,
		      r.xfer_len >= 24 ? dsc[12] & 0xf : -1);
	}

	STEP("WRITE SAME(16): zero pattern and a non-zero pattern (engine emulation)");
	{
		uint8_t cdb[16] = { WRITE_SAME_16 };
		uint8_t blk[BS];

		memset(blk, 0xa5, sizeof(blk));
		cdb[9] = 100; /* LBA 100 */
		cdb[13] = 16; /* 16 blocks */
		ret = run(d, cdb, 16, blk, BS, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "write same pattern: %d/%d key %x asc %x", ret,
		      r.scsi_status, r.sense[2] & 0xf, r.sense[12]);
		ret = rw10(d, false, 100, 16, NULL, false, &r);
		CHECK(!ret && r.data_in && r.data_in[0] == 0xa5 && r.data_in[16 * BS - 1] == 0xa5,
		      "pattern read back");
		memset(blk, 0, sizeof(blk));
		ret = run(d, cdb, 16, blk, BS, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "write same zero: %d/%d", ret, r.scsi_status);
		ret = rw10(d, false, 100, 16, NULL, false, &r);
		CHECK(!ret && r.data_in && !memcmp(r.data_in, zero, 16 * BS), "zeroes read back");
	}

	STEP("metrics count commands and bytes by direction");
	{
		struct tcmur_dev_metrics mm;
		char name[32];
		bool found;

		snprintf(name, sizeof(name), "dev%u", sim_dev_minor(d));
		found = metrics_of(name, &mm);
		CHECK(found, "device %s listed", name);
		CHECK(mm.cmds[TCMUR_METRICS_READ] >= 5 && mm.cmds[TCMUR_METRICS_WRITE] >= 4 &&
			      mm.bytes[TCMUR_METRICS_WRITE] >= sizeof(wbuf) &&
			      mm.bytes[TCMUR_METRICS_READ] >= sizeof(wbuf) && mm.in_flight == 0 &&
			      mm.errors >= 1,
		      "reads %llu writes %llu wbytes %llu errors %llu",
		      (unsigned long long)mm.cmds[TCMUR_METRICS_READ],
		      (unsigned long long)mm.cmds[TCMUR_METRICS_WRITE],
		      (unsigned long long)mm.bytes[TCMUR_METRICS_WRITE],
		      (unsigned long long)mm.errors);
	}

	STEP("resize: the file grows, a smaller size never truncates it");
	{
		struct sim_nl_reply nr;

		CHECK(!sim_nl_reconfig_size(d, 2 * DEV_SIZE) && !nl_ready(ctx) &&
			      !wait_reply(&nr, 2000) && nr.status == 0,
		      "resize reply %d", nr.status);
		CHECK(!stat(path, &st) && st.st_size == 2 * DEV_SIZE, "file %lld",
		      (long long)st.st_size);
		clear_ua(d);
		ret = rw10(d, true, DEV_SIZE / BS + 10, 1, wbuf, false, &r);
		CHECK(!ret && r.scsi_status == 0, "write past the old end: %d/%d", ret,
		      r.scsi_status);
		CHECK(!sim_nl_reconfig_cfg(d, "file//other") && !nl_ready(ctx) &&
			      !wait_reply(&nr, 2000) && nr.status < 0,
		      "cfgstring change refused: %d", nr.status);
	}

	STEP("a file shrunk behind our back reads as zeroes past its end");
	CHECK(!truncate(path, 1 << 20), "truncate");
	ret = rw10(d, false, (1 << 20) / BS - 2, 8, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && r.xfer_len == 8 * BS &&
		      !memcmp(r.data_in + 2 * BS, zero, 6 * BS),
	      "EOF read: %d/%d", ret, r.scsi_status);

	STEP("remove: handler closed, uio released, success reply");
	ret = remove_dev(d);
	CHECK(ret == 0, "remove: %d", ret);
	close(fd);
}

static void t_timeout_tmr_remove(void)
{
	struct tcmur_dev_metrics m;
	struct sim_result r;
	struct sim_dev *d;
	uint16_t id[3];
	char name[32];
	int ret, i;

	STEP("slow device with tcmur_cmd_time_out=1 (PARALLEL, 2 workers)");
	slow_set(false);
	ret = add_dev("slow/x;tcmur_cmd_time_out=1", DEV_SIZE, &d);
	ENSURE(ret == 0, "add slow: %d", ret);
	snprintf(name, sizeof(name), "dev%u", sim_dev_minor(d));
	clear_ua(d);

	STEP("time out: logged once, counted, handler told; completes once when released");
	ret = sim_submit_rw10(d, false, 0, 1, BS, NULL, &id[0]);
	CHECK(!ret, "submit %d", ret);
	CHECK(wait_for(&slow_timed_out, 1, 3000), "cmd_timed_out calls %d",
	      atomic_load(&slow_timed_out));
	usleep(300000);
	CHECK(atomic_load(&slow_timed_out) == 1, "called once: %d", atomic_load(&slow_timed_out));
	CHECK(metrics_of(name, &m) && m.timeouts == 1 && m.in_flight == 1, "timeouts %llu",
	      (unsigned long long)m.timeouts);
	CHECK(log_has("timed out after 1 s"), "time out logged");
	slow_set(true);
	ret = sim_wait(d, id[0], 5000, &r);
	CHECK(!ret && r.scsi_status == 0, "completed GOOD: %d/%d", ret, r.scsi_status);
	slow_set(false);

	STEP("TMR ABORT TASK: a queued command completes without reaching the handler");
	atomic_store(&slow_reads, 0);
	for (i = 0; i < 3; i++)
		CHECK(!sim_submit_rw10(d, false, (uint32_t)i, 1, BS, NULL, &id[i]), "submit");
	CHECK(wait_for(&slow_waiting, 2, 3000), "two reads in the handler: %d",
	      atomic_load(&slow_waiting));
	CHECK(!sim_submit_tmr(d, TCMU_TMR_ABORT_TASK, &id[2], 1), "tmr");
	CHECK(!sim_submit_tmr(d, TCMU_TMR_ABORT_TASK, &id[0], 1), "tmr");
	CHECK(log_has("ABORT TASK: 1 command(s) aborted"), "TMR logged");
	usleep(100000);
	slow_set(true);
	for (i = 0; i < 3; i++) {
		ret = sim_wait(d, id[i], 5000, &r);
		CHECK(!ret, "command %d completed: %d", i, ret);
	}
	CHECK(atomic_load(&slow_reads) == 2, "handler saw %d reads (aborted one skipped)",
	      atomic_load(&slow_reads));
	CHECK(metrics_of(name, &m) && m.aborts == 2 && m.in_flight == 0, "aborts %llu",
	      (unsigned long long)m.aborts);
	CHECK(sim_warnings(d) == 0 && !sim_broken(d), "ring clean: %s", sim_last_error(d));
	slow_set(false);

	STEP("TMR ABORT of a queued FORMAT UNIT: it still runs, so the format ends");
	{
		static const uint8_t fmt[6] = { FORMAT_UNIT };
		static const uint8_t tur[6] = { TEST_UNIT_READY };
		struct sim_cmd c = { .cdb = fmt, .cdb_len = 6 };

		atomic_store(&slow_reads, 0);
		for (i = 0; i < 2; i++)
			CHECK(!sim_submit_rw10(d, false, (uint32_t)i, 1, BS, NULL, &id[i]),
			      "submit");
		CHECK(wait_for(&slow_waiting, 2, 3000), "both workers busy: %d",
		      atomic_load(&slow_waiting));
		CHECK(!sim_submit(d, &c, &id[2]), "submit FORMAT UNIT");
		usleep(50000);
		CHECK(!sim_submit_tmr(d, TCMU_TMR_ABORT_TASK, &id[2], 1), "tmr");
		usleep(50000);
		slow_set(true);
		for (i = 0; i < 3; i++) {
			ret = sim_wait(d, id[i], 10000, &r);
			CHECK(!ret, "command %d completed: %d", i, ret);
		}
		ret = run(d, tur, 6, NULL, 0, 0, &r);
		CHECK(!ret && r.scsi_status == 0, "TEST UNIT READY after it: %d/%d (key %x)", ret,
		      r.scsi_status, r.sense[2] & 0xf);
		slow_set(false);
	}

	STEP("remove with a command in flight: the reply waits for its completion");
	atomic_store(&slow_reads, 0);
	CHECK(!sim_submit_rw10(d, false, 0, 1, BS, NULL, &id[0]), "submit");
	CHECK(wait_for(&slow_reads, 1, 3000), "in handler");
	CHECK(!sim_nl_removed(d) && !nl_ready(ctx), "remove event");
	{
		struct sim_nl_reply nr;

		usleep(200000);
		CHECK(sim_nl_reply(k, &nr) == -EAGAIN, "no reply while a command runs");
		CHECK(sim_dev_is_open(d), "still open");
		/* New commands during removal are refused with BUSY, not lost. */
		CHECK(!sim_submit_rw10(d, false, 1, 1, BS, NULL, &id[1]), "submit during stop");
		ret = sim_wait(d, id[1], 3000, &r);
		CHECK(!ret && r.scsi_status == 0x08, "BUSY during stop: %d/%d", ret, r.scsi_status);
		slow_set(true);
		ret = sim_wait(d, id[0], 5000, &r);
		CHECK(!ret && r.scsi_status == 0, "in-flight command finished: %d/%d", ret,
		      r.scsi_status);
		CHECK(!wait_reply(&nr, 5000) && nr.cmd == TCMU_CMD_REMOVED_DEVICE_DONE &&
			      nr.status == 0,
		      "remove reply");
		CHECK(!sim_dev_is_open(d), "uio closed");
		CHECK(sim_warnings(d) == 0, "ring clean: %s", sim_last_error(d));
		sim_dev_destroy(d);
	}
	slow_set(false);
}

static void t_stuck(void)
{
	struct sim_result r;
	struct sim_dev *d;
	uint16_t id;
	int ret;

	STEP("shutdown with a command stuck in the handler: BUSY after the bounded wait");
	slow_set(false);
	atomic_store(&slow_reads, 0);
	tcmur_set_stop_wait_ms(300);
	ret = add_dev("slow/x", DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	CHECK(!sim_submit_rw10(d, false, 0, 1, BS, NULL, &id), "submit");
	CHECK(wait_for(&slow_reads, 1, 3000), "in handler");
	tcmur_devices_shutdown();
	ret = sim_wait(d, id, 100, &r);
	CHECK(!ret && r.scsi_status == 0x08, "forced BUSY: %d/%d", ret, r.scsi_status);
	CHECK(tcmur_device_count() == 0, "closed");
	CHECK(log_has("completed with BUSY") && log_has("stuck in handler slow"), "logged");
	/* The stuck worker returns later and must not touch freed memory. */
	atomic_store(&slow_returned, 0);
	slow_set(true);
	CHECK(wait_for(&slow_returned, 1, 3000), "stuck read returned");
	usleep(50000);
	slow_set(false);
	CHECK(sim_warnings(d) == 0, "ring clean: %s", sim_last_error(d));
	tcmur_set_stop_wait_ms(3000);
	ret = remove_dev(d);
	CHECK(ret == 0, "remove after close: %d", ret);
}

static void t_late_completion(void)
{
	struct sim_result r;
	struct sim_dev *d;
	uint16_t id[2];
	int ret, i;

	STEP("ASYNC handler completes commands after the daemon gave up on them");
	atomic_store(&late_held, 0);
	tcmur_set_stop_wait_ms(200);
	ret = add_dev("late/x", DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	for (i = 0; i < 2; i++)
		CHECK(!sim_submit_rw10(d, false, (uint32_t)i, 1, BS, NULL, &id[i]), "submit");
	CHECK(wait_for(&late_held, 2, 3000), "held: %d", atomic_load(&late_held));
	ret = remove_dev(d);
	CHECK(ret == 0, "remove: %d", ret);
	CHECK(log_has("completed with BUSY") && log_has("kept for a late completion"), "logged");
	/* The device is gone; these must be detected and dropped (ASan watches). */
	tcmur_cmd_complete(late_dev, late_cmds[0], TCMU_STS_OK);
	late_cmds[1]->done(late_dev, late_cmds[1], TCMU_STS_OK);
	CHECK(log_has("after the device stopped waiting for it"), "late completion logged");
	tcmur_set_stop_wait_ms(3000);
	(void)r;
}

struct ser_arg {
	int n;
};

static void *ser_xcopy_like(void *arg)
{
	struct ser_arg *a = arg;
	uint8_t blk[BS] = { 0 };
	struct iovec iov = { blk, BS };
	int i;

	for (i = 0; i < a->n; i++)
		if (tcmur_io_write(ser_dev, &iov, 1, BS, (uint64_t)i * BS, false) != TCMU_STS_OK)
			break;
	return NULL;
}

static void t_serialize_foreign(void)
{
	uint8_t blk[BS] = { 0 };
	struct ser_arg a = { .n = 40 };
	struct sim_result r;
	struct sim_dev *d;
	uint16_t id[40];
	pthread_t t;
	int ret, i;

	STEP("SERIALIZE handler: tcmur_io_* from a foreign worker waits its turn");
	atomic_store(&ser_overlaps, 0);
	atomic_store(&ser_writes, 0);
	ret = add_dev("ser/x", DEV_SIZE, &d);
	ENSURE(ret == 0 && ser_dev, "add: %d", ret);
	clear_ua(d);
	ENSURE(!pthread_create(&t, NULL, ser_xcopy_like, &a), "thread");
	for (i = 0; i < 40; i++)
		CHECK(!sim_submit_rw10(d, true, (uint32_t)i, 1, BS, blk, &id[i]), "submit");
	for (i = 0; i < 40; i++) {
		ret = sim_wait(d, id[i], 5000, &r);
		CHECK(!ret && r.scsi_status == 0, "write %d: %d/%d", i, ret, r.scsi_status);
	}
	pthread_join(t, NULL);
	CHECK(atomic_load(&ser_writes) == 80, "writes %d", atomic_load(&ser_writes));
	CHECK(atomic_load(&ser_overlaps) == 0, "overlapping callouts: %d",
	      atomic_load(&ser_overlaps));
	ret = remove_dev(d);
	CHECK(ret == 0, "remove: %d", ret);
	ser_dev = NULL;
}

static void t_rec(const char *cfg)
{
	uint8_t blk[BS] = { 1 }, ss[6] = { START_STOP, 0, 0, 0, 1 };
	struct sim_result r;
	struct sim_dev *d;
	int ret;

	STEP("%s: FUA without TCMUR_CAP_FUA is write then flush; handle_cmd first", cfg);
	ret = add_dev(cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	clear_ua(d);
	rec_log[0] = '\0';
	ret = rw10(d, true, 1, 1, blk, true, &r);
	CHECK(!ret && r.scsi_status == 0, "FUA write: %d/%d", ret, r.scsi_status);
	CHECK(!strcmp(rec_log, "write(fua) flush "), "order: '%s'", rec_log);
	rec_log[0] = '\0';
	ret = rw10(d, true, 1, 1, blk, false, &r);
	CHECK(!ret && r.scsi_status == 0 && !strcmp(rec_log, "write "), "plain: '%s'", rec_log);
	rec_log[0] = '\0';
	ret = run(d, ss, 6, NULL, 0, 0, &r);
	CHECK(!ret && r.scsi_status == 2 && (r.sense[2] & 0xf) == 3 && r.sense[12] == 0x0c,
	      "handle_cmd status: %d/%d key %x", ret, r.scsi_status, r.sense[2] & 0xf);
	ret = rw10(d, false, 1, 1, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && !strcmp(rec_log, "handle_cmd read "),
	      "NOT_HANDLED falls back: '%s'", rec_log);
	if (!strcmp(cfg, "reca/x")) {
		struct sim_nl_reply nr;
		struct cfg_pick pk = { .subtype = "reca" };

		STEP("reconfig cfgstring: daemon options stripped before the handler sees it");
		CHECK(!sim_nl_reconfig_cfg(d, "reca/y;tcmur_cmd_time_out=9") && !nl_ready(ctx) &&
			      !wait_reply(&nr, 2000) && nr.status == 0,
		      "reply %d", nr.status);
		CHECK(!strcmp(rec_cfg, "reca/y"), "handler saw '%s'", rec_cfg);
		tcmur_for_each_device(pick_cfg, &pk);
		CHECK(!strcmp(pk.cfg, "reca/y"), "listed '%s'", pk.cfg);
		CHECK(!sim_nl_reconfig_cfg(d, "reca/z;tcmur_cmd_time_out=x") && !nl_ready(ctx) &&
			      !wait_reply(&nr, 2000) && nr.status == -EINVAL,
		      "bad option: %d", nr.status);
	}
	ret = remove_dev(d);
	CHECK(ret == 0, "remove: %d", ret);
}

static void t_shutdown(void)
{
	struct sim_dev *d;
	char cfg[512];
	int ret;

	STEP("shutdown closes open devices, blocking and unblocking them in configfs");
	snprintf(cfg, sizeof(cfg), "file/%s/shut.img", tmp);
	ret = add_dev(cfg, DEV_SIZE, &d);
	ENSURE(ret == 0, "add: %d", ret);
	sim_cfgfs_log_clear(k);
	tcmur_devices_shutdown();
	CHECK(tcmur_device_count() == 0, "devices left: %u", tcmur_device_count());
	CHECK(strstr(sim_cfgfs_log(k), "block_dev=1") && strstr(sim_cfgfs_log(k), "block_dev=0"),
	      "configfs: %s", sim_cfgfs_log(k));
	tcmulib_close(ctx);
	ctx = NULL;
	CHECK(!sim_dev_is_open(d), "uio closed");
	sim_dev_destroy(d);
}

static void t_adopt(struct tcmulib_handler *lh, size_t n)
{
	char big[400];
	struct stat st;
	struct sim_dev_opts o = { .hw_block_size = BS, .dev_size = DEV_SIZE, .data_size = 4 << 20 };
	uint8_t blk[BS];
	struct sim_result r;
	struct sim_dev *d;
	char cfg[512];
	int i, ret;

	STEP("restart: a device already present is adopted (ring reset) and served");
	snprintf(big, sizeof(big), "%s/adopt.img", tmp);
	ENSURE(!truncate(big, 0) || errno == ENOENT, "reset");
	{
		int fd = open(big, O_CREAT | O_WRONLY, 0600);

		ENSURE(fd >= 0 && !ftruncate(fd, 2 * DEV_SIZE), "bigger file");
		close(fd);
	}
	snprintf(cfg, sizeof(cfg), "file/%s", big);
	o.cfgstring = cfg;
	ENSURE(!sim_dev_create(k, &o, &d), "create");
	sim_cfgfs_log_clear(k);
	ctx = tcmulib_initialize(lh, n);
	ENSURE(ctx, "initialize");
	for (i = 0; i < 300 && tcmur_device_count() != 1; i++)
		usleep(10000);
	CHECK(tcmur_device_count() == 1, "adopted: %u", tcmur_device_count());
	CHECK(!stat(big, &st) && st.st_size == 2 * DEV_SIZE, "bigger file not truncated: %lld",
	      (long long)st.st_size);
	CHECK(strstr(sim_cfgfs_log(k), "reset_ring=1"), "configfs: %s", sim_cfgfs_log(k));
	clear_ua(d);
	memset(blk, 0x5a, sizeof(blk));
	ret = rw10(d, true, 3, 1, blk, false, &r);
	CHECK(!ret && r.scsi_status == 0, "write: %d/%d", ret, r.scsi_status);
	ret = rw10(d, false, 3, 1, NULL, false, &r);
	CHECK(!ret && r.scsi_status == 0 && !memcmp(r.data_in, blk, BS), "read back");

	STEP("while shutting down, a new device gets a failed reply at once");
	{
		struct sim_dev *d2;

		tcmur_devices_refuse_new(true);
		snprintf(cfg, sizeof(cfg), "file/%s/late.img", tmp);
		ret = add_dev(cfg, DEV_SIZE, &d2);
		CHECK(ret == -ESHUTDOWN, "late add: %d", ret);
		CHECK(log_has("shutting down: device refused"), "logged");
		sim_dev_destroy(d2);
		tcmur_devices_refuse_new(false);
	}
	tcmur_devices_shutdown();
	tcmulib_close(ctx);
	ctx = NULL;
	sim_dev_destroy(d);
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_daemon_file_sim <handler dir>");
	ret = dsim_setup("filesim");
	if (ret)
		return ret;
	printf("  file handler I/O: %s\n",
	       getenv("TCMU_FILE_NO_URING") ? "thread pool" : "io_uring if available");

	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret == 1 && tcmur_handler_find("file"), "load handler_file.so: %d", ret);
	{
		int model = tcmur_handler_find("file")->model;
		bool pool = getenv("TCMU_FILE_NO_URING") != NULL;

		printf("  file handler thread model: %s\n", tcmur_thread_model_name(model));
		CHECK(!pool || model == TCMUR_THREAD_MODEL_PARALLEL, "pool forced: %d", model);
	}
	REQUIRE(!tcmur_register_handler(&slow_handler), "register slow");
	REQUIRE(!tcmur_register_handler(&rec_async_handler), "register reca");
	REQUIRE(!tcmur_register_handler(&rec_serial_handler), "register recs");
	REQUIRE(!tcmur_register_handler(&late_handler), "register late");
	REQUIRE(!tcmur_register_handler(&ser_handler), "register ser");
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	t_bad_cfgstrings();
	t_file_io();
	t_timeout_tmr_remove();
	t_stuck();
	t_late_completion();
	t_serialize_foreign();
	t_rec("reca/x");
	t_rec("recs/x");
	t_shutdown();
	t_adopt(lh, n);

	return dsim_finish();
}
