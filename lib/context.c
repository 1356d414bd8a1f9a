/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The libtcmu context: handlers, the device list, the master (netlink) fd,
 * startup discovery with ring recovery, and the add/remove/reconfig events
 * with their (possibly deferred) replies to the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct tcmulib_handler *tcmu_ctx_find_handler(struct tcmulib_context *ctx, const char *cfg)
{
	struct tcmulib_handler *h = NULL;
	const char *sub;
	size_t len, i;

	if (tcmu_cfgstr_subtype(cfg, &sub, &len))
		return NULL;
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->n_handlers; i++) {
		const char *s = ctx->handlers[i]->subtype;

		if (s && strlen(s) == len && !memcmp(s, sub, len)) {
			h = ctx->handlers[i];
			break;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	return h;
}

static struct tcmu_device *ctx_find_dev(struct tcmulib_context *ctx, unsigned int minor)
{
	struct tcmu_device *dev;

	pthread_mutex_lock(&ctx->lock);
	for (dev = ctx->devs; dev; dev = dev->next)
		if (dev->minor == minor)
			break;
	pthread_mutex_unlock(&ctx->lock);
	return dev;
}

static void ctx_unlink_dev(struct tcmulib_context *ctx, struct tcmu_device *dev)
{
	struct tcmu_device **pp;

	pthread_mutex_lock(&ctx->lock);
	for (pp = &ctx->devs; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
}

/*
 * Conclude the event pending on dev: apply its outcome, then reply.  A
 * failed add and any remove free the device first, so that by the time the
 * kernel hears back we hold nothing of it.
 */
static void event_finish(struct tcmu_device *dev, int status)
{
	struct tcmulib_context *ctx = dev->ctx;
	int cmd = dev->pending_cmd;
	uint32_t dev_id = dev->dev_id;
	bool free_dev = false;

	dev->pending_cmd = 0;
	dev->defer = false;
	switch (cmd) {
	case TCMU_CMD_ADDED_DEVICE_DONE:
	case 0:				/* adopted at startup: no reply */
		if (status < 0)
			free_dev = true;
		else
			dev->added = true;
		break;
	case TCMU_CMD_REMOVED_DEVICE_DONE:
		free_dev = true;
		break;
	default:
		break;
	}
	if (free_dev) {
		ctx_unlink_dev(ctx, dev);
		tcmu_dev_close(dev);
	}
	if (cmd && dev_id)
		tcmu_genl_reply(ctx, cmd, dev_id, status);
}

void tcmulib_defer_event(struct tcmu_device *dev)
{
	dev->defer = true;
}

void tcmulib_event_done(struct tcmu_device *dev, int status)
{
	event_finish(dev, status);
}

static void recover_ring(struct tcmu_device *dev, bool block)
{
	/* Missing files mean an old kernel: the action helper logs at debug. */
	tcmu_cfgfs_dev_exec_action(dev, "block_dev", block ? 1 : 0);
	if (block)
		tcmu_cfgfs_dev_exec_action(dev, "reset_ring", 1);
}

/*
 * Adopt uio<minor>.  From a netlink ADDED event (replies to the kernel) or
 * from startup discovery (recover: the ring may hold commands of a process
 * that died, so block the device and reset its ring first).  Main thread.
 */
int tcmu_ctx_add_device(struct tcmulib_context *ctx, unsigned int minor, const char *name,
			uint32_t dev_id, bool recover)
{
	int reply_cmd = recover ? 0 : TCMU_CMD_ADDED_DEVICE_DONE;
	struct tcmulib_handler *h;
	struct tcmu_device *dev;
	unsigned int hba;
	const char *cfg, *sub;
	char dname[256];
	size_t sublen;
	int ret;

	if (tcmu_parse_uio_name(name, &hba, dname, sizeof(dname), &cfg)) {
		tcmu_err("uio%u: bad device name \"%s\"\n", minor, name);
		ret = -EINVAL;
		goto err_reply;
	}
	h = tcmu_ctx_find_handler(ctx, cfg);
	if (!h) {
		if (tcmu_cfgstr_subtype(cfg, &sub, &sublen)) {
			sub = cfg;
			sublen = strlen(cfg);
		}
		if (recover) {
			tcmu_dbg("uio%u: no handler for subtype \"%.*s\", left alone\n", minor,
				 (int)sublen, sub);
			return -ENOENT;
		}
		tcmu_err("uio%u (%s): no handler for subtype \"%.*s\"\n", minor, dname,
			 (int)sublen, sub);
		ret = -ENOENT;
		goto err_reply;
	}
	if (ctx_find_dev(ctx, minor)) {
		/* Found by discovery and announced again: already served. */
		tcmu_info("uio%u (%s) is already open\n", minor, dname);
		ret = 0;
		goto err_reply;
	}
	ret = tcmu_dev_open(ctx, minor, name, dev_id, &dev);
	if (ret)
		goto err_reply;
	dev->handler = h;
	if (recover)
		recover_ring(dev, true);
	ret = tcmu_ring_init(dev);
	if (ret) {
		if (recover)
			recover_ring(dev, false);
		tcmu_dev_close(dev);
		goto err_reply;
	}

	pthread_mutex_lock(&ctx->lock);
	dev->next = ctx->devs;
	ctx->devs = dev;
	pthread_mutex_unlock(&ctx->lock);

	dev->pending_cmd = reply_cmd;
	dev->defer = false;
	ret = h->added ? h->added(dev) : 0;
	if (ret < 0)
		tcmu_dev_err(dev, "handler %s refused the device: %s\n", h->subtype,
			     strerror(-ret));
	if (recover)
		recover_ring(dev, false);
	if (dev->defer && ret >= 0)
		return 0;
	event_finish(dev, ret < 0 ? ret : 0);
	return ret < 0 ? ret : 0;

err_reply:
	if (reply_cmd && dev_id)
		tcmu_genl_reply(ctx, reply_cmd, dev_id, ret);
	return ret;
}

/* Main thread.  Devices that are not ours get no reply. */
void tcmu_ctx_remove_device(struct tcmulib_context *ctx, unsigned int minor, uint32_t dev_id)
{
	struct tcmu_device *dev = ctx_find_dev(ctx, minor);

	if (!dev) {
		tcmu_dbg("REMOVED_DEVICE for uio%u, which is not ours\n", minor);
		return;
	}
	if (dev_id)
		dev->dev_id = dev_id;
	dev->pending_cmd = TCMU_CMD_REMOVED_DEVICE_DONE;
	dev->defer = false;
	if (dev->added && dev->handler->removed)
		dev->handler->removed(dev);
	if (!dev->defer)
		event_finish(dev, 0);
}

void tcmu_ctx_reconfig_device(struct tcmulib_context *ctx, unsigned int minor,
			      uint32_t dev_id, struct tcmulib_cfg_info *info)
{
	struct tcmu_device *dev = ctx_find_dev(ctx, minor);
	char *cfg = NULL;
	int ret;

	if (!dev) {
		tcmu_dbg("RECONFIG_DEVICE for uio%u, which is not ours\n", minor);
		return;
	}
	if (dev_id)
		dev->dev_id = dev_id;
	if (!dev->handler->reconfig) {
		tcmu_dev_info(dev, "handler %s does not support reconfiguration\n",
			      dev->handler->subtype);
		tcmu_genl_reply(ctx, TCMU_CMD_RECONFIG_DEVICE_DONE, dev->dev_id, -EOPNOTSUPP);
		return;
	}
	if (info->type == TCMULIB_CFG_DEV_CFGSTR) {
		cfg = strdup(info->data.dev_cfgstring);
		if (!cfg) {
			tcmu_genl_reply(ctx, TCMU_CMD_RECONFIG_DEVICE_DONE, dev->dev_id, -ENOMEM);
			return;
		}
	}
	dev->pending_cmd = TCMU_CMD_RECONFIG_DEVICE_DONE;
	dev->defer = false;
	dev->cfgstring_set = false;
	ret = dev->handler->reconfig(dev, info);
	if (ret > 0)
		ret = 0;
	/*
	 * The new cfgstring is kept when the handler accepted it (not deferred)
	 * and did not store its own version with tcmu_dev_set_cfgstring().
	 */
	if (cfg && !ret && !dev->defer && !dev->cfgstring_set) {
		free(dev->cfgstring);
		dev->cfgstring = cfg;
		cfg = NULL;
	}
	free(cfg);
	if (ret < 0)
		tcmu_dev_info(dev, "reconfig type %d refused: %s\n", info->type, strerror(-ret));
	if (!dev->defer || ret < 0)
		event_finish(dev, ret);
}

static void ctx_discover(struct tcmulib_context *ctx)
{
	char path[512], name[1024];
	struct dirent *de;
	unsigned int minor;
	char tail;
	DIR *d;

	snprintf(path, sizeof(path), "%s/class/uio", ctx->ops->sysfs_root);
	d = opendir(path);
	if (!d) {
		tcmu_dbg("no %s: no existing devices\n", path);
		return;
	}
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "uio%u%c", &minor, &tail) != 1)
			continue;
		if (tcmu_uio_read_name(ctx->ops->sysfs_root, minor, name, sizeof(name)))
			continue;
		if (strncmp(name, "tcm-user/", 9))
			continue;
		tcmu_ctx_add_device(ctx, minor, name, 0, true);
	}
	closedir(d);
}

