// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The medium: a file opened on load and closed on eject.  Loading a medium
 * queues a unit attention (06/28/00, NOT READY TO READY CHANGE, MEDIUM MAY
 * HAVE CHANGED) and a NEW MEDIA event for GET EVENT STATUS NOTIFICATION;
 * ejecting queues a MEDIA REMOVAL event.  Without a medium, commands that
 * need one get NOT READY, MEDIUM NOT PRESENT (02/3A/01 tray closed, 02/3A/02
 * tray open).  A writable medium whose file is empty (new) is given the
 * LUN's size; otherwise the medium holds the whole blocks of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libtcmu.h"
#include "scsi_defs.h"
#include "fbo.h"

int fbo_sense(uint8_t *sense, uint8_t key, uint16_t asc_ascq)
{
	tcmu_set_sense_data(sense, key, asc_ascq);
	return TCMU_STS_PASSTHROUGH_ERR;
}

/* Data-In: buf, cut to the allocation length and the iovec, rest zeroed. */
int fbo_respond(struct iovec *iov, size_t iov_cnt, const void *buf, size_t len, size_t alloc)
{
	tcmu_iovec_zero(iov, iov_cnt);
	tcmu_memcpy_into_iovec(iov, iov_cnt, (void *)buf, len < alloc ? len : alloc);
	return TCMU_STS_OK;
}

void fbo_init(struct fbo_dev *f, const struct fbo_cfg *cfg, uint64_t new_blocks)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = strdup(cfg->path);
	f->ro = cfg->ro;
	f->new_blocks = new_blocks;
	fbo_mode_init(f);
}

/* Open the medium's file; 0 or -errno.  The calling command's thread. */
int fbo_load(struct fbo_dev *f, bool announce)
{
	struct stat st;
	int fd, ret;

	if (f->fd >= 0)
		return 0;
	if (!f->path)
		return -ENOMEM;
	fd = open(f->path, f->ro ? O_RDONLY | O_CLOEXEC : O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		goto fail;
	if (!f->ro && (uint64_t)st.st_size < FBO_BLOCK) {
		if (ftruncate(fd, (off_t)(f->new_blocks * FBO_BLOCK)))
			goto fail;
		st.st_size = (off_t)(f->new_blocks * FBO_BLOCK);
	}
	f->fd = fd;
	f->nblocks = (uint64_t)st.st_size / FBO_BLOCK;
	f->tray_open = false;
	if (announce) {
		f->ua_medium_changed = true;
		f->media_event = FBO_EV_NEW_MEDIA;
	}
	return 0;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

void fbo_eject(struct fbo_dev *f)
{
	if (f->fd >= 0) {
		(void)fdatasync(f->fd);
		close(f->fd);
		f->media_event = FBO_EV_MEDIA_REMOVAL;
	}
	f->fd = -1;
	f->nblocks = 0;
	f->tray_open = true;
	f->prevent = false;
	f->formatting = false;
	f->ua_medium_changed = false;
}

/*
 * The administrator's eject (DBus Admin1, tcmu-stat --eject): refused with
 * -EBUSY while the initiator prevents medium removal, as a drive's eject
 * button is; the initiator then sees an EJECT REQUEST event (GESN).
 */
int fbo_admin_eject(struct fbo_dev *f)
{
	if (f->prevent) {
		f->media_event = FBO_EV_EJECT_REQUEST;
		return -EBUSY;
	}
	fbo_eject(f);
	return 0;
}

/*
 * A new medium (a reconfig, or the administrator's load): the old one is
 * ejected (MEDIA REMOVAL), cfg's file is loaded (NEW MEDIA and the unit
 * attention).  If the file cannot be opened the drive is left empty with its
 * tray closed: NOT READY, MEDIUM NOT PRESENT - TRAY CLOSED (02/3A/01), no
 * unit attention; cfg's file is kept as the medium the initiator's next
 * load (START STOP UNIT) tries.  0 or -errno.
 */
int fbo_change_medium(struct fbo_dev *f, const struct fbo_cfg *cfg)
{
	char *path = strdup(cfg->path);
	int ret;

	if (!path)
		return -ENOMEM;
	fbo_eject(f);
	free(f->path);
	f->path = path;
	f->ro = cfg->ro;
	ret = fbo_load(f, true);
	if (ret)
		f->tray_open = false;
	return ret;
}

void fbo_destroy(struct fbo_dev *f)
{
	if (f->fd >= 0) {
		(void)fdatasync(f->fd);
		close(f->fd);
	}
	f->fd = -1;
	free(f->path);
	f->path = NULL;
}

/* TCMU_STS_OK when a medium is there and ready, else NOT READY with sense. */
int fbo_check_ready(struct fbo_dev *f, uint8_t *sense)
{
	if (f->formatting) {
		uint64_t p = f->fmt_total ? f->fmt_done * 65536 / f->fmt_total : 0;

		fbo_sense(sense, NOT_READY, FBO_ASC_FORMAT_IN_PROGRESS);
		tcmu_sense_set_progress(sense, (uint16_t)(p > 65535 ? 65535 : p));
		return TCMU_STS_PASSTHROUGH_ERR;
	}
	if (f->fd < 0)
		return fbo_sense(sense, NOT_READY,
				 f->tray_open ? FBO_ASC_NO_MEDIUM_TRAY_OPEN
					      : FBO_ASC_NO_MEDIUM_TRAY_CLOSED);
	return TCMU_STS_OK;
}
