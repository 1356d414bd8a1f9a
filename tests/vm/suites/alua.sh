# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# alua: one user:file LUN over tcm_loop put into target port group "grp1"
# (id 17); INQUIRY TPGS, VPD 0x83 port designators, REPORT/SET TARGET PORT
# GROUPS and the Standby access check, served by tcmu-runner.
#
# The kernel emulates ALUA itself unless attrib/alua_support is 0 (then it
# passes RTPG/STPG to userspace), but refuses to move a LUN into a group
# while alua_support is 0: the LUN joins with alua_support=1, then it is set
# to 0 so the commands reach the daemon.
TESTS="setup group inquiry vpd rtpg stpg_standby stpg_active dh_state ungroup teardown"
SZ=$((64 << 20))
BS=$CFS/core/user_1/alua0
G=$BS/alua/grp1

dev() { cat "$TT/dev"; }
lundir() { echo "$(cat "$TT/loop.alua0")/tpgt_1/lun/lun_0"; }

t_setup() {
	start_runner || return 1
	truncate -s $SZ "$SCRATCH/alua.img"
	user_backstore alua0 $SZ "file/$SCRATCH/alua.img" || return 1
	loop_lun "$BS" > "$TT/dev" || return 1
	log "LUN $(dev)"
}

t_group() {
	local a
	mkdir "$G" || return 1
	cfs_write 17 "$G/tg_pt_gp_id" || return 1
	cfs_write 3 "$G/alua_access_type" || return 1
	echo "alua_access_type: $(cat "$G/alua_access_type")"
	a=$(cat "$BS/attrib/alua_support" 2>/dev/null)
	echo "attrib/alua_support initially: ${a:-missing}"
	if ! cfs_write grp1 "$(lundir)/alua_tg_pt_gp" 2>/dev/null; then
		echo "joining refused with alua_support=${a:-?}; retry with 1"
		cfs_write 1 "$BS/attrib/alua_support" || return 1
		cfs_write grp1 "$(lundir)/alua_tg_pt_gp" || return 1
	fi
	echo "members: $(tr '\0' ' ' < "$G/members")"
	grep -q lun_0 "$G/members" || return 1
	if cfs_write 0 "$BS/attrib/alua_support"; then
		echo "alua_support=0: RTPG/STPG go to tcmu-runner"
		echo passthrough > "$TT/mode"
	else
		echo "alua_support cannot be set to 0 on this kernel: the kernel answers RTPG/STPG"
		echo kernel > "$TT/mode"
	fi
	echo "alua_support now: $(cat "$BS/attrib/alua_support" 2>/dev/null)"
	cat "$(lundir)/alua_tg_pt_gp" 2>/dev/null
	cat "$(lundir)/statistics/scsi_port/indx" > "$TT/rtpi" || return 1
	echo "relative target port id: $(cat "$TT/rtpi")"
	eat_ua
}

# The kernel queues unit attentions (INQUIRY DATA HAS CHANGED, ...) when
# the group configuration changes: consume them with TEST UNIT READY.
eat_ua() {
	local i
	for i in 1 2 3 4; do sg_turs "$(dev)" > /dev/null 2>&1 && return 0; done
	return 0
}

t_inquiry() {
	local out
	out=$(sg_inq "$(dev)") || return 1
	echo "$out" | head -8
	echo "$out" | grep -q 'TPGS=3' || { echo "TPGS is not 3"; return 1; }
}

t_vpd() {
	local out
	out=$(sg_vpd -p di "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -qi 'NAA' || return 1
	echo "$out" | grep -qi "Relative target port: 0x0*$(printf '%x' "$(cat "$TT/rtpi")")\$" ||
		{ echo "no relative target port designator"; return 1; }
	echo "$out" | grep -qi 'Target port group: 0x0*11$' ||
		{ echo "no target port group 17"; return 1; }
	echo "$out" | grep -qi 'SCSI name string' || { echo "no SCSI name string"; return 1; }
}

rtpg_state() {
	local out
	out=$(sg_rtpg -d "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -qi 'target port group id *: *0x11' || { echo "no group 0x11"; return 1; }
	echo "$out" | grep -qi "Relative target port ids:" || return 1
	echo "$out" | grep -qi "^ *0x0*$(printf '%x' "$(cat "$TT/rtpi")")\$" ||
		{ echo "port $(cat "$TT/rtpi") not listed"; return 1; }
	echo "$out" | grep -qi "$1" || { echo "state is not $1"; return 1; }
}

t_rtpg() {
	rtpg_state 'active/optimized' || return 1
	sg_rtpg -e -d "$(dev)" || return 1
	sg_opcodes "$(dev)" | grep -i 'target port'
}

# stpg STATE: SET TARGET PORT GROUPS for group 17 through sg_raw.
stpg() {
	# header 4 bytes, descriptor: state, reserved, group id 0x0011
	# shellcheck disable=SC2059 # $1 is one octal digit completing the \00N escape
	printf '\000\000\000\000\00'"$1"'\000\000\021' > "$TT/stpg.bin"
	od -An -tx1 "$TT/stpg.bin"
	sg_raw -s 8 -i "$TT/stpg.bin" "$(dev)" a4 0a 00 00 00 00 00 00 00 08 00 00
}

t_stpg_standby() {
	sg_stpg --help 2>&1 | head -20
	stpg 2 || return 1
	rtpg_state 'standby' || return 1
	if dd if="$(dev)" of=/dev/null bs=512 count=1 iflag=direct status=none; then
		echo "read succeeded in Standby"; return 1
	fi
	sg_raw -r 512 "$(dev)" 28 00 00 00 00 00 00 00 01 00 2>&1 | tail -4
	sg_inq "$(dev)" > /dev/null || { echo "INQUIRY failed in Standby"; return 1; }
	sg_readcap "$(dev)" > /dev/null || { echo "READ CAPACITY failed in Standby"; return 1; }
}

t_stpg_active() {
	stpg 0 || return 1
	rtpg_state 'active/optimized' || return 1
	dd if="$(dev)" of=/dev/null bs=512 count=8 iflag=direct status=none || return 1
}

t_dh_state() {
	local sd
	sd=$(basename "$(dev)")
	echo "dh_state: $(cat "/sys/block/$sd/device/dh_state" 2>&1)"
	echo "access_state: $(cat "/sys/block/$sd/device/access_state" 2>&1)"
	echo "preferred_path: $(cat "/sys/block/$sd/device/preferred_path" 2>&1)"
	return 0
}

t_ungroup() {
	cfs_write 1 "$BS/attrib/alua_support" 2>/dev/null
	cfs_write NULL "$(lundir)/alua_tg_pt_gp" || cfs_write default_tg_pt_gp "$(lundir)/alua_tg_pt_gp" ||
		return 1
	cfs_rmdir "$G" || return 1
	eat_ua
	# no group left: TPGS 0 and RTPG refused by the daemon
	sg_inq "$(dev)" | grep -q 'TPGS=0' || { echo "TPGS not 0 after ungroup"; return 1; }
	cfs_write 0 "$BS/attrib/alua_support" 2>/dev/null
	eat_ua
	if [ "$(cat "$TT/mode")" = passthrough ] && sg_rtpg "$(dev)" > /dev/null 2>&1; then
		echo "RTPG accepted without groups"; return 1
	fi
	return 0
}

t_teardown() {
	loop_unexport "$BS" || return 1
	backstore_delete "$BS" || return 1
	stop_runner TERM 30 || { echo "runner did not exit on SIGTERM"; return 1; }
}
