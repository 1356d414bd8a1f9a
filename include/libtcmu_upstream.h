/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * What libtcmu_common.h declares for a handler built with
 * -DTCMU_UPSTREAM_COMPAT: upstream's TCMU_STS_* numbers, its helper macros
 * and the functions only upstream's API has.  Not included otherwise.
 */
#ifndef LIBTCMU_UPSTREAM_H
#define LIBTCMU_UPSTREAM_H

#include <stdint.h>
#include <stdbool.h>

#include "tcmu_upstream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tcmu_device;

#define TCMU_STS_ENUM_(name, value) TCMU_STS_##name = (value),
enum {
	TCMU_UPSTREAM_STS_LIST(TCMU_STS_ENUM_) TCMU_STS_NO_LOCK_HOLDERS =
		TCMU_UPSTREAM_STS_NO_LOCK_HOLDERS_VALUE,
};
#undef TCMU_STS_ENUM_

#define TCMU_THREAD_NAME_LEN 16
#define SENSE_BUFFERSIZE     96

#define CFGFS_ROOT "/sys/kernel/config/target"
#define CFGFS_CORE CFGFS_ROOT "/core"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
/* GNU statement expressions, as upstream: each argument is evaluated once. */
#ifndef min
#define min(x, y)                                                                                  \
	({                                                                                         \
		__typeof__(x) m_x_ = (x);                                                          \
		__typeof__(y) m_y_ = (y);                                                          \
		(void)(&m_x_ == &m_y_);                                                            \
		m_x_ < m_y_ ? m_x_ : m_y_;                                                         \
	})
#endif
#ifndef max
#define max(x, y)                                                                                  \
	({                                                                                         \
		__typeof__(x) m_x_ = (x);                                                          \
		__typeof__(y) m_y_ = (y);                                                          \
		(void)(&m_x_ == &m_y_);                                                            \
		m_x_ > m_y_ ? m_x_ : m_y_;                                                         \
	})
#endif
#ifndef round_up
#define round_up(x, y)                                                                             \
	({                                                                                         \
		__typeof__(x) r_x_ = (x);                                                          \
		__typeof__(y) r_y_ = (y);                                                          \
		((r_x_ + r_y_ - 1) / r_y_) * r_y_;                                                 \
	})
#endif
#ifndef round_down
#define round_down(x, y)                                                                           \
	({                                                                                         \
		__typeof__(x) r_x_ = (x);                                                          \
		__typeof__(y) r_y_ = (y);                                                          \
		r_x_ - r_x_ % r_y_;                                                                \
	})
#endif

#ifdef __cplusplus
}
#endif

#endif
