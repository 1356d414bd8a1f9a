/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Internals of the generic SCSI engine: per-device state, the per-command
 * context and the opcode table shared by dispatch, RSOC and the commands.
 *
 * Locking: scsi_dev.lock protects xcopy_hist and format_thread; the UA,
 * format and WCE flags are atomics read on the ring thread without it.
 * caw_lock serialises COMPARE AND WRITE per device (worker threads only).
 * The ALUA overrides are under lock; alua_state is an atomic read per command.
 */
#ifndef TCMU_SCSI_ENGINE_PRIV_H
#define TCMU_SCSI_ENGINE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "alua.h"
#include "engine.h"
#include "emul.h"

#define SCSI_XCOPY_HIST	    8 /* held LID1 copy results */
#define SCSI_XCOPY_MAX_CSCD 8
#define SCSI_XCOPY_MAX_SEGS 16
#define SCSI_XCOPY_MAX_LIST 1024
#define SCSI_BOUNCE_MAX	    (1024 * 1024) /* bounce buffer for slow commands */

struct xcopy_result {
	bool used;
	uint8_t list_id;
	uint8_t status; /* copy manager status: 1 ok, 2 error */
	uint16_t segments;
	uint64_t bytes;
};

/* An access state set by SET TARGET PORT GROUPS that configfs refused. */
struct alua_override {
	bool used;
	uint16_t id; /* target port group id */
	uint8_t state;
};

struct scsi_dev {
	struct tcmu_device *dev;
	const struct scsi_backend_ops *ops; /* the user's; see engine.h */
	void *be;			    /* its handle for ops */
	char *serial;			    /* unit serial read once at create */
	uint8_t naa[16];

	pthread_mutex_t lock;
	pthread_mutex_t caw_lock;

	atomic_bool ua_capacity; /* CAPACITY DATA HAS CHANGED pending */
	atomic_bool formatting;
	atomic_uint format_progress; /* 0..65535 */

	atomic_bool wce;				 /* current WCE */
	bool wce_default;				 /* the device's setting at create */
	struct xcopy_result xcopy_hist[SCSI_XCOPY_HIST]; /* (lock) */
	unsigned int xcopy_next;			 /* (lock) */

	pthread_t format_thread;  /* (lock) */
	bool format_thread_valid; /* (lock) */

	/* Local group's ALUA state or ALUA_STATE_NONE; see alua.c. */
	atomic_int alua_state;
	atomic_int alua_impl_id;			/* local group id if implicit, else -1 */
	atomic_int ha_lock;				/* SCSI_HA_* (daemon/ha.c) */
	struct alua_override alua_ovr[ALUA_MAX_GROUPS]; /* (lock) */
	uint16_t alua_offline[ALUA_MAX_PORTS];		/* (lock) ports set Offline */
	unsigned int alua_noffline;			/* (lock) */
};

struct scsi_ctx {
	struct tcmu_device *dev;
	struct scsi_dev *sd;
	struct tcmur_cmd *cmd;
	struct tcmulib_cmd *lc;
	const uint8_t *cdb;
	struct iovec *iov;
	size_t iov_cnt;
	size_t data_len; /* bytes in the iovec */
	uint64_t num_lbas;
	uint32_t block_size;
};

/* Opcode table flags. */
#define OPF_NO_UA     (1u << 0) /* not blocked by a pending unit attention */
#define OPF_IN_FORMAT (1u << 1) /* allowed while a format runs */
#define OPF_WRITE     (1u << 2) /* modifies the medium: refused when WP */
#define OPF_UNMAP     (1u << 3) /* needs the backend's unmap */
#define OPF_HAS_SA    (1u << 4) /* identified by opcode and service action */
#define OPF_ALUA      (1u << 5) /* only when the device has ALUA groups */
/* Allowed when the local target port group is Standby / Unavailable or
 * Offline / Transitioning (SPC-4 5.15.2.4); others get NOT READY. */
#define OPF_ALUA_SB (1u << 6)
#define OPF_ALUA_UA (1u << 7)
#define OPF_ALUA_TR (1u << 8)
/* What the command needs of the backend (scsi_cdb_need()): reads or changes
 * the medium / answered from the engine's own state.  Neither: it needs the
 * backend in some other way (MODE SELECT, START STOP UNIT, STPG ...). */
#define OPF_MEDIUM (1u << 9)
#define OPF_LOCAL  (1u << 10)

