// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Tiny handler plugins for test_loader, built several times with different
 * TH_* definitions to exercise each registration check.
 */
#include <errno.h>
#include <string.h>

#include "tcmu-runner.h"

#ifndef TH_SUBTYPE
#define TH_SUBTYPE "tgood"
#endif

static __attribute__((unused)) bool th_check_config(const char *cfg, char **reason)
{
	if (strstr(cfg, "/bad")) {
		*reason = strdup("the test handler refuses /bad");
		return false;
	}
	return true;
}

__attribute__((unused)) static int th_rw(struct tcmu_device *dev, struct tcmur_cmd *cmd,
					 struct iovec *iov, size_t iov_cnt, size_t len, off_t off)
{
	return TCMU_STS_OK;
}

#ifdef TH_NEWER
/* A handler built against a newer minor version with a larger struct. */
static struct {
	struct tcmur_handler h;
	char future[64];
} th_big = {
	.h = {
		.name = "newer test handler",
		.subtype = TH_SUBTYPE,
		.read = th_rw,
		.write = th_rw,
	},
};
#define th (th_big.h)
#else
static __attribute__((unused)) struct tcmur_handler th = {
	.name = "test handler",
	.subtype = TH_SUBTYPE,
	.cfg_desc = "test/<anything>",
	.check_config = th_check_config,
	.nr_threads = 3,
#ifndef TH_NO_CALLOUTS
	.read = th_rw,
	.write = th_rw,
#endif
};
#endif

#ifndef TH_NO_INIT
__attribute__((visibility("default"))) int handler_init(void)
{
#if defined(TH_API_VERSION)
	return tcmur_register_handler_v(&th, sizeof(th), TH_API_VERSION);
#elif defined(TH_STRUCT_SIZE)
	return tcmur_register_handler_v(&th, TH_STRUCT_SIZE, TCMUR_HANDLER_API_VERSION);
#elif defined(TH_NEWER)
	return tcmur_register_handler_v(&th, sizeof(th_big), TCMUR_HANDLER_API_VERSION + 1);
#else
	return tcmur_register_handler(&th);
#endif
}
#else
__attribute__((visibility("default"))) int not_handler_init(void)
{
	return 0;
}
#endif
