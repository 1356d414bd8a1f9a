// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * What `tcmu-ublk recover`, `list` and `del` need to know about a device the
 * kernel does not keep: its name, cfgstring and geometry, one small
 * key=value file per device id in the run folder ($TCMU_UBLK_RUNDIR, else
 * /run/tcmu-ublk), next to the device's <id>.metrics (metrics_file.h).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics_file.h"
#include "state.h"

const char *tublk_rundir(void)
{
	return tcmur_ublk_rundir(); /* shared with the metrics readers */
}

static void state_path(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%u", tublk_rundir(), id);
}

int tublk_state_save(const struct tublk_state *s)
{
	char path[4200], tmp[4300];
	FILE *f;

	if (mkdir(tublk_rundir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	state_path(s->id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"name=%s\ncfgstring=%s\nsize=%" PRIu64 "\nblock_size=%u\nqueues=%u\ndepth=%u\n"
		"max_sectors=%u\nhandler_path=%s\n",
		s->name, s->cfgstring, s->size, s->block_size, s->queues, s->depth, s->max_sectors,
		s->handler_path);
	if (fclose(f) || rename(tmp, path) < 0) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

int tublk_state_load(uint32_t id, struct tublk_state *s)
{
	char path[4200], line[8300];
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->id = id;
	state_path(id, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (!strcmp(line, "name"))
			snprintf(s->name, sizeof(s->name), "%s", v);
		else if (!strcmp(line, "cfgstring"))
			snprintf(s->cfgstring, sizeof(s->cfgstring), "%s", v);
		else if (!strcmp(line, "handler_path"))
			snprintf(s->handler_path, sizeof(s->handler_path), "%s", v);
		else if (!strcmp(line, "size"))
			s->size = strtoull(v, NULL, 10);
		else if (!strcmp(line, "block_size"))
			s->block_size = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(line, "queues"))
			s->queues = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(line, "depth"))
			s->depth = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(line, "max_sectors"))
			s->max_sectors = (uint32_t)strtoul(v, NULL, 10);
	}
	fclose(f);
	return s->cfgstring[0] ? 0 : -EINVAL;
}

void tublk_state_remove(uint32_t id)
{
	char path[4200];

	state_path(id, path, sizeof(path));
	unlink(path);
	tcmur_ublk_metrics_path(id, path, sizeof(path));
	unlink(path);
}

int tublk_state_each(int (*fn)(const struct tublk_state *s, void *arg), void *arg)
{
	DIR *dir = opendir(tublk_rundir());
	struct dirent *de;
	int ret = 0;

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(dir))) {
		struct tublk_state s;
		char *end;
		unsigned long id = strtoul(de->d_name, &end, 10);

		if (*end || end == de->d_name)
			continue;
		if (tublk_state_load((uint32_t)id, &s))
			continue;
		ret = fn(&s, arg);
	}
	closedir(dir);
	return ret;
}
