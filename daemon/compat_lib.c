// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * Library functions only upstream's API has, exported for its handlers:
 * the *_message logging entry points, tcmu_sense_set_data() (upstream
 * status number) and tcmu_set_thread_name().  Any thread; none blocks
 * beyond the log queue.
 */
#define TCMUR_COMPAT_IMPL
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "compat.h"

static void up_log(struct tcmu_device *dev, int level, const char *func, int line, const char *fmt,
		   va_list ap)
{
	char msg[1024];

	if (level > tcmu_get_log_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	tcmu_log_message(dev, level, func, line, "%s", msg);
}

#define UP_LOG_FN(fn, level)                                                                       \
	void fn(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt, ...)   \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		up_log(dev, (level), funcname, linenr, fmt, ap);                                   \
		va_end(ap);                                                                        \
	}

UP_LOG_FN(tcmu_crit_message, TCMU_LOG_CRIT)
UP_LOG_FN(tcmu_err_message, TCMU_LOG_ERROR)
UP_LOG_FN(tcmu_warn_message, TCMU_LOG_WARN)
UP_LOG_FN(tcmu_info_message, TCMU_LOG_INFO)
UP_LOG_FN(tcmu_dbg_message, TCMU_LOG_DEBUG)
UP_LOG_FN(tcmu_dbg_scsi_cmd_message, TCMU_LOG_DEBUG_SCSI_CMD)

int tcmu_sense_set_data(uint8_t *sense_buf, uint8_t key, uint16_t asc_ascq)
{
	tcmu_set_sense_data(sense_buf, key, asc_ascq);
	return TCMU_UPSTREAM_STS_PASSTHROUGH_ERR;
}

void tcmu_set_thread_name(const char *prefix, struct tcmu_device *dev)
{
	char name[16];

	if (!prefix)
		return;
	if (dev)
		snprintf(name, sizeof(name), "%s-%s", prefix, tcmu_dev_get_uio_name(dev));
	else
		snprintf(name, sizeof(name), "%s", prefix);
	pthread_setname_np(pthread_self(), name);
}
