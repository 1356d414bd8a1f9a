/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The DBus service (org.kernel.TCMUService1) that targetcli and tcmu-stat talk
 * to, and the small set of daemon functions it needs.
 *
 * Build: daemon/CMakeLists.txt compiles dbus.c only when GIO was found
 * (pkg_check_modules(GIO ... gio-unix-2.0)) and links PkgConfig::GIO; define
 * TCMUR_HAVE_DBUS then.  Without it, call nothing here (or use the inline stubs
 * below, which make start/stop no-ops).
 *
 * Threads: dbus.c runs its own thread with its own GMainContext.  Every
 * function in the "provided by the daemon" section is called from that thread,
 * concurrently with the daemon's own threads, so each must take the locks it
 * needs.  None of them may call back into dbus.c, except that
 * tcmur_dbus_handlers_changed() may be called from anywhere.
 *
 * Objects (see also docs/man/tcmu-stat.8):
 *   /org/kernel/TCMUService1                 org.freedesktop.DBus.ObjectManager
 *   /org/kernel/TCMUService1/<subtype>       org.kernel.TCMUService1
 *	property ConfigDesc s; CheckConfig(s cfgstring) -> (b valid, s reason)
 *   /org/kernel/TCMUService1/HandlerManager1 org.kernel.TCMUService1.HandlerManager1
 *	RegisterHandler(s subtype, s cfg_desc) -> (b ok, s reason)
 *   /org/kernel/TCMUService1/Metrics1        org.kernel.TCMUService1.Metrics1
 *	ListDevices() -> a(sssss), GetMetrics(s dev) -> a{sv},
 *	GetAllMetrics() -> a{sa{sv}}, property LatencyBucketsUsec at
 *   /org/kernel/TCMUService1/Admin1          org.kernel.TCMUService1.Admin1
 *	EjectMedium(s dev) -> (b ok, s reason),
 *	LoadMedium(s dev, s medium) -> (b ok, s reason)
 *   /org/kernel/TCMUService1/Ublk1           org.kernel.TCMUService1.Ublk1
 *	Add(s cfgstring, a{sv} options) -> (b ok, s dev or reason),
 *	Delete(s id or name) -> (b ok, s reason), List() -> a(ussss)
 *	(dbus_ublk.c: runs tcmu-ublk; Metrics1 lists its devices too)
 * Only handler objects are listed by the ObjectManager: targetcli turns every
 * managed object into a "user:<subtype>" backstore.
 */
#ifndef TCMUR_DBUS_H
#define TCMUR_DBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h" /* struct tcmur_dev_metrics */

/* ---- provided by dbus.c ------------------------------------------------- */

#ifdef TCMUR_HAVE_DBUS
/*
 * Connect to the system bus, export the objects and request the name
 * org.kernel.TCMUService1.  Call after the plugins are registered.  Without a
 * system bus it logs one warning and returns 0: the daemon keeps serving its
 * devices.  Returns -errno only for local failures (thread, memory).
 */
int tcmur_dbus_start(void);
/* Release the name, unexport everything and join the thread.  Idempotent. */
void tcmur_dbus_stop(void);
/* The set of local handlers changed: re-sync their objects.  Any thread. */
void tcmur_dbus_handlers_changed(void);
/* Ublk1.Add passes this --handler-path to tcmu-ublk.  Before start. */
void tcmur_dbus_ublk_set_handler_dir(const char *dir);
#else
static inline int tcmur_dbus_start(void)
{
	return 0;
}
static inline void tcmur_dbus_stop(void)
{
}
static inline void tcmur_dbus_handlers_changed(void)
{
}
static inline void tcmur_dbus_ublk_set_handler_dir(const char *dir)
{
	(void)dir;
}
#endif

/* One device as the DBus thread sees it; strings valid during the callback. */
struct tcmur_dbus_device {
	const char *name;      /* configfs name ("disk0") */
	const char *uio;       /* "uio0" */
	const char *subtype;   /* handler subtype ("file") */
	const char *cfgstring; /* full "subtype/handler cfg" */
	const char *state;     /* short word: "open", "blocked", "recovering", ... */
	struct tcmur_dev_metrics metrics;
};

/* ---- provided by the daemon (called on the DBus thread) ------------------ */

typedef void (*tcmur_dbus_handler_fn)(const char *subtype, const char *cfg_desc, void *arg);
/*
 * Call fn for every handler plugin the daemon loaded (not for external
 * programs, which dbus.c tracks itself).  cfg_desc may be NULL.  fn only
 * copies the strings; the daemon may hold its handler lock meanwhile.
 */
void tcmur_for_each_handler(tcmur_dbus_handler_fn fn, void *arg);

/*
 * Run the check_config of the local handler for subtype on cfgstring (the full
 * "subtype/..." string targetcli sends).  On return 0, *valid is set and
 * *reason is NULL or a malloc()ed message the caller frees.  A handler without
 * check_config gives *valid = true.  -ENOENT if no such handler.
 */
int tcmur_handler_check_config(const char *subtype, const char *cfgstring, bool *valid,
			       char **reason);

/*
 * An external libtcmu program serves subtype (DBus RegisterHandler): the
 * daemon must leave devices of that subtype alone and refuse a plugin with the
 * same subtype.  Returns 0, or -EEXIST when a local handler or another program
 * has it.  remove is called when the program's bus name vanishes.
 */
int tcmur_external_handler_add(const char *subtype, const char *cfg_desc);
void tcmur_external_handler_remove(const char *subtype);

/*
 * Admin1 EjectMedium / LoadMedium: medium NULL ejects, else it is the
 * handler's part of a cfgstring ("[ro/]<path>" for fbo) to load.  0 or
 * -ENODEV (no device of that name), -EBUSY (not open: opening, closing,
 * recovering), -EOPNOTSUPP (its handler has no change_medium), or the
 * handler's -errno; *reason is then NULL or a malloc()ed message.  May block
 * while a command of the device runs in its handler.
 */
int tcmur_dev_change_medium(const char *name, const char *medium, char **reason);

typedef void (*tcmur_dbus_device_fn)(const struct tcmur_dbus_device *dev, void *arg);
/*
 * Call fn for every device the daemon serves, with a consistent snapshot of
 * its metrics.  fn only copies; the daemon may hold its device lock meanwhile.
 */
void tcmur_for_each_device(tcmur_dbus_device_fn fn, void *arg);

#endif
