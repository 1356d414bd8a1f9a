/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The kernel's ublk interface (drivers/block/ublk_drv.c), as facts: opcode
 * numbers, flag bits and structure layouts of include/uapi/linux/ublk_cmd.h.
 * Kept here because Debian 12's linux-libc-dev (6.1) lacks the ioctl-encoded
 * opcodes that kernels built without legacy opcodes require.
 */
#ifndef TCMU_UBLK_ABI_H
#define TCMU_UBLK_ABI_H

#include <linux/ioctl.h>
#include <stdint.h>

/* Control commands (/dev/ublk-control, 128-byte SQEs). */
#define UBLKA_CMD_GET_DEV_INFO	      0x02
#define UBLKA_CMD_ADD_DEV	      0x04
#define UBLKA_CMD_DEL_DEV	      0x05
#define UBLKA_CMD_START_DEV	      0x06
#define UBLKA_CMD_STOP_DEV	      0x07
#define UBLKA_CMD_SET_PARAMS	      0x08
#define UBLKA_CMD_GET_PARAMS	      0x09
#define UBLKA_CMD_START_USER_RECOVERY 0x10
#define UBLKA_CMD_END_USER_RECOVERY   0x11

/* Per-queue commands (/dev/ublkcN). */
#define UBLKA_IO_FETCH_REQ	      0x20
#define UBLKA_IO_COMMIT_AND_FETCH_REQ 0x21

#define UBLKA_IO_RES_OK	   0
#define UBLKA_IO_RES_ABORT (-19) /* -ENODEV: the queue is going away */

#define UBLKA_CMD_BUF_OFFSET  0ull
#define UBLKA_MAX_QUEUE_DEPTH 4096
#define UBLKA_MAX_QUEUES      64 /* the kernel allows more; we cap here */

/* Device flags (ublksrv_ctrl_dev_info.flags). */
#define UBLKA_F_URING_CMD_COMP_IN_TASK (1ull << 1)
#define UBLKA_F_USER_RECOVERY	       (1ull << 3)
#define UBLKA_F_USER_RECOVERY_REISSUE  (1ull << 4)
#define UBLKA_F_CMD_IOCTL_ENCODE       (1ull << 6)

/* Device states. */
#define UBLKA_S_DEV_DEAD     0
#define UBLKA_S_DEV_LIVE     1
#define UBLKA_S_DEV_QUIESCED 2
#define UBLKA_S_DEV_FAIL_IO  3

/* Request operations and flags (ublksrv_io_desc.op_flags). */
#define UBLKA_IO_OP_READ	 0
#define UBLKA_IO_OP_WRITE	 1
#define UBLKA_IO_OP_FLUSH	 2
#define UBLKA_IO_OP_DISCARD	 3
#define UBLKA_IO_OP_WRITE_SAME	 4
#define UBLKA_IO_OP_WRITE_ZEROES 5
#define UBLKA_IO_F_FUA		 (1u << 13)
#define UBLKA_IO_F_NOUNMAP	 (1u << 15)

/* Parameter attributes and types. */
#define UBLKA_ATTR_READ_ONLY	  (1u << 0)
#define UBLKA_ATTR_ROTATIONAL	  (1u << 1)
#define UBLKA_ATTR_VOLATILE_CACHE (1u << 2)
#define UBLKA_ATTR_FUA		  (1u << 3)
#define UBLKA_PARAM_TYPE_BASIC	  (1u << 0)
#define UBLKA_PARAM_TYPE_DISCARD  (1u << 1)

struct ublka_ctrl_cmd {
	uint32_t dev_id;
	uint16_t queue_id;
	uint16_t len;
	uint64_t addr;
	uint64_t data[1];
	uint16_t dev_path_len;
	uint16_t pad;
	uint32_t reserved;
};

struct ublka_dev_info {
	uint16_t nr_hw_queues;
	uint16_t queue_depth;
	uint16_t state;
	uint16_t pad0;
	uint32_t max_io_buf_bytes;
	uint32_t dev_id;
	int32_t ublksrv_pid;
	uint32_t pad1;
	uint64_t flags;
	uint64_t ublksrv_flags;
	uint32_t owner_uid;
	uint32_t owner_gid;
	uint64_t reserved1;
	uint64_t reserved2;
};

struct ublka_io_desc {
	uint32_t op_flags; /* op in bits 0-7, flags above */
	uint32_t nr_sectors;
	uint64_t start_sector;
	uint64_t addr;
};

struct ublka_io_cmd {
	uint16_t q_id;
	uint16_t tag;
	int32_t result;
	uint64_t addr;
};

struct ublka_param_basic {
	uint32_t attrs;
	uint8_t logical_bs_shift;
	uint8_t physical_bs_shift;
	uint8_t io_opt_shift;
	uint8_t io_min_shift;
	uint32_t max_sectors;
	uint32_t chunk_sectors;
	uint64_t dev_sectors;
	uint64_t virt_boundary_mask;
};

struct ublka_param_discard {
	uint32_t discard_alignment;
	uint32_t discard_granularity;
	uint32_t max_discard_sectors;
	uint32_t max_write_zeroes_sectors;
	uint16_t max_discard_segments;
	uint16_t reserved0;
};

struct ublka_params {
	uint32_t len;
	uint32_t types;
	struct ublka_param_basic basic;
	struct ublka_param_discard discard;
};

/* ioctl-encoded opcodes (UBLK_F_CMD_IOCTL_ENCODE); the kernel reads _IOC_NR. */
#define UBLKA_U_CTRL(nr, rw)                                                                       \
	((rw) ? _IOWR('u', (nr), struct ublka_ctrl_cmd) : _IOR('u', (nr), struct ublka_ctrl_cmd))
#define UBLKA_U_IO(nr) _IOWR('u', (nr), struct ublka_io_cmd)

_Static_assert(sizeof(struct ublka_ctrl_cmd) == 32, "ublksrv_ctrl_cmd layout");
_Static_assert(sizeof(struct ublka_dev_info) == 64, "ublksrv_ctrl_dev_info layout");
_Static_assert(sizeof(struct ublka_io_desc) == 24, "ublksrv_io_desc layout");
_Static_assert(sizeof(struct ublka_io_cmd) == 16, "ublksrv_io_cmd layout");
_Static_assert(sizeof(struct ublka_param_basic) == 32, "ublk_param_basic layout");
_Static_assert(sizeof(struct ublka_param_discard) == 20, "ublk_param_discard layout");

#endif
