/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Netlink events on the simulated kernel: add/remove/reconfig with their
 * replies, unknown handlers, refused and failed adds, deferred replies,
 * kernels without reply support, and malformed messages.
 */
#include <pthread.h>
#include <stdio.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "test_util.h"

static struct sim_kernel *k;
static struct tcmulib_context *ctx;

/* Deliver pending events; expect exactly one reply (or none if cmd < 0). */
static int expect_reply(const char *what, int cmd, int status, uint32_t dev_id)
{
	struct sim_nl_reply r;

	CHECK(tcmulib_master_fd_ready(ctx) == 0, "%s: fd_ready", what);
	if (cmd < 0) {
		CHECK(sim_nl_reply(k, &r) == -EAGAIN, "%s: unexpected reply %d/%d", what, r.cmd,
		      r.status);
		return 0;
	}
	REQUIRE(sim_nl_reply(k, &r) == 0, "%s: no reply", what);
	CHECK(r.cmd == cmd && r.status == status && r.dev_id == dev_id,
	      "%s: reply cmd %d status %d id %u, want %d %d %u", what, r.cmd, r.status, r.dev_id,
	      cmd, status, dev_id);
	CHECK(sim_nl_reply(k, &r) == -EAGAIN, "%s: second reply", what);
	return 0;
}

static struct sim_dev *mkdev(const char *cfg)
{
	struct sim_dev_opts o = { .cfgstring = cfg };
	struct sim_dev *d = NULL;

	CHECK(sim_dev_create(k, &o, &d) == 0, "create %s", cfg);
	return d;
}

static int own_cfg_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	return tcmu_dev_set_cfgstring(dev, "simtest/stripped");
}

static void t_lifecycle(void)
{
	struct sim_dev *d;

	STEP("SET_FEATURES sent once at start");
	CHECK(sim_kernel_set_features_count(k) == 1, "count %u", sim_kernel_set_features_count(k));

	STEP("ADDED -> handler added() + ADDED_DONE 0");
	d = mkdev(";tcmur_cmd_time_out=5;simtest/some/cfg");
	sim_nl_added(d);
	expect_reply("added", TCMU_CMD_ADDED_DEVICE_DONE, 0, sim_dev_id(d));
	CHECK(test_dev && sim_dev_is_open(d), "device open");
	if (!test_dev)
		return;
	CHECK(!strcmp(tcmu_dev_get_cfgstring(test_dev), ";tcmur_cmd_time_out=5;simtest/some/cfg"),
	      "cfgstring %s", tcmu_dev_get_cfgstring(test_dev));
	CHECK(!strcmp(tcmu_dev_get_dev_name(test_dev), "dev0"), "name");
	CHECK(tcmu_dev_get_hba_id(test_dev) == 1, "hba");
	CHECK(tcmu_dev_get_block_size(test_dev) == 512 &&
		      tcmu_dev_get_num_lbas(test_dev) == (1ull << 30) / 512,
	      "geometry from configfs");

	STEP("RECONFIG cfgstring/size/write cache reach reconfig(), status replied");
	sim_nl_reconfig_cfg(d, "simtest/new");
	expect_reply("reconfig cfg", TCMU_CMD_RECONFIG_DEVICE_DONE, 0, sim_dev_id(d));
	CHECK(test_last_cfg.type == TCMULIB_CFG_DEV_CFGSTR, "type");
	CHECK(!strcmp(tcmu_dev_get_cfgstring(test_dev), "simtest/new"), "new cfgstring");
	sim_nl_reconfig_size(d, 12345678);
	expect_reply("reconfig size", TCMU_CMD_RECONFIG_DEVICE_DONE, 0, sim_dev_id(d));
	CHECK(test_last_cfg.type == TCMULIB_CFG_DEV_SIZE && test_last_cfg.data.dev_size == 12345678,
	      "size");
	sim_nl_reconfig_wce(d, true);
	expect_reply("reconfig wce", TCMU_CMD_RECONFIG_DEVICE_DONE, 0, sim_dev_id(d));
	CHECK(test_last_cfg.type == TCMULIB_CFG_WRITE_CACHE && test_last_cfg.data.write_cache,
	      "wce");
	test_reconfig_ret = -EOPNOTSUPP;
	sim_nl_reconfig_cfg(d, "simtest/refused");
	expect_reply("reconfig refused", TCMU_CMD_RECONFIG_DEVICE_DONE, -EOPNOTSUPP, sim_dev_id(d));
	CHECK(!strcmp(tcmu_dev_get_cfgstring(test_dev), "simtest/new"), "kept cfgstring");
	test_reconfig_ret = 0;
	test_handler.reconfig = own_cfg_reconfig;
	sim_nl_reconfig_cfg(d, ";opt=1;simtest/raw");
	expect_reply("reconfig storing its own string", TCMU_CMD_RECONFIG_DEVICE_DONE, 0,
		     sim_dev_id(d));
	CHECK(!strcmp(tcmu_dev_get_cfgstring(test_dev), "simtest/stripped"),
	      "tcmu_dev_set_cfgstring kept: %s", tcmu_dev_get_cfgstring(test_dev));
	test_handler.reconfig = test_reconfig;

	STEP("REMOVED -> removed() + REMOVED_DONE 0, uio closed");
	sim_nl_removed(d);
	expect_reply("removed", TCMU_CMD_REMOVED_DEVICE_DONE, 0, sim_dev_id(d));
	CHECK(test_removed_calls == 1 && !sim_dev_is_open(d), "closed");
	sim_nl_removed(d);
	expect_reply("removed again (not ours)", -1, 0, 0);
	sim_dev_destroy(d);
}

