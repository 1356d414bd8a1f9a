// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The rbd handler's HA callouts on the image's exclusive lock (implicit
 * ALUA, daemon/ha.c).  lock() breaks the current owner's lock (librbd
 * blocklists that client first, so it can no longer write), takes the lock
 * in librbd's manual mode (peers asking for it are refused) and records
 * "tcmu_tag=<tag>,rbd_client=<owner>" in the image metadata, which outlives
 * any daemon.  All run on the device's recovery thread (unlock() on its
 * teardown thread) and block on the cluster.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd_priv.h"

#define MAX_OWNERS 8

/* Current owners of the exclusive lock: their count (0: none) or -errno. */
static int get_owners(struct rbd_dev *rd, char **owners)
{
	rbd_lock_mode_t mode;
	size_t n = MAX_OWNERS;
	int ret;

	ret = rbd_lock_get_owners(rd->image, &mode, owners, &n);
	if (ret == -ENOENT)
		return 0;
	return ret < 0 ? ret : (int)n;
}

/* A librbd error from a lock operation as a status for daemon/ha.c. */
static int lock_sts(struct rbd_dev *rd, const char *what, int err)
{
	tcmu_dev_err(rd->dev, "%s: %s\n", what, strerror(-err));
	if (err == -ESHUTDOWN || err == -EROFS) {
		rbd_track_count(rd->track, RBD_CNT_LOCK_LOST);
		return TCMU_STS_FENCED; /* blocklisted: the daemon reopens */
	}
	if (err == -ETIMEDOUT) {
		rbd_track_count(rd->track, RBD_CNT_CONN_LOST);
		return TCMU_STS_TIMEOUT;
	}
	return TCMU_STS_HW_ERR;
}

static int set_tag(struct rbd_dev *rd, uint16_t tag)
{
	char *owners[MAX_OWNERS], val[512];
	int n, ret;

	n = get_owners(rd, owners);
	if (n <= 0)
		return n < 0 ? n : -ENOENT;
	snprintf(val, sizeof(val), "tcmu_tag=%hu,rbd_client=%s", tag, owners[0]);
	rbd_lock_get_owners_cleanup(owners, (size_t)n);
	ret = rbd_metadata_set(rd->image, RBD_LOCK_TAG_KEY, val);
	if (!ret)
		tcmu_dev_dbg(rd->dev, "lock tag: %s\n", val);
	return ret;
}

/*
 * A blocklisted client cannot release its lock, and librbd breaks a dead
 * owner's lock (blocklisting the owner) when the next client writes.  If
 * that owner is our old address, the break has to come before the address
 * leaves the blocklist, or librbd puts it back on the first write.
 */
void rbd_lock_drop_stale(struct rbd_dev *rd, const char *old)
{
	char *owners[MAX_OWNERS];
	int n, i, ret;

	n = get_owners(rd, owners);
	if (n < 0)
		tcmu_dev_dbg(rd->dev, "cannot list the lock owners: %s\n", strerror(-n));
	for (i = 0; i < n; i++) {
		if (strcmp(owners[i], old))
			continue;
		ret = rbd_lock_break(rd->image, RBD_LOCK_MODE_EXCLUSIVE, owners[i]);
		if (ret && ret != -ENOENT)
			tcmu_dev_warn(rd->dev,
				      "cannot break the lock my old address %s holds: %s\n", old,
				      strerror(-ret));
		else
			tcmu_dev_info(rd->dev, "broke the lock my old address %s still held\n",
				      old);
	}
	if (n > 0)
		rbd_lock_get_owners_cleanup(owners, (size_t)n);
}

