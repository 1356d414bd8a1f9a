#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# bench/run.sh: the one benchmark command (never a test: nothing here asserts
# a time).  It
#   1. builds the tree in Release (build-bench/) if needed;
#   2. runs the host microbenchmark on the simulated ring (bench_ring_null):
#      null handler through libtcmu alone and through the full daemon path,
#      QD1 and QD128, three runs each; then, in the background while the VM
#      runs, the RSS check over BENCH_RSS_CMDS (10M) commands;
#   3. boots one VM (tests/vm/run.sh bench/vm-bench.sh): kernel fileio vs our
#      file handler (adaptive polling; with BENCH_BACKENDS also polling off
#      and fixed 50 us) vs Debian's tcmu-runner (qcow handler), five fio rows,
#      BENCH_REPS (5) repetitions, the backends taking turns in each;
#   4. prints the table (medians, ratios ours/fileio and ours/anchor, goals)
#      and writes docs/performance.md; with the rbd backends (BENCH_BACKENDS=
#      "rbd anchor-rbd fio-rbd") also bench/rbd-report.py's table, printed and
#      saved as rbd-report.md in the results folder.
#
# Options: --no-vm, --no-micro, --no-rss, --report-only DIR (re-render a past
# run), --out FILE (default docs/performance.md), --exp RESULTS (add the table
# of an experiment run: vm-bench.sh with backends ours/exp/exp-async and
# EXP_BUILD=<patched build tree>; repeatable).  Environment: BENCH_OUT
# (results folder, default /tmp/tcmu-bench.<date>), BENCH_REPS, BENCH_FIO_S,
# BENCH_SIZE_MB, BENCH_HW_MAX_SECTORS, BENCH_EXTRA, BENCH_EXTRA_ROWS, BENCH_SPLIT (see
# vm-bench.sh),
# BENCH_RSS_CMDS, VMMEM (default 6144).
# Needs (host): cmake, a C compiler, qemu-system-x86 (tests/vm/setup.sh), the
# tcmu-runner and qemu-utils packages (the anchor; installed with apt-get if
# missing; only run inside the VM).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
B=${BUILD:-$top/build-bench}
OUTMD=$top/docs/performance.md
do_vm=1 do_micro=1 do_rss=1 report_only="" exps=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-vm) do_vm=0 ;;
	--no-micro) do_micro=0 ;;
	--no-rss) do_rss=0 ;;
	--report-only) report_only=$2; shift ;;
	--out) OUTMD=$2; shift ;;
	--exp) exps+=(--exp "$2"); shift ;;
	*) echo "usage: $0 [--no-vm] [--no-micro] [--no-rss] [--report-only DIR] [--out FILE]" \
		"[--exp RESULTS]" >&2
	   exit 2 ;;
	esac
	shift
done

report() {	# report DIR
	python3 "$here/report.py" --micro "$1/micro.txt" --insn "$1/insn.txt" --vm "$1/vm.txt" \
		--threads "$1/vm/results.txt" --out "$OUTMD" "${exps[@]}" \
		--notes "$here/notes.md"
	# The rbd backends' own table (issue 17), when the run had them.
	if grep -qE '^RESULT .*backend=(rbd|anchor-rbd|fio-rbd) ' "$1/vm.txt" 2> /dev/null; then
		python3 "$here/rbd-report.py" "$1/vm.txt" > "$1/rbd-report.md" && cat "$1/rbd-report.md"
	fi
}

if [ -n "$report_only" ]; then
	report "$report_only"
	exit $?
fi

OUT=${BENCH_OUT:-/tmp/tcmu-bench.$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
echo "bench: results in $OUT"

# 1. Release build (never more than -j2: the machine is shared).
# A fresh machine: the build packages first (quiet when all are there).
"$top/tests/vm/deps.sh" || { echo "bench: installing the build packages failed"; exit 1; }
if [ ! -f "$B/CMakeCache.txt" ] || ! grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$B/CMakeCache.txt"; then
	cmake -S "$top" -B "$B" -DCMAKE_BUILD_TYPE=Release > "$OUT/build.log" 2>&1 ||
		{ echo "bench: cmake failed (see $OUT/build.log)"; exit 1; }
fi
# Only what the bench runs: the daemon, the file handler, the microbenchmark
# (and the rbd handler when an rbd backend is named, the qcow handler when a
# qcow one is); tcmu-stat for vm-bench.sh's STAT lines when the build has it
# (it needs GIO).
targets=(tcmu-runner handler_file bench_ring_null)
rbd_named=0
case " ${BENCH_BACKENDS:-} ${BENCH_EXTRA:-} " in
*" rbd"[-@\ ]* | *" anchor-rbd"[@\ ]* | *" fio-rbd"[@\ ]*) rbd_named=1; targets+=(handler_rbd) ;;
esac
case " ${BENCH_BACKENDS:-} ${BENCH_EXTRA:-} " in
*" glfs"*) targets+=(handler_glfs) ;;
esac
case " ${BENCH_BACKENDS:-} ${BENCH_EXTRA:-} " in
*" qcow-"*) targets+=(handler_qcow) ;;
esac
make -C "$B" -j2 "${targets[@]}" >> "$OUT/build.log" 2>&1 ||
	{ echo "bench: build failed (see $OUT/build.log)"; exit 1; }
