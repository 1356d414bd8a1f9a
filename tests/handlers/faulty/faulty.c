// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_faulty.so: a test-only handler serving a regular file with
 * synchronous pread/pwrite, plus fault injection driven by files next to
 * the image (cfgstring "faulty/<absolute path>"):
 *   <path>.fail      while it exists, every I/O callout reports the backend
 *                    connection lost (tcmu_notify_conn_lost) and returns
 *                    BUSY, and open() fails with -ENOTCONN;
 *   <path>.locklost  the next I/O callout removes it, reports the lock lost
 *                    (tcmu_notify_lock_lost) and returns BUSY.
 * Three registrations share the code: "faulty" (PARALLEL, 4 workers),
 * "faultya" (ASYNC, completes inline; its batch_end checks that the daemon
 * never calls it while the handler is closed) and "faultyl" (as "faulty"
 * plus the HA lock callouts, for implicit ALUA):
 *   <path>.lockfail  while it exists lock() fails: with TCMU_STS_FENCED if
 *                    the file holds "fenced", else TCMU_STS_HW_ERR;
 *   <path>.locklog   every lock()/unlock() appends "lock <tag> <ok|fail>"
 *                    or "unlock" to it (created if missing);
 *   <path>.eventlog  every report_event() appends "event" to it;
 *   <path>.lockheld  while it exists get_lock_state() says this node holds
 *                    the lock (as after a lock() that succeeded);
 *   <path>.locktag   get_lock_tag() reports the number it holds (fails
 *                    while it does not exist).
 * Not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcmu-runner.h"

struct faulty {
	int fd;
	char *path;
	char *fail;
	char *locklost;
	char *lockfail;
	char *locklog;
	char *lockheld;
	char *locktag;
	char *eventlog;
	bool locked;
};

static char *suffixed(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s", path, suffix);
	return s;
}

static void faulty_free(struct faulty *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->fail);
	free(f->locklost);
	free(f->lockfail);
	free(f->locklog);
	free(f->lockheld);
	free(f->locktag);
	free(f->eventlog);
	free(f);
}

/* Setup or recovery thread; may block. */
static int faulty_open(struct tcmu_device *dev, bool reopen)
{
	const char *cfg = tcmu_dev_get_cfgstring(dev);
	const char *path = cfg ? strchr(cfg, '/') : NULL;
	uint64_t size = tcmu_dev_get_num_lbas(dev) * tcmu_dev_get_block_size(dev);
	struct faulty *f;
	struct stat st;
	int ret;

	if (!path || path[1] != '/') {
		tcmu_dev_err(dev, "faulty: want faulty/<absolute path>, got '%s'\n",
			     cfg ? cfg : "");
		return -EINVAL;
	}
	path++;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->path = strdup(path);
	f->fail = suffixed(path, ".fail");
	f->locklost = suffixed(path, ".locklost");
	f->lockfail = suffixed(path, ".lockfail");
	f->locklog = suffixed(path, ".locklog");
	f->lockheld = suffixed(path, ".lockheld");
	f->locktag = suffixed(path, ".locktag");
	f->eventlog = suffixed(path, ".eventlog");
	if (!f->path || !f->fail || !f->locklost || !f->lockfail || !f->locklog || !f->lockheld ||
	    !f->locktag || !f->eventlog) {
		ret = -ENOMEM;
		goto err;
	}
	if (!access(f->fail, F_OK)) {
		tcmu_dev_warn(dev, "faulty: %s exists: backend unreachable\n", f->fail);
		ret = -ENOTCONN;
		goto err;
	}
	f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		ret = -errno;
		tcmu_dev_err(dev, "faulty: cannot open %s: %s\n", path, strerror(-ret));
		goto err;
	}
	if (fstat(f->fd, &st) || ((uint64_t)st.st_size < size && ftruncate(f->fd, (off_t)size))) {
		ret = -errno;
		tcmu_dev_err(dev, "faulty: cannot size %s: %s\n", path, strerror(-ret));
		goto err;
	}
	tcmur_dev_set_private(dev, f);
	tcmu_dev_info(dev, "faulty: %s %s\n", reopen ? "reopened" : "opened", path);
	return 0;
err:
	faulty_free(f);
	return ret;
}

/* Teardown or recovery thread; may block. */
static void faulty_close(struct tcmu_device *dev)
{
	struct faulty *f = tcmur_dev_get_private(dev);

	if (!f) {
		tcmu_dev_err(dev, "faulty: close() without a successful open()\n");
		return;
	}
	tcmur_dev_set_private(dev, NULL);
	faulty_free(f);
	tcmu_dev_info(dev, "faulty: closed\n");
}

