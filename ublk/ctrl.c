// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * /dev/ublk-control: each control command is an IORING_OP_URING_CMD with a
 * 32-byte payload, so the ring uses 128-byte SQEs.  Commands run one at a
 * time and block (START_DEV waits until every queue fetched its tags).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ublk.h"

int tublk_ctrl_open(struct tublk_ctrl *c)
{
	int ret;

	c->fd = open("/dev/ublk-control", O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	ret = io_uring_queue_init(4, &c->ring, IORING_SETUP_SQE128);
	if (ret) {
		close(c->fd);
		c->fd = -1;
	}
	return ret;
}

void tublk_ctrl_close(struct tublk_ctrl *c)
{
	if (c->fd < 0)
		return;
	io_uring_queue_exit(&c->ring);
	close(c->fd);
	c->fd = -1;
}

/* Read-only commands are _IOR, the rest _IOWR (the kernel checks _IOC_NR). */
static bool ctrl_writes(unsigned int nr)
{
	return nr != UBLKA_CMD_GET_DEV_INFO && nr != UBLKA_CMD_GET_PARAMS;
}

int tublk_ctrl_cmd(struct tublk_ctrl *c, unsigned int nr, uint32_t dev_id, void *buf, uint16_t len,
		   uint64_t data0)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
	struct io_uring_cqe *cqe;
	struct ublka_ctrl_cmd *cmd;
	int ret;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = c->fd;
	sqe->cmd_op = UBLKA_U_CTRL(nr, ctrl_writes(nr));
	cmd = (struct ublka_ctrl_cmd *)sqe->cmd;
	cmd->dev_id = dev_id;
	cmd->queue_id = (uint16_t)-1;
	cmd->addr = (uint64_t)(uintptr_t)buf;
	cmd->len = len;
	cmd->data[0] = data0;
	ret = io_uring_submit_and_wait(&c->ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&c->ring, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	return ret;
}

int tublk_ctrl_dev_info(struct tublk_ctrl *c, uint32_t dev_id, struct ublka_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	return tublk_ctrl_cmd(c, UBLKA_CMD_GET_DEV_INFO, dev_id, info, sizeof(*info), 0);
}

const char *tublk_state_name(unsigned int state)
{
	switch (state) {
	case UBLKA_S_DEV_DEAD:
		return "dead";
	case UBLKA_S_DEV_LIVE:
		return "live";
	case UBLKA_S_DEV_QUIESCED:
		return "quiesced";
	case UBLKA_S_DEV_FAIL_IO:
		return "fail-io";
	default:
		return "unknown";
	}
}
