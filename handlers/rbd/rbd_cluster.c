// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The rbd handler's cluster side: one librados client per device (a client
 * that was blocklisted is dead, and its device reconnects alone), its
 * timeouts, the OSD blocklist, the pool's media class and the Ceph service
 * map entry.  Every function blocks on the cluster unless it says otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rbd_priv.h"

/* A numeric librados option, or def when unset or unreadable. */
static long conf_long(rados_t c, const char *key, long def)
{
	char buf[64];
	char *end;
	long v;

	if (rados_conf_get(c, key, buf, sizeof(buf)))
		return def;
	v = strtol(buf, &end, 10);
	return end == buf ? def : v;
}

/*
 * rados_osd_op_timeout, upstream's rule: the requested value when it is
 * above osd_heartbeat_grace + osd_heartbeat_interval (an OSD op must be
 * allowed to outlive the detection of a dead OSD), else the configured
 * value if that is, else grace + interval + 5 s.
 */
static int set_osd_op_timeout(struct rbd_dev *rd, const struct rbd_cfg *cfg)
{
	long floor = conf_long(rd->cluster, "osd_heartbeat_grace", 20) +
		     conf_long(rd->cluster, "osd_heartbeat_interval", 6);
	long t = conf_long(rd->cluster, "rados_osd_op_timeout", 0);
	char buf[32];

	if (cfg->osd_op_timeout > floor) {
		t = cfg->osd_op_timeout;
	} else {
		if (cfg->osd_op_timeout)
			tcmu_dev_warn(rd->dev,
				      "osd_op_timeout=%d is not above osd_heartbeat_grace + "
				      "osd_heartbeat_interval (%ld s): ignored\n",
				      cfg->osd_op_timeout, floor);
		if (t <= floor)
			t = floor + 5;
	}
	snprintf(buf, sizeof(buf), "%ld", t);
	tcmu_dev_info(rd->dev, "OSD operations time out after %s s\n", buf);
	return rados_conf_set(rd->cluster, "rados_osd_op_timeout", buf);
}

static int set_options(struct rbd_dev *rd, const struct rbd_cfg *cfg)
{
	char mount[16], mon[16];
	int ret;

	snprintf(mount, sizeof(mount), "%d", RBD_CONNECT_TIMEOUT_S);
	snprintf(mon, sizeof(mon), "%d", RBD_MON_OP_TIMEOUT_S);
	/* No client-side cache: a write is on the OSDs when it completes. */
	ret = rados_conf_set(rd->cluster, "rbd_cache", "false");
	/*
	 * librbd dispatches each request on the ring thread that submits it
	 * instead of posting it to its io_context_pool thread first: one thread
	 * hop less per command (bench/notes.md, rbd).  The dispatch does not
	 * wait for the OSDs; it can wait for the objecter's in-flight throttle,
	 * which only the OSDs' replies release, so that wait ends on its own.
	 */
	if (!ret)
		ret = rados_conf_set(rd->cluster, "rbd_non_blocking_aio", "false");
	if (!ret)
		ret = rados_conf_set(rd->cluster, "client_mount_timeout", mount);
	if (!ret)
		ret = rados_conf_set(rd->cluster, "rados_mon_op_timeout", mon);
	if (!ret)
		ret = set_osd_op_timeout(rd, cfg);
	return ret;
}

int rbd_cluster_connect(struct rbd_dev *rd, const struct rbd_cfg *cfg)
{
	const char *conf = cfg->conf ? cfg->conf : "the default search ($CEPH_CONF, /etc/ceph)";
	int ret;

	ret = rados_create(&rd->cluster, cfg->id);
	if (ret) {
		tcmu_dev_err(rd->dev, "cannot create a Ceph client '%s': %s\n",
			     cfg->id ? cfg->id : "admin", strerror(-ret));
		rd->cluster = NULL;
		return ret;
	}
	ret = rados_conf_read_file(rd->cluster, cfg->conf);
	if (ret) {
		tcmu_dev_err(rd->dev, "cannot read the Ceph configuration from %s: %s\n", conf,
			     strerror(-ret));
		goto err;
	}
	ret = set_options(rd, cfg);
	if (ret) {
		tcmu_dev_err(rd->dev, "cannot set librados options: %s\n", strerror(-ret));
		goto err;
	}
	ret = rados_connect(rd->cluster);
	if (ret) {
		tcmu_dev_err(rd->dev,
			     "cannot connect to the Ceph cluster (configuration %s, client %s): "
			     "%s\n",
			     conf, cfg->id ? cfg->id : "admin", strerror(-ret));
		goto err;
	}
	ret = rados_ioctx_create(rd->cluster, rd->pool, &rd->io);
	if (ret) {
		tcmu_dev_err(rd->dev, "cannot open pool '%s': %s\n", rd->pool,
			     ret == -ENOENT ? "no such pool" : strerror(-ret));
		goto err;
	}
	return 0;
err:
	rados_shutdown(rd->cluster);
	rd->cluster = NULL;
	return ret;
}

void rbd_cluster_shutdown(struct rbd_dev *rd)
{
	if (rd->io)
		rados_ioctx_destroy(rd->io);
	if (rd->cluster)
		rados_shutdown(rd->cluster);
	rd->io = NULL;
	rd->cluster = NULL;
}

char *rbd_cluster_addr(struct rbd_dev *rd)
{
	char *a = NULL, *copy;

	if (!rd->cluster || rados_getaddrs(rd->cluster, &a) || !a)
		return NULL;
	copy = strdup(a);
	rados_buffer_free(a);
	return copy;
}

