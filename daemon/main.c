// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu-runner: command line, startup (config, log, single-instance lock,
 * kernel module, handler plugins, device adoption), the main loop and an
 * orderly shutdown on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef TCMUR_HAVE_KMOD
#include <libkmod.h>
#endif

#include "daemon.h"
#include "dbus.h"

#ifndef TCMUR_VERSION
#define TCMUR_VERSION "unknown"
#endif
#ifndef TCMU_HANDLER_DIR
#define TCMU_HANDLER_DIR "/usr/lib/tcmu-runner"
#endif

#define TCMUR_LOCK_FILE	 "/run/tcmu.lock"
#define TCMUR_MODULE_DIR "/sys/module/target_core_user"

static struct {
	bool debug;
	const char *opt_log_dir; /* -l */
	const char *handler_dir;
	const char *dump;      /* --dump-handler */
	const char *lock_file; /* --lock-file */
	bool no_dbus;	       /* --no-dbus */
	unsigned long nofile;  /* -f, 0: leave the limit alone */
	struct tcmur_config conf;
	struct tcmulib_context *ctx;
} g;

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [options]\n"
		"  -h, --help                  show this help and exit\n"
		"  -V, --version               show the version and exit\n"
		"  -d, --debug                 log at level 5 (unless tcmu.conf sets log_level)\n"
		"  -f, --nofile N              raise the open file limit to N\n"
		"      --handler-path DIR      load handler_*.so from DIR (default %s)\n"
		"  -l, --tcmu-log-dir DIR      write tcmu-runner.log in DIR\n"
		"      --dump-handler NAME     print the ABI facts of a handler and exit\n"
		"      --devices GLOB[,GLOB]   serve only devices whose configfs name matches\n"
		"                              (GLOB with a '/': user_<hba>/<name>)\n"
		"      --handlers SUBTYPE[,..] serve only devices of these handler subtypes\n"
		"      --lock-file PATH        single-instance lock (default %s)\n"
		"      --no-dbus               do not offer org.kernel.TCMUService1\n",
		prog, TCMU_HANDLER_DIR, TCMUR_LOCK_FILE);
}

/* Effective settings: tcmu.conf > command line > environment > defaults. */
static int effective_level(void)
{
	if (g.conf.log_level_set)
		return g.conf.log_level;
	return g.debug ? TCMU_LOG_DEBUG_SCSI_CMD : TCMU_LOG_INFO;
}

static const char *effective_log_dir(void)
{
	const char *env = getenv("TCMU_LOGDIR");

	if (g.conf.log_dir_set)
		return g.conf.log_dir;
	if (g.opt_log_dir)
		return g.opt_log_dir;
	if (env && *env)
		return env;
	return TCMU_LOG_DIR_DEFAULT;
}

static void config_load(void)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", tcmur_config_dir(), TCMUR_CONF_NAME);
	ret = tcmur_config_parse_file(path, &g.conf);
	if (ret && ret != -ENOENT)
		tcmu_warn("using defaults: %s unreadable\n", path);
}

static void config_apply(bool started)
{
	const char *dir = effective_log_dir();
	const char *cur = tcmu_log_get_dir();

	tcmu_set_log_level(effective_level());
	tcmur_set_ring_poll_us(g.conf.ring_poll_us_set ? g.conf.ring_poll_us
						       : TCMUR_RING_POLL_US_DEFAULT);
	tcmur_set_ring_poll(g.conf.ring_poll_set ? g.conf.ring_poll : TCMUR_RING_POLL_ADAPTIVE);
	if (!started || (cur && !strcmp(cur, dir)))
		return;
	if (!tcmu_log_set_dir(dir))
		tcmur_handlers_update_logdir();
}

static void on_config_event(int fd, uint32_t events, void *arg)
{
	if (!tcmur_config_watch_changed(fd))
		return;
	config_load();
	config_apply(true);
	tcmu_info("reloaded %s/%s: log level %d, log dir %s, ring_poll %s, ring_poll_us %u\n",
		  tcmur_config_dir(), TCMUR_CONF_NAME, tcmu_get_log_level(), effective_log_dir(),
		  tcmur_ring_poll_name(g.conf.ring_poll_set ? g.conf.ring_poll
							    : TCMUR_RING_POLL_ADAPTIVE),
		  g.conf.ring_poll_us_set ? g.conf.ring_poll_us : TCMUR_RING_POLL_US_DEFAULT);
}

