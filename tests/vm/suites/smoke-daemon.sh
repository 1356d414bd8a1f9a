# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# smoke-daemon: tcmu-runner + handler_file.so serving one user:file LUN over
# tcm_loop; a tour of the SCSI commands sg3_utils can send, then fio verify.
TESTS="setup inquiry vpd readcap requests opcodes dd_rw write_same unmap caw sync fio_verify teardown"
SZ=$((256 << 20))

dev() { cat "$TT/dev"; }

t_setup() {
	start_runner || return 1
	truncate -s $SZ "$SCRATCH/sd.img"
	user_backstore sd0 $SZ "file/$SCRATCH/sd.img" || return 1
	loop_lun "$CFS/core/user_1/sd0" > "$TT/dev" || return 1
	log "LUN $(dev)"
}

t_inquiry() {
	local out
	out=$(sg_inq "$(dev)") || return 1
	echo "$out" | head -12
	echo "$out" | grep -q 'Vendor identification: LIO-ORG' || return 1
	echo "$out" | grep -q 'Peripheral device type: disk' || return 1
}

t_vpd() {
	local out
	sg_vpd -p sv "$(dev)" || return 1
	out=$(sg_vpd -p di "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -qi 'NAA' || { echo "no NAA designator in VPD 0x83"; return 1; }
	out=$(sg_vpd -p bl "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -qi 'Maximum transfer length' || return 1
	sg_vpd -p lbpv "$(dev)" || return 1
}

t_readcap() {
	local out
	out=$(sg_readcap "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -q "Last LBA=$((SZ / 512 - 1))" || return 1
	echo "$out" | grep -q 'Logical block length=512' || return 1
	out=$(sg_readcap --16 "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -q "Last LBA=$((SZ / 512 - 1))" || return 1
}

t_requests() {
	# REQUEST SENSE with nothing pending: GOOD, sense key NO SENSE
	sg_requests "$(dev)" || return 1
	sg_requests --hex "$(dev)"
}

t_opcodes() {
	local out
	out=$(sg_opcodes "$(dev)") || return 1
	echo "$out" | head -40
	echo "$out" | grep -qi 'Read(10)' || return 1
	sg_opcodes --opcode=0x28 "$(dev)" || return 1
}

# pattern FILE BLOCKS SEED: deterministic data
pattern() { head -c $(($2 * 512)) /dev/urandom > "$1"; }

t_dd_rw() {
	pattern "$TT/w.bin" 8192 1
	dd if="$TT/w.bin" of="$(dev)" bs=1M oflag=direct conv=fsync status=none || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=1M count=4 iflag=direct status=none || return 1
	cmp "$TT/w.bin" "$TT/r.bin" || return 1
	# and at the end of the LUN
	dd if="$TT/w.bin" of="$(dev)" bs=1M seek=$((SZ / 1048576 - 4)) oflag=direct status=none || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=1M skip=$((SZ / 1048576 - 4)) iflag=direct status=none || return 1
	cmp "$TT/w.bin" "$TT/r.bin"
}

t_write_same() {
	local i
	pattern "$TT/blk.bin" 1
	sg_write_same --lba=1000 --num=64 --in="$TT/blk.bin" --xferlen=512 "$(dev)" || return 1
	: > "$TT/exp.bin"
	for i in $(seq 64); do cat "$TT/blk.bin" >> "$TT/exp.bin"; done
	dd if="$(dev)" of="$TT/r.bin" bs=512 skip=1000 count=64 iflag=direct status=none || return 1
	cmp "$TT/exp.bin" "$TT/r.bin" || return 1
	# WRITE SAME(16)
	sg_write_same --16 --lba=2000 --num=8 --in="$TT/blk.bin" --xferlen=512 "$(dev)" || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=512 skip=2000 count=8 iflag=direct status=none || return 1
	cmp "$TT/r.bin" <(head -c 4096 "$TT/exp.bin")
}

t_unmap() {
	dd if=/dev/urandom of="$(dev)" bs=4096 seek=1024 count=64 oflag=direct status=none || return 1
	sg_unmap --force --lba=8192 --num=512 "$(dev)" || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=4096 skip=1024 count=64 iflag=direct status=none || return 1
	# LBPRZ: unmapped blocks read back as zeros
	cmp "$TT/r.bin" <(head -c $((64 * 4096)) /dev/zero) || { echo "unmapped range not zero"; return 1; }
}

t_caw() {
	local rc
	pattern "$TT/old.bin" 1; pattern "$TT/new.bin" 1; pattern "$TT/other.bin" 1
	dd if="$TT/old.bin" of="$(dev)" bs=512 seek=3000 oflag=direct status=none || return 1
	cat "$TT/old.bin" "$TT/new.bin" > "$TT/caw.bin"
	sg_compare_and_write --in="$TT/caw.bin" --lba=3000 --num=1 --xferlen=1024 "$(dev)" || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=512 skip=3000 count=1 iflag=direct status=none || return 1
	cmp "$TT/new.bin" "$TT/r.bin" || return 1
	# compare data no longer matches: MISCOMPARE (sg3_utils exit status 14)
	cat "$TT/old.bin" "$TT/other.bin" > "$TT/caw.bin"
	sg_compare_and_write --in="$TT/caw.bin" --lba=3000 --num=1 --xferlen=1024 "$(dev)"
	rc=$?
	[ $rc = 14 ] || { echo "expected MISCOMPARE (14), got $rc"; return 1; }
	dd if="$(dev)" of="$TT/r.bin" bs=512 skip=3000 count=1 iflag=direct status=none || return 1
	cmp "$TT/new.bin" "$TT/r.bin" || return 1
	# 2 blocks: over MAXIMUM COMPARE AND WRITE LENGTH (1): ILLEGAL REQUEST (5)
	cat "$TT/new.bin" "$TT/new.bin" "$TT/other.bin" "$TT/other.bin" > "$TT/caw2.bin"
	sg_compare_and_write --in="$TT/caw2.bin" --lba=3000 --num=2 --xferlen=2048 "$(dev)"
	rc=$?
	[ $rc = 5 ] || { echo "expected ILLEGAL REQUEST (5) for 2 blocks, got $rc"; return 1; }
}

t_sync() {
	sg_sync "$(dev)" || { echo "SYNCHRONIZE CACHE(10) failed"; return 1; }
	sg_sync --16 "$(dev)" || { echo "SYNCHRONIZE CACHE(16) failed"; return 1; }
	sg_sync --16 --lba=1000 --count=8 "$(dev)" ||
		{ echo "SYNCHRONIZE CACHE(16) of LBA 1000+8 failed"; return 1; }
	sg_turs "$(dev)"
}

t_fio_verify() {
	fio_verify "$(dev)" randwrite 4k 16M || return 1
	fio_verify "$(dev)" write 1M 32M
}

t_teardown() {
	loop_unexport "$CFS/core/user_1/sd0" || return 1
	backstore_delete "$CFS/core/user_1/sd0" || return 1
	stop_runner TERM 30 || { echo "runner did not exit on SIGTERM"; return 1; }
	# the image holds what the LUN wrote
	[ -s "$SCRATCH/sd.img" ]
}
