/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Deferred netlink events: tcmulib_event_done() from another thread while
 * the added/removed/reconfig callback still runs, after it returned, twice,
 * and a remove arriving during a deferred add.  The reply (and the free of
 * a failed add or a removed device) must wait for both.  Run under ASan.
 */
#include <pthread.h>
#include <unistd.h>

#include "test_util.h"

static struct sim_kernel *K;

/* What the next callback does. */
enum mode {
	M_SYNC,	  /* return the status directly */
	M_INSIDE, /* defer, event_done on a thread joined inside the callback */
	M_RACE,	  /* defer, event_done on a thread racing the callback's end */
	M_LATER,  /* defer, the test calls event_done after the callback */
};

static enum mode mode;
static int ev_status; /* status for event_done / return */
static struct tcmu_device *last_dev;
static pthread_t racer;
static bool racer_started;
static unsigned int replies_in_cb; /* replies seen inside the callback */
static int removed_calls, added_calls;
static char seen_cfg[256];

struct done_arg {
	struct tcmu_device *dev;
	int status;
};

static void *done_thread(void *p)
{
	struct done_arg *a = p;

	tcmulib_event_done(a->dev, a->status);
	free(a);
	return NULL;
}

static void join_racer(void)
{
	if (racer_started)
		pthread_join(racer, NULL);
	racer_started = false;
}

static void spawn_done(struct tcmu_device *dev, int status, bool join)
{
	struct done_arg *a = malloc(sizeof(*a));

	join_racer();
	a->dev = dev;
	a->status = status;
	pthread_create(&racer, NULL, done_thread, a);
	racer_started = true;
	if (join) {
		pthread_join(racer, NULL);
		racer_started = false;
	}
}

/* Common tail of each callback; returns what the callback returns. */
static int run_mode(struct tcmu_device *dev)
{
	unsigned int before = sim_nl_reply_count(K);

	last_dev = dev;
	switch (mode) {
	case M_SYNC:
		return ev_status;
	case M_INSIDE:
		tcmulib_defer_event(dev);
		spawn_done(dev, ev_status, true);
		/* The device must still be ours, and nothing answered yet. */
		snprintf(seen_cfg, sizeof(seen_cfg), "%s", tcmu_dev_get_cfgstring(dev));
		usleep(1000);
		snprintf(seen_cfg, sizeof(seen_cfg), "%s", tcmu_dev_get_dev_name(dev));
		replies_in_cb += sim_nl_reply_count(K) - before;
		return -EINVAL; /* ignored after deferring */
	case M_RACE:
		tcmulib_defer_event(dev);
		spawn_done(dev, ev_status, false);
		snprintf(seen_cfg, sizeof(seen_cfg), "%s", tcmu_dev_get_cfgstring(dev));
		return 0;
	case M_LATER:
		tcmulib_defer_event(dev);
		return 0;
	}
	return 0;
}

static int ev_added(struct tcmu_device *dev)
{
	added_calls++;
	return run_mode(dev);
}

static void ev_removed(struct tcmu_device *dev)
{
	removed_calls++;
	run_mode(dev);
}

static int ev_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	return run_mode(dev);
}

static struct tcmulib_handler ev_handler = {
	.name = "deferred events",
	.subtype = "evt",
	.added = ev_added,
	.removed = ev_removed,
	.reconfig = ev_reconfig,
};

static unsigned int popped; /* replies taken with expect_reply() */

/* Replies sent and not yet checked. */
static unsigned int pending(void)
{
	return sim_nl_reply_count(K) - popped;
}

static int expect_reply(int cmd, int status, struct sim_dev *d)
{
	struct sim_nl_reply r;

	REQUIRE(sim_nl_reply(K, &r) == 0, "a reply to %d", cmd);
	popped++;
	CHECK(r.cmd == cmd && r.status == status && r.dev_id == sim_dev_id(d),
	      "reply cmd %d status %d id %u, expected %d/%d/%u", r.cmd, r.status, r.dev_id, cmd,
	      status, sim_dev_id(d));
	return 0;
}

static void no_reply(const char *when)
{
	CHECK(pending() == 0, "%u unexpected reply(ies) %s", pending(), when);
}

/* Live add of a new device with the current mode; returns it. */
static struct sim_dev *add_dev(struct tcmulib_context *ctx, const char *cfg)
{
	struct sim_dev_opts o = { .cfgstring = cfg };
	struct sim_dev *d;

	if (sim_dev_create(K, &o, &d))
		return NULL;
	sim_nl_added(d);
	tcmulib_master_fd_ready(ctx);
	return d;
}

static void wait_replies(unsigned int n)
{
	int i;

	for (i = 0; i < 2000 && pending() < n; i++)
		usleep(1000);
}

