// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The engine's cheap SPC commands, run in place on the ring thread:
 * TEST UNIT READY, INQUIRY, REQUEST SENSE, READ CAPACITY, MODE SENSE,
 * MODE SELECT and START STOP UNIT.
 */
#include <string.h>

#include "engine_priv.h"

int scsi_fast_tur(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	return TCMU_STS_OK;
}

int scsi_fast_inquiry(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint8_t desig[272];
	struct scsi_caps caps;
	size_t len;
	int ret;

	scsi_ctx_caps(c, &caps);
	/* Standard data (TPGS) and the device identification page. */
	if (!(c->cdb[1] & 0x01) || c->cdb[2] == 0x83)
		scsi_alua_inquiry_caps(c, &caps, desig, sizeof(desig));
	ret = scsi_inquiry(&caps, c->cdb, c->iov, c->iov_cnt, &len);
	if (ret == TCMU_STS_OK)
		scsi_set_read_len(c, len);
	return ret;
}

/* Convert 18-byte fixed format sense into descriptor format (SPC-4 4.5.2). */
static size_t sense_to_desc(const uint8_t *fixed, uint8_t *d)
{
	size_t pos = 8;

	memset(d, 0, 8);
	d[0] = 0x72;
	d[1] = fixed[2] & 0x0f;
	d[2] = fixed[12];
	d[3] = fixed[13];
	if (fixed[0] & 0x80) {
		/* Information descriptor. */
		memset(&d[pos], 0, 12);
		d[pos] = 0x00;
		d[pos + 1] = 0x0a;
		d[pos + 2] = 0x80;
		memcpy(&d[pos + 8], &fixed[3], 4);
		pos += 12;
	}
	if (fixed[15] & 0x80) {
		/* Sense key specific descriptor. */
		memset(&d[pos], 0, 8);
		d[pos] = 0x02;
		d[pos + 1] = 0x06;
		memcpy(&d[pos + 4], &fixed[15], 3);
		pos += 8;
	}
	d[7] = pos - 8;
	return pos;
}

/*
 * REQUEST SENSE reports, in this order: a pending unit attention (and
 * clears it), a format in progress with its progress, or NO SENSE.
 */
int scsi_fast_request_sense(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint8_t fixed[TCMU_SENSE_BUFFERSIZE], out[32];
	bool desc = c->cdb[1] & 0x01;
	size_t len;

	memset(fixed, 0, sizeof(fixed));
	if (atomic_exchange(&c->sd->ua_capacity, false)) {
		tcmu_sts_to_scsi(TCMU_STS_CAPACITY_CHANGED, fixed);
	} else if (atomic_load(&c->sd->formatting)) {
		tcmu_sense_set_progress(fixed, atomic_load(&c->sd->format_progress));
		tcmu_sts_to_scsi(TCMU_STS_FRMT_IN_PROGRESS, fixed);
	} else {
		tcmu_set_sense_data(fixed, NO_SENSE, ASC_NO_ADDITIONAL_SENSE);
	}

	if (desc) {
		len = sense_to_desc(fixed, out);
	} else {
		len = 18;
		memcpy(out, fixed, len);
	}
	scsi_set_read_len(c, scsi_respond(c->iov, c->iov_cnt, out, len, c->cdb[4]));
	return TCMU_STS_OK;
}

int scsi_fast_read_capacity_10(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	struct scsi_caps caps;
	size_t len;
	int ret;

	scsi_ctx_caps(c, &caps);
	ret = scsi_read_capacity_10(&caps, c->cdb, c->iov, c->iov_cnt, &len);
	if (ret == TCMU_STS_OK)
		scsi_set_read_len(c, len);
	return ret;
}

int scsi_fast_read_capacity_16(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	struct scsi_caps caps;
	size_t len;
	int ret;

	scsi_ctx_caps(c, &caps);
	ret = scsi_read_capacity_16(&caps, c->cdb, c->iov, c->iov_cnt, &len);
	if (ret == TCMU_STS_OK)
		scsi_set_read_len(c, len);
	return ret;
}

int scsi_fast_mode_sense(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	struct scsi_caps caps;
	size_t len;
	int ret;

	scsi_ctx_caps(c, &caps);
	ret = scsi_mode_sense(&caps, c->cdb, c->iov, c->iov_cnt, &len);
	if (ret == TCMU_STS_OK)
		scsi_set_read_len(c, len);
	return ret;
}

int scsi_fast_mode_select(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	struct scsi_caps caps;
	bool wce;
	int ret;

	scsi_ctx_caps(c, &caps);
	ret = scsi_mode_select(&caps, c->cdb, c->iov, c->iov_cnt, &wce);
	if (ret != TCMU_STS_OK || wce == caps.wce)
		return ret;

	atomic_store(&c->sd->wce, wce);
	tcmu_dev_set_write_cache_enabled(c->dev, wce);
	return TCMU_STS_OK;
}

int scsi_fast_start_stop(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	return scsi_start_stop(c->cdb);
}
