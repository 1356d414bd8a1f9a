// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* The glfs cfgstring: "glfs/<volume>@<host>[:port]/<path>". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glfs_priv.h"

static int fail(char **reason, const char *cfgstring, const char *why)
{
	if (asprintf(reason, "bad cfgstring '%s': %s (expected glfs/<volume>@<host>/<path>)",
		     cfgstring ? cfgstring : "", why) < 0)
		*reason = NULL;
	return -EINVAL;
}

/* "host" or "host:port" (port 1..65535); a bracketed IPv6 address is not taken. */
static int split_host(char *host, int *port)
{
	char *colon = strrchr(host, ':'), *end;
	long p;

	*port = GLFS_DEFAULT_PORT;
	if (!colon)
		return 0;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
		return -EINVAL;
	*colon = '\0';
	*port = (int)p;
	return 0;
}

int glfs_cfg_parse(const char *cfgstring, struct glfs_cfg *cfg, char **reason)
{
	const char *s = cfgstring ? strchr(cfgstring, '/') : NULL;
	const char *at, *slash;

	memset(cfg, 0, sizeof(*cfg));
	*reason = NULL;
	if (!s)
		return fail(reason, cfgstring, "no '/' after the handler name");
	s++;
	at = strchr(s, '@');
	slash = strchr(s, '/');
	if (!at || !slash || at > slash)
		return fail(reason, cfgstring, "no '<volume>@' before the host");
	if (at == s)
		return fail(reason, cfgstring, "empty volume name");
	if (slash == at + 1)
		return fail(reason, cfgstring, "empty host name");
	while (*slash == '/')
		slash++;
	if (!*slash || slash[strlen(slash) - 1] == '/')
		return fail(reason, cfgstring, "no file path in the volume");

	cfg->volume = strndup(s, (size_t)(at - s));
	cfg->host = strndup(at + 1, (size_t)(strchr(at, '/') - at - 1));
	if (asprintf(&cfg->path, "/%s", slash) < 0)
		cfg->path = NULL;
	if (!cfg->volume || !cfg->host || !cfg->path) {
		glfs_cfg_free(cfg);
		*reason = strdup("out of memory");
		return -ENOMEM;
	}
	if (split_host(cfg->host, &cfg->port)) {
		glfs_cfg_free(cfg);
		return fail(reason, cfgstring, "the port after ':' is not a number in 1..65535");
	}
	if (!cfg->host[0]) {
		glfs_cfg_free(cfg);
		return fail(reason, cfgstring, "empty host name");
	}
	return 0;
}

void glfs_cfg_free(struct glfs_cfg *cfg)
{
	free(cfg->volume);
	free(cfg->host);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
