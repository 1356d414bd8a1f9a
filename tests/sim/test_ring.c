/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * libtcmu ring on the simulated kernel: data round trip, wrap with PAD,
 * batching (one kick per batch), out-of-order completion, in-order
 * fallback without CAP_OOOC, TMR delivery, READ_LEN and vendor opcodes.
 */
#include "test_util.h"
#include "scsi_defs.h"

#define RAM_SIZE (1 << 20)
static uint8_t ram[RAM_SIZE];

/* A 512-byte-block RAM disk for READ(10)/WRITE(10); sets read_len if asked. */
static int serve(struct tcmulib_cmd *c)
{
	uint32_t lba =
		((uint32_t)c->cdb[2] << 24) | (c->cdb[3] << 16) | (c->cdb[4] << 8) | c->cdb[5];
	size_t len = (size_t)((c->cdb[7] << 8) | c->cdb[8]) * 512;
	size_t off = (size_t)lba * 512;

	if (c->cdb[0] != 0x28 && c->cdb[0] != 0x2a)
		return TCMU_STS_INVALID_CMD;
	if (off + len > RAM_SIZE)
		return TCMU_STS_RANGE;
	if (c->cdb[0] == 0x28)
		tcmu_memcpy_into_iovec(c->iovec, c->iov_cnt, ram + off, len);
	else
		tcmu_memcpy_from_iovec(ram + off, len, c->iovec, c->iov_cnt);
	return TCMU_STS_OK;
}

static void teardown(struct sim_kernel *k, struct tcmulib_context *ctx)
{
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
}

static int t_roundtrip_and_wrap(void)
{
	struct sim_dev_opts o = { .cfgstring = "simtest/x",
				  .cmdr_size = 1024,
				  .data_size = 256 << 10 };
	uint8_t buf[16 * 512], *pattern;
	struct tcmulib_cmd *cmds[16];
	struct tcmulib_context *ctx;
	struct sim_result r;
	struct sim_kernel *k;
	struct sim_dev *d;
	uint32_t old_head, wraps = 0;
	int i, j, n;

	STEP("data round trip through a 1 KiB ring, PAD at every wrap");
	if (test_setup(&k, &ctx, &d, &o))
		return -1;
	pattern = buf;
	for (i = 0; i < 300; i++) {
		uint16_t ids[3];
		uint16_t blocks = (uint16_t)(1 + i % 16);
		int cnt = 1 + i % 3;

		old_head = sim_dev_mailbox(d)->cmd_head;
		for (j = 0; j < cnt; j++) {
			memset(pattern, (i * 7 + j) & 0xff, sizeof(buf));
			REQUIRE(sim_submit_rw10(d, true, (uint32_t)(j * 16), blocks, 512, pattern,
						&ids[j]) == 0,
				"submit write %d", i);
		}
		if (sim_dev_mailbox(d)->cmd_head < old_head)
			wraps++;
		n = test_drain(test_dev, cmds, 16);
		REQUIRE(n == cnt, "drained %d of %d", n, cnt);
		for (j = 0; j < n; j++) {
			CHECK(cmds[j]->data_len == blocks * 512u, "data_len %u", cmds[j]->data_len);
			CHECK(cmds[j]->cdb_len == 10, "cdb_len %u", cmds[j]->cdb_len);
			tcmulib_command_complete(test_dev, cmds[j], serve(cmds[j]));
		}
		tcmulib_processing_complete(test_dev);
		REQUIRE(sim_reap(d, false) == cnt, "reaped");
		/* Read back the first write. */
		REQUIRE(sim_submit_rw10(d, false, 0, blocks, 512, NULL, &ids[0]) == 0, "read");
		n = test_drain(test_dev, cmds, 16);
		REQUIRE(n == 1, "one read");
		tcmulib_command_complete(test_dev, cmds[0], serve(cmds[0]));
		tcmulib_processing_complete(test_dev);
		REQUIRE(sim_wait(d, ids[0], 1000, &r) == 0, "read result");
		memset(pattern, (i * 7) & 0xff, sizeof(buf));
		CHECK(r.scsi_status == 0 && r.xfer_len == blocks * 512u &&
			      !memcmp(r.data_in, pattern, r.xfer_len),
		      "read back i=%d", i);
	}
	CHECK(wraps >= 10, "ring wrapped %u times", wraps);
	CHECK(sim_warnings(d) == 0 && !sim_broken(d), "sim: %s", sim_last_error(d));
	CHECK(tcmulib_dev_inflight(test_dev) == 0, "inflight");
	teardown(k, ctx);
	return 0;
}

