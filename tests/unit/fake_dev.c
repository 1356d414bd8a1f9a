// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * RAM-backed fake device: a minimal stand-in for libtcmu's device accessors
 * (a real struct tcmu_device needs a kernel UIO device), the engine's
 * backend operations on RAM with a small device registry for EXTENDED COPY,
 * and fake_exec() playing the engine user's role.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_dev.h"

#define FAKE_MAX_DEVS 4

struct tcmu_device {
	uint64_t num_lbas;
	uint32_t block_size;
	uint32_t max_xfer_len;
	uint32_t opt_xcopy_rw_len;
	uint32_t max_unmap_len;
	uint32_t opt_unmap_gran;
	uint32_t unmap_gran_align;
	bool wce, solid_state, unmap_enabled, wp;
	char serial[320];
	char cfgstring[340];
	uint8_t *mem;
	uint8_t *map; /* one byte per block: 1 mapped */
	struct scsi_backend_ops ops;
	struct scsi_dev *scsi;
	struct fake_stats stats;
	int refs;
	int inject_sts;
	unsigned int inject_skip; /* backend I/Os to let through first */
	unsigned int inject_n;
	void *priv;
};

unsigned int fake_internal_errors;
const char *fake_cfgfs_root = "/nonexistent-tcmu-fake-configfs";
static struct tcmu_device *fake_devs[FAKE_MAX_DEVS];

struct tcmu_device *fake_dev_new(uint64_t num_lbas, uint32_t block_size, const char *serial)
{
	struct tcmu_device *dev = calloc(1, sizeof(*dev));
	int i;

	if (!dev)
		abort();
	dev->num_lbas = num_lbas;
	dev->block_size = block_size;
	dev->max_xfer_len = 128;
	dev->wce = true;
	snprintf(dev->serial, sizeof(dev->serial), "%s", serial);
	snprintf(dev->cfgstring, sizeof(dev->cfgstring), "ram/%s", serial);
	dev->mem = calloc(num_lbas, block_size);
	dev->map = calloc(num_lbas, 1);
	if (!dev->mem || !dev->map)
		abort();
	dev->ops = fake_ram_ops;
	dev->ops.writesame = NULL;
	dev->ops.caw = NULL;
	dev->ops.get_lba_status = NULL;
	if (scsi_dev_create(dev, &dev->ops, dev, &dev->scsi))
		abort();
	for (i = 0; i < FAKE_MAX_DEVS; i++) {
		if (!fake_devs[i]) {
			fake_devs[i] = dev;
			break;
		}
	}
	return dev;
}

void fake_dev_free(struct tcmu_device *dev)
{
	int i;

	for (i = 0; i < FAKE_MAX_DEVS; i++)
		if (fake_devs[i] == dev)
			fake_devs[i] = NULL;
	scsi_dev_destroy(dev->scsi);
	free(dev->mem);
	free(dev->map);
	free(dev);
}

struct scsi_backend_ops *fake_dev_ops(struct tcmu_device *dev)
{
	return &dev->ops;
}
uint8_t *fake_dev_mem(struct tcmu_device *dev)
{
	return dev->mem;
}
struct fake_stats *fake_dev_stats(struct tcmu_device *dev)
{
	return &dev->stats;
}
struct scsi_dev *fake_dev_scsi(struct tcmu_device *dev)
{
	return dev->scsi;
}
int fake_dev_refs(struct tcmu_device *dev)
{
	return dev->refs;
}
bool fake_dev_mapped(struct tcmu_device *dev, uint64_t lba)
{
	return dev->map[lba];
}

void fake_dev_set_wp(struct tcmu_device *dev, bool wp)
{
	dev->wp = wp;
}

void fake_dev_inject(struct tcmu_device *dev, int sts, unsigned int n)
{
	fake_dev_inject_after(dev, 0, sts, n);
}

void fake_dev_inject_after(struct tcmu_device *dev, unsigned int skip, int sts, unsigned int n)
{
	dev->inject_sts = sts;
	dev->inject_skip = skip;
	dev->inject_n = n;
}

/* --- libtcmu accessors ------------------------------------------------ */

