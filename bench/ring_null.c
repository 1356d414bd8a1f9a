// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Host microbenchmark on the simulated TCMU ring (tcmu_sim, no VM, no root):
 * a null handler answering 4 KiB READ(10)s, driven two ways:
 *   inline  libtcmu alone on one thread, no wake-ups: queue QD commands, then
 *           time processing_start + QD x (get_next_command, command_complete)
 *           + processing_complete (the kick), then reap; cost = that time;
 *   lib     libtcmu alone: one consumer thread polls the UIO fd, takes each
 *           command off the ring and completes it at once, one kick per batch;
 *   daemon  the full tcmu-runner path (ring thread, SCSI engine, handler
 *           dispatch, completion) with an ASYNC or a PARALLEL null handler;
 *   file    the same with the real file handler (handler_file.so from -H DIR)
 *           on a page-cached file in $TMPDIR: not null, but shows where a
 *           real handler's CPU goes (per-thread CPU is printed).
 * The main thread plays the kernel (queue, reap).  Reported cost is the CPU
 * time of every thread but the main one (process CPU clock minus the main
 * thread's), so a busy shared machine slows the run but barely moves the
 * figures; instructions per command come from perf_event_open() counters on
 * those threads when the kernel allows it.  Output: one "RESULT" line per run.
 *
 *   bench_ring_null [-m inline|lib|async|parallel|file] [-q QD] [-n COMMANDS]
 *                   [-b BLOCKS] [-H DIR] [-c CFGSTRING] [-p adaptive|fixed|off] [-i] [-r] [-w]
 *                   [-x]
 *     -p  the ring thread's ring_poll rule (daemon paths; default adaptive)
 *     -b  512-byte blocks per READ(10) (default 8 = 4 KiB, at most 2048 = 1 MiB;
 *         commands walk the 256 MiB device in order and wrap)
 *     -r  print VmRSS every 1M commands (RSS flatness)
 *     -i  count instructions per command (perf_event_open); a separate run,
 *         since the counters make every context switch dearer (MSR writes)
 *     -H  folder holding handler_file.so (for -m file)
 *     -w  WRITE(10)s of zeroes instead of READ(10)s (daemon paths)
 *     -x  random block-aligned offsets (a fixed-seed xorshift) instead of in order:
 *         on a sparse qcow2 image, a share of the writes allocate clusters
 *     -c  -m file with another handler's cfgstring (its handler_*.so in the
 *         -H folder), e.g. qcow/<a 256 MiB qcow2 image>; nothing is deleted
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "sim.h"

#define MAX_COUNTERS 64

enum mode { M_INLINE, M_LIB, M_ASYNC, M_PARALLEL, M_FILE };

static enum mode mode = M_ASYNC;
static unsigned int qd = 1;
static unsigned long ncmds = 200000;
static bool rss_trace;
static bool want_insn;		/* -i: count instructions (costs CPU: MSR writes per switch) */
static const char *handler_dir; /* -H: folder with handler_file.so */
static const char *user_cfg;	/* -c: cfgstring instead of file/<temp file> */
static char file_cfg[4200];
#define DEV_BYTES (256ul << 20)
static unsigned int nblocks = 8; /* 512 B blocks per READ(10): 4 KiB */
static bool writes;		 /* -w: WRITE(10)s of zeroes instead */
static bool random_lba;		 /* -x: random offsets */
#define MAX_BLOCKS 2048
static const uint8_t zeroes[MAX_BLOCKS * 512];

/* ---- timing and counters --------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct counters {
	int fd[MAX_COUNTERS][2]; /* [user, user+kernel] per thread */
	int n;
};

static int perf_open(pid_t tid, bool user_only)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_kernel = user_only;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, 0);
}

/* One pair of counters on every thread of this process but the main one. */
static void counters_open(struct counters *c)
{
	pid_t self = getpid();
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	c->n = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && c->n < MAX_COUNTERS) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || tid == self)
			continue;
		c->fd[c->n][0] = perf_open(tid, true);
		c->fd[c->n][1] = perf_open(tid, false);
		c->n++;
	}
	closedir(d);
}

static void counters_ctl(struct counters *c, unsigned long op)
{
	int i, j;

	for (i = 0; i < c->n; i++)
		for (j = 0; j < 2; j++)
			if (c->fd[i][j] >= 0)
				ioctl(c->fd[i][j], op, 0);
}

/* Sum of user (which=0) or all (1) instructions; -1 when unavailable. */
static double counters_read(struct counters *c, int which)
{
	double sum = 0;
	int i, got = 0;

	for (i = 0; i < c->n; i++) {
		uint64_t v;

		if (c->fd[i][which] < 0 || read(c->fd[i][which], &v, sizeof(v)) != sizeof(v))
			continue;
		sum += (double)v;
		got++;
	}
	return got ? sum : -1;
}

