# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# ublk: tcmu-ublk serves handler_file.so as /dev/ublkbN (needs Linux 6.0+
# with ublk_drv: run with VMKERNEL=6.12).
#   fio_qd1       crc32c verify, QD1, two queues
#   fio_qd32      crc32c verify, QD32, four queues, 4k random and 128k sequential
#   xfs_dbench    mkfs.xfs, dbench, xfs_repair -n finds nothing
#   fstrim        discard reaches the backing file: its allocated blocks shrink
#   kill9_recover kill -9 of the server during fio verify, `recover`: 0 errors
#   bad_input     unknown handler, missing file, zbc cfgstring, duplicate name:
#                 a clear error each and no device left behind
TESTS="fio_qd1 fio_qd32 xfs_dbench fstrim kill9_recover bad_input"
T_TIMEOUT=400
UBLK=${UBLK:-$BUILD/ublk/tcmu-ublk}

ublk_ready() {
	[ -x "$UBLK" ] || { echo "$UBLK not built (liburing missing?)"; return 1; }
	modprobe ublk_drv || { echo "no ublk_drv in kernel $(uname -r): boot VMKERNEL=6.12"; return 1; }
	wait_for 10 test -e /dev/ublk-control || { echo "/dev/ublk-control missing"; return 1; }
}

# ublk_add ARGS...: prints the block device; the server logs to $TT/log.
ublk_add() {
	local out
	mkdir -p "$TT/log"
	out=$("$UBLK" add --handler-path "$(handler_dir)" "$@" 2>> "$TT/log/ublk.err") || {
		echo "tcmu-ublk add $* failed:" >&2; tail -n 5 "$TT/log/ublk.err" >&2; return 1; }
	wait_for 10 test -b "$out" || { echo "$out did not appear" >&2; return 1; }
	echo "$out"
}

ublk_count() { find /sys/class/ublk-char -maxdepth 1 -name 'ublkc*' 2>/dev/null | wc -l; }

ublk_del_all() {
	local c
	for c in /sys/class/ublk-char/ublkc*; do
		[ -e "$c" ] || continue
		timeout 60 "$UBLK" del "${c##*ublkc}" || echo "del ${c##*ublkc} failed"
	done
}
suite_cleanup() { ublk_del_all; }

# server_pid ID: the pid serving /dev/ublkbID
server_pid() { "$UBLK" list | awk -v id="$1" '$1 == id { print $7 }'; }

t_fio_qd1() {
	local dev
	ublk_ready || return 1
	truncate -s 256M "$SCRATCH/u1.img"
	dev=$(ublk_add --queues 2 --depth 32 "file/$SCRATCH/u1.img") || return 1
	log "device $dev"
	"$UBLK" list
	FIO_QD=1 fio_verify "$dev" randwrite 4k 24M || return 1
	"$UBLK" del "file/$SCRATCH/u1.img" || return 1
	rm -f "$SCRATCH/u1.img"
	[ "$(ublk_count)" = 0 ] || { echo "device left after del"; return 1; }
}

t_fio_qd32() {
	local dev
	ublk_ready || return 1
	truncate -s 512M "$SCRATCH/u2.img"
	dev=$(ublk_add --name qd32 --queues 4 --depth 64 "file/$SCRATCH/u2.img") || return 1
	log "device $dev"
	FIO_QD=32 fio_verify "$dev" randwrite 4k 64M --numjobs=2 --offset_increment=128M || return 1
	FIO_QD=32 fio_verify "$dev" write 128k 256M || return 1
	# the data is in the file, not only in the device's page cache
	"$UBLK" del qd32 || return 1
	cmp -s <(head -c 1M "$SCRATCH/u2.img") <(dd if=/dev/zero bs=1M count=1 status=none) &&
		{ echo "backing file still zero"; return 1; }
	rm -f "$SCRATCH/u2.img"
}

t_xfs_dbench() {
	local dev
	ublk_ready || return 1
	command -v mkfs.xfs dbench > /dev/null || { echo "xfsprogs or dbench missing (setup.sh)"; return 1; }
	truncate -s 1G "$SCRATCH/u3.img"
	dev=$(ublk_add --name xfs --queues 2 "file/$SCRATCH/u3.img") || return 1
	mkfs.xfs -q -f "$dev" || return 1
	mkdir -p /mnt/ux
	mount "$dev" /mnt/ux || return 1
	timeout 120 dbench -t 20 -D /mnt/ux 4 > "$TT/dbench.out" 2>&1
	local rc=$?
	tail -n 3 "$TT/dbench.out"
	umount /mnt/ux || return 1
	[ $rc = 0 ] || { echo "dbench rc=$rc"; return 1; }
	xfs_repair -n "$dev" > "$TT/repair.out" 2>&1 || { cat "$TT/repair.out"; return 1; }
	log "xfs_repair -n: clean"
	"$UBLK" del xfs && rm -f "$SCRATCH/u3.img"
}