char *tcmu_dev_get_cfgstring(struct tcmu_device *dev)
{
	return dev->cfgstring;
}
void tcmu_dev_set_num_lbas(struct tcmu_device *dev, uint64_t n)
{
	dev->num_lbas = n;
}
uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev)
{
	return dev->num_lbas;
}
void tcmu_dev_set_block_size(struct tcmu_device *dev, uint32_t b)
{
	dev->block_size = b;
}
uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev)
{
	return dev->block_size;
}
void tcmu_dev_set_max_xfer_len(struct tcmu_device *dev, uint32_t l)
{
	dev->max_xfer_len = l;
}
uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev)
{
	return dev->max_xfer_len;
}
void tcmu_dev_set_opt_xcopy_rw_len(struct tcmu_device *dev, uint32_t l)
{
	dev->opt_xcopy_rw_len = l;
}
uint32_t tcmu_dev_get_opt_xcopy_rw_len(struct tcmu_device *dev)
{
	return dev->opt_xcopy_rw_len;
}
void tcmu_dev_set_max_unmap_len(struct tcmu_device *dev, uint32_t l)
{
	dev->max_unmap_len = l;
}
uint32_t tcmu_dev_get_max_unmap_len(struct tcmu_device *dev)
{
	return dev->max_unmap_len;
}
void tcmu_dev_set_opt_unmap_gran(struct tcmu_device *dev, uint32_t l, bool split)
{
	dev->opt_unmap_gran = l;
}
uint32_t tcmu_dev_get_opt_unmap_gran(struct tcmu_device *dev)
{
	return dev->opt_unmap_gran;
}
void tcmu_dev_set_unmap_gran_align(struct tcmu_device *dev, uint32_t l)
{
	dev->unmap_gran_align = l;
}
uint32_t tcmu_dev_get_unmap_gran_align(struct tcmu_device *dev)
{
	return dev->unmap_gran_align;
}
void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev, bool e)
{
	dev->wce = e;
}
bool tcmu_dev_get_write_cache_enabled(struct tcmu_device *dev)
{
	return dev->wce;
}
void tcmu_dev_set_solid_state_media(struct tcmu_device *dev, bool s)
{
	dev->solid_state = s;
}
bool tcmu_dev_get_solid_state_media(struct tcmu_device *dev)
{
	return dev->solid_state;
}
void tcmu_dev_set_unmap_enabled(struct tcmu_device *dev, bool e)
{
	dev->unmap_enabled = e;
}
bool tcmu_dev_get_unmap_enabled(struct tcmu_device *dev)
{
	return dev->unmap_enabled;
}
void tcmu_dev_set_write_protect_enabled(struct tcmu_device *dev, bool e)
{
	dev->wp = e;
}
bool tcmu_dev_get_write_protect_enabled(struct tcmu_device *dev)
{
	return dev->wp;
}
void tcmu_dev_set_private(struct tcmu_device *dev, void *priv)
{
	dev->priv = priv;
}
void *tcmu_dev_get_private(struct tcmu_device *dev)
{
	return dev->priv;
}

/* configfs: <fake_cfgfs_root>/core/user_1/<serial> */
const char *tcmu_cfgfs_root(void)
{
	return fake_cfgfs_root;
}
unsigned int tcmu_dev_get_hba_id(struct tcmu_device *dev)
{
	return 1;
}
const char *tcmu_dev_get_dev_name(struct tcmu_device *dev)
{
	return dev->serial;
}

/* The test tree holds regular files: stdio is enough. */
ssize_t tcmu_cfgfs_read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t got;

	if (!f)
		return -errno;
	got = fread(buf, 1, len - 1, f);
	buf[got] = '\0';
	fclose(f);
	return (ssize_t)got;
}

char *tcmu_cfgfs_dev_get_wwn(struct tcmu_device *dev)
{
	return dev->serial[0] ? strdup(dev->serial) : NULL;
}

void tcmulib_cmd_set_read_len(struct tcmulib_cmd *cmd, uint32_t read_len)
{
	cmd->read_len = read_len;
	cmd->read_len_valid = true;
}

int tcmu_get_log_level(void)
{
	return getenv("FAKE_LOG") ? TCMU_LOG_DEBUG_SCSI_CMD : TCMU_LOG_CRIT;
}

