/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * tcmu_sim: an in-process model of the kernel side of TCM-User (mailbox,
 * command ring, data area, UIO fd, "TCM-USER" netlink, configfs/sysfs in a
 * temp dir) that drives libtcmu through its kernel-ops seam.  No root needed.
 */
#ifndef TCMU_SIM_H
#define TCMU_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "libtcmu.h" /* the uapi header, without its struct iovec clash */

struct sim_kernel;
struct sim_dev;

/*
 * Threading: every sim_* call takes the kernel's mutex, so tests may drive
 * the sim from one thread while libtcmu runs on others.  The library calls
 * back into the sim (uio open, netlink replies, configfs writes) from any
 * thread.
 */

/*
 * Create the simulated kernel and install it as libtcmu's kernel (call
 * before tcmulib_initialize).  Makes <tmp>/sys and <tmp>/config trees.
 * sim_kernel_destroy() restores the real kernel ops and removes the tree.
 */
int sim_kernel_create(struct sim_kernel **out);
void sim_kernel_destroy(struct sim_kernel *k);
const char *sim_sysfs_root(struct sim_kernel *k);    /* <tmp>/sys */
const char *sim_configfs_root(struct sim_kernel *k); /* <tmp>/config (target root) */
/* Kernel with SET_FEATURES support (default true); false = old kernel. */
void sim_kernel_set_reply_support(struct sim_kernel *k, bool supported);
/* Number of SET_FEATURES{SUPP_KERN_CMD_REPLY} requests seen. */
unsigned int sim_kernel_set_features_count(struct sim_kernel *k);

struct sim_dev_opts {
	const char *name;	/* configfs device name; default "dev<minor>" */
	unsigned int hba;	/* user_<hba>; default 1 */
	const char *cfgstring;	/* "<subtype>/<cfg>"; required */
	uint32_t cmdr_size;	/* ring bytes (multiple of 8); default 64 KiB - 128 */
	size_t data_size;	/* data area bytes (page multiple); default 1 MiB */
	size_t block_size;	/* data block bytes; default 4096 */
	uint16_t caps;		/* mailbox flags; default OOOC|READ_LEN|TMR */
	bool caps_set;		/* use caps as given (even 0) */
	uint64_t dev_size;	/* bytes, for configfs info " Size:"; default 1 GiB */
	uint32_t hw_block_size; /* attrib/hw_block_size; default 512 */
	uint32_t seed;		/* data block scatter seed; 0 = fixed default */
	/*
	 * Benchmarks: Data-In is still gathered (the kernel's copy), but into
	 * one scratch buffer; results keep no data (sim_result data_in NULL).
	 */
	bool discard_data_in;
};

/*
 * Register a device the way configfs "enable" does: ring, sysfs
 * class/uio/uioN/{name,maps/map0/size} and the configfs dir.  Sends no
 * netlink event: call sim_nl_added() for a live add, or leave it to
 * tcmulib_initialize() discovery (restart/recovery case).
 */
int sim_dev_create(struct sim_kernel *k, const struct sim_dev_opts *opts, struct sim_dev **out);
/* Unregister and free (after the library let go of it). */
void sim_dev_destroy(struct sim_dev *d);
unsigned int sim_dev_minor(struct sim_dev *d);
uint32_t sim_dev_id(struct sim_dev *d);		 /* TCMU_ATTR_DEVICE_ID */
const char *sim_dev_uio_name(struct sim_dev *d); /* "tcm-user/1/dev0/file/x" */
struct tcmu_mailbox *sim_dev_mailbox(struct sim_dev *d);
size_t sim_dev_map_size(struct sim_dev *d);
/* Is the uio currently opened by the library? */
bool sim_dev_is_open(struct sim_dev *d);

/* --- netlink ---------------------------------------------------------- */

/* Multicast an event to the library's master fd (it then needs
 * tcmulib_master_fd_ready()).  Return 0 or -errno. */
int sim_nl_added(struct sim_dev *d);
int sim_nl_removed(struct sim_dev *d);
int sim_nl_reconfig_cfg(struct sim_dev *d, const char *cfgstring);
int sim_nl_reconfig_size(struct sim_dev *d, uint64_t size);
int sim_nl_reconfig_wce(struct sim_dev *d, bool wce);
/* Raw bytes as one datagram (a struct nlmsghdr message, valid or not). */
int sim_nl_raw(struct sim_kernel *k, const void *buf, size_t len);
/* Genl family id the sim uses in nlmsg_type. */
uint16_t sim_nl_family(struct sim_kernel *k);

struct sim_nl_reply {
	int cmd;	 /* TCMU_CMD_*_DONE */
	int status;	 /* TCMU_ATTR_CMD_STATUS */
	uint32_t dev_id; /* TCMU_ATTR_DEVICE_ID */
};
/* Pop the oldest reply the library sent; -EAGAIN when none. */
int sim_nl_reply(struct sim_kernel *k, struct sim_nl_reply *out);
unsigned int sim_nl_reply_count(struct sim_kernel *k);

