// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * tcmu-stat: list the devices tcmu-runner serves and show their I/O
 * statistics, read from the org.kernel.TCMUService1.Metrics1 DBus interface;
 * and change the medium of a removable-medium device (fbo) through
 * org.kernel.TCMUService1.Admin1.  The devices of tcmu-ublk servers are read
 * from their metrics files (metrics_file.h) as well, so they are shown
 * without tcmu-runner or a system bus too.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>

#include "metrics_file.h"

#define SVC_NAME	"org.kernel.TCMUService1"
#define METRICS_PATH	"/org/kernel/TCMUService1/Metrics1"
#define METRICS_IFACE	SVC_NAME ".Metrics1"
#define ADMIN_PATH	"/org/kernel/TCMUService1/Admin1"
#define ADMIN_IFACE	SVC_NAME ".Admin1"
#define NR_DIRS		3
#define MAX_BUCKETS	64
#define CALL_TIMEOUT_MS 10000

enum { DIR_READ, DIR_WRITE, DIR_OTHER };
static const char *const dir_names[NR_DIRS] = { "read", "write", "other" };

struct sample {
	char *name;
	char *uio;
	char *handler;
	char *cfgstring;
	char *state;
	uint64_t cmds[NR_DIRS];
	uint64_t bytes[NR_DIRS];
	uint64_t buckets[MAX_BUCKETS];
	size_t nr_buckets;
	uint64_t lat_total_ns;
	uint32_t in_flight;
	uint64_t errors, timeouts, aborts, lock_lost, conn_lost, recoveries;
};

struct snapshot {
	struct sample *s;
	size_t n;
	double when; /* CLOCK_MONOTONIC seconds */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: tcmu-stat [OPTIONS] [DEVICE...]\n"
		   "       tcmu-stat --eject DEVICE\n"
		   "       tcmu-stat --load MEDIUM DEVICE\n"
		   "Show the devices served by tcmu-runner and tcmu-ublk and their I/O\n"
		   "statistics, or change the medium of a removable-medium device (handler\n"
		   "fbo).\n\n"
		   "  -l, --list          list devices (name, uio, handler, state, cfgstring)\n"
		   "  -i, --interval SEC  report rates every SEC seconds (default: one report\n"
		   "                      of the totals since each device was opened)\n"
		   "  -c, --count N       stop after N interval reports\n"
		   "  -p, --parsable      print key=value pairs, one device per line\n"
		   "  -e, --eject         eject DEVICE's medium\n"
		   "  -L, --load MEDIUM   load MEDIUM in DEVICE: the handler's part of a\n"
		   "                      cfgstring, for fbo [ro/]<absolute path>\n"
		   "  -h, --help          show this help\n"
		   "  -V, --version       show the version\n");
}

static void snapshot_free(struct snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->n; i++) {
		g_free(snap->s[i].name);
		g_free(snap->s[i].uio);
		g_free(snap->s[i].handler);
		g_free(snap->s[i].cfgstring);
		g_free(snap->s[i].state);
	}
	g_free(snap->s);
	snap->s = NULL;
	snap->n = 0;
}

static uint64_t dict_u64(GVariant *d, const char *key)
{
	guint64 v = 0;

	g_variant_lookup(d, key, "t", &v);
	return v;
}

static char *dict_str(GVariant *d, const char *key)
{
	char *v = NULL;

	if (!g_variant_lookup(d, key, "s", &v))
		v = g_strdup("");
	return v;
}

