// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS (SPC-4 6.4, 6.18 and the
 * SPC-3 LID1 formats): identification CSCD descriptors (E4h) naming any
 * LUN this daemon serves by NAA, block to block segments (02h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

#define XC_HDR	      16
#define XC_CSCD_LEN   32
#define XC_SEG_LEN    28 /* block to block: 4 + 0x18 */
#define XC_CSCD_ID    0xe4
#define XC_SEG_B2B    0x02
#define XC_USAGE_NONE 3 /* LIST ID USAGE 11b: no list id */

struct xcopy_list {
	uint8_t list_id;
	uint8_t usage;
	size_t n_cscd;
	size_t n_seg;
	const uint8_t *cscd; /* n_cscd descriptors of 32 bytes */
	const uint8_t *seg;  /* n_seg descriptors of 28 bytes */
};

/* Structural checks of the parameter list, in the order libiscsi expects. */
static int xcopy_parse(const uint8_t *p, size_t plen, struct xcopy_list *l)
{
	size_t cscd_len, seg_len, inline_len, pos;

	if (plen < XC_HDR)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	l->list_id = p[0];
	l->usage = (p[1] >> 3) & 0x03;
	cscd_len = scsi_get_be16(&p[2]);
	seg_len = scsi_get_be32(&p[8]);
	inline_len = scsi_get_be32(&p[12]);

	if (cscd_len + seg_len > SCSI_XCOPY_MAX_LIST)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (XC_HDR + cscd_len + seg_len + inline_len > plen)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (inline_len)
		return TCMU_STS_INVALID_PARAM_LIST;
	if (l->usage == 1 || (l->usage == XC_USAGE_NONE && l->list_id))
		return TCMU_STS_INVALID_PARAM_LIST;

	/* CSCD descriptors: identification descriptors only, all 32 bytes. */
	l->cscd = p + XC_HDR;
	l->n_cscd = 0;
	for (pos = 0; pos < cscd_len; pos += XC_CSCD_LEN) {
		if (l->cscd[pos] != XC_CSCD_ID)
			return TCMU_STS_NOTSUPP_TGT_DESC_TYPE;
		if (pos + XC_CSCD_LEN > cscd_len)
			return TCMU_STS_INVALID_PARAM_LIST;
		if (++l->n_cscd > SCSI_XCOPY_MAX_CSCD)
			return TCMU_STS_TOO_MANY_TGT_DESC;
	}

	l->seg = l->cscd + cscd_len;
	l->n_seg = 0;
	for (pos = 0; pos < seg_len;) {
		const uint8_t *s = l->seg + pos;

		if (pos + 4 > seg_len)
			return TCMU_STS_INVALID_PARAM_LIST;
		if (s[0] != XC_SEG_B2B)
			return TCMU_STS_NOTSUPP_SEG_DESC_TYPE;
		if (scsi_get_be16(&s[2]) != XC_SEG_LEN - 4 || pos + XC_SEG_LEN > seg_len)
			return TCMU_STS_INVALID_PARAM_LIST;
		if (++l->n_seg > SCSI_XCOPY_MAX_SEGS)
			return TCMU_STS_TOO_MANY_SEG_DESC;
		pos += XC_SEG_LEN;
	}
	return TCMU_STS_OK;
}

/*
 * Read the parameter list, at most header + SCSI_XCOPY_MAX_LIST bytes: a
 * longer list is refused by xcopy_parse() from its header alone.
 */
static int xcopy_load(struct scsi_ctx *c, uint8_t *buf, size_t *plen)
{
	size_t len = scsi_get_be32(&c->cdb[10]);

	if (c->data_len < len)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (len > XC_HDR + SCSI_XCOPY_MAX_LIST)
		len = XC_HDR + SCSI_XCOPY_MAX_LIST;
	*plen = scsi_iov_read_at(c->iov, c->iov_cnt, 0, buf, len);
	return TCMU_STS_OK;
}

int scsi_fast_xcopy(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint8_t buf[XC_HDR + SCSI_XCOPY_MAX_LIST];
	struct xcopy_list l;
	size_t plen;
	int ret;

	if (!scsi_get_be32(&c->cdb[10]))
		return TCMU_STS_OK; /* an empty list copies nothing */
	ret = xcopy_load(c, buf, &plen);
	if (ret == TCMU_STS_OK)
		ret = xcopy_parse(buf, plen, &l);
	if (ret == TCMU_STS_OK)
		*cls = SCSI_CLASS_SLOW;
	return ret;
}

struct xcopy_target {
	struct scsi_dev *sd;
	struct tcmu_device *dev;
	bool ref; /* from ops->find_by_naa, needs a put */
};

/* Resolve one identification descriptor to a served device. */
static int cscd_resolve(struct scsi_ctx *c, const uint8_t *d, struct xcopy_target *t)
{
	uint8_t desig_type = d[5] & 0x0f, assoc = (d[5] >> 4) & 0x03, dlen = d[7];
	uint32_t bs;

	t->sd = NULL;
	t->dev = NULL;
	t->ref = false;
	if ((d[1] & 0x1f) != 0) /* peripheral device type: block only */
		return TCMU_STS_INVALID_CP_TGT_DEV_TYPE;
	if (d[1] & 0x20) /* NUL: no device */
		return TCMU_STS_CP_TGT_DEV_NOTCONN;
	if (assoc != 0 || desig_type != 3 || dlen != 16)
		return TCMU_STS_CP_TGT_DEV_NOTCONN;

	if (!memcmp(&d[8], c->sd->naa, 16)) {
		t->sd = c->sd;
	} else if (scsi_be_has(c->sd, find_by_naa)) {
		t->sd = c->sd->ops->find_by_naa(c->sd->be, &d[8], 16);
		t->ref = t->sd != NULL;
	}
	if (!t->sd)
		return TCMU_STS_CP_TGT_DEV_NOTCONN;
	t->dev = t->sd->dev;
	bs = scsi_get_be24(&d[29]);
	if (bs && bs != tcmu_dev_get_block_size(t->dev))
		return TCMU_STS_INVALID_CP_TGT_DEV_TYPE;
	return TCMU_STS_OK;
}

static int segment_copy(struct xcopy_target *src, struct xcopy_target *dst, uint64_t src_lba,
			uint64_t dst_lba, uint32_t nr, uint64_t *bytes)
{
	uint32_t bs = tcmu_dev_get_block_size(src->dev);
	uint64_t len = (uint64_t)nr * bs, done = 0;
	size_t chunk = scsi_chunk_len(bs, len);
	uint8_t *buf;
	int ret = TCMU_STS_OK;

	if (!len)
		return TCMU_STS_OK;
	buf = malloc(chunk);
	if (!buf)
		return TCMU_STS_NO_RESOURCE;
	while (done < len) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		struct iovec iov = { .iov_base = buf, .iov_len = n };

		ret = scsi_be_read(src->sd, &iov, 1, n, src_lba * bs + done);
		if (ret != TCMU_STS_OK)
			break;
		ret = scsi_be_write(dst->sd, &iov, 1, n, dst_lba * bs + done, false);
		if (ret != TCMU_STS_OK)
			break;
		done += n;
	}
	*bytes += done;
	free(buf);
	return ret;
}

