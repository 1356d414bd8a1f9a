/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * tcmulib_command_complete() from several threads at once, with and
 * without CAP_OOOC: every command completes exactly once with its own data
 * and the ring never breaks.  Meant to run under TSan too.
 */
#include <pthread.h>
#include <sched.h>

#include "test_util.h"

#define NTHREADS 3
#define TOTAL	 6000
#define QCAP	 256

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct tcmulib_cmd *queue[QCAP];
static unsigned int qhead, qcnt;
static bool qstop;

static void push(struct tcmulib_cmd *c)
{
	pthread_mutex_lock(&qlock);
	queue[(qhead + qcnt++) % QCAP] = c;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
}

static void *worker(void *arg)
{
	struct tcmulib_cmd *c;
	uint32_t lba;

	for (;;) {
		pthread_mutex_lock(&qlock);
		while (!qcnt && !qstop)
			pthread_cond_wait(&qcond, &qlock);
		if (!qcnt) {
			pthread_mutex_unlock(&qlock);
			return NULL;
		}
		c = queue[qhead];
		qhead = (qhead + 1) % QCAP;
		qcnt--;
		pthread_mutex_unlock(&qlock);
		/* Each READ returns its LBA as data, so mix-ups show. */
		lba = ((uint32_t)c->cdb[4] << 8) | c->cdb[5];
		memset(c->iovec[0].iov_base, lba & 0xff, c->iovec[0].iov_len);
		if (lba % 7 == 0)
			sched_yield();
		tcmulib_command_complete(test_dev, c, TCMU_STS_OK);
	}
}

static int run(bool oooc)
{
	struct sim_dev_opts o = { .cfgstring = "simtest/x",
				  .caps_set = true,
				  .caps = oooc ? TCMU_MAILBOX_FLAG_CAP_OOOC : 0,
				  .cmdr_size = 8192 - 128 };
	static uint16_t lba_of[0x10000];
	struct tcmulib_cmd *cmds[64];
	struct tcmulib_context *ctx;
	pthread_t th[NTHREADS];
	struct sim_kernel *k;
	struct sim_dev *d;
	int submitted = 0, completed = 0, i, n, bad = 0, nout = 0;
	uint16_t out[64];

	printf("check: %d READs completed by %d threads, %s\n", TOTAL, NTHREADS,
	       oooc ? "CAP_OOOC" : "in order");
	if (test_setup(&k, &ctx, &d, &o))
		return -1;
	qstop = false;
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	while (completed < TOTAL) {
		struct sim_result r;
		uint16_t id;
		int j;

		while (submitted < TOTAL && nout < 48 &&
		       !sim_submit_rw10(d, false, (uint32_t)submitted % 60000, 1, 512, NULL, &id)) {
			lba_of[id] = (uint16_t)(submitted++ % 60000);
			out[nout++] = id;
		}
		n = test_drain(test_dev, cmds, 64);
		for (i = 0; i < n; i++)
			push(cmds[i]);
		tcmulib_processing_complete(test_dev);
		if (sim_reap(d, true) < 0) {
			CHECK(0, "ring broken: %s", sim_last_error(d));
			break;
		}
		for (j = 0; j < nout; j++) {
			if (sim_result(d, out[j], &r))
				continue;
			if (!r.data_in || r.data_in[0] != (lba_of[out[j]] & 0xff) || r.scsi_status)
				bad++;
			out[j--] = out[--nout];
			completed++;
		}
	}
	pthread_mutex_lock(&qlock);
	qstop = true;
	pthread_cond_broadcast(&qcond);
	pthread_mutex_unlock(&qlock);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	CHECK(bad == 0, "%d commands returned the wrong data", bad);
	CHECK(!sim_warnings(d) && !sim_broken(d), "sim: %s", sim_last_error(d));
	CHECK(tcmulib_dev_inflight(test_dev) == 0, "inflight %u", tcmulib_dev_inflight(test_dev));
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return 0;
}

int main(void)
{
	run(true);
	run(false);
	return check_exit();
}
