#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# run-test.sh TEST HANDLER_DIR: start a loopback Ceph cluster (ceph.sh), run
# "TEST HANDLER_DIR" with CEPH_CONF set, stop the cluster.  One at a time
# per machine (the monitor's ports are fixed): serialised with flock.  When
# Ceph is not installed or does not start, this FAILS with the reason; it
# never skips.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export CEPH_DIR=${CEPH_DIR:-/var/tmp/tcmu-ceph}
[ $# -eq 2 ] || { echo "usage: $0 TEST HANDLER_DIR" >&2; exit 2; }

exec 9>"$CEPH_DIR.lock"
flock -w 600 9 || { echo "FAIL: $CEPH_DIR.lock held for 600 s"; exit 1; }
for b in ceph-mon ceph-osd ceph; do
	command -v "$b" >/dev/null || { echo "FAIL: $b is not installed (run: $HERE/ceph.sh install)"; exit 1; }
done
# A cluster left by a killed run: stop it first, so that every run starts clean.
"$HERE/ceph.sh" stop
trap '"$HERE/ceph.sh" stop' EXIT
t0=$SECONDS
if ! CEPH_CONF=$("$HERE/ceph.sh" start); then
	echo "FAIL: could not start a loopback Ceph cluster (see above)"
	exit 1
fi
echo "Ceph cluster up in $((SECONDS - t0)) s ($CEPH_CONF)"
export CEPH_CONF
"$1" "$2"