/* A monitor command: 0 or -errno; *out (malloc()ed, NUL-terminated) if asked. */
static int mon_cmd(struct rbd_dev *rd, const char *json, char **out)
{
	const char *cmd[1] = { json };
	char *obuf = NULL, *sbuf = NULL;
	size_t olen = 0, slen = 0;
	int ret;

	ret = rados_mon_command(rd->cluster, cmd, 1, "", 0, &obuf, &olen, &sbuf, &slen);
	if (out && !ret) {
		*out = malloc(olen + 1);
		if (*out) {
			memcpy(*out, obuf, olen);
			(*out)[olen] = '\0';
		} else {
			ret = -ENOMEM;
		}
	}
	if (ret && sbuf && slen)
		tcmu_dev_dbg(rd->dev, "%s: %.*s\n", json, (int)slen, sbuf);
	rados_buffer_free(obuf);
	rados_buffer_free(sbuf);
	return ret;
}

void rbd_cluster_unblocklist(struct rbd_dev *rd, const char *addr)
{
	char cmd[512];
	int ret;

	/* "osd blocklist" since Pacific; older monitors know "osd blacklist". */
	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd blocklist\", \"blocklistop\": \"rm\", \"addr\": \"%s\"}",
		 addr);
	ret = mon_cmd(rd, cmd, NULL);
	if (ret == -EINVAL) {
		snprintf(cmd, sizeof(cmd),
			 "{\"prefix\": \"osd blacklist\", \"blacklistop\": \"rm\", "
			 "\"addr\": \"%s\"}",
			 addr);
		ret = mon_cmd(rd, cmd, NULL);
	}
	if (ret)
		tcmu_dev_warn(rd->dev, "cannot remove my old address %s from the blocklist: %s\n",
			      addr, strerror(-ret));
	else
		tcmu_dev_info(rd->dev, "removed my old address %s from the OSD blocklist\n", addr);
}

bool rbd_cluster_pool_solid_state(struct rbd_dev *rd)
{
	char cmd[512], rule[128], *out = NULL, *p;
	bool ssd = false;
	size_t n;

	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd pool get\", \"pool\": \"%s\", \"var\": \"crush_rule\", "
		 "\"format\": \"json\"}",
		 rd->pool);
	if (mon_cmd(rd, cmd, &out))
		return false;
	p = strstr(out, "\"crush_rule\":\"");
	if (!p)
		goto out;
	p += strlen("\"crush_rule\":\"");
	n = strcspn(p, "\"");
	if (n >= sizeof(rule))
		goto out;
	memcpy(rule, p, n);
	rule[n] = '\0';
	free(out);
	out = NULL;
	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd crush rule dump\", \"name\": \"%s\", \"format\": \"json\"}",
		 rule);
	if (mon_cmd(rd, cmd, &out))
		return false;
	/* A rule on one device class takes the shadow root "<root>~<class>". */
	ssd = strstr(out, "~ssd\"") || strstr(out, "~nvme\"");
out:
	free(out);
	return ssd;
}

/* Append "key\0value\0" at *pos of buf (size len); false when full. */
static bool dict_add(char *buf, size_t len, size_t *pos, const char *key, const char *val)
{
	size_t k = strlen(key) + 1, v = strlen(val) + 1;

	if (*pos + k + v + 1 > len)
		return false;
	memcpy(buf + *pos, key, k);
	memcpy(buf + *pos + k, val, v);
	*pos += k + v;
	buf[*pos] = '\0';
	return true;
}

void rbd_cluster_register(struct rbd_dev *rd)
{
	char host[256], name[1024], id[128] = "", meta[1024];
	size_t pos = 0;
	int ret;

	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(name, sizeof(name), "%s:%s/%s", host, rd->pool, rd->name);
	rbd_get_id(rd->image, id, sizeof(id));
	meta[0] = '\0';
	if (!dict_add(meta, sizeof(meta), &pos, "pool_name", rd->pool) ||
	    !dict_add(meta, sizeof(meta), &pos, "image_name", rd->name) ||
	    !dict_add(meta, sizeof(meta), &pos, "image_id", id) ||
	    !dict_add(meta, sizeof(meta), &pos, "daemon_type", "portal")) {
		tcmu_dev_warn(rd->dev, "service map metadata too long: not registered\n");
		return;
	}
	ret = rados_service_register(rd->cluster, "tcmu-runner", name, meta);
	if (ret)
		tcmu_dev_warn(rd->dev, "cannot register service tcmu-runner %s: %s\n", name,
			      strerror(-ret));
	else
		rbd_cluster_status(rd);
}

/* Any thread; librados queues the update for its manager session. */
void rbd_cluster_status(struct rbd_dev *rd)
{
	static const char *keys[RBD_CNT__MAX] = { "lock_lost_cnt", "conn_lost_cnt",
						  "cmd_timed_out_cnt" };
	char st[512], num[16];
	size_t pos = 0;
	int i;

	if (!rd->cluster)
		return;
	st[0] = '\0';
	dict_add(st, sizeof(st), &pos, "lock_owner", rd->lock_owner ? "true" : "false");
	for (i = 0; i < RBD_CNT__MAX; i++) {
		snprintf(num, sizeof(num), "%u", rbd_track_read(rd->track, (enum rbd_counter)i));
		dict_add(st, sizeof(st), &pos, keys[i], num);
	}
	rados_service_update_status(rd->cluster, st);
}
