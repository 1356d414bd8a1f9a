# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# rbd: user:rbd LUNs over tcm_loop on a real single-node Ceph cluster (one
# monitor, one memstore OSD) started in the guest on loopback
# (tests/ceph/ceph.sh).  The guest needs -cpu max (run-suites.sh sets
# VMCPU=max for this suite) and a host name (the initramfs sets tcmu-vm).
#   setup          cluster, image rbd/r0, the daemon, a 64 MiB rbd LUN
#   fio_qd1/qd32   fio crc32c write+verify at queue depth 1 and 32
#   caw            sg_compare_and_write: a match writes; a miscompare is
#                  refused and reports the offset of the first difference
#   unmap_du       UNMAP of 8 written objects: `rbd du` drops, zeroes read back
#   resize         LUN grown (the image follows); image grown with `rbd
#                  resize` (the LUN follows, capacity-changed UA)
#   kill9_midwrite kill -9 of the daemon during writes, restart: every
#                  acknowledged block reads back
#   blocklist      `ceph osd blocklist add` of our client under fio: the device
#                  reopens, the daemon unblocks its old address, fio's verify
#                  passes
#   bad_input      missing pool, missing image, wrong conf path,
#                  osd_op_timeout=abc: enable fails, the daemon log says why
TESTS="setup fio_qd1 fio_qd32 caw unmap_du resize kill9_midwrite blocklist bad_input teardown"
T_TIMEOUT=300
T_TIMEOUT_setup=600
T_TIMEOUT_blocklist=500
SZ=$((64 << 20))
CEPH_SH=$TESTS_VM/../ceph/ceph.sh
export CEPH_DIR=/var/tmp/tcmu-ceph
export CEPH_CONF=$CEPH_DIR/ceph.conf
BS_R0=$CFS/core/user_1/r0

dev() { cat "$TT/rbd.dev"; }

# A daemon serving the LUN: the one setup started, else a new one.
ensure_runner() {
	local pid
	pid=$(cat "$TT/runner.pid" 2>/dev/null)
	[ -n "$pid" ] && pid_alive "$pid" && return 0
	start_runner
}

suite_cleanup() { "$CEPH_SH" stop; }

rbdc() { timeout 120 rbd "$@"; }

t_setup() {
	local t0=$SECONDS
	command -v ceph-mon >/dev/null || { echo "ceph-mon not installed on the host (tests/ceph/ceph.sh install)"; return 1; }
	# the OSD's crush location needs a host name that resolves
	getent hosts "$(hostname)" >/dev/null || echo "127.0.0.1 $(hostname)" >> /etc/hosts
	"$CEPH_SH" stop
	"$CEPH_SH" start || { echo "Ceph did not start"; return 1; }
	log "Ceph cluster up in $((SECONDS - t0)) s"
	rbdc create --size $((SZ >> 20))M rbd/r0 || return 1
	start_runner || return 1
	user_backstore r0 $SZ "rbd/rbd/r0;conf=$CEPH_CONF" || { runner_log_tail; return 1; }
	loop_lun "$BS_R0" > "$TT/rbd.dev" || return 1
	log "LUN $(dev)"
	sg_readcap "$(dev)" | grep -q "Last LBA=$((SZ / 512 - 1))"
}

t_fio_qd1() {
	ensure_runner || return 1
	FIO_QD=1 fio_verify "$(dev)" randwrite 16k 8M
}

t_fio_qd32() {
	ensure_runner || return 1
	FIO_QD=32 fio_verify "$(dev)" randwrite 4k 8M
}

t_caw() {
	local rc
	ensure_runner || return 1
	head -c 512 /dev/urandom > "$TT/old.blk"
	head -c 512 /dev/urandom > "$TT/new.blk"
	dd if="$TT/old.blk" of="$(dev)" bs=512 seek=5000 oflag=direct status=none || return 1
	cat "$TT/old.blk" "$TT/new.blk" > "$TT/caw.bin"
	sg_compare_and_write --in="$TT/caw.bin" --lba=5000 --num=1 "$(dev)" ||
		{ echo "matching COMPARE AND WRITE failed"; return 1; }
	dd if="$(dev)" of="$TT/r.blk" bs=512 skip=5000 count=1 iflag=direct status=none || return 1
	cmp "$TT/new.blk" "$TT/r.blk" || { echo "the match did not write"; return 1; }
	echo "match: written"
	# compare buffer = the current block with byte 100 flipped
	{ head -c 100 "$TT/new.blk"; printf '\x5a'; tail -c +102 "$TT/new.blk"; } > "$TT/cmp.blk"
	cmp -s "$TT/cmp.blk" "$TT/new.blk" && { printf '\xa5' | dd of="$TT/cmp.blk" bs=1 seek=100 conv=notrunc status=none; }
	cat "$TT/cmp.blk" "$TT/old.blk" > "$TT/caw.bin"
	sg_compare_and_write --in="$TT/caw.bin" --lba=5000 --num=1 "$(dev)" > "$TT/caw.out" 2>&1
	rc=$?
	cat "$TT/caw.out"
	[ $rc = 14 ] || { echo "miscompare: exit $rc, want 14 (MISCOMPARE)"; return 1; }
	grep -q "Miscompare at byte offset: 100 " "$TT/caw.out" || { echo "offset 100 not reported"; return 1; }
	dd if="$(dev)" of="$TT/r.blk" bs=512 skip=5000 count=1 iflag=direct status=none || return 1
	cmp "$TT/new.blk" "$TT/r.blk" || { echo "the miscompare wrote"; return 1; }
}

