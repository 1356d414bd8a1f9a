# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# gateways: two tcmu-runner daemons in one guest, each serving only its own
# TCMU device (--devices), both devices backed by the same file and exported
# over tcm_loop as two paths with one unit serial, grouped into one
# dm-multipath device (a hand-built failover table; see docs/gateways.md).
#   setup      gateway "a" (--devices gw_a) then "b" (--devices gw_b);
#              devices gw_a and gw_b (cmd_time_out 5 s) created while both
#              run: each daemon holds exactly its own uio; both paths report
#              one wwid; the second daemon runs without the DBus name
#   filter     gw_c (nl_reply_supported=-1) matches neither filter: neither
#              daemon opens it and both log it as left alone
#   failover1..3  stamped O_DIRECT|O_DSYNC writes through /dev/mapper/gwmp;
#              kill -9 the daemon of the active path (a, b, a); writes go on
#              over the other path (the stall is printed as a STALL line);
#              no write failed; every acknowledged write reads back through
#              the multipath device; the killed gateway, restarted, adopts
#              its device again, the data is unchanged after it did, and it
#              reads back through the restarted gateway's own path
#   teardown   exports, devices, daemons gone
TESTS="setup filter failover1 failover2 failover3 teardown"
T_TIMEOUT=300
SZ=$((64 << 20))
IMG=$SCRATCH/gw.img
NBLK=1024 # the writer's region: 4 MiB
MP=gwmp

GW_SUITE=gateways
GW_OWNPATH_READ=1 # after the restart, read back through the restarted gateway's path

bsdir() { echo "$CFS/core/user_1/gw_$1"; }
# gw_backstore G SERIAL: create gateway G's device (the rbd-ha suite redefines it)
gw_backstore() { TCMU_SERIAL=$2 user_backstore "gw_$1" $SZ "file/$IMG"; }
# gw_after_export G: once gateway G's device is exported (the rbd-ha suite redefines it)
gw_after_export() { return 0; }
# gw_before_kill N VICTIM SURVIVOR: just before the kill (none here)
gw_before_kill() { return 0; }
# gw_round_checks N VICTIM SURVIVOR: more checks after a failover (none here)
gw_round_checks() { return 0; }
# gw_before_delete G: once G's LUN is unexported, before its device goes (none here)
gw_before_delete() { return 0; }
pathdev() { cat "$TT/dev.$1"; }
gw_start() { start_gateway "$1" --devices "gw_$1" "${@:2}"; }
# gw_ensure: both gateways running (what a test starts dies with it)
gw_ensure() {
	local g
	for g in a b; do
		pid_alive "$(gateway_pid "$g")" 2>/dev/null && continue
		GW_NDEV=1 gw_start "$g" || return 1
	done
}
suite_cleanup() { stop_gateway a KILL 5; stop_gateway b KILL 5; }
region_sum() { timeout 60 dd if="$1" bs=4k count=$NBLK iflag=direct status=none | md5sum | cut -d' ' -f1; }

# gw_prepare: what the devices need before they exist (the rbd-ha suite redefines it)
gw_prepare() { rm -f "$IMG" && truncate -s $SZ "$IMG"; }

t_setup() {
	local g serial u pa pb
	gw_prepare || return 1
	gw_start a || return 1
	gw_start b || return 1
	serial=$(cat /proc/sys/kernel/random/uuid)
	for g in a b; do
		# the first reply to ADDED wins: the other daemon must stay silent
		gw_backstore "$g" "$serial" ||
			{ echo "creating gw_$g failed (reply stolen?)"; return 1; }
		cfs_write 5 "$(bsdir "$g")/attrib/cmd_time_out" || return 1
		loop_lun "$(bsdir "$g")" > "$TT/dev.$g" || return 1
		gw_after_export "$g" || return 1
		log "gw_$g: $(uio_of "$(bsdir "$g")") exported as $(pathdev "$g")"
	done
	for g in a b; do
		u=$(uio_of "$(bsdir "$g")")
		wait_for 10 eval "[ \"\$(uio_names $(gateway_pid "$g"))\" = '$u ' ]" || {
			echo "gateway $g holds '$(uio_names "$(gateway_pid "$g")")', expected '$u '"
			return 1; }
	done
	pa=$(dev_wwid "$(pathdev a)")
	pb=$(dev_wwid "$(pathdev b)")
	log "wwid a: $pa"
	log "wwid b: $pb"
	if [ -z "$pa" ] || [ "$pa" != "$pb" ]; then echo "the two paths differ in wwid"; return 1; fi
	grep -q "device filter: devices=gw_b" "$(gateway_log b)" || { echo "no filter line in b's log"; return 1; }
	if pgrep -x dbus-daemon > /dev/null; then
		wait_for 10 grep -q "owned by another process" "$(gateway_log b)" ||
			{ echo "gateway b did not log that the DBus name is taken"; return 1; }
	else
		echo "SKIP gateways/setup: no system bus in the guest, DBus name check not run"
	fi
}

