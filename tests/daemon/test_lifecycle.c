// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The command lifecycle against handlers that break the completion
 * contract (tests/handlers/lifecycle, handler_lifecycle.so):
 *  - an ASYNC callout or handle_cmd, or a PARALLEL callout, that completes
 *    a command and then also returns an error: one completion (the
 *    handler's), a "handler bug" line, and the ring stays sound for the
 *    commands after it;
 *  - the same from the flush the daemon adds after a FUA write;
 *  - a sub-I/O request (WRITE SAME emulated through write callouts) that
 *    the handler still holds after the device stopped: the requester gets
 *    BUSY, and the handler's late completion is logged and harmless (run
 *    under ASan, this is where a request on the requester's stack showed).
 * Usage: test_daemon_lifecycle <handler_lifecycle.so folder>
 */
#include <errno.h>

#include "dsim.h"

#define BS	 512
#define DEV_SIZE (8u << 20)
#define SAM_BUSY 0x08

static int cmd(struct sim_dev *d, const uint8_t *cdb, size_t cdb_len, const void *out,
	       size_t out_len, size_t in_len)
{
	struct sim_result r;
	int ret = run(d, cdb, cdb_len, out, out_len, in_len, &r);

	return ret ? ret : r.scsi_status;
}

/* The ring is sound: no protocol violation, and plain reads still work. */
static void check_ring(struct sim_dev *d, const char *what)
{
	uint8_t rd[10] = { READ_10, 0, 0, 0, 0, 8, 0, 0, 1, 0 };
	int i, good = 0;

	CHECK(!sim_warnings(d) && !sim_broken(d), "%s: ring: %s", what, sim_last_error(d));
	for (i = 0; i < 64; i++)
		good += cmd(d, rd, 10, NULL, 0, BS) == 0;
	CHECK(good == 64, "%s: %d of 64 reads after it GOOD", what, good);
	CHECK(!sim_warnings(d) && !sim_broken(d), "%s: ring: %s", what, sim_last_error(d));
}

static void t_complete_then_error(const char *cfg)
{
	static uint8_t buf[8 * BS];
	uint8_t rd[10] = { READ_10, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
	uint8_t wr[10] = { WRITE_10, 0, 0, 0, 0, 0, 0, 0, 8, 0 };
	uint8_t sync[10] = { SYNCHRONIZE_CACHE };
	int bugs = log_count("handler bug: an I/O callout", 0), st;
	struct sim_dev *d;

	STEP("%s: read/write/flush complete, then return an error", cfg);
	ENSURE(!dsim_add_dev("twice", cfg, DEV_SIZE, 1 << 20, &d), "add");
	clear_ua(d);
	st = cmd(d, rd, 10, NULL, 0, sizeof(buf));
	CHECK(st == 0, "READ: status 0x%x, want GOOD (the handler's completion)", st);
	st = cmd(d, wr, 10, buf, sizeof(buf), 0);
	CHECK(st == 0, "WRITE: status 0x%x", st);
	st = cmd(d, sync, 10, NULL, 0, 0);
	CHECK(st == 0, "SYNCHRONIZE CACHE: status 0x%x", st);
	CHECK(log_count("handler bug: an I/O callout", bugs + 3) == bugs + 3,
	      "one 'handler bug' line per command");
	check_ring(d, "callout");
	CHECK(!dsim_remove_dev(d), "remove");
}

static void t_fua_flush_then_error(void)
{
	static uint8_t buf[8 * BS];
	uint8_t wr[10] = { WRITE_10, 0x08 /* FUA */, 0, 0, 0, 0, 0, 0, 8, 0 };
	int bugs = log_count("handler bug: flush (FUA)", 0), st;
	struct sim_dev *d;

	STEP("the flush after a FUA write completes, then returns an error");
	ENSURE(!dsim_add_dev("fua", "lcbug/fuatwice", DEV_SIZE, 1 << 20, &d), "add");
	clear_ua(d);
	st = cmd(d, wr, 10, buf, sizeof(buf), 0);
	CHECK(st == 0, "WRITE FUA: status 0x%x", st);
	CHECK(log_count("handler bug: flush (FUA)", bugs + 1) == bugs + 1,
	      "a 'handler bug' line for the flush");
	check_ring(d, "FUA flush");
	CHECK(!dsim_remove_dev(d), "remove");
}

static void t_handle_cmd_then_error(void)
{
	uint8_t tur[6] = { TEST_UNIT_READY };
	int bugs = log_count("handler bug: handle_cmd", 0), st, i;
	struct sim_dev *d;

	STEP("ASYNC handle_cmd completes, then returns an error");
	ENSURE(!dsim_add_dev("hcmd", "lcbugh/twice", DEV_SIZE, 1 << 20, &d), "add");
	for (i = 0; i < 8; i++) {
		st = cmd(d, tur, 6, NULL, 0, 0);
		CHECK(st == 0, "TEST UNIT READY %d: status 0x%x", i, st);
	}
	CHECK(log_count("handler bug: handle_cmd", bugs + 8) == bugs + 8,
	      "one 'handler bug' line per TEST UNIT READY");
	check_ring(d, "handle_cmd");
	CHECK(!dsim_remove_dev(d), "remove");
}

static void t_subio_held_past_stop(void)
{
	static uint8_t blk[BS];
	/* WRITE SAME(10), 64 blocks at LBA 0: the engine writes them itself. */
	uint8_t ws[10] = { WRITE_SAME, 0, 0, 0, 0, 0, 0, 0, 64, 0 };
	struct sim_cmd c = { .cdb = ws, .cdb_len = 10, .data_out = blk, .data_out_len = BS };
	struct sim_nl_reply rep;
	struct sim_result r;
	struct sim_dev *d;
	uint16_t id;
	int i, n, ret;

	STEP("a sub-I/O request held by the handler past the stop deadline");
	tcmur_set_stop_wait_ms(300);
	ENSURE(!dsim_add_dev("hold", "lcbug/hold/6000", DEV_SIZE, 1 << 20, &d), "add");
	clear_ua(d);
	ENSURE(!sim_submit(d, &c, &id), "submit WRITE SAME");
	CHECK(log_has("lifecycle: holding a write"), "the handler holds the sub-I/O write");
	ret = dsim_remove(d, 15000, &rep);
	CHECK(!ret && !rep.status, "remove while the handler holds it: %d/%d", ret, rep.status);
	ret = sim_wait(d, id, 5000, &r);
	CHECK(!ret && r.scsi_status == SAM_BUSY, "WRITE SAME: %d, status 0x%x, want BUSY", ret,
	      ret ? 0 : r.scsi_status);
	CHECK(!sim_warnings(d) && !sim_broken(d), "ring: %s", sim_last_error(d));
	sim_dev_destroy(d);
	CHECK(log_has("sub-I/O request(s) never arrived"), "the ring thread waited for it");
	/* The late completion comes 6 s after the write; allow 15. */
	for (i = 0, n = 0; i < 8 && !n; i++)
		n = log_count("completed a sub-I/O request after its requester gave up", 1);
	CHECK(n == 1, "the late completion is logged once (%d)", n);
	tcmur_set_stop_wait_ms(3000);
}

int main(int argc, char **argv)
{
	struct tcmulib_handler *lh;
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_daemon_lifecycle <handler_lifecycle.so folder>");
	ret = dsim_setup("lifecycle");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	REQUIRE(ret == 1 && tcmur_handler_find("lcbug") && tcmur_handler_find("lcbugh") &&
			tcmur_handler_find("lcbugp"),
		"load handler_lifecycle.so: %d", ret);
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	t_complete_then_error("lcbug/twice");
	t_complete_then_error("lcbugp/twice");
	t_fua_flush_then_error();
	t_handle_cmd_then_error();
	t_subio_held_past_stop();

	tcmulib_close(ctx);
	ctx = NULL;
	return dsim_finish();
}
