/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The glfs handler's internals: the cfgstring (glfs_cfg.c), the shared
 * per-volume connections (glfs_conn.c) and the fencing lock (glfs_lock.c).
 */
#ifndef TCMU_GLFS_PRIV_H
#define TCMU_GLFS_PRIV_H

#include <glusterfs/api/glfs.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct tcmu_device;

#define GLFS_DEFAULT_PORT 24007

/* "glfs/<volume>@<host>[:port]/<path>", split up; every string malloc()ed. */
struct glfs_cfg {
	char *volume;
	char *host;
	int port;
	char *path; /* inside the volume, always starting with '/' */
};

/* Parse cfgstring into *cfg: 0, or -EINVAL with *reason malloc()ed. */
int glfs_cfg_parse(const char *cfgstring, struct glfs_cfg *cfg, char **reason);
void glfs_cfg_free(struct glfs_cfg *cfg);

/* One glfs_t per volume+host+port, shared by the devices on it. */
struct glfs_conn;

/*
 * The connection for cfg, made (glfs_init) if there is none yet: 0 with
 * *conn referenced, or -errno with *reason malloc()ed.  Blocks for as long
 * as gfapi takes to fetch the volume's layout (bounded by gfapi itself).
 */
int glfs_conn_get(const struct glfs_cfg *cfg, struct glfs_conn **conn, char **reason);
/* Drop a reference.  The glfs_t stays for the process lifetime (glfs_fini
 * costs about 10 s), ready for the next device on the same volume. */
void glfs_conn_put(struct glfs_conn *conn);
glfs_t *glfs_conn_fs(struct glfs_conn *conn);
/* err (an errno) means the volume is unreachable: reopen once it is back. */
bool glfs_conn_error(int err);
/* Point every connection's gfapi log at the daemon's current log folder. */
void glfs_conn_relog(void);

/* One open LUN (the device's private data). */
struct glfs_dev {
	struct glfs_conn *conn;
	glfs_fd_t *fd;
	char *path;
	uint32_t block_size;
	/*
	 * The volume enforces mandatory locks on this file (glfs_lock.c): I/O
	 * goes through only while this device holds the lock, under its own
	 * lock owner.
	 */
	bool enforced;
	uint64_t owner; /* lock owner id, unique in the process */
	atomic_bool locked;
	bool fenced; /* reopened after losing the lock: no I/O until lock() */
};

/*
 * Open-time fencing setup, after the file is open: a lock owner for the fd,
 * mandatory-lock enforcement if the volume allows it, and the lock itself
 * unless the device was fenced (reopen after a lost lock).  0 or -errno.
 * The setup or recovery thread; blocks for a few round trips.
 */
int glfs_lock_open(struct tcmu_device *dev, struct glfs_dev *gdev, bool reopen);
/* Fenced and not locked again: answer BUSY without sending the I/O (the
 * bricks would refuse it, and each refusal would cost a recovery).  Any
 * thread; never blocks. */
bool glfs_lock_fenced(const struct glfs_dev *gdev);
/* Before a gfapi call that sends I/O: tag this thread's requests with the
 * device's lock owner.  Any thread; never blocks. */
void glfs_lock_tag_thread(const struct glfs_dev *gdev);
/* An I/O came back with err: lock lost (EAGAIN, EBUSY; ENOTCONN with the
 * lock held) is reported with tcmu_notify_lock_lost() and true returned.
 * gfapi's event thread; never blocks. */
bool glfs_lock_io_error(struct tcmu_device *dev, struct glfs_dev *gdev, int err);
/* The handler's lock/unlock/get_lock_state callouts (see tcmu-runner.h). */
int glfs_lock_take(struct tcmu_device *dev, uint16_t tag);
int glfs_lock_release(struct tcmu_device *dev);
int glfs_lock_state(struct tcmu_device *dev);

#endif
