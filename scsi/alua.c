// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * ALUA in the engine: REPORT TARGET PORT GROUPS, SET TARGET PORT GROUPS,
 * the TPGS bits and port designators of INQUIRY, and the access state
 * check of scsi_dispatch() (SPC-4 5.15, 6.37, 6.45).
 *
 * A device has ALUA when configfs holds a target port group besides
 * default_tg_pt_gp (see alua.h for the "local port" limitation).  Groups
 * are re-read from configfs on each INQUIRY/RTPG/STPG; the local group's
 * state is cached in scsi_dev.alua_state for the per-command check.
 *
 * SET TARGET PORT GROUPS writes the group's alua_access_state in configfs.
 * The kernel refuses that write when it leaves ALUA to userspace
 * (alua_support=0: core_alua_do_port_transition() returns -ENODEV), so a
 * refused write is kept as a per-group-id override in the daemon, which
 * then wins over the configfs value until the daemon exits.  Offline is a
 * secondary (per port) state: it is kept per relative port id and cleared
 * by any primary state change of the port's group.
 *
 * With an HA handler's lock (daemon/ha.c), STPG moving the local group to
 * an active state waits for the lock, and moving it to Standby or
 * Unavailable releases it (stpg_ha(), SCSI_CLASS_LOCK/UNLOCK in engine.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

static void apply_overrides(struct scsi_dev *sd, struct alua_info *info)
{
	unsigned int i, j;

	pthread_mutex_lock(&sd->lock);
	for (i = 0; i < info->ngroups; i++) {
		struct alua_group *g = &info->groups[i];

		for (j = 0; j < ALUA_MAX_GROUPS; j++) {
			if (sd->alua_ovr[j].used && sd->alua_ovr[j].id == g->id) {
				g->state = sd->alua_ovr[j].state;
				g->status = 1; /* altered by SET TARGET PORT GROUPS */
			}
		}
	}
	pthread_mutex_unlock(&sd->lock);
}

static bool port_offline(struct scsi_dev *sd, uint16_t rtpi)
{
	unsigned int i;
	bool off = false;

	pthread_mutex_lock(&sd->lock);
	for (i = 0; i < sd->alua_noffline; i++)
		off |= sd->alua_offline[i] == rtpi;
	pthread_mutex_unlock(&sd->lock);
	return off;
}

/*
 * Implicit ALUA with an HA handler's lock (daemon/ha.c): the local group is
 * Active/Optimized while this node holds the lock, Active/Non-optimized
 * otherwise.  Not Standby: Linux scsi_dh_alua fails I/O to a Standby path
 * without sending it, so the first write could never start the lock
 * acquisition, and an implicit-only group cannot be moved by STPG.  An
 * inaccessible state set in configfs (Standby, Unavailable, ...) is kept.
 */
static void apply_ha_lock(struct scsi_dev *sd, struct alua_info *info)
{
	int ha = atomic_load_explicit(&sd->ha_lock, memory_order_relaxed);
	struct alua_group *g;

	if (info->local_group < 0)
		return;
	g = &info->groups[info->local_group];
	if (ha == SCSI_HA_NONE || !(g->type & ALUA_TYPE_IMPLICIT))
		return;
	if (g->state != ALUA_AO && g->state != ALUA_ANO)
		return;
	g->state = ha == SCSI_HA_LOCKED ? ALUA_AO : ALUA_ANO;
	g->status = 2; /* altered by implicit transition */
}

void scsi_dev_set_ha_lock(struct scsi_dev *sd, int state)
{
	atomic_store_explicit(&sd->ha_lock, state, memory_order_relaxed);
}

int scsi_dev_implicit_group(struct scsi_dev *sd)
{
	return atomic_load_explicit(&sd->alua_impl_id, memory_order_relaxed);
}

void scsi_dev_alua_reload(struct scsi_dev *sd)
{
	scsi_alua_refresh(sd);
}

static void cache_local_state(struct scsi_dev *sd, const struct alua_info *info)
{
	const struct alua_group *g;
	int state = ALUA_STATE_NONE, impl = -1;

	if (info->local_group >= 0) {
		g = &info->groups[info->local_group];
		state = g->state;
		/* Standby/Unavailable (set by STPG or configfs): no implicit lock. */
		if ((g->type & ALUA_TYPE_IMPLICIT) && (state == ALUA_AO || state == ALUA_ANO))
			impl = g->id;
		if (port_offline(sd, g->ports[info->local_port].rtpi))
			state = ALUA_OFFLINE;
	}
	atomic_store(&sd->alua_impl_id, impl);
	atomic_store(&sd->alua_state, state);
}

int scsi_alua_load(struct scsi_dev *sd, struct alua_info **out)
{
	int ret;

	ret = alua_cfgfs_load(sd->dev, out);
	if (ret) {
		tcmu_dev_dbg(sd->dev, "ALUA: cannot read groups: %s\n", strerror(-ret));
		return ret;
	}
	apply_overrides(sd, *out);
	apply_ha_lock(sd, *out);
	cache_local_state(sd, *out);
	return 0;
}

void scsi_alua_refresh(struct scsi_dev *sd)
{
	struct alua_info *info;

	if (!scsi_alua_load(sd, &info))
		free(info);
}

bool scsi_alua_enabled(struct scsi_ctx *c)
{
	return alua_cfgfs_enabled(c->dev);
}

/*
 * Commands allowed in each inaccessible state follow SPC-4 5.15.2.4 and
 * the kernel's core_alua_state_*() (the OPF_ALUA_* flags of the opcode
 * table).  Everything else ends with NOT READY, LOGICAL UNIT NOT
 * ACCESSIBLE and the state's ASCQ.
 */
int scsi_alua_check(struct scsi_ctx *c, const struct scsi_op *op)
{
	int state = atomic_load_explicit(&c->sd->alua_state, memory_order_relaxed);

	switch (state) {
	case ALUA_STATE_NONE:
	case ALUA_AO:
	case ALUA_ANO:
	case ALUA_LBA_DEPENDENT:
		return TCMU_STS_OK;
	case ALUA_STANDBY:
		return op->flags & OPF_ALUA_SB ? TCMU_STS_OK : TCMU_STS_FENCED;
	case ALUA_UNAVAILABLE:
		return op->flags & OPF_ALUA_UA ? TCMU_STS_OK : TCMU_STS_ALUA_UNAVAILABLE;
	case ALUA_OFFLINE:
		return op->flags & OPF_ALUA_UA ? TCMU_STS_OK : TCMU_STS_ALUA_OFFLINE;
	case ALUA_TRANSITIONING:
	default:
		return op->flags & OPF_ALUA_TR ? TCMU_STS_OK : TCMU_STS_TRANSITION;
	}
}

/* --- INQUIRY ----------------------------------------------------------- */

static size_t put_port_designators(const struct alua_group *g, const struct alua_port *p,
				   uint8_t *b, size_t room)
{
	uint8_t piv = p->proto_id >= 0 ? 0x80 : 0x00;
	uint8_t proto = p->proto_id >= 0 ? (uint8_t)(p->proto_id << 4) : 0x00;
	char name[ALUA_WWN_LEN + 16];
	size_t n, pad, pos = 0;

	n = (size_t)snprintf(name, sizeof(name), "%s,t,0x%04x", p->wwn, p->tpgt) + 1;
	pad = (n + 3) & ~(size_t)3;
	if (room < 8 + 8 + 4 + pad || pad > 252)
		return 0;

	/* Relative target port identifier. */
	b[pos] = proto | 0x01;
	b[pos + 1] = piv | 0x10 | 0x04;
	b[pos + 3] = 4;
	scsi_put_be16(&b[pos + 6], p->rtpi);
	pos += 8;
	/* Target port group. */
	b[pos] = 0x01;
	b[pos + 1] = 0x10 | 0x05;
	b[pos + 3] = 4;
	scsi_put_be16(&b[pos + 6], g->id);
	pos += 8;
	/* SCSI name string of the target port, UTF-8, NUL padded. */
	b[pos] = proto | 0x03;
	b[pos + 1] = piv | 0x10 | 0x08;
	b[pos + 3] = pad;
	memset(&b[pos + 4], 0, pad);
	memcpy(&b[pos + 4], name, n);
	pos += 4 + pad;
	return pos;
}

void scsi_alua_inquiry_caps(struct scsi_ctx *c, struct scsi_caps *caps, uint8_t *desig, size_t room)
{
	const struct alua_group *g;
	struct alua_info *info;

	if (scsi_alua_load(c->sd, &info))
		return;
	if (info->ngroups) {
		caps->tpgs = ALUA_TYPE_IMPLICIT; /* "None": all active, implicit */
		if (info->local_group >= 0) {
			g = &info->groups[info->local_group];
			if (g->type)
				caps->tpgs = g->type;
			caps->port_desig = desig;
			caps->port_desig_len =
				put_port_designators(g, &g->ports[info->local_port], desig, room);
		}
	}
	free(info);
}

/* --- REPORT TARGET PORT GROUPS ---------------------------------------- */

int scsi_fast_rtpg(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint32_t alloc_len = scsi_get_be32(&c->cdb[6]);
	uint8_t fmt = c->cdb[1] >> 5;
	struct alua_info *info;
	size_t pos, len;
	uint8_t *buf;
	unsigned int i, j;
	int ret;

	if (fmt > 1) {
		tcmu_sense_set_field_pointer(c->lc->sense_buf, true, 1, 7);
		return TCMU_STS_INVALID_CDB;
	}
	if (scsi_alua_load(c->sd, &info))
		return TCMU_STS_HW_ERR;
	ret = TCMU_STS_INVALID_CMD; /* the last group went away meanwhile */
	if (!info->ngroups)
		goto out;
	ret = TCMU_STS_HW_ERR;
	len = 8 + (size_t)ALUA_MAX_GROUPS * (8 + 4 * ALUA_MAX_PORTS);
	buf = calloc(1, len);
	if (!buf)
		goto out;

	pos = fmt ? 8 : 4;
	for (i = 0; i < info->ngroups; i++) {
		const struct alua_group *g = &info->groups[i];
		uint8_t *d = &buf[pos];

		d[0] = (g->pref ? 0x80 : 0x00) | (g->state & 0x0f);
		d[1] = g->supported;
		scsi_put_be16(&d[2], g->id);
		d[5] = g->status;
		d[7] = g->nports;
		pos += 8;
		for (j = 0; j < g->nports; j++) {
			scsi_put_be16(&buf[pos + 2], g->ports[j].rtpi);
			pos += 4;
		}
	}
	scsi_put_be32(&buf[0], pos - 4);
	if (fmt) {
		buf[4] = 0x10; /* format type 001b: extended header */
		if (info->local_group >= 0)
			buf[5] = info->groups[info->local_group].trans_secs;
	}
	scsi_set_read_len(c, scsi_respond(c->iov, c->iov_cnt, buf, pos, alloc_len));
	free(buf);
	ret = TCMU_STS_OK;
out:
	free(info);
	return ret;
}

/* --- SET TARGET PORT GROUPS ------------------------------------------- */

struct stpg_change {
	int group; /* index into info->groups */
	int port;  /* Offline: index into the group's ports */
	uint8_t state;
};

static int find_group(const struct alua_info *info, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < info->ngroups; i++)
		if (info->groups[i].id == id)
			return i;
	return -1;
}

