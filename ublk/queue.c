// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * One ublk queue: a thread with its own io_uring on /dev/ublkcN.  Every tag
 * has a FETCH_REQ (then COMMIT_AND_FETCH_REQ) command outstanding while the
 * kernel has no request for it; a completed one carries a request, described
 * in the queue's mmap'd descriptor array, whose data sits in the tag's
 * buffer (the kernel copies write data in before, read data out after).
 * The same ring polls an eventfd (completions from workers and other
 * queues) and the handler's completion fd (ASYNC handlers such as file's
 * io_uring), so one wait covers all three.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ublk.h"

#define UD_EFD (1ull << 32)
#define UD_HFD (2ull << 32)

static _Thread_local struct tublk_queue *cur_q;

static void async_done(struct tcmu_device *dev, struct tcmur_cmd *tc, int rc)
{
	(void)dev;
	tublk_req_done((struct tublk_req *)tc, rc);
}

static void sync_done(struct tcmu_device *dev, struct tcmur_cmd *tc, int rc)
{
	/* SERIALIZE / PARALLEL: the callout's return value is the status. */
	(void)dev;
	(void)tc;
	(void)rc;
}

void tublk_req_done(struct tublk_req *r, int sts)
{
	struct tublk_queue *q = r->q;
	struct tublk_req *old;

	r->sts = sts;
	if (cur_q == q) {
		r->next = q->local;
		q->local = r;
		return;
	}
	old = atomic_load(&q->remote);
	do {
		r->next = old;
	} while (!atomic_compare_exchange_weak(&q->remote, &old, r));
	if (!old) {
		uint64_t one = 1;

		/* The first on an empty stack wakes the queue thread. */
		if (write(q->efd, &one, sizeof(one)) < 0)
			tcmu_err("ublk queue %u: eventfd write: %m\n", q->q_id);
	}
}

int tublk_queue_init(struct tublk_queue *q, struct tublk_dev *d, int cdev_fd, uint16_t q_id,
		     uint16_t depth, uint32_t buf_size)
{
	long page = sysconf(_SC_PAGESIZE);
	off_t off = (off_t)(UBLKA_CMD_BUF_OFFSET +
			    (uint64_t)q_id * UBLKA_MAX_QUEUE_DEPTH * sizeof(struct ublka_io_desc));
	unsigned int i;
	void *m;
	int ret;

	memset(q, 0, sizeof(*q));
	q->d = d;
	q->q_id = q_id;
	q->depth = depth;
	q->buf_size = buf_size;
	q->cdev_fd = cdev_fd;
	q->efd = -1;
	q->m = &q->own_m;
	pthread_mutex_init(&q->slock, NULL);
	pthread_cond_init(&q->scond, NULL);

	q->descs_len =
		(depth * sizeof(struct ublka_io_desc) + (size_t)page - 1) & ~((size_t)page - 1);
	m = mmap(NULL, q->descs_len, PROT_READ, MAP_SHARED | MAP_POPULATE, cdev_fd, off);
	if (m == MAP_FAILED) {
		ret = -errno;
		tcmu_err("ublk queue %u: cannot map its descriptors: %m\n", q_id);
		return ret;
	}
	q->descs = m;
	/* Buffers: pages are only touched as far as requests reach into them. */
	q->bufs_len = (size_t)depth * buf_size;
	m = mmap(NULL, q->bufs_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		goto err_descs;
	}
	q->bufs = m;
	q->reqs = calloc(depth, sizeof(*q->reqs));
	if (!q->reqs) {
		ret = -ENOMEM;
		goto err_bufs;
	}
	for (i = 0; i < depth; i++) {
		struct tublk_req *r = &q->reqs[i];

		r->q = q;
		r->tag = (uint16_t)i;
		r->p.tc.lib_cmd = &r->lc;
		r->p.tc.done = d->model == TCMUR_THREAD_MODEL_ASYNC ? async_done : sync_done;
		r->p.rdev = &d->rdev;
		r->lc.hm_private = &r->p;
		r->lc.cdb = (uint8_t *)d->zero_block; /* a harmless all-zero "CDB" */
		r->lc.cdb_len = 16;
	}
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		ret = -errno;
		goto err_reqs;
	}
	ret = io_uring_queue_init(depth + 8u, &q->ring, 0);
	if (ret)
		goto err_efd;
	return 0;

err_efd:
	close(q->efd);
	q->efd = -1;
err_reqs:
	free(q->reqs);
	q->reqs = NULL;
err_bufs:
	munmap(q->bufs, q->bufs_len);
	q->bufs = NULL;
err_descs:
	munmap((void *)q->descs, q->descs_len);
	q->descs = NULL;
	return ret;
}

void tublk_queue_fini(struct tublk_queue *q)
{
	if (!q->reqs)
		return;
	io_uring_queue_exit(&q->ring);
	close(q->efd);
	free(q->reqs);
	munmap(q->bufs, q->bufs_len);
	munmap((void *)q->descs, q->descs_len);
	q->reqs = NULL;
}

