#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Description: real clients against the DBus service (stub daemon) on a
# private bus: tcmu-stat in every mode (media changes too), and targetcli's
# own handler listing; tcmu-stat with a tcmu-ublk device (a metrics file
# held by test_metrics_file --hold), with and without tcmu-runner and a bus.
# Usage: test-clients.sh <test-dbus binary> <tcmu-stat binary> <test_metrics_file binary>
set -u

SERVER=$1
STAT=$2
HOLDER=$3

command -v dbus-run-session >/dev/null 2>&1 || { echo "SKIP: no dbus-run-session"; exit 77; }
command -v dbus-daemon >/dev/null 2>&1 || { echo "SKIP: no dbus-daemon"; exit 77; }

if [ -z "${TCMU_TEST_INNER:-}" ]; then
	TCMU_TEST_INNER=1 exec dbus-run-session -- "$0" "$@"
fi

export DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS"
TMP=$(mktemp -d)
trap 'exec 9>&- 8>&-; wait; rm -rf "$TMP"' EXIT
fail=0
# tcmu-ublk's run folder, for tcmu-stat and the service alike
export TCMU_UBLK_RUNDIR="$TMP/ublk"
mkdir -p "$TCMU_UBLK_RUNDIR"

check() {	# check <description> <command...>
	desc=$1
	shift
	if "$@"; then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		fail=1
	fi
}

# wait_ready <stdout file> <stderr file> <what>: until it prints "ready" (10 s)
wait_ready() {
	i=0
	while ! grep -q ready "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "FAIL $3 did not start"
			cat "$2"
			exit 1
		fi
		sleep 0.1
	done
}

# Nothing serves the name yet: tcmu-stat must say so and fail.
"$STAT" --list >"$TMP/none.out" 2>&1
check "tcmu-stat fails without the service" [ $? -ne 0 ]
check "tcmu-stat explains why" grep -q "not running" "$TMP/none.out"

# A tcmu-ublk device (id 3): shown without tcmu-runner, and without a bus.
mkfifo "$TMP/hctl"
"$HOLDER" --hold 3 <"$TMP/hctl" >"$TMP/holder.out" 2>&1 &
exec 8>"$TMP/hctl"
wait_ready "$TMP/holder.out" "$TMP/holder.out" "metrics file holder"
"$STAT" >"$TMP/ublk-only.out" 2>"$TMP/ublk-only.err"
check "ublk without tcmu-runner exits 0" [ $? -eq 0 ]
check "ublk without tcmu-runner: a note" grep -q "not running.*tcmu-ublk devices only" \
	"$TMP/ublk-only.err"
check "ublk without tcmu-runner: its counts" \
	grep -Eq "^ublkb3 +file +open +100 +20 +1 +0\.4 +0\.2 +2 " "$TMP/ublk-only.out"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus "$STAT" --list \
	>"$TMP/ublk-nobus.out" 2>"$TMP/ublk-nobus.err"
check "ublk without a bus exits 0" [ $? -eq 0 ]
check "ublk without a bus: a note" grep -q "cannot connect to the system bus" \
	"$TMP/ublk-nobus.err"
check "ublk without a bus: listed" \
	grep -Eq "^ublkb3 +- +file +open +file//tmp/held.img$" "$TMP/ublk-nobus.out"
"$STAT" --parsable ublkb3 >"$TMP/ublk-parse.out" 2>/dev/null
check "ublk parsable" grep -q "^device=ublkb3 uio=- handler=file state=open read_cmds=100 \
read_bytes=409600 write_cmds=20 write_bytes=163840 other_cmds=1 " "$TMP/ublk-parse.out"
"$STAT" nosuchdev >"$TMP/ublk-filter.out" 2>&1
check "a filter naming no device: no rows" grep -q "(no devices)" "$TMP/ublk-filter.out"

mkfifo "$TMP/ctl"
"$SERVER" --serve <"$TMP/ctl" >"$TMP/server.out" 2>"$TMP/server.err" &
exec 9>"$TMP/ctl"
wait_ready "$TMP/server.out" "$TMP/server.err" service

"$STAT" --list >"$TMP/list.out"
check "list exits 0" [ $? -eq 0 ]
check "list shows disk0" grep -Eq "^disk0 +uio0 +file +open +file//var/lib/disk0.img$" \
	"$TMP/list.out"
