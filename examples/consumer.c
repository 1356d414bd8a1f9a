/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * consumer: the smallest useful libtcmu program.  It serves every TCMU
 * device whose cfgstring starts with "consumer/" as a RAM disk sized by the
 * kernel, from one thread: a ppoll() loop over the netlink (master) fd and
 * each device's uio fd.
 *
 *   targetcli /backstores/user:consumer create ram0 64M consumer/anything
 *
 * With tcmu-runner running, libtcmu registers the "consumer" subtype with
 * it over DBus, so targetcli lists user:consumer and can check cfgstrings.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "libtcmu.h"
#include "scsi_defs.h"

#define MAX_DEVS 64

/* One served LUN: its memory lives in the device's private pointer. */
struct ramdisk {
	uint8_t *mem;
	size_t size;
};

static struct tcmu_device *devs[MAX_DEVS];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* Anonymous memory: pages are only allocated when written. */
static int ramdisk_resize(struct ramdisk *rd, size_t size)
{
	void *mem;

	if (!size)
		return -EINVAL;
	if (rd->mem)
		mem = mremap(rd->mem, rd->size, size, MREMAP_MAYMOVE);
	else
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	rd->mem = mem;
	rd->size = size;
	return 0;
}

/*
 * Handler callbacks.  libtcmu calls them on the thread that runs
 * tcmulib_master_fd_ready() (here the only thread), so they need no locks.
 */
static int consumer_added(struct tcmu_device *dev)
{
	uint64_t size = tcmu_dev_get_num_lbas(dev) * tcmu_dev_get_block_size(dev);
	struct ramdisk *rd;
	int i, ret;

	for (i = 0; i < MAX_DEVS && devs[i]; i++)
		;
	if (i == MAX_DEVS)
		return -ENOSPC;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	ret = ramdisk_resize(rd, size);
	if (ret) {
		tcmu_dev_err(dev, "cannot map %llu bytes\n", (unsigned long long)size);
		free(rd);
		return ret;
	}
	tcmu_dev_set_private(dev, rd);
	tcmu_dev_set_write_cache_enabled(dev, false);
	devs[i] = dev;
	tcmu_dev_info(dev, "serving %s: %llu blocks of %u bytes\n", tcmu_dev_get_cfgstring(dev),
		      (unsigned long long)tcmu_dev_get_num_lbas(dev), tcmu_dev_get_block_size(dev));
	return 0;
}

static void consumer_removed(struct tcmu_device *dev)
{
	struct ramdisk *rd = tcmu_dev_get_private(dev);
	int i;

	for (i = 0; i < MAX_DEVS; i++)
		if (devs[i] == dev)
			devs[i] = NULL;
	munmap(rd->mem, rd->size);
	free(rd);
	tcmu_dev_info(dev, "removed\n");
}

