# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash
# Guest script for tests/vm/run.sh: the real daemon on a real TCMU kernel and
# system bus, driven by targetcli (handler listing, CheckConfig, create) and
# observed with tcmu-stat while I/O runs through tcm_loop.
#   BUILD=<build dir> tests/vm/run.sh tests/dbus/vm-guest-dbus.sh 600
# shellcheck source=tests/vm/lib.sh
. "$TESTS_VM/lib.sh"
STAT=$BUILD/tools/tcmu-stat
fail=0
ok() { echo "PASS $*"; }
bad() { echo "FAIL $*"; fail=1; }
# check NAME COMMAND...: PASS NAME when COMMAND succeeds, else FAIL NAME.
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

vm_init > /vmout/vm_init.log 2>&1 || { cat /vmout/vm_init.log; exit 1; }
# shellcheck disable=SC2119 # start_runner's arguments are optional extra daemon options
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
check "targetcli created user:file d0" grep -q "Created user-backed storage object d0" \
	<<EOF
$out
EOF

out=$("$STAT" --list 2>&1)
echo "$out"
check "tcmu-stat lists d0" grep -Eq "^d0 +uio[0-9]+ +file +open +file/$SCRATCH/d0.img" \
	<<EOF
$out
EOF

bs=
for d in "$CFS"/core/user_*/d0; do
	[ -e "$d" ] && bs=$d && break
done
if dev=$(loop_lun "$bs"); then ok "d0 exported as $dev"; else bad "d0 exported"; fi
if [ -n "${dev:-}" ]; then
	dd if=/dev/urandom of="$dev" bs=1M count=4 oflag=direct 2>&1 | tail -1
	dd if="$dev" of=/dev/null bs=1M count=4 iflag=direct 2>&1 | tail -1
	"$STAT"
	p=$("$STAT" --parsable d0)
	echo "$p"
	wb=$(echo "$p" | sed -n 's/.* write_bytes=\([0-9]*\).*/\1/p')
	rb=$(echo "$p" | sed -n 's/.* read_bytes=\([0-9]*\).*/\1/p')
	check "write_bytes ${wb:-?} >= 4 MiB" [ "${wb:-0}" -ge $((4 << 20)) ]
	check "read_bytes ${rb:-?} >= 4 MiB" [ "${rb:-0}" -ge $((4 << 20)) ]
	check "latency histogram filled" grep -Eq "latency_buckets=[0-9,]*[1-9]" <<EOF
$p
EOF
	(dd if="$dev" of=/dev/null bs=64k iflag=direct 2>/dev/null &)
	check "tcmu-stat interval mode" "$STAT" -i 1 -c 2 d0
	loop_unexport "$bs" >/dev/null 2>&1
fi

for so in d0 bad0; do
	targetcli /backstores/user:file delete $so >/dev/null 2>&1
done
stop_runner TERM 30 || bad "runner stop"
echo "dbus vm: fail=$fail"
exit $fail
