/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The tcmu-runner handler plugin API.
 *
 * A handler is a shared object handler_<name>.so in the handler folder.
 * It exports `int handler_init(void)`, which calls
 * tcmur_register_handler(&its_struct_tcmur_handler).  Names follow upstream
 * tcmu-runner so that its handlers port with trivial changes.
 *
 * ABI promise: fields of struct tcmur_handler and struct tcmur_cmd are only
 * ever appended.  tcmur_register_handler() records sizeof() and the API
 * version the handler was built with; the daemon copies what it knows,
 * zeroes the rest and refuses a newer major version.
 *
 * Thread model (thread_model, or derived from nr_threads when 0):
 *   TCMUR_THREAD_MODEL_SERIALIZE  one worker thread per device calls the
 *	callouts one at a time; they may block; the return value is the status.
 *   TCMUR_THREAD_MODEL_PARALLEL   nr_threads (default 4) workers per device
 *	call the callouts concurrently; they may block.
 *   TCMUR_THREAD_MODEL_ASYNC      the device's ring thread calls the callouts;
 *	they must not block: return TCMU_STS_OK once queued and call
 *	tcmur_cmd_complete() later from any thread (or return an error now).
 *   nr_threads == 0 means ASYNC, 1 SERIALIZE, more PARALLEL.
 */
#ifndef TCMU_RUNNER_H
#define TCMU_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "libtcmu_common.h"
#include "libtcmu.h"
#include "scsi_defs.h"
#include "tcmu_upstream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TCMUR_HANDLER_API_MAJOR	  1
#define TCMUR_HANDLER_API_MINOR	  1
#define TCMUR_HANDLER_API_VERSION ((TCMUR_HANDLER_API_MAJOR << 16) | TCMUR_HANDLER_API_MINOR)

enum tcmur_thread_model {
	TCMUR_THREAD_MODEL_DEFAULT = 0, /* derive from nr_threads */
	TCMUR_THREAD_MODEL_SERIALIZE,
	TCMUR_THREAD_MODEL_PARALLEL,
	TCMUR_THREAD_MODEL_ASYNC,
};

/* Lock states for HA handlers (get_lock_state). */
enum {
	TCMUR_DEV_LOCK_UNKNOWN,
	TCMUR_DEV_LOCK_UNLOCKED,
	TCMUR_DEV_LOCK_READ_LOCKING,
	TCMUR_DEV_LOCK_READ_LOCKED,
	TCMUR_DEV_LOCK_WRITE_LOCKING,
	TCMUR_DEV_LOCK_WRITE_LOCKED,
};

/* Capability bits (caps). */
#define TCMUR_CAP_FUA	     (1u << 0) /* write() honours cmd->fua itself */
#define TCMUR_CAP_LBA_STATUS (1u << 1) /* get_lba_status() is exact */

#ifndef TCMU_UPSTREAM_COMPAT
/* Native ABI; -DTCMU_UPSTREAM_COMPAT selects upstream's (tcmu_upstream.h). */
struct tcmur_cmd;
typedef void (*tcmur_cmd_done_fn)(struct tcmu_device *dev, struct tcmur_cmd *cmd, int ret);

/* The daemon's view of one command, given to every callout. */
struct tcmur_cmd {
	struct tcmulib_cmd *lib_cmd;

	/* Bounce buffer for compound commands (upstream compatible). */
	struct iovec *iovec;
	size_t iov_cnt;
	void *iov_base_copy;
	size_t requested;

	uint64_t start_ns;
	bool timed_out;
	tcmur_cmd_done_fn done; /* set by the daemon; do not call directly */

	/* Added in this implementation. */
	bool fua;	       /* WRITE with FUA: data must be stable on completion */
	void *handler_private; /* free for the handler while the command runs */
	void *daemon_private;  /* the daemon's, do not touch */
};

