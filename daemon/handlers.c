// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Handler plugins: dlopen() of handler_*.so, registration with ABI checks
 * (struct size, API major, duplicate subtypes, required callouts), the
 * registry the daemon and DBus read, and --dump-handler.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "daemon.h"
#include "dbus.h"

/* Guards handlers and externals; the DBus thread reads both. */
static pthread_mutex_t handlers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tcmur_handler_rec *handlers;
/* Registrations whose init() runs: their subtypes are taken already. */
static struct tcmur_handler_rec *reserving;
static struct tcmulib_handler *published;
static size_t n_published;

struct external {
	char *subtype;
	struct external *next;
};
static struct external *externals;

/* Set while handler_init() of a plugin runs (main thread). */
static struct {
	void *dl;
	const char *path;
	int registered;
} loading;

const char *tcmur_thread_model_name(int model)
{
	switch (model) {
	case TCMUR_THREAD_MODEL_SERIALIZE:
		return "serialize";
	case TCMUR_THREAD_MODEL_PARALLEL:
		return "parallel";
	case TCMUR_THREAD_MODEL_ASYNC:
		return "async";
	default:
		return "default";
	}
}

static struct tcmur_handler_rec *find_locked(const char *subtype)
{
	struct tcmur_handler_rec *r;

	for (r = handlers; r; r = r->next)
		if (!strcmp(r->h.subtype, subtype))
			return r;
	return NULL;
}

static bool external_locked(const char *subtype)
{
	struct external *e;

	for (e = externals; e; e = e->next)
		if (!strcmp(e->subtype, subtype))
			return true;
	return false;
}

/*
 * Registered, being registered, or served by an external program: a
 * strdup()ed description of the owner (NULL if free; "" if out of memory).
 */
static char *subtype_owner_locked(const char *subtype)
{
	const struct tcmur_handler_rec *r;
	const char *owner = NULL;
	char *dup;

	for (r = reserving; r && !owner; r = r->next)
		if (!strcmp(r->h.subtype, subtype))
			owner = r->path ? r->path : "(built in)";
	if (!owner && (r = find_locked(subtype)))
		owner = r->path ? r->path : "(built in)";
	if (!owner && external_locked(subtype))
		owner = "an external (DBus) program";
	if (!owner)
		return NULL;
	dup = strdup(owner);
	return dup ? dup : strdup("");
}

static bool subtype_taken_locked(const char *subtype)
{
	char *owner = subtype_owner_locked(subtype);

	free(owner);
	return owner != NULL;
}

struct tcmur_handler_rec *tcmur_handler_find(const char *subtype)
{
	struct tcmur_handler_rec *r;

	pthread_mutex_lock(&handlers_lock);
	r = find_locked(subtype);
	pthread_mutex_unlock(&handlers_lock);
	return r;
}

unsigned int tcmur_handler_count(void)
{
	struct tcmur_handler_rec *r;
	unsigned int n = 0;

	pthread_mutex_lock(&handlers_lock);
	for (r = handlers; r; r = r->next)
		n++;
	pthread_mutex_unlock(&handlers_lock);
	return n;
}

static void resolve_model(struct tcmur_handler_rec *r)
{
	int model = r->h.thread_model;
	int nr = r->h.nr_threads;

	if (model == TCMUR_THREAD_MODEL_DEFAULT) {
		if (nr <= 0)
			model = TCMUR_THREAD_MODEL_ASYNC;
		else if (nr == 1)
			model = TCMUR_THREAD_MODEL_SERIALIZE;
		else
			model = TCMUR_THREAD_MODEL_PARALLEL;
	}
	switch (model) {
	case TCMUR_THREAD_MODEL_SERIALIZE:
		nr = 1;
		break;
	case TCMUR_THREAD_MODEL_PARALLEL:
		if (nr <= 0)
			nr = TCMUR_DEFAULT_PARALLEL_THREADS;
		if (nr > TCMUR_MAX_THREADS)
			nr = TCMUR_MAX_THREADS;
		break;
	default:
		/* ASYNC: one worker for slow compound commands. */
		nr = 1;
		break;
	}
	r->model = model;
	r->nr_threads = nr;
}

