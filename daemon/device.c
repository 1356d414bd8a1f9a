// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Device lifecycle: libtcmu's added/removed/reconfig callbacks, the setup and
 * teardown threads (handler open()/close() never run on the main loop), the
 * device list, shutdown, and the device accessors handlers call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dbus.h"

/* Guards devices, every rdev->next and rdev->refs waits; cond: any change. */
static pthread_mutex_t devices_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t devices_cond = PTHREAD_COND_INITIALIZER;
static struct tcmur_device *devices;
static struct tcmur_device *abandoned; /* kept for workers stuck in a handler */
static unsigned int busy_threads;      /* setup/teardown threads alive */
static unsigned int stop_wait_ms = 10000;
static atomic_bool refuse_new; /* shutting down: new devices are refused */

uint64_t tcmur_now_ns(void)
{
	return tcmulib_now_ns(); /* libtcmu's choice of clock (lib/clock.c) */
}

void tcmur_set_stop_wait_ms(unsigned int ms)
{
	stop_wait_ms = ms;
}

void tcmur_devices_refuse_new(bool refuse)
{
	atomic_store(&refuse_new, refuse);
}

struct tcmur_device *tcmur_rdev(struct tcmu_device *dev)
{
	return tcmu_dev_get_private(dev);
}

/* ---- the handler-facing accessors (tcmu-runner.h) ------------------------ */

void tcmur_dev_set_private(struct tcmu_device *dev, void *priv)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (rdev)
		rdev->hpriv = priv;
}

void *tcmur_dev_get_private(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	return rdev ? rdev->hpriv : NULL;
}

struct tcmur_handler *tcmur_dev_get_handler(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	struct tcmulib_handler *lh;

	if (rdev)
		return rdev->h;
	lh = tcmu_dev_get_handler(dev);
	if (lh && lh->hm_private)
		return &((struct tcmur_handler_rec *)lh->hm_private)->h;
	return NULL;
}

int tcmur_dev_update_size(struct tcmu_device *dev, uint64_t new_size)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);
	int ret;

	if (!bs || new_size % bs) {
		tcmu_dev_err(dev, "new size %llu is not a multiple of the block size %u\n",
			     (unsigned long long)new_size, bs);
		return -EINVAL;
	}
	ret = tcmu_cfgfs_dev_set_ctrl_u64(dev, "dev_size", new_size);
	if (ret) {
		tcmu_dev_err(dev, "cannot set dev_size=%llu in configfs: %d\n",
			     (unsigned long long)new_size, ret);
		return ret;
	}
	tcmu_dev_set_num_lbas(dev, new_size / bs);
	if (rdev && rdev->scsi)
		scsi_dev_capacity_changed(rdev->scsi);
	return 0;
}

/*
 * Any thread (a callout, the ring thread, a handler's own thread); never
 * blocks.  Counted every time; the first call schedules a recovery of this
 * device only (recovery.c), later ones while it runs are folded into it.
 */
void tcmu_notify_lock_lost(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev) {
		tcmu_dev_warn(dev, "handler reports the lock was lost (device not served)\n");
		return;
	}
	atomic_fetch_add_explicit(&rdev->m.lock_lost, 1, memory_order_relaxed);
	tcmur_recovery_request(rdev, TCMUR_REC_LOCK_LOST);
}

/* As tcmu_notify_lock_lost(). */
void tcmu_notify_conn_lost(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev) {
		tcmu_dev_warn(dev, "handler reports the connection to its backend was lost "
				   "(device not served)\n");
		return;
	}
	atomic_fetch_add_explicit(&rdev->m.conn_lost, 1, memory_order_relaxed);
	tcmur_recovery_request(rdev, TCMUR_REC_CONN_LOST);
}

void tcmu_notify_cmd_timed_out(struct tcmu_device *dev)
{
	/* Counted by the daemon's own time out; the handler only reports it. */
	tcmu_dev_dbg(dev, "handler reports a command timed out in its backend\n");
}

