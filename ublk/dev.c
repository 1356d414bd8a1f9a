// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The handler side of one ublk device: find the handler for the cfgstring,
 * refuse what ublk cannot serve, open it on a device without a TCMU ring
 * (lib/detached.h), and the worker pool for handlers whose callouts block.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detached.h"
#include "ublk.h"

/* Default size: the backing file's, for handlers whose cfgstring is a path. */
static int size_from_file(const char *cfg, uint64_t *size, char *err, size_t errlen)
{
	const char *path = strchr(cfg, '/');
	struct stat st;

	if (!path || path[1] != '/') {
		snprintf(err, errlen, "give --size: cannot tell the size from \"%s\"", cfg);
		return -EINVAL;
	}
	path++;
	if (stat(path, &st) < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s: %s (give --size to create it)", path, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file or block device", path);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

static void read_caps(struct tublk_dev *d)
{
	struct tcmur_handler *h = d->h;
	struct tublk_caps *c = &d->caps;

	c->read = h->read != NULL;
	c->write = h->write != NULL;
	c->flush = h->flush != NULL;
	c->unmap = h->unmap != NULL && tcmu_dev_get_unmap_enabled(d->dev);
	c->writesame = h->writesame != NULL;
	c->fua_native = (h->caps & TCMUR_CAP_FUA) != 0;
	c->block_size = tcmu_dev_get_block_size(d->dev);
	c->size = tcmu_dev_get_num_lbas(d->dev) * c->block_size;
}

int tublk_dev_open(struct tublk_dev *d, const struct tublk_dev_conf *conf, char *err, size_t errlen)
{
	struct tcmur_dev_opts opts;
	char subtype[64], *cfg = NULL, *reason = NULL;
	uint64_t size = conf->size;
	int ret;

	memset(d, 0, sizeof(*d));
	d->completion_fd = -1;
	pthread_mutex_init(&d->alock, NULL);
	pthread_mutex_init(&d->wlock, NULL);
	pthread_cond_init(&d->wcond, NULL);

	ret = tcmur_cfgstring_parse(conf->cfgstring, &opts, &cfg, err, errlen);
	if (ret)
		return ret;
	if (tublk_cfg_subtype(cfg, subtype, sizeof(subtype))) {
		snprintf(err, errlen, "\"%s\" is not a cfgstring (<handler>/<handler options>)",
			 cfg);
		ret = -EINVAL;
		goto out;
	}
	d->hrec = tcmur_handler_find(subtype);
	if (!d->hrec) {
		snprintf(err, errlen, "no handler for \"%s\" (handler_%s.so not loaded)", subtype,
			 subtype);
		ret = -ENOENT;
		goto out;
	}
	d->h = &d->hrec->h;
	d->model = d->hrec->model;
	ret = tublk_handler_usable(d->h, err, errlen);
	if (ret)
		goto out;
	if (d->h->check_config && !d->h->check_config(cfg, &reason)) {
		snprintf(err, errlen, "%s: %s", subtype, reason ? reason : "bad cfgstring");
		free(reason);
		ret = -EINVAL;
		goto out;
	}
	if (!size && !strcmp(subtype, "file")) {
		ret = size_from_file(cfg, &size, err, errlen);
		if (ret)
			goto out;
	}
	if (size % conf->block_size) {
		snprintf(err, errlen, "size %llu is not a multiple of the block size %u",
			 (unsigned long long)size, conf->block_size);
		ret = -EINVAL;
		goto out;
	}
	ret = tcmu_dev_new_detached(conf->name, cfg, conf->block_size, size / conf->block_size,
				    &d->dev);
	if (ret)
		goto out;
	d->rdev.dev = d->dev;
	d->rdev.hrec = d->hrec;
	d->rdev.h = d->h;
	d->rdev.cfgstring = cfg;
	d->rdev.opts = opts;
	pthread_mutex_init(&d->rdev.serial_lock, NULL);
	tcmu_dev_set_private(d->dev, &d->rdev);

	ret = d->h->open ? d->h->open(d->dev, false) : 0;
	if (ret) {
		snprintf(err, errlen, "handler %s cannot open \"%s\": %s", subtype, cfg,
			 strerror(ret < 0 ? -ret : EIO));
		ret = ret < 0 ? ret : -EIO;
		goto err_dev;
	}
	d->opened = true;
	read_caps(d);
	if (!d->caps.size) {
		snprintf(err, errlen, "the size of \"%s\" is unknown: give --size", cfg);
		ret = -EINVAL;
		goto err_close;
	}
	d->zero_block = calloc(1, d->caps.block_size);
	if (!d->zero_block) {
		ret = -ENOMEM;
		goto err_close;
	}
	if (d->model == TCMUR_THREAD_MODEL_ASYNC && d->h->completion_fd)
		d->completion_fd = d->h->completion_fd(d->dev);
	return 0;

err_close:
	if (d->h->close)
		d->h->close(d->dev);
	d->opened = false;
err_dev:
	tcmu_dev_free_detached(d->dev);
	d->dev = NULL;
out:
	if (!d->dev)
		free(cfg);
	d->rdev.cfgstring = NULL;
	return ret;
}

void tublk_dev_close(struct tublk_dev *d)
{
	if (d->opened && d->h->close)
		d->h->close(d->dev);
	d->opened = false;
	if (d->dev)
		tcmu_dev_free_detached(d->dev);
	d->dev = NULL;
	free(d->rdev.cfgstring);
	d->rdev.cfgstring = NULL;
	free(d->zero_block);
	d->zero_block = NULL;
}

/* ---- callouts ---- */

/* Call the callout of r's current stage; returns its TCMU_STS_* value. */
static int call(struct tublk_dev *d, struct tublk_req *r)
{
	struct tcmur_handler *h = d->h;
	struct tcmur_cmd *tc = &r->p.tc;
	const struct tublk_plan *pl = &r->plan;
	struct iovec zero = { .iov_base = d->zero_block, .iov_len = d->caps.block_size };

	if (r->stage == 1)
		return h->flush(d->dev, tc);
	switch (pl->call) {
	case TUBLK_CALL_READ:
		return h->read(d->dev, tc, &r->iov, 1, (size_t)pl->len, (off_t)pl->off);
	case TUBLK_CALL_WRITE:
		return h->write(d->dev, tc, &r->iov, 1, (size_t)pl->len, (off_t)pl->off);
	case TUBLK_CALL_FLUSH:
		return h->flush(d->dev, tc);
	case TUBLK_CALL_UNMAP:
		return h->unmap(d->dev, tc, pl->off, pl->len);
	case TUBLK_CALL_WRITE_ZEROS:
		/* One block to repeat; the handler may keep the iovec until done. */
		r->iov = zero;
		tc->iovec = &r->iov;
		return h->writesame(d->dev, tc, pl->off, pl->len, &r->iov, 1);
	default:
		return TCMU_STS_HW_ERR;
	}
}

/* Prepare r's command for its callout (the same fields the daemon sets). */
void tublk_req_prepare(struct tublk_dev *d, struct tublk_req *r)
{
	(void)d;
	struct tcmur_cmd *tc = &r->p.tc;

	tc->iovec = &r->iov;
	tc->iov_cnt = 1;
	tc->fua = r->plan.fua;
	tc->start_ns = tcmur_now_ns();
	r->lc.iovec = &r->iov;
	r->lc.iov_cnt = 1;
	r->lc.data_len = (uint32_t)r->plan.len;
}

int tublk_req_call(struct tublk_dev *d, struct tublk_req *r)
{
	return call(d, r);
}

int tublk_req_run_sync(struct tublk_dev *d, struct tublk_req *r)
{
	bool locked = tcmur_serial_lock(&d->rdev);
	int sts;

	r->stage = 0;
	sts = call(d, r);
	if (sts == TCMU_STS_OK && r->plan.flush_after) {
		r->stage = 1;
		sts = call(d, r);
	}
	tcmur_serial_unlock(&d->rdev, locked);
	return sts;
}

/* ---- workers (SERIALIZE, PARALLEL) ---- */

static void *worker_main(void *arg)
{
	struct tublk_dev *d = arg;
	struct tublk_req *r;

	for (;;) {
		pthread_mutex_lock(&d->wlock);
		while (!d->whead && !d->wstop)
			pthread_cond_wait(&d->wcond, &d->wlock);
		r = d->whead;
		if (!r) {
			pthread_mutex_unlock(&d->wlock);
			return NULL;
		}
		d->whead = r->next;
		if (!d->whead)
			d->wtail = NULL;
		pthread_mutex_unlock(&d->wlock);
		tublk_req_done(r, tublk_req_run_sync(d, r));
	}
}

void tublk_workers_queue(struct tublk_dev *d, struct tublk_req *first, struct tublk_req *last)
{
	last->next = NULL;
	pthread_mutex_lock(&d->wlock);
	if (d->wtail)
		d->wtail->next = first;
	else
		d->whead = first;
	d->wtail = last;
	pthread_cond_broadcast(&d->wcond);
	pthread_mutex_unlock(&d->wlock);
}

int tublk_workers_start(struct tublk_dev *d)
{
	unsigned int n, i;
	int ret;

	if (d->model == TCMUR_THREAD_MODEL_ASYNC)
		return 0;
	n = d->model == TCMUR_THREAD_MODEL_SERIALIZE ? 1 : (unsigned int)d->hrec->nr_threads;
	if (n < 1)
		n = 1;
	if (n > TCMUR_MAX_THREADS)
		n = TCMUR_MAX_THREADS;
	for (i = 0; i < n; i++) {
		ret = pthread_create(&d->workers[i], NULL, worker_main, d);
		if (ret) {
			d->nr_workers = i;
			tublk_workers_stop(d);
			return -ret;
		}
	}
	d->nr_workers = n;
	return 0;
}

void tublk_workers_stop(struct tublk_dev *d)
{
	unsigned int i;

	pthread_mutex_lock(&d->wlock);
	d->wstop = true;
	pthread_cond_broadcast(&d->wcond);
	pthread_mutex_unlock(&d->wlock);
	for (i = 0; i < d->nr_workers; i++)
		pthread_join(d->workers[i], NULL);
	d->nr_workers = 0;
}
