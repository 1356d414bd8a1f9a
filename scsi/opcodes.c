// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The opcode table of the generic engine: CDB usage data (which also
 * drives the reserved-bit check of every CDB), flags and handlers, plus
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) generated from it.
 */
#include <pthread.h>
#include <string.h>

#include "engine_priv.h"

#define NO_SA	 0xffff
#define T_IO	 30 /* recommended timeouts, seconds */
#define T_LONG	 600
#define T_FORMAT 3600

/* Shorthands for usage data: LBA and length fields are fully used. */
#define L4 0xff, 0xff, 0xff, 0xff
#define L8 L4, L4
/* Allowed in every ALUA access state. */
#define ALUA_ANY (OPF_ALUA_SB | OPF_ALUA_UA | OPF_ALUA_TR)

/* One command per line reads better than one field per line. */
/* clang-format off */
static const struct scsi_op scsi_ops[] = {
	{ TEST_UNIT_READY, NO_SA, 6, OPF_LOCAL, T_IO, scsi_fast_tur, NULL,
	  { TEST_UNIT_READY, 0, 0, 0, 0, 0 } },
	{ REQUEST_SENSE, NO_SA, 6, OPF_NO_UA | OPF_IN_FORMAT | ALUA_ANY | OPF_LOCAL,
	  T_IO, scsi_fast_request_sense, NULL,
	  { REQUEST_SENSE, 0x01, 0, 0, 0xff, 0 } },
	{ FORMAT_UNIT, NO_SA, 6, OPF_WRITE | OPF_MEDIUM,
	  T_FORMAT, scsi_fast_format, scsi_slow_format,
	  { FORMAT_UNIT, 0x3f, 0, 0, 0, 0 } },
	{ READ_6, NO_SA, 6, OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { READ_6, 0x1f, 0xff, 0xff, 0xff, 0 } },
	{ WRITE_6, NO_SA, 6, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { WRITE_6, 0x1f, 0xff, 0xff, 0xff, 0 } },
	{ INQUIRY, NO_SA, 6, OPF_NO_UA | OPF_IN_FORMAT | ALUA_ANY | OPF_LOCAL,
	  T_IO, scsi_fast_inquiry, NULL,
	  { INQUIRY, 0x01, 0xff, 0xff, 0xff, 0 } },
	{ MODE_SELECT, NO_SA, 6, OPF_ALUA_SB, T_IO, scsi_fast_mode_select, NULL,
	  { MODE_SELECT, 0x11, 0, 0, 0xff, 0 } },
	{ MODE_SENSE, NO_SA, 6, OPF_ALUA_SB | OPF_LOCAL, T_IO, scsi_fast_mode_sense, NULL,
	  { MODE_SENSE, 0x08, 0xff, 0xff, 0xff, 0 } },
	{ START_STOP, NO_SA, 6, 0, T_IO, scsi_fast_start_stop, NULL,
	  { START_STOP, 0x01, 0, 0x0f, 0xf7, 0 } },
	{ READ_CAPACITY, NO_SA, 10, OPF_ALUA_SB | OPF_LOCAL, T_IO, scsi_fast_read_capacity_10, NULL,
	  { READ_CAPACITY, 0, L4, 0, 0, 0x01, 0 } },
	{ READ_10, NO_SA, 10, OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { READ_10, 0x1e, L4, 0x1f, 0xff, 0xff, 0 } },
	{ WRITE_10, NO_SA, 10, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { WRITE_10, 0x1a, L4, 0x1f, 0xff, 0xff, 0 } },
	{ WRITE_VERIFY, NO_SA, 10, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_write_verify,
	  scsi_slow_write_verify, { WRITE_VERIFY, 0x12, L4, 0x1f, 0xff, 0xff, 0 } },
	{ VERIFY, NO_SA, 10, OPF_MEDIUM, T_IO, scsi_fast_verify, scsi_slow_verify,
	  { VERIFY, 0x16, L4, 0x1f, 0xff, 0xff, 0 } },
	{ PRE_FETCH_10, NO_SA, 10, OPF_MEDIUM, T_IO, scsi_fast_prefetch, NULL,
	  { PRE_FETCH_10, 0x02, L4, 0x1f, 0xff, 0xff, 0 } },
	{ SYNCHRONIZE_CACHE, NO_SA, 10, OPF_MEDIUM, T_LONG, scsi_fast_sync_cache, NULL,
	  { SYNCHRONIZE_CACHE, 0x06, L4, 0x1f, 0xff, 0xff, 0 } },
	{ WRITE_SAME, NO_SA, 10, OPF_WRITE | OPF_MEDIUM,
	  T_LONG, scsi_fast_write_same, scsi_slow_write_same,
	  { WRITE_SAME, 0x18, L4, 0x1f, 0xff, 0xff, 0 } },
	{ UNMAP, NO_SA, 10, OPF_WRITE | OPF_UNMAP | OPF_MEDIUM,
	  T_LONG, scsi_fast_unmap, scsi_slow_unmap,
	  { UNMAP, 0x01, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0 } },
	{ MODE_SELECT_10, NO_SA, 10, OPF_ALUA_SB, T_IO, scsi_fast_mode_select, NULL,
	  { MODE_SELECT_10, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0 } },
	{ MODE_SENSE_10, NO_SA, 10, OPF_ALUA_SB | OPF_LOCAL, T_IO, scsi_fast_mode_sense, NULL,
	  { MODE_SENSE_10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0 } },
	{ EXTENDED_COPY, 0x00, 16, OPF_HAS_SA | OPF_MEDIUM,
	  T_LONG, scsi_fast_xcopy, scsi_slow_xcopy,
	  { EXTENDED_COPY, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, L4, 0, 0 } },
	{ RECEIVE_COPY_RESULTS, RCR_SA_COPY_STATUS, 16, OPF_HAS_SA | OPF_LOCAL,
	  T_IO, scsi_fast_rcr, NULL,
	  { RECEIVE_COPY_RESULTS, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, L4, 0, 0 } },
	{ RECEIVE_COPY_RESULTS, RCR_SA_OPERATING_PARAMETERS, 16, OPF_HAS_SA | OPF_LOCAL,
	  T_IO, scsi_fast_rcr,
	  NULL, { RECEIVE_COPY_RESULTS, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, L4, 0, 0 } },
	{ READ_16, NO_SA, 16, OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { READ_16, 0x1e, L8, L4, 0x1f, 0 } },
	{ COMPARE_AND_WRITE, NO_SA, 16, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_caw, scsi_slow_caw,
	  { COMPARE_AND_WRITE, 0x18, L8, 0, 0, 0, 0xff, 0x1f, 0 } },
	{ WRITE_16, NO_SA, 16, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { WRITE_16, 0x1a, L8, L4, 0x1f, 0 } },
	{ WRITE_VERIFY_16, NO_SA, 16, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_write_verify,
	  scsi_slow_write_verify, { WRITE_VERIFY_16, 0x12, L8, L4, 0x1f, 0 } },
	{ VERIFY_16, NO_SA, 16, OPF_MEDIUM, T_IO, scsi_fast_verify, scsi_slow_verify,
	  { VERIFY_16, 0x16, L8, L4, 0x1f, 0 } },
	{ PRE_FETCH_16, NO_SA, 16, OPF_MEDIUM, T_IO, scsi_fast_prefetch, NULL,
	  { PRE_FETCH_16, 0x02, L8, L4, 0x1f, 0 } },
	{ SYNCHRONIZE_CACHE_16, NO_SA, 16, OPF_MEDIUM, T_LONG, scsi_fast_sync_cache, NULL,
	  { SYNCHRONIZE_CACHE_16, 0x06, L8, L4, 0x1f, 0 } },
	{ WRITE_SAME_16, NO_SA, 16, OPF_WRITE | OPF_MEDIUM,
	  T_LONG, scsi_fast_write_same, scsi_slow_write_same,
	  { WRITE_SAME_16, 0x19, L8, L4, 0x1f, 0 } },
	{ SERVICE_ACTION_IN_16, READ_CAPACITY_16, 16, OPF_HAS_SA | OPF_ALUA_SB | OPF_LOCAL, T_IO,
	  scsi_fast_read_capacity_16, NULL,
	  { SERVICE_ACTION_IN_16, 0x1f, L8, L4, 0x01, 0 } },
	{ SERVICE_ACTION_IN_16, GET_LBA_STATUS, 16, OPF_HAS_SA | OPF_MEDIUM,
	  T_IO, scsi_fast_get_lba_status,
	  scsi_slow_get_lba_status, { SERVICE_ACTION_IN_16, 0x1f, L8, L4, 0, 0 } },
	{ MAINTENANCE_IN, MI_REPORT_TARGET_PGS, 12, OPF_HAS_SA | OPF_ALUA | ALUA_ANY | OPF_LOCAL,
	  T_IO,
	  scsi_fast_rtpg, NULL, { MAINTENANCE_IN, 0xff, 0, 0, 0, 0, L4, 0, 0 } },
	{ MAINTENANCE_IN, MI_REPORT_SUPPORTED_OPERATION_CODES, 12,
	  OPF_HAS_SA | OPF_IN_FORMAT | ALUA_ANY | OPF_LOCAL, T_IO, scsi_fast_rsoc, NULL,
	  { MAINTENANCE_IN, 0x1f, 0x87, 0xff, 0xff, 0xff, L4, 0, 0 } },
	{ MAINTENANCE_OUT, MO_SET_TARGET_PGS, 12, OPF_HAS_SA | OPF_ALUA | OPF_ALUA_SB | OPF_ALUA_UA,
	  T_IO, scsi_fast_stpg, NULL, { MAINTENANCE_OUT, 0x1f, 0, 0, 0, 0, L4, 0, 0 } },
	{ READ_12, NO_SA, 12, OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { READ_12, 0x1e, L4, L4, 0x1f, 0 } },
	{ WRITE_12, NO_SA, 12, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_rw, scsi_slow_rw_partial,
	  { WRITE_12, 0x1a, L4, L4, 0x1f, 0 } },
	{ WRITE_VERIFY_12, NO_SA, 12, OPF_WRITE | OPF_MEDIUM, T_IO, scsi_fast_write_verify,
	  scsi_slow_write_verify, { WRITE_VERIFY_12, 0x12, L4, L4, 0x1f, 0 } },
	{ VERIFY_12, NO_SA, 12, OPF_MEDIUM, T_IO, scsi_fast_verify, scsi_slow_verify,
	  { VERIFY_12, 0x16, L4, L4, 0x1f, 0 } },
};
/* clang-format on */