static int ctx_add_handler(struct tcmulib_context *ctx, struct tcmulib_handler *h)
{
	struct tcmulib_handler **arr;
	size_t i;

	if (!h->subtype || !*h->subtype || strchr(h->subtype, '/')) {
		tcmu_err("handler \"%s\" has an invalid subtype\n", h->name ? h->name : "?");
		return -EINVAL;
	}
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < ctx->n_handlers; i++) {
		if (!strcmp(ctx->handlers[i]->subtype, h->subtype)) {
			pthread_mutex_unlock(&ctx->lock);
			tcmu_err("handler subtype \"%s\" is already registered\n", h->subtype);
			return -EEXIST;
		}
	}
	arr = realloc(ctx->handlers, (ctx->n_handlers + 1) * sizeof(*arr));
	if (!arr) {
		pthread_mutex_unlock(&ctx->lock);
		return -ENOMEM;
	}
	arr[ctx->n_handlers++] = h;
	ctx->handlers = arr;
	h->ctx = ctx;
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

struct tcmulib_context *tcmulib_initialize(struct tcmulib_handler *handlers,
					   size_t handler_count)
{
	struct tcmulib_context *ctx;
	size_t i;
	int ret;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->nl_send_lock, NULL);
	ctx->ops = tcmu_kops_get();
	ctx->nl_fd = -1;
	for (i = 0; i < handler_count; i++) {
		if (ctx_add_handler(ctx, &handlers[i]))
			goto err_free;
	}

	ret = ctx->ops->nl_open(ctx->ops->arg, &ctx->nl, &ctx->nl_fd);
	if (ret) {
		tcmu_err("cannot listen to TCM-USER netlink events: %s\n", strerror(-ret));
		goto err_free;
	}
	ret = ctx->ops->nl_set_features(ctx->ops->arg, ctx->nl);
	if (ret == -EOPNOTSUPP || ret == -EINVAL)
		tcmu_info("kernel does not wait for netlink replies (no SET_FEATURES)\n");
	else if (ret)
		tcmu_warn("SET_FEATURES failed: %s\n", strerror(-ret));

	/* Listen first, then look: a device added meanwhile is seen twice at worst. */
	ctx_discover(ctx);
	return ctx;