static int t_batching(void)
{
	struct tcmulib_cmd *cmds[16];
	struct tcmulib_context *ctx;
	struct sim_kernel *k;
	struct sim_dev *d;
	uint16_t id;
	unsigned int kicks;
	int i, n;

	STEP("one kick per batch, none without completions");
	if (test_setup(&k, &ctx, &d, NULL))
		return -1;
	for (i = 0; i < 8; i++)
		REQUIRE(sim_submit_rw10(d, false, 0, 1, 512, NULL, &id) == 0, "submit");
	kicks = sim_kicks(d);
	tcmulib_processing_complete(test_dev);
	sim_reap(d, false);
	CHECK(sim_kicks(d) == kicks, "kick without completions");
	n = test_drain(test_dev, cmds, 16);
	REQUIRE(n == 8, "drained %d", n);
	for (i = 0; i < n; i++)
		tcmulib_command_complete(test_dev, cmds[i], TCMU_STS_OK);
	tcmulib_processing_complete(test_dev);
	tcmulib_processing_complete(test_dev);
	CHECK(sim_reap(d, false) == 8, "8 reaped");
	CHECK(sim_kicks(d) == kicks + 1, "kicks %u, want %u", sim_kicks(d), kicks + 1);
	teardown(k, ctx);
	return 0;
}

static int t_order(bool oooc)
{
	struct sim_dev_opts o = { .cfgstring = "simtest/x",
				  .caps_set = true,
				  .caps = TCMU_MAILBOX_FLAG_CAP_READ_LEN };
	struct tcmulib_cmd *cmds[8];
	struct tcmulib_context *ctx;
	struct sim_result r;
	struct sim_kernel *k;
	struct sim_dev *d;
	uint16_t ids[4];
	int i, n;

	STEP(oooc ? "out-of-order completion with CAP_OOOC"
		  : "completions held in ring order without CAP_OOOC");
	if (oooc)
		o.caps |= TCMU_MAILBOX_FLAG_CAP_OOOC;
	if (test_setup(&k, &ctx, &d, &o))
		return -1;
	for (i = 0; i < 4; i++)
		REQUIRE(sim_submit_rw10(d, false, (uint32_t)i, 1, 512, NULL, &ids[i]) == 0, "sub");
	n = test_drain(test_dev, cmds, 8);
	REQUIRE(n == 4, "drained");
	for (i = 3; i >= 1; i--) {
		memset(cmds[i]->iovec[0].iov_base, i, 512);
		tcmulib_command_complete(test_dev, cmds[i], TCMU_STS_OK);
		tcmulib_processing_complete(test_dev);
		n = sim_reap(d, true);
		CHECK(n == (oooc ? 1 : 0), "step %d reaped %d", i, n);
		CHECK(sim_result(d, ids[i], &r) == (oooc ? 0 : -EINPROGRESS), "cmd %d", i);
	}
	memset(cmds[0]->iovec[0].iov_base, 0, 512);
	tcmulib_command_complete(test_dev, cmds[0], TCMU_STS_OK);
	tcmulib_processing_complete(test_dev);
	n = sim_reap(d, false);
	CHECK(n == (oooc ? 1 : 4), "final reap %d", n);
	for (i = 0; i < 4; i++) {
		CHECK(sim_result(d, ids[i], &r) == 0 && r.scsi_status == 0 && r.data_in &&
			      r.data_in[0] == i && r.data_in[511] == i,
		      "cmd %d data", i);
	}
	CHECK(sim_warnings(d) == 0 && !sim_broken(d), "sim: %s", sim_last_error(d));
	CHECK(sim_dev_mailbox(d)->cmd_tail == sim_dev_mailbox(d)->cmd_head, "ring empty");
	teardown(k, ctx);
	return 0;
}

