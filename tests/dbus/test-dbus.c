// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Description: the org.kernel.TCMUService1 service on a private dbus-daemon:
 * object tree, CheckConfig, RegisterHandler (proxying, vanishing), metrics,
 * Admin1 medium changes, tcmu-ublk's devices (Metrics1 rows from their
 * metrics files, Ublk1 running a fake tcmu-ublk), restart, and running
 * without a bus.  "--serve" only runs the service until
 * stdin closes, for the client tests in test-clients.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "dbus.h"
#include "libtcmu_common.h"
#include "metrics_file.h"
#include "stub-daemon.h"

#define SVC  "org.kernel.TCMUService1"
#define ROOT "/org/kernel/TCMUService1"

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static GDBusConnection *client;

static GVariant *call(const char *dest, const char *path, const char *iface, const char *method,
		      GVariant *args, const char *rtype, GError **err)
{
	return g_dbus_connection_call_sync(client, dest, path, iface, method, args,
					   rtype ? G_VARIANT_TYPE(rtype) : NULL,
					   G_DBUS_CALL_FLAGS_NONE, 10000, NULL, err);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Subtypes listed by GetManagedObjects, space separated and sorted. */
static char *managed_subtypes(void)
{
	GVariant *ret, *objs, *ifaces;
	GVariantIter it;
	const char *path;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GError *err = NULL;
	char *out;

	ret = call(SVC, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL,
		   "(a{oa{sa{sv}}})", &err);
	if (!ret) {
		fprintf(stderr, "GetManagedObjects: %s\n", err->message);
		g_error_free(err);
		g_ptr_array_free(names, TRUE);
		return g_strdup("<error>");
	}
	objs = g_variant_get_child_value(ret, 0);
	g_variant_iter_init(&it, objs);
	while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		GVariant *props = g_variant_lookup_value(ifaces, SVC, G_VARIANT_TYPE("a{sv}"));

		if (!props || !g_variant_lookup(props, "ConfigDesc", "&s", &(const char *){ 0 }))
			g_ptr_array_add(names, g_strdup("<no-ConfigDesc>"));
		else
			g_ptr_array_add(names, g_strdup(strrchr(path, '/') + 1));
		if (props)
			g_variant_unref(props);
		g_variant_unref(ifaces);
	}
	g_variant_unref(objs);
	g_variant_unref(ret);
	g_ptr_array_sort(names, cmp_str);
	g_ptr_array_add(names, NULL);
	out = g_strjoinv(" ", (char **)names->pdata);
	g_ptr_array_free(names, TRUE);
	return out;
}

/* Poll GetManagedObjects until it equals want (5 s). */
static bool wait_subtypes(const char *want)
{
	int i;

	for (i = 0; i < 100; i++) {
		char *got = managed_subtypes();
		bool ok = !strcmp(got, want);

		if (ok || i == 99)
			fprintf(stderr, "managed objects: '%s' (want '%s')\n", got, want);
		g_free(got);
		if (ok)
			return true;
		g_usleep(50000);
	}
	return false;
}

static void check_config(const char *subtype, const char *cfg, bool want_valid,
			 const char *want_reason)
{
	char *path = g_strdup_printf(ROOT "/%s", subtype);
	GError *err = NULL;
	GVariant *ret;
	gboolean valid;
	const char *reason;

	ret = call(SVC, path, SVC, "CheckConfig", g_variant_new("(s)", cfg), "(bs)", &err);
	CHECK(ret, "CheckConfig %s: %s", cfg, err ? err->message : "");
	if (ret) {
		g_variant_get(ret, "(b&s)", &valid, &reason);
		CHECK(!valid == !want_valid, "%s: valid=%d", cfg, valid);
		if (want_reason)
			CHECK(strstr(reason, want_reason), "%s: reason '%s'", cfg, reason);
		g_variant_unref(ret);
	}
	g_clear_error(&err);
	g_free(path);
}

