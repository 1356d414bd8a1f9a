/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * DBus registration of libtcmu handlers with tcmu-runner, on a private
 * dbus-daemon standing in for the system bus.  A stub "tcmu-runner" here
 * owns org.kernel.TCMUService1, answers RegisterHandler (after checking the
 * caller owns org.kernel.TCMUService1.HandlerManager1.<subtype>, as the
 * real one waits for) and calls CheckConfig back.  Skips (77) without
 * dbus-daemon.
 */
#include <gio/gio.h>
#include <unistd.h>

#include "test_util.h"

#define SVC_NAME "org.kernel.TCMUService1"
#define HM_IFACE SVC_NAME ".HandlerManager1"
#define HM_PATH	 "/org/kernel/TCMUService1/HandlerManager1"

static GDBusConnection *stub;
static guint stub_own_id, stub_obj_id;
static bool stub_owned;
static GDBusNodeInfo *stub_node;
static char regs[16][64]; /* subtypes registered, in order */
static int nregs;
static int reg_without_name; /* RegisterHandler before owning the name */

static const char stub_xml[] = "<node>"
			       " <interface name='" HM_IFACE "'>"
			       "  <method name='RegisterHandler'>"
			       "   <arg name='subtype' type='s' direction='in'/>"
			       "   <arg name='cfg_desc' type='s' direction='in'/>"
			       "   <arg name='ok' type='b' direction='out'/>"
			       "   <arg name='reason' type='s' direction='out'/>"
			       "  </method>"
			       " </interface>"
			       "</node>";

static bool name_has_owner(const char *name)
{
	GVariant *v;
	gboolean has = FALSE;

	v = g_dbus_connection_call_sync(stub, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "NameHasOwner",
					g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
					G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	if (v) {
		g_variant_get(v, "(b)", &has);
		g_variant_unref(v);
	}
	return has;
}

static void hm_method(GDBusConnection *conn, const char *sender, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      GDBusMethodInvocation *inv, gpointer data)
{
	const char *subtype, *desc;
	char *name;

	g_variant_get(params, "(&s&s)", &subtype, &desc);
	name = g_strdup_printf(HM_IFACE ".%s", subtype);
	if (!name_has_owner(name))
		reg_without_name++;
	g_free(name);
	if (nregs < 16)
		snprintf(regs[nregs++], sizeof(regs[0]), "%s|%s", subtype, desc);
	g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)", TRUE, "succeeded"));
}

static const GDBusInterfaceVTable hm_vtable = { .method_call = hm_method };

static void stub_acquired(GDBusConnection *c, const char *n, gpointer d)
{
	stub_owned = true;
}

static void stub_lost(GDBusConnection *c, const char *n, gpointer d)
{
	stub_owned = false;
}

/* Iterate the default context until *cond or timeout; returns *cond. */
static bool wait_for(bool (*cond)(void), int ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (!cond() && g_get_monotonic_time() < end) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(2000);
	}
	return cond();
}

static int want_regs;
static bool regs_reached(void)
{
	return nregs >= want_regs;
}

static const char *want_name;
static bool want_owned;
static bool name_state(void)
{
	return name_has_owner(want_name) == want_owned;
}

static bool is_stub_owned(void)
{
	return stub_owned;
}

static bool wait_name(const char *name, bool owned, int ms)
{
	want_name = name;
	want_owned = owned;
	return wait_for(name_state, ms);
}

static void stub_start(void)
{
	stub_obj_id = g_dbus_connection_register_object(stub, HM_PATH, stub_node->interfaces[0],
							&hm_vtable, NULL, NULL, NULL);
	stub_own_id = g_bus_own_name_on_connection(stub, SVC_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
						   stub_acquired, stub_lost, NULL, NULL);
	wait_for(is_stub_owned, 5000);
}

static void stub_stop(void)
{
	g_bus_unown_name(stub_own_id);
	g_dbus_connection_unregister_object(stub, stub_obj_id);
	stub_owned = false;
	wait_name(SVC_NAME, false, 5000);
}

