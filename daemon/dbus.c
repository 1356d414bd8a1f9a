// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The org.kernel.TCMUService1 DBus service: handler objects for targetcli,
 * RegisterHandler for external libtcmu programs, device metrics, and the
 * Admin1 medium changes (eject, load) of removable-medium devices; tcmu-ublk's
 * devices (metrics, Ublk1) come from dbus_ublk.c.  Runs on
 * its own thread and GMainContext; the daemon's loop never sees GLib.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "libtcmu_log.h"
#include "dbus.h"
#include "dbus_ublk.h"

#define SVC_NAME	    "org.kernel.TCMUService1"
#define SVC_PATH	    "/org/kernel/TCMUService1"
#define HM_IFACE	    SVC_NAME ".HandlerManager1"
#define HM_PATH		    SVC_PATH "/HandlerManager1"
#define METRICS_IFACE	    SVC_NAME ".Metrics1"
#define METRICS_PATH	    SVC_PATH "/Metrics1"
#define ADMIN_IFACE	    SVC_NAME ".Admin1"
#define ADMIN_PATH	    SVC_PATH "/Admin1"
#define OM_IFACE	    "org.freedesktop.DBus.ObjectManager"
#define ERR_UNKNOWN_DEV	    SVC_NAME ".Error.UnknownDevice"
#define ERR_UNKNOWN_OBJ	    SVC_NAME ".Error.UnknownObject"
#define SUBTYPE_MAX	    64
#define EXT_CALL_TIMEOUT_MS 30000

static const char introspection_xml[] =
	"<node>"
	" <interface name='" OM_IFACE "'>"
	"  <method name='GetManagedObjects'>"
	"   <arg name='objects' type='a{oa{sa{sv}}}' direction='out'/>"
	"  </method>"
	"  <signal name='InterfacesAdded'>"
	"   <arg name='object' type='o'/>"
	"   <arg name='interfaces' type='a{sa{sv}}'/>"
	"  </signal>"
	"  <signal name='InterfacesRemoved'>"
	"   <arg name='object' type='o'/>"
	"   <arg name='interfaces' type='as'/>"
	"  </signal>"
	" </interface>"
	" <interface name='" SVC_NAME "'>"
	"  <method name='CheckConfig'>"
	"   <arg name='cfgstring' type='s' direction='in'/>"
	"   <arg name='valid' type='b' direction='out'/>"
	"   <arg name='reason' type='s' direction='out'/>"
	"  </method>"
	"  <property name='ConfigDesc' type='s' access='read'/>"
	" </interface>"
	" <interface name='" HM_IFACE "'>"
	"  <method name='RegisterHandler'>"
	"   <arg name='subtype' type='s' direction='in'/>"
	"   <arg name='cfg_desc' type='s' direction='in'/>"
	"   <arg name='ok' type='b' direction='out'/>"
	"   <arg name='reason' type='s' direction='out'/>"
	"  </method>"
	" </interface>"
	" <interface name='" METRICS_IFACE "'>"
	"  <method name='ListDevices'>"
	"   <arg name='devices' type='a(sssss)' direction='out'/>"
	"  </method>"
	"  <method name='GetMetrics'>"
	"   <arg name='device' type='s' direction='in'/>"
	"   <arg name='metrics' type='a{sv}' direction='out'/>"
	"  </method>"
	"  <method name='GetAllMetrics'>"
	"   <arg name='metrics' type='a{sa{sv}}' direction='out'/>"
	"  </method>"
	"  <property name='LatencyBucketsUsec' type='at' access='read'/>"
	" </interface>"
	" <interface name='" ADMIN_IFACE "'>"
	"  <method name='EjectMedium'>"
	"   <arg name='device' type='s' direction='in'/>"
	"   <arg name='ok' type='b' direction='out'/>"
	"   <arg name='reason' type='s' direction='out'/>"
	"  </method>"
	"  <method name='LoadMedium'>"
	"   <arg name='device' type='s' direction='in'/>"
	"   <arg name='medium' type='s' direction='in'/>"
	"   <arg name='ok' type='b' direction='out'/>"
	"   <arg name='reason' type='s' direction='out'/>"
	"  </method>"
	" </interface>"
	"</node>";

