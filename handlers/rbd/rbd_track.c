// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * What an rbd device keeps across close() + open(reopen): the counters the
 * service map shows, and the client address it had before (a reopen after
 * being blocklisted removes it from the blocklist).  close() cannot tell a
 * recovery from a removal, so records live in a list keyed by the device
 * and are reset when a device is opened fresh at the same address (one
 * small record per device address ever served stays until exit).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rbd_priv.h"

struct rbd_track {
	struct tcmu_device *dev;
	atomic_uint cnt[RBD_CNT__MAX];
	char *addr; /* under track_lock */
	struct rbd_track *next;
};

static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rbd_track *tracks;

/* Setup or recovery thread (open). */
struct rbd_track *rbd_track_get(struct tcmu_device *dev, bool fresh)
{
	struct rbd_track *t;
	int i;

	pthread_mutex_lock(&track_lock);
	for (t = tracks; t && t->dev != dev; t = t->next)
		;
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (t) {
			t->dev = dev;
			t->next = tracks;
			tracks = t;
		}
	} else if (fresh) {
		for (i = 0; i < RBD_CNT__MAX; i++)
			atomic_store(&t->cnt[i], 0);
		free(t->addr);
		t->addr = NULL;
	}
	pthread_mutex_unlock(&track_lock);
	return t;
}

/* Any thread; never blocks. */
void rbd_track_count(struct rbd_track *t, enum rbd_counter c)
{
	if (t)
		atomic_fetch_add(&t->cnt[c], 1);
}

unsigned int rbd_track_read(struct rbd_track *t, enum rbd_counter c)
{
	return t ? atomic_load(&t->cnt[c]) : 0;
}

char *rbd_track_take_addr(struct rbd_track *t)
{
	char *a;

	if (!t)
		return NULL;
	pthread_mutex_lock(&track_lock);
	a = t->addr;
	t->addr = NULL;
	pthread_mutex_unlock(&track_lock);
	return a;
}

void rbd_track_set_addr(struct rbd_track *t, const char *addr)
{
	char *a = addr ? strdup(addr) : NULL;

	if (!t) {
		free(a);
		return;
	}
	pthread_mutex_lock(&track_lock);
	free(t->addr);
	t->addr = a;
	pthread_mutex_unlock(&track_lock);
}
