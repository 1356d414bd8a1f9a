# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# recovery: the daemon dies or stops while the kernel has I/O for it.
#   kill9_midwrite  kill -9 during a stream of acknowledged writes, restart:
#                   the writes resume and every acknowledged block reads back
#   sigterm_drain   SIGTERM with fio running: the daemon exits cleanly in time;
#                   after a restart fio finishes and its verify passes
#   adopt           devices created while no daemon runs are adopted at start
#   delete_dead     devices whose daemon died can still be deleted (no hang)
TESTS="kill9_midwrite sigterm_drain adopt delete_dead"
T_TIMEOUT=400
SZ=$((128 << 20))
NBLK=120            # 64 KiB blocks written by the writer

mklun() {  # mklun NAME -> prints /dev/sdX
	truncate -s $SZ "$SCRATCH/$1.img"
	user_backstore "$1" $SZ "file/$SCRATCH/$1.img" || return 1
	loop_lun "$CFS/core/user_1/$1"
}

# writer DEV: blocks 0..NBLK-1 of $TT/data, each retried up to 6 times
# (lib.sh blk_writer)
writer() { blk_writer "$1" "$NBLK" 6; }

check_acked() {  # check_acked DEV
	local i bad=0
	dd if="$1" of="$TT/back" bs=64k count=$NBLK iflag=direct status=none || return 1
	for i in $(grep -v finished "$TT/acked"); do
		if ! cmp -s <(dd if="$TT/data" bs=64k skip="$i" count=1 status=none) \
			    <(dd if="$TT/back" bs=64k skip="$i" count=1 status=none); then
			echo "acknowledged block $i does not read back"; bad=$((bad + 1))
		fi
	done
	echo "$(grep -vc finished "$TT/acked") acknowledged blocks checked, $bad bad"
	[ $bad = 0 ]
}

t_kill9_midwrite() {
	local dev wpid n
	start_runner || return 1
	dev=$(mklun k0) || return 1
	: > "$TT/acked"; : > "$TT/writer.err"
	head -c $((NBLK * 65536)) /dev/urandom > "$TT/data"
	log "LUN $dev; writing $NBLK blocks"
	writer "$dev" &
	wpid=$!
	wait_for 120 eval '[ "$(nacked)" -ge 30 ]' || { echo "writer too slow: $(nacked) blocks in 120 s"; return 1; }
	n=$(nacked)
	kill -KILL "$(cat "$TT/runner.pid")"; rm -f "$TT/runner.pid"
	log "killed the daemon after $n acknowledged blocks"
	sleep 3
	log "acknowledged while the daemon was dead: $(( $(nacked) - n ))"
	start_runner || return 1
	log "daemon restarted; waiting for the writer"
	wait_for 240 eval 'grep -q finished "$TT/acked"' || { echo "writer did not finish"; cat "$TT/writer.err"; return 1; }
	wait "$wpid"
	cat "$TT/writer.err"
	[ "$(nacked)" = $NBLK ] || { echo "not every block was written"; return 1; }
	check_acked "$dev" || return 1
	# the image file itself has them too (what the daemon wrote)
	sync
	cmp -s <(head -c $((NBLK * 65536)) "$SCRATCH/k0.img") "$TT/data" || { echo "image file differs"; return 1; }
	loop_unexport "$CFS/core/user_1/k0" && backstore_delete "$CFS/core/user_1/k0" && stop_runner TERM 30
}

t_sigterm_drain() {
	local dev fpid rc t0
	start_runner || return 1
	dev=$(mklun s0) || return 1
	timeout -k 10 300 fio --name=d --filename="$dev" --direct=1 --ioengine=libaio --iodepth=32 \
		--rw=randwrite --bs=16k --size=48M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 > "$TT/fio.out" 2>&1 &
	fpid=$!
	sleep 4
	t0=$SECONDS
	stop_runner TERM 30 || { echo "daemon did not exit within 30s of SIGTERM"; return 1; }
	log "daemon exited $((SECONDS - t0))s after SIGTERM"
	grep -iE 'error|fail' "$TT/log/tcmu-runner.log" | tail -5
	sleep 2
	start_runner || return 1
	wait "$fpid"; rc=$?
	grep -E 'err=|verify' "$TT/fio.out"
	[ $rc = 0 ] || { tail -20 "$TT/fio.out"; return 1; }
	loop_unexport "$CFS/core/user_1/s0" && backstore_delete "$CFS/core/user_1/s0" && stop_runner TERM 30
}

t_adopt() {
	local n dev
	# No daemon: ask the kernel not to wait for a netlink reply.
	for n in 0 1; do
		truncate -s $SZ "$SCRATCH/a$n.img"
		user_backstore "a$n" $SZ "file/$SCRATCH/a$n.img" 1 nl_reply_supported=-1 || return 1
	done
	start_runner || return 1   # waits until both UIO devices are open
	for n in 0 1; do
		dev=$(loop_lun "$CFS/core/user_1/a$n") || return 1
		head -c 1M /dev/urandom > "$TT/w.bin"
		dd if="$TT/w.bin" of="$dev" bs=64k oflag=direct status=none || return 1
		cmp "$TT/w.bin" <(dd if="$dev" bs=64k count=16 iflag=direct status=none) || return 1
		cmp "$TT/w.bin" <(head -c 1M "$SCRATCH/a$n.img") || return 1
		loop_unexport "$CFS/core/user_1/a$n" || return 1
	done
	for n in 0 1; do backstore_delete "$CFS/core/user_1/a$n" || return 1; done
	stop_runner TERM 30
}

t_delete_dead() {
	local dev
	start_runner || return 1
	truncate -s $SZ "$SCRATCH/x0.img"
	user_backstore x0 $SZ "file/$SCRATCH/x0.img" || return 1
	# the initiator's SYNCHRONIZE CACHE on removal times out sooner
	cfs_write 5 "$CFS/core/user_1/x0/attrib/cmd_time_out" || return 1
	dev=$(loop_lun "$CFS/core/user_1/x0") || return 1
	sg_turs "$dev" || return 1
	stop_runner KILL 5
	loop_unexport "$CFS/core/user_1/x0" || return 1
	backstore_delete "$CFS/core/user_1/x0" 30 || { echo "delete blocked with the daemon dead"; return 1; }
	# and a new daemon serves new devices afterwards
	start_runner || return 1
	dev=$(mklun x1) || return 1
	sg_turs "$dev" || return 1
	loop_unexport "$CFS/core/user_1/x1" && backstore_delete "$CFS/core/user_1/x1" && stop_runner TERM 30
}
