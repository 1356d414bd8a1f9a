/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Devices without a TCMU ring (lib/device.c), for frontends other than LIO
 * such as tcmu-ublk.  Not installed: only programs built in this tree link
 * them (from tcmu_static).
 */
#ifndef TCMU_LIB_DETACHED_H
#define TCMU_LIB_DETACHED_H

#include <stdint.h>

struct tcmu_device;

/* name: shown in log lines; cfgstring: "subtype/...".  0 or -ENOMEM. */
int tcmu_dev_new_detached(const char *name, const char *cfgstring, uint32_t block_size,
			  uint64_t num_lbas, struct tcmu_device **out);
void tcmu_dev_free_detached(struct tcmu_device *dev);

#endif
