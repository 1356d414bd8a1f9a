// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The mapping from a ublk request to the handler's callouts, and from the
 * callout's TCMU_STS_* status back to a block-layer result.  Pure functions:
 * the unit test runs them without a kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ublk.h"

void tublk_plan_request(const struct tublk_caps *c, uint32_t op_flags, uint64_t start_sector,
			uint32_t nr_sectors, struct tublk_plan *pl)
{
	unsigned int op = op_flags & 0xff;

	memset(pl, 0, sizeof(*pl));
	pl->off = start_sector << 9;
	pl->len = (uint64_t)nr_sectors << 9;

	if (op == UBLKA_IO_OP_FLUSH) {
		/* Without a flush callout there is no cache to write back. */
		pl->call = c->flush ? TUBLK_CALL_FLUSH : TUBLK_CALL_NONE;
		return;
	}
	if (op > UBLKA_IO_OP_WRITE_ZEROES || op == UBLKA_IO_OP_WRITE_SAME) {
		pl->call = TUBLK_CALL_NONE;
		pl->err = -EOPNOTSUPP;
		return;
	}
	if (c->block_size && (pl->off % c->block_size || pl->len % c->block_size)) {
		pl->call = TUBLK_CALL_NONE;
		pl->err = -EINVAL;
		return;
	}
	if (pl->off > c->size || pl->len > c->size - pl->off) {
		pl->call = TUBLK_CALL_NONE;
		pl->err = -EIO;
		return;
	}
	switch (op) {
	case UBLKA_IO_OP_READ:
		pl->call = c->read ? TUBLK_CALL_READ : TUBLK_CALL_NONE;
		break;
	case UBLKA_IO_OP_WRITE:
		pl->call = c->write ? TUBLK_CALL_WRITE : TUBLK_CALL_NONE;
		if (op_flags & UBLKA_IO_F_FUA) {
			if (c->fua_native)
				pl->fua = true;
			else if (c->flush)
				pl->flush_after = true;
		}
		break;
	case UBLKA_IO_OP_DISCARD:
		pl->call = c->unmap ? TUBLK_CALL_UNMAP : TUBLK_CALL_NONE;
		break;
	case UBLKA_IO_OP_WRITE_ZEROES:
		pl->call = c->writesame ? TUBLK_CALL_WRITE_ZEROS : TUBLK_CALL_NONE;
		break;
	}
	if (pl->call == TUBLK_CALL_NONE)
		pl->err = -EOPNOTSUPP;
}

int tublk_sts_errno(int sts)
{
	switch (sts) {
	case TCMU_STS_OK:
		return 0;
	case TCMU_STS_RANGE:
		return -EINVAL;
	case TCMU_STS_NO_RESOURCE:
	case TCMU_STS_INSUFFICIENT_RESOURCES:
		return -ENOMEM;
	case TCMU_STS_BUSY:
	case TCMU_STS_TIMEOUT:
	case TCMU_STS_TRANSITION:
		return -EAGAIN;
	case TCMU_STS_WRITE_PROTECTED:
		return -EROFS;
	case TCMU_STS_MEDIUM_NOT_PRESENT:
		return -ENOMEDIUM;
	case TCMU_STS_INVALID_CMD:
	case TCMU_STS_NOT_HANDLED:
		return -EOPNOTSUPP;
	case TCMU_STS_FENCED:
	case TCMU_STS_ALUA_UNAVAILABLE:
	case TCMU_STS_ALUA_OFFLINE:
		return -ENOLINK;
	default:
		return -EIO;
	}
}

int tublk_result(const struct tublk_plan *pl, int sts)
{
	if (pl->call == TUBLK_CALL_NONE)
		return pl->err;
	if (sts != TCMU_STS_OK)
		return tublk_sts_errno(sts);
	if (pl->call == TUBLK_CALL_READ || pl->call == TUBLK_CALL_WRITE)
		return (int)pl->len;
	return 0;
}

int tublk_handler_usable(const struct tcmur_handler *h, char *err, size_t errlen)
{
	if (h->read && h->write)
		return 0;
	if (h->handle_cmd)
		snprintf(err, errlen,
			 "handler '%s' serves SCSI commands only (handle_cmd, no read/write "
			 "callouts); ublk carries block requests, not SCSI: use it through LIO "
			 "(tcmu-runner) instead",
			 h->subtype);
	else
		snprintf(err, errlen, "handler '%s' has no read/write callouts", h->subtype);
	return -EOPNOTSUPP;
}

int tublk_cfg_subtype(const char *cfg, char *out, size_t outlen)
{
	const char *s = cfg, *slash;
	size_t n;

	/* ";daemon options;" first, as for LIO. */
	if (*s == ';') {
		const char *end = strrchr(s + 1, ';');

		if (!end)
			return -EINVAL;
		s = end + 1;
	}
	slash = strchr(s, '/');
	if (!slash || slash == s)
		return -EINVAL;
	n = (size_t)(slash - s);
	if (n >= outlen)
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}
