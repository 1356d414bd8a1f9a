// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu.conf parser and cfgstring daemon-option parser.
 */
#include <errno.h>
#include <poll.h>

#include "daemon.h"
#include "dtest.h"

static int parse(const char *text, struct tcmur_config *cfg)
{
	tcmur_config_parse_buf(text, "test", cfg);
	return 0;
}

static void test_conf(void)
{
	struct tcmur_config c;

	STEP("empty file gives defaults (nothing set)");
	parse("", &c);
	CHECK(!c.log_level_set && !c.log_dir_set, "defaults");

	STEP("commented-out keys stay at their defaults");
	parse("# log_level = 5\n#log_dir = /x\n", &c);
	CHECK(!c.log_level_set && !c.log_dir_set, "comments");

	STEP("key = value with spaces, tabs and trailing comments");
	parse("  log_level\t=  4   # debug\nlog_dir=/var/log/t  # here\n", &c);
	CHECK(c.log_level_set && c.log_level == 4, "level %d", c.log_level);
	CHECK(c.log_dir_set && !strcmp(c.log_dir, "/var/log/t"), "dir '%s'", c.log_dir);

	STEP("quoted strings keep '#' and spaces; escapes in double quotes");
	parse("log_dir = \"/tmp/a b#c\"\n", &c);
	CHECK(c.log_dir_set && !strcmp(c.log_dir, "/tmp/a b#c"), "dir '%s'", c.log_dir);
	parse("log_dir = '/tmp/q'\n", &c);
	CHECK(!strcmp(c.log_dir, "/tmp/q"), "dir '%s'", c.log_dir);
	parse("log_dir = \"/tmp/x\\\"y\"\n", &c);
	CHECK(!strcmp(c.log_dir, "/tmp/x\"y"), "dir '%s'", c.log_dir);

	STEP("bad values are ignored (level out of range, relative dir, bad quote)");
	parse("log_level = 9\nlog_dir = relative\n", &c);
	CHECK(!c.log_level_set && !c.log_dir_set, "ignored");
	parse("log_level = 3x\n", &c);
	CHECK(!c.log_level_set, "3x ignored");
	parse("log_dir = \"/tmp/open\n", &c);
	CHECK(!c.log_dir_set, "unterminated quote ignored");

	STEP("unknown keys and junk lines do not stop the parse");
	parse("frobnicate = 1\n= 3\njunk line here\nlog_level = 0\n", &c);
	CHECK(c.log_level_set && c.log_level == 0, "level %d", c.log_level);

	STEP("ring_poll_us: 0..1000, anything else ignored");
	parse("ring_poll_us = 0\n", &c);
	CHECK(c.ring_poll_us_set && c.ring_poll_us == 0, "poll %u", c.ring_poll_us);
	parse("ring_poll_us = 200\n", &c);
	CHECK(c.ring_poll_us_set && c.ring_poll_us == 200, "poll %u", c.ring_poll_us);
	parse("ring_poll_us = 1001\nring_poll_us = -1\nring_poll_us = 5us\nring_poll_us\n", &c);
	CHECK(!c.ring_poll_us_set, "bad values ignored");

	STEP("ring_poll: adaptive, fixed or off; anything else ignored");
	parse("ring_poll = fixed\n", &c);
	CHECK(c.ring_poll_set && c.ring_poll == TCMUR_RING_POLL_FIXED, "mode %d", c.ring_poll);
	parse("ring_poll = off\n", &c);
	CHECK(c.ring_poll_set && c.ring_poll == TCMUR_RING_POLL_OFF, "mode %d", c.ring_poll);
	parse("ring_poll = adaptive\n", &c);
	CHECK(c.ring_poll_set && c.ring_poll == TCMUR_RING_POLL_ADAPTIVE, "mode %d", c.ring_poll);
	parse("ring_poll = sometimes\nring_poll\n", &c);
	CHECK(!c.ring_poll_set, "bad values ignored");

	STEP("last assignment wins; CRLF tolerated");
	parse("log_level = 1\r\nlog_level = 2\r\n", &c);
	CHECK(c.log_level == 2, "level %d", c.log_level);
}

static void expect_cfg(const char *in, const char *out, unsigned int tmo)
{
	struct tcmur_dev_opts o;
	char err[256], *s = NULL;
	int ret = tcmur_cfgstring_parse(in, &o, &s, err, sizeof(err));

	CHECK(!ret, "'%s' rejected: %s", in, err);
	if (ret)
		return;
	CHECK(!strcmp(s, out), "'%s' -> '%s', expected '%s'", in, s, out);
	CHECK(o.cmd_time_out == tmo, "'%s': time out %u, expected %u", in, o.cmd_time_out, tmo);
	free(s);
}