/*
 * Claim r's subtype before its init() runs, so that two registrations of
 * one subtype racing each other cannot both pass the check: 0 or -EEXIST.
 */
static int reserve(struct tcmur_handler_rec *r, const char *who)
{
	char *owner;

	pthread_mutex_lock(&handlers_lock);
	owner = subtype_owner_locked(r->h.subtype);
	if (!owner) {
		r->next = reserving;
		reserving = r;
	}
	pthread_mutex_unlock(&handlers_lock);
	if (owner) {
		tcmu_err("%s: subtype '%s' is already served by %s; refusing the second "
			 "handler\n",
			 who, r->h.subtype, *owner ? owner : "another handler");
		free(owner);
		return -EEXIST;
	}
	return 0;
}

/* Drop r's claim; with publish, make it a registered handler in the same step. */
static void unreserve(struct tcmur_handler_rec *r, bool publish)
{
	struct tcmur_handler_rec **pp;

	pthread_mutex_lock(&handlers_lock);
	for (pp = &reserving; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	r->next = NULL;
	if (publish) {
		r->next = handlers;
		handlers = r;
	}
	pthread_mutex_unlock(&handlers_lock);
}

int tcmur_register_handler_v(struct tcmur_handler *handler, uint32_t struct_size,
			     uint32_t api_version)
{
	const size_t min_size = offsetof(struct tcmur_handler, struct_size);
	const char *who = loading.path ? loading.path : "(built in)";
	struct tcmur_handler_rec *r;
	int ret;

	if (!handler) {
		tcmu_err("%s: tcmur_register_handler(NULL)\n", who);
		return -EINVAL;
	}
	if ((api_version >> 16) != TCMUR_HANDLER_API_MAJOR) {
		tcmu_err("%s: handler built for API %u.%u; this tcmu-runner supports %u.x: "
			 "rebuild it against this version's tcmu-runner.h\n",
			 who, api_version >> 16, api_version & 0xffff, TCMUR_HANDLER_API_MAJOR);
		return -EPROTONOSUPPORT;
	}
	if (struct_size < min_size) {
		tcmu_err("%s: struct tcmur_handler is %u bytes, at least %zu expected\n", who,
			 struct_size, min_size);
		return -EINVAL;
	}

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(&r->h, handler, struct_size < sizeof(r->h) ? struct_size : sizeof(r->h));
	r->h.struct_size = struct_size;
	r->h.api_version = api_version;
	r->struct_size = struct_size;
	r->api_version = api_version;
	r->orig = handler;

	if (!r->h.subtype || !r->h.subtype[0] || strchr(r->h.subtype, '/') ||
	    strchr(r->h.subtype, ';')) {
		tcmu_err("%s: handler has no valid subtype\n", who);
		ret = -EINVAL;
		goto err_free;
	}
	if (!r->h.handle_cmd && (!r->h.read || !r->h.write)) {
		tcmu_err("%s: handler %s needs handle_cmd or both read and write\n", who,
			 r->h.subtype);
		ret = -EINVAL;
		goto err_free;
	}
	if (r->h.thread_model < TCMUR_THREAD_MODEL_DEFAULT ||
	    r->h.thread_model > TCMUR_THREAD_MODEL_ASYNC) {
		tcmu_err("%s: handler %s has unknown thread model %d\n", who, r->h.subtype,
			 r->h.thread_model);
		ret = -EINVAL;
		goto err_free;
	}
	resolve_model(r);
	r->dl = loading.dl;
	r->path = loading.path ? strdup(loading.path) : NULL;

	ret = reserve(r, who);
	if (ret)
		goto err_free;
	if (r->h.init) {
		ret = r->h.init();
		if (ret) {
			tcmu_err("%s: init of handler %s failed: %d\n", who, r->h.subtype, ret);
			unreserve(r, false);
			goto err_free;
		}
	}
	unreserve(r, true);
	loading.registered++;
	tcmu_dbg("registered handler %s (%s), thread model %s, %d thread(s)\n", r->h.subtype,
		 r->h.name ? r->h.name : "", tcmur_thread_model_name(r->model), r->nr_threads);
	tcmur_dbus_handlers_changed();
	return 0;

err_free:
	free(r->path);
	free(r);
	return ret;
}

bool tcmur_unregister_handler(struct tcmur_handler *handler)
{
	struct tcmur_handler_rec **pp, *r = NULL;

	pthread_mutex_lock(&handlers_lock);
	for (pp = &handlers; *pp; pp = &(*pp)->next) {
		if ((*pp)->orig == handler) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&handlers_lock);
	if (!r)
		return false;
	if (r->h.destroy)
		r->h.destroy();
	tcmur_compat_release(r->orig);
	free(r->path);
	free(r);
	tcmur_dbus_handlers_changed();
	return true;
}

static int handler_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return !strncmp(d->d_name, "handler_", 8) && len > 11 &&
	       !strcmp(d->d_name + len - 3, ".so");
}

