// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Per-device worker threads: run blocking handler callouts (SERIALIZE: one
 * worker, PARALLEL: nr_threads) and the engine's slow compound commands.
 * The ring thread queues a whole batch under one lock acquisition.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "scsi_defs.h"

/*
 * Worker, after a callout whose return value is the status: did the
 * handler also call tcmur_cmd_complete() from inside it?  A handler bug:
 * logged, and its completion's status replaces *rc (one completion, never
 * two).  Ends the callout either way.
 */
static bool completed_inside(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, const char *what,
			     int *rc)
{
	unsigned int f = atomic_fetch_and(&p->flags, ~TCMUR_CMD_IN_CALLOUT);

	if (!(f & TCMUR_CMD_COMPLETED))
		return false;
	tcmur_log_completed_and_returned(rdev, p, what, *rc);
	*rc = p->hsts;
	return true;
}

static void run_one(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	struct tcmu_device *dev = rdev->dev;
	unsigned int flags;
	bool locked;
	int rc;

	flags = atomic_fetch_or(&p->flags, TCMUR_CMD_STARTED);
	/*
	 * FORMAT UNIT set "format in progress" when dispatched; only its slow
	 * part clears it, so it runs even when aborted or completed at stop.
	 */
	if (p->work == TCMUR_WORK_SLOW && p->tc.lib_cmd->cdb[0] == FORMAT_UNIT)
		flags &= ~(TCMUR_CMD_DONE | TCMUR_CMD_ABORTED);
	if (flags & TCMUR_CMD_DONE)
		return; /* completed at stop time; nothing left to do */
	if (flags & TCMUR_CMD_ABORTED) {
		/* The initiator gave up on it: do not touch the backend. */
		tcmur_cmd_finish_async(rdev, p, TCMU_STS_ABORTED);
		return;
	}

	switch (p->work) {
	case TCMUR_WORK_HANDLE_CMD:
		atomic_fetch_or(&p->flags, TCMUR_CMD_IN_CALLOUT);
		locked = tcmur_serial_lock(rdev);
		rc = rdev->h->handle_cmd(dev, &p->tc);
		tcmur_serial_unlock(rdev, locked);
		if (atomic_load(&rdev->abandoned))
			return; /* the device is gone: p may be freed memory */
		if (completed_inside(rdev, p, "handle_cmd", &rc))
			tcmur_cmd_finish_async(rdev, p, rc);
		else if (rc == TCMU_STS_NOT_HANDLED)
			tcmur_ring_push(rdev, p, TCMUR_STAGE_GENERIC);
		else if (rc != TCMU_STS_ASYNC_HANDLED)
			tcmur_cmd_finish_async(rdev, p, rc);
		break;
	case TCMUR_WORK_IO:
		atomic_fetch_or(&p->flags, TCMUR_CMD_IN_CALLOUT);
		locked = tcmur_serial_lock(rdev);
		rc = tcmur_exec_io(rdev, p);
		tcmur_serial_unlock(rdev, locked);
		if (atomic_load(&rdev->abandoned))
			return;
		completed_inside(rdev, p, "an I/O callout", &rc);
		tcmur_cmd_finish_async(rdev, p, rc);
		break;
	case TCMUR_WORK_SLOW:
		/* Not under serial_lock: the engine calls tcmur_io_*(), which take it. */
		rc = scsi_exec_slow(rdev->scsi, &p->tc);
		if (atomic_load(&rdev->abandoned))
			return;
		tcmur_cmd_finish_async(rdev, p, rc);
		break;
	default:
		tcmur_cmd_finish_async(rdev, p, TCMU_STS_HW_ERR);
		break;
	}
}

static void *worker_thread(void *arg)
{
	struct tcmur_device *rdev = arg;
	struct tcmur_workers *wq = &rdev->wq;
	struct tcmur_cmd_priv *p;

	pthread_mutex_lock(&wq->lock);
	for (;;) {
		while (!wq->head && !wq->stop) {
			wq->idle++;
			pthread_cond_wait(&wq->cond, &wq->lock);
			wq->idle--;
		}
		p = wq->head;
		if (!p || atomic_load(&rdev->abandoned))
			break; /* stop and nothing queued, or given up on */
		wq->head = p->next;
		if (!wq->head)
			wq->tail = NULL;
		pthread_mutex_unlock(&wq->lock);
		run_one(rdev, p);
		pthread_mutex_lock(&wq->lock);
	}
	pthread_mutex_unlock(&wq->lock);
	return NULL;
}

int tcmur_workers_start(struct tcmur_device *rdev, unsigned int nr)
{
	struct tcmur_workers *wq = &rdev->wq;
	char name[16];
	unsigned int i;
	int ret;

	if (nr < 1)
		nr = 1;
	if (nr > TCMUR_MAX_THREADS)
		nr = TCMUR_MAX_THREADS;
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->cond, NULL);
	wq->head = wq->tail = NULL;
	wq->stop = false;
	wq->nr = 0;
	for (i = 0; i < nr; i++) {
		ret = -pthread_create(&wq->threads[i], NULL, worker_thread, rdev);
		if (ret) {
			tcmur_workers_stop(rdev);
			return ret;
		}
		snprintf(name, sizeof(name), "wk%u-%s", i, tcmu_dev_get_uio_name(rdev->dev));
		pthread_setname_np(wq->threads[i], name);
		wq->nr++;
	}
	return 0;
}

void tcmur_workers_stop(struct tcmur_device *rdev)
{
	struct tcmur_workers *wq = &rdev->wq;
	unsigned int i, left = 0;
	struct timespec ts;

	pthread_mutex_lock(&wq->lock);
	wq->stop = true;
	pthread_cond_broadcast(&wq->cond);
	pthread_mutex_unlock(&wq->lock);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += rdev->stop_wait_ms / 1000 + 1;
	for (i = 0; i < wq->nr; i++) {
		if (pthread_timedjoin_np(wq->threads[i], NULL, &ts)) {
			/* Stuck in the handler: leave it, report it. */
			pthread_detach(wq->threads[i]);
			wq->threads[left++] = wq->threads[i];
		}
	}
	if (left)
		tcmu_dev_err(rdev->dev, "%u worker thread(s) did not stop in time\n", left);
	wq->nr = left;
}

void tcmur_workers_queue(struct tcmur_device *rdev, struct tcmur_cmd_priv *first,
			 struct tcmur_cmd_priv *last, unsigned int n)
{
	struct tcmur_workers *wq = &rdev->wq;
	unsigned int wake;

	last->next = NULL;
	pthread_mutex_lock(&wq->lock);
	if (wq->tail)
		wq->tail->next = first;
	else
		wq->head = first;
	wq->tail = last;
	wake = wq->idle < n ? wq->idle : n;
	if (wake > 1)
		pthread_cond_broadcast(&wq->cond);
	else if (wake == 1)
		pthread_cond_signal(&wq->cond);
	pthread_mutex_unlock(&wq->lock);
}
