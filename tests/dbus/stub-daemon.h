/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/* Hooks into the stub daemon used by the DBus tests. */
#ifndef STUB_DAEMON_H
#define STUB_DAEMON_H

extern int stub_warnings;	   /* tcmu_warn() calls seen */
extern int stub_external_removed;  /* tcmur_external_handler_remove() calls */
extern char stub_medium_last[128]; /* "<device> <medium or (eject)>" */

void stub_add_handler(const char *subtype, const char *cfg_desc);

#endif
