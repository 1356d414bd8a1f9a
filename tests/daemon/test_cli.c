// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The tcmu-runner command line: --version, bad options, --nofile range,
 * --dump-handler, the single-instance lock, and a clear failure (logged
 * to -l DIR) where the kernel has no TCM-USER netlink family.
 * Usage: test_daemon_cli <tcmu-runner> <handler dir>
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dtest.h"

static char tmp[256], out_path[300];
static const char *runner;

/* Run tcmu-runner with args (NULL-terminated); stdout+stderr to out_path. */
static int run(char *const args[], const char *lock_file)
{
	pid_t pid;
	int status, i;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char *argv[16];

		dup2(fd, 1);
		dup2(fd, 2);
		setenv("TCMU_CONFIG_DIR", tmp, 1);
		setenv("TCMU_LOCK_FILE", lock_file, 1);
		argv[0] = (char *)runner;
		for (i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		argv[i + 1] = NULL;
		execv(runner, argv);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -2; /* hung */
}

static bool out_has(const char *s)
{
	char *t = dt_slurp(out_path);
	bool found = t && strstr(t, s);

	if (!found)
		fprintf(stderr, "  output was: %s\n", t ? t : "(none)");
	free(t);
	return found;
}

int main(int argc, char **argv)
{
	char lock[300], logdir[300], logf[400];
	struct stat st;
	int ret, fd;

	REQUIRE(argc == 3, "usage: test_daemon_cli <tcmu-runner> <handler dir>");
	runner = argv[1];
	{
		const char *t = dt_tmpdir("cli");

		REQUIRE(t, "mkdtemp");
		snprintf(tmp, sizeof(tmp), "%s", t);
	}
	snprintf(out_path, sizeof(out_path), "%s/out", tmp);
	snprintf(lock, sizeof(lock), "%s/tcmu.lock", tmp);
	snprintf(logdir, sizeof(logdir), "%s/logs", tmp);

	STEP("-V prints the version, -h the usage; both exit 0");
	ret = run((char *[]){ "-V", NULL }, lock);
	CHECK(ret == 0 && out_has("tcmu-runner "), "-V: %d", ret);
	ret = run((char *[]){ "--help", NULL }, lock);
	CHECK(ret == 0 && out_has("--handler-path") && out_has("--tcmu-log-dir"), "-h: %d", ret);

	STEP("bad options and out-of-range --nofile exit 1 with a message");
	ret = run((char *[]){ "--frobnicate", NULL }, lock);
	CHECK(ret == 1, "bad option: %d", ret);
	ret = run((char *[]){ "-f", "10", NULL }, lock);
	CHECK(ret == 1 && out_has("--nofile wants"), "nofile: %d", ret);

	STEP("--dump-handler file prints ABI facts; unknown name exits 1");
	ret = run((char *[]){ "--handler-path", argv[2], "--dump-handler", "file", NULL }, lock);
	CHECK(ret == 0 && out_has("subtype=file\n") && out_has("api_version=1.1\n") &&
		      out_has("has_unmap=1\n"),
	      "dump: %d", ret);
	ret = run((char *[]){ "--handler-path", argv[2], "--dump-handler", "nope", NULL }, lock);
	CHECK(ret == 1 && out_has("no handler named 'nope'"), "dump unknown: %d", ret);

	STEP("--devices / --handlers: empty entries and subtypes with '/' exit 1 with a message");
	ret = run((char *[]){ "--devices", "a,,b", NULL }, lock);
	CHECK(ret == 1 && out_has("--devices wants a comma-separated list"), "devices: %d", ret);
	ret = run((char *[]){ "--handlers", "file/x", NULL }, lock);
	CHECK(ret == 1 && out_has("--handlers wants"), "handlers: %d", ret);

	STEP("--lock-file names the lock instead of TCMU_LOCK_FILE");
	{
		char other[320];
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		snprintf(other, sizeof(other), "%s/other.lock", tmp);
		fd = open(other, O_RDWR | O_CREAT, 0644);
		REQUIRE(fd >= 0 && !fcntl(fd, F_SETLK, &fl), "take lock");
		ret = run((char *[]){ "--lock-file", other, "-l", logdir, NULL }, lock);
		CHECK(ret == 1 && out_has("another tcmu-runner is already running") &&
			      out_has("other.lock"),
		      "--lock-file: %d", ret);
		close(fd);
	}

	STEP("a held /run/tcmu.lock means another instance: clear error, exit 1");
	fd = open(lock, O_RDWR | O_CREAT, 0644);
	{
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		REQUIRE(fd >= 0 && !fcntl(fd, F_SETLK, &fl), "take lock");
	}
	ret = run((char *[]){ "-l", logdir, NULL }, lock);
	CHECK(ret == 1 && out_has("another tcmu-runner is already running"), "lock: %d", ret);
	close(fd);

	if (!stat("/sys/module/target_core_user", &st)) {
		printf("  (target_core_user present: no-kernel startup case skipped)\n");
		dt_rmrf(tmp);
		return check_exit();
	}
	STEP("without TCM-USER in the kernel: exits 1, the log in -l DIR says why");
	ret = run((char *[]){ "-l", logdir, "--handler-path", argv[2], NULL }, lock);
	CHECK(ret == 1, "no kernel: %d", ret);
	snprintf(logf, sizeof(logf), "%s/tcmu-runner.log", logdir);
	{
		char *t = dt_slurp(logf);

		CHECK(t && strstr(t, "starting") && strstr(t, "cannot connect to the kernel"),
		      "log: %s", t ? t : "(none)");
		free(t);
	}
	dt_rmrf(tmp);
	return check_exit();
}