static uint8_t tmr_seen_type;
static uint32_t tmr_seen_cnt;
static uint16_t tmr_seen_ids[4];

static void tmr_notify(struct tcmu_device *dev, uint8_t type, uint32_t cnt, const uint16_t *ids)
{
	tmr_seen_type = type;
	tmr_seen_cnt = cnt;
	memcpy(tmr_seen_ids, ids, (cnt < 4 ? cnt : 4) * sizeof(*ids));
}

static int t_tmr(void)
{
	struct tcmulib_cmd *cmds[8];
	struct tcmulib_context *ctx;
	struct sim_kernel *k;
	struct sim_dev *d;
	uint16_t ids[2];
	int n;

	STEP("TMR entries reach tmr_notify and are skipped by completions");
	test_handler.tmr_notify = tmr_notify;
	if (test_setup(&k, &ctx, &d, NULL))
		return -1;
	REQUIRE(sim_submit_rw10(d, false, 0, 1, 512, NULL, &ids[0]) == 0, "sub");
	REQUIRE(sim_submit_rw10(d, false, 1, 1, 512, NULL, &ids[1]) == 0, "sub");
	REQUIRE(sim_submit_tmr(d, TCMU_TMR_ABORT_TASK, &ids[0], 1) == 0, "tmr");
	n = test_drain(test_dev, cmds, 8);
	CHECK(n == 2, "2 commands, got %d", n);
	CHECK(tmr_seen_type == TCMU_TMR_ABORT_TASK && tmr_seen_cnt == 1 &&
		      tmr_seen_ids[0] == ids[0],
	      "tmr type %u cnt %u", tmr_seen_type, tmr_seen_cnt);
	tcmulib_command_complete(test_dev, cmds[1], TCMU_STS_OK);
	tcmulib_command_complete(test_dev, cmds[0], TCMU_STS_OK);
	tcmulib_processing_complete(test_dev);
	CHECK(sim_reap(d, false) == 2, "both reaped");
	CHECK(sim_dev_mailbox(d)->cmd_tail == sim_dev_mailbox(d)->cmd_head,
	      "tail %u passed the TMR to head %u", sim_dev_mailbox(d)->cmd_tail,
	      sim_dev_mailbox(d)->cmd_head);
	CHECK(sim_warnings(d) == 0 && !sim_broken(d), "sim: %s", sim_last_error(d));
	test_handler.tmr_notify = NULL;
	teardown(k, ctx);
	return 0;
}

