// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * stampio: a stamped writer and its verifier, for failover tests.
 *
 *   stampio write  DEV ACKLOG [-b BLOCKS] [-o FIRST] [-n]
 *   stampio verify DEV ACKLOG
 *
 * write: 4 KiB writes, one at a time, O_DIRECT|O_DSYNC (-n: buffered,
 * O_DSYNC only, for filesystems without O_DIRECT), cycling over BLOCKS
 * blocks (default 1024) from block FIRST (default 0).  Write number seq
 * (1, 2, ...) goes to block FIRST + (seq - 1) % BLOCKS and fills it with a
 * pattern derived from (run, seq, block).  Each acknowledged write appends
 * "ack SEQ BLOCK END_NS LAT_NS" to ACKLOG (CLOCK_MONOTONIC), each failed one
 * "err SEQ BLOCK ERRNO"; the first line is "run RUN BLOCKS FIRST".  Runs
 * until SIGTERM or SIGINT, then prints a summary: writes, errors, the
 * longest write and the longest gap between two acknowledgements (the stall
 * of a failover).
 *
 * verify: every block that has an acknowledged write must hold a complete
 * stamp of this run and block whose seq is at least the last acknowledged
 * one (a later write that failed or was cut off may have landed; an older
 * one means an acknowledged write was lost or overwritten by stale data).
 * Exit 0 when all hold, 1 with a line per bad block otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BS	4096
#define MAGIC	0x31504d5453574704ULL /* arbitrary */
#define MAX_BAD 20
#define WORDS	(BS / 8)

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* splitmix64: the fill pattern. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Block contents: magic, run, seq, block, then the pattern. */
static void fill(uint64_t *w, uint64_t run, uint64_t seq, uint64_t block)
{
	uint64_t s = mix(run ^ mix(seq ^ mix(block)));
	int i;

	w[0] = MAGIC;
	w[1] = run;
	w[2] = seq;
	w[3] = block;
	for (i = 4; i < WORDS; i++) {
		s = mix(s);
		w[i] = s;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: stampio write DEV ACKLOG [-b BLOCKS] [-o FIRST] [-n]\n"
			"       stampio verify DEV ACKLOG\n");
	return 2;
}