err_free:
	free(ctx->handlers);
	pthread_mutex_destroy(&ctx->nl_send_lock);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return NULL;
}

int tcmulib_register(struct tcmulib_context *ctx, struct tcmulib_handler *handler)
{
	return ctx_add_handler(ctx, handler);
}

int tcmulib_get_master_fd(struct tcmulib_context *ctx)
{
	return ctx->nl_fd;
}

int tcmulib_master_fd_ready(struct tcmulib_context *ctx)
{
	return ctx->ops->nl_recv(ctx->ops->arg, ctx->nl, tcmu_genl_handle_msg, ctx);
}

/* Close every device (handler removed() called, no kernel reply) and netlink. */
void tcmulib_close(struct tcmulib_context *ctx)
{
	struct tcmu_device *dev;

	if (!ctx)
		return;
	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		dev = ctx->devs;
		if (dev)
			ctx->devs = dev->next;
		pthread_mutex_unlock(&ctx->lock);
		if (!dev)
			break;
		if (dev->added && dev->handler->removed)
			dev->handler->removed(dev);
		tcmu_dev_close(dev);
	}
	ctx->ops->nl_close(ctx->ops->arg, ctx->nl);
	free(ctx->handlers);
	pthread_mutex_destroy(&ctx->nl_send_lock);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}
