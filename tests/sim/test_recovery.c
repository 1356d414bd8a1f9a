/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Restart recovery: devices found at tcmulib_initialize() are blocked,
 * their ring reset (leftover commands get BUSY), handed to added(), then
 * unblocked; foreign devices are left alone; old kernels without the
 * action files still work.
 */
#include <stdio.h>

#include "test_util.h"
#include "scsi_defs.h"

static char log_at_added[1024];
static struct sim_kernel *k;

static int rec_added(struct tcmu_device *dev)
{
	snprintf(log_at_added, sizeof(log_at_added), "%s", sim_cfgfs_log(k));
	return test_added(dev);
}

static int run(bool old_kernel)
{
	struct sim_dev_opts o = { .cfgstring = "simtest/x" };
	struct sim_dev_opts other = { .cfgstring = "other/y", .name = "foreign" };
	struct tcmulib_context *ctx;
	struct tcmulib_cmd *cmds[4];
	struct sim_result r;
	struct sim_dev *d, *d2;
	uint16_t ids[3], id;
	char path[1024];
	int i;

	STEP(old_kernel ? "recovery on a kernel without action files"
			: "recovery: block_dev=1, reset_ring=1, added(), block_dev=0");
	REQUIRE(sim_kernel_create(&k) == 0, "kernel");
	REQUIRE(sim_dev_create(k, &o, &d) == 0, "dev");
	REQUIRE(sim_dev_create(k, &other, &d2) == 0, "dev2");
	for (i = 0; i < 3; i++)
		REQUIRE(sim_submit_rw10(d, false, 0, 1, 512, NULL, &ids[i]) == 0, "leftover");
	if (old_kernel) {
		snprintf(path, sizeof(path), "rm -rf '%s/core/user_1/dev0/action'",
			 sim_configfs_root(k));
		REQUIRE(system(path) == 0, "rm action");
	}
	test_handler.added = rec_added;
	ctx = tcmulib_initialize(&test_handler, 1);
	test_handler.added = test_added;
	REQUIRE(ctx, "initialize");
	REQUIRE(test_dev, "device adopted");
	CHECK(!sim_dev_is_open(d2), "foreign device left alone");
	CHECK(sim_nl_reply_count(k) == 0, "no netlink replies for adoption");
	if (old_kernel) {
		CHECK(!strcmp(sim_cfgfs_log(k), ""), "log: %s", sim_cfgfs_log(k));
		/* Without reset the leftovers are still on the ring: serve them. */
		CHECK(test_drain(test_dev, cmds, 4) == 3, "leftovers delivered");
		for (i = 0; i < 3; i++)
			tcmulib_command_complete(test_dev, cmds[i], TCMU_STS_OK);
		tcmulib_processing_complete(test_dev);
		sim_reap(d, false);
	} else {
		CHECK(!strcmp(log_at_added, "core/user_1/dev0/action/block_dev=1\n"
					    "core/user_1/dev0/action/reset_ring=1\n"),
		      "log at added(): %s", log_at_added);
		CHECK(!strcmp(sim_cfgfs_log(k), "core/user_1/dev0/action/block_dev=1\n"
						"core/user_1/dev0/action/reset_ring=1\n"
						"core/user_1/dev0/action/block_dev=0\n"),
		      "log: %s", sim_cfgfs_log(k));
		for (i = 0; i < 3; i++)
			CHECK(sim_result(d, ids[i], &r) == 0 && r.scsi_status == SAM_STAT_BUSY,
			      "leftover %d got BUSY", i);
		CHECK(test_drain(test_dev, cmds, 4) == 0, "nothing left on the ring");
	}
	REQUIRE(sim_submit_rw10(d, false, 0, 1, 512, NULL, &id) == 0, "new command");
	REQUIRE(test_drain(test_dev, cmds, 4) == 1, "new command delivered");
	tcmulib_command_complete(test_dev, cmds[0], TCMU_STS_OK);
	tcmulib_processing_complete(test_dev);
	CHECK(sim_wait(d, id, 1000, &r) == 0 && r.scsi_status == 0, "served");
	CHECK(!sim_broken(d) && !sim_warnings(d), "sim: %s", sim_last_error(d));
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return 0;
}

int main(void)
{
	tcmu_set_log_level(TCMU_LOG_WARN);
	run(false);
	run(true);
	return check_exit();
}
