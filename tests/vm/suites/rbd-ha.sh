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
#   teardown       as in the gateways suite; the cluster is stopped
# shellcheck source=tests/vm/suites/gateways.sh
. "$TESTS_VM/suites/gateways.sh"
TESTS="setup filter failover1 failover2 failover3 teardown"
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
	local n=$1 v=$2 s=$3 sl from brk took bl
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
	bl=$(blocklist_n)
	echo "OSD blocklist: $(cat "$TT/round.bl") entries before the kill, $bl now"
	[ "$bl" -gt "$(cat "$TT/round.bl")" ] || { echo "the old owner was not blocklisted"; return 1; }
	echo "round $n: gateway $s fenced $v (blocklist) before taking the lock"
}