# used bytes of rbd/r0 per `rbd du` (object-map/fast-diff: whole objects)
du_used() { rbdc du --format json rbd/r0 2>/dev/null | sed -n 's/.*"used_size":\([0-9]*\).*/\1/p' | head -1; }

t_unmap_du() {
	local before after
	ensure_runner || return 1
	# 8 objects of 4 MiB, at 32 MiB
	dd if=/dev/urandom of="$(dev)" bs=1M seek=32 count=32 oflag=direct status=none || return 1
	before=$(du_used)
	# two UNMAPs of 16 MiB: the maximum unmap length is 4 objects
	sg_unmap --force --lba=$((32 << 11)) --num=$((16 << 11)) "$(dev)" || { echo "UNMAP failed"; return 1; }
	sg_unmap --force --lba=$((48 << 11)) --num=$((16 << 11)) "$(dev)" || { echo "UNMAP failed"; return 1; }
	after=$(du_used)
	echo "rbd du used: $before bytes before UNMAP, $after after"
	if [ -z "$before" ] || [ -z "$after" ]; then echo "no rbd du figure"; rbdc du rbd/r0; return 1; fi
	[ $((before - after)) -ge $((32 << 20)) ] || { echo "UNMAP freed less than 32 MiB"; return 1; }
	dd if="$(dev)" of="$TT/r.bin" bs=1M skip=32 count=32 iflag=direct status=none || return 1
	cmp "$TT/r.bin" <(head -c $((32 << 20)) /dev/zero) || { echo "unmapped range not zero"; return 1; }
}

t_resize() {
	local d n
	ensure_runner || return 1
	d=$(dev)
	# the LUN first: the daemon grows the image
	cfs_write $((SZ * 2)) "$BS_R0/attrib/dev_size" || { echo "LUN resize failed"; runner_log_tail; return 1; }
	n=$(rbdc info --format json rbd/r0 | sed -n 's/.*"size":\([0-9]*\).*/\1/p')
	[ "$n" = $((SZ * 2)) ] || { echo "image is $n bytes after the LUN resize"; return 1; }
	sg_turs "$d" >/dev/null 2>&1
	echo 1 > "/sys/block/${d#/dev/}/device/rescan"
	[ "$(blockdev --getsize64 "$d")" = $((SZ * 2)) ] || { echo "rescan: $(blockdev --getsize64 "$d")"; return 1; }
	# then the image: the LUN follows, with a capacity-changed unit attention
	rbdc resize --size $((SZ * 3 >> 20))M rbd/r0 || return 1
	wait_for 60 eval "grep -q 'resized from $((SZ * 2)) to $((SZ * 3)) bytes' '$TT/log/tcmu-runner.log'" ||
		{ echo "the daemon did not see the image resize"; runner_log_tail; return 1; }
	sg_turs "$d" 2>&1 | head -3
	echo 1 > "/sys/block/${d#/dev/}/device/rescan"
	wait_for 20 eval "[ \"\$(blockdev --getsize64 $d)\" = $((SZ * 3)) ]" ||
		{ echo "LUN size after image resize: $(blockdev --getsize64 "$d")"; return 1; }
	head -c 262144 /dev/urandom > "$TT/w.bin"
	dd if="$TT/w.bin" of="$d" bs=64k seek=$((SZ * 2 / 65536 + 8)) oflag=direct status=none || return 1
	dd if="$d" of="$TT/r.bin" bs=64k skip=$((SZ * 2 / 65536 + 8)) count=4 iflag=direct status=none || return 1
	cmp "$TT/w.bin" "$TT/r.bin"
}

t_kill9_midwrite() { kill9_midwrite "$(dev)" 10; }

