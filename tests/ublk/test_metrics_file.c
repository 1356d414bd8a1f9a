// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The shared metrics file of a tcmu-ublk device (daemon/metrics_file.c), no
 * kernel needed: per-queue slots written with the daemon's counter
 * functions, read back summed; a live server (held lock) told from a dead
 * one; garbage, short and foreign files refused; the run folder walk.
 *
 *   test_metrics_file            the checks (a fresh folder in /tmp)
 *   test_metrics_file --hold ID  create $TCMU_UBLK_RUNDIR/ID.metrics with
 *                                known counts, print "ready", hold it until
 *                                stdin closes (for the DBus client tests):
 *                                100 reads of 4 KiB at 50 us, 20 writes of
 *                                8 KiB at 100 us, 1 failed flush, 2 in flight
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "libtcmu_common.h"
#include "metrics_file.h"

static void fill_known(struct tcmur_mfile *mf)
{
	struct tcmur_metrics *q0 = tcmur_mfile_slot(mf, 0), *q1 = tcmur_mfile_slot(mf, 1);
	int i;

	for (i = 0; i < 100; i++)
		tcmur_metrics_complete(q0, TCMUR_METRICS_READ, 4096, 50000, TCMU_STS_OK);
	for (i = 0; i < 20; i++)
		tcmur_metrics_complete(q1, TCMUR_METRICS_WRITE, 8192, 100000, TCMU_STS_OK);
	tcmur_metrics_complete(q1, TCMUR_METRICS_OTHER, 0, 1000, TCMU_STS_RD_ERR);
	tcmur_metrics_set_inflight(q0, 1);
	tcmur_metrics_set_inflight(q1, 1);
}

static int hold(const char *id_arg)
{
	struct tcmur_mfile mf;
	uint32_t id = (uint32_t)strtoul(id_arg, NULL, 10);
	char path[4200], buf[64];
	int ret;

	tcmur_ublk_metrics_path(id, path, sizeof(path));
	ret = tcmur_mfile_create(&mf, path,
				 &(struct tcmur_mfile_info){ .id = id,
							     .name = "held",
							     .subtype = "file",
							     .cfgstring = "file//tmp/held.img" },
				 2);
	if (ret) {
		fprintf(stderr, "cannot create %s: %s\n", path, strerror(-ret));
		return 1;
	}
	fill_known(&mf);
	printf("ready\n");
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	tcmur_mfile_close(&mf);
	unlink(path);
	return 0;
}

static int count_each(const struct tcmur_mfile_sample *s, void *arg)
{
	int *n = arg;

	CHECK(s->live, "each reports %s, which is dead", s->dev);
	(*n)++;
	return 0;
}