t_fstrim() {
	local dev before after
	ublk_ready || return 1
	truncate -s 1G "$SCRATCH/u4.img"
	dev=$(ublk_add --name trim "file/$SCRATCH/u4.img") || return 1
	cat "/sys/block/${dev#/dev/}/queue/discard_max_bytes"
	mkfs.xfs -q -f "$dev" || return 1
	mkdir -p /mnt/ut
	mount "$dev" /mnt/ut || return 1
	dd if=/dev/urandom of=/mnt/ut/big bs=1M count=200 status=none conv=fsync || return 1
	sync
	before=$(du -k "$SCRATCH/u4.img" | cut -f1)
	rm /mnt/ut/big
	# XFS frees a removed file's extents in the background (inodegc, 5.19+);
	# sync flushes that, else fstrim may run before the blocks are free
	local try
	for try in 1 2 3; do
		sync
		fstrim -v /mnt/ut || return 1
		sync
		after=$(du -k "$SCRATCH/u4.img" | cut -f1)
		[ "$after" -lt $((before - 150 * 1024)) ] && break
		log "fstrim pass $try: ${after} KiB still allocated"
		sleep 2
	done
	umount /mnt/ut
	log "backing file: ${before} KiB allocated before fstrim, ${after} KiB after"
	[ "$after" -lt $((before - 150 * 1024)) ] || { echo "fstrim did not free the blocks"; return 1; }
	"$UBLK" del trim && rm -f "$SCRATCH/u4.img"
}

t_kill9_recover() {
	local dev pid fpid rc id
	ublk_ready || return 1
	truncate -s 512M "$SCRATCH/u5.img"
	dev=$(ublk_add --name rec --queues 2 --depth 32 "file/$SCRATCH/u5.img") || return 1
	id=${dev#/dev/ublkb}
	pid=$(server_pid "$id")
	[ -n "$pid" ] || { echo "no server pid"; "$UBLK" list; return 1; }
	FIO_QD=16 FIO_TMO=300 fio_verify "$dev" randwrite 16k 448M &
	fpid=$!
	# kill once fio has written 32 MiB (sysfs stat field 7: sectors written),
	# not after a fixed sleep: a fast machine finished a fixed-size run first
	local i w=0
	for i in $(seq 200); do
		w=$(awk '{print $7}' "/sys/block/${dev#/dev/}/stat")
		[ "$w" -ge 65536 ] && break
		kill -0 "$fpid" 2> /dev/null || break
		sleep 0.1
	done
	log "fio had written $((w / 2048)) MiB after ${i} polls"
	kill -0 "$fpid" || { echo "fio ended before the kill"; return 1; }
	kill -KILL "$pid"
	log "killed server $pid during fio"
	"$UBLK" list
	sleep 2
	"$UBLK" recover "$id" 2>> "$TT/log/ublk.err" > /dev/null ||
		{ tail -n 5 "$TT/log/ublk.err"; return 1; }
	log "recovered: $("$UBLK" list | awk -v id="$id" '$1 == id')"
	wait "$fpid"; rc=$?
	grep -c . "$TT/fio.out" > /dev/null
	[ $rc = 0 ] || { echo "fio failed across the recovery (rc=$rc)"; return 1; }
	log "fio verify passed across kill -9 and recovery"
	"$UBLK" del rec && rm -f "$SCRATCH/u5.img"
}

t_bad_input() {
	local hd n0 out dev
	ublk_ready || return 1
	hd=$(handler_dir)
	n0=$(ublk_count)
	expect_fail() {  # expect_fail PATTERN ARGS...: add fails, says PATTERN, leaves nothing
		local pat=$1; shift
		if out=$("$UBLK" add --handler-path "$hd" "$@" 2>&1); then
			echo "add $* succeeded: $out"; return 1
		fi
		echo "add $*: $out"
		echo "$out" | grep -qi -- "$pat" || { echo "message lacks '$pat'"; return 1; }
		[ "$(ublk_count)" = "$n0" ] || { echo "a device was left behind"; return 1; }
	}
	expect_fail "no handler" "nosuch/$SCRATCH/x.img" || return 1
	expect_fail "No such file" "file/$SCRATCH/missing.img" || return 1
	truncate -s 64M "$SCRATCH/z.img"
	expect_fail "SCSI" --size 64M "zbc/$SCRATCH/z.img" || return 1
	expect_fail "not a cfgstring" "garbage" || return 1
	truncate -s 64M "$SCRATCH/u6.img"
	dev=$(ublk_add --name dup "file/$SCRATCH/u6.img") || return 1
	n0=$(ublk_count)
	expect_fail "exists already" --name dup "file/$SCRATCH/u6.img" || return 1
	dd if=/dev/zero of="$dev" bs=4k count=16 oflag=direct status=none || { echo "first device broken"; return 1; }
	"$UBLK" del dup
}
