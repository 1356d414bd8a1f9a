// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * FORMAT UNIT (SBC-3 5.3): the medium is zero-filled (or deallocated when
 * the backend can unmap); meanwhile other commands get NOT READY, FORMAT IN
 * PROGRESS with the progress indication, and REQUEST SENSE reports it.
 */
#include <errno.h>
#include <stdlib.h>

#include "engine_priv.h"

#define FMT_FMTDATA  0x10
#define FMT_LONGLIST 0x20

struct format_job {
	struct tcmu_device *dev;
	struct scsi_dev *sd;
	uint64_t len;
};

static int format_run(struct format_job *job)
{
	int ret = TCMU_STS_NOT_HANDLED;

	if (scsi_be_has(job->sd, unmap))
		ret = scsi_be_unmap(job->sd, 0, job->len);
	if (ret == TCMU_STS_NOT_HANDLED)
		ret = scsi_write_pattern(job->sd, NULL, tcmu_dev_get_block_size(job->dev), 0,
					 job->len, false, &job->sd->format_progress);
	atomic_store(&job->sd->format_progress, 0);
	atomic_store(&job->sd->formatting, false);
	return ret;
}

static void *format_thread(void *arg)
{
	struct format_job *job = arg;
	int ret = format_run(job);

	if (ret != TCMU_STS_OK)
		tcmu_dev_err(job->dev, "background FORMAT UNIT failed (%d)\n", ret);
	free(job);
	return NULL;
}

/* Parse the CDB and the optional parameter list header; *immed out. */
static int format_parse(struct scsi_ctx *c, bool *immed)
{
	bool longlist = c->cdb[1] & FMT_LONGLIST;
	size_t hdr = longlist ? 8 : 4;
	uint8_t buf[8];
	uint32_t defect_len;

	*immed = false;
	if (!(c->cdb[1] & FMT_FMTDATA))
		return TCMU_STS_OK;
	if (c->data_len < hdr)
		return TCMU_STS_INVALID_PARAM_LIST_LEN;
	scsi_iov_read_at(c->iov, c->iov_cnt, 0, buf, hdr);

	defect_len = longlist ? scsi_get_be32(&buf[4]) : scsi_get_be16(&buf[2]);
	/* Protection, initialization patterns and defect lists: unsupported. */
	if ((buf[0] & 0x07) || (buf[1] & 0x08) || defect_len)
		return TCMU_STS_INVALID_PARAM_LIST;
	*immed = buf[1] & 0x02;
	return TCMU_STS_OK;
}

int scsi_fast_format(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	bool immed;
	int ret;

	ret = format_parse(c, &immed);
	if (ret != TCMU_STS_OK)
		return ret;
	/* From now on other commands see the format in progress. */
	atomic_store(&c->sd->format_progress, 0);
	atomic_store(&c->sd->formatting, true);
	*cls = SCSI_CLASS_SLOW;
	return TCMU_STS_OK;
}

int scsi_slow_format(struct scsi_ctx *c)
{
	struct format_job *job;
	bool immed;
	int ret;

	format_parse(c, &immed);
	job = calloc(1, sizeof(*job));
	if (!job) {
		atomic_store(&c->sd->formatting, false);
		return TCMU_STS_NO_RESOURCE;
	}
	job->dev = c->dev;
	job->sd = c->sd;
	job->len = c->num_lbas * c->block_size;

	if (immed) {
		pthread_mutex_lock(&c->sd->lock);
		if (c->sd->format_thread_valid)
			pthread_join(c->sd->format_thread, NULL);
		c->sd->format_thread_valid =
			!pthread_create(&c->sd->format_thread, NULL, format_thread, job);
		ret = c->sd->format_thread_valid ? TCMU_STS_OK : TCMU_STS_NO_RESOURCE;
		pthread_mutex_unlock(&c->sd->lock);
		if (ret == TCMU_STS_OK)
			return ret;
		/* No thread: format in place, the initiator just waits longer. */
	}
	ret = format_run(job);
	free(job);
	return ret;
}