static bool register_handler(GDBusConnection *c, const char *subtype, const char *desc,
			     char **reason)
{
	GVariant *ret;
	GError *err = NULL;
	gboolean ok = FALSE;
	const char *r = "";

	ret = g_dbus_connection_call_sync(c, SVC, ROOT "/HandlerManager1", SVC ".HandlerManager1",
					  "RegisterHandler", g_variant_new("(ss)", subtype, desc),
					  G_VARIANT_TYPE("(bs)"), G_DBUS_CALL_FLAGS_NONE, 10000,
					  NULL, &err);
	if (!ret) {
		*reason = g_strdup(err->message);
		g_error_free(err);
		return false;
	}
	g_variant_get(ret, "(b&s)", &ok, &r);
	*reason = g_strdup(r);
	g_variant_unref(ret);
	return ok;
}

/* ---- an external libtcmu program, on its own thread and connection ---- */

static const char ext_xml[] =
	"<node><interface name='" SVC "'>"
	"<method name='CheckConfig'><arg type='s' direction='in'/>"
	"<arg type='b' direction='out'/><arg type='s' direction='out'/></method>"
	"</interface></node>";

struct ext {
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	GDBusConnection *conn;
	bool registered;
	char *reason;
	GMutex lock;
	GCond cond;
	bool ready;
};

static void ext_method(GDBusConnection *c, const char *sender, const char *path, const char *iface,
		       const char *method, GVariant *params, GDBusMethodInvocation *inv,
		       gpointer data)
{
	const char *cfg;

	g_variant_get(params, "(&s)", &cfg);
	g_dbus_method_invocation_return_value(
		inv, g_variant_new("(bs)", g_str_has_prefix(cfg, "ext/ok"), "answered by ext"));
}

static const GDBusInterfaceVTable ext_vtable = { .method_call = ext_method };

