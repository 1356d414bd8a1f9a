// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * A tcmu-runner handler in style (a): .handle_cmd sees every command.  It
 * answers the mandatory ones with libtcmu's tcmu_emulate_* helpers, moves
 * READ/WRITE data to and from a RAM buffer, and hands everything else back
 * to the daemon's SCSI layer with TCMU_STS_NOT_HANDLED.
 * cfgstring "ramdisk_a/<anything>"; the data is lost when the LUN goes away.
 * Build: cc -shared -fPIC -o handler_ramdisk_a.so handler_ramdisk_a.c
 *        $(pkg-config --cflags libtcmu)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcmu-runner.h"

/* Any thread, never blocks. */
static bool ram_check_config(const char *cfgstring, char **reason)
{
	if (strncmp(cfgstring, "ramdisk_a/", 10)) {
		*reason = strdup("expected ramdisk_a/<name>");
		return false;
	}
	return true;
}

/* A per-device setup thread; may block. */
static int ram_open(struct tcmu_device *dev, bool reopen)
{
	size_t size = tcmu_dev_get_num_lbas(dev) * tcmu_dev_get_block_size(dev);
	void *mem = calloc(1, size ? size : 1);

	if (!mem)
		return -ENOMEM;
	tcmur_dev_set_private(dev, mem);
	return 0;
}

/* The thread removing the device, after every command completed; may block. */
static void ram_close(struct tcmu_device *dev)
{
	free(tcmur_dev_get_private(dev));
	tcmur_dev_set_private(dev, NULL);
}

static int ram_rw(struct tcmu_device *dev, struct tcmulib_cmd *lc, bool write)
{
	uint8_t *mem = tcmur_dev_get_private(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);
	uint64_t lbas = tcmu_dev_get_num_lbas(dev), lba = tcmu_cdb_get_lba(lc->cdb);
	uint64_t n = tcmu_cdb_get_xfer_length(lc->cdb);

	if (lba > lbas || n > lbas - lba)
		return TCMU_STS_RANGE;
	if (write)
		tcmu_memcpy_from_iovec(mem + lba * bs, n * bs, lc->iovec, lc->iov_cnt);
	else
		tcmu_memcpy_into_iovec(lc->iovec, lc->iov_cnt, mem + lba * bs, n * bs);
	return TCMU_STS_OK;
}

/*
 * The device's single worker thread (SERIALIZE: nr_threads 1), one command
 * at a time; may block.  Returns the command's final status.
 */
static int ram_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct tcmulib_cmd *lc = cmd->lib_cmd;
	uint8_t *cdb = lc->cdb;
	uint64_t lbas = tcmu_dev_get_num_lbas(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);

	switch (cdb[0]) {
	case INQUIRY:
		return tcmu_emulate_inquiry(dev, NULL, cdb, lc->iovec, lc->iov_cnt);
	case TEST_UNIT_READY:
		return tcmu_emulate_test_unit_ready(cdb, lc->iovec, lc->iov_cnt);
	case READ_CAPACITY:
		return tcmu_emulate_read_capacity_10(lbas, bs, cdb, lc->iovec, lc->iov_cnt);
	case SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1f) != READ_CAPACITY_16)
			return TCMU_STS_NOT_HANDLED;
		return tcmu_emulate_read_capacity_16(lbas, bs, cdb, lc->iovec, lc->iov_cnt);
	case MODE_SENSE:
	case MODE_SENSE_10:
		return tcmu_emulate_mode_sense(dev, cdb, lc->iovec, lc->iov_cnt);
	case READ_10:
	case READ_16:
		return ram_rw(dev, lc, false);
	case WRITE_10:
	case WRITE_16:
		return ram_rw(dev, lc, true);
	case SYNCHRONIZE_CACHE:
	case SYNCHRONIZE_CACHE_16:
		return TCMU_STS_OK; /* RAM: nothing to make stable */
	default:
		return TCMU_STS_NOT_HANDLED;
	}
}

static struct tcmur_handler ram_handler = {
	.name = "RAM disk example (handle_cmd style)",
	.subtype = "ramdisk_a",
	.cfg_desc = "any name; the LUN lives in memory",
	.check_config = ram_check_config,
	.open = ram_open,
	.close = ram_close,
	.handle_cmd = ram_handle_cmd,
	.nr_threads = 1,
	.thread_model = TCMUR_THREAD_MODEL_SERIALIZE,
};

/* Main thread, when tcmu-runner loads the plugin. */
__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&ram_handler);
}