static void t_refusals(void)
{
	char path[512];
	struct sim_dev *d;
	FILE *f;

	STEP("unknown handler subtype -> ADDED_DONE -ENOENT");
	d = mkdev("nosuch/x");
	sim_nl_added(d);
	expect_reply("unknown", TCMU_CMD_ADDED_DEVICE_DONE, -ENOENT, sim_dev_id(d));
	CHECK(!sim_dev_is_open(d), "not opened");
	sim_dev_destroy(d);

	STEP("handler added() fails -> error reply, uio closed");
	test_added_ret = -EIO;
	d = mkdev("simtest/x");
	sim_nl_added(d);
	expect_reply("added fails", TCMU_CMD_ADDED_DEVICE_DONE, -EIO, sim_dev_id(d));
	CHECK(!sim_dev_is_open(d), "closed after refusal");
	test_added_ret = 0;
	sim_dev_destroy(d);

	STEP("wrong map size in sysfs -> error reply");
	d = mkdev("simtest/x");
	snprintf(path, sizeof(path), "%s/class/uio/uio%u/maps/map0/size", sim_sysfs_root(k),
		 sim_dev_minor(d));
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "0x%zx\n", sim_dev_map_size(d) + 4096);
		fclose(f);
	}
	sim_nl_added(d);
	expect_reply("bad size", TCMU_CMD_ADDED_DEVICE_DONE, -EINVAL, sim_dev_id(d));
	CHECK(!sim_dev_is_open(d), "not opened");
	sim_dev_destroy(d);

	STEP("mailbox version 1 -> error reply, uio closed");
	d = mkdev("simtest/x");
	sim_dev_mailbox(d)->version = 1;
	sim_nl_added(d);
	expect_reply("bad version", TCMU_CMD_ADDED_DEVICE_DONE, -EINVAL, sim_dev_id(d));
	CHECK(!sim_dev_is_open(d), "closed");
	sim_dev_destroy(d);
}

static bool defer_next;
static struct tcmu_device *deferred_dev;
static int deferred_status;

static int defer_added(struct tcmu_device *dev)
{
	if (!defer_next)
		return test_added(dev);
	deferred_dev = dev;
	tcmulib_defer_event(dev);
	return 0;
}

static void *finish_thread(void *arg)
{
	tcmulib_event_done(deferred_dev, deferred_status);
	return NULL;
}

static void t_deferred(void)
{
	struct sim_dev *d;
	pthread_t th;
	int i;

	for (i = 0; i < 2; i++) {
		STEP(i ? "deferred add failing from another thread"
		       : "deferred add completed from another thread");
		test_handler.added = defer_added;
		defer_next = true;
		deferred_status = i ? -EIO : 0;
		d = mkdev("simtest/x");
		sim_nl_added(d);
		expect_reply("deferred: nothing yet", -1, 0, 0);
		CHECK(deferred_dev, "added called");
		pthread_create(&th, NULL, finish_thread, NULL);
		pthread_join(th, NULL);
		expect_reply("deferred", TCMU_CMD_ADDED_DEVICE_DONE, deferred_status,
			     sim_dev_id(d));
		CHECK(sim_dev_is_open(d) == !i, "open state");
		if (!i) {
			sim_nl_removed(d);
			expect_reply("removed", TCMU_CMD_REMOVED_DEVICE_DONE, 0, sim_dev_id(d));
		}
		test_handler.added = test_added;
		defer_next = false;
		deferred_dev = NULL;
		sim_dev_destroy(d);
	}
}

