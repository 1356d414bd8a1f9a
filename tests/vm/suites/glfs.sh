# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# glfs: user:glfs LUNs over tcm_loop on a real one-brick Gluster volume
# started in the guest on loopback (tests/gluster/gluster.sh, brick on the
# ext4 scratch filesystem).
#   setup          Gluster volume "tcmu", the daemon, a 64 MiB glfs LUN
#   fio_qd1/qd32   fio crc32c write+verify at queue depth 1 and 32
#   ws_unmap       WRITE SAME(16) with UNMAP of zeroes (upstream #702), and
#                  WRITE SAME of a pattern
#   unmap          UNMAP: written blocks read back as zeroes
#   resize         dev_size doubled: I/O past the old end
#   brick_outage   the brick is killed for 10 s under fio: I/O resumes once it
#                  is back, fio's verify passes
#   kill9_midwrite kill -9 of the daemon during writes, restart: every
#                  acknowledged block reads back
#   bad_input      missing volume, host that does not resolve, a folder:
#                  enable fails, the daemon log says why
#   fence          two LUNs on one file in volume "tcmulk" (mandatory locks
#                  enforced): the second takes the lock, the first's writes
#                  fail (BUSY), never reach the file, and it reports the lock lost
TESTS="setup fio_qd1 fio_qd32 ws_unmap unmap resize brick_outage kill9_midwrite bad_input fence teardown"
T_TIMEOUT=300
T_TIMEOUT_setup=500
T_TIMEOUT_brick_outage=500
SZ=$((64 << 20))
GL=$TESTS_VM/../gluster/gluster.sh
export GLFS_DIR=$SCRATCH/gluster GLFS_VOL=tcmu
BS_G0=$CFS/core/user_1/g0

dev() { cat "$TT/glfs.dev"; }

# A daemon serving the LUN: the one setup started, else a new one (what a
# test starts dies with it).
ensure_runner() {
	local pid
	pid=$(cat "$TT/runner.pid" 2>/dev/null)
	[ -n "$pid" ] && pid_alive "$pid" && return 0
	start_runner
}

suite_cleanup() { "$GL" stop; }

t_setup() {
	local t0=$SECONDS
	command -v glusterd >/dev/null || { echo "glusterd not installed on the host (tests/gluster/gluster.sh install)"; return 1; }
	"$GL" stop
	"$GL" start || { echo "Gluster did not start"; tail -20 "$GLFS_DIR/log/glusterd.log"; return 1; }
	log "Gluster volume $GLFS_VOL up in $((SECONDS - t0)) s (brick host $("$GL" host))"
	start_runner || return 1
	user_backstore g0 $SZ "glfs/$GLFS_VOL@127.0.0.1/g0.img" || { runner_log_tail; return 1; }
	loop_lun "$BS_G0" > "$TT/glfs.dev" || return 1
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

t_ws_unmap() {
	ensure_runner || return 1
	head -c 512 /dev/zero > "$TT/zero.blk"
	head -c $((64 * 512)) /dev/urandom > "$TT/w.bin"
	dd if="$TT/w.bin" of="$(dev)" bs=512 seek=1000 oflag=direct status=none || return 1
	sg_write_same --16 --unmap --lba=1000 --num=64 --in="$TT/zero.blk" --xferlen=512 "$(dev)" ||
		{ echo "WRITE SAME with UNMAP failed"; return 1; }
	dd if="$(dev)" of="$TT/r.bin" bs=512 skip=1000 count=64 iflag=direct status=none || return 1
	cmp "$TT/r.bin" <(head -c $((64 * 512)) /dev/zero) || { echo "not zero after WRITE SAME+UNMAP"; return 1; }
	pid_alive "$(cat "$TT/runner.pid")" || { echo "daemon died"; return 1; }
	# a non-zero pattern: written out by the daemon
	head -c 512 /dev/urandom > "$TT/blk.bin"
	sg_write_same --lba=3000 --num=16 --in="$TT/blk.bin" --xferlen=512 "$(dev)" || return 1
	for _ in $(seq 16); do cat "$TT/blk.bin"; done > "$TT/exp.bin"
	dd if="$(dev)" of="$TT/r.bin" bs=512 skip=3000 count=16 iflag=direct status=none || return 1
	cmp "$TT/exp.bin" "$TT/r.bin"
}

t_unmap() {
	ensure_runner || return 1
	dd if=/dev/urandom of="$(dev)" bs=4096 seek=1024 count=64 oflag=direct status=none || return 1
	sg_unmap --force --lba=8192 --num=512 "$(dev)" || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=4096 skip=1024 count=64 iflag=direct status=none || return 1
	cmp "$TT/r.bin" <(head -c $((64 * 4096)) /dev/zero) || { echo "unmapped range not zero"; return 1; }
}

t_resize() {
	local d
	ensure_runner || return 1
	d=$(dev)
	cfs_write $((SZ * 2)) "$BS_G0/attrib/dev_size" || { echo "resize failed"; return 1; }
	grep -q "extended /g0.img from $SZ to $((SZ * 2)) bytes" "$TT/log/tcmu-runner.log" ||
		{ echo "backing file not extended"; runner_log_tail; return 1; }
	sg_turs "$d" >/dev/null 2>&1   # the capacity-changed unit attention
	echo 1 > "/sys/block/${d#/dev/}/device/rescan"
	[ "$(blockdev --getsize64 "$d")" = $((SZ * 2)) ] || { echo "rescan: $(blockdev --getsize64 "$d")"; return 1; }
	head -c 262144 /dev/urandom > "$TT/w.bin"
	dd if="$TT/w.bin" of="$d" bs=64k seek=$((SZ / 65536 + 8)) oflag=direct status=none || return 1
	dd if="$d" of="$TT/r.bin" bs=64k skip=$((SZ / 65536 + 8)) count=4 iflag=direct status=none || return 1
	cmp "$TT/w.bin" "$TT/r.bin"
}

t_brick_outage() {
	local fpid rc
	ensure_runner || return 1
	timeout -k 10 400 fio --name=o --filename="$(dev)" --direct=1 --ioengine=libaio \
		--iodepth=8 --rw=randwrite --bs=4k --size=16M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 > "$TT/fio.out" 2>&1 &
	fpid=$!
	sleep 2
	kill -0 "$fpid" 2>/dev/null || { echo "fio ended before the brick was killed: nothing tested"; return 1; }
	"$GL" stop-brick || { echo "could not kill the brick"; return 1; }
	log "brick killed"
	sleep 10
	"$GL" start-brick || { echo "brick did not come back"; return 1; }
	log "brick back"
	wait "$fpid"; rc=$?
	grep -E 'err=|verify' "$TT/fio.out"
	[ $rc = 0 ] || { tail -20 "$TT/fio.out"; runner_log_tail; return 1; }
	grep -c 'not connected' "$TT/log/tcmu-runner.log" | sed 's/^/commands failed with ENOTCONN: /'
	grep -c 'reopen attempt' "$TT/log/tcmu-runner.log" | sed 's/^/failed reopen attempts: /'
	grep -q 'reopened /g0.img' "$TT/log/tcmu-runner.log" ||
		{ echo "the outage was not noticed (no reopen in the daemon log)"; runner_log_tail; return 1; }
}

t_kill9_midwrite() { kill9_midwrite "$(dev)" 8; }

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
	bad_one b0 "glfs/nosuchvolume@127.0.0.1/x.img" "cannot reach volume 'nosuchvolume'" || return 1
	bad_one b1 "glfs/$GLFS_VOL@no-such-host.invalid/x.img" "on no-such-host.invalid:24007" || return 1
	bad_one b2 "glfs/$GLFS_VOL@127.0.0.1/." "is a folder, not a regular file" || return 1
	bad_one b3 "glfs/$GLFS_VOL/x.img" "no '<volume>@' before the host" || return 1
	# and the good LUN still works
	dd if="$(dev)" of=/dev/null bs=64k count=4 iflag=direct status=none
}