static int test_inside(struct tcmulib_context *ctx)
{
	struct sim_dev *d;

	STEP("add: event_done(0) inside added(), on another thread");
	mode = M_INSIDE;
	ev_status = 0;
	replies_in_cb = 0;
	d = add_dev(ctx, "evt/one");
	REQUIRE(d, "device");
	CHECK(replies_in_cb == 0, "replied while added() was running");
	expect_reply(TCMU_CMD_ADDED_DEVICE_DONE, 0, d);
	CHECK(sim_dev_is_open(d), "device open");

	STEP("reconfig cfgstring: event_done(0) inside reconfig()");
	sim_nl_reconfig_cfg(d, "evt/two");
	tcmulib_master_fd_ready(ctx);
	CHECK(replies_in_cb == 0, "replied while reconfig() was running");
	expect_reply(TCMU_CMD_RECONFIG_DEVICE_DONE, 0, d);
	CHECK(!strcmp(tcmu_dev_get_cfgstring(last_dev), "evt/two"), "cfgstring %s",
	      tcmu_dev_get_cfgstring(last_dev));

	STEP("remove: event_done inside removed(), device freed after it returns");
	removed_calls = 0;
	sim_nl_removed(d);
	tcmulib_master_fd_ready(ctx);
	CHECK(removed_calls == 1, "removed() calls %d", removed_calls);
	CHECK(replies_in_cb == 0, "replied while removed() was running");
	expect_reply(TCMU_CMD_REMOVED_DEVICE_DONE, 0, d);
	CHECK(!sim_dev_is_open(d), "device closed");
	sim_dev_destroy(d);

	STEP("failed add: event_done(-EIO) inside added(), freed after it returns");
	ev_status = -EIO;
	d = add_dev(ctx, "evt/bad");
	REQUIRE(d, "device");
	CHECK(replies_in_cb == 0, "replied while added() was running");
	expect_reply(TCMU_CMD_ADDED_DEVICE_DONE, -EIO, d);
	CHECK(!sim_dev_is_open(d), "failed device closed");
	sim_dev_destroy(d);
	return 0;
}

static int test_race(struct tcmulib_context *ctx)
{
	struct sim_dev *d;
	int i;

	STEP("100 x add/remove with event_done racing the end of the callback");
	mode = M_RACE;
	for (i = 0; i < 100; i++) {
		ev_status = (i % 3 == 0) ? -EIO : 0;
		d = add_dev(ctx, "evt/race");
		REQUIRE(d, "device");
		join_racer();
		wait_replies(1);
		expect_reply(TCMU_CMD_ADDED_DEVICE_DONE, ev_status, d);
		if (!ev_status) {
			ev_status = 0;
			sim_nl_removed(d);
			tcmulib_master_fd_ready(ctx);
			join_racer();
			wait_replies(1);
			expect_reply(TCMU_CMD_REMOVED_DEVICE_DONE, 0, d);
		}
		CHECK(!sim_dev_is_open(d), "round %d: device still open", i);
		sim_dev_destroy(d);
		if (check_failures)
			break;
	}
	return 0;
}

static int test_later(struct tcmulib_context *ctx)
{
	struct tcmu_device *dev;
	struct sim_dev *d;

	STEP("add: event_done after added() returned");
	mode = M_LATER;
	d = add_dev(ctx, "evt/later");
	REQUIRE(d, "device");
	dev = last_dev;
	no_reply("before event_done");
	spawn_done(dev, 0, true);
	expect_reply(TCMU_CMD_ADDED_DEVICE_DONE, 0, d);

	STEP("event_done twice / without deferral: ignored");
	tcmulib_event_done(dev, 0);
	no_reply("after a stray event_done");

	STEP("deferred reconfig keeps the new cfgstring only on success");
	sim_nl_reconfig_cfg(d, "evt/new");
	tcmulib_master_fd_ready(ctx);
	no_reply("before event_done");
	CHECK(!strcmp(tcmu_dev_get_cfgstring(dev), "evt/later"), "cfgstring changed early: %s",
	      tcmu_dev_get_cfgstring(dev));
	spawn_done(dev, 0, true);
	expect_reply(TCMU_CMD_RECONFIG_DEVICE_DONE, 0, d);
	CHECK(!strcmp(tcmu_dev_get_cfgstring(dev), "evt/new"), "cfgstring %s",
	      tcmu_dev_get_cfgstring(dev));
	sim_nl_reconfig_cfg(d, "evt/refused");
	tcmulib_master_fd_ready(ctx);
	spawn_done(dev, -EINVAL, true);
	expect_reply(TCMU_CMD_RECONFIG_DEVICE_DONE, -EINVAL, d);
	CHECK(!strcmp(tcmu_dev_get_cfgstring(dev), "evt/new"), "cfgstring %s",
	      tcmu_dev_get_cfgstring(dev));

	STEP("reconfig during a deferred reconfig: EBUSY");
	sim_nl_reconfig_cfg(d, "evt/a");
	tcmulib_master_fd_ready(ctx);
	sim_nl_reconfig_size(d, 1 << 20);
	tcmulib_master_fd_ready(ctx);
	expect_reply(TCMU_CMD_RECONFIG_DEVICE_DONE, -EBUSY, d);
	spawn_done(dev, 0, true);
	expect_reply(TCMU_CMD_RECONFIG_DEVICE_DONE, 0, d);

	STEP("remove: event_done after removed() returned");
	removed_calls = 0;
	sim_nl_removed(d);
	tcmulib_master_fd_ready(ctx);
	CHECK(removed_calls == 1, "removed() calls %d", removed_calls);
	no_reply("before event_done");
	CHECK(sim_dev_is_open(d), "closed before event_done");
	spawn_done(dev, 0, true);
	expect_reply(TCMU_CMD_REMOVED_DEVICE_DONE, 0, d);
	CHECK(!sim_dev_is_open(d), "device closed");
	sim_dev_destroy(d);

	STEP("remove during a deferred add waits for it (old kernel)");
	d = add_dev(ctx, "evt/queued");
	REQUIRE(d, "device");
	dev = last_dev;
	removed_calls = 0;
	sim_nl_removed(d);
	tcmulib_master_fd_ready(ctx);
	no_reply("while the add is deferred");
	CHECK(removed_calls == 0, "removed() before the add finished");
	mode = M_SYNC;
	ev_status = 0;
	spawn_done(dev, 0, true); /* concludes the add, then runs the remove */
	expect_reply(TCMU_CMD_ADDED_DEVICE_DONE, 0, d);
	expect_reply(TCMU_CMD_REMOVED_DEVICE_DONE, 0, d);
	CHECK(removed_calls == 1, "removed() calls %d", removed_calls);
	CHECK(!sim_dev_is_open(d), "device closed");
	sim_dev_destroy(d);
	return 0;
}