static struct io_uring_sqe *get_sqe(struct tublk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	return sqe;
}

static void prep_io_cmd(struct tublk_queue *q, unsigned int nr, uint16_t tag, int32_t result)
{
	struct io_uring_sqe *sqe = get_sqe(q);
	struct ublka_io_cmd *cmd;

	if (!sqe) {
		tcmu_err("ublk queue %u: no submission entry for tag %u\n", q->q_id, tag);
		return;
	}
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, q->cdev_fd, NULL, 0, 0);
	sqe->cmd_op = UBLKA_U_IO(nr);
	cmd = (struct ublka_io_cmd *)sqe->cmd;
	cmd->q_id = q->q_id;
	cmd->tag = tag;
	cmd->result = result;
	cmd->addr = (uint64_t)(uintptr_t)(q->bufs + (size_t)tag * q->buf_size);
	io_uring_sqe_set_data64(sqe, tag);
}

static void prep_poll(struct tublk_queue *q, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe)
		return;
	io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud);
}

static void issue_append(struct tublk_queue *q, struct tublk_req *r)
{
	r->next = NULL;
	if (q->issue_tail)
		q->issue_tail->next = r;
	else
		q->issue_head = r;
	q->issue_tail = r;
}

/* A request arrived for tag (at now): plan it and hand it on. */
static void start_req(struct tublk_queue *q, uint16_t tag, uint64_t now, struct tublk_req **wfirst,
		      struct tublk_req **wlast)
{
	const struct ublka_io_desc *desc = &q->descs[tag];
	struct tublk_dev *d = q->d;
	struct tublk_req *r = &q->reqs[tag];

	tublk_plan_request(&d->caps, __atomic_load_n(&desc->op_flags, __ATOMIC_ACQUIRE),
			   desc->start_sector, desc->nr_sectors, &r->plan);
	r->iov.iov_base = q->bufs + (size_t)tag * q->buf_size;
	r->iov.iov_len = r->plan.len < q->buf_size ? (size_t)r->plan.len : q->buf_size;
	r->stage = 0;
	r->p.tc.start_ns = now;
	q->nr_inflight++;
	atomic_store(&r->p.flags, TCMUR_CMD_FOREIGN);
	tublk_req_prepare(d, r);
	if (r->plan.call == TUBLK_CALL_NONE) {
		tublk_req_done(r, TCMU_STS_OK);
		return;
	}
	if (d->model == TCMUR_THREAD_MODEL_ASYNC) {
		issue_append(q, r);
		return;
	}
	r->next = NULL;
	if (*wlast)
		(*wlast)->next = r;
	else
		*wfirst = r;
	*wlast = r;
}

/* ASYNC handlers: call the queued callouts, then batch_end and reap. */
static bool async_pass(struct tublk_queue *q, bool reap)
{
	struct tublk_dev *d = q->d;
	struct tublk_req *r = q->issue_head, *next;
	bool called = false, retry = false;

	if (!r && !reap)
		return false;
	q->issue_head = q->issue_tail = NULL;
	if (d->alock_needed)
		pthread_mutex_lock(&d->alock);
	for (; r; r = next) {
		int sts;

		next = r->next;
		sts = tublk_req_call(d, r);
		called = true;
		if (sts == TCMU_STS_OK)
			continue; /* its completion comes through tcmur_cmd_complete() */
		if (sts == TCMU_STS_BUSY || sts == TCMU_STS_NO_RESOURCE) {
			issue_append(q, r); /* handler queue full: again after reaping */
			retry = true;
			continue;
		}
		tublk_req_done(r, sts);
	}
	if (called && d->h->batch_end)
		d->h->batch_end(d->dev);
	if (d->h->reap)
		d->h->reap(d->dev);
	if (d->alock_needed)
		pthread_mutex_unlock(&d->alock);
	return retry;
}

/* The queue's counters (single writer: this thread) for a request it commits. */
static void account(struct tublk_queue *q, const struct tublk_req *r, int res, uint64_t now)
{
	unsigned int dir = TCMUR_METRICS_OTHER;
	uint64_t bytes = 0;

	if (r->plan.call == TUBLK_CALL_READ || r->plan.call == TUBLK_CALL_WRITE) {
		dir = r->plan.call == TUBLK_CALL_READ ? TCMUR_METRICS_READ : TCMUR_METRICS_WRITE;
		bytes = res > 0 ? (uint64_t)res : 0;
	}
	q->nr_inflight--;
	/* A request refused before any callout (plan.err) counts as an error too. */
	tcmur_metrics_complete(q->m, dir, bytes,
			       now > r->p.tc.start_ns ? now - r->p.tc.start_ns : 0,
			       res < 0 && r->sts == TCMU_STS_OK ? TCMU_STS_RD_ERR : r->sts);
}

