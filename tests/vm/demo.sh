#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# demo.sh: on a fresh Debian 12 machine (as root), install what is needed,
# build tcmu-runner, boot Debian's stock kernel under qemu (no KVM needed),
# start tcmu-runner inside, create a user:file LUN through configfs, run a
# little I/O through tcm_loop (sg_inq, dd, fio) and tell what happened.
# Takes a few minutes; BUILD=<dir> reuses an existing build.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
export BUILD

echo "== 1/3 installing packages (if missing) and preparing the VM kernel"
"$here/deps.sh"
"$here/setup.sh"

echo "== 2/3 building into $BUILD"
if [ ! -x "$BUILD/daemon/tcmu-runner" ] || [ "${REBUILD:-1}" = 1 ]; then
	cmake -S "$root" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "${TMPDIR:-/tmp}/demo-cmake.log" 2>&1 ||
		{ tail -30 "${TMPDIR:-/tmp}/demo-cmake.log"; exit 1; }
	make -C "$BUILD" -j"$(nproc)" > "${TMPDIR:-/tmp}/demo-make.log" 2>&1 ||
		{ grep -E 'error' "${TMPDIR:-/tmp}/demo-make.log" | head -30; exit 1; }
fi
echo "   $BUILD/daemon/tcmu-runner and $(find "$BUILD/handlers" -name 'handler_*.so' | wc -l) handler(s) built"

echo "== 3/3 booting the VM and running the demo inside (about 1-2 minutes)"
exec "$here/run.sh" "$here/demo-guest.sh" 600