static int find_port(const struct alua_info *info, uint16_t rtpi, int *port)
{
	unsigned int i, j;

	for (i = 0; i < info->ngroups; i++) {
		for (j = 0; j < info->groups[i].nports; j++) {
			if (info->groups[i].ports[j].rtpi == rtpi) {
				*port = j;
				return i;
			}
		}
	}
	return -1;
}

static uint8_t state_sup_bit(uint8_t state)
{
	switch (state) {
	case ALUA_AO:
		return ALUA_AO_SUP;
	case ALUA_ANO:
		return ALUA_AN_SUP;
	case ALUA_STANDBY:
		return ALUA_S_SUP;
	case ALUA_UNAVAILABLE:
		return ALUA_U_SUP;
	case ALUA_OFFLINE:
		return ALUA_O_SUP;
	default:
		return 0; /* LBA dependent, transitioning: not settable */
	}
}

static void set_override(struct scsi_dev *sd, uint16_t id, uint8_t state, bool keep)
{
	unsigned int i, slot = ALUA_MAX_GROUPS;

	pthread_mutex_lock(&sd->lock);
	for (i = 0; i < ALUA_MAX_GROUPS; i++) {
		if (sd->alua_ovr[i].used && sd->alua_ovr[i].id == id)
			sd->alua_ovr[i].used = false;
		if (!sd->alua_ovr[i].used && slot == ALUA_MAX_GROUPS)
			slot = i;
	}
	if (keep && slot < ALUA_MAX_GROUPS) {
		sd->alua_ovr[slot].used = true;
		sd->alua_ovr[slot].id = id;
		sd->alua_ovr[slot].state = state;
	}
	pthread_mutex_unlock(&sd->lock);
}

