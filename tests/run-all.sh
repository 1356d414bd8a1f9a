#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# tests/run-all.sh [--no-vm] [--quick] [--no-conformance]
#
# The one test command (CI runs exactly this through .ci/run):
#   1. installs the build and test packages with apt if any is missing,
#      then "lint" (tests/lint.sh): shellcheck on every script; clang-format
#      --dry-run -Werror on every *.c/*.h (LINT_FORMAT=0: SKIP)
#   2. build/       warnings as errors (-DWERROR=ON), then ctest
#   3. build-asan/  ASan+UBSan (-DSANITIZE=ON), then ctest
#   4. build-fuzz/  libFuzzer targets with clang (-DFUZZ=ON), each run for
#                   FUZZ_SECONDS (default 60; 15 with --quick)
#   5. the real-kernel VM suites (tests/vm/run-suites.sh) against build/,
#      on Debian 12's 6.1 kernel and (smoke, integrity, recovery) on 6.12
# and ends with "N passed, N failed" over all of it (ctest tests + fuzz
# targets + VM tests; a build that fails counts as one failure).  Exit status
# is non-zero if anything failed.
#
#   --no-vm   skip step 5 (no qemu needed)
#   --quick   skip the ASan tree, shorter fuzzing, VM smoke suites only
#   --no-conformance  skip libiscsi's iscsi-test-cu against a user:file LUN
#             over iSCSI (tests/vm/suites/conformance.sh, its own VM, ~15 min
#             under TCG; in the default run, off with --quick).  The kernel
#             fileio reference run is extra: VM_ENV=CONF_REF CONF_REF=1.
# Environment: JOBS (make -j, default nproc), VM_SUITES (override the list),
# LOGDIR (default build-logs/), SKIP_DEPS=1 (do not touch apt), LINT_FORMAT=0
# (no clang-format check in the lint step), BUILD_PREFIX
# (default <repo>/build: the trees are $BUILD_PREFIX, -asan, -fuzz).
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
VM=1; QUICK=0; CONFORMANCE=1
for a in "$@"; do
	case $a in
	--no-vm) VM=0 ;;
	--quick) QUICK=1; CONFORMANCE=0 ;;
	--conformance) CONFORMANCE=1 ;;	# the default; kept for old scripts
	--no-conformance) CONFORMANCE=0 ;;
	-h|--help) sed -n '3,29p' "$0"; exit 0 ;;
	*) echo "unknown option: $a" >&2; exit 2 ;;
	esac
done
JOBS=${JOBS:-$(nproc)}
LOGDIR=${LOGDIR:-$ROOT/build-logs}
B=${BUILD_PREFIX:-$ROOT/build}
mkdir -p "$LOGDIR"
PASS=0; FAIL=0; FAILED=""
T0=$(date +%s)

step() { echo; echo "=== $* ($(( $(date +%s) - T0 ))s)"; }
ok() { PASS=$((PASS + ${2:-1})); }
ko() { FAIL=$((FAIL + ${2:-1})); FAILED="$FAILED $1"; }

# --- 1. packages ----------------------------------------------------------
if [ "${SKIP_DEPS:-0}" != 1 ]; then
	step "packages"
	tests/vm/deps.sh || { echo "FAIL deps"; ko deps; }
	if [ $VM = 1 ]; then
		timeout 1800 tests/vm/setup.sh > "$LOGDIR/vm-setup.log" 2>&1 ||
			{ tail -20 "$LOGDIR/vm-setup.log"; echo "FAIL vm-setup"; ko vm-setup; VM=0; }
	fi
fi

# --- lint ------------------------------------------------------------------
step "lint"
tests/lint.sh > "$LOGDIR/lint.log" 2>&1
grep -vE '^(PASS|SKIP) ' "$LOGDIR/lint.log" | head -40
grep -E '^(PASS|FAIL|SKIP) ' "$LOGDIR/lint.log"
n=$(grep -c '^PASS ' "$LOGDIR/lint.log"); [ "$n" = 0 ] || ok lint "$n"
while read -r f; do ko "$f"; done < <(sed -n 's/^FAIL \([^ ]*\).*/\1/p' "$LOGDIR/lint.log")
grep -qE '^(PASS|FAIL) ' "$LOGDIR/lint.log" || { echo "FAIL lint (no result)"; ko lint; }

