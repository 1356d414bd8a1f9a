// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The qcow handler's command execution in the ASYNC thread model (see
 * qcow_async.h).  Two ways for a command:
 *  - fast: every cluster is plain data of the image's own, its L2 table is
 *    cached and the metadata lock is free: one io_uring read or write per
 *    run of clusters that follow each other in the file, queued on the ring
 *    thread and completed there by qasync_reap();
 *  - a worker: queued to the handler's threads, which call the handler's
 *    blocking code (qimg_readv, qimg_writev, flush, discard).
 * A fast I/O that comes back short or failed is done again by a worker,
 * which zero-fills past the end of the file and logs real errors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_URING
#include <liburing.h>
#endif

#include "qcow_async.h"

#define QA_WORKERS 4
#define QA_DEPTH   256
#define QA_MAX_EXT 16 /* more file extents than this: a worker does it */

struct qasync {
	struct tcmu_device *dev;
	struct qimg *img;
	qjob_run_fn run;

	pthread_mutex_t lock; /* the job queue */
	pthread_cond_t cond;
	struct qjob *head, **tail;
	bool stop;
	pthread_t th[QA_WORKERS];
	int nth;

#ifdef HAVE_URING
	bool uring;
	struct io_uring ring; /* ring thread only */
	unsigned int queued;  /* SQEs not submitted yet */
#endif
};

/* ---- workers -------------------------------------------------------------- */

static void *worker(void *arg)
{
	struct qasync *a = arg;
	struct qjob *j;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->head && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		j = a->head;
		if (!j)
			break;
		a->head = j->next;
		if (!a->head)
			a->tail = &a->head;
		pthread_mutex_unlock(&a->lock);
		tcmur_cmd_complete(a->dev, j->cmd, a->run(a->dev, j));
		free(j);
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static int to_worker(struct qasync *a, const struct qjob *job)
{
	struct qjob *j = malloc(sizeof(*j));

	if (!j)
		return TCMU_STS_NO_RESOURCE;
	*j = *job;
	j->next = NULL;
	pthread_mutex_lock(&a->lock);
	*a->tail = j;
	a->tail = &j->next;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	return TCMU_STS_OK;
}

/* ---- io_uring ------------------------------------------------------------- */

#ifdef HAVE_URING
struct qfast;
struct qsqe {
	struct qfast *f;
	uint64_t len; /* bytes this SQE must move */
};

/* One command on the fast path; freed when its last SQE completes. */
struct qfast {
	struct qjob job; /* to hand to a worker if an SQE falls short */
	unsigned int pending;
	bool failed;
	struct qsqe sqe[QA_MAX_EXT];
	struct iovec v[]; /* job.cnt + QA_MAX_EXT entries: the extents' iovecs */
};

static int try_fast(struct qasync *a, const struct qjob *job)
{
	struct qimg_ext ext[QA_MAX_EXT];
	struct qfast *f;
	size_t n, i;
	bool write = job->op == QJ_WRITE;

	if (!a->uring || (job->op != QJ_READ && !write) || !job->len)
		return -EAGAIN;
	if (io_uring_sq_space_left(&a->ring) < QA_MAX_EXT) {
		if (io_uring_submit(&a->ring) >= 0)
			a->queued = 0;
		if (io_uring_sq_space_left(&a->ring) < QA_MAX_EXT)
			return -EAGAIN;
	}
	f = malloc(sizeof(*f) + (job->cnt + QA_MAX_EXT) * sizeof(struct iovec));
	if (!f)
		return -EAGAIN;
	if (qimg_fast_map(a->img, job->iov, job->cnt, (size_t)job->len, job->off, write, ext,
			  QA_MAX_EXT, f->v, &n)) {
		free(f);
		return -EAGAIN;
	}
	f->job = *job;
	f->pending = (unsigned int)n;
	f->failed = false;
	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

		if (write)
			io_uring_prep_writev(sqe, qimg_fd(a->img), ext[i].iov,
					     (unsigned int)ext[i].cnt, ext[i].host);
		else
			io_uring_prep_readv(sqe, qimg_fd(a->img), ext[i].iov,
					    (unsigned int)ext[i].cnt, ext[i].host);
		f->sqe[i].f = f;
		f->sqe[i].len = ext[i].len;
		io_uring_sqe_set_data(sqe, &f->sqe[i]);
		a->queued++;
	}
	return 0;
}

