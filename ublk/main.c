// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu-ublk add|recover|del|list: serve a tcmu-runner handler as
 * /dev/ublkbN.  `add` and `recover` fork a server process per device (or
 * stay in the foreground) and return once the device is live or failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics_file.h"
#include "state.h"
#include "ublk.h"

#ifndef TCMU_HANDLER_DIR
#define TCMU_HANDLER_DIR "/usr/lib/tcmu-runner"
#endif

#define DEF_QUEUES	1
#define DEF_DEPTH	128
#define DEF_MAX_SECTORS 1024 /* 512 KiB requests */

static int report_fd = -1; /* add/recover: the parent waits on it */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tcmu-ublk add [options] CFGSTRING\n"
		"       tcmu-ublk recover ID [--foreground]\n"
		"       tcmu-ublk del ID|NAME\n"
		"       tcmu-ublk list\n"
		"add options:\n"
		"  -n, --name NAME        device name (default: the cfgstring)\n"
		"  -i, --id N             ublk device id (default: the first free one)\n"
		"  -q, --queues N         hardware queues, one thread each (default %d)\n"
		"  -d, --depth N          tags per queue (default %d)\n"
		"  -s, --size SIZE        bytes, K/M/G/T suffixes (default: the file's size)\n"
		"  -b, --block-size N     logical block size (default 512)\n"
		"  -m, --max-sectors N    largest request in 512-byte sectors (default %d)\n"
		"  -H, --handler-path DIR handler plugins (default %s)\n"
		"  -f, --foreground       serve in this process\n",
		DEF_QUEUES, DEF_DEPTH, DEF_MAX_SECTORS, TCMU_HANDLER_DIR);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'T':
	case 't':
		v <<= 10; /* fall through */
	case 'G':
	case 'g':
		v <<= 10; /* fall through */
	case 'M':
	case 'm':
		v <<= 10; /* fall through */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int ctrl_open_verbose(struct tublk_ctrl *c)
{
	int ret = tublk_ctrl_open(c);

	if (ret == -ENOENT)
		fprintf(stderr,
			"tcmu-ublk: /dev/ublk-control is missing: load the ublk_drv module "
			"(modprobe ublk_drv; Linux 6.0 or later with CONFIG_BLK_DEV_UBLK)\n");
	else if (ret)
		fprintf(stderr, "tcmu-ublk: /dev/ublk-control: %s\n", strerror(-ret));
	return ret;
}

/* ---- the server ---- */

/*
 * A background server lets go of the caller's terminal and pipes once the
 * device is live: its messages go to <rundir>/<id>.log from then on.
 */
static void detach_stdio(uint32_t id)
{
	char path[4200];
	int fd, nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	snprintf(path, sizeof(path), "%s/%u.log", tublk_rundir(), id);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = nul;
	if (nul >= 0)
		dup2(nul, STDIN_FILENO);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	if (fd >= 0 && fd != nul)
		close(fd);
	if (nul >= 0)
		close(nul);
}

static void report(bool ok, uint32_t id)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "%s %u\n", ok ? "OK" : "ERR", id);

	if (report_fd < 0)
		return;
	if (write(report_fd, msg, (size_t)n) < 0)
		perror("tcmu-ublk: report");
	close(report_fd);
	report_fd = -1;
	if (ok)
		detach_stdio(id);
}

static int open_cdev(uint32_t id)
{
	char path[64];
	int i, fd = -1;

	snprintf(path, sizeof(path), "/dev/ublkc%u", id);
	for (i = 0; i < 100; i++) { /* udev may still be creating it */
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(50000);
	}
	if (fd < 0)
		fprintf(stderr, "tcmu-ublk: %s: %s\n", path, strerror(errno));
	return fd;
}

