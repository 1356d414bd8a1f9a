/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * libtcmu: serve LIO TCM-User (TCMU) devices from userspace.
 *
 * The library owns the kernel interface: UIO discovery and mmap, the
 * command ring, the "TCM-USER" generic netlink family and configfs.
 *
 * Threading: the master fd (netlink) is handled single-threaded with
 * tcmulib_master_fd_ready(); handler callbacks added/removed/reconfig run
 * on that thread.  Each device's fd may be handled on any one thread
 * (tcmulib_processing_start, tcmulib_get_next_command,
 * tcmulib_processing_complete).  tcmulib_command_complete() may be called
 * from any thread.
 */
#ifndef LIBTCMU_H
#define LIBTCMU_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>
/* <sys/uio.h> defines struct iovec; keep <linux/uio.h> from redefining it. */
#ifndef __LINUX_UIO_H
#define __LINUX_UIO_H
#endif
#include <linux/target_core_user.h>

#include "libtcmu_common.h"
#include "libtcmu_log.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcmulib_context;

enum tcmulib_cfg_type {
	TCMULIB_CFG_DEV_CFGSTR,
	TCMULIB_CFG_DEV_SIZE,
	TCMULIB_CFG_WRITE_CACHE,
};

struct tcmulib_cfg_info {
	enum tcmulib_cfg_type type;
	union {
		uint64_t dev_size;
		char *dev_cfgstring;
		bool write_cache;
	} data;
};

/*
 * One SCSI command taken off the ring.  The CDB and the iovec array are
 * private copies (the ring slot is reused for completions), the iovec
 * bases point into the shared data area.  Owned by the library; valid
 * until tcmulib_command_complete().
 */
struct tcmulib_cmd {
	uint16_t cmd_id;
	uint8_t *cdb;
	struct iovec *iovec;
	size_t iov_cnt;
	uint8_t sense_buf[TCMU_SENSE_BUFFERSIZE];
	void *hm_private; /* hm_cmd_size bytes for the caller, zeroed */

	/* Added in this implementation. */
	uint32_t cdb_len;
	uint32_t data_len; /* sum of the iovec lengths as delivered */
	/*
	 * Data-In bytes produced.  Set with tcmulib_cmd_set_read_len() when a
	 * command returns less than data_len; reported to the kernel as a
	 * residual where it supports CAP_READ_LEN.
	 */
	uint32_t read_len;
	bool read_len_valid;
	/* tcmulib_now_ns() at the start of the processing pass that took it
	 * off the ring (re-read at least every 64 commands). */
	uint64_t start_ns;
};

/*
 * A handler served by a libtcmu program.  check_config may run on any
 * thread; added/removed/reconfig run on the thread that calls
 * tcmulib_master_fd_ready() (or tcmulib_initialize() for devices that
 * already exist) and may block that thread only briefly: a slow open
 * should call tcmulib_defer_event() and finish on another thread.
 */
struct tcmulib_handler {
	const char *name;     /* human readable */
	const char *subtype;  /* cfgstring prefix before the first '/' */
	const char *cfg_desc; /* description of the cfgstring */

	struct tcmulib_context *ctx; /* set by tcmulib_initialize */
	void *hm_private;	     /* for the program's own use */
	void *connection;	     /* DBus connection of a registered handler */

	bool (*check_config)(const char *cfgstring, char **reason);
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);
	void (*update_logdir)(void);
	/* Return 0 to accept the device, -errno to refuse it. */
	int (*added)(struct tcmu_device *dev);
	void (*removed)(struct tcmu_device *dev);

	/*
	 * Added in this implementation.  Called from tcmulib_get_next_command()
	 * on the thread processing the device when the kernel reports a task
	 * management function (attrib/tmr_notification=1).  cmd_ids lists the
	 * in-ring commands the TMF aborted; each still gets its one completion.
	 */
	void (*tmr_notify)(struct tcmu_device *dev, uint8_t tmr_type, uint32_t cmd_cnt,
			   const uint16_t *cmd_ids);
};

/* --- context and the master fd --------------------------------------- */

/*
 * Connect to the kernel (netlink), then adopt every TCMU device that
 * already exists and belongs to one of the handlers.  Devices left over
 * from a process that died are recovered through configfs block_dev and
 * reset_ring first.  Returns NULL on failure (logged).
 */
struct tcmulib_context *tcmulib_initialize(struct tcmulib_handler *handlers, size_t handler_count);
/*
 * Add a handler after initialization.  Its devices that already exist are
 * adopted as tcmulib_initialize() does (added() called, ring recovered);
 * call from the thread that runs tcmulib_master_fd_ready().
 */
int tcmulib_register(struct tcmulib_context *ctx, struct tcmulib_handler *handler);
int tcmulib_get_master_fd(struct tcmulib_context *ctx);
/* Process pending netlink events; call when the master fd is readable. */
int tcmulib_master_fd_ready(struct tcmulib_context *ctx);
void tcmulib_close(struct tcmulib_context *ctx);

