/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * tcmu-ublk: a tcmu-runner handler served as a ublk block device
 * (/dev/ublkbN).  One process per device; the handler .so, its cfgstring
 * and its callouts are the ones tcmu-runner uses for LIO.
 *
 * Threads: the main thread (control commands, signals), one thread per ublk
 * queue (its own io_uring: FETCH / COMMIT_AND_FETCH, the handler's ASYNC
 * callouts), and for SERIALIZE / PARALLEL handlers a pool of workers making
 * the blocking callouts.  Data moves through per-tag buffers the kernel
 * copies to and from (no UBLK_F_USER_COPY, no zero copy).
 */
#ifndef TCMU_UBLK_H
#define TCMU_UBLK_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "daemon.h"
#include "metrics.h"
#include "ublk_abi.h"

/* ---- map.c: one ublk request -> handler callouts (no kernel needed) ---- */

enum tublk_call {
	TUBLK_CALL_NONE,  /* complete at once with plan.err (0: success) */
	TUBLK_CALL_READ,  /* read(off, len) into the tag's buffer */
	TUBLK_CALL_WRITE, /* write(off, len) from the tag's buffer */
	TUBLK_CALL_FLUSH,
	TUBLK_CALL_UNMAP,	/* unmap(off, len) */
	TUBLK_CALL_WRITE_ZEROS, /* writesame(off, len) of one zeroed block */
};

/* What the handler offers, read once after its open(). */
struct tublk_caps {
	bool read, write, flush, unmap, writesame;
	bool fua_native; /* TCMUR_CAP_FUA: write() honours tc.fua */
	uint32_t block_size;
	uint64_t size; /* bytes */
};

struct tublk_plan {
	int call;	  /* enum tublk_call */
	uint64_t off;	  /* bytes */
	uint64_t len;	  /* bytes */
	bool fua;	  /* pass tc.fua to write() */
	bool flush_after; /* FUA without handler support: flush once written */
	int err;	  /* TUBLK_CALL_NONE: 0 or -errno */
};

/* Fill *pl for a request; returns pl->err semantics via pl (always 0). */
void tublk_plan_request(const struct tublk_caps *c, uint32_t op_flags, uint64_t start_sector,
			uint32_t nr_sectors, struct tublk_plan *pl);
/* The ublk result of a finished plan: bytes for read/write, 0, or -errno. */
int tublk_result(const struct tublk_plan *pl, int sts);
/* TCMU_STS_* -> -errno for the block layer. */
int tublk_sts_errno(int sts);
/*
 * Can ublk serve this handler?  Refuses handle_cmd-only handlers (they speak
 * SCSI).  0, or -EOPNOTSUPP with the reason in err.
 */
int tublk_handler_usable(const struct tcmur_handler *h, char *err, size_t errlen);
/* The subtype of a cfgstring ("file/x" -> "file"), past ";opts;". */
int tublk_cfg_subtype(const char *cfg, char *out, size_t outlen);

/* ---- dev.c: the handler side of one device ---- */

struct tublk_req;

struct tublk_dev {
	struct tcmu_device *dev;
	struct tcmur_device rdev; /* what the handler API reaches via dev */
	struct tcmur_handler_rec *hrec;
	struct tcmur_handler *h;
	int model;
	bool opened;
	struct tublk_caps caps;
	void *zero_block;
	int completion_fd;     /* ASYNC handlers' pollable completion fd, or -1 */
	pthread_mutex_t alock; /* ASYNC: callouts, batch_end, reap */
	bool alock_needed;     /* ASYNC with several queues */

	/* Workers (SERIALIZE, PARALLEL). */
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	struct tublk_req *whead, *wtail;
	bool wstop;
	unsigned int nr_workers;
	pthread_t workers[TCMUR_MAX_THREADS];
};

struct tublk_dev_conf {
	const char *name;
	const char *cfgstring; /* as given (may start with ";opts;") */
	uint64_t size;	       /* bytes, 0: from the backing file */
	uint32_t block_size;
};

