/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Simulated kernel, data side: queue_cmd_ring() (entry sizing, PAD at the
 * ring end, one byte kept free, cyclic ids 1..0xffff, scattered data
 * blocks, CDB after the iovecs), TMR entries, the UIO event/kick fd, and a
 * checker that mirrors tcmu_handle_completions().
 */
/* First: <sys/uio.h> must precede any uapi header (struct iovec). */
#include "sim_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include "ring_barrier.h"
#include "scsi_defs.h"

#define ALIGN8(x) (((x) + 7u) & ~7u)

void sim_failf(struct sim_dev *d, const char *fmt, ...)
{
	va_list ap;

	d->warnings++;
	va_start(ap, fmt);
	vsnprintf(d->last_err, sizeof(d->last_err), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sim uio%u: %s\n", d->minor, d->last_err);
}

static uint32_t rnd(struct sim_dev *d)
{
	d->rng = d->rng * 1103515245u + 12345u;
	return d->rng >> 8;
}

static uint32_t spc_used(uint32_t head, uint32_t tail, uint32_t size)
{
	return (head + size - tail) % size;
}

static uint32_t spc_free(struct sim_dev *d)
{
	return d->cmdr_size - 1 - spc_used(d->head, d->last_cleaned, d->cmdr_size);
}

static void cmd_free_blocks(struct sim_dev *d, struct sim_cmd_st *st)
{
	uint32_t i;

	for (i = 0; i < st->nblk; i++)
		d->blk_used[st->blks[i]] = 0;
	free(st->blks);
	st->blks = NULL;
	st->nblk = 0;
}

/* Pick n free blocks, scattered (sometimes contiguous, as in real life). */
static int alloc_blocks(struct sim_dev *d, uint32_t n, uint32_t *out)
{
	uint32_t i, j, free_cnt = 0, b = 0;

	for (i = 0; i < d->nblocks; i++)
		free_cnt += !d->blk_used[i];
	if (free_cnt < n)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		if (i && rnd(d) % 3 && b + 1 < d->nblocks && !d->blk_used[b + 1]) {
			b++;
		} else {
			b = rnd(d) % d->nblocks;
			for (j = 0; d->blk_used[b] && j < d->nblocks; j++)
				b = (b + 1) % d->nblocks;
		}
		d->blk_used[b] = 1;
		out[i] = b;
	}
	return 0;
}

/* Build iovecs for blocks [first, first+cnt) covering len bytes; merges neighbours. */
static uint32_t build_iovs(struct sim_dev *d, const uint32_t *blks, uint32_t cnt, size_t len,
			   struct iovec *iov)
{
	uint32_t i, n = 0;

	for (i = 0; i < cnt; i++) {
		size_t l = len < d->block_size ? len : d->block_size;
		uint64_t base = d->data_off + (uint64_t)blks[i] * d->block_size;

		if (n && i && blks[i] == blks[i - 1] + 1) {
			iov[n - 1].iov_len += l;
		} else {
			iov[n].iov_base = (void *)(uintptr_t)base;
			iov[n].iov_len = l;
			n++;
		}
		len -= l;
	}
	return n;
}

static void copy_blocks(struct sim_dev *d, const uint32_t *blks, size_t len, const void *src,
			void *dst)
{
	size_t off = 0;
	uint32_t i = 0;

	while (off < len) {
		size_t l = len - off < d->block_size ? len - off : d->block_size;
		uint8_t *p = (uint8_t *)d->map + d->data_off + (size_t)blks[i++] * d->block_size;

		if (src)
			memcpy(p, (const uint8_t *)src + off, l);
		else
			memcpy((uint8_t *)dst + off, p, l);
		off += l;
	}
}

