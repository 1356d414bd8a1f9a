/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The command ring: taking entries off it (with bounds checks on every
 * field the kernel gave us) and writing completions back.  Mailbox access
 * goes through ring_barrier.h only.
 *
 * Positions: dev->cons (processing thread) is the next entry to read;
 * dev->ctail (under dev->lock) is where the next response goes and equals
 * mb->cmd_tail.  Every CMD entry between ctail and cons has been copied into
 * a slot, so a response may overwrite it.  With CAP_OOOC the k-th
 * completion goes into the k-th CMD entry after the tail whatever its id;
 * without it completions are held and released in ring order.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ring_barrier.h"
#include "scsi_defs.h"

#define ENTRY_HDR_LEN sizeof(struct tcmu_cmd_entry_hdr)
#define ENTRY_MIN_LEN sizeof(struct tcmu_cmd_entry)
#define ENTRY_IOV_OFF offsetof(struct tcmu_cmd_entry, req.iov)
#define RSP_SENSE_OFF offsetof(struct tcmu_cmd_entry, rsp.sense_buffer)
/* Commands stamped with one clock read at most (start_ns). */
#define CLOCK_EVERY 64

static inline struct tcmu_cmd_entry *ring_entry(struct tcmu_device *dev, uint32_t off)
{
	return (struct tcmu_cmd_entry *)(dev->cmdr + off);
}

static inline uint32_t ring_len_op(struct tcmu_device *dev, uint32_t off)
{
	/* Read the kernel's word once; everything after uses the copy. */
	return *(volatile uint32_t *)(dev->cmdr + off);
}

static inline uint32_t ring_add(struct tcmu_device *dev, uint32_t pos, uint32_t len)
{
	return (pos + len) % dev->cmdr_size;
}

int tcmu_ring_init(struct tcmu_device *dev)
{
	struct tcmu_mailbox *mb = dev->map;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint32_t off, size, tail;

	if (dev->map_size < sizeof(*mb)) {
		tcmu_dev_err(dev, "map of %zu bytes cannot hold the mailbox\n", dev->map_size);
		return -EINVAL;
	}
	if (tcmu_mb_version(mb) != TCMU_MAILBOX_VERSION) {
		tcmu_dev_err(dev, "mailbox version %u, only %u is supported\n", tcmu_mb_version(mb),
			     TCMU_MAILBOX_VERSION);
		return -EINVAL;
	}
	off = tcmu_mb_cmdr_off(mb);
	size = tcmu_mb_cmdr_size(mb);
	if (off < sizeof(*mb) || size < ENTRY_MIN_LEN || size % TCMU_OP_ALIGN_SIZE ||
	    (uint64_t)off + size > dev->map_size) {
		tcmu_dev_err(dev, "bad ring geometry: cmdr_off %u cmdr_size %u map %zu\n", off,
			     size, dev->map_size);
		return -EINVAL;
	}
	dev->mb = mb;
	dev->cmdr = (uint8_t *)dev->map + off;
	dev->cmdr_size = size;
	dev->data_off = ((uint64_t)off + size + page - 1) / page * page;
	if (dev->data_off > dev->map_size)
		dev->data_off = dev->map_size;
	dev->mb_flags = tcmu_mb_flags(mb);
	/* The kernel's capabilities, for comparing kernels (VM suite kfeatures). */
	tcmu_dev_dbg(dev, "mailbox version %u flags 0x%x, ring %u bytes, data area %llu bytes\n",
		     tcmu_mb_version(mb), dev->mb_flags, size,
		     (unsigned long long)(dev->map_size - dev->data_off));

	tail = tcmu_mb_load_tail(mb);
	if (tail >= size || tail % TCMU_OP_ALIGN_SIZE) {
		tcmu_dev_err(dev, "cmd_tail %u is outside the ring of %u bytes\n", tail, size);
		return -EINVAL;
	}
	dev->cons = tail;
	dev->ctail = tail;
	atomic_store_explicit(&dev->cons_pub, tail, memory_order_release);
	return 0;
}

/* Is [base, base+len) inside the data area? */
static bool data_range_ok(struct tcmu_device *dev, uint64_t base, uint64_t len)
{
	return base >= dev->data_off && base <= dev->map_size && len <= dev->map_size - base;
}

