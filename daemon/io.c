// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Synchronous backend I/O for the SCSI engine's compound commands
 * (scsi/engine.h tcmur_io_*).  Worker threads only, possibly of another
 * device (EXTENDED COPY), so each call honours the target device's thread
 * model: PARALLEL handlers are called right here, SERIALIZE ones here under
 * that device's serial_lock, ASYNC ones get the request on their ring thread
 * (where their callouts must run) and we wait for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

/*
 * One request, on the heap: a handler that keeps it past the point where
 * its requester stopped waiting (the device stopped, its ring thread left)
 * still completes into live memory.  refs: the requester, plus the ring
 * thread / handler while the request is queued or issued; the last one
 * frees it.  Everything below the callout arguments is under lock.
 */
struct tcmur_subio {
	struct tcmur_cmd_priv p; /* what the handler gets (&p.tc) */
	struct tcmulib_cmd lc;
	int op; /* enum tcmur_io_op */
	struct iovec *iov;
	size_t iov_cnt;
	uint64_t len;
	uint64_t off;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int refs;
	bool done;
	bool abandoned; /* the requester returned BUSY */
	int rc;
};

static uint8_t zero_cdb[16];

static int call_callout(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	struct tcmur_handler *h = rdev->h;
	struct tcmur_subio *s = p->subio;
	struct tcmu_device *dev = rdev->dev;

	switch (s->op) {
	case TCMUR_IO_READ:
		return h->read(dev, &p->tc, s->iov, s->iov_cnt, (size_t)s->len, (off_t)s->off);
	case TCMUR_IO_WRITE:
		return h->write(dev, &p->tc, s->iov, s->iov_cnt, (size_t)s->len, (off_t)s->off);
	case TCMUR_IO_FLUSH:
		return h->flush(dev, &p->tc);
	case TCMUR_IO_UNMAP:
		return h->unmap(dev, &p->tc, s->off, s->len);
	case TCMUR_IO_WRITESAME:
		return h->writesame(dev, &p->tc, s->off, s->len, s->iov, s->iov_cnt);
	case TCMUR_IO_CAW:
		return h->caw(dev, &p->tc, s->off, s->len, s->iov, s->iov_cnt);
	default:
		return TCMU_STS_HW_ERR;
	}
}

static void subio_put(struct tcmur_subio *s)
{
	unsigned int left;

	pthread_mutex_lock(&s->lock);
	left = --s->refs;
	pthread_mutex_unlock(&s->lock);
	if (left)
		return;
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/*
 * Any thread (the handler's completion, or the ring thread when the callout
 * failed); never blocks.  Touches only the request: its device may be gone.
 */
void tcmur_subio_done(struct tcmur_cmd_priv *p, int rc)
{
	struct tcmur_subio *s = p->subio;
	bool twice, late;

	pthread_mutex_lock(&s->lock);
	twice = s->done;
	late = s->abandoned;
	if (!twice) {
		s->rc = rc;
		s->done = true;
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	if (twice) {
		tcmu_err("handler bug: a sub-I/O request was completed twice (status %d); "
			 "ignored\n",
			 rc);
		return;
	}
	if (late)
		tcmu_err("a handler completed a sub-I/O request after its requester gave up "
			 "(status %d); ignored\n",
			 rc);
	subio_put(s);
}

/* Ring thread: issue a queued request (or drop one nobody waits for). */
void tcmur_subio_issue(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	struct tcmur_subio *s = p->subio;
	bool abandoned;
	int rc;

	pthread_mutex_lock(&s->lock);
	abandoned = s->abandoned;
	pthread_mutex_unlock(&s->lock);
	if (abandoned) {
		subio_put(s); /* queued before a restart of the ring thread */
		return;
	}
	rc = call_callout(rdev, p);
	if (rc != TCMU_STS_OK && rc != TCMU_STS_ASYNC_HANDLED)
		tcmur_subio_done(p, rc);
}

static struct tcmur_subio *subio_new(struct tcmur_device *rdev, int op, struct iovec *iov,
				     size_t iov_cnt, uint64_t len, uint64_t off)
{
	struct tcmur_subio *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	/* Handlers may look at the command: give them a harmless one. */
	s->lc.cdb = zero_cdb;
	s->lc.iovec = iov;
	s->lc.iov_cnt = iov_cnt;
	s->lc.data_len = (uint32_t)len;
	s->lc.hm_private = &s->p;
	s->p.tc.lib_cmd = &s->lc;
	s->p.tc.start_ns = tcmur_now_ns();
	s->p.rdev = rdev;
	s->p.subio = s;
	s->op = op;
	s->iov = iov;
	s->iov_cnt = iov_cnt;
	s->len = len;
	s->off = off;
	s->refs = 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	return s;
}

/*
 * ASYNC device: hand s to its ring thread and wait for the completion.  The
 * request counts as in flight for the ring thread's stop (it waits, and
 * leaves only past its deadline); once it has left, nobody issues or
 * completes for us, and we return BUSY, leaving s to the handler.
 */
static int subio_wait_ring(struct tcmur_device *rdev, struct tcmur_subio *s)
{
	int rc;

	s->refs++; /* the ring thread's, then the handler's */
	atomic_fetch_add(&rdev->nr_subio, 1);
	tcmur_ring_push(rdev, &s->p, TCMUR_STAGE_SUBIO);
	pthread_mutex_lock(&s->lock);
	while (!s->done) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT &&
		    atomic_load(&rdev->ring_dead) && !s->done) {
			s->abandoned = true;
			s->rc = TCMU_STS_BUSY;
			break;
		}
	}
	rc = s->rc;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_sub(&rdev->nr_subio, 1);
	return rc;
}