static void set_port_offline(struct scsi_dev *sd, const struct alua_group *g, int port,
			     bool offline)
{
	unsigned int i, j;

	pthread_mutex_lock(&sd->lock);
	/* Drop the group's ports (or the one port), then add it back if asked. */
	for (i = 0; i < sd->alua_noffline;) {
		bool drop = false;

		for (j = 0; j < g->nports; j++)
			if ((port < 0 || (int)j == port) && sd->alua_offline[i] == g->ports[j].rtpi)
				drop = true;
		if (drop)
			sd->alua_offline[i] = sd->alua_offline[--sd->alua_noffline];
		else
			i++;
	}
	if (offline && port >= 0 && sd->alua_noffline < ALUA_MAX_PORTS)
		sd->alua_offline[sd->alua_noffline++] = g->ports[port].rtpi;
	pthread_mutex_unlock(&sd->lock);
}

static void stpg_apply(struct scsi_ctx *c, const struct alua_info *info,
		       const struct stpg_change *ch)
{
	const struct alua_group *g = &info->groups[ch->group];
	int ret;

	if (ch->state == ALUA_OFFLINE) {
		set_port_offline(c->sd, g, ch->port, true);
		return;
	}
	set_port_offline(c->sd, g, -1, false);
	ret = alua_cfgfs_set_state(c->dev, g->name, ch->state);
	if (ret)
		tcmu_dev_dbg(c->dev,
			     "ALUA: configfs refused state %u for group %s (%s): "
			     "kept in the daemon\n",
			     ch->state, g->name, strerror(-ret));
	set_override(c->sd, g->id, ch->state, ret != 0);
	tcmu_dev_info(c->dev,
		      "ALUA: group %s (id %u) set to state %u by SET TARGET PORT "
		      "GROUPS\n",
		      g->name, g->id, ch->state);
}