/* A handler object: a local plugin or an external program's registration. */
struct hobj {
	char *subtype;
	char *cfg_desc;
	bool external;
	guint reg_id; /* object registration, 0 if not exported */
	/* external only */
	char *bus_name;
	guint watch_id;
	GDBusMethodInvocation *pending; /* RegisterHandler waiting for the name */
	bool seen;			/* local resync mark */
};

/* Everything below is touched only on the DBus thread, after start. */
static struct {
	pthread_t thread;
	bool running;
	GMainContext *ctx;
	GMainLoop *loop;
	GDBusConnection *conn;
	GDBusNodeInfo *node;
	GHashTable *objs; /* subtype -> struct hobj */
	guint om_id, hm_id, metrics_id, admin_id, ublk_id;
} svc;

static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER; /* start/stop */

static GDBusInterfaceInfo *iface_info(const char *name)
{
	return g_dbus_node_info_lookup_interface(svc.node, name);
}

static void hobj_free(gpointer p)
{
	struct hobj *h = p;

	g_free(h->subtype);
	g_free(h->cfg_desc);
	g_free(h->bus_name);
	g_free(h);
}

static char *handler_path(const char *subtype)
{
	return g_strdup_printf(SVC_PATH "/%s", subtype);
}

/* Subtypes become a path element and a bus name element. */
static bool subtype_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (!len || len > SUBTYPE_MAX || g_ascii_isdigit(s[0]))
		return false;
	for (i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '_')
			return false;
	return true;
}

static GVariant *handler_props(struct hobj *h)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "ConfigDesc",
			      g_variant_new_string(h->cfg_desc ? h->cfg_desc : ""));
	return g_variant_builder_end(&b);
}

static void emit_om_signal(struct hobj *h, bool added)
{
	GError *err = NULL;
	char *path = handler_path(h->subtype);
	GVariant *args;

	if (added) {
		GVariantBuilder b;

		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
		g_variant_builder_add(&b, "{s@a{sv}}", SVC_NAME, handler_props(h));
		args = g_variant_new("(oa{sa{sv}})", path, &b);
	} else {
		const char *ifaces[] = { SVC_NAME, NULL };

		args = g_variant_new("(o^as)", path, ifaces);
	}
	if (!g_dbus_connection_emit_signal(svc.conn, NULL, SVC_PATH, OM_IFACE,
					   added ? "InterfacesAdded" : "InterfacesRemoved", args,
					   &err)) {
		tcmu_warn("DBus: cannot signal %s: %s\n", path, err->message);
		g_error_free(err);
	}
	g_free(path);
}

/* ---- handler objects ----------------------------------------------------- */

static void ext_check_config_done(GObject *src, GAsyncResult *res, gpointer data)
{
	GDBusMethodInvocation *inv = data;
	GError *err = NULL;
	GVariant *ret;
	char *msg;

	ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
	if (ret) {
		g_dbus_method_invocation_return_value(inv, ret);
		return;
	}
	msg = g_strdup_printf("external handler did not answer: %s", err->message);
	g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)", FALSE, msg));
	g_free(msg);
	g_error_free(err);
}

