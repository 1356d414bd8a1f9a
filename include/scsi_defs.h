/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/* SCSI opcodes, status values, sense keys and ASC/ASCQ values (SPC-4/SBC-3). */
#ifndef SCSI_DEFS_H
#define SCSI_DEFS_H

/* Opcodes */
#define TEST_UNIT_READY		      0x00
#define REQUEST_SENSE		      0x03
#define FORMAT_UNIT		      0x04
#define READ_6			      0x08
#define WRITE_6			      0x0a
#define INQUIRY			      0x12
#define MODE_SELECT		      0x15
#define RESERVE			      0x16
#define RELEASE			      0x17
#define MODE_SENSE		      0x1a
#define START_STOP		      0x1b
#define RECEIVE_DIAGNOSTIC	      0x1c
#define SEND_DIAGNOSTIC		      0x1d
#define ALLOW_MEDIUM_REMOVAL	      0x1e
#define READ_FORMAT_CAPACITIES	      0x23
#define READ_CAPACITY		      0x25
#define READ_10			      0x28
#define WRITE_10		      0x2a
#define WRITE_VERIFY		      0x2e
#define VERIFY			      0x2f
#define PRE_FETCH_10		      0x34
#define SYNCHRONIZE_CACHE	      0x35
#define READ_DEFECT_DATA	      0x37
#define WRITE_BUFFER		      0x3b
#define READ_BUFFER		      0x3c
#define WRITE_SAME		      0x41
#define UNMAP			      0x42
#define READ_TOC		      0x43
#define GET_CONFIGURATION	      0x46
#define GET_EVENT_STATUS_NOTIFICATION 0x4a
#define READ_DISC_INFORMATION	      0x51
#define LOG_SELECT		      0x4c
#define LOG_SENSE		      0x4d
#define MODE_SELECT_10		      0x55
#define RESERVE_10		      0x56
#define RELEASE_10		      0x57
#define MODE_SENSE_10		      0x5a
#define PERSISTENT_RESERVE_IN	      0x5e
#define PERSISTENT_RESERVE_OUT	      0x5f
#define VARIABLE_LENGTH_CMD	      0x7f
#define EXTENDED_COPY		      0x83
#define RECEIVE_COPY_RESULTS	      0x84
#define READ_16			      0x88
#define COMPARE_AND_WRITE	      0x89
#define WRITE_16		      0x8a
#define WRITE_VERIFY_16		      0x8e
#define VERIFY_16		      0x8f
#define PRE_FETCH_16		      0x90
#define SYNCHRONIZE_CACHE_16	      0x91
#define WRITE_SAME_16		      0x93
#define ZBC_OUT			      0x94
#define ZBC_IN			      0x95
#define SERVICE_ACTION_IN_16	      0x9e
#define REPORT_LUNS		      0xa0
#define MAINTENANCE_IN		      0xa3
#define MAINTENANCE_OUT		      0xa4
#define MOVE_MEDIUM		      0xa5
#define READ_12			      0xa8
#define WRITE_12		      0xaa
#define SERVICE_ACTION_IN_12	      0xab
#define WRITE_VERIFY_12		      0xae
#define VERIFY_12		      0xaf
#define READ_DVD_STRUCTURE	      0xad
#define MECHANISM_STATUS	      0xbd

/* Service actions */
#define READ_CAPACITY_16		    0x10
#define GET_LBA_STATUS			    0x12
#define MI_REPORT_TARGET_PGS		    0x0a
#define MI_REPORT_SUPPORTED_OPERATION_CODES 0x0c
#define MO_SET_TARGET_PGS		    0x0a
#define RCR_SA_COPY_STATUS		    0x00
#define RCR_SA_RECEIVE_DATA		    0x01
#define RCR_SA_OPERATING_PARAMETERS	    0x03
#define RCR_SA_FAILED_SEGMENT_DETAILS	    0x04

/* Status */
#define SAM_STAT_GOOD		      0x00
#define SAM_STAT_CHECK_CONDITION      0x02
#define SAM_STAT_CONDITION_MET	      0x04
#define SAM_STAT_BUSY		      0x08
#define SAM_STAT_RESERVATION_CONFLICT 0x18
#define SAM_STAT_TASK_SET_FULL	      0x28
#define SAM_STAT_ACA_ACTIVE	      0x30
#define SAM_STAT_TASK_ABORTED	      0x40

