/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/* tcmu-ublk's per-device record in the run folder (state.c). */
#ifndef TCMU_UBLK_STATE_H
#define TCMU_UBLK_STATE_H

#include <stdint.h>

struct tublk_state {
	uint32_t id;
	char name[4096];
	char cfgstring[4096];
	char handler_path[1024];
	uint64_t size;
	uint32_t block_size, queues, depth, max_sectors;
};

const char *tublk_rundir(void);
int tublk_state_save(const struct tublk_state *s);
int tublk_state_load(uint32_t id, struct tublk_state *s);
void tublk_state_remove(uint32_t id);
/* Call fn for every record until it returns non-zero (returned). */
int tublk_state_each(int (*fn)(const struct tublk_state *s, void *arg), void *arg);

#endif
