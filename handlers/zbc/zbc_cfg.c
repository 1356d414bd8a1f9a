// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The zbc cfgstring, as upstream spells it:
 *   zbc/[opt[/opt]...@]<path>
 * with the options model-HM|model-HA, lba-512|lba-4096, zsize-<MiB>,
 * conv-<number of conventional zones> and open-<max open zones>.
 * Example: zbc/model-HM/zsize-16/conv-4@/var/lib/zbc/disk0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zbc.h"

static int fail(char **reason, const char *what, const char *s, size_t n)
{
	if (reason && asprintf(reason, "zbc: %s '%.*s'", what, (int)n, s) < 0)
		*reason = NULL;
	return -EINVAL;
}

/* A decimal number > 0 filling s[0..n). */
static int parse_num(const char *s, size_t n, uint32_t *val)
{
	uint64_t v = 0;
	size_t i;

	if (!n || n > 9)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!v)
		return -EINVAL;
	*val = (uint32_t)v;
	return 0;
}

static bool opt_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

static bool opt_prefix(const char *s, size_t n, const char *pfx)
{
	size_t l = strlen(pfx);

	return n > l && !memcmp(s, pfx, l);
}

/* One option s[0..n); 0 or -EINVAL with *reason set. */
static int parse_opt(const char *s, size_t n, struct zbc_cfg *cfg, char **reason)
{
	uint32_t v;

	if (opt_is(s, n, "model-HM") || opt_is(s, n, "model-HA")) {
		cfg->ha = s[7] == 'A';
		return 0;
	}
	if (opt_is(s, n, "lba-512") || opt_is(s, n, "lba-4096")) {
		cfg->lba_size = n == 7 ? 512 : 4096;
		return 0;
	}
	if (opt_prefix(s, n, "zsize-")) {
		if (parse_num(s + 6, n - 6, &v) || v > 65536)
			return fail(reason, "bad zone size (MiB, 1..65536)", s, n);
		cfg->zone_mib = v;
		return 0;
	}
	if (opt_prefix(s, n, "conv-")) {
		if (parse_num(s + 5, n - 5, &v))
			return fail(reason, "bad conventional zone count", s, n);
		cfg->conv = v;
		return 0;
	}
	if (opt_prefix(s, n, "open-")) {
		if (parse_num(s + 5, n - 5, &v))
			return fail(reason, "bad open zone limit", s, n);
		cfg->max_open = v;
		return 0;
	}
	return fail(reason, "unknown option", s, n);
}

/* Any thread, never blocks.  0 or -errno (with *reason malloc()ed if given). */
int zbc_cfg_parse(const char *cfgstring, struct zbc_cfg *cfg, char **reason)
{
	const char *rest, *at, *p, *end;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->lba_size = 512;
	cfg->zone_mib = 256;
	if (reason)
		*reason = NULL;
	rest = cfgstring ? strchr(cfgstring, '/') : NULL;
	if (!rest)
		return fail(reason, "expected zbc/[opt[/opt]...@]<path>, got",
			    cfgstring ? cfgstring : "", cfgstring ? strlen(cfgstring) : 0);
	rest++;
	at = strchr(rest, '@');
	if (at) {
		for (p = rest; p < at; p = end + 1) {
			end = memchr(p, '/', (size_t)(at - p));
			if (!end)
				end = at;
			if (end == p)
				continue; /* "//" or a trailing '/' */
			ret = parse_opt(p, (size_t)(end - p), cfg, reason);
			if (ret)
				return ret;
		}
		rest = at + 1;
	}
	if (rest[0] != '/')
		return fail(reason, "the backing file path must be absolute, got", rest,
			    strlen(rest));
	cfg->path = strdup(rest);
	return cfg->path ? 0 : -ENOMEM;
}

void zbc_cfg_free(struct zbc_cfg *cfg)
{
	free(cfg->path);
	cfg->path = NULL;
}