/* Step over PAD and TMR entries in [pos, cons): the kernel's walk skips them. */
static uint32_t ring_skip_passed(struct tcmu_device *dev, uint32_t pos, uint32_t cons)
{
	uint32_t len_op;
	uint8_t op;

	while (pos != cons) {
		len_op = ring_len_op(dev, pos);
		op = tcmu_hdr_get_op(len_op);
		if (op != TCMU_OP_PAD && op != TCMU_OP_TMR)
			break;
		pos = ring_add(dev, pos, tcmu_hdr_get_len(len_op));
	}
	return pos;
}

/*
 * Write one response at the completion position and move the tail.  Called
 * with dev->lock held.  PAD and TMR entries the consumer has passed are
 * skipped, as the kernel's completion walk skips them.
 */
static void ring_put_rsp(struct tcmu_device *dev, uint16_t cmd_id, uint8_t status, uint8_t uflags,
			 uint32_t read_len, const uint8_t *sense)
{
	uint32_t cons = atomic_load_explicit(&dev->cons_pub, memory_order_acquire);
	uint32_t pos = dev->ctail, len_op, len;
	struct tcmu_cmd_entry *e;
	uint8_t *p;

	pos = ring_skip_passed(dev, pos, cons);
	if (pos == cons) {
		/* Cannot happen while each consumed entry completes once. */
		tcmu_dev_err(dev, "no ring entry left for the completion of cmd %u\n", cmd_id);
		return;
	}
	len_op = ring_len_op(dev, pos);
	len = tcmu_hdr_get_len(len_op);
	e = ring_entry(dev, pos);
	e->hdr.cmd_id = cmd_id;
	e->hdr.kflags = 0;
	e->hdr.uflags = uflags;
	/* Entries are at least ENTRY_MIN_LEN unless malformed: stay inside. */
	p = (uint8_t *)e;
	if (len > offsetof(struct tcmu_cmd_entry, rsp.scsi_status))
		p[offsetof(struct tcmu_cmd_entry, rsp.scsi_status)] = status;
	if (len >= offsetof(struct tcmu_cmd_entry, rsp.read_len) + sizeof(uint32_t))
		memcpy(p + offsetof(struct tcmu_cmd_entry, rsp.read_len), &read_len,
		       sizeof(read_len));
	if (status == SAM_STAT_CHECK_CONDITION && sense && len > RSP_SENSE_OFF) {
		size_t n = len - RSP_SENSE_OFF;

		memcpy(p + RSP_SENSE_OFF, sense,
		       n < TCMU_SENSE_BUFFERSIZE ? n : TCMU_SENSE_BUFFERSIZE);
	}
	pos = ring_add(dev, pos, len);

	/* Let the tail run over trailing PAD/TMR entries the consumer passed. */
	pos = ring_skip_passed(dev, pos, cons);
	dev->ctail = pos;
	tcmu_mb_store_tail(dev->mb, pos);
}

/* Release held completions in ring order (no CAP_OOOC).  Under dev->lock. */
static void ring_drain_fifo(struct tcmu_device *dev)
{
	struct tcmu_slot *s;

	while ((s = dev->fifo_head) && s->state == TCMU_SLOT_DONE) {
		dev->fifo_head = s->next;
		if (!dev->fifo_head)
			dev->fifo_tail = NULL;
		ring_put_rsp(dev, s->cmd.cmd_id, s->scsi_status, s->uflags, s->cmd.read_len,
			     s->cmd.sense_buf);
		tcmu_slot_put_locked(dev, s);
	}
}

static inline bool dev_oooc(struct tcmu_device *dev)
{
	return dev->mb_flags & TCMU_MAILBOX_FLAG_CAP_OOOC;
}

