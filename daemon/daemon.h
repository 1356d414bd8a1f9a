/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * tcmu-runner internals shared by the files of daemon/, one section per file.
 * Not installed; handlers only see include/tcmu-runner.h.
 *
 * Threads: the main thread runs the epoll loop (netlink, signals, tcmu.conf);
 * per device a setup thread (handler open), a ring thread (takes commands off
 * the ring, dispatches, completes every command, kicks the kernel once per
 * batch), 1..64 workers (blocking callouts, slow SCSI commands) and a
 * teardown thread at removal; a recovery thread per device once its handler
 * reported a lost connection or lock (recovery.c) or, with implicit ALUA,
 * once it first needs the lock (ha.c); plus the logger and DBus threads.
 * Locks: handlers_lock (handlers.c), devices_lock (device.c) and each
 * device's wq.lock (workers.c) are leaves: none is held while taking another
 * (apart from the logger's own queue lock).  A SERIALIZE device's
 * serial_lock is held only around one handler callout (whoever makes it:
 * its worker, another device's worker in EXTENDED COPY, a FORMAT thread).
 * The command hot path takes only wq.lock (non-ASYNC models: the ring thread
 * once per batch, a worker once per command).
 */
#ifndef TCMUR_DAEMON_H
#define TCMUR_DAEMON_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcmu-runner.h"
#include "libtcmu.h"
#include "dbus.h" /* the DBus service and what the daemon provides it */
#include "metrics.h"

#include "engine.h"

#define TCMUR_DEFAULT_PARALLEL_THREADS 4
#define TCMUR_MAX_THREADS	       64

/* ---- handlers.c: the plugin registry ----------------------------------- */

struct tcmur_handler_rec {
	struct tcmur_handler h;	     /* our copy, zeroed past struct_size */
	struct tcmur_handler *orig;  /* the handler's own struct */
	struct tcmulib_handler *lib; /* what libtcmu knows (handlers_publish) */
	void *dl;		     /* dlopen() handle, NULL if built in */
	char *path;		     /* the .so, NULL if built in */
	uint32_t struct_size;
	uint32_t api_version;
	int model;	/* resolved enum tcmur_thread_model */
	int nr_threads; /* resolved worker count (>= 1) */
	struct tcmur_handler_rec *next;
};

/* Load every handler_*.so in dir; returns how many registered, or -errno. */
int tcmur_load_handlers(const char *dir);
void tcmur_unload_handlers(void);
/* Build the tcmulib_handler table for tcmulib_initialize(); valid until unload. */
struct tcmulib_handler *tcmur_handlers_publish(size_t *count);
struct tcmur_handler_rec *tcmur_handler_find(const char *subtype);
unsigned int tcmur_handler_count(void);
/* --dump-handler: print the ABI facts of one loaded handler to stdout. */
int tcmur_dump_handler(const char *name);
const char *tcmur_thread_model_name(int model);
/* log_dir changed: call every handler's update_logdir (main thread). */
void tcmur_handlers_update_logdir(void);

/* ---- devfilter.c: which devices this daemon serves (--devices, --handlers) -- */

/*
 * Comma-separated lists, appended to (each option may be given more than
 * once): device globs (fnmatch(3); with a '/' matched against
 * "user_<hba>/<name>", otherwise against <name>) and handler subtypes.  0,
 * -EINVAL (an empty word; a subtype with '/' or ';'), -E2BIG (more than 32).
 */
int tcmur_devfilter_add_devices(const char *spec);
int tcmur_devfilter_add_handlers(const char *spec);
void tcmur_devfilter_clear(void);
bool tcmur_devfilter_active(void);
/* A device is ours when it matches a glob (if any) and its subtype is listed (if any). */
bool tcmur_devfilter_match(unsigned int hba, const char *dev_name, const char *subtype);
/* Hand the matcher to libtcmu (or none when inactive); before tcmulib_initialize(). */
void tcmur_devfilter_install(void);
void tcmur_devfilter_describe(char *buf, size_t len);

/* ---- cfgstring.c: ";tcmur_...=N" daemon options --------------------------- */

struct tcmur_dev_opts {
	unsigned int cmd_time_out; /* seconds, 0 = off */
};

/*
 * Split the daemon's options out of a cfgstring.  *stripped (malloc()ed) is
 * the string handlers see.  On a bad option returns -EINVAL and writes the
 * cause to err.
 */
int tcmur_cfgstring_parse(const char *cfg, struct tcmur_dev_opts *opts, char **stripped, char *err,
			  size_t errlen);

/* ---- dispatch.c: ring thread busy-poll ----------------------------------- */

/*
 * How long a ring thread looks at the mailbox (and the handler's completion
 * queue) before it sleeps in poll(): tcmu.conf ring_poll_us.  Any thread;
 * ring threads pick the new value up on their next idle pass.
 */
#define TCMUR_RING_POLL_US_DEFAULT 50
#define TCMUR_RING_POLL_US_MAX	   1000
void tcmur_set_ring_poll_us(unsigned int us);

/* tcmu.conf ring_poll: when to spin (ring_spin.c says how). */
enum tcmur_ring_poll {
	TCMUR_RING_POLL_ADAPTIVE, /* the default */
	TCMUR_RING_POLL_FIXED,	  /* ring_poll_us on every idle pass */
	TCMUR_RING_POLL_OFF,
};
void tcmur_set_ring_poll(enum tcmur_ring_poll mode);
/* "adaptive", "fixed", "off" -> mode; -EINVAL for anything else. */
int tcmur_ring_poll_parse(const char *s, enum tcmur_ring_poll *mode);
const char *tcmur_ring_poll_name(enum tcmur_ring_poll mode);

/* ---- ring_spin.c: the spin rule (pure arithmetic; one per ring thread) ---- */

#define SPIN_MAX_MISS  4	    /* empty spins in a row: none until the next wake-up */
#define SPIN_WINDOW_NS 100000000ull /* one throughput measurement */
#define SPIN_EPOCH     16	    /* windows per A/B: 1 spinning, 1 not, 14 the winner */
#define SPIN_WIN_PCT   105	    /* spinning must do 5% more commands to win */
#define SPIN_AB_MIN    64	    /* fewer commands in an A/B pair: do not spin */

struct tcmur_spin {
	unsigned int ncpus;
	uint64_t hit_wait_ns;  /* EWMA of how long successful spins waited */
	unsigned int miss_run; /* empty spins since the last hit or wake-up */
	/* the A/B: window w of the epoch (0: spinning, 1: not, then the winner) */
	uint64_t win_start_ns;
	uint64_t win_cmds; /* commands taken off the ring in this window */
	unsigned int win;
	uint64_t rate_on, rate_off; /* commands per second in windows 0 and 1 */
	uint64_t cmds_on;	    /* commands in window 0 */
	bool spin_wins;
	/* counters for the log line at ring thread exit */
	uint64_t nr_hit, nr_miss, nr_skipped, nr_no_cpu, nr_off;
	uint64_t nr_epochs, nr_on_won, nr_few;
};

void tcmur_spin_init(struct tcmur_spin *s, unsigned int ncpus);
/*
 * On an idle pass: how many ns to spin (0: sleep now).  others_spinning:
 * ring threads spinning right now besides this one.
 */
uint64_t tcmur_spin_budget(struct tcmur_spin *s, enum tcmur_ring_poll mode, unsigned int cap_us,
			   unsigned int others_spinning);
/* The spin found work after waited_ns / found none. */
void tcmur_spin_hit(struct tcmur_spin *s, uint64_t waited_ns);
void tcmur_spin_miss(struct tcmur_spin *s);
/* poll() woke up with commands: spinning may start again. */
void tcmur_spin_woken(struct tcmur_spin *s);
/* A ring pass took n commands. */
static inline void tcmur_spin_count(struct tcmur_spin *s, unsigned int n)
{
	s->win_cmds += n;
}
/* The time, on each idle pass (adaptive): ends windows, decides the A/B. */
void tcmur_spin_clock(struct tcmur_spin *s, uint64_t now_ns);

/* ---- config.c: tcmu.conf ------------------------------------------------ */

struct tcmur_config {
	bool log_level_set;
	int log_level;
	bool log_dir_set;
	char log_dir[PATH_MAX];
	bool ring_poll_us_set;
	unsigned int ring_poll_us;
	bool ring_poll_set;
	enum tcmur_ring_poll ring_poll;
};

/* Parse text (file name for messages); unknown keys and bad values warn. */
void tcmur_config_parse_buf(const char *buf, const char *origin, struct tcmur_config *cfg);
/* Parse a file; a missing file gives the defaults and -ENOENT. */
int tcmur_config_parse_file(const char *path, struct tcmur_config *cfg);
/* Folder holding tcmu.conf: $TCMU_CONFIG_DIR or the build default. */
const char *tcmur_config_dir(void);
#define TCMUR_CONF_NAME "tcmu.conf"
/* inotify on the folder (editors replace files); returns the fd or -errno. */
int tcmur_config_watch_open(const char *dir);
/* Drain the fd; true when tcmu.conf was written, replaced, created or deleted. */
bool tcmur_config_watch_changed(int fd);

/* ---- loop.c: the main epoll loop ------------------------------------------ */

typedef void (*tcmur_loop_fn)(int fd, uint32_t events, void *arg);
int tcmur_loop_init(void);
int tcmur_loop_add(int fd, tcmur_loop_fn fn, void *arg);
void tcmur_loop_del(int fd);
int tcmur_loop_run(void); /* until tcmur_loop_stop() */
void tcmur_loop_stop(void);
void tcmur_loop_fini(void);

/* ---- device.c / dispatch.c / workers.c: per-device state -------------------- */

/* What the ring thread does with a command it pops from its event stack. */
enum tcmur_stage {
	TCMUR_STAGE_COMPLETE,  /* finish with p->sts */
	TCMUR_STAGE_GENERIC,   /* handle_cmd said NOT_HANDLED: generic path */
	TCMUR_STAGE_FUA_FLUSH, /* async write done, flush before completing */
	TCMUR_STAGE_SUBIO,     /* a worker's tcmur_io_* request for an ASYNC handler */
};

/* What a worker does with a queued command. */
enum tcmur_work {
	TCMUR_WORK_HANDLE_CMD, /* handler->handle_cmd */
	TCMUR_WORK_IO,	       /* read/write/flush per p->cls */
	TCMUR_WORK_SLOW,       /* scsi_exec_slow() */
};

/* p->flags bits; set with atomic_fetch_or. */
#define TCMUR_CMD_DONE	     (1u << 0) /* completion claimed: never twice */
#define TCMUR_CMD_STARTED    (1u << 1) /* a worker began running it */
#define TCMUR_CMD_ABORTED    (1u << 2) /* named in a TMR */
#define TCMUR_CMD_TIMED_OUT  (1u << 3) /* logged as timed out */
#define TCMUR_CMD_FORCED     (1u << 4) /* BUSY at stop while the handler had it */
#define TCMUR_CMD_COMPLETED  (1u << 5) /* the handler called tcmur_cmd_complete() */
#define TCMUR_CMD_IN_CALLOUT (1u << 6) /* a worker is in a callout that returns the status */
/* Another frontend's command (tcmu-ublk): tcmur_cmd_complete() calls tc.done. */
#define TCMUR_CMD_FOREIGN (1u << 7)

enum tcmur_io_op {
	TCMUR_IO_READ,
	TCMUR_IO_WRITE,
	TCMUR_IO_FLUSH,
	TCMUR_IO_UNMAP,
	TCMUR_IO_WRITESAME,
	TCMUR_IO_CAW,
};

struct tcmur_subio;
struct tcmur_cmd_chunk;

/*
 * The daemon's per-command state, from a per-device pool the ring thread
 * owns (no allocation per command once warm).  The daemon owns it, not
 * libtcmu, so a handler completing a command after the daemon gave up on
 * it (TCMUR_CMD_FORCED) touches memory that is still there: forced ones
 * never return to the pool and the pool lives as long as the device's
 * state.  Handlers see only &p->tc.  Sub-I/O requests of tcmur_io_*() embed
 * one in a reference-counted heap request (io.c).
 */
struct tcmur_cmd_priv {
	struct tcmur_cmd tc;		/* first: handlers get this */
	struct tcmur_cmd_priv *next;	/* event stack or worker queue */
	struct tcmur_cmd_priv *in_prev; /* in-flight list (ring thread) */
	struct tcmur_cmd_priv *in_next;
	struct tcmur_device *rdev;
	atomic_uint flags; /* TCMUR_CMD_* */
	uint8_t stage;	   /* enum tcmur_stage */
	uint8_t work;	   /* enum tcmur_work */
	uint8_t cls;	   /* enum scsi_class */
	uint8_t dir;	   /* enum tcmur_metrics_dir */
	bool fua_pending;  /* async write: flush before completing */
	bool ha_locked;	   /* STPG: the lock was taken for it (ha.c) */
	int sts;
	int hsts; /* tcmur_cmd_complete() during IN_CALLOUT */
	struct scsi_rw rw;
	struct tcmur_subio *subio; /* non-NULL for sub-I/O requests */
};

struct tcmur_workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct tcmur_cmd_priv *head, *tail; /* FIFO, under lock */
	unsigned int idle;		    /* workers waiting, under lock */
	bool stop;
	unsigned int nr;
	pthread_t threads[TCMUR_MAX_THREADS];
};

/* recovery.c: one device's reopen after its handler lost the backend. */
struct tcmur_recovery {
	pthread_mutex_t lock; /* guards the fields below; a leaf */
	pthread_cond_t cond;  /* wakes the recovery thread */
	pthread_t thread;     /* started on the first loss, joined at close */
	bool started;
	bool active;	   /* a recovery is pending or running */
	bool pending;	   /* the thread should start one */
	bool again;	   /* notified after the reopen returned */
	bool stop;	   /* device closing: give up and exit */
	unsigned int why;  /* TCMUR_REC_* seen since it started */
	bool lock_pending; /* ha.c: the thread should call lock() */
	uint16_t lock_tag; /* its tag (the local group id) */
	/* ha.c: SET TARGET PORT GROUPS waiting for lock()/unlock(), FIFO via next */
	struct tcmur_cmd_priv *stpg_head, *stpg_tail;
};

#define TCMUR_REC_CONN_LOST (1u << 0)
#define TCMUR_REC_LOCK_LOST (1u << 1)

enum tcmur_dev_state {
	TCMUR_DEV_SETUP, /* handler open() running */
	TCMUR_DEV_RUNNING,
	TCMUR_DEV_STOPPING, /* new commands get BUSY; draining */
	TCMUR_DEV_STOPPED,  /* ring thread gone */
};

struct tcmur_device {
	struct tcmu_device *dev;
	struct tcmur_handler_rec *hrec;
	struct tcmur_handler *h; /* &hrec->h */
	struct scsi_dev *scsi;
	struct scsi_backend_ops scsi_ops; /* engine_ops.c; read by scsi */
	void *hpriv;			  /* tcmur_dev_set_private() */
	char *cfgstring;		  /* as handlers see it */
	struct tcmur_dev_opts opts;
	uint8_t naa[16]; /* NAA type 6 designator (VPD 0x83) */
	bool naa_valid;

	atomic_int state; /* enum tcmur_dev_state */
	atomic_int refs;  /* find_by_naa users + 1 while served */
	pthread_t ring_thread;
	bool ring_started;
	int efd; /* eventfd: wakes the ring thread */
	atomic_bool wake_pending;
	_Atomic(struct tcmur_cmd_priv *) events; /* MPSC stack to the ring thread */
	atomic_bool stop_ring;			 /* ring thread: drain then exit */
	atomic_bool abandoned;			 /* workers stuck in the handler at close */
	unsigned int stop_wait_ms;		 /* bounded wait for in-flight at stop */

	/* Ring thread only. */
	struct tcmur_cmd_priv inflight; /* list head (in_prev/in_next) */
	unsigned int nr_inflight;
	bool need_notify;		   /* completions since processing_complete */
	struct tcmur_cmd_priv *local_head; /* pushed by the ring thread itself */
	struct tcmur_cmd_priv *local_tail;
	struct tcmur_cmd_priv *batch_head; /* work queued this pass */
	struct tcmur_cmd_priv *batch_tail;
	unsigned int batch_n;
	atomic_bool ring_dead;	     /* ring thread exited */
	atomic_uint nr_subio;	     /* sub-I/O requests waited for (io.c) */
	uint64_t next_timeout_check; /* ns */

	struct tcmur_workers wq;
	struct tcmur_metrics m;

	/* Command pool (ring thread; chunks freed with the device state). */
	struct tcmur_cmd_priv *free_cmds;
	struct tcmur_cmd_chunk *cmd_chunks;
	unsigned int nr_forced;	 /* completed with BUSY while in the handler */
	atomic_bool late_logged; /* a late completion was reported */
	/* SERIALIZE handlers: held around every callout, whoever calls it. */
	pthread_mutex_t serial_lock;

	/*
	 * Recovery (recovery.c).  rec_gen is odd while the device recovers:
	 * the ring thread reads it once per batch (relaxed) and answers
	 * commands that need the backend with BUSY; it stores the value it
	 * acted on in rec_ack.  hclosed: the recovery thread closed the
	 * handler and has not reopened it (the ring thread, started after,
	 * then calls no handler hook).
	 */
	atomic_uint rec_gen;
	atomic_uint rec_ack;
	unsigned int rec_seen; /* ring thread only */
	bool hclosed;
	struct tcmur_recovery rec;

	/*
	 * Implicit-ALUA lock (ha.c): enum tcmur_ha_state.  NONE unless the
	 * handler has a lock callout; the ring thread reads it once per batch
	 * (relaxed).  ha_next_try: earliest next lock attempt (ring thread).
	 * ha_next_reload: earliest next re-read of the ALUA groups while no
	 * implicit group is known (ring thread).
	 */
	atomic_int ha_state;
	uint64_t ha_next_try;	 /* ns, ring thread only */
	uint64_t ha_next_reload; /* ns, ring thread only */

	struct tcmur_device *next; /* device list, under devices_lock */
};

static inline struct tcmur_cmd_priv *tcmur_priv(struct tcmur_cmd *tc)
{
	return (struct tcmur_cmd_priv *)tc;
}

/* device.c */
struct tcmur_device *tcmur_rdev(struct tcmu_device *dev);
/*
 * EXTENDED COPY between LUNs of this daemon: a running device by its NAA
 * designator (16 bytes, type 6, as in VPD page 0x83), held until
 * tcmur_dev_put().  NULL if none.  Any thread; takes devices_lock.
 */
struct tcmu_device *tcmur_dev_find_by_naa(const uint8_t *naa, size_t len);
void tcmur_dev_put(struct tcmu_device *dev);

/*
 * engine_ops.c: the daemon as the SCSI engine's backend.  Create rdev->scsi
 * with backend operations built from the handler's callouts (a missing
 * optional callout becomes a NULL operation).  Setup thread; 0 or -errno.
 */
int tcmur_engine_create(struct tcmur_device *rdev);

/*
 * io.c: synchronous backend I/O for the engine's compound commands.  Worker
 * thread only; they block until the handler's callout completes, whatever
 * its thread model.  Return TCMU_STS_*.  A missing optional callout gives
 * TCMU_STS_NOT_HANDLED.
 */
int tcmur_io_read(struct tcmu_device *dev, struct iovec *iov, size_t iov_cnt, size_t len,
		  uint64_t off);
int tcmur_io_write(struct tcmu_device *dev, struct iovec *iov, size_t iov_cnt, size_t len,
		   uint64_t off, bool fua);
int tcmur_io_flush(struct tcmu_device *dev);
int tcmur_io_unmap(struct tcmu_device *dev, uint64_t off, uint64_t len);
int tcmur_io_writesame(struct tcmu_device *dev, uint64_t off, uint64_t len, struct iovec *iov,
		       size_t iov_cnt);
int tcmur_io_caw(struct tcmu_device *dev, uint64_t off, uint64_t len, struct iovec *iov,
		 size_t iov_cnt);
int tcmur_io_get_lba_status(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas, int *state);
int tcmur_dev_added(struct tcmu_device *dev);
void tcmur_dev_removed(struct tcmu_device *dev);
int tcmur_dev_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);
void tcmur_dev_tmr_notify(struct tcmu_device *dev, uint8_t tmr_type, uint32_t cmd_cnt,
			  const uint16_t *cmd_ids);