int tr_lock(struct tcmu_device *dev, uint16_t tag)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	char *owners[MAX_OWNERS];
	int is_owner = 0, n, i, ret;

	if (!rd)
		return TCMU_STS_HW_ERR;
	ret = rbd_is_exclusive_lock_owner(rd->image, &is_owner);
	if (ret)
		return lock_sts(rd, "cannot check lock ownership", ret);
	if (!is_owner) {
		n = get_owners(rd, owners);
		if (n < 0)
			return lock_sts(rd, "cannot list the lock owners", n);
		for (i = 0; i < n; i++) {
			tcmu_dev_info(dev, "breaking the lock of %s (librbd blocklists it)\n",
				      owners[i]);
			ret = rbd_lock_break(rd->image, RBD_LOCK_MODE_EXCLUSIVE, owners[i]);
			if (ret && ret != -ENOENT) {
				rbd_lock_get_owners_cleanup(owners, (size_t)n);
				return lock_sts(rd, "cannot break the lock", ret);
			}
		}
		if (n > 0)
			rbd_lock_get_owners_cleanup(owners, (size_t)n);
		ret = rbd_lock_acquire(rd->image, RBD_LOCK_MODE_EXCLUSIVE);
		if (ret == -EINVAL) {
			tcmu_dev_err(dev,
				     "image %s/%s has no exclusive-lock feature: no HA locking "
				     "(rbd feature enable %s/%s exclusive-lock)\n",
				     rd->pool, rd->name, rd->pool, rd->name);
			return TCMU_STS_HW_ERR;
		}
		if (ret)
			return lock_sts(rd, "cannot acquire the exclusive lock", ret);
	}
	ret = set_tag(rd, tag);
	if (ret)
		tcmu_dev_warn(dev, "cannot record lock tag %hu in the image metadata: %s\n", tag,
			      strerror(-ret));
	rd->lock_owner = true;
	tcmu_dev_info(dev, "took the exclusive lock of %s/%s (tag %hu)\n", rd->pool, rd->name, tag);
	rbd_cluster_status(rd);
	return TCMU_STS_OK;
}

int tr_unlock(struct tcmu_device *dev)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	int ret;

	if (!rd)
		return TCMU_STS_OK;
	ret = rbd_lock_release(rd->image);
	rd->lock_owner = false;
	rbd_cluster_status(rd);
	/* Not the owner any more (broken by a peer): nothing to release. */
	if (ret && ret != -ENOENT && ret != -EINVAL)
		return lock_sts(rd, "cannot release the exclusive lock", ret);
	tcmu_dev_info(dev, "released the exclusive lock of %s/%s\n", rd->pool, rd->name);
	return TCMU_STS_OK;
}

int tr_get_lock_state(struct tcmu_device *dev)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	int is_owner = 0;

	if (!rd || rbd_is_exclusive_lock_owner(rd->image, &is_owner))
		return TCMUR_DEV_LOCK_UNKNOWN;
	rd->lock_owner = is_owner;
	return is_owner ? TCMUR_DEV_LOCK_WRITE_LOCKED : TCMUR_DEV_LOCK_UNLOCKED;
}

/*
 * The tag in the metadata, if its rbd_client is still the lock's owner
 * (a tag left by an owner whose lock was broken names nobody):
 * TCMU_STS_OK, else TCMU_STS_HW_ERR (no owner, stale or missing tag).
 */
int tr_get_lock_tag(struct tcmu_device *dev, uint16_t *tag)
{
	struct rbd_dev *rd = tcmur_dev_get_private(dev);
	char val[512], client[400], *owners[MAX_OWNERS];
	size_t len = sizeof(val);
	unsigned short t;
	int n, ret;
	bool match;

	if (!rd)
		return TCMU_STS_HW_ERR;
	ret = rbd_metadata_get(rd->image, RBD_LOCK_TAG_KEY, val, &len);
	if (ret) {
		tcmu_dev_dbg(dev, "no lock tag in the image metadata: %s\n", strerror(-ret));
		return TCMU_STS_HW_ERR;
	}
	val[sizeof(val) - 1] = '\0';
	if (sscanf(val, "tcmu_tag=%hu,rbd_client=%399s", &t, client) != 2) {
		tcmu_dev_warn(dev, "unreadable lock tag '%s'\n", val);
		return TCMU_STS_HW_ERR;
	}
	n = get_owners(rd, owners);
	if (n <= 0) {
		tcmu_dev_dbg(dev, "lock tag %hu, but the lock has no owner\n", t);
		return TCMU_STS_HW_ERR;
	}
	match = !strcmp(owners[0], client);
	rbd_lock_get_owners_cleanup(owners, (size_t)n);
	if (!match) {
		tcmu_dev_dbg(dev, "lock tag %hu is stale (set by %s)\n", t, client);
		return TCMU_STS_HW_ERR;
	}
	*tag = t;
	return TCMU_STS_OK;
}