t_filter() {
	local c u g
	c=$CFS/core/user_1/gw_c
	user_backstore gw_c $SZ "file/$IMG" 1 nl_reply_supported=-1 || return 1
	u=$(uio_of "$c") || { echo "no uio for gw_c"; return 1; }
	sleep 2
	for g in a b; do
		case " $(uio_names "$(gateway_pid "$g")")" in
		*" $u "*) echo "gateway $g opened gw_c ($u)"; return 1 ;;
		esac
		wait_for 10 grep -q "user_1/gw_c) does not match the device filter, left alone" \
			"$(gateway_log "$g")" || { echo "gateway $g did not log gw_c as left alone"; return 1; }
	done
	backstore_delete "$c" 30
}

# stall_report VICTIM SURVIVOR: what the failover is waiting for
stall_report() {
	local g sd t
	DM_DISABLE_UDEV=1 dmsetup status $MP
	for g in "$1" "$2"; do
		sd=$(basename "$(pathdev "$g")")
		echo "--- $sd (gateway $g): dh_state $(cat "/sys/block/$sd/device/dh_state" 2>&1)," \
			"access_state $(cat "/sys/block/$sd/device/access_state" 2>&1)," \
			"state $(cat "/sys/block/$sd/device/state" 2>&1), inflight $(cat "/sys/block/$sd/inflight" 2>&1)"
	done
	echo "--- survivor $2's threads (wchan):"
	for t in /proc/"$(gateway_pid "$2")"/task/*; do
		echo "  $(cat "$t/comm" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null) $(cut -d' ' -f3 "$t/stat" 2>/dev/null)"
	done
	gateway_log_tail "$2" 40
	echo "--- kernel log since the test started:"
	dmesg_since_mark | grep -v "I/O error, dev dm-" | tail -n 60
}

# failover_round N VICTIM SURVIVOR
failover_round() {
	local n=$1 v=$2 s=$3 dv ds a0 rc sum1 sum2
	dv=$(pathdev "$v")
	ds=$(pathdev "$s")
	gw_ensure || return 1
	mpath_create $MP "$dv" "$ds" || { echo "dmsetup create failed"; return 1; }
	stamp_start "/dev/mapper/$MP" "r$n" -b $NBLK || return 1
	stamp_wait "r$n" 100 60 || { echo "the writer did not get going"; cat "$TT/r$n.out"; return 1; }
	[ "$(mpath_path_state $MP "$dv")" = A ] || { echo "path $dv not active"; return 1; }
	gw_before_kill "$n" "$v" "$s" || return 1
	a0=$(stamp_acks "r$n")
	log "round $n: kill -9 gateway $v (path $dv) after $a0 acknowledged writes"
	kill -KILL "$(gateway_pid "$v")"
	if ! stamp_wait "r$n" $((a0 + 200)) 120; then
		echo "writes did not continue on $ds: $(stamp_acks "r$n") acknowledged"
		stall_report "$v" "$s"
		stamp_stop "r$n"
		return 1
	fi
	stamp_stop "r$n" > "$TT/r$n.sum"
	rc=$?
	cat "$TT/r$n.sum"
	sed -n "s/^stampio write: /STALL $GW_SUITE round $n: /p" "$TT/r$n.sum"
	[ $rc -eq 0 ] || { echo "the writer saw failed writes (rc $rc)"; return 1; }
	log "paths: $dv $(mpath_path_state $MP "$dv"), $ds $(mpath_path_state $MP "$ds")"
	[ "$(mpath_path_state $MP "$dv")" = F ] || { echo "path $dv was not failed"; return 1; }
	[ "$(mpath_path_state $MP "$ds")" = A ] || { echo "path $ds not active"; return 1; }
	stamp_verify "/dev/mapper/$MP" "r$n" || return 1
	gw_round_checks "$n" "$v" "$s" || return 1
	sum1=$(region_sum "/dev/mapper/$MP")

	log "round $n: restart gateway $v"
	GW_NDEV=1 gw_start "$v" || return 1
	sleep 3
	sum2=$(region_sum "/dev/mapper/$MP")
	[ "$sum1" = "$sum2" ] || { echo "data changed after gateway $v restarted"; return 1; }
	# the restarted gateway serves the current data on its own path
	if [ "$GW_OWNPATH_READ" = 1 ]; then
		stamp_verify "$dv" "r$n" || { echo "stale data through $dv after the restart"; return 1; }
	fi
	mpath_remove $MP
}

# A failed round stops its writer and removes the multipath map, so that the
# next round starts clean instead of failing on a busy map.
failover_clean() {
	failover_round "$@" && return 0
	[ -f "$TT/r$1.pid" ] && kill -0 "$(cat "$TT/r$1.pid")" 2> /dev/null &&
		stamp_stop "r$1" > /dev/null 2>&1
	[ -b "/dev/mapper/$MP" ] && mpath_remove "$MP"
	return 1
}
t_failover1() { failover_clean 1 a b; }
t_failover2() { failover_clean 2 b a; }
t_failover3() { failover_clean 3 a b; }

t_teardown() {
	local g rc=0
	[ -b /dev/mapper/$MP ] && mpath_remove $MP
	gw_ensure || rc=1
	for g in a b; do
		loop_unexport "$(bsdir "$g")" || rc=1
		gw_before_delete "$g" || rc=1
		backstore_delete "$(bsdir "$g")" || rc=1
	done
	for g in a b; do
		stop_gateway "$g" || { echo "gateway $g did not stop on SIGTERM"; rc=1; }
	done
	return $rc
}