static void expect_bad(const char *in, const char *why)
{
	struct tcmur_dev_opts o;
	char err[256], *s = NULL;
	int ret = tcmur_cfgstring_parse(in, &o, &s, err, sizeof(err));

	CHECK(ret == -EINVAL, "'%s' accepted", in);
	CHECK(strstr(err, why), "'%s': error '%s' lacks '%s'", in, err, why);
	free(s);
}

static void test_cfgstring(void)
{
	STEP("cfgstrings without daemon options pass unchanged");
	expect_cfg("file//tmp/x.img", "file//tmp/x.img", 0);
	expect_cfg("rbd/pool/img;osd_op_timeout=30", "rbd/pool/img;osd_op_timeout=30", 0);

	STEP("daemon options before the subtype, after it, and at the end are stripped");
	expect_cfg(";tcmur_cmd_time_out=20;file//tmp/x", "file//tmp/x", 20);
	expect_cfg("file/;tcmur_cmd_time_out=7;/tmp/x", "file//tmp/x", 7);
	expect_cfg("glfs/vol@host/p;tcmur_cmd_time_out=30", "glfs/vol@host/p", 30);
	expect_cfg("rbd/p/i;tcmur_cmd_time_out=5;osd_op_timeout=30", "rbd/p/i;osd_op_timeout=30",
		   5);

	STEP("the documented misspelling tcmur_cmd_timeout is accepted");
	expect_cfg("rbd/;tcmur_cmd_timeout=20;pool/rbd1;osd_op_timeout=30",
		   "rbd/pool/rbd1;osd_op_timeout=30", 20);

	STEP("unknown daemon options and bad values fail with the cause");
	expect_bad(";tcmur_bogus=1;file//x", "unknown daemon option 'tcmur_bogus=1'");
	expect_bad("file//x;tcmur_cmd_time_out=abc", "bad value 'abc'");
	expect_bad("file//x;tcmur_cmd_time_out=", "bad value");
	expect_bad("file//x;tcmur_cmd_time_out", "needs a value");
	expect_bad("file//x;tcmur_cmd_time_out=99999999999", "bad value");
}

static void put(const char *dir, const char *name, const char *text, bool replace)
{
	char path[400], tmpp[420];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmpp, sizeof(tmpp), "%s/.%s.swp", dir, name);
	f = fopen(replace ? tmpp : path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	if (replace && rename(tmpp, path))
		CHECK(0, "rename");
}

static bool changed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 2000) <= 0)
		return false;
	usleep(20000); /* let the editor's events all arrive */
	return tcmur_config_watch_changed(fd);
}

static void test_watch(void)
{
	const char *dir = dt_tmpdir("conf");
	char path[400];
	struct tcmur_config c;
	int fd;

	ENSURE(dir, "mkdtemp");
	snprintf(path, sizeof(path), "%s/tcmu.conf", dir);
	fd = tcmur_config_watch_open(dir);
	ENSURE(fd >= 0, "watch: %d", fd);

	STEP("live reload: a write of tcmu.conf is seen and parsed");
	put(dir, "tcmu.conf", "log_level = 5\n", false);
	CHECK(changed(fd), "write seen");
	CHECK(!tcmur_config_parse_file(path, &c) && c.log_level_set && c.log_level == 5, "level 5");

	STEP("an editor replacing the file (rename) is seen; commented key reverts");
	put(dir, "tcmu.conf", "# log_level = 5\n", true);
	CHECK(changed(fd), "rename seen");
	CHECK(!tcmur_config_parse_file(path, &c) && !c.log_level_set, "back to default");

	STEP("other files in the folder are ignored; deletion is seen");
	put(dir, "other.conf", "x\n", false);
	CHECK(!changed(fd), "other file ignored");
	unlink(path);
	CHECK(changed(fd), "delete seen");
	CHECK(tcmur_config_parse_file(path, &c) == -ENOENT && !c.log_level_set, "defaults");
	close(fd);
	dt_rmrf(dir);
}

int main(void)
{
	tcmu_set_log_level(TCMU_LOG_ERROR); /* the parser warns on purpose */
	test_conf();
	test_cfgstring();
	test_watch();
	return check_exit();
}
