/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The glfs handler's internals: the cfgstring (glfs_cfg.c) and the shared
 * per-volume connections (glfs_conn.c).
 */
#ifndef TCMU_GLFS_PRIV_H
#define TCMU_GLFS_PRIV_H

#include <glusterfs/api/glfs.h>

#define GLFS_DEFAULT_PORT 24007

/* "glfs/<volume>@<host>[:port]/<path>", split up; every string malloc()ed. */
struct glfs_cfg {
	char *volume;
	char *host;
	int port;
	char *path; /* inside the volume, always starting with '/' */
};

/* Parse cfgstring into *cfg: 0, or -EINVAL with *reason malloc()ed. */
int glfs_cfg_parse(const char *cfgstring, struct glfs_cfg *cfg, char **reason);
void glfs_cfg_free(struct glfs_cfg *cfg);

/* One glfs_t per volume+host+port, shared by the devices on it. */
struct glfs_conn;

/*
 * The connection for cfg, made (glfs_init) if there is none yet: 0 with
 * *conn referenced, or -errno with *reason malloc()ed.  Blocks for as long
 * as gfapi takes to fetch the volume's layout (bounded by gfapi itself).
 */
int glfs_conn_get(const struct glfs_cfg *cfg, struct glfs_conn **conn, char **reason);
/* Drop a reference.  The glfs_t stays for the process lifetime (glfs_fini
 * costs about 10 s), ready for the next device on the same volume. */
void glfs_conn_put(struct glfs_conn *conn);
glfs_t *glfs_conn_fs(struct glfs_conn *conn);
/* Point every connection's gfapi log at the daemon's current log folder. */
void glfs_conn_relog(void);

#endif