/*
 * SIGTERM: stop and close every device (bounded), let pending events reply.
 * Call before tcmulib_close(), which frees devices without waiting.
 */
void tcmur_devices_shutdown(void);
unsigned int tcmur_device_count(void);
/* Shutting down: added() refuses new devices with -ESHUTDOWN (logged). */
void tcmur_devices_refuse_new(bool refuse);
/* Stop-time bound for in-flight commands, ms (tests shorten it). */
void tcmur_set_stop_wait_ms(unsigned int ms);

/* dispatch.c */
int tcmur_ring_start(struct tcmur_device *rdev);
void tcmur_ring_stop(struct tcmur_device *rdev);
/* Hand a command to the ring thread (any thread). */
void tcmur_ring_push(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, int stage);
/* Ring thread: run the generic layer or the handler callouts for p. */
void tcmur_generic_dispatch(struct tcmur_device *rdev, struct tcmur_cmd_priv *p);
/* Ring thread: call an async callout for a sub-I/O request. */
void tcmur_subio_issue(struct tcmur_device *rdev, struct tcmur_cmd_priv *p);
/* Worker: finish a command with sts (pushes it to the ring thread). */
void tcmur_cmd_finish_async(struct tcmur_device *rdev, struct tcmur_cmd_priv *p, int sts);
/*
 * Call the handler's read/write/flush callout for p (p->cls).  A worker
 * (PARALLEL, SERIALIZE: FUA without the handler's support adds a flush,
 * returns the final status) or the ring thread (ASYNC: the flush comes
 * after the completion, TCMUR_STAGE_FUA_FLUSH).
 */