static int load_one(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int (*init)(void);
	void *dl;
	int ret;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		tcmu_err("cannot load handler %s: %s\n", path, dlerror());
		return -ENOEXEC;
	}
	*(void **)&init = dlsym(dl, "handler_init");
	if (!init) {
		tcmu_err("handler %s has no handler_init(): not a tcmu-runner handler\n", path);
		ret = -ENOEXEC;
		goto err_close;
	}
	loading.dl = dl;
	loading.path = path;
	loading.registered = 0;
	ret = init();
	loading.dl = NULL;
	loading.path = NULL;
	if (ret) {
		tcmu_err("handler_init() of %s failed: %d\n", path, ret);
		ret = ret < 0 ? ret : -EINVAL;
		if (loading.registered)
			ret = 0; /* it registered something before failing */
		else
			goto err_close;
	}
	if (!loading.registered) {
		tcmu_err("handler %s registered no handler\n", path);
		ret = -ENOENT;
		goto err_close;
	}
	return 0;

err_close:
	dlclose(dl);
	return ret;
}

int tcmur_load_handlers(const char *dir)
{
	struct dirent **names;
	int n, i, loaded = 0;

	n = scandir(dir, &names, handler_filter, alphasort);
	if (n < 0) {
		int ret = -errno;

		tcmu_err("cannot scan handler folder %s: %s\n", dir, strerror(-ret));
		return ret;
	}
	for (i = 0; i < n; i++) {
		if (!load_one(dir, names[i]->d_name))
			loaded++;
		free(names[i]);
	}
	free(names);
	return loaded;
}

static bool dl_in_use(void *dl)
{
	struct tcmur_handler_rec *r;
	bool used = false;

	pthread_mutex_lock(&handlers_lock);
	for (r = handlers; r; r = r->next)
		used |= r->dl == dl;
	pthread_mutex_unlock(&handlers_lock);
	return used;
}

void tcmur_unload_handlers(void)
{
	struct tcmur_handler_rec *r;
	struct external *e;

	for (;;) {
		void *dl;

		pthread_mutex_lock(&handlers_lock);
		r = handlers;
		if (r)
			handlers = r->next;
		pthread_mutex_unlock(&handlers_lock);
		if (!r)
			break;
		if (r->h.destroy)
			r->h.destroy();
		tcmur_compat_release(r->orig);
		dl = r->dl;
		free(r->path);
		free(r);
		/* One dlopen() per .so: close it with the last of its handlers. */
		if (dl && !dl_in_use(dl))
			dlclose(dl);
	}
	pthread_mutex_lock(&handlers_lock);
	while ((e = externals)) {
		externals = e->next;
		free(e->subtype);
		free(e);
	}
	free(published);
	published = NULL;
	n_published = 0;
	pthread_mutex_unlock(&handlers_lock);
}

