#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# run-suites.sh [SUITE...]: run VM suites (tests/vm/suites/*.sh), each in its
# own freshly booted VM, against the build in $BUILD (default <repo>/build).
# Prints one "PASS suite/test" / "FAIL suite/test" line per test and closes
# with exactly "N passed, N failed".  Exit status 0 iff nothing failed.
#
#   SUITES default: smoke-consumer smoke-daemon integrity recovery lifecycle
#                   conformance
#   VMOUTBASE  folder for per-suite outputs (default: a new mktemp folder)
#   A SUITE argument "a+b" runs suites a and b in the same VM.
#   A SUITE argument "K:a+b" boots kernel K (VMKERNEL: 6.1 or 6.12) for that
#   VM; without "K:" the VM boots $VMKERNEL (default 6.1).  The PASS/FAIL lines
#   of a VM on a kernel other than 6.1 read "PASS K:suite/test".
#   VM_SUITE_TIMEOUT  per-VM deadline in s (default: 900 per suite, 3000 for
#                     conformance)
#   A VM running the rbd or rbd-ha suite (a Ceph cluster in the guest) gets VMCPU=max and
#   at least 6144 MiB unless VMCPU / VMMEM say otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
all="smoke-consumer smoke-daemon integrity recovery lifecycle conformance"
[ $# -gt 0 ] && all="$*"
BUILD=${BUILD:-$(cd "$here/../.." && pwd)/build}
export BUILD
base=${VMOUTBASE:-$(mktemp -d "${TMPDIR:-/tmp}/tcmu-vm-suites.XXXXXX")}
mkdir -p "$base"
# vm_kernel ARG: the kernel a "K:a+b" argument asks for
vm_kernel() {
	case $1 in
	*:*) echo "${1%%:*}" ;;
	*) echo "${VMKERNEL:-6.1}" ;;
	esac
}
kernels=""
for s in $all; do
	k=$(vm_kernel "$s")
	case " $kernels " in *" $k "*) ;; *) kernels="$kernels $k" ;; esac
done
for k in $kernels; do
	t0=$(date +%s)
	VMKERNEL=$k "$here/setup.sh" > "$base/setup-$k.log" 2>&1 ||
		{ cat "$base/setup-$k.log"; echo "0 passed, 1 failed"; exit 1; }
	echo "# setup $k: $(tail -n 1 "$base/setup-$k.log") in $(( $(date +%s) - t0 ))s"
done

pass=0; fail=0; t_all=$(date +%s)
for s in $all; do
	k=$(vm_kernel "$s")
	# "a+b+c": several suites in one VM (saves the ~1 min boot + setup each)
	list=$(echo "${s#*:}" | tr '+' ' ')
	# the same suite may run on two kernels: tag the lines of all but 6.1
	tag=""; [ "$k" = 6.1 ] || tag="$k:"
	disp=$tag${s#*:}
	tmo=0
	for x in $list; do
		case $x in
		conformance) tmo=$((tmo + 3000)) ;;
		*) tmo=$((tmo + 900)) ;;
		esac
	done
	tmo=${VM_SUITE_TIMEOUT:-$tmo}
	cpu=${VMCPU:-}; mem=${VMMEM:-}
	case "+${s#*:}+" in
	*+rbd+* | *+rbd-ha+*) cpu=${VMCPU:-max}; mem=${VMMEM:-6144} ;;
	esac
	name=$(echo "$s" | tr ':' '-')
	out=$base/$name
	t0=$(date +%s)
	echo "# VM $s, kernel $k (out: $out)"
	SUITES=$list VMOUT=$out VMKERNEL=$k VMCPU=$cpu VMMEM=${mem:-4096} VM_ENV="SUITES ${VM_ENV:-}" \
		"$here/run.sh" "$here/guest-suites.sh" "$tmo" > "$base/$name.host.log" 2>&1 &
	rpid=$!
	# show the PASS/FAIL lines (and failure details) as they come
	tail -n +1 --pid="$rpid" -F "$base/$name.host.log" 2>/dev/null |
		grep --line-buffered -vE '^(RESULT|# guest)' |
		sed -u -E "s#^(PASS|FAIL) #\1 $tag#" &
	tpid=$!
	wait "$rpid"; rc=$?
	sleep 1.2; kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
	p=$(grep -c '^PASS ' "$out/guest.log" 2>/dev/null); p=${p:-0}
	f=$(grep -c '^FAIL ' "$out/guest.log" 2>/dev/null); f=${f:-0}
	if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out/guest.log" 2>/dev/null; then
		echo "FAIL $disp/vm (VM rc=$rc, the guest did not finish; console: $out/console.log)"
		f=$((f + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $disp/vm (guest rc=$rc)"
		f=$((f + 1))
	fi
	echo "# VM $disp: $p passed, $f failed in $(( $(date +%s) - t0 ))s"
	pass=$((pass + p)); fail=$((fail + f))
done
echo "# VM suites took $(( $(date +%s) - t_all ))s; outputs in $base"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