/* --- configfs ---------------------------------------------------------- */

/*
 * Every write the library made under the configfs root, in order, as
 * "<path relative to root>=<value>" lines (e.g.
 * "core/user_1/dev0/action/block_dev=1").  Returns a per-thread copy, valid
 * until this thread's next call; "" when none.
 */
const char *sim_cfgfs_log(struct sim_kernel *k);
void sim_cfgfs_log_clear(struct sim_kernel *k);

/* --- data path ---------------------------------------------------------- */

struct sim_cmd {
	const uint8_t *cdb;
	size_t cdb_len;	      /* bytes copied to the ring (0: from opcode) */
	const void *data_out; /* Data-Out payload (WRITE) or NULL */
	size_t data_out_len;
	size_t data_in_len; /* Data-In buffer size (READ) */
};

/*
 * Hook applied to a queued entry before cmd_head moves (malformed entry
 * injection).  entry points into the ring, entry_len is its length.
 */
typedef void (*sim_mutate_fn)(struct sim_dev *d, struct tcmu_cmd_entry *entry, uint32_t entry_len,
			      void *arg);

/*
 * Queue one command as queue_cmd_ring() does and fire the UIO event.
 * Returns 0 and the cmd id, -ENOSPC when ring or data area is full (reap
 * and retry), -EBUSY while block_dev=1, -EIO when the ring is broken,
 * -E2BIG when it could never fit.
 */
int sim_submit(struct sim_dev *d, const struct sim_cmd *c, uint16_t *cmd_id);
int sim_submit_mutated(struct sim_dev *d, const struct sim_cmd *c, sim_mutate_fn fn, void *arg,
		       uint16_t *cmd_id);
/* Queue a TMR entry (sizeof(tcmu_tmr_entry) + 2*cnt rounded to 8). */
int sim_submit_tmr(struct sim_dev *d, uint8_t tmr_type, const uint16_t *ids, uint32_t cnt);
/*
 * Place raw bytes at the head as one entry (len_op as given) and advance
 * cmd_head by len (0: copy only the header, advance by the len in len_op).
 * A non-PAD/TMR entry with a nonzero cmd_id is registered as in flight (no
 * data), so its completion is accepted.  For corrupt-entry tests.
 */
int sim_submit_raw(struct sim_dev *d, const void *entry, uint32_t len);
/* Fire the UIO event (no-op if one is already pending). */
void sim_notify(struct sim_dev *d);

/*
 * Wait up to timeout_ms for a kick sim_reap has not consumed yet: 1 if there
 * is one, 0 if none came.  Kicks are a counter in shared memory plus a
 * futex (kops.uio_kick), so the library's kick costs no system call unless
 * the kernel thread sleeps.
 */
int sim_wait_kick(struct sim_dev *d, int timeout_ms);
/*
 * Consume pending kicks and run tcmu_handle_completions() once if there was
 * at least one (or always when force).  Returns the number of commands
 * completed, or -EIO if the ring is (now) broken.
 */
int sim_reap(struct sim_dev *d, bool force);
/* Total kicks the library made. */
unsigned int sim_kicks(struct sim_dev *d);

struct sim_result {
	uint16_t cmd_id;
	uint8_t scsi_status;
	uint8_t sense[TCMU_SENSE_BUFFERSIZE];
	bool unknown_op;     /* uflags UNKNOWN_OP was set */
	bool read_len_valid; /* kernel honoured READ_LEN */
	uint32_t xfer_len;   /* Data-In bytes the kernel gathered */
	uint32_t residual;   /* data_in_len - xfer_len */
	uint8_t *data_in;    /* gathered Data-In (xfer_len bytes), owned by sim */
};

/*
 * Result of a completed command.  0, -EINPROGRESS (not completed yet) or
 * -ENOENT (unknown id).  Results stay until the id is reused.
 */
int sim_result(struct sim_dev *d, uint16_t cmd_id, struct sim_result *out);
/* Reap until cmd_id completes or timeout_ms passes (waits for kicks). */
int sim_wait(struct sim_dev *d, uint16_t cmd_id, int timeout_ms, struct sim_result *out);
/* Commands queued and not yet completed. */
unsigned int sim_inflight(struct sim_dev *d);
/* Ring marked broken (bad completion), as the kernel would. */
bool sim_broken(struct sim_dev *d);
/* Kernel WARN_ONs and protocol violations seen (should stay 0). */
unsigned int sim_warnings(struct sim_dev *d);
/* Last problem the checker found, for test output ("" when none). */
const char *sim_last_error(struct sim_dev *d);

/* Convenience: build and submit a 10-byte READ/WRITE CDB. */
int sim_submit_rw10(struct sim_dev *d, bool write, uint32_t lba, uint16_t blocks,
		    uint32_t block_size, const void *data_out, uint16_t *cmd_id);

#endif
