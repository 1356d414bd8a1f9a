/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The fbo handler: a file-backed optical drive (MMC-6 subset), type 5,
 * removable, 2048-byte blocks.  The medium is one file; "ro/" makes it a
 * read-only disc (DVD-ROM profile), else a rewritable one (DVD-RAM).  The
 * command code works on a struct fbo_dev only (no tcmu_device), so the
 * unit tests and the fuzz target run it on a scratch file.
 *
 *   fbo_cfg.c     the cfgstring "fbo/[ro/]<path>"
 *   fbo_medium.c  load, eject, media change events, unit attentions
 *   fbo_rw.c      READ/WRITE 6/10/12, WRITE AND VERIFY, VERIFY, SYNC CACHE
 *   fbo_format.c  FORMAT UNIT (IMMED, progress), READ FORMAT CAPACITIES
 *   fbo_mode.c    MODE SENSE/SELECT, pages 01, 08, 1D, 2A
 *   fbo_config.c  GET CONFIGURATION: profiles and features
 *   fbo_disc.c    READ CAPACITY, READ TOC/PMA/ATIP, READ DISC INFORMATION,
 *                 READ TRACK INFORMATION, READ DVD STRUCTURE, MECHANISM STATUS, GET EVENT STATUS
 *   fbo_cmd.c     the opcode switch, INQUIRY, TEST UNIT READY, REQUEST
 *                 SENSE, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL
 *   handler_fbo.c the tcmu-runner glue
 */
#ifndef FBO_H
#define FBO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define FBO_BLOCK 2048u

/* MMC opcodes scsi_defs.h lacks. */
#define FBO_READ_TOC	       0x43
#define FBO_GET_CONFIGURATION  0x46
#define FBO_GET_EVENT_STATUS   0x4a
#define FBO_READ_DISC_INFO     0x51
#define FBO_READ_TRACK_INFO    0x52
#define FBO_READ_DVD_STRUCTURE 0xad
#define FBO_MECHANISM_STATUS   0xbd
#define FBO_READ_FORMAT_CAPS   0x23

/* GET EVENT STATUS NOTIFICATION media event codes (MMC-6 table 145). */
#define FBO_EV_NONE	     0
#define FBO_EV_EJECT_REQUEST 1
#define FBO_EV_NEW_MEDIA     2
#define FBO_EV_MEDIA_REMOVAL 3

/* MMC profiles. */
#define FBO_PROFILE_CD_ROM  0x0008
#define FBO_PROFILE_DVD_ROM 0x0010
#define FBO_PROFILE_DVD_RAM 0x0012

#define FBO_ASC_MEDIUM_CHANGED	      0x2800
#define FBO_ASC_REMOVAL_PREVENTED     0x5302
#define FBO_ASC_NO_MEDIUM	      0x3a00
#define FBO_ASC_NO_MEDIUM_TRAY_CLOSED 0x3a01
#define FBO_ASC_NO_MEDIUM_TRAY_OPEN   0x3a02
#define FBO_ASC_FORMAT_IN_PROGRESS    0x0404
#define FBO_ASC_MEDIUM_FORMAT_CORRUPT 0x3100

struct fbo_cfg {
	bool ro;
	char *path; /* malloc()ed */
};

struct fbo_dev {
	/* The medium. */
	char *path; /* malloc()ed; the file loaded on LOAD */
	bool ro;
	int fd; /* -1: no medium */
	uint64_t nblocks;
	uint64_t new_blocks; /* size given to a new (empty) writable file */
	bool tray_open;
	bool prevent; /* PREVENT ALLOW MEDIUM REMOVAL */
	/* Reported once each: a unit attention and a GESN media event. */
	bool ua_medium_changed;
	uint8_t media_event;
	/* Mode pages (current values, without their 2-byte headers). */
	uint8_t page01[10], page08[18], page1d[10];
	/* FORMAT UNIT: fbo_format_step() advances fmt_done to fmt_total. */
	bool formatting;
	uint64_t fmt_done, fmt_total;
	/* The standard INQUIRY data of the generic layer; patched here. */
	int (*std_inquiry)(void *arg, uint8_t *cdb, uint8_t *buf, size_t len);
	void *std_inquiry_arg;
};

/* fbo_cfg.c */
int fbo_cfg_parse(const char *cfgstring, struct fbo_cfg *cfg, char **reason);
void fbo_cfg_free(struct fbo_cfg *cfg);

/* fbo_medium.c */
void fbo_init(struct fbo_dev *f, const struct fbo_cfg *cfg, uint64_t new_blocks);
int fbo_load(struct fbo_dev *f, bool announce);
void fbo_eject(struct fbo_dev *f);
int fbo_admin_eject(struct fbo_dev *f);
int fbo_change_medium(struct fbo_dev *f, const struct fbo_cfg *cfg);
void fbo_destroy(struct fbo_dev *f);
int fbo_sense(uint8_t *sense, uint8_t key, uint16_t asc_ascq);
int fbo_check_ready(struct fbo_dev *f, uint8_t *sense);
int fbo_respond(struct iovec *iov, size_t iov_cnt, const void *buf, size_t len, size_t alloc);

/* One command: a TCMU_STS_* value, sense in sense. */
int fbo_exec(struct fbo_dev *f, uint8_t *cdb, struct iovec *iov, size_t iov_cnt, uint8_t *sense);

/* Per family, called by fbo_exec. */
int fbo_rw(struct fbo_dev *f, uint8_t *cdb, struct iovec *iov, size_t iov_cnt, uint8_t *sense);
int fbo_sync(struct fbo_dev *f, uint8_t *sense);
int fbo_format_unit(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		    uint8_t *sense, bool *immed);
bool fbo_format_step(struct fbo_dev *f);
int fbo_read_format_caps(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt);
void fbo_mode_init(struct fbo_dev *f);
int fbo_mode_sense(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		   uint8_t *sense);
int fbo_mode_select(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		    uint8_t *sense);
int fbo_get_configuration(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
			  uint8_t *sense);
int fbo_read_capacity(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		      uint8_t *sense);
int fbo_read_toc(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		 uint8_t *sense);
int fbo_read_disc_info(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		       uint8_t *sense);
int fbo_read_track_info(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
			uint8_t *sense);
int fbo_read_dvd_structure(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
			   uint8_t *sense);
int fbo_mechanism_status(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt);
int fbo_event_status(struct fbo_dev *f, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		     uint8_t *sense);

#endif
