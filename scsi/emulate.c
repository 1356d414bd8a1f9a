// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The public, stateless tcmu_emulate_* entry points of libtcmu: they read
 * the device through its accessors and call the builders of scsi/.
 */
#include <stdlib.h>

#include "emul.h"

void scsi_caps_from_dev(struct tcmu_device *dev, struct scsi_caps *caps)
{
	bool unmap = tcmu_dev_get_unmap_enabled(dev);

	*caps = (struct scsi_caps){
		.cfgstring = tcmu_dev_get_cfgstring(dev),
		.num_lbas = tcmu_dev_get_num_lbas(dev),
		.block_size = tcmu_dev_get_block_size(dev),
		.max_xfer_len = tcmu_dev_get_max_xfer_len(dev),
		.max_unmap_lbas = tcmu_dev_get_max_unmap_len(dev),
		.unmap_gran = tcmu_dev_get_opt_unmap_gran(dev),
		.unmap_align = tcmu_dev_get_unmap_gran_align(dev),
		.solid_state = tcmu_dev_get_solid_state_media(dev),
		.unmap = unmap,
		.lbprz = unmap,
		.caw = true,
		.wce = tcmu_dev_get_write_cache_enabled(dev),
		.wce_default = tcmu_dev_get_write_cache_enabled(dev),
		.wp = tcmu_dev_get_write_protect_enabled(dev),
	};
}

int tcmu_emulate_inquiry(struct tcmu_device *dev, struct tgt_port *port, uint8_t *cdb,
			 struct iovec *iovec, size_t iov_cnt)
{
	struct scsi_caps caps;
	char *serial;
	size_t len;
	int ret;

	scsi_caps_from_dev(dev, &caps);
	serial = tcmu_cfgfs_dev_get_wwn(dev);
	caps.serial = serial;
	ret = scsi_inquiry(&caps, cdb, iovec, iov_cnt, &len);
	free(serial);
	return ret;
}

int tcmu_emulate_test_unit_ready(uint8_t *cdb, struct iovec *iovec, size_t iov_cnt)
{
	return TCMU_STS_OK;
}

int tcmu_emulate_read_capacity_10(uint64_t num_lbas, uint32_t block_size, uint8_t *cdb,
				  struct iovec *iovec, size_t iov_cnt)
{
	struct scsi_caps caps = { .num_lbas = num_lbas, .block_size = block_size };
	size_t len;

	return scsi_read_capacity_10(&caps, cdb, iovec, iov_cnt, &len);
}

int tcmu_emulate_read_capacity_16(uint64_t num_lbas, uint32_t block_size, uint8_t *cdb,
				  struct iovec *iovec, size_t iov_cnt)
{
	struct scsi_caps caps = { .num_lbas = num_lbas, .block_size = block_size };
	size_t len;

	return scsi_read_capacity_16(&caps, cdb, iovec, iov_cnt, &len);
}

int tcmu_emulate_mode_sense(struct tcmu_device *dev, uint8_t *cdb, struct iovec *iovec,
			    size_t iov_cnt)
{
	struct scsi_caps caps;
	size_t len;

	scsi_caps_from_dev(dev, &caps);
	return scsi_mode_sense(&caps, cdb, iovec, iov_cnt, &len);
}

int tcmu_emulate_mode_select(struct tcmu_device *dev, uint8_t *cdb, struct iovec *iovec,
			     size_t iov_cnt)
{
	struct scsi_caps caps;
	bool wce;

	scsi_caps_from_dev(dev, &caps);
	return scsi_mode_select(&caps, cdb, iovec, iov_cnt, &wce);
}

int tcmu_emulate_start_stop(struct tcmu_device *dev, uint8_t *cdb)
{
	return scsi_start_stop(cdb);
}
