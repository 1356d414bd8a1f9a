# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# zbc: handler_zbc.so as Linux's own zoned block stack sees it (tcm_loop).
#   attach   sd attaches a host-managed zoned disk (type 0x14, 64 zones)
#   blkzone  blkzone report/open/close/finish/reset, conditions and WPs;
#            GET LBA STATUS (sg_get_lba_status) maps up to the write pointer
#   fio      fio --zonemode=zbd, crc32c verify, sequential writes over 16
#            zones, iodepth 8 (mq-deadline)
#   fs       a zoned btrfs (else f2fs): mkfs, mount, write, remount, compare, fsck
#   ha       the host-aware model: a disk that reports zones, written anywhere
#   kill9    kill -9 during sequential writes, restart: acknowledged blocks read
#            back and the write pointer is not behind them (last: the daemon it
#            restarts lives in its session, so it also removes the LUN)
TESTS="setup attach blkzone fio fs ha kill9 teardown"
T_TIMEOUT=600
SZ=$((512 << 20))
ZS=16384             # sectors per zone (zsize-8)
NZ=64
NBLK=96              # 64 KiB blocks written by the kill9 writer (3/4 zone)

dev() { cat "$TT/zdev"; }
sdname() { basename "$(dev)"; }

# zone_field ZONE_START_SECTOR FIELD: a field of blkzone's report of one zone
zone_field() {
	blkzone report -o "$1" -c 1 "$(dev)" | sed -n "s/.*$2[: ]*\([0-9a-fx]*\).*/\1/p"
}
zone_cond() { blkzone report -o "$1" -c 1 "$(dev)" | sed -n 's/.*zcond: *[0-9]*(\([a-z]*\)).*/\1/p'; }

t_setup() {
	start_runner || return 1
	rm -f "$SCRATCH/z0.zbc"
	user_backstore z0 $SZ "zbc/zsize-8/conv-4@$SCRATCH/z0.zbc" || { runner_log_tail; return 1; }
	loop_lun "$CFS/core/user_1/z0" > "$TT/zdev" || return 1
	log "LUN $(dev)"
	echo mq-deadline > "/sys/block/$(sdname)/queue/scheduler" 2>/dev/null
	cat "/sys/block/$(sdname)/queue/scheduler"
}

t_attach() {
	local q
	q=/sys/block/$(sdname)/queue
	sg_inq "$(dev)" | grep -i 'device type' || return 1
	sg_inq "$(dev)" | grep -qi 'zoned block' || { echo "not type 0x14"; return 1; }
	sg_vpd -p zbdch "$(dev)" || return 1
	echo "zoned=$(cat "$q"/zoned) nr_zones=$(cat "$q"/nr_zones) chunk_sectors=$(cat "$q"/chunk_sectors)" \
		"max_open_zones=$(cat "$q"/max_open_zones 2>/dev/null)"
	[ "$(cat "$q"/zoned)" = host-managed ] || return 1
	[ "$(cat "$q"/nr_zones)" = $NZ ] || return 1
	[ "$(cat "$q"/chunk_sectors)" = $ZS ] || return 1
}

# lba_status_wp ZONE_START: GET LBA STATUS (sg_get_lba_status) says the zone
# is mapped up to its write pointer (16 blocks) and deallocated after it.
lba_status_wp() {
	local out l n st l2 st2
	out=$(sg_get_lba_status -R -b --lba="$1" --maxlen=64 "$(dev)") || return 1
	echo "$out"
	# one "0x<LBA> 0x<blocks> <status> <additional status>" line a descriptor
	read -r l n st _ <<< "$(echo "$out" | grep '^0x' | sed -n 1p)"
	read -r l2 _ st2 _ <<< "$(echo "$out" | grep '^0x' | sed -n 2p)"
	[ "$((l))" = "$1" ] && [ "$((n))" = 16 ] && [ "$st" = 0 ] &&
		[ "$((l2))" = $(($1 + 16)) ] && [ "$st2" = 1 ]
}

