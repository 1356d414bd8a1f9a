/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * End to end: a libtcmu program's handler registers itself with the real
 * tcmu-runner DBus service (daemon/dbus.c, with the daemon hooks stubbed
 * here) on a private dbus-daemon, shows up in GetManagedObjects as
 * targetcli sees it, answers CheckConfig forwarded by the service, and is
 * dropped when the program closes its context.  Skips (77) without
 * dbus-daemon.
 */
#include <gio/gio.h>
#include <pthread.h>
#include <unistd.h>

#include "test_util.h"
#include "dbus.h"

#define SVC_NAME "org.kernel.TCMUService1"
#define SVC_PATH "/org/kernel/TCMUService1"

/* --- the daemon side that dbus.c needs (no local handlers, no devices) --- */

static pthread_mutex_t ext_lock = PTHREAD_MUTEX_INITIALIZER;
static int ext_added, ext_removed;

void tcmur_for_each_handler(tcmur_dbus_handler_fn fn, void *arg)
{
}

int tcmur_handler_check_config(const char *subtype, const char *cfgstring, bool *valid,
			       char **reason)
{
	return -ENOENT;
}

int tcmur_external_handler_add(const char *subtype, const char *cfg_desc)
{
	pthread_mutex_lock(&ext_lock);
	ext_added++;
	pthread_mutex_unlock(&ext_lock);
	return 0;
}

void tcmur_external_handler_remove(const char *subtype)
{
	pthread_mutex_lock(&ext_lock);
	ext_removed++;
	pthread_mutex_unlock(&ext_lock);
}

void tcmur_for_each_device(tcmur_dbus_device_fn fn, void *arg)
{
}

int tcmur_dev_change_medium(const char *name, const char *medium, char **reason)
{
	*reason = NULL;
	return -ENODEV;
}

/* --- the program ----------------------------------------------------------- */

static bool ext_check(const char *cfg, char **reason)
{
	if (strncmp(cfg, "extsub/", 7) || !cfg[7]) {
		*reason = strdup("expected extsub/<name>");
		return false;
	}
	return true;
}

static struct tcmulib_handler ext_handler = {
	.name = "external",
	.subtype = "extsub",
	.cfg_desc = "extsub/<name>",
	.check_config = ext_check,
};

/* --- the client (targetcli's view) ---------------------------------------- */

static GDBusConnection *client;

/* Is /org/kernel/TCMUService1/<subtype> a managed object? */
static bool listed(const char *subtype)
{
	char *want = g_strdup_printf(SVC_PATH "/%s", subtype);
	GVariantIter *it;
	GVariant *v, *ifaces;
	const char *path;
	bool found = false;

	v = g_dbus_connection_call_sync(client, SVC_NAME, SVC_PATH,
					"org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
					NULL, G_VARIANT_TYPE("(a{oa{sa{sv}}})"),
					G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, NULL);
	if (v) {
		g_variant_get(v, "(a{oa{sa{sv}}})", &it);
		while (g_variant_iter_next(it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
			if (!strcmp(path, want))
				found = true;
			g_variant_unref(ifaces);
		}
		g_variant_iter_free(it);
		g_variant_unref(v);
	}
	g_free(want);
	return found;
}

static bool wait_listed(const char *subtype, bool want, int ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (listed(subtype) != want && g_get_monotonic_time() < end)
		g_usleep(10000);
	return listed(subtype) == want;
}

static int check_config(const char *cfg, gboolean *valid, char **reason)
{
	GError *err = NULL;
	const char *r;
	GVariant *v;

	v = g_dbus_connection_call_sync(client, SVC_NAME, SVC_PATH "/extsub", SVC_NAME,
					"CheckConfig", g_variant_new("(s)", cfg),
					G_VARIANT_TYPE("(bs)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
					5000, NULL, &err);
	if (!v) {
		fprintf(stderr, "CheckConfig: %s\n", err->message);
		g_error_free(err);
		return -1;
	}
	g_variant_get(v, "(b&s)", valid, &r);
	*reason = g_strdup(r);
	g_variant_unref(v);
	return 0;
}

int main(void)
{
	struct tcmulib_context *ctx;
	struct sim_kernel *k;
	GTestDBus *bus;
	char *prog, *reason = NULL;
	gboolean valid = FALSE;

	prog = g_find_program_in_path("dbus-daemon");
	if (!prog) {
		printf("SKIP: dbus-daemon not installed\n");
		return 77;
	}
	g_free(prog);
	tcmu_set_log_level(TCMU_LOG_WARN);
	bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(bus), 1);
	unsetenv("TCMU_DBUS_REGISTRATION");
	client = g_dbus_connection_new_for_address_sync(
		g_test_dbus_get_bus_address(bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, NULL);
	if (!client || sim_kernel_create(&k)) {
		printf("FAILED: setup\n");
		return 1;
	}

	STEP("tcmu-runner's DBus service up, then a libtcmu program starts");
	CHECK(tcmur_dbus_start() == 0, "tcmur_dbus_start");
	ctx = tcmulib_initialize(&ext_handler, 1);
	if (!ctx) {
		printf("FAILED: tcmulib_initialize\n");
		return 1;
	}

	STEP("targetcli's GetManagedObjects lists user:extsub");
	CHECK(wait_listed("extsub", true, 5000), "extsub not listed");
	pthread_mutex_lock(&ext_lock);
	CHECK(ext_added == 1, "tcmur_external_handler_add calls %d", ext_added);
	pthread_mutex_unlock(&ext_lock);

	STEP("CheckConfig through tcmu-runner reaches the program's check_config");
	CHECK(check_config("extsub/disk0", &valid, &reason) == 0 && valid, "valid: %d %s", valid,
	      reason);
	g_free(reason);
	reason = NULL;
	CHECK(check_config("extsub/", &valid, &reason) == 0 && !valid &&
		      !strcmp(reason, "expected extsub/<name>"),
	      "invalid: %d %s", valid, reason);
	g_free(reason);

	STEP("the program closes: tcmu-runner forgets the subtype");
	tcmulib_close(ctx);
	CHECK(wait_listed("extsub", false, 5000), "extsub still listed");
	pthread_mutex_lock(&ext_lock);
	CHECK(ext_removed == 1, "tcmur_external_handler_remove calls %d", ext_removed);
	pthread_mutex_unlock(&ext_lock);

	tcmur_dbus_stop();
	g_dbus_connection_close_sync(client, NULL, NULL);
	g_object_unref(client);
	g_test_dbus_down(bus);
	g_object_unref(bus);
	sim_kernel_destroy(k);
	return check_exit();
}