/* Sense keys */
#define NO_SENSE	0x00
#define RECOVERED_ERROR 0x01
#define NOT_READY	0x02
#define MEDIUM_ERROR	0x03
#define HARDWARE_ERROR	0x04
#define ILLEGAL_REQUEST 0x05
#define UNIT_ATTENTION	0x06
#define DATA_PROTECT	0x07
#define BLANK_CHECK	0x08
#define COPY_ABORTED	0x0a
#define ABORTED_COMMAND 0x0b
#define VOLUME_OVERFLOW 0x0d
#define MISCOMPARE	0x0e

/* ASC/ASCQ, (asc << 8) | ascq */
#define ASC_NOT_READY_FORMAT_IN_PROGRESS       0x0404
#define ASC_PORT_IN_STANDBY		       0x040b
#define ASC_PORT_IN_UNAVAILABLE		       0x040c
#define ASC_ALUA_OFFLINE		       0x0412
#define ASC_STPG_CMD_FAILED		       0x670a
#define ASC_LOGICAL_UNIT_COMMUNICATION_FAILURE 0x0800
#define ASC_WRITE_ERROR			       0x0c00
#define ASC_READ_ERROR			       0x1100
#define ASC_PARAMETER_LIST_LENGTH_ERROR	       0x1a00
#define ASC_INVALID_OP_CODE		       0x2000
#define ASC_LBA_OUT_OF_RANGE		       0x2100
#define ASC_INVALID_FIELD_IN_CDB	       0x2400
#define ASC_LOGICAL_UNIT_NOT_SUPPORTED	       0x2500
#define ASC_INVALID_FIELD_IN_PARAMETER_LIST    0x2600
#define ASC_WRITE_PROTECTED		       0x2700
#define ASC_MODE_PARAMETERS_CHANGED	       0x2a01
#define ASC_CAPACITY_DATA_HAS_CHANGED	       0x2a09
#define ASC_CANT_WRITE_INCOMPATIBLE_FORMAT     0x3005
#define ASC_SAVING_PARAMETERS_NOT_SUPPORTED    0x3900
#define ASC_MEDIUM_NOT_PRESENT		       0x3a00
#define ASC_INTERNAL_TARGET_FAILURE	       0x4400
#define ASC_MISCOMPARE_DURING_VERIFY_OPERATION 0x1d00

/* --- Appended by the SCSI layer: opcodes, ASCs and byte-order helpers. --- */
#define SANITIZE				0x48
#define WRITE_SAME_32_SA			0x000d
#define ASC_NO_ADDITIONAL_SENSE			0x0000
#define ASC_PARAMETER_VALUE_INVALID		0x2602
#define ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE 0x2609
#define ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE	0x2607
#define ASC_TOO_MANY_SEGMENT_DESCRIPTORS	0x2608
#define ASC_TOO_MANY_TARGET_DESCRIPTORS		0x2606
#define ASC_COPY_TARGET_DEVICE_NOT_REACHABLE	0x0d02
#define ASC_INCORRECT_COPY_TARGET_DEVICE_TYPE	0x0d03
#define ASC_STATE_TRANSITION			0x040a
#define ASC_IMPLICIT_ALUA_TRANSITION_FAILED	0x2a07
#define ASC_NOT_READY_CAUSE_NOT_REPORTABLE	0x0400
#define ASC_NOT_READY_INIT_CMD_REQUIRED		0x0402
#define ASC_INSUFFICIENT_RESOURCES		0x5503
#define ASC_POWER_ON_RESET			0x2900

#ifndef __ASSEMBLER__
#include <stdint.h>

static inline uint16_t scsi_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t scsi_get_be24(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t scsi_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t scsi_get_be64(const uint8_t *p)
{
	return ((uint64_t)scsi_get_be32(p) << 32) | scsi_get_be32(p + 4);
}

static inline void scsi_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void scsi_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

static inline void scsi_put_be64(uint8_t *p, uint64_t v)
{
	scsi_put_be32(p, v >> 32);
	scsi_put_be32(p + 4, v & 0xffffffff);
}
#endif

#endif
