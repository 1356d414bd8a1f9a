/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Simulated kernel, control side: a sysfs/configfs tree in a temp dir,
 * the "TCM-USER" netlink channel (a socketpair carrying real genl
 * messages), and the uio/configfs ops libtcmu calls through its seam.
 */
/* First: <sys/uio.h> must precede any uapi header (struct iovec). */
#include "sim_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "ring_barrier.h"

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int put_file(const char *dir, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return 0;
}

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	if (strncmp(path, "/tmp/", 5))
		return; /* never outside our temp dir */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd))
		fprintf(stderr, "sim: could not remove %s\n", path);
}

static struct sim_dev *find_minor(struct sim_kernel *k, unsigned int minor)
{
	struct sim_dev *d;

	for (d = k->devs; d; d = d->next)
		if (d->minor == minor && !d->destroyed)
			return d;
	return NULL;
}

/* --- ops libtcmu calls ------------------------------------------------ */

static int sim_uio_open(void *arg, unsigned int minor, size_t size, int *fd, void **map)
{
	struct sim_kernel *k = arg;
	struct sim_dev *d;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	d = find_minor(k, minor);
	if (!d)
		ret = -ENOENT;
	else if (d->open)
		ret = -EBUSY; /* TCMU allows one opener */
	else if (size != d->map_size)
		ret = -EINVAL; /* mmap must be exactly the ring size */
	if (!ret) {
		d->open = true;
		*fd = d->lib_fd;
		*map = d->map;
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static void dev_free(struct sim_dev *d);

/*
 * The library's kick: where the kernel's uio write handler would run
 * tcmu_handle_completions(), the simulator counts it in memory and wakes a
 * kernel thread sleeping on the count.  No system call unless one sleeps.
 */
static int sim_uio_kick(void *arg, int fd)
{
	struct sim_kernel *k = arg;
	struct sim_dev *d = fd >= 0 && fd < SIM_MAX_KICK_FD ? atomic_load(&k->by_fd[fd]) : NULL;
	uint32_t one = 1;

	if (!d) /* not a fast-kick device: the datagram, as before */
		return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
	atomic_fetch_add(&d->kick_seq, 1);
	if (atomic_load(&d->kick_sleepers))
		syscall(SYS_futex, &d->kick_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	return 0;
}

static void sim_uio_close(void *arg, int fd, void *map, size_t size)
{
	struct sim_kernel *k = arg;
	struct sim_dev *d, **pp;

	pthread_mutex_lock(&k->lock);
	for (pp = &k->devs; (d = *pp); pp = &d->next) {
		if (d->map != map || d->lib_fd != fd)
			continue;
		d->open = false;
		if (d->destroyed) {
			*pp = d->next;
			dev_free(d);
		}
		break;
	}
	pthread_mutex_unlock(&k->lock);
}

static void cfglog_add(struct sim_kernel *k, const char *rel, const char *val)
{
	size_t need = strlen(rel) + strlen(val) + 3;
	char *p = realloc(k->cfglog, k->cfglog_len + need);

	if (!p)
		return;
	k->cfglog = p;
	k->cfglog_len += (size_t)snprintf(p + k->cfglog_len, need, "%s=%s\n", rel, val);
}

static int sim_attr_write(void *arg, const char *path, const char *val)
{
	struct sim_kernel *k = arg;
	size_t rlen = strlen(k->cfgfs);
	const char *rel = path;
	struct sim_dev *d;
	int fd, ret = 0;

	pthread_mutex_lock(&k->lock);
	if (!strncmp(path, k->cfgfs, rlen) && path[rlen] == '/')
		rel = path + rlen + 1;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	cfglog_add(k, rel, val);

	/* Apply the actions the way target_core_user does. */
	for (d = k->devs; d; d = d->next) {
		size_t n = strlen(d->cfg_dir);

		if (strncmp(path, d->cfg_dir, n) || path[n] != '/')
			continue;
		if (!strcmp(path + n, "/action/block_dev"))
			d->blocked = atoi(val) != 0;
		else if (!strcmp(path + n, "/action/reset_ring"))
			sim_ring_reset(d, atoi(val));
	}
out:
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static int sim_nl_open(void *arg, void **nl, int *fd)
{
	struct sim_kernel *k = arg;

	*nl = k;
	*fd = k->nl_lib_fd;
	return 0;
}

static void sim_nl_close(void *arg, void *nl)
{
}

static int sim_nl_recv(void *arg, void *nl, tcmu_nl_msg_fn fn, void *fn_arg)
{
	struct sim_kernel *k = arg;
	static __thread uint8_t buf[65536] __attribute__((aligned(8)));
	ssize_t n;

	for (;;) {
		n = recv(k->nl_lib_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		fn(fn_arg, (struct nlmsghdr *)buf, (size_t)n);
	}
}

static int sim_nl_reply_op(void *arg, void *nl, int cmd, uint32_t dev_id, int status)
{
	struct sim_kernel *k = arg;
	struct sim_nl_reply *r;

	pthread_mutex_lock(&k->lock);
	if (k->rep_cnt == SIM_MAX_REPLIES) {
		pthread_mutex_unlock(&k->lock);
		return -ENOBUFS;
	}
	r = &k->replies[(k->rep_head + k->rep_cnt) % SIM_MAX_REPLIES];
	r->cmd = cmd;
	r->status = status;
	r->dev_id = dev_id;
	k->rep_cnt++;
	k->rep_total++;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static int sim_nl_set_features(void *arg, void *nl)
{
	struct sim_kernel *k = arg;
	int ret;

	pthread_mutex_lock(&k->lock);
	k->set_features++;
	ret = k->reply_support ? 0 : -EOPNOTSUPP;
	pthread_mutex_unlock(&k->lock);
	return ret;
}

/* --- kernel lifetime ---------------------------------------------------- */

int sim_kernel_create(struct sim_kernel **out)
{
	struct sim_kernel *k;
	int sv[2], ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	snprintf(k->root, sizeof(k->root), "/tmp/tcmu-sim-XXXXXX");
	if (!mkdtemp(k->root)) {
		ret = -errno;
		goto err_free;
	}
	snprintf(k->sysfs, sizeof(k->sysfs), "%s/sys", k->root);
	snprintf(k->cfgfs, sizeof(k->cfgfs), "%s/config/target", k->root);
	ret = mkdir_p(k->sysfs);
	if (!ret)
		ret = mkdir_p(k->cfgfs);
	if (ret)
		goto err_rm;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		ret = -errno;
		goto err_rm;
	}
	k->nl_lib_fd = sv[0];
	k->nl_sim_fd = sv[1];
	k->reply_support = true;
	k->next_dev_id = 100;

	k->ops.sysfs_root = k->sysfs;
	k->ops.configfs_root = k->cfgfs;
	k->ops.arg = k;
	k->ops.uio_open = sim_uio_open;
	k->ops.uio_close = sim_uio_close;
	k->ops.attr_write = sim_attr_write;
	k->ops.uio_kick = sim_uio_kick;
	k->ops.nl_open = sim_nl_open;
	k->ops.nl_close = sim_nl_close;
	k->ops.nl_recv = sim_nl_recv;
	k->ops.nl_reply = sim_nl_reply_op;
	k->ops.nl_set_features = sim_nl_set_features;
	tcmu_kops_set(&k->ops);
	*out = k;
	return 0;

err_rm:
	rm_rf(k->root);
err_free:
	pthread_mutex_destroy(&k->lock);
	free(k);
	return ret;
}

void sim_kernel_destroy(struct sim_kernel *k)
{
	struct sim_dev *d;

	if (!k)
		return;
	tcmu_kops_set(NULL);
	while ((d = k->devs)) {
		k->devs = d->next;
		dev_free(d);
	}
	close(k->nl_lib_fd);
	close(k->nl_sim_fd);
	rm_rf(k->root);
	free(k->cfglog);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

const char *sim_sysfs_root(struct sim_kernel *k)
{
	return k->sysfs;
}

const char *sim_configfs_root(struct sim_kernel *k)
{
	return k->cfgfs;
}

void sim_kernel_set_reply_support(struct sim_kernel *k, bool supported)
{
	pthread_mutex_lock(&k->lock);
	k->reply_support = supported;
	pthread_mutex_unlock(&k->lock);
}

unsigned int sim_kernel_set_features_count(struct sim_kernel *k)
{
	unsigned int n;

	pthread_mutex_lock(&k->lock);
	n = k->set_features;
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* --- devices -------------------------------------------------------------- */

static void dev_free(struct sim_dev *d)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/class/uio/uio%u", d->k->sysfs, d->minor);
	rm_rf(path);
	rm_rf(d->cfg_dir);
	sim_dev_free_ring(d);
	if (d->map)
		munmap(d->map, d->map_size);
	free(d->blk_used);
	free(d->scratch);
	if (d->lib_fd < SIM_MAX_KICK_FD)
		atomic_store(&d->k->by_fd[d->lib_fd], NULL);
	close(d->lib_fd);
	close(d->sim_fd);
	free(d);
}

static int dev_make_files(struct sim_dev *d, const struct sim_dev_opts *o)
{
	char dir[PATH_MAX];
	int ret;

	snprintf(dir, sizeof(dir), "%s/class/uio/uio%u/maps/map0", d->k->sysfs, d->minor);
	ret = mkdir_p(dir);
	if (ret)
		return ret;
	ret = put_file(dir, "size", "0x%zx\n", d->map_size);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), "%s/class/uio/uio%u", d->k->sysfs, d->minor);
	ret = put_file(dir, "name", "%s\n", d->uio_name);
	if (ret)
		return ret;

	snprintf(dir, sizeof(dir), "%s/action", d->cfg_dir);
	ret = mkdir_p(dir);
	if (!ret)
		ret = put_file(dir, "block_dev", "0\n");
	if (!ret)
		ret = put_file(dir, "reset_ring", "0\n");
	snprintf(dir, sizeof(dir), "%s/attrib", d->cfg_dir);
	if (!ret)
		ret = mkdir_p(dir);
	if (!ret)
		ret = put_file(dir, "hw_block_size", "%u\n",
			       o->hw_block_size ? o->hw_block_size : 512);
	if (!ret)
		ret = put_file(dir, "hw_max_sectors", "128\n");
	snprintf(dir, sizeof(dir), "%s/wwn", d->cfg_dir);
	if (!ret)
		ret = mkdir_p(dir);
	if (!ret)
		ret = put_file(dir, "vpd_unit_serial", "T10 VPD Unit Serial Number: sim-%u\n",
			       d->minor);
	if (!ret)
		ret = put_file(d->cfg_dir, "info",
			       "Status: ACTIVATED  Max Queue Depth: 0  SectorSize: %u  "
			       "HwMaxSectors: 128\n        Config: %s Size: %llu "
			       "MaxDataAreaMB: %zu DataPagesPerBlk: 1\n",
			       o->hw_block_size ? o->hw_block_size : 512, o->cfgstring,
			       (unsigned long long)(o->dev_size ? o->dev_size : 1ull << 30),
			       (d->map_size - d->data_off) >> 20);
	if (!ret)
		ret = put_file(d->cfg_dir, "control", "");
	return ret;
}

int sim_dev_create(struct sim_kernel *k, const struct sim_dev_opts *o, struct sim_dev **out)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint32_t cmdr_size = o->cmdr_size ? o->cmdr_size : 65536 - 128;
	size_t data_size = o->data_size ? o->data_size : 1 << 20;
	size_t blk = o->block_size ? o->block_size : 4096;
	struct sim_dev *d;
	int sv[2], ret;

	if (!o->cfgstring || cmdr_size % 8 || cmdr_size < 256 || data_size % page || blk % page ||
	    data_size % blk)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->k = k;
	d->block_size = blk;
	d->nblocks = (uint32_t)(data_size / blk);
	d->rng = o->seed ? o->seed : 0x1234567;
	d->discard_data_in = o->discard_data_in;
	d->next_id = 1;
	d->blk_used = calloc(d->nblocks, 1);
	if (!d->blk_used) {
		free(d);
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv)) {
		ret = -errno;
		free(d->blk_used);
		free(d);
		return ret;
	}
	d->lib_fd = sv[0];
	d->sim_fd = sv[1];

	d->cmdr_size = cmdr_size;
	d->data_off = (128 + cmdr_size + page - 1) / page * page;
	d->map_size = d->data_off + data_size;
	d->map = mmap(NULL, d->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (d->map == MAP_FAILED) {
		d->map = NULL;
		ret = -ENOMEM;
		goto err_free;
	}
	d->mb = d->map;
	d->cmdr = (uint8_t *)d->map + 128;
	d->mb->version = TCMU_MAILBOX_VERSION;
	d->mb->flags = o->caps_set ? o->caps
				   : TCMU_MAILBOX_FLAG_CAP_OOOC | TCMU_MAILBOX_FLAG_CAP_READ_LEN |
					     TCMU_MAILBOX_FLAG_CAP_TMR;
	d->mb->cmdr_off = 128;
	d->mb->cmdr_size = cmdr_size;

	pthread_mutex_lock(&k->lock);
	d->minor = k->next_minor++;
	d->dev_id = k->next_dev_id++;
	d->hba = o->hba ? o->hba : 1;
	if (o->name)
		snprintf(d->name, sizeof(d->name), "%s", o->name);
	else
		snprintf(d->name, sizeof(d->name), "dev%u", d->minor);
	snprintf(d->uio_name, sizeof(d->uio_name), "tcm-user/%u/%s/%s", d->hba, d->name,
		 o->cfgstring);
	snprintf(d->cfg_dir, sizeof(d->cfg_dir), "%s/core/user_%u/%s", k->cfgfs, d->hba, d->name);
	ret = dev_make_files(d, o);
	if (!ret) {
		d->next = k->devs;
		k->devs = d;
		if (d->lib_fd < SIM_MAX_KICK_FD)
			atomic_store(&k->by_fd[d->lib_fd], d);
	}
	pthread_mutex_unlock(&k->lock);
	if (ret)
		goto err_free;
	*out = d;
	return 0;

err_free:
	if (d->map)
		munmap(d->map, d->map_size);
	close(d->lib_fd);
	close(d->sim_fd);
	free(d->blk_used);
	free(d);
	return ret;
}

void sim_dev_destroy(struct sim_dev *d)
{
	struct sim_kernel *k;
	struct sim_dev **pp;

	if (!d)
		return;
	k = d->k;
	pthread_mutex_lock(&k->lock);
	if (d->open) {
		d->destroyed = true; /* freed at the library's close */
	} else {
		for (pp = &k->devs; *pp; pp = &(*pp)->next) {
			if (*pp == d) {
				*pp = d->next;
				break;
			}
		}
		dev_free(d);
	}
	pthread_mutex_unlock(&k->lock);
}

unsigned int sim_dev_minor(struct sim_dev *d)
{
	return d->minor;
}

uint32_t sim_dev_id(struct sim_dev *d)
{
	return d->dev_id;
}

const char *sim_dev_uio_name(struct sim_dev *d)
{
	return d->uio_name;
}

struct tcmu_mailbox *sim_dev_mailbox(struct sim_dev *d)
{
	return d->mb;
}

size_t sim_dev_map_size(struct sim_dev *d)
{
	return d->map_size;
}

bool sim_dev_is_open(struct sim_dev *d)
{
	bool open;

	pthread_mutex_lock(&d->k->lock);
	open = d->open;
	pthread_mutex_unlock(&d->k->lock);
	return open;
}

/* --- netlink ---------------------------------------------------------------- */

int sim_nl_raw(struct sim_kernel *k, const void *buf, size_t len)
{
	if (send(k->nl_sim_fd, buf, len, MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

uint16_t sim_nl_family(struct sim_kernel *k)
{
	return SIM_NL_FAMILY;
}

/* Build and multicast one event as tcmu_netlink_event_init/send would. */
static int nl_event(struct sim_dev *d, int cmd, int attr, const void *val, size_t vlen)
{
	struct nl_msg *msg;
	struct nlmsghdr *nlh;
	int ret = -ENOMEM;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, 0, 0, SIM_NL_FAMILY, 0, 0, (uint8_t)cmd, 2))
		goto out;
	if (nla_put_string(msg, TCMU_ATTR_DEVICE, d->uio_name) < 0 ||
	    nla_put_u32(msg, TCMU_ATTR_MINOR, d->minor) < 0 ||
	    nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, d->dev_id) < 0)
		goto out;
	if (attr && nla_put(msg, attr, (int)vlen, val) < 0)
		goto out;
	nlh = nlmsg_hdr(msg);
	ret = sim_nl_raw(d->k, nlh, nlh->nlmsg_len);
out:
	nlmsg_free(msg);
	return ret;
}

int sim_nl_added(struct sim_dev *d)
{
	return nl_event(d, TCMU_CMD_ADDED_DEVICE, 0, NULL, 0);
}

int sim_nl_removed(struct sim_dev *d)
{
	return nl_event(d, TCMU_CMD_REMOVED_DEVICE, 0, NULL, 0);
}

int sim_nl_reconfig_cfg(struct sim_dev *d, const char *cfgstring)
{
	return nl_event(d, TCMU_CMD_RECONFIG_DEVICE, TCMU_ATTR_DEV_CFG, cfgstring,
			strlen(cfgstring) + 1);
}

int sim_nl_reconfig_size(struct sim_dev *d, uint64_t size)
{
	return nl_event(d, TCMU_CMD_RECONFIG_DEVICE, TCMU_ATTR_DEV_SIZE, &size, sizeof(size));
}

int sim_nl_reconfig_wce(struct sim_dev *d, bool wce)
{
	uint8_t v = wce;

	return nl_event(d, TCMU_CMD_RECONFIG_DEVICE, TCMU_ATTR_WRITECACHE, &v, 1);
}

int sim_nl_reply(struct sim_kernel *k, struct sim_nl_reply *out)
{
	int ret = -EAGAIN;

	pthread_mutex_lock(&k->lock);
	if (k->rep_cnt) {
		*out = k->replies[k->rep_head];
		k->rep_head = (k->rep_head + 1) % SIM_MAX_REPLIES;
		k->rep_cnt--;
		ret = 0;
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

unsigned int sim_nl_reply_count(struct sim_kernel *k)
{
	unsigned int n;

	pthread_mutex_lock(&k->lock);
	n = k->rep_total;
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* --- configfs log --------------------------------------------------------- */

/* A per-thread snapshot: library threads may be appending meanwhile. */
const char *sim_cfgfs_log(struct sim_kernel *k)
{
	static __thread char *snap;
	char *p;

	pthread_mutex_lock(&k->lock);
	p = realloc(snap, k->cfglog_len + 1);
	if (p) {
		snap = p;
		memcpy(snap, k->cfglog ? k->cfglog : "", k->cfglog_len);
		snap[k->cfglog_len] = '\0';
	}
	pthread_mutex_unlock(&k->lock);
	return snap ? snap : "";
}

void sim_cfgfs_log_clear(struct sim_kernel *k)
{
	pthread_mutex_lock(&k->lock);
	free(k->cfglog);
	k->cfglog = NULL;
	k->cfglog_len = 0;
	pthread_mutex_unlock(&k->lock);
}
