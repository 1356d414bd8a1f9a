// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Fencing for the glfs handler: a whole-file mandatory lock on the backing
 * file.
 *
 * On a volume with locks.mandatory-locking=optimal and
 * features.enforce-mandatory-lock=on, setting the enforce-mandatory-lock
 * xattr on the fd makes the bricks check every read, write, discard,
 * zerofill and truncate of the file against its mandatory locks: only the
 * lock owner's I/O goes through (others get EAGAIN or EBUSY), and a new
 * F_SETLK request preempts the current holder (Gluster 10.3, checked on a
 * loopback volume).  So the last device to take the lock owns the file, and
 * every other one, in this daemon or another client, is fenced off.
 *
 * Each device has its own lock owner: set on its fd (locks, flush) and on
 * the thread that queues its I/O (reads and writes carry the thread's
 * owner), so two devices on one shared glfs_t fence each other too.
 *
 * A device takes the lock when it opens.  A device that lost it (its I/O
 * got EAGAIN/EBUSY) reports tcmu_notify_lock_lost(); the daemon reopens it,
 * and that reopen does not take the lock back: the device answers BUSY
 * (without sending the I/O, so without another recovery) until the daemon's
 * implicit-ALUA path calls lock() (daemon/ha.c), or it is removed and added
 * again.  A reopen after a lost connection (a brick
 * restart drops its locks) takes the lock again.
 *
 * On a volume without enforcement the lock is advisory: lock() and
 * get_lock_state() still work (one holder at a time; a conflict is retried
 * by the daemon) but I/O is not fenced.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glfs_priv.h"
#include "tcmu-runner.h"

/* glusterfs.h's GF_ENFORCE_MANDATORY_LOCK (that header needs liburcu's). */
#define ENFORCE_XATTR "trusted.glusterfs.enforce-mandatory-lock"

/*
 * libglusterfs's syncopctx_setfslkowner(): the lock owner of the calling
 * thread's requests (gfapi has no public call for it).  The struct is
 * glusterfs-fops.h's gf_lkowner_t, whose header cannot be included alone.
 */
struct glfs_lkowner {
	int len;
	char data[1024];
};
int syncopctx_setfslkowner(struct glfs_lkowner *owner);

static _Atomic uint64_t next_owner;
static _Thread_local uint64_t thread_owner; /* owner this thread's I/O carries */

/* Devices fenced by another lock holder, until they lock again. */
struct fenced {
	struct fenced *next;
	const struct tcmu_device *dev;
};
static pthread_mutex_t fenced_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fenced *fenced_list;

static void owner_bytes(uint64_t id, struct glfs_lkowner *o)
{
	o->len = snprintf(o->data, sizeof(o->data), "tcmu-glfs/%d/%llu", (int)getpid(),
			  (unsigned long long)id);
}

static void fenced_add(const struct tcmu_device *dev)
{
	struct fenced *f;

	pthread_mutex_lock(&fenced_lock);
	for (f = fenced_list; f; f = f->next)
		if (f->dev == dev)
			goto out;
	f = malloc(sizeof(*f));
	if (f) { /* without memory, the reopen takes the lock back */
		f->dev = dev;
		f->next = fenced_list;
		fenced_list = f;
	}
out:
	pthread_mutex_unlock(&fenced_lock);
}

/* Forget dev; true if it was fenced. */
static bool fenced_take(const struct tcmu_device *dev)
{
	struct fenced **p, *f;
	bool was = false;

	pthread_mutex_lock(&fenced_lock);
	for (p = &fenced_list; (f = *p); p = &f->next) {
		if (f->dev == dev) {
			*p = f->next;
			free(f);
			was = true;
			break;
		}
	}
	pthread_mutex_unlock(&fenced_lock);
	return was;
}

/* F_SETLK of the whole file, under the fd's owner: 0 or -errno. */
static int file_lock(struct glfs_dev *gdev, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	if (glfs_file_lock(gdev->fd, F_SETLK, &fl,
			   gdev->enforced ? GLFS_LK_MANDATORY : GLFS_LK_ADVISORY))
		return errno ? -errno : -EIO;
	return 0;
}