static void check_config(struct hobj *h, const char *cfgstring, GDBusMethodInvocation *inv)
{
	char *reason = NULL, *path;
	bool valid = false;
	int ret;

	if (h->external) {
		path = g_strdup_printf(HM_PATH "/%s", h->subtype);
		g_dbus_connection_call(svc.conn, h->bus_name, path, SVC_NAME, "CheckConfig",
				       g_variant_new("(s)", cfgstring), G_VARIANT_TYPE("(bs)"),
				       G_DBUS_CALL_FLAGS_NONE, EXT_CALL_TIMEOUT_MS, NULL,
				       ext_check_config_done, inv);
		g_free(path);
		return;
	}

	ret = tcmur_handler_check_config(h->subtype, cfgstring, &valid, &reason);
	if (ret) {
		g_dbus_method_invocation_return_value(
			inv, g_variant_new("(bs)", FALSE,
					   ret == -ENOENT ? "handler is gone" : "check failed"));
		return;
	}
	g_dbus_method_invocation_return_value(
		inv, g_variant_new("(bs)", valid, reason ? reason : (valid ? "valid" : "invalid")));
	free(reason);
}

static void handler_method(GDBusConnection *conn, const char *sender, const char *path,
			   const char *iface, const char *method, GVariant *params,
			   GDBusMethodInvocation *inv, gpointer data)
{
	struct hobj *h = g_hash_table_lookup(svc.objs, (const char *)data);
	const char *cfgstring;

	if (!h || !h->reg_id) {
		g_dbus_method_invocation_return_dbus_error(inv, ERR_UNKNOWN_OBJ, "handler is gone");
		return;
	}
	g_variant_get(params, "(&s)", &cfgstring);
	check_config(h, cfgstring, inv);
}

static GVariant *handler_get_property(GDBusConnection *conn, const char *sender, const char *path,
				      const char *iface, const char *prop, GError **err,
				      gpointer data)
{
	struct hobj *h = g_hash_table_lookup(svc.objs, (const char *)data);

	if (!h) {
		g_set_error(err, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT, "handler is gone");
		return NULL;
	}
	return g_variant_new_string(h->cfg_desc ? h->cfg_desc : "");
}

static const GDBusInterfaceVTable handler_vtable = {
	.method_call = handler_method,
	.get_property = handler_get_property,
};

static int hobj_export(struct hobj *h)
{
	GError *err = NULL;
	char *path = handler_path(h->subtype);

	h->reg_id = g_dbus_connection_register_object(svc.conn, path, iface_info(SVC_NAME),
						      &handler_vtable, g_strdup(h->subtype), g_free,
						      &err);
	g_free(path);
	if (!h->reg_id) {
		tcmu_err("DBus: cannot export handler %s: %s\n", h->subtype, err->message);
		g_error_free(err);
		return -EEXIST;
	}
	emit_om_signal(h, true);
	return 0;
}

static void hobj_unexport(struct hobj *h)
{
	if (!h->reg_id)
		return;
	g_dbus_connection_unregister_object(svc.conn, h->reg_id);
	h->reg_id = 0;
	emit_om_signal(h, false);
}

/* ---- local handlers -------------------------------------------------------- */

static void resync_one(const char *subtype, const char *cfg_desc, void *arg)
{
	struct hobj *h;

	if (!subtype || !subtype_valid(subtype)) {
		tcmu_warn("DBus: handler subtype '%s' cannot be exported\n",
			  subtype ? subtype : "(null)");
		return;
	}
	h = g_hash_table_lookup(svc.objs, subtype);
	if (h) {
		if (h->external)
			return;
		h->seen = true;
		if (g_strcmp0(h->cfg_desc, cfg_desc)) {
			g_free(h->cfg_desc);
			h->cfg_desc = g_strdup(cfg_desc);
		}
		return;
	}
	h = g_new0(struct hobj, 1);
	h->subtype = g_strdup(subtype);
	h->cfg_desc = g_strdup(cfg_desc);
	h->seen = true;
	g_hash_table_insert(svc.objs, h->subtype, h);
	hobj_export(h);
}

static gboolean resync_local(gpointer unused)
{
	GHashTableIter it;
	struct hobj *h;

	g_hash_table_iter_init(&it, svc.objs);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&h))
		h->seen = false;

	tcmur_for_each_handler(resync_one, NULL);

	g_hash_table_iter_init(&it, svc.objs);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&h)) {
		if (h->external || h->seen)
			continue;
		hobj_unexport(h);
		g_hash_table_iter_remove(&it);
	}
	return G_SOURCE_REMOVE;
}

