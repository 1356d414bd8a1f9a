/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/* The io_uring probe of the handlers that can use it (file, qcow). */
#ifndef HANDLERS_URING_PROBE_H
#define HANDLERS_URING_PROBE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_URING
#include <liburing.h>
#endif

/*
 * io_uring works here (a kernel or a sandbox may refuse it), unless the
 * environment variable env_off is set to anything but "0".  Any thread.
 */
static inline bool handler_uring_usable(const char *env_off)
{
#ifdef HAVE_URING
	const char *env = getenv(env_off);
	struct io_uring ring;

	if (env && *env && strcmp(env, "0"))
		return false;
	if (io_uring_queue_init(2, &ring, 0))
		return false;
	io_uring_queue_exit(&ring);
	return true;
#else
	(void)env_off;
	return false;
#endif
}

#endif