/*
 * An HA handler's lock follows the local group (daemon/ha.c): a change to
 * Active/Optimized or Active/Non-optimized while the lock is not held waits
 * for it (SCSI_CLASS_LOCK, nothing applied; true), a change to Standby or
 * Unavailable while it is held is applied, then the lock released
 * (SCSI_CLASS_UNLOCK; false).  The last descriptor naming the local group
 * wins, like the order stpg_apply() runs them in.  Offline is per port: the
 * group's state and the lock stay.
 */
static bool stpg_ha(struct scsi_ctx *c, const struct alua_info *info, const struct stpg_change *ch,
		    unsigned int n, struct scsi_rw *rw, enum scsi_class *cls)
{
	int ha = atomic_load_explicit(&c->sd->ha_lock, memory_order_relaxed);
	int state = -1;
	unsigned int i;

	if (ha == SCSI_HA_NONE)
		return false;
	for (i = 0; i < n; i++)
		if (ch[i].group == info->local_group && ch[i].state != ALUA_OFFLINE)
			state = ch[i].state;
	rw->ha_tag = info->groups[info->local_group].id;
	if ((state == ALUA_AO || state == ALUA_ANO) && ha == SCSI_HA_UNLOCKED) {
		*cls = SCSI_CLASS_LOCK;
		return true;
	}
	if ((state == ALUA_STANDBY || state == ALUA_UNAVAILABLE) && ha == SCSI_HA_LOCKED)
		*cls = SCSI_CLASS_UNLOCK;
	return false;
}