# --- build + ctest ---------------------------------------------------------
# build_tree DIR NAME CMAKE_ARGS... : configure + build; returns non-zero on failure
build_tree() {
	local dir=$1 name=$2; shift 2
	if ! timeout 900 cmake -S "$ROOT" -B "$dir" "$@" > "$LOGDIR/$name-cmake.log" 2>&1; then
		tail -30 "$LOGDIR/$name-cmake.log"; echo "FAIL $name/configure"; ko "$name/configure"; return 1
	fi
	local targets=""
	# fuzz tree: build just the fuzz targets (the instrumented objects are
	# not meant to be linked into the shared library)
	[ "$name" = fuzz ] && targets=$(make -C "$dir" help 2>/dev/null | sed -n 's/^\.\.\. \(fuzz[a-z0-9_-]*\)$/\1/p' | tr '\n' ' ')
	# shellcheck disable=SC2086
	if ! timeout 1800 make -C "$dir" -j"$JOBS" $targets > "$LOGDIR/$name-make.log" 2>&1; then
		grep -E 'error|Error' "$LOGDIR/$name-make.log" | head -30
		echo "FAIL $name/build"; ko "$name/build"; return 1
	fi
	echo "PASS $name/build"; ok
}

# run_ctest DIR NAME: adds ctest's counts
run_ctest() {
	local dir=$1 name=$2 line p t f
	if ! grep -q add_test -r "$dir/CTestTestfile.cmake" "$dir"/*/CTestTestfile.cmake 2>/dev/null &&
	   ! (cd "$dir" && ctest -N 2>/dev/null | grep -q 'Total Tests: [1-9]'); then
		echo "($name: no ctest tests registered)"; return 0
	fi
	(cd "$dir" && timeout 1500 ctest --output-on-failure -j"$JOBS" --timeout 300) > "$LOGDIR/$name-ctest.log" 2>&1
	grep -E '^ *[0-9]+/[0-9]+ Test' "$LOGDIR/$name-ctest.log" | sed "s/^/  [$name] /" | grep -v ' Passed ' | head -40
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$LOGDIR/$name-ctest.log" | tail -1)
	if [ -z "$line" ]; then
		tail -30 "$LOGDIR/$name-ctest.log"; echo "FAIL $name/ctest (no summary)"; ko "$name/ctest"; return
	fi
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
	t=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
	p=$((t - f))
	echo "$name ctest: $p passed, $f failed"
	ok "$name/ctest" "$p"
	if [ "$f" -gt 0 ]; then
		FAIL=$((FAIL + f))
		FAILED="$FAILED $(grep -E '^ *[0-9]+ - .* \(' "$LOGDIR/$name-ctest.log" | awk -v n="$name" '{print n "/" $3}' | tr '\n' ' ')"
		sed -n '/The following tests FAILED/,$p' "$LOGDIR/$name-ctest.log"
	fi
}

step "build/ (-DWERROR=ON)"
if build_tree "$B" build -DWERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
	run_ctest "$B" build
else
	VM=0; echo "(VM suites skipped: no build)"
fi

if [ $QUICK = 0 ]; then
	step "build-asan/ (-DSANITIZE=ON)"
	build_tree "$B-asan" asan -DWERROR=ON -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug &&
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run_ctest "$B-asan" asan
fi

# --- packages ----------------------------------------------------------------
if [ $QUICK = 0 ]; then
	step "packages (rpmbuild, dpkg-deb)"
	if timeout 1200 extra/make_runnerrpms.sh --topdir "$B-rpm" > "$LOGDIR/rpm.log" 2>&1 &&
	   ls "$B-rpm"/RPMS/*/tcmu-runner-*.rpm > /dev/null 2>&1; then
		echo "PASS packages/rpm ($(cd "$B-rpm/RPMS" && echo ./*/*.rpm))"; ok
	else
		tail -20 "$LOGDIR/rpm.log"; echo "FAIL packages/rpm"; ko packages/rpm
	fi
	if timeout 1200 extra/make_debs.sh --outdir "$B-deb" > "$LOGDIR/deb.log" 2>&1 &&
	   ls "$B-deb"/tcmu-runner_*.deb > /dev/null 2>&1; then
		echo "PASS packages/deb ($(cd "$B-deb" && echo ./*.deb))"; ok
	else
		tail -20 "$LOGDIR/deb.log"; echo "FAIL packages/deb"; ko packages/deb
	fi
fi

# --- fuzz -------------------------------------------------------------------
step "build-fuzz/ (clang, -DFUZZ=ON)"
FUZZ_SECONDS=${FUZZ_SECONDS:-$([ $QUICK = 1 ] && echo 15 || echo 60)}
if command -v clang >/dev/null; then
	if CC=clang build_tree "$B-fuzz" fuzz -DCMAKE_C_COMPILER=clang -DFUZZ=ON -DWERROR=ON -DCMAKE_BUILD_TYPE=Debug; then
		found=0
		for f in $(find "$B-fuzz" -type f -executable -name 'fuzz*' ! -name '*.so' | sort); do
			name=$(basename "$f"); found=1
			corpus=$(mktemp -d "${TMPDIR:-/tmp}/corpus.XXXXXX")
			for seed in "$ROOT/tests/fuzz/corpus/$name" "$ROOT/tests/fuzz/corpus/${name#fuzz_}" "$ROOT/tests/fuzz/corpus/${name#fuzz-}"; do
				[ -d "$seed" ] && cp -r "$seed"/. "$corpus"/ 2>/dev/null
			done
			if (cd "$corpus" && timeout $((FUZZ_SECONDS + 120)) "$f" -max_total_time="$FUZZ_SECONDS" \
				-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 . ) > "$LOGDIR/fuzz-$name.log" 2>&1; then
				echo "PASS fuzz/$name ($(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$LOGDIR/fuzz-$name.log" | grep -oE '[0-9]+$') runs)"
				ok
			else
				echo "FAIL fuzz/$name (log: $LOGDIR/fuzz-$name.log)"
				grep -E 'ERROR|SUMMARY|crash-|==[0-9]+==' "$LOGDIR/fuzz-$name.log" | head -10
				cp "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* "$LOGDIR"/ 2>/dev/null
				ko "fuzz/$name"
			fi
			rm -rf "$corpus"
		done
		[ $found = 1 ] || echo "(no fuzz targets built)"
	fi
