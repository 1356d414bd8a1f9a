/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * tcmu-ublk's devices on the DBus service (dbus_ublk.c): their counters in
 * Metrics1, and the Ublk1 object that adds and deletes them.  Everything
 * here runs on the DBus thread of dbus.c.
 */
#ifndef TCMUR_DBUS_UBLK_H
#define TCMUR_DBUS_UBLK_H

#include <gio/gio.h>

#include "dbus.h"

/* Call fn for every tcmu-ublk device of the run folder (metrics_file.h). */
void tcmur_dbus_ublk_each_device(tcmur_dbus_device_fn fn, void *arg);
/* Export /org/kernel/TCMUService1/Ublk1: its registration id, or 0 and *err. */
guint tcmur_dbus_ublk_export(GDBusConnection *conn, GError **err);

#endif
