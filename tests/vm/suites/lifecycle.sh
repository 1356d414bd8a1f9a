# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# lifecycle: create / enable / export / resize / delete user:file devices in a
# loop with one daemon, then many at once; the daemon must not leak fds.
#   resize_loop  20 x: create, export, resize through attrib/dev_size (the
#                initiator gets UNIT ATTENTION "capacity data has changed"
#                and READ CAPACITY shows the new size), unexport, delete
#   many         20 devices at once, I/O on each, delete them all
TESTS=${LIFECYCLE_TESTS:-"resize_loop many"}
T_TIMEOUT=600
N=${LIFECYCLE_N:-20}
SZ=$((16 << 20))

nfd() { ls "/proc/$RUNNER_PID/fd" | wc -l; }
# pat TEXT: 64 KiB of TEXT repeated (yes gets SIGPIPE: ignore its status)
pat() { yes "$1" 2>/dev/null | head -c 65536; return 0; }

t_resize_loop() {
	local i dev out rc fd0 fd1 bs
	start_runner || return 1
	fd0=$(nfd)
	for i in $(seq "$N"); do
		bs=$CFS/core/user_1/r$i
		truncate -s $SZ "$SCRATCH/r$i.img"
		user_backstore "r$i" $SZ "file/$SCRATCH/r$i.img" || { echo "iteration $i: create failed"; return 1; }
		dev=$(loop_lun "$bs") || { echo "iteration $i: export failed"; return 1; }
		sg_readcap "$dev" | grep -q "Last LBA=$((SZ / 512 - 1))" || { echo "iteration $i: bad size"; return 1; }
		cfs_write $((SZ * 2)) "$bs/attrib/dev_size" || { echo "iteration $i: resize failed"; return 1; }
		grep -q "$((SZ * 2))" "$bs/attrib/dev_size" || { echo "iteration $i: dev_size not updated"; return 1; }
		out=$(sg_turs -v "$dev" 2>&1); rc=$?
		if [ $rc != 6 ] || ! echo "$out" | grep -qi 'capacity data has changed'; then
			# the kernel's sd may have consumed the UA itself; accept that
			# only if it logged it
			dmesg | tail -n 20 | grep -qi 'capacity data has changed' || {
				echo "iteration $i: no capacity-changed UNIT ATTENTION (sg_turs rc=$rc): $out"
				return 1; }
		fi
		out=$(sg_readcap "$dev") || out=$(sg_readcap "$dev")
		echo "$out" | grep -q "Last LBA=$((SZ * 2 / 512 - 1))" || { echo "iteration $i: size after resize: $out"; return 1; }
		# the initiator rescans; I/O beyond the old end then works
		echo 1 > "/sys/block/${dev#/dev/}/device/rescan"
		[ "$(blockdev --getsize64 "$dev")" = $((SZ * 2)) ] || { echo "iteration $i: rescan did not see the new size"; return 1; }
		dd if=/dev/urandom of="$TT/w.bin" bs=64k count=4 status=none
		dd if="$TT/w.bin" of="$dev" bs=64k seek=$((SZ / 65536 + 8)) oflag=direct status=none ||
			{ echo "iteration $i: write past the old end failed"; return 1; }
		cmp "$TT/w.bin" <(dd if="$dev" bs=64k skip=$((SZ / 65536 + 8)) count=4 iflag=direct status=none) ||
			{ echo "iteration $i: read back past the old end"; return 1; }
		loop_unexport "$bs" || { echo "iteration $i: unexport failed"; return 1; }
		backstore_delete "$bs" || { echo "iteration $i: delete failed"; return 1; }
		rm -f "$SCRATCH/r$i.img"
	done
	fd1=$(nfd)
	echo "$N iterations; daemon fds before $fd0, after $fd1"
	[ "$fd1" -le $((fd0 + 2)) ] || { echo "fd leak"; ls -l "/proc/$RUNNER_PID/fd"; return 1; }
	stop_runner TERM 30
}

t_many() {
	local i dev fd0 fd1
	start_runner || return 1
	fd0=$(nfd)
	: > "$TT/devs"
	for i in $(seq "$N"); do
		truncate -s $SZ "$SCRATCH/m$i.img"
		user_backstore "m$i" $SZ "file/$SCRATCH/m$i.img" || { echo "device $i: create failed"; return 1; }
	done
	for i in $(seq "$N"); do
		loop_lun "$CFS/core/user_1/m$i" >> "$TT/devs" || { echo "device $i: export failed"; return 1; }
	done
	i=0
	for dev in $(cat "$TT/devs"); do
		i=$((i + 1))
		pat "device $i" > "$TT/p.bin"
		dd if="$TT/p.bin" of="$dev" bs=64k oflag=direct status=none || { echo "device $i ($dev): write failed"; return 1; }
	done
	i=0
	for dev in $(cat "$TT/devs"); do
		i=$((i + 1))
		cmp <(pat "device $i") <(dd if="$dev" bs=64k count=1 iflag=direct status=none) ||
			{ echo "device $i ($dev) reads back wrong data"; return 1; }
	done
	echo "$N devices served, opened uio fds: $(find "/proc/$RUNNER_PID/fd" -lname '/dev/uio*' | wc -l)"
	for i in $(seq "$N"); do loop_unexport "$CFS/core/user_1/m$i" || return 1; done
	for i in $(seq "$N"); do backstore_delete "$CFS/core/user_1/m$i" || { echo "device $i: delete failed"; return 1; }; done
	fd1=$(nfd)
	echo "daemon fds before $fd0, after $fd1"
	[ "$fd1" -le $((fd0 + 2)) ] || { echo "fd leak"; ls -l "/proc/$RUNNER_PID/fd"; return 1; }
	stop_runner TERM 30
}