int glfs_lock_open(struct tcmu_device *dev, struct glfs_dev *gdev, bool reopen)
{
	struct glfs_lkowner o;
	bool fenced = fenced_take(dev) && reopen;
	int ret;

	gdev->owner = atomic_fetch_add(&next_owner, 1) + 1;
	owner_bytes(gdev->owner, &o);
	if (glfs_fd_set_lkowner(gdev->fd, o.data, o.len)) {
		ret = errno ? -errno : -EIO;
		tcmu_dev_err(dev, "lock owner for %s: %s\n", gdev->path, strerror(-ret));
		return ret;
	}
	if (glfs_fsetxattr(gdev->fd, ENFORCE_XATTR, "set", 4, 0)) {
		/* EINVAL: the volume's options do not allow enforcement. */
		tcmu_dev_info(
			dev,
			"%s: the volume does not enforce mandatory locks (%s); the lock is "
			"advisory and I/O is not fenced (volume options "
			"locks.mandatory-locking=optimal, features.enforce-mandatory-lock=on)\n",
			gdev->path, strerror(errno));
		return 0;
	}
	gdev->enforced = true;
	if (fenced) {
		fenced_add(dev);
		gdev->fenced = true;
		tcmu_dev_warn(dev,
			      "%s: fenced by another lock holder; not taking the lock back "
			      "(commands get BUSY until an ALUA lock request or a re-add)\n",
			      gdev->path);
		return 0;
	}
	ret = file_lock(gdev, F_WRLCK);
	if (ret) {
		tcmu_dev_err(dev, "mandatory lock on %s: %s\n", gdev->path, strerror(-ret));
		return ret;
	}
	atomic_store(&gdev->locked, true);
	tcmu_dev_info(dev, "%s: mandatory lock taken (I/O fenced for other holders)\n", gdev->path);
	return 0;
}

bool glfs_lock_fenced(const struct glfs_dev *gdev)
{
	return gdev->fenced && !atomic_load(&gdev->locked);
}

void glfs_lock_tag_thread(const struct glfs_dev *gdev)
{
	struct glfs_lkowner o;

	if (!gdev->enforced || thread_owner == gdev->owner)
		return;
	owner_bytes(gdev->owner, &o);
	if (!syncopctx_setfslkowner(&o))
		thread_owner = gdev->owner;
}

bool glfs_lock_io_error(struct tcmu_device *dev, struct glfs_dev *gdev, int err)
{
	bool fenced = err == EAGAIN || err == EBUSY;

	if (!fenced && !(err == ENOTCONN && atomic_load(&gdev->locked)))
		return false;
	if (fenced && gdev->enforced)
		fenced_add(dev);
	if (atomic_exchange(&gdev->locked, false))
		tcmu_dev_warn(dev, "%s: lock lost (%s)\n", gdev->path,
			      fenced ? "another holder took it" : "connection lost");
	tcmu_notify_lock_lost(dev);
	return true;
}

/* The device's recovery thread; blocks for one round trip. */
int glfs_lock_take(struct tcmu_device *dev, uint16_t tag)
{
	struct glfs_dev *gdev = tcmur_dev_get_private(dev);
	int ret;

	if (!gdev)
		return TCMU_STS_TIMEOUT;
	ret = file_lock(gdev, F_WRLCK);
	if (ret) {
		tcmu_dev_warn(dev, "lock (tag %u) on %s: %s\n", tag, gdev->path, strerror(-ret));
		if (ret == -EAGAIN || ret == -EACCES || ret == -EBUSY)
			return TCMU_STS_BUSY; /* held elsewhere (advisory): retried */
		return glfs_conn_error(-ret) ? TCMU_STS_TIMEOUT : TCMU_STS_HW_ERR;
	}
	fenced_take(dev);
	atomic_store(&gdev->locked, true);
	tcmu_dev_info(dev, "%s: %s lock taken (tag %u)\n", gdev->path,
		      gdev->enforced ? "mandatory" : "advisory", tag);
	return TCMU_STS_OK;
}

/* The device's teardown thread; blocks for one round trip. */
int glfs_lock_release(struct tcmu_device *dev)
{
	struct glfs_dev *gdev = tcmur_dev_get_private(dev);
	int ret;

	if (!gdev)
		return TCMU_STS_OK;
	atomic_store(&gdev->locked, false);
	ret = file_lock(gdev, F_UNLCK);
	if (ret) {
		tcmu_dev_warn(dev, "unlock of %s: %s\n", gdev->path, strerror(-ret));
		return glfs_conn_error(-ret) ? TCMU_STS_TIMEOUT : TCMU_STS_HW_ERR;
	}
	return TCMU_STS_OK;
}

/* The device's recovery thread; never blocks (the state is cached: a lost
 * lock shows in I/O errors, which clear it). */
int glfs_lock_state(struct tcmu_device *dev)
{
	struct glfs_dev *gdev = tcmur_dev_get_private(dev);

	if (!gdev)
		return TCMUR_DEV_LOCK_UNKNOWN;
	return atomic_load(&gdev->locked) ? TCMUR_DEV_LOCK_WRITE_LOCKED : TCMUR_DEV_LOCK_UNLOCKED;
}