void tcmu_log_message(struct tcmu_device *dev, int level, const char *func, int line,
		      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%d] %s:%d: ", level, func, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* --- the RAM backend (struct scsi_backend_ops), be = the fake device --- */

static bool io_bad(struct tcmu_device *dev, uint64_t off, uint64_t len, int *sts)
{
	uint64_t size = dev->num_lbas * dev->block_size;

	if (off > size || len > size - off || off % dev->block_size || len % dev->block_size) {
		fprintf(stderr, "fake: bad I/O off %llu len %llu\n", (unsigned long long)off,
			(unsigned long long)len);
		fake_internal_errors++;
		*sts = TCMU_STS_HW_ERR;
		return true;
	}
	if (dev->inject_n && dev->inject_skip) {
		dev->inject_skip--;
	} else if (dev->inject_n) {
		dev->inject_n--;
		*sts = dev->inject_sts;
		return true;
	}
	return false;
}

static void set_map(struct tcmu_device *dev, uint64_t off, uint64_t len, uint8_t v)
{
	memset(dev->map + off / dev->block_size, v, len / dev->block_size);
}

static int ram_read(void *be, struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off)
{
	struct tcmu_device *dev = be;
	int sts;

	dev->stats.reads++;
	if (io_bad(dev, off, len, &sts))
		return sts;
	if (tcmu_memcpy_into_iovec(iov, iov_cnt, dev->mem + off, len) != len)
		fake_internal_errors++;
	return TCMU_STS_OK;
}

static int ram_write(void *be, struct iovec *iov, size_t iov_cnt, size_t len, uint64_t off,
		     bool fua)
{
	struct tcmu_device *dev = be;
	int sts;

	dev->stats.writes++;
	dev->stats.fua_writes += fua;
	if (io_bad(dev, off, len, &sts))
		return sts;
	if (tcmu_memcpy_from_iovec(dev->mem + off, len, iov, iov_cnt) != len)
		fake_internal_errors++;
	set_map(dev, off, len, 1);
	return TCMU_STS_OK;
}

static int ram_flush(void *be)
{
	struct tcmu_device *dev = be;

	dev->stats.flushes++;
	return TCMU_STS_OK;
}

static int ram_unmap(void *be, uint64_t off, uint64_t len)
{
	struct tcmu_device *dev = be;
	int sts;

	dev->stats.unmaps++;
	if (io_bad(dev, off, len, &sts))
		return sts;
	memset(dev->mem + off, 0, len);
	set_map(dev, off, len, 0);
	return TCMU_STS_OK;
}

static int ram_writesame(void *be, uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	struct tcmu_device *dev = be;
	uint64_t i;
	int sts;

	dev->stats.writesames++;
	if (io_bad(dev, off, len, &sts))
		return sts;
	for (i = 0; i < len; i += dev->block_size)
		tcmu_memcpy_from_iovec(dev->mem + off + i, dev->block_size, iov, iov_cnt);
	set_map(dev, off, len, 1);
	return TCMU_STS_OK;
}

static int ram_caw(void *be, uint64_t off, uint64_t len, struct iovec *iov, size_t iov_cnt)
{
	struct tcmu_device *dev = be;
	uint8_t *buf;
	int sts;

	dev->stats.caws++;
	if (io_bad(dev, off, len, &sts))
		return sts;
	buf = malloc(2 * len);
	tcmu_memcpy_from_iovec(buf, 2 * len, iov, iov_cnt);
	if (memcmp(buf, dev->mem + off, len)) {
		free(buf);
		return TCMU_STS_MISCOMPARE;
	}
	memcpy(dev->mem + off, buf + len, len);
	free(buf);
	return TCMU_STS_OK;
}

static int ram_get_lba_status(void *be, uint64_t lba, uint64_t *nr_lbas, int *state)
{
	struct tcmu_device *dev = be;
	uint64_t n = 0;
	uint8_t m;

	dev->stats.lba_status++;
	if (lba >= dev->num_lbas) {
		fake_internal_errors++;
		return TCMU_STS_HW_ERR;
	}
	m = dev->map[lba];
	while (lba + n < dev->num_lbas && dev->map[lba + n] == m)
		n++;
	*nr_lbas = n;
	*state = m ? 0 : 1;
	return TCMU_STS_OK;
}