void qasync_reap(struct qasync *a)
{
	struct io_uring_cqe *cqe;

	if (!a || !a->uring)
		return;
	while (!io_uring_peek_cqe(&a->ring, &cqe)) {
		struct qsqe *q = io_uring_cqe_get_data(cqe);
		struct qfast *f = q->f;
		int sts;

		if (cqe->res < 0 || (uint64_t)cqe->res != q->len)
			f->failed = true;
		io_uring_cqe_seen(&a->ring, cqe);
		if (--f->pending)
			continue;
		/* Before a worker may need the image's I/O lock (a discard waits on this). */
		qimg_fast_done(a->img);
		sts = f->failed ? to_worker(a, &f->job) : TCMU_STS_OK;
		if (!f->failed || sts != TCMU_STS_OK)
			tcmur_cmd_complete(a->dev, f->job.cmd, sts);
		free(f);
	}
}

void qasync_submit(struct qasync *a)
{
	int ret, i;

	if (!a || !a->uring || !a->queued)
		return;
	ret = io_uring_submit(&a->ring);
	for (i = 0; (ret == -EBUSY || ret == -EAGAIN) && i < 100; i++) {
		/* Too many completions waiting: take them, then try again. */
		qasync_reap(a);
		ret = io_uring_submit(&a->ring);
	}
	if (ret < 0)
		tcmu_dev_err(a->dev, "io_uring_submit: %s\n", strerror(-ret));
	else
		a->queued = 0;
}

int qasync_fd(struct qasync *a)
{
	return a && a->uring ? a->ring.ring_fd : -1;
}
#else
static int try_fast(struct qasync *a, const struct qjob *job)
{
	(void)a;
	(void)job;
	return -EAGAIN;
}

void qasync_reap(struct qasync *a)
{
	(void)a;
}

void qasync_submit(struct qasync *a)
{
	(void)a;
}

int qasync_fd(struct qasync *a)
{
	(void)a;
	return -1;
}
#endif

int qasync_queue(struct qasync *a, const struct qjob *job)
{
	if (!try_fast(a, job))
		return TCMU_STS_OK;
	return to_worker(a, job);
}

/* ---- start / stop --------------------------------------------------------- */

void qasync_stop(struct qasync *a)
{
	int i;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < a->nth; i++)
		pthread_join(a->th[i], NULL);
#ifdef HAVE_URING
	if (a->uring)
		io_uring_queue_exit(&a->ring);
#endif
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int qasync_start(struct tcmu_device *dev, struct qimg *img, qjob_run_fn run, struct qasync **out)
{
	struct qasync *a = calloc(1, sizeof(*a));
	int ret = 0;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->dev = dev;
	a->img = img;
	a->run = run;
	a->tail = &a->head;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
#ifdef HAVE_URING
	ret = io_uring_queue_init(QA_DEPTH, &a->ring, 0);
	if (ret)
		tcmu_dev_warn(dev, "io_uring unavailable (%s): every command goes to a worker\n",
			      strerror(-ret));
	a->uring = !ret;
#endif
	for (a->nth = 0; a->nth < QA_WORKERS; a->nth++) {
		ret = pthread_create(&a->th[a->nth], NULL, worker, a);
		if (ret)
			break;
		pthread_setname_np(a->th[a->nth], "qcow-wk");
	}
	if (!a->nth) {
		qasync_stop(a);
		return -ret;
	}
	*out = a;
	return 0;
}