/* TCMU_STS_OK, or BUSY after telling the daemon what was lost. */
static int fault(struct tcmu_device *dev, struct faulty *f)
{
	if (!access(f->fail, F_OK)) {
		tcmu_notify_conn_lost(dev);
		return TCMU_STS_BUSY;
	}
	if (!unlink(f->locklost)) {
		tcmu_notify_lock_lost(dev);
		return TCMU_STS_BUSY;
	}
	return TCMU_STS_OK;
}

static struct faulty *priv(struct tcmu_device *dev)
{
	struct faulty *f = tcmur_dev_get_private(dev);

	if (!f)
		tcmu_dev_err(dev, "faulty: callout while the handler is closed\n");
	return f;
}

/* The async registration completes every command before returning. */
static int done(struct tcmu_device *dev, struct tcmur_cmd *cmd, int sts)
{
	if (tcmur_dev_get_handler(dev)->thread_model != TCMUR_THREAD_MODEL_ASYNC)
		return sts;
	tcmur_cmd_complete(dev, cmd, sts);
	return TCMU_STS_OK;
}

static int faulty_read(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		       size_t iov_cnt, size_t len, off_t off)
{
	struct faulty *f = priv(dev);
	size_t i, got = 0;
	ssize_t n;
	int sts;

	if (!f)
		return done(dev, cmd, TCMU_STS_HW_ERR);
	sts = fault(dev, f);
	if (sts != TCMU_STS_OK)
		return done(dev, cmd, sts);
	for (i = 0; i < iov_cnt && got < len; i++) {
		size_t want = iov[i].iov_len < len - got ? iov[i].iov_len : len - got;
		size_t have = 0;

		while (have < want) {
			n = pread(f->fd, (char *)iov[i].iov_base + have, want - have,
				  off + (off_t)(got + have));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return done(dev, cmd, TCMU_STS_RD_ERR);
			if (!n) { /* past the end of the file: zeroes */
				memset((char *)iov[i].iov_base + have, 0, want - have);
				break;
			}
			have += (size_t)n;
		}
		got += want;
	}
	return done(dev, cmd, TCMU_STS_OK);
}

static int faulty_write(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
			size_t iov_cnt, size_t len, off_t off)
{
	struct faulty *f = priv(dev);
	size_t i, put = 0;
	ssize_t n;
	int sts;

	if (!f)
		return done(dev, cmd, TCMU_STS_HW_ERR);
	sts = fault(dev, f);
	if (sts != TCMU_STS_OK)
		return done(dev, cmd, sts);
	for (i = 0; i < iov_cnt && put < len; i++) {
		size_t want = iov[i].iov_len < len - put ? iov[i].iov_len : len - put;
		size_t have = 0;

		while (have < want) {
			n = pwrite(f->fd, (char *)iov[i].iov_base + have, want - have,
				   off + (off_t)(put + have));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done(dev, cmd, TCMU_STS_WR_ERR);
			have += (size_t)n;
		}
		put += want;
	}
	if (cmd->fua && fdatasync(f->fd))
		return done(dev, cmd, TCMU_STS_WR_ERR);
	return done(dev, cmd, TCMU_STS_OK);
}

static int faulty_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	struct faulty *f = priv(dev);
	int sts;

	if (!f)
		return done(dev, cmd, TCMU_STS_HW_ERR);
	sts = fault(dev, f);
	if (sts != TCMU_STS_OK)
		return done(dev, cmd, sts);
	return done(dev, cmd, fdatasync(f->fd) ? TCMU_STS_WR_ERR : TCMU_STS_OK);
}

/* Ring thread (ASYNC registration); must not block. */
static void faulty_batch_end(struct tcmu_device *dev)
{
	priv(dev); /* logs if called while closed */
}

/* Append one line to the file at path (best effort). */
static void append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		fprintf(stderr, "faulty: %s: %s\n", path, strerror(errno));
	close(fd);
}

/* The daemon's recovery thread; may block. */
static int faulty_lock(struct tcmu_device *dev, uint16_t tag)
{
	struct faulty *f = priv(dev);
	char line[64], what[16] = "";
	int fd, sts = TCMU_STS_OK;
	ssize_t n;

	if (!f)
		return TCMU_STS_HW_ERR;
	fd = open(f->lockfail, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, what, sizeof(what) - 1);
		what[n > 0 ? n : 0] = '\0';
		close(fd);
		sts = strncmp(what, "fenced", 6) ? TCMU_STS_HW_ERR : TCMU_STS_FENCED;
	}
	f->locked = sts == TCMU_STS_OK;
	snprintf(line, sizeof(line), "lock %u %s\n", tag, sts == TCMU_STS_OK ? "ok" : "fail");
	append_line(f->locklog, line);
	return sts;
}

