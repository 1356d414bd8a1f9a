/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * How the qcow handler runs commands in the ASYNC thread model: reads and
 * writes of plain clusters go to io_uring straight from the ring thread
 * (qimg_fast_map), everything else (allocation, copy-up, compressed
 * clusters, flush, discard, and fast I/O that came back short) to the
 * handler's own worker threads, which block.
 */
#ifndef QCOW_ASYNC_H
#define QCOW_ASYNC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "qcow_format.h"
#include "tcmu-runner.h"

enum qjob_op { QJ_READ, QJ_WRITE, QJ_FLUSH, QJ_UNMAP };

struct qjob {
	struct qjob *next;
	struct tcmur_cmd *cmd;
	enum qjob_op op;
	struct iovec *iov; /* read, write: valid until the command completes */
	size_t cnt;
	uint64_t len; /* read, write, unmap */
	uint64_t off;
};

/* Runs a job to the end on a worker thread (may block); returns TCMU_STS_*. */
typedef int (*qjob_run_fn)(struct tcmu_device *dev, const struct qjob *job);

struct qasync;

/* Open thread: workers started; io_uring when the kernel allows it.  0 or -errno. */
int qasync_start(struct tcmu_device *dev, struct qimg *img, qjob_run_fn run, struct qasync **out);
/* Close thread, after every command completed: workers joined, ring freed. */
void qasync_stop(struct qasync *a);
/* Ring thread, never blocks: the job is queued (TCMU_STS_OK) or refused (a status). */
int qasync_queue(struct qasync *a, const struct qjob *job);
/* Ring thread: the io_uring fd to poll (-1 without), its completions, the batch's submission. */
int qasync_fd(struct qasync *a);
void qasync_reap(struct qasync *a);
void qasync_submit(struct qasync *a);

#endif
