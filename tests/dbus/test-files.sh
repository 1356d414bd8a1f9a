#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Description: the installed system files are accepted by their consumers:
# dbus-daemon loads the bus policy, the unit and activation files are sane.
# Usage: test-files.sh <source dir> <build dir>
set -u

SRC=$1
BUILD=$2
command -v dbus-daemon >/dev/null 2>&1 || { echo "SKIP: no dbus-daemon"; exit 77; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# A private bus whose configuration includes our policy: a syntax error or an
# unknown element makes dbus-daemon refuse to start.
cat >"$TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$TMP/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <include>$SRC/extra/tcmu-runner.conf</include>
</busconfig>
EOF
if dbus-daemon --config-file="$TMP/bus.conf" --fork --print-pid=3 3>"$TMP/pid" \
	2>"$TMP/err"; then
	kill "$(cat "$TMP/pid")" 2>/dev/null
	echo "ok   dbus-daemon accepts tcmu-runner.conf"
else
	cat "$TMP/err"
	bad "dbus-daemon rejects tcmu-runner.conf"
fi

if command -v xmllint >/dev/null 2>&1; then
	if xmllint --noout "$SRC/extra/tcmu-runner.conf"; then
		echo "ok   policy is well-formed"
	else
		bad "policy is not well-formed XML"
	fi
fi

svc="$BUILD/extra/org.kernel.TCMUService1.service"
grep -qx "Name=org.kernel.TCMUService1" "$svc" || bad "activation file: Name"
grep -q "^Exec=/.*/tcmu-runner$" "$svc" || bad "activation file: Exec"
grep -qx "SystemdService=tcmu-runner.service" "$svc" || bad "activation file: SystemdService"

unit="$BUILD/extra/tcmu-runner.service"
for line in "Type=dbus" "BusName=org.kernel.TCMUService1" "KillMode=process" \
	    "LimitNOFILE=1000000"; do
	grep -qx "$line" "$unit" || bad "unit lacks $line"
done
grep -q "^ExecStart=/.*/tcmu-runner$" "$unit" || bad "unit: ExecStart"
grep -q "@" "$unit" "$svc" && bad "unsubstituted @VAR@ left"

lr="$SRC/extra/logrotate.conf.d/tcmu-runner"
for pat in "rotate 7" "size 10M" "HUP"; do
	grep -q "$pat" "$lr" || bad "logrotate lacks '$pat'"
done
if command -v logrotate >/dev/null 2>&1; then
	logrotate -d -s "$TMP/state" "$lr" >"$TMP/lr.out" 2>&1 ||
		{ cat "$TMP/lr.out"; bad "logrotate rejects its snippet"; }
fi

[ $fail -eq 0 ] && echo "all file checks passed"
exit $fail
