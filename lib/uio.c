/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * UIO side of a TCMU device: the sysfs attributes that describe it, and the
 * real open + mmap of /dev/uioN.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static int read_small_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		ret = -errno;
	else
		buf[n] = '\0';
	close(fd);
	if (ret)
		return ret;
	/* Drop the trailing newline sysfs adds. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

int tcmu_uio_read_name(const char *sysfs_root, unsigned int minor, char *buf, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/class/uio/uio%u/name", sysfs_root, minor);
	return read_small_file(path, buf, len);
}

int tcmu_uio_read_size(const char *sysfs_root, unsigned int minor, size_t *size)
{
	char path[512], buf[64], *end;
	unsigned long long v;
	int ret;

	snprintf(path, sizeof(path), "%s/class/uio/uio%u/maps/map0/size", sysfs_root, minor);
	ret = read_small_file(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	v = strtoull(buf, &end, 0); /* "0x..." */
	if (errno || end == buf || *end || !v || v > SIZE_MAX)
		return -EINVAL;
	*size = (size_t)v;
	return 0;
}

static int real_uio_open(void *arg, unsigned int minor, size_t size, int *fd_out, void **map_out)
{
	char path[64];
	void *map;
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/uio%u", minor);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*fd_out = fd;
	*map_out = map;
	return 0;
}

static void real_uio_close(void *arg, int fd, void *map, size_t size)
{
	if (map)
		munmap(map, size);
	if (fd >= 0)
		close(fd);
}

static int real_attr_write(void *arg, const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

const struct tcmu_kops tcmu_kops_real = {
	.sysfs_root = "/sys",
	.configfs_root = "/sys/kernel/config/target",
	.uio_open = real_uio_open,
	.uio_close = real_uio_close,
	.attr_write = real_attr_write,
	.nl_open = tcmu_genl_sock_open,
	.nl_close = tcmu_genl_sock_close,
	.nl_recv = tcmu_genl_sock_recv,
	.nl_reply = tcmu_genl_sock_reply,
	.nl_set_features = tcmu_genl_sock_set_features,
};

static const struct tcmu_kops *kops_current = &tcmu_kops_real;

void tcmu_kops_set(const struct tcmu_kops *ops)
{
	kops_current = ops ? ops : &tcmu_kops_real;
}

const struct tcmu_kops *tcmu_kops_get(void)
{
	return kops_current;
}