static int segment_run(struct scsi_ctx *c, const uint8_t *s, struct xcopy_target *tgts,
		       size_t n_cscd, uint64_t *bytes)
{
	uint16_t si = scsi_get_be16(&s[4]), di = scsi_get_be16(&s[6]);
	uint32_t nr = scsi_get_be16(&s[10]);
	uint64_t src_lba = scsi_get_be64(&s[12]), dst_lba = scsi_get_be64(&s[20]);
	struct xcopy_target *src, *dst;

	if (si >= n_cscd || di >= n_cscd)
		return TCMU_STS_CP_TGT_DEV_NOTCONN;
	src = &tgts[si];
	dst = &tgts[di];
	if (tcmu_dev_get_block_size(src->dev) != tcmu_dev_get_block_size(dst->dev))
		return TCMU_STS_INVALID_CP_TGT_DEV_TYPE;
	if (src_lba > tcmu_dev_get_num_lbas(src->dev) ||
	    nr > tcmu_dev_get_num_lbas(src->dev) - src_lba ||
	    dst_lba > tcmu_dev_get_num_lbas(dst->dev) ||
	    nr > tcmu_dev_get_num_lbas(dst->dev) - dst_lba)
		return TCMU_STS_CP_TGT_DEV_NOTCONN;
	if (tcmu_dev_get_write_protect_enabled(dst->dev))
		return TCMU_STS_WRITE_PROTECTED;
	return segment_copy(src, dst, src_lba, dst_lba, nr, bytes);
}

int scsi_slow_xcopy(struct scsi_ctx *c)
{
	uint8_t buf[XC_HDR + SCSI_XCOPY_MAX_LIST];
	struct xcopy_target tgts[SCSI_XCOPY_MAX_CSCD];
	struct xcopy_list l;
	uint64_t bytes = 0;
	size_t plen, i, resolved = 0, done = 0;
	int ret;

	memset(tgts, 0, sizeof(tgts));
	ret = xcopy_load(c, buf, &plen);
	if (ret == TCMU_STS_OK)
		ret = xcopy_parse(buf, plen, &l);
	if (ret != TCMU_STS_OK)
		return ret;

	for (i = 0; i < l.n_cscd && ret == TCMU_STS_OK; i++, resolved++)
		ret = cscd_resolve(c, l.cscd + i * XC_CSCD_LEN, &tgts[i]);
	for (i = 0; i < l.n_seg && ret == TCMU_STS_OK; i++, done++)
		ret = segment_run(c, l.seg + i * XC_SEG_LEN, tgts, l.n_cscd, &bytes);

	for (i = 0; i < resolved; i++)
		if (tgts[i].ref)
			c->sd->ops->put(c->sd->be, tgts[i].sd);
	/* LIST ID USAGE 00b: hold the status for RECEIVE COPY RESULTS. */
	if (l.usage == 0)
		scsi_xcopy_record(c->sd, l.list_id, ret == TCMU_STS_OK, done, bytes);
	return ret;
}