#define N_OPS (sizeof(scsi_ops) / sizeof(scsi_ops[0]))

/* First table index per opcode, 0xff when none; built once. */
static uint8_t op_first[256];
/*
 * Per op, the CDB bits that must be zero (bytes 0..15): the complement of the usage data past the opcode, restricted to
 * the CDB's length; only the top three bits of byte 1 for service action
 * ops.  Lets scsi_check_cdb_usage() accept a clean CDB with two ANDs.
 */
static uint8_t op_rsv[N_OPS][16] __attribute__((aligned(16)));
static pthread_once_t op_once = PTHREAD_ONCE_INIT;
static atomic_bool op_built; /* skips pthread_once() once built */

static void op_index_build(void)
{
	size_t i;
	int b;

	memset(op_first, 0xff, sizeof(op_first));
	for (i = N_OPS; i-- > 0;)
		op_first[scsi_ops[i].opcode] = i;
	for (i = 0; i < N_OPS; i++) {
		const struct scsi_op *op = &scsi_ops[i];

		for (b = 1; b < op->cdb_len && b < 16; b++) {
			uint8_t m = (uint8_t)~op->usage[b];

			if (op->flags & OPF_HAS_SA && b == 1)
				m &= 0xe0;
			op_rsv[i][b] = m;
		}
	}
	atomic_store_explicit(&op_built, true, memory_order_release);
}

