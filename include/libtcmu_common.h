/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Definitions shared by libtcmu users and tcmu-runner handlers: the
 * TCMU_STS_* status codes a command ends with, and the opaque types.
 */
#ifndef LIBTCMU_COMMON_H
#define LIBTCMU_COMMON_H

#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;
struct tcmulib_cmd;
struct tgt_port;

/*
 * The result of a command, as a handler or an emulation reports it.
 * tcmu_sts_to_scsi() turns each one into a SCSI status and sense data
 * from the single table in lib/sense.c.
 */
#ifdef TCMU_UPSTREAM_COMPAT
#include "libtcmu_upstream.h"
#else
enum {
	TCMU_STS_NOT_HANDLED = -1,	  /* handle_cmd: fall back to the generic layer */
	TCMU_STS_OK = 0,		  /* GOOD (or "queued" for an async callout) */
	TCMU_STS_ASYNC_HANDLED,		  /* handle_cmd: completion comes later */
	TCMU_STS_PASSTHROUGH_ERR,	  /* CHECK CONDITION, sense already in cmd->sense_buf */
	TCMU_STS_NO_RESOURCE,		  /* TASK SET FULL */
	TCMU_STS_BUSY,			  /* BUSY */
	TCMU_STS_TIMEOUT,		  /* BUSY, after a backend timeout */
	TCMU_STS_RANGE,			  /* 5/21/00 LBA out of range */
	TCMU_STS_HW_ERR,		  /* 4/44/00 internal target failure */
	TCMU_STS_MISCOMPARE,		  /* E/1D/00 miscompare during verify */
	TCMU_STS_RD_ERR,		  /* 3/11/00 unrecovered read error */
	TCMU_STS_WR_ERR,		  /* 3/0C/00 write error */
	TCMU_STS_INVALID_CMD,		  /* 5/20/00 invalid command operation code */
	TCMU_STS_INVALID_CDB,		  /* 5/24/00 invalid field in CDB */
	TCMU_STS_INVALID_PARAM_LIST,	  /* 5/26/00 invalid field in parameter list */
	TCMU_STS_INVALID_PARAM_LIST_LEN,  /* 5/1A/00 parameter list length error */
	TCMU_STS_NOTSUPP_SEG_DESC_TYPE,	  /* 5/26/09 */
	TCMU_STS_NOTSUPP_TGT_DESC_TYPE,	  /* 5/26/07 */
	TCMU_STS_TOO_MANY_SEG_DESC,	  /* 5/26/08 */
	TCMU_STS_TOO_MANY_TGT_DESC,	  /* 5/26/06 */
	TCMU_STS_CP_TGT_DEV_NOTCONN,	  /* A/0D/02 copy target device not reachable */
	TCMU_STS_INVALID_CP_TGT_DEV_TYPE, /* A/0D/03 */
	TCMU_STS_CAPACITY_CHANGED,	  /* 6/2A/09 */
	TCMU_STS_TRANSITION,		  /* 2/04/0A ALUA state transition */
	TCMU_STS_IMPL_TRANSITION_ERR,	  /* 6/2A/07 */
	TCMU_STS_EXPL_TRANSITION_ERR,	  /* 4/67/0A */
	TCMU_STS_FENCED,		  /* 2/04/0B */
	TCMU_STS_WR_ERR_INCOMPAT_FRMT,	  /* 5/30/05 */
	TCMU_STS_NOTSUPP_SAVE_PARAMS,	  /* 5/39/00 */
	TCMU_STS_FRMT_IN_PROGRESS,	  /* 2/04/04 format in progress */
	/* Added in this implementation. */
	TCMU_STS_WRITE_PROTECTED,	 /* 7/27/00 write protected */
	TCMU_STS_NOT_READY,		 /* 2/04/00 not ready, cause not reportable */
	TCMU_STS_STOPPED,		 /* 2/04/02 initializing command required */
	TCMU_STS_ABORTED,		 /* B/00/00 command aborted */
	TCMU_STS_MEDIUM_NOT_PRESENT,	 /* 2/3A/00 */
	TCMU_STS_INSUFFICIENT_RESOURCES, /* B/55/03 insufficient resources */
	TCMU_STS_INVALID_LUN,		 /* 5/25/00 logical unit not supported */
	TCMU_STS_PARAM_VALUE_INVALID,	 /* 5/26/02 parameter value invalid */
	TCMU_STS_SAVING_PARAMS_UNSUP,	 /* 5/39/00 (alias kept distinct for tables) */
	TCMU_STS_MODE_PARAMS_CHANGED,	 /* 6/2A/01 */
	TCMU_STS_POWER_ON_RESET,	 /* 6/29/00 */
	TCMU_STS_COPY_ABORTED_ERR,	 /* A/1D/00 miscompare/error during copy */
	TCMU_STS_ALUA_UNAVAILABLE,	 /* 2/04/0C target port in unavailable state */
	TCMU_STS_ALUA_OFFLINE,		 /* 2/04/12 logical unit offline (ALUA) */
	TCMU_STS__MAX,
	/* Aliases last: an alias in the middle would renumber what follows. */
	TCMU_STS_LBA_OUT_OF_RANGE = TCMU_STS_RANGE,
	TCMU_STS_INVALID_FIELD_IN_PARAM = TCMU_STS_INVALID_PARAM_LIST,
};
#endif

#ifdef __cplusplus
}
#endif

#endif
