// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Reading a device's ALUA target port groups from configfs (the formats
 * are those of drivers/target/target_core_configfs.c):
 *
 *   core/user_<hba>/<dev>/alua/<group>/tg_pt_gp_id        "17\n" (empty: unset)
 *   .../alua_access_state                                 "0\n"
 *   .../alua_access_status                                "None\n", ...
 *   .../alua_access_type            "Implicit and Explicit\n", "None\n", ...
 *   .../alua_support_<state>                              "0\n" / "1\n"
 *   .../preferred, implicit_trans_secs                    numbers
 *   .../members     "<fabric>/<wwn>/tpgt_<N>/lun_<M>\n" per port
 *   <fabric>/<wwn>/tpgt_<N>/lun/lun_<M>/statistics/scsi_port/indx       RTPI
 *   <fabric>/<wwn>/tpgt_<N>/lun/lun_<M>/statistics/scsi_transport/proto_id
 *   <fabric>/<wwn>/tpgt_<N>/enable        (absent for tcm_loop: enabled)
 *
 * Anything missing or garbled makes that group (or port) be skipped with
 * a debug message; nothing here is fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alua.h"
#include "libtcmu.h"
#include "libtcmu_log.h"

#define DEFAULT_GROUP "default_tg_pt_gp"

static void alua_dir(struct tcmu_device *dev, char *buf, size_t len)
{
	snprintf(buf, len, "%s/core/user_%u/%s/alua", tcmu_cfgfs_root(), tcmu_dev_get_hba_id(dev),
		 tcmu_dev_get_dev_name(dev));
}

/* snprintf into a path buffer; -ENAMETOOLONG when it does not fit. */
__attribute__((format(printf, 3, 4))) static int mkpath(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Whole small file into buf, trailing white space removed.  0 or -errno. */
static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t got = tcmu_cfgfs_read_file(path, buf, len), n;

	if (got < 0)
		return (int)got;
	/* members ends each line with "\n\0" (the kernel copies the NUL too). */
	for (n = 0; n < got; n++)
		if (!buf[n])
			buf[n] = '\n';
	while (got && (buf[got - 1] == '\n' || buf[got - 1] == ' ' || buf[got - 1] == '\t'))
		got--;
	buf[got] = '\0';
	return 0;
}