static gpointer ext_thread(gpointer data)
{
	struct ext *e = data;
	GDBusNodeInfo *node = g_dbus_node_info_new_for_xml(ext_xml, NULL);
	GVariant *ret;

	g_main_context_push_thread_default(e->ctx);
	e->conn = g_dbus_connection_new_for_address_sync(
		getenv("DBUS_SYSTEM_BUS_ADDRESS"),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, NULL);
	g_dbus_connection_set_exit_on_close(e->conn, FALSE);
	g_dbus_connection_register_object(e->conn, ROOT "/HandlerManager1/ext", node->interfaces[0],
					  &ext_vtable, NULL, NULL, NULL);
	ret = g_dbus_connection_call_sync(e->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					  "org.freedesktop.DBus", "RequestName",
					  g_variant_new("(su)", SVC ".HandlerManager1.ext", 4u),
					  NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	if (ret)
		g_variant_unref(ret);
	e->registered = register_handler(e->conn, "ext", "ext/<anything>", &e->reason);

	g_mutex_lock(&e->lock);
	e->ready = true;
	g_cond_signal(&e->cond);
	g_mutex_unlock(&e->lock);

	g_main_loop_run(e->loop);
	g_dbus_connection_close_sync(e->conn, NULL, NULL);
	g_object_unref(e->conn);
	g_main_context_pop_thread_default(e->ctx);
	g_dbus_node_info_unref(node);
	return NULL;
}

static void ext_start(struct ext *e)
{
	memset(e, 0, sizeof(*e));
	g_mutex_init(&e->lock);
	g_cond_init(&e->cond);
	e->ctx = g_main_context_new();
	e->loop = g_main_loop_new(e->ctx, FALSE);
	e->thread = g_thread_new("ext", ext_thread, e);
	g_mutex_lock(&e->lock);
	while (!e->ready)
		g_cond_wait(&e->cond, &e->lock);
	g_mutex_unlock(&e->lock);
}

static gboolean quit_loop(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void ext_stop(struct ext *e)
{
	g_main_context_invoke(e->ctx, quit_loop, e->loop);
	g_thread_join(e->thread);
	g_main_loop_unref(e->loop);
	g_main_context_unref(e->ctx);
	g_free(e->reason);
}

/* ---- the tests ---------------------------------------------------------- */

static void test_tree(void)
{
	GVariant *ret, *v;
	GError *err = NULL;

	CHECK(wait_subtypes("file qcow"), "initial handlers");

	ret = call(SVC, ROOT "/file", "org.freedesktop.DBus.Properties", "Get",
		   g_variant_new("(ss)", SVC, "ConfigDesc"), "(v)", &err);
	CHECK(ret, "Get ConfigDesc: %s", err ? err->message : "");
	if (ret) {
		g_variant_get(ret, "(v)", &v);
		CHECK(!strcmp(g_variant_get_string(v, NULL), "file/<path>"), "ConfigDesc");
		g_variant_unref(v);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	/* HandlerManager1 and Metrics1 must not show up as handlers. */
	ret = call(SVC, ROOT "/HandlerManager1", "org.freedesktop.DBus.Introspectable",
		   "Introspect", NULL, "(s)", &err);
	CHECK(ret, "introspect HandlerManager1");
	if (ret) {
		const char *xml;

		g_variant_get(ret, "(&s)", &xml);
		CHECK(strstr(xml, "RegisterHandler"), "RegisterHandler in introspection");
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	check_config("file", "file//tmp/a.img", true, NULL);
	check_config("file", "file/relative", false, "absolute");
	check_config("qcow", "qcow/whatever", true, NULL);
}

static void test_external(void)
{
	struct ext e;
	char *reason = NULL;
	int removed;

	ext_start(&e);
	CHECK(e.registered, "RegisterHandler(ext): %s", e.reason);
	CHECK(wait_subtypes("ext file qcow"), "ext listed");
	check_config("ext", "ext/ok", true, "answered by ext");
	check_config("ext", "ext/bad", false, "answered by ext");

	CHECK(!register_handler(client, "ext", "again", &reason), "duplicate ext accepted");
	g_free(reason);
	CHECK(!register_handler(client, "file", "x", &reason), "clash with plugin accepted");
	g_free(reason);
	CHECK(!register_handler(client, "bad/name", "x", &reason), "bad subtype accepted");
	g_free(reason);
	CHECK(!register_handler(client, "nobody", "x", &reason), "unowned name accepted");
	CHECK(reason && strstr(reason, "HandlerManager1.nobody"), "reason: %s", reason);
	g_free(reason);
	CHECK(wait_subtypes("ext file qcow"), "failed registrations leave no object");

	removed = stub_external_removed;
	ext_stop(&e);
	CHECK(wait_subtypes("file qcow"), "ext gone with its bus name");
	CHECK(stub_external_removed > removed, "daemon told about the vanished handler");
}

static void test_resync(void)
{
	stub_add_handler("zbc", "zbc/[opts@]<path>");
	tcmur_dbus_handlers_changed();
	CHECK(wait_subtypes("file qcow zbc"), "handler added later");
}

static GVariant *metrics_call(const char *method, GVariant *args, const char *rtype, GError **err)
{
	return call(SVC, ROOT "/Metrics1", SVC ".Metrics1", method, args, rtype, err);
}

static void test_metrics(void)
{
	GVariant *ret, *m, *buckets, *v;
	GError *err = NULL;
	const char *name, *uio, *sub, *cfg, *state;
	guint64 reads = 0, total = 0;
	guint32 inflight = 0;
	const guint64 *b;
	gsize n = 0, i;
	GVariantIter *it;
	int count = 0;

	ret = metrics_call("ListDevices", NULL, "(a(sssss))", &err);
	CHECK(ret, "ListDevices: %s", err ? err->message : "");
	if (ret) {
		g_variant_get(ret, "(a(sssss))", &it);
		while (g_variant_iter_next(it, "(&s&s&s&s&s)", &name, &uio, &sub, &cfg, &state)) {
			if (!count)
				CHECK(!strcmp(name, "disk0") && !strcmp(sub, "file") &&
					      !strcmp(state, "open") && !strcmp(uio, "uio0") &&
					      !strcmp(cfg, "file//var/lib/disk0.img"),
				      "disk0 row");
			count++;
		}
		g_variant_iter_free(it);
		CHECK(count == 2, "ListDevices count %d", count);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	ret = metrics_call("GetMetrics", g_variant_new("(s)", "disk0"), "(a{sv})", &err);
	CHECK(ret, "GetMetrics: %s", err ? err->message : "");
	if (ret) {
		m = g_variant_get_child_value(ret, 0);
		CHECK(g_variant_lookup(m, "read_cmds", "t", &reads) && reads == 1000, "read_cmds");
		CHECK(g_variant_lookup(m, "in_flight", "u", &inflight) && inflight == 3,
		      "in_flight");
		CHECK(g_variant_lookup(m, "write_bytes", "t", &total) && total == 2048000,
		      "write_bytes");
		CHECK(g_variant_lookup(m, "timeouts", "t", &total) && total == 1, "timeouts");
		buckets = g_variant_lookup_value(m, "latency_buckets", G_VARIANT_TYPE("at"));
		CHECK(buckets, "latency_buckets");
		if (buckets) {
			b = g_variant_get_fixed_array(buckets, &n, sizeof(guint64));
			CHECK(n == TCMUR_METRICS_LAT_BUCKETS, "bucket count %zu", n);
			for (total = 0, i = 0; i < n; i++)
				total += b[i];
			CHECK(total == 1507, "bucket sum %" G_GUINT64_FORMAT, total);
			/* 50 us lies in [32, 64) us: bucket 5 */
			CHECK(n > 5 && b[5] == 1500, "50 us bucket");
			g_variant_unref(buckets);
		}
		g_variant_unref(m);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	ret = metrics_call("GetMetrics", g_variant_new("(s)", "nope"), "(a{sv})", &err);
	CHECK(!ret && err && strstr(err->message, "UnknownDevice"), "unknown device error");
	if (ret)
		g_variant_unref(ret);
	g_clear_error(&err);

	ret = metrics_call("GetAllMetrics", NULL, "(a{sa{sv}})", &err);
	CHECK(ret, "GetAllMetrics: %s", err ? err->message : "");
	if (ret) {
		m = g_variant_get_child_value(ret, 0);
		CHECK(g_variant_n_children(m) == 2, "GetAllMetrics count");
		v = g_variant_lookup_value(m, "disk1", G_VARIANT_TYPE("a{sv}"));
		CHECK(v && g_variant_lookup(v, "state", "&s", &state) && !strcmp(state, "blocked"),
		      "disk1 state");
		if (v)
			g_variant_unref(v);
		g_variant_unref(m);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	ret = call(SVC, ROOT "/Metrics1", "org.freedesktop.DBus.Properties", "Get",
		   g_variant_new("(ss)", SVC ".Metrics1", "LatencyBucketsUsec"), "(v)", &err);
	CHECK(ret, "LatencyBucketsUsec: %s", err ? err->message : "");
	if (ret) {
		g_variant_get(ret, "(v)", &v);
		b = g_variant_get_fixed_array(v, &n, sizeof(guint64));
		CHECK(n == TCMUR_METRICS_LAT_BUCKETS && b[0] == 0 && b[5] == 32, "bounds");
		g_variant_unref(v);
		g_variant_unref(ret);
	}
	g_clear_error(&err);
}

static void admin_call(const char *method, GVariant *args, bool want_ok, const char *want_msg,
		       const char *want_last)
{
	GError *err = NULL;
	GVariant *ret;
	gboolean ok = FALSE;
	const char *msg = "";

	stub_medium_last[0] = 0;
	ret = call(SVC, ROOT "/Admin1", SVC ".Admin1", method, args, "(bs)", &err);
	CHECK(ret, "%s: %s", method, err ? err->message : "");
	if (ret)
		g_variant_get(ret, "(b&s)", &ok, &msg);
	CHECK(ok == want_ok, "%s: ok=%d, want %d", method, ok, want_ok);
	CHECK(strstr(msg, want_msg), "%s: reason '%s', want '%s'", method, msg, want_msg);
	CHECK(!strcmp(stub_medium_last, want_last), "%s: daemon got '%s', want '%s'", method,
	      stub_medium_last, want_last);
	if (ret)
		g_variant_unref(ret);
	g_clear_error(&err);
}

static void test_admin(void)
{
	GError *err = NULL;
	GVariant *ret;

	admin_call("EjectMedium", g_variant_new("(s)", "cd0"), true, "ejected", "cd0 (eject)");
	admin_call("LoadMedium", g_variant_new("(ss)", "cd0", "ro//srv/b.iso"), true, "loaded",
		   "cd0 ro//srv/b.iso");
	admin_call("LoadMedium", g_variant_new("(ss)", "cd0", "/missing.iso"), false,
		   "cannot load /missing", "cd0 /missing.iso");
	admin_call("EjectMedium", g_variant_new("(s)", "disk0"), false, "no removable medium",
		   "disk0 (eject)");
	ret = call(SVC, ROOT "/Admin1", SVC ".Admin1", "EjectMedium", g_variant_new("(s)", "nope"),
		   "(bs)", &err);
	CHECK(!ret && err && strstr(err->message, "no such device"), "unknown device: %s",
	      err ? err->message : "no error");
	g_clear_error(&err);
	if (ret)
		g_variant_unref(ret);
}

static void ublk_call(const char *method, GVariant *args, bool want_ok, const char *want_msg)
{
	GError *err = NULL;
	GVariant *ret;
	gboolean ok = FALSE;
	const char *msg = "";

	ret = call(SVC, ROOT "/Ublk1", SVC ".Ublk1", method, args, "(bs)", &err);
	CHECK(ret, "Ublk1.%s: %s", method, err ? err->message : "");
	if (ret)
		g_variant_get(ret, "(b&s)", &ok, &msg);
	CHECK(ok == want_ok, "Ublk1.%s: ok=%d, want %d (%s)", method, ok, want_ok, msg);
	CHECK(strstr(msg, want_msg), "Ublk1.%s: '%s', want '%s'", method, msg, want_msg);
	if (ret)
		g_variant_unref(ret);
	g_clear_error(&err);
}

/* The fake tcmu-ublk's log: every command line it ran, or "". */
static char *fake_log(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = g_strdup("");
	return text;
}

/* A live tcmu-ublk device (id 7) in the run folder, listed by Metrics1. */
static void test_ublk_metrics(void)
{
	struct tcmur_mfile mf;
	GVariant *ret, *m;
	GError *err = NULL;
	guint64 reads = 0;
	const char *name, *uio, *sub, *cfg, *state;
	char path[4200];
	GVariantIter *it;
	guint32 id;
	int found = 0, i;

	tcmur_ublk_metrics_path(7, path, sizeof(path));
	i = tcmur_mfile_create(&mf, path,
			       &(struct tcmur_mfile_info){ .id = 7,
							   .name = "u7",
							   .subtype = "file",
							   .cfgstring = "file//var/lib/u7.img" },
			       2);
	CHECK(i == 0, "create %s: %s", path, strerror(-i));
	if (i)
		return;
	for (i = 0; i < 30; i++)
		tcmur_metrics_complete(tcmur_mfile_slot(&mf, i % 2), TCMUR_METRICS_READ, 4096,
				       20000, TCMU_STS_OK);

	ret = metrics_call("ListDevices", NULL, "(a(sssss))", &err);
	CHECK(ret, "ListDevices: %s", err ? err->message : "");
	if (ret) {
		g_variant_get(ret, "(a(sssss))", &it);
		while (g_variant_iter_next(it, "(&s&s&s&s&s)", &name, &uio, &sub, &cfg, &state))
			if (!strcmp(name, "ublkb7"))
				found += !strcmp(uio, "-") && !strcmp(sub, "file") &&
					 !strcmp(cfg, "file//var/lib/u7.img") &&
					 !strcmp(state, "open");
		g_variant_iter_free(it);
		CHECK(found == 1, "ublkb7 row, found %d", found);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	ret = metrics_call("GetMetrics", g_variant_new("(s)", "ublkb7"), "(a{sv})", &err);
	CHECK(ret, "GetMetrics ublkb7: %s", err ? err->message : "");
	if (ret) {
		m = g_variant_get_child_value(ret, 0);
		CHECK(g_variant_lookup(m, "read_cmds", "t", &reads) && reads == 30,
		      "ublkb7 read_cmds %" G_GUINT64_FORMAT, reads);
		g_variant_unref(m);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	ret = metrics_call("GetAllMetrics", NULL, "(a{sa{sv}})", &err);
	if (ret) {
		m = g_variant_get_child_value(ret, 0);
		CHECK(g_variant_n_children(m) == 3, "GetAllMetrics: disk0, disk1, ublkb7");
		g_variant_unref(m);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	found = 0;
	ret = call(SVC, ROOT "/Ublk1", SVC ".Ublk1", "List", NULL, "(a(ussss))", &err);
	CHECK(ret, "Ublk1.List: %s", err ? err->message : "");
	if (ret) {
		const char *dev;

		g_variant_get(ret, "(a(ussss))", &it);
		while (g_variant_iter_next(it, "(u&s&s&s&s)", &id, &dev, &name, &cfg, &state))
			found += id == 7 && !strcmp(dev, "/dev/ublkb7") && !strcmp(name, "u7") &&
				 !strcmp(state, "open");
		g_variant_iter_free(it);
		CHECK(found == 1, "Ublk1.List: u7 %d time(s)", found);
		g_variant_unref(ret);
	}
	g_clear_error(&err);

	tcmur_mfile_close(&mf);
	unlink(path);
}

static void test_ublk_add_del(const char *log)
{
	GVariantBuilder o;
	char *text;

	unlink(log);
	g_variant_builder_init(&o, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&o, "{sv}", "name", g_variant_new_string("d1"));
	g_variant_builder_add(&o, "{sv}", "queues", g_variant_new_uint32(2));
	g_variant_builder_add(&o, "{sv}", "size", g_variant_new_uint64(1048576));
	ublk_call("Add", g_variant_new("(sa{sv})", "file//tmp/d1.img", &o), true, "/dev/ublkb4");
	text = fake_log(log);
	CHECK(strstr(text, "add --name d1 --queues 2 --size 1048576 -- file//tmp/d1.img"),
	      "tcmu-ublk ran as: %s", text);
	g_free(text);

	/* tcmu-ublk's refusal comes back word for word. */
	ublk_call("Add", g_variant_new("(sa{sv})", "bad/x", NULL), false,
		  "tcmu-ublk: no handler for \"bad\"");

	/* Refused here, before anything runs. */
	unlink(log);
	g_variant_builder_init(&o, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&o, "{sv}", "colour", g_variant_new_string("blue"));
	ublk_call("Add", g_variant_new("(sa{sv})", "file//tmp/d2.img", &o), false,
		  "unknown option \"colour\"");
	g_variant_builder_init(&o, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&o, "{sv}", "queues", g_variant_new_string("2"));
	ublk_call("Add", g_variant_new("(sa{sv})", "file//tmp/d2.img", &o), false,
		  "option \"queues\" wants type u");
	text = fake_log(log);
	CHECK(!*text, "tcmu-ublk ran for a refused call: %s", text);
	g_free(text);

	/* A cfgstring that looks like an option stays a cfgstring. */
	ublk_call("Add", g_variant_new("(sa{sv})", "--help", NULL), true, "/dev/ublkb4");
	text = fake_log(log);
	CHECK(strstr(text, "add -- --help"), "tcmu-ublk ran as: %s", text);
	g_free(text);

	ublk_call("Delete", g_variant_new("(s)", "d1"), true, "deleted");
	ublk_call("Delete", g_variant_new("(s)", "nosuch"), false, "no device named \"nosuch\"");
	text = fake_log(log);
	CHECK(strstr(text, "del d1\n") && strstr(text, "del nosuch\n"), "tcmu-ublk ran as: %s",
	      text);
	g_free(text);

	/* No tcmu-ublk at all: a clear refusal, not a hang. */
	setenv("TCMU_UBLK", "/nonexistent/tcmu-ublk", 1);
	ublk_call("Add", g_variant_new("(sa{sv})", "file//tmp/d3.img", NULL), false,
		  "cannot run /nonexistent/tcmu-ublk");
	setenv("TCMU_UBLK", FAKE_UBLK, 1);
}

static bool name_owned(void)
{
	GVariant *ret;
	gboolean has = FALSE;

	ret = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		   "NameHasOwner", g_variant_new("(s)", SVC), "(b)", NULL);
	if (ret) {
		g_variant_get(ret, "(b)", &has);
		g_variant_unref(ret);
	}
	return has;
}

static void test_no_bus(void)
{
	char *saved = g_strdup(getenv("DBUS_SYSTEM_BUS_ADDRESS"));
	int warns = stub_warnings;

	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/tcmu-test-bus", 1);
	CHECK(tcmur_dbus_start() == 0, "start without bus must succeed");
	CHECK(stub_warnings == warns + 1, "exactly one warning, got %d", stub_warnings - warns);
	tcmur_dbus_stop();
	tcmur_dbus_handlers_changed(); /* harmless when not running */
	setenv("DBUS_SYSTEM_BUS_ADDRESS", saved, 1);
	g_free(saved);
}

static int serve(void)
{
	char buf[64];

	if (tcmur_dbus_start())
		return 1;
	fprintf(stdout, "ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	tcmur_dbus_stop();
	return 0;
}

int main(int argc, char **argv)
{
	GTestDBus *bus;
	char *prog, *rundir, *fakelog;

	if (argc > 1 && !strcmp(argv[1], "--serve"))
		return serve();

	prog = g_find_program_in_path("dbus-daemon");
	if (!prog) {
		fprintf(stderr, "SKIP: dbus-daemon not installed\n");
		return 77;
	}
	g_free(prog);

	/* tcmu-ublk's run folder: ours, empty; tcmu-ublk: the fake one. */
	rundir = g_dir_make_tmp("tcmu-dbus-ublk-XXXXXX", NULL);
	if (!rundir) {
		fprintf(stderr, "cannot make a temporary folder\n");
		return 1;
	}
	fakelog = g_build_filename(rundir, "fake.log", NULL);
	setenv("TCMU_UBLK_RUNDIR", rundir, 1);
	setenv("TCMU_UBLK", FAKE_UBLK, 1);
	setenv("FAKE_UBLK_LOG", fakelog, 1);

	bus = g_test_dbus_new(G_TEST_DBUS_NONE);
	g_test_dbus_up(bus);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", g_test_dbus_get_bus_address(bus), 1);
	client = g_dbus_connection_new_for_address_sync(
		g_test_dbus_get_bus_address(bus),
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, NULL);
	if (!client) {
		fprintf(stderr, "cannot connect to the private bus\n");
		return 1;
	}
	g_dbus_connection_set_exit_on_close(client, FALSE);

	test_no_bus();

	CHECK(tcmur_dbus_start() == 0, "start");
	CHECK(name_owned(), "name owned after start");
	test_tree();
	test_metrics();
	test_admin();
	test_ublk_metrics();
	test_ublk_add_del(fakelog);
	test_external();
	test_resync();
	tcmur_dbus_stop();
	CHECK(!name_owned(), "name released after stop");

	/* A second start on the same process works (and finds "zbc" too). */
	CHECK(tcmur_dbus_start() == 0, "restart");
	CHECK(wait_subtypes("file qcow zbc"), "objects after restart");
	tcmur_dbus_stop();

	g_dbus_connection_close_sync(client, NULL, NULL);
	g_object_unref(client);
	g_test_dbus_down(bus);
	g_object_unref(bus);
	unlink(fakelog);
	rmdir(rundir);
	g_free(fakelog);
	g_free(rundir);

	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	else
		fprintf(stderr, "all DBus checks passed\n");
	return failures ? 1 : 0;
}