static int config_watch(void)
{
	int fd = tcmur_config_watch_open(tcmur_config_dir());
	int ret;

	if (fd < 0) {
		tcmu_warn("cannot watch %s for tcmu.conf changes: %s\n", tcmur_config_dir(),
			  strerror(-fd));
		return fd;
	}
	ret = tcmur_loop_add(fd, on_config_event, NULL);
	if (ret)
		close(fd);
	return ret;
}

static void on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			if (tcmu_log_reopen())
				tcmu_err("cannot reopen the log file\n");
			else
				tcmu_info("log file reopened\n");
			break;
		case SIGINT:
		case SIGTERM:
			tcmu_info("signal %d: shutting down\n", (int)si.ssi_signo);
			tcmur_loop_stop();
			break;
		}
	}
}

static void on_netlink(int fd, uint32_t events, void *arg)
{
	int ret = tcmulib_master_fd_ready(g.ctx);

	if (ret < 0)
		tcmu_err("netlink processing failed: %s\n", strerror(-ret));
}

static int take_lock(void)
{
	const char *path = g.lock_file ? g.lock_file : getenv("TCMU_LOCK_FILE");
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char pid[32];
	int fd, len;

	if (!path || !*path)
		path = TCMUR_LOCK_FILE;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "tcmu-runner: cannot open lock file %s: %s\n", path,
			strerror(errno));
		return -errno;
	}
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		int err = errno;

		if (err == EAGAIN || err == EACCES)
			fprintf(stderr,
				"tcmu-runner: another tcmu-runner is already running "
				"(%s is locked)\n",
				path);
		else
			fprintf(stderr, "tcmu-runner: cannot lock %s: %s\n", path, strerror(err));
		close(fd);
		return -err;
	}
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || write(fd, pid, (size_t)len) != len)
		tcmu_dbg("cannot write the pid to %s\n", path);
	return fd; /* kept open: the lock lives as long as the process */
}

static void load_module(void)
{
	struct stat st;

	if (!stat(TCMUR_MODULE_DIR, &st))
		return;
#ifdef TCMUR_HAVE_KMOD
	{
		struct kmod_ctx *kctx = kmod_new(NULL, NULL);
		struct kmod_module *mod = NULL;
		int ret = -ENOMEM;

		if (kctx) {
			ret = kmod_module_new_from_name(kctx, "target_core_user", &mod);
			if (!ret) {
				ret = kmod_module_probe_insert_module(
					mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
				kmod_module_unref(mod);
			}
			kmod_unref(kctx);
		}
		if (ret)
			tcmu_warn("cannot load target_core_user (%d); continuing\n", ret);
		else
			tcmu_info("loaded kernel module target_core_user\n");
	}
#else
	tcmu_warn("target_core_user is not loaded and this build has no libkmod; continuing\n");
#endif
}

/* Module parameters around startup, where the kernel has them. */
static void set_module_param(const char *name, const char *val)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/parameters/%s", TCMUR_MODULE_DIR, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* older kernel: nothing to do */
	if (write(fd, val, strlen(val)) < 0)
		tcmu_warn("cannot set %s=%s: %m\n", name, val);
	close(fd);
}

static void log_filter(void)
{
	char desc[512];

	if (!tcmur_devfilter_active())
		return;
	tcmur_devfilter_describe(desc, sizeof(desc));
	tcmu_info("device filter: %s (other TCMU devices are left to other processes)\n", desc);
}

static void print_counts(void)
{
	unsigned int nh = tcmur_handler_count(), nd = tcmur_device_count();

	printf("tcmu-runner %s: %u handler(s), %u device(s) found\n", TCMUR_VERSION, nh, nd);
	fflush(stdout);
	tcmu_info("tcmu-runner %s: %u handler(s), %u device(s) found\n", TCMUR_VERSION, nh, nd);
}

/* ---- start-up -------------------------------------------------------------- */

/* --devices / --handlers: false after telling the user what is wrong. */
static bool filter_option(const char *opt, const char *spec)
{
	int ret = strcmp(opt, "--devices") ? tcmur_devfilter_add_handlers(spec)
					   : tcmur_devfilter_add_devices(spec);

	if (!ret)
		return true;
	if (ret == -E2BIG)
		fprintf(stderr, "tcmu-runner: %s: more than 32 entries\n", opt);
	else if (ret == -ENOMEM)
		fprintf(stderr, "tcmu-runner: %s: out of memory\n", opt);
	else
		fprintf(stderr,
			"tcmu-runner: %s wants a comma-separated list without empty entries%s, "
			"got '%s'\n",
			opt, strcmp(opt, "--devices") ? " (subtypes, without '/' or ';')" : "",
			spec);
	return false;
}

