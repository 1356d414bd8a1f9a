/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Every bounds check of the ring parser: each malformed entry completes
 * once with the right CHECK CONDITION and the device keeps serving; a
 * corrupt entry length or head stops that device without a crash.
 */
#include <stddef.h>

#include "test_util.h"
#include "scsi_defs.h"

struct mut {
	const char *what;
	int field; /* which mutation */
	uint64_t val;
	int key; /* expected sense key */
	int asc;
};

enum {
	M_IOV_CNT,
	M_BIDI_CNT,
	M_DIF_CNT,
	M_CDB_OFF,
	M_CDB_OFF_REL,
	M_IOV_BASE,
	M_IOV_LEN,
	M_IOV_BASE_REL,
	M_VARLEN
};

static void mutate(struct sim_dev *d, struct tcmu_cmd_entry *e, uint32_t len, void *arg)
{
	const struct mut *m = arg;
	struct iovec *iov =
		(struct iovec *)(void *)((uint8_t *)e + offsetof(struct tcmu_cmd_entry, req.iov));
	uint64_t map_size = sim_dev_map_size(d);

	switch (m->field) {
	case M_IOV_CNT:
		e->req.iov_cnt = (uint32_t)m->val;
		break;
	case M_BIDI_CNT:
		e->req.iov_bidi_cnt = (uint32_t)m->val;
		break;
	case M_DIF_CNT:
		e->req.iov_dif_cnt = (uint32_t)m->val;
		break;
	case M_CDB_OFF:
		e->req.cdb_off = m->val;
		break;
	case M_CDB_OFF_REL: /* relative to the end of the ring */
		e->req.cdb_off = 128 + sim_dev_mailbox(d)->cmdr_size - m->val;
		break;
	case M_IOV_BASE:
		iov[0].iov_base = (void *)(uintptr_t)m->val;
		break;
	case M_IOV_LEN:
		iov[0].iov_len = (size_t)m->val;
		break;
	case M_IOV_BASE_REL: /* relative to the end of the map */
		iov[0].iov_base = (void *)(uintptr_t)(map_size - m->val);
		break;
	case M_VARLEN: {
		uint8_t *cdb = (uint8_t *)sim_dev_mailbox(d) + e->req.cdb_off;

		cdb[0] = 0x7f;
		cdb[7] = (uint8_t)m->val;
		break;
	}
	}
}

static const struct mut muts[] = {
	{ "iov_cnt 0xffffffff", M_IOV_CNT, 0xffffffffu, HARDWARE_ERROR, 0x4400 },
	{ "iov_cnt one past the entry", M_IOV_CNT, 5, HARDWARE_ERROR, 0x4400 },
	{ "iov_bidi_cnt huge", M_BIDI_CNT, 0x10000000u, HARDWARE_ERROR, 0x4400 },
	{ "iov_dif_cnt huge", M_DIF_CNT, 0x7fffffffu, HARDWARE_ERROR, 0x4400 },
	{ "cdb_off 0 (the mailbox)", M_CDB_OFF, 0, HARDWARE_ERROR, 0x4400 },
	{ "cdb_off past the map", M_CDB_OFF, 1ull << 40, HARDWARE_ERROR, 0x4400 },
	{ "cdb_off 2 bytes before the ring end", M_CDB_OFF_REL, 2, ILLEGAL_REQUEST, 0x2400 },
	{ "iov_base in the ring", M_IOV_BASE, 256, HARDWARE_ERROR, 0x4400 },
	{ "iov_base past the map", M_IOV_BASE, 1ull << 40, HARDWARE_ERROR, 0x4400 },
	{ "iov_len wraps around", M_IOV_LEN, ~0ull - 100, HARDWARE_ERROR, 0x4400 },
	{ "iov runs off the map end", M_IOV_BASE_REL, 100, HARDWARE_ERROR, 0x4400 },
	{ "variable-length CDB longer than its entry", M_VARLEN, 200, ILLEGAL_REQUEST, 0x2400 },
};

static int served_ok(struct sim_dev *d)
{
	struct tcmulib_cmd *cmds[4];
	struct sim_result r;
	uint16_t id;

	REQUIRE(sim_submit_rw10(d, false, 0, 2, 512, NULL, &id) == 0, "submit");
	REQUIRE(test_drain(test_dev, cmds, 4) == 1, "good command delivered");
	CHECK(cmds[0]->iov_cnt >= 1 && cmds[0]->data_len == 1024, "iovecs");
	tcmulib_command_complete(test_dev, cmds[0], TCMU_STS_OK);
	tcmulib_processing_complete(test_dev);
	REQUIRE(sim_wait(d, id, 1000, &r) == 0 && r.scsi_status == 0, "good command served");
	return 0;
}

