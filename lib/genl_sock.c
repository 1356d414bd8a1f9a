/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The real "TCM-USER" generic netlink socket (libnl-3): joins the "config"
 * multicast group, receives events, sends <cmd>_DONE replies and
 * SET_FEATURES.  Parsing of events is in genl_event.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "internal.h"

#define TCMU_GENL_FAMILY  "TCM-USER"
#define TCMU_GENL_GROUP	  "config"
#define TCMU_GENL_VERSION 2

struct genl_sock {
	struct nl_sock *sk;
	int family;
	tcmu_nl_msg_fn fn;
	void *fn_arg;
};

/* libnl errors are positive NLE_* codes; give callers an errno. */
static int nle_to_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_INVAL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int sock_valid_cb(struct nl_msg *msg, void *arg)
{
	struct genl_sock *gs = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (gs->fn)
		gs->fn(gs->fn_arg, nlh, nlh->nlmsg_len);
	return NL_OK;
}

static int sock_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	/* Our replies are sent without NLM_F_ACK: this is a refusal. */
	tcmu_err("kernel refused a netlink message (type %u): %s\n", err->msg.nlmsg_type,
		 strerror(err->error < 0 ? -err->error : err->error));
	return NL_SKIP;
}

int tcmu_genl_sock_open(void *arg, void **nl, int *fd)
{
	struct genl_sock *gs;
	struct nl_cb *cb;
	int grp, ret;

	gs = calloc(1, sizeof(*gs));
	if (!gs)
		return -ENOMEM;
	gs->sk = nl_socket_alloc();
	if (!gs->sk) {
		ret = -ENOMEM;
		goto err_free;
	}
	nl_socket_disable_seq_check(gs->sk);
	ret = genl_connect(gs->sk);
	if (ret < 0) {
		tcmu_err("cannot connect to generic netlink: %s\n", nl_geterror(ret));
		ret = nle_to_errno(ret);
		goto err_sock;
	}
	gs->family = genl_ctrl_resolve(gs->sk, TCMU_GENL_FAMILY);
	if (gs->family < 0) {
		tcmu_err("netlink family %s not found (is target_core_user loaded?): %s\n",
			 TCMU_GENL_FAMILY, nl_geterror(gs->family));
		ret = -ENOENT;
		goto err_sock;
	}
	grp = genl_ctrl_resolve_grp(gs->sk, TCMU_GENL_FAMILY, TCMU_GENL_GROUP);
	if (grp < 0) {
		tcmu_err("netlink group %s/%s not found: %s\n", TCMU_GENL_FAMILY, TCMU_GENL_GROUP,
			 nl_geterror(grp));
		ret = -ENOENT;
		goto err_sock;
	}
	ret = nl_socket_add_membership(gs->sk, grp);
	if (ret < 0) {
		tcmu_err("cannot join netlink group %s: %s\n", TCMU_GENL_GROUP, nl_geterror(ret));
		ret = nle_to_errno(ret);
		goto err_sock;
	}
	nl_socket_modify_cb(gs->sk, NL_CB_VALID, NL_CB_CUSTOM, sock_valid_cb, gs);
	cb = nl_socket_get_cb(gs->sk);
	if (cb) {
		nl_cb_err(cb, NL_CB_CUSTOM, sock_err_cb, gs);
		nl_cb_put(cb);
	}
	/* Room for bursts of events (many devices created at once). */
	if (nl_socket_set_buffer_size(gs->sk, 1 << 20, 0) < 0)
		tcmu_dbg("cannot enlarge the netlink receive buffer\n");
	ret = nl_socket_set_nonblocking(gs->sk);
	if (ret < 0) {
		ret = nle_to_errno(ret);
		goto err_sock;
	}
	*fd = nl_socket_get_fd(gs->sk);
	*nl = gs;
	return 0;

err_sock:
	nl_socket_free(gs->sk);
err_free:
	free(gs);
	return ret;
}

void tcmu_genl_sock_close(void *arg, void *nl)
{
	struct genl_sock *gs = nl;

	if (!gs)
		return;
	nl_socket_free(gs->sk);
	free(gs);
}

int tcmu_genl_sock_recv(void *arg, void *nl, tcmu_nl_msg_fn fn, void *fn_arg)
{
	struct genl_sock *gs = nl;
	int ret, overruns = 0;

	gs->fn = fn;
	gs->fn_arg = fn_arg;
	for (;;) {
		ret = nl_recvmsgs_default(gs->sk);
		if (ret >= 0)
			continue;
		if (ret == -NLE_AGAIN)
			return 0;
		if (ret == -NLE_NOMEM && overruns++ < 8) {
			/* ENOBUFS: the socket overran; keep reading what is left. */
			tcmu_err("netlink receive buffer overrun: device events were lost\n");
			continue;
		}
		tcmu_err("netlink receive failed: %s\n", nl_geterror(ret));
		return nle_to_errno(ret);
	}
}

int tcmu_genl_sock_reply(void *arg, void *nl, int cmd, uint32_t dev_id, int status)
{
	struct genl_sock *gs = nl;
	struct nl_msg *msg;
	int ret;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, gs->family, 0, 0, (uint8_t)cmd,
			 TCMU_GENL_VERSION)) {
		ret = -ENOMEM;
		goto out;
	}
	ret = nla_put_s32(msg, TCMU_ATTR_CMD_STATUS, status);
	if (!ret)
		ret = nla_put_u32(msg, TCMU_ATTR_DEVICE_ID, dev_id);
	if (ret < 0) {
		ret = nle_to_errno(ret);
		goto out;
	}
	ret = nl_send_auto(gs->sk, msg);
	ret = ret < 0 ? nle_to_errno(ret) : 0;
out:
	nlmsg_free(msg);
	return ret;
}

int tcmu_genl_sock_set_features(void *arg, void *nl)
{
	struct genl_sock *gs = nl;
	struct nl_sock *sk;
	struct nl_msg *msg;
	int ret;

	/* A private socket, so the ACK does not mix with multicast events. */
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	ret = genl_connect(sk);
	if (ret < 0)
		goto out_sock;
	msg = nlmsg_alloc();
	if (!msg) {
		ret = -NLE_NOMEM;
		goto out_sock;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, gs->family, 0, 0, TCMU_CMD_SET_FEATURES,
			 TCMU_GENL_VERSION) ||
	    nla_put_u8(msg, TCMU_ATTR_SUPP_KERN_CMD_REPLY, 1) < 0) {
		nlmsg_free(msg);
		ret = -NLE_NOMEM;
		goto out_sock;
	}
	ret = nl_send_sync(sk, msg); /* frees msg, waits for the ACK */
out_sock:
	nl_socket_free(sk);
	return ret < 0 ? nle_to_errno(ret) : 0;
}
