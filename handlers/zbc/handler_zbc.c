// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_zbc.so: the tcmu-runner side of the zbc handler (style a,
 * .handle_cmd).  The LUN size configured in LIO gives the zone count (its
 * remainder past the last whole zone is not used); the cfgstring gives the
 * model, block size, zone size and limits (zbc_cfg.c).  One worker thread
 * per device (SERIALIZE) runs every command, so the zone state needs no
 * lock.  See docs/zbc.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcmu-runner.h"
#include "zbc.h"

/* Any thread; never blocks. */
static bool zbc_check_config(const char *cfgstring, char **reason)
{
	struct zbc_cfg cfg;
	int ret = zbc_cfg_parse(cfgstring, &cfg, reason);

	zbc_cfg_free(&cfg);
	return !ret;
}

/* The device's worker thread, inside zbc_exec: the generic standard INQUIRY. */
static int zbc_std_inquiry(void *arg, uint8_t *cdb, uint8_t *buf, size_t len)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };
	uint8_t c[6];

	memcpy(c, cdb, sizeof(c));
	scsi_put_be16(c + 3, (uint16_t)len);
	return tcmu_emulate_inquiry(arg, NULL, c, &v, 1);
}

/* A per-device setup thread (or the recovery thread on reopen); may block. */
static int zbc_open(struct tcmu_device *dev, bool reopen)
{
	uint64_t bytes = tcmu_dev_get_num_lbas(dev) * tcmu_dev_get_block_size(dev);
	char *reason = NULL;
	struct zbc_cfg cfg;
	struct zbc_dev *z;
	int ret, fd = -1;

	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	ret = zbc_cfg_parse(tcmu_dev_get_cfgstring(dev), &cfg, &reason);
	if (ret)
		goto fail;
	fd = open(cfg.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		tcmu_dev_err(dev, "zbc: cannot open %s: %s\n", cfg.path, strerror(-ret));
		goto fail;
	}
	ret = zbc_meta_open(z, fd, &cfg, bytes, &reason);
	if (ret)
		goto fail;
	z->std_inquiry = zbc_std_inquiry;
	z->std_inquiry_arg = dev;
	tcmu_dev_set_block_size(dev, z->lba_size);
	tcmu_dev_set_num_lbas(dev, z->nr_lbas);
	tcmu_dev_set_write_cache_enabled(dev, true);
	tcmur_dev_set_private(dev, z);
	tcmu_dev_info(dev,
		      "zbc: %s %s, %u zones of %llu LBAs (%u conventional), %u B blocks, "
		      "%u open max\n",
		      cfg.path, z->ha ? "host-aware" : "host-managed", z->nr_zones,
		      (unsigned long long)z->zone_lbas, z->nr_conv, z->lba_size, z->max_open);
	zbc_cfg_free(&cfg);
	return 0;
fail:
	if (reason)
		tcmu_dev_err(dev, "%s\n", reason);
	free(reason);
	if (fd >= 0)
		close(fd);
	zbc_cfg_free(&cfg);
	free(z);
	return ret;
}

/* The thread removing the device (or its recovery thread); may block. */
static void zbc_close(struct tcmu_device *dev)
{
	struct zbc_dev *z = tcmur_dev_get_private(dev);

	if (!z)
		return;
	(void)fdatasync(z->fd);
	close(z->fd);
	zbc_meta_close(z);
	free(z);
	tcmur_dev_set_private(dev, NULL);
}

/* Main thread, device quiesced: only the write cache setting may change. */
static int zbc_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	return cfg->type == TCMULIB_CFG_WRITE_CACHE ? 0 : -EOPNOTSUPP;
}

/* The device's one worker thread (SERIALIZE); may block on the file. */
static int zbc_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct tcmulib_cmd *lc = cmd->lib_cmd;

	return zbc_exec(tcmur_dev_get_private(dev), lc->cdb, lc->iovec, lc->iov_cnt, lc->sense_buf);
}

static struct tcmur_handler zbc_handler = {
	.name = "ZBC zoned block device emulation",
	.subtype = "zbc",
	.cfg_desc = "[opt[/opt]...@]<path>: model-HM|model-HA, lba-512|lba-4096, "
		    "zsize-<MiB>, conv-<n>, open-<n>",
	.check_config = zbc_check_config,
	.reconfig = zbc_reconfig,
	.open = zbc_open,
	.close = zbc_close,
	.handle_cmd = zbc_handle_cmd,
	.nr_threads = 1,
	.thread_model = TCMUR_THREAD_MODEL_SERIALIZE,
};

/* Main thread, when tcmu-runner loads the plugin. */
__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&zbc_handler);
}
