/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Helpers for the daemon tests: scratch folders and files (the assertions
 * are ../check.h; exit codes 0 pass, 1 fail, 77 skip).
 */
#ifndef TCMUR_DTEST_H
#define TCMUR_DTEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"

/* mkdtemp under $TMPDIR; the returned buffer is static. */
static inline const char *dt_tmpdir(const char *tag)
{
	static char buf[256];
	const char *t = getenv("TMPDIR");

	snprintf(buf, sizeof(buf), "%s/tcmur-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	return mkdtemp(buf);
}

static inline void dt_rmrf(const char *dir)
{
	char cmd[512];

	if (!dir || strncmp(dir, "/tmp/", 5))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Read a whole file (malloc()ed, NUL terminated) or NULL. */
static inline char *dt_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

#endif
