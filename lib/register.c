/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Optional DBus registration of a libtcmu program's handlers with
 * tcmu-runner, so that targetcli lists their subtypes.  For each handler:
 * own org.kernel.TCMUService1.HandlerManager1.<subtype> on the system bus,
 * serve CheckConfig at /org/kernel/TCMUService1/HandlerManager1/<subtype>
 * (interface org.kernel.TCMUService1), then call RegisterHandler on
 * tcmu-runner's HandlerManager1 object, again whenever tcmu-runner
 * (re)appears on the bus.
 *
 * Everything runs on a thread of its own with a private GMainContext; the
 * program's threads only queue work for it.  A missing bus or daemon costs
 * one line at info level.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "internal.h"

#define SVC_NAME       "org.kernel.TCMUService1"
#define HM_IFACE       SVC_NAME ".HandlerManager1"
#define HM_PATH	       "/org/kernel/TCMUService1/HandlerManager1"
#define REG_TIMEOUT_MS 30000

static const char check_xml[] = "<node>"
				" <interface name='" SVC_NAME "'>"
				"  <method name='CheckConfig'>"
				"   <arg name='cfgstring' type='s' direction='in'/>"
				"   <arg name='valid' type='b' direction='out'/>"
				"   <arg name='reason' type='s' direction='out'/>"
				"  </method>"
				" </interface>"
				"</node>";

/* One handler announced on the bus.  Registration-thread only, after start. */
struct reg_entry {
	struct tcmu_reg *reg;
	struct tcmulib_handler *h;
	char *bus_name;
	char *path;
	guint own_id;
	guint obj_id;
	bool started;	    /* own/export requested (under reg->lock) */
	bool owned;	    /* we hold bus_name */
	bool registered;    /* RegisterHandler succeeded since the daemon appeared */
	GCancellable *call; /* RegisterHandler in flight */
};

struct tcmu_reg {
	pthread_t thread;
	GMainContext *gctx;
	GMainLoop *loop;
	GDBusConnection *conn;
	GDBusNodeInfo *node;
	guint watch_id;
	bool daemon_up;	    /* tcmu-runner owns SVC_NAME */
	bool daemon_logged; /* the "no tcmu-runner" line was printed */

	pthread_mutex_t lock; /* entries, running */
	GPtrArray *entries;
	bool running; /* thread is (or will be) serving */
};

/* --- CheckConfig ------------------------------------------------------- */

static void check_method(GDBusConnection *conn, const char *sender, const char *path,
			 const char *iface, const char *method, GVariant *params,
			 GDBusMethodInvocation *inv, gpointer data)
{
	struct reg_entry *e = data;
	const char *cfgstring;
	char *reason = NULL;
	bool valid = true;

	if (strcmp(method, "CheckConfig")) {
		g_dbus_method_invocation_return_dbus_error(
			inv, "org.freedesktop.DBus.Error.UnknownMethod", "unknown method");
		return;
	}
	g_variant_get(params, "(&s)", &cfgstring);
	if (e->h->check_config)
		valid = e->h->check_config(cfgstring, &reason);
	g_dbus_method_invocation_return_value(
		inv, g_variant_new("(bs)", valid, reason ? reason : (valid ? "valid" : "invalid")));
	free(reason);
}

static const GDBusInterfaceVTable check_vtable = {
	.method_call = check_method,
};

/* --- RegisterHandler --------------------------------------------------- */

static void register_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct reg_entry *e = data;
	GError *err = NULL;
	GVariant *ret;
	const char *reason;
	gboolean ok;

	ret = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);
	if (!ret && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_error_free(err);
		return; /* e may be gone */
	}
	g_clear_object(&e->call);
	if (!ret) {
		tcmu_info("handler %s: tcmu-runner did not register it: %s\n", e->h->subtype,
			  err->message);
		g_error_free(err);
		return;
	}
	g_variant_get(ret, "(b&s)", &ok, &reason);
	if (ok) {
		e->registered = true;
		tcmu_info("handler %s registered with tcmu-runner\n", e->h->subtype);
	} else {
		tcmu_info("handler %s: tcmu-runner refused the registration: %s\n", e->h->subtype,
			  reason);
	}
	g_variant_unref(ret);
}