static void counters_close(struct counters *c)
{
	int i, j;

	for (i = 0; i < c->n; i++)
		for (j = 0; j < 2; j++)
			if (c->fd[i][j] >= 0)
				close(c->fd[i][j]);
	c->n = 0;
}

static long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Per-thread CPU (utime+stime ticks since thread start), one line. */
static void print_threads(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	char path[300], buf[512], comm[32];

	if (!d)
		return;
	printf("THREADS");
	while ((de = readdir(d))) {
		unsigned long ut = 0, st = 0;
		FILE *f;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			   &st) == 2) {
			snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
			FILE *c = fopen(path, "r");

			comm[0] = 0;
			if (c) {
				if (fgets(comm, sizeof(comm), c))
					comm[strcspn(comm, "\n ")] = 0;
				fclose(c);
			}
			printf(" %s:%lu", comm, ut + st);
		}
		fclose(f);
	}
	printf("\n");
	closedir(d);
}

/* ---- the null handlers ------------------------------------------------------- */

/* libtcmu alone: the consumer thread. */
static struct tcmu_device *lib_dev;
static atomic_bool lib_stop;

static int lib_added(struct tcmu_device *dev)
{
	lib_dev = dev;
	return 0;
}

static void lib_removed(struct tcmu_device *dev)
{
	if (dev == lib_dev)
		lib_dev = NULL;
}

static struct tcmulib_handler lib_handler = {
	.name = "bench null",
	.subtype = "benchlib",
	.cfg_desc = "anything",
	.added = lib_added,
	.removed = lib_removed,
};

static void *lib_consumer(void *arg)
{
	struct tcmu_device *dev = arg;
	struct pollfd p = { .fd = tcmu_dev_get_fd(dev), .events = POLLIN };
	struct tcmulib_cmd *c;

	pthread_setname_np(pthread_self(), "consumer");
	while (!atomic_load_explicit(&lib_stop, memory_order_relaxed)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		tcmulib_processing_start(dev);
		while ((c = tcmulib_get_next_command(dev, 0)))
			tcmulib_command_complete(dev, c, TCMU_STS_OK);
		tcmulib_processing_complete(dev);
	}
	return NULL;
}

/* The daemon path. */
static int null_io(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		   size_t iov_cnt, size_t len, off_t off)
{
	return TCMU_STS_OK;
}

