/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Fuzz target for the ring parser: arbitrary bytes become the command ring
 * (and cmd_head / mailbox flags); every delivered command must point inside
 * the data area, and completing them must never leave the ring.  Built for
 * libFuzzer with -DFUZZ=ON (clang); otherwise a standalone driver replays
 * files or runs seeded semi-structured inputs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ring_barrier.h"

#define RING_SIZE 4096u
#define PAGE	  4096u
#define MAP_SIZE  (PAGE * 4) /* mailbox+ring page, pad page, 2 data pages */

static unsigned long n_delivered, n_tmr;

static void tmr_cb(struct tcmu_device *dev, uint8_t type, uint32_t cnt, const uint16_t *ids)
{
	volatile uint16_t sum = 0;
	uint32_t i;

	for (i = 0; i < cnt; i++) /* ASan checks the ids really are there */
		sum += ids[i];
	n_tmr++;
	(void)sum;
}

static struct tcmulib_handler fuzz_handler = { .subtype = "fuzz", .tmr_notify = tmr_cb };

static void check_cmd(struct tcmu_device *dev, struct tcmulib_cmd *c)
{
	uint8_t *lo = (uint8_t *)dev->map + dev->data_off;
	uint8_t *hi = (uint8_t *)dev->map + dev->map_size;
	size_t i;

	if (c->cdb_len < 1 || c->cdb_len > TCMU_CDB_MAX)
		abort();
	for (i = 0; i < c->iov_cnt; i++) {
		uint8_t *b = c->iovec[i].iov_base;

		if (b < lo || b > hi || c->iovec[i].iov_len > (size_t)(hi - b))
			abort();
		memset(b, 0xa5, c->iovec[i].iov_len);
	}
}

static int run_one(const uint8_t *data, size_t size)
{
	struct tcmulib_cmd *cmds[512];
	struct tcmu_device *dev;
	struct tcmu_mailbox *mb;
	uint32_t head;
	int round, n, i;

	if (size < 6)
		return 0;
	dev = calloc(1, sizeof(*dev));
	dev->map = aligned_alloc(PAGE, MAP_SIZE);
	memset(dev->map, 0, MAP_SIZE);
	dev->map_size = MAP_SIZE;
	dev->fd = -1;
	dev->hm_cmd_size = -1;
	dev->handler = &fuzz_handler;
	pthread_mutex_init(&dev->lock, NULL);
	mb = dev->map;
	mb->version = TCMU_MAILBOX_VERSION;
	mb->flags = data[4] & 0xf;
	mb->cmdr_off = 128;
	mb->cmdr_size = RING_SIZE;
	head = (((uint32_t)data[0] | data[1] << 8) % RING_SIZE) & ~7u;
	mb->cmd_tail = (((uint32_t)data[2] | data[3] << 8) % RING_SIZE) & ~7u;
	if (data[5] & 1)
		mb->cmd_tail = 0;
	data += 6;
	size -= 6;
	memcpy((uint8_t *)dev->map + 128, data, size < RING_SIZE ? size : RING_SIZE);
	if (tcmu_ring_init(dev))
		abort();
	tcmu_mb_store_head(mb, head);

	for (round = 0; round < 2; round++) {
		n = 0;
		while (n < 512 && (cmds[n] = tcmulib_get_next_command(dev, 16))) {
			check_cmd(dev, cmds[n]);
			n_delivered++;
			n++;
		}
		/* Complete in ring order, then reversed, with read_len sometimes. */
		for (i = 0; i < n; i++) {
			struct tcmulib_cmd *c = cmds[round ? n - 1 - i : i];

			if (c->cdb[0] & 1)
				tcmulib_cmd_set_read_len(c, c->data_len / 2);
			tcmulib_command_complete(dev, c,
						 (c->cdb[0] & 2) ? TCMU_STS_RD_ERR : TCMU_STS_OK);
		}
		if (tcmu_mb_load_tail(mb) >= RING_SIZE || tcmu_mb_load_tail(mb) % 8)
			abort();
		if (tcmulib_dev_inflight(dev))
			abort();
	}
	tcmu_slot_pool_free(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev->map);
	free(dev);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;

	if (!once) {
		tcmu_set_log_level(-1);
		once = 1;
	}
	return run_one(data, size);
}

#ifndef TCMU_LIBFUZZER
static uint32_t rng = 12345;

static uint32_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* A ring of mostly plausible entries with occasional corruption. */
static size_t gen(uint8_t *buf)
{
	uint32_t pos = 0, head;

	memset(buf, 0, 6 + RING_SIZE);
	buf[4] = (uint8_t)rnd();
	buf[5] = 1;
	while (pos + 8 <= RING_SIZE && rnd() % 16) {
		uint8_t *e = buf + 6 + pos;
		uint32_t kind = rnd() % 10, len, iovs = rnd() % 5;

		len = 112 + ((iovs > 4 ? iovs - 4 : 0) * 16) + 16;
		len = (len + 7) & ~7u;
		if (kind == 0)
			len = 8 * (1 + rnd() % 8);
		if (pos + len > RING_SIZE)
			len = RING_SIZE - pos;
		if (kind == 1) /* PAD */
			put32(e, len);
		else if (kind == 2) { /* TMR */
			put32(e, len | TCMU_OP_TMR);
			if (len >= 16)
				put32(e + 12, rnd() % 64);
		} else {
			uint64_t cdb = 128 + pos + 48 + iovs * 16;
			uint32_t i;

			put32(e, len | (kind == 3 ? rnd() % 8 : TCMU_OP_CMD));
			e[4] = (uint8_t)rnd();
			e[5] = (uint8_t)rnd();
			if (len >= 48) {
				put32(e + 8, rnd() % 8 ? iovs : rnd());
				put32(e + 12, rnd() % 8 ? 0 : rnd() % 4);
				put64(e + 24, cdb);
				if (!(rnd() % 8))
					put64(e + 24, rnd() * (uint64_t)rnd());
			}
			for (i = 0; i < iovs && 48 + (i + 1) * 16 <= len; i++) {
				uint64_t base = 2 * PAGE + rnd() % (2 * PAGE);
				uint64_t l = rnd() % 2048;

				if (!(rnd() % 10))
					base = rnd() * (uint64_t)rnd();
				put64(e + 48 + i * 16, base);
				put64(e + 56 + i * 16, l);
			}
			if (cdb - 128 < RING_SIZE && pos + len > cdb - 128)
				buf[6 + cdb - 128] = (uint8_t)rnd();
		}
		pos += len;
	}
	head = rnd() % 4 ? pos % RING_SIZE : rnd();
	buf[0] = (uint8_t)head;
	buf[1] = (uint8_t)(head >> 8);
	return 6 + RING_SIZE;
}

int main(int argc, char **argv)
{
	static uint8_t buf[6 + RING_SIZE];
	int i, iters = 3000;

	tcmu_set_log_level(-1);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "rb");
			size_t n;

			if (!f) {
				perror(argv[i]);
				return 1;
			}
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			run_one(buf, n);
		}
		printf("replayed %d input(s)\n", argc - 1);
		return 0;
	}
	printf("check: %d generated rings through the parser and completion path\n", iters);
	for (i = 0; i < iters; i++)
		run_one(buf, gen(buf));
	printf("%lu commands delivered, %lu TMRs notified\n", n_delivered, n_tmr);
	/* A generator that never gets past the checks tests nothing. */
	if (n_delivered < (unsigned long)iters || !n_tmr) {
		printf("FAIL: the generated rings did not reach the delivery path\n");
		return 1;
	}
	printf("PASS\n");
	return 0;
}
#endif