int tcmur_exec_io(struct tcmur_device *rdev, struct tcmur_cmd_priv *p);

/*
 * Ring thread or worker: log that the handler's callout (what) both called
 * tcmur_cmd_complete() for p and returned rc, a final status.
 */
void tcmur_log_completed_and_returned(struct tcmur_device *rdev, struct tcmur_cmd_priv *p,
				      const char *what, int rc);

/* Free the command pool (device state going away). */
void tcmur_cmd_pool_free(struct tcmur_device *rdev);

/* SERIALIZE handlers: one callout at a time across all callers. */
static inline bool tcmur_serial_lock(struct tcmur_device *rdev)
{
	if (rdev->hrec->model != TCMUR_THREAD_MODEL_SERIALIZE)
		return false;
	pthread_mutex_lock(&rdev->serial_lock);
	return true;
}

static inline void tcmur_serial_unlock(struct tcmur_device *rdev, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&rdev->serial_lock);
}

/* workers.c */
int tcmur_workers_start(struct tcmur_device *rdev, unsigned int nr);
void tcmur_workers_stop(struct tcmur_device *rdev);
/* Queue a chain of commands linked by ->next (one lock for the batch). */
void tcmur_workers_queue(struct tcmur_device *rdev, struct tcmur_cmd_priv *first,
			 struct tcmur_cmd_priv *last, unsigned int n);

