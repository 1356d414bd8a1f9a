// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The device filter (--devices, --handlers): the matcher's rules and bad
 * input, then libtcmu on the simulated kernel with the filter installed: a
 * device the filter turns down is neither adopted at startup nor opened on
 * ADDED, and none of its ADDED, REMOVED or RECONFIG events gets a reply (the
 * kernel takes the first reply, which belongs to the daemon that serves
 * it).  Without the filter the same unserved device is answered with an
 * error, which is what a second daemon must never send.
 */
#include <errno.h>

#include "daemon.h"
#include "dtest.h"
#include "sim.h"

static struct sim_kernel *k;
static unsigned int added_calls;

static int flt_added(struct tcmu_device *dev)
{
	added_calls++;
	return 0;
}

static void flt_removed(struct tcmu_device *dev)
{
}

static int flt_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	return 0;
}

static struct tcmulib_handler flt_handler = {
	.name = "filter test",
	.subtype = "flt",
	.added = flt_added,
	.removed = flt_removed,
	.reconfig = flt_reconfig,
};

static void test_matcher(void)
{
	char desc[256], many[200];
	int i;

	STEP("no filter: every device matches");
	tcmur_devfilter_clear();
	CHECK(!tcmur_devfilter_active());
	CHECK(tcmur_devfilter_match(1, "anything", "file"));

	STEP("--devices globs: by name, or user_<hba>/<name> when the glob has a '/'");
	CHECK_EQ(tcmur_devfilter_add_devices("gw_a*,user_2/x"), 0);
	CHECK(tcmur_devfilter_active());
	CHECK(tcmur_devfilter_match(1, "gw_a1", "file"));
	CHECK(tcmur_devfilter_match(7, "gw_a", "rbd"));
	CHECK(!tcmur_devfilter_match(1, "gw_b1", "file"));
	CHECK(tcmur_devfilter_match(2, "x", "file"));
	CHECK(!tcmur_devfilter_match(1, "x", "file"));
	CHECK(!tcmur_devfilter_match(2, "xy", "file"));

	STEP("--handlers narrows further; options accumulate");
	CHECK_EQ(tcmur_devfilter_add_handlers("file"), 0);
	CHECK_EQ(tcmur_devfilter_add_handlers("rbd"), 0);
	CHECK(tcmur_devfilter_match(1, "gw_a1", "rbd"));
	CHECK(!tcmur_devfilter_match(1, "gw_a1", "qcow"));
	CHECK(!tcmur_devfilter_match(1, "gw_a1", ""));
	tcmur_devfilter_describe(desc, sizeof(desc));
	CHECK(!strcmp(desc, "devices=gw_a*,user_2/x handlers=file,rbd"), "describe: %s", desc);

	STEP("--handlers alone");
	tcmur_devfilter_clear();
	CHECK_EQ(tcmur_devfilter_add_handlers("qcow,zbc"), 0);
	CHECK(tcmur_devfilter_match(3, "whatever", "zbc"));
	CHECK(!tcmur_devfilter_match(3, "whatever", "file"));

	STEP("bad lists are refused");
	tcmur_devfilter_clear();
	CHECK_EQ(tcmur_devfilter_add_devices(""), -EINVAL);
	CHECK_EQ(tcmur_devfilter_add_devices("a,,b"), -EINVAL);
	CHECK_EQ(tcmur_devfilter_add_devices("a,"), -EINVAL);
	CHECK_EQ(tcmur_devfilter_add_handlers("file/x"), -EINVAL);
	CHECK_EQ(tcmur_devfilter_add_handlers("a;b"), -EINVAL);
	tcmur_devfilter_clear();
	many[0] = '\0';
	for (i = 0; i < 33; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sd%d", i ? "," : "",
			 i);
	CHECK_EQ(tcmur_devfilter_add_devices(many), -E2BIG);
	tcmur_devfilter_clear();
}

