#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# run-test.sh TEST HANDLER_DIR: start a loopback Gluster volume (gluster.sh),
# run "TEST HANDLER_DIR <volume>", stop the volume.  One at a time per
# machine (port 24007 is fixed): serialised with flock.  When Gluster cannot
# be installed or started, this FAILS with the reason; it never skips.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export GLFS_DIR=${GLFS_DIR:-/var/tmp/tcmu-gluster}
export GLFS_VOL=${GLFS_VOL:-tcmu}
[ $# -eq 2 ] || { echo "usage: $0 TEST HANDLER_DIR" >&2; exit 2; }

exec 9>"$GLFS_DIR.lock"
flock -w 600 9 || { echo "FAIL: $GLFS_DIR.lock held for 600 s"; exit 1; }
if ! command -v glusterd >/dev/null; then
	echo "FAIL: glusterd is not installed (run: $HERE/gluster.sh install)"
	exit 1
fi
# A volume left by a killed run: stop it first.
"$HERE/gluster.sh" stop
trap '"$HERE/gluster.sh" stop' EXIT
if ! "$HERE/gluster.sh" start; then
	echo "FAIL: could not start a loopback Gluster volume (logs in $GLFS_DIR/log)"
	tail -20 "$GLFS_DIR/log/glusterd.log" 2>/dev/null
	exit 1
fi
GLFS_SH=$HERE/gluster.sh "$1" "$2" "$GLFS_VOL"