static int null_io_async(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
			 size_t iov_cnt, size_t len, off_t off)
{
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

static struct tcmur_handler h_async = {
	.name = "bench null (async)",
	.subtype = "benchasync",
	.read = null_io_async,
	.write = null_io_async,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

static struct tcmur_handler h_par = {
	.name = "bench null (4 workers)",
	.subtype = "benchpar",
	.read = null_io,
	.write = null_io,
	.thread_model = TCMUR_THREAD_MODEL_PARALLEL,
	.nr_threads = 4,
};

/* ---- the kernel side ------------------------------------------------------- */

static int ctx_ready(struct tcmulib_context *ctx)
{
	return tcmulib_master_fd_ready(ctx);
}

static int wait_reply(struct sim_kernel *k)
{
	struct sim_nl_reply r;
	int i;

	for (i = 0; i < 10000; i++) {
		if (!sim_nl_reply(k, &r))
			return r.status;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * The first block of the i-th command: in order, wrapping at the device's
 * end, or (-x) a random one from a fixed-seed xorshift.
 */
static uint32_t lba_of(unsigned long i)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	if (random_lba) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (unsigned long)(x >> 11);
	}
	return (uint32_t)(i % (DEV_BYTES / (nblocks * 512ul))) * nblocks;
}

/* Keep qd commands queued until n completed.  Returns completed, or -1. */
static long drive(struct sim_dev *d, unsigned long n, unsigned long *lba)
{
	unsigned long done = 0, submitted = 0, next_rss = 1000000;
	uint16_t id;
	int r;

	while (done < n) {
		while (submitted - done < qd && submitted < n) {
			if (sim_submit_rw10(d, writes, lba_of(*lba), (uint16_t)nblocks, 512,
					    writes ? zeroes : NULL, &id))
				break;
			submitted++;
			(*lba)++;
		}
		if (sim_wait_kick(d, 2000) <= 0) {
			fprintf(stderr, "no completion for 2 s (%lu of %lu done)\n", done, n);
			return -1;
		}
		r = sim_reap(d, false);
		if (r < 0) {
			fprintf(stderr, "ring broken: %s\n", sim_last_error(d));
			return -1;
		}
		done += (unsigned long)r;
		if (rss_trace && done >= next_rss) {
			printf("RSS commands=%lu rss_kib=%ld\n", next_rss, rss_kib());
			fflush(stdout);
			next_rss += 1000000;
		}
	}
	return (long)done;
}

static const char *mode_name(void);

/* One thread, no wake-ups: the library's own cost per command. */
static int run_inline(struct sim_dev *d)
{
	struct tcmu_device *dev = lib_dev;
	struct tcmulib_cmd *c;
	unsigned long done = 0, total = ncmds + (ncmds / 20 < 2000 ? 2000 : ncmds / 20);
	unsigned long lba = 0, measured = 0;
	uint64_t lib_ns = 0, core_ns = 0, t0, t1, t2;
	unsigned int i, n;
	uint16_t id;

	while (done < total) {
		for (i = 0; i < qd; i++, lba++)
			if (sim_submit_rw10(d, false, lba_of(lba), (uint16_t)nblocks, 512, NULL,
					    &id))
				break;
		t0 = clock_ns(CLOCK_MONOTONIC);
		tcmulib_processing_start(dev);
		t1 = clock_ns(CLOCK_MONOTONIC);
		n = 0;
		while ((c = tcmulib_get_next_command(dev, 0))) {
			tcmulib_command_complete(dev, c, TCMU_STS_OK);
			n++;
		}
		t2 = clock_ns(CLOCK_MONOTONIC);
		tcmulib_processing_complete(dev);
		if (done >= total - ncmds) { /* past the warm-up */
			lib_ns += clock_ns(CLOCK_MONOTONIC) - t0;
			core_ns += t2 - t1;
			measured += n;
		}
		if (sim_reap(d, false) != (int)n) {
			fprintf(stderr, "reap mismatch: %s\n", sim_last_error(d));
			return -1;
		}
		done += n;
	}
	/* core: get + complete only; the rest is the two UIO syscalls per batch. */
	printf("RESULT mode=%s qd=%u cmds=%lu cpu_ns_per_cmd=%.0f cmds_per_cpu_s=%.0f "
	       "core_ns_per_cmd=%.0f core_cmds_per_s=%.0f kicks=%u rss_kib=%ld\n",
	       mode_name(), qd, measured, (double)lib_ns / (double)measured,
	       (double)measured * 1e9 / (double)lib_ns, (double)core_ns / (double)measured,
	       (double)measured * 1e9 / (double)core_ns, sim_kicks(d), rss_kib());
	return 0;
}

static const char *mode_name(void)
{
	static const char *const names[] = { "lib-inline", "lib-thread", "daemon-async",
					     "daemon-parallel", "daemon-file" };

	return names[mode];
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-m inline|lib|async|parallel|file] [-q QD] [-n COMMANDS] "
		"[-b BLOCKS] [-H DIR] [-c CFGSTRING] [-p adaptive|fixed|off] [-i] [-r] [-w] [-x]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sim_dev_opts o = { .dev_size = DEV_BYTES,
				  .hw_block_size = 512,
				  .data_size = 8 << 20,
				  .cmdr_size = (1 << 20) - 128,
				  .discard_data_in = true };
	struct tcmulib_handler *handlers;
	struct tcmulib_context *ctx;
	struct counters cnt;
	struct sim_kernel *k;
	struct sim_dev *d;
	pthread_t consumer;
	size_t nh = 1;
	unsigned long lba = 0;
	uint64_t w0, w1, p0, p1, m0, m1;
	double cpu_ns, iu, ia;
	long done, warm;
	int c;

	while ((c = getopt(argc, argv, "m:q:n:b:H:c:p:irwx")) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "inline"))
				mode = M_INLINE;
			else if (!strcmp(optarg, "lib"))
				mode = M_LIB;
			else if (!strcmp(optarg, "async"))
				mode = M_ASYNC;
			else if (!strcmp(optarg, "parallel"))
				mode = M_PARALLEL;
			else if (!strcmp(optarg, "file"))
				mode = M_FILE;
			else
				usage(argv[0]);
			break;
		case 'q':
			qd = (unsigned int)atoi(optarg);
			break;
		case 'n':
			ncmds = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			want_insn = true;
			break;
		case 'H':
			handler_dir = optarg;
			break;
		case 'c':
			user_cfg = optarg;
			break;
		case 'b':
			nblocks = (unsigned int)atoi(optarg);
			break;
		case 'r':
			rss_trace = true;
			break;
		case 'w':
			writes = true;
			break;
		case 'x':
			random_lba = true;
			break;
		case 'p': {
			enum tcmur_ring_poll pm;

			if (tcmur_ring_poll_parse(optarg, &pm))
				usage(argv[0]);
			tcmur_set_ring_poll(pm);
			break;
		}
		default:
			usage(argv[0]);
		}
	}
	if (qd < 1 || qd > 1024 || !ncmds || nblocks < 1 || nblocks > MAX_BLOCKS)
		usage(argv[0]);

	/* Room for QD commands twice over (8 MiB at least). */
	if (o.data_size < 2ul * qd * nblocks * 512)
		o.data_size = 2ul * qd * nblocks * 512;
	tcmu_set_log_level(TCMU_LOG_ERROR);
	if (sim_kernel_create(&k)) {
		fprintf(stderr, "no simulated kernel\n");
		return 77;
	}
	if (mode <= M_LIB) {
		handlers = &lib_handler;
		o.cfgstring = "benchlib/x";
	} else {
		if (tcmur_register_handler(&h_async) || tcmur_register_handler(&h_par)) {
			fprintf(stderr, "handler registration failed\n");
			return 1;
		}
		if (mode == M_FILE) {
			const char *tmp = getenv("TMPDIR");

			if (!handler_dir || tcmur_load_handlers(handler_dir) <= 0) {
				fprintf(stderr, "-m file needs -H <folder with handler_file.so>\n");
				return 2;
			}
			if (user_cfg)
				snprintf(file_cfg, sizeof(file_cfg), "%s", user_cfg);
			else
				snprintf(file_cfg, sizeof(file_cfg),
					 "file/%s/bench_ring_null.%d.img", tmp ? tmp : "/tmp",
					 (int)getpid());
		}
		handlers = tcmur_handlers_publish(&nh);
		o.cfgstring = mode == M_ASYNC	   ? "benchasync/x"
			      : mode == M_PARALLEL ? "benchpar/x"
						   : file_cfg;
	}
	ctx = tcmulib_initialize(handlers, nh);
	if (!ctx || sim_dev_create(k, &o, &d) || sim_nl_added(d) || ctx_ready(ctx) ||
	    wait_reply(k)) {
		fprintf(stderr, "device setup failed\n");
		return 1;
	}
	if (mode == M_INLINE) {
		if (!lib_dev) {
			fprintf(stderr, "no device\n");
			return 1;
		}
		return run_inline(d) ? 1 : 0;
	}
	if (mode == M_LIB) {
		if (!lib_dev || pthread_create(&consumer, NULL, lib_consumer, lib_dev)) {
			fprintf(stderr, "no device / consumer thread\n");
			return 1;
		}
	}

	/* Warm up (slot pools, first-command unit attention, page faults). */
	warm = drive(d, ncmds / 20 < 2000 ? 2000 : ncmds / 20, &lba);
	if (warm < 0)
		return 1;

	cnt.n = 0;
	if (want_insn)
		counters_open(&cnt);
	counters_ctl(&cnt, PERF_EVENT_IOC_RESET);
	counters_ctl(&cnt, PERF_EVENT_IOC_ENABLE);
	w0 = clock_ns(CLOCK_MONOTONIC);
	p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	m0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	done = drive(d, ncmds, &lba);
	m1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	p1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	w1 = clock_ns(CLOCK_MONOTONIC);
	counters_ctl(&cnt, PERF_EVENT_IOC_DISABLE);
	if (done < 0)
		return 1;
	iu = counters_read(&cnt, 0);
	ia = counters_read(&cnt, 1);
	counters_close(&cnt);

	cpu_ns = (double)((p1 - p0) - (m1 - m0));
	printf("RESULT mode=%s qd=%u cmds=%ld cpu_ns_per_cmd=%.0f cmds_per_cpu_s=%.0f "
	       "wall_cmds_per_s=%.0f kernel_side_ns_per_cmd=%.0f user_insn_per_cmd=%.0f "
	       "all_insn_per_cmd=%.0f kicks=%u rss_kib=%ld\n",
	       mode_name(), qd, done, cpu_ns / (double)done,
	       cpu_ns > 0 ? (double)done * 1e9 / cpu_ns : 0, (double)done * 1e9 / (double)(w1 - w0),
	       (double)(m1 - m0) / (double)done, iu < 0 ? -1 : iu / (double)done,
	       ia < 0 ? -1 : ia / (double)done, sim_kicks(d), rss_kib());
	if (mode == M_FILE || getenv("BENCH_THREADS"))
		print_threads();
	if (sim_warnings(d) || sim_broken(d)) {
		fprintf(stderr, "ring problems: %s\n", sim_last_error(d));
		return 1;
	}

	if (mode == M_LIB) {
		atomic_store(&lib_stop, true);
		pthread_join(consumer, NULL);
	}
	sim_nl_removed(d);
	ctx_ready(ctx);
	wait_reply(k);
	if (mode > M_LIB)
		tcmur_devices_shutdown();
	tcmulib_close(ctx);
	sim_dev_destroy(d);
	sim_kernel_destroy(k);
	if (mode > M_LIB)
		tcmur_unload_handlers();
	if (mode == M_FILE && !user_cfg)
		unlink(file_cfg + 5);
	return 0;
}
