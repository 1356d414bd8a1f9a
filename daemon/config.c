// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu.conf parser: "key = value" lines, '#' comments, quoted strings.
 * Keys: log_level (0..5), log_dir (path), ring_poll_us (0..1000), ring_poll
 * (adaptive|fixed|off).  A key
 * absent from the file keeps its default, so commenting a key out reverts
 * it on the next reload.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "daemon.h"

#ifndef TCMU_CONF_DIR
#define TCMU_CONF_DIR "/etc/tcmu"
#endif

#define CONFIG_MAX_SIZE (64 * 1024)

const char *tcmur_config_dir(void)
{
	const char *env = getenv("TCMU_CONFIG_DIR");

	return env && *env ? env : TCMU_CONF_DIR;
}

/*
 * Parse a value starting at p: a quoted string ("..." or '...', with \" and
 * \\ escapes in double quotes) or a bare word up to a comment or the end.
 * Returns 0, or -EINVAL for an unterminated quote.
 */
static int parse_value(const char *p, char *out, size_t outlen)
{
	size_t n = 0;

	if (*p == '"' || *p == '\'') {
		char q = *p++;

		while (*p && *p != q) {
			if (q == '"' && *p == '\\' && p[1])
				p++;
			if (n + 1 < outlen)
				out[n++] = *p;
			p++;
		}
		if (*p != q)
			return -EINVAL;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p && *p != '#')
			return -EINVAL; /* junk after the closing quote */
	} else {
		while (*p && *p != '#') {
			if (n + 1 < outlen)
				out[n++] = *p;
			p++;
		}
		while (n && isspace((unsigned char)out[n - 1]))
			n--;
	}
	out[n] = '\0';
	return 0;
}

static void apply_key(const char *key, const char *val, bool has_val, const char *origin,
		      int lineno, struct tcmur_config *cfg)
{
	if (!strcmp(key, "log_level")) {
		char *end;
		long v;

		if (!has_val || !*val) {
			tcmu_warn("%s:%d: log_level needs a value 0..5\n", origin, lineno);
			return;
		}
		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || *end || v < TCMU_LOG_CRIT || v > TCMU_LOG_DEBUG_SCSI_CMD) {
			tcmu_warn("%s:%d: bad log_level '%s' (0..5), ignored\n", origin, lineno,
				  val);
			return;
		}
		cfg->log_level = (int)v;
		cfg->log_level_set = true;
	} else if (!strcmp(key, "log_dir")) {
		if (!has_val || !*val) {
			tcmu_warn("%s:%d: log_dir needs a path\n", origin, lineno);
			return;
		}
		if (val[0] != '/') {
			tcmu_warn("%s:%d: log_dir '%s' is not an absolute path, ignored\n", origin,
				  lineno, val);
			return;
		}
		if (strlen(val) >= sizeof(cfg->log_dir)) {
			tcmu_warn("%s:%d: log_dir too long, ignored\n", origin, lineno);
			return;
		}
		strcpy(cfg->log_dir, val);
		cfg->log_dir_set = true;
	} else if (!strcmp(key, "ring_poll_us")) {
		char *end;
		unsigned long v;

		errno = 0;
		v = has_val ? strtoul(val, &end, 10) : 0;
		if (!has_val || errno || end == val || *end || val[0] == '-' ||
		    v > TCMUR_RING_POLL_US_MAX) {
			tcmu_warn("%s:%d: bad ring_poll_us '%s' (0..%u), ignored\n", origin, lineno,
				  has_val ? val : "", TCMUR_RING_POLL_US_MAX);
			return;
		}
		cfg->ring_poll_us = (unsigned int)v;
		cfg->ring_poll_us_set = true;
	} else if (!strcmp(key, "ring_poll")) {
		if (!has_val || tcmur_ring_poll_parse(val, &cfg->ring_poll)) {
			tcmu_warn("%s:%d: bad ring_poll '%s' (adaptive, fixed or off), ignored\n",
				  origin, lineno, has_val ? val : "");
			return;
		}
		cfg->ring_poll_set = true;
	} else {
		tcmu_warn("%s:%d: unknown key '%s', ignored\n", origin, lineno, key);
	}
}

void tcmur_config_parse_buf(const char *buf, const char *origin, struct tcmur_config *cfg)
{
	const char *line = buf;
	int lineno = 0;

	memset(cfg, 0, sizeof(*cfg));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char text[PATH_MAX + 256], key[64], val[PATH_MAX];
		const char *p;
		size_t k = 0;
		bool has_val = false;

		lineno++;
		if (len >= sizeof(text)) {
			tcmu_warn("%s:%d: line too long, ignored\n", origin, lineno);
			goto next;
		}
		memcpy(text, line, len);
		text[len] = '\0';
		p = text;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			goto next;

		while (*p && (isalnum((unsigned char)*p) || *p == '_')) {
			if (k + 1 < sizeof(key))
				key[k++] = *p;
			p++;
		}
		key[k] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (!k || (*p && *p != '=' && *p != '#')) {
			tcmu_warn("%s:%d: expected 'key = value', ignored\n", origin, lineno);
			goto next;
		}
		val[0] = '\0';
		if (*p == '=') {
			p++;
			while (isspace((unsigned char)*p))
				p++;
			if (parse_value(p, val, sizeof(val))) {
				tcmu_warn("%s:%d: bad quoting in value of '%s', ignored\n", origin,
					  lineno, key);
				goto next;
			}
			has_val = true;
		}
		apply_key(key, val, has_val, origin, lineno, cfg);
	next:
		line = nl ? nl + 1 : NULL;
	}
}

int tcmur_config_parse_file(const char *path, struct tcmur_config *cfg)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd, ret = 0;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(CONFIG_MAX_SIZE + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < CONFIG_MAX_SIZE) {
		n = read(fd, buf + len, CONFIG_MAX_SIZE - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!ret) {
		if (len == CONFIG_MAX_SIZE)
			tcmu_warn("%s: larger than %d bytes, the rest is ignored\n", path,
				  CONFIG_MAX_SIZE);
		buf[len] = '\0';
		tcmur_config_parse_buf(buf, path, cfg);
	} else {
		tcmu_err("cannot read %s: %s\n", path, strerror(-ret));
	}
	free(buf);
	return ret;
}

int tcmur_config_watch_open(const char *dir)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	/* Watch the folder: editors replace the file rather than write it. */
	if (inotify_add_watch(fd, dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
				      IN_MOVED_FROM) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

bool tcmur_config_watch_changed(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len && !strcmp(ev->name, TCMUR_CONF_NAME))
				changed = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return changed;
}
