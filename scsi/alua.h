/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * ALUA (asymmetric logical unit access, SPC-4 5.15) for the generic engine.
 *
 * The target port groups of a device live in configfs under
 * core/user_<hba>/<dev>/alua/<group>/; alua_cfgfs.c reads them afresh on
 * every INQUIRY, REPORT/SET TARGET PORT GROUPS (rare commands), alua.c
 * builds the responses and keeps the local group's access state cached
 * in struct scsi_dev for the per-command check in scsi_dispatch().
 *
 * Limitation: TCMU does not tell userspace through which target port a
 * command arrived, so the "local" port is the first enabled member port
 * (groups ordered by id) and its group is the local group.
 */
#ifndef TCMU_SCSI_ALUA_H
#define TCMU_SCSI_ALUA_H

#include <stdbool.h>
#include <stdint.h>

struct tcmu_device;
struct scsi_dev;

/* Asymmetric access states (SPC-4 table 150; kernel ALUA_ACCESS_STATE_*). */
#define ALUA_AO		   0x0
#define ALUA_ANO	   0x1
#define ALUA_STANDBY	   0x2
#define ALUA_UNAVAILABLE   0x3
#define ALUA_LBA_DEPENDENT 0x4
#define ALUA_OFFLINE	   0xe
#define ALUA_TRANSITIONING 0xf

/* Supported states, byte 1 of a target port group descriptor. */
#define ALUA_T_SUP   0x80
#define ALUA_O_SUP   0x40
#define ALUA_LBD_SUP 0x10
#define ALUA_U_SUP   0x08
#define ALUA_S_SUP   0x04
#define ALUA_AN_SUP  0x02
#define ALUA_AO_SUP  0x01

/* TPGS field values / access type bits. */
#define ALUA_TYPE_IMPLICIT 0x1
#define ALUA_TYPE_EXPLICIT 0x2

#define ALUA_MAX_GROUPS 16
#define ALUA_MAX_PORTS	16 /* per group */
#define ALUA_NAME_LEN	64
#define ALUA_WWN_LEN	228 /* iSCSI names are at most 223 bytes */

/* Cached local state when no access check applies. */
#define ALUA_STATE_NONE (-1)

struct alua_port {
	uint16_t rtpi; /* relative target port identifier */
	uint16_t tpgt;
	int proto_id; /* SCSI transport protocol id, -1 unknown */
	bool enabled;
	char wwn[ALUA_WWN_LEN];
};

struct alua_group {
	char name[ALUA_NAME_LEN]; /* configfs directory name */
	uint16_t id;
	uint8_t state;	   /* ALUA_* access state */
	uint8_t status;	   /* RTPG status code: 0 none, 1 STPG, 2 implicit */
	uint8_t type;	   /* ALUA_TYPE_* bits */
	uint8_t supported; /* ALUA_*_SUP bits */
	bool pref;
	uint8_t trans_secs; /* implicit transition time, seconds (<= 255) */
	unsigned int nports;
	struct alua_port ports[ALUA_MAX_PORTS];
};

struct alua_info {
	unsigned int ngroups; /* non-default groups; 0: ALUA not enabled */
	int local_group;      /* index into groups or -1 */
	int local_port;	      /* index into groups[local_group].ports */
	struct alua_group groups[ALUA_MAX_GROUPS];
};

/* alua_cfgfs.c */
/* The device's groups, sorted by id; free() *out.  0 or -errno. */
int alua_cfgfs_load(struct tcmu_device *dev, struct alua_info **out);
/* True when the device has at least one group besides default_tg_pt_gp. */
bool alua_cfgfs_enabled(struct tcmu_device *dev);
/* Write a group's alua_access_state file.  0 or -errno. */
int alua_cfgfs_set_state(struct tcmu_device *dev, const char *group, uint8_t state);

#endif
