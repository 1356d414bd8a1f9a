/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * Levelled logging for libtcmu, tcmu-runner and handlers.  Logging never
 * blocks the caller on file or syslog I/O: messages go through an
 * in-memory queue that a logger thread drains (see lib/log.c).
 */
#ifndef LIBTCMU_LOG_H
#define LIBTCMU_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;

#define TCMU_LOG_CRIT		0
#define TCMU_LOG_ERROR		1
#define TCMU_LOG_WARN		2
#define TCMU_LOG_INFO		3
#define TCMU_LOG_DEBUG		4
#define TCMU_LOG_DEBUG_SCSI_CMD 5

#define TCMU_LOG_DIR_DEFAULT "/var/log"
#define TCMU_LOG_FILENAME    "tcmu-runner.log"

void tcmu_set_log_level(int level);
int tcmu_get_log_level(void);
/*
 * Start file logging in dir (NULL: default precedence) to
 * <dir>/tcmu-runner.log, plus syslog when use_syslog.  Without it, messages
 * go to stderr.  Returns 0 or -errno.
 */
int tcmu_setup_log(const char *dir);
void tcmu_log_use_syslog(int enable);
int tcmu_log_reopen(void);	       /* SIGHUP */
int tcmu_log_set_dir(const char *dir); /* live change of log_dir */
const char *tcmu_log_get_dir(void);
void tcmu_destroy_log(void); /* flushes the queue */

void tcmu_log_message(struct tcmu_device *dev, int level, const char *func, int line,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define tcmu_log_(dev, lvl, ...)                                                                   \
	do {                                                                                       \
		if ((lvl) <= tcmu_get_log_level())                                                 \
			tcmu_log_message((dev), (lvl), __func__, __LINE__, __VA_ARGS__);           \
	} while (0)

#define tcmu_crit(...)	       tcmu_log_(NULL, TCMU_LOG_CRIT, __VA_ARGS__)
#define tcmu_err(...)	       tcmu_log_(NULL, TCMU_LOG_ERROR, __VA_ARGS__)
#define tcmu_warn(...)	       tcmu_log_(NULL, TCMU_LOG_WARN, __VA_ARGS__)
#define tcmu_info(...)	       tcmu_log_(NULL, TCMU_LOG_INFO, __VA_ARGS__)
#define tcmu_dbg(...)	       tcmu_log_(NULL, TCMU_LOG_DEBUG, __VA_ARGS__)
#define tcmu_dbg_scsi_cmd(...) tcmu_log_(NULL, TCMU_LOG_DEBUG_SCSI_CMD, __VA_ARGS__)

#define tcmu_dev_crit(dev, ...)		tcmu_log_(dev, TCMU_LOG_CRIT, __VA_ARGS__)
#define tcmu_dev_err(dev, ...)		tcmu_log_(dev, TCMU_LOG_ERROR, __VA_ARGS__)
#define tcmu_dev_warn(dev, ...)		tcmu_log_(dev, TCMU_LOG_WARN, __VA_ARGS__)
#define tcmu_dev_info(dev, ...)		tcmu_log_(dev, TCMU_LOG_INFO, __VA_ARGS__)
#define tcmu_dev_dbg(dev, ...)		tcmu_log_(dev, TCMU_LOG_DEBUG, __VA_ARGS__)
#define tcmu_dev_dbg_scsi_cmd(dev, ...) tcmu_log_(dev, TCMU_LOG_DEBUG_SCSI_CMD, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