/* ---- external handlers (HandlerManager1) ----------------------------------- */

static void ext_reply(struct hobj *h, bool ok, const char *reason)
{
	if (!h->pending)
		return;
	g_dbus_method_invocation_return_value(h->pending, g_variant_new("(bs)", ok, reason));
	h->pending = NULL;
}

static void ext_appeared(GDBusConnection *conn, const char *name, const char *owner, gpointer data)
{
	struct hobj *h = g_hash_table_lookup(svc.objs, (const char *)data);

	if (!h || !h->external || h->reg_id)
		return;
	if (hobj_export(h)) {
		ext_reply(h, false, "cannot export the handler object");
		return;
	}
	tcmu_info("DBus: external handler %s registered by %s\n", h->subtype, owner);
	ext_reply(h, true, "succeeded");
}

static void ext_vanished(GDBusConnection *conn, const char *name, gpointer data)
{
	struct hobj *h = g_hash_table_lookup(svc.objs, (const char *)data);
	char *msg;

	if (!h || !h->external)
		return;
	if (h->pending) {
		msg = g_strdup_printf("cannot find handler bus name %s", h->bus_name);
		ext_reply(h, false, msg);
		g_free(msg);
	} else {
		tcmu_info("DBus: external handler %s went away\n", h->subtype);
	}
	hobj_unexport(h);
	tcmur_external_handler_remove(h->subtype);
	if (h->watch_id)
		g_bus_unwatch_name(h->watch_id); /* frees data later, on this thread */
	g_hash_table_remove(svc.objs, h->subtype);
}

static void register_handler(GVariant *params, GDBusMethodInvocation *inv)
{
	const char *subtype, *cfg_desc;
	struct hobj *h;
	int ret;

	g_variant_get(params, "(&s&s)", &subtype, &cfg_desc);
	if (!subtype_valid(subtype)) {
		g_dbus_method_invocation_return_value(
			inv, g_variant_new("(bs)", FALSE, "invalid subtype"));
		return;
	}
	if (g_hash_table_contains(svc.objs, subtype)) {
		g_dbus_method_invocation_return_value(
			inv, g_variant_new("(bs)", FALSE, "subtype already registered"));
		return;
	}
	ret = tcmur_external_handler_add(subtype, cfg_desc);
	if (ret) {
		g_dbus_method_invocation_return_value(
			inv, g_variant_new("(bs)", FALSE,
					   ret == -EEXIST ? "subtype already registered"
							  : "daemon refused the handler"));
		return;
	}

	h = g_new0(struct hobj, 1);
	h->subtype = g_strdup(subtype);
	h->cfg_desc = g_strdup(cfg_desc);
	h->external = true;
	h->bus_name = g_strdup_printf(HM_IFACE ".%s", subtype);
	h->pending = inv;
	g_hash_table_insert(svc.objs, h->subtype, h);
	/* The answer waits until the program's bus name shows up (or not). */
	h->watch_id = g_bus_watch_name_on_connection(svc.conn, h->bus_name,
						     G_BUS_NAME_WATCHER_FLAGS_NONE, ext_appeared,
						     ext_vanished, g_strdup(subtype), g_free);
}

static void hm_method(GDBusConnection *conn, const char *sender, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      GDBusMethodInvocation *inv, gpointer data)
{
	register_handler(params, inv);
}

static const GDBusInterfaceVTable hm_vtable = {
	.method_call = hm_method,
};

/* ---- ObjectManager ------------------------------------------------------------ */

