/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Opening and closing one TCMU device (uio fd + map + ring state) and the
 * public per-device accessors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Build a device for uio<minor> named name ("tcm-user/...") and map it.
 * Main thread; may block briefly (open, mmap, sysfs reads).
 */
int tcmu_dev_open(struct tcmulib_context *ctx, unsigned int minor, const char *name,
		  uint32_t dev_id, struct tcmu_device **out)
{
	const struct tcmu_kops *ops = ctx->ops;
	struct tcmu_device *dev;
	const char *cfg;
	int ret, v;
	uint64_t size;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ctx = ctx;
	dev->fd = -1;
	dev->minor = minor;
	dev->dev_id = dev_id;
	dev->hm_cmd_size = -1;
	dev->block_size = 512;
	pthread_mutex_init(&dev->lock, NULL);
	snprintf(dev->uio_name, sizeof(dev->uio_name), "uio%u", minor);

	ret = tcmu_parse_uio_name(name, &dev->hba_id, dev->dev_name, sizeof(dev->dev_name), &cfg);
	if (ret) {
		tcmu_err("uio%u: \"%s\" is not a tcm-user device name\n", minor, name);
		goto err_free;
	}
	dev->cfgstring = strdup(cfg);
	if (!dev->cfgstring) {
		ret = -ENOMEM;
		goto err_free;
	}
	snprintf(dev->cfg_dir, sizeof(dev->cfg_dir), "%s/core/user_%u/%s", ops->configfs_root,
		 dev->hba_id, dev->dev_name);

	ret = tcmu_uio_read_size(ops->sysfs_root, minor, &dev->map_size);
	if (ret) {
		tcmu_err("uio%u: cannot read the map size from sysfs: %s\n", minor, strerror(-ret));
		goto err_cfg;
	}
	ret = ops->uio_open(ops->arg, minor, dev->map_size, &dev->fd, &dev->map);
	if (ret) {
		tcmu_err("uio%u: cannot open and map %zu bytes: %s\n", minor, dev->map_size,
			 strerror(-ret));
		goto err_cfg;
	}

	/* Geometry from configfs when present; handlers may override. */
	v = tcmu_cfgfs_dev_get_attr_int(dev, "hw_block_size");
	if (v > 0)
		dev->block_size = (uint32_t)v;
	v = tcmu_cfgfs_dev_get_attr_int(dev, "hw_max_sectors");
	if (v > 0)
		dev->max_xfer_len = (uint32_t)v;
	size = tcmu_cfgfs_dev_get_info_u64(dev, "Size", &ret);
	if (!ret && dev->block_size)
		dev->num_lbas = size / dev->block_size;

	*out = dev;
	return 0;

err_cfg:
	free(dev->cfgstring);
err_free:
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

/* Unmap and free.  No command may be in flight or arrive. */
void tcmu_dev_close(struct tcmu_device *dev)
{
	const struct tcmu_kops *ops = dev->ctx->ops;
	unsigned int n = tcmulib_dev_inflight(dev);

	if (n)
		tcmu_dev_warn(dev, "closing with %u command(s) in flight\n", n);
	ops->uio_close(ops->arg, dev->fd, dev->map, dev->map_size);
	tcmu_slot_pool_free(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev->ev_cfg);
	free(dev->cfgstring);
	free(dev);
}

/*
 * A device with no kernel TCMU ring behind it, for other frontends
 * (tcmu-ublk): the handler-facing accessors work, the ring functions must
 * not be called.  Any thread.
 */
int tcmu_dev_new_detached(const char *name, const char *cfgstring, uint32_t block_size,
			  uint64_t num_lbas, struct tcmu_device **out)
{
	struct tcmu_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->fd = -1;
	dev->hm_cmd_size = -1;
	dev->block_size = block_size;
	dev->num_lbas = num_lbas;
	pthread_mutex_init(&dev->lock, NULL);
	snprintf(dev->dev_name, sizeof(dev->dev_name), "%s", name);
	dev->cfgstring = strdup(cfgstring);
	if (!dev->cfgstring) {
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return -ENOMEM;
	}
	*out = dev;
	return 0;
}

void tcmu_dev_free_detached(struct tcmu_device *dev)
{
	if (!dev)
		return;
	pthread_mutex_destroy(&dev->lock);
	free(dev->cfgstring);
	free(dev);
}

int tcmu_dev_get_fd(struct tcmu_device *dev)
{
	return dev->fd;
}

char *tcmu_dev_get_cfgstring(struct tcmu_device *dev)
{
	return dev->cfgstring;
}

/*
 * From added() or reconfig(), or before tcmulib_event_done() when they
 * deferred: no command processing reads it then.
 */
int tcmu_dev_set_cfgstring(struct tcmu_device *dev, const char *cfgstring)
{
	char *s = strdup(cfgstring);

	if (!s)
		return -ENOMEM;
	free(dev->cfgstring);
	dev->cfgstring = s;
	dev->cfgstring_set = true;
	return 0;
}

const char *tcmu_dev_get_uio_name(struct tcmu_device *dev)
{
	return dev->uio_name;
}

const char *tcmu_dev_get_dev_name(struct tcmu_device *dev)
{
	return dev->dev_name;
}

unsigned int tcmu_dev_get_hba_id(struct tcmu_device *dev)
{
	return dev->hba_id;
}

uint32_t tcmu_dev_get_mailbox_flags(struct tcmu_device *dev)
{
	return dev->mb_flags;
}

struct tcmulib_handler *tcmu_dev_get_handler(struct tcmu_device *dev)
{
	return dev->handler;
}

void tcmu_dev_set_private(struct tcmu_device *dev, void *priv)
{
	dev->priv = priv;
}

void *tcmu_dev_get_private(struct tcmu_device *dev)
{
	return dev->priv;
}

#define DEV_ACCESSORS(field, type)                                                                 \
	void tcmu_dev_set_##field(struct tcmu_device *dev, type v)                                 \
	{                                                                                          \
		dev->field = v;                                                                    \
	}                                                                                          \
	type tcmu_dev_get_##field(struct tcmu_device *dev)                                         \
	{                                                                                          \
		return dev->field;                                                                 \
	}

DEV_ACCESSORS(num_lbas, uint64_t)
DEV_ACCESSORS(block_size, uint32_t)
DEV_ACCESSORS(max_xfer_len, uint32_t)
DEV_ACCESSORS(opt_xcopy_rw_len, uint32_t)
DEV_ACCESSORS(max_unmap_len, uint32_t)
DEV_ACCESSORS(unmap_gran_align, uint32_t)
DEV_ACCESSORS(write_cache_enabled, bool)
DEV_ACCESSORS(solid_state_media, bool)
DEV_ACCESSORS(unmap_enabled, bool)
DEV_ACCESSORS(write_protect_enabled, bool)

void tcmu_dev_set_opt_unmap_gran(struct tcmu_device *dev, uint32_t len, bool split)
{
	dev->opt_unmap_gran = len;
	dev->split_unmap = split;
}

uint32_t tcmu_dev_get_opt_unmap_gran(struct tcmu_device *dev)
{
	return dev->opt_unmap_gran;
}
