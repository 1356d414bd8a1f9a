/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * libtcmu private definitions: the device and context structs, the command
 * slot pool, and the "kernel ops" seam that tests/sim replaces.
 */
#ifndef TCMU_LIB_INTERNAL_H
#define TCMU_LIB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "libtcmu.h"

/* Nothing declared here is exported from libtcmu.so. */
#pragma GCC visibility push(hidden)

/* Largest CDB copied off the ring: variable length CDBs are 8 + 255 bytes. */
#define TCMU_CDB_MAX 264
/* Vendor specific groups 6/7: how many bytes we hand on at most. */
#define TCMU_CDB_VENDOR_MAX 16
/* Slots are allocated this many at a time, never one per command. */
#define TCMU_SLOT_CHUNK 64

/*
 * --- kernel ops (uio.c) ------------------------------------------------
 *
 * Everything libtcmu asks of the kernel goes through this table, so that
 * tests/sim can stand in for target_core_user.  Production uses the real
 * implementations (uio.c, genl_sock.c).  Set it before tcmulib_initialize().
 */
typedef void (*tcmu_nl_msg_fn)(void *arg, struct nlmsghdr *nlh, size_t len);

struct tcmu_kops {
	const char *sysfs_root;	   /* "/sys" */
	const char *configfs_root; /* "/sys/kernel/config/target" */
	void *arg;		   /* passed to every op */

	/* Open /dev/uio<minor> and map exactly size bytes. */
	int (*uio_open)(void *arg, unsigned int minor, size_t size, int *fd, void **map);
	void (*uio_close)(void *arg, int fd, void *map, size_t size);
	/*
	 * Kick: tell the kernel the ring's tail moved (UIO: a 4-byte write to
	 * fd).  NULL means write(); a simulated kernel may use shared memory.
	 * Returns 0 or -errno.
	 */
	int (*uio_kick)(void *arg, int fd);
	/* Write val to a configfs/sysfs attribute file. */
	int (*attr_write)(void *arg, const char *path, const char *val);

	/* Netlink: open the "config" multicast listener; *fd is pollable. */
	int (*nl_open)(void *arg, void **nl, int *fd);
	void (*nl_close)(void *arg, void *nl);
	/* Drain pending messages, calling fn for each; 0 or -errno. */
	int (*nl_recv)(void *arg, void *nl, tcmu_nl_msg_fn fn, void *fn_arg);
	/* Send <cmd>_DONE{CMD_STATUS, DEVICE_ID}; any thread (caller serialises). */
	int (*nl_reply)(void *arg, void *nl, int cmd, uint32_t dev_id, int status);
	/* SET_FEATURES{SUPP_KERN_CMD_REPLY=1}; -EOPNOTSUPP on old kernels. */
	int (*nl_set_features)(void *arg, void *nl);
};

/* Install a kernel; NULL restores the real one.  Tests only. */
void tcmu_kops_set(const struct tcmu_kops *ops);
const struct tcmu_kops *tcmu_kops_get(void);
/* The production table (kops.c). */
extern const struct tcmu_kops tcmu_kops_real;

/* --- command slots (cmd_pool.c) ----------------------------------------- */

enum tcmu_slot_state {
	TCMU_SLOT_FREE,
	TCMU_SLOT_INFLIGHT, /* given to the caller */
	TCMU_SLOT_DONE,	    /* completed, response not yet in the ring (in order) */
};

struct tcmu_slot {
	struct tcmulib_cmd cmd; /* public part; first member */
	struct tcmu_device *dev;
	struct tcmu_slot *next; /* free list / in-order FIFO */
	uint32_t ring_off;	/* entry offset in the ring */
	uint32_t ring_len;
	uint8_t scsi_status; /* response kept while held (in order) */
	uint8_t uflags;
	uint8_t state;
	uint32_t iov_cap;
	struct iovec *iov; /* grows only when an entry needs more */
	uint8_t cdb[TCMU_CDB_MAX];
};

