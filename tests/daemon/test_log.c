// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * lib/log.c: line format, levels, the file, live log_dir change, reopen
 * after logrotate-style rename, flush on destroy, and drop-and-count.
 */
#include <regex.h>
#include <sys/stat.h>

#include "libtcmu.h"
#include "dtest.h"

/* Lines containing needle (line by line: ASan's strstr is quadratic here). */
static int count_lines(const char *text, const char *needle)
{
	size_t nlen = strlen(needle), left = text ? strlen(text) : 0;
	const char *p = text;
	int n = 0;

	while (left) {
		const char *nl = memchr(p, '\n', left);
		size_t len = nl ? (size_t)(nl - p) : left;

		if (memmem(p, len, needle, nlen))
			n++;
		if (!nl)
			break;
		left -= len + 1;
		p = nl + 1;
	}
	return n;
}

int main(void)
{
	const char *tmp = dt_tmpdir("log");
	char dir1[300], dir2[300], path[400], rotated[400];
	regex_t re;
	char *text;
	int i, ret;

	REQUIRE(tmp, "mkdtemp");
	snprintf(dir1, sizeof(dir1), "%s/one/deeper", tmp);
	snprintf(dir2, sizeof(dir2), "%s/two", tmp);

	STEP("setup creates the folder and tcmu-runner.log");
	ret = tcmu_setup_log(dir1);
	REQUIRE(!ret, "tcmu_setup_log: %d", ret);
	CHECK(tcmu_log_get_dir() && !strcmp(tcmu_log_get_dir(), dir1), "dir");

	STEP("levels: default 3 logs INFO, not DEBUG");
	CHECK(tcmu_get_log_level() == TCMU_LOG_INFO, "level %d", tcmu_get_log_level());
	tcmu_info("info line %d", 1);
	tcmu_dbg("debug line hidden");
	tcmu_set_log_level(TCMU_LOG_DEBUG);
	tcmu_dbg("debug line shown\n");
	tcmu_set_log_level(42);
	CHECK(tcmu_get_log_level() == TCMU_LOG_DEBUG_SCSI_CMD, "clamped");
	tcmu_set_log_level(TCMU_LOG_INFO);

	STEP("destroy flushes; lines follow 'YYYY-MM-DD HH:MM:SS.mmm PID [LEVEL] func:line: msg'");
	tcmu_destroy_log();
	snprintf(path, sizeof(path), "%s/tcmu-runner.log", dir1);
	text = dt_slurp(path);
	REQUIRE(text, "read %s", path);
	REQUIRE(!regcomp(&re,
			 "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
			 "[0-9]+ \\[INFO\\] main:[0-9]+: info line 1$",
			 REG_EXTENDED | REG_NEWLINE),
		"regcomp");
	CHECK(!regexec(&re, text, 0, NULL, 0), "format: %s", text);
	regfree(&re);
	CHECK(!strstr(text, "hidden"), "debug filtered");
	CHECK(count_lines(text, "[DEBUG] main:") == 1 && !strstr(text, "shown\n\n"),
	      "one debug line, trailing newline not doubled");
	free(text);

	STEP("after destroy messages go to stderr, not the file");
	tcmu_info("after destroy");
	text = dt_slurp(path);
	CHECK(text && !strstr(text, "after destroy"), "not in file");
	free(text);

	STEP("live log_dir change moves logging");
	REQUIRE(!tcmu_setup_log(dir1), "setup again");
	tcmu_info("in dir one");
	CHECK(!tcmu_log_set_dir(dir2), "set_dir");
	tcmu_info("in dir two");
	CHECK(tcmu_log_set_dir("/proc/nonexistent/x") < 0, "bad dir refused");
	tcmu_info("still in dir two");

	STEP("reopen (SIGHUP) after a rename starts a new file");
	snprintf(path, sizeof(path), "%s/tcmu-runner.log", dir2);
	snprintf(rotated, sizeof(rotated), "%s/tcmu-runner.log.1", dir2);
	tcmu_destroy_log(); /* flush so the rename splits cleanly */
	REQUIRE(!tcmu_setup_log(dir2), "setup dir2");
	REQUIRE(!rename(path, rotated), "rename");
	CHECK(!tcmu_log_reopen(), "reopen");
	tcmu_info("after reopen");

	STEP("a flood beyond the queue is dropped and counted, never blocks");
	tcmu_set_log_level(TCMU_LOG_DEBUG);
	for (i = 0; i < 200000; i++)
		tcmu_dbg("flood %d", i);
	tcmu_destroy_log();

	text = dt_slurp(rotated);
	CHECK(text && strstr(text, "in dir two") && strstr(text, "still in dir two"),
	      "rotated file has the old lines");
	CHECK(text && strstr(text, "cannot switch log"), "bad dir logged");
	free(text);
	text = dt_slurp(path);
	REQUIRE(text, "new file");
	CHECK(strstr(text, "after reopen") && !strstr(text, "in dir two"), "new file content");
	{
		int flood = count_lines(text, "] main:");
		const char *p = text, *q, *end = text + strlen(text);
		unsigned long dropped = 0;

		/* Sum the "N log messages dropped" notes. */
		while ((q = memmem(p, (size_t)(end - p), " log messages dropped", 21))) {
			const char *b = q;

			while (b > text && b[-1] >= '0' && b[-1] <= '9')
				b--;
			dropped += strtoul(b, NULL, 10);
			p = q + 21;
		}
		printf("  flood: %d lines written, %lu dropped\n", flood - 1, dropped);
		CHECK((unsigned long)(flood - 1) + dropped == 200000,
		      "written %d + dropped %lu != 200000", flood - 1, dropped);
	}
	free(text);
	snprintf(path, sizeof(path), "%s/tcmu-runner.log", dir1);
	text = dt_slurp(path);
	CHECK(text && strstr(text, "in dir one") && !strstr(text, "in dir two"), "dir one");
	free(text);

	dt_rmrf(tmp);
	return check_exit();
}