struct tcmur_handler {
	const char *name;     /* human readable */
	const char *subtype;  /* cfgstring prefix before the first '/' */
	const char *cfg_desc; /* shown by targetcli */
	void *opaque;	      /* handler's own use */

	/* Any thread, may block briefly.  *reason is malloc()ed. */
	bool (*check_config)(const char *cfgstring, char **reason);
	/* Main thread; device quiesced; return 0, -EOPNOTSUPP or -errno. */
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);

	/*
	 * A per-device setup thread, never the main loop; may block.  reopen:
	 * the device's recovery thread, after a notified loss and close().
	 */
	int (*open)(struct tcmu_device *dev, bool reopen);
	/*
	 * The thread removing the device, or its recovery thread, after every
	 * command completed; may block.  Never twice without an open() between.
	 */
	void (*close)(struct tcmu_device *dev);

	int nr_threads;

	/*
	 * Full control over commands (style a).  Called on the ring thread for
	 * ASYNC handlers, else on a worker.  Return TCMU_STS_NOT_HANDLED to use
	 * the generic layer, TCMU_STS_ASYNC_HANDLED to complete later with
	 * tcmur_cmd_complete(), or a final status.
	 */
	int (*handle_cmd)(struct tcmu_device *dev, struct tcmur_cmd *cmd);

	/* Callouts (style b); thread per the thread model; see file top. */
	int (*read)(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
		    size_t iov_cnt, size_t len, off_t off);
	int (*write)(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
		     size_t iov_cnt, size_t len, off_t off);
	int (*flush)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	int (*unmap)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len);
	/* iovec holds one logical block to repeat over [off, off+len). */
	int (*writesame)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
			 struct iovec *iovec, size_t iov_cnt);
	/* iovec holds the compare data then the write data, len bytes each. */
	int (*caw)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
		   struct iovec *iovec, size_t iov_cnt);

	/*
	 * HA hooks (rbd/glfs), used for implicit ALUA when lock is set (see
	 * daemon/ha.c).  All may block; SERIALIZE handlers get them one at a
	 * time with their other callouts; a status is a TCMU_STS_* value.
	 *
	 * report_event: the lock changed hands on this node (just acquired,
	 * or released at close).  The device's recovery thread after lock(),
	 * its teardown thread after unlock().
	 */
	int (*report_event)(struct tcmu_device *dev);
	/*
	 * lock: take the exclusive lock for this node, tag = the local ALUA
	 * group id.  The device's recovery thread, never during a close or
	 * reopen.  TCMU_STS_FENCED: the device is reopened (lock lost);
	 * TCMU_STS_TIMEOUT: connection lost; anything else: retried later.
	 */
	int (*lock)(struct tcmu_device *dev, uint16_t tag);
	/* unlock: release a lock taken by lock().  The teardown thread, at close. */
	int (*unlock)(struct tcmu_device *dev);
	/*
	 * get_lock_tag: *tag = the tag the current owner took the lock with.
	 * The recovery thread, after a lock() that failed (for the log).
	 */
	int (*get_lock_tag)(struct tcmu_device *dev, uint16_t *tag);
	/*
	 * get_lock_state: a TCMUR_DEV_LOCK_* value.  The recovery thread,
	 * before lock(): TCMUR_DEV_LOCK_WRITE_LOCKED means this node holds the
	 * lock already, and lock() is not called.
	 */
	int (*get_lock_state)(struct tcmu_device *dev);

	bool _is_dbus_handler; /* set by the daemon for DBus-registered handlers */

	/* Main thread, after log_dir changed in tcmu.conf. */
	void (*update_logdir)(void);
	/* Main thread, at registration / unload. */
	int (*init)(void);
	void (*destroy)(void);

	/* --- Added in this implementation; appended only. --- */
	uint32_t struct_size; /* filled by tcmur_register_handler() */
	uint32_t api_version; /* filled by tcmur_register_handler() */
	int thread_model;     /* enum tcmur_thread_model */
	uint32_t caps;	      /* TCMUR_CAP_* */
	/*
	 * GET LBA STATUS: provisioning status of the extent starting at lba.
	 * Worker thread; may block.  *state: 0 mapped, 1 deallocated.
	 */
	int (*get_lba_status)(struct tcmu_device *dev, uint64_t lba, uint64_t *nr_lbas, int *state);
	/* A command passed tcmur_cmd_time_out.  Ring thread; must not block. */
	void (*cmd_timed_out)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	/*
	 * ASYNC handlers: the ring thread finished a batch of callouts (before it
	 * sleeps); submit I/O queued by them in one go (e.g. io_uring_submit).
	 * Ring thread; must not block.
	 */
	void (*batch_end)(struct tcmu_device *dev);
	/*
	 * ASYNC handlers whose completions arrive on a pollable fd (an io_uring
	 * ring fd, an eventfd): completion_fd() returns it (or -1), once, after
	 * open(); the ring thread polls it with the UIO fd and calls reap() when
	 * it is readable and after each batch_end().  reap() runs on the ring
	 * thread, must not block, and completes what is done with
	 * tcmur_cmd_complete().  Saves a thread hop per command.
	 */
	int (*completion_fd)(struct tcmu_device *dev);
	void (*reap)(struct tcmu_device *dev);
	/*
	 * Removable-medium handlers (fbo): the administrator changes the
	 * medium through DBus (Admin1 EjectMedium/LoadMedium; tcmu-stat
	 * --eject/--load).  cfgstring NULL: eject; else load the medium that
	 * cfgstring ("subtype/...", as in dev_config) describes.  The DBus
	 * thread, on an open device, while no other callout of a SERIALIZE
	 * handler runs; may block briefly (open, fdatasync).  Returns 0 or
	 * -errno with *reason NULL or a malloc()ed message for the caller.
	 */
	int (*change_medium)(struct tcmu_device *dev, const char *cfgstring, char **reason);
};