static inline void op_index_ensure(void)
{
	if (!atomic_load_explicit(&op_built, memory_order_acquire))
		pthread_once(&op_once, op_index_build);
}

static const struct scsi_op *op_find(uint8_t opcode, uint16_t sa)
{
	size_t i;

	op_index_ensure();
	if (op_first[opcode] == 0xff)
		return NULL;
	for (i = op_first[opcode]; i < N_OPS && scsi_ops[i].opcode == opcode; i++)
		if (!(scsi_ops[i].flags & OPF_HAS_SA) || scsi_ops[i].sa == sa)
			return &scsi_ops[i];
	return NULL;
}

const struct scsi_op *scsi_op_lookup(const uint8_t *cdb)
{
	return op_find(cdb[0], cdb[1] & 0x1f);
}

enum scsi_need scsi_cdb_need(const uint8_t *cdb)
{
	const struct scsi_op *op = scsi_op_lookup(cdb);

	if (!op)
		return SCSI_NEED_BACKEND;
	if (op->flags & OPF_MEDIUM)
		return SCSI_NEED_MEDIUM;
	return op->flags & OPF_LOCAL ? SCSI_NEED_NONE : SCSI_NEED_BACKEND;
}

bool scsi_cdb_writes(const uint8_t *cdb)
{
	const struct scsi_op *op = scsi_op_lookup(cdb);

	if (!op)
		return false;
	if (op->flags & OPF_WRITE)
		return true;
	/* Parameter lists sent to the target that do not change the medium. */
	switch (op->opcode) {
	case MODE_SELECT:
	case MODE_SELECT_10:
	case EXTENDED_COPY:
	case MAINTENANCE_OUT:
		return true;
	default:
		return false;
	}
}