static int t_read_len(bool cap)
{
	struct sim_dev_opts o = { .cfgstring = "simtest/x",
				  .caps_set = true,
				  .caps = TCMU_MAILBOX_FLAG_CAP_OOOC };
	struct tcmulib_cmd *cmds[4];
	struct tcmulib_context *ctx;
	struct sim_result r;
	struct sim_kernel *k;
	struct sim_dev *d;
	uint16_t id, id2;

	STEP(cap ? "READ_LEN reports a short read (and with CHECK CONDITION)"
		 : "no READ_LEN flag without CAP_READ_LEN");
	if (cap)
		o.caps |= TCMU_MAILBOX_FLAG_CAP_READ_LEN;
	if (test_setup(&k, &ctx, &d, &o))
		return -1;
	REQUIRE(sim_submit_rw10(d, false, 0, 8, 512, NULL, &id) == 0, "sub");
	REQUIRE(sim_submit_rw10(d, false, 0, 8, 512, NULL, &id2) == 0, "sub");
	REQUIRE(test_drain(test_dev, cmds, 4) == 2, "drain");
	tcmu_iovec_zero(cmds[0]->iovec, cmds[0]->iov_cnt);
	tcmulib_cmd_set_read_len(cmds[0], 1000);
	tcmulib_command_complete(test_dev, cmds[0], TCMU_STS_OK);
	tcmulib_cmd_set_read_len(cmds[1], 512);
	tcmulib_command_complete(test_dev, cmds[1], TCMU_STS_RD_ERR);
	tcmulib_processing_complete(test_dev);
	REQUIRE(sim_wait(d, id, 1000, &r) == 0, "result");
	if (cap)
		CHECK(r.read_len_valid && r.xfer_len == 1000 && r.residual == 3096,
		      "valid %d xfer %u residual %u", r.read_len_valid, r.xfer_len, r.residual);
	else
		CHECK(!r.read_len_valid && r.xfer_len == 4096 && r.residual == 0,
		      "valid %d xfer %u", r.read_len_valid, r.xfer_len);
	REQUIRE(sim_wait(d, id2, 1000, &r) == 0, "result 2");
	CHECK(r.scsi_status == SAM_STAT_CHECK_CONDITION && sense_key(r.sense) == MEDIUM_ERROR &&
		      sense_asc(r.sense) == 0x1100,
	      "status %u key %d asc %04x", r.scsi_status, sense_key(r.sense), sense_asc(r.sense));
	CHECK(r.xfer_len == (cap ? 512u : 0u), "CHECK CONDITION xfer %u", r.xfer_len);
	teardown(k, ctx);
	return 0;
}

static int t_vendor_opcodes(void)
{
	static const uint8_t ops[] = { 0xc0, 0xe5, 0x7e };
	struct tcmulib_cmd *cmds[4];
	struct tcmulib_context *ctx;
	struct sim_result r;
	struct sim_kernel *k;
	struct sim_dev *d;
	unsigned int i;
	uint16_t id;

	STEP("vendor and unknown opcodes are delivered once and get INVALID OPCODE");
	if (test_setup(&k, &ctx, &d, NULL))
		return -1;
	for (i = 0; i < sizeof(ops); i++) {
		uint8_t cdb[16] = { ops[i], 1, 2, 3, 4, 5, 6, 7, 8, 9 };
		struct sim_cmd c = { .cdb = cdb };

		REQUIRE(sim_submit(d, &c, &id) == 0, "sub");
		REQUIRE(test_drain(test_dev, cmds, 4) == 1, "delivered once");
		CHECK(cmds[0]->cdb[0] == ops[i] && cmds[0]->cdb_len >= 10 && cmds[0]->cdb_len <= 16,
		      "op %02x cdb_len %u", ops[i], cmds[0]->cdb_len);
		tcmulib_command_complete(test_dev, cmds[0], TCMU_STS_INVALID_CMD);
		tcmulib_processing_complete(test_dev);
		REQUIRE(sim_wait(d, id, 1000, &r) == 0, "result");
		CHECK(r.scsi_status == SAM_STAT_CHECK_CONDITION &&
			      sense_key(r.sense) == ILLEGAL_REQUEST && sense_asc(r.sense) == 0x2000,
		      "op %02x: status %u sense %d/%04x", ops[i], r.scsi_status, sense_key(r.sense),
		      sense_asc(r.sense));
		CHECK(sim_reap(d, true) == 0, "exactly one completion");
	}
	teardown(k, ctx);
	return 0;
}

int main(void)
{
	t_roundtrip_and_wrap();
	t_batching();
	t_order(true);
	t_order(false);
	t_tmr();
	t_read_len(true);
	t_read_len(false);
	t_vendor_opcodes();
	return check_exit();
}