/* The daemon's teardown thread; may block. */
static int faulty_unlock(struct tcmu_device *dev)
{
	struct faulty *f = priv(dev);

	if (!f)
		return TCMU_STS_HW_ERR;
	f->locked = false;
	append_line(f->locklog, "unlock\n");
	return TCMU_STS_OK;
}

/* The daemon's recovery thread, before lock(); may block. */
static int faulty_get_lock_state(struct tcmu_device *dev)
{
	struct faulty *f = tcmur_dev_get_private(dev);

	if (!f)
		return TCMUR_DEV_LOCK_UNKNOWN;
	return f->locked || !access(f->lockheld, F_OK) ? TCMUR_DEV_LOCK_WRITE_LOCKED
						       : TCMUR_DEV_LOCK_UNLOCKED;
}

/* The daemon's recovery thread, after a failed lock(); may block. */
static int faulty_get_lock_tag(struct tcmu_device *dev, uint16_t *tag)
{
	struct faulty *f = priv(dev);
	char buf[16] = "";
	ssize_t n;
	int fd;

	if (!f)
		return TCMU_STS_HW_ERR;
	fd = open(f->locktag, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TCMU_STS_HW_ERR;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	*tag = (uint16_t)strtoul(buf, NULL, 10);
	return TCMU_STS_OK;
}

/* The daemon's recovery thread (after lock()) or teardown thread (after unlock()). */
static int faulty_report_event(struct tcmu_device *dev)
{
	struct faulty *f = priv(dev);

	if (!f)
		return TCMU_STS_HW_ERR;
	append_line(f->eventlog, "event\n");
	return TCMU_STS_OK;
}

static bool faulty_check_config(const char *cfgstring, char **reason)
{
	const char *path = cfgstring ? strchr(cfgstring, '/') : NULL;

	if (path && path[1] == '/')
		return true;
	if (reason)
		*reason = strdup("want faulty/<absolute path>");
	return false;
}

static struct tcmur_handler faulty_handler = {
	.name = "Fault injection test handler",
	.subtype = "faulty",
	.cfg_desc = "faulty/<absolute path>; <path>.fail: backend down, "
		    "<path>.locklost: lock lost once",
	.check_config = faulty_check_config,
	.open = faulty_open,
	.close = faulty_close,
	.read = faulty_read,
	.write = faulty_write,
	.flush = faulty_flush,
	.nr_threads = 4,
	.thread_model = TCMUR_THREAD_MODEL_PARALLEL,
	.caps = TCMUR_CAP_FUA,
};

static struct tcmur_handler faulty_async_handler = {
	.name = "Fault injection test handler (async)",
	.subtype = "faultya",
	.cfg_desc = "faultya/<absolute path>; as faulty",
	.check_config = faulty_check_config,
	.open = faulty_open,
	.close = faulty_close,
	.read = faulty_read,
	.write = faulty_write,
	.flush = faulty_flush,
	.thread_model = TCMUR_THREAD_MODEL_ASYNC,
	.caps = TCMUR_CAP_FUA,
	.batch_end = faulty_batch_end,
};

static struct tcmur_handler faulty_lock_handler = {
	.name = "Fault injection test handler (HA lock)",
	.subtype = "faultyl",
	.cfg_desc = "faultyl/<absolute path>; as faulty, plus <path>.lockfail: lock() "
		    "fails, <path>.locklog: lock()/unlock() calls",
	.check_config = faulty_check_config,
	.open = faulty_open,
	.close = faulty_close,
	.read = faulty_read,
	.write = faulty_write,
	.flush = faulty_flush,
	.lock = faulty_lock,
	.unlock = faulty_unlock,
	.get_lock_state = faulty_get_lock_state,
	.get_lock_tag = faulty_get_lock_tag,
	.report_event = faulty_report_event,
	.nr_threads = 4,
	.thread_model = TCMUR_THREAD_MODEL_PARALLEL,
	.caps = TCMUR_CAP_FUA,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	int ret = tcmur_register_handler(&faulty_handler);

	if (ret)
		return ret;
	ret = tcmur_register_handler(&faulty_async_handler);
	if (ret)
		return ret;
	return tcmur_register_handler(&faulty_lock_handler);
}