bool scsi_op_known_opcode(uint8_t opcode)
{
	op_index_ensure();
	return op_first[opcode] != 0xff;
}

bool scsi_op_supported(const struct scsi_op *op, struct scsi_ctx *c)
{
	if ((op->flags & OPF_UNMAP) && !scsi_be_has(c->sd, unmap))
		return false;
	/* TPGS 00b: RTPG and STPG are not implemented (SPC-4 6.37, 6.45). */
	if ((op->flags & OPF_ALUA) && !scsi_alua_enabled(c))
		return false;
	return true;
}

static size_t put_timeouts(uint8_t *b, const struct scsi_op *op)
{
	memset(b, 0, 12);
	scsi_put_be16(&b[0], 0x0a);
	scsi_put_be32(&b[8], op->timeout);
	return 12;
}

/* All-commands form: one 8-byte descriptor (+12 with RCTD) per command. */
static size_t rsoc_all(struct scsi_ctx *c, bool rctd, uint8_t *buf)
{
	size_t pos = 4, i;

	for (i = 0; i < N_OPS; i++) {
		const struct scsi_op *op = &scsi_ops[i];
		uint8_t *d = &buf[pos];

		if (!scsi_op_supported(op, c))
			continue;
		memset(d, 0, 8);
		d[0] = op->opcode;
		if (op->flags & OPF_HAS_SA) {
			scsi_put_be16(&d[2], op->sa);
			d[5] |= 0x01; /* SERVACTV */
		}
		if (rctd)
			d[5] |= 0x02; /* CTDP */
		scsi_put_be16(&d[6], op->cdb_len);
		pos += 8;
		if (rctd)
			pos += put_timeouts(&buf[pos], op);
	}
	scsi_put_be32(&buf[0], pos - 4);
	return pos;
}

