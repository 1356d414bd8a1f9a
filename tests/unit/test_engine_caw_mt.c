// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Checks that COMPARE AND WRITE is serialised per device: threads race to
 * increment a counter held in one block with read + CAW; every successful
 * CAW must count exactly once.
 */
#include <pthread.h>
#include <string.h>

#include "../check.h"
#include "fake_dev.h"

#define BS	512
#define THREADS 4
#define ROUNDS	400

static struct tcmu_device *dev;

static void *worker(void *arg)
{
	unsigned long *wins = arg;
	uint8_t buf[2 * BS], cdb_r[10] = { READ_10, 0, 0, 0, 0, 7, 0, 0, 1, 0 };
	uint8_t cdb_caw[16] = { COMPARE_AND_WRITE, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1 };
	struct fake_result res;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		uint32_t v;

		fake_exec(dev, cdb_r, buf, BS, &res);
		memcpy(&v, buf, sizeof(v));
		memcpy(buf + BS, buf, BS);
		v++;
		memcpy(buf + BS, &v, sizeof(v));
		if (fake_exec(dev, cdb_caw, buf, 2 * BS, &res) == SAM_STAT_GOOD)
			(*wins)++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	unsigned long wins[THREADS] = { 0 }, total = 0;
	uint32_t v;
	int i;

	dev = fake_dev_new(16, BS, "caw0123");
	STEP("racing COMPARE AND WRITE increments");
	for (i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, worker, &wins[i]), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < THREADS; i++)
		total += wins[i];
	memcpy(&v, fake_dev_mem(dev) + 7 * BS, sizeof(v));
	printf("%lu successful CAWs, counter %u\n", total, v);
	CHECK(total > 0);
	CHECK_EQ(v, total);
	fake_dev_free(dev);
	return check_exit();
}
