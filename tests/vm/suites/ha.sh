# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# ha: implicit-ALUA lock acquisition (daemon/ha.c) on the real kernel, with
# the test-only handler_faulty.so registration "faultyl" (lock()/unlock()
# callouts; "<img>.lockfail" makes lock() fail, with FENCED if it holds
# "fenced"; every call is appended to "<img>.locklog"; "<img>.locklost"
# makes the next I/O report the lock lost).
#
# One faultyl LUN over tcm_loop in target port group "grp_ha" (id 17,
# alua_access_type Implicit; joined with attrib/alua_support=1, which is
# then set to 0 so RTPG reaches the daemon):
#   setup         daemon, LUN, group
#   before_write  RTPG: active/non-optimized, status "implicit"; no lock() yet
#   first_write   an O_DIRECT write succeeds (the kernel retries the
#                 02/04/0A the daemon answers while lock() runs); exactly one
#                 "lock 17 ok"; RTPG active/optimized; the data reads back
#   lock_loss     lock lost while lock() keeps failing: a write issued then
#                 waits (RTPG active/non-optimized meanwhile) and completes
#                 once lock() works again; its data reads back
#   fenced        the same with lock() answering FENCED (a reopen each time)
#   stpg_lock     explicit ALUA: the group becomes Explicit (2); sg_stpg to
#                 standby releases the lock held since first_write; sg_stpg
#                 to active/optimized answers GOOD after exactly one more
#                 "lock 17 ok"; RTPG active/optimized; an O_DIRECT write
#                 reads back
#   stpg_lockfail standby again, then lock() failing: sg_stpg to
#                 active/optimized gets CHECK CONDITION, HARDWARE ERROR, SET
#                 TARGET PORT GROUPS COMMAND FAILED (04/67/0A); RTPG still
#                 standby; a write fails and the image block is unchanged
#   stpg_release  lock() works: sg_stpg active/optimized locks, sg_stpg
#                 standby answers GOOD after "unlock"; then active/optimized
#                 again (so teardown has a lock to release)
#   teardown      removing the LUN unlocks: "unlock" in the lock log and
#                 "lock released" in the daemon log
# dev, eat_ua and rtpg_state come from the alua suite (same group id 17,
# same $TT files); its tests are not run here.
# shellcheck source=tests/vm/suites/alua.sh
. "$TESTS_VM/suites/alua.sh"
TESTS="setup before_write first_write lock_loss fenced stpg_lock stpg_lockfail stpg_release teardown"
T_TIMEOUT=150
SZ=$((32 << 20))
BS=$CFS/core/user_1/ha0
G=$BS/alua/grp_ha
IMG=$SCRATCH/ha0.img
LOCKLOG=$IMG.locklog
RLOG=$TT/log/tcmu-runner.log
FAULTY=$BUILD/tests/handlers/faulty/handler_faulty.so

