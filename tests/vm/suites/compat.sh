# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# compat: upstream tcmu-runner's prebuilt handler plugins (Debian 12's
# tcmu-runner 1.5.4 package: handler_qcow.so, handler_file_zbc.so,
# handler_file_optical.so, handler_rbd.so) loaded unchanged into our daemon
# from a handler folder of their own, plus the upstream-style source-compat
# test handler (tests/compat/handler_upstyle.c); LUNs over tcm_loop.
TESTS="setup listed qcow zbc fbo upstyle teardown"
DEBDIR=${DEBIAN_HANDLERS:-/usr/lib/x86_64-linux-gnu/tcmu-runner}
SZ=$((256 << 20))

# Our daemon gets only these handlers (lib.sh's start_runner asks here).
handler_dir() { echo "$TT/compat-handlers"; }

# lun NAME: the /dev node recorded for NAME.
lun() { cat "$TT/lun.$1"; }

t_setup() {
	local d=$TT/compat-handlers f n=0
	mkdir -p "$d"
	for f in handler_qcow.so handler_file_zbc.so handler_file_optical.so handler_rbd.so; do
		if [ -f "$DEBDIR/$f" ]; then cp "$DEBDIR/$f" "$d/"; n=$((n + 1)); fi
	done
	[ "$n" = 4 ] || { echo "only $n of Debian's 4 handlers in $DEBDIR (tests/vm/setup.sh installs them)"; return 1; }
	f=$BUILD/tests/compat/plugins/handler_upstyle.so
	[ -f "$f" ] || { echo "$f not built"; return 1; }
	cp "$f" "$d/"
	ls -l "$d"
	start_runner || return 1
}

t_listed() {
	local s ok=0
	for s in qcow zbc fbo rbd upstyle; do
		if wait_for 10 grep -q "handler $s registered through the upstream 1.5 ABI" \
			"$TT/log/tcmu-runner.log"; then
			echo "loaded: $s"
		else
			echo "not loaded: $s"; ok=1
		fi
	done
	[ $ok = 0 ] || runner_log_tail
	return $ok
}

t_qcow() {
	command -v qemu-img >/dev/null || { echo "qemu-img missing"; return 1; }
	qemu-img create -q -f qcow2 "$SCRATCH/q.qcow2" $SZ || return 1
	user_backstore q0 $SZ "qcow/$SCRATCH/q.qcow2" || return 1
	loop_lun "$CFS/core/user_1/q0" > "$TT/lun.q0" || return 1
	log "qcow LUN $(lun q0)"
	fio_verify "$(lun q0)" randwrite 4k 16M || return 1
	fio_verify "$(lun q0)" write 1M 32M --offset=64M || return 1
	sg_sync "$(lun q0)"
}

t_zbc() {
	local out n
	command -v blkzone >/dev/null || { echo "blkzone missing"; return 1; }
	user_backstore z0 $SZ "zbc/zsize-16/conv-2@$SCRATCH/z.zbc" || return 1
	loop_lun "$CFS/core/user_1/z0" > "$TT/lun.z0" || return 1
	log "zbc LUN $(lun z0)"
	sg_inq "$(lun z0)" | head -8
	out=$(blkzone report "$(lun z0)") || { echo "$out"; return 1; }
	echo "$out" | head -6
	n=$(echo "$out" | grep -c 'start:')
	echo "$n zones reported"
	[ "$n" = $((SZ / (16 << 20))) ] || { echo "expected $((SZ / (16 << 20))) zones"; return 1; }
	echo "$out" | grep -q 'type: 1(CONVENTIONAL)' || { echo "no conventional zone"; return 1; }
	echo "$out" | grep -q 'type: 2(SEQ_WRITE_REQUIRED)' || { echo "no sequential zone"; return 1; }
}

# sg_of_type T: the newest /dev/sgN whose peripheral device type is T.
sg_of_type() {
	local s
	for s in /sys/class/scsi_generic/sg*; do
		[ "$(cat "$s/device/type" 2>/dev/null)" = "$1" ] && echo "/dev/${s##*/}"
	done | tail -1
}

t_fbo() {
	local out sg
	user_backstore f0 $SZ "fbo/$SCRATCH/f.iso" || return 1
	# A type-5 device gets no /dev/sdX: loop_lun times out; look for its sg node.
	loop_lun "$CFS/core/user_1/f0" 15 >/dev/null 2>&1
	wait_for 30 test -n "$(sg_of_type 5)" || { echo "no sg node of type 5"; return 1; }
	sg=$(sg_of_type 5)
	out=$(sg_inq "$sg") || { echo "$out"; return 1; }
	echo "$out" | head -12
	echo "$out" | grep -q 'Peripheral device type: cd/dvd' || { echo "not type 5"; return 1; }
	sg_turs "$sg"
	sg_readcap "$sg" || return 1
}

t_upstyle() {
	local out
	user_backstore u0 $((64 << 20)) "upstyle/vm" || return 1
	loop_lun "$CFS/core/user_1/u0" > "$TT/lun.u0" || return 1
	log "upstyle LUN $(lun u0)"
	fio_verify "$(lun u0)" randwrite 4k 16M || return 1
	fio_verify "$(lun u0)" write 1M 32M || return 1
	sg_sync "$(lun u0)" || return 1
	out=$(sg_raw -r 16 "$(lun u0)" c0 00 00 00 10 00 2>&1)
	echo "$out"
	echo "$out" | grep -q 'UPSTYLE-COMPAT-1' || { echo "vendor opcode not answered by handle_cmd"; return 1; }
}

t_teardown() {
	local b rc=0 out
	for b in u0 f0 z0 q0; do
		loop_unexport "$CFS/core/user_1/$b" || rc=1
		backstore_delete "$CFS/core/user_1/$b" || rc=1
	done
	stop_runner TERM 30 || { echo "runner did not exit on SIGTERM"; rc=1; }
	# What the qcow handler wrote is a consistent image.
	out=$(qemu-img check "$SCRATCH/q.qcow2" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q 'No errors were found' || rc=1
	return $rc
}