static bool lib_check_config(const char *cfgstring, char **reason);

struct tcmulib_handler *tcmur_handlers_publish(size_t *count)
{
	struct tcmur_handler_rec *r;
	size_t n = 0, i = 0;

	pthread_mutex_lock(&handlers_lock);
	for (r = handlers; r; r = r->next)
		n++;
	free(published);
	published = calloc(n ? n : 1, sizeof(*published));
	if (!published) {
		pthread_mutex_unlock(&handlers_lock);
		*count = 0;
		return NULL;
	}
	for (r = handlers; r; r = r->next, i++) {
		struct tcmulib_handler *l = &published[i];

		l->name = r->h.name ? r->h.name : r->h.subtype;
		l->subtype = r->h.subtype;
		l->cfg_desc = r->h.cfg_desc;
		l->hm_private = r;
		l->check_config = lib_check_config;
		l->reconfig = tcmur_dev_reconfig;
		l->update_logdir = r->h.update_logdir;
		l->added = tcmur_dev_added;
		l->removed = tcmur_dev_removed;
		l->tmr_notify = tcmur_dev_tmr_notify;
		r->lib = l;
	}
	n_published = n;
	pthread_mutex_unlock(&handlers_lock);
	*count = n;
	return published;
}

/* ---- check_config, with the daemon's options validated and stripped ---- */

static int subtype_of(const char *cfg, char *out, size_t outlen)
{
	const char *slash;

	while (*cfg == ';') {
		/* Leading ";tcmur_x=y;" options. */
		const char *semi = strchr(cfg + 1, ';');

		if (!semi)
			return -EINVAL;
		cfg = semi + 1;
	}
	slash = strchr(cfg, '/');
	if (!slash || slash == cfg || (size_t)(slash - cfg) >= outlen)
		return -EINVAL;
	memcpy(out, cfg, (size_t)(slash - cfg));
	out[slash - cfg] = '\0';
	return 0;
}

int tcmur_handler_check_config(const char *subtype, const char *cfgstring, bool *valid,
			       char **reason)
{
	struct tcmur_handler_rec *r = tcmur_handler_find(subtype);
	struct tcmur_dev_opts opts;
	char err[256], *stripped = NULL;
	int ret;

	*valid = false;
	*reason = NULL;
	if (!r)
		return -ENOENT;
	ret = tcmur_cfgstring_parse(cfgstring, &opts, &stripped, err, sizeof(err));
	if (ret) {
		*reason = strdup(err);
		return 0;
	}
	if (!r->h.check_config) {
		*valid = true;
	} else {
		*valid = r->h.check_config(stripped, reason);
		if (*valid && *reason) {
			free(*reason);
			*reason = NULL;
		}
	}
	free(stripped);
	return 0;
}

static bool lib_check_config(const char *cfgstring, char **reason)
{
	char subtype[64];
	bool valid = false;

	*reason = NULL;
	if (subtype_of(cfgstring, subtype, sizeof(subtype))) {
		*reason = strdup("cfgstring has no '<subtype>/' prefix");
		return false;
	}
	if (tcmur_handler_check_config(subtype, cfgstring, &valid, reason) == -ENOENT) {
		*reason = strdup("no handler for this subtype");
		return false;
	}
	return valid;
}

/* ---- DBus helpers ------------------------------------------------------ */

void tcmur_for_each_handler(tcmur_dbus_handler_fn fn, void *arg)
{
	struct tcmur_handler_rec *r;

	pthread_mutex_lock(&handlers_lock);
	for (r = handlers; r; r = r->next)
		fn(r->h.subtype, r->h.cfg_desc, arg);
	pthread_mutex_unlock(&handlers_lock);
}