sdname() { basename "$(dev)"; }
lundir() { echo "$(cat "$TT/loop.ha0")/tpgt_1/lun/lun_0"; }
# nmatch FILE ERE: how many lines of FILE match (0 when FILE is missing).
nmatch() { local n; n=$(grep -cE "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
# has_nmatch FILE ERE MIN: at least MIN lines match (for wait_for).
has_nmatch() { [ "$(nmatch "$1" "$2")" -ge "$3" ]; }
nlocks() { nmatch "$LOCKLOG" '^lock '; }
# log_wait PATTERN: the daemon log shows PATTERN within 5 s (the logger lags)
log_wait() { wait_for 5 grep -q -- "$1" "$RLOG"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
kcount() { echo $(( $(cat "/sys/block/$(sdname)/device/$1") )); }	# hex counters

# blk_write FILE BLOCK: one 64 KiB O_DIRECT write, bounded
blk_write() { timeout "${WRITE_TMO:-60}" dd if="$1" of="$(dev)" bs=64k seek="$2" count=1 oflag=direct status=none; }
# blk_check FILE BLOCK: block BLOCK of the LUN holds FILE
blk_check() {
	timeout 30 dd if="$(dev)" of="$TT/rb" bs=64k skip="$2" count=1 iflag=direct status=none &&
		cmp "$1" "$TT/rb"
}

t_setup() {
	local a sd
	[ -f "$FAULTY" ] || { echo "no $FAULTY (configure with BUILD_TESTS=ON)"; return 1; }
	mkdir -p "$TT/handlers"
	ln -sfn "$FAULTY" "$TT/handlers/handler_faulty.so"
	start_runner || return 1
	rm -f "$IMG" "$IMG".*
	truncate -s $SZ "$IMG"
	user_backstore ha0 $SZ "faultyl/$IMG" || return 1
	loop_lun "$BS" > "$TT/dev" || return 1
	sd=$(sdname)
	log "LUN $(dev)"
	# the kernel reads the partition table when it adds the disk: let that
	# happen before the group exists (outside a group nothing takes the lock)
	wait_for 30 eval "[ \"\$(awk '{print \$1}' /sys/block/$sd/stat)\" -ge 1 ]" ||
		{ echo "no partition scan read"; return 1; }
	mkdir "$G" || return 1
	cfs_write 17 "$G/tg_pt_gp_id" || return 1
	cfs_write 1 "$G/alua_access_type" || return 1
	echo "alua_access_type: $(cat "$G/alua_access_type")"
	grep -qx 'Implicit' "$G/alua_access_type" || { echo "type is not Implicit"; return 1; }
	a=$(cat "$BS/attrib/alua_support" 2>/dev/null)
	[ "$a" = 1 ] || cfs_write 1 "$BS/attrib/alua_support" || return 1
	cfs_write grp_ha "$(lundir)/alua_tg_pt_gp" || return 1
	grep -q lun_0 "$G/members" || { echo "LUN not in the group"; return 1; }
	cfs_write 0 "$BS/attrib/alua_support" ||
		{ echo "alua_support cannot be 0 on this kernel: RTPG would not reach the daemon"; return 1; }
	cat "$(lundir)/statistics/scsi_port/indx" > "$TT/rtpi" || return 1
	echo "relative target port id: $(cat "$TT/rtpi"), dh_state: $(cat "/sys/block/$sd/device/dh_state" 2>&1)"
	eat_ua
}

t_before_write() {
	rtpg_state 'active/non.optimized' || return 1
	sg_rtpg -d "$(dev)" | grep -qi 'status code : 0x02' || { echo "status is not 'implicit'"; return 1; }
	echo "lock log: $(cat "$LOCKLOG" 2>/dev/null || echo '(none)')"
	[ "$(nlocks)" = 0 ] || { echo "lock() called before any media command"; return 1; }
	grep 'implicit ALUA' "$RLOG"
	! grep -q 'acquiring the lock' "$RLOG" || { echo "daemon already acquiring"; return 1; }
}

t_first_write() {
	local rc r0 r1 e0 e1 t0 dt
	head -c 65536 /dev/urandom > "$TT/w0"
	r0=$(kcount iorequest_cnt); e0=$(kcount ioerr_cnt)
	t0=$(ms_now)
	blk_write "$TT/w0" 0; rc=$?
	dt=$(( $(ms_now) - t0 ))
	r1=$(kcount iorequest_cnt); e1=$(kcount ioerr_cnt)
	log "first write: rc $rc in $dt ms; SCSI commands sent $((r1 - r0)), ended with an error status $((e1 - e0))"
	echo "# kernel log:"; dmesg_new
	echo "# daemon log:"; grep 'implicit ALUA' "$RLOG"
	echo "# lock log:"; cat "$LOCKLOG" 2>/dev/null
	[ "$rc" = 0 ] || { echo "the first write failed"; return 1; }
	[ $((r1 - r0)) -ge 2 ] || { echo "no retry seen: the write was not held"; return 1; }
	if [ "$(nlocks)" != 1 ] || ! grep -qx 'lock 17 ok' "$LOCKLOG"; then
		echo "want exactly one 'lock 17 ok'"; return 1
	fi
	log_wait 'lock acquired (tag 17)' || { echo "no 'lock acquired' in the daemon log"; return 1; }
	rtpg_state 'active/optimized' || return 1
	blk_check "$TT/w0" 0 || { echo "read-back differs"; return 1; }
	[ "$(nlocks)" = 1 ] || { echo "lock() called again"; return 1; }
}

# outage CONTENT BLOCK: lock lost, lock() failing (.lockfail holds CONTENT)
# while a write to BLOCK is issued; the write must wait, then complete once
# .lockfail is gone, and read back.
outage() {
	local what=$1 blk=$2 f0 t0 t1 rc
	head -c 65536 /dev/urandom > "$TT/w$blk"
	f0=$(nmatch "$LOCKLOG" 'fail$')
	printf '%s' "$what" > "$IMG.lockfail"
	touch "$IMG.locklost"
	rm -f "$TT/w.rc"
	t0=$(ms_now)
	( WRITE_TMO=90 blk_write "$TT/w$blk" "$blk"; echo $? > "$TT/w.rc" ) &
	wait_for 20 eval "[ ! -e '$IMG.locklost' ]" || { echo "the write never reached the handler"; return 1; }
	wait_for 30 has_nmatch "$LOCKLOG" 'fail$' $((f0 + 2)) ||
		{ echo "lock() not retried: $(cat "$LOCKLOG")"; return 1; }
	if [ -e "$TT/w.rc" ]; then
		echo "the write ended (rc $(cat "$TT/w.rc")) while lock() failed"
		return 1
	fi
	log "write waiting after $(( $(ms_now) - t0 )) ms; lock() failed $(( $(nmatch "$LOCKLOG" 'fail$') - f0 )) time(s)"
	rtpg_state 'active/non.optimized' || return 1
	rm -f "$IMG.lockfail"
	t1=$(ms_now)
	wait_for 60 test -s "$TT/w.rc" || { echo "the write did not finish within 60 s of recovery"; return 1; }
	rc=$(cat "$TT/w.rc")
	log "write rc $rc, $(( $(ms_now) - t1 )) ms after lock() works again, $(( $(ms_now) - t0 )) ms in all"
	echo "# lock log:"; cat "$LOCKLOG"
	echo "# daemon log:"; grep -E 'implicit ALUA|lock lost|recover|reopen' "$RLOG" | tail -12
	echo "# kernel log:"; dmesg_new
	[ "$rc" = 0 ] || { echo "the write failed"; return 1; }
	[ "$(tail -1 "$LOCKLOG")" = 'lock 17 ok' ] || { echo "last lock() did not succeed"; return 1; }
	rtpg_state 'active/optimized' || return 1
	blk_check "$TT/w$blk" "$blk" || { echo "the write made during the outage did not read back"; return 1; }
	head -c 65536 /dev/urandom > "$TT/x$blk"
	if ! blk_write "$TT/x$blk" $((blk + 8)) || ! blk_check "$TT/x$blk" $((blk + 8)); then
		echo "write after recovery did not read back"; return 1
	fi
	blk_check "$TT/w0" 0 || { echo "older data lost"; return 1; }
}

t_lock_loss() {
	local n0
	n0=$(nmatch "$RLOG" 'recovering the device')
	outage hwerr 1 || return 1
	wait_for 5 has_nmatch "$RLOG" 'recovering the device' $((n0 + 1)) ||
		{ echo "no recovery for the lost lock"; return 1; }
}

t_fenced() {
	local n0
	n0=$(nmatch "$RLOG" 'faulty: reopened')
	outage fenced 2 || return 1
	# the lost lock and each FENCED lock() reopen the device
	wait_for 5 has_nmatch "$RLOG" 'faulty: reopened' $((n0 + 2)) ||
		{ echo "FENCED did not reopen"; return 1; }
}

# sg_stpg ARGS: SET TARGET PORT GROUPS for the LUN's own group; output kept
# in $TT/stpg.out.  Fails when sg_stpg does or prints sense data (sg_stpg
# 1.19 (sg3-utils 1.46) exits 0 after a CHECK CONDITION to SET TARGET PORT GROUPS).
sg_stpg_run() {
	local rc
	sg_stpg -v "$@" "$(dev)" > "$TT/stpg.out" 2>&1; rc=$?
	echo "sg_stpg $*: rc $rc"; sed 's/^/  /' "$TT/stpg.out"
	[ "$rc" = 0 ] && ! grep -qi 'sense key' "$TT/stpg.out"
}
nok() { nmatch "$LOCKLOG" '^lock 17 ok$'; }
nunlock() { nmatch "$LOCKLOG" '^unlock$'; }

# to_standby: sg_stpg --standby answers GOOD; a held lock is released first
to_standby() {
	local u0
	u0=$(nunlock)
	sg_stpg_run --standby || { echo "STPG standby failed"; return 1; }
	rtpg_state 'standby' > /dev/null || { echo "RTPG: not standby"; return 1; }
	echo "unlock() calls for it: $(( $(nunlock) - u0 ))"
}

# to_optimized: sg_stpg --optimized answers GOOD after exactly one lock()
to_optimized() {
	local n0 k0
	n0=$(nlocks); k0=$(nok)
	sg_stpg_run --optimized || { echo "STPG active/optimized failed"; return 1; }
	echo "# lock log:"; tail -3 "$LOCKLOG"
	if [ "$(nok)" != $((k0 + 1)) ] || [ "$(nlocks)" != $((n0 + 1)) ]; then
		echo "want exactly one more 'lock 17 ok' (lock() calls: $(( $(nlocks) - n0 )))"; return 1
	fi
	rtpg_state 'active/optimized' || return 1
}

t_stpg_lock() {
	local a
	if ! cfs_write 2 "$G/alua_access_type" 2>/dev/null; then
		a=$(cat "$BS/attrib/alua_support")
		echo "alua_access_type refused with alua_support=$a; with 1"
		cfs_write 1 "$BS/attrib/alua_support" || return 1
		cfs_write 2 "$G/alua_access_type" || return 1
		cfs_write 0 "$BS/attrib/alua_support" || return 1
	fi
	echo "alua_access_type: $(cat "$G/alua_access_type")"
	grep -qx 'Explicit' "$G/alua_access_type" || { echo "type is not Explicit"; return 1; }
	eat_ua
	sg_inq "$(dev)" | grep -q 'TPGS=2' || { echo "INQUIRY TPGS is not 2"; return 1; }
	# held since first_write (implicit): standby releases it
	to_standby || return 1
	[ "$(tail -1 "$LOCKLOG")" = unlock ] || { echo "STPG standby did not unlock"; return 1; }
	to_optimized || return 1
	log_wait 'explicit ALUA (SET TARGET PORT GROUPS): lock acquired (tag 17)' ||
		{ echo "no 'lock acquired' for the STPG in the daemon log"; return 1; }
	head -c 65536 /dev/urandom > "$TT/s4"
	blk_write "$TT/s4" 4 || { echo "O_DIRECT write after STPG failed"; return 1; }
	blk_check "$TT/s4" 4 || { echo "read-back differs"; return 1; }
	echo "# kernel log:"; dmesg_new 8
}

t_stpg_lockfail() {
	local f0 rc
	to_standby || return 1
	f0=$(nmatch "$LOCKLOG" 'fail$')
	printf hwerr > "$IMG.lockfail"
	dd if="$IMG" of="$TT/img5.before" bs=64k skip=5 count=1 status=none || return 1
	sg_stpg_run --optimized; rc=$?
	rm -f "$IMG.lockfail"
	[ "$rc" != 0 ] || { echo "STPG answered GOOD although lock() failed"; return 1; }
	if ! grep -qi 'hardware error' "$TT/stpg.out" ||
		! grep -qi 'set target port groups command failed' "$TT/stpg.out"; then
		echo "sense is not HARDWARE ERROR / SET TARGET PORT GROUPS COMMAND FAILED"; return 1
	fi
	[ "$(nmatch "$LOCKLOG" 'fail$')" = $((f0 + 1)) ] ||
		{ echo "want exactly one failed lock(): $(tail -3 "$LOCKLOG")"; return 1; }
	rtpg_state 'standby' || return 1
	head -c 65536 /dev/urandom > "$TT/s5"
	if WRITE_TMO=30 blk_write "$TT/s5" 5; then
		echo "a write succeeded while the group is standby"; return 1
	fi
	dd if="$IMG" of="$TT/img5.after" bs=64k skip=5 count=1 status=none || return 1
	cmp "$TT/img5.before" "$TT/img5.after" || { echo "the write reached the handler"; return 1; }
	echo "# kernel log:"; dmesg_new 6
}

t_stpg_release() {
	local u0
	to_optimized || return 1
	head -c 65536 /dev/urandom > "$TT/s6"
	if ! blk_write "$TT/s6" 6 || ! blk_check "$TT/s6" 6; then
		echo "write after STPG failed"; return 1
	fi
	u0=$(nunlock)
	to_standby || return 1
	if [ "$(nunlock)" != $((u0 + 1)) ] || [ "$(tail -1 "$LOCKLOG")" != unlock ]; then
		echo "STPG standby did not call unlock() once"; return 1
	fi
	log_wait 'explicit ALUA (SET TARGET PORT GROUPS): lock released' ||
		{ echo "no 'lock released' for the STPG in the daemon log"; return 1; }
	to_optimized || return 1
	blk_check "$TT/s6" 6 || { echo "data lost across the release"; return 1; }
}

t_teardown() {
	loop_unexport "$BS" || return 1
	cfs_rmdir "$G" || return 1	# the backstore cannot go while it holds a group
	backstore_delete "$BS" || return 1
	echo "# lock log:"; cat "$LOCKLOG"
	grep -E 'lock released|unlock' "$RLOG"
	[ "$(tail -1 "$LOCKLOG")" = unlock ] || { echo "no unlock at close"; return 1; }
	log_wait 'ALUA at close: lock released' || { echo "no 'lock released' in the daemon log"; return 1; }
	stop_runner TERM 30 || { echo "runner did not exit on SIGTERM"; return 1; }
}
