# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash
# Guest side of run-suites.sh: run the suites named in $SUITES (files under
# $TESTS_VM/suites/) and print "N passed, N failed".
# shellcheck source=tests/vm/lib.sh
. "$TESTS_VM/lib.sh"
vm_init > /vmout/vm_init.log 2>&1 || { cat /vmout/vm_init.log; echo "0 passed, 1 failed"; exit 1; }
echo "# guest $(uname -r), build $BUILD"
# Heartbeat for post-mortems of a VM that hit its deadline: the process table
# (state + kernel wait channel) and the kernel log tail every 20 s.
( while sleep 20; do
	# shellcheck disable=SC2009 # every process with its wait channel, minus kernel threads: not a lookup pgrep does
	{ date; ps -eo pid,ppid,stat,etime,wchan:28,args | grep -v ' \[.*\]$'
	  dmesg | tail -n 30; } > /vmout/heartbeat.new 2>&1
	mv /vmout/heartbeat.new /vmout/heartbeat.txt
  done ) &
pass=0; fail=0
for s in $SUITES; do
	f=$TESTS_VM/suites/$s.sh
	if [ ! -f "$f" ]; then
		echo "FAIL $s (no such suite: $f)"; fail=$((fail + 1)); continue
	fi
	t0=$SECONDS
	echo "# suite $s"
	run_suite "$f"
	echo "# suite $s: $SUITE_PASS passed, $SUITE_FAIL failed in $((SECONDS - t0))s"
	pass=$((pass + SUITE_PASS)); fail=$((fail + SUITE_FAIL))
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
