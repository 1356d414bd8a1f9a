/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Upstream handlers include tcmur_device.h for the per-device handler API:
 * tcmur_dev_set_private()/tcmur_dev_get_private(), the TCMUR_DEV_LOCK_*
 * states and the tcmu_notify_*() events.  Here all of them live in
 * tcmu-runner.h; the device's internals stay private to the daemon.
 */
#ifndef TCMUR_DEVICE_H
#define TCMUR_DEVICE_H

#include "tcmu-runner.h"

#endif