t_fence() {
	local fa=$CFS/core/user_1/fa fb=$CFS/core/user_1/fb da db cfg rc
	local lg=$TT/log/tcmu-runner.log
	cfg="glfs/${GLFS_VOL}lk@127.0.0.1/fence.img"
	ensure_runner || return 1
	user_backstore fa $((16 << 20)) "$cfg" || { runner_log_tail; return 1; }
	da=$(loop_lun "$fa") || return 1
	grep -q '/fence.img: mandatory lock taken' "$lg" || { echo "A took no lock"; runner_log_tail; return 1; }
	head -c 65536 /dev/urandom > "$TT/fa.bin"
	dd if="$TT/fa.bin" of="$da" bs=64k oflag=direct status=none || { echo "A cannot write"; return 1; }
	user_backstore fb $((16 << 20)) "$cfg" || { runner_log_tail; return 1; }
	db=$(loop_lun "$fb") || return 1
	[ "$(grep -c '/fence.img: mandatory lock taken' "$lg")" = 2 ] || { echo "B took no lock"; return 1; }
	head -c 65536 /dev/urandom > "$TT/fb.bin"
	dd if="$TT/fb.bin" of="$db" bs=64k seek=1 oflag=direct status=none || { echo "B cannot write"; return 1; }
	# A's WRITE(10) of 128 blocks at LBA 256, once, 10 s timeout: BUSY until it gives up.
	sg_raw -t 10 -s 65536 -i "$TT/fa.bin" "$da" 2a 00 00 00 01 00 00 00 80 00 > "$TT/sg.out" 2>&1
	rc=$?
	sed 's/^/  A: /' "$TT/sg.out" | head -5
	[ $rc != 0 ] || { echo "fenced A's write succeeded"; return 1; }
	grep -q '/fence.img: lock lost (another holder took it)' "$lg" ||
		{ echo "A did not report the lost lock"; runner_log_tail; return 1; }
	dd if="$db" of="$TT/r.bin" bs=64k count=3 iflag=direct status=none || return 1
	cmp <(head -c 65536 "$TT/r.bin") "$TT/fa.bin" || { echo "A's first write lost"; return 1; }
	cmp <(tail -c +65537 "$TT/r.bin" | head -c 65536) "$TT/fb.bin" || { echo "B's write lost"; return 1; }
	cmp <(tail -c 65536 "$TT/r.bin") <(head -c 65536 /dev/zero) ||
		{ echo "fenced A's write reached the file"; return 1; }
	echo "lock lost reports: $(grep -c 'lock lost (another' "$lg"), fenced reopens: $(grep -c 'fenced by another lock holder' "$lg")"
	pid_alive "$(cat "$TT/runner.pid")" || { echo "daemon died"; return 1; }
	loop_unexport "$fb" && backstore_delete "$fb" && loop_unexport "$fa" && backstore_delete "$fa"
}

t_teardown() {
	ensure_runner || return 1
	loop_unexport "$BS_G0" || return 1
	backstore_delete "$BS_G0" || return 1
	stop_runner TERM 30 || return 1
	"$GL" stop
}
