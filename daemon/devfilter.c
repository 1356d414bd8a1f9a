// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Which TCMU devices this daemon serves (--devices, --handlers): the
 * matcher behind tcmulib_set_device_filter(), so that several daemons on
 * one host can each serve their own devices.  Set up on the main thread
 * before libtcmu starts; read on the main thread afterwards.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define DEVFILTER_MAX 32

struct pattern_list {
	char *v[DEVFILTER_MAX];
	unsigned int n;
};

static struct pattern_list dev_globs; /* --devices */
static struct pattern_list subtypes;  /* --handlers */

static void list_clear(struct pattern_list *l)
{
	while (l->n)
		free(l->v[--l->n]);
}

/*
 * Append the comma-separated words of spec to l.  Empty words are refused
 * (a stray comma would otherwise widen or narrow the filter silently).
 */
static int list_add(struct pattern_list *l, const char *spec, bool glob)
{
	const char *p = spec;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (!len || len > 255)
			return -EINVAL;
		if (!glob && (memchr(p, '/', len) || memchr(p, ';', len)))
			return -EINVAL; /* a subtype has neither */
		if (l->n == DEVFILTER_MAX)
			return -E2BIG;
		l->v[l->n] = strndup(p, len);
		if (!l->v[l->n])
			return -ENOMEM;
		l->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int tcmur_devfilter_add_devices(const char *spec)
{
	return list_add(&dev_globs, spec, true);
}

int tcmur_devfilter_add_handlers(const char *spec)
{
	return list_add(&subtypes, spec, false);
}

void tcmur_devfilter_clear(void)
{
	list_clear(&dev_globs);
	list_clear(&subtypes);
}

bool tcmur_devfilter_active(void)
{
	return dev_globs.n || subtypes.n;
}

/* A glob with a '/' is matched against "user_<hba>/<name>", one without against <name>. */
static bool dev_matches(unsigned int hba, const char *dev_name)
{
	char full[300];
	unsigned int i;

	snprintf(full, sizeof(full), "user_%u/%s", hba, dev_name);
	for (i = 0; i < dev_globs.n; i++) {
		const char *name = strchr(dev_globs.v[i], '/') ? full : dev_name;

		if (!fnmatch(dev_globs.v[i], name, 0))
			return true;
	}
	return false;
}

static bool subtype_listed(const char *subtype)
{
	unsigned int i;

	for (i = 0; i < subtypes.n; i++)
		if (!strcmp(subtypes.v[i], subtype))
			return true;
	return false;
}

bool tcmur_devfilter_match(unsigned int hba, const char *dev_name, const char *subtype)
{
	if (dev_globs.n && !dev_matches(hba, dev_name))
		return false;
	if (subtypes.n && !subtype_listed(subtype))
		return false;
	return true;
}

static bool lib_filter(unsigned int hba, const char *dev_name, const char *subtype,
		       const char *cfgstring, void *arg)
{
	return tcmur_devfilter_match(hba, dev_name, subtype);
}

void tcmur_devfilter_install(void)
{
	tcmulib_set_device_filter(tcmur_devfilter_active() ? lib_filter : NULL, NULL);
}

/* "devices=a*,b handlers=file": for the log; "" when inactive. */
void tcmur_devfilter_describe(char *buf, size_t len)
{
	const struct pattern_list *lists[2] = { &dev_globs, &subtypes };
	const char *names[2] = { "devices", "handlers" };
	size_t used = 0;
	unsigned int i, j;
	int n;

	buf[0] = '\0';
	for (i = 0; i < 2; i++) {
		for (j = 0; j < lists[i]->n && used < len; j++) {
			if (j)
				n = snprintf(buf + used, len - used, ",%s", lists[i]->v[j]);
			else
				n = snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "",
					     names[i], lists[i]->v[j]);
			if (n < 0)
				return;
			used += (size_t)n;
		}
	}
}
