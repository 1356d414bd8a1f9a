/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Upstream handlers include scsi.h for the tcmu_emulate_*() helpers (declared
 * in libtcmu.h) and a few Block Limits VPD values, given here with upstream's
 * names and numbers.
 */
#ifndef TCMU_SCSI_H
#define TCMU_SCSI_H

#include "libtcmu.h"

#define VPD_MAX_UNMAP_LBA_COUNT	       (32 * 1024 * 1024)
#define VPD_MAX_UNMAP_BLOCK_DESC_COUNT 0x04
#define MAX_CAW_LENGTH		       0x01
#define VPD_MAX_WRITE_SAME_LENGTH      0xFFFFFFFF

#endif