static void om_method(GDBusConnection *conn, const char *sender, const char *path,
		      const char *iface, const char *method, GVariant *params,
		      GDBusMethodInvocation *inv, gpointer data)
{
	GVariantBuilder b;
	GHashTableIter it;
	struct hobj *h;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{oa{sa{sv}}}"));
	g_hash_table_iter_init(&it, svc.objs);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&h)) {
		char *opath;

		if (!h->reg_id)
			continue;
		opath = handler_path(h->subtype);
		g_variant_builder_open(&b, G_VARIANT_TYPE("{oa{sa{sv}}}"));
		g_variant_builder_add(&b, "o", opath);
		g_variant_builder_open(&b, G_VARIANT_TYPE("a{sa{sv}}"));
		g_variant_builder_add(&b, "{s@a{sv}}", SVC_NAME, handler_props(h));
		g_variant_builder_close(&b);
		g_variant_builder_close(&b);
		g_free(opath);
	}
	g_dbus_method_invocation_return_value(inv, g_variant_new("(a{oa{sa{sv}}})", &b));
}

static const GDBusInterfaceVTable om_vtable = {
	.method_call = om_method,
};

/* ---- Metrics1 ----------------------------------------------------------------- */

static GVariant *metrics_dict(const struct tcmur_dbus_device *d)
{
	static const char *const dir_names[TCMUR_METRICS_NR_DIRS] = { "read", "write", "other" };
	const struct tcmur_dev_metrics *m = &d->metrics;
	GVariantBuilder b;
	char key[32];
	int i;

#define S(x) ((x) ? (x) : "")
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(S(d->name)));
	g_variant_builder_add(&b, "{sv}", "uio", g_variant_new_string(S(d->uio)));
	g_variant_builder_add(&b, "{sv}", "handler", g_variant_new_string(S(d->subtype)));
	g_variant_builder_add(&b, "{sv}", "cfgstring", g_variant_new_string(S(d->cfgstring)));
	g_variant_builder_add(&b, "{sv}", "state", g_variant_new_string(S(d->state)));
#undef S
	for (i = 0; i < TCMUR_METRICS_NR_DIRS; i++) {
		snprintf(key, sizeof(key), "%s_cmds", dir_names[i]);
		g_variant_builder_add(&b, "{sv}", key, g_variant_new_uint64(m->cmds[i]));
		snprintf(key, sizeof(key), "%s_bytes", dir_names[i]);
		g_variant_builder_add(&b, "{sv}", key, g_variant_new_uint64(m->bytes[i]));
	}
	g_variant_builder_add(&b, "{sv}", "latency_buckets",
			      g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, m->lat_buckets,
							TCMUR_METRICS_LAT_BUCKETS,
							sizeof(uint64_t)));
	g_variant_builder_add(&b, "{sv}", "latency_total_ns",
			      g_variant_new_uint64(m->lat_total_ns));
	g_variant_builder_add(&b, "{sv}", "in_flight", g_variant_new_uint32(m->in_flight));
	g_variant_builder_add(&b, "{sv}", "errors", g_variant_new_uint64(m->errors));
	g_variant_builder_add(&b, "{sv}", "timeouts", g_variant_new_uint64(m->timeouts));
	g_variant_builder_add(&b, "{sv}", "aborts", g_variant_new_uint64(m->aborts));
	g_variant_builder_add(&b, "{sv}", "lock_lost", g_variant_new_uint64(m->lock_lost));
	g_variant_builder_add(&b, "{sv}", "conn_lost", g_variant_new_uint64(m->conn_lost));
	g_variant_builder_add(&b, "{sv}", "recoveries", g_variant_new_uint64(m->recoveries));
	return g_variant_builder_end(&b);
}

struct metrics_walk {
	const char *want; /* GetMetrics: one device */
	GVariant *found;
	GVariantBuilder *b;
	int mode;
};

enum { WALK_LIST, WALK_ONE, WALK_ALL };