static void fill_params(const struct tublk_dev *d, uint32_t max_sectors, struct ublka_params *p)
{
	const struct tublk_caps *c = &d->caps;
	unsigned int shift = 9;

	while ((1u << shift) < c->block_size)
		shift++;
	memset(p, 0, sizeof(*p));
	p->len = sizeof(*p);
	p->types = UBLKA_PARAM_TYPE_BASIC;
	p->basic.logical_bs_shift = (uint8_t)shift;
	p->basic.physical_bs_shift = (uint8_t)shift;
	p->basic.io_min_shift = (uint8_t)shift;
	p->basic.io_opt_shift = (uint8_t)shift;
	p->basic.max_sectors = max_sectors;
	p->basic.dev_sectors = c->size >> 9;
	if (c->flush && tcmu_dev_get_write_cache_enabled(d->dev))
		p->basic.attrs |= UBLKA_ATTR_VOLATILE_CACHE | UBLKA_ATTR_FUA;
	if (c->unmap || c->writesame) {
		uint32_t gran = tcmu_dev_get_opt_unmap_gran(d->dev) * c->block_size;
		uint32_t maxu = tcmu_dev_get_max_unmap_len(d->dev);

		p->types |= UBLKA_PARAM_TYPE_DISCARD;
		p->discard.discard_granularity = gran > c->block_size ? gran : c->block_size;
		if (c->unmap) {
			p->discard.max_discard_sectors =
				maxu ? (uint32_t)((uint64_t)maxu * c->block_size >> 9)
				     : UINT32_MAX >> 9;
			p->discard.max_discard_segments = 1;
		}
		if (c->writesame)
			p->discard.max_write_zeroes_sectors = UINT32_MAX >> 9;
	}
}

static int wait_recoverable(struct tublk_ctrl *c, uint32_t id)
{
	int ret = -EBUSY, i;

	/* The kernel quiesces a device some seconds after its server died. */
	for (i = 0; i < 600; i++) {
		ret = tublk_ctrl_cmd(c, UBLKA_CMD_START_USER_RECOVERY, id, NULL, 0, 0);
		if (ret != -EBUSY)
			break;
		usleep(100000);
	}
	return ret;
}

