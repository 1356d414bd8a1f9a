// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The generic engine's entry points: per-device state, scsi_dispatch() on
 * the ring thread (UA, format, write protection, opcode table) and
 * scsi_exec_slow() on a worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine_priv.h"

int scsi_dev_create(struct tcmu_device *dev, const struct scsi_backend_ops *ops, void *be,
		    struct scsi_dev **out)
{
	struct scsi_dev *sd;
	int ret;

	if (!dev || !ops || !ops->read || !ops->write || (ops->find_by_naa && !ops->put))
		return -EINVAL;
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->dev = dev;
	sd->ops = ops;
	sd->be = be;
	ret = -pthread_mutex_init(&sd->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_mutex_init(&sd->caw_lock, NULL);
	if (ret)
		goto err_lock;

	sd->serial = tcmu_cfgfs_dev_get_wwn(dev);
	scsi_naa6_from_serial(sd->serial, sd->naa);
	sd->wce_default = tcmu_dev_get_write_cache_enabled(dev);
	atomic_init(&sd->wce, sd->wce_default);
	atomic_init(&sd->ua_capacity, false);
	atomic_init(&sd->formatting, false);
	atomic_init(&sd->format_progress, 0);
	atomic_init(&sd->alua_state, ALUA_STATE_NONE);
	atomic_init(&sd->alua_impl_id, -1);
	atomic_init(&sd->ha_lock, SCSI_HA_NONE);
	scsi_alua_refresh(sd);
	*out = sd;
	return 0;

err_lock:
	pthread_mutex_destroy(&sd->lock);
err_free:
	free(sd);
	return ret;
}

void scsi_dev_destroy(struct scsi_dev *sd)
{
	bool join;

	if (!sd)
		return;
	pthread_mutex_lock(&sd->lock);
	join = sd->format_thread_valid;
	sd->format_thread_valid = false;
	pthread_mutex_unlock(&sd->lock);
	if (join)
		pthread_join(sd->format_thread, NULL);

	pthread_mutex_destroy(&sd->caw_lock);
	pthread_mutex_destroy(&sd->lock);
	free(sd->serial);
	free(sd);
}

struct tcmu_device *scsi_dev_tcmu(struct scsi_dev *sd)
{
	return sd->dev;
}

bool scsi_dev_naa(struct scsi_dev *sd, uint8_t naa[16])
{
	if (!sd->serial)
		return false;
	memcpy(naa, sd->naa, 16);
	return true;
}

void scsi_dev_capacity_changed(struct scsi_dev *sd)
{
	atomic_store(&sd->ua_capacity, true);
}

bool scsi_dev_wce(struct scsi_dev *sd)
{
	return atomic_load(&sd->wce);
}

void scsi_ctx_init(struct scsi_ctx *c, struct scsi_dev *sd, struct tcmur_cmd *cmd)
{
	c->dev = sd->dev;
	c->sd = sd;
	c->cmd = cmd;
	c->lc = cmd->lib_cmd;
	c->cdb = c->lc->cdb;
	c->iov = c->lc->iovec;
	c->iov_cnt = c->lc->iov_cnt;
	c->data_len = tcmu_iovec_length(c->iov, c->iov_cnt);
	c->num_lbas = tcmu_dev_get_num_lbas(c->dev);
	c->block_size = tcmu_dev_get_block_size(c->dev);
}

void scsi_ctx_caps(struct scsi_ctx *c, struct scsi_caps *caps)
{
	scsi_caps_from_dev(c->dev, caps);
	caps->serial = c->sd->serial;
	caps->num_lbas = c->num_lbas;
	caps->block_size = c->block_size;
	caps->unmap = scsi_be_has(c->sd, unmap);
	caps->lbprz = caps->unmap;
	caps->caw = true;
	caps->xcopy = true;
	caps->wce = scsi_dev_wce(c->sd);
	caps->wce_default = c->sd->wce_default;
	/* Turning the cache off only makes sense when there is one to flush. */
	caps->wce_changeable = scsi_be_has(c->sd, flush) && c->sd->wce_default;
	/* FUA is honoured by the backend or emulated with a flush. */
	caps->fua = true;
}

/*
 * Only for a short Data-In (underflow): READ_LEN makes the kernel complete
 * with target_complete_cmd_with_length().  A full or overflowed buffer
 * completes without it (docs/scsi-engine.md, "Residuals").
 */
void scsi_set_read_len(struct scsi_ctx *c, size_t len)
{
	if (len < c->data_len)
		tcmulib_cmd_set_read_len(c->lc, len);
}

uint64_t scsi_xfer_bytes(struct scsi_ctx *c, uint32_t nr_blocks)
{
	uint64_t want = (uint64_t)nr_blocks * c->block_size;
	uint64_t have = c->data_len - c->data_len % c->block_size;

	return want < have ? want : have;
}

int scsi_check_lba(struct scsi_ctx *c, uint64_t lba, uint64_t nr_blocks)
{
	if (lba > c->num_lbas || nr_blocks > c->num_lbas - lba)
		return TCMU_STS_RANGE;
	return TCMU_STS_OK;
}

static void format_sense(struct scsi_ctx *c)
{
	tcmu_sense_set_progress(c->lc->sense_buf, atomic_load(&c->sd->format_progress));
}

enum scsi_class scsi_dispatch(struct scsi_dev *sd, struct tcmur_cmd *cmd, struct scsi_rw *rw,
			      int *sts)
{
	enum scsi_class cls = SCSI_CLASS_DONE;
	const struct scsi_op *op;
	struct scsi_ctx c;

	scsi_ctx_init(&c, sd, cmd);
	memset(rw, 0, sizeof(*rw));
	op = scsi_op_lookup(c.cdb);

	if ((!op || !(op->flags & OPF_NO_UA)) && atomic_load(&c.sd->ua_capacity) &&
	    atomic_exchange(&c.sd->ua_capacity, false)) {
		*sts = TCMU_STS_CAPACITY_CHANGED;
		return SCSI_CLASS_DONE;
	}
	if ((!op || !(op->flags & OPF_IN_FORMAT)) && atomic_load(&c.sd->formatting)) {
		format_sense(&c);
		*sts = TCMU_STS_FRMT_IN_PROGRESS;
		return SCSI_CLASS_DONE;
	}
	if (!op && scsi_op_known_opcode(c.cdb[0])) {
		/* A known opcode with a service action we do not implement. */
		tcmu_sense_set_field_pointer(c.lc->sense_buf, true, 1, 4);
		*sts = TCMU_STS_INVALID_CDB;
		return SCSI_CLASS_DONE;
	}
	if (!op || !scsi_op_supported(op, &c)) {
		tcmu_cdb_print_info(c.dev, c.lc, NULL); /* debug level only */
		*sts = TCMU_STS_INVALID_CMD;
		return SCSI_CLASS_DONE;
	}
	/* Reserved and unsupported bits, NACA and LINK included. */
	*sts = scsi_check_cdb_usage(&c, op);
	if (*sts != TCMU_STS_OK)
		return SCSI_CLASS_DONE;
	/* ALUA access state of the local port group (one atomic load). */
	*sts = scsi_alua_check(&c, op);
	if (*sts != TCMU_STS_OK)
		return SCSI_CLASS_DONE;
	if ((op->flags & OPF_WRITE) && tcmu_dev_get_write_protect_enabled(c.dev)) {
		*sts = TCMU_STS_WRITE_PROTECTED;
		return SCSI_CLASS_DONE;
	}

	*sts = op->fast(&c, rw, &cls);
	if (*sts != TCMU_STS_OK)
		return SCSI_CLASS_DONE;
	if (cls == SCSI_CLASS_SLOW && !op->slow) {
		*sts = TCMU_STS_HW_ERR;
		return SCSI_CLASS_DONE;
	}
	return cls;
}

int scsi_exec_slow(struct scsi_dev *sd, struct tcmur_cmd *cmd)
{
	const struct scsi_op *op;
	struct scsi_ctx c;

	scsi_ctx_init(&c, sd, cmd);
	op = scsi_op_lookup(c.cdb);
	if (!op || !op->slow)
		return TCMU_STS_INVALID_CMD;
	return op->slow(&c);
}