/* Finish a slot: any thread. */
static void ring_finish(struct tcmu_device *dev, struct tcmu_slot *s, uint8_t status,
			uint8_t uflags)
{
	pthread_mutex_lock(&dev->lock);
	if (dev_oooc(dev)) {
		ring_put_rsp(dev, s->cmd.cmd_id, status, uflags, s->cmd.read_len, s->cmd.sense_buf);
		tcmu_slot_put_locked(dev, s);
	} else {
		s->scsi_status = status;
		s->uflags = uflags;
		s->state = TCMU_SLOT_DONE;
		ring_drain_fifo(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	atomic_store_explicit(&dev->kick_pending, true, memory_order_release);
}

/*
 * Complete an entry we will not deliver (malformed, unknown op).  cons has
 * already moved past it.  Processing thread.
 */
static void ring_reject(struct tcmu_device *dev, struct tcmu_slot *s, int sts, uint8_t uflags)
{
	uint8_t status;

	memset(s->cmd.sense_buf, 0, sizeof(s->cmd.sense_buf));
	s->cmd.read_len = 0;
	status = uflags & TCMU_UFLAG_UNKNOWN_OP ? SAM_STAT_CHECK_CONDITION
						: (uint8_t)tcmu_sts_to_scsi(sts, s->cmd.sense_buf);
	ring_finish(dev, s, status, uflags);
}

static int cdb_len_for(const uint8_t *cdb, uint32_t avail, uint32_t *len)
{
	static const uint8_t group_len[8] = { 6, 10, 10, 12, 16, 12, 0, 0 };
	uint8_t group = cdb[0] >> 5;

	if (cdb[0] == 0x7f) {
		if (avail < 8)
			return -EINVAL;
		*len = 8u + cdb[7];
	} else if (group_len[group]) {
		*len = group_len[group];
	} else {
		/* Vendor specific: whatever the kernel left, the engine rejects it. */
		*len = avail < TCMU_CDB_VENDOR_MAX ? avail : TCMU_CDB_VENDOR_MAX;
		return 0;
	}
	return *len <= avail ? 0 : -ERANGE;
}

/*
 * Validate a CMD entry and copy it into s.  Returns 0, or the TCMU_STS_*
 * the entry must be failed with (after logging why).
 */
static int ring_parse_cmd(struct tcmu_device *dev, uint32_t off, uint32_t len, struct tcmu_slot *s)
{
	struct tcmu_cmd_entry *e = ring_entry(dev, off);
	uint64_t iov_total, iov_room, cdb_off, data_len = 0;
	uint32_t iov_cnt, bidi, dif, cdb_ring, avail, cdb_len, i;
	struct iovec *kiov;
	int ret;

	if (len < ENTRY_MIN_LEN) {
		tcmu_dev_err(dev, "ring entry at %u: length %u is below %zu\n", off, len,
			     ENTRY_MIN_LEN);
		return TCMU_STS_HW_ERR;
	}
	iov_cnt = e->req.iov_cnt;
	bidi = e->req.iov_bidi_cnt;
	dif = e->req.iov_dif_cnt;
	cdb_off = e->req.cdb_off;
	iov_total = (uint64_t)iov_cnt + bidi + dif;
	iov_room = (len - ENTRY_IOV_OFF) / sizeof(struct iovec);
	if (iov_total > iov_room) {
		tcmu_dev_err(dev, "ring entry at %u: %llu iovecs do not fit in %u bytes\n", off,
			     (unsigned long long)iov_total, len);
		return TCMU_STS_HW_ERR;
	}
	if (cdb_off < (uint64_t)(dev->cmdr - (uint8_t *)dev->map) ||
	    cdb_off - (uint64_t)(dev->cmdr - (uint8_t *)dev->map) >= dev->cmdr_size) {
		tcmu_dev_err(dev, "ring entry at %u: cdb_off %llu is outside the ring\n", off,
			     (unsigned long long)cdb_off);
		return TCMU_STS_HW_ERR;
	}
	cdb_ring = (uint32_t)(cdb_off - (uint64_t)(dev->cmdr - (uint8_t *)dev->map));
	avail = dev->cmdr_size - cdb_ring;
	/* A CDB inside its own entry may not run past the entry. */
	if (cdb_ring >= off && cdb_ring < off + len && off + len - cdb_ring < avail)
		avail = off + len - cdb_ring;
	ret = cdb_len_for(dev->cmdr + cdb_ring, avail, &cdb_len);
	if (ret) {
		tcmu_dev_err(dev, "ring entry at %u: CDB 0x%02x needs more than %u bytes\n", off,
			     dev->cmdr[cdb_ring], avail);
		return ret == -ERANGE ? TCMU_STS_INVALID_CDB : TCMU_STS_HW_ERR;
	}
	memcpy(s->cdb, dev->cmdr + cdb_ring, cdb_len);

	if ((iov_cnt > s->iov_cap || !s->iov_cap) &&
	    tcmu_slot_iov_reserve(s, iov_cnt ? iov_cnt : 1)) {
		tcmu_dev_err(dev, "ring entry at %u: no memory for %u iovecs\n", off, iov_cnt);
		return TCMU_STS_NO_RESOURCE;
	}
	/* Entries are 8-byte aligned in the ring, so the array is too. */
	kiov = (struct iovec *)(void *)((uint8_t *)e + ENTRY_IOV_OFF);
	for (i = 0; i < iov_total; i++) {
		uint64_t base = (uint64_t)(uintptr_t)kiov[i].iov_base;
		uint64_t l = kiov[i].iov_len;

		if (!data_range_ok(dev, base, l)) {
			tcmu_dev_err(dev,
				     "ring entry at %u: iovec %u [%llu, +%llu) is outside "
				     "the data area [%llu, %zu)\n",
				     off, i, (unsigned long long)base, (unsigned long long)l,
				     (unsigned long long)dev->data_off, dev->map_size);
			return TCMU_STS_HW_ERR;
		}
		if (i < iov_cnt) {
			s->iov[i].iov_base = (uint8_t *)dev->map + base;
			s->iov[i].iov_len = (size_t)l;
			data_len += l;
		}
	}
	if (data_len > UINT32_MAX) {
		tcmu_dev_err(dev, "ring entry at %u: %llu data bytes\n", off,
			     (unsigned long long)data_len);
		return TCMU_STS_HW_ERR;
	}
	s->cmd.cdb_len = cdb_len;
	s->cmd.iovec = s->iov;
	s->cmd.iov_cnt = iov_cnt;
	s->cmd.data_len = (uint32_t)data_len;
	return 0;
}

static void ring_handle_tmr(struct tcmu_device *dev, uint32_t off, uint32_t len)
{
	struct tcmu_tmr_entry *t = (struct tcmu_tmr_entry *)(dev->cmdr + off);
	uint32_t cnt;

	if (len < sizeof(*t)) {
		tcmu_dev_err(dev, "TMR entry at %u: length %u is too short\n", off, len);
		return;
	}
	cnt = t->cmd_cnt;
	if (cnt > (len - sizeof(*t)) / sizeof(uint16_t)) {
		tcmu_dev_err(dev, "TMR entry at %u: %u ids do not fit in %u bytes\n", off, cnt,
			     len);
		return;
	}
	tcmu_dev_dbg(dev, "TMR type %u for %u command(s)\n", t->tmr_type, cnt);
	if (dev->handler && dev->handler->tmr_notify)
		dev->handler->tmr_notify(dev, t->tmr_type, cnt,
					 (const uint16_t *)(void *)((uint8_t *)t + sizeof(*t)));
}

static void ring_advance_cons(struct tcmu_device *dev, uint32_t len)
{
	dev->cons = ring_add(dev, dev->cons, len);
	atomic_store_explicit(&dev->cons_pub, dev->cons, memory_order_release);
}

static void ring_kill(struct tcmu_device *dev, uint32_t off, uint32_t len_op, uint32_t head)
{
	dev->ring_dead = true;
	tcmu_dev_err(dev,
		     "corrupt ring entry at %u (len_op 0x%x, head %u, ring %u bytes): "
		     "no longer consuming commands on this device\n",
		     off, len_op, head, dev->cmdr_size);
}

struct tcmulib_cmd *tcmulib_get_next_command(struct tcmu_device *dev, int hm_cmd_size)
{
	struct tcmu_slot *s;
	uint32_t head, off, len_op, len, used;
	int sts;

	if (dev->hm_cmd_size < 0) {
		dev->hm_cmd_size = hm_cmd_size > 0 ? hm_cmd_size : 0;
	} else if (hm_cmd_size > dev->hm_cmd_size) {
		tcmu_dev_err(dev, "hm_cmd_size grew from %d to %d; commands stay queued\n",
			     dev->hm_cmd_size, hm_cmd_size);
		return NULL;
	}
	if (dev->ring_dead || !dev->mb)
		return NULL;

	head = tcmu_mb_load_head(dev->mb);
	if (head >= dev->cmdr_size || head % TCMU_OP_ALIGN_SIZE) {
		ring_kill(dev, dev->cons, 0, head);
		return NULL;
	}
	while (dev->cons != head) {
		off = dev->cons;
		len_op = ring_len_op(dev, off);
		len = tcmu_hdr_get_len(len_op);
		used = (head + dev->cmdr_size - off) % dev->cmdr_size;
		if (!len || len % TCMU_OP_ALIGN_SIZE || len > dev->cmdr_size - off || len > used) {
			ring_kill(dev, off, len_op, head);
			return NULL;
		}

		switch (tcmu_hdr_get_op(len_op)) {
		case TCMU_OP_PAD:
			ring_advance_cons(dev, len);
			continue;
		case TCMU_OP_TMR:
			ring_handle_tmr(dev, off, len);
			ring_advance_cons(dev, len);
			continue;
		default:
			break;
		}

		s = tcmu_slot_get(dev);
		if (!s) {
			tcmu_dev_err(dev, "out of memory for command slots; retrying later\n");
			return NULL;
		}
		s->ring_off = off;
		s->ring_len = len;
		s->cmd.cmd_id = ring_entry(dev, off)->hdr.cmd_id;
		s->cmd.read_len = 0;
		s->cmd.read_len_valid = false;
		s->state = TCMU_SLOT_INFLIGHT;

		if (tcmu_hdr_get_op(len_op) != TCMU_OP_CMD) {
			tcmu_dev_err(dev, "ring entry at %u: unknown op %u, failing cmd %u\n", off,
				     tcmu_hdr_get_op(len_op), s->cmd.cmd_id);
			sts = -1;
		} else {
			sts = ring_parse_cmd(dev, off, len, s);
		}

		if (!dev_oooc(dev)) {
			pthread_mutex_lock(&dev->lock);
			if (dev->fifo_tail)
				dev->fifo_tail->next = s;
			else
				dev->fifo_head = s;
			dev->fifo_tail = s;
			pthread_mutex_unlock(&dev->lock);
		}
		ring_advance_cons(dev, len);

		if (sts) {
			ring_reject(dev, s, sts < 0 ? TCMU_STS_INVALID_CMD : sts,
				    sts < 0 ? TCMU_UFLAG_UNKNOWN_OP : 0);
			continue;
		}

		memset(s->cmd.sense_buf, 0, sizeof(s->cmd.sense_buf));
		if (s->cmd.hm_private && dev->hm_cmd_size)
			memset(s->cmd.hm_private, 0, (size_t)dev->hm_cmd_size);
		/*
		 * start_ns is for latency figures and timeouts: one clock read
		 * per processing pass (until the ring is found empty, or the
		 * next tcmulib_processing_start), and at least every
		 * CLOCK_EVERY commands of a pass that never ends, is precise
		 * enough.
		 */
		if (!dev->pass_clock_left) {
			dev->pass_ns = tcmulib_now_ns();
			dev->pass_clock_left = CLOCK_EVERY;
		}
		dev->pass_clock_left--;
		s->cmd.start_ns = dev->pass_ns;
		atomic_fetch_add_explicit(&dev->inflight, 1, memory_order_relaxed);
		return &s->cmd;
	}
	dev->pass_clock_left = 0;
	return NULL;
}

void tcmulib_command_complete(struct tcmu_device *dev, struct tcmulib_cmd *cmd, int result)
{
	struct tcmu_slot *s = (struct tcmu_slot *)cmd;
	uint8_t uflags = 0;
	int status;

	if (!cmd || s->dev != dev || s->state != TCMU_SLOT_INFLIGHT) {
		tcmu_dev_err(dev, "completion of a command that is not in flight (%p), ignored\n",
			     (void *)cmd);
		return;
	}
	status = tcmu_sts_to_scsi(result, cmd->sense_buf);
	if (cmd->read_len_valid && (dev->mb_flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN))
		uflags |= TCMU_UFLAG_READ_LEN;
	atomic_fetch_sub_explicit(&dev->inflight, 1, memory_order_relaxed);
	ring_finish(dev, s, (uint8_t)status, uflags);
}

void tcmulib_cmd_set_read_len(struct tcmulib_cmd *cmd, uint32_t read_len)
{
	cmd->read_len = read_len;
	cmd->read_len_valid = true;
}

unsigned int tcmulib_dev_inflight(struct tcmu_device *dev)
{
	return atomic_load_explicit(&dev->inflight, memory_order_relaxed);
}

bool tcmulib_commands_pending(struct tcmu_device *dev)
{
	return dev->mb && !dev->ring_dead && tcmu_mb_load_head(dev->mb) != dev->cons;
}

void tcmulib_processing_start(struct tcmu_device *dev)
{
	uint32_t buf;
	ssize_t n;

	dev->pass_clock_left = 0;
	/* UIO: one read clears the event count, whatever its value. */
	n = read(dev->fd, &buf, sizeof(buf));
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		tcmu_dev_warn(dev, "read of the uio fd failed: %m\n");
}

void tcmulib_processing_complete(struct tcmu_device *dev)
{
	const struct tcmu_kops *ops = dev->ctx->ops;
	uint32_t buf = 0;
	int ret;

	if (!atomic_exchange_explicit(&dev->kick_pending, false, memory_order_acq_rel))
		return;
	if (ops->uio_kick) {
		ret = ops->uio_kick(ops->arg, dev->fd);
		if (ret)
			tcmu_dev_err(dev, "kick failed: %s\n", strerror(-ret));
	} else if (write(dev->fd, &buf, sizeof(buf)) != sizeof(buf)) {
		tcmu_dev_err(dev, "kick of the uio fd failed: %m\n");
	}
}