static void parse_sample(const char *name, GVariant *d, struct sample *s)
{
	GVariant *b;
	char key[32];
	guint32 u = 0;
	int i;

	memset(s, 0, sizeof(*s));
	s->name = g_strdup(name);
	s->uio = dict_str(d, "uio");
	s->handler = dict_str(d, "handler");
	s->cfgstring = dict_str(d, "cfgstring");
	s->state = dict_str(d, "state");
	for (i = 0; i < NR_DIRS; i++) {
		snprintf(key, sizeof(key), "%s_cmds", dir_names[i]);
		s->cmds[i] = dict_u64(d, key);
		snprintf(key, sizeof(key), "%s_bytes", dir_names[i]);
		s->bytes[i] = dict_u64(d, key);
	}
	b = g_variant_lookup_value(d, "latency_buckets", G_VARIANT_TYPE("at"));
	if (b) {
		gsize n;
		const guint64 *v = g_variant_get_fixed_array(b, &n, sizeof(guint64));

		s->nr_buckets = n < MAX_BUCKETS ? n : MAX_BUCKETS;
		memcpy(s->buckets, v, s->nr_buckets * sizeof(uint64_t));
		g_variant_unref(b);
	}
	s->lat_total_ns = dict_u64(d, "latency_total_ns");
	if (g_variant_lookup(d, "in_flight", "u", &u))
		s->in_flight = u;
	s->errors = dict_u64(d, "errors");
	s->timeouts = dict_u64(d, "timeouts");
	s->aborts = dict_u64(d, "aborts");
	s->lock_lost = dict_u64(d, "lock_lost");
	s->conn_lost = dict_u64(d, "conn_lost");
	s->recoveries = dict_u64(d, "recoveries");
}

static int cmp_sample(const void *a, const void *b)
{
	return strcmp(((const struct sample *)a)->name, ((const struct sample *)b)->name);
}

static bool wanted(const char *name, char **devs, int nr_devs)
{
	int i;

	if (!nr_devs)
		return true;
	for (i = 0; i < nr_devs; i++)
		if (!strcmp(devs[i], name))
			return true;
	return false;
}

