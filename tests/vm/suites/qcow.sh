# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# qcow: user:qcow LUNs on qcow2 images made by qemu-img, through tcm_loop.
#   v3_64k v2 c512  fio crc32c write+verify, then the LUN is read whole; after
#                   removal 'qemu-img check' is clean and 'qemu-img compare'
#                   finds the image equal to what the LUN returned
#   chain           the same over raw <- qcow2 v2 <- qcow2 v3 (relative
#                   backing names); the backing files are not changed
#   snapshots       an internal snapshot survives the writes: 'qemu-img
#                   snapshot -a' gives back the data from before
#   kill9           kill -9 of the daemon during fio writes, 5 times: each time
#                   'qemu-img check' finds no corruption (leaks allowed) and,
#                   after the restart, the 1 MiB blocks written (O_DIRECT,
#                   acknowledged) before each kill read back; at the end fio
#                   verify passes and the image checks clean
#   fstrim          ext4 on the LUN: after rm + fstrim the image has fewer
#                   allocated clusters and uses less disk space
#   resize          attrib/dev_size of a LUN in use: 64 MiB -> 1.5 GiB (the L1
#                   table moves); the initiator sees the new capacity, the new
#                   area reads as zero and takes writes, the old data is intact;
#                   a shrink is refused with the reason in the log; after
#                   removal 'qemu-img info' gives the new size, check is clean
# QCOW_TESTS (passed into the VM with VM_ENV=QCOW_TESTS) runs a subset.
TESTS=${QCOW_TESTS:-"v3_64k v2 c512 chain snapshots kill9 fstrim resize"}
T_TIMEOUT=600

# qlun NAME IMAGE SIZE: a user:qcow LUN on IMAGE; prints /dev/sdX
qlun() {
	user_backstore "$1" "$3" "qcow/$2" || return 1
	loop_lun "$CFS/core/user_1/$1"
}

qunlun() {
	loop_unexport "$CFS/core/user_1/$1" || return 1
	backstore_delete "$CFS/core/user_1/$1"
}

# qcheck IMAGE [leaks]: no corruption; no leak either unless "leaks"
qcheck() {
	local out rc
	out=$(qemu-img check "$1" 2>&1); rc=$?
	echo "$out" | tail -n 3
	[ "$rc" = 0 ] || { [ "${2:-}" = leaks ] && [ "$rc" = 3 ]; } ||
		{ echo "qemu-img check $1: rc $rc"; echo "$out" | head -n 20; return 1; }
}

# io_and_compare NAME IMAGE SIZE FIO_SIZE: fio verify, read the LUN whole,
# remove it, stop the daemon, check and compare.
io_and_compare() {
	local name=$1 img=$2 size=$3 fsz=$4 dev
	start_runner || return 1
	dev=$(qlun "$name" "$img" "$size") || { runner_log_tail; return 1; }
	log "LUN $dev on $img ($(qemu-img info "$img" | grep -E 'compat|cluster_size' | tr '\n' ' '))"
	fio_verify "$dev" randwrite 4k "$fsz" || return 1
	fio_verify "$dev" write 256k "$fsz" --offset="$fsz" || return 1
	dd if="$dev" of="$SCRATCH/lun.raw" bs=1M iflag=direct status=none || return 1
	qunlun "$name" || return 1
	stop_runner TERM 30 || return 1
	qcheck "$img" || return 1
	qemu-img compare "$img" "$SCRATCH/lun.raw" || { echo "image differs from the LUN's data"; return 1; }
	log "qemu-img check clean; image equals the LUN's data"
}

t_v3_64k() {
	qemu-img create -q -f qcow2 -o compat=1.1 "$SCRATCH/a.qcow2" 128M || return 1
	io_and_compare a "$SCRATCH/a.qcow2" $((128 << 20)) 32M
}

t_v2() {
	qemu-img create -q -f qcow2 -o compat=0.10 "$SCRATCH/b.qcow2" 128M || return 1
	io_and_compare b "$SCRATCH/b.qcow2" $((128 << 20)) 32M
}

t_c512() {
	qemu-img create -q -f qcow2 -o cluster_size=512 "$SCRATCH/c.qcow2" 32M || return 1
	io_and_compare c "$SCRATCH/c.qcow2" $((32 << 20)) 8M
}