/*
 * Register a handler from handler_init().  Records the struct size and API
 * version compiled into the handler.  Returns 0 or -errno (logged).
 */
int tcmur_register_handler_v(struct tcmur_handler *handler, uint32_t struct_size,
			     uint32_t api_version);
#define tcmur_register_handler(h)                                                                  \
	tcmur_register_handler_v((h), (uint32_t)sizeof(*(h)), TCMUR_HANDLER_API_VERSION)
bool tcmur_unregister_handler(struct tcmur_handler *handler);

/*
 * Finish an async callout or an ASYNC_HANDLED handle_cmd; any thread.  The
 * symbol tcmur_cmd_complete belongs to the upstream ABI (its struct
 * tcmur_cmd and status numbers), so native callers reach tcmur_cmd_finish.
 */
void tcmur_cmd_finish(struct tcmu_device *dev, void *data, int rc);
#define tcmur_cmd_complete tcmur_cmd_finish

struct tcmur_handler *tcmur_dev_get_handler(struct tcmu_device *dev);
#endif /* !TCMU_UPSTREAM_COMPAT */

/* Handler private data (distinct from libtcmu's tcmu_dev_get_private). */
void tcmur_dev_set_private(struct tcmu_device *dev, void *priv);
void *tcmur_dev_get_private(struct tcmu_device *dev);

/* Push a new size to the kernel and the SCSI layer (unit attention). */
int tcmur_dev_update_size(struct tcmu_device *dev, uint64_t new_size);

/*
 * HA notifications from handlers; any thread, never block, may repeat.
 * Lock or connection lost: the device alone answers BUSY and is reopened
 * (close(), then open(dev, true) until it succeeds).
 */
void tcmu_notify_lock_lost(struct tcmu_device *dev);
void tcmu_notify_conn_lost(struct tcmu_device *dev);
void tcmu_notify_cmd_timed_out(struct tcmu_device *dev);

#ifdef __cplusplus
}
#endif

#endif
