// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The fbo opcode switch, and the small commands: INQUIRY (type 5,
 * removable), TEST UNIT READY, REQUEST SENSE, START STOP UNIT (LOEJ ejects
 * or loads; an eject while removal is prevented fails with 05/53/02),
 * PREVENT ALLOW MEDIUM REMOVAL.  A medium change is reported once as a
 * unit attention (06/28/00) to the first command that is not INQUIRY,
 * REQUEST SENSE, REPORT LUNS, GET CONFIGURATION or GET EVENT STATUS
 * NOTIFICATION.  What is not named goes to the generic layer
 * (TCMU_STS_NOT_HANDLED): REPORT LUNS, the VPD pages...
 */
#include <string.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

#define INQ_BUF 256

static int inquiry(struct fbo_dev *f, uint8_t *cdb, struct iovec *iov, size_t iov_cnt)
{
	uint8_t b[INQ_BUF] = { 0 };
	int ret;

	if ((cdb[1] & 0x01) || !f->std_inquiry)
		return TCMU_STS_NOT_HANDLED; /* VPD pages: generic */
	if ((cdb[1] & 0xfe) || cdb[2])
		return TCMU_STS_INVALID_CDB;
	ret = f->std_inquiry(f->std_inquiry_arg, cdb, b, sizeof(b));
	if (ret != TCMU_STS_OK)
		return ret;
	b[0] = (b[0] & 0xe0) | 0x05; /* CD/DVD device */
	b[1] |= 0x80;		     /* RMB: removable */
	b[2] = 0x05;		     /* SPC-3, as MMC drives report */
	return fbo_respond(iov, iov_cnt, b, (size_t)b[4] + 5, scsi_get_be16(cdb + 3));
}

static int request_sense(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt)
{
	uint8_t s[TCMU_SENSE_BUFFERSIZE] = { 0 };

	if (fbo_check_ready(f, s) == TCMU_STS_OK)
		tcmu_set_sense_data(s, NO_SENSE, ASC_NO_ADDITIONAL_SENSE);
	return fbo_respond(iov, iov_cnt, s, 18, cdb[4]);
}

static int start_stop(struct fbo_dev *f, const uint8_t *cdb, uint8_t *sense)
{
	bool loej = cdb[4] & 0x02, start = cdb[4] & 0x01;

	if (cdb[4] & 0xf0)
		return TCMU_STS_OK; /* power conditions: nothing to do */
	if (!loej)
		return start ? fbo_check_ready(f, sense) : TCMU_STS_OK;
	if (!start) {
		if (f->prevent)
			return fbo_sense(sense, ILLEGAL_REQUEST, FBO_ASC_REMOVAL_PREVENTED);
		fbo_eject(f);
		return TCMU_STS_OK;
	}
	if (fbo_load(f, true))
		return fbo_sense(sense, NOT_READY, FBO_ASC_NO_MEDIUM_TRAY_CLOSED);
	return TCMU_STS_OK;
}

/* Commands a pending medium change unit attention does not stop. */
static bool ua_exempt(uint8_t op)
{
	return op == INQUIRY || op == REQUEST_SENSE || op == REPORT_LUNS ||
	       op == FBO_GET_CONFIGURATION || op == FBO_GET_EVENT_STATUS;
}

/* The device's one worker thread (SERIALIZE); may block on the file. */
int fbo_exec(struct fbo_dev *f, uint8_t *cdb, struct iovec *iov, size_t iov_cnt, uint8_t *sense)
{
	bool immed;

	if (f->ua_medium_changed && !ua_exempt(cdb[0])) {
		f->ua_medium_changed = false;
		return fbo_sense(sense, UNIT_ATTENTION, FBO_ASC_MEDIUM_CHANGED);
	}
	switch (cdb[0]) {
	case INQUIRY:
		return inquiry(f, cdb, iov, iov_cnt);
	case TEST_UNIT_READY:
		return fbo_check_ready(f, sense);
	case REQUEST_SENSE:
		return request_sense(f, cdb, iov, iov_cnt);
	case START_STOP:
		return start_stop(f, cdb, sense);
	case ALLOW_MEDIUM_REMOVAL:
		f->prevent = cdb[4] & 0x03;
		return TCMU_STS_OK;
	case READ_CAPACITY:
		return fbo_read_capacity(f, cdb, iov, iov_cnt, sense);
	case READ_6:
	case READ_10:
	case READ_12:
	case WRITE_6:
	case WRITE_10:
	case WRITE_12:
	case WRITE_VERIFY:
	case WRITE_VERIFY_12:
	case VERIFY:
	case VERIFY_12:
		return fbo_rw(f, cdb, iov, iov_cnt, sense);
	case SYNCHRONIZE_CACHE:
		return fbo_sync(f, sense);
	case FORMAT_UNIT:
		return fbo_format_unit(f, cdb, iov, iov_cnt, sense, &immed);
	case FBO_READ_FORMAT_CAPS:
		return fbo_read_format_caps(f, cdb, iov, iov_cnt);
	case MODE_SENSE:
	case MODE_SENSE_10:
		return fbo_mode_sense(f, cdb, iov, iov_cnt, sense);
	case MODE_SELECT:
	case MODE_SELECT_10:
		return fbo_mode_select(f, cdb, iov, iov_cnt, sense);
	case FBO_GET_CONFIGURATION:
		return fbo_get_configuration(f, cdb, iov, iov_cnt, sense);
	case FBO_GET_EVENT_STATUS:
		return fbo_event_status(f, cdb, iov, iov_cnt, sense);
	case FBO_READ_TOC:
		return fbo_read_toc(f, cdb, iov, iov_cnt, sense);
	case FBO_READ_DISC_INFO:
		return fbo_read_disc_info(f, cdb, iov, iov_cnt, sense);
	case FBO_READ_TRACK_INFO:
		return fbo_read_track_info(f, cdb, iov, iov_cnt, sense);
	case FBO_READ_DVD_STRUCTURE:
		return fbo_read_dvd_structure(f, cdb, iov, iov_cnt, sense);
	case FBO_MECHANISM_STATUS:
		return fbo_mechanism_status(f, cdb, iov, iov_cnt);
	case READ_16:
	case WRITE_16:
	case WRITE_VERIFY_16:
	case VERIFY_16:
	case SYNCHRONIZE_CACHE_16:
	case SERVICE_ACTION_IN_16:
	case WRITE_SAME:
	case WRITE_SAME_16:
	case UNMAP:
	case COMPARE_AND_WRITE:
	case EXTENDED_COPY:
	case PRE_FETCH_10:
	case PRE_FETCH_16:
	case VARIABLE_LENGTH_CMD:
		return TCMU_STS_INVALID_CMD;
	default:
		return TCMU_STS_NOT_HANDLED;
	}
}