/* io.c */
/* Sub-I/O completion (tcmur_cmd_complete on a sub-I/O request); any thread. */
void tcmur_subio_done(struct tcmur_cmd_priv *p, int rc);

/* recovery.c */
void tcmur_recovery_init(struct tcmur_device *rdev);
/* Device state freed (after tcmur_recovery_stop). */
void tcmur_recovery_fini(struct tcmur_device *rdev);
/*
 * Handler notification (why: TCMUR_REC_*): schedule one recovery of the
 * device unless one is pending or running.  Any thread, including the ring
 * thread and a handler callout; never blocks (one short leaf lock).
 */
void tcmur_recovery_request(struct tcmur_device *rdev, unsigned int why);
/*
 * Device closing (its teardown thread, before the ring stops): end a
 * recovery in progress and join its thread.  Blocks while a handler
 * open()/close() it started returns.  Afterwards rdev->hclosed says whether
 * the handler is left closed.
 */
void tcmur_recovery_stop(struct tcmur_device *rdev);
/* Any thread: is the device recovering? */
static inline bool tcmur_recovering(struct tcmur_device *rdev)
{
	return atomic_load_explicit(&rdev->rec_gen, memory_order_relaxed) & 1;
}
/*
 * Ring thread, once per pass before taking commands off the ring: one
 * relaxed load; acknowledges a change so the recovery thread knows every
 * command dispatched before it is counted in flight.
 */