static void entry_register(struct reg_entry *e)
{
	struct tcmu_reg *reg = e->reg;

	if (!reg->daemon_up || !e->owned || e->registered || e->call)
		return;
	e->call = g_cancellable_new();
	g_dbus_connection_call(
		reg->conn, SVC_NAME, HM_PATH, HM_IFACE, "RegisterHandler",
		g_variant_new("(ss)", e->h->subtype, e->h->cfg_desc ? e->h->cfg_desc : ""),
		G_VARIANT_TYPE("(bs)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, REG_TIMEOUT_MS, e->call,
		register_done, e);
}

static void name_acquired(GDBusConnection *conn, const char *name, gpointer data)
{
	struct reg_entry *e = data;

	e->owned = true;
	tcmu_dbg("DBus: own %s\n", name);
	entry_register(e);
}

static void name_lost(GDBusConnection *conn, const char *name, gpointer data)
{
	struct reg_entry *e = data;

	if (!conn) {
		tcmu_info("handler %s: no DBus connection, not registered with tcmu-runner\n",
			  e->h->subtype);
	} else if (e->owned) {
		tcmu_info("handler %s: lost the DBus name %s\n", e->h->subtype, name);
	} else {
		tcmu_info("handler %s: DBus name %s is taken or not allowed, "
			  "not registered with tcmu-runner\n",
			  e->h->subtype, name);
	}
	e->owned = false;
	e->registered = false;
}

static void entry_start(struct reg_entry *e)
{
	struct tcmu_reg *reg = e->reg;
	GError *err = NULL;

	e->obj_id = g_dbus_connection_register_object(reg->conn, e->path, reg->node->interfaces[0],
						      &check_vtable, e, NULL, &err);
	if (!e->obj_id) {
		tcmu_info("handler %s: cannot export %s: %s\n", e->h->subtype, e->path,
			  err->message);
		g_error_free(err);
		return;
	}
	e->own_id =
		g_bus_own_name_on_connection(reg->conn, e->bus_name, G_BUS_NAME_OWNER_FLAGS_NONE,
					     name_acquired, name_lost, e, NULL);
}

static void entry_stop(struct reg_entry *e)
{
	struct tcmu_reg *reg = e->reg;

	if (e->call) {
		g_cancellable_cancel(e->call);
		g_clear_object(&e->call);
	}
	if (e->own_id)
		g_bus_unown_name(e->own_id);
	if (e->obj_id)
		g_dbus_connection_unregister_object(reg->conn, e->obj_id);
	e->own_id = e->obj_id = 0;
}

static void entry_free(gpointer p)
{
	struct reg_entry *e = p;

	g_free(e->bus_name);
	g_free(e->path);
	g_free(e);
}

/* Start the entries added since the last call.  Registration thread. */
static gboolean start_pending(gpointer data)
{
	struct tcmu_reg *reg = data;
	GPtrArray *todo = g_ptr_array_new();
	guint i;

	pthread_mutex_lock(&reg->lock);
	for (i = 0; i < reg->entries->len; i++) {
		struct reg_entry *e = g_ptr_array_index(reg->entries, i);

		if (!e->started) {
			e->started = true;
			g_ptr_array_add(todo, e);
		}
	}
	pthread_mutex_unlock(&reg->lock);
	for (i = 0; i < todo->len; i++)
		entry_start(g_ptr_array_index(todo, i));
	g_ptr_array_free(todo, TRUE);
	return G_SOURCE_REMOVE;
}

/* --- tcmu-runner coming and going ------------------------------------- */

static void daemon_appeared(GDBusConnection *conn, const char *name, const char *owner,
			    gpointer data)
{
	struct tcmu_reg *reg = data;
	guint i;

	reg->daemon_up = true;
	reg->daemon_logged = false;
	/* entries only grows, and only start_pending (this thread) reads e->started. */
	pthread_mutex_lock(&reg->lock);
	for (i = 0; i < reg->entries->len; i++) {
		struct reg_entry *e = g_ptr_array_index(reg->entries, i);

		e->registered = false;
		pthread_mutex_unlock(&reg->lock);
		entry_register(e);
		pthread_mutex_lock(&reg->lock);
	}
	pthread_mutex_unlock(&reg->lock);
}

static void daemon_vanished(GDBusConnection *conn, const char *name, gpointer data)
{
	struct tcmu_reg *reg = data;
	guint i;

	if (!reg->daemon_logged)
		tcmu_info("tcmu-runner is not on the system bus: handlers will register "
			  "when it starts\n");
	reg->daemon_logged = true;
	reg->daemon_up = false;
	pthread_mutex_lock(&reg->lock);
	for (i = 0; i < reg->entries->len; i++) {
		struct reg_entry *e = g_ptr_array_index(reg->entries, i);

		e->registered = false;
		if (e->call) {
			g_cancellable_cancel(e->call);
			g_clear_object(&e->call);
		}
	}
	pthread_mutex_unlock(&reg->lock);
}

/* --- the thread ------------------------------------------------------- */

static void *reg_thread(void *arg)
{
	struct tcmu_reg *reg = arg;
	GError *err = NULL;
	char *addr;
	guint i;

	g_main_context_push_thread_default(reg->gctx);
	/*
	 * A private connection: the shared one of g_bus_get() would exit the
	 * process when the bus goes away, and the program may use it too.
	 */
	addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (addr)
		reg->conn = g_dbus_connection_new_for_address_sync(
			addr,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, &err);
	g_free(addr);
	if (!reg->conn) {
		tcmu_info("no DBus system bus (%s): handlers not registered with tcmu-runner\n",
			  err->message);
		g_error_free(err);
		goto out;
	}
	reg->watch_id =
		g_bus_watch_name_on_connection(reg->conn, SVC_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
					       daemon_appeared, daemon_vanished, reg, NULL);
	start_pending(reg);
	g_main_loop_run(reg->loop);

	/* Stop: drop the names and objects, then let GLib finish with them. */
	pthread_mutex_lock(&reg->lock);
	for (i = 0; i < reg->entries->len; i++)
		entry_stop(g_ptr_array_index(reg->entries, i));
	pthread_mutex_unlock(&reg->lock);
	g_bus_unwatch_name(reg->watch_id);
	g_dbus_connection_close_sync(reg->conn, NULL, NULL);
out:
	while (g_main_context_iteration(reg->gctx, FALSE))
		;
	g_clear_object(&reg->conn);
	while (g_main_context_iteration(reg->gctx, FALSE))
		;
	g_main_context_pop_thread_default(reg->gctx);
	return NULL;
}

static struct reg_entry *entry_new(struct tcmu_reg *reg, struct tcmulib_handler *h)
{
	struct reg_entry *e = g_new0(struct reg_entry, 1);

	e->reg = reg;
	e->h = h;
	e->bus_name = g_strdup_printf(HM_IFACE ".%s", h->subtype);
	e->path = g_strdup_printf(HM_PATH "/%s", h->subtype);
	return e;
}

/* A subtype DBus accepts as a bus name element and an object path element. */
static bool subtype_ok(const char *s)
{
	const char *p;

	if (!*s || g_ascii_isdigit(*s))
		return false;
	for (p = s; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '_')
			return false;
	return true;
}

/* Run fn on the registration thread once its loop runs (never here). */
static void reg_schedule(struct tcmu_reg *reg, GSourceFunc fn)
{
	GSource *src = g_idle_source_new();

	g_source_set_callback(src, fn, reg, NULL);
	g_source_attach(src, reg->gctx);
	g_source_unref(src);
}

static void reg_add(struct tcmu_reg *reg, struct tcmulib_handler *h)
{
	if (!subtype_ok(h->subtype)) {
		tcmu_info("handler %s: subtype cannot be a DBus name, not registered with "
			  "tcmu-runner\n",
			  h->subtype);
		return;
	}
	pthread_mutex_lock(&reg->lock);
	g_ptr_array_add(reg->entries, entry_new(reg, h));
	pthread_mutex_unlock(&reg->lock);
}

static bool reg_enabled(void)
{
	const char *env = getenv("TCMU_DBUS_REGISTRATION");

	if (env && (!strcmp(env, "0") || !g_ascii_strcasecmp(env, "no") ||
		    !g_ascii_strcasecmp(env, "false")))
		return false;
	return tcmu_dbus_registration;
}

void tcmu_register_start(struct tcmulib_context *ctx)
{
	struct tcmu_reg *reg;
	GError *err = NULL;
	size_t i;
	int ret;

	if (!reg_enabled() || ctx->reg)
		return;
	reg = g_new0(struct tcmu_reg, 1);
	reg->node = g_dbus_node_info_new_for_xml(check_xml, &err);
	if (!reg->node) {
		tcmu_err("DBus introspection data: %s\n", err->message);
		g_error_free(err);
		g_free(reg);
		return;
	}
	pthread_mutex_init(&reg->lock, NULL);
	reg->entries = g_ptr_array_new_with_free_func(entry_free);
	reg->gctx = g_main_context_new();
	reg->loop = g_main_loop_new(reg->gctx, FALSE);
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->n_handlers; i++)
		reg_add(reg, ctx->handlers[i]);
	pthread_mutex_unlock(&ctx->lock);

	ret = pthread_create(&reg->thread, NULL, reg_thread, reg);
	if (ret) {
		tcmu_info("cannot start the DBus registration thread: %s\n", strerror(ret));
		g_main_loop_unref(reg->loop);
		g_main_context_unref(reg->gctx);
		g_ptr_array_free(reg->entries, TRUE);
		g_dbus_node_info_unref(reg->node);
		pthread_mutex_destroy(&reg->lock);
		g_free(reg);
		return;
	}
	reg->running = true;
	ctx->reg = reg;
}

void tcmu_register_add(struct tcmulib_context *ctx, struct tcmulib_handler *h)
{
	struct tcmu_reg *reg = ctx->reg;

	if (!reg) {
		/* tcmulib_initialize() had no handlers: start now. */
		tcmu_register_start(ctx);
		return;
	}
	reg_add(reg, h);
	reg_schedule(reg, start_pending);
}

static gboolean quit_loop(gpointer data)
{
	struct tcmu_reg *reg = data;

	g_main_loop_quit(reg->loop);
	return G_SOURCE_REMOVE;
}

void tcmu_register_stop(struct tcmulib_context *ctx)
{
	struct tcmu_reg *reg = ctx->reg;

	if (!reg)
		return;
	ctx->reg = NULL;
	reg_schedule(reg, quit_loop);
	pthread_join(reg->thread, NULL);
	g_main_loop_unref(reg->loop);
	g_main_context_unref(reg->gctx);
	g_ptr_array_free(reg->entries, TRUE);
	g_dbus_node_info_unref(reg->node);
	pthread_mutex_destroy(&reg->lock);
	g_free(reg);
}