static int serve(struct tublk_state *st, bool recover)
{
	struct tublk_dev_conf conf = { .name = st->name,
				       .cfgstring = st->cfgstring,
				       .size = st->size,
				       .block_size = st->block_size };
	struct tublk_queue *qs = NULL;
	struct ublka_dev_info info;
	struct ublka_params params;
	struct tublk_ctrl ctrl = { .fd = -1 };
	struct tcmur_mfile mf = { .fd = -1 };
	struct tublk_dev d;
	char err[512], mpath[4200];
	bool added = false;
	sigset_t sigs;
	int ret, cdev = -1;
	unsigned int i, nq = 0;

	ret = tcmur_load_handlers(st->handler_path);
	if (ret < 0)
		fprintf(stderr, "tcmu-ublk: no handlers in %s: %s\n", st->handler_path,
			strerror(-ret));
	ret = tublk_dev_open(&d, &conf, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "tcmu-ublk: %s\n", err);
		goto out_handlers;
	}
	st->size = d.caps.size;
	d.alock_needed = st->queues > 1;
	ret = ctrl_open_verbose(&ctrl);
	if (ret)
		goto out_dev;

	if (recover) {
		ret = tublk_ctrl_dev_info(&ctrl, st->id, &info);
		if (!ret)
			ret = wait_recoverable(&ctrl, st->id);
		if (ret) {
			fprintf(stderr, "tcmu-ublk: device %u cannot be recovered: %s\n", st->id,
				strerror(-ret));
			goto out_ctrl;
		}
	} else {
		memset(&info, 0, sizeof(info));
		info.nr_hw_queues = (uint16_t)st->queues;
		info.queue_depth = (uint16_t)st->depth;
		info.max_io_buf_bytes = st->max_sectors << 9;
		info.dev_id = st->id;
		info.flags = UBLKA_F_CMD_IOCTL_ENCODE | UBLKA_F_USER_RECOVERY |
			     UBLKA_F_USER_RECOVERY_REISSUE;
		ret = tublk_ctrl_cmd(&ctrl, UBLKA_CMD_ADD_DEV, st->id, &info, sizeof(info), 0);
		if (ret) {
			if (ret == -EEXIST)
				fprintf(stderr, "tcmu-ublk: ublk device %u exists already\n",
					st->id);
			else
				fprintf(stderr, "tcmu-ublk: ADD_DEV: %s\n", strerror(-ret));
			goto out_ctrl;
		}
		added = true;
		st->id = info.dev_id;
		fill_params(&d, st->max_sectors, &params);
		ret = tublk_ctrl_cmd(&ctrl, UBLKA_CMD_SET_PARAMS, st->id, &params, sizeof(params),
				     0);
		if (ret) {
			fprintf(stderr, "tcmu-ublk: SET_PARAMS: %s\n", strerror(-ret));
			goto out_del;
		}
		ret = tublk_state_save(st);
		if (ret) {
			fprintf(stderr, "tcmu-ublk: cannot write %s/%u: %s\n", tublk_rundir(),
				st->id, strerror(-ret));
			goto out_del;
		}
	}

	/* The counters tcmu-stat and tcmu-runner read; they start at zero. */
	tcmur_ublk_metrics_path(st->id, mpath, sizeof(mpath));
	ret = tcmur_mfile_create(&mf, mpath,
				 &(struct tcmur_mfile_info){ .id = st->id,
							     .name = st->name,
							     .subtype = d.h->subtype,
							     .cfgstring = st->cfgstring },
				 info.nr_hw_queues);
	if (ret) {
		fprintf(stderr, "tcmu-ublk: cannot create %s: %s\n", mpath, strerror(-ret));
		goto out_del;
	}
	cdev = open_cdev(st->id);
	if (cdev < 0) {
		ret = -ENODEV;
		goto out_del;
	}
	/* Queue threads and workers inherit a mask without the stop signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	ret = tublk_workers_start(&d);
	if (ret)
		goto out_cdev;
	qs = calloc(info.nr_hw_queues, sizeof(*qs));
	if (!qs) {
		ret = -ENOMEM;
		goto out_workers;
	}
	for (nq = 0; nq < info.nr_hw_queues; nq++) {
		ret = tublk_queue_init(&qs[nq], &d, cdev, (uint16_t)nq, info.queue_depth,
				       info.max_io_buf_bytes);
		if (!ret) {
			qs[nq].m = tcmur_mfile_slot(&mf, nq);
			ret = tublk_queue_start(&qs[nq]);
		}
		if (ret) {
			fprintf(stderr, "tcmu-ublk: queue %u: %s\n", nq, strerror(-ret));
			nq++;
			goto out_queues;
		}
	}
	ret = tublk_ctrl_cmd(&ctrl, recover ? UBLKA_CMD_END_USER_RECOVERY : UBLKA_CMD_START_DEV,
			     st->id, NULL, 0, (uint64_t)getpid());
	if (ret) {
		fprintf(stderr, "tcmu-ublk: %s: %s\n", recover ? "END_USER_RECOVERY" : "START_DEV",
			strerror(-ret));
		goto out_queues;
	}
	tcmu_info("ublk device %u (%s): /dev/ublkb%u, %u queue(s) of %u, %s\n", st->id, st->name,
		  st->id, info.nr_hw_queues, info.queue_depth, recover ? "recovered" : "started");
	report(true, st->id);

	for (;;) {
		struct timespec ts = { .tv_sec = 1 };
		bool gone = false;

		if (sigtimedwait(&sigs, NULL, &ts) > 0)
			break;
		for (i = 0; i < nq; i++)
			gone |= qs[i].dead_tags >= qs[i].depth;
		if (gone)
			break;
	}
	ret = tublk_ctrl_cmd(&ctrl, UBLKA_CMD_STOP_DEV, st->id, NULL, 0, 0);
	if (ret)
		tcmu_err("STOP_DEV: %s\n", strerror(-ret));
	/* Stopping aborts every fetch: the queues end on their own, or are told to. */
	for (i = 0; i < 50; i++) {
		unsigned int j, left = 0;

		for (j = 0; j < nq; j++)
			left += qs[j].dead_tags < qs[j].depth;
		if (!left)
			break;
		usleep(100000);
	}
	ret = 0;
	added = true;
	recover = false;
out_queues:
	for (i = 0; i < nq; i++) {
		tublk_queue_stop(&qs[i]);
		tublk_queue_fini(&qs[i]);
	}
	free(qs);
out_workers:
	tublk_workers_stop(&d);
out_cdev:
	close(cdev);