/* The command line into g.  False: exit now with *exit_code. */
static bool parse_options(int argc, char **argv, int *exit_code)
{
	static const struct option long_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "debug", no_argument, NULL, 'd' },
		{ "nofile", required_argument, NULL, 'f' },
		{ "handler-path", required_argument, NULL, 'H' },
		{ "tcmu-log-dir", required_argument, NULL, 'l' },
		{ "dump-handler", required_argument, NULL, 'D' },
		{ "devices", required_argument, NULL, 'E' },
		{ "handlers", required_argument, NULL, 'S' },
		{ "lock-file", required_argument, NULL, 'L' },
		{ "no-dbus", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	*exit_code = 1;
	g.handler_dir = TCMU_HANDLER_DIR;
	while ((c = getopt_long(argc, argv, "hVdf:l:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, argv[0]);
			*exit_code = 0;
			return false;
		case 'V':
			printf("tcmu-runner %s\n", TCMUR_VERSION);
			*exit_code = 0;
			return false;
		case 'd':
			g.debug = true;
			break;
		case 'f':
			errno = 0;
			g.nofile = strtoul(optarg, &end, 10);
			if (errno || *end || g.nofile < 1024 || g.nofile > 1048576) {
				fprintf(stderr,
					"tcmu-runner: --nofile wants 1024..1048576, got '%s'\n",
					optarg);
				return false;
			}
			break;
		case 'H':
			g.handler_dir = optarg;
			break;
		case 'l':
			g.opt_log_dir = optarg;
			break;
		case 'D':
			g.dump = optarg;
			break;
		case 'E':
		case 'S':
			if (!filter_option(c == 'E' ? "--devices" : "--handlers", optarg))
				return false;
			break;
		case 'L':
			g.lock_file = optarg;
			break;
		case 'B':
			g.no_dbus = true;
			break;
		default:
			usage(stderr, argv[0]);
			return false;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcmu-runner: unexpected argument '%s'\n", argv[optind]);
		usage(stderr, argv[0]);
		return false;
	}
	return true;
}

/* Before any thread exists, so every thread inherits the mask. */
static void block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* --dump-handler: the exit code. */
static int dump_handler(const char *name)
{
	int ret = tcmur_load_handlers(g.handler_dir);

	if (ret >= 0)
		ret = tcmur_dump_handler(name);
	if (ret == -ENOENT)
		fprintf(stderr, "tcmu-runner: no handler named '%s' in %s\n", name, g.handler_dir);
	tcmur_unload_handlers();
	return ret ? 1 : 0;
}

static void raise_nofile(unsigned long nofile)
{
	struct rlimit rl = { .rlim_cur = nofile, .rlim_max = nofile };

	if (nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		fprintf(stderr, "tcmu-runner: cannot raise the open file limit to %lu: %s\n",
			nofile, strerror(errno));
}

static void start_logging(void)
{
	uint64_t cost;
	bool coarse;
	int ret = tcmu_setup_log(effective_log_dir());

	if (ret)
		fprintf(stderr, "tcmu-runner: logging to stderr (log dir %s: %s)\n",
			effective_log_dir(), strerror(-ret));
	tcmu_log_use_syslog(1);
	tcmu_info("tcmu-runner %s starting\n", TCMUR_VERSION);
	coarse = tcmulib_clock_is_coarse(&cost);
	tcmu_info("command timestamps: %s (a CLOCK_MONOTONIC read costs %llu ns here%s)\n",
		  coarse ? "CLOCK_MONOTONIC_COARSE" : "CLOCK_MONOTONIC", (unsigned long long)cost,
		  coarse ? ": a system call" : "");
}

/* The kernel module, then the plugins (devices need both). */
static void load_module_and_handlers(void)
{
	load_module();
	/*
	 * Blocking and resetting netlink is global: it would fail the requests
	 * other daemons are answering.  A filtered daemon leaves it alone.
	 */
	if (!tcmur_devfilter_active()) {
		set_module_param("block_netlink", "1");
		set_module_param("reset_netlink", "1");
	}
	if (tcmur_load_handlers(g.handler_dir) < 0)
		tcmu_warn("no handlers loaded from %s\n", g.handler_dir);
}

/* libtcmu on the netlink interface, watched by the main loop: 0 or -1. */
static int connect_kernel(void)
{
	struct tcmulib_handler *lh;
	size_t nlh;
	int ret;

	lh = tcmur_handlers_publish(&nlh);
	/* We are the service external programs register with: never register ourselves. */
	tcmulib_set_dbus_registration(false);
	tcmur_devfilter_install();
	g.ctx = tcmulib_initialize(lh, nlh);
	if (!tcmur_devfilter_active())
		set_module_param("block_netlink", "0");
	if (!g.ctx) {
		tcmu_err("cannot connect to the kernel (netlink TCM-USER); is target_core_user "
			 "loaded and are we root?\n");
		return -1;
	}
	ret = tcmur_loop_add(tcmulib_get_master_fd(g.ctx), on_netlink, NULL);
	if (ret) {
		tcmu_err("cannot watch the netlink fd: %s\n", strerror(-ret));
		tcmulib_close(g.ctx);
		return -1;
	}
	return 0;
}

/* SIGINT/SIGTERM/SIGHUP through the main loop: the signalfd, or -1. */
static int watch_signals(const sigset_t *mask)
{
	int sfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);

	if (sfd < 0 || tcmur_loop_add(sfd, on_signal, NULL)) {
		tcmu_err("cannot set up signal handling: %m\n");
		if (sfd >= 0)
			close(sfd);
		return -1;
	}
	return sfd;
}

static void start_dbus(void)
{
	if (g.no_dbus) {
		tcmu_info("--no-dbus: org.kernel.TCMUService1 is not offered by this daemon\n");
		return;
	}
#ifdef TCMUR_HAVE_DBUS
	tcmur_dbus_ublk_set_handler_dir(g.handler_dir);
	if (tcmur_dbus_start())
		tcmu_warn("DBus service failed to start; continuing without it\n");
#else
	tcmu_warn("no DBus: built without GIO, org.kernel.TCMUService1 is not offered "
		  "(targetcli cannot list handlers)\n");
#endif
}

/* ---- event loop and shutdown ---------------------------------------------- */

/* Until SIGINT/SIGTERM: the exit code. */
static int event_loop(void)
{
	int ret = tcmur_loop_run();

	if (ret)
		tcmu_err("main loop failed: %s\n", strerror(-ret));
	return ret ? 1 : 0;
}

static void shutdown_devices(void)
{
	tcmur_dbus_stop();
	tcmur_devices_refuse_new(true);
	tcmur_devices_shutdown();
	/*
	 * Answer what the kernel sent meanwhile rather than leave it waiting:
	 * adds are refused now, removes of closed devices are acknowledged.
	 */
	on_netlink(tcmulib_get_master_fd(g.ctx), 0, NULL);
	tcmur_devices_shutdown();
}

/* Start the service, run it until a signal stops it, take it down: the exit code. */
static int serve(const sigset_t *mask)
{
	int sfd = -1, ret, exit_code = 1;

	load_module_and_handlers();
	ret = tcmur_loop_init();
	if (ret) {
		tcmu_err("epoll: %s\n", strerror(-ret));
		goto out_handlers;
	}
	log_filter();
	if (connect_kernel())
		goto out_loop;
	sfd = watch_signals(mask);
	if (sfd < 0)
		goto out_lib;
	config_watch();
	start_dbus();
	print_counts();

	exit_code = event_loop();
	shutdown_devices();
out_lib:
	tcmulib_close(g.ctx);
out_loop:
	tcmur_loop_fini();
	if (sfd >= 0)
		close(sfd);
out_handlers:
	tcmur_unload_handlers();
	return exit_code;
}

int main(int argc, char **argv)
{
	sigset_t mask;
	int exit_code, lock_fd;

	if (!parse_options(argc, argv, &exit_code))
		return exit_code;
	block_signals(&mask);
	config_load();
	config_apply(false);
	if (g.dump)
		return dump_handler(g.dump);
	raise_nofile(g.nofile);
	lock_fd = take_lock();
	if (lock_fd < 0)
		return 1;
	start_logging();

	exit_code = serve(&mask);

	tcmu_info("tcmu-runner exits (%d)\n", exit_code);
	tcmu_destroy_log();
	close(lock_fd);
	tcmur_devfilter_clear();
	return exit_code;
}
