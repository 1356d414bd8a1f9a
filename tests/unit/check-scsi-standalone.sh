#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# The SCSI engine's archive must stand on libtcmu alone: fail when one of
# its objects needs a daemon symbol (tcmur_*) or includes a daemon header.
# Usage: check-scsi-standalone.sh <libtcmu_scsi_engine.a>
set -u
lib=${1:?usage: $0 libtcmu_scsi_engine.a}
src=$(dirname "$0")/../../scsi

if ! command -v nm >/dev/null 2>&1; then
	echo "SKIP: nm not found"
	exit 77
fi
if [ ! -s "$lib" ]; then
	echo "FAIL: $lib missing or empty"
	exit 1
fi
syms=$(nm -u "$lib") || { echo "FAIL: nm -u $lib"; exit 1; }
if [ -z "$syms" ]; then
	echo "FAIL: nm -u listed nothing: not an archive of objects?"
	exit 1
fi
bad=$(printf '%s\n' "$syms" | awk '$NF ~ /^tcmur_/ { print $NF }' | sort -u)
if [ -n "$bad" ]; then
	echo "FAIL: the SCSI engine needs daemon symbols:"
	printf '%s\n' "$bad" | sed 's/^/  /'
	exit 1
fi
inc=$(grep -n '#include *"\(\.\./\)*daemon/\|#include *"daemon.h"\|#include *"dbus.h"' \
	"$src"/*.c "$src"/*.h)
if [ -n "$inc" ]; then
	echo "FAIL: the SCSI engine includes daemon headers:"
	echo "$inc"
	exit 1
fi
echo "PASS: $(printf '%s\n' "$syms" | awk 'NF { print $NF }' | sort -u | wc -l) undefined" \
	"symbols in $(basename "$lib"), none tcmur_*"