static void metrics_walk_one(const struct tcmur_dbus_device *d, void *arg)
{
	struct metrics_walk *w = arg;

	switch (w->mode) {
	case WALK_LIST:
		g_variant_builder_add(w->b, "(sssss)", d->name ? d->name : "", d->uio ? d->uio : "",
				      d->subtype ? d->subtype : "",
				      d->cfgstring ? d->cfgstring : "", d->state ? d->state : "");
		break;
	case WALK_ONE:
		if (!w->found && d->name && !strcmp(d->name, w->want))
			w->found = g_variant_ref_sink(metrics_dict(d));
		break;
	case WALK_ALL:
		g_variant_builder_add(w->b, "{s@a{sv}}", d->name ? d->name : "", metrics_dict(d));
		break;
	}
}

static void metrics_method(GDBusConnection *conn, const char *sender, const char *path,
			   const char *iface, const char *method, GVariant *params,
			   GDBusMethodInvocation *inv, gpointer data)
{
	struct metrics_walk w = { 0 };
	GVariantBuilder b;

	if (!strcmp(method, "ListDevices")) {
		g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssss)"));
		w.mode = WALK_LIST;
		w.b = &b;
		tcmur_for_each_device(metrics_walk_one, &w);
		tcmur_dbus_ublk_each_device(metrics_walk_one, &w);
		g_dbus_method_invocation_return_value(inv, g_variant_new("(a(sssss))", &b));
	} else if (!strcmp(method, "GetAllMetrics")) {
		g_variant_builder_init(&b, G_VARIANT_TYPE("a{sa{sv}}"));
		w.mode = WALK_ALL;
		w.b = &b;
		tcmur_for_each_device(metrics_walk_one, &w);
		tcmur_dbus_ublk_each_device(metrics_walk_one, &w);
		g_dbus_method_invocation_return_value(inv, g_variant_new("(a{sa{sv}})", &b));
	} else {
		g_variant_get(params, "(&s)", &w.want);
		w.mode = WALK_ONE;
		tcmur_for_each_device(metrics_walk_one, &w);
		if (!w.found)
			tcmur_dbus_ublk_each_device(metrics_walk_one, &w);
		if (!w.found) {
			g_dbus_method_invocation_return_dbus_error(inv, ERR_UNKNOWN_DEV,
								   "no such device");
			return;
		}
		g_dbus_method_invocation_return_value(inv, g_variant_new("(@a{sv})", w.found));
		g_variant_unref(w.found);
	}
}

static GVariant *metrics_get_property(GDBusConnection *conn, const char *sender, const char *path,
				      const char *iface, const char *prop, GError **err,
				      gpointer data)
{
	uint64_t lower[TCMUR_METRICS_LAT_BUCKETS];
	int i;

	/* Lower bound of each bucket; bucket i ends where i + 1 starts. */
	lower[0] = 0;
	for (i = 1; i < TCMUR_METRICS_LAT_BUCKETS; i++)
		lower[i] = 1ull << i;
	return g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, lower, TCMUR_METRICS_LAT_BUCKETS,
					 sizeof(uint64_t));
}

static const GDBusInterfaceVTable metrics_vtable = {
	.method_call = metrics_method,
	.get_property = metrics_get_property,
};

/* ---- Admin1 ------------------------------------------------------------------- */

/* EjectMedium / LoadMedium: the device's handler changes its medium. */
static void admin_method(GDBusConnection *conn, const char *sender, const char *path,
			 const char *iface, const char *method, GVariant *params,
			 GDBusMethodInvocation *inv, gpointer data)
{
	const char *dev, *medium = NULL;
	char *reason = NULL, *msg;
	int ret;

	if (!strcmp(method, "LoadMedium"))
		g_variant_get(params, "(&s&s)", &dev, &medium);
	else
		g_variant_get(params, "(&s)", &dev);
	ret = tcmur_dev_change_medium(dev, medium, &reason);
	if (ret == -ENODEV) {
		g_dbus_method_invocation_return_dbus_error(inv, ERR_UNKNOWN_DEV, "no such device");
		free(reason);
		return;
	}
	if (!ret)
		msg = g_strdup(medium ? "loaded" : "ejected");
	else if (reason)
		msg = g_strdup(reason);
	else if (ret == -EOPNOTSUPP)
		msg = g_strdup("the device's handler has no removable medium");
	else if (ret == -EBUSY)
		msg = g_strdup("the device is not open (opening, closing or recovering)");
	else
		msg = g_strdup_printf("%s failed: %s", medium ? "load" : "eject", g_strerror(-ret));
	tcmu_info("DBus: %s %s%s%s by %s: %s\n", method, dev, medium ? " " : "",
		  medium ? medium : "", sender ? sender : "?", msg);
	g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)", ret == 0, msg));
	g_free(msg);
	free(reason);
}

