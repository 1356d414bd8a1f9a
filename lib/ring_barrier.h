/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The only place that touches the shared TCMU mailbox.  All memory ordering
 * between the kernel and us lives here: cmd_head is loaded with acquire (the
 * kernel's entry writes are visible once we see the new head) and cmd_tail
 * is stored with release (our response writes are visible before the tail
 * that hands them back).  The kernel-side pair is used by tests/sim only.
 */
#ifndef TCMU_RING_BARRIER_H
#define TCMU_RING_BARRIER_H

#include <stdint.h>
#include <linux/target_core_user.h>

/* Immutable after the kernel set up the device. */
static inline uint16_t tcmu_mb_version(const struct tcmu_mailbox *mb)
{
	return __atomic_load_n(&mb->version, __ATOMIC_RELAXED);
}

static inline uint16_t tcmu_mb_flags(const struct tcmu_mailbox *mb)
{
	return __atomic_load_n(&mb->flags, __ATOMIC_RELAXED);
}

static inline uint32_t tcmu_mb_cmdr_off(const struct tcmu_mailbox *mb)
{
	return __atomic_load_n(&mb->cmdr_off, __ATOMIC_RELAXED);
}

static inline uint32_t tcmu_mb_cmdr_size(const struct tcmu_mailbox *mb)
{
	return __atomic_load_n(&mb->cmdr_size, __ATOMIC_RELAXED);
}

/* Userspace: where the kernel's queued entries end. */
static inline uint32_t tcmu_mb_load_head(const struct tcmu_mailbox *mb)
{
	return __atomic_load_n(&mb->cmd_head, __ATOMIC_ACQUIRE);
}

/* Userspace: hand completed entries back. */
static inline void tcmu_mb_store_tail(struct tcmu_mailbox *mb, uint32_t tail)
{
	__atomic_store_n(&mb->cmd_tail, tail, __ATOMIC_RELEASE);
}

/* Userspace: the tail as last stored (at open, after reset_ring). */
static inline uint32_t tcmu_mb_load_tail(const struct tcmu_mailbox *mb)
{
	return __atomic_load_n(&mb->cmd_tail, __ATOMIC_ACQUIRE);
}

/* Kernel model (tests/sim): publish new entries. */
static inline void tcmu_mb_store_head(struct tcmu_mailbox *mb, uint32_t head)
{
	__atomic_store_n(&mb->cmd_head, head, __ATOMIC_RELEASE);
}

#endif