int scsi_fast_stpg(struct scsi_ctx *c, struct scsi_rw *rw, enum scsi_class *cls)
{
	uint32_t list_len = scsi_get_be32(&c->cdb[6]);
	struct stpg_change ch[ALUA_MAX_GROUPS * 2];
	unsigned int n = 0, i;
	struct alua_info *info;
	uint8_t *list = NULL;
	size_t len;
	int ret;

	if (scsi_alua_load(c->sd, &info))
		return TCMU_STS_HW_ERR;
	/* Like the kernel: no local group or no explicit ALUA there. */
	ret = TCMU_STS_INVALID_CMD;
	if (!info->ngroups || info->local_group < 0 ||
	    !(info->groups[info->local_group].type & ALUA_TYPE_EXPLICIT))
		goto out;
	ret = TCMU_STS_OK;
	len = list_len < c->data_len ? list_len : c->data_len;
	if (!list_len)
		goto out;
	ret = TCMU_STS_INVALID_PARAM_LIST_LEN;
	if (len < 4 || len % 4)
		goto out;
	ret = TCMU_STS_HW_ERR;
	list = malloc(len);
	if (!list)
		goto out;
	scsi_iov_read_at(c->iov, c->iov_cnt, 0, list, len);

	/* Validate everything first: a bad descriptor changes nothing. */
	ret = TCMU_STS_INVALID_PARAM_LIST;
	for (i = 4; i < len; i += 4) {
		uint8_t state = list[i] & 0x0f;
		uint16_t id = scsi_get_be16(&list[i + 2]);
		int gi, port = -1;

		if (n == sizeof(ch) / sizeof(ch[0]))
			goto out;
		if (state == ALUA_OFFLINE)
			gi = find_port(info, id, &port); /* secondary: a port */
		else
			gi = find_group(info, id);
		if (gi < 0) {
			tcmu_dev_dbg(c->dev, "ALUA: STPG names unknown %s %u\n",
				     state == ALUA_OFFLINE ? "port" : "group", id);
			goto out;
		}
		if (!state_sup_bit(state) || !(info->groups[gi].supported & state_sup_bit(state))) {
			tcmu_dev_dbg(c->dev, "ALUA: STPG state %u not supported by group %u\n",
				     state, info->groups[gi].id);
			goto out;
		}
		ch[n].group = gi;
		ch[n].port = port;
		ch[n].state = state;
		n++;
	}
	ret = TCMU_STS_OK;
	if (stpg_ha(c, info, ch, n, rw, cls))
		goto out; /* the lock first: applied when dispatched again */
	for (i = 0; i < n; i++)
		stpg_apply(c, info, &ch[i]);
out:
	free(list);
	free(info);
	scsi_alua_refresh(c->sd);
	return ret;
}