static int read_ulong(const char *path, unsigned long max, unsigned long *out)
{
	char buf[64], *end;
	unsigned long v;
	int ret;

	ret = read_text(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	v = strtoul(buf, &end, 0);
	if (errno || end == buf || *end || buf[0] == '-' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int group_ulong(const char *gdir, const char *name, unsigned long max, unsigned long *out)
{
	char path[PATH_MAX];
	int ret;

	ret = mkpath(path, sizeof(path), "%s/%s", gdir, name);
	return ret ? ret : read_ulong(path, max, out);
}

static int parse_type(const char *s, uint8_t *type)
{
	if (!strcmp(s, "Implicit and Explicit"))
		*type = ALUA_TYPE_IMPLICIT | ALUA_TYPE_EXPLICIT;
	else if (!strcmp(s, "Explicit"))
		*type = ALUA_TYPE_EXPLICIT;
	else if (!strcmp(s, "Implicit"))
		*type = ALUA_TYPE_IMPLICIT;
	else if (!strcmp(s, "None"))
		*type = 0;
	else
		return -EINVAL;
	return 0;
}

static int parse_status(const char *s, uint8_t *status)
{
	if (!strcmp(s, "None"))
		*status = 0;
	else if (!strcmp(s, "Altered by Explicit STPG"))
		*status = 1;
	else if (!strcmp(s, "Altered by Implicit ALUA"))
		*status = 2;
	else
		return -EINVAL;
	return 0;
}

static const struct {
	const char *file;
	uint8_t bit;
} support_files[] = {
	{ "alua_support_transitioning", ALUA_T_SUP },
	{ "alua_support_offline", ALUA_O_SUP },
	{ "alua_support_lba_dependent", ALUA_LBD_SUP },
	{ "alua_support_unavailable", ALUA_U_SUP },
	{ "alua_support_standby", ALUA_S_SUP },
	{ "alua_support_active_nonoptimized", ALUA_AN_SUP },
	{ "alua_support_active_optimized", ALUA_AO_SUP },
};

static bool valid_state(unsigned long s)
{
	return s <= ALUA_LBA_DEPENDENT || s == ALUA_OFFLINE || s == ALUA_TRANSITIONING;
}

/* One "<fabric>/<wwn>/tpgt_<N>/lun_<M>" line of members into a port. */
static int parse_member(struct tcmu_device *dev, const char *line, struct alua_port *p)
{
	char fabric[64], lun[32], tdir[PATH_MAX], path[PATH_MAX] = "";
	const char *s1, *s2, *s3;
	unsigned long v;
	char *end;
	int ret;

	s1 = strchr(line, '/');
	s3 = strrchr(line, '/');
	if (!s1 || s3 == s1)
		return -EINVAL;
	/* The wwn may in theory hold '/': tpgt_ is the second last part. */
	for (s2 = s3 - 1; s2 > s1 && *s2 != '/'; s2--)
		;
	if (s2 == s1 || (size_t)(s1 - line) >= sizeof(fabric) ||
	    (size_t)(s2 - s1 - 1) >= sizeof(p->wwn) || s2 - s1 - 1 == 0 ||
	    strncmp(s2 + 1, "tpgt_", 5) || strlen(s3 + 1) >= sizeof(lun) ||
	    strncmp(s3 + 1, "lun_", 4))
		return -EINVAL;
	memcpy(fabric, line, s1 - line);
	fabric[s1 - line] = '\0';
	memcpy(p->wwn, s1 + 1, s2 - s1 - 1);
	p->wwn[s2 - s1 - 1] = '\0';
	errno = 0;
	v = strtoul(s2 + 6, &end, 10);
	if (errno || end == s2 + 6 || end != s3 || v > 0xffff)
		return -EINVAL;
	p->tpgt = v;
	strcpy(lun, s3 + 1);
	if (strstr(fabric, "..") || strstr(p->wwn, "..") || strstr(lun, ".."))
		return -EINVAL;

	ret = mkpath(tdir, sizeof(tdir), "%s/%s/%s/tpgt_%u", tcmu_cfgfs_root(), fabric, p->wwn,
		     p->tpgt);
	if (!ret)
		ret = mkpath(path, sizeof(path), "%s/lun/%s/statistics/scsi_port/indx", tdir, lun);
	if (!ret)
		ret = read_ulong(path, 0xffff, &v);
	if (ret) {
		tcmu_dev_dbg(dev, "ALUA: no relative port id in %s: %s\n", path, strerror(-ret));
		return ret;
	}
	p->rtpi = v;
	ret = mkpath(path, sizeof(path), "%s/lun/%s/statistics/scsi_transport/proto_id", tdir, lun);
	p->proto_id = ret || read_ulong(path, 0xf, &v) ? -1 : (int)v;
	ret = mkpath(path, sizeof(path), "%s/enable", tdir);
	if (!ret)
		ret = read_ulong(path, 1, &v);
	p->enabled = ret == -ENOENT || (!ret && v);
	return 0;
}

static void load_members(struct tcmu_device *dev, const char *gdir, struct alua_group *g)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;

	buf = malloc(8192);
	if (!buf)
		return;
	if (mkpath(path, sizeof(path), "%s/members", gdir) || read_text(path, buf, 8192))
		goto out;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!*line)
			continue;
		if (g->nports == ALUA_MAX_PORTS) {
			tcmu_dev_dbg(dev, "ALUA: group %s: more than %d ports, rest ignored\n",
				     g->name, ALUA_MAX_PORTS);
			break;
		}
		if (parse_member(dev, line, &g->ports[g->nports]))
			tcmu_dev_dbg(dev, "ALUA: group %s: skipping member \"%s\"\n", g->name,
				     line);
		else
			g->nports++;
	}
out:
	free(buf);
}

/* 0, or -errno when the group is unusable (the caller skips it). */
static int load_group(struct tcmu_device *dev, const char *adir, const char *name,
		      struct alua_group *g)
{
	char gdir[PATH_MAX], path[PATH_MAX], text[64];
	unsigned long v;
	size_t i;
	int ret;