/* Load nothing; find the handler, check, open.  0 or -errno, reason in err. */
int tublk_dev_open(struct tublk_dev *d, const struct tublk_dev_conf *conf, char *err,
		   size_t errlen);
void tublk_dev_close(struct tublk_dev *d);
int tublk_workers_start(struct tublk_dev *d);
void tublk_workers_stop(struct tublk_dev *d);

/* ---- queue.c: one ublk queue ---- */

struct tublk_queue;

struct tublk_req {
	struct tcmur_cmd_priv p; /* first: the handler gets &p.tc */
	struct tcmulib_cmd lc;
	struct iovec iov;
	struct tublk_plan plan;
	struct tublk_queue *q;
	uint16_t tag;
	uint8_t stage; /* 0 main callout, 1 the FUA flush */
	int sts;
	struct tublk_req *next;
};

struct tublk_queue {
	struct tublk_dev *d;
	uint16_t q_id;
	uint16_t depth;
	uint32_t buf_size;
	int cdev_fd;
	struct io_uring ring;
	const struct ublka_io_desc *descs;
	size_t descs_len;
	uint8_t *bufs;
	size_t bufs_len;
	struct tublk_req *reqs;
	int efd;
	_Atomic(struct tublk_req *) remote;	   /* completions from other threads */
	struct tublk_req *local;		   /* completions on this thread */
	struct tublk_req *issue_head, *issue_tail; /* ASYNC: to call (or retry) */
	unsigned int dead_tags;
	/*
	 * Counters of this queue, written by its thread only (metrics.h): a
	 * slot of the device's metrics file (metrics_file.h), else own_m.
	 */
	struct tcmur_metrics *m;
	struct tcmur_metrics own_m;
	uint32_t nr_inflight; /* requests taken, not committed yet */
	atomic_bool stop;
	int err; /* setup error, -errno */
	pthread_t thread;
	bool started;
	/* Startup handshake with the main thread. */
	pthread_mutex_t slock;
	pthread_cond_t scond;
	bool ready;
};

int tublk_queue_init(struct tublk_queue *q, struct tublk_dev *d, int cdev_fd, uint16_t q_id,
		     uint16_t depth, uint32_t buf_size);
/* Start the thread and wait until its FETCH commands are submitted. */
int tublk_queue_start(struct tublk_queue *q);
void tublk_queue_stop(struct tublk_queue *q);
void tublk_queue_fini(struct tublk_queue *q);
/* Any thread: hand a finished request back to its queue. */
void tublk_req_done(struct tublk_req *r, int sts);
/* Set r's command fields for its callout (as the daemon does for LIO). */
void tublk_req_prepare(struct tublk_dev *d, struct tublk_req *r);
/* Call the callout of r's stage (ASYNC: on the queue thread, under alock). */
int tublk_req_call(struct tublk_dev *d, struct tublk_req *r);
/* Blocking: run a request's callouts to the end (workers). */
int tublk_req_run_sync(struct tublk_dev *d, struct tublk_req *r);
/* Hand a chain of requests (linked by next) to the workers. */
void tublk_workers_queue(struct tublk_dev *d, struct tublk_req *first, struct tublk_req *last);

/* ---- ctrl.c: /dev/ublk-control ---- */

struct tublk_ctrl {
	int fd;
	struct io_uring ring;
};

int tublk_ctrl_open(struct tublk_ctrl *c);
void tublk_ctrl_close(struct tublk_ctrl *c);
/* One control command; returns the kernel's result (>= 0) or -errno. */
int tublk_ctrl_cmd(struct tublk_ctrl *c, unsigned int nr, uint32_t dev_id, void *buf, uint16_t len,
		   uint64_t data0);
int tublk_ctrl_dev_info(struct tublk_ctrl *c, uint32_t dev_id, struct ublka_dev_info *info);
const char *tublk_state_name(unsigned int state);

#endif
