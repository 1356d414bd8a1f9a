// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * INQUIRY: standard data and the VPD pages 00, 80, 83, B0, B1 and B2
 * (SPC-4 6.6 and 7.8, SBC-3 6.6).
 */
#include <stdlib.h>
#include <string.h>

#include "emul.h"

#define INQ_STD_LEN	   96
#define VPD_BUF_LEN	   1024
#define VPD_MAX_ASCII	   254 /* longest serial / cfgstring we report */
#define VPD_PORT_DESIG_MAX 272 /* room left in VPD_BUF_LEN for 0x83 */

static const uint8_t vpd_supported[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

size_t scsi_respond(struct iovec *iov, size_t iov_cnt, const void *buf, size_t len,
		    size_t alloc_len)
{
	size_t total = tcmu_iovec_length(iov, iov_cnt);
	size_t n = len < alloc_len ? len : alloc_len;

	tcmu_iovec_zero(iov, iov_cnt);
	if (n > total)
		n = total;
	return tcmu_memcpy_into_iovec(iov, iov_cnt, (void *)buf, n);
}

/* Copy an ASCII field, space padded, as SPC-4 4.4.1 asks. */
static void put_ascii(uint8_t *dst, const char *s, size_t width)
{
	size_t n = strlen(s);

	memset(dst, ' ', width);
	memcpy(dst, s, n < width ? n : width);
}

static int inquiry_std(const struct scsi_caps *caps, uint8_t *b)
{
	b[0] = 0x00; /* connected, direct access block device */
	b[2] = 0x06; /* SPC-4 */
	b[3] = 0x02; /* response data format 2 */
	b[4] = INQ_STD_LEN - 5;
	if (caps->xcopy)
		b[5] |= 0x08;		 /* 3PC */
	b[5] |= (caps->tpgs & 0x3) << 4; /* TPGS */
	b[7] = 0x02;			 /* CmdQue */
	put_ascii(&b[8], SCSI_VENDOR_ID, 8);
	put_ascii(&b[16], SCSI_PRODUCT_ID, 16);
	put_ascii(&b[32], SCSI_PRODUCT_REV, 4);
	/* Version descriptors: SAM-5, SPC-4, SBC-3. */
	scsi_put_be16(&b[58], 0x00a0);
	scsi_put_be16(&b[60], 0x0460);
	scsi_put_be16(&b[62], 0x04c0);
	return INQ_STD_LEN;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * NAA IEEE Registered Extended (type 6) with the OpenFabrics OUI 00-14-05
 * that LIO uses; the 100-bit vendor specific part is filled with the hex
 * digits of the unit serial (non-hex characters skipped), matching the
 * identifier the kernel reports for the same device.
 */
void scsi_naa6_from_serial(const char *serial, uint8_t naa[16])
{
	unsigned int nib = 0; /* next nibble slot, starting at byte 3 low */
	const char *p;

	memset(naa, 0, 16);
	naa[0] = 0x60;
	naa[1] = 0x01;
	naa[2] = 0x40;
	naa[3] = 0x50;
	for (p = serial ? serial : ""; *p && nib < 25; p++) {
		int v = hex_nibble(*p);
		unsigned int byte;

		if (v < 0)
			continue;
		byte = 3 + (nib + 1) / 2;
		if (nib % 2 == 0)
			naa[byte] |= v;
		else
			naa[byte] = v << 4;
		nib++;
	}
}

static size_t bounded_len(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > VPD_MAX_ASCII ? VPD_MAX_ASCII : n;
}

static int vpd_83(const struct scsi_caps *caps, uint8_t *b)
{
	size_t serial_len = bounded_len(caps->serial);
	size_t cfg_len = bounded_len(caps->cfgstring);
	uint8_t *d = &b[4];

	/* T10 vendor identification: vendor id then the unit serial. */
	d[0] = 0x02; /* code set ASCII */
	d[1] = 0x01; /* association LU, type T10 vendor id */
	put_ascii(&d[4], SCSI_VENDOR_ID, 8);
	if (serial_len > 255 - 8)
		serial_len = 255 - 8;
	if (serial_len)
		memcpy(&d[12], caps->serial, serial_len);
	d[3] = 8 + serial_len;
	d += 4 + d[3];

	if (serial_len) {
		d[0] = 0x01; /* code set binary */
		d[1] = 0x03; /* association LU, type NAA */
		d[3] = 16;
		scsi_naa6_from_serial(caps->serial, &d[4]);
		d += 4 + 16;
	}

	if (cfg_len) {
		d[0] = 0x02; /* code set ASCII */
		d[1] = 0x00; /* association LU, vendor specific */
		d[3] = cfg_len;
		memcpy(&d[4], caps->cfgstring, cfg_len);
		d += 4 + cfg_len;
	}

	/* Target port designators (ALUA): relative port, group, name. */
	if (caps->port_desig_len && caps->port_desig_len <= VPD_PORT_DESIG_MAX) {
		memcpy(d, caps->port_desig, caps->port_desig_len);
		d += caps->port_desig_len;
	}

	scsi_put_be16(&b[2], d - b - 4);
	return d - b;
}

static int vpd_b0(const struct scsi_caps *caps, uint8_t *b)
{
	scsi_put_be16(&b[2], 0x3c);
	b[4] = 0x01;		  /* WSNZ: WRITE SAME with 0 blocks is refused */
	b[5] = caps->caw ? 1 : 0; /* maximum COMPARE AND WRITE length */
	scsi_put_be16(&b[6], 1);  /* optimal transfer length granularity */
	scsi_put_be32(&b[8], caps->max_xfer_len);
	scsi_put_be32(&b[12], caps->max_xfer_len);
	if (caps->unmap) {
		uint32_t max_lbas = caps->max_unmap_lbas;

		if (!max_lbas || max_lbas > SCSI_DEF_MAX_UNMAP_LBAS)
			max_lbas = SCSI_DEF_MAX_UNMAP_LBAS;
		scsi_put_be32(&b[20], max_lbas);
		scsi_put_be32(&b[24], SCSI_DEF_MAX_UNMAP_DESC);
		scsi_put_be32(&b[28], caps->unmap_gran);
		if (caps->unmap_align)
			scsi_put_be32(&b[32], 0x80000000u | (caps->unmap_align & 0x7fffffff));
	}
	scsi_put_be64(&b[36], SCSI_MAX_WRITE_SAME_LBAS);
	return 64;
}

static int inquiry_vpd(const struct scsi_caps *caps, uint8_t page, uint8_t *b)
{
	size_t n;

	b[0] = 0x00;
	b[1] = page;
	switch (page) {
	case 0x00:
		b[3] = sizeof(vpd_supported);
		memcpy(&b[4], vpd_supported, sizeof(vpd_supported));
		return 4 + sizeof(vpd_supported);
	case 0x80:
		n = bounded_len(caps->serial);
		b[3] = n;
		if (n)
			memcpy(&b[4], caps->serial, n);
		return 4 + n;
	case 0x83:
		return vpd_83(caps, b);
	case 0xb0:
		return vpd_b0(caps, b);
	case 0xb1:
		scsi_put_be16(&b[2], 0x3c);
		/* Medium rotation rate: 1 = non-rotating (solid state). */
		if (caps->solid_state)
			scsi_put_be16(&b[4], 1);
		return 64;
	case 0xb2:
		b[3] = 4;
		if (caps->unmap)
			b[5] = 0x80 | 0x40 | 0x20; /* LBPU, LBPWS, LBPWS10 */
		if (caps->lbprz)
			b[5] |= 0x04;
		b[6] = caps->unmap ? 0x02 : 0x00; /* thin provisioned */
		return 8;
	default:
		return -1;
	}
}

int scsi_inquiry(const struct scsi_caps *caps, const uint8_t *cdb, struct iovec *iov,
		 size_t iov_cnt, size_t *out_len)
{
	uint8_t buf[VPD_BUF_LEN];
	uint16_t alloc_len = scsi_get_be16(&cdb[3]);
	int len;

	*out_len = 0;
	if (cdb[1] & 0xfe) /* CMDDT (obsolete) and reserved bits */
		return TCMU_STS_INVALID_CDB;

	memset(buf, 0, sizeof(buf));
	if (!(cdb[1] & 0x01)) {
		if (cdb[2])
			return TCMU_STS_INVALID_CDB;
		len = inquiry_std(caps, buf);
	} else {
		len = inquiry_vpd(caps, cdb[2], buf);
		if (len < 0)
			return TCMU_STS_INVALID_CDB;
	}
	*out_len = scsi_respond(iov, iov_cnt, buf, len, alloc_len);
	return TCMU_STS_OK;
}