t_blkzone() {
	local z5=$((5 * ZS)) n
	n=$(blkzone report "$(dev)" | wc -l)
	[ "$n" = $NZ ] || { echo "blkzone lists $n zones"; return 1; }
	n=$(blkzone report "$(dev)" | grep -c 'CONVENTIONAL')
	[ "$n" = 4 ] || { echo "$n conventional zones"; return 1; }
	blkzone reset "$(dev)" || return 1
	blkzone open -o $z5 -c 1 "$(dev)" || return 1
	[ "$(zone_cond $z5)" = oe ] || { blkzone report -o $z5 -c 1 "$(dev)"; return 1; }
	blkzone close -o $z5 -c 1 "$(dev)" || return 1
	[ "$(zone_cond $z5)" = em ] || { echo "closed empty zone not EMPTY"; return 1; }
	dd if=/dev/urandom of="$(dev)" bs=4k count=2 seek=$((z5 / 8)) oflag=direct status=none || return 1
	[ "$(zone_cond $z5)" = oi ] || { echo "write did not open implicitly"; return 1; }
	[ "$(zone_field $z5 wptr)" = 0x000010 ] || { blkzone report -o $z5 -c 1 "$(dev)"; return 1; }
	lba_status_wp $z5 || return 1
	blkzone close -o $z5 -c 1 "$(dev)" && [ "$(zone_cond $z5)" = cl ] || return 1
	blkzone finish -o $z5 -c 1 "$(dev)" && [ "$(zone_cond $z5)" = fu ] || return 1
	# a write that is not at the write pointer fails
	if dd if=/dev/zero of="$(dev)" bs=4k count=1 seek=$((6 * ZS / 8 + 1)) oflag=direct status=none 2>/dev/null; then
		echo "unaligned write accepted"; return 1
	fi
	blkzone reset -o $z5 -c 1 "$(dev)" && [ "$(zone_cond $z5)" = em ] || return 1
	blkzone report -o $z5 -c 2 "$(dev)"
}

t_fio() {
	local rc n
	blkzone reset "$(dev)" || return 1
	timeout -k 10 400 fio --name=zbd --filename="$(dev)" --direct=1 --ioengine=libaio \
		--iodepth=8 --zonemode=zbd --rw=write --bs=64k --offset=$((4 * ZS * 512)) \
		--size=$((16 * ZS * 512)) --verify=crc32c --do_verify=1 --verify_fatal=1 \
		> "$TT/fio.out" 2>&1
	rc=$?
	grep -E 'err=|verify|WRITE:' "$TT/fio.out"
	[ $rc = 0 ] || { tail -30 "$TT/fio.out"; return 1; }
	n=$(blkzone report -o $((4 * ZS)) -c 16 "$(dev)" | grep -c '(fu)')
	[ "$n" = 16 ] || { echo "$n of 16 zones full"; return 1; }
}

t_fs() {
	local m=/mnt/zfs kind=
	blkzone reset "$(dev)" || return 1
	mkdir -p $m
	if modprobe btrfs 2>/dev/null && command -v mkfs.btrfs >/dev/null &&
	   mkfs.btrfs -f -O zoned "$(dev)" > "$TT/mkfs.out" 2>&1; then
		kind=btrfs
	elif modprobe f2fs 2>/dev/null && command -v mkfs.f2fs >/dev/null &&
	     mkfs.f2fs -f -m "$(dev)" > "$TT/mkfs.out" 2>&1; then
		kind=f2fs
	else
		cat "$TT/mkfs.out" 2>/dev/null
		echo "SKIP: neither a zoned btrfs nor f2fs could be made here"; return 77
	fi
	log "mkfs.$kind done"
	mount -t $kind "$(dev)" $m || { tail "$TT/mkfs.out"; dmesg | tail; return 1; }
	head -c $((24 << 20)) /dev/urandom > "$TT/f1"
	cp "$TT/f1" $m/f1 && cp -r /usr/share/doc/util-linux $m/doc && sync || return 1
	umount $m || return 1
	mount -t $kind "$(dev)" $m || return 1
	cmp "$TT/f1" $m/f1 && diff -r /usr/share/doc/util-linux $m/doc || return 1
	umount $m || return 1
	if [ $kind = btrfs ]; then
		btrfs check "$(dev)" || return 1
	else
		fsck.f2fs -f "$(dev)" > "$TT/fsck.out" 2>&1 || { tail "$TT/fsck.out"; return 1; }
	fi
}

