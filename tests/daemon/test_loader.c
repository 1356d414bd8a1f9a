// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Plugin loader: which handler_*.so are accepted or refused (API major,
 * struct size, duplicate subtype, required callouts, missing handler_init),
 * thread model resolution, check_config with daemon options, external
 * (DBus) subtypes, --dump-handler.
 */
#include <errno.h>
#include <fcntl.h>

#include "daemon.h"
#include "dtest.h"

static void capture_dump(const char *name, char *out, size_t len, int *ret)
{
	char path[] = "/tmp/tcmur-dump-XXXXXX";
	int fd = mkstemp(path), saved;
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	*ret = tcmur_dump_handler(name);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

int main(int argc, char **argv)
{
	struct tcmur_handler_rec *r;
	struct tcmulib_handler *lh;
	char *reason = NULL, dump[4096];
	bool valid;
	size_t n;
	int ret;

	REQUIRE(argc == 2, "usage: test_loader <plugin dir>");
	tcmu_set_log_level(TCMU_LOG_CRIT); /* refusals are logged on purpose */

	STEP("load the plugin folder: only the well-formed handlers register");
	ret = tcmur_load_handlers(argv[1]);
	CHECK(ret == 2, "loaded %d, expected 2 (a_good, newer)", ret);
	CHECK(tcmur_handler_count() == 2, "count %u", tcmur_handler_count());

	STEP("refused: API major 2, struct too small, duplicate subtype, no callouts");
	CHECK(!tcmur_handler_find("tbadver"), "bad major accepted");
	CHECK(!tcmur_handler_find("tsmall"), "small struct accepted");
	CHECK(!tcmur_handler_find("tnocb"), "no-callout handler accepted");
	CHECK(!tcmur_handler_find("tnoinit"), "no handler_init accepted");

	STEP("accepted handler: copy of the struct, resolved thread model");
	r = tcmur_handler_find("tgood");
	REQUIRE(r, "tgood missing");
	CHECK(r->model == TCMUR_THREAD_MODEL_PARALLEL && r->nr_threads == 3, "model %d nr %d",
	      r->model, r->nr_threads);
	CHECK(r->h.struct_size == sizeof(struct tcmur_handler), "size %u", r->h.struct_size);
	CHECK(r->path && strstr(r->path, "handler_a_good.so"), "path %s", r->path);

	STEP("a newer minor with a larger struct loads; nr_threads 0 means async");
	r = tcmur_handler_find("tnewer");
	REQUIRE(r, "tnewer missing");
	CHECK(r->struct_size == sizeof(struct tcmur_handler) + 64, "size %u", r->struct_size);
	CHECK(r->model == TCMUR_THREAD_MODEL_ASYNC && r->nr_threads == 1, "model %d", r->model);

	STEP("publish: one tcmulib_handler per subtype");
	lh = tcmur_handlers_publish(&n);
	CHECK(lh && n == 2, "published %zu", n);

	STEP("check_config: handler verdict, daemon options validated and stripped");
	CHECK(!tcmur_handler_check_config("tgood", "tgood/ok;tcmur_cmd_time_out=3", &valid,
					  &reason) &&
		      valid && !reason,
	      "valid one");
	CHECK(!tcmur_handler_check_config("tgood", "tgood/bad", &valid, &reason) && !valid &&
		      reason && strstr(reason, "refuses"),
	      "handler refusal");
	free(reason);
	reason = NULL;
	CHECK(!tcmur_handler_check_config("tgood", ";tcmur_bogus=1;tgood/ok", &valid, &reason) &&
		      !valid && reason && strstr(reason, "unknown daemon option"),
	      "daemon option");
	free(reason);
	reason = NULL;
	CHECK(tcmur_handler_check_config("nope", "nope/x", &valid, &reason) == -ENOENT, "ENOENT");

	STEP("external (DBus) subtypes conflict with plugins both ways");
	CHECK(tcmur_external_handler_add("tgood", NULL) == -EEXIST, "ext over plugin");
	CHECK(tcmur_external_handler_add("ext1", "x") == 0, "ext1");
	CHECK(tcmur_external_handler_add("ext1", "x") == -EEXIST, "ext1 twice");
	{
		static struct tcmur_handler h = {
			.subtype = "ext1",
			.handle_cmd = (void *)1,
		};

		CHECK(tcmur_register_handler(&h) == -EEXIST, "plugin over ext");
	}
	tcmur_external_handler_remove("ext1");

	STEP("--dump-handler prints the ABI facts");
	capture_dump("tgood", dump, sizeof(dump), &ret);
	CHECK(ret == 0, "dump ret %d", ret);
	CHECK(strstr(dump, "api_version=1.1\n") && strstr(dump, "thread_model=parallel\n") &&
		      strstr(dump, "has_read=1\n") && strstr(dump, "has_handle_cmd=0\n") &&
		      strstr(dump, "struct_size="),
	      "dump:\n%s", dump);
	capture_dump("missing", dump, sizeof(dump), &ret);
	CHECK(ret == -ENOENT, "unknown name %d", ret);

	tcmur_unload_handlers();
	CHECK(tcmur_handler_count() == 0, "unloaded");
	return check_exit();
}
