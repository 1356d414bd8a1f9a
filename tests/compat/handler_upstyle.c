// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * upstyle: a RAM-backed test handler written the way handlers for upstream
 * tcmu-runner 1.5 are written (its headers, names, signatures, status
 * numbers and calling conventions).  Built only with -DTCMU_UPSTREAM_COMPAT
 * against the installed headers, it proves source compatibility; loaded by
 * tcmu-runner it goes through the legacy registration path.
 *
 * cfgstring: upstyle/<any label>; the size is the LUN's (dev_size).
 * nr_threads 0: read/write/flush run on the device's ring thread, must not
 * block, and finish with tcmur_cmd_complete() (here before returning).
 * handle_cmd answers vendor opcode 0xc0 with a 16-byte signature.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcmu-runner.h"
#include "tcmur_device.h"
#include "scsi.h"
#include "scsi_defs.h"
#include "libtcmu.h"

#define UPSTYLE_OPCODE 0xc0
#define UPSTYLE_ALIGN  4096

_Static_assert(sizeof(((struct tcmulib_cmd *)0)->sense_buf) == SENSE_BUFFERSIZE,
	       "sense buffer size");

static const char upstyle_signature[16] = "UPSTYLE-COMPAT-1";

struct upstyle_state {
	uint8_t *mem;
	size_t size;
};

/* Any thread; does not block. */
static bool upstyle_check_config(const char *cfgstring, char **reason)
{
	if (strncmp(cfgstring, "upstyle/", 8) != 0) {
		if (asprintf(reason, "cfgstring must start with upstyle/") < 0)
			*reason = NULL;
		return false;
	}
	return true;
}

/* Device setup thread; may block. */
static int upstyle_open(struct tcmu_device *dev, bool reopen)
{
	uint64_t lbas = tcmu_dev_get_num_lbas(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);
	struct upstyle_state *st;

	if (!lbas || !bs) {
		tcmu_dev_err(dev, "no size for %s\n", tcmu_dev_get_cfgstring(dev));
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->size = (size_t)(lbas * bs);
	st->mem = calloc(1, round_up(st->size, (size_t)UPSTYLE_ALIGN));
	if (!st->mem) {
		free(st);
		return -ENOMEM;
	}
	tcmu_dev_set_write_cache_enabled(dev, true);
	tcmur_dev_set_private(dev, st);
	tcmu_dev_info(dev, "upstyle: %zu bytes in RAM%s\n", st->size, reopen ? " (reopen)" : "");
	return 0;
}

/* Removal or recovery thread, after all commands finished. */
static void upstyle_close(struct tcmu_device *dev)
{
	struct upstyle_state *st = tcmur_dev_get_private(dev);

	free(st->mem);
	free(st);
}

static int upstyle_range(struct tcmu_device *dev, struct tcmur_cmd *cmd, size_t len, off_t off)
{
	struct upstyle_state *st = tcmur_dev_get_private(dev);

	if (off < 0 || (size_t)off > st->size || len > st->size - (size_t)off)
		return tcmu_sense_set_data(cmd->lib_cmd->sense_buf, ILLEGAL_REQUEST,
					   ASC_LBA_OUT_OF_RANGE);
	return TCMU_STS_OK;
}

/* Ring thread; must not block. */
static int upstyle_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
			size_t iov_cnt, size_t len, off_t off)
{
	struct upstyle_state *st = tcmur_dev_get_private(dev);
	int ret = upstyle_range(dev, cmd, len, off);

	if (ret != TCMU_STS_OK)
		return ret;
	tcmu_memcpy_into_iovec(iovec, iov_cnt, st->mem + off, len);
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

/* Ring thread; must not block.  Walks the data with tcmu_iovec_seek(). */
static int upstyle_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
			 size_t iov_cnt, size_t len, off_t off)
{
	struct upstyle_state *st = tcmur_dev_get_private(dev);
	int ret = upstyle_range(dev, cmd, len, off);
	size_t done = 0;

	if (ret != TCMU_STS_OK)
		return ret;
	while (done < len && iov_cnt) {
		size_t n = min(len - done, iovec->iov_len);
		size_t used;

		memcpy(st->mem + off + done, iovec->iov_base, n);
		done += n;
		used = tcmu_iovec_seek(iovec, n);
		iovec += used;
		iov_cnt -= used;
	}
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

/* Ring thread; must not block.  RAM is always stable. */
static int upstyle_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

/* Ring thread; must not block.  Only the vendor opcode; the rest is generic. */
static int upstyle_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct tcmulib_cmd *lc = cmd->lib_cmd;
	size_t len;

	if (lc->cdb[0] != UPSTYLE_OPCODE)
		return TCMU_STS_NOT_HANDLED;
	if (lc->cdb[1] != 0)
		return tcmu_sense_set_data(lc->sense_buf, ILLEGAL_REQUEST,
					   ASC_INVALID_FIELD_IN_CDB);
	len = min(tcmu_iovec_length(lc->iovec, lc->iov_cnt), sizeof(upstyle_signature));
	tcmu_dev_dbg(dev, "upstyle: signature, %zu bytes\n", len);
	tcmu_memcpy_into_iovec(lc->iovec, lc->iov_cnt, (void *)upstyle_signature, len);
	return TCMU_STS_OK;
}

static struct tcmur_handler upstyle_handler = {
	.name = "upstream-style RAM test handler",
	.subtype = "upstyle",
	.cfg_desc = "upstyle/<label>: RAM of the LUN's size",
	.check_config = upstyle_check_config,
	.open = upstyle_open,
	.close = upstyle_close,
	.nr_threads = 0,
	.handle_cmd = upstyle_handle_cmd,
	.read = upstyle_read,
	.write = upstyle_write,
	.flush = upstyle_flush,
};

int handler_init(void);
int handler_init(void)
{
	return tcmur_register_handler(&upstyle_handler);
}