/* CheckConfig on the program's object, as tcmu-runner forwards it. */
static int check_config(const char *subtype, const char *cfg, gboolean *valid, char **reason)
{
	char *name = g_strdup_printf(HM_IFACE ".%s", subtype);
	char *path = g_strdup_printf(HM_PATH "/%s", subtype);
	GError *err = NULL;
	GVariant *v;
	const char *r;

	v = g_dbus_connection_call_sync(stub, name, path, SVC_NAME, "CheckConfig",
					g_variant_new("(s)", cfg), G_VARIANT_TYPE("(bs)"),
					G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &err);
	g_free(name);
	g_free(path);
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

static bool one_check(const char *cfg, char **reason)
{
	if (strcmp(cfg, "regone/good")) {
		*reason = strdup("only regone/good is good");
		return false;
	}
	return true;
}

static struct tcmulib_handler handlers[] = {
	{ .name = "one",
	  .subtype = "regone",
	  .cfg_desc = "regone/good",
	  .check_config = one_check },
	{ .name = "two", .subtype = "regtwo", .cfg_desc = "anything" },
};
static struct tcmulib_handler third = { .name = "three",
					.subtype = "regthree",
					.cfg_desc = "late" };

static bool has_reg(const char *s, int from)
{
	int i;

	for (i = from; i < nregs; i++)
		if (!strcmp(regs[i], s))
			return true;
	return false;
}

int main(void)
{
	struct tcmulib_context *ctx;
	struct sim_kernel *k;
	GTestDBus *bus;
	char *prog, *reason = NULL;
	gboolean valid;
	int base;

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
	stub = g_dbus_connection_new_for_address_sync(
		g_test_dbus_get_bus_address(bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, NULL);
	stub_node = g_dbus_node_info_new_for_xml(stub_xml, NULL);
	if (!stub || !stub_node || sim_kernel_create(&k)) {
		printf("FAILED: setup\n");
		return 1;
	}

	STEP("program starts before tcmu-runner: owns its names, registers later");
	ctx = tcmulib_initialize(handlers, 2);
	if (!ctx) {
		printf("FAILED: tcmulib_initialize\n");
		return 1;
	}
	CHECK(wait_name(HM_IFACE ".regone", true, 5000), "regone name owned");
	CHECK(wait_name(HM_IFACE ".regtwo", true, 5000), "regtwo name owned");
	stub_start();
	want_regs = 2;
	CHECK(wait_for(regs_reached, 5000), "%d registration(s)", nregs);
	CHECK(has_reg("regone|regone/good", 0) && has_reg("regtwo|anything", 0),
	      "registrations %s, %s", regs[0], regs[1]);

	STEP("CheckConfig calls the handler's check_config");
	CHECK(check_config("regone", "regone/good", &valid, &reason) == 0 && valid,
	      "regone/good: %d %s", valid, reason);
	g_free(reason);
	reason = NULL;
	CHECK(check_config("regone", "regone/bad", &valid, &reason) == 0 && !valid &&
		      !strcmp(reason, "only regone/good is good"),
	      "regone/bad: %d %s", valid, reason);
	g_free(reason);
	reason = NULL;
	CHECK(check_config("regtwo", "regtwo/x", &valid, &reason) == 0 && valid,
	      "no check_config: %d %s", valid, reason);
	g_free(reason);

	STEP("tcmulib_register() after initialize registers too");
	CHECK(tcmulib_register(ctx, &third) == 0, "tcmulib_register");
	want_regs = 3;
	CHECK(wait_for(regs_reached, 5000) && has_reg("regthree|late", 2), "late registration");

	STEP("tcmu-runner restarts: every handler registers again");
	stub_stop();
	base = nregs;
	stub_start();
	want_regs = base + 3;
	CHECK(wait_for(regs_reached, 5000), "%d re-registration(s)", nregs - base);
	CHECK(has_reg("regone|regone/good", base) && has_reg("regtwo|anything", base) &&
		      has_reg("regthree|late", base),
	      "re-registrations");
	CHECK(reg_without_name == 0, "%d RegisterHandler before the name was owned",
	      reg_without_name);

	STEP("tcmulib_close releases the names");
	tcmulib_close(ctx);
	CHECK(wait_name(HM_IFACE ".regone", false, 5000), "regone released");
	CHECK(wait_name(HM_IFACE ".regthree", false, 5000), "regthree released");

	STEP("tcmulib_set_dbus_registration(false): no names, no calls");
	base = nregs;
	tcmulib_set_dbus_registration(false);
	ctx = tcmulib_initialize(handlers, 2);
	CHECK(ctx, "initialize");
	CHECK(!wait_name(HM_IFACE ".regone", true, 300), "name owned while disabled");
	CHECK(nregs == base, "registered while disabled");
	tcmulib_close(ctx);
	tcmulib_set_dbus_registration(true);

	STEP("TCMU_DBUS_REGISTRATION=0 turns it off too");
	setenv("TCMU_DBUS_REGISTRATION", "0", 1);
	ctx = tcmulib_initialize(handlers, 2);
	CHECK(ctx, "initialize");
	CHECK(!wait_name(HM_IFACE ".regone", true, 300), "name owned while disabled");
	tcmulib_close(ctx);
	unsetenv("TCMU_DBUS_REGISTRATION");

	STEP("no system bus: initialize works, close does not hang");
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/tcmu-test-bus", 1);
	ctx = tcmulib_initialize(handlers, 2);
	CHECK(ctx, "initialize without a bus");
	usleep(50 * 1000);
	tcmulib_close(ctx);
	ctx = tcmulib_initialize(handlers, 2);
	tcmulib_close(ctx); /* immediately: the thread may still be connecting */

	stub_stop();
	g_dbus_node_info_unref(stub_node);
	g_dbus_connection_close_sync(stub, NULL, NULL);
	g_object_unref(stub);
	g_test_dbus_down(bus);
	g_object_unref(bus);
	sim_kernel_destroy(k);
	return check_exit();
}