/* ---- device list ---------------------------------------------------------- */

static void list_add(struct tcmur_device *rdev)
{
	pthread_mutex_lock(&devices_lock);
	rdev->next = devices;
	devices = rdev;
	pthread_cond_broadcast(&devices_cond);
	pthread_mutex_unlock(&devices_lock);
}

/* Unlink and wait until no tcmur_dev_find_by_naa() user holds it. */
static void list_del_wait(struct tcmur_device *rdev)
{
	struct tcmur_device **pp;

	pthread_mutex_lock(&devices_lock);
	for (pp = &devices; *pp; pp = &(*pp)->next) {
		if (*pp == rdev) {
			*pp = rdev->next;
			break;
		}
	}
	while (atomic_load(&rdev->refs) > 0)
		pthread_cond_wait(&devices_cond, &devices_lock);
	pthread_mutex_unlock(&devices_lock);
}

static void set_state(struct tcmur_device *rdev, int state)
{
	pthread_mutex_lock(&devices_lock);
	atomic_store(&rdev->state, state);
	pthread_cond_broadcast(&devices_cond);
	pthread_mutex_unlock(&devices_lock);
}

static void busy_put(void)
{
	pthread_mutex_lock(&devices_lock);
	busy_threads--;
	pthread_cond_broadcast(&devices_cond);
	pthread_mutex_unlock(&devices_lock);
}

unsigned int tcmur_device_count(void)
{
	struct tcmur_device *r;
	unsigned int n = 0;

	pthread_mutex_lock(&devices_lock);
	for (r = devices; r; r = r->next)
		n++;
	pthread_mutex_unlock(&devices_lock);
	return n;
}

/* devices_lock held: a reference on a running device, or NULL if it recovers. */
static struct tcmu_device *hold_locked(struct tcmur_device *r)
{
	if (atomic_load(&r->state) != TCMUR_DEV_RUNNING)
		return NULL;
	/* Count first, then check: recovery sets the flag, then reads refs. */
	atomic_fetch_add(&r->refs, 1);
	if (tcmur_recovering(r)) {
		atomic_fetch_sub(&r->refs, 1);
		pthread_cond_broadcast(&devices_cond);
		return NULL;
	}
	return r->dev;
}

struct tcmu_device *tcmur_dev_find_by_naa(const uint8_t *naa, size_t len)
{
	struct tcmur_device *r;
	struct tcmu_device *dev = NULL;

	if (len != 16)
		return NULL;
	pthread_mutex_lock(&devices_lock);
	for (r = devices; r; r = r->next) {
		if (r->naa_valid && atomic_load(&r->state) == TCMUR_DEV_RUNNING &&
		    !memcmp(r->naa, naa, 16)) {
			dev = hold_locked(r);
			break;
		}
	}
	pthread_mutex_unlock(&devices_lock);
	return dev;
}

void tcmur_dev_put(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev)
		return;
	pthread_mutex_lock(&devices_lock);
	atomic_fetch_sub(&rdev->refs, 1);
	pthread_cond_broadcast(&devices_cond);
	pthread_mutex_unlock(&devices_lock);
}

static const char *state_name(struct tcmur_device *r)
{
	switch (atomic_load(&r->state)) {
	case TCMUR_DEV_SETUP:
		return "opening";
	case TCMUR_DEV_RUNNING:
		return tcmur_recovering(r) ? "recovering" : "open";
	case TCMUR_DEV_STOPPING:
		return "closing";
	default:
		return "closed";
	}
}

void tcmur_for_each_device(tcmur_dbus_device_fn fn, void *arg)
{
	struct tcmur_device *r;
	struct tcmur_dbus_device d;

	pthread_mutex_lock(&devices_lock);
	for (r = devices; r; r = r->next) {
		memset(&d, 0, sizeof(d));
		d.name = tcmu_dev_get_dev_name(r->dev);
		d.uio = tcmu_dev_get_uio_name(r->dev);
		d.subtype = r->h->subtype;
		d.cfgstring = r->cfgstring;
		d.state = state_name(r);
		tcmur_metrics_snapshot(&r->m, &d.metrics);
		fn(&d, arg);
	}
	pthread_mutex_unlock(&devices_lock);
}

