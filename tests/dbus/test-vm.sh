#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Description: opt-in (TCMU_VM_TESTS=1) end-to-end run of vm-guest-dbus.sh in
# the tests/vm qemu guest: real kernel, system bus, targetcli and tcmu-stat.
# Usage: test-vm.sh <source dir> <build dir>
set -u
SRC=$1
BUILD=$2
if [ "${TCMU_VM_TESTS:-0}" != 1 ]; then
	echo "SKIP: set TCMU_VM_TESTS=1 to boot a VM (about 2 minutes)"
	exit 77
fi
[ -x "$SRC/tests/vm/run.sh" ] || { echo "SKIP: no tests/vm/run.sh"; exit 77; }
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "SKIP: no qemu"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
VMQUIET=1 VMOUT=$out BUILD=$BUILD "$SRC/tests/vm/run.sh" \
	"$SRC/tests/dbus/vm-guest-dbus.sh" 600
rc=$?
cat "$out/guest.log" 2>/dev/null
[ $rc -eq 0 ] || { echo "guest failed (rc=$rc)"; exit 1; }
exit 0