static int send_msg(int cmd, int minor, bool devid, const char *name, int name_len, bool extra_bad)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlmsghdr *nlh;
	int ret;

	genlmsg_put(msg, 0, 0, sim_nl_family(k), 0, 0, (uint8_t)cmd, 2);
	if (name)
		nla_put(msg, TCMU_ATTR_DEVICE, name_len, name);
	if (minor >= 0)
		nla_put_u32(msg, TCMU_ATTR_MINOR, (uint32_t)minor);
	if (devid)
		nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, 4242);
	if (extra_bad) /* a u64 attribute with 2 bytes */
		nla_put(msg, TCMU_ATTR_DEV_SIZE, 2, "xx");
	nlh = nlmsg_hdr(msg);
	ret = sim_nl_raw(k, nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
	return ret;
}

static void t_bad_messages(void)
{
	uint8_t junk[64] = { 1, 2, 3, 4, 5 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)junk;
	struct sim_dev *d;

	STEP("truncated and oversized netlink messages are ignored");
	sim_nl_raw(k, junk, 5);
	expect_reply("5 bytes", -1, 0, 0);
	nlh->nlmsg_len = 60000;
	nlh->nlmsg_type = sim_nl_family(k);
	sim_nl_raw(k, junk, sizeof(junk));
	expect_reply("nlmsg_len > datagram", -1, 0, 0);

	STEP("unknown genl command ignored, bad attributes get -EINVAL");
	send_msg(42, 3, true, NULL, 0, false);
	expect_reply("unknown cmd", -1, 0, 0);
	send_msg(TCMU_CMD_ADDED_DEVICE, 3, true, "tcm-user/1/x/simtest/x", 23, true);
	expect_reply("bad attr size", TCMU_CMD_ADDED_DEVICE_DONE, -EINVAL, 4242);
	send_msg(TCMU_CMD_REMOVED_DEVICE, 77, true, NULL, 0, false);
	expect_reply("remove unknown minor", -1, 0, 0);

	STEP("events missing attributes get -EINVAL");
	send_msg(TCMU_CMD_ADDED_DEVICE, -1, true, "tcm-user/1/x/simtest/x", 23, false);
	expect_reply("no minor", TCMU_CMD_ADDED_DEVICE_DONE, -EINVAL, 4242);
	send_msg(TCMU_CMD_ADDED_DEVICE, 3, true, "tcm-user/1/x/simtest/x", 22, false);
	expect_reply("name not terminated", TCMU_CMD_ADDED_DEVICE_DONE, -EINVAL, 4242);
	send_msg(TCMU_CMD_ADDED_DEVICE, 3, true, "garbage", 8, false);
	expect_reply("bad name", TCMU_CMD_ADDED_DEVICE_DONE, -EINVAL, 4242);

	STEP("the context still serves after bad messages");
	d = mkdev("simtest/x");
	sim_nl_reconfig_size(d, 5);
	expect_reply("reconfig of a device not added", -1, 0, 0);
	sim_nl_added(d);
	expect_reply("added", TCMU_CMD_ADDED_DEVICE_DONE, 0, sim_dev_id(d));
	send_msg(TCMU_CMD_RECONFIG_DEVICE, (int)sim_dev_minor(d), true, NULL, 0, false);
	expect_reply("reconfig without attrs", TCMU_CMD_RECONFIG_DEVICE_DONE, -EINVAL, 4242);
	sim_nl_removed(d);
	expect_reply("removed", TCMU_CMD_REMOVED_DEVICE_DONE, 0, sim_dev_id(d));
	sim_dev_destroy(d);
}

static void t_old_kernel(void)
{
	struct tcmulib_context *c2;

	STEP("kernel without SET_FEATURES: initialize still succeeds");
	tcmulib_close(ctx);
	sim_kernel_set_reply_support(k, false);
	c2 = tcmulib_initialize(&test_handler, 1);
	CHECK(c2 != NULL, "initialize");
	CHECK(sim_kernel_set_features_count(k) == 2, "tried");
	ctx = c2;
}

int main(void)
{
	tcmu_set_log_level(TCMU_LOG_WARN);
	if (sim_kernel_create(&k))
		return 1;
	ctx = tcmulib_initialize(&test_handler, 1);
	if (!ctx)
		return 1;
	t_lifecycle();
	t_refusals();
	t_deferred();
	t_bad_messages();
	t_old_kernel();
	tcmulib_close(ctx);
	sim_kernel_destroy(k);
	return check_exit();
}
