// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * A device's per-queue counters in a shared file (metrics_file.h): created
 * and written by a tcmu-ublk server, read by tcmu-stat and tcmu-runner.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics_file.h"

#define MFILE_MAGIC	  0x314d5554u /* "TUM1" */
#define MFILE_SLOT_ALIGN  64	      /* one cache line: queues never share one */
#define MFILE_SLOTS_START 8192	      /* past the header */
#define MFILE_SLOT_SIZE                                                                            \
	((sizeof(struct tcmur_metrics) + MFILE_SLOT_ALIGN - 1) & ~(size_t)(MFILE_SLOT_ALIGN - 1))

struct mfile_hdr {
	uint32_t magic;	    /* written last */
	uint32_t slot_size; /* MFILE_SLOT_SIZE of the writer: a layout check */
	uint32_t nr_slots;
	uint32_t id;
	char name[TCMUR_MFILE_NAME_MAX];
	char subtype[TCMUR_MFILE_SUBTYPE_MAX];
	char cfgstring[TCMUR_MFILE_CFG_MAX];
};

_Static_assert(sizeof(struct mfile_hdr) <= MFILE_SLOTS_START, "header overlaps the slots");

const char *tcmur_ublk_rundir(void)
{
	const char *d = getenv("TCMU_UBLK_RUNDIR");

	return d && *d ? d : "/run/tcmu-ublk";
}

void tcmur_ublk_metrics_path(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%u.metrics", tcmur_ublk_rundir(), id);
}

static size_t mfile_len(unsigned int nr_slots)
{
	return MFILE_SLOTS_START + (size_t)nr_slots * MFILE_SLOT_SIZE;
}

int tcmur_mfile_create(struct tcmur_mfile *mf, const char *path,
		       const struct tcmur_mfile_info *info, unsigned int nr_slots)
{
	char tmp[4200];
	struct mfile_hdr *h;
	int ret;

	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
	if (!nr_slots || nr_slots > TCMUR_MFILE_MAX_SLOTS)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	mf->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (mf->fd < 0)
		return -errno;
	/* Locked before it gets its name: no reader sees it unlocked while live. */
	if (flock(mf->fd, LOCK_EX | LOCK_NB) < 0)
		goto err_errno;
	mf->len = mfile_len(nr_slots);
	if (ftruncate(mf->fd, (off_t)mf->len) < 0)
		goto err_errno;
	mf->map = mmap(NULL, mf->len, PROT_READ | PROT_WRITE, MAP_SHARED, mf->fd, 0);
	if (mf->map == MAP_FAILED) {
		mf->map = NULL;
		goto err_errno;
	}
	mf->nr_slots = nr_slots;
	h = mf->map;
	h->slot_size = (uint32_t)MFILE_SLOT_SIZE;
	h->nr_slots = nr_slots;
	h->id = info->id;
	snprintf(h->name, sizeof(h->name), "%s", info->name ? info->name : "");
	snprintf(h->subtype, sizeof(h->subtype), "%s", info->subtype ? info->subtype : "");
	snprintf(h->cfgstring, sizeof(h->cfgstring), "%s", info->cfgstring ? info->cfgstring : "");
	__atomic_store_n(&h->magic, MFILE_MAGIC, __ATOMIC_RELEASE);
	if (rename(tmp, path) < 0)
		goto err_errno;
	return 0;

err_errno:
	ret = -errno;
	unlink(tmp);
	tcmur_mfile_close(mf);
	return ret;
}

struct tcmur_metrics *tcmur_mfile_slot(const struct tcmur_mfile *mf, unsigned int i)
{
	if (!mf->map || i >= mf->nr_slots)
		return NULL;
	return (struct tcmur_metrics *)((char *)mf->map + MFILE_SLOTS_START +
					(size_t)i * MFILE_SLOT_SIZE);
}

void tcmur_mfile_close(struct tcmur_mfile *mf)
{
	if (mf->map)
		munmap(mf->map, mf->len);
	if (mf->fd >= 0)
		close(mf->fd);
	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
}

static void copy_field(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);

	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int tcmur_mfile_read(const char *path, struct tcmur_mfile_sample *s)
{
	const struct mfile_hdr *h;
	struct tcmur_dev_metrics one;
	struct stat st;
	unsigned int i;
	void *map;
	int fd, ret = 0;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out_fd;
	}
	if ((size_t)st.st_size < MFILE_SLOTS_START) {
		ret = -EINVAL;
		goto out_fd;
	}
	/*
	 * A private writable mapping of a read-only file: reads see the
	 * writer's stores, and an atomic load that is a locked instruction on
	 * some targets cannot fault.
	 */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto out_fd;
	}
	h = map;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != MFILE_MAGIC ||
	    h->slot_size != MFILE_SLOT_SIZE || !h->nr_slots ||
	    h->nr_slots > TCMUR_MFILE_MAX_SLOTS || mfile_len(h->nr_slots) > (size_t)st.st_size) {
		ret = -EINVAL;
		goto out_map;
	}
	s->id = h->id;
	snprintf(s->dev, sizeof(s->dev), "ublkb%u", h->id);
	copy_field(s->name, sizeof(s->name), h->name, sizeof(h->name));
	copy_field(s->subtype, sizeof(s->subtype), h->subtype, sizeof(h->subtype));
	copy_field(s->cfgstring, sizeof(s->cfgstring), h->cfgstring, sizeof(h->cfgstring));
	for (i = 0; i < h->nr_slots; i++) {
		const struct tcmur_metrics *m =
			(const void *)((const char *)map + MFILE_SLOTS_START +
				       (size_t)i * MFILE_SLOT_SIZE);

		tcmur_metrics_snapshot(m, &one);
		tcmur_metrics_sum(&s->m, &one);
	}
	/* The server holds LOCK_EX while it runs. */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		s->live = errno == EWOULDBLOCK;
	else
		flock(fd, LOCK_UN);
out_map:
	munmap(map, (size_t)st.st_size);
out_fd:
	close(fd);
	return ret;
}

/* The kernel still has ublk device id (its server may be gone). */
static bool ublk_dev_present(uint32_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/ublk-char/ublkc%u", id);
	return access(path, F_OK) == 0;
}

static int cmp_id(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

int tcmur_ublk_metrics_each(tcmur_mfile_fn fn, void *arg)
{
	struct tcmur_mfile_sample *s;
	unsigned long *ids = NULL, *grown;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	char path[4200];
	DIR *dir;
	int ret = 0;

	dir = opendir(tcmur_ublk_rundir());
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long id = strtoul(de->d_name, &end, 10);

		if (end == de->d_name || strcmp(end, ".metrics") || id > UINT32_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			ids = grown;
		}
		ids[n++] = id;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_id);
	s = malloc(sizeof(*s));
	if (!s) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !ret; i++) {
		tcmur_ublk_metrics_path((uint32_t)ids[i], path, sizeof(path));
		if (tcmur_mfile_read(path, s))
			continue;
		if (!s->live && !ublk_dev_present(s->id))
			continue; /* left by a device deleted behind our back */
		ret = fn(s, arg);
	}
	free(s);
out:
	free(ids);
	closedir(dir);
	return ret;
}