/*
 * Deferred event replies (added in this implementation).  Called inside
 * added/removed/reconfig, tcmulib_defer_event() tells the library not to
 * reply to the kernel when the callback returns; the program later calls
 * tcmulib_event_done() from any thread with 0 or -errno.  A failed add, or
 * any remove, frees the device once the reply is sent.
 */
void tcmulib_defer_event(struct tcmu_device *dev);
void tcmulib_event_done(struct tcmu_device *dev, int status);
/*
 * Further rules of deferral: tcmulib_event_done() may be called as soon as
 * tcmulib_defer_event() was, even while the callback still runs; the reply
 * (and a free) happens once both the callback has returned and
 * tcmulib_event_done() was called.  After deferring, the callback's return
 * value is ignored: the status given to tcmulib_event_done() counts.  A
 * deferred reconfig with DEV_CFGSTR keeps the new cfgstring when the status
 * is 0 (unless the handler called tcmu_dev_set_cfgstring() meanwhile).  A
 * REMOVED event arriving while another event of the device is deferred
 * waits for it and then runs removed() on the thread that called
 * tcmulib_event_done().  tcmulib_close() waits for deferred events.
 */

/*
 * Appended: DBus registration.  When libtcmu is built with GIO and
 * tcmulib_initialize() gets handlers, a thread of the library owns
 * org.kernel.TCMUService1.HandlerManager1.<subtype> on the system bus for
 * each handler, serves CheckConfig(s) -> (b, s) there (calling
 * check_config) at /org/kernel/TCMUService1/HandlerManager1/<subtype> and
 * calls RegisterHandler on tcmu-runner (now, and whenever tcmu-runner
 * appears on the bus), so that targetcli lists the subtype.  Without a bus
 * or a tcmu-runner the program carries on.  Enabled by default; call
 * tcmulib_set_dbus_registration(false) before tcmulib_initialize() to turn
 * it off (tcmu-runner does), or set TCMU_DBUS_REGISTRATION=0 in the
 * environment.
 */
void tcmulib_set_dbus_registration(bool enable);

/*
 * Added in this implementation: a device filter, for several processes
 * serving disjoint sets of TCMU devices on one host (one daemon per handler,
 * per container or per gateway).  Every process receives every netlink
 * event, while the kernel takes the first reply to each request and the UIO
 * device opens only once; so a device the filter turns down is left
 * entirely alone: not opened, not adopted at startup, and no event about it
 * is answered (its ADDED, REMOVED and RECONFIG requests are the owner's).
 * fn is called on the thread that calls tcmulib_initialize(),
 * tcmulib_register() and tcmulib_master_fd_ready() with the configfs HBA
 * number (user_<hba>), the device name, the handler subtype ("" when the
 * cfgstring names none) and the whole cfgstring ("<subtype>/<config>",
 * maybe after ";daemon args;"), before the handler is looked up; it must
 * not block.  True: the device is ours.  Process-wide;
 * set it before tcmulib_initialize().  NULL (the default) takes every
 * device.
 */
typedef bool (*tcmulib_dev_filter_fn)(unsigned int hba, const char *dev_name, const char *subtype,
				      const char *cfgstring, void *arg);
void tcmulib_set_device_filter(tcmulib_dev_filter_fn fn, void *arg);

/* --- clock ------------------------------------------------------------- */

/*
 * Added in this implementation.  Nanoseconds on the CLOCK_MONOTONIC
 * timeline: the clock tcmulib_cmd.start_ns is read from.  Where reading
 * CLOCK_MONOTONIC is a system call (hpet or acpi_pm clocksource, as in many
 * VMs), CLOCK_MONOTONIC_COARSE is read instead (one tick of resolution, no
 * system call).  TCMU_CLOCK=fine or =coarse in the environment forces one.
 */
uint64_t tcmulib_now_ns(void);
/* Whether tcmulib_now_ns() reads the coarse clock; *fine_read_ns (if not
 * NULL) gets the measured cost of one CLOCK_MONOTONIC read. */
bool tcmulib_clock_is_coarse(uint64_t *fine_read_ns);

/* --- per-device command processing ----------------------------------- */

/* Clear the device fd's event; call before draining the ring. */
void tcmulib_processing_start(struct tcmu_device *dev);
/*
 * Added in this implementation: whether the ring holds entries that
 * tcmulib_get_next_command() has not taken yet.  Processing thread only; no
 * syscall, so a consumer may poll it briefly before sleeping on the UIO fd.
 */
bool tcmulib_commands_pending(struct tcmu_device *dev);
/*
 * Next command on the ring, or NULL when the ring is empty.  hm_cmd_size
 * bytes of zeroed private space come with each command (must be the same
 * value on every call for a device).  Malformed entries and entries the
 * library cannot deliver are completed here with CHECK CONDITION.
 */
