// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Throughput smoke test of the full daemon path on the simulated kernel:
 * READ(10) of one block through a null handler, 64 commands in flight, for
 * the ASYNC model (completion on the ring thread) and PARALLEL (4 workers),
 * and the file handler when its folder is given as argument.
 * Prints commands per second; fails only on lost or wrong completions.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "dtest.h"
#include "sim.h"

#define QD	64
#define SECONDS 1.0

static int null_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	return TCMU_STS_OK;
}

static int null_read_async(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
			   size_t iov_cnt, size_t len, off_t off)
{
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

static struct tcmur_handler h_async = {
	.subtype = "nullasync",
	.read = null_read_async,
	.write = null_read_async,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
};

static struct tcmur_handler h_par = {
	.subtype = "nullpar",
	.read = null_read,
	.write = null_read,
	.thread_model = TCMUR_THREAD_MODEL_PARALLEL,
	.nr_threads = 4,
};

/* What the daemon's main loop does when the netlink fd is readable. */
static int nl_ready(struct tcmulib_context *c)
{
	return tcmulib_master_fd_ready(c);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench(struct sim_kernel *k, struct tcmulib_context *ctx, const char *cfg)
{
	struct sim_dev_opts o = {
		.cfgstring = cfg, .dev_size = 64 << 20, .hw_block_size = 512, .data_size = 4 << 20
	};
	struct sim_nl_reply r;
	struct sim_dev *d;
	unsigned long done = 0, submitted = 0;
	double t0, t = 0;
	int i, n;

	if (sim_dev_create(k, &o, &d) || sim_nl_added(d) || nl_ready(ctx))
		return -1;
	for (i = 0; i < 5000 && sim_nl_reply(k, &r); i++)
		usleep(1000);
	if (r.status)
		return -1;
	/* First command may carry a unit attention: drain it. */
	{
		uint16_t id;
		struct sim_result res;

		sim_submit_rw10(d, false, 0, 1, 512, NULL, &id);
		sim_wait(d, id, 2000, &res);
	}
	t0 = now_s();
	do {
		uint16_t id;

		while (submitted - done < QD) {
			if (sim_submit_rw10(d, false, (uint32_t)(submitted & 1023), 1, 512, NULL,
					    &id))
				break;
			submitted++;
		}
		sim_wait_kick(d, 100);
		n = sim_reap(d, false);
		if (n < 0)
			break;
		done += (unsigned long)n;
		t = now_s();
	} while (t - t0 < SECONDS);
	while (done < submitted && (n = sim_reap(d, true)) >= 0) {
		if (!n)
			usleep(1000);
		done += (unsigned long)n;
		if (now_s() - t > 5)
			break;
	}
	printf("  %s: %.0f commands/s (%lu commands, QD %d), %u kicks\n", cfg,
	       (double)done / (t - t0), done, QD, sim_kicks(d));
	CHECK(done == submitted, "%lu of %lu completed", done, submitted);
	CHECK(sim_warnings(d) == 0 && !sim_broken(d), "ring: %s", sim_last_error(d));
	if (sim_nl_removed(d) || nl_ready(ctx))
		return -1;
	for (i = 0; i < 5000 && sim_nl_reply(k, &r); i++)
		usleep(1000);
	sim_dev_destroy(d);
	return 0;
}

int main(int argc, char **argv)
{
	struct tcmulib_context *ctx;
	struct tcmulib_handler *lh;
	struct sim_kernel *k;
	const char *only;
	size_t n;

	tcmu_set_log_level(TCMU_LOG_ERROR);
	if (sim_kernel_create(&k)) {
		printf("SKIP: no simulated kernel\n");
		return 77;
	}
	REQUIRE(!tcmur_register_handler(&h_async) && !tcmur_register_handler(&h_par), "reg");
	if (argc > 1)
		REQUIRE(tcmur_load_handlers(argv[1]) == 1, "handler_file.so in %s", argv[1]);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "init");
	/* TCMUR_PERF_ONLY=async|parallel|file narrows the run (profiling). */
	only = getenv("TCMUR_PERF_ONLY");
	if (!only || !strcmp(only, "async")) {
		STEP("ASYNC null handler");
		CHECK(!bench(k, ctx, "nullasync/x"), "bench async");
	}
	if (!only || !strcmp(only, "parallel")) {
		STEP("PARALLEL null handler, 4 workers");
		CHECK(!bench(k, ctx, "nullpar/x"), "bench parallel");
	}
	if (argc > 1 && (!only || !strcmp(only, "file"))) {
		char cfg[300];
		const char *dir = dt_tmpdir("perf");

		snprintf(cfg, sizeof(cfg), "file/%s/perf.img", dir);
		STEP("file handler (%s)",
		     tcmur_thread_model_name(tcmur_handler_find("file")->model));
		CHECK(!bench(k, ctx, cfg), "bench file");
		dt_rmrf(dir);
	}
	tcmur_devices_shutdown(); /* as the daemon does before tcmulib_close() */
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	tcmur_unload_handlers();
	return check_exit();
}
