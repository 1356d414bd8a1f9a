// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Daemon options inside a device cfgstring: ";tcmur_<key>=<value>" segments,
 * at the start (";tcmur_cmd_time_out=5;file//x"), right after the subtype
 * ("file/;tcmur_cmd_time_out=5;/x") or between handler options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define TCMUR_MAX_CMD_TIME_OUT (24 * 3600)

static int parse_uint(const char *val, size_t len, unsigned int max, unsigned int *out)
{
	unsigned long v = 0;
	size_t i;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (val[i] < '0' || val[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(val[i] - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (unsigned int)v;
	return 0;
}

/* One "tcmur_key=value" token (without the ';'s). */
static int parse_option(const char *tok, size_t len, struct tcmur_dev_opts *opts, char *err,
			size_t errlen)
{
	const char *eq = memchr(tok, '=', len);
	size_t klen = eq ? (size_t)(eq - tok) : len;
	const char *val = eq ? eq + 1 : NULL;
	size_t vlen = eq ? len - klen - 1 : 0;
	int ret;

	/* Upstream documented the misspelling tcmur_cmd_timeout: accept both. */
	if ((klen == 18 && !strncmp(tok, "tcmur_cmd_time_out", klen)) ||
	    (klen == 17 && !strncmp(tok, "tcmur_cmd_timeout", klen))) {
		if (!val) {
			snprintf(err, errlen, "daemon option '%.*s' needs a value (seconds)",
				 (int)len, tok);
			return -EINVAL;
		}
		ret = parse_uint(val, vlen, TCMUR_MAX_CMD_TIME_OUT, &opts->cmd_time_out);
		if (ret) {
			snprintf(err, errlen, "bad value '%.*s' for %.*s (seconds, 0..%d)",
				 (int)vlen, val, (int)klen, tok, TCMUR_MAX_CMD_TIME_OUT);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown daemon option '%.*s'", (int)len, tok);
	return -EINVAL;
}

int tcmur_cfgstring_parse(const char *cfg, struct tcmur_dev_opts *opts, char **stripped, char *err,
			  size_t errlen)
{
	size_t n = strlen(cfg);
	char *out, *o;
	const char *p = cfg;
	int ret;

	memset(opts, 0, sizeof(*opts));
	if (errlen)
		err[0] = '\0';
	out = malloc(n + 1);
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	o = out;

	while (*p) {
		const char *tok, *end;

		if (*p != ';' || strncmp(p + 1, "tcmur_", 6)) {
			*o++ = *p++;
			continue;
		}
		tok = p + 1;
		end = strchr(tok, ';');
		if (!end)
			end = tok + strlen(tok);
		ret = parse_option(tok, (size_t)(end - tok), opts, err, errlen);
		if (ret) {
			free(out);
			return ret;
		}
		/*
		 * Drop ";token".  A section that starts the string or follows
		 * the subtype's '/' also loses its closing ';', so that
		 * "file/;tcmur_x=1;/p" becomes "file//p".
		 */
		p = end;
		if (*p == ';' && (o == out || o[-1] == '/')) {
			/* Only if the next segment is not another option. */
			if (strncmp(p + 1, "tcmur_", 6))
				p++;
		}
	}
	*o = '\0';
	*stripped = out;
	return 0;
}
