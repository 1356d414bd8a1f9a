/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The command counters of a device served by another process (a tcmu-ublk
 * server), shared through a small file that process maps: one header, then
 * one struct tcmur_metrics per queue, each written by its queue thread alone
 * (the single-writer rule of metrics.h, so no locked instruction and no
 * system call per command).  Readers (tcmu-stat, tcmu-runner's Metrics1)
 * map the file, snapshot every slot and add them up.
 *
 * The file is <run folder>/<id>.metrics, the run folder being
 * $TCMU_UBLK_RUNDIR or /run/tcmu-ublk.  Its server holds an exclusive
 * flock() on it while it serves, which is how a reader tells a live server
 * from a file left behind by a killed one.
 */
#ifndef TCMUR_METRICS_FILE_H
#define TCMUR_METRICS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define TCMUR_MFILE_NAME_MAX	256
#define TCMUR_MFILE_SUBTYPE_MAX 64
#define TCMUR_MFILE_CFG_MAX	4096
#define TCMUR_MFILE_MAX_SLOTS	4096

/* The run folder of tcmu-ublk: $TCMU_UBLK_RUNDIR, else /run/tcmu-ublk. */
const char *tcmur_ublk_rundir(void);
/* <run folder>/<id>.metrics */
void tcmur_ublk_metrics_path(uint32_t id, char *buf, size_t len);

/* ---- the server (writer) ---- */

struct tcmur_mfile {
	int fd;
	void *map;
	size_t len;
	unsigned int nr_slots;
};

struct tcmur_mfile_info {
	uint32_t id;
	const char *name;      /* the device's name (tcmu-ublk --name) */
	const char *subtype;   /* handler subtype */
	const char *cfgstring; /* as given */
};

/*
 * Create path (replacing an older file atomically) with nr_slots zeroed
 * slots, and hold its lock until tcmur_mfile_close().  0 or -errno.
 */
int tcmur_mfile_create(struct tcmur_mfile *mf, const char *path,
		       const struct tcmur_mfile_info *info, unsigned int nr_slots);
/* Slot i: the counters one queue thread writes. */
struct tcmur_metrics *tcmur_mfile_slot(const struct tcmur_mfile *mf, unsigned int i);
/* Unmap and let go of the lock; the file stays for readers to see it dead. */
void tcmur_mfile_close(struct tcmur_mfile *mf);

/* ---- readers ---- */

struct tcmur_mfile_sample {
	uint32_t id;
	bool live;    /* a server holds the file */
	char dev[32]; /* "ublkb<id>": the name readers list it under */
	char name[TCMUR_MFILE_NAME_MAX];
	char subtype[TCMUR_MFILE_SUBTYPE_MAX];
	char cfgstring[TCMUR_MFILE_CFG_MAX];
	struct tcmur_dev_metrics m; /* all slots added up */
};

/* One file.  0, -errno, or -EINVAL when it is not a metrics file of this build. */
int tcmur_mfile_read(const char *path, struct tcmur_mfile_sample *s);

typedef int (*tcmur_mfile_fn)(const struct tcmur_mfile_sample *s, void *arg);
/*
 * Every readable <id>.metrics of the run folder, live ones and those of a
 * device still in the kernel whose server is gone (waiting for `tcmu-ublk
 * recover`); files of deleted devices are skipped.  Stops at, and returns,
 * fn's first non-zero value; 0 when the folder does not exist.
 */
int tcmur_ublk_metrics_each(tcmur_mfile_fn fn, void *arg);

#endif
