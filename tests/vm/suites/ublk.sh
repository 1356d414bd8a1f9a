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
#   stat_counts   tcmu-stat (no tcmu-runner running) shows the server's
#                 counters grow by at least fio's known number of I/Os
#   dbus_add_del  Ublk1.Add / Delete through tcmu-runner's DBus service
#                 (gdbus), Metrics1 lists the device, bad input refused with
#                 no device left; a device outlives the daemon that added it
TESTS="fio_qd1 fio_qd32 xfs_dbench fstrim kill9_recover bad_input stat_counts dbus_add_del"
T_TIMEOUT=400
UBLK=${UBLK:-$BUILD/ublk/tcmu-ublk}
STAT=${STAT:-$BUILD/tools/tcmu-stat}

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

# stat_field KEY LINE: the value of KEY=value in a tcmu-stat --parsable line
stat_field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

t_stat_counts() {
	local dev id before after k d
	ublk_ready || return 1
	[ -x "$STAT" ] || { echo "$STAT not built (GIO missing?)"; return 1; }
	command -v fio > /dev/null || { echo "fio missing (setup.sh)"; return 1; }
	truncate -s 64M "$SCRATCH/u7.img"
	dev=$(ublk_add --name stat --queues 2 "file/$SCRATCH/u7.img") || return 1
	id=${dev#/dev/ublkb}
	# No tcmu-runner runs here: tcmu-stat reads the server's metrics file.
	before=$("$STAT" --parsable "ublkb$id" 2> "$TT/stat.err") ||
		{ cat "$TT/stat.err"; return 1; }
	log "before: $before"
	grep -q "showing the tcmu-ublk devices only" "$TT/stat.err" ||
		{ echo "no note that tcmu-runner is not running:"; cat "$TT/stat.err"; return 1; }
	# 1024 writes then 1024 reads of 4 KiB, one at a time (no merging)
	fio --name=w --filename="$dev" --direct=1 --ioengine=psync --rw=write --bs=4k \
		--size=4M > "$TT/fio-w.out" 2>&1 || { tail "$TT/fio-w.out"; return 1; }
	fio --name=r --filename="$dev" --direct=1 --ioengine=psync --rw=randread --bs=4k \
		--size=4M --randrepeat=0 > "$TT/fio-r.out" 2>&1 || { tail "$TT/fio-r.out"; return 1; }
	after=$("$STAT" --parsable "ublkb$id" 2> /dev/null) || return 1
	log "after:  $after"
	"$STAT" 2> /dev/null
	for k in write_cmds read_cmds; do
		d=$(( $(stat_field $k "$after") - $(stat_field $k "$before") ))
		log "$k grew by $d (fio: 1024)"
		if [ "$d" -lt 1024 ] || [ "$d" -ge 2048 ]; then echo "$k grew by $d, not 1024..2047"; return 1; fi
	done
	d=$(( $(stat_field write_bytes "$after") - $(stat_field write_bytes "$before") ))
	[ "$d" -ge 4194304 ] || { echo "write_bytes grew by $d, not 4 MiB"; return 1; }
	[ "$(stat_field in_flight "$after")" = 0 ] || { echo "in_flight not 0 when idle"; return 1; }
	[ "$(stat_field errors "$after")" = 0 ] || { echo "errors counted"; return 1; }
	[ "$(stat_field state "$after")" = open ] || { echo "state not open"; return 1; }
	"$UBLK" del stat || return 1
	"$STAT" --list 2> /dev/null | grep -q "^ublkb$id " && { echo "listed after del"; return 1; }
	rm -f "$SCRATCH/u7.img"
}

# ublk1 METHOD ARGS...: gdbus call on tcmu-runner's Ublk1 object
ublk1() {
	local m=$1; shift
	timeout 60 gdbus call --system --dest org.kernel.TCMUService1 \
		--object-path /org/kernel/TCMUService1/Ublk1 \
		--method "org.kernel.TCMUService1.Ublk1.$m" "$@"
}

t_dbus_add_del() {
	local out dev id n0 m
	ublk_ready || return 1
	command -v gdbus > /dev/null || { echo "gdbus missing (libglib2.0-bin, deps.sh)"; return 1; }
	start_runner || return 1
	wait_for 20 gdbus introspect --system --dest org.kernel.TCMUService1 \
		--object-path /org/kernel/TCMUService1/Ublk1 > /dev/null ||
		{ echo "Ublk1 not on the system bus"; return 1; }
	truncate -s 64M "$SCRATCH/u8.img"
	n0=$(ublk_count)
	out=$(ublk1 Add "file/$SCRATCH/u8.img" "{'name': <'dbus8'>, 'queues': <uint32 2>}") ||
		return 1
	log "Add: $out"
	dev=$(echo "$out" | sed -n "s|^(true, '\(/dev/ublkb[0-9]*\)')$|\1|p")
	[ -n "$dev" ] || { echo "Add did not succeed"; return 1; }
	id=${dev#/dev/ublkb}
	wait_for 10 test -b "$dev" || { echo "$dev did not appear"; return 1; }
	dd if=/dev/urandom of="$dev" bs=4k count=16 oflag=direct status=none || return 1
	m=$(gdbus call --system --dest org.kernel.TCMUService1 \
		--object-path /org/kernel/TCMUService1/Metrics1 \
		--method org.kernel.TCMUService1.Metrics1.GetMetrics "ublkb$id") || return 1
	log "Metrics1.GetMetrics ublkb$id: $(echo "$m" | grep -o "'write_cmds': <uint64 [0-9]*>")"
	echo "$m" | grep -Eq "'write_cmds': <uint64 (1[6-9]|[2-9][0-9]|[0-9]{3,})>" ||
		{ echo "write_cmds below 16: $m"; return 1; }
	out=$(ublk1 List) || return 1
	log "List: $out"
	echo "$out" | grep -q "'dbus8'" || { echo "List lacks dbus8"; return 1; }

	# bad input: tcmu-ublk's own message, and no device left behind
	out=$(ublk1 Add "nosuch/$SCRATCH/x.img" "{}") || return 1
	log "Add nosuch: $out"
	echo "$out" | grep -q "^(false, .*no handler" || { echo "unknown handler not refused"; return 1; }
	out=$(ublk1 Add "file/$SCRATCH/u8.img" "{'name': <'dbus8'>}") || return 1
	log "Add duplicate: $out"
	echo "$out" | grep -q "^(false, .*exists already" || { echo "duplicate not refused"; return 1; }
	out=$(ublk1 Add "file/$SCRATCH/u8.img" "{'colour': <'blue'>}") || return 1
	log "Add bad option: $out"
	echo "$out" | grep -q "^(false, .*unknown option" || { echo "bad option not refused"; return 1; }
	[ "$(ublk_count)" = $((n0 + 1)) ] || { echo "refused calls changed the device count"; return 1; }

	out=$(ublk1 Delete dbus8) || return 1
	log "Delete: $out"
	[ "$out" = "(true, 'deleted')" ] || { echo "Delete failed"; return 1; }
	[ "$(ublk_count)" = "$n0" ] || { echo "device left after Delete"; return 1; }
	out=$(ublk1 Delete dbus8) || return 1
	echo "$out" | grep -q "^(false, .*no device named" || { echo "second Delete: $out"; return 1; }

	# A device added over DBus is not the daemon's child: it outlives it.
	out=$(ublk1 Add "file/$SCRATCH/u8.img" "{'name': <'dbus9'>}") || return 1
	dev=$(echo "$out" | sed -n "s|^(true, '\(/dev/ublkb[0-9]*\)')$|\1|p")
	[ -n "$dev" ] || { echo "second Add: $out"; return 1; }
	stop_runner TERM 30 || { echo "tcmu-runner did not stop"; return 1; }
	dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none ||
		{ echo "$dev stopped with tcmu-runner"; return 1; }
	log "$dev still serves after tcmu-runner stopped"
	"$UBLK" del dbus9 || return 1
	rm -f "$SCRATCH/u8.img"
}