struct tcmulib_cmd *tcmulib_get_next_command(struct tcmu_device *dev, int hm_cmd_size);
/* Finish a command with a TCMU_STS_* result; any thread; exactly once. */
void tcmulib_command_complete(struct tcmu_device *dev, struct tcmulib_cmd *cmd, int result);
/* Tell the kernel about completions made since the last call. */
void tcmulib_processing_complete(struct tcmu_device *dev);
void tcmulib_cmd_set_read_len(struct tcmulib_cmd *cmd, uint32_t read_len);
/* Commands taken off the ring and not yet completed. */
unsigned int tcmulib_dev_inflight(struct tcmu_device *dev);

/* --- device accessors ------------------------------------------------ */

int tcmu_dev_get_fd(struct tcmu_device *dev);
char *tcmu_dev_get_cfgstring(struct tcmu_device *dev);	    /* "subtype/handler cfg" */
const char *tcmu_dev_get_uio_name(struct tcmu_device *dev); /* "uio0" */
const char *tcmu_dev_get_dev_name(struct tcmu_device *dev); /* configfs name */
unsigned int tcmu_dev_get_hba_id(struct tcmu_device *dev);
uint32_t tcmu_dev_get_mailbox_flags(struct tcmu_device *dev);
struct tcmulib_handler *tcmu_dev_get_handler(struct tcmu_device *dev);
void tcmu_dev_set_private(struct tcmu_device *dev, void *priv);
void *tcmu_dev_get_private(struct tcmu_device *dev);
/*
 * Appended for tcmu-runner: replace the string tcmu_dev_get_cfgstring()
 * returns (the library copies it).  The daemon strips its ";tcmur_...=N"
 * options in added(), before the handler sees the string.  Call only from
 * added() or reconfig() (no command processing reads it concurrently).
 * Returns 0 or -ENOMEM.
 */
int tcmu_dev_set_cfgstring(struct tcmu_device *dev, const char *cfgstring);