/*
 * The DBus thread: eject (medium NULL) or load a medium on the device
 * called name, through its handler's change_medium callout.  The device is
 * held (no close or recovery meanwhile) and, for SERIALIZE handlers, no
 * other callout runs.  A load that succeeded becomes the device's
 * cfgstring ("subtype/medium"), as a reconfig would.
 */
int tcmur_dev_change_medium(const char *name, const char *medium, char **reason)
{
	struct tcmu_device *dev = NULL;
	struct tcmur_device *r;
	char *cfg = NULL;
	bool locked;
	int ret;

	*reason = NULL;
	pthread_mutex_lock(&devices_lock);
	for (r = devices; r; r = r->next) {
		if (!strcmp(tcmu_dev_get_dev_name(r->dev), name)) {
			dev = hold_locked(r);
			break;
		}
	}
	pthread_mutex_unlock(&devices_lock);
	if (!r)
		return -ENODEV;
	if (!dev)
		return -EBUSY; /* opening, closing or recovering */
	if (!r->h->change_medium) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (medium && asprintf(&cfg, "%s/%s", r->h->subtype, medium) < 0) {
		cfg = NULL;
		ret = -ENOMEM;
		goto out;
	}
	locked = tcmur_serial_lock(r);
	ret = r->h->change_medium(dev, cfg, reason);
	tcmur_serial_unlock(r, locked);
	if (!ret && cfg) {
		pthread_mutex_lock(&devices_lock);
		free(r->cfgstring);
		r->cfgstring = cfg;
		pthread_mutex_unlock(&devices_lock);
		cfg = NULL;
	}
out:
	free(cfg);
	tcmur_dev_put(dev);
	return ret;
}

static void *setup_thread(void *arg);
static void *teardown_thread(void *arg);

/*
 * Start the setup or teardown thread of a device; counted busy until it
 * finishes.  Called from added()/removed() after tcmulib_defer_event(): the
 * thread may reply (tcmulib_event_done) before the callback returns.
 */
static void start_job(struct tcmur_device *rdev, bool teardown)
{
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	pthread_mutex_lock(&devices_lock);
	busy_threads++;
	pthread_mutex_unlock(&devices_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, teardown ? teardown_thread : setup_thread, rdev);
	pthread_attr_destroy(&attr);
	if (ret) {
		tcmu_dev_warn(rdev->dev, "cannot create a %s thread (%s), running inline\n",
			      teardown ? "teardown" : "setup", strerror(ret));
		if (teardown)
			teardown_thread(rdev);
		else
			setup_thread(rdev);
	}
}

/* ---- add: setup thread ------------------------------------------------- */

static void rdev_free(struct tcmur_device *rdev)
{
	if (rdev->efd >= 0)
		close(rdev->efd);
	tcmur_cmd_pool_free(rdev);
	tcmur_recovery_fini(rdev);
	pthread_mutex_destroy(&rdev->serial_lock);
	free(rdev->cfgstring);
	free(rdev);
}