check "list shows disk1" grep -Eq "^disk1 +uio1 +qcow +blocked " "$TMP/list.out"
check "list shows the ublk device once (Metrics1 has it too)" \
	[ "$(grep -c "^ublkb3 " "$TMP/list.out")" -eq 1 ]
"$STAT" ublkb3 >"$TMP/ublk-svc.out" 2>"$TMP/ublk-svc.err"
check "ublk through the service: no note" [ ! -s "$TMP/ublk-svc.err" ]
check "ublk through the service: its counts" \
	grep -Eq "^ublkb3 +file +open +100 +20 +1 " "$TMP/ublk-svc.out"

"$STAT" >"$TMP/once.out"
check "one-shot exits 0" [ $? -eq 0 ]
check "one-shot totals" grep -Eq "^disk0 +file +open +1000 +500 +7 " "$TMP/once.out"
check "one-shot latency columns" grep -Eq "^disk0 .* 64us +<64us +2 +1 +0$" "$TMP/once.out"

"$STAT" --parsable disk1 >"$TMP/parse.out"
check "parsable filters devices" [ "$(wc -l <"$TMP/parse.out")" -eq 1 ]
check "parsable fields" grep -q "^device=disk1 .*state=blocked .*read_cmds=0 " \
	"$TMP/parse.out"

"$STAT" -i 0.2 -c 2 >"$TMP/interval.out"
check "interval mode exits 0" [ $? -eq 0 ]
check "interval mode prints 2 reports" [ "$(grep -c '^DEVICE' "$TMP/interval.out")" -eq 2 ]
check "interval mode shows rates" grep -Eq "^disk0 +file +open +0\.0 " "$TMP/interval.out"

"$STAT" -i 0 >/dev/null 2>&1
check "bad interval rejected" [ $? -eq 2 ]

# Media changes (Admin1): the stub daemon's "cd0" has a removable medium.
"$STAT" --eject cd0 >"$TMP/eject.out" 2>&1
check "eject exits 0" [ $? -eq 0 ]
check "eject reports" grep -q "^cd0: ejected$" "$TMP/eject.out"
"$STAT" --load ro//srv/b.iso cd0 >"$TMP/load.out" 2>&1
check "load exits 0" [ $? -eq 0 ]
check "load reports" grep -q "^cd0: loaded$" "$TMP/load.out"
check "the daemon got the medium" grep -q "LoadMedium cd0 ro//srv/b.iso by .*: loaded" \
	"$TMP/server.err"
"$STAT" --load /missing.iso cd0 >"$TMP/loadfail.out" 2>&1
check "a failed load exits 1" [ $? -eq 1 ]
check "a failed load says why" grep -q "cannot load /missing" "$TMP/loadfail.out"
"$STAT" --eject disk0 >"$TMP/ejectdisk.out" 2>&1
check "eject of a disk exits 1" [ $? -eq 1 ]
check "eject of a disk says why" grep -q "no removable medium" "$TMP/ejectdisk.out"
"$STAT" --eject nope >"$TMP/ejectnone.out" 2>&1
check "eject of an unknown device exits 1" [ $? -eq 1 ]
check "eject of an unknown device says why" grep -q "no such device" "$TMP/ejectnone.out"
"$STAT" --eject --load /x.iso cd0 >/dev/null 2>&1
check "eject and load together rejected" [ $? -eq 2 ]
"$STAT" --eject >/dev/null 2>&1
check "eject without a device rejected" [ $? -eq 2 ]

# targetcli-fb lists user:<subtype> backstores through this exact code.
PY=/usr/bin/python3
if [ -x $PY ] && $PY -c "import targetcli.ui_backstore" 2>/dev/null; then
	$PY - <<'EOF'
import sys
from targetcli.ui_backstore import UIBackstores
found = {n: (i, p) for n, i, p in UIBackstores._user_backstores(None)}
assert sorted(found) == ["file", "qcow"], sorted(found)
iface, props = found["file"]
assert props["org.kernel.TCMUService1"]["ConfigDesc"] == "file/<path>", props
ok, msg = iface.CheckConfig("(s)", "file" + "/" + "/tmp/x.img")
assert ok, msg
ok, msg = iface.CheckConfig("(s)", "file/relative")
assert not ok and "absolute" in msg, (ok, msg)
print("targetcli path ok:", sorted(found))
EOF
	check "targetcli lists handlers and checks configs" [ $? -eq 0 ]
else
	echo "skip targetcli part (targetcli-fb not importable)"
fi

exit $fail
