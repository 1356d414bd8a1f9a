/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Scaffolding shared by the daemon tests that run on the simulated kernel
 * (tcmu_sim): one simulated kernel (k) and libtcmu context (ctx) per test
 * program, a scratch folder (tmp) holding the daemon log (logpath), adding
 * and removing devices over the simulated netlink, running commands, and
 * searching the log.  Every helper is bounded in time.
 */
#ifndef TCMUR_DSIM_H
#define TCMUR_DSIM_H

#include <errno.h>

#include "daemon.h"
#include "dtest.h"
#include "scsi_defs.h"
#include "sim.h"

static struct sim_kernel *k;
static struct tcmulib_context *ctx;
static char tmp[256], logpath[300];

static inline double now_s(void)
{
	return (double)tcmur_now_ns() / 1e9;
}

/* The simulated kernel's next netlink reply, polled for up to ms. */
static inline int wait_reply(struct sim_nl_reply *r, int ms)
{
	for (; ms > 0; ms--) {
		if (!sim_nl_reply(k, r))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * Create a device (512-byte blocks) and announce it to the daemon (what
 * its main loop does when the netlink fd is readable): 0 with the reply in
 * *r, -1000 (not created), -1001 (event not handled), -1002 (no reply in
 * 5 s).
 */
static inline int dsim_add(const char *name, const char *cfg, uint64_t size, uint32_t data_size,
			   struct sim_dev **d, struct sim_nl_reply *r)
{
	struct sim_dev_opts o = { .name = name,
				  .cfgstring = cfg,
				  .dev_size = size,
				  .hw_block_size = 512,
				  .data_size = data_size };

	if (sim_dev_create(k, &o, d))
		return -1000;
	if (sim_nl_added(*d) || tcmulib_master_fd_ready(ctx))
		return -1001;
	return wait_reply(r, 5000) ? -1002 : 0;
}

/* dsim_add(), then the reply status. */
static inline int dsim_add_dev(const char *name, const char *cfg, uint64_t size, uint32_t data_size,
			       struct sim_dev **d)
{
	struct sim_nl_reply r;
	int ret = dsim_add(name, cfg, size, data_size, d, &r);

	return ret ? ret : r.status;
}

/* Announce d's removal: 0 with the reply in *r, -1001, or -1002 (none in ms). */
static inline int dsim_remove(struct sim_dev *d, int ms, struct sim_nl_reply *r)
{
	if (sim_nl_removed(d) || tcmulib_master_fd_ready(ctx))
		return -1001;
	return wait_reply(r, ms) ? -1002 : 0;
}

/* dsim_remove() with 15 s for the reply, then destroy d: the reply status. */
static inline int dsim_remove_dev(struct sim_dev *d)
{
	struct sim_nl_reply r;
	int ret = dsim_remove(d, 15000, &r);

	if (ret)
		return ret;
	sim_dev_destroy(d);
	return r.status;
}

/* One command, waited for up to 5 s: -errno, or 0 with *res filled. */
static inline int run(struct sim_dev *d, const uint8_t *cdb, size_t cdb_len, const void *out,
		      size_t out_len, size_t in_len, struct sim_result *res)
{
	struct sim_cmd c = { .cdb = cdb,
			     .cdb_len = cdb_len,
			     .data_out = out,
			     .data_out_len = out_len,
			     .data_in_len = in_len };
	uint16_t id;
	int ret = sim_submit(d, &c, &id);

	return ret ? ret : sim_wait(d, id, 5000, res);
}

/* TEST UNIT READY until one is GOOD (unit attentions after add/resize). */
static inline void clear_ua(struct sim_dev *d)
{
	uint8_t tur[6] = { TEST_UNIT_READY };
	struct sim_result r;
	int i;

	for (i = 0; i < 4; i++)
		if (!run(d, tur, 6, NULL, 0, 0, &r) && r.scsi_status == 0)
			return;
}

/* Occurrences of s in the file at path (0 if unreadable). */
static inline int file_count(const char *path, const char *s)
{
	char *t = dt_slurp(path), *p = t;
	int n = 0;

	while (p && (p = strstr(p, s))) {
		n++;
		p += strlen(s);
	}
	free(t);
	return n;
}

/* Occurrences of s in the daemon log, waiting up to 2 s for at_least of
 * them (the logger thread lags). */
static inline int log_count(const char *s, int at_least)
{
	int i, n = 0;

	for (i = 0; i < 200; i++) {
		n = file_count(logpath, s);
		if (n >= at_least)
			break;
		usleep(10000);
	}
	return n;
}

static inline bool log_has(const char *s)
{
	return log_count(s, 1) >= 1;
}

/*
 * The scratch folder (tmp, under $TMPDIR) with the daemon log in tmp/log,
 * a 3 s stop deadline, and the simulated kernel.  0, 77 (no simulated
 * kernel: skip) or 1 (failed).
 */
static inline int dsim_setup(const char *tag)
{
	const char *t = dt_tmpdir(tag);
	char dir[300];
	int ret;

	REQUIRE(t, "mkdtemp");
	snprintf(tmp, sizeof(tmp), "%s", t);
	snprintf(logpath, sizeof(logpath), "%s/log/tcmu-runner.log", tmp);
	snprintf(dir, sizeof(dir), "%s/log", tmp);
	REQUIRE(!tcmu_setup_log(dir), "log");
	tcmur_set_stop_wait_ms(3000);
	ret = sim_kernel_create(&k);
	if (ret) {
		printf("SKIP: no simulated kernel (%d)\n", ret);
		return 77;
	}
	return 0;
}

/* Undo dsim_setup() and the handler loading; the scratch folder is kept
 * when a check failed.  The exit status. */
static inline int dsim_finish(void)
{
	sim_kernel_destroy(k);
	tcmur_unload_handlers();
	tcmu_destroy_log();
	if (check_failures)
		printf("log kept: %s\n", logpath);
	else
		dt_rmrf(tmp);
	return check_exit();
}

#endif