static int rdev_open(struct tcmur_device *rdev)
{
	struct tcmu_device *dev = rdev->dev;
	int ret;

	if (rdev->h->open) {
		ret = rdev->h->open(dev, false);
		if (ret) {
			tcmu_dev_err(dev, "handler %s could not open the device: %s\n",
				     rdev->h->subtype, strerror(ret < 0 ? -ret : ret));
			return ret < 0 ? ret : -EIO;
		}
	}
	ret = tcmur_engine_create(rdev);
	if (ret) {
		tcmu_dev_err(dev, "cannot create the SCSI state: %d\n", ret);
		goto err_close;
	}
	rdev->naa_valid = scsi_dev_naa(rdev->scsi, rdev->naa);
	tcmur_ha_init(rdev); /* after the SCSI state: it reports the lock state */
	ret = tcmur_workers_start(rdev, (unsigned int)rdev->hrec->nr_threads);
	if (ret) {
		tcmu_dev_err(dev, "cannot start worker threads: %s\n", strerror(-ret));
		goto err_scsi;
	}
	atomic_store(&rdev->state, TCMUR_DEV_RUNNING);
	ret = tcmur_ring_start(rdev);
	if (ret) {
		tcmu_dev_err(dev, "cannot start the ring thread: %s\n", strerror(-ret));
		goto err_workers;
	}
	return 0;

err_workers:
	tcmur_workers_stop(rdev);
err_scsi:
	scsi_dev_destroy(rdev->scsi);
	rdev->scsi = NULL;
err_close:
	if (rdev->h->close)
		rdev->h->close(dev);
	return ret;
}

static void *setup_thread(void *arg)
{
	struct tcmur_device *rdev = arg;
	struct tcmu_device *dev = rdev->dev;
	int ret;

	ret = rdev_open(rdev);
	if (ret) {
		list_del_wait(rdev);
		tcmu_dev_set_private(dev, NULL);
		rdev_free(rdev);
		tcmulib_event_done(dev, ret); /* the library frees dev */
		busy_put();
		return NULL;
	}
	set_state(rdev, TCMUR_DEV_RUNNING);
	tcmu_dev_info(dev, "opened: %llu blocks of %u bytes, thread model %s, %d worker(s)%s\n",
		      (unsigned long long)tcmu_dev_get_num_lbas(dev), tcmu_dev_get_block_size(dev),
		      tcmur_thread_model_name(rdev->hrec->model), rdev->hrec->nr_threads,
		      rdev->opts.cmd_time_out ? ", command time out set" : "");
	tcmulib_event_done(dev, 0);
	busy_put();
	return NULL;
}

int tcmur_dev_added(struct tcmu_device *dev)
{
	struct tcmulib_handler *lh = tcmu_dev_get_handler(dev);
	struct tcmur_handler_rec *rec = lh ? lh->hm_private : NULL;
	struct tcmur_device *rdev;
	char err[256];
	int ret;

	if (!rec) {
		tcmu_dev_err(dev, "no tcmu-runner handler behind this device\n");
		return -ENOENT;
	}
	if (atomic_load(&refuse_new)) {
		tcmu_dev_err(dev, "tcmu-runner is shutting down: device refused\n");
		return -ESHUTDOWN;
	}
	rdev = calloc(1, sizeof(*rdev));
	if (!rdev)
		return -ENOMEM;
	rdev->dev = dev;
	rdev->hrec = rec;
	rdev->h = &rec->h;
	rdev->efd = -1;
	pthread_mutex_init(&rdev->serial_lock, NULL);
	tcmur_recovery_init(rdev);
	rdev->inflight.in_next = rdev->inflight.in_prev = &rdev->inflight;
	rdev->stop_wait_ms = stop_wait_ms;
	atomic_init(&rdev->state, TCMUR_DEV_SETUP);

	ret = tcmur_cfgstring_parse(tcmu_dev_get_cfgstring(dev), &rdev->opts, &rdev->cfgstring, err,
				    sizeof(err));
	if (ret) {
		tcmu_dev_err(dev, "bad cfgstring '%s': %s\n", tcmu_dev_get_cfgstring(dev), err);
		goto err_free;
	}
	/* Handlers see "subtype/cfg" without the daemon's options. */
	if (strcmp(rdev->cfgstring, tcmu_dev_get_cfgstring(dev))) {
		ret = tcmu_dev_set_cfgstring(dev, rdev->cfgstring);
		if (ret)
			goto err_free;
	}
	if (rdev->opts.cmd_time_out)
		tcmu_dev_dbg(dev, "command time out %u s\n", rdev->opts.cmd_time_out);

	rdev->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rdev->efd < 0) {
		ret = -errno;
		tcmu_dev_err(dev, "eventfd: %s\n", strerror(-ret));
		goto err_free;
	}

	tcmu_dev_set_private(dev, rdev);
	list_add(rdev);
	tcmulib_defer_event(dev);
	start_job(rdev, false);
	return 0;