static int t_entry_fields(void)
{
	struct tcmulib_cmd *cmds[4];
	struct tcmulib_context *ctx;
	struct sim_result r;
	struct sim_kernel *k;
	struct sim_dev *d;
	unsigned int i;
	uint16_t id;
	int n;

	if (test_setup(&k, &ctx, &d, NULL))
		return -1;
	for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		const struct mut *m = &muts[i];
		uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
		struct sim_cmd c = { .cdb = cdb, .data_in_len = 512 };

		printf("check: malformed entry: %s\n", m->what);
		REQUIRE(sim_submit_mutated(d, &c, mutate, (void *)m, &id) == 0, "submit");
		n = test_drain(test_dev, cmds, 4);
		CHECK(n == 0, "%s: delivered", m->what);
		tcmulib_processing_complete(test_dev);
		REQUIRE(sim_wait(d, id, 1000, &r) == 0, "%s: completed", m->what);
		CHECK(r.scsi_status == SAM_STAT_CHECK_CONDITION && sense_key(r.sense) == m->key &&
			      sense_asc(r.sense) == m->asc,
		      "%s: status %u sense %d/%04x", m->what, r.scsi_status, sense_key(r.sense),
		      sense_asc(r.sense));
		CHECK(sim_reap(d, true) == 0, "%s: one completion only", m->what);
		CHECK(!sim_broken(d) && sim_warnings(d) == 0, "%s: %s", m->what, sim_last_error(d));
		if (served_ok(d))
			break;
	}
	CHECK(tcmulib_dev_inflight(test_dev) == 0, "inflight");
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return 0;
}

static int t_short_and_unknown(void)
{
	struct tcmulib_cmd *cmds[4];
	struct tcmulib_context *ctx;
	struct tcmu_cmd_entry_hdr h;
	struct sim_result r;
	struct sim_kernel *k;
	struct sim_dev *d;
	uint8_t raw[128];
	int n;

	if (test_setup(&k, &ctx, &d, NULL))
		return -1;
	STEP("malformed entry: CMD shorter than a response");
	memset(raw, 0, sizeof(raw));
	h.len_op = 64 | TCMU_OP_CMD;
	h.cmd_id = 7;
	h.kflags = h.uflags = 0;
	memcpy(raw, &h, sizeof(h));
	REQUIRE(sim_submit_raw(d, raw, 64) == 0, "raw");
	n = test_drain(test_dev, cmds, 4);
	CHECK(n == 0, "delivered");
	tcmulib_processing_complete(test_dev);
	REQUIRE(sim_wait(d, 7, 1000, &r) == 0, "completed");
	CHECK(r.scsi_status == SAM_STAT_CHECK_CONDITION && sense_key(r.sense) == HARDWARE_ERROR,
	      "status %u key %d", r.scsi_status, sense_key(r.sense));
	if (served_ok(d))
		goto out;

	STEP("unknown entry op: completed with UNKNOWN_OP");
	h.len_op = 128 | 5;
	h.cmd_id = 9;
	memset(raw, 0, sizeof(raw));
	memcpy(raw, &h, sizeof(h));
	REQUIRE(sim_submit_raw(d, raw, 128) == 0, "raw");
	CHECK(test_drain(test_dev, cmds, 4) == 0, "delivered");
	tcmulib_processing_complete(test_dev);
	REQUIRE(sim_wait(d, 9, 1000, &r) == 0, "completed");
	CHECK(r.unknown_op && r.scsi_status == SAM_STAT_CHECK_CONDITION, "unknown op result");
	CHECK(!sim_broken(d), "broken: %s", sim_last_error(d));
	served_ok(d);
out:
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return 0;
}

/* Corrupt entry lengths: the device stops consuming, nothing crashes. */
static int t_corrupt_len(const char *what, uint32_t len_op, uint32_t adv, bool bad_head)
{
	struct tcmulib_cmd *cmds[4];
	struct tcmulib_context *ctx;
	struct tcmu_cmd_entry_hdr h = { .len_op = len_op, .cmd_id = 3 };
	struct sim_kernel *k;
	struct sim_dev *d;
	uint8_t raw[256] = { 0 };
	uint16_t id;

	printf("check: corrupt ring: %s\n", what);
	if (test_setup(&k, &ctx, &d, NULL))
		return -1;
	if (bad_head) {
		sim_dev_mailbox(d)->cmd_head = 13;
		sim_notify(d);
	} else {
		memcpy(raw, &h, sizeof(h));
		REQUIRE(sim_submit_raw(d, raw, adv) == 0, "raw");
	}
	CHECK(test_drain(test_dev, cmds, 4) == 0, "%s: delivered", what);
	CHECK(test_drain(test_dev, cmds, 4) == 0, "%s: delivered on retry", what);
	if (!bad_head) {
		sim_submit_rw10(d, false, 0, 1, 512, NULL, &id);
		CHECK(test_drain(test_dev, cmds, 4) == 0, "%s: consumed after corruption", what);
	}
	tcmulib_processing_complete(test_dev);
	CHECK(!sim_broken(d), "%s: kernel ring broken", what);
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return 0;
}

int main(void)
{
	t_entry_fields();
	t_short_and_unknown();
	t_corrupt_len("length 0", TCMU_OP_CMD, 128, false);
	t_corrupt_len("TMR of length 0", TCMU_OP_TMR, 128, false);
	t_corrupt_len("length beyond cmd_head", 4096 | TCMU_OP_CMD, 128, false);
	t_corrupt_len("length beyond the ring end", (1u << 20) | TCMU_OP_PAD, 128, false);
	t_corrupt_len("cmd_head not aligned", 0, 0, true);
	return check_exit();
}
