/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The rbd handler's internals: the cfgstring (rbd_cfg.c), the cluster
 * connection (rbd_cluster.c), the exclusive-lock callouts (rbd_lock.c) and
 * what a device keeps across a reopen (rbd_track.c).
 */
#ifndef TCMU_RBD_PRIV_H
#define TCMU_RBD_PRIV_H

#include <pthread.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcmu-runner.h"

/* rados_connect() gives up after this long (client_mount_timeout). */
#define RBD_CONNECT_TIMEOUT_S 20
/* Monitor commands (blocklist, pool lookups) give up after this long. */
#define RBD_MON_OP_TIMEOUT_S 30
/* Image metadata key holding the lock owner's ALUA tag. */
#define RBD_LOCK_TAG_KEY "tcmu_rbd_locker_tag"

/* "rbd/<pool>/<image>[;osd_op_timeout=N][;conf=<path>][;id=<client>]". */
struct rbd_cfg {
	char *pool;
	char *image;
	char *conf;	    /* NULL: librados' default search ($CEPH_CONF, /etc/ceph) */
	char *id;	    /* NULL: client.admin; without the "client." prefix */
	int osd_op_timeout; /* seconds; 0 when not given */
};

/* Parse cfgstring into *cfg: 0, or -EINVAL/-ENOMEM with *reason malloc()ed. */
int rbd_cfg_parse(const char *cfgstring, struct rbd_cfg *cfg, char **reason);
void rbd_cfg_free(struct rbd_cfg *cfg);

/* Counters and the client address a device keeps across close + reopen. */
struct rbd_track;

/* The record of dev, created when missing; fresh: zeroed (a new device). */
struct rbd_track *rbd_track_get(struct tcmu_device *dev, bool fresh);
enum rbd_counter { RBD_CNT_LOCK_LOST, RBD_CNT_CONN_LOST, RBD_CNT_TIMED_OUT, RBD_CNT__MAX };
void rbd_track_count(struct rbd_track *t, enum rbd_counter c);
unsigned int rbd_track_read(struct rbd_track *t, enum rbd_counter c);
/* The client address the device had before its last close (malloc()ed), or NULL. */
char *rbd_track_take_addr(struct rbd_track *t);
void rbd_track_set_addr(struct rbd_track *t, const char *addr);

/* One open image. */
struct rbd_dev {
	struct tcmu_device *dev;
	struct rbd_track *track;
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t image;
	char *pool;
	char *name;
	uint32_t block_size;
	uint64_t obj_size;
	bool lock_owner; /* last known, for the service map */

	/* Resizes done by others: librbd's watch wakes size_thread. */
	uint64_t watch_handle;
	bool watching;
	pthread_t size_thread;
	bool size_thread_on;
	pthread_mutex_t size_lock;
	pthread_cond_t size_cond;
	bool size_kick;
	bool size_stop;
	/* The size reconfig() is growing the image to: LIO has it already. */
	_Atomic uint64_t reconfig_size;
};

/*
 * Connect to the cluster cfg names and open the pool's I/O context: 0, or
 * -errno with the reason logged.  Bounded: RBD_CONNECT_TIMEOUT_S for the
 * monitors, the computed osd_op_timeout for the OSDs.  Blocks.
 */
/* (rd->pool names the pool; cfg the client and its options.) */
int rbd_cluster_connect(struct rbd_dev *rd, const struct rbd_cfg *cfg);
void rbd_cluster_shutdown(struct rbd_dev *rd);
/* Remove addr (a client address of ours from before) from the OSD blocklist. */
void rbd_cluster_unblocklist(struct rbd_dev *rd, const char *addr);
/* Our client address (malloc()ed) or NULL. */
char *rbd_cluster_addr(struct rbd_dev *rd);
/* Is the pool's crush rule limited to the ssd or nvme device class? */
bool rbd_cluster_pool_solid_state(struct rbd_dev *rd);
/* Register "tcmu-runner" "<host>:<pool>/<image>" in the service map. */
void rbd_cluster_register(struct rbd_dev *rd);
/* Publish the lock owner flag and the counters.  Any thread; never blocks long. */
void rbd_cluster_status(struct rbd_dev *rd);

/* HA callouts (rbd_lock.c): the device's recovery or teardown thread; block. */
int tr_lock(struct tcmu_device *dev, uint16_t tag);
int tr_unlock(struct tcmu_device *dev);
int tr_get_lock_state(struct tcmu_device *dev);
int tr_get_lock_tag(struct tcmu_device *dev, uint16_t *tag);
/*
 * Setup or recovery thread, at a reopen, before old (our client address
 * from before) leaves the blocklist: break the exclusive lock old still
 * holds, if it does (librbd blocklists old again as it breaks it).  Blocks.
 */
void rbd_lock_drop_stale(struct rbd_dev *rd, const char *old);

#endif
