#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# Source compatibility with upstream tcmu-runner handlers: install this build
# into a scratch DESTDIR, compile the upstream-style handler against the
# installed headers with -DTCMU_UPSTREAM_COMPAT (its source unchanged), check
# that tcmu-runner exports everything it imports, and load it with
# --dump-handler.  The same source without the opt-in must NOT compile.
#
# Usage: source-compat.sh <build dir> <handler_upstyle.c> <cc> <tcmu-runner>
set -u
BUILD=$1 SRC=$2 CC=$3 RUNNER=$4
W=$(mktemp -d "${TMPDIR:-/tmp}/tcmu-compat.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
fail=0
step() { echo "check: $*"; }
pass() { echo "  PASS: $*"; }
bad() { echo "  FAIL: $*"; fail=1; }
FLAGS="-std=gnu11 -D_GNU_SOURCE -Wall -Werror -Wimplicit-function-declaration -fPIC -shared"

step "cmake --install into DESTDIR=$W, prefix /usr/local"
if ! DESTDIR=$W cmake --install "$BUILD" --prefix /usr/local >"$W/install.log" 2>&1; then
	cat "$W/install.log"
	echo "FAIL: install"
	exit 1
fi
INC=$W/usr/local/include
for h in tcmu-runner.h tcmur_device.h scsi.h scsi_defs.h libtcmu.h; do
	if [ -f "$INC/$h" ]; then pass "$h installed"; else bad "$h not installed"; fi
done

step "compile the upstream-style handler with -DTCMU_UPSTREAM_COMPAT"
mkdir "$W/plugins" "$W/log"
SO=$W/plugins/handler_upstyle.so
# shellcheck disable=SC2086
if $CC $FLAGS -DTCMU_UPSTREAM_COMPAT -I"$INC" -o "$SO" "$SRC"; then
	pass "handler_upstyle.so built"
else
	bad "upstream-style handler does not compile"
	exit 1
fi

step "the same source without the opt-in fails (native signatures differ)"
# shellcheck disable=SC2086
if $CC $FLAGS -I"$INC" -o "$W/native.so" "$SRC" >"$W/native.log" 2>&1; then
	bad "compiled against the native API: the opt-in changes nothing"
elif grep -q 'tcmu_sense_set_data\|SENSE_BUFFERSIZE\|tcmu_iovec_seek' "$W/native.log"; then
	pass "native build refused on upstream-only names"
else
	cat "$W/native.log"
	bad "native build failed for another reason"
fi

step "every symbol it imports is exported by tcmu-runner"
nm -D --defined-only "$RUNNER" | awk '{print $3}' | sort -u >"$W/exports"
nm -D --undefined-only "$SO" | awk '$2 ~ /^tcmu/ {print $2}' | sort -u >"$W/imports"
missing=$(comm -23 "$W/imports" "$W/exports")
if [ -n "$missing" ]; then bad "not exported: $missing"; else
	pass "$(wc -l <"$W/imports") imports resolved"; fi
for s in tcmur_register_handler tcmur_cmd_complete tcmu_iovec_seek tcmu_sense_set_data; do
	grep -qx "$s" "$W/imports" || bad "handler does not import $s (test handler changed?)"
done

step "tcmu-runner loads it through the legacy registration"
if "$RUNNER" --handler-path "$W/plugins" -l "$W/log" --dump-handler upstyle >"$W/dump" 2>&1 &&
	grep -qx 'subtype=upstyle' "$W/dump" && grep -qx 'thread_model=async' "$W/dump" &&
	grep -qx 'has_handle_cmd=1' "$W/dump" && grep -qx 'has_read=1' "$W/dump"; then
	pass "--dump-handler upstyle: async, handle_cmd, read"
else
	cat "$W/dump"
	bad "--dump-handler upstyle"
fi

[ "$fail" = 0 ] && echo "PASSED" || echo "FAILED"
exit "$fail"
