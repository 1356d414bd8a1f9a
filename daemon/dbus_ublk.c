// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu-ublk's devices on org.kernel.TCMUService1 (DBus thread only):
 *
 * - Metrics1 lists them next to the LIO devices, as "ublkb<id>", with the
 *   counters their server processes keep in the run folder (metrics_file.h).
 * - /org/kernel/TCMUService1/Ublk1 adds and deletes them by running
 *   `tcmu-ublk add` / `tcmu-ublk del`, asynchronously: the reply carries the
 *   new device, or exactly what the command printed on failure (and the
 *   command leaves no half-made device then).  The servers it starts are not
 *   children of the daemon: they run on when it stops.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbus_ublk.h"
#include "libtcmu_log.h"
#include "metrics_file.h"

#define UBLK_PATH  "/org/kernel/TCMUService1/Ublk1"
#define UBLK_IFACE "org.kernel.TCMUService1.Ublk1"

#ifndef TCMU_UBLK_BIN
#define TCMU_UBLK_BIN "/usr/sbin/tcmu-ublk"
#endif

static const char ublk_xml[] = "<node>"
			       " <interface name='" UBLK_IFACE "'>"
			       "  <method name='Add'>"
			       "   <arg name='cfgstring' type='s' direction='in'/>"
			       "   <arg name='options' type='a{sv}' direction='in'/>"
			       "   <arg name='ok' type='b' direction='out'/>"
			       "   <arg name='device_or_reason' type='s' direction='out'/>"
			       "  </method>"
			       "  <method name='Delete'>"
			       "   <arg name='id_or_name' type='s' direction='in'/>"
			       "   <arg name='ok' type='b' direction='out'/>"
			       "   <arg name='reason' type='s' direction='out'/>"
			       "  </method>"
			       "  <method name='List'>"
			       "   <arg name='devices' type='a(ussss)' direction='out'/>"
			       "  </method>"
			       " </interface>"
			       "</node>";

static char *handler_dir; /* tcmu-runner's --handler-path, for Add */
static GDBusNodeInfo *ublk_node;

void tcmur_dbus_ublk_set_handler_dir(const char *dir)
{
	g_free(handler_dir);
	handler_dir = g_strdup(dir);
}

/* ---- Metrics1 ---- */

struct each_arg {
	tcmur_dbus_device_fn fn;
	void *arg;
};

static const char *sample_state(const struct tcmur_mfile_sample *s)
{
	/* Without a server the kernel holds the device for `tcmu-ublk recover`. */
	return s->live ? "open" : "no-server";
}

static int each_one(const struct tcmur_mfile_sample *s, void *arg)
{
	struct each_arg *a = arg;
	struct tcmur_dbus_device d = {
		.name = s->dev,
		.uio = "-",
		.subtype = s->subtype,
		.cfgstring = s->cfgstring,
		.state = sample_state(s),
		.metrics = s->m,
	};

	a->fn(&d, a->arg);
	return 0;
}

void tcmur_dbus_ublk_each_device(tcmur_dbus_device_fn fn, void *arg)
{
	struct each_arg a = { fn, arg };
	int ret = tcmur_ublk_metrics_each(each_one, &a);

	if (ret)
		tcmu_dbg("DBus: ublk devices in %s: %s\n", tcmur_ublk_rundir(), strerror(-ret));
}

/* ---- Ublk1 ---- */

/* $TCMU_UBLK, else next to this program (installed, or the build tree), else sbin. */
static char *ublk_bin(void)
{
	static const char *const rel[] = { "tcmu-ublk", "../ublk/tcmu-ublk", "../sbin/tcmu-ublk" };
	const char *env = getenv("TCMU_UBLK");
	char self[PATH_MAX];
	ssize_t n;
	size_t i;

	if (env && *env)
		return g_strdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *dir;

		self[n] = '\0';
		dir = g_path_get_dirname(self);
		for (i = 0; i < G_N_ELEMENTS(rel); i++) {
			char *p = g_build_filename(dir, rel[i], NULL);

			if (access(p, X_OK) == 0) {
				g_free(dir);
				return p;
			}
			g_free(p);
		}
		g_free(dir);
	}
	return g_strdup(TCMU_UBLK_BIN);
}