/* The next reply within ms, or -ETIMEDOUT. */
static int next_reply(struct sim_nl_reply *r, int ms)
{
	for (; ms > 0; ms--) {
		if (!sim_nl_reply(k, r))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

static struct sim_dev *make_dev(const char *name, const char *cfg)
{
	struct sim_dev_opts o = { .name = name, .cfgstring = cfg };
	struct sim_dev *d = NULL;

	if (sim_dev_create(k, &o, &d))
		return NULL;
	return d;
}

/* Announce d's ADDED and expect a reply with status (or none when !replied). */
static void announce(struct tcmulib_context *ctx, struct sim_dev *d, bool replied, int status)
{
	struct sim_nl_reply r;

	ENSURE(!sim_nl_added(d));
	ENSURE(!tcmulib_master_fd_ready(ctx));
	if (!replied) {
		CHECK(next_reply(&r, 200) == -ETIMEDOUT, "reply %d status %d for a foreign device",
		      r.cmd, r.status);
		return;
	}
	ENSURE(!next_reply(&r, 2000), "no reply");
	CHECK(r.cmd == TCMU_CMD_ADDED_DEVICE_DONE && r.status == status &&
		      r.dev_id == sim_dev_id(d),
	      "reply %d status %d id %u", r.cmd, r.status, r.dev_id);
}

static int test_library(void)
{
	struct sim_dev *mine0, *other0, *mine1, *other1, *other2, *stray;
	struct tcmulib_context *ctx;
	struct sim_nl_reply r;

	REQUIRE(!sim_kernel_create(&k), "simulated kernel");
	mine0 = make_dev("mine0", "flt/a");
	other0 = make_dev("other0", "flt/b");
	REQUIRE(mine0 && other0);

	STEP("startup with --devices 'mine*': only mine0 is adopted");
	REQUIRE(!tcmur_devfilter_add_devices("mine*"));
	tcmur_devfilter_install();
	ctx = tcmulib_initialize(&flt_handler, 1);
	REQUIRE(ctx, "tcmulib_initialize");
	CHECK(sim_dev_is_open(mine0), "mine0 adopted");
	CHECK(!sim_dev_is_open(other0), "other0 opened although filtered out");
	CHECK_EQ(added_calls, 1);
	CHECK(!strstr(sim_cfgfs_log(k), "other0"), "configfs writes for other0: %s",
	      sim_cfgfs_log(k));

	STEP("live ADDED: ours answered, foreign ones (even without a handler) left alone");
	mine1 = make_dev("mine1", "flt/c");
	other1 = make_dev("other1", "flt/d");
	other2 = make_dev("other2", "nohandler/e");
	REQUIRE(mine1 && other1 && other2);
	announce(ctx, mine1, true, 0);
	CHECK(sim_dev_is_open(mine1));
	announce(ctx, other1, false, 0);
	CHECK(!sim_dev_is_open(other1), "other1 opened");
	announce(ctx, other2, false, 0);
	CHECK_EQ(added_calls, 2);

	STEP("RECONFIG and REMOVED of a foreign device: no reply");
	CHECK(!sim_nl_reconfig_size(other1, 1 << 20) && !tcmulib_master_fd_ready(ctx));
	CHECK(next_reply(&r, 200) == -ETIMEDOUT, "reply %d to a foreign reconfig", r.cmd);
	CHECK(!sim_nl_removed(other1) && !tcmulib_master_fd_ready(ctx));
	CHECK(next_reply(&r, 200) == -ETIMEDOUT, "reply %d to a foreign remove", r.cmd);

	STEP("REMOVED of ours: answered");
	CHECK(!sim_nl_removed(mine1) && !tcmulib_master_fd_ready(ctx));
	CHECK(!next_reply(&r, 2000) && r.cmd == TCMU_CMD_REMOVED_DEVICE_DONE && !r.status,
	      "remove reply %d status %d", r.cmd, r.status);
	CHECK(!sim_dev_is_open(mine1));

	STEP("control: without the filter an unserved device is answered -ENOENT");
	tcmur_devfilter_clear();
	tcmur_devfilter_install();
	stray = make_dev("other3", "nohandler/f");
	REQUIRE(stray);
	announce(ctx, stray, true, -ENOENT);

	tcmulib_close(ctx);
	sim_dev_destroy(stray);
	sim_dev_destroy(other2);
	sim_dev_destroy(other1);
	sim_dev_destroy(mine1);
	sim_dev_destroy(other0);
	sim_dev_destroy(mine0);
	sim_kernel_destroy(k);
	return 0;
}

int main(void)
{
	test_matcher();
	if (test_library())
		return 1;
	return check_exit();
}
