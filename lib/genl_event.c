/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Decoding of "TCM-USER" netlink events (ADDED/REMOVED/RECONFIG) into
 * context.c calls, and the serialised <cmd>_DONE replies.  Works on raw
 * netlink messages so the simulator exercises the same checks.
 */
#include <errno.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "internal.h"

static struct nla_policy tcmu_attr_policy[TCMU_ATTR_MAX + 1] = {
	[TCMU_ATTR_DEVICE] = { .type = NLA_STRING },
	[TCMU_ATTR_MINOR] = { .type = NLA_U32 },
	[TCMU_ATTR_DEV_CFG] = { .type = NLA_STRING },
	[TCMU_ATTR_DEV_SIZE] = { .type = NLA_U64 },
	[TCMU_ATTR_WRITECACHE] = { .type = NLA_U8 },
	[TCMU_ATTR_CMD_STATUS] = { .type = NLA_S32 },
	[TCMU_ATTR_DEVICE_ID] = { .type = NLA_U32 },
	[TCMU_ATTR_SUPP_KERN_CMD_REPLY] = { .type = NLA_U8 },
};

/* A NUL-terminated, non-empty string attribute, or NULL. */
static const char *attr_str(struct nlattr *a)
{
	const char *s;
	int len;

	if (!a)
		return NULL;
	len = nla_len(a);
	s = nla_data(a);
	if (len < 2 || s[len - 1] != '\0' || strlen(s) != (size_t)len - 1)
		return NULL;
	return s;
}

void tcmu_genl_reply(struct tcmulib_context *ctx, int cmd, uint32_t dev_id, int status)
{
	int ret;

	pthread_mutex_lock(&ctx->nl_send_lock);
	ret = ctx->ops->nl_reply(ctx->ops->arg, ctx->nl, cmd, dev_id, status);
	pthread_mutex_unlock(&ctx->nl_send_lock);
	if (ret)
		tcmu_err("netlink reply %d (status %d) for device id %u failed: %s\n", cmd, status,
			 dev_id, strerror(-ret));
	else
		tcmu_dbg("netlink reply %d status %d device id %u\n", cmd, status, dev_id);
}

static const char *cmd_name(int cmd)
{
	switch (cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		return "ADDED_DEVICE";
	case TCMU_CMD_REMOVED_DEVICE:
		return "REMOVED_DEVICE";
	case TCMU_CMD_RECONFIG_DEVICE:
		return "RECONFIG_DEVICE";
	default:
		return "?";
	}
}

void tcmu_genl_handle_msg(void *arg, struct nlmsghdr *nlh, size_t len)
{
	struct tcmulib_context *ctx = arg;
	struct nlattr *tb[TCMU_ATTR_MAX + 1];
	struct tcmulib_cfg_info info;
	struct genlmsghdr *gh;
	const char *name, *cfg;
	uint32_t minor, dev_id;
	int ret;

	if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    nlh->nlmsg_len > len) {
		tcmu_err("netlink message of %zu bytes (nlmsg_len %u) is truncated, ignored\n", len,
			 len >= NLMSG_HDRLEN ? nlh->nlmsg_len : 0);
		return;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return; /* NOOP/DONE/ERROR handled by the transport */
	gh = nlmsg_data(nlh);
	ret = genlmsg_parse(nlh, 0, tb, TCMU_ATTR_MAX, tcmu_attr_policy);
	if (ret < 0) {
		tcmu_err("netlink command %u has malformed attributes (%s)\n", gh->cmd,
			 nl_geterror(ret));
		/* If it names a device, fail the event rather than leave the kernel waiting. */
		if (gh->cmd >= TCMU_CMD_ADDED_DEVICE && gh->cmd <= TCMU_CMD_RECONFIG_DEVICE &&
		    genlmsg_parse(nlh, 0, tb, TCMU_ATTR_MAX, NULL) >= 0 &&
		    tb[TCMU_ATTR_DEVICE_ID] && nla_len(tb[TCMU_ATTR_DEVICE_ID]) == 4)
			tcmu_genl_reply(ctx, gh->cmd + 3, nla_get_u32(tb[TCMU_ATTR_DEVICE_ID]),
					-EINVAL);
		return;
	}
	if (gh->cmd < TCMU_CMD_ADDED_DEVICE || gh->cmd > TCMU_CMD_RECONFIG_DEVICE) {
		tcmu_dbg("netlink command %u is not an event, ignored\n", gh->cmd);
		return;
	}

	dev_id = tb[TCMU_ATTR_DEVICE_ID] ? nla_get_u32(tb[TCMU_ATTR_DEVICE_ID]) : 0;
	if (!tb[TCMU_ATTR_MINOR]) {
		tcmu_err("netlink %s without a MINOR attribute, ignored\n", cmd_name(gh->cmd));
		if (dev_id)
			tcmu_genl_reply(ctx, gh->cmd + 3, dev_id, -EINVAL);
		return;
	}
	minor = nla_get_u32(tb[TCMU_ATTR_MINOR]);

	switch (gh->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		name = attr_str(tb[TCMU_ATTR_DEVICE]);
		if (!name) {
			tcmu_err("netlink ADDED_DEVICE for uio%u without a valid DEVICE name\n",
				 minor);
			if (dev_id)
				tcmu_genl_reply(ctx, TCMU_CMD_ADDED_DEVICE_DONE, dev_id, -EINVAL);
			return;
		}
		tcmu_ctx_add_device(ctx, minor, name, dev_id, false);
		break;
	case TCMU_CMD_REMOVED_DEVICE:
		tcmu_ctx_remove_device(ctx, minor, dev_id);
		break;
	case TCMU_CMD_RECONFIG_DEVICE:
		memset(&info, 0, sizeof(info));
		if (tb[TCMU_ATTR_DEV_CFG]) {
			cfg = attr_str(tb[TCMU_ATTR_DEV_CFG]);
			if (!cfg)
				goto bad_reconfig;
			info.type = TCMULIB_CFG_DEV_CFGSTR;
			info.data.dev_cfgstring = (char *)cfg;
		} else if (tb[TCMU_ATTR_DEV_SIZE]) {
			info.type = TCMULIB_CFG_DEV_SIZE;
			info.data.dev_size = nla_get_u64(tb[TCMU_ATTR_DEV_SIZE]);
		} else if (tb[TCMU_ATTR_WRITECACHE]) {
			info.type = TCMULIB_CFG_WRITE_CACHE;
			info.data.write_cache = nla_get_u8(tb[TCMU_ATTR_WRITECACHE]);
		} else {
			goto bad_reconfig;
		}
		tcmu_ctx_reconfig_device(ctx, minor, dev_id, &info);
		break;
	}
	return;

bad_reconfig:
	tcmu_err("netlink RECONFIG_DEVICE for uio%u has no valid DEV_CFG/DEV_SIZE/WRITECACHE\n",
		 minor);
	if (dev_id)
		tcmu_genl_reply(ctx, TCMU_CMD_RECONFIG_DEVICE_DONE, dev_id, -EINVAL);
}
