/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Parsing of UIO device names ("tcm-user/<hba>/<dev>/<cfgstring>") and of
 * the handler subtype at the start of a cfgstring.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * cfgstring is "<subtype>/<handler cfg>", optionally preceded by daemon
 * options ";key=val;key=val;".  The subtype is what follows them.
 */
int tcmu_cfgstr_subtype(const char *cfg, const char **start, size_t *len)
{
	const char *p = cfg;
	const char *slash;

	if (!cfg)
		return -EINVAL;
	if (*p == ';') {
		p++;
		for (;;) {
			const char *semi = strchr(p, ';');
			const char *eq = strchr(p, '=');

			if (!semi || !eq || eq > semi)
				break;
			p = semi + 1;
		}
	}
	slash = strchr(p, '/');
	if (!slash || slash == p)
		return -EINVAL;
	*start = p;
	*len = (size_t)(slash - p);
	return 0;
}

int tcmu_parse_uio_name(const char *name, unsigned int *hba, char *dev_name, size_t dev_len,
			const char **cfgstring)
{
	static const char prefix[] = "tcm-user/";
	const char *p, *slash;
	char *end;
	unsigned long v;

	if (strncmp(name, prefix, sizeof(prefix) - 1))
		return -EINVAL;
	p = name + sizeof(prefix) - 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || *end != '/' || v > 0xffffffffUL)
		return -EINVAL;
	p = end + 1;
	slash = strchr(p, '/');
	if (!slash || slash == p || (size_t)(slash - p) >= dev_len)
		return -EINVAL;
	memcpy(dev_name, p, (size_t)(slash - p));
	dev_name[slash - p] = '\0';
	*hba = (unsigned int)v;
	*cfgstring = slash + 1;
	return 0;
}