/* An Add option as tcmu-ublk's argument; NULL and *reason when it is not one. */
static char *option_arg(const char *key, GVariant *v, const char **flag, char **reason)
{
	static const struct {
		const char *key, *flag, *type;
	} opts[] = {
		{ "name", "--name", "s" },
		{ "id", "--id", "u" },
		{ "queues", "--queues", "u" },
		{ "depth", "--depth", "u" },
		{ "size", "--size", "t" },
		{ "block_size", "--block-size", "u" },
		{ "max_sectors", "--max-sectors", "u" },
		{ "handler_path", "--handler-path", "s" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(opts); i++) {
		if (strcmp(key, opts[i].key))
			continue;
		*flag = opts[i].flag;
		/* size also as a string with a suffix, as on the command line ("1G") */
		if (!strcmp(key, "size") && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
			return g_variant_dup_string(v, NULL);
		if (!g_variant_is_of_type(v, G_VARIANT_TYPE(opts[i].type))) {
			*reason = g_strdup_printf("option \"%s\" wants type %s%s, not %s", key,
						  opts[i].type, !strcmp(key, "size") ? " or s" : "",
						  g_variant_get_type_string(v));
			return NULL;
		}
		if (opts[i].type[0] == 's')
			return g_variant_dup_string(v, NULL);
		if (opts[i].type[0] == 't')
			return g_strdup_printf("%" G_GUINT64_FORMAT, g_variant_get_uint64(v));
		return g_strdup_printf("%u", g_variant_get_uint32(v));
	}
	*reason = g_strdup_printf("unknown option \"%s\" (known: name, id, queues, depth, size, "
				  "block_size, max_sectors, handler_path)",
				  key);
	return NULL;
}

/* argv of `tcmu-ublk add` for an Add call; NULL and *reason if refused. */
static GPtrArray *add_argv(const char *cfgstring, GVariant *options, char **reason)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	bool has_hpath = false;
	GVariantIter it;
	const char *key, *flag;
	GVariant *v;

	g_ptr_array_add(argv, ublk_bin());
	g_ptr_array_add(argv, g_strdup("add"));
	g_variant_iter_init(&it, options);
	while (g_variant_iter_next(&it, "{&sv}", &key, &v)) {
		char *val = option_arg(key, v, &flag, reason);

		g_variant_unref(v);
		if (!val) {
			g_ptr_array_free(argv, TRUE);
			return NULL;
		}
		has_hpath |= !strcmp(key, "handler_path");
		g_ptr_array_add(argv, g_strdup(flag));
		g_ptr_array_add(argv, val);
	}
	if (!has_hpath && handler_dir) {
		g_ptr_array_add(argv, g_strdup("--handler-path"));
		g_ptr_array_add(argv, g_strdup(handler_dir));
	}
	g_ptr_array_add(argv, g_strdup("--")); /* a cfgstring is never an option */
	g_ptr_array_add(argv, g_strdup(cfgstring));
	g_ptr_array_add(argv, NULL);
	return argv;
}

struct run {
	GDBusMethodInvocation *inv;
	char *what; /* for the log: "Add file//x" */
	bool is_add;
};

static void run_done(GObject *src, GAsyncResult *res, gpointer data)
{
	GSubprocess *proc = G_SUBPROCESS(src);
	struct run *r = data;
	char *out = NULL, *err_text = NULL, *msg;
	GError *err = NULL;
	bool ok = false;

	if (!g_subprocess_communicate_utf8_finish(proc, res, &out, &err_text, &err)) {
		msg = g_strdup_printf("tcmu-ublk: %s", err->message);
		g_error_free(err);
	} else {
		ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
		if (ok)
			msg = g_strdup(!r->is_add ? "deleted" : out ? g_strstrip(out) : "");
		else if (err_text && *g_strstrip(err_text))
			msg = g_strdup(err_text);
		else
			msg = g_strdup_printf("tcmu-ublk failed (exit status %d)",
					      g_subprocess_get_if_exited(proc)
						      ? g_subprocess_get_exit_status(proc)
						      : -1);
	}
	tcmu_info("DBus: Ublk1.%s: %s\n", r->what, msg);
	g_dbus_method_invocation_return_value(r->inv, g_variant_new("(bs)", ok, msg));
	g_free(msg);
	g_free(out);
	g_free(err_text);
	g_free(r->what);
	g_free(r);
	g_object_unref(proc);
}

/* Run argv; the reply follows when it exits.  Takes argv. */
static void run_ublk(GDBusMethodInvocation *inv, GPtrArray *argv, bool is_add, const char *what)
{
	GError *err = NULL;
	GSubprocess *proc;
	struct run *r;

	proc = g_subprocess_newv((const char *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &err);
	if (!proc) {
		char *msg =
			g_strdup_printf("cannot run %s: %s", (char *)argv->pdata[0], err->message);

		tcmu_warn("DBus: Ublk1.%s: %s\n", what, msg);
		g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)", FALSE, msg));
		g_free(msg);
		g_error_free(err);
		g_ptr_array_free(argv, TRUE);
		return;
	}
	g_ptr_array_free(argv, TRUE);
	r = g_new0(struct run, 1);
	r->inv = inv;
	r->is_add = is_add;
	r->what = g_strdup(what);
	g_subprocess_communicate_utf8_async(proc, NULL, NULL, run_done, r);
}

static int list_sample(const struct tcmur_mfile_sample *s, void *arg)
{
	char dev[48];

	snprintf(dev, sizeof(dev), "/dev/%s", s->dev);
	g_variant_builder_add(arg, "(ussss)", s->id, dev, s->name, s->cfgstring, sample_state(s));
	return 0;
}

static void ublk_method(GDBusConnection *conn, const char *sender, const char *path,
			const char *iface, const char *method, GVariant *params,
			GDBusMethodInvocation *inv, gpointer data)
{
	const char *arg;
	char *reason = NULL, *what;
	GVariant *options;
	GVariantBuilder b;
	GPtrArray *argv;

	if (!strcmp(method, "List")) {
		g_variant_builder_init(&b, G_VARIANT_TYPE("a(ussss)"));
		tcmur_ublk_metrics_each(list_sample, &b);
		g_dbus_method_invocation_return_value(inv, g_variant_new("(a(ussss))", &b));
		return;
	}
	if (!strcmp(method, "Delete")) {
		g_variant_get(params, "(&s)", &arg);
		what = g_strdup_printf("Delete %s by %s", arg, sender ? sender : "?");
		argv = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(argv, ublk_bin());
		g_ptr_array_add(argv, g_strdup("del"));
		g_ptr_array_add(argv, g_strdup(arg));
		g_ptr_array_add(argv, NULL);
		run_ublk(inv, argv, false, what);
		g_free(what);
		return;
	}
	g_variant_get(params, "(&s@a{sv})", &arg, &options);
	what = g_strdup_printf("Add %s by %s", arg, sender ? sender : "?");
	argv = add_argv(arg, options, &reason);
	g_variant_unref(options);
	if (!argv) {
		tcmu_info("DBus: Ublk1.%s: %s\n", what, reason);
		g_dbus_method_invocation_return_value(inv, g_variant_new("(bs)", FALSE, reason));
		g_free(reason);
	} else {
		run_ublk(inv, argv, true, what);
	}
	g_free(what);
}

static const GDBusInterfaceVTable ublk_vtable = {
	.method_call = ublk_method,
};

guint tcmur_dbus_ublk_export(GDBusConnection *conn, GError **err)
{
	if (!ublk_node) {
		ublk_node = g_dbus_node_info_new_for_xml(ublk_xml, err);
		if (!ublk_node)
			return 0;
	}
	return g_dbus_connection_register_object(conn, UBLK_PATH, ublk_node->interfaces[0],
						 &ublk_vtable, NULL, NULL, err);
}
