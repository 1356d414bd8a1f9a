// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The daemon's main loop: one epoll set (netlink, signalfd, inotify, DBus
 * wakeups) with a callback per fd.  Main thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"

#define LOOP_MAX_FDS 16

struct loop_entry {
	int fd;
	tcmur_loop_fn fn;
	void *arg;
};

static int epfd = -1;
static bool stopping;
static struct loop_entry entries[LOOP_MAX_FDS];

int tcmur_loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	stopping = false;
	memset(entries, 0, sizeof(entries));
	return 0;
}

int tcmur_loop_add(int fd, tcmur_loop_fn fn, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int i;

	for (i = 0; i < LOOP_MAX_FDS && entries[i].fn; i++)
		;
	if (i == LOOP_MAX_FDS)
		return -ENOSPC;
	ev.data.ptr = &entries[i];
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	entries[i].fd = fd;
	entries[i].fn = fn;
	entries[i].arg = arg;
	return 0;
}

void tcmur_loop_del(int fd)
{
	unsigned int i;

	for (i = 0; i < LOOP_MAX_FDS; i++) {
		if (entries[i].fn && entries[i].fd == fd) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			entries[i].fn = NULL;
		}
	}
}

void tcmur_loop_stop(void)
{
	stopping = true;
}

int tcmur_loop_run(void)
{
	struct epoll_event evs[LOOP_MAX_FDS];
	int n, i;

	while (!stopping) {
		n = epoll_wait(epfd, evs, LOOP_MAX_FDS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !stopping; i++) {
			struct loop_entry *e = evs[i].data.ptr;

			if (e->fn)
				e->fn(e->fd, evs[i].events, e->arg);
		}
	}
	return 0;
}

void tcmur_loop_fini(void)
{
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
	memset(entries, 0, sizeof(entries));
}