void scsi_xcopy_record(struct scsi_dev *sd, uint8_t list_id, bool ok, uint16_t segs, uint64_t bytes)
{
	struct xcopy_result *r = NULL;
	unsigned int i;

	pthread_mutex_lock(&sd->lock);
	for (i = 0; i < SCSI_XCOPY_HIST; i++)
		if (sd->xcopy_hist[i].used && sd->xcopy_hist[i].list_id == list_id)
			r = &sd->xcopy_hist[i];
	if (!r) {
		r = &sd->xcopy_hist[sd->xcopy_next];
		sd->xcopy_next = (sd->xcopy_next + 1) % SCSI_XCOPY_HIST;
	}
	r->used = true;
	r->list_id = list_id;
	r->status = ok ? 0x01 : 0x02;
	r->segments = segs;
	r->bytes = bytes;
	pthread_mutex_unlock(&sd->lock);
}

static size_t rcr_op_params(struct scsi_ctx *c, uint8_t *b)
{
	static const uint8_t impl[] = { XC_SEG_B2B, XC_CSCD_ID };
	uint64_t max_seg = 0xffffull * c->block_size;

	memset(b, 0, 44 + sizeof(impl));
	scsi_put_be32(&b[0], 44 + sizeof(impl) - 4);
	b[4] = 0x01; /* SNLID: LIST ID USAGE 11b accepted */
	scsi_put_be16(&b[8], SCSI_XCOPY_MAX_CSCD);
	scsi_put_be16(&b[10], SCSI_XCOPY_MAX_SEGS);
	scsi_put_be32(&b[12], SCSI_XCOPY_MAX_LIST);
	scsi_put_be32(&b[16], max_seg > 0xffffffffull ? 0xffffffffu : (uint32_t)max_seg);
	scsi_put_be16(&b[34], 1); /* total concurrent copies */
	b[36] = 1;		  /* maximum concurrent copies */
	b[43] = sizeof(impl);
	memcpy(&b[44], impl, sizeof(impl));
	return 44 + sizeof(impl);
}

static int rcr_copy_status(struct scsi_ctx *c, uint8_t *b, size_t *len)
{
	struct xcopy_result r = { 0 };
	uint8_t list_id = c->cdb[2];
	unsigned int i;
	uint32_t count;
	uint8_t units = 0;

	pthread_mutex_lock(&c->sd->lock);
	for (i = 0; i < SCSI_XCOPY_HIST; i++) {
		if (c->sd->xcopy_hist[i].used && c->sd->xcopy_hist[i].list_id == list_id) {
			/* Copies run to completion: the held status goes once read. */
			r = c->sd->xcopy_hist[i];
			c->sd->xcopy_hist[i].used = false;
		}
	}
	pthread_mutex_unlock(&c->sd->lock);
	if (!r.used)
		return TCMU_STS_INVALID_CDB;

	/* Transfer count in bytes, else in KiB/MiB/GiB units (F1h..F3h). */
	while (r.bytes > 0xffffffffull && units < 3) {
		r.bytes >>= 10;
		units++;
	}
	count = r.bytes > 0xffffffffull ? 0xffffffffu : (uint32_t)r.bytes;
	memset(b, 0, 12);
	scsi_put_be32(&b[0], 8);
	b[4] = r.status;
	scsi_put_be16(&b[5], r.segments);
	b[7] = units ? 0xf0 + units : 0x00;
	scsi_put_be32(&b[8], count);
	*len = 12;
	return TCMU_STS_OK;
}

int scsi_fast_rcr(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint8_t buf[64];
	uint32_t alloc_len = scsi_get_be32(&c->cdb[10]);
	size_t len = 0;
	int ret = TCMU_STS_OK;

	switch (c->cdb[1] & 0x1f) {
	case RCR_SA_OPERATING_PARAMETERS:
		len = rcr_op_params(c, buf);
		break;
	case RCR_SA_COPY_STATUS:
		ret = rcr_copy_status(c, buf, &len);
		break;
	default:
		return TCMU_STS_INVALID_CDB;
	}
	if (ret == TCMU_STS_OK)
		scsi_set_read_len(c, scsi_respond(c->iov, c->iov_cnt, buf, len, alloc_len));
	return ret;
}