static int consumer_reconfig(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg)
{
	struct ramdisk *rd = tcmu_dev_get_private(dev);
	int ret;

	switch (cfg->type) {
	case TCMULIB_CFG_DEV_SIZE:
		ret = ramdisk_resize(rd, cfg->data.dev_size);
		if (ret)
			return ret;
		tcmu_dev_set_num_lbas(dev, cfg->data.dev_size / tcmu_dev_get_block_size(dev));
		return 0;
	case TCMULIB_CFG_WRITE_CACHE:
		tcmu_dev_set_write_cache_enabled(dev, cfg->data.write_cache);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * targetcli asks tcmu-runner, which asks us over DBus (libtcmu registers
 * the handler by itself when tcmu-runner runs): any thread.
 */
static bool consumer_check_config(const char *cfgstring, char **reason)
{
	if (strncmp(cfgstring, "consumer/", 9) || !cfgstring[9]) {
		*reason = strdup("expected consumer/<name>");
		return false;
	}
	return true;
}

/* READ/WRITE 6/10/12/16 against the RAM buffer. */
static int do_rw(struct tcmu_device *dev, struct tcmulib_cmd *cmd, bool write)
{
	struct ramdisk *rd = tcmu_dev_get_private(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);
	uint64_t lba = tcmu_cdb_get_lba(cmd->cdb);
	uint64_t len = (uint64_t)tcmu_cdb_get_xfer_length(cmd->cdb) * bs;

	if (lba > tcmu_dev_get_num_lbas(dev) || len / bs > tcmu_dev_get_num_lbas(dev) - lba)
		return TCMU_STS_RANGE;
	if (tcmu_iovec_length(cmd->iovec, cmd->iov_cnt) != len)
		return TCMU_STS_HW_ERR; /* the kernel sized the buffer differently */
	if (write)
		tcmu_memcpy_from_iovec(rd->mem + lba * bs, len, cmd->iovec, cmd->iov_cnt);
	else
		tcmu_memcpy_into_iovec(cmd->iovec, cmd->iov_cnt, rd->mem + lba * bs, len);
	return TCMU_STS_OK;
}

static int handle_cmd(struct tcmu_device *dev, struct tcmulib_cmd *cmd)
{
	uint8_t *cdb = cmd->cdb;
	uint64_t lbas = tcmu_dev_get_num_lbas(dev);
	uint32_t bs = tcmu_dev_get_block_size(dev);

	switch (cdb[0]) {
	case INQUIRY:
		return tcmu_emulate_inquiry(dev, NULL, cdb, cmd->iovec, cmd->iov_cnt);
	case TEST_UNIT_READY:
		return tcmu_emulate_test_unit_ready(cdb, cmd->iovec, cmd->iov_cnt);
	case READ_CAPACITY:
		return tcmu_emulate_read_capacity_10(lbas, bs, cdb, cmd->iovec, cmd->iov_cnt);
	case SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1f) != READ_CAPACITY_16)
			return TCMU_STS_INVALID_CMD;
		return tcmu_emulate_read_capacity_16(lbas, bs, cdb, cmd->iovec, cmd->iov_cnt);
	case MODE_SENSE:
	case MODE_SENSE_10:
		return tcmu_emulate_mode_sense(dev, cdb, cmd->iovec, cmd->iov_cnt);
	case READ_6:
	case READ_10:
	case READ_12:
	case READ_16:
		return do_rw(dev, cmd, false);
	case WRITE_6:
	case WRITE_10:
	case WRITE_12:
	case WRITE_16:
		return do_rw(dev, cmd, true);
	case SYNCHRONIZE_CACHE:
	case SYNCHRONIZE_CACHE_16:
		return TCMU_STS_OK; /* RAM is as stable as it gets */
	default:
		return TCMU_STS_INVALID_CMD;
	}
}

/* Drain one device's ring; one kick to the kernel for the whole batch. */
static void serve_device(struct tcmu_device *dev)
{
	struct tcmulib_cmd *cmd;

	tcmulib_processing_start(dev);
	while ((cmd = tcmulib_get_next_command(dev, 0)))
		tcmulib_command_complete(dev, cmd, handle_cmd(dev, cmd));
	tcmulib_processing_complete(dev);
}

static struct tcmulib_handler consumer_handler = {
	.name = "consumer: RAM disk example",
	.subtype = "consumer",
	.cfg_desc = "consumer/<anything>: a RAM disk of the size given to LIO",
	.check_config = consumer_check_config,
	.added = consumer_added,
	.removed = consumer_removed,
	.reconfig = consumer_reconfig,
};

int main(int argc, char **argv)
{
	struct pollfd fds[MAX_DEVS + 1];
	struct tcmu_device *polled[MAX_DEVS + 1];
	struct tcmulib_context *ctx;
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, empty;
	int i, n;

	if (argc > 1 && !strcmp(argv[1], "-d"))
		tcmu_set_log_level(TCMU_LOG_DEBUG);

	/*
	 * SIGINT/SIGTERM stay blocked except inside ppoll(), so a signal can
	 * never slip in between checking `stop` and going to sleep.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ctx = tcmulib_initialize(&consumer_handler, 1);
	if (!ctx) {
		fprintf(stderr, "consumer: cannot initialize libtcmu (root? target_core_user?)\n");
		return 1;
	}
	/* Devices adopted at startup may already have commands waiting. */
	for (i = 0; i < MAX_DEVS; i++)
		if (devs[i])
			serve_device(devs[i]);

	while (!stop) {
		fds[0].fd = tcmulib_get_master_fd(ctx);
		fds[0].events = POLLIN;
		n = 1;
		for (i = 0; i < MAX_DEVS; i++) {
			if (!devs[i])
				continue;
			polled[n] = devs[i];
			fds[n].fd = tcmu_dev_get_fd(devs[i]);
			fds[n].events = POLLIN;
			n++;
		}
		if (ppoll(fds, (nfds_t)n, NULL, &empty) < 0) {
			if (errno == EINTR)
				continue;
			perror("consumer: ppoll");
			break;
		}
		/* Devices first: netlink may remove one of them. */
		for (i = 1; i < n; i++)
			if (fds[i].revents & POLLIN)
				serve_device(polled[i]);
		if (fds[0].revents & POLLIN)
			tcmulib_master_fd_ready(ctx);
	}
	tcmulib_close(ctx); /* calls consumer_removed() for each device */
	return 0;
}
