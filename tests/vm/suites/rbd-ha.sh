# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# rbd-ha: the gateways suite on one rbd image of a real single-node Ceph
# cluster started in the guest (tests/ceph/ceph.sh; run-suites.sh gives the
# VM -cpu max and 6 GiB).  Two tcmu-runner daemons (--devices gw_a, gw_b)
# each serve their own user:rbd device on rbd/ha0, exported over tcm_loop
# as two paths with one unit serial, each LUN in an implicit-ALUA target
# port group of its own (alua_support then 0: the daemon's lock path,
# daemon/ha.c, takes the image's exclusive lock on the first write), under
# one dm-multipath failover device.
#   setup, filter  as in the gateways suite, plus the cluster and the groups
#   failover1..3   the gateways rounds (kill -9 of the active gateway, a, b, a;
#                  writes continue, the stall is printed, every acknowledged
#                  write reads back, the restarted gateway changes nothing);
#                  plus: the killed gateway had taken the lock; the survivor
#                  broke its lock (librbd blocklists the old owner) before it
#                  took the lock and wrote; the old owner's address is in the
#                  OSD blocklist
#   stpg           explicit ALUA moves the lock: both groups become Implicit
#                  and Explicit; sg_stpg --optimized through the path of the
#                  gateway without the lock answers GOOD (tried up to 3
#                  times: a gateway fenced earlier reopens first), that
#                  gateway broke the other's lock and took it, the old
#                  owner's address is in the OSD blocklist, and an O_DIRECT
#                  write through the path reads back; then back the other way
#   teardown       as in the gateways suite; the cluster is stopped
# shellcheck source=tests/vm/suites/gateways.sh
. "$TESTS_VM/suites/gateways.sh"
TESTS="setup filter failover1 failover2 failover3 stpg teardown"
T_TIMEOUT=400
T_TIMEOUT_setup=700
GW_SUITE=rbd-ha
# A read through the restarted gateway's path would take the lock back from
# the survivor (implicit ALUA locks on any media command): not in this suite.
GW_OWNPATH_READ=0
CEPH_SH=$TESTS_VM/../ceph/ceph.sh
export CEPH_DIR=/var/tmp/tcmu-ceph
export CEPH_CONF=$CEPH_DIR/ceph.conf

suite_cleanup() {
	stop_gateway a KILL 5
	stop_gateway b KILL 5
	"$CEPH_SH" stop
}

gw_prepare() {
	local t0=$SECONDS
	command -v ceph-mon > /dev/null || { echo "ceph-mon not installed on the host (tests/ceph/ceph.sh install)"; return 1; }
	getent hosts "$(hostname)" > /dev/null || echo "127.0.0.1 $(hostname)" >> /etc/hosts
	"$CEPH_SH" stop
	"$CEPH_SH" start || { echo "Ceph did not start"; return 1; }
	log "Ceph cluster up in $((SECONDS - t0)) s"
	timeout 120 rbd create --size $((SZ >> 20))M rbd/ha0 || return 1
	timeout 60 rbd info rbd/ha0 | grep -q exclusive-lock ||
		{ echo "rbd/ha0 has no exclusive-lock feature"; return 1; }
}

gw_backstore() { TCMU_SERIAL=$2 user_backstore "gw_$1" $SZ "rbd/rbd/ha0;conf=$CEPH_CONF"; }

# Gateway G's LUN into group grp_G (id 20 or 21, implicit ALUA).
gw_after_export() {
	local g=$1 bs sd lun grp id=20
	bs=$(bsdir "$g")
	sd=$(basename "$(pathdev "$g")")
	lun=$(cat "$TT/loop.gw_$g")/tpgt_1/lun/lun_0
	[ -d "$lun" ] || { echo "no LUN folder for gw_$g"; return 1; }
	[ "$g" = b ] && id=21
	# the partition scan reads before the group exists (no lock taken for it)
	wait_for 30 eval "[ \"\$(awk '{print \$1}' /sys/block/$sd/stat)\" -ge 1 ]" ||
		{ echo "no partition scan read on $sd"; return 1; }
	grp=$bs/alua/grp_$g
	mkdir "$grp" || return 1
	cfs_write $id "$grp/tg_pt_gp_id" || return 1
	cfs_write 1 "$grp/alua_access_type" || return 1
	[ "$(cat "$bs/attrib/alua_support")" = 1 ] || cfs_write 1 "$bs/attrib/alua_support" || return 1
	cfs_write "grp_$g" "$lun/alua_tg_pt_gp" || return 1
	cfs_write 0 "$bs/attrib/alua_support" ||
		{ echo "alua_support cannot be 0 on this kernel: RTPG would not reach the daemon"; return 1; }
	log "gw_$g: LUN in implicit ALUA group grp_$g (id $id)"
}

# The ALUA group must go before the device can (its folder is not empty).
gw_before_delete() {
	local grp
	grp=$(bsdir "$1")/alua/grp_$1
	[ -d "$grp" ] || return 0
	cfs_rmdir "$grp" 30 || { echo "cannot remove $grp"; return 1; }
}

# owner_fenced LOG: the first "breaking the lock of ADDR" line in LOG names
# an ADDR that is in the OSD blocklist (sets addr)
owner_fenced() {
	addr=$(sed -n 's/.*breaking the lock of \([^ ]*\) .*/\1/p' "$1" | head -1)
	[ -n "$addr" ] || { echo "no lock break in $1"; return 1; }
	timeout 60 ceph osd blocklist ls 2> /dev/null | grep -qF "$addr" ||
		{ echo "the old owner ($addr) is not in the OSD blocklist"; return 1; }
}