make -C "$B" tcmu-stat >> "$OUT/build.log" 2>&1 || echo "bench: no tcmu-stat: no STAT lines"
BIN=$B/bench/bench_ring_null

# 2. Host microbenchmark.
: > "$OUT/micro.txt"
: > "$OUT/insn.txt"
if [ "$do_micro" = 1 ]; then
	echo "bench: host microbenchmark (simulated ring)"
	cfgs=("inline 1 200000" "inline 128 1000000" "lib 1 30000" "lib 128 200000"
	      "async 1 30000" "async 128 200000" "parallel 1 10000" "parallel 128 200000"
	      "file 1 10000" "file 32 100000")
	# Three timed runs (medians), then one run with instruction counters
	# (kept apart: the counters make context switches dearer).
	for run in 1 2 3 insn; do
		for cfg in "${cfgs[@]}"; do
			# shellcheck disable=SC2086
			set -- $cfg
			f=$OUT/micro.txt extra=""
			[ "$run" = insn ] && { f=$OUT/insn.txt; extra=-i; }
			"$BIN" -m "$1" -q "$2" -n "$3" -H "$B/handlers/file" $extra >> "$f" \
				2>> "$OUT/micro.err" || echo "bench: bench_ring_null -m $1 -q $2 failed" >&2
		done
	done
	grep '^RESULT' "$OUT/micro.txt"
fi
# 3. The VM.
if [ "$do_vm" = 1 ]; then
	export DEBIAN_FRONTEND=noninteractive
	need=""
	pkgs=(tcmu-runner qemu-utils fio python3)
	[ "$rbd_named" = 1 ] && pkgs+=(ceph-mon ceph-osd ceph-common)
	for p in "${pkgs[@]}"; do
		dpkg -s "$p" > /dev/null 2>&1 || need="$need $p"
	done
	if [ -n "$need" ]; then
		echo "bench: installing$need (the anchor daemon is only ever started inside the VM)"
		# No service may start on this host.
		# shellcheck disable=SC2086
		timeout 900 apt-get install -y -q --no-install-recommends $need > "$OUT/apt.log" 2>&1 ||
			{ echo "bench: apt-get failed (see $OUT/apt.log)"; exit 1; }
	fi
	if pgrep -x tcmu-runner > /dev/null 2>&1; then
		echo "bench: warning: a tcmu-runner runs on this host (pid $(pgrep -x tcmu-runner))" >&2
	fi
	echo "bench: VM run (${BENCH_BACKENDS:-fileio ours ours-nopoll ours-poll50 anchor}; 5-7 minutes per repetition under TCG)"
	# A Ceph cluster in the guest (rbd backends): ceph-mon needs -cpu max.
	cpu=${VMCPU:-}
	[ "$rbd_named" = 1 ] && cpu=${VMCPU:-max}
	BUILD=$B VMOUT=$OUT/vm VMMEM=${VMMEM:-6144} VMQUIET=${VMQUIET:-1} VMCPU=$cpu \
		VM_ENV="BENCH_REPS BENCH_FIO_S BENCH_SIZE_MB BENCH_HW_MAX_SECTORS BENCH_EXTRA BENCH_EXTRA_ROWS BENCH_ROWS BENCH_SPLIT BENCH_BACKENDS EXP_BUILD BENCH_CLOCK_PROBE" \
		"$top/tests/vm/run.sh" "$here/vm-bench.sh" "${BENCH_VM_TIMEOUT:-3000}"
	echo "bench: VM rc=$?"
	cp "$OUT/vm/results.txt" "$OUT/vm.txt" 2>/dev/null ||
		grep -E '^(RESULT|INFO) ' "$OUT/vm/guest.log" > "$OUT/vm.txt" 2>/dev/null
fi

# 4. RSS over many commands: after the VM, not beside it (the host may have
# as few cores as the VM has, and the VM's figures would pay for it).
if [ "$do_rss" = 1 ]; then
	echo "bench: RSS over ${BENCH_RSS_CMDS:-10000000} simulated commands"
	"$BIN" -m async -q 128 -b 1 -r -n "${BENCH_RSS_CMDS:-10000000}" > "$OUT/rss.txt" 2>&1
	grep '^RSS ' "$OUT/rss.txt" >> "$OUT/micro.txt"
fi

# 4. Table and docs/performance.md.
report "$OUT"
echo "bench: wrote $OUTMD (raw results: $OUT)"
