/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The handler ABI of upstream tcmu-runner 1.5 (open-iscsi/tcmu-runner), as
 * facts: its struct layouts and status numbers, under tcmur_upstream_* names
 * so that the daemon can see them next to the native ones.
 *
 * A handler written for upstream opts in to these definitions under
 * upstream's own names by compiling with -DTCMU_UPSTREAM_COMPAT (its source
 * stays unchanged): tcmu-runner.h, libtcmu_common.h and libtcmu.h then
 * declare upstream's structs, TCMU_STS_* values and signatures.  Without the
 * macro this header only adds the tcmur_upstream_* names.
 *
 * The daemon translates at the boundary (daemon/compat_*.c): a handler
 * registered through the function tcmur_register_handler() is an upstream
 * one; native handlers reach tcmur_register_handler_v() through the macro
 * of the same name in tcmu-runner.h.
 */
#ifndef TCMU_UPSTREAM_H
#define TCMU_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;
struct tcmulib_cmd;
struct tcmulib_cfg_info;

/*
 * Upstream's status numbers, X(name, value).  NO_LOCK_HOLDERS (22) has no
 * native twin and is listed apart.
 */
/* clang-format off */
#define TCMU_UPSTREAM_STS_LIST(X)                                                   \
	X(ASYNC_HANDLED, -2) X(NOT_HANDLED, -1) X(OK, 0) X(NO_RESOURCE, 1)          \
	X(PASSTHROUGH_ERR, 2) X(BUSY, 3) X(WR_ERR, 4) X(RD_ERR, 5) X(MISCOMPARE, 6) \
	X(INVALID_CMD, 7) X(INVALID_CDB, 8) X(INVALID_PARAM_LIST, 9)                \
	X(INVALID_PARAM_LIST_LEN, 10) X(TIMEOUT, 11) X(FENCED, 12) X(HW_ERR, 13)    \
	X(RANGE, 14) X(FRMT_IN_PROGRESS, 15) X(CAPACITY_CHANGED, 16)                \
	X(NOTSUPP_SAVE_PARAMS, 17) X(WR_ERR_INCOMPAT_FRMT, 18) X(TRANSITION, 19)    \
	X(IMPL_TRANSITION_ERR, 20) X(EXPL_TRANSITION_ERR, 21)                       \
	X(NOTSUPP_SEG_DESC_TYPE, 23) X(NOTSUPP_TGT_DESC_TYPE, 24)                   \
	X(CP_TGT_DEV_NOTCONN, 25) X(INVALID_CP_TGT_DEV_TYPE, 26)                    \
	X(TOO_MANY_SEG_DESC, 27) X(TOO_MANY_TGT_DESC, 28)
#define TCMU_UPSTREAM_STS_NO_LOCK_HOLDERS_VALUE 22

#define TCMU_UPSTREAM_STS_ENUM_(name, value) TCMU_UPSTREAM_STS_##name = (value),
enum {
	TCMU_UPSTREAM_STS_LIST(TCMU_UPSTREAM_STS_ENUM_)
	TCMU_UPSTREAM_STS_NO_LOCK_HOLDERS = TCMU_UPSTREAM_STS_NO_LOCK_HOLDERS_VALUE,
};
#undef TCMU_UPSTREAM_STS_ENUM_
/* clang-format on */

/* Two pointers where upstream keeps its ccan list node; not for handlers. */
struct tcmur_upstream_list_node {
	struct tcmur_upstream_list_node *next, *prev;
};

/* Upstream's struct tcmur_cmd: 96 bytes on x86-64. */
struct tcmur_upstream_cmd {
	struct tcmulib_cmd *lib_cmd;
	struct iovec *iovec; /* bounce buffer of compound commands */
	size_t iov_cnt;
	void *iov_base_copy;
	void *cmd_state; /* the daemon's */
	size_t requested;
	struct tcmur_upstream_list_node cmds_list_entry;
	struct timespec start_time;
	bool timed_out;
	void (*done)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd, int ret);
};

/*
 * Upstream's struct tcmur_handler (200 bytes on x86-64).  Threads: as for
 * the native struct (tcmu-runner.h); nr_threads > 0 runs the callouts on
 * that many workers per device (they may block and return the status),
 * 0 calls them on the device's ring thread (they must not block: return
 * TCMU_STS_OK and call tcmur_cmd_complete() later).
 */
struct tcmur_upstream_handler {
	const char *name;
	const char *subtype;
	const char *cfg_desc;
	void *opaque;

	bool (*check_config)(const char *cfgstring, char **reason);
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);
	int (*open)(struct tcmu_device *dev, bool reopen);
	void (*close)(struct tcmu_device *dev);

	int nr_threads;

	int (*handle_cmd)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd);
	int (*read)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd, struct iovec *iovec,
		    size_t iov_cnt, size_t len, off_t off);
	int (*write)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd, struct iovec *iovec,
		     size_t iov_cnt, size_t len, off_t off);
	int (*flush)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd);
	int (*unmap)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd, uint64_t off,
		     uint64_t len);
	int (*writesame)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd, uint64_t off,
			 uint64_t len, struct iovec *iovec, size_t iov_cnt);
	int (*caw)(struct tcmu_device *dev, struct tcmur_upstream_cmd *cmd, uint64_t off,
		   uint64_t len, struct iovec *iovec, size_t iov_cnt);

	int (*report_event)(struct tcmu_device *dev);
	int (*lock)(struct tcmu_device *dev, uint16_t tag);
	int (*unlock)(struct tcmu_device *dev);
	int (*get_lock_tag)(struct tcmu_device *dev, uint16_t *tag);
	int (*get_lock_state)(struct tcmu_device *dev);

	bool _is_dbus_handler;

	bool (*update_logdir)(void);
	int (*init)(void);
	void (*destroy)(void);
};

#ifdef TCMU_UPSTREAM_COMPAT
/* Upstream's names for the structs above. */
#define tcmur_handler tcmur_upstream_handler
#define tcmur_cmd     tcmur_upstream_cmd
#endif

/*
 * Functions only the upstream ABI has (the daemon exports them).  Declared
 * for upstream-style handlers and for the daemon's compat layer
 * (TCMUR_COMPAT_IMPL) only.
 */
#if defined(TCMU_UPSTREAM_COMPAT) || defined(TCMUR_COMPAT_IMPL)
/*
 * The legacy registration entry point (a real function, not a macro): wraps
 * the upstream struct in a native handler.  Main thread, from handler_init().
 */
int tcmur_register_handler(struct tcmur_upstream_handler *handler);
/*
 * Finish an upstream command (data is its struct tcmur_cmd, rc an upstream
 * TCMU_STS_* value); any thread.
 */
void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc);

/* Fixed-format sense in sense_buf; returns TCMU_STS_PASSTHROUGH_ERR. */
int tcmu_sense_set_data(uint8_t *sense_buf, uint8_t key, uint16_t asc_ascq);
/* Name the calling thread "<prefix>" or "<prefix>-<uio name>". */
void tcmu_set_thread_name(const char *prefix, struct tcmu_device *dev);

/* Upstream's logging entry points (what its tcmu_err() etc. expand to). */
void tcmu_crit_message(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));
void tcmu_err_message(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
void tcmu_warn_message(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));
void tcmu_info_message(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));
void tcmu_dbg_message(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
void tcmu_dbg_scsi_cmd_message(struct tcmu_device *dev, const char *funcname, int linenr,
			       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif

#ifdef __cplusplus
}
#endif

#endif