# our client's address, as the daemon logged it at its last open
# our_addr: the client address of the running daemon's image, from its own
# "opened image" log line (lines carry the pid; the logger writes behind, so
# a daemon just restarted may not have logged yet: wait up to 30 s).  An
# older daemon's line would name an address nobody uses any more.
our_addr() {
	local pid a i
	pid=$(cat "$TT/runner.pid" 2>/dev/null)
	[ -n "$pid" ] || return 1
	for i in $(seq 60); do
		a=$(sed -n "s/.* $pid \[INFO\] .*opened image rbd\/r0 (client address \([^)]*\)).*/\1/p" \
			"$TT/log/tcmu-runner.log" | tail -1)
		[ -n "$a" ] && { echo "$a"; return 0; }
		sleep 0.5
	done
	return 1
}

t_blocklist() {
	local fpid rc addr
	ensure_runner || return 1
	addr=$(our_addr)
	[ -n "$addr" ] || { echo "no client address in the daemon log"; runner_log_tail; return 1; }
	echo "our client: $addr"
	timeout -k 10 400 fio --name=b --filename="$(dev)" --direct=1 --ioengine=libaio \
		--iodepth=8 --rw=randwrite --bs=4k --size=16M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 > "$TT/fio.out" 2>&1 &
	fpid=$!
	sleep 3
	kill -0 "$fpid" 2>/dev/null || { echo "fio ended before the blocklisting: nothing tested"; return 1; }
	timeout 60 ceph osd blocklist add "$addr" || { echo "blocklist add failed"; return 1; }
	log "client $addr blocklisted"
	wait "$fpid"; rc=$?
	grep -E 'err=|verify' "$TT/fio.out"
	[ $rc = 0 ] || { tail -20 "$TT/fio.out"; runner_log_tail; return 1; }
	# fio may be past its writes (verifying: reads) when the new OSD map
	# takes effect, and reads of a blocklisted client were seen to succeed:
	# keep writing (past fio's 16 MiB) until the daemon notices, up to 60 s.
	local i
	for i in $(seq 60); do
		grep -q 'reopened image rbd/r0' "$TT/log/tcmu-runner.log" && break
		timeout 60 dd if=/dev/zero of="$(dev)" bs=64k count=1 seek=$((640 + i)) oflag=direct \
			status=none
		sleep 1
	done
	grep -q 'reopened image rbd/r0' "$TT/log/tcmu-runner.log" ||
		{ echo "the blocklisting was not noticed (no reopen in the daemon log)"; runner_log_tail; return 1; }
	# I/O resumes after the recovery: a pattern written now reads back.
	head -c 1048576 /dev/urandom > "$TT/bl.bin"
	dd if="$TT/bl.bin" of="$(dev)" bs=1M seek=8 oflag=direct status=none ||
		{ echo "write after the recovery failed"; runner_log_tail; return 1; }
	cmp <(dd if="$(dev)" bs=1M skip=8 count=1 iflag=direct status=none) "$TT/bl.bin" ||
		{ echo "data written after the recovery does not read back"; return 1; }
	grep -q "removed my old address $addr from the OSD blocklist" "$TT/log/tcmu-runner.log" ||
		{ echo "old address not removed from the blocklist"; runner_log_tail; return 1; }
	timeout 60 ceph osd blocklist ls 2>/dev/null | grep -F "$addr" && { echo "still blocklisted"; return 1; }
	echo "blocklisted, reopened, old address unblocked; fio verify passed"
}

# bad_one NAME CFG LOG_TEXT: enabling the device fails; the log says why.
bad_one() {
	local d=$CFS/core/user_1/$1
	if user_backstore "$1" $SZ "$2" 2>/dev/null; then
		echo "$2: enabled, should have failed"; return 1
	fi
	cfs_rmdir "$d" 30
	grep -qF "$3" "$TT/log/tcmu-runner.log" || { echo "$2: no '$3' in the log"; runner_log_tail; return 1; }
	echo "$2: refused ($3)"
}

t_bad_input() {
	ensure_runner || return 1
	bad_one b0 "rbd/nosuchpool/r0;conf=$CEPH_CONF" "cannot open pool 'nosuchpool': no such pool" || return 1
	bad_one b1 "rbd/rbd/nosuchimage;conf=$CEPH_CONF" "cannot open image 'nosuchimage' in pool 'rbd': no such image" || return 1
	bad_one b2 "rbd/rbd/r0;conf=/nonexistent/ceph.conf" "cannot read the Ceph configuration from /nonexistent/ceph.conf" || return 1
	bad_one b3 "rbd/rbd/r0;osd_op_timeout=abc;conf=$CEPH_CONF" "osd_op_timeout must be a whole number of seconds" || return 1
	# and the good LUN still works
	dd if="$(dev)" of=/dev/null bs=64k count=4 iflag=direct status=none
}

t_teardown() {
	ensure_runner || return 1
	loop_unexport "$BS_R0" || return 1
	backstore_delete "$BS_R0" || return 1
	stop_runner TERM 30 || return 1
	"$CEPH_SH" stop
}
