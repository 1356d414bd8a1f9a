/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Private state of the simulated kernel, shared by sim_kernel.c (sysfs,
 * configfs, netlink, uio ops) and sim_ring.c (the command ring).
 */
#ifndef TCMU_SIM_PRIV_H
#define TCMU_SIM_PRIV_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sim.h"
#include "internal.h"

#define SIM_MAX_IDS	0x10000
#define SIM_NL_FAMILY	0x2a
#define SIM_MAX_REPLIES 128

struct sim_cmd_st {
	bool inflight;
	bool done;
	size_t data_out_len;
	size_t data_in_len;
	uint32_t nblk; /* data blocks, Data-Out ones first */
	uint32_t nblk_out;
	uint32_t *blks;
	struct sim_result res;
};

#define SIM_MAX_KICK_FD 1024

struct sim_dev {
	struct sim_kernel *k;
	struct sim_dev *next;
	unsigned int minor;
	uint32_t dev_id;
	unsigned int hba;
	char name[128];
	char uio_name[512];
	char cfg_dir[512];

	void *map;
	size_t map_size;
	struct tcmu_mailbox *mb;
	uint8_t *cmdr;
	uint32_t cmdr_size;
	size_t data_off;
	size_t block_size;
	uint32_t nblocks;
	uint8_t *blk_used;
	uint32_t rng;

	int lib_fd; /* the library's "/dev/uioN" */
	int sim_fd;
	/*
	 * Kicks through kops.uio_kick: a counter in memory (the futex word) and
	 * how many kernel threads sleep on it.  kick_seen: the count sim_reap
	 * consumed (kernel thread).
	 */
	_Atomic uint32_t kick_seq;
	_Atomic uint32_t kick_sleepers;
	_Atomic uint32_t kick_seen;
	bool open;
	bool destroyed; /* freed once the library closes it */

	uint32_t head; /* kernel's cmd_head */
	uint32_t last_cleaned;
	uint16_t next_id;
	bool broken;
	bool blocked;
	unsigned int kicks;
	bool discard_data_in;
	uint8_t *scratch; /* discard_data_in: where Data-In goes */
	size_t scratch_len;
	unsigned int warnings;
	unsigned int inflight;
	char last_err[256];
	struct sim_cmd_st *cmds[SIM_MAX_IDS];
};

struct sim_kernel {
	pthread_mutex_t lock;
	char root[64];
	char sysfs[128];
	char cfgfs[128];
	struct tcmu_kops ops;
	int nl_lib_fd;
	int nl_sim_fd;
	bool reply_support;
	unsigned int set_features;
	struct sim_nl_reply replies[SIM_MAX_REPLIES];
	unsigned int rep_head, rep_cnt, rep_total;
	char *cfglog;
	size_t cfglog_len;
	struct sim_dev *devs;
	/* lib_fd -> device, for the kick (no lock on that path) */
	struct sim_dev *_Atomic by_fd[SIM_MAX_KICK_FD];
	unsigned int next_minor;
	uint32_t next_dev_id;
};

/* sim_ring.c, with k->lock held */
void sim_ring_reset(struct sim_dev *d, int err_level);
void sim_dev_free_ring(struct sim_dev *d);
void sim_failf(struct sim_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
