# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# fbo: handler_fbo.so as Linux's sr/cdrom drivers see it (tcm_loop).
#   attach   sr attaches /dev/srN; sg_get_config lists the DVD-RAM, DVD-ROM
#            and CD-ROM profiles, DVD-RAM current
#   iso      an ISO 9660 image (xorriso) on a read-only medium mounts and
#            its files compare equal
#   ro       the read-only medium rejects a WRITE(10) with DATA PROTECT
#   udf      mkudffs on the writable medium, mount rw, write, remount, compare
#   eject    eject (no medium for the kernel), then load (eject -t): readable
#   change   a new cfgstring (attrib/dev_config) loads another image: the
#            kernel sees the new medium (its size and label)
#   admin    tcmu-stat --eject (DBus Admin1): the kernel sees no medium;
#            --load of another ISO: the kernel sees it (label, mount, files);
#            a failed --load (missing file) leaves no medium, logged; the
#            device's cfgstring follows the loads
TESTS="setup attach iso ro udf eject change admin teardown"
STAT=$BUILD/tools/tcmu-stat
T_TIMEOUT=400
SZ=$((128 << 20))

sr_list() { local d; for d in /sys/block/sr*; do [ -e "$d" ] && echo "${d##*/}"; done | sort; }

# sr_lun NAME: export user_1/NAME through tcm_loop; prints /dev/srN.
sr_lun() {
	local before new
	before=$(sr_list)
	# loop_lun waits for an sd device: give it a moment, then look for sr.
	loop_lun "$CFS/core/user_1/$1" 2 > /dev/null 2>&1
	wait_for 60 eval '[ -n "$(sr_list | grep -vxF -e "${before:-none}")" ]' || return 1
	new=$(sr_list | grep -vxF -e "${before:-none}" | head -1)
	wait_for 30 test -b "/dev/$new" || return 1
	echo "/dev/$new"
}

# mkiso NAME LABEL: an ISO 9660 image of a few files in $SCRATCH/NAME.iso
mkiso() {
	rm -rf "$TT/$1.d"; mkdir -p "$TT/$1.d/sub"
	head -c $((3 << 20)) /dev/urandom > "$TT/$1.d/big"
	date > "$TT/$1.d/sub/when"
	cp /etc/os-release "$TT/$1.d/"
	xorriso -as mkisofs -quiet -V "$2" -o "$SCRATCH/$1.iso" "$TT/$1.d" || return 1
}

wdev() { cat "$TT/wdev"; }
rdev() { cat "$TT/rdev"; }

t_setup() {
	modprobe sr_mod || return 1	# vm_init loads sd_mod only
	modprobe isofs; modprobe udf
	start_runner || return 1
	mkiso one TCMUONE && mkiso two TCMUTWO || return 1
	rm -f "$SCRATCH/w.disc"
	user_backstore w0 $SZ "fbo/$SCRATCH/w.disc" 1 hw_block_size=2048 || { runner_log_tail; return 1; }
	sr_lun w0 > "$TT/wdev" || { echo "no sr device for w0"; dmesg | tail; return 1; }
	user_backstore r0 $SZ "fbo/ro/$SCRATCH/one.iso" 1 hw_block_size=2048 || return 1
	sr_lun r0 > "$TT/rdev" || { echo "no sr device for r0"; return 1; }
	log "writable $(wdev), read-only $(rdev)"
}

t_attach() {
	local out
	sg_inq "$(wdev)" | grep -i 'device type' | grep -qi 'cd/dvd' || { sg_inq "$(wdev)"; return 1; }
	out=$(sg_get_config "$(wdev)") || return 1
	echo "$out" | head -30
	echo "$out" | grep -q 'DVD-RAM' && echo "$out" | grep -q 'DVD-ROM' &&
		echo "$out" | grep -q 'CD-ROM' || return 1
	echo "$out" | grep -i 'current profile' | grep -q 'DVD-RAM' || return 1
	sg_get_config "$(rdev)" | grep -i 'current profile' | grep -q 'DVD-ROM' || return 1
	dmesg | grep -E 'sr[0-9]|cdrom' | tail -4
}

t_iso() {
	local m=/mnt/iso
	mkdir -p $m
	mount -t iso9660 -o ro "$(rdev)" $m || { dmesg | tail; return 1; }
	diff -r "$TT/one.d" $m || { umount $m; return 1; }
	umount $m
}

t_ro() {
	local out
	head -c 2048 /dev/zero > "$TT/blk"
	out=$(sg_raw -s 2048 -i "$TT/blk" "$(rdev)" 2a 00 00 00 00 10 00 00 01 00 2>&1)
	echo "$out"
	echo "$out" | grep -qi 'data protect' || return 1
	if dd if="$TT/blk" of="$(rdev)" bs=2048 seek=16 count=1 oflag=direct status=none 2>/dev/null; then
		echo "a write to the read-only medium succeeded"; return 1
	fi
}

