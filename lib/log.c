// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Levelled logging.  Callers format into a bounded in-memory queue; a logger
 * thread writes it to <dir>/tcmu-runner.log (and syslog).  A full queue drops
 * and counts.  Before tcmu_setup_log() messages go straight to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "libtcmu.h"
#include "libtcmu_log.h"

#define LOG_SLOT_SIZE  1024 /* one formatted line, truncated to fit */
#define LOG_SLOTS      2048 /* power of two */
#define LOG_CTL_SLOTS  8    /* kept free for file switches */
#define LOG_CTL_SWITCH (-1) /* slot level: switch to fd in slot->len */

struct log_slot {
	int level; /* or LOG_CTL_SWITCH */
	int fd;	   /* LOG_CTL_SWITCH: the new file */
	unsigned short len;
	unsigned short func_off; /* start of "func:line ..." (for syslog) */
	char text[LOG_SLOT_SIZE];
};

/*
 * Lock order: lg.lock, then lg.fd_lock.  lg.lock guards the queue
 * (head, tail, slots, dropped) and the thread state; fd_lock guards fd and
 * dir against the logger thread writing while the file is swapped.
 */
static struct {
	atomic_int level;
	atomic_bool threaded; /* logger thread running: queue messages */
	atomic_bool syslog;

	pthread_mutex_t lock;
	pthread_cond_t wake; /* logger thread: queue not empty or stop */
	struct log_slot *slots;
	unsigned int head; /* next slot to write out */
	unsigned int tail; /* next free slot */
	unsigned long dropped;
	bool stop;
	pthread_t thread;

	pthread_mutex_t fd_lock;
	int fd;
	char dir[PATH_MAX];
} lg = {
	.level = TCMU_LOG_INFO,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.fd_lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
};

static const char *const level_names[] = {
	[TCMU_LOG_CRIT] = "CRIT",   [TCMU_LOG_ERROR] = "ERROR",
	[TCMU_LOG_WARN] = "WARN",   [TCMU_LOG_INFO] = "INFO",
	[TCMU_LOG_DEBUG] = "DEBUG", [TCMU_LOG_DEBUG_SCSI_CMD] = "DEBUG_SCSI_CMD",
};

static const int syslog_prio[] = {
	[TCMU_LOG_CRIT] = LOG_CRIT,    [TCMU_LOG_ERROR] = LOG_ERR,
	[TCMU_LOG_WARN] = LOG_WARNING, [TCMU_LOG_INFO] = LOG_INFO,
	[TCMU_LOG_DEBUG] = LOG_DEBUG,  [TCMU_LOG_DEBUG_SCSI_CMD] = LOG_DEBUG,
};

static int clamp_level(int level)
{
	if (level < TCMU_LOG_CRIT)
		return TCMU_LOG_CRIT;
	if (level > TCMU_LOG_DEBUG_SCSI_CMD)
		return TCMU_LOG_DEBUG_SCSI_CMD;
	return level;
}

void tcmu_set_log_level(int level)
{
	atomic_store(&lg.level, clamp_level(level));
}

int tcmu_get_log_level(void)
{
	return atomic_load_explicit(&lg.level, memory_order_relaxed);
}

void tcmu_log_use_syslog(int enable)
{
	if (enable && !atomic_load(&lg.syslog))
		openlog("tcmu-runner", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&lg.syslog, enable != 0);
}

const char *tcmu_log_get_dir(void)
{
	return lg.dir[0] ? lg.dir : NULL;
}

/*
 * Format one line: "YYYY-MM-DD HH:MM:SS.mmm PID [LEVEL] func:line dev: msg\n".
 * Returns the length; *func_off is where "func:line" starts.
 */
