// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/* Status numbers: upstream's TCMU_STS_* values to ours and back, by name. */
#define TCMUR_COMPAT_IMPL
#include "compat.h"

int tcmur_compat_sts_to_native(int up_sts)
{
	switch (up_sts) {
#define UP_TO_NATIVE_(name, value)                                                                 \
	case TCMU_UPSTREAM_STS_##name:                                                             \
		return TCMU_STS_##name;
		TCMU_UPSTREAM_STS_LIST(UP_TO_NATIVE_)
#undef UP_TO_NATIVE_
	case TCMU_UPSTREAM_STS_NO_LOCK_HOLDERS:
		/* HA: nobody holds the lock; the initiator retries. */
		return TCMU_STS_BUSY;
	default:
		/* Not a status upstream knows: report a target failure. */
		return TCMU_STS_HW_ERR;
	}
}

int tcmur_compat_sts_to_upstream(int sts)
{
	switch (sts) {
#define NATIVE_TO_UP_(name, value)                                                                 \
	case TCMU_STS_##name:                                                                      \
		return TCMU_UPSTREAM_STS_##name;
		TCMU_UPSTREAM_STS_LIST(NATIVE_TO_UP_)
#undef NATIVE_TO_UP_
	default:
		/* Native-only statuses have no upstream twin. */
		return TCMU_UPSTREAM_STS_HW_ERR;
	}
}
