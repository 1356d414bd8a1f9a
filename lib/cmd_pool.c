/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Per-device pool of command slots.  Slots come in chunks of
 * TCMU_SLOT_CHUNK; the processing thread takes them from a private list it
 * refills in bulk from the shared free list, so the hot path allocates
 * nothing and takes dev->lock only once per refill.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int pool_grow(struct tcmu_device *dev)
{
	size_t hm = dev->hm_cmd_size > 0 ? (size_t)dev->hm_cmd_size : 0;
	struct tcmu_slot_chunk *chunk;
	unsigned int i;

	chunk = calloc(1, sizeof(*chunk));
	if (!chunk)
		return -ENOMEM;
	if (hm) {
		/* 16-byte aligned areas so callers can keep any type there. */
		hm = (hm + 15) & ~(size_t)15;
		chunk->hm_area = calloc(TCMU_SLOT_CHUNK, hm);
		if (!chunk->hm_area) {
			free(chunk);
			return -ENOMEM;
		}
	}
	for (i = 0; i < TCMU_SLOT_CHUNK; i++) {
		struct tcmu_slot *s = &chunk->slots[i];

		s->dev = dev;
		s->cmd.cdb = s->cdb;
		s->cmd.hm_private = hm ? (uint8_t *)chunk->hm_area + i * hm : NULL;
		s->next = dev->priv_free;
		dev->priv_free = s;
	}
	pthread_mutex_lock(&dev->lock);
	chunk->next = dev->chunks;
	dev->chunks = chunk;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* Processing thread only. */
struct tcmu_slot *tcmu_slot_get(struct tcmu_device *dev)
{
	struct tcmu_slot *s;

	if (!dev->priv_free) {
		pthread_mutex_lock(&dev->lock);
		dev->priv_free = dev->free_list;
		dev->free_list = NULL;
		pthread_mutex_unlock(&dev->lock);
	}
	if (!dev->priv_free && pool_grow(dev))
		return NULL;
	s = dev->priv_free;
	dev->priv_free = s->next;
	s->next = NULL;
	return s;
}

void tcmu_slot_put_locked(struct tcmu_device *dev, struct tcmu_slot *slot)
{
	slot->state = TCMU_SLOT_FREE;
	slot->next = dev->free_list;
	dev->free_list = slot;
}

int tcmu_slot_iov_reserve(struct tcmu_slot *slot, uint32_t n)
{
	struct iovec *iov;
	uint32_t cap;

	if (n <= slot->iov_cap)
		return 0;
	cap = slot->iov_cap ? slot->iov_cap : 16;
	while (cap < n)
		cap *= 2;
	iov = realloc(slot->iov, cap * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	slot->iov = iov;
	slot->iov_cap = cap;
	return 0;
}

void tcmu_slot_pool_free(struct tcmu_device *dev)
{
	struct tcmu_slot_chunk *c, *next;
	unsigned int i;

	for (c = dev->chunks; c; c = next) {
		next = c->next;
		for (i = 0; i < TCMU_SLOT_CHUNK; i++)
			free(c->slots[i].iov);
		free(c->hm_area);
		free(c);
	}
	dev->chunks = NULL;
	dev->free_list = NULL;
	dev->priv_free = NULL;
}