t_chain() {
	local sum
	mkdir -p "$SCRATCH/ch" || return 1
	head -c 64M /dev/urandom > "$SCRATCH/ch/base.raw"
	(cd "$SCRATCH/ch" &&
	 qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw mid.qcow2 &&
	 qemu-io -c "write -P 0x42 40M 3M" mid.qcow2 >/dev/null &&
	 qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2) || return 1
	sum=$(cat "$SCRATCH/ch/base.raw" "$SCRATCH/ch/mid.qcow2" | md5sum)
	io_and_compare t "$SCRATCH/ch/top.qcow2" $((64 << 20)) 8M || return 1
	[ "$sum" = "$(cat "$SCRATCH/ch/base.raw" "$SCRATCH/ch/mid.qcow2" | md5sum)" ] ||
		{ echo "a backing file changed"; return 1; }
	qemu-io -c "read -P 0x42 41M 1M" "$SCRATCH/ch/top.qcow2" | grep -q "read 1048576" ||
		{ echo "backing data not visible through the top image"; return 1; }
}

t_snapshots() {
	local img=$SCRATCH/s.qcow2
	qemu-img create -q -f qcow2 "$img" 64M || return 1
	qemu-io -c "write -P 0x33 0 48M" "$img" >/dev/null || return 1
	qemu-img convert -O raw "$img" "$SCRATCH/before.raw" || return 1
	qemu-img snapshot -c one "$img" || return 1
	io_and_compare s "$img" $((64 << 20)) 16M || return 1
	qemu-img snapshot -a one "$img" || return 1
	qemu-img compare "$img" "$SCRATCH/before.raw" || { echo "snapshot 'one' lost its data"; return 1; }
	qcheck "$img" && log "snapshot restored: data from before the writes"
}

t_kill9() {
	local img=$SCRATCH/k.qcow2 dev i fpid
	qemu-img create -q -f qcow2 -o cluster_size=64k "$img" 128M || return 1
	qemu-io -c "write -P 0x21 0 16M" "$img" >/dev/null || return 1
	qemu-img snapshot -c s0 "$img" || return 1
	start_runner || return 1
	dev=$(qlun k "$img" $((128 << 20))) || return 1
	head -c 5M /dev/urandom > "$TT/acked"
	for i in 1 2 3 4 5; do
		# Block i: written and acknowledged before the kill, at 99 MiB + i MiB,
		# past the 96 MiB fio writes.
		dd if="$TT/acked" of="$dev" bs=1M skip=$((i - 1)) seek=$((99 + i)) count=1 \
			oflag=direct status=none || { echo "acknowledged write $i failed"; return 1; }
		fio --name=k --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
			--rw=randwrite --bsrange=4k-128k --size=96M --time_based --runtime=600 \
			> "$TT/fio.k$i" 2>&1 &
		fpid=$!
		sleep $((2 + i))
		kill -KILL "$(cat "$TT/runner.pid")"; rm -f "$TT/runner.pid"
		sleep 1
		log "round $i: daemon killed during fio writes"
		qcheck "$img" leaks || return 1
		start_runner || return 1
		sleep 2
		kill "$fpid" 2>/dev/null
		wait_for 120 eval "! pid_alive $fpid" || { echo "fio stuck after the restart"; return 1; }
		# The blocks of this and the earlier rounds, through the new daemon.
		if ! cmp <(dd if="$dev" bs=1M skip=100 count="$i" iflag=direct status=none) \
			 <(head -c $((i << 20)) "$TT/acked"); then
			echo "round $i: acknowledged data does not read back"; return 1
		fi
	done
	fio_verify "$dev" randwrite 4k 32M || return 1
	qunlun k || return 1
	stop_runner TERM 30 || return 1
	qemu-img check -q -r leaks "$img" >/dev/null 2>&1
	qcheck "$img"
}

alloc_clusters() {
	qemu-img check --output=json "$1" 2>/dev/null | sed -n 's/.*"allocated-clusters": \([0-9]*\).*/\1/p'
}