int tcmur_external_handler_add(const char *subtype, const char *cfg_desc)
{
	struct external *e;

	if (!subtype || !*subtype || strchr(subtype, '/'))
		return -EINVAL;
	pthread_mutex_lock(&handlers_lock);
	if (subtype_taken_locked(subtype)) {
		pthread_mutex_unlock(&handlers_lock);
		return -EEXIST;
	}
	e = calloc(1, sizeof(*e));
	if (e)
		e->subtype = strdup(subtype);
	if (!e || !e->subtype) {
		pthread_mutex_unlock(&handlers_lock);
		free(e);
		return -ENOMEM;
	}
	e->next = externals;
	externals = e;
	pthread_mutex_unlock(&handlers_lock);
	tcmu_info("external program serves subtype %s%s%s\n", subtype, cfg_desc ? ": " : "",
		  cfg_desc ? cfg_desc : "");
	return 0;
}

void tcmur_external_handler_remove(const char *subtype)
{
	struct external **pp, *e = NULL;

	pthread_mutex_lock(&handlers_lock);
	for (pp = &externals; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->subtype, subtype)) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&handlers_lock);
	if (e) {
		tcmu_info("external program for subtype %s went away\n", subtype);
		free(e->subtype);
		free(e);
	}
}

void tcmur_handlers_update_logdir(void)
{
	void (*fns[64])(void);
	struct tcmur_handler_rec *r;
	unsigned int n = 0, i;

	pthread_mutex_lock(&handlers_lock);
	for (r = handlers; r && n < 64; r = r->next)
		if (r->h.update_logdir)
			fns[n++] = r->h.update_logdir;
	pthread_mutex_unlock(&handlers_lock);
	for (i = 0; i < n; i++)
		fns[i]();
}

/* ---- --dump-handler ------------------------------------------------------ */

int tcmur_dump_handler(const char *name)
{
	struct tcmur_handler_rec *r;
	const struct tcmur_handler *h;

	pthread_mutex_lock(&handlers_lock);
	for (r = handlers; r; r = r->next)
		if (!strcmp(r->h.subtype, name) || (r->h.name && !strcmp(r->h.name, name)))
			break;
	pthread_mutex_unlock(&handlers_lock);
	if (!r)
		return -ENOENT;
	h = &r->h;

	printf("subtype=%s\n", h->subtype);
	printf("name=%s\n", h->name ? h->name : "");
	printf("cfg_desc=%s\n", h->cfg_desc ? h->cfg_desc : "");
	printf("path=%s\n", r->path ? r->path : "(built in)");
	printf("api_version=%u.%u\n", r->api_version >> 16, r->api_version & 0xffff);
	printf("daemon_api_version=%u.%u\n", TCMUR_HANDLER_API_MAJOR, TCMUR_HANDLER_API_MINOR);
	printf("struct_size=%u\n", r->struct_size);
	printf("daemon_struct_size=%zu\n", sizeof(struct tcmur_handler));
	printf("thread_model=%s\n", tcmur_thread_model_name(r->model));
	printf("nr_threads=%d\n", h->nr_threads);
	printf("workers=%d\n", r->nr_threads);
	printf("cap_fua=%d\n", !!(h->caps & TCMUR_CAP_FUA));
	printf("cap_lba_status=%d\n", !!(h->caps & TCMUR_CAP_LBA_STATUS));
#define HAS(f) printf("has_" #f "=%d\n", h->f != NULL)
	HAS(check_config);
	HAS(reconfig);
	HAS(open);
	HAS(close);
	HAS(handle_cmd);
	HAS(read);
	HAS(write);
	HAS(flush);
	HAS(unmap);
	HAS(writesame);
	HAS(caw);
	HAS(get_lba_status);
	HAS(report_event);
	HAS(lock);
	HAS(unlock);
	HAS(get_lock_tag);
	HAS(get_lock_state);
	HAS(update_logdir);
	HAS(init);
	HAS(destroy);
	HAS(cmd_timed_out);
	HAS(batch_end);
	HAS(change_medium);
#undef HAS
	return 0;
}