static const GDBusInterfaceVTable admin_vtable = {
	.method_call = admin_method,
};

/* ---- lifecycle ------------------------------------------------------------------ */

static void *dbus_thread(void *arg)
{
	g_main_context_push_thread_default(svc.ctx);
	g_main_loop_run(svc.loop);
	g_main_context_pop_thread_default(svc.ctx);
	return NULL;
}

/* Runs on the DBus thread: drop every object and name, then stop the loop. */
static gboolean teardown(gpointer unused)
{
	GHashTableIter it;
	struct hobj *h;

	g_hash_table_iter_init(&it, svc.objs);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&h)) {
		if (h->external) {
			ext_reply(h, false, "tcmu-runner is stopping");
			if (h->watch_id)
				g_bus_unwatch_name(h->watch_id);
			tcmur_external_handler_remove(h->subtype);
		}
		if (h->reg_id)
			g_dbus_connection_unregister_object(svc.conn, h->reg_id);
		g_hash_table_iter_remove(&it);
	}
	if (svc.ublk_id)
		g_dbus_connection_unregister_object(svc.conn, svc.ublk_id);
	if (svc.admin_id)
		g_dbus_connection_unregister_object(svc.conn, svc.admin_id);
	if (svc.metrics_id)
		g_dbus_connection_unregister_object(svc.conn, svc.metrics_id);
	if (svc.hm_id)
		g_dbus_connection_unregister_object(svc.conn, svc.hm_id);
	if (svc.om_id)
		g_dbus_connection_unregister_object(svc.conn, svc.om_id);
	svc.ublk_id = svc.admin_id = svc.metrics_id = svc.hm_id = svc.om_id = 0;
	g_main_loop_quit(svc.loop);
	return G_SOURCE_REMOVE;
}

static void cleanup_globals(void)
{
	if (svc.conn) {
		g_dbus_connection_close_sync(svc.conn, NULL, NULL);
		g_object_unref(svc.conn);
	}
	if (svc.objs)
		g_hash_table_destroy(svc.objs);
	if (svc.node)
		g_dbus_node_info_unref(svc.node);
	if (svc.loop)
		g_main_loop_unref(svc.loop);
	if (svc.ctx) {
		/* Let pending callbacks (unwatch, unregister) release their data. */
		while (g_main_context_iteration(svc.ctx, FALSE))
			;
		g_main_context_unref(svc.ctx);
	}
	memset(&svc, 0, sizeof(svc));
}

static guint register_fixed(const char *path, const char *iface, const GDBusInterfaceVTable *vt,
			    GError **err)
{
	return g_dbus_connection_register_object(svc.conn, path, iface_info(iface), vt, NULL, NULL,
						 err);
}

