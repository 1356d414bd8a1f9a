// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Two threads register one subtype at the same moment, round after round:
 * exactly one registration wins each round, the other gets -EEXIST and a
 * log line naming the subtype.  The handlers' init() yields the processor
 * so that both registrations are inside tcmur_register_handler() together.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "daemon.h"
#include "dtest.h"

#define ROUNDS 300

static pthread_barrier_t start;

/* Registering thread; may block. */
static int race_init(void)
{
	int i;

	for (i = 0; i < 20; i++)
		sched_yield();
	return 0;
}

static int race_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	(void)dev, (void)cmd, (void)iov, (void)iov_cnt, (void)len, (void)off;
	return TCMU_STS_OK;
}

static struct tcmur_handler racer[2] = {
	{ .name = "racer 0",
	  .subtype = "trace",
	  .init = race_init,
	  .read = race_read,
	  .write = race_read },
	{ .name = "racer 1",
	  .subtype = "trace",
	  .init = race_init,
	  .read = race_read,
	  .write = race_read },
};

struct lane {
	struct tcmur_handler *h;
	int ret;
};

static void *lane_thread(void *arg)
{
	struct lane *l = arg;

	pthread_barrier_wait(&start);
	l->ret = tcmur_register_handler(l->h);
	return NULL;
}

/* Occurrences of s in the file at path, waiting up to 2 s for want of them. */
static int count_in(const char *path, const char *s, int want)
{
	int i, n = 0;

	for (i = 0; i < 200 && n < want; i++) {
		char *t = dt_slurp(path), *p = t;

		for (n = 0; p && (p = strstr(p, s)); p += strlen(s))
			n++;
		free(t);
		if (n < want)
			usleep(10000);
	}
	return n;
}

int main(void)
{
	const char *dir = dt_tmpdir("regrace");
	char logdir[300], logpath[340];
	int round, wins = 0, eexist = 0, other = 0, both = 0, n;

	REQUIRE(dir, "mkdtemp");
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	snprintf(logpath, sizeof(logpath), "%s/tcmu-runner.log", logdir);
	REQUIRE(!tcmu_setup_log(logdir), "log");
	pthread_barrier_init(&start, NULL, 2);

	STEP("%d rounds of two concurrent registrations of subtype 'trace'", ROUNDS);
	for (round = 0; round < ROUNDS; round++) {
		struct lane l[2] = { { &racer[0], 0 }, { &racer[1], 0 } };
		pthread_t t[2];
		int i, won = 0;

		for (i = 0; i < 2; i++)
			REQUIRE(!pthread_create(&t[i], NULL, lane_thread, &l[i]), "thread");
		for (i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < 2; i++) {
			if (!l[i].ret) {
				won++;
				CHECK(tcmur_unregister_handler(l[i].h), "unregister the winner");
			} else if (l[i].ret == -EEXIST) {
				eexist++;
			} else {
				other++;
			}
		}
		wins += won == 1;
		both += won == 2;
	}
	CHECK(wins == ROUNDS, "one winner in %d of %d rounds (both won: %d)", wins, ROUNDS, both);
	CHECK(eexist == ROUNDS && !other, "losers: %d -EEXIST, %d other", eexist, other);
	n = count_in(logpath, "subtype 'trace' is already served by", ROUNDS);
	CHECK(n == ROUNDS, "%d log lines naming the subtype, %d expected", n, ROUNDS);
	CHECK(!tcmur_handler_find("trace"), "nothing left registered");

	tcmu_destroy_log();
	pthread_barrier_destroy(&start);
	if (!check_failures)
		dt_rmrf(dir);
	return check_exit();
}