/* Why a call failed, to be freed; frees err. */
static char *call_failure(const char *method, GError *err)
{
	char *why;

	if (g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
		why = g_strdup_printf("tcmu-runner is not running (%s is not on the system bus)",
				      SVC_NAME);
	else
		why = g_strdup_printf("%s: %s", method, err->message);
	g_error_free(err);
	return why;
}

/* A failed call: say why, and free err. */
static void call_failed(const char *method, GError *err)
{
	char *why = call_failure(method, err);

	fprintf(stderr, "tcmu-stat: %s\n", why);
	g_free(why);
}

/* --eject (medium NULL) / --load: 0, or 1 when the daemon refused. */
static int change_medium(GDBusConnection *conn, const char *dev, const char *medium)
{
	const char *method = medium ? "LoadMedium" : "EjectMedium";
	GError *err = NULL;
	GVariant *ret;
	gboolean ok;
	const char *msg;
	int rc;

	ret = g_dbus_connection_call_sync(
		conn, SVC_NAME, ADMIN_PATH, ADMIN_IFACE, method,
		medium ? g_variant_new("(ss)", dev, medium) : g_variant_new("(s)", dev),
		G_VARIANT_TYPE("(bs)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &err);
	if (!ret) {
		call_failed(method, err);
		return 1;
	}
	g_variant_get(ret, "(b&s)", &ok, &msg);
	if (ok)
		printf("%s: %s\n", dev, msg);
	else
		fprintf(stderr, "tcmu-stat: %s: %s\n", dev, msg);
	rc = ok ? 0 : 1;
	g_variant_unref(ret);
	return rc;
}

/* Metrics1.GetAllMetrics into snap; NULL, or why not (to be freed). */
static char *fetch_dbus(GDBusConnection *conn, char **devs, int nr_devs, struct snapshot *snap)
{
	GError *err = NULL;
	GVariant *ret, *all, *d;
	GVariantIter it;
	const char *name;
	size_t n;

	ret = g_dbus_connection_call_sync(conn, SVC_NAME, METRICS_PATH, METRICS_IFACE,
					  "GetAllMetrics", NULL, G_VARIANT_TYPE("(a{sa{sv}})"),
					  G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &err);
	if (!ret)
		return call_failure("GetAllMetrics", err);
	all = g_variant_get_child_value(ret, 0);
	n = g_variant_n_children(all);
	snap->s = g_renew(struct sample, snap->s, snap->n + n + 1);
	g_variant_iter_init(&it, all);
	while (g_variant_iter_next(&it, "{&s@a{sv}}", &name, &d)) {
		if (wanted(name, devs, nr_devs))
			parse_sample(name, d, &snap->s[snap->n++]);
		g_variant_unref(d);
	}
	g_variant_unref(all);
	g_variant_unref(ret);
	return NULL;
}

static const struct sample *find(const struct snapshot *snap, const char *name);

struct ublk_walk {
	struct snapshot *snap;
	char **devs;
	int nr_devs;
	size_t seen; /* ublk devices, wanted or not */
};

/* A tcmu-ublk device from its metrics file, unless tcmu-runner listed it. */
static int ublk_sample(const struct tcmur_mfile_sample *f, void *arg)
{
	struct ublk_walk *w = arg;
	struct sample *s;

	w->seen++;
	if (!wanted(f->dev, w->devs, w->nr_devs) || find(w->snap, f->dev))
		return 0;
	w->snap->s = g_renew(struct sample, w->snap->s, w->snap->n + 1);
	s = &w->snap->s[w->snap->n++];
	memset(s, 0, sizeof(*s));
	s->name = g_strdup(f->dev);
	s->uio = g_strdup("-");
	s->handler = g_strdup(f->subtype);
	s->cfgstring = g_strdup(f->cfgstring);
	s->state = g_strdup(f->live ? "open" : "no-server");
	memcpy(s->cmds, f->m.cmds, sizeof(s->cmds));
	memcpy(s->bytes, f->m.bytes, sizeof(s->bytes));
	s->nr_buckets = TCMUR_METRICS_LAT_BUCKETS;
	memcpy(s->buckets, f->m.lat_buckets, sizeof(f->m.lat_buckets));
	s->lat_total_ns = f->m.lat_total_ns;
	s->in_flight = f->m.in_flight;
	s->errors = f->m.errors;
	s->timeouts = f->m.timeouts;
	s->aborts = f->m.aborts;
	s->lock_lost = f->m.lock_lost;
	s->conn_lost = f->m.conn_lost;
	s->recoveries = f->m.recoveries;
	return 0;
}

/*
 * tcmu-runner's devices over DBus (conn NULL: no bus, bus_err says why) and
 * tcmu-ublk's from their files.  Without tcmu-runner, the ublk devices alone
 * (and a note, the first time); with neither, an error.
 */
static int fetch(GDBusConnection *conn, const char *bus_err, char **devs, int nr_devs,
		 struct snapshot *snap)
{
	static bool noted;
	struct ublk_walk w = { snap, devs, nr_devs, 0 };
	char *why;
	int ret;

	snap->n = 0;
	snap->s = NULL;
	snap->when = now();
	why = conn ? fetch_dbus(conn, devs, nr_devs, snap)
		   : g_strdup_printf("cannot connect to the system bus: %s", bus_err);
	ret = tcmur_ublk_metrics_each(ublk_sample, &w);
	if (ret)
		fprintf(stderr, "tcmu-stat: %s: %s\n", tcmur_ublk_rundir(), strerror(-ret));
	if (why && !w.seen) {
		fprintf(stderr, "tcmu-stat: %s\n", why);
		g_free(why);
		snapshot_free(snap);
		return -EIO;
	}
	if (why && !noted)
		fprintf(stderr, "tcmu-stat: %s; showing the tcmu-ublk devices only\n", why);
	noted |= why != NULL;
	g_free(why);
	if (!snap->s)
		snap->s = g_new0(struct sample, 1);
	qsort(snap->s, snap->n, sizeof(*snap->s), cmp_sample);
	return 0;
}

static const struct sample *find(const struct snapshot *snap, const char *name)
{
	size_t i;

	for (i = 0; snap && i < snap->n; i++)
		if (!strcmp(snap->s[i].name, name))
			return &snap->s[i];
	return NULL;
}

/* Compact duration: "850us", "12ms", "3.2s". */
static void fmt_us(char *buf, size_t len, double us)
{
	if (us < 1000)
		snprintf(buf, len, "%.0fus", us);
	else if (us < 1000000)
		snprintf(buf, len, "%.1fms", us / 1000);
	else
		snprintf(buf, len, "%.1fs", us / 1000000);
}

/* Upper bound of the bucket holding the q-quantile of the deltas. */
static void fmt_quantile(char *buf, size_t len, const uint64_t *b, size_t n, double q)
{
	uint64_t total = 0, acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += b[i];
	if (!total) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i < n; i++) {
		acc += b[i];
		if (acc >= q * total)
			break;
	}
	if (i >= n - 1) {
		buf[0] = '>';
		fmt_us(buf + 1, len - 1, (double)(1ull << (n - 1)));
		return;
	}
	buf[0] = '<';
	fmt_us(buf + 1, len - 1, (double)(2ull << i));
}

static void print_list(const struct snapshot *snap)
{
	size_t i;

	printf("%-16s %-8s %-8s %-12s %s\n", "DEVICE", "UIO", "HANDLER", "STATE", "CFGSTRING");
	for (i = 0; i < snap->n; i++)
		printf("%-16s %-8s %-8s %-12s %s\n", snap->s[i].name, snap->s[i].uio,
		       snap->s[i].handler, snap->s[i].state, snap->s[i].cfgstring);
}

static void print_parsable(const struct snapshot *snap)
{
	const struct sample *s;
	size_t i, j;
	int d;

	for (i = 0; i < snap->n; i++) {
		s = &snap->s[i];
		printf("device=%s uio=%s handler=%s state=%s", s->name, s->uio, s->handler,
		       s->state);
		for (d = 0; d < NR_DIRS; d++)
			printf(" %s_cmds=%" PRIu64 " %s_bytes=%" PRIu64, dir_names[d], s->cmds[d],
			       dir_names[d], s->bytes[d]);
		printf(" in_flight=%" PRIu32 " latency_total_ns=%" PRIu64 " errors=%" PRIu64
		       " timeouts=%" PRIu64 " aborts=%" PRIu64 " lock_lost=%" PRIu64
		       " conn_lost=%" PRIu64 " recoveries=%" PRIu64 " latency_buckets=",
		       s->in_flight, s->lat_total_ns, s->errors, s->timeouts, s->aborts,
		       s->lock_lost, s->conn_lost, s->recoveries);
		for (j = 0; j < s->nr_buckets; j++)
			printf("%s%" PRIu64, j ? "," : "", s->buckets[j]);
		printf("\n");
	}
}

/*
 * One table.  Without prev: totals since open.  With prev: rates over the
 * interval (per second) and latency of the commands finished in it.
 */
static void print_stats(const struct snapshot *cur, const struct snapshot *prev)
{
	double secs = prev ? cur->when - prev->when : 1;
	size_t i, j;

	if (secs <= 0)
		secs = 1;
	if (prev)
		printf("%-16s %-8s %-10s %9s %9s %9s %9s %9s %6s %8s %8s %6s %6s %6s\n", "DEVICE",
		       "HANDLER", "STATE", "r/s", "w/s", "o/s", "rMiB/s", "wMiB/s", "INFLT",
		       "AVG_LAT", "P99_LAT", "ERR", "TMO", "ABRT");
	else
		printf("%-16s %-8s %-10s %9s %9s %9s %9s %9s %6s %8s %8s %6s %6s %6s\n", "DEVICE",
		       "HANDLER", "STATE", "READS", "WRITES", "OTHER", "READ_MiB", "WRITE_MiB",
		       "INFLT", "AVG_LAT", "P99_LAT", "ERR", "TMO", "ABRT");

	for (i = 0; i < cur->n; i++) {
		const struct sample *s = &cur->s[i];
		const struct sample *p = find(prev, s->name);
		uint64_t cmds[NR_DIRS], bytes[NR_DIRS], buckets[MAX_BUCKETS];
		uint64_t all = 0, lat, err, tmo, abrt;
		char avg[16], p99[16];
		int d;

		for (d = 0; d < NR_DIRS; d++) {
			cmds[d] = s->cmds[d] - (p ? p->cmds[d] : 0);
			bytes[d] = s->bytes[d] - (p ? p->bytes[d] : 0);
			all += cmds[d];
		}
		for (j = 0; j < s->nr_buckets; j++)
			buckets[j] = s->buckets[j] - (p && j < p->nr_buckets ? p->buckets[j] : 0);
		lat = s->lat_total_ns - (p ? p->lat_total_ns : 0);
		err = s->errors - (p ? p->errors : 0);
		tmo = s->timeouts - (p ? p->timeouts : 0);
		abrt = s->aborts - (p ? p->aborts : 0);

		if (all)
			fmt_us(avg, sizeof(avg), (double)lat / all / 1000);
		else
			snprintf(avg, sizeof(avg), "-");
		fmt_quantile(p99, sizeof(p99), buckets, s->nr_buckets, 0.99);

		if (prev)
			printf("%-16s %-8s %-10s %9.1f %9.1f %9.1f %9.2f %9.2f %6" PRIu32
			       " %8s %8s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 "\n",
			       s->name, s->handler, s->state, cmds[0] / secs, cmds[1] / secs,
			       cmds[2] / secs, bytes[0] / secs / 1048576.0,
			       bytes[1] / secs / 1048576.0, s->in_flight, avg, p99, err, tmo, abrt);
		else
			printf("%-16s %-8s %-10s %9" PRIu64 " %9" PRIu64 " %9" PRIu64
			       " %9.1f %9.1f %6" PRIu32 " %8s %8s %6" PRIu64 " %6" PRIu64
			       " %6" PRIu64 "\n",
			       s->name, s->handler, s->state, cmds[0], cmds[1], cmds[2],
			       bytes[0] / 1048576.0, bytes[1] / 1048576.0, s->in_flight, avg, p99,
			       err, tmo, abrt);
	}
	if (!cur->n)
		printf("(no devices)\n");
	fflush(stdout);
}

/* Sleep up to secs, waking early on SIGINT/SIGTERM. */
static void nap(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs };

	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
	while (!stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "parsable", no_argument, NULL, 'p' },
		{ "eject", no_argument, NULL, 'e' },
		{ "load", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot cur = { 0 }, prev = { 0 };
	bool list = false, parsable = false, eject = false;
	const char *load = NULL;
	double interval = 0;
	long count = -1, done = 0;
	GDBusConnection *conn;
	GError *err = NULL;
	char *bus_err = NULL;
	char *end;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "li:c:peL:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			eject = true;
			break;
		case 'L':
			load = optarg;
			break;
		case 'l':
			list = true;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || interval <= 0 || interval > 86400) {
				fprintf(stderr, "tcmu-stat: bad interval '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || count <= 0) {
				fprintf(stderr, "tcmu-stat: bad count '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			parsable = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tcmu-stat %s\n", TCMU_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	if ((eject || load) && (eject == !!load || optind != argc - 1 || list || interval)) {
		fprintf(stderr, "tcmu-stat: --eject or --load MEDIUM, and one DEVICE\n");
		return 2;
	}
	conn = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (!conn) {
		bus_err = g_strdup(err->message);
		g_error_free(err);
	}
	if (!conn && (eject || load)) {
		fprintf(stderr, "tcmu-stat: cannot connect to the system bus: %s\n", bus_err);
		g_free(bus_err);
		return 1;
	}
	if (eject || load) {
		ret = change_medium(conn, argv[optind], load);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (fetch(conn, bus_err, argv + optind, argc - optind, &cur))
		goto out;
	if (list) {
		print_list(&cur);
		ret = 0;
		goto out;
	}
	if (parsable && !interval) {
		print_parsable(&cur);
		ret = 0;
		goto out;
	}
	if (!interval) {
		print_stats(&cur, NULL);
		ret = 0;
		goto out;
	}

	/* Interval mode: every report covers the last interval. */
	while (!stop && (count < 0 || done < count)) {
		snapshot_free(&prev);
		prev = cur;
		memset(&cur, 0, sizeof(cur));
		nap(interval);
		if (stop)
			break;
		if (fetch(conn, bus_err, argv + optind, argc - optind, &cur))
			goto out;
		if (parsable)
			print_parsable(&cur);
		else
			print_stats(&cur, &prev);
		if (!parsable)
			printf("\n");
		done++;
	}
	ret = 0;
out:
	snapshot_free(&cur);
	snapshot_free(&prev);
	if (conn)
		g_object_unref(conn);
	g_free(bus_err);
	return ret;
}
