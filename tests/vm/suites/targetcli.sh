# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# targetcli: the DBus service as targetcli-fb/rtslib-fb use it, on the guest's
# system bus: handler listing, CheckConfig refusals, create, I/O through
# tcm_loop, saveconfig/restoreconfig, tcmu-stat, and an external libtcmu
# program (the consumer example) registered through HandlerManager1.
TESTS="setup list refuse create io stat saverestore external teardown"
STAT=$BUILD/tools/tcmu-stat
SAVE=/run/tcmu-targetcli-test.json

bus_has() {
	gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
		--method org.freedesktop.DBus.GetNameOwner "$1" >/dev/null 2>&1
}

t_setup() {
	command -v targetcli >/dev/null || { echo "targetcli missing"; return 1; }
	bus_has org.freedesktop.DBus || { echo "no system bus in the guest"; return 1; }
	start_runner || return 1
	wait_for 20 bus_has org.kernel.TCMUService1 || { echo "daemon never owned its name"; return 1; }
}

t_list() {
	local out
	out=$(timeout 60 targetcli /backstores ls 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q 'user:file' || { echo "user:file not listed"; return 1; }
}

t_refuse() {
	local out
	# The file handler wants an absolute path: the reason must reach the user.
	out=$(timeout 60 targetcli /backstores/user:file create name=bad0 size=16M \
		cfgstring=relative.img 2>&1)
	echo "$out"
	if ls -d "$CFS"/core/user_*/bad0 >/dev/null 2>&1; then
		echo "a config the handler rejects was created"
		return 1
	fi
	echo "$out" | grep -qi 'absolute' || { echo "the handler's reason is missing"; return 1; }
}

t_create() {
	local out
	truncate -s 64M "$SCRATCH/tc0.img"
	out=$(timeout 60 targetcli /backstores/user:file create name=tc0 size=64M \
		cfgstring="$SCRATCH/tc0.img" 2>&1)
	echo "$out"
	echo "$out" | grep -q 'Created user-backed storage object tc0' || return 1
	ls -d "$CFS"/core/user_*/tc0 > "$TT/tc0.bs" || return 1
	loop_lun "$(cat "$TT/tc0.bs")" > "$TT/tc0.dev" || return 1
	log "tc0 is $(cat "$TT/tc0.dev")"
}

t_io() {
	local dev
	dev=$(cat "$TT/tc0.dev") || return 1
	head -c 4194304 /dev/urandom > "$TT/pattern"
	dd if="$TT/pattern" of="$dev" bs=1M oflag=direct 2>&1 | tail -1 || return 1
	dd if="$dev" of="$TT/back" bs=1M count=4 iflag=direct 2>&1 | tail -1 || return 1
	cmp "$TT/pattern" "$TT/back" || { echo "data read back differs"; return 1; }
}

t_stat() {
	local out wb
	[ -x "$STAT" ] || { echo "tcmu-stat not built"; return 1; }
	out=$("$STAT" --list 2>&1)
	echo "$out"
	echo "$out" | grep -Eq "^tc0 +uio[0-9]+ +file " || { echo "tc0 not listed"; return 1; }
	out=$("$STAT" --parsable tc0 2>&1)
	echo "$out"
	wb=$(echo "$out" | sed -n 's/.* write_bytes=\([0-9]*\).*/\1/p')
	[ "${wb:-0}" -ge 4194304 ] || { echo "write_bytes ${wb:-?} < 4 MiB"; return 1; }
}

t_saverestore() {
	local out dev
	loop_unexport "$(cat "$TT/tc0.bs")" > /dev/null 2>&1
	out=$(timeout 60 targetcli saveconfig "$SAVE" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	grep -q '"plugin": "user"' "$SAVE" || { echo "no user backstore saved"; cat "$SAVE"; return 1; }
	out=$(timeout 120 targetcli clearconfig confirm=True 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	if ls -d "$CFS"/core/user_*/tc0 >/dev/null 2>&1; then echo "clearconfig left tc0"; return 1; fi
	out=$(timeout 120 targetcli restoreconfig "$SAVE" 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	ls -d "$CFS"/core/user_*/tc0 > "$TT/tc0.bs" || { echo "tc0 not restored"; return 1; }
	grep -q "file/$SCRATCH/tc0.img" "$(cat "$TT/tc0.bs")/info" 2>/dev/null ||
		grep -rq "tc0.img" "$(cat "$TT/tc0.bs")/info" || { cat "$(cat "$TT/tc0.bs")/info"; return 1; }
	dev=$(loop_lun "$(cat "$TT/tc0.bs")") || return 1
	echo "$dev" > "$TT/tc0.dev"
	dd if="$dev" of="$TT/back" bs=1M count=4 iflag=direct 2>&1 | tail -1
	cmp "$TT/pattern" "$TT/back" || { echo "data lost across save/restore"; return 1; }
}

t_external() {
	local out
	start_consumer || return 1
	wait_for 20 bus_has org.kernel.TCMUService1.HandlerManager1.consumer ||
		{ echo "the consumer did not register on the bus"; tail -20 "$TT/log/consumer.out"; return 1; }
	out=$(timeout 60 targetcli /backstores ls 2>&1)
	echo "$out"
	echo "$out" | grep -q 'user:consumer' || { echo "user:consumer not listed"; return 1; }
	stop_consumer TERM 30 || return 1
}

t_teardown() {
	local bs
	bs=$(cat "$TT/tc0.bs" 2>/dev/null)
	[ -n "$bs" ] && loop_unexport "$bs" > /dev/null 2>&1
	timeout 60 targetcli /backstores/user:file delete tc0 2>&1
	if ls -d "$CFS"/core/user_*/tc0 >/dev/null 2>&1; then echo "tc0 not deleted"; return 1; fi
	stop_runner TERM 30 || { echo "runner did not exit on SIGTERM"; return 1; }
}
