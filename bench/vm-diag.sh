#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# vm-diag.sh: guest script (tests/vm/run.sh bench/vm-diag.sh) to see where a
# daemon's time goes on the real kernel.  It starts our tcmu-runner (or
# DIAG_DAEMON=anchor: Debian's tcmu-runner with qcow) on a prefilled image,
# exports it through tcm_loop and runs one fio row.  While fio runs it
# collects:
#   - a syscall histogram of every daemon thread (strace -c -f);
#   - kernel stacks of the running daemon threads, sampled 60 times;
#   - a cpu-clock profile (perf record -g; software event, fine under TCG);
#   - per-thread CPU.
# Everything goes to /vmout/diag-*.txt.
# Environment: DIAG_ROW (rr4k1), DIAG_S (8), DIAG_DAEMON (ours|anchor),
# DIAG_HW_MAX_SECTORS (2048).
set -u
# shellcheck source-path=SCRIPTDIR source=../tests/vm/lib.sh
. "$TESTS_VM/lib.sh"
ROW=${DIAG_ROW:-rr4k1}
S=${DIAG_S:-8}
WHO=${DIAG_DAEMON:-ours}
HWMAX=${DIAG_HW_MAX_SECTORS:-2048}
vm_init || die "vm_init"
IMG=$SCRATCH/diag.img
dd if=/dev/zero of="$IMG" bs=1M count=256 conv=fsync status=none
mkdir -p "$TT/dlog"
if [ "$WHO" = anchor ]; then
	qemu-img create -q -f qcow2 -o preallocation=full "$SCRATCH/diag.qcow2" 256M
	/usr/bin/tcmu-runner --handler-path /usr/lib/x86_64-linux-gnu/tcmu-runner -l "$TT/dlog" \
		> "$TT/dlog/stdout" 2>&1 &
	cfg="qcow/$SCRATCH/diag.qcow2"
else
	"$RUNNER" --handler-path "$(handler_dir)" -l "$TT/dlog" > "$TT/dlog/stdout" 2>&1 &
	cfg="file/$IMG"
fi
PID=$!
wait_for 60 nl_listening "$PID" || die "daemon not listening"
user_backstore diag $((256 << 20)) "$cfg" 1 "hw_max_sectors=$HWMAX" || die "backstore"
DEV=$(loop_lun "$CFS/core/user_1/diag") || die "no LUN"
case $ROW in
rr4k1) set -- randread 4k 1 ;;
rr4k32) set -- randread 4k 32 ;;
rw4k32) set -- randwrite 4k 32 ;;
r1m8) set -- read 1M 8 ;;
w1m8) set -- write 1M 8 ;;
*) die "unknown row $ROW" ;;
esac
O=/vmout/diag-$WHO-$ROW
echo "# $WHO $ROW on $DEV (clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource))"
for t in /proc/"$PID"/task/*; do printf '%s:%s ' "$(cat "$t/comm")" "$(awk '{ print $14 + $15 }' "$t/stat")"; done > "$O-threads-before.txt"
fio --name=d --filename="$DEV" --direct=1 --ioengine=libaio --rw="$1" --bs="$2" \
	--iodepth="$3" --runtime=$((S * 5)) --time_based --output-format=terse \
	--terse-version=3 > "$O-fio.txt" 2>&1 &
FIO=$!
sleep 2
timeout "$S" strace -c -f -q -p "$PID" -o "$O-strace.txt" > /dev/null 2>&1
# Kernel stacks of the daemon's busy threads, sampled (cheap, no PMU needed).
for i in $(seq 1 60); do
	for t in /proc/"$PID"/task/*; do
		st=$(awk '{ print $3 }' "$t/stat" 2>/dev/null)
		[ "$st" = R ] || continue
		echo "== $(cat "$t/comm" 2>/dev/null)"
		cat "$t/stack" 2>/dev/null
	done
	sleep 0.1
done > "$O-kstacks.txt"
timeout $((S * 10 + 60)) perf record -q -F 250 -e cpu-clock -g -p "$PID" -o "$TT/perf.data" \
	-- sleep "$S" > "$O-perf-record.log" 2>&1
wait "$FIO"
for t in /proc/"$PID"/task/*; do printf '%s:%s ' "$(cat "$t/comm")" "$(awk '{ print $14 + $15 }' "$t/stat")"; done > "$O-threads-after.txt"
perf report -i "$TT/perf.data" --no-children --sort comm,dso,symbol -g none --stdio \
	> "$O-perf.txt" 2>/dev/null
perf report -i "$TT/perf.data" --no-children --sort symbol -g caller --stdio 2>/dev/null |
	head -300 > "$O-perf-callers.txt"
echo "fio: $(cut -d';' -f8 "$O-fio.txt") read IOPS, $(cut -d';' -f49 "$O-fio.txt") write IOPS"
head -40 "$O-strace.txt"
grep -v '^==' "$O-kstacks.txt" | sed 's/+0x.*//' | sort | uniq -c | sort -rn | head -30
grep -v '^#' "$O-perf.txt" | grep '%' | head -40
loop_unexport "$CFS/core/user_1/diag"
backstore_delete "$CFS/core/user_1/diag"
stop_pid "$PID" TERM 20
echo DONE
