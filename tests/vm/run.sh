#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# run.sh GUEST_SCRIPT [TIMEOUT_S]
#   Boot the cached Debian kernel (see setup.sh) under qemu and run
#   GUEST_SCRIPT with bash as root inside.  The guest sees this machine's root
#   filesystem read-only with a tmpfs overlay, so every host binary (the
#   build tree, fio, sg3_utils, iscsi-test-cu) is available at the same path.
#
# Environment:
#   VMOUT    per-run output folder (default: a new mktemp folder); receives
#            guest.log, console.log, dmesg.log, rc and anything the guest
#            writes to /vmout.  Several runs may go on at once, each with its
#            own VMOUT.
#   VMKERNEL 6.1 (default) or 6.12: the Debian kernel to boot (kernel.sh)
#   VMCACHE  kernel/initramfs cache (default /var/tmp/tcmu-vm)
#   VMMEM    guest RAM in MiB (default 4096); VMCPUS (default 2)
#   VMCPU    qemu CPU model for TCG (default: qemu's own, qemu64); "max" for
#            guests running Ceph (ceph-mon dies of SIGILL on qemu64)
#   VM_ENV   names of extra environment variables to pass into the guest
#            (BUILD and TESTS_VM are always passed)
#   VMACCEL  tcg (default) or kvm
#   VMQUIET  set to 1 to not stream guest.log while the guest runs
#
# Exit status: the guest script's, 124 if the VM hit TIMEOUT_S (default 900),
# 125 if the VM died without a status.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/kernel.sh
. "$here/kernel.sh"
export VMKERNEL
[ $# -ge 1 ] || { echo "usage: $0 GUEST_SCRIPT [TIMEOUT_S]" >&2; exit 2; }
G=$(readlink -f "$1")
T=${2:-900}
[ -f "$G" ] || { echo "run.sh: no such guest script: $1" >&2; exit 2; }
if [ ! -f "$KC/initrd.gz" ] || [ ! -d "$KC/k/boot" ]; then
	"$here/setup.sh" || exit 2
fi
KV=$(cat "$KC/kver" 2>/dev/null || ls "$KC/k/lib/modules")

if [ -n "${VMOUT:-}" ]; then
	mkdir -p "$VMOUT"
	VMOUT=$(cd "$VMOUT" && pwd)
	rm -f "$VMOUT/guest.log" "$VMOUT/rc" "$VMOUT/dmesg.log" "$VMOUT/console.log"
else
	VMOUT=$(mktemp -d "${TMPDIR:-/tmp}/tcmu-vm-run.XXXXXX")
fi
chmod 777 "$VMOUT"

BUILD=${BUILD:-$(cd "$here/../.." && pwd)/build}
TESTS_VM=$here
export BUILD TESTS_VM
: > "$VMOUT/env"
for v in BUILD TESTS_VM ${VM_ENV:-}; do
	eval "isset=\${$v+x}"
	# shellcheck disable=SC2154 # isset is assigned by eval
	[ -n "$isset" ] || continue
	eval "val=\$$v"
	# shellcheck disable=SC2154 # val is assigned by eval
	q=$(printf '%s' "$val" | sed "s/'/'\\\\''/g")
	printf "export %s='%s'\n" "$v" "$q" >> "$VMOUT/env"
done
: > "$VMOUT/guest.log"

# TCG by default: on the CI machines /dev/kvm exists but nested KVM does not
# get through the firmware.  VMACCEL=kvm to try it where it works.
accel="-accel ${VMACCEL:-tcg}"
[ -n "${VMCPU:-}" ] && accel="$accel -cpu $VMCPU"
[ "${VMACCEL:-tcg}" = kvm ] && accel="-accel kvm -cpu host"

# shellcheck disable=SC2086 # $accel holds several words
timeout -k 10 "$T" qemu-system-x86_64 $accel -m "${VMMEM:-4096}" \
	-smp "${VMCPUS:-2}" -nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$KC/k/boot/vmlinuz-$KV" -initrd "$KC/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 log_buf_len=8M GUEST=$G KMODDIR=$KC/k/lib/modules/$KV" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$VMOUT",mount_tag=out,security_model=none \
	-device virtio-rng-pci < /dev/null > "$VMOUT/console.log" 2>&1 &
qpid=$!
tpid=""
if [ "${VMQUIET:-0}" != 1 ]; then
	tail -n +1 --pid="$qpid" -F "$VMOUT/guest.log" 2>/dev/null &
	tpid=$!
fi
wait "$qpid"
qrc=$?
if [ -n "$tpid" ]; then
	# tail notices qemu's exit within a second; give it that.
	sleep 1.2
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
fi
if [ -s "$VMOUT/rc" ]; then
	rc=$(cat "$VMOUT/rc")
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run.sh: VM timed out after ${T}s (console: $VMOUT/console.log)" >&2
	rc=124
else
	echo "run.sh: VM ended without a guest status (qemu rc=$qrc, console: $VMOUT/console.log)" >&2
	tail -n 20 "$VMOUT/console.log" >&2
	rc=125
fi
echo "VM rc=$rc out=$VMOUT"
exit "$rc"