# Before the kill: where this round starts in the survivor's log.
# blocklist_n: entries in the OSD blocklist
# (grep -c exits 1 on a count of 0: an empty blocklist is not a failure)
blocklist_n() { timeout 60 ceph osd blocklist ls 2> /dev/null | grep -c . || true; }
gw_before_kill() {
	wc -l < "$(gateway_log "$3")" > "$TT/round.from" || { echo "no log of gateway $3"; return 1; }
	blocklist_n > "$TT/round.bl"
	log "round $1: $(cat "$TT/round.bl") blocklist entries before the kill"
}

gw_round_checks() {
	local n=$1 v=$2 s=$3 sl from brk took bl addr
	grep -q "took the exclusive lock" "$(gateway_log "$v")" ||
		{ echo "gateway $v (active before the kill) never took the lock"; return 1; }
	sl=$TT/round.$s.log
	from=$(cat "$TT/round.from")
	wait_for 10 eval "tail -n +$((from + 1)) '$(gateway_log "$s")' | grep -q 'took the exclusive lock'" ||
		{ echo "gateway $s did not take the lock"; gateway_log_tail "$s"; return 1; }
	tail -n +$((from + 1)) "$(gateway_log "$s")" > "$sl"
	brk=$(grep -nE "breaking the lock of" "$sl" | head -1 | cut -d: -f1)
	took=$(grep -nE "took the exclusive lock" "$sl" | head -1 | cut -d: -f1)
	grep -E "breaking the lock of|took the exclusive lock" "$sl"
	[ -n "$brk" ] || { echo "gateway $s took the lock without breaking $v's"; return 1; }
	[ "$brk" -lt "$took" ] ||
		{ echo "gateway $s: the lock was taken before the old owner's was broken"; return 1; }
	# The entry count proves nothing: a survivor that was itself blocklisted
	# removes its own old address when it reopens.  The broken owner's
	# address must be listed.
	bl=$(blocklist_n)
	echo "OSD blocklist: $(cat "$TT/round.bl") entries before the kill, $bl now"
	owner_fenced "$sl" || return 1
	echo "the old owner's address $addr is in the OSD blocklist"
	echo "round $n: gateway $s fenced $v (blocklist) before taking the lock"
}

# group_type G TYPE: alua_access_type of gateway G's group (the kernel may
# refuse the change while alua_support is 0: then with 1 for the write)
group_type() {
	local bs grp
	bs=$(bsdir "$1")
	grp=$bs/alua/grp_$1
	cfs_write "$2" "$grp/alua_access_type" 2> /dev/null && return 0
	cfs_write 1 "$bs/attrib/alua_support" || return 1
	cfs_write "$2" "$grp/alua_access_type" || return 1
	cfs_write 0 "$bs/attrib/alua_support"
}

# stpg_to G OTHER: SET TARGET PORT GROUPS active/optimized through G's path
# moves the lock from OTHER to G
stpg_to() {
	local g=$1 o=$2 sd from i ok=0 sl addr off=$((8 << 20))
	sd=$(pathdev "$g")
	from=$(wc -l < "$(gateway_log "$g")")
	for i in 1 2 3; do
		sg_stpg -v --optimized "$sd" > "$TT/stpg.out" 2>&1 && ! grep -qi 'sense key' "$TT/stpg.out" &&
			{ ok=1; break; }
		echo "sg_stpg --optimized $sd, try $i:"; sed 's/^/  /' "$TT/stpg.out"
		sleep 2
	done
	[ $ok = 1 ] || { echo "STPG through $sd (gateway $g) failed 3 times"; gateway_log_tail "$g"; return 1; }
	log "STPG active/optimized through $sd (gateway $g): GOOD on try $i"
	sl=$TT/stpg.$g.log
	tail -n +$((from + 1)) "$(gateway_log "$g")" > "$sl"
	grep -E "breaking the lock of|took the exclusive lock|lock acquired" "$sl"
	grep -q "took the exclusive lock" "$sl" || { echo "gateway $g did not take the lock"; return 1; }
	grep -q "breaking the lock of" "$sl" || { echo "gateway $g did not break gateway $o's lock"; return 1; }
	owner_fenced "$sl" || return 1
	echo "gateway $g fenced $addr (blocklisted) and took the lock"
	head -c 65536 /dev/urandom > "$TT/stpg.$g.data"
	timeout 60 dd if="$TT/stpg.$g.data" of="$sd" bs=64k seek=$((off / 65536)) count=1 \
		oflag=direct status=none || { echo "O_DIRECT write through $sd failed"; return 1; }
	timeout 60 dd if="$sd" of="$TT/stpg.rb" bs=64k skip=$((off / 65536)) count=1 \
		iflag=direct status=none || { echo "read back through $sd failed"; return 1; }
	cmp "$TT/stpg.$g.data" "$TT/stpg.rb" || { echo "read-back through $sd differs"; return 1; }
}

t_stpg() {
	local g
	[ -b "/dev/mapper/$MP" ] && mpath_remove "$MP"
	gw_ensure || return 1
	for g in a b; do
		group_type "$g" 3 || return 1
		echo "grp_$g: $(cat "$(bsdir "$g")/alua/grp_$g/alua_access_type")"
	done
	# whoever holds the lock now (b after failover3), the other takes it first
	if grep -q "took the exclusive lock\|lock acquired" "$(gateway_log b)"; then
		stpg_to a b && stpg_to b a
	else
		stpg_to b a && stpg_to a b
	fi
}