static int stop_each(const struct tcmur_mfile_sample *s, void *arg)
{
	(void)s;
	(void)arg;
	return 42;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/tcmu-mfile-XXXXXX", path[4200], want[4300], junk[16384];
	struct tcmur_mfile mf, dead;
	struct tcmur_mfile_sample *s;
	struct tcmur_metrics *q0, *q1, *q2;
	struct tcmur_dev_metrics a = { 0 }, b = { 0 };
	uint64_t buckets = 0;
	int n = 0, i;

	if (argc == 3 && !strcmp(argv[1], "--hold"))
		return hold(argv[2]);
	REQUIRE(mkdtemp(dir));
	setenv("TCMU_UBLK_RUNDIR", dir, 1);
	s = calloc(1, sizeof(*s));
	REQUIRE(s);

	STEP("the run folder and file names");
	CHECK(!strcmp(tcmur_ublk_rundir(), dir));
	tcmur_ublk_metrics_path(5, path, sizeof(path));
	snprintf(want, sizeof(want), "%s/5.metrics", dir);
	CHECK(!strcmp(path, want), "%s", path);
	CHECK(tcmur_ublk_metrics_each(count_each, &n) == 0 && n == 0, "empty folder");

	STEP("tcmur_metrics_sum adds every counter");
	a.cmds[0] = 1, a.lat_buckets[3] = 2, a.in_flight = 3, a.recoveries = 4;
	b.cmds[0] = 10, b.lat_buckets[3] = 20, b.in_flight = 30, b.errors = 5;
	tcmur_metrics_sum(&a, &b);
	CHECK(a.cmds[0] == 11 && a.lat_buckets[3] == 22 && a.in_flight == 33 && a.errors == 5 &&
	      a.recoveries == 4);

	STEP("a server's file: one slot per queue, apart");
	CHECK(tcmur_mfile_create(&mf, path, &(struct tcmur_mfile_info){ .id = 5 }, 0) == -EINVAL);
	REQUIRE(tcmur_mfile_create(
			&mf, path,
			&(struct tcmur_mfile_info){ .id = 5,
						    .name = "disk5",
						    .subtype = "file",
						    .cfgstring = "file//var/lib/d5.img" },
			3) == 0);
	q0 = tcmur_mfile_slot(&mf, 0);
	q1 = tcmur_mfile_slot(&mf, 1);
	q2 = tcmur_mfile_slot(&mf, 2);
	REQUIRE(q0 && q1 && q2);
	CHECK(!tcmur_mfile_slot(&mf, 3), "no slot past the queues");
	CHECK((char *)q1 - (char *)q0 >= (long)sizeof(*q0) && ((uintptr_t)q1 % 64) == 0,
	      "slots on their own cache lines");
	CHECK(q0->cmds[0] == 0 && q2->errors == 0, "a new file counts from zero");

	STEP("the reader adds the queues up");
	fill_known(&mf);
	tcmur_metrics_complete(q2, TCMUR_METRICS_READ, 512, 3000, TCMU_STS_OK);
	REQUIRE(tcmur_mfile_read(path, s) == 0);
	CHECK(s->live, "held by its server");
	CHECK(s->id == 5 && !strcmp(s->dev, "ublkb5") && !strcmp(s->name, "disk5") &&
	      !strcmp(s->subtype, "file") && !strcmp(s->cfgstring, "file//var/lib/d5.img"));
	CHECK_EQ(s->m.cmds[TCMUR_METRICS_READ], 101);
	CHECK_EQ(s->m.cmds[TCMUR_METRICS_WRITE], 20);
	CHECK_EQ(s->m.cmds[TCMUR_METRICS_OTHER], 1);
	CHECK_EQ(s->m.bytes[TCMUR_METRICS_READ], 100 * 4096 + 512);
	CHECK_EQ(s->m.bytes[TCMUR_METRICS_WRITE], 20 * 8192);
	CHECK_EQ(s->m.errors, 1);
	CHECK_EQ(s->m.in_flight, 2);
	CHECK_EQ(s->m.lat_total_ns, 100 * 50000ull + 20 * 100000ull + 1000 + 3000);
	for (i = 0; i < TCMUR_METRICS_LAT_BUCKETS; i++)
		buckets += s->m.lat_buckets[i];
	CHECK_EQ(buckets, 122);
	CHECK_EQ(s->m.lat_buckets[5], 100); /* 50 us: [32, 64) */
	CHECK_EQ(s->m.lat_buckets[6], 20);  /* 100 us: [64, 128) */

	STEP("the walk finds it; fn's answer stops it");
	n = 0;
	CHECK(tcmur_ublk_metrics_each(count_each, &n) == 0 && n == 1, "%d device(s)", n);
	CHECK(tcmur_ublk_metrics_each(stop_each, NULL) == 42);

	STEP("a dead server's file: readable, not live, skipped when the device is gone");
	tcmur_ublk_metrics_path(9, path, sizeof(path));
	REQUIRE(tcmur_mfile_create(&dead, path,
				   &(struct tcmur_mfile_info){ .id = 9, .subtype = "file" },
				   1) == 0);
	tcmur_metrics_complete(tcmur_mfile_slot(&dead, 0), TCMUR_METRICS_WRITE, 4096, 1000,
			       TCMU_STS_OK);
	tcmur_mfile_close(&dead);
	REQUIRE(tcmur_mfile_read(path, s) == 0);
	CHECK(!s->live, "nobody holds it");
	CHECK_EQ(s->m.cmds[TCMUR_METRICS_WRITE], 1);
	if (access("/sys/class/ublk-char/ublkc9", F_OK) != 0) {
		n = 0;
		CHECK(tcmur_ublk_metrics_each(count_each, &n) == 0 && n == 1,
		      "the dead device 9 is skipped: %d device(s)", n);
	}

	STEP("foreign, short and garbage files are refused");
	memset(junk, 0x5a, sizeof(junk));
	snprintf(path, sizeof(path), "%s/11.metrics", dir);
	write_file(path, junk, sizeof(junk));
	CHECK(tcmur_mfile_read(path, s) == -EINVAL, "garbage");
	write_file(path, junk, 100);
	CHECK(tcmur_mfile_read(path, s) == -EINVAL, "short");
	snprintf(path, sizeof(path), "%s/12.metrics", dir);
	CHECK(tcmur_mfile_read(path, s) == -ENOENT, "missing");
	snprintf(path, sizeof(path), "%s/notanid.metrics", dir);
	write_file(path, junk, 10);
	n = 0;
	CHECK(tcmur_ublk_metrics_each(count_each, &n) == 0 && n == 1, "%d device(s)", n);

	STEP("a new server (recover) replaces the file: counts from zero");
	tcmur_ublk_metrics_path(5, path, sizeof(path));
	REQUIRE(tcmur_mfile_create(&dead, path, &(struct tcmur_mfile_info){ .id = 5 }, 1) == 0);
	REQUIRE(tcmur_mfile_read(path, s) == 0);
	CHECK(s->live && s->m.cmds[TCMUR_METRICS_READ] == 0);
	tcmur_mfile_close(&dead);
	tcmur_mfile_close(&mf);

	free(s);
	snprintf(want, sizeof(want), "rm -rf '%s'", dir);
	CHECK(system(want) == 0);
	return check_exit();
}
