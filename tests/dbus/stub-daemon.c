// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * A stand-in for the daemon side of daemon/dbus.h (handlers, devices,
 * metrics) and for the log calls, so the DBus service is tested alone.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libtcmu_log.h"
#include "dbus.h"
#include "stub-daemon.h"

static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;

struct stub_handler {
	char subtype[32];
	char cfg_desc[64];
	bool has_check;
	bool external;
};

static struct stub_handler handlers[8] = {
	{ "file", "file/<path>", true, false },
	{ "qcow", "qcow/<path to image>", false, false },
};
static int nr_handlers = 2;

int stub_warnings;
int stub_external_removed;

void tcmu_log_message(struct tcmu_device *dev, int level, const char *func, int line,
		      const char *fmt, ...)
{
	va_list ap;

	if (level == TCMU_LOG_WARN)
		__atomic_add_fetch(&stub_warnings, 1, __ATOMIC_SEQ_CST);
	fprintf(stderr, "[%d] %s:%d: ", level, func, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

int tcmu_get_log_level(void)
{
	return TCMU_LOG_DEBUG;
}

void stub_add_handler(const char *subtype, const char *cfg_desc)
{
	pthread_mutex_lock(&stub_lock);
	if (nr_handlers < 8) {
		snprintf(handlers[nr_handlers].subtype, 32, "%s", subtype);
		snprintf(handlers[nr_handlers].cfg_desc, 64, "%s", cfg_desc);
		handlers[nr_handlers].has_check = false;
		handlers[nr_handlers].external = false;
		nr_handlers++;
	}
	pthread_mutex_unlock(&stub_lock);
}

void tcmur_for_each_handler(tcmur_dbus_handler_fn fn, void *arg)
{
	int i;

	pthread_mutex_lock(&stub_lock);
	for (i = 0; i < nr_handlers; i++)
		if (!handlers[i].external)
			fn(handlers[i].subtype, handlers[i].cfg_desc, arg);
	pthread_mutex_unlock(&stub_lock);
}

static struct stub_handler *find(const char *subtype)
{
	int i;

	for (i = 0; i < nr_handlers; i++)
		if (!strcmp(handlers[i].subtype, subtype))
			return &handlers[i];
	return NULL;
}

/* "file" accepts "file/<absolute path>" only. */
int tcmur_handler_check_config(const char *subtype, const char *cfgstring, bool *valid,
			       char **reason)
{
	struct stub_handler *h;
	int ret = 0;

	pthread_mutex_lock(&stub_lock);
	h = find(subtype);
	if (!h || h->external) {
		ret = -ENOENT;
		goto out;
	}
	*reason = NULL;
	*valid = true;
	if (h->has_check && strncmp(cfgstring, "file//", 6)) {
		*valid = false;
		*reason = strdup("path must be absolute");
	}
out:
	pthread_mutex_unlock(&stub_lock);
	return ret;
}

int tcmur_external_handler_add(const char *subtype, const char *cfg_desc)
{
	int ret = 0;

	pthread_mutex_lock(&stub_lock);
	if (find(subtype)) {
		ret = -EEXIST;
	} else if (nr_handlers < 8) {
		snprintf(handlers[nr_handlers].subtype, 32, "%s", subtype);
		snprintf(handlers[nr_handlers].cfg_desc, 64, "%s", cfg_desc);
		handlers[nr_handlers].external = true;
		nr_handlers++;
	} else {
		ret = -ENOSPC;
	}
	pthread_mutex_unlock(&stub_lock);
	return ret;
}

void tcmur_external_handler_remove(const char *subtype)
{
	struct stub_handler *h;

	pthread_mutex_lock(&stub_lock);
	h = find(subtype);
	if (h && h->external) {
		*h = handlers[--nr_handlers];
		stub_external_removed++;
	}
	pthread_mutex_unlock(&stub_lock);
}

void tcmur_for_each_device(tcmur_dbus_device_fn fn, void *arg)
{
	struct tcmur_dbus_device d;

	memset(&d, 0, sizeof(d));
	d.name = "disk0";
	d.uio = "uio0";
	d.subtype = "file";
	d.cfgstring = "file//var/lib/disk0.img";
	d.state = "open";
	d.metrics.cmds[TCMUR_METRICS_READ] = 1000;
	d.metrics.cmds[TCMUR_METRICS_WRITE] = 500;
	d.metrics.cmds[TCMUR_METRICS_OTHER] = 7;
	d.metrics.bytes[TCMUR_METRICS_READ] = 4096000;
	d.metrics.bytes[TCMUR_METRICS_WRITE] = 2048000;
	d.metrics.lat_buckets[tcmur_metrics_lat_bucket(50000)] = 1500; /* 50 us */
	d.metrics.lat_buckets[tcmur_metrics_lat_bucket(3000000)] = 7;  /* 3 ms */
	d.metrics.lat_total_ns = 1500ull * 50000 + 7ull * 3000000;
	d.metrics.in_flight = 3;
	d.metrics.errors = 2;
	d.metrics.timeouts = 1;
	fn(&d, arg);

	memset(&d.metrics, 0, sizeof(d.metrics));
	d.name = "disk1";
	d.uio = "uio1";
	d.subtype = "qcow";
	d.cfgstring = "qcow//var/lib/disk1.qcow2";
	d.state = "blocked";
	fn(&d, arg);
}

/*
 * Admin1: "cd0" has a removable medium (a load of a path starting with
 * "/missing" fails as the fbo handler would), "disk0" has none, anything
 * else is unknown.  The last request is kept for the test.
 */
char stub_medium_last[128];

int tcmur_dev_change_medium(const char *name, const char *medium, char **reason)
{
	*reason = NULL;
	pthread_mutex_lock(&stub_lock);
	snprintf(stub_medium_last, sizeof(stub_medium_last), "%s %s", name,
		 medium ? medium : "(eject)");
	pthread_mutex_unlock(&stub_lock);
	if (!strcmp(name, "disk0"))
		return -EOPNOTSUPP;
	if (strcmp(name, "cd0"))
		return -ENODEV;
	if (medium && !strncmp(medium, "/missing", 8)) {
		*reason = strdup("fbo: cannot load /missing: No such file or directory");
		return -ENOENT;
	}
	return 0;
}