t_udf() {
	local m=/mnt/udf
	mkdir -p $m
	mkudffs -b 2048 --media-type=dvdram -l TCMUUDF "$(wdev)" > "$TT/mkudffs.out" 2>&1 ||
		{ cat "$TT/mkudffs.out"; return 1; }
	mount -t udf -o rw "$(wdev)" $m || { dmesg | tail; return 1; }
	head -c $((5 << 20)) /dev/urandom > "$TT/u1"
	if ! { cp "$TT/u1" $m/u1 && cp -r /etc/apt $m/apt && sync; }; then
		umount $m; return 1
	fi
	umount $m || return 1
	mount -t udf -o ro "$(wdev)" $m || return 1
	if ! { cmp "$TT/u1" $m/u1 && diff -r /etc/apt $m/apt; }; then
		umount $m; return 1
	fi
	umount $m
}

t_eject() {
	local ac=/proc/sys/dev/cdrom/autoclose rc=0
	# Opening the drive would close the tray by itself: not in this test.
	echo 0 > $ac
	eject "$(wdev)" || rc=1
	if [ $rc = 0 ] && dd if="$(wdev)" of=/dev/null bs=2048 count=1 status=none 2> "$TT/dd.err"; then
		echo "the medium is still readable after eject"; rc=1
	fi
	echo 1 > $ac
	[ $rc = 0 ] || return 1
	cat "$TT/dd.err"
	grep -qi 'no medium' "$TT/dd.err" || return 1
	eject -t "$(wdev)" || return 1
	wait_for 20 dd if="$(wdev)" of=/dev/null bs=2048 count=1 status=none || return 1
	blkid "$(wdev)" | grep -q TCMUUDF || { blkid "$(wdev)"; return 1; }
}

t_change() {
	local want
	cfs_write "fbo/ro/$SCRATCH/two.iso" "$CFS/core/user_1/r0/attrib/dev_config" 30 ||
		{ runner_log_tail; return 1; }
	want=$(stat -c %s "$SCRATCH/two.iso")
	# the next open sees the unit attention and rereads the capacity
	wait_for 20 eval '[ "$(blockdev --getsize64 "$(rdev)")" = "$want" ]' ||
		{ echo "size $(blockdev --getsize64 "$(rdev)"), want $want"; return 1; }
	blkid "$(rdev)" | grep -q TCMUTWO || { blkid "$(rdev)"; return 1; }
	grep -q "medium changed to $SCRATCH/two.iso" "$TT/log/tcmu-runner.log" || return 1
}

# no_medium DEV: reading DEV fails with "No medium found"
no_medium() {
	! dd if="$1" of=/dev/null bs=2048 count=1 status=none 2> "$TT/dd.err" &&
		grep -qi 'no medium' "$TT/dd.err"
}

# has_label DEV LABEL: the ISO label read from the medium itself (no cache)
has_label() { blkid -p -o value -s LABEL "$1" 2>/dev/null | grep -qx "$2"; }

t_admin() {
	local m=/mnt/admin out ac=/proc/sys/dev/cdrom/autoclose
	[ -x "$STAT" ] || { echo "tcmu-stat not built ($STAT)"; return 1; }
	has_label "$(rdev)" TCMUTWO || { echo "r0 should hold two.iso"; return 1; }
	# The tray is open after an eject: opening the drive would close it
	# (autoclose), which loads the same file again.  Not in this check.
	echo 0 > $ac
	"$STAT" --eject r0 || { echo 1 > $ac; runner_log_tail; return 1; }
	wait_for 20 no_medium "$(rdev)" || { echo 1 > $ac; cat "$TT/dd.err"; return 1; }
	"$STAT" --load "ro/$SCRATCH/one.iso" r0 || { echo 1 > $ac; runner_log_tail; return 1; }
	echo 1 > $ac
	wait_for 20 has_label "$(rdev)" TCMUONE || { blkid -p "$(rdev)"; return 1; }
	mkdir -p $m
	mount -t iso9660 -o ro "$(rdev)" $m || { dmesg | tail; return 1; }
	diff -r "$TT/one.d" $m || { umount $m; return 1; }
	umount $m || return 1
	"$STAT" --list r0 | grep -q "fbo/ro/$SCRATCH/one.iso\$" || { "$STAT" --list; return 1; }
	# A load that fails leaves the drive empty (not the old medium).
	if out=$("$STAT" --load "ro/$SCRATCH/missing.iso" r0 2>&1); then
		echo "a load of a missing file succeeded: $out"; return 1
	fi
	echo "$out"
	echo "$out" | grep -q "cannot load" || return 1
	wait_for 20 no_medium "$(rdev)" || { cat "$TT/dd.err"; return 1; }
	grep -q "the drive has no medium" "$TT/log/tcmu-runner.log" || return 1
	"$STAT" --list r0 | grep -q "fbo/ro/$SCRATCH/one.iso\$" || return 1
	"$STAT" --load "ro/$SCRATCH/two.iso" r0 || return 1
	wait_for 20 has_label "$(rdev)" TCMUTWO || { blkid -p "$(rdev)"; return 1; }
	# An unknown device.
	if "$STAT" --eject w0x 2> "$TT/stat.err"; then return 1; fi
	grep -q "no such device" "$TT/stat.err" || { cat "$TT/stat.err"; return 1; }
}

t_teardown() {
	local n
	for n in w0 r0; do
		loop_unexport "$CFS/core/user_1/$n" || return 1
		backstore_delete "$CFS/core/user_1/$n" || return 1
	done
	stop_runner TERM 30
}