static int late_added_calls;
static struct tcmu_device *late_dev;

static int late_added(struct tcmu_device *dev)
{
	late_added_calls++;
	late_dev = dev;
	return 0;
}

static struct tcmulib_handler late_handler = {
	.name = "registered late",
	.subtype = "late",
	.added = late_added,
};

static int test_register_rescan(struct tcmulib_context *ctx)
{
	struct sim_dev_opts o = { .cfgstring = "late/x" };
	struct sim_dev *d;

	STEP("tcmulib_register adopts the handler's existing devices");
	REQUIRE(sim_dev_create(K, &o, &d) == 0, "device");
	sim_cfgfs_log_clear(K);
	CHECK(tcmulib_register(ctx, &late_handler) == 0, "register");
	CHECK(late_added_calls == 1 && late_dev, "added() calls %d", late_added_calls);
	CHECK(sim_dev_is_open(d), "device adopted");
	CHECK(strstr(sim_cfgfs_log(K), "reset_ring=1"), "ring recovered: %s", sim_cfgfs_log(K));
	no_reply("after adoption");
	CHECK(tcmulib_register(ctx, &late_handler) == -EEXIST, "second register");
	CHECK(late_added_calls == 1, "adopted twice");
	sim_nl_removed(d);
	tcmulib_master_fd_ready(ctx);
	expect_reply(TCMU_CMD_REMOVED_DEVICE_DONE, 0, d);
	CHECK(!sim_dev_is_open(d), "device closed");
	sim_dev_destroy(d);
	return 0;
}

static struct tcmu_device *close_dev;

static void *late_done(void *p)
{
	usleep(100 * 1000);
	tcmulib_event_done(close_dev, 0);
	return NULL;
}

static int test_close(struct tcmulib_context *ctx, struct sim_dev **d1, struct sim_dev **d2)
{
	pthread_t t;

	STEP("close waits for a deferred add and a deferred removal");
	mode = M_SYNC;
	ev_status = 0;
	*d1 = add_dev(ctx, "evt/c1");
	REQUIRE(*d1, "device");
	expect_reply(TCMU_CMD_ADDED_DEVICE_DONE, 0, *d1);
	mode = M_LATER;
	*d2 = add_dev(ctx, "evt/c2");
	REQUIRE(*d2, "device");
	close_dev = last_dev;
	/* The add of d2 is still deferred: close waits for it too. */
	pthread_create(&t, NULL, late_done, NULL);
	removed_calls = 0;
	mode = M_RACE; /* removed() from close defers and races */
	tcmulib_close(ctx);
	pthread_join(t, NULL);
	join_racer();
	CHECK(removed_calls == 2, "removed() calls %d", removed_calls);
	CHECK(!sim_dev_is_open(*d1) && !sim_dev_is_open(*d2), "devices closed");
	return 0;
}

int main(void)
{
	struct tcmulib_context *ctx;
	struct sim_dev *d1 = NULL, *d2 = NULL;

	tcmu_set_log_level(TCMU_LOG_WARN);
	tcmulib_set_dbus_registration(false);
	if (sim_kernel_create(&K))
		return 1;
	ctx = tcmulib_initialize(&ev_handler, 1);
	if (!ctx)
		return 1;
	test_inside(ctx);
	test_race(ctx);
	test_later(ctx);
	test_register_rescan(ctx);
	test_close(ctx, &d1, &d2);
	if (d1)
		sim_dev_destroy(d1);
	if (d2)
		sim_dev_destroy(d2);
	sim_kernel_destroy(K);
	return check_exit();
}