out_del:
	tcmur_mfile_close(&mf); /* lets go of its lock: readers see no server */
	if (added && !recover) {
		int r2 = tublk_ctrl_cmd(&ctrl, UBLKA_CMD_DEL_DEV, st->id, NULL, 0, 0);

		if (r2 && r2 != -ENODEV)
			fprintf(stderr, "tcmu-ublk: DEL_DEV %u: %s\n", st->id, strerror(-r2));
		tublk_state_remove(st->id);
	}
out_ctrl:
	tublk_ctrl_close(&ctrl);
out_dev:
	tublk_dev_close(&d);
out_handlers:
	tcmur_unload_handlers();
	if (ret)
		report(false, st->id);
	return ret;
}

/*
 * Run serve() in a child (unless foreground) and wait for its verdict on a
 * pipe: 0 once the device is live, 1 if not.
 */
static int serve_detached(struct tublk_state *st, bool recover, bool foreground)
{
	char buf[64] = "";
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (foreground) {
		int ret = serve(st, recover);

		return ret ? 1 : 0;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return 1;
	pid = fork();
	if (pid < 0) {
		perror("tcmu-ublk: fork");
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		report_fd = pfd[1];
		setsid();
		exit(serve(st, recover) ? 1 : 0);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	if (n > 0 && !strncmp(buf, "OK ", 3)) {
		printf("/dev/ublkb%s", buf + 3);
		return 0;
	}
	waitpid(pid, &status, 0);
	return 1;
}

/* ---- add / recover / del / list ---- */

struct find_arg {
	const char *name;
	uint32_t id;
	bool found;
};

static bool device_exists(uint32_t id)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/ublk-char/ublkc%u", id);
	return access(path, F_OK) == 0;
}

static int find_name(const struct tublk_state *s, void *arg)
{
	struct find_arg *a = arg;

	if (strcmp(s->name, a->name))
		return 0;
	if (!device_exists(s->id)) {
		tublk_state_remove(s->id); /* left by a device deleted behind our back */
		return 0;
	}
	a->id = s->id;
	a->found = true;
	return 1;
}

static int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "id", required_argument, NULL, 'i' },
		{ "queues", required_argument, NULL, 'q' },
		{ "depth", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "max-sectors", required_argument, NULL, 'm' },
		{ "handler-path", required_argument, NULL, 'H' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tublk_state st = { .id = UINT32_MAX,
				  .queues = DEF_QUEUES,
				  .depth = DEF_DEPTH,
				  .block_size = 512,
				  .max_sectors = DEF_MAX_SECTORS };
	struct find_arg fa = { 0 };
	bool fg = false;
	int c;

	snprintf(st.handler_path, sizeof(st.handler_path), "%s", TCMU_HANDLER_DIR);
	while ((c = getopt_long(argc, argv, "n:i:q:d:s:b:m:H:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			snprintf(st.name, sizeof(st.name), "%s", optarg);
			break;
		case 'i':
			st.id = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'q':
			st.queues = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			st.depth = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			st.block_size = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			st.max_sectors = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'H':
			snprintf(st.handler_path, sizeof(st.handler_path), "%s", optarg);
			break;
		case 'f':
			fg = true;
			break;
		case 's':
			if (parse_size(optarg, &st.size)) {
				fprintf(stderr, "tcmu-ublk: bad size \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	snprintf(st.cfgstring, sizeof(st.cfgstring), "%s", argv[optind]);
	if (!st.name[0])
		snprintf(st.name, sizeof(st.name), "%s", st.cfgstring);
	if (!st.queues || st.queues > UBLKA_MAX_QUEUES || !st.depth ||
	    st.depth > UBLKA_MAX_QUEUE_DEPTH || st.block_size < 512 || st.block_size > 4096 ||
	    (st.block_size & (st.block_size - 1)) || st.max_sectors < 8 || st.max_sectors > 2048) {
		fprintf(stderr,
			"tcmu-ublk: queues 1..%d, depth 1..%d, block size a power of two "
			"in 512..4096, max sectors 8..2048\n",
			UBLKA_MAX_QUEUES, UBLKA_MAX_QUEUE_DEPTH);
		return 2;
	}
	fa.name = st.name;
	tublk_state_each(find_name, &fa);
	if (fa.found) {
		fprintf(stderr, "tcmu-ublk: a device named \"%s\" exists already: /dev/ublkb%u\n",
			st.name, fa.id);
		return 1;
	}
	return serve_detached(&st, false, fg);
}

static int cmd_recover(int argc, char **argv)
{
	struct tublk_state st;
	bool fg = argc > 2 && (!strcmp(argv[2], "-f") || !strcmp(argv[2], "--foreground"));
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	ret = tublk_state_load((uint32_t)strtoul(argv[1], NULL, 0), &st);
	if (ret) {
		fprintf(stderr, "tcmu-ublk: no record of device %s in %s: %s\n", argv[1],
			tublk_rundir(), strerror(-ret));
		return 1;
	}
	return serve_detached(&st, true, fg);
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static int cmd_del(int argc, char **argv)
{
	struct find_arg fa = { 0 };
	struct ublka_dev_info info;
	struct tublk_ctrl ctrl = { .fd = -1 };
	char *end;
	uint32_t id;
	int ret, i;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	id = (uint32_t)strtoul(argv[1], &end, 10);
	if (*end || end == argv[1]) {
		fa.name = argv[1];
		tublk_state_each(find_name, &fa);
		if (!fa.found) {
			fprintf(stderr, "tcmu-ublk: no device named \"%s\"\n", argv[1]);
			return 1;
		}
		id = fa.id;
	}
	if (ctrl_open_verbose(&ctrl))
		return 1;
	ret = tublk_ctrl_dev_info(&ctrl, id, &info);
	if (ret) {
		fprintf(stderr, "tcmu-ublk: device %u: %s\n", id, strerror(-ret));
		tublk_state_remove(id);
		tublk_ctrl_close(&ctrl);
		return 1;
	}
	if (info.state == UBLKA_S_DEV_LIVE && pid_alive(info.ublksrv_pid)) {
		/* Its server stops and deletes it. */
		kill(info.ublksrv_pid, SIGTERM);
		for (i = 0; i < 300 && !tublk_ctrl_dev_info(&ctrl, id, &info); i++)
			usleep(100000);
		ret = tublk_ctrl_dev_info(&ctrl, id, &info) == -ENODEV ? 0 : -ETIMEDOUT;
	} else {
		/* No server (killed, waiting for recovery): stop and delete here. */
		tublk_ctrl_cmd(&ctrl, UBLKA_CMD_STOP_DEV, id, NULL, 0, 0);
		ret = tublk_ctrl_cmd(&ctrl, UBLKA_CMD_DEL_DEV, id, NULL, 0, 0);
		tublk_state_remove(id);
	}
	tublk_ctrl_close(&ctrl);
	if (ret) {
		fprintf(stderr, "tcmu-ublk: cannot delete device %u: %s\n", id, strerror(-ret));
		return 1;
	}
	return 0;
}

static int list_one(const struct tublk_state *s, void *arg)
{
	struct tublk_ctrl *ctrl = arg;
	struct ublka_dev_info info;
	int ret = tublk_ctrl_dev_info(ctrl, s->id, &info);

	if (ret) {
		tublk_state_remove(s->id);
		return 0;
	}
	printf("%-4u /dev/ublkb%-4u %-9s %2u x %-4u %7d  %s  %s\n", s->id, s->id,
	       tublk_state_name(info.state), info.nr_hw_queues, info.queue_depth, info.ublksrv_pid,
	       s->name, s->cfgstring);
	return 0;
}

static int cmd_list(void)
{
	struct tublk_ctrl ctrl = { .fd = -1 };

	if (ctrl_open_verbose(&ctrl))
		return 1;
	printf("%-4s %-15s %-9s %-9s %7s  %s  %s\n", "id", "device", "state", "queues", "pid",
	       "name", "cfgstring");
	tublk_state_each(list_one, &ctrl);
	tublk_ctrl_close(&ctrl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "add"))
		return cmd_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "recover"))
		return cmd_recover(argc - 1, argv + 1);
	if (!strcmp(argv[1], "del"))
		return cmd_del(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list();
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