struct scsi_op {
	uint8_t opcode;
	uint16_t sa;
	uint8_t cdb_len;
	uint16_t flags;
	uint16_t timeout; /* nominal, seconds, for RCTD */
	/* Ring thread: validate, run if cheap; sets *cls; returns TCMU_STS_*. */
	int (*fast)(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
	/* Worker thread: the blocking part of a SCSI_CLASS_SLOW command. */
	int (*slow)(struct scsi_ctx *c);
	uint8_t usage[16]; /* CDB usage data for REPORT SUPPORTED OPCODES */
};

/* opcodes.c */
const struct scsi_op *scsi_op_lookup(const uint8_t *cdb);
/* True when some service action of this opcode is implemented. */
bool scsi_op_known_opcode(uint8_t opcode);
bool scsi_op_supported(const struct scsi_op *op, struct scsi_ctx *c);
int scsi_check_cdb_usage(struct scsi_ctx *c, const struct scsi_op *op);
int scsi_fast_rsoc(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);

/* alua.c */
/* Read the groups from configfs (plus overrides), refresh alua_state. */
int scsi_alua_load(struct scsi_dev *sd, struct alua_info **out);
void scsi_alua_refresh(struct scsi_dev *sd);
bool scsi_alua_enabled(struct scsi_ctx *c);
/* TCMU_STS_OK or the NOT READY status of the local access state. */
int scsi_alua_check(struct scsi_ctx *c, const struct scsi_op *op);
/* TPGS and the port designators for INQUIRY; desig must outlive caps. */
void scsi_alua_inquiry_caps(struct scsi_ctx *c, struct scsi_caps *caps, uint8_t *desig,
			    size_t room);
int scsi_fast_rtpg(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_stpg(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);

/* engine.c */
void scsi_ctx_init(struct scsi_ctx *c, struct scsi_dev *sd, struct tcmur_cmd *cmd);
void scsi_ctx_caps(struct scsi_ctx *c, struct scsi_caps *caps);
void scsi_set_read_len(struct scsi_ctx *c, size_t len);
/* Bytes to transfer for nr_blocks: whole blocks, at most the buffer size. */
uint64_t scsi_xfer_bytes(struct scsi_ctx *c, uint32_t nr_blocks);
/* LBA range check: 0 or TCMU_STS_RANGE. */
int scsi_check_lba(struct scsi_ctx *c, uint64_t lba, uint64_t nr_blocks);
bool scsi_dev_wce(struct scsi_dev *sd);

/* Command handlers: fast parts (ring thread) and slow parts (worker). */
int scsi_fast_tur(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_inquiry(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_request_sense(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_read_capacity_10(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_read_capacity_16(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_mode_sense(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_mode_select(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_start_stop(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);

int scsi_fast_rw(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_rw_partial(struct scsi_ctx *c);
/* Transfer c->data_len bytes (ending inside a block) at the CDB's LBA. */
int scsi_rw_partial(struct scsi_ctx *c, bool write, bool fua);
int scsi_fast_sync_cache(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_fast_prefetch(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);

int scsi_fast_verify(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_verify(struct scsi_ctx *c);
int scsi_fast_write_verify(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_write_verify(struct scsi_ctx *c);
int scsi_fast_caw(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_caw(struct scsi_ctx *c);
int scsi_fast_write_same(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_write_same(struct scsi_ctx *c);
int scsi_fast_unmap(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_unmap(struct scsi_ctx *c);
int scsi_fast_get_lba_status(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_get_lba_status(struct scsi_ctx *c);
int scsi_fast_format(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_format(struct scsi_ctx *c);
int scsi_fast_xcopy(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
int scsi_slow_xcopy(struct scsi_ctx *c);
int scsi_fast_rcr(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls);
/* Record a finished LID1 copy for RECEIVE COPY RESULTS. */
void scsi_xcopy_record(struct scsi_dev *sd, uint8_t list_id, bool ok, uint16_t segs,
		       uint64_t bytes);

/*
 * The backend operations (engine.h), on the thread that may block.  An
 * optional operation that is NULL gives TCMU_STS_NOT_HANDLED.  flush is
 * only tested for presence: SYNCHRONIZE CACHE is the caller's
 * (SCSI_CLASS_FLUSH).
 */
#define scsi_be_has(sd, op) ((sd)->ops->op != NULL)

static inline int scsi_be_read(struct scsi_dev *sd, struct iovec *iov, size_t iov_cnt, size_t len,
			       uint64_t off)
{
	return sd->ops->read(sd->be, iov, iov_cnt, len, off);
}

static inline int scsi_be_write(struct scsi_dev *sd, struct iovec *iov, size_t iov_cnt, size_t len,
				uint64_t off, bool fua)
{
	return sd->ops->write(sd->be, iov, iov_cnt, len, off, fua);
}

static inline int scsi_be_unmap(struct scsi_dev *sd, uint64_t off, uint64_t len)
{
	return sd->ops->unmap ? sd->ops->unmap(sd->be, off, len) : TCMU_STS_NOT_HANDLED;
}

static inline int scsi_be_writesame(struct scsi_dev *sd, uint64_t off, uint64_t len,
				    struct iovec *iov, size_t iov_cnt)
{
	if (!sd->ops->writesame)
		return TCMU_STS_NOT_HANDLED;
	return sd->ops->writesame(sd->be, off, len, iov, iov_cnt);
}

static inline int scsi_be_caw(struct scsi_dev *sd, uint64_t off, uint64_t len, struct iovec *iov,
			      size_t iov_cnt)
{
	if (!sd->ops->caw)
		return TCMU_STS_NOT_HANDLED;
	return sd->ops->caw(sd->be, off, len, iov, iov_cnt);
}

static inline int scsi_be_get_lba_status(struct scsi_dev *sd, uint64_t lba, uint64_t *nr,
					 int *state)
{
	if (!sd->ops->get_lba_status)
		return TCMU_STS_NOT_HANDLED;
	return sd->ops->get_lba_status(sd->be, lba, nr, state);
}

/* bounce.c */
size_t scsi_iov_read_at(struct iovec *iov, size_t iov_cnt, size_t off, void *dst, size_t len);
size_t scsi_iov_write_at(struct iovec *iov, size_t iov_cnt, size_t off, const void *src,
			 size_t len);
size_t scsi_chunk_len(uint32_t block_size, uint64_t total);
int scsi_write_pattern(struct scsi_dev *sd, const void *pattern, uint32_t block_size, uint64_t off,
		       uint64_t len, bool fua, atomic_uint *progress);
/* Zero-fill [off, off+len) with plain writes through a bounce buffer. */
int scsi_write_zeroes(struct scsi_dev *sd, uint64_t off, uint64_t len);

#endif