# writer: 64 KiB blocks 0..NBLK-1 of $TT/data, sequentially into zone 10;
# a block whose write failed but that the write pointer has passed (the
# daemon died after writing it) counts as written, not as acknowledged.
writer() {
	local i try base=$((10 * ZS)) wp
	for i in $(seq 0 $((NBLK - 1))); do
		for try in 1 2 3 4 5 6; do
			if dd if="$TT/data" of="$(dev)" bs=64k skip="$i" seek=$((base / 128 + i)) count=1 \
				oflag=direct status=none 2>> "$TT/writer.err"; then
				echo "$i" >> "$TT/acked"; break
			fi
			wp=$(zone_field $base wptr)
			[ -n "$wp" ] && [ $((wp)) -ge $(((i + 1) * 128)) ] && break
			sleep 1
		done
	done
	echo finished >> "$TT/acked"
}

nacked() { grep -vc finished "$TT/acked"; }

t_kill9() {
	local base=$((10 * ZS)) wpid n i bad=0 wp
	blkzone reset "$(dev)" || return 1
	: > "$TT/acked"; : > "$TT/writer.err"
	head -c $((NBLK * 65536)) /dev/urandom > "$TT/data"
	writer &
	wpid=$!
	wait_for 120 eval '[ "$(nacked)" -ge 20 ]' || { echo "writer too slow"; return 1; }
	n=$(nacked)
	kill -KILL "$(cat "$TT/runner.pid")"; rm -f "$TT/runner.pid"
	log "killed the daemon after $n acknowledged blocks"
	sleep 2
	start_runner || return 1
	wait_for 240 eval 'grep -q finished "$TT/acked"' || { echo "writer did not finish"; return 1; }
	wait "$wpid"
	wp=$(zone_field $base wptr)
	log "$(nacked) blocks acknowledged, zone write pointer $wp"
	[ $((wp)) -eq $((NBLK * 128)) ] || { echo "write pointer $wp, expected $((NBLK * 128))"; return 1; }
	dd if="$(dev)" of="$TT/back" bs=64k skip=$((base / 128)) count=$NBLK iflag=direct status=none || return 1
	for i in $(grep -v finished "$TT/acked"); do
		cmp -s <(dd if="$TT/data" bs=64k skip="$i" count=1 status=none) \
		       <(dd if="$TT/back" bs=64k skip="$i" count=1 status=none) || bad=$((bad + 1))
	done
	echo "$(nacked) acknowledged blocks checked, $bad bad"
	[ $bad = 0 ] || return 1
	loop_unexport "$CFS/core/user_1/z0" && backstore_delete "$CFS/core/user_1/z0" && stop_runner TERM 30
}

t_ha() {
	local d q
	rm -f "$SCRATCH/h0.zbc"
	user_backstore h0 $((256 << 20)) "zbc/model-HA/zsize-8/conv-2@$SCRATCH/h0.zbc" || return 1
	d=$(loop_lun "$CFS/core/user_1/h0") || return 1
	q=/sys/block/$(basename "$d")/queue
	echo "HA LUN $d zoned=$(cat "$q"/zoned)"
	sg_inq "$d" | grep -i 'device type' | grep -qi 'disk' || return 1
	case $(cat "$q"/zoned) in host-aware|none) ;; *) return 1 ;; esac
	sg_rep_zones "$d" | head -20
	[ "$(sg_rep_zones "$d" | grep -ci 'zone type: sequential write preferred')" = 30 ] || return 1
	# written anywhere, read back
	head -c 65536 /dev/urandom > "$TT/ha"
	dd if="$TT/ha" of="$d" bs=64k seek=100 oflag=direct status=none || return 1
	cmp <(dd if="$d" bs=64k skip=100 count=1 iflag=direct status=none) "$TT/ha" || return 1
	loop_unexport "$CFS/core/user_1/h0" && backstore_delete "$CFS/core/user_1/h0"
}

t_teardown() {
	if [ -d "$CFS/core/user_1/z0" ]; then
		loop_unexport "$CFS/core/user_1/z0" || return 1
		backstore_delete "$CFS/core/user_1/z0" || return 1
	fi
	stop_runner TERM 30
}