static inline bool tcmur_ring_recovering(struct tcmur_device *rdev)
{
	unsigned int gen = atomic_load_explicit(&rdev->rec_gen, memory_order_relaxed);

	if (__builtin_expect(gen != rdev->rec_seen, 0)) {
		rdev->rec_seen = gen;
		atomic_store_explicit(&rdev->rec_ack, gen, memory_order_release);
	}
	return gen & 1;
}
/* Ring thread: while recovering, must this command get BUSY? */
bool tcmur_recovery_busy(const struct tcmur_device *rdev, const struct tcmulib_cmd *lc);

/* ha.c: ALUA lock acquisition (implicit and STPG) for handlers with a lock callout */
enum tcmur_ha_state {
	TCMUR_HA_NONE,	 /* no lock callout: nothing to do */
	TCMUR_HA_LOCKED, /* this node holds the lock */
	TCMUR_HA_UNLOCKED,
	TCMUR_HA_LOCKING, /* lock() queued or running on the recovery thread */
};
/* Setup thread, after the SCSI state exists: arm it if the handler has lock. */
void tcmur_ha_init(struct tcmur_device *rdev);
/*
 * Ring thread, only when the batch's ha_state is above LOCKED; never
 * blocks.  True when lc needs the lock and must end with
 * TCMU_STS_TRANSITION; starts an acquisition (at most once a second).
 */
