/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The zbc handler: a host-managed (HM) or host-aware (HA) zoned block
 * device (ZBC-2) kept in one backing file.  The command code (zbc_exec and
 * the files it calls) works on a struct zbc_dev only: no tcmu_device, so the
 * unit tests and the fuzz target run it on a scratch file.
 *
 *   zbc_cfg.c    the cfgstring "zbc/[opt[/opt]...@]<path>"
 *   zbc_meta.c   the on-disk header and zone records, load/format/persist
 *   zbc_zone.c   the zone condition state machine and open-zone accounting
 *   zbc_report.c ZBC IN: REPORT ZONES
 *   zbc_out.c    ZBC OUT: OPEN, CLOSE, FINISH, RESET WRITE POINTER
 *   zbc_rw.c     READ, WRITE, WRITE SAME, SYNCHRONIZE CACHE
 *   zbc_inq.c    INQUIRY (standard, VPD 00/B1/B6), READ CAPACITY
 *   zbc_status.c GET LBA STATUS: mapped up to each zone's write pointer
 *   zbc_cmd.c    the opcode switch
 *   handler_zbc.c the tcmu-runner glue
 */
#ifndef ZBC_H
#define ZBC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Zone types (ZBC-2 table "ZONE TYPE field"). */
#define ZBC_TYPE_CONV	  0x1
#define ZBC_TYPE_SEQ_REQ  0x2
#define ZBC_TYPE_SEQ_PREF 0x3

/* Zone conditions. */
#define ZBC_COND_NOT_WP	  0x0
#define ZBC_COND_EMPTY	  0x1
#define ZBC_COND_IMP_OPEN 0x2
#define ZBC_COND_EXP_OPEN 0x3
#define ZBC_COND_CLOSED	  0x4
#define ZBC_COND_FULL	  0xe

/* ZBC IN / ZBC OUT service actions. */
#define ZBC_SA_REPORT_ZONES 0x00
#define ZBC_SA_CLOSE	    0x01
#define ZBC_SA_FINISH	    0x02
#define ZBC_SA_OPEN	    0x03
#define ZBC_SA_RESET_WP	    0x04

/* ASC/ASCQ of the zoned sense codes, (asc << 8) | ascq. */
#define ZBC_ASC_UNALIGNED_WRITE	      0x2104
#define ZBC_ASC_WRITE_BOUNDARY	      0x2105
#define ZBC_ASC_READ_INVALID_DATA     0x2106
#define ZBC_ASC_READ_BOUNDARY	      0x2107
#define ZBC_ASC_INSUFFICIENT_ZONE_RES 0x550e

#define ZBC_MIB (1024u * 1024u)

/* The cfgstring options, with upstream's defaults filled in by zbc_cfg_parse. */
struct zbc_cfg {
	bool ha;	   /* model-HA (default model-HM) */
	uint32_t lba_size; /* lba-512 (default) or lba-4096 */
	uint32_t zone_mib; /* zsize-<MiB>, default 256 */
	uint32_t conv;	   /* conv-<n>; 0 = default (1% of the zones, at least 1) */
	uint32_t max_open; /* open-<n>; 0 = default (128, at most half the seq zones) */
	char *path;	   /* malloc()ed */
};

struct zbc_zone {
	uint64_t start; /* first LBA */
	uint64_t len;	/* LBAs */
	uint64_t wp;	/* write pointer LBA (sequential zones) */
	uint8_t type;	/* ZBC_TYPE_* */
	uint8_t cond;	/* ZBC_COND_* */
	bool non_seq;	/* HA: written out of order since the last reset */
};

struct zbc_dev {
	int fd;		   /* the backing file */
	uint64_t data_off; /* byte offset of LBA 0 in the file */
	bool ha;
	bool urswrz; /* reads past the write pointer return zeros */
	uint32_t lba_size;
	uint64_t zone_lbas;
	uint64_t nr_lbas; /* nr_zones * zone_lbas */
	uint32_t nr_zones, nr_conv, max_open;
	uint32_t nr_imp_open, nr_exp_open; /* derived from the conditions */
	struct zbc_zone *zones;
	/*
	 * The standard INQUIRY data of a disk (what the generic SCSI layer
	 * answers); the HM model patches its device type.  Same thread as
	 * zbc_exec.  Returns a TCMU_STS_* value.
	 */
	int (*std_inquiry)(void *arg, uint8_t *cdb, uint8_t *buf, size_t len);
	void *std_inquiry_arg;
};

/* zbc_cfg.c */
int zbc_cfg_parse(const char *cfgstring, struct zbc_cfg *cfg, char **reason);
void zbc_cfg_free(struct zbc_cfg *cfg);

/* zbc_meta.c: the file layout; all return 0 or -errno. */
int zbc_meta_open(struct zbc_dev *z, int fd, const struct zbc_cfg *cfg, uint64_t dev_bytes,
		  char **reason);
int zbc_meta_put_zone(struct zbc_dev *z, const struct zbc_zone *zn);
void zbc_meta_close(struct zbc_dev *z);

/* zbc_zone.c */
struct zbc_zone *zbc_zone_of(struct zbc_dev *z, uint64_t lba);
bool zbc_zone_is_seq(const struct zbc_zone *zn);
void zbc_zone_count(struct zbc_dev *z);
int zbc_zone_open(struct zbc_dev *z, struct zbc_zone *zn, bool explicit, uint8_t *sense);
void zbc_zone_close(struct zbc_dev *z, struct zbc_zone *zn);
void zbc_zone_finish(struct zbc_dev *z, struct zbc_zone *zn);
void zbc_zone_reset(struct zbc_dev *z, struct zbc_zone *zn);
void zbc_zone_written(struct zbc_dev *z, struct zbc_zone *zn, uint64_t first, uint64_t n);
int zbc_sense(uint8_t *sense, uint8_t key, uint16_t asc_ascq);

/* One command on the device: a TCMU_STS_* value, sense in sense. */
int zbc_exec(struct zbc_dev *z, uint8_t *cdb, struct iovec *iov, size_t iov_cnt, uint8_t *sense);

/* Per command family, called by zbc_exec. */
int zbc_report_zones(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		     uint8_t *sense);
int zbc_zone_action(struct zbc_dev *z, const uint8_t *cdb, uint8_t *sense);
int zbc_read(struct zbc_dev *z, uint64_t lba, uint32_t n, struct iovec *iov, size_t iov_cnt,
	     uint8_t *sense);
int zbc_write(struct zbc_dev *z, uint64_t lba, uint32_t n, struct iovec *iov, size_t iov_cnt,
	      bool fua, uint8_t *sense);
int zbc_write_same(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		   uint8_t *sense);
int zbc_sync(struct zbc_dev *z);
int zbc_inquiry(struct zbc_dev *z, uint8_t *cdb, struct iovec *iov, size_t iov_cnt);
int zbc_read_capacity(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt);
int zbc_get_lba_status(struct zbc_dev *z, const uint8_t *cdb, struct iovec *iov, size_t iov_cnt,
		       uint8_t *sense);

#endif