static int subio_run(struct tcmu_device *dev, int op, struct iovec *iov, size_t iov_cnt,
		     uint64_t len, uint64_t off)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	struct tcmur_subio *s;
	bool locked;
	int rc;

	if (!rdev)
		return TCMU_STS_HW_ERR;
	s = subio_new(rdev, op, iov, iov_cnt, len, off);
	if (!s)
		return TCMU_STS_NO_RESOURCE;
	if (rdev->hrec->model == TCMUR_THREAD_MODEL_ASYNC) {
		rc = subio_wait_ring(rdev, s);
	} else {
		/* rdev may be another device's (EXTENDED COPY): honour its model. */
		s->refs++; /* a handler calling tcmur_cmd_complete() drops it */
		locked = tcmur_serial_lock(rdev);
		rc = call_callout(rdev, &s->p);
		tcmur_serial_unlock(rdev, locked);
		tcmur_subio_done(&s->p, rc); /* the return value is the status */
	}
	subio_put(s);
	return rc;
}

int tcmur_io_read(struct tcmu_device *dev, struct iovec *iov, size_t iov_cnt, size_t len,
		  uint64_t off)
{
	return subio_run(dev, TCMUR_IO_READ, iov, iov_cnt, len, off);
}

int tcmur_io_write(struct tcmu_device *dev, struct iovec *iov, size_t iov_cnt, size_t len,
		   uint64_t off, bool fua)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	int rc;

	rc = subio_run(dev, TCMUR_IO_WRITE, iov, iov_cnt, len, off);
	/* Sub-I/O never asks the handler for FUA: flush explicitly. */
	if (rc == TCMU_STS_OK && fua && rdev && rdev->h->flush)
		rc = subio_run(dev, TCMUR_IO_FLUSH, NULL, 0, 0, 0);
	return rc;
}

int tcmur_io_flush(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev || !rdev->h->flush)
		return TCMU_STS_NOT_HANDLED;
	return subio_run(dev, TCMUR_IO_FLUSH, NULL, 0, 0, 0);
}

int tcmur_io_unmap(struct tcmu_device *dev, uint64_t off, uint64_t len)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev || !rdev->h->unmap)
		return TCMU_STS_NOT_HANDLED;
	return subio_run(dev, TCMUR_IO_UNMAP, NULL, 0, len, off);
}

int tcmur_io_writesame(struct tcmu_device *dev, uint64_t off, uint64_t len, struct iovec *iov,
		       size_t iov_cnt)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev || !rdev->h->writesame)
		return TCMU_STS_NOT_HANDLED;
	return subio_run(dev, TCMUR_IO_WRITESAME, iov, iov_cnt, len, off);
}

int tcmur_io_caw(struct tcmu_device *dev, uint64_t off, uint64_t len, struct iovec *iov,
		 size_t iov_cnt)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev || !rdev->h->caw)
		return TCMU_STS_NOT_HANDLED;
	return subio_run(dev, TCMUR_IO_CAW, iov, iov_cnt, len, off);
}

int tcmur_io_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas, int *state)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	bool locked;
	int rc;

	if (!rdev || !rdev->h->get_lba_status)
		return TCMU_STS_NOT_HANDLED;
	/* Documented as a blocking worker-thread call in every thread model. */
	locked = tcmur_serial_lock(rdev);
	rc = rdev->h->get_lba_status(dev, lba, nr_lbas, state);
	tcmur_serial_unlock(rdev, locked);
	return rc;
}
