// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Shared gfapi connections: one glfs_t per volume+host+port, made by the
 * first device on it and kept for the daemon's lifetime (glfs_fini takes
 * about 10 s, far too long for a device removal or a reopen).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glfs_priv.h"
#include "tcmu-runner.h"

#define GLFS_LOG_FILE  "tcmu-runner-glfs.log"
#define GLFS_LOG_LEVEL 7 /* gfapi's INFO */

struct glfs_conn {
	struct glfs_conn *next;
	char *volume;
	char *host;
	int port;
	int refs; /* devices using it; kept at 0 too */
	glfs_t *fs;
};

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct glfs_conn *conns;

static void set_log(glfs_t *fs)
{
	const char *dir = tcmu_log_get_dir();
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : TCMU_LOG_DIR_DEFAULT,
		 GLFS_LOG_FILE);
	if (glfs_set_logging(fs, path, GLFS_LOG_LEVEL))
		tcmu_warn("gfapi log %s: %s\n", path, strerror(errno));
}

static void *fini_thread(void *fs)
{
	glfs_fini(fs);
	return NULL;
}

/* Tear down a glfs_t whose glfs_init failed, off the caller's thread. */
static void fini_later(glfs_t *fs)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, fini_thread, fs))
		tcmu_warn("glfs_fini thread: leaking a failed gfapi instance\n");
	pthread_attr_destroy(&attr);
}

static int connect_fs(const struct glfs_cfg *cfg, glfs_t **out, char **reason)
{
	glfs_t *fs = glfs_new(cfg->volume);
	int ret;

	if (!fs) {
		ret = errno ? -errno : -ENOMEM;
		if (asprintf(reason, "glfs_new(%s): %s", cfg->volume, strerror(-ret)) < 0)
			*reason = NULL;
		return ret;
	}
	if (glfs_set_volfile_server(fs, "tcp", cfg->host, cfg->port)) {
		ret = errno ? -errno : -EINVAL;
		if (asprintf(reason, "volfile server %s:%d: %s", cfg->host, cfg->port,
			     strerror(-ret)) < 0)
			*reason = NULL;
		goto err_fini;
	}
	/*
	 * Without strict O_DIRECT, write-behind acknowledges O_DIRECT writes
	 * from the daemon's memory: a daemon killed then loses them.
	 */
	if (glfs_set_xlator_option(fs, "*-write-behind", "strict-O_DIRECT", "on"))
		tcmu_warn("glfs: cannot set write-behind strict-O_DIRECT: %s\n", strerror(errno));
	set_log(fs);
	if (glfs_init(fs)) {
		ret = errno ? -errno : -EIO;
		if (asprintf(reason, "cannot reach volume '%s' on %s:%d: %s (gfapi log: %s)",
			     cfg->volume, cfg->host, cfg->port, strerror(-ret), GLFS_LOG_FILE) < 0)
			*reason = NULL;
		goto err_fini;
	}
	*out = fs;
	return 0;

err_fini:
	fini_later(fs);
	return ret;
}

int glfs_conn_get(const struct glfs_cfg *cfg, struct glfs_conn **out, char **reason)
{
	struct glfs_conn *c;
	int ret = 0;

	*reason = NULL;
	/* Held across glfs_init: two devices on a new volume make one connection. */
	pthread_mutex_lock(&conns_lock);
	for (c = conns; c; c = c->next)
		if (!strcmp(c->volume, cfg->volume) && !strcmp(c->host, cfg->host) &&
		    c->port == cfg->port)
			goto found;

	c = calloc(1, sizeof(*c));
	if (c) {
		c->volume = strdup(cfg->volume);
		c->host = strdup(cfg->host);
	}
	if (!c || !c->volume || !c->host) {
		ret = -ENOMEM;
		*reason = strdup("out of memory");
		goto err_free;
	}
	c->port = cfg->port;
	ret = connect_fs(cfg, &c->fs, reason);
	if (ret)
		goto err_free;
	c->next = conns;
	conns = c;
	tcmu_info("glfs: connected to volume %s on %s:%d\n", c->volume, c->host, c->port);
found:
	c->refs++;
	*out = c;
	pthread_mutex_unlock(&conns_lock);
	return 0;

err_free:
	if (c) {
		free(c->volume);
		free(c->host);
		free(c);
	}
	pthread_mutex_unlock(&conns_lock);
	return ret;
}

void glfs_conn_put(struct glfs_conn *conn)
{
	if (!conn)
		return;
	pthread_mutex_lock(&conns_lock);
	conn->refs--;
	pthread_mutex_unlock(&conns_lock);
}

glfs_t *glfs_conn_fs(struct glfs_conn *conn)
{
	return conn->fs;
}

bool glfs_conn_error(int err)
{
	return err == ENOTCONN || err == EBADFD || err == EBADF || err == ECONNREFUSED ||
	       err == ETIMEDOUT || err == ESHUTDOWN || err == EHOSTUNREACH;
}

void glfs_conn_relog(void)
{
	struct glfs_conn *c;

	pthread_mutex_lock(&conns_lock);
	for (c = conns; c; c = c->next)
		set_log(c->fs);
	pthread_mutex_unlock(&conns_lock);
}