err_free:
	rdev_free(rdev);
	return ret;
}

/* ---- remove: teardown thread -------------------------------------------- */

static void wait_setup_done(struct tcmur_device *rdev)
{
	pthread_mutex_lock(&devices_lock);
	while (atomic_load(&rdev->state) == TCMUR_DEV_SETUP)
		pthread_cond_wait(&devices_cond, &devices_lock);
	pthread_mutex_unlock(&devices_lock);
}

/* Stop the ring, drain, close the handler, free.  Returns with rdev freed. */
static void rdev_close(struct tcmur_device *rdev)
{
	struct tcmu_device *dev = rdev->dev;

	wait_setup_done(rdev);
	set_state(rdev, TCMUR_DEV_STOPPING);
	tcmur_recovery_stop(rdev); /* before the ring: recovery restarts it */
	tcmur_ring_stop(rdev);
	tcmur_workers_stop(rdev);
	list_del_wait(rdev);
	if (rdev->wq.nr) {
		/*
		 * A worker is stuck inside the handler: closing the handler under
		 * its feet is unsafe, and so is freeing what it will touch when
		 * it returns.  Mark the device abandoned (the worker then exits
		 * without touching the command) and leak its state.
		 */
		atomic_store(&rdev->abandoned, true);
		tcmu_dev_err(dev,
			     "%u worker(s) stuck in handler %s: not calling close(), "
			     "device state leaked\n",
			     rdev->wq.nr, rdev->h->subtype);
	} else {
		/* First: it waits for a background FORMAT UNIT using the handler. */
		if (rdev->scsi)
			scsi_dev_destroy(rdev->scsi);
		rdev->scsi = NULL;
		tcmur_ha_release(rdev);		      /* implicit ALUA: unlock() if held */
		if (rdev->h->close && !rdev->hclosed) /* a recovery may have closed it */
			rdev->h->close(dev);
	}
	atomic_store(&rdev->state, TCMUR_DEV_STOPPED);
	tcmu_dev_set_private(dev, NULL);
	tcmu_dev_info(dev, "closed\n");
	if (rdev->nr_forced || rdev->nr_inflight) {
		/* The handler may still complete those: keep their memory. */
		tcmu_dev_warn(dev,
			      "%u command(s) completed with BUSY while in handler %s: "
			      "their state is kept for a late completion\n",
			      rdev->nr_forced + rdev->nr_inflight, rdev->h->subtype);
		atomic_store(&rdev->abandoned, true);
	}
	if (!atomic_load(&rdev->abandoned)) {
		rdev_free(rdev);
		return;
	}
	pthread_mutex_lock(&devices_lock);
	rdev->next = abandoned;
	abandoned = rdev;
	pthread_mutex_unlock(&devices_lock);
}

static void *teardown_thread(void *arg)
{
	struct tcmur_device *rdev = arg;
	struct tcmu_device *dev = rdev->dev;

	rdev_close(rdev);
	tcmulib_event_done(dev, 0);
	busy_put();
	return NULL;
}

void tcmur_dev_removed(struct tcmu_device *dev)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);

	if (!rdev)
		return;
	tcmulib_defer_event(dev);
	start_job(rdev, true);
}

/* ---- reconfig (main thread) ---------------------------------------------- */