else
	echo "FAIL fuzz (clang missing)"; ko fuzz/clang
fi

# --- VM suites --------------------------------------------------------------
if [ $VM = 1 ]; then
	step "VM suites (real kernel under qemu)"
	if [ -n "${VM_SUITES:-}" ]; then suites=$VM_SUITES
	# "a+b": one VM for several suites (each boot + vm_init costs about a minute)
	elif [ $QUICK = 1 ]; then suites="smoke-consumer+smoke-daemon"
	else suites="smoke-consumer+smoke-daemon+recovery+lifecycle+integrity+targetcli+alua+reconnect+ha+compat+qcow zbc+fbo+glfs+gateways"
		# The same TCMU suites on Debian's 6.12 kernel ("K:" picks the
		# kernel of that VM; its lines read "PASS 6.12:suite/test"), plus
		# kfeatures (ublk_drv, io_uring, the TCMU mailbox flags) and ublk
		# (tcmu-ublk; the 6.1 kernel has no ublk).
		suites="$suites 6.12:smoke-consumer+smoke-daemon+integrity+recovery+kfeatures+ublk"
		# rbd: a single-node Ceph cluster started in the guest (run-suites.sh
		# gives that VM -cpu max and 6 GiB); rbd-ha: two gateways on one image
		suites="$suites rbd+rbd-ha"
	fi
	# The kernel fileio reference run of conformance is informational and
	# costs ~13 min more: off in CI (CONF_REF=1 turns it on).
	if [ $CONFORMANCE = 1 ] && [ -z "${VM_SUITES:-}" ]; then
		suites="$suites conformance"
		export CONF_REF=${CONF_REF:-0}
		VM_ENV="${VM_ENV:-} CONF_REF"; export VM_ENV
	fi
	# shellcheck disable=SC2086
	BUILD=$B VMOUTBASE=$LOGDIR/vm tests/vm/run-suites.sh $suites 2>&1 | tee "$LOGDIR/vm.log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGDIR/vm.log" | tail -1)
	if [ -n "$line" ]; then
		# shellcheck disable=SC2086
		set -- $line
		ok vm "$1"
		[ "$3" -gt 0 ] && { FAIL=$((FAIL + $3)); FAILED="$FAILED $(grep '^FAIL ' "$LOGDIR/vm.log" | awk '{print "vm:" $2}' | tr '\n' ' ')"; }
	else
		echo "FAIL vm (no summary)"; ko vm
	fi
fi

step "done"
[ -n "$FAILED" ] && echo "failed:$FAILED"
echo "total time $(( $(date +%s) - T0 ))s; logs in $LOGDIR"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
