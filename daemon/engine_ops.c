// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The daemon as the backend of the SCSI engine: each device's
 * struct scsi_backend_ops forwards to the synchronous tcmur_io_*() of io.c,
 * with the device's struct tcmu_device as the handle.  An optional callout
 * the handler lacks becomes a NULL operation, which is how the engine
 * learns what to report (VPD B0/B2, LBPU, WCE changeable) and what to
 * emulate.
 *
 * Every operation runs on a worker thread (or the engine's format thread)
 * and blocks until the handler's callout completes.
 */
#include <errno.h>

#include "daemon.h"

static int eo_read(void *be, struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off)
{
	return tcmur_io_read(be, iov, iov_cnt, len, off);
}

static int eo_write(void *be, struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off, bool fua)
{
	return tcmur_io_write(be, iov, iov_cnt, len, off, fua);
}

static int eo_flush(void *be)
{
	return tcmur_io_flush(be);
}

static int eo_unmap(void *be, uint64_t off, uint64_t len)
{
	return tcmur_io_unmap(be, off, len);
}

static int eo_writesame(void *be, uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	return tcmur_io_writesame(be, off, len, iov, iov_cnt);
}

static int eo_caw(void *be, uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	return tcmur_io_caw(be, off, len, iov, iov_cnt);
}

static int eo_get_lba_status(void *be, uint64_t lba, uint64_t *nr_lbas, int *state)
{
	return tcmur_io_get_lba_status(be, lba, nr_lbas, state);
}

/* Another running device of this daemon, held until eo_put(). */
static struct scsi_dev *eo_find_by_naa(void *be, const uint8_t *naa, size_t len)
{
	struct tcmu_device *dev = tcmur_dev_find_by_naa(naa, len);
	struct tcmur_device *rdev;

	if (!dev)
		return NULL;
	rdev = tcmur_rdev(dev);
	if (!rdev || !rdev->scsi) {
		tcmur_dev_put(dev);
		return NULL;
	}
	return rdev->scsi;
}

static void eo_put(void *be, struct scsi_dev *other)
{
	tcmur_dev_put(scsi_dev_tcmu(other));
}

int tcmur_engine_create(struct tcmur_device *rdev)
{
	const struct tcmur_handler *h = rdev->h;
	struct scsi_backend_ops *ops = &rdev->scsi_ops;

	ops->read = eo_read;
	ops->write = eo_write;
	ops->flush = h->flush ? eo_flush : NULL;
	ops->unmap = h->unmap ? eo_unmap : NULL;
	ops->writesame = h->writesame ? eo_writesame : NULL;
	ops->caw = h->caw ? eo_caw : NULL;
	ops->get_lba_status = h->get_lba_status ? eo_get_lba_status : NULL;
	ops->find_by_naa = eo_find_by_naa;
	ops->put = eo_put;
	return scsi_dev_create(rdev->dev, ops, rdev->dev, &rdev->scsi);
}