int tcmur_dev_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	struct tcmulib_cfg_info hcfg = *cfg;
	struct tcmur_dev_opts opts;
	char err[256], *stripped = NULL;
	int ret;

	if (!rdev || atomic_load(&rdev->state) != TCMUR_DEV_RUNNING) {
		tcmu_dev_err(dev, "reconfig while the device is not open\n");
		return -EBUSY;
	}
	/*
	 * targetcli's restoreconfig writes every attribute again, enabled or
	 * not: a "change" to the value the device already has is a no-op that
	 * no handler should have to implement.
	 */
	if (cfg->type == TCMULIB_CFG_DEV_CFGSTR) {
		bool same;

		ret = tcmur_cfgstring_parse(cfg->data.dev_cfgstring, &opts, &stripped, err,
					    sizeof(err));
		pthread_mutex_lock(&devices_lock); /* a DBus medium change writes it */
		same = !ret && rdev->cfgstring && !strcmp(stripped, rdev->cfgstring);
		pthread_mutex_unlock(&devices_lock);
		if (same) {
			rdev->opts = opts;
			free(stripped);
			return 0;
		}
		free(stripped);
		stripped = NULL;
	} else if (cfg->type == TCMULIB_CFG_WRITE_CACHE &&
		   cfg->data.write_cache == tcmu_dev_get_write_cache_enabled(dev)) {
		return 0;
	}
	if (tcmur_recovering(rdev)) {
		tcmu_dev_err(dev, "reconfig while the device is recovering; try again later\n");
		return -EBUSY;
	}
	if (!rdev->h->reconfig) {
		tcmu_dev_err(dev, "handler %s does not support reconfiguration\n",
			     rdev->h->subtype);
		return -EOPNOTSUPP;
	}

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE: {
		uint32_t bs = tcmu_dev_get_block_size(dev);

		if (!bs || cfg->data.dev_size % bs) {
			tcmu_dev_err(dev, "new size %llu is not a multiple of the block size %u\n",
				     (unsigned long long)cfg->data.dev_size, bs);
			return -EINVAL;
		}
		ret = rdev->h->reconfig(dev, &hcfg);
		if (ret) {
			tcmu_dev_err(dev, "handler refused the new size %llu: %d\n",
				     (unsigned long long)cfg->data.dev_size, ret);
			return ret;
		}
		tcmu_dev_set_num_lbas(dev, cfg->data.dev_size / bs);
		if (rdev->scsi)
			scsi_dev_capacity_changed(rdev->scsi);
		tcmu_dev_info(dev, "resized to %llu bytes\n",
			      (unsigned long long)cfg->data.dev_size);
		return 0;
	}
	case TCMULIB_CFG_DEV_CFGSTR:
		ret = tcmur_cfgstring_parse(cfg->data.dev_cfgstring, &opts, &stripped, err,
					    sizeof(err));
		if (ret) {
			tcmu_dev_err(dev, "bad new cfgstring '%s': %s\n", cfg->data.dev_cfgstring,
				     err);
			return ret;
		}
		hcfg.data.dev_cfgstring = stripped;
		ret = rdev->h->reconfig(dev, &hcfg);
		if (ret) {
			tcmu_dev_err(dev, "handler refused the new cfgstring: %d\n", ret);
			free(stripped);
			return ret;
		}
		if (tcmu_dev_set_cfgstring(dev, stripped))
			tcmu_dev_warn(dev, "out of memory storing the new cfgstring\n");
		pthread_mutex_lock(&devices_lock); /* the DBus thread reads it */
		free(rdev->cfgstring);
		rdev->cfgstring = stripped;
		pthread_mutex_unlock(&devices_lock);
		rdev->opts = opts;
		return 0;
	case TCMULIB_CFG_WRITE_CACHE:
		ret = rdev->h->reconfig(dev, &hcfg);
		if (ret) {
			tcmu_dev_err(dev, "handler refused write cache %s: %d\n",
				     cfg->data.write_cache ? "on" : "off", ret);
			return ret;
		}
		tcmu_dev_set_write_cache_enabled(dev, cfg->data.write_cache);
		return 0;
	}
	return -EOPNOTSUPP;
}