static int do_write(const char *dev, const char *ackpath, uint64_t blocks, uint64_t first,
		    bool direct)
{
	uint64_t seq, run, t0, t1, lat, last_ack = 0, max_lat = 0, max_gap = 0, gap_end = 0;
	uint64_t max_lat_seq = 0, acks = 0, errs = 0;
	struct sigaction sa = { .sa_handler = on_stop };
	void *buf;
	FILE *ack;
	int fd;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (posix_memalign(&buf, BS, BS))
		return 1;
	fd = open(dev, O_WRONLY | O_DSYNC | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		fprintf(stderr, "stampio: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	ack = fopen(ackpath, "w");
	if (!ack) {
		fprintf(stderr, "stampio: open %s: %s\n", ackpath, strerror(errno));
		return 1;
	}
	setvbuf(ack, NULL, _IOLBF, 0);
	run = mix(now_ns() ^ (uint64_t)getpid()) >> 1;
	fprintf(ack, "run %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", run, blocks, first);
	for (seq = 1; !stop; seq++) {
		uint64_t block = first + (seq - 1) % blocks;

		fill(buf, run, seq, block);
		t0 = now_ns();
		if (pwrite(fd, buf, BS, (off_t)(block * BS)) != BS) {
			int err = errno ? errno : EIO;

			fprintf(ack, "err %" PRIu64 " %" PRIu64 " %d\n", seq, block, err);
			errs++;
			continue;
		}
		t1 = now_ns();
		lat = t1 - t0;
		fprintf(ack, "ack %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", seq, block,
			t1, lat);
		acks++;
		if (lat > max_lat) {
			max_lat = lat;
			max_lat_seq = seq;
		}
		if (last_ack && t1 - last_ack > max_gap) {
			max_gap = t1 - last_ack;
			gap_end = seq;
		}
		last_ack = t1;
	}
	fclose(ack);
	close(fd);
	free(buf);
	printf("stampio write: writes=%" PRIu64 " errors=%" PRIu64
	       " max_write_ms=%.1f (seq %" PRIu64 ") max_gap_ms=%.1f (before seq %" PRIu64 ")\n",
	       acks, errs, (double)max_lat / 1e6, max_lat_seq, (double)max_gap / 1e6, gap_end);
	return errs ? 3 : 0;
}

struct expect {
	uint64_t acked; /* highest acknowledged seq, 0: none */
};

static int do_verify(const char *dev, const char *ackpath)
{
	uint64_t run, blocks, first, seq, block, max_seq = 0, checked = 0, bad = 0, b;
	struct expect *exp;
	uint64_t *want, *got;
	char line[256];
	FILE *ack;
	int fd;

	ack = fopen(ackpath, "r");
	if (!ack || !fgets(line, sizeof(line), ack) ||
	    sscanf(line, "run %" SCNu64 " %" SCNu64 " %" SCNu64, &run, &blocks, &first) != 3 ||
	    !blocks) {
		fprintf(stderr, "stampio: %s is not an ack log\n", ackpath);
		return 2;
	}
	exp = calloc(blocks, sizeof(*exp));
	if (!exp || posix_memalign((void **)&want, BS, BS) || posix_memalign((void **)&got, BS, BS))
		return 2;
	while (fgets(line, sizeof(line), ack)) {
		if (sscanf(line, "ack %" SCNu64 " %" SCNu64, &seq, &block) == 2) {
			if (block < first || block - first >= blocks) {
				fprintf(stderr, "stampio: bad ack line: %s", line);
				return 2;
			}
			if (seq > exp[block - first].acked)
				exp[block - first].acked = seq;
		} else if (sscanf(line, "err %" SCNu64, &seq) != 1) {
			continue; /* a line cut by a kill */
		}
		if (seq > max_seq)
			max_seq = seq;
	}
	fclose(ack);
	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0)
		fd = open(dev, O_RDONLY); /* tmpfs and the like: the self-test */
	if (fd < 0) {
		fprintf(stderr, "stampio: open %s: %s\n", dev, strerror(errno));
		return 2;
	}
	for (b = 0; b < blocks; b++) {
		uint64_t a = exp[b].acked;
		const char *why = NULL;

		if (!a)
			continue;
		block = first + b;
		if (pread(fd, got, BS, (off_t)(block * BS)) != BS) {
			fprintf(stderr, "stampio: read block %" PRIu64 ": %s\n", block,
				strerror(errno));
			return 2;
		}
		checked++;
		seq = got[2];
		if (got[0] != MAGIC || got[1] != run || got[3] != block)
			why = "no stamp of this run and block";
		else if (seq < a)
			why = "older than the last acknowledged write (lost or stale)";
		else if (seq > max_seq + 1 || (seq - 1) % blocks != b)
			why = "a seq that was never written here";
		if (!why) {
			fill(want, run, seq, block);
			if (memcmp(want, got, BS))
				why = "torn or corrupt contents";
		}
		if (why) {
			if (bad++ < MAX_BAD)
				printf("BAD block %" PRIu64 ": acked seq %" PRIu64
				       ", found %" PRIu64 ": %s\n",
				       block, a, got[0] == MAGIC ? seq : 0, why);
		}
	}
	close(fd);
	printf("stampio verify: %" PRIu64 " blocks with acknowledged writes checked, %" PRIu64
	       " bad, last seq %" PRIu64 "\n",
	       checked, bad, max_seq);
	free(exp);
	free(want);
	free(got);
	return bad || !checked ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t blocks = 1024, first = 0;
	bool direct = true;
	int c;

	if (argc < 4)
		return usage();
	optind = 4;
	while ((c = getopt(argc, argv, "b:o:n")) != -1) {
		switch (c) {
		case 'b':
			blocks = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			first = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			direct = false;
			break;
		default:
			return usage();
		}
	}
	if (!blocks)
		return usage();
	if (!strcmp(argv[1], "write"))
		return do_write(argv[2], argv[3], blocks, first, direct);
	if (!strcmp(argv[1], "verify"))
		return do_verify(argv[2], argv[3]);
	return usage();
}