t_fstrim() {
	local img=$SCRATCH/f.qcow2 dev m=$SCRATCH/mnt a0 a1 d0 d1
	qemu-img create -q -f qcow2 "$img" 256M || return 1
	start_runner || return 1
	dev=$(qlun f "$img" $((256 << 20))) || return 1
	mkfs.ext4 -q -E nodiscard "$dev" || return 1
	mkdir -p "$m" && mount "$dev" "$m" || return 1
	dd if=/dev/urandom of="$m/data" bs=1M count=128 conv=fsync status=none || { umount "$m"; return 1; }
	sync
	a0=$(alloc_clusters "$img"); d0=$(du -k "$img" | cut -f1)
	rm -f "$m/data"; sync
	fstrim -v "$m" || { umount "$m"; return 1; }
	sync
	a1=$(alloc_clusters "$img"); d1=$(du -k "$img" | cut -f1)
	umount "$m" || return 1
	log "allocated clusters $a0 -> $a1, du ${d0}K -> ${d1}K"
	qemu-img map "$img" | tail -n 3
	if [ -z "$a0" ] || [ -z "$a1" ] || [ "$a1" -ge $((a0 - 1500)) ]; then
		echo "fstrim returned too few clusters"; return 1
	fi
	[ "$d1" -lt $((d0 - 100000)) ] || { echo "fstrim returned no disk space"; return 1; }
	qunlun f || return 1
	stop_runner TERM 30 || return 1
	qcheck "$img"
}

t_resize() {
	local img=$SCRATCH/r.qcow2 dev bs=$CFS/core/user_1/r old=$((64 << 20)) new=$((1536 << 20)) vs
	qemu-img create -q -f qcow2 -o cluster_size=4k "$img" $old || return 1
	qemu-io -c "write -P 0x5c 0 8M" "$img" >/dev/null || return 1
	start_runner || return 1
	dev=$(qlun r "$img" $old) || { runner_log_tail; return 1; }
	head -c 4M /dev/urandom > "$TT/w.bin"
	dd if="$TT/w.bin" of="$dev" bs=1M seek=60 oflag=direct status=none || return 1
	cfs_write $new "$bs/attrib/dev_size" || { echo "resize refused"; runner_log_tail; return 1; }
	grep -q "grew image $img from $old to $new bytes" "$TT/log/tcmu-runner.log" ||
		{ echo "no growth in the daemon log"; runner_log_tail; return 1; }
	sg_turs "$dev" >/dev/null 2>&1 # the capacity-changed unit attention
	echo 1 > "/sys/block/${dev#/dev/}/device/rescan"
	[ "$(blockdev --getsize64 "$dev")" = $new ] ||
		{ echo "initiator sees $(blockdev --getsize64 "$dev") bytes, not $new"; return 1; }
	cmp <(dd if="$dev" bs=1M skip=1024 count=8 iflag=direct status=none) <(head -c 8M /dev/zero) ||
		{ echo "the new area does not read as zero"; return 1; }
	dd if="$TT/w.bin" of="$dev" bs=1M seek=1400 oflag=direct status=none || return 1
	cmp <(dd if="$dev" bs=1M skip=1400 count=4 iflag=direct status=none) "$TT/w.bin" ||
		{ echo "data written to the new area does not read back"; return 1; }
	cmp <(dd if="$dev" bs=1M skip=60 count=4 iflag=direct status=none) "$TT/w.bin" ||
		{ echo "data from before the resize changed"; return 1; }
	fio_verify "$dev" randwrite 4k 16M --offset=1200M || return 1
	cfs_write $((32 << 20)) "$bs/attrib/dev_size" && { echo "shrink accepted"; return 1; }
	grep -q "shrinking from $new to $((32 << 20)) bytes is not supported" "$TT/log/tcmu-runner.log" ||
		{ echo "shrink refused without the reason in the log"; runner_log_tail; return 1; }
	qunlun r || return 1
	stop_runner TERM 30 || return 1
	vs=$(qemu-img info --output=json "$img" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
	[ "$vs" = $new ] || { echo "qemu-img info: virtual size $vs, not $new"; return 1; }
	qcheck "$img" || return 1
	qemu-io -c "read -P 0x5c 0 8M" "$img" | grep -q "read 8388608" ||
		{ echo "qemu-io data from before the resize changed"; return 1; }
	qemu-img convert -O raw "$img" "$SCRATCH/r.raw" || return 1
	cmp <(dd if="$SCRATCH/r.raw" bs=1M skip=1400 count=4 status=none) "$TT/w.bin" ||
		{ echo "qemu reads other data in the new area"; return 1; }
	rm -f "$SCRATCH/r.raw"
	log "grown to $new bytes: qemu-img info and check agree"
}
