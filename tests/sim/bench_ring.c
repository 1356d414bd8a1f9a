/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Micro-benchmark of libtcmu's per-command cost on the simulated ring:
 * tcmulib_get_next_command + tcmulib_command_complete, with completions on
 * the ring thread or on a second thread (lock contention).  Not a test.
 *   bench_ring [iterations]
 */
#include <pthread.h>
#include <time.h>

#include "test_util.h"

#define BATCH 64

static struct tcmulib_cmd *cmds[BATCH];
static int ncmds;
static pthread_barrier_t bar;
static volatile int quit;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Completes the odd half of each batch while the main thread does the even half. */
static void *completer(void *arg)
{
	int i;

	for (;;) {
		pthread_barrier_wait(&bar);
		if (quit)
			return NULL;
		for (i = 1; i < ncmds; i += 2)
			tcmulib_command_complete(test_dev, cmds[i], TCMU_STS_OK);
		pthread_barrier_wait(&bar);
	}
}

static double run(struct sim_dev *d, long iters, bool threaded)
{
	uint64_t lib_ns = 0, t0;
	long done = 0;
	uint16_t id;
	int i;

	while (done < iters) {
		for (i = 0; i < BATCH; i++)
			if (sim_submit_rw10(d, false, 0, 1, 512, NULL, &id))
				break;
		t0 = now_ns();
		ncmds = test_drain(test_dev, cmds, BATCH);
		if (threaded) {
			pthread_barrier_wait(&bar);
			for (i = 0; i < ncmds; i += 2)
				tcmulib_command_complete(test_dev, cmds[i], TCMU_STS_OK);
			pthread_barrier_wait(&bar);
		} else {
			for (i = 0; i < ncmds; i++)
				tcmulib_command_complete(test_dev, cmds[i], TCMU_STS_OK);
		}
		tcmulib_processing_complete(test_dev);
		lib_ns += now_ns() - t0;
		if (sim_reap(d, false) != ncmds)
			return -1;
		done += ncmds;
	}
	return (double)lib_ns / (double)done;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	struct sim_dev_opts o = { .cfgstring = "simtest/x",
				  .cmdr_size = (1 << 20) - 128,
				  .data_size = 4 << 20 };
	struct tcmulib_context *ctx;
	struct sim_kernel *k;
	struct sim_dev *d;
	pthread_t th;

	if (test_setup(&k, &ctx, &d, &o))
		return 1;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&th, NULL, completer, NULL);
	printf("single thread: %.1f ns/command (get + complete, kick per %d)\n",
	       run(d, iters, false), BATCH);
	printf("two completers: %.1f ns/command\n", run(d, iters, true));
	quit = 1;
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return 0;
}
