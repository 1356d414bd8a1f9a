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
#include <string.h>
#include <time.h>

#include "daemon.h"

struct tcmur_subio {
	int op;				/* enum tcmur_io_op */
	struct iovec *iov;
	size_t iov_cnt;
	uint64_t len;
	uint64_t off;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
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

void tcmur_subio_done(struct tcmur_cmd_priv *p, int rc)
{
	struct tcmur_subio *s = p->subio;

	pthread_mutex_lock(&s->lock);
	s->rc = rc;
	s->done = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void tcmur_subio_issue(struct tcmur_device *rdev, struct tcmur_cmd_priv *p)
{
	int rc = call_callout(rdev, p);

	if (rc != TCMU_STS_OK && rc != TCMU_STS_ASYNC_HANDLED)
		tcmur_subio_done(p, rc);
}

static int subio_run(struct tcmu_device *dev, int op, struct iovec *iov, size_t iov_cnt,
		     uint64_t len, uint64_t off)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	struct tcmulib_cmd lc;
	struct tcmur_subio s;
	struct tcmur_cmd_priv p;
	int rc;

	if (!rdev)
		return TCMU_STS_HW_ERR;
	memset(&lc, 0, sizeof(lc));
	memset(&s, 0, sizeof(s));
	memset(&p, 0, sizeof(p));
	/* Handlers may look at the command: give them a harmless one. */
	lc.cdb = zero_cdb;
	lc.iovec = iov;
	lc.iov_cnt = iov_cnt;
	lc.data_len = (uint32_t)len;
	lc.hm_private = &p;
	p.tc.lib_cmd = &lc;
	p.tc.start_ns = tcmur_now_ns();
	p.rdev = rdev;
	p.subio = &s;
	s.op = op;
	s.iov = iov;
	s.iov_cnt = iov_cnt;
	s.len = len;
	s.off = off;

	if (rdev->hrec->model != TCMUR_THREAD_MODEL_ASYNC) {
		/* rdev may be another device's (EXTENDED COPY): honour its model. */
		bool locked = tcmur_serial_lock(rdev);

		rc = call_callout(rdev, &p);
		tcmur_serial_unlock(rdev, locked);
		return rc;
	}

	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	tcmur_ring_push(rdev, &p, TCMUR_STAGE_SUBIO);
	pthread_mutex_lock(&s.lock);
	while (!s.done) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_cond_timedwait(&s.cond, &s.lock, &ts) == ETIMEDOUT &&
		    atomic_load(&rdev->ring_dead) && !s.done) {
			/* The ring thread left; nobody will issue it. */
			s.rc = TCMU_STS_BUSY;
			break;
		}
	}
	rc = s.rc;
	pthread_mutex_unlock(&s.lock);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
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

int tcmur_io_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas,
			    int *state)
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
