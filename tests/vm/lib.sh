# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash
#
# lib.sh: helpers sourced by guest scripts (run as root inside the VM booted by
# run.sh).  Everything here is bounded in time: a configfs write that the
# kernel blocks on (it waits for the daemon's netlink reply without timeout)
# is run in the background and abandoned after a deadline.

CFS=/sys/kernel/config/target
BUILD=${BUILD:-/work/main/build}
TESTS_VM=${TESTS_VM:-/work/main/tests/vm}
RUNNER=${RUNNER:-$BUILD/daemon/tcmu-runner}
CONSUMER=${CONSUMER:-$BUILD/examples/consumer}
TT=/run/tcmu-test           # per-VM scratch state (pids, counters, logs)
SCRATCH=/mnt/e              # ext4 scratch filesystem (vm_init)
mkdir -p "$TT"

log() { echo "# [$(cut -d" " -f1 /proc/uptime)] $*"; }
die() { echo "ERROR: $*" >&2; exit 1; }

# --- bounded helpers -------------------------------------------------------

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local t=$1 i=0; shift
	while [ "$i" -lt $((t * 10)) ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
# wait_until SECONDS CMD...: as wait_for, but SECONDS of wall clock.  wait_for
# counts polls, and on a loaded TCG guest one poll can take far longer than
# its 0.1 s sleep, which stretches its limit well past SECONDS.
wait_until() {
	local end=$((SECONDS + $1)); shift
	while :; do
		"$@" 2>/dev/null && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# cfs_write VALUE FILE [SECONDS]: write to configfs/sysfs without risking a
# hang of the caller (the write may block in the kernel forever).
cfs_write() {
	local v=$1 f=$2 t=${3:-60} p i=0
	( printf '%s' "$v" > "$f" ) &
	p=$!
	while kill -0 "$p" 2>/dev/null; do
		if [ "$i" -ge $((t * 10)) ]; then
			echo "cfs_write: '$v' > $f still blocked after ${t}s" >&2
			return 124
		fi
		sleep 0.1; i=$((i + 1))
	done
	wait "$p"
}

# cfs_rmdir DIR [SECONDS]: same for rmdir.
cfs_rmdir() {
	local d=$1 t=${2:-60} p i=0
	[ -d "$d" ] || return 0
	rmdir "$d" &
	p=$!
	while kill -0 "$p" 2>/dev/null; do
		if [ "$i" -ge $((t * 10)) ]; then
			echo "cfs_rmdir: $d still blocked after ${t}s" >&2
			return 124
		fi
		sleep 0.1; i=$((i + 1))
	done
	wait "$p"
}

# --- VM setup --------------------------------------------------------------

# vm_init: load LIO modules, mount configfs, make the ext4 scratch fs, make
# /etc/target writable for persistent reservations.  Idempotent.
vm_init() {
	[ -f "$TT/init.done" ] && return 0
	local m
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	for m in sd_mod sg loop ext4 target_core_mod target_core_user \
		 target_core_file target_core_iblock tcm_loop iscsi_target_mod; do
		modprobe "$m" || echo "vm_init: modprobe $m failed" >&2
	done
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	mkdir -p /etc/target/pr /var/target/pr /var/target/alua /etc/tcmu /var/log
	mkdir -p "$SCRATCH"
	if ! mountpoint -q "$SCRATCH"; then
		truncate -s "${VM_FS_SIZE:-3G}" /run/ext4.img
		mkfs.ext4 -q -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 /run/ext4.img
		mount -o loop /run/ext4.img "$SCRATCH"
	fi
	# A system bus, as on a real host (the daemon registers its handlers on
	# it; targetcli lists user:<subtype> backstores through it).
	if [ "${VM_DBUS:-1}" = 1 ] && command -v dbus-daemon >/dev/null; then
		local pol=$TESTS_VM/../../extra/tcmu-runner.conf
		[ -f "$pol" ] && cp "$pol" /etc/dbus-1/system.d/tcmu-runner.conf
		mkdir -p /run/dbus
		timeout 20 dbus-daemon --system --fork --nopidfile 2>/dev/null ||
			echo "vm_init: no system bus" >&2
	fi
	# Report hung tasks sooner than the default 120 s.
	echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null || true
	touch "$TT/init.done"
}

# --- kernel log checks -----------------------------------------------------

dmesg_mark() { dmesg | wc -l > "$TT/dmesg.mark"; }
# dmesg_since_mark: the kernel log lines since the last dmesg_mark
dmesg_since_mark() { dmesg | tail -n +"$(($(cat "$TT/dmesg.mark" 2>/dev/null || echo 0) + 1))"; }
# dmesg_new [N]: the last N (20) of them, without the disk attach lines
dmesg_new() { dmesg_since_mark | grep -vE 'Attached|sd [0-9:]+: \[sd' | tail -n "${1:-20}"; }

# dmesg_check: fail (and print them) if new kernel log lines since the last
# dmesg_mark show a WARN, BUG, oops, lockdep report or hung task.
dmesg_check() {
	local bad
	bad=$(dmesg_since_mark |
		grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|blocked for more than|hung_task|UBSAN|KASAN|kernel BUG|possible circular locking' || true)
	if [ -n "$bad" ]; then
		echo "dmesg_check: kernel complained:"
		dmesg_since_mark | head -60
		return 1
	fi
	return 0
}

# --- backstores ------------------------------------------------------------

# set_serial DIR: give the device a unit serial number as targetcli does (a
# UUID); without one LIO and the daemon report no NAA designator in VPD 0x83.
# TCMU_SERIAL=<uuid> gives that one instead (two paths of one disk share it).
set_serial() {
	[ -e "$1/wwn/vpd_unit_serial" ] || return 0
	cfs_write "${TCMU_SERIAL:-$(cat /proc/sys/kernel/random/uuid)}" "$1/wwn/vpd_unit_serial" 10 ||
		echo "set_serial: cannot set $1/wwn/vpd_unit_serial" >&2
	return 0
}

# user_backstore NAME SIZE CFG [HBA] [CONTROL...]: create and enable TCMU device
# core/user_HBA/NAME (HBA default 1) with dev_config=CFG (e.g. file//mnt/e/x.img)
# and extra control words (e.g. nl_reply_supported=-1). Needs a daemon
# listening, or nl_reply_supported=-1.  Prints nothing; returns non-zero on
# failure.
user_backstore() {
	local name=$1 size=$2 cfg=$3 hba=${4:-1} d c
	shift 3; [ $# -gt 0 ] && shift
	d=$CFS/core/user_$hba/$name
	mkdir -p "$d" || return 1
	cfs_write "dev_size=$size" "$d/control" || return 1
	cfs_write "dev_config=$cfg" "$d/control" || return 1
	for c in "$@"; do cfs_write "$c" "$d/control" || return 1; done
	set_serial "$d"
	cfs_write 1 "$d/enable" "${TCMU_ENABLE_TMO:-60}"
}

# fileio_backstore NAME SIZE PATH: kernel fileio device (buffered, write cache
# on): the in-kernel reference.
fileio_backstore() {
	local d=$CFS/core/fileio_1/$1
	mkdir -p "$d" || return 1
	cfs_write "fd_dev_name=$3,fd_dev_size=$2,fd_buffered_io=1" "$d/control" || return 1
	set_serial "$d"
	cfs_write 1 "$d/enable"
}

# backstore_delete DIR [SECONDS]
backstore_delete() { cfs_rmdir "$1" "${2:-60}"; }

# --- exports ---------------------------------------------------------------

sd_list() { local d; for d in /sys/block/sd*; do [ -e "$d" ] && echo "${d##*/}"; done | sort; }

_next_id() { local n; n=$(cat "$TT/$1.n" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$TT/$1.n"; echo "$n"; }

# loop_lun BACKSTORE_DIR [SECONDS]: export through tcm_loop; prints /dev/sdX.
# The mapping backstore -> target dir is remembered for loop_unexport.
loop_lun() {
	local bs=$1 t=${2:-90} i L new k=0
	sd_list > "$TT/sd.before"
	i=$(_next_id loop)
	L=$CFS/loopback/naa.5001405aa000$(printf '%04x' "$i")
	mkdir -p "$L/tpgt_1/lun/lun_0" || return 1
	cfs_write "naa.5001405bb000$(printf '%04x' "$i")" "$L/tpgt_1/nexus" || return 1
	ln -s "$bs" "$L/tpgt_1/lun/lun_0/dev" || return 1
	echo "$L" > "$TT/loop.$(basename "$bs")"
	while [ "$k" -lt $((t * 10)) ]; do
		new=$(sd_list | comm -13 "$TT/sd.before" - | head -1)
		if [ -n "$new" ] && [ -b "/dev/$new" ]; then
			echo "$L" > "$TT/loop.dev.$new"
			echo "/dev/$new"; return 0
		fi
		sleep 0.1; k=$((k + 1))
	done
	echo "loop_lun: no new /dev/sdX after ${t}s" >&2
	return 1
}

# loop_unexport_dir L: tear down a tcm_loop target dir (bounded).
loop_unexport_dir() {
	local L=$1 l
	[ -d "$L" ] || return 0
	for l in "$L"/tpgt_*/lun/lun_*/*; do
		[ -L "$l" ] && rm -f "$l"
	done
	for l in "$L"/tpgt_*/lun/lun_*; do [ -d "$l" ] && cfs_rmdir "$l"; done
	for l in "$L"/tpgt_*; do [ -d "$l" ] && cfs_rmdir "$l"; done
	cfs_rmdir "$L"
}

# loop_unexport BACKSTORE_DIR
loop_unexport() {
	local f rc
	f=$TT/loop.$(basename "$1")
	[ -f "$f" ] || return 0
	loop_unexport_dir "$(cat "$f")"; rc=$?
	rm -f "$f"; return $rc
}

# iscsi_export NAME BACKSTORE_DIR: export on 127.0.0.1:3260 without auth;
# prints the iscsi:// URL.
iscsi_export() {
	local IQN=iqn.2003-01.org.test:$1 T a
	T=$CFS/iscsi/$IQN/tpgt_1
	mkdir -p "$T/lun/lun_0" || return 1
	ln -s "$2" "$T/lun/lun_0/dev" || return 1
	[ -d "$CFS/iscsi/$IQN/tpgt_1/np/127.0.0.1:3260" ] ||
		mkdir "$T/np/127.0.0.1:3260" 2>/dev/null || true
	for a in "generate_node_acls 1" "authentication 0" "demo_mode_write_protect 0" \
		 "cache_dynamic_acls 1"; do
		# shellcheck disable=SC2086
		set -- $a; cfs_write "$2" "$T/attrib/$1" || return 1
	done
	cfs_write 1 "$T/enable" || return 1
	echo "iscsi://127.0.0.1/$IQN/0"
}

iscsi_unexport() {
	local W=$CFS/iscsi/iqn.2003-01.org.test:$1 T l
	[ -d "$W" ] || return 0
	for T in "$W"/tpgt_*; do
		[ -d "$T" ] || continue
		cfs_write 0 "$T/enable" 2>/dev/null
		for l in "$T"/lun/lun_*/*; do [ -L "$l" ] && rm -f "$l"; done
		for l in "$T"/lun/lun_*; do [ -d "$l" ] && cfs_rmdir "$l"; done
		for l in "$T"/np/*; do [ -d "$l" ] && cfs_rmdir "$l"; done
		cfs_rmdir "$T"
	done
	cfs_rmdir "$W"
}

# cleanup_targets: remove every export and backstore (bounded; used between
# tests).  Devices whose removal blocks are reported and left behind.
cleanup_exports() {
	local L W rc=0
	for L in "$CFS"/loopback/naa.*; do [ -d "$L" ] && { loop_unexport_dir "$L" || rc=1; }; done
	for W in "$CFS"/iscsi/iqn.*; do
		[ -d "$W" ] && { iscsi_unexport "${W##*iqn.2003-01.org.test:}" || rc=1; }
	done
	rm -f "$TT"/loop.*
	return $rc
}

cleanup_targets() {
	local d h rc=0
	# Take the initiator's disks offline first: removing a LUN makes sd send
	# SYNCHRONIZE CACHE, which waits out cmd_time_out (x retries) when the
	# daemon serving it is dead.
	for d in /sys/block/sd*/device/state; do
		[ -w "$d" ] && echo offline > "$d" 2>/dev/null
	done
	cleanup_exports || rc=1
	for h in "$CFS"/core/user_* "$CFS"/core/fileio_*; do
		[ -d "$h" ] || continue
		for d in "$h"/*/; do
			d=${d%/}
			[ -d "$d/attrib" ] || continue
			backstore_delete "$d" 30 || rc=1
		done
		cfs_rmdir "$h" 10 2>/dev/null
	done
	return $rc
}

# nl_unstick: make the kernel give up on netlink replies it waits for (it
# waits forever once some daemon announced reply support and then died).
nl_unstick() {
	local P=/sys/module/target_core_user/parameters
	[ -w "$P/reset_netlink" ] || return 0
	echo 1 > "$P/block_netlink"
	echo 1 > "$P/reset_netlink"
	echo 0 > "$P/block_netlink"
}

# --- daemons ---------------------------------------------------------------

# nl_listening PID: true once PID owns a generic-netlink socket that joined a
# multicast group (the TCM-USER "config" group), i.e. it hears device events.
nl_listening() {
	local pid=$1 inodes
	inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		sed -n 's/socket:\[\([0-9]*\)\]/\1/p' | tr '\n' ' ')
	[ -n "$inodes" ] || return 1
	# /proc/net/netlink: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
	awk -v list=" $inodes " '
		$2 == 16 && $4 != "00000000" && index(list, " " $10 " ") { found = 1 }
		END { exit !found }' /proc/net/netlink
}

# uio_opened PID N: PID holds at least N /dev/uio* fds open.
uio_opened() {
	local n
	n=$(find "/proc/$1/fd" -lname '/dev/uio*' 2>/dev/null | wc -l)
	[ "$n" -ge "$2" ]
}

# handler_dir: a folder with symlinks to every handler_*.so of the build.
handler_dir() {
	local d=$TT/handlers f
	mkdir -p "$d"
	find "$BUILD/handlers" -name 'handler_*.so' 2>/dev/null | while read -r f; do
		ln -sfn "$f" "$d/$(basename "$f")"
	done
	echo "$d"
}

# start_runner [ARGS...]: start tcmu-runner (handlers from the build, log in
# $TT/log), wait until it listens for netlink events and has adopted the
# existing user devices.  Sets RUNNER_PID.  Extra env TCMU_RUNNER_WRAP (e.g.
# "valgrind -q") is prepended to the command.
start_runner() {
	[ -x "$RUNNER" ] || { echo "start_runner: $RUNNER not built" >&2; return 1; }
	local hd ndev
	hd=$(handler_dir)
	mkdir -p "$TT/log"
	ndev=$(ls -d "$CFS"/core/user_*/*/ 2>/dev/null | wc -l)
	# shellcheck disable=SC2086
	${TCMU_RUNNER_WRAP:-} "$RUNNER" --handler-path "$hd" -l "$TT/log" ${RUNNER_ARGS:--d} "$@" \
		>> "$TT/log/runner.stdout" 2>&1 &
	RUNNER_PID=$!
	echo "$RUNNER_PID" > "$TT/runner.pid"
	if ! wait_for "${RUNNER_READY_TMO:-30}" nl_listening "$RUNNER_PID"; then
		echo "start_runner: not listening on netlink after ${RUNNER_READY_TMO:-30}s" >&2
		runner_log_tail >&2
		return 1
	fi
	if [ "$ndev" -gt 0 ] && ! wait_for 30 uio_opened "$RUNNER_PID" "$ndev"; then
		echo "start_runner: did not open the $ndev existing devices" >&2
		return 1
	fi
	return 0
}

# pid_alive PID: running (a zombie does not count)
pid_alive() {
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# stop_runner [SIGNAL] [SECONDS]: signal (default TERM) and wait; KILL after
# the deadline.  Returns 0 if it exited by itself in time.
stop_pid() {
	local pid=$1 sig=${2:-TERM} t=${3:-30}
	[ -n "$pid" ] || return 0
	pid_alive "$pid" || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	if wait_for "$t" eval "! pid_alive $pid"; then
		wait "$pid" 2>/dev/null; return 0
	fi
	echo "stop_pid: $pid still alive ${t}s after SIG$sig; killing" >&2
	kill -KILL "$pid" 2>/dev/null
	return 1
}
stop_runner() { stop_pid "$(cat "$TT/runner.pid" 2>/dev/null)" "${1:-TERM}" "${2:-30}"; local rc=$?; rm -f "$TT/runner.pid"; return $rc; }

runner_log_tail() {
	local f
	for f in "$TT"/log/tcmu-runner.log "$TT"/log/runner.stdout; do
		[ -s "$f" ] && { echo "--- tail $f"; tail -n "${1:-30}" "$f"; }
	done
	return 0
}

# start_consumer: start the libtcmu consumer example; sets CONSUMER_PID.
start_consumer() {
	[ -x "$CONSUMER" ] || { echo "start_consumer: $CONSUMER not built" >&2; return 1; }
	mkdir -p "$TT/log"
	"$CONSUMER" "$@" >> "$TT/log/consumer.out" 2>&1 &
	CONSUMER_PID=$!
	echo "$CONSUMER_PID" > "$TT/consumer.pid"
	wait_for 30 nl_listening "$CONSUMER_PID" || {
		echo "start_consumer: not listening on netlink" >&2
		tail -n 30 "$TT/log/consumer.out" >&2
		return 1; }
}
stop_consumer() { stop_pid "$(cat "$TT/consumer.pid" 2>/dev/null)" "${1:-TERM}" "${2:-30}"; local rc=$?; rm -f "$TT/consumer.pid"; return $rc; }

# --- gateways: several daemons, one disk over dm-multipath ---------------------

# start_gateway NAME [ARGS...]: one more tcmu-runner, called NAME, with its own
# lock file, log folder $TT/log/gw-NAME (kept with the test's logs; log_level 4 through a tcmu.conf of its
# own, so "left alone" lines are logged) and ARGS (its device filter:
# --devices ..., --handlers ...).  Waits until it listens to netlink and holds
# GW_NDEV (default 0) /dev/uio* open.  The pid goes to $TT/gw-NAME.pid.
start_gateway() {
	local name=$1 hd d pid; shift
	[ -x "$RUNNER" ] || { echo "start_gateway: $RUNNER not built" >&2; return 1; }
	hd=$(handler_dir)
	d=$TT/log/gw-$name
	mkdir -p "$d/conf"
	echo "log_level = 4" > "$d/conf/tcmu.conf"
	TCMU_CONFIG_DIR=$d/conf ${TCMU_RUNNER_WRAP:-} "$RUNNER" --handler-path "$hd" -l "$d" \
		--lock-file "$d/lock" "$@" >> "$d/stdout" 2>&1 &
	pid=$!
	echo "$pid" > "$TT/gw-$name.pid"
	if ! wait_for 30 nl_listening "$pid"; then
		echo "start_gateway $name: not listening on netlink after 30s" >&2
		gateway_log_tail "$name" >&2
		return 1
	fi
	if [ "${GW_NDEV:-0}" -gt 0 ] && ! wait_for 30 uio_opened "$pid" "$GW_NDEV"; then
		echo "start_gateway $name: did not open its ${GW_NDEV} device(s)" >&2
		return 1
	fi
	return 0
}
gateway_pid() { cat "$TT/gw-$1.pid" 2>/dev/null; }
gateway_log() { echo "$TT/log/gw-$1/tcmu-runner.log"; }
# stop_gateway NAME [SIGNAL] [SECONDS]
stop_gateway() { stop_pid "$(gateway_pid "$1")" "${2:-TERM}" "${3:-30}"; local rc=$?; rm -f "$TT/gw-$1.pid"; return $rc; }
gateway_log_tail() {
	local f
	for f in "$TT/log/gw-$1/tcmu-runner.log" "$TT/log/gw-$1/stdout"; do
		[ -s "$f" ] && { echo "--- tail $f"; tail -n "${2:-30}" "$f"; }
	done
	return 0
}
# uio_names PID: the uio devices PID holds open ("uio0 uio3"), sorted
uio_names() {
	find "/proc/$1/fd" -lname '/dev/uio*' -printf '%l\n' 2>/dev/null | sed 's|/dev/||' | sort | tr '\n' ' '
}
# uio_of BACKSTORE_DIR: the uioN of a TCMU device (core/user_<hba>/<name>)
uio_of() {
	local hba name u n
	name=${1##*/}
	hba=${1%/*}; hba=${hba##*/user_}
	for u in /sys/class/uio/uio*; do
		n=$(cat "$u/name" 2>/dev/null) || continue
		case $n in "tcm-user/$hba/$name/"*) echo "${u##*/}"; return 0 ;; esac
	done
	return 1
}

# mpath_create NAME DEV_FIRST DEV_SECOND: /dev/mapper/NAME, a dm-multipath
# device over two paths in two priority groups (failover: the first path
# carries the I/O until it fails, then the second).  Hand-built table, no
# multipathd: a failed path stays failed (mpath_reinstate puts it back).
# No queue_if_no_path: with both paths failed, I/O fails instead of hanging.
mpath_create() {
	local name=$1 a=$2 b=$3 sz dm
	modprobe dm_multipath || return 1
	sz=$(blockdev --getsz "$a") || return 1
	[ "$sz" = "$(blockdev --getsz "$b")" ] || { echo "mpath_create: $a and $b differ in size" >&2; return 1; }
	echo "0 $sz multipath 0 0 2 1 round-robin 0 1 1 $a 1 round-robin 0 1 1 $b 1" |
		DM_DISABLE_UDEV=1 timeout 30 dmsetup create "$name" || return 1
	wait_for 10 test -b "/dev/mapper/$name" || return 1
	# No I/O scheduler on the map: 6.1's mq-deadline miscounts requests
	# dm-multipath requeues after a path failure and WARNs when the map goes.
	dm=$(DM_DISABLE_UDEV=1 dmsetup info -c --noheadings -o blkdevname "$name") &&
		echo none > "/sys/block/$dm/queue/scheduler"
}
mpath_remove() { DM_DISABLE_UDEV=1 timeout 60 dmsetup remove --retry "$1"; }
# mpath_path_state NAME DEV: A (active) or F (failed), from dmsetup status
mpath_path_state() {
	local mm
	mm=$(($(stat -c '0x%t' "$2"))):$(($(stat -c '0x%T' "$2")))
	DM_DISABLE_UDEV=1 dmsetup status "$1" | tr ' ' '\n' | awk -v mm="$mm" 'f { print; exit } $0 == mm { f = 1 }'
}
mpath_reinstate() { DM_DISABLE_UDEV=1 dmsetup message "$1" 0 reinstate_path "$2"; }
# dev_wwid /dev/sdX: the identifier multipath groups paths by
dev_wwid() { cat "/sys/block/$(basename "$1")/device/wwid" 2>/dev/null; }

# stamp_start DEV TAG [ARGS...]: stampio writer on DEV in the background
# (acks in $TT/TAG.ack, summary in $TT/TAG.out, pid in $TT/TAG.pid).
STAMPIO=${STAMPIO:-$BUILD/tests/tools/stampio}
stamp_start() {
	local dev=$1 tag=$2; shift 2
	[ -x "$STAMPIO" ] || { echo "stamp_start: $STAMPIO not built" >&2; return 1; }
	"$STAMPIO" write "$dev" "$TT/$tag.ack" "$@" > "$TT/$tag.out" 2>&1 &
	echo $! > "$TT/$tag.pid"
}
# stamp_acks TAG: acknowledged writes so far
stamp_acks() { grep -c '^ack' "$TT/$1.ack" 2>/dev/null || echo 0; }
# stamp_wait TAG N SECONDS: until N writes were acknowledged
stamp_wait() { wait_until "$3" eval "[ \"\$(stamp_acks $1)\" -ge $2 ]"; }
# stamp_stop TAG: stop the writer; its exit status (3: some writes failed)
stamp_stop() {
	local pid rc
	pid=$(cat "$TT/$1.pid" 2>/dev/null) || return 1
	kill -TERM "$pid" 2>/dev/null
	# a writer stuck in the kernel (I/O that never ends) is not waited for
	if ! timeout 120 tail --pid="$pid" -f /dev/null; then
		echo "stamp_stop: writer $pid still running after 120 s (stuck in I/O?)"
		kill -KILL "$pid" 2>/dev/null
		cat "$TT/$1.out"
		return 1
	fi
	wait "$pid" 2>/dev/null; rc=$?
	cat "$TT/$1.out"
	return $rc
}
# stamp_verify DEV TAG: every acknowledged write reads back
stamp_verify() { timeout 120 "$STAMPIO" verify "$1" "$TT/$2.ack"; }

# --- kill -9 of the daemon under a writer ----------------------------------

# blk_writer DEV N TRIES: N 64 KiB blocks of $TT/data, each retried up to
# TRIES times a second apart; each acknowledged one appended to $TT/acked.
blk_writer() {
	local i try
	for i in $(seq 0 $(($2 - 1))); do
		for try in $(seq "$3"); do
			if dd if="$TT/data" of="$1" bs=64k skip="$i" seek="$i" count=1 \
				oflag=direct status=none 2>> "$TT/writer.err"; then
				echo "$i" >> "$TT/acked"; break
			fi
			echo "block $i attempt $try failed" >> "$TT/writer.err"
			sleep 1
		done
	done
	echo finished >> "$TT/acked"
}

nacked() { grep -vc finished "$TT/acked"; }

# kill9_midwrite DEV TRIES: 80 blocks written through DEV by blk_writer;
# kill -9 of the daemon ($TT/runner.pid) after 20 were acknowledged, restart
# (start_runner); every block is acknowledged and reads back.
kill9_midwrite() {
	local dev=$1 n=80 wpid i bad=0
	ensure_runner || return 1
	: > "$TT/acked"; : > "$TT/writer.err"
	head -c $((n * 65536)) /dev/urandom > "$TT/data"
	blk_writer "$dev" $n "$2" &
	wpid=$!
	wait_for 120 eval '[ "$(nacked)" -ge 20 ]' || { echo "writer too slow"; return 1; }
	kill -KILL "$(cat "$TT/runner.pid")"; rm -f "$TT/runner.pid"
	log "daemon killed after $(nacked) acknowledged blocks"
	sleep 3
	start_runner || return 1
	wait_for 240 eval 'grep -q finished "$TT/acked"' || { echo "writer did not finish"; cat "$TT/writer.err"; return 1; }
	wait "$wpid"
	[ "$(nacked)" = $n ] || { echo "only $(nacked) of $n blocks written"; cat "$TT/writer.err"; return 1; }
	dd if="$dev" of="$TT/back" bs=64k count=$n iflag=direct status=none || return 1
	for i in $(seq 0 $((n - 1))); do
		cmp -s <(dd if="$TT/data" bs=64k skip="$i" count=1 status=none) \
		       <(dd if="$TT/back" bs=64k skip="$i" count=1 status=none) || bad=$((bad + 1))
	done
	echo "$n acknowledged blocks checked after the restart, $bad bad"
	[ $bad = 0 ]
}

# --- I/O helpers -----------------------------------------------------------

# fio_verify DEV RW BS SIZE [EXTRA...]: write with crc32c checksums and verify.
fio_verify() {
	local dev=$1 rw=$2 bs=$3 size=$4; shift 4
	timeout -k 10 "${FIO_TMO:-300}" fio --name=v --filename="$dev" --direct=1 \
		--ioengine=libaio --iodepth="${FIO_QD:-16}" --rw="$rw" --bs="$bs" \
		--size="$size" --verify=crc32c --do_verify=1 --verify_fatal=1 \
		--randrepeat=0 --output-format=terse --terse-version=3 "$@" > "$TT/fio.out" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "fio_verify $dev $rw $bs $size: rc=$rc"; tail -n 20 "$TT/fio.out"
	fi
	return $rc
}

# fio_set DEV LABEL: four standard workloads, one RESULT line each.
fio_set() {
	local w r iops bw
	for w in "randread 4k 32" "randwrite 4k 32" "read 1M 8" "write 1M 8"; do
		# shellcheck disable=SC2086
		set -- $w
		r=$(timeout -k 10 $((${FIO_S:-8} + 60)) fio --name=x --filename="$DEV" --direct=1 \
			--rw="$1" --bs="$2" --iodepth="$3" --ioengine=libaio \
			--runtime="${FIO_S:-8}" --time_based --output-format=terse \
			--terse-version=3 2>/dev/null | tail -1)
		case $1 in
		*read) iops=$(echo "$r" | cut -d';' -f8); bw=$(echo "$r" | cut -d';' -f7) ;;
		*) iops=$(echo "$r" | cut -d';' -f49); bw=$(echo "$r" | cut -d';' -f48) ;;
		esac
		echo "RESULT $LABEL $1 $2 qd$3 iops=$iops bw_kib=$bw"
	done
}

# --- test runner -----------------------------------------------------------

# run_suite SUITE_FILE: the suite defines TESTS="a b c" and functions t_a,
# t_b...  Each test runs in a fresh bash (lib + suite sourced), in its own
# session, with a deadline (T_TIMEOUT_<name>, else T_TIMEOUT, default 300 s).
# Prints "PASS suite/test" / "FAIL suite/test" and the log tail of failures;
# sets SUITE_PASS / SUITE_FAIL.
#
# Independent tests: after each one, everything it started is killed and
# configfs is cleaned (suite_cleanup, if defined, runs first).
# Shared-state suites list "setup" first (and usually "teardown" last): what
# t_setup starts (daemon, LUNs) survives for the later tests, which find it
# through files in $TT; cleanup happens once, after the last test.  If setup
# fails, the other tests are reported failed without running.
run_suite() {
	local file=$1 suite name tmo p i rc log hung="" shared=0 setup_failed="" last t0
	suite=$(basename "$file" .sh)
	SUITE_PASS=0; SUITE_FAIL=0
	TESTS=""
	unset -f t_setup suite_cleanup 2>/dev/null
	# shellcheck disable=SC1090
	. "$file"
	type t_setup >/dev/null 2>&1 && shared=1
	for last in $TESTS; do :; done
	mkdir -p "/vmout/$suite"
	rm -rf "$TT/log"; mkdir -p "$TT/log"
	for name in $TESTS; do
		log=/vmout/$suite/$name.log
		if [ -n "$hung" ] || { [ -n "$setup_failed" ] && [ "$name" != teardown ]; }; then
			echo "FAIL $suite/$name (not run: ${hung:+$hung hung in the kernel}${setup_failed:+setup failed})"
			SUITE_FAIL=$((SUITE_FAIL + 1)); continue
		fi
		eval "tmo=\${T_TIMEOUT_$name:-\${T_TIMEOUT:-300}}"
		dmesg_mark
		[ "$shared" = 0 ] && { rm -rf "$TT/log"; mkdir -p "$TT/log"; }
		t0=$SECONDS
		setsid bash ${VM_TRACE:+-x} -c '. "$1/lib.sh"; . "$2"; set -o pipefail; "t_$3"' _ \
			"$TESTS_VM" "$file" "$name" > "$log" 2>&1 < /dev/null &
		p=$!; rc=""
		while kill -0 "$p" 2>/dev/null; do
			if [ $((SECONDS - t0)) -ge "$tmo" ]; then
				echo "TIMEOUT after ${tmo}s" >> "$log"
				pkill -KILL -s "$p" 2>/dev/null
				# A task stuck in the kernel waiting for a netlink reply
				# does not die: abort pending netlink commands.
				if ! wait_for 10 eval "! kill -0 $p"; then
					echo "test process stuck: aborting pending netlink commands" >> "$log"
					nl_unstick >> "$log" 2>&1
					wait_for 15 eval "! kill -0 $p" || hung=$name
				fi
				rc=124; break
			fi
			sleep 0.1
		done
		[ -z "$rc" ] && { wait "$p"; rc=$?; }
		local cleanup_now=0
		[ -z "$hung" ] && { [ "$shared" = 0 ] || [ "$name" = "$last" ]; } && cleanup_now=1
		# Unexport while the daemons the test left behind still serve the
		# LUNs (the initiator flushes caches on removal).
		[ $cleanup_now = 1 ] && [ "$rc" != 124 ] && cleanup_exports >> "$log" 2>&1
		# What the test started dies with it (not what setup started).
		[ "$name" != setup ] && pkill -KILL -s "$p" 2>/dev/null
		if ! dmesg_check >> "$log" 2>&1; then
			[ "$rc" = 0 ] && rc=99
		fi
		[ "$name" = setup ] && [ "$rc" != 0 ] && setup_failed=1
		if [ "$rc" != 0 ] && [ -d "$TT/log" ]; then
			echo "--- daemon logs:" >> "$log"; runner_log_tail 40 >> "$log"
			[ -s "$TT/log/consumer.out" ] && tail -n 40 "$TT/log/consumer.out" >> "$log"
		fi
		if [ $cleanup_now = 1 ]; then
			cp -r "$TT/log" "/vmout/$suite/$name.daemon-logs" 2>/dev/null
			{ if type suite_cleanup >/dev/null 2>&1; then suite_cleanup; fi
			  stop_runner KILL 5; stop_consumer KILL 5
			  cleanup_targets || { nl_unstick; cleanup_targets; }
			} >> "$log" 2>&1
		fi
		if [ "$rc" = 0 ]; then
			echo "PASS $suite/$name ($((SECONDS - t0))s)"
			SUITE_PASS=$((SUITE_PASS + 1))
		else
			echo "FAIL $suite/$name (rc=$rc, $((SECONDS - t0))s; log: $log)"
			sed 's/^/    | /' "$log" | tail -n "${FAIL_TAIL:-25}"
			SUITE_FAIL=$((SUITE_FAIL + 1))
		fi
	done
}