bool tcmur_ha_hold(struct tcmur_device *rdev, const struct tcmulib_cmd *lc, uint64_t now);
/* Recovery thread: the queued lock() call.  Blocks in the handler. */
void tcmur_ha_acquire(struct tcmur_device *rdev, uint16_t tag);
/*
 * Ring thread, never blocks: the engine answered an STPG with
 * SCSI_CLASS_LOCK/UNLOCK (p->cls).  Queues it on the recovery thread and
 * returns TCMU_STS_ASYNC_HANDLED, or the status to end it with now.
 */
int tcmur_ha_stpg(struct tcmur_device *rdev, struct tcmur_cmd_priv *p);
/*
 * Recovery thread: the queued STPG's lock() or unlock(); blocks in the
 * handler.  Completes p, or hands it back to the ring thread
 * (TCMUR_STAGE_GENERIC) to be dispatched again with the lock held.
 */
void tcmur_ha_stpg_run(struct tcmur_device *rdev, struct tcmur_cmd_priv *p);
/* Any thread, never blocks: the lock is gone (lost, or handler reopened). */
void tcmur_ha_lost(struct tcmur_device *rdev);
/* Teardown thread, ring and workers stopped, handler open: unlock() if held. */
void tcmur_ha_release(struct tcmur_device *rdev);
/* ha.c -> recovery.c: queue lock(tag) on the device's recovery thread. */
int tcmur_recovery_request_lock(struct tcmur_device *rdev, uint16_t tag);
/* ha.c -> recovery.c, ring thread: queue an STPG for tcmur_ha_stpg_run().  0 or -errno. */
int tcmur_recovery_request_stpg(struct tcmur_device *rdev, struct tcmur_cmd_priv *p);

/* timeout.c */
/* Ring thread: flag commands past their time out; returns ms to the next check. */
int tcmur_timeouts_check(struct tcmur_device *rdev, uint64_t now_ns);

/* main.c / device.c shared */
uint64_t tcmur_now_ns(void);

#endif