int scsi_fast_rsoc(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	/* 39 commands x 20 bytes fits easily. */
	uint8_t buf[4 + N_OPS * 20];
	bool rctd = c->cdb[2] & 0x80;
	uint8_t options = c->cdb[2] & 0x07, opcode = c->cdb[3];
	uint16_t sa = scsi_get_be16(&c->cdb[4]);
	uint32_t alloc_len = scsi_get_be32(&c->cdb[6]);
	const struct scsi_op *op = NULL;
	size_t len, i;

	memset(buf, 0, sizeof(buf));
	if (options == 0) {
		len = rsoc_all(c, rctd, buf);
		goto out;
	}

	/* One-command forms. */
	for (i = 0; i < N_OPS; i++) {
		if (scsi_ops[i].opcode != opcode)
			continue;
		if (options == 1 && (scsi_ops[i].flags & OPF_HAS_SA))
			return TCMU_STS_INVALID_CDB;
		if (options == 2 && !(scsi_ops[i].flags & OPF_HAS_SA))
			return TCMU_STS_INVALID_CDB;
		if (!(scsi_ops[i].flags & OPF_HAS_SA) || scsi_ops[i].sa == sa) {
			op = &scsi_ops[i];
			break;
		}
	}
	if (options > 3)
		return TCMU_STS_INVALID_CDB;
	if (options == 2 && !op) {
		/* An opcode we do not know at all with a service action. */
		bool known = false;

		for (i = 0; i < N_OPS; i++)
			known |= scsi_ops[i].opcode == opcode;
		if (!known)
			return TCMU_STS_INVALID_CDB;
	}

	if (!op || !scsi_op_supported(op, c)) {
		buf[1] = 0x01; /* SUPPORT: not supported */
		len = 4;
		goto out;
	}
	buf[1] = 0x03 | (rctd ? 0x80 : 0); /* supported per standard; CTDP */
	scsi_put_be16(&buf[2], op->cdb_len);
	memcpy(&buf[4], op->usage, op->cdb_len);
	if (op->flags & OPF_HAS_SA)
		buf[5] = op->sa & 0x1f; /* the service action itself */
	len = 4 + op->cdb_len;
	if (rctd)
		len += put_timeouts(&buf[len], op);
out:
	scsi_set_read_len(c, scsi_respond(c->iov, c->iov_cnt, buf, len, alloc_len));
	*cls = SCSI_CLASS_DONE;
	return TCMU_STS_OK;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Reject bits the usage data marks unused (reserved or unsupported). */
int scsi_check_cdb_usage(struct scsi_ctx *c, const struct scsi_op *op)
{
	const uint8_t *rsv = op_rsv[op - scsi_ops];
	const uint8_t *cdb = c->cdb;
	uint8_t b[16];
	int i;

	/* Fast accept: copy exactly cdb_len bytes (the CDB may be no longer). */
	switch (op->cdb_len) {
	case 6:
		memset(b, 0, sizeof(b));
		memcpy(b, cdb, 6);
		break;
	case 10:
		memset(b, 0, sizeof(b));
		memcpy(b, cdb, 10);
		break;
	case 12:
		memset(b, 0, sizeof(b));
		memcpy(b, cdb, 12);
		break;
	case 16:
		memcpy(b, cdb, 16);
		break;
	default:
		goto slow;
	}
	if (!((load64(b) & load64(rsv)) | (load64(b + 8) & load64(rsv + 8))))
		return TCMU_STS_OK;
slow:
	/* Find the first offending bit for the sense field pointer. */
	for (i = 1; i < op->cdb_len; i++) {
		uint8_t bad = c->cdb[i] & ~op->usage[i];

		if (op->flags & OPF_HAS_SA && i == 1)
			bad &= 0xe0;
		if (bad) {
			int bit = 7;

			while (!(bad & (1 << bit)))
				bit--;
			tcmu_sense_set_field_pointer(c->lc->sense_buf, true, i, bit);
			return TCMU_STS_INVALID_CDB;
		}
	}
	return TCMU_STS_OK;
}
