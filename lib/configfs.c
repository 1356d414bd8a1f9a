/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * configfs helpers: a device's attributes, info, control and action files
 * under <root>/core/user_<hba>/<dev>.  The root can be replaced (tests).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

const char *tcmu_cfgfs_root(void)
{
	return tcmu_kops_get()->configfs_root;
}

int tcmu_cfgfs_write_str(const char *path, const char *val)
{
	const struct tcmu_kops *ops = tcmu_kops_get();

	return ops->attr_write(ops->arg, path, val);
}

ssize_t tcmu_cfgfs_read_file(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd, ret = 0;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return ret ? ret : (ssize_t)got;
}

/* Read a whole (small) attribute file into buf; 0 or -errno. */
static int cfgfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n = tcmu_cfgfs_read_file(path, buf, len);

	return n < 0 ? (int)n : 0;
}

static void dev_path(struct tcmu_device *dev, char *buf, size_t len, const char *sub,
		     const char *name)
{
	snprintf(buf, len, "%s/%s%s%s", dev->cfg_dir, sub, name ? "/" : "", name ? name : "");
}

int tcmu_cfgfs_dev_get_attr_int(struct tcmu_device *dev, const char *name)
{
	char path[PATH_MAX], buf[64], *end;
	long v;
	int ret;

	dev_path(dev, path, sizeof(path), "attrib", name);
	ret = cfgfs_read(path, buf, sizeof(buf));
	if (ret) {
		tcmu_dev_dbg(dev, "cannot read %s: %s\n", path, strerror(-ret));
		return ret;
	}
	errno = 0;
	v = strtol(buf, &end, 0);
	if (errno || end == buf || v < 0 || v > 0x7fffffffL) {
		tcmu_dev_err(dev, "%s holds \"%s\", not a number\n", path, buf);
		return -EINVAL;
	}
	return (int)v;
}

/* info is "Key: value Key: value ...": find "name:" as a whole word. */
uint64_t tcmu_cfgfs_dev_get_info_u64(struct tcmu_device *dev, const char *name, int *fn_ret)
{
	char path[PATH_MAX], buf[4096], *p, *end;
	size_t nlen = strlen(name);
	unsigned long long v;
	int ret;

	dev_path(dev, path, sizeof(path), "info", NULL);
	ret = cfgfs_read(path, buf, sizeof(buf));
	if (ret)
		goto fail;
	for (p = buf; (p = strstr(p, name)); p += nlen) {
		if ((p == buf || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && p[nlen] == ':')
			break;
	}
	ret = -ENOENT;
	if (!p)
		goto fail;
	errno = 0;
	v = strtoull(p + nlen + 1, &end, 0);
	ret = -EINVAL;
	if (errno || end == p + nlen + 1)
		goto fail;
	*fn_ret = 0;
	return v;
fail:
	tcmu_dev_dbg(dev, "no \"%s\" in %s: %s\n", name, path, strerror(-ret));
	*fn_ret = ret;
	return 0;
}

int tcmu_cfgfs_dev_set_ctrl_u64(struct tcmu_device *dev, const char *key, uint64_t val)
{
	char path[PATH_MAX], buf[128];
	int ret;

	dev_path(dev, path, sizeof(path), "control", NULL);
	snprintf(buf, sizeof(buf), "%s=%" PRIu64, key, val);
	ret = tcmu_cfgfs_write_str(path, buf);
	if (ret)
		tcmu_dev_err(dev, "cannot write \"%s\" to %s: %s\n", buf, path, strerror(-ret));
	return ret;
}

char *tcmu_cfgfs_dev_get_wwn(struct tcmu_device *dev)
{
	char path[PATH_MAX], buf[512], *p, *e;
	int ret;

	dev_path(dev, path, sizeof(path), "wwn", "vpd_unit_serial");
	ret = cfgfs_read(path, buf, sizeof(buf));
	if (ret) {
		tcmu_dev_dbg(dev, "cannot read %s: %s\n", path, strerror(-ret));
		return NULL;
	}
	/* "T10 VPD Unit Serial Number: <serial>" */
	p = strchr(buf, ':');
	p = p ? p + 1 : buf;
	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strcspn(p, "\r\n");
	*e = '\0';
	if (!*p)
		return NULL;
	return strdup(p);
}

int tcmu_cfgfs_dev_exec_action(struct tcmu_device *dev, const char *name, unsigned int val)
{
	char path[PATH_MAX], buf[16];
	int ret;

	dev_path(dev, path, sizeof(path), "action", name);
	snprintf(buf, sizeof(buf), "%u", val);
	ret = tcmu_cfgfs_write_str(path, buf);
	if (ret == -ENOENT)
		tcmu_dev_dbg(dev, "%s does not exist (old kernel)\n", path);
	else if (ret)
		tcmu_dev_err(dev, "cannot write %u to %s: %s\n", val, path, strerror(-ret));
	return ret;
}
