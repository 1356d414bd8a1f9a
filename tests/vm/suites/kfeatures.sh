# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# kfeatures: what the booted kernel offers beyond LIO, for the 6.12 VM
# (VMKERNEL=6.12; Debian's 6.1 has no ublk, so "ublk" fails there by design):
#   ublk      ublk_drv loads and /dev/ublk-control appears
#   io_uring  liburing sets up a ring; the opcode probe (URING_CMD: ublk);
#             an O_DIRECT write, fdatasync and read through the ring
#             ($BUILD/tests/kernel/uring_probe)
#   tcmu      the daemon's file handler opens a user:file LUN with io_uring,
#             and the TCMU mailbox version/flags and the device's attributes
#             are logged (the kernel-to-kernel comparison in docs/testing.md)
TESTS="ublk io_uring tcmu"

t_ublk() {
	if ! modprobe ublk_drv; then
		echo "no ublk_drv module in kernel $(uname -r) (CONFIG_BLK_DEV_UBLK)"
		return 1
	fi
	wait_for 10 test -c /dev/ublk-control || { echo "/dev/ublk-control did not appear"; return 1; }
	ls -l /dev/ublk-control
	grep -H . /sys/module/ublk_drv/parameters/* 2>/dev/null
	return 0
}

t_io_uring() {
	local probe=$BUILD/tests/kernel/uring_probe out
	[ -x "$probe" ] || { echo "$probe not built (liburing-dev missing?)"; return 1; }
	out=$("$probe" "$SCRATCH/uring.img")
	local rc=$?
	echo "$out"
	[ $rc = 0 ] || return 1
	echo "$out" | grep -q 'URING_CMD=yes' || { echo "IORING_OP_URING_CMD unsupported"; return 1; }
}

t_tcmu() {
	local d=$CFS/core/user_1/kf0 sz=$((64 << 20)) line
	start_runner || return 1
	truncate -s $sz "$SCRATCH/kf.img"
	user_backstore kf0 $sz "file/$SCRATCH/kf.img" || return 1
	wait_for 10 grep -q 'mailbox version' "$TT/log/tcmu-runner.log" ||
		{ echo "the daemon logged no mailbox line"; return 1; }
	line=$(grep -m1 'mailbox version' "$TT/log/tcmu-runner.log")
	echo "kernel $(uname -r): $line"
	echo "module parameters:"; grep -H . /sys/module/target_core_user/parameters/* 2>/dev/null
	echo "attrib/: $(ls "$d/attrib" | tr '\n' ' ')"
	echo "info: $(tr '\n' ' ' < "$d/info" 2>/dev/null)"
	echo "$line" | grep -q 'mailbox version 2 ' || { echo "unexpected mailbox version"; return 1; }
	wait_for 10 grep -q "kf.img: [0-9]* bytes, io_uring" "$TT/log/tcmu-runner.log" ||
		{ echo "the file handler did not open the LUN with io_uring:"
		  grep 'kf.img' "$TT/log/tcmu-runner.log" | tail -n 5; return 1; }
	backstore_delete "$d" || return 1
	stop_runner
}
