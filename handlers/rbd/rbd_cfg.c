// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The rbd cfgstring, as upstream's:
 * "rbd/<pool>/<image>[;osd_op_timeout=N][;conf=<path>][;id=<client>]".
 * Options come after the image name, each after a ';', in any order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbd_priv.h"

#define RBD_MAX_OSD_OP_TIMEOUT (24 * 3600)

static int fail(char **reason, const char *cfgstring, const char *why, const char *what)
{
	if (asprintf(reason,
		     "bad cfgstring '%s': %s%s (expected "
		     "rbd/<pool>/<image>[;osd_op_timeout=N][;conf=<path>][;id=<client>])",
		     cfgstring ? cfgstring : "", why, what ? what : "") < 0)
		*reason = NULL;
	return -EINVAL;
}

/* Whole seconds, 1..RBD_MAX_OSD_OP_TIMEOUT: 0, or -EINVAL. */
static int parse_seconds(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > RBD_MAX_OSD_OP_TIMEOUT)
			return -EINVAL;
	}
	if (!v)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* One "key=value" option (a writable copy); 0 or -EINVAL/-ENOMEM. */
static int parse_option(char *opt, struct rbd_cfg *cfg, const char *cfgstring, char **reason)
{
	char *eq = strchr(opt, '=');
	char **dst = NULL;

	if (!eq)
		return fail(reason, cfgstring, "option without '=': ", opt);
	*eq++ = '\0';
	if (!strcmp(opt, "osd_op_timeout")) {
		if (parse_seconds(eq, &cfg->osd_op_timeout))
			return fail(reason, cfgstring,
				    "osd_op_timeout must be a whole number of seconds "
				    "(1..86400), not ",
				    eq);
		return 0;
	}
	if (!strcmp(opt, "conf"))
		dst = &cfg->conf;
	else if (!strcmp(opt, "id"))
		dst = &cfg->id;
	else
		return fail(reason, cfgstring, "unknown option ", opt);
	if (!*eq)
		return fail(reason, cfgstring, "empty value for ", opt);
	if (dst == &cfg->id && !strncmp(eq, "client.", 7))
		eq += 7; /* librados adds the entity type itself */
	free(*dst);
	*dst = strdup(eq);
	return *dst ? 0 : -ENOMEM;
}

int rbd_cfg_parse(const char *cfgstring, struct rbd_cfg *cfg, char **reason)
{
	const char *s = cfgstring ? strchr(cfgstring, '/') : NULL;
	char *copy, *pos, *opt, *slash;
	int ret = 0;

	memset(cfg, 0, sizeof(*cfg));
	*reason = NULL;
	if (!s)
		return fail(reason, cfgstring, "no '/' after the handler name", NULL);
	copy = strdup(s + 1);
	if (!copy)
		return -ENOMEM;
	pos = copy;
	opt = strsep(&pos, ";");
	slash = strchr(opt, '/');
	if (!slash) {
		ret = fail(reason, cfgstring, "no '/' between pool and image", NULL);
		goto out;
	}
	*slash = '\0';
	if (!*opt || !slash[1] || strchr(slash + 1, '/')) {
		ret = fail(reason, cfgstring, !*opt ? "empty pool name" : "bad image name", NULL);
		goto out;
	}
	cfg->pool = strdup(opt);
	cfg->image = strdup(slash + 1);
	if (!cfg->pool || !cfg->image) {
		ret = -ENOMEM;
		goto out;
	}
	while ((opt = strsep(&pos, ";"))) {
		if (!*opt)
			continue;
		ret = parse_option(opt, cfg, cfgstring, reason);
		if (ret)
			goto out;
	}
out:
	free(copy);
	if (ret) {
		if (ret == -ENOMEM && !*reason)
			*reason = strdup("out of memory");
		rbd_cfg_free(cfg);
	}
	return ret;
}

void rbd_cfg_free(struct rbd_cfg *cfg)
{
	free(cfg->pool);
	free(cfg->image);
	free(cfg->conf);
	free(cfg->id);
	memset(cfg, 0, sizeof(*cfg));
}