static size_t format_line(char *buf, size_t size, struct tcmu_device *dev, int level,
			  const char *func, int line, const char *fmt, va_list ap,
			  unsigned short *func_off)
{
	struct timespec ts;
	struct tm tm;
	size_t len, msg_off;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	len = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(buf + len, size - len, ".%03ld %d [%s] ", ts.tv_nsec / 1000000L, (int)getpid(),
		     level_names[level]);
	len += n > 0 ? (size_t)n : 0;
	*func_off = (unsigned short)len;
	n = snprintf(buf + len, size - len, "%s:%d", func ? func : "?", line);
	len += n > 0 ? (size_t)n : 0;
	if (len >= size)
		len = size - 1;

	if (dev) {
		struct tcmulib_handler *h = tcmu_dev_get_handler(dev);
		const char *name = tcmu_dev_get_dev_name(dev);

		n = snprintf(buf + len, size - len, " %s/%s", h && h->subtype ? h->subtype : "?",
			     name ? name : "?");
		len += n > 0 ? (size_t)n : 0;
		if (len >= size)
			len = size - 1;
	}
	if (len + 2 < size) {
		buf[len++] = ':';
		buf[len++] = ' ';
	}
	msg_off = len;

	n = vsnprintf(buf + len, size - len, fmt, ap);
	len += n > 0 ? (size_t)n : 0;
	if (len >= size - 1)
		len = size - 2; /* truncated: keep room for the newline */
	/* One line per message: drop trailing newlines the caller added. */
	while (len > msg_off && buf[len - 1] == '\n')
		len--;
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

static size_t format_simple(char *buf, size_t size, int level, const char *func, int line,
			    unsigned short *func_off, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = format_line(buf, size, NULL, level, func, line, fmt, ap, func_off);
	va_end(ap);
	return len;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

void tcmu_log_message(struct tcmu_device *dev, int level, const char *func, int line,
		      const char *fmt, ...)
{
	struct log_slot *slot;
	char buf[LOG_SLOT_SIZE];
	unsigned short func_off;
	size_t len;
	va_list ap;

	level = clamp_level(level);
	if (level > tcmu_get_log_level())
		return;

	va_start(ap, fmt);
	len = format_line(buf, sizeof(buf), dev, level, func, line, fmt, ap, &func_off);
	va_end(ap);

	pthread_mutex_lock(&lg.lock);
	if (!atomic_load(&lg.threaded)) {
		pthread_mutex_unlock(&lg.lock);
		/* No logger thread (library users, or after shutdown): stderr. */
		write_all(STDERR_FILENO, buf, len);
		return;
	}
	if (lg.tail - lg.head >= LOG_SLOTS - LOG_CTL_SLOTS) {
		lg.dropped++;
		pthread_mutex_unlock(&lg.lock);
		return;
	}
	slot = &lg.slots[lg.tail & (LOG_SLOTS - 1)];
	memcpy(slot->text, buf, len + 1);
	slot->len = (unsigned short)len;
	slot->func_off = func_off;
	slot->level = level;
	lg.tail++;
	if (lg.tail - lg.head == 1)
		pthread_cond_signal(&lg.wake);
	pthread_mutex_unlock(&lg.lock);
}

static void swap_fd(int fd)
{
	int old;

	pthread_mutex_lock(&lg.fd_lock);
	old = lg.fd;
	lg.fd = fd;
	pthread_mutex_unlock(&lg.fd_lock);
	if (old >= 0)
		close(old);
}

/* Write one line; logger thread only, without lg.lock. */
static void output_slot(const struct log_slot *slot)
{
	if (slot->level == LOG_CTL_SWITCH) {
		swap_fd(slot->fd);
		return;
	}
	pthread_mutex_lock(&lg.fd_lock);
	write_all(lg.fd >= 0 ? lg.fd : STDERR_FILENO, slot->text, slot->len);
	pthread_mutex_unlock(&lg.fd_lock);

	/* syslog adds its own time and pid: send "func:line dev: msg". */
	if (atomic_load(&lg.syslog))
		syslog(syslog_prio[slot->level], "%.*s", slot->len - slot->func_off - 1,
		       slot->text + slot->func_off);
}

#define LOG_BATCH 64
static struct log_slot log_batch[LOG_BATCH + 1]; /* + the drop note; logger thread only */

static void *logger_thread(void *arg)
{
	unsigned int n, i;

	pthread_mutex_lock(&lg.lock);
	for (;;) {
		while (lg.head == lg.tail && !lg.dropped && !lg.stop)
			pthread_cond_wait(&lg.wake, &lg.lock);
		if (lg.head == lg.tail && !lg.dropped)
			break; /* stopping and drained */

		/* Copy a batch out so writers are never held up by file I/O. */
		n = 0;
		while (n < LOG_BATCH && lg.head != lg.tail) {
			log_batch[n++] = lg.slots[lg.head & (LOG_SLOTS - 1)];
			lg.head++;
		}
		/*
		 * Messages were dropped after everything still queued, so the
		 * note goes last: after a queued file switch, not before it.
		 */
		if (lg.dropped && lg.head == lg.tail) {
			struct log_slot *note = &log_batch[n++];

			note->level = TCMU_LOG_WARN;
			note->len = (unsigned short)format_simple(
				note->text, sizeof(note->text), TCMU_LOG_WARN, "logger", 0,
				&note->func_off, "%lu log messages dropped (queue full)",
				lg.dropped);
			lg.dropped = 0;
		}
		pthread_mutex_unlock(&lg.lock);

		for (i = 0; i < n; i++)
			output_slot(&log_batch[i]);

		pthread_mutex_lock(&lg.lock);
	}
	pthread_mutex_unlock(&lg.lock);
	return NULL;
}

static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	char *p;

	if (!len || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int open_log_file(const char *dir, int *fd_out)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = mkdir_p(dir);
	if (ret)
		return ret;
	if (snprintf(path, sizeof(path), "%s/%s", dir, TCMU_LOG_FILENAME) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	*fd_out = fd;
	return 0;
}

/* Open <dir>/tcmu-runner.log and make it the output, closing the old file. */
/*
 * Open <dir>/tcmu-runner.log and make it the output.  With the logger
 * running, the switch is queued behind the messages already waiting, so
 * they still go to the old file.
 */
static int switch_file(const char *dir)
{
	struct log_slot *slot;
	int fd, ret;

	ret = open_log_file(dir, &fd);
	if (ret)
		return ret;
	pthread_mutex_lock(&lg.fd_lock);
	if (dir != lg.dir)
		snprintf(lg.dir, sizeof(lg.dir), "%s", dir);
	pthread_mutex_unlock(&lg.fd_lock);

	pthread_mutex_lock(&lg.lock);
	if (!atomic_load(&lg.threaded) || lg.tail - lg.head >= LOG_SLOTS) {
		pthread_mutex_unlock(&lg.lock);
		swap_fd(fd);
		return 0;
	}
	slot = &lg.slots[lg.tail & (LOG_SLOTS - 1)];
	slot->level = LOG_CTL_SWITCH;
	slot->fd = fd;
	slot->len = 0;
	lg.tail++;
	pthread_cond_signal(&lg.wake);
	pthread_mutex_unlock(&lg.lock);
	return 0;
}

static const char *default_dir(void)
{
	const char *env = getenv("TCMU_LOGDIR");

	return env && *env ? env : TCMU_LOG_DIR_DEFAULT;
}

int tcmu_setup_log(const char *dir)
{
	int ret;

	if (!dir || !*dir)
		dir = default_dir();

	pthread_mutex_lock(&lg.lock);
	if (atomic_load(&lg.threaded)) {
		pthread_mutex_unlock(&lg.lock);
		return tcmu_log_set_dir(dir);
	}
	if (!lg.slots) {
		lg.slots = calloc(LOG_SLOTS, sizeof(*lg.slots));
		if (!lg.slots) {
			pthread_mutex_unlock(&lg.lock);
			return -ENOMEM;
		}
	}
	pthread_mutex_unlock(&lg.lock);

	ret = switch_file(dir);
	if (ret) {
		tcmu_err("cannot open log file in %s: %s\n", dir, strerror(-ret));
		return ret;
	}

	pthread_mutex_lock(&lg.lock);
	lg.stop = false;
	lg.head = lg.tail = 0;
	ret = -pthread_create(&lg.thread, NULL, logger_thread, NULL);
	if (!ret) {
		pthread_setname_np(lg.thread, "logger");
		atomic_store(&lg.threaded, true);
	}
	pthread_mutex_unlock(&lg.lock);
	if (ret) {
		pthread_mutex_lock(&lg.fd_lock);
		close(lg.fd);
		lg.fd = -1;
		pthread_mutex_unlock(&lg.fd_lock);
	}
	return ret;
}

int tcmu_log_reopen(void)
{
	char dir[PATH_MAX];

	pthread_mutex_lock(&lg.fd_lock);
	snprintf(dir, sizeof(dir), "%s", lg.dir);
	pthread_mutex_unlock(&lg.fd_lock);
	if (!dir[0])
		return 0; /* logging to stderr: nothing to reopen */
	return switch_file(dir);
}

int tcmu_log_set_dir(const char *dir)
{
	int ret;

	if (!dir || !*dir)
		dir = default_dir();
	if (lg.dir[0] && !strcmp(dir, lg.dir))
		return 0;
	if (!atomic_load(&lg.threaded))
		return tcmu_setup_log(dir);
	ret = switch_file(dir);
	if (ret)
		tcmu_err("cannot switch log to %s: %s (keeping %s)\n", dir, strerror(-ret), lg.dir);
	else
		tcmu_info("logging to %s/%s\n", dir, TCMU_LOG_FILENAME);
	return ret;
}

void tcmu_destroy_log(void)
{
	pthread_mutex_lock(&lg.lock);
	if (!atomic_load(&lg.threaded)) {
		pthread_mutex_unlock(&lg.lock);
		return;
	}
	/* New messages go to stderr from here; the thread drains the queue. */
	atomic_store(&lg.threaded, false);
	lg.stop = true;
	pthread_cond_signal(&lg.wake);
	pthread_mutex_unlock(&lg.lock);
	pthread_join(lg.thread, NULL);

	pthread_mutex_lock(&lg.fd_lock);
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = -1;
	lg.dir[0] = '\0';
	pthread_mutex_unlock(&lg.fd_lock);
	if (atomic_load(&lg.syslog)) {
		closelog();
		atomic_store(&lg.syslog, false);
	}
}