	memset(g, 0, sizeof(*g));
	if (strlen(name) >= sizeof(g->name))
		return -ENAMETOOLONG;
	strcpy(g->name, name);
	ret = mkpath(gdir, sizeof(gdir), "%s/%s", adir, name);
	if (ret)
		return ret;
	ret = group_ulong(gdir, "tg_pt_gp_id", 0xffff, &v);
	if (ret)
		return ret;
	g->id = v;
	ret = group_ulong(gdir, "alua_access_state", 0xff, &v);
	if (ret)
		return ret;
	if (!valid_state(v))
		return -EINVAL;
	g->state = v;

	ret = mkpath(path, sizeof(path), "%s/alua_access_status", gdir);
	if (!ret)
		ret = read_text(path, text, sizeof(text));
	if (!ret)
		ret = parse_status(text, &g->status);
	if (ret)
		return ret;
	ret = mkpath(path, sizeof(path), "%s/alua_access_type", gdir);
	if (!ret)
		ret = read_text(path, text, sizeof(text));
	if (!ret)
		ret = parse_type(text, &g->type);
	if (ret)
		return ret;

	for (i = 0; i < sizeof(support_files) / sizeof(support_files[0]); i++) {
		ret = group_ulong(gdir, support_files[i].file, 1, &v);
		if (ret)
			return ret;
		if (v)
			g->supported |= support_files[i].bit;
	}
	ret = group_ulong(gdir, "preferred", 1, &v);
	if (ret)
		return ret;
	g->pref = v;
	ret = group_ulong(gdir, "implicit_trans_secs", ULONG_MAX, &v);
	if (ret)
		return ret;
	g->trans_secs = v > 255 ? 255 : v;

	load_members(dev, gdir, g);
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct alua_group *ga = a, *gb = b;

	return (int)ga->id - (int)gb->id;
}

static void pick_local(struct alua_info *info)
{
	unsigned int i, j;

	info->local_group = -1;
	info->local_port = -1;
	for (i = 0; i < info->ngroups; i++) {
		for (j = 0; j < info->groups[i].nports; j++) {
			if (info->groups[i].ports[j].enabled) {
				info->local_group = i;
				info->local_port = j;
				return;
			}
		}
	}
}

int alua_cfgfs_load(struct tcmu_device *dev, struct alua_info **out)
{
	char adir[PATH_MAX];
	struct alua_info *info;
	struct dirent *de;
	DIR *d;
	int ret;

	*out = NULL;
	info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	alua_dir(dev, adir, sizeof(adir));
	d = opendir(adir);
	if (!d) {
		/* No alua directory: not enabled, not an error. */
		pick_local(info);
		*out = info;
		return 0;
	}
	while ((de = readdir(d))) {
		struct alua_group *g;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, DEFAULT_GROUP))
			continue;
		if (info->ngroups == ALUA_MAX_GROUPS) {
			tcmu_dev_dbg(dev, "ALUA: more than %d groups, rest ignored\n",
				     ALUA_MAX_GROUPS);
			break;
		}
		g = &info->groups[info->ngroups];
		ret = load_group(dev, adir, de->d_name, g);
		if (ret) {
			tcmu_dev_dbg(dev, "ALUA: skipping group %s: %s\n", de->d_name,
				     strerror(-ret));
			continue;
		}
		info->ngroups++;
	}
	closedir(d);
	qsort(info->groups, info->ngroups, sizeof(info->groups[0]), group_cmp);
	pick_local(info);
	*out = info;
	return 0;
}

bool alua_cfgfs_enabled(struct tcmu_device *dev)
{
	char adir[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	alua_dir(dev, adir, sizeof(adir));
	d = opendir(adir);
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = de->d_name[0] != '.' && strcmp(de->d_name, DEFAULT_GROUP);
	closedir(d);
	return found;
}

int alua_cfgfs_set_state(struct tcmu_device *dev, const char *group, uint8_t state)
{
	char path[PATH_MAX], adir[PATH_MAX], val[8];
	ssize_t n;
	int fd, ret = 0;

	alua_dir(dev, adir, sizeof(adir));
	if (mkpath(path, sizeof(path), "%s/%s/alua_access_state", adir, group))
		return -ENAMETOOLONG;
	snprintf(val, sizeof(val), "%u", state);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(val))
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}