static int alloc_id(struct sim_dev *d, uint16_t *id)
{
	uint32_t i;

	for (i = 0; i < 0xffff; i++) {
		uint16_t c = d->next_id;

		d->next_id = d->next_id == 0xffff ? 1 : d->next_id + 1;
		if (!d->cmds[c] || !d->cmds[c]->inflight) {
			*id = c;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Make room for cmd_size bytes at the head, writing a PAD if it must wrap. */
static int ring_make_room(struct sim_dev *d, uint32_t cmd_size)
{
	uint32_t to_end = d->cmdr_size - d->head;
	uint32_t need = cmd_size;
	struct tcmu_cmd_entry_hdr *pad;

	if (to_end < cmd_size)
		need += to_end;
	if (need > spc_free(d))
		return -ENOSPC;
	if (to_end < cmd_size) {
		pad = (struct tcmu_cmd_entry_hdr *)(d->cmdr + d->head);
		pad->len_op = to_end | TCMU_OP_PAD;
		pad->cmd_id = 0;
		pad->kflags = 0;
		pad->uflags = 0;
		d->head = 0;
	}
	return 0;
}

static void notify_locked(struct sim_dev *d)
{
	struct pollfd p = { .fd = d->lib_fd, .events = POLLIN };
	uint32_t one = 1;

	/* UIO keeps one pending event; the library's read clears it. */
	if (poll(&p, 1, 0) == 1)
		return;
	if (send(d->sim_fd, &one, sizeof(one), MSG_DONTWAIT) < 0)
		sim_failf(d, "event send failed: %s", strerror(errno));
}

static int submit(struct sim_dev *d, const struct sim_cmd *c, sim_mutate_fn fn, void *arg,
		  uint16_t *cmd_id)
{
	static const uint8_t grp_len[8] = { 6, 10, 10, 12, 16, 12, 10, 10 };
	size_t blk = d->block_size;
	uint32_t nout, nin, iov_out, iov_in, base, cmd_size, cdb_len, *blks = NULL;
	struct tcmu_cmd_entry *e;
	struct sim_cmd_st *st;
	struct iovec *iov;
	uint16_t id;
	int ret;

	if (d->broken)
		return -EIO;
	if (d->blocked)
		return -EBUSY;
	cdb_len = (uint32_t)c->cdb_len;
	if (!cdb_len)
		cdb_len = c->cdb[0] == 0x7f ? 8u + c->cdb[7] : grp_len[c->cdb[0] >> 5];
	nout = (uint32_t)((c->data_out_len + blk - 1) / blk);
	nin = (uint32_t)((c->data_in_len + blk - 1) / blk);
	/* Worst case every block is its own iovec. */
	base = (uint32_t)offsetof(struct tcmu_cmd_entry, req.iov) +
	       (nout + nin) * (uint32_t)sizeof(struct iovec);
	if (base < sizeof(struct tcmu_cmd_entry))
		base = sizeof(struct tcmu_cmd_entry);
	if (ALIGN8(base + cdb_len) > d->cmdr_size / 2 || nout + nin > d->nblocks)
		return -E2BIG;

	blks = calloc(nout + nin + 1, sizeof(*blks));
	if (!blks)
		return -ENOMEM;
	ret = alloc_blocks(d, nout + nin, blks);
	if (ret)
		goto err_free;
	ret = alloc_id(d, &id);
	if (ret)
		goto err_blocks;
	if (!d->cmds[id]) {
		d->cmds[id] = calloc(1, sizeof(*st));
		if (!d->cmds[id]) {
			ret = -ENOMEM;
			goto err_blocks;
		}
	}
	st = d->cmds[id];

	/* Real entry size with merged iovecs. */
	iov = calloc(nout + nin + 1, sizeof(*iov));
	if (!iov) {
		ret = -ENOMEM;
		goto err_blocks;
	}
	iov_out = build_iovs(d, blks, nout, c->data_out_len, iov);
	iov_in = build_iovs(d, blks + nout, nin, c->data_in_len, iov + iov_out);
	if (c->data_out_len && c->data_in_len == 0)
		iov_in = 0;
	base = (uint32_t)offsetof(struct tcmu_cmd_entry, req.iov) +
	       (iov_out + iov_in) * (uint32_t)sizeof(struct iovec);
	if (base < sizeof(struct tcmu_cmd_entry))
		base = sizeof(struct tcmu_cmd_entry);
	cmd_size = ALIGN8(base + cdb_len);
	ret = ring_make_room(d, cmd_size);
	if (ret) {
		free(iov);
		goto err_blocks;
	}

	e = (struct tcmu_cmd_entry *)(d->cmdr + d->head);
	memset(e, 0, cmd_size);
	e->hdr.len_op = cmd_size | TCMU_OP_CMD;
	e->hdr.cmd_id = id;
	/* Non-BIDI commands carry their one buffer as the data iovecs. */
	if (c->data_out_len && c->data_in_len) {
		e->req.iov_cnt = iov_out;
		e->req.iov_bidi_cnt = iov_in;
	} else {
		e->req.iov_cnt = iov_out + iov_in;
	}
	memcpy((uint8_t *)e + offsetof(struct tcmu_cmd_entry, req.iov), iov,
	       (iov_out + iov_in) * sizeof(*iov));
	free(iov);
	e->req.cdb_off = 128 + d->head + base;
	memcpy((uint8_t *)e + base, c->cdb, cdb_len);
	if (c->data_out_len)
		copy_blocks(d, blks, c->data_out_len, c->data_out, NULL);
	if (fn)
		fn(d, e, cmd_size, arg);

	free(st->res.data_in);
	free(st->blks);
	memset(st, 0, sizeof(*st));
	st->inflight = true;
	st->data_out_len = c->data_out_len;
	st->data_in_len = c->data_in_len;
	st->blks = blks;
	st->nblk = nout + nin;
	st->nblk_out = nout;
	st->res.cmd_id = id;
	d->inflight++;

	d->head = (d->head + cmd_size) % d->cmdr_size;
	tcmu_mb_store_head(d->mb, d->head);
	notify_locked(d);
	*cmd_id = id;
	return 0;

err_blocks:
	for (base = 0; base < nout + nin; base++)
		d->blk_used[blks[base]] = 0;
err_free:
	free(blks);
	return ret;
}

int sim_submit_mutated(struct sim_dev *d, const struct sim_cmd *c, sim_mutate_fn fn, void *arg,
		       uint16_t *cmd_id)
{
	int ret;

	pthread_mutex_lock(&d->k->lock);
	ret = submit(d, c, fn, arg, cmd_id);
	pthread_mutex_unlock(&d->k->lock);
	return ret;
}

int sim_submit(struct sim_dev *d, const struct sim_cmd *c, uint16_t *cmd_id)
{
	return sim_submit_mutated(d, c, NULL, NULL, cmd_id);
}

int sim_submit_rw10(struct sim_dev *d, bool write, uint32_t lba, uint16_t blocks,
		    uint32_t block_size, const void *data_out, uint16_t *cmd_id)
{
	uint8_t cdb[10] = { write ? 0x2a : 0x28 };
	struct sim_cmd c = { .cdb = cdb, .cdb_len = 10 };

	cdb[2] = lba >> 24;
	cdb[3] = lba >> 16;
	cdb[4] = lba >> 8;
	cdb[5] = lba;
	cdb[7] = blocks >> 8;
	cdb[8] = blocks;
	if (write) {
		c.data_out = data_out;
		c.data_out_len = (size_t)blocks * block_size;
	} else {
		c.data_in_len = (size_t)blocks * block_size;
	}
	return sim_submit(d, &c, cmd_id);
}

int sim_submit_tmr(struct sim_dev *d, uint8_t tmr_type, const uint16_t *ids, uint32_t cnt)
{
	uint32_t size = ALIGN8((uint32_t)sizeof(struct tcmu_tmr_entry) + 2 * cnt);
	struct tcmu_tmr_entry *t;
	int ret;

	pthread_mutex_lock(&d->k->lock);
	ret = size > d->cmdr_size / 2 ? -E2BIG : ring_make_room(d, size);
	if (!ret) {
		t = (struct tcmu_tmr_entry *)(d->cmdr + d->head);
		memset(t, 0, size);
		t->hdr.len_op = size | TCMU_OP_TMR;
		t->tmr_type = tmr_type;
		t->cmd_cnt = cnt;
		memcpy((uint8_t *)t + sizeof(*t), ids, 2 * cnt);
		d->head = (d->head + size) % d->cmdr_size;
		tcmu_mb_store_head(d->mb, d->head);
		notify_locked(d);
	}
	pthread_mutex_unlock(&d->k->lock);
	return ret;
}

int sim_submit_raw(struct sim_dev *d, const void *entry, uint32_t len)
{
	const struct tcmu_cmd_entry_hdr *h = entry;
	uint32_t adv = len ? len : tcmu_hdr_get_len(h->len_op);
	uint32_t copy = len ? len : (uint32_t)sizeof(*h);
	int ret = 0;

	pthread_mutex_lock(&d->k->lock);
	if (copy > d->cmdr_size - d->head || adv > spc_free(d) || adv % 8) {
		ret = -ENOSPC;
	} else {
		/* A CMD with an id may be completed: know it, with no data. */
		if (tcmu_hdr_get_op(h->len_op) != TCMU_OP_PAD &&
		    tcmu_hdr_get_op(h->len_op) != TCMU_OP_TMR && h->cmd_id) {
			struct sim_cmd_st *st = d->cmds[h->cmd_id];

			if (!st)
				st = d->cmds[h->cmd_id] = calloc(1, sizeof(*st));
			if (st && !st->inflight) {
				free(st->res.data_in);
				memset(st, 0, sizeof(*st));
				st->inflight = true;
				st->res.cmd_id = h->cmd_id;
				d->inflight++;
			}
		}
		memcpy(d->cmdr + d->head, entry, copy);
		d->head = (d->head + adv) % d->cmdr_size;
		tcmu_mb_store_head(d->mb, d->head);
		notify_locked(d);
	}
	pthread_mutex_unlock(&d->k->lock);
	return ret;
}

void sim_notify(struct sim_dev *d)
{
	pthread_mutex_lock(&d->k->lock);
	notify_locked(d);
	pthread_mutex_unlock(&d->k->lock);
}

static long now_ms(void);

int sim_wait_kick(struct sim_dev *d, int timeout_ms)
{
	struct pollfd p = { .fd = d->sim_fd, .events = POLLIN };
	uint32_t seen = atomic_load_explicit(&d->kick_seen, memory_order_relaxed);
	long end = now_ms() + timeout_ms, left;
	struct timespec ts;

	if (d->lib_fd >= SIM_MAX_KICK_FD) /* kicks come as datagrams only */
		return poll(&p, 1, timeout_ms) == 1;
	for (;;) {
		if (atomic_load(&d->kick_seq) != seen || poll(&p, 1, 0) == 1)
			return 1;
		left = end - now_ms();
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000L;
		/*
		 * Announce the sleep, then look again: a kick in between is not
		 * lost.  A wake meant for an earlier sleep may end this one
		 * early; the loop looks again.
		 */
		atomic_fetch_add(&d->kick_sleepers, 1);
		if (atomic_load(&d->kick_seq) == seen)
			syscall(SYS_futex, &d->kick_seq, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
		atomic_fetch_sub(&d->kick_sleepers, 1);
	}
}

/* tcmu_handle_completion(): one response. */
static void complete_one(struct sim_dev *d, struct sim_cmd_st *st, struct tcmu_cmd_entry *e)
{
	struct sim_result *r = &st->res;
	bool data_in_only = st->data_in_len && !st->data_out_len;
	bool rl_valid = false;
	size_t read_len = st->data_in_len;

	r->scsi_status = e->rsp.scsi_status;
	r->unknown_op = e->hdr.uflags & TCMU_UFLAG_UNKNOWN_OP;
	if (e->hdr.uflags & TCMU_UFLAG_KEEP_BUF)
		sim_failf(d, "cmd %u completed with KEEP_BUF, which nobody asked for",
			  st->res.cmd_id);
	if (r->unknown_op) {
		r->scsi_status = SAM_STAT_CHECK_CONDITION;
		read_len = 0;
		goto done;
	}
	if (data_in_only && (e->hdr.uflags & TCMU_UFLAG_READ_LEN) && e->rsp.read_len) {
		rl_valid = true;
		if (e->rsp.read_len < read_len)
			read_len = e->rsp.read_len;
	}
	if (r->scsi_status == SAM_STAT_CHECK_CONDITION) {
		memcpy(r->sense, e->rsp.sense_buffer, sizeof(r->sense));
		if (!rl_valid)
			read_len = 0;
	}
	if (read_len && st->data_in_len && d->discard_data_in) {
		if (d->scratch_len < read_len) {
			free(d->scratch);
			d->scratch = malloc(read_len);
			d->scratch_len = d->scratch ? read_len : 0;
		}
		if (d->scratch)
			copy_blocks(d, st->blks + st->nblk_out, read_len, NULL, d->scratch);
	} else if (read_len && st->data_in_len) {
		r->data_in = malloc(read_len);
		if (r->data_in)
			copy_blocks(d, st->blks + st->nblk_out, read_len, NULL, r->data_in);
	}
done:
	r->read_len_valid = rl_valid;
	r->xfer_len = (uint32_t)read_len;
	r->residual = (uint32_t)(st->data_in_len - read_len);
	cmd_free_blocks(d, st);
	st->inflight = false;
	st->done = true;
	d->inflight--;
}

/* tcmu_handle_completions(), with k->lock held. */
static int handle_completions(struct sim_dev *d)
{
	uint32_t tail = __atomic_load_n(&d->mb->cmd_tail, __ATOMIC_ACQUIRE);
	int n = 0;

	if (d->broken)
		return -EIO;
	if (tail >= d->cmdr_size || tail % 8) {
		sim_failf(d, "cmd_tail %u is not a valid ring offset", tail);
		d->broken = true;
		return -EIO;
	}
	/* The tail may not pass entries the kernel has not queued. */
	if (spc_used(tail, d->last_cleaned, d->cmdr_size) >
	    spc_used(d->head, d->last_cleaned, d->cmdr_size)) {
		sim_failf(d, "cmd_tail %u ran past cmd_head %u", tail, d->head);
		d->broken = true;
		return -EIO;
	}
	while (d->last_cleaned != tail) {
		struct tcmu_cmd_entry *e = (struct tcmu_cmd_entry *)(d->cmdr + d->last_cleaned);
		uint32_t len = tcmu_hdr_get_len(e->hdr.len_op);
		uint8_t op = tcmu_hdr_get_op(e->hdr.len_op);
		struct sim_cmd_st *st;

		if (!len || len > d->cmdr_size - d->last_cleaned) {
			sim_failf(d, "entry at %u has length %u", d->last_cleaned, len);
			d->broken = true;
			return -EIO;
		}
		if (op == TCMU_OP_PAD || op == TCMU_OP_TMR) {
			d->last_cleaned = (d->last_cleaned + len) % d->cmdr_size;
			continue;
		}
		if (op != TCMU_OP_CMD)
			sim_failf(d, "WARN_ON: completion in an entry with op %u", op);
		st = d->cmds[e->hdr.cmd_id];
		if (!st || !st->inflight) {
			sim_failf(d, "cmd_id %u not found, ring is broken", e->hdr.cmd_id);
			d->broken = true;
			return -EIO;
		}
		complete_one(d, st, e);
		d->last_cleaned = (d->last_cleaned + len) % d->cmdr_size;
		n++;
	}
	return n;
}

int sim_reap(struct sim_dev *d, bool force)
{
	unsigned int kicks = 0;
	uint32_t buf;
	int ret = 0;

	uint32_t seq = atomic_load(&d->kick_seq);

	pthread_mutex_lock(&d->k->lock);
	while (recv(d->sim_fd, &buf, sizeof(buf), MSG_DONTWAIT) > 0) {
		kicks++;
		d->kicks++;
	}
	/* Kicks counted in memory (kops.uio_kick), then the completions. */
	kicks += seq - atomic_load_explicit(&d->kick_seen, memory_order_relaxed);
	d->kicks += seq - atomic_load_explicit(&d->kick_seen, memory_order_relaxed);
	atomic_store_explicit(&d->kick_seen, seq, memory_order_relaxed);
	if (kicks || force)
		ret = handle_completions(d);
	pthread_mutex_unlock(&d->k->lock);
	return ret;
}

unsigned int sim_kicks(struct sim_dev *d)
{
	unsigned int n;

	pthread_mutex_lock(&d->k->lock);
	n = d->kicks;
	pthread_mutex_unlock(&d->k->lock);
	return n;
}

int sim_result(struct sim_dev *d, uint16_t cmd_id, struct sim_result *out)
{
	struct sim_cmd_st *st;
	int ret = 0;

	pthread_mutex_lock(&d->k->lock);
	st = d->cmds[cmd_id];
	if (!st || (!st->inflight && !st->done))
		ret = -ENOENT;
	else if (st->inflight)
		ret = -EINPROGRESS;
	else
		*out = st->res;
	pthread_mutex_unlock(&d->k->lock);
	return ret;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int sim_wait(struct sim_dev *d, uint16_t cmd_id, int timeout_ms, struct sim_result *out)
{
	long end = now_ms() + timeout_ms;
	int ret;

	for (;;) {
		ret = sim_result(d, cmd_id, out);
		if (ret != -EINPROGRESS)
			return ret;
		if (sim_broken(d))
			return -EIO;
		long left = end - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (sim_wait_kick(d, (int)left) == 1) {
			ret = sim_reap(d, false);
			if (ret < 0)
				return ret;
		}
	}
}

unsigned int sim_inflight(struct sim_dev *d)
{
	unsigned int n;

	pthread_mutex_lock(&d->k->lock);
	n = d->inflight;
	pthread_mutex_unlock(&d->k->lock);
	return n;
}

bool sim_broken(struct sim_dev *d)
{
	bool b;

	pthread_mutex_lock(&d->k->lock);
	b = d->broken;
	pthread_mutex_unlock(&d->k->lock);
	return b;
}

unsigned int sim_warnings(struct sim_dev *d)
{
	unsigned int n;

	pthread_mutex_lock(&d->k->lock);
	n = d->warnings;
	pthread_mutex_unlock(&d->k->lock);
	return n;
}

const char *sim_last_error(struct sim_dev *d)
{
	static __thread char copy[sizeof(d->last_err)];

	pthread_mutex_lock(&d->k->lock);
	memcpy(copy, d->last_err, sizeof(copy));
	pthread_mutex_unlock(&d->k->lock);
	return copy;
}

/* action/reset_ring: outstanding commands fail (1: BUSY, 2: CHECK CONDITION). */
void sim_ring_reset(struct sim_dev *d, int err_level)
{
	uint32_t i;

	for (i = 1; i < SIM_MAX_IDS; i++) {
		struct sim_cmd_st *st = d->cmds[i];

		if (!st || !st->inflight)
			continue;
		st->res.scsi_status = err_level == 2 ? SAM_STAT_CHECK_CONDITION : SAM_STAT_BUSY;
		st->res.xfer_len = 0;
		st->res.residual = (uint32_t)st->data_in_len;
		cmd_free_blocks(d, st);
		st->inflight = false;
		st->done = true;
		d->inflight--;
	}
	d->head = 0;
	d->last_cleaned = 0;
	d->broken = false;
	__atomic_store_n(&d->mb->cmd_tail, 0, __ATOMIC_RELEASE);
	tcmu_mb_store_head(d->mb, 0);
}

void sim_dev_free_ring(struct sim_dev *d)
{
	uint32_t i;

	for (i = 0; i < SIM_MAX_IDS; i++) {
		if (!d->cmds[i])
			continue;
		free(d->cmds[i]->blks);
		free(d->cmds[i]->res.data_in);
		free(d->cmds[i]);
		d->cmds[i] = NULL;
	}
}