/* On the caller's thread, with svc.ctx pushed: connect, export, own the name. */
static int connect_and_export(void)
{
	GError *err = NULL;
	GVariant *reply;
	char *addr;
	guint32 code;

	addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (addr) {
		svc.conn = g_dbus_connection_new_for_address_sync(
			addr,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, &err);
		g_free(addr);
	}
	if (!svc.conn) {
		tcmu_warn("DBus: no system bus (%s); serving devices without the DBus service\n",
			  err ? err->message : "unknown error");
		g_clear_error(&err);
		return -ENOTCONN;
	}
	g_dbus_connection_set_exit_on_close(svc.conn, FALSE);

	svc.om_id = register_fixed(SVC_PATH, OM_IFACE, &om_vtable, &err);
	if (svc.om_id)
		svc.hm_id = register_fixed(HM_PATH, HM_IFACE, &hm_vtable, &err);
	if (svc.hm_id)
		svc.metrics_id = register_fixed(METRICS_PATH, METRICS_IFACE, &metrics_vtable, &err);
	if (svc.metrics_id)
		svc.admin_id = register_fixed(ADMIN_PATH, ADMIN_IFACE, &admin_vtable, &err);
	if (svc.admin_id)
		svc.ublk_id = tcmur_dbus_ublk_export(svc.conn, &err);
	if (!svc.ublk_id) {
		tcmu_warn("DBus: cannot export objects (%s); continuing without DBus\n",
			  err->message);
		g_clear_error(&err);
		return -EIO;
	}
	resync_local(NULL);

	/* Objects first, then the name: systemd's Type=dbus waits for the name. */
	reply = g_dbus_connection_call_sync(
		svc.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		"RequestName", g_variant_new("(su)", SVC_NAME, 4u), G_VARIANT_TYPE("(u)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, &err);
	if (!reply) {
		tcmu_warn("DBus: cannot own %s (%s); continuing without DBus\n", SVC_NAME,
			  err->message);
		g_clear_error(&err);
		return -EACCES;
	}
	g_variant_get(reply, "(u)", &code);
	g_variant_unref(reply);
	if (code != 1 && code != 4) { /* primary owner / already owner */
		tcmu_warn("DBus: %s is owned by another process; continuing without DBus\n",
			  SVC_NAME);
		return -EEXIST;
	}
	return 0;
}

int tcmur_dbus_start(void)
{
	int ret;

	pthread_mutex_lock(&svc_lock);
	if (svc.running) {
		pthread_mutex_unlock(&svc_lock);
		return 0;
	}
	svc.ctx = g_main_context_new();
	svc.loop = g_main_loop_new(svc.ctx, FALSE);
	svc.objs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, hobj_free);
	svc.node = g_dbus_node_info_new_for_xml(introspection_xml, NULL);
	if (!svc.node) {
		ret = -EINVAL;
		goto err_cleanup;
	}

	g_main_context_push_thread_default(svc.ctx);
	ret = connect_and_export();
	g_main_context_pop_thread_default(svc.ctx);
	if (ret) {
		/* Warned already; the daemon runs on without the service. */
		if (svc.conn)
			teardown(NULL);
		ret = 0;
		goto err_cleanup;
	}

	ret = -pthread_create(&svc.thread, NULL, dbus_thread, NULL);
	if (ret) {
		tcmu_err("DBus: cannot start thread: %s\n", strerror(-ret));
		teardown(NULL);
		goto err_cleanup;
	}
	svc.running = true;
	pthread_mutex_unlock(&svc_lock);
	tcmu_dbg("DBus: %s ready\n", SVC_NAME);
	return 0;

err_cleanup:
	cleanup_globals();
	pthread_mutex_unlock(&svc_lock);
	return ret;
}

void tcmur_dbus_stop(void)
{
	pthread_mutex_lock(&svc_lock);
	if (!svc.running) {
		pthread_mutex_unlock(&svc_lock);
		return;
	}
	g_main_context_invoke(svc.ctx, teardown, NULL);
	pthread_join(svc.thread, NULL);
	cleanup_globals();
	pthread_mutex_unlock(&svc_lock);
}

void tcmur_dbus_handlers_changed(void)
{
	pthread_mutex_lock(&svc_lock);
	if (svc.running)
		g_main_context_invoke(svc.ctx, resync_local, NULL);
	pthread_mutex_unlock(&svc_lock);
}
