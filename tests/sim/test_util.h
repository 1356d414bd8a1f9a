/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Helpers shared by the libtcmu simulator tests (assertions: ../check.h): a
 * configurable test handler, and setup of a context with one device.
 */
#ifndef TCMU_SIM_TEST_UTIL_H
#define TCMU_SIM_TEST_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "sim.h"
#include "libtcmu.h"

/* The one device the tests drive, recorded by the handler's added(). */
static struct tcmu_device *test_dev;
static int test_added_ret;
static int test_removed_calls;
static int test_reconfig_ret;
static struct tcmulib_cfg_info test_last_cfg;

static int test_added(struct tcmu_device *dev)
{
	if (test_added_ret)
		return test_added_ret;
	test_dev = dev;
	return 0;
}

static void test_removed(struct tcmu_device *dev)
{
	test_removed_calls++;
	if (dev == test_dev)
		test_dev = NULL;
}

static int test_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	test_last_cfg = *cfg;
	return test_reconfig_ret;
}

static struct tcmulib_handler test_handler = {
	.name = "sim test handler",
	.subtype = "simtest",
	.cfg_desc = "anything",
	.added = test_added,
	.removed = test_removed,
	.reconfig = test_reconfig,
};

/* Take everything off the ring into cmds[] (up to max). */
static inline int test_drain(struct tcmu_device *dev, struct tcmulib_cmd **cmds, int max)
{
	struct tcmulib_cmd *c;
	int n = 0;

	tcmulib_processing_start(dev);
	while (n < max && (c = tcmulib_get_next_command(dev, 32)))
		cmds[n++] = c;
	return n;
}

/* Sense key / ASC / ASCQ of fixed-format sense. */
static inline int sense_key(const uint8_t *s)
{
	return s[2] & 0xf;
}

static inline int sense_asc(const uint8_t *s)
{
	return (s[12] << 8) | s[13];
}

/*
 * Kernel + context + one device announced with ADDED.  opts may be NULL.
 * Returns 0 with test_dev set.
 */
static inline int test_setup(struct sim_kernel **k, struct tcmulib_context **ctx,
			     struct sim_dev **d, const struct sim_dev_opts *opts)
{
	struct sim_dev_opts o = { .cfgstring = "simtest/x" };
	struct sim_nl_reply r;

	if (opts)
		o = *opts;
	tcmu_set_log_level(TCMU_LOG_WARN);
	REQUIRE(sim_kernel_create(k) == 0, "sim kernel");
	*ctx = tcmulib_initialize(&test_handler, 1);
	REQUIRE(*ctx, "tcmulib_initialize");
	REQUIRE(sim_dev_create(*k, &o, d) == 0, "sim_dev_create");
	REQUIRE(sim_nl_added(*d) == 0, "sim_nl_added");
	REQUIRE(tcmulib_master_fd_ready(*ctx) == 0, "master_fd_ready");
	REQUIRE(sim_nl_reply(*k, &r) == 0, "a reply");
	REQUIRE(r.cmd == TCMU_CMD_ADDED_DEVICE_DONE && r.status == 0 && r.dev_id == sim_dev_id(*d),
		"reply cmd %d status %d id %u", r.cmd, r.status, r.dev_id);
	REQUIRE(test_dev, "handler added() called");
	return 0;
}

#endif
