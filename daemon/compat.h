/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The legacy (upstream tcmu-runner 1.5) handler ABI: status translation and
 * the wrapper that turns an upstream struct tcmur_handler into a native one.
 */
#ifndef TCMUR_COMPAT_H
#define TCMUR_COMPAT_H

#include "tcmu-runner.h"

/* Upstream TCMU_STS_* value to the native one and back; pure functions. */
int tcmur_compat_sts_to_native(int up_sts);
int tcmur_compat_sts_to_upstream(int sts);

/*
 * Free the wrapper behind a native handler if tcmur_register_handler()
 * made it (no-op otherwise).  Main thread, after the handler's destroy().
 */
void tcmur_compat_release(struct tcmur_handler *native);

#endif