struct tcmu_slot_chunk {
	struct tcmu_slot_chunk *next;
	void *hm_area; /* hm_cmd_size bytes per slot */
	struct tcmu_slot slots[TCMU_SLOT_CHUNK];
};

/* --- the device ------------------------------------------------------------ */

struct tcmu_device {
	struct tcmulib_context *ctx;
	struct tcmulib_handler *handler;
	struct tcmu_device *next; /* ctx->devs, under ctx->lock */

	/* Identity (immutable after add, except cfgstring on reconfig). */
	unsigned int minor;
	uint32_t dev_id; /* TCMU_ATTR_DEVICE_ID, 0 if unknown */
	unsigned int hba_id;
	char uio_name[16]; /* "uio3" */
	char dev_name[256];
	char *cfgstring;    /* "subtype/cfg" (may start with ";args;") */
	bool cfgstring_set; /* replaced by tcmu_dev_set_cfgstring() */
	char cfg_dir[512];  /* <configfs>/core/user_<hba>/<dev> */

	/* The mapping. */
	int fd;
	void *map;
	size_t map_size;
	struct tcmu_mailbox *mb;
	uint8_t *cmdr; /* map + cmdr_off */
	uint32_t cmdr_size;
	uint64_t data_off; /* data area [data_off, map_size) */
	uint16_t mb_flags;

	/* Consumer side: only the processing thread touches these. */
	uint32_t cons;		     /* next entry to read */
	bool ring_dead;		     /* corrupt entry length: stop consuming */
	struct tcmu_slot *priv_free; /* slots taken from free_list in bulk */
	int hm_cmd_size;	     /* -1 until the first get_next_command */
	/* start_ns source: read once per pass, at most every 64 commands. */
	uint32_t pass_clock_left; /* commands pass_ns may still stamp */
	uint64_t pass_ns;	  /* CLOCK_MONOTONIC */

	/* Shared between the consumer and completers: under lock. */
	pthread_mutex_t lock;
	uint32_t ctail; /* next completion position (= mb->cmd_tail) */
	struct tcmu_slot *free_list;
	struct tcmu_slot *fifo_head; /* ring order, without CAP_OOOC */
	struct tcmu_slot *fifo_tail;
	struct tcmu_slot_chunk *chunks;
	_Atomic uint32_t cons_pub; /* cons, published with release */
	atomic_uint inflight;
	atomic_bool kick_pending;

	/*
	 * The event in progress (context.c), under ctx->lock.  An event ends
	 * once its callback has returned and, if it deferred, once
	 * tcmulib_event_done() was called, whichever comes last; that party
	 * applies the outcome, replies and may free the device.
	 */
	int ev_kind;	       /* TCMU_EV_*, TCMU_EV_NONE when idle */
	int ev_reply;	       /* TCMU_CMD_*_DONE to send, 0 for none */
	bool ev_in_cb;	       /* the handler callback is running */
	bool ev_deferred;      /* tcmulib_defer_event() called */
	bool ev_done;	       /* tcmulib_event_done() called */
	int ev_status;	       /* its status */
	char *ev_cfg;	       /* reconfig: the new cfgstring */
	bool ev_remove_queued; /* REMOVED arrived during a deferred event */
	uint32_t ev_remove_id;
	bool added; /* handler added() succeeded */

	/* Device parameters for the SCSI helpers. */
	uint64_t num_lbas;
	uint32_t block_size;
	uint32_t max_xfer_len;
	uint32_t opt_xcopy_rw_len;
	uint32_t max_unmap_len;
	uint32_t opt_unmap_gran;
	uint32_t unmap_gran_align;
	bool split_unmap;
	bool write_cache_enabled;
	bool solid_state_media;
	bool unmap_enabled;
	bool write_protect_enabled;

	void *priv;
};

enum {
	TCMU_EV_NONE,
	TCMU_EV_ADD,
	TCMU_EV_REMOVE,
	TCMU_EV_RECONFIG,
	TCMU_EV_CLOSE, /* removed() from tcmulib_close() */
};

