# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# reconnect: per-device recovery after a handler reports its backend lost,
# with the test-only handler_faulty.so (tests/handlers/faulty: "<img>.fail"
# makes its I/O report conn lost + BUSY and its open() fail).
#   busy_retry      a writer on a faulty LUN through a 5 s outage: no I/O
#                   error reaches it (the kernel retries BUSY), everything it
#                   wrote reads back; a file LUN keeps serving meanwhile; the
#                   daemon logs the recovery
#   remove_during   the LUN is deleted while recovering: no hang
#   sigterm_during  SIGTERM while recovering: prompt exit; after a restart
#                   the LUN serves I/O again
TESTS="busy_retry remove_during sigterm_during"
T_TIMEOUT=400
SZ=$((64 << 20))
NBLK=120            # 64 KiB blocks written by the writer
FAULTY=$BUILD/tests/handlers/faulty/handler_faulty.so

# Start the daemon with handler_faulty.so next to the build's handlers.
start_faulty_runner() {
	[ -f "$FAULTY" ] || { echo "no $FAULTY (configure with BUILD_TESTS=ON)"; return 1; }
	mkdir -p "$TT/handlers"
	ln -sfn "$FAULTY" "$TT/handlers/handler_faulty.so"
	start_runner
}

mklun() {  # mklun NAME HANDLER -> prints /dev/sdX
	truncate -s $SZ "$SCRATCH/$1.img"
	user_backstore "$1" $SZ "$2/$SCRATCH/$1.img" || return 1
	loop_lun "$CFS/core/user_1/$1"
}

# writer DEV: blocks 0..NBLK-1 of $TT/data, one O_DIRECT dd each and no
# retry: any error the application sees fails the test.
writer() {
	local i
	for i in $(seq 0 $((NBLK - 1))); do
		dd if="$TT/data" of="$1" bs=64k skip="$i" seek="$i" count=1 \
			oflag=direct status=none 2>> "$TT/writer.err" || { echo "error at $i" >> "$TT/acked"; return 1; }
		echo "$i" >> "$TT/acked"
	done
	echo finished >> "$TT/acked"
}
nacked() { grep -cE '^[0-9]+$' "$TT/acked"; }

# trigger DEV: one READ(10) through SG_IO in the background (the kernel may
# retry the BUSY answers for a while); wait until the daemon recovers.
trigger() {
	( timeout 60 sg_raw -r 512 "$1" 28 00 00 00 00 00 00 00 01 00 > "$TT/raw.out" 2>&1
	  echo "sg_raw rc $?" >> "$TT/raw.out" ) &
	wait_for 20 grep -q 'recovering the device' "$TT/log/tcmu-runner.log" && return 0
	cat "$TT/raw.out"; echo "the daemon did not start a recovery"; return 1
}

# roundtrip DEV K: write block K of $TT/small (64 KiB) and read it back, bounded.
roundtrip() {
	timeout 10 dd if="$TT/small" of="$1" bs=64k count=1 skip="$2" seek="$2" oflag=direct status=none &&
	timeout 10 cmp <(timeout 10 dd if="$1" bs=64k count=1 skip="$2" iflag=direct status=none) \
		<(dd if="$TT/small" bs=64k count=1 skip="$2" status=none)
}

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

