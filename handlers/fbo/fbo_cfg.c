// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The fbo cfgstring, as upstream spells it: fbo/[ro/]<path>.  "ro/" makes
 * the medium read-only (DVD-ROM, writes get DATA PROTECT); the path is
 * absolute, e.g. fbo/ro//srv/images/debian.iso or fbo//var/lib/fbo/disc0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fbo.h"

/* Any thread, never blocks.  0 or -errno (*reason malloc()ed if given). */
int fbo_cfg_parse(const char *cfgstring, struct fbo_cfg *cfg, char **reason)
{
	const char *rest = cfgstring ? strchr(cfgstring, '/') : NULL;

	memset(cfg, 0, sizeof(*cfg));
	if (reason)
		*reason = NULL;
	if (rest && !strncmp(rest + 1, "ro/", 3)) {
		cfg->ro = true;
		rest += 3;
	}
	if (!rest || rest[1] != '/') {
		if (reason && asprintf(reason, "fbo: expected fbo/[ro/]<absolute path>, got '%s'",
				       cfgstring ? cfgstring : "") < 0)
			*reason = NULL;
		return -EINVAL;
	}
	cfg->path = strdup(rest + 1);
	return cfg->path ? 0 : -ENOMEM;
}

void fbo_cfg_free(struct fbo_cfg *cfg)
{
	free(cfg->path);
	cfg->path = NULL;
}