struct tcmulib_context {
	pthread_mutex_t lock;	      /* devs, handlers, device event state */
	pthread_cond_t ev_cond;	      /* an event ended (tcmulib_close waits) */
	unsigned int concluding;      /* threads in ev_conclude (still using ctx) */
	pthread_mutex_t nl_send_lock; /* serialises netlink sends */
	struct tcmulib_handler **handlers;
	size_t n_handlers;
	struct tcmu_device *devs;
	void *nl;
	int nl_fd;
	const struct tcmu_kops *ops;
	struct tcmu_reg *reg; /* DBus registration (register.c), or NULL */
};

/* cfgstr.c */
/* Find the subtype in a cfgstring, skipping a leading ";key=val;..." part. */
int tcmu_cfgstr_subtype(const char *cfg, const char **start, size_t *len);
/* Parse "tcm-user/<hba>/<dev>/<cfgstring>"; 0 or -EINVAL. */
int tcmu_parse_uio_name(const char *name, unsigned int *hba, char *dev_name, size_t dev_len,
			const char **cfgstring);

/* cmd_pool.c */
struct tcmu_slot *tcmu_slot_get(struct tcmu_device *dev);
/* Return a slot; caller holds dev->lock. */
void tcmu_slot_put_locked(struct tcmu_device *dev, struct tcmu_slot *slot);
int tcmu_slot_iov_reserve(struct tcmu_slot *slot, uint32_t n);
void tcmu_slot_pool_free(struct tcmu_device *dev);

/* ring.c */
int tcmu_ring_init(struct tcmu_device *dev);

/* device.c */
int tcmu_dev_open(struct tcmulib_context *ctx, unsigned int minor, const char *name,
		  uint32_t dev_id, struct tcmu_device **out);
void tcmu_dev_close(struct tcmu_device *dev);

/* uio.c */
int tcmu_uio_read_name(const char *sysfs_root, unsigned int minor, char *buf, size_t len);
int tcmu_uio_read_size(const char *sysfs_root, unsigned int minor, size_t *size);

/* configfs.c */
int tcmu_cfgfs_write_str(const char *path, const char *val);

/* genl_sock.c: the real netlink ops */
int tcmu_genl_sock_open(void *arg, void **nl, int *fd);
void tcmu_genl_sock_close(void *arg, void *nl);
int tcmu_genl_sock_recv(void *arg, void *nl, tcmu_nl_msg_fn fn, void *fn_arg);
int tcmu_genl_sock_reply(void *arg, void *nl, int cmd, uint32_t dev_id, int status);
int tcmu_genl_sock_set_features(void *arg, void *nl);

/* genl_event.c */
void tcmu_genl_handle_msg(void *arg, struct nlmsghdr *nlh, size_t len);
void tcmu_genl_reply(struct tcmulib_context *ctx, int cmd, uint32_t dev_id, int status);

/* context.c */
struct tcmulib_handler *tcmu_ctx_find_handler(struct tcmulib_context *ctx, const char *cfg);
int tcmu_ctx_add_device(struct tcmulib_context *ctx, unsigned int minor, const char *name,
			uint32_t dev_id, bool recover);
void tcmu_ctx_remove_device(struct tcmulib_context *ctx, unsigned int minor, uint32_t dev_id);
void tcmu_ctx_reconfig_device(struct tcmulib_context *ctx, unsigned int minor, uint32_t dev_id,
			      struct tcmulib_cfg_info *info);

/*
 * register.c (built with GIO): announce the handlers to tcmu-runner over
 * the system bus, on a thread of its own.  Without GIO, context.c has
 * no-op versions.  start: from tcmulib_initialize when enabled; add: from
 * tcmulib_register; stop: first thing in tcmulib_close.
 */
extern bool tcmu_dbus_registration; /* tcmulib_set_dbus_registration() */
void tcmu_register_start(struct tcmulib_context *ctx);
void tcmu_register_add(struct tcmulib_context *ctx, struct tcmulib_handler *h);
void tcmu_register_stop(struct tcmulib_context *ctx);

#pragma GCC visibility pop

#endif