t_busy_retry() {
	local fdev ndev wpid n0 n1 t0 k ok=0 bad=0 worst=0 base=0 a dt rc
	start_faulty_runner || return 1
	fdev=$(mklun f0 faulty) || return 1
	ndev=$(mklun n0 file) || return 1
	log "faulty LUN $fdev, file LUN $ndev"
	head -c $((NBLK * 65536)) /dev/urandom > "$TT/data"
	head -c $((16 * 65536)) /dev/urandom > "$TT/small"
	: > "$TT/acked"; : > "$TT/writer.err"
	# the file LUN's round trip before the outage (TCG guests are slow)
	for k in 0 1 2; do
		a=$(ms_now); roundtrip "$ndev" $k || { echo "file LUN broken before the outage"; return 1; }
		dt=$(( $(ms_now) - a )); [ "$dt" -gt "$base" ] && base=$dt
	done
	writer "$fdev" &
	wpid=$!
	wait_for 120 eval '[ "$(nacked)" -ge 20 ]' || { echo "writer too slow: $(nacked) blocks in 120 s"; return 1; }
	n0=$(nacked)
	touch "$SCRATCH/f0.img.fail"
	t0=$SECONDS
	log "backend of f0 down after $n0 blocks"
	# I/O on the other LUN during the outage, each op bounded
	k=0
	while [ $((SECONDS - t0)) -lt 5 ] || [ $((ok + bad)) -lt 3 ]; do
		a=$(ms_now)
		if roundtrip "$ndev" $((k % 16)); then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		dt=$(( $(ms_now) - a )); [ "$dt" -gt "$worst" ] && worst=$dt
		k=$((k + 1))
	done
	n1=$(nacked)
	rm -f "$SCRATCH/f0.img.fail"
	log "backend of f0 back after $((SECONDS - t0)) s; writer acked $((n1 - n0)) block(s) meanwhile"
	log "file LUN during the outage: $ok good, $bad bad 64 KiB round trips, slowest ${worst} ms (before: ${base} ms)"
	wait_for 240 eval 'grep -q -e finished -e error "$TT/acked"' || { echo "writer did not finish"; return 1; }
	wait "$wpid"; rc=$?
	log "writer finished (rc $rc) $((SECONDS - t0)) s after the outage began"
	cat "$TT/writer.err"
	grep -E 'recover|reopen|lost' "$TT/log/tcmu-runner.log" | head -20
	echo "# kernel log since the outage:"
	dmesg_new
	if [ "$rc" != 0 ] || grep -q error "$TT/acked"; then
		echo "the application saw an I/O error"; return 1
	fi
	if [ "$bad" != 0 ] || ! [ "$ok" -ge 1 ]; then
		echo "the file LUN stalled or failed"; return 1
	fi
	cmp <(dd if="$fdev" bs=64k count=$NBLK iflag=direct status=none) "$TT/data" || { echo "read-back differs"; return 1; }
	grep -q 'device f0 recovered after' "$TT/log/tcmu-runner.log" || { echo "no 'recovered' in the log"; return 1; }
	log "read-back of the $NBLK blocks matches"
	[ "$worst" -lt $((3 * base + 3000)) ] || { echo "the file LUN was slow (${worst} ms, ${base} ms before)"; return 1; }
	loop_unexport "$CFS/core/user_1/f0" && loop_unexport "$CFS/core/user_1/n0" &&
		backstore_delete "$CFS/core/user_1/f0" && backstore_delete "$CFS/core/user_1/n0" &&
		stop_runner TERM 30
}

t_remove_during() {
	local fdev t0
	start_faulty_runner || return 1
	fdev=$(mklun r0 faulty) || return 1
	touch "$SCRATCH/r0.img.fail"
	trigger "$fdev" || return 1
	wait_for 10 grep -q 'reopen attempt 1 failed' "$TT/log/tcmu-runner.log" || { echo "no failed reopen"; return 1; }
	t0=$SECONDS
	loop_unexport "$CFS/core/user_1/r0" || return 1
	backstore_delete "$CFS/core/user_1/r0" 30 || { echo "delete blocked during a recovery"; return 1; }
	log "deleted $((SECONDS - t0)) s into the recovery wait"
	grep -E 'recovery|closed' "$TT/log/tcmu-runner.log" | tail -5
	rm -f "$SCRATCH/r0.img.fail"
	stop_runner TERM 30
}

t_sigterm_during() {
	local fdev t0
	start_faulty_runner || return 1
	fdev=$(mklun s0 faulty) || return 1
	touch "$SCRATCH/s0.img.fail"
	trigger "$fdev" || return 1
	t0=$SECONDS
	stop_runner TERM 15 || { echo "daemon did not exit within 15 s of SIGTERM"; return 1; }
	log "daemon exited $((SECONDS - t0)) s after SIGTERM during a recovery"
	rm -f "$SCRATCH/s0.img.fail"
	start_runner || return 1
	head -c 1M /dev/urandom > "$TT/w.bin"
	timeout 120 dd if="$TT/w.bin" of="$fdev" bs=64k oflag=direct status=none || { echo "write after restart failed"; return 1; }
	cmp "$TT/w.bin" <(dd if="$fdev" bs=64k count=16 iflag=direct status=none) || return 1
	loop_unexport "$CFS/core/user_1/s0" && backstore_delete "$CFS/core/user_1/s0" && stop_runner TERM 30
}