/* Completed requests: a FUA flush still to do, or the COMMIT to the kernel. */
static void commit_done(struct tublk_queue *q)
{
	struct tublk_req *r = atomic_exchange(&q->remote, NULL), *next;
	struct tublk_req *list[2] = { q->local, r };
	uint64_t now = 0;
	unsigned int i;
	int res;

	q->local = NULL;
	for (i = 0; i < 2; i++) {
		for (r = list[i]; r; r = next) {
			next = r->next;
			if (r->sts == TCMU_STS_OK && r->stage == 0 && r->plan.flush_after &&
			    q->d->model == TCMUR_THREAD_MODEL_ASYNC) {
				r->stage = 1;
				r->p.tc.fua = false;
				issue_append(q, r);
				continue;
			}
			res = tublk_result(&r->plan, r->sts);
			if (!now)
				now = tcmulib_now_ns(); /* one clock read per batch */
			account(q, r, res, now);
			prep_io_cmd(q, UBLKA_IO_COMMIT_AND_FETCH_REQ, r->tag, res);
		}
	}
	if (now)
		tcmur_metrics_set_inflight(q->m, q->nr_inflight);
}

static void *queue_main(void *arg)
{
	struct tublk_queue *q = arg;
	struct tublk_dev *d = q->d;
	struct __kernel_timespec ts = { .tv_nsec = 1000000 };
	bool retry = false;
	unsigned int i;
	int ret;

	cur_q = q;
	for (i = 0; i < q->depth; i++)
		prep_io_cmd(q, UBLKA_IO_FETCH_REQ, (uint16_t)i, -1);
	prep_poll(q, q->efd, UD_EFD);
	if (d->completion_fd >= 0)
		prep_poll(q, d->completion_fd, UD_HFD);
	ret = io_uring_submit(&q->ring);
	pthread_mutex_lock(&q->slock);
	q->err = ret < 0 ? ret : 0;
	q->ready = true;
	pthread_cond_signal(&q->scond);
	pthread_mutex_unlock(&q->slock);
	if (ret < 0)
		return NULL;

	while (q->dead_tags < q->depth && !atomic_load(&q->stop)) {
		struct tublk_req *wfirst = NULL, *wlast = NULL;
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		uint64_t now = 0;
		bool reap = false;

		if (q->local || q->issue_head)
			ret = io_uring_submit_and_wait_timeout(&q->ring, &cqe, retry ? 1 : 0,
							       retry ? &ts : NULL, NULL);
		else
			ret = io_uring_submit_and_wait(&q->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -ETIME && ret != -EAGAIN && ret != -EBUSY) {
			tcmu_err("ublk queue %u: io_uring wait: %s\n", q->q_id, strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&q->ring, head, cqe)
		{
			uint64_t ud = io_uring_cqe_get_data64(cqe);

			seen++;
			if (ud == UD_EFD || ud == UD_HFD) {
				if (ud == UD_EFD) {
					uint64_t v;

					if (read(q->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
						tcmu_err("ublk queue %u: eventfd: %m\n", q->q_id);
				} else {
					reap = true;
				}
				if (!(cqe->flags & IORING_CQE_F_MORE))
					prep_poll(q, ud == UD_EFD ? q->efd : d->completion_fd, ud);
				continue;
			}
			if (cqe->res == UBLKA_IO_RES_OK) {
				if (!now)
					now = tcmulib_now_ns();
				start_req(q, (uint16_t)ud, now, &wfirst, &wlast);
				continue;
			}
			if (cqe->res != UBLKA_IO_RES_ABORT)
				tcmu_err("ublk queue %u tag %u: %s\n", q->q_id, (unsigned int)ud,
					 strerror(-cqe->res));
			q->dead_tags++;
		}
		io_uring_cq_advance(&q->ring, seen);
		if (now)
			tcmur_metrics_set_inflight(q->m, q->nr_inflight);
		if (wfirst)
			tublk_workers_queue(d, wfirst, wlast);
		if (d->model == TCMUR_THREAD_MODEL_ASYNC)
			retry = async_pass(q, reap || q->issue_head);
		commit_done(q);
		/* A FUA flush queued by commit_done() runs on the next pass. */
	}
	return NULL;
}

int tublk_queue_start(struct tublk_queue *q)
{
	int ret = pthread_create(&q->thread, NULL, queue_main, q);

	if (ret)
		return -ret;
	q->started = true;
	pthread_mutex_lock(&q->slock);
	while (!q->ready)
		pthread_cond_wait(&q->scond, &q->slock);
	ret = q->err;
	pthread_mutex_unlock(&q->slock);
	return ret;
}

void tublk_queue_stop(struct tublk_queue *q)
{
	uint64_t one = 1;

	if (!q->started)
		return;
	atomic_store(&q->stop, true);
	if (write(q->efd, &one, sizeof(one)) < 0)
		tcmu_err("ublk queue %u: eventfd write: %m\n", q->q_id);
	pthread_join(q->thread, NULL);
	q->started = false;
}
