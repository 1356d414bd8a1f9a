// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * handler_file.so moves exactly `len` bytes, whatever the iovec holds: the
 * engine hands it longer iovecs for partial-block and sub-I/O requests.
 * Reads and writes go through tcmur_io_read()/tcmur_io_write() (the sub-I/O
 * path, so the real read/write callouts run in the handler's own thread
 * model) with iovecs longer than len; the bytes past len must stay as they
 * were in the file and in the buffer, and the caller's iovec array must come
 * back unchanged.  A read across the end of a file shorter than the LUN
 * forces a short transfer (io_uring: finish_short()).
 * Usage: test_daemon_file_len <folder holding handler_file.so>
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "dsim.h"

#define BS	 512
#define DEV_SIZE (1u << 20)
#define OLD	 0x11 /* what the file held before the write */
#define MARK	 0xaa /* buffer bytes the handler must not touch */

static struct tcmu_device *file_dev;
static int (*file_open_orig)(struct tcmu_device *dev, bool reopen);

/* Wraps the file handler's open() to learn its tcmu_device. */
static int spy_open(struct tcmu_device *dev, bool reopen)
{
	file_dev = dev;
	return file_open_orig(dev, reopen);
}

static bool all_are(const uint8_t *p, size_t n, uint8_t v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

static bool file_range(int fd, off_t off, size_t n, uint8_t *out)
{
	return pread(fd, out, n, off) == (ssize_t)n;
}

/* Two uneven entries covering 2*BS bytes of buf; len ends inside the second. */
static void split(uint8_t *buf, struct iovec iov[2])
{
	iov[0].iov_base = buf;
	iov[0].iov_len = 300;
	iov[1].iov_base = buf + 300;
	iov[1].iov_len = 2 * BS - 300;
}

static bool iov_intact(const struct iovec iov[2], const uint8_t *buf)
{
	return iov[0].iov_base == buf && iov[0].iov_len == 300 && iov[1].iov_base == buf + 300 &&
	       iov[1].iov_len == 2 * BS - 300;
}

static void t_len(int fd)
{
	uint8_t buf[2 * BS], got[2 * BS], fill[4 * BS];
	struct iovec iov[2];
	size_t i;
	int sts;

	STEP("write: len %d of a %d-byte iovec; the file past len keeps its bytes", BS, 2 * BS);
	memset(fill, OLD, sizeof(fill));
	ENSURE(pwrite(fd, fill, sizeof(fill), 0) == (ssize_t)sizeof(fill), "prefill");
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	split(buf, iov);
	sts = tcmur_io_write(file_dev, iov, 2, BS, BS, false);
	CHECK(sts == TCMU_STS_OK, "write status 0x%x", sts);
	CHECK(iov_intact(iov, buf), "caller's iovec array changed by the write");
	ENSURE(file_range(fd, 0, sizeof(got), got), "pread");
	CHECK(all_are(got, BS, OLD), "bytes before off changed");
	CHECK(!memcmp(got + BS, buf, BS), "written bytes differ");
	CHECK(file_range(fd, 2 * BS, 2 * BS, got) && all_are(got, 2 * BS, OLD),
	      "file bytes past len were written");

	STEP("read: len %d into a %d-byte iovec; the buffer past len is untouched", BS, 2 * BS);
	memset(buf, MARK, sizeof(buf));
	split(buf, iov);
	sts = tcmur_io_read(file_dev, iov, 2, BS, 0);
	CHECK(sts == TCMU_STS_OK, "read status 0x%x", sts);
	CHECK(iov_intact(iov, buf), "caller's iovec array changed by the read");
	CHECK(all_are(buf, BS, OLD), "bytes read differ");
	CHECK(all_are(buf + BS, BS, MARK), "buffer bytes past len were overwritten");

	STEP("short read across the end of a file smaller than the LUN: zero-filled up to len "
	     "only");
	ENSURE(!ftruncate(fd, 3 * BS + 256), "shrink the file under the handler");
	memset(buf, MARK, sizeof(buf));
	split(buf, iov);
	sts = tcmur_io_read(file_dev, iov, 2, BS, 3 * BS);
	CHECK(sts == TCMU_STS_OK, "read status 0x%x", sts);
	CHECK(iov_intact(iov, buf), "caller's iovec array changed by the short read");
	CHECK(all_are(buf, 256, OLD), "bytes before EOF differ");
	CHECK(all_are(buf + 256, BS - 256, 0), "bytes past EOF not zero-filled");
	CHECK(all_are(buf + BS, BS, MARK), "buffer bytes past len were overwritten");
}

int main(int argc, char **argv)
{
	struct tcmur_handler_rec *rec;
	struct tcmulib_handler *lh;
	char cfg[512], path[400];
	struct sim_dev *d;
	size_t n;
	int fd, ret;

	REQUIRE(argc == 2, "usage: test_daemon_file_len <handler dir>");
	ret = dsim_setup("filelen");
	if (ret)
		return ret;
	ret = tcmur_load_handlers(argv[1]);
	rec = tcmur_handler_find("file");
	REQUIRE(ret == 1 && rec, "load handler_file.so: %d", ret);
	printf("  file handler thread model: %s\n", tcmur_thread_model_name(rec->model));
	file_open_orig = rec->h.open;
	rec->h.open = spy_open;
	lh = tcmur_handlers_publish(&n);
	ctx = tcmulib_initialize(lh, n);
	REQUIRE(ctx, "tcmulib_initialize");

	snprintf(path, sizeof(path), "%s/len.img", tmp);
	snprintf(cfg, sizeof(cfg), "file/%s", path);
	ret = dsim_add_dev(NULL, cfg, DEV_SIZE, 1 << 20, &d);
	REQUIRE(ret == 0 && file_dev, "add: %d", ret);
	fd = open(path, O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0, "open %s", path);
	t_len(fd);
	close(fd);
	CHECK(dsim_remove_dev(d) == 0, "remove");
	tcmulib_close(ctx);
	return dsim_finish();
}