static struct scsi_dev *ram_find_by_naa(void *be, const uint8_t *naa, size_t len)
{
	int i;

	for (i = 0; i < FAKE_MAX_DEVS; i++) {
		uint8_t mine[16];

		if (!fake_devs[i])
			continue;
		scsi_naa6_from_serial(fake_devs[i]->serial, mine);
		if (len == 16 && !memcmp(mine, naa, 16)) {
			fake_devs[i]->refs++;
			return fake_devs[i]->scsi;
		}
	}
	return NULL;
}

static void ram_put(void *be, struct scsi_dev *other)
{
	scsi_dev_tcmu(other)->refs--;
}

const struct scsi_backend_ops fake_ram_ops = {
	.read = ram_read,
	.write = ram_write,
	.flush = ram_flush,
	.unmap = ram_unmap,
	.writesame = ram_writesame,
	.caw = ram_caw,
	.get_lba_status = ram_get_lba_status,
	.find_by_naa = ram_find_by_naa,
	.put = ram_put,
};

/* --- the engine user's role -------------------------------------------- */

int fake_exec(struct tcmu_device *dev, const uint8_t *cdb_in, void *buf, size_t len,
	      struct fake_result *res)
{
	struct tcmulib_cmd lc;
	struct tcmur_cmd tc;
	struct iovec iov[3];
	struct scsi_rw rw;
	uint8_t cdb[32];
	size_t cut1 = len / 3, cut2 = 2 * len / 3;
	int cdb_len = tcmu_get_cdb_length(cdb_in), sts;

	memset(&lc, 0, sizeof(lc));
	memset(&tc, 0, sizeof(tc));
	memset(cdb, 0, sizeof(cdb));
	/* Unknown groups: the callers pass at least 6 bytes. */
	memcpy(cdb, cdb_in, cdb_len > 0 && cdb_len <= 32 ? cdb_len : 6);
	/* Three uneven segments so the engine must walk the scatter list. */
	iov[0].iov_base = buf;
	iov[0].iov_len = cut1;
	iov[1].iov_base = (uint8_t *)buf + cut1;
	iov[1].iov_len = cut2 - cut1;
	iov[2].iov_base = (uint8_t *)buf + cut2;
	iov[2].iov_len = len - cut2;
	lc.cdb = cdb;
	lc.cdb_len = cdb_len > 0 ? cdb_len : 16;
	lc.iovec = iov;
	lc.iov_cnt = 3;
	lc.data_len = len;
	tc.lib_cmd = &lc;

	res->cls = scsi_dispatch(dev->scsi, &tc, &rw, &sts);
	switch (res->cls) {
	case SCSI_CLASS_DONE:
		break;
	case SCSI_CLASS_READ:
	case SCSI_CLASS_WRITE:
		if (rw.len > len || !rw.len) {
			fake_internal_errors++;
			sts = TCMU_STS_HW_ERR;
			break;
		}
		if (res->cls == SCSI_CLASS_READ)
			sts = dev->ops.read(dev, iov, 3, rw.len, rw.off);
		else
			sts = dev->ops.write(dev, iov, 3, rw.len, rw.off, rw.fua);
		break;
	case SCSI_CLASS_FLUSH:
		sts = dev->ops.flush ? dev->ops.flush(dev) : TCMU_STS_HW_ERR;
		break;
	case SCSI_CLASS_SLOW:
		sts = scsi_exec_slow(dev->scsi, &tc);
		break;
	case SCSI_CLASS_LOCK:
	case SCSI_CLASS_UNLOCK:
		/* STPG with an HA lock: the caller's part; res->cls tells. */
		res->ha_tag = rw.ha_tag;
		break;
	}

	res->status = tcmu_sts_to_scsi(sts, lc.sense_buf);
	memcpy(res->sense, lc.sense_buf, sizeof(res->sense));
	res->key = lc.sense_buf[2] & 0x0f;
	res->asc = lc.sense_buf[12];
	res->ascq = lc.sense_buf[13];
	if (res->status != SAM_STAT_CHECK_CONDITION)
		res->key = res->asc = res->ascq = 0;
	res->read_len_valid = lc.read_len_valid;
	res->read_len = lc.read_len;
	return res->status;
}
