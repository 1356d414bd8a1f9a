/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * examples/consumer.c end to end on the simulated kernel: its main loop
 * runs in a thread, the test adds a device over netlink, drives SCSI
 * commands through the ring and stops it with SIGTERM.
 */
#define main consumer_main
#include "../../examples/consumer.c"
#undef main

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

static struct sim_kernel *k;

static void *consumer_thread(void *arg)
{
	char *argv[] = { "consumer", NULL };

	return (void *)(intptr_t)consumer_main(1, argv);
}

static int wait_reply(struct sim_nl_reply *r)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (!sim_nl_reply(k, r))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static int run_cmd(struct sim_dev *d, const uint8_t *cdb, size_t cdb_len, const void *out,
		   size_t out_len, size_t in_len, struct sim_result *r)
{
	struct sim_cmd c = { .cdb = cdb,
			     .cdb_len = cdb_len,
			     .data_out = out,
			     .data_out_len = out_len,
			     .data_in_len = in_len };
	uint16_t id;
	int ret;

	ret = sim_submit(d, &c, &id);
	if (ret)
		return ret;
	return sim_wait(d, id, 2000, r);
}

int main(void)
{
	struct sim_dev_opts o = { .cfgstring = "consumer/ram", .dev_size = 8 << 20 };
	static uint8_t wbuf[4096], rbuf[4096];
	struct sim_nl_reply rep;
	struct sim_result r;
	struct sim_dev *d;
	sigset_t set;
	pthread_t th;
	void *rv;
	int i;

	/* SIGTERM must reach the consumer's ppoll(), not this thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	tcmu_set_log_level(TCMU_LOG_WARN);

	if (sim_kernel_create(&k))
		return 1;
	if (sim_dev_create(k, &o, &d))
		return 1;
	pthread_create(&th, NULL, consumer_thread, NULL);
	usleep(50000);

	STEP("consumer adopts the device on ADDED");
	sim_nl_added(d);
	CHECK(wait_reply(&rep) == 0 && rep.cmd == TCMU_CMD_ADDED_DEVICE_DONE && !rep.status,
	      "reply %d status %d", rep.cmd, rep.status);

	STEP("INQUIRY, TEST UNIT READY, READ CAPACITY(10/16), MODE SENSE");
	{
		uint8_t inq[6] = { INQUIRY, 0, 0, 0, 96, 0 };
		uint8_t tur[6] = { 0 };
		uint8_t rc10[10] = { READ_CAPACITY };
		uint8_t rc16[16] = { SERVICE_ACTION_IN_16, READ_CAPACITY_16 };
		uint8_t ms[6] = { MODE_SENSE, 0, 0x3f, 0, 192, 0 };

		rc16[13] = 32;
		CHECK(run_cmd(d, inq, 6, NULL, 0, 96, &r) == 0 && r.scsi_status == 0 && r.data_in &&
			      r.data_in[0] == 0 && !memcmp(r.data_in + 8, "LIO-ORG", 7),
		      "inquiry status %u", r.scsi_status);
		CHECK(run_cmd(d, tur, 6, NULL, 0, 0, &r) == 0 && r.scsi_status == 0, "tur");
		CHECK(run_cmd(d, rc10, 10, NULL, 0, 8, &r) == 0 && r.scsi_status == 0 &&
			      r.data_in && r.data_in[3] == 0xff && r.data_in[2] == 0x3f &&
			      r.data_in[6] == 2,
		      "read capacity 10: last lba 16383, 512-byte blocks");
		CHECK(run_cmd(d, rc16, 16, NULL, 0, 32, &r) == 0 && r.scsi_status == 0 &&
			      r.data_in && r.data_in[7] == 0xff && r.data_in[11] == 0,
		      "rc16");
		CHECK(run_cmd(d, ms, 6, NULL, 0, 192, &r) == 0 && r.scsi_status == 0,
		      "mode sense status %u", r.scsi_status);
	}

	STEP("WRITE(10)/READ(16) round trip, range check, unknown opcode");
	for (i = 0; i < (int)sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 13 + 1);
	{
		uint8_t w10[10] = { WRITE_10, 0, 0, 0, 0, 100, 0, 0, 8, 0 };
		uint8_t r16[16] = { READ_16 };
		uint8_t bad[10] = { READ_10, 0, 0, 0, 0x40, 0, 0, 0, 1, 0 };
		uint8_t unk[10] = { 0x42 };

		r16[9] = 100;
		r16[13] = 8;
		CHECK(run_cmd(d, w10, 10, wbuf, sizeof(wbuf), 0, &r) == 0 && r.scsi_status == 0,
		      "write");
		CHECK(run_cmd(d, r16, 16, NULL, 0, sizeof(rbuf), &r) == 0 && r.scsi_status == 0 &&
			      r.data_in && !memcmp(r.data_in, wbuf, sizeof(wbuf)),
		      "read back");
		CHECK(run_cmd(d, bad, 10, NULL, 0, 512, &r) == 0 &&
			      r.scsi_status == SAM_STAT_CHECK_CONDITION &&
			      sense_key(r.sense) == 5 && sense_asc(r.sense) == 0x2100,
		      "out of range");
		CHECK(run_cmd(d, unk, 10, NULL, 0, 0, &r) == 0 &&
			      r.scsi_status == SAM_STAT_CHECK_CONDITION &&
			      sense_asc(r.sense) == 0x2000,
		      "unknown opcode");
	}

	STEP("REMOVED then SIGTERM: clean exit");
	sim_nl_removed(d);
	CHECK(wait_reply(&rep) == 0 && rep.cmd == TCMU_CMD_REMOVED_DEVICE_DONE, "removed");
	pthread_kill(th, SIGTERM);
	pthread_join(th, &rv);
	CHECK(rv == NULL, "consumer exit code %ld", (long)(intptr_t)rv);
	CHECK(!sim_warnings(d) && !sim_broken(d), "sim: %s", sim_last_error(d));
	sim_dev_destroy(d);
	sim_kernel_destroy(k);
	return check_exit();
}