/* ---- TMR (ring thread, from tcmulib_get_next_command) -------------------- */

static const char *tmr_name(uint8_t type)
{
	switch (type) {
	case TCMU_TMR_ABORT_TASK:
		return "ABORT TASK";
	case TCMU_TMR_ABORT_TASK_SET:
		return "ABORT TASK SET";
	case TCMU_TMR_CLEAR_ACA:
		return "CLEAR ACA";
	case TCMU_TMR_CLEAR_TASK_SET:
		return "CLEAR TASK SET";
	case TCMU_TMR_LUN_RESET:
		return "LUN RESET";
	case TCMU_TMR_TARGET_WARM_RESET:
		return "TARGET WARM RESET";
	case TCMU_TMR_TARGET_COLD_RESET:
		return "TARGET COLD RESET";
	case TCMU_TMR_LUN_RESET_PRO:
		return "LUN RESET (PR)";
	default:
		return "unknown TMF";
	}
}

void tcmur_dev_tmr_notify(struct tcmu_device *dev, uint8_t tmr_type, uint32_t cmd_cnt,
			  const uint16_t *cmd_ids)
{
	struct tcmur_device *rdev = tcmur_rdev(dev);
	struct tcmur_cmd_priv *p;
	unsigned int found = 0;
	uint32_t i;

	if (!rdev)
		return;
	/*
	 * Aborted commands keep their one completion: a worker that has not
	 * started one completes it as ABORTED without calling the handler,
	 * anything already in the handler completes normally.
	 */
	for (i = 0; i < cmd_cnt; i++) {
		for (p = rdev->inflight.in_next; p != &rdev->inflight; p = p->in_next) {
			if (p->tc.lib_cmd->cmd_id != cmd_ids[i])
				continue;
			if (!(atomic_fetch_or(&p->flags, TCMUR_CMD_ABORTED) & TCMUR_CMD_ABORTED)) {
				tcmur_metrics_add(&rdev->m.aborts, 1);
				found++;
			}
			break;
		}
	}
	tcmu_dev_info(dev, "%s: %u command(s) aborted, %u of them in progress here\n",
		      tmr_name(tmr_type), cmd_cnt, found);
}

/* ---- shutdown ------------------------------------------------------------ */

void tcmur_devices_shutdown(void)
{
	struct tcmur_device *r;
	struct timespec ts;

	/* Let setup/teardown threads reply to the kernel first (bounded). */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (stop_wait_ms + 999) / 1000 + 1;
	pthread_mutex_lock(&devices_lock);
	while (busy_threads) {
		if (pthread_cond_timedwait(&devices_cond, &devices_lock, &ts) == ETIMEDOUT) {
			tcmu_err("%u device open/close thread(s) did not finish\n", busy_threads);
			break;
		}
	}
	/* Ask every ring to stop at once so they drain in parallel. */
	for (r = devices; r; r = r->next) {
		if (atomic_load(&r->state) != TCMUR_DEV_RUNNING)
			continue;
		tcmu_cfgfs_dev_exec_action(r->dev, "block_dev", 1);
		atomic_store(&r->stop_ring, true);
		if (r->efd >= 0) {
			uint64_t one = 1;

			if (write(r->efd, &one, sizeof(one)) < 0)
				tcmu_dev_dbg(r->dev, "eventfd write: %m\n");
		}
	}
	pthread_mutex_unlock(&devices_lock);

	for (;;) {
		struct tcmu_device *dev;

		pthread_mutex_lock(&devices_lock);
		for (r = devices; r; r = r->next)
			if (atomic_load(&r->state) == TCMUR_DEV_RUNNING)
				break;
		pthread_mutex_unlock(&devices_lock);
		if (!r)
			break;
		dev = r->dev;
		rdev_close(r);
		tcmu_cfgfs_dev_exec_action(dev, "block_dev", 0);
	}
}
