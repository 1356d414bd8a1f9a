# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash
# Guest script for tests/vm/run.sh: the real daemon on a real TCMU kernel and
# system bus, driven by targetcli (handler listing, CheckConfig, create) and
# observed with tcmu-stat while I/O runs through tcm_loop.
#   BUILD=<build dir> tests/vm/run.sh tests/dbus/vm-guest-dbus.sh 600
. "$TESTS_VM/lib.sh"
STAT=$BUILD/tools/tcmu-stat
fail=0
ok() { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }

vm_init > /vmout/vm_init.log 2>&1 || { cat /vmout/vm_init.log; exit 1; }
start_runner || { echo "FAIL runner start"; exit 1; }

# The name shows up once the daemon is ready.
if wait_for 20 gdbus call --system --dest org.freedesktop.DBus \
	--object-path /org/freedesktop/DBus --method org.freedesktop.DBus.GetNameOwner \
	org.kernel.TCMUService1 >/dev/null 2>&1; then
	ok "daemon owns org.kernel.TCMUService1"
else
	bad "daemon owns org.kernel.TCMUService1"
	runner_log_tail
fi

out=$(targetcli /backstores ls 2>&1)
echo "$out"
if echo "$out" | grep -q "user:file"; then
	ok "targetcli lists user:file"
else
	bad "targetcli lists user:file"
fi

out=$(targetcli /backstores/user:file create name=bad0 size=16M cfgstring=relative.img 2>&1)
echo "$out"
if [ -d "$CFS/core/user_1/bad0" ] || ls -d "$CFS"/core/user_*/bad0 >/dev/null 2>&1; then
	echo "note: the file handler accepted a relative path"
else
	ok "targetcli refused a config the handler rejects"
fi

truncate -s 64M "$SCRATCH/d0.img"
out=$(timeout 60 targetcli /backstores/user:file create name=d0 size=64M \
	cfgstring="$SCRATCH/d0.img" 2>&1)
echo "$out"
echo "$out" | grep -q "Created user-backed storage object d0" &&
	ok "targetcli created user:file d0" || bad "targetcli created user:file d0"

out=$("$STAT" --list 2>&1)
echo "$out"
echo "$out" | grep -Eq "^d0 +uio[0-9]+ +file +open +file/$SCRATCH/d0.img" &&
	ok "tcmu-stat lists d0" || bad "tcmu-stat lists d0"

bs=$(ls -d "$CFS"/core/user_*/d0 | head -1)
dev=$(loop_lun "$bs") && ok "d0 exported as $dev" || bad "d0 exported"
if [ -n "${dev:-}" ]; then
	dd if=/dev/urandom of="$dev" bs=1M count=4 oflag=direct 2>&1 | tail -1
	dd if="$dev" of=/dev/null bs=1M count=4 iflag=direct 2>&1 | tail -1
	"$STAT"
	p=$("$STAT" --parsable d0)
	echo "$p"
	wb=$(echo "$p" | sed -n 's/.* write_bytes=\([0-9]*\).*/\1/p')
	rb=$(echo "$p" | sed -n 's/.* read_bytes=\([0-9]*\).*/\1/p')
	[ "${wb:-0}" -ge $((4 << 20)) ] && ok "write_bytes $wb" || bad "write_bytes ${wb:-?}"
	[ "${rb:-0}" -ge $((4 << 20)) ] && ok "read_bytes $rb" || bad "read_bytes ${rb:-?}"
	echo "$p" | grep -Eq "latency_buckets=[0-9,]*[1-9]" && ok "latency histogram filled" ||
		bad "latency histogram filled"
	(dd if="$dev" of=/dev/null bs=64k iflag=direct 2>/dev/null &)
	"$STAT" -i 1 -c 2 d0 && ok "tcmu-stat interval mode" || bad "tcmu-stat interval mode"
	loop_unexport "$bs" >/dev/null 2>&1
fi

for so in d0 bad0; do
	targetcli /backstores/user:file delete $so >/dev/null 2>&1
done
stop_runner TERM 30 || bad "runner stop"
echo "dbus vm: fail=$fail"
exit $fail