void tcmu_dev_set_num_lbas(struct tcmu_device *dev, uint64_t num_lbas);
uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev);
void tcmu_dev_set_block_size(struct tcmu_device *dev, uint32_t block_size);
uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev);
void tcmu_dev_set_max_xfer_len(struct tcmu_device *dev, uint32_t len); /* blocks */
uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev);
void tcmu_dev_set_opt_xcopy_rw_len(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_opt_xcopy_rw_len(struct tcmu_device *dev);
void tcmu_dev_set_max_unmap_len(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_max_unmap_len(struct tcmu_device *dev);
void tcmu_dev_set_opt_unmap_gran(struct tcmu_device *dev, uint32_t len, bool split);
uint32_t tcmu_dev_get_opt_unmap_gran(struct tcmu_device *dev);
void tcmu_dev_set_unmap_gran_align(struct tcmu_device *dev, uint32_t len);
uint32_t tcmu_dev_get_unmap_gran_align(struct tcmu_device *dev);
void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev, bool enabled);
bool tcmu_dev_get_write_cache_enabled(struct tcmu_device *dev);
void tcmu_dev_set_solid_state_media(struct tcmu_device *dev, bool solid_state);
bool tcmu_dev_get_solid_state_media(struct tcmu_device *dev);
void tcmu_dev_set_unmap_enabled(struct tcmu_device *dev, bool enabled);
bool tcmu_dev_get_unmap_enabled(struct tcmu_device *dev);
void tcmu_dev_set_write_protect_enabled(struct tcmu_device *dev, bool enabled);
bool tcmu_dev_get_write_protect_enabled(struct tcmu_device *dev);

/* --- configfs -------------------------------------------------------- */

int tcmu_cfgfs_dev_get_attr_int(struct tcmu_device *dev, const char *name);
uint64_t tcmu_cfgfs_dev_get_info_u64(struct tcmu_device *dev, const char *name, int *fn_ret);
int tcmu_cfgfs_dev_set_ctrl_u64(struct tcmu_device *dev, const char *key, uint64_t val);
/* Unit serial (wwn/vpd_unit_serial without its prefix); free() it. */
char *tcmu_cfgfs_dev_get_wwn(struct tcmu_device *dev);
int tcmu_cfgfs_dev_exec_action(struct tcmu_device *dev, const char *name, unsigned int val);
/* The configfs root, "/sys/kernel/config/target" unless overridden. */
const char *tcmu_cfgfs_root(void);
/*
 * Added in this implementation: read a whole small configfs/sysfs file into
 * buf (NUL-terminated, at most len - 1 bytes).  Returns the byte count or
 * -errno.  Any thread; blocks only on the file system.
 */
ssize_t tcmu_cfgfs_read_file(const char *path, char *buf, size_t len);

/* --- SCSI helpers: CDB ---------------------------------------------- */

int tcmu_get_cdb_length(const uint8_t *cdb); /* -EINVAL for unknown groups */
uint64_t tcmu_cdb_get_lba(const uint8_t *cdb);
uint32_t tcmu_cdb_get_xfer_length(const uint8_t *cdb);
void tcmu_cdb_print_info(struct tcmu_device *dev, const struct tcmulib_cmd *cmd, const char *info);

/* --- SCSI helpers: sense (fixed format) ----------------------------- */

/* Set key/ASC/ASCQ; returns SAM_STAT_CHECK_CONDITION (0x02). */
int tcmu_set_sense_data(uint8_t *sense_buf, uint8_t key, uint16_t asc_ascq);
void tcmu_sense_set_info(uint8_t *sense_buf, uint32_t info);
void tcmu_sense_set_key_specific_info(uint8_t *sense_buf, uint16_t info);
/* SKSV progress indication, 0..65535 of 65536. */
void tcmu_sense_set_progress(uint8_t *sense_buf, uint16_t progress);
/* Field pointer (SKSV, C/D and bit pointer) for INVALID FIELD IN CDB/PARAM. */
void tcmu_sense_set_field_pointer(uint8_t *sense_buf, bool in_cdb, uint16_t byte, int bit);
/* Fill status and sense for a TCMU_STS_* result; returns the SCSI status. */
int tcmu_sts_to_scsi(int sts, uint8_t *sense_buf);

/* --- SCSI helpers: iovec --------------------------------------------- */

size_t tcmu_iovec_length(struct iovec *iovec, size_t iov_cnt);
/*
 * Copy len bytes into / out of the array, which is left unchanged; return
 * the bytes copied.  The names tcmu_memcpy_into_iovec and
 * tcmu_memcpy_from_iovec keep upstream's meaning (they also consume the
 * array, as tcmu_iovec_seek() would); native code reaches tcmu_iovec_fill
 * and tcmu_iovec_gather through the macros.
 */
size_t tcmu_iovec_fill(struct iovec *iovec, size_t iov_cnt, void *src, size_t len);
size_t tcmu_iovec_gather(void *dest, size_t len, struct iovec *iovec, size_t iov_cnt);
#ifndef TCMU_UPSTREAM_COMPAT
#define tcmu_memcpy_into_iovec tcmu_iovec_fill
#define tcmu_memcpy_from_iovec tcmu_iovec_gather
#endif
size_t tcmu_memcpy_into_iovec(struct iovec *iovec, size_t iov_cnt, void *src, size_t len);
size_t tcmu_memcpy_from_iovec(void *dest, size_t len, struct iovec *iovec, size_t iov_cnt);
void tcmu_iovec_zero(struct iovec *iovec, size_t iov_cnt);
/*
 * Advance the array past count bytes; returns the number of entries consumed.
 * The name tcmu_iovec_seek keeps upstream's two-argument signature (bounded
 * only by count); native code reaches tcmu_iovec_advance through the macro.
 */
size_t tcmu_iovec_advance(struct iovec *iovec, size_t iov_cnt, size_t count);
#ifdef TCMU_UPSTREAM_COMPAT
size_t tcmu_iovec_seek(struct iovec *iovec, size_t count);
#else
#define tcmu_iovec_seek tcmu_iovec_advance
#endif
/* -1 when equal, else the offset of the first differing byte. */
off_t tcmu_iovec_compare(void *mem, struct iovec *iovec, size_t size);
bool tcmu_iovec_is_zero(struct iovec *iovec, size_t iov_cnt);

/* --- SCSI helpers: stateless emulations (scsi/) --------------------- */

int tcmu_emulate_inquiry(struct tcmu_device *dev, struct tgt_port *port, uint8_t *cdb,
			 struct iovec *iovec, size_t iov_cnt);
int tcmu_emulate_test_unit_ready(uint8_t *cdb, struct iovec *iovec, size_t iov_cnt);
int tcmu_emulate_read_capacity_10(uint64_t num_lbas, uint32_t block_size, uint8_t *cdb,
				  struct iovec *iovec, size_t iov_cnt);
int tcmu_emulate_read_capacity_16(uint64_t num_lbas, uint32_t block_size, uint8_t *cdb,
				  struct iovec *iovec, size_t iov_cnt);
int tcmu_emulate_mode_sense(struct tcmu_device *dev, uint8_t *cdb, struct iovec *iovec,
			    size_t iov_cnt);
int tcmu_emulate_mode_select(struct tcmu_device *dev, uint8_t *cdb, struct iovec *iovec,
			     size_t iov_cnt);
int tcmu_emulate_start_stop(struct tcmu_device *dev, uint8_t *cdb);

#ifdef __cplusplus
}
#endif

#endif
