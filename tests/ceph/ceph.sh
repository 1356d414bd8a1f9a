#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# ceph.sh: a throwaway single-node Ceph cluster on loopback for the rbd
# handler's tests (host ctest and the VM suite): one monitor and one memstore
# OSD (RAM-backed), no mgr unless CEPH_MGR=1, no authentication, no systemd.
#
#   ceph.sh install   apt-get the daemons and librbd headers (if missing)
#   ceph.sh start     a fresh cluster in $CEPH_DIR with pool "rbd" ready;
#                     does nothing when one is already up there
#   ceph.sh stop      stop the daemons by pid (OSD first) and remove $CEPH_DIR
#   ceph.sh conf      print the path clients use as CEPH_CONF
#
# Environment: CEPH_DIR (default /var/tmp/tcmu-ceph; keep it short, the admin
# socket paths must stay under 107 bytes), CEPH_MEM (OSD capacity in bytes,
# default 1 GiB of RAM), CEPH_MGR=1 (also start ceph-mgr: needed to see the
# service map, costs ~300 MB and several seconds).
# Listens on 127.0.0.1 only: ports 3300 and 6789 (monitor), 6800-6809 (OSD),
# so one cluster per machine or VM; callers serialise with flock on
# $CEPH_DIR.lock.  Every failure prints its reason and the relevant log tail.
set -euo pipefail

CMD=${1:-}
DIR=${CEPH_DIR:-/var/tmp/tcmu-ceph}
MEM=${CEPH_MEM:-1073741824}
CONF=$DIR/ceph.conf
export CEPH_CONF=$CONF

say() { echo "ceph.sh: $*" >&2; }
die() {
	say "$1"
	shift
	local f
	for f in "$@"; do
		[ -f "$f" ] && { say "--- tail of $f"; tail -15 "$f" >&2; }
	done
	exit 1
}

# poll SECONDS CMD...: run CMD every 0.3 s until it succeeds.
poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.3
	done
}

ceph_cli() { timeout 30 ceph --connect-timeout 20 "$@"; }

do_install() {
	local p need=""
	for p in ceph-mon ceph-osd ceph-common librbd-dev librados-dev uuid-runtime; do
		dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
	done
	[ -z "$need" ] && return 0
	say "installing$need"
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q \
		--no-install-recommends $need >/dev/null
}

write_conf() {
	cat > "$CONF" <<EOF
[global]
fsid = $1
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
mon cluster log file = $DIR/log/cluster.log
crash dir = $DIR/log/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = $DIR/mon
# map changes are committed every 0.1 s instead of every second: each osdmap
# epoch of the bring-up would otherwise cost a second
paxos propose interval = 0.1
paxos min wait = 0.01

[mgr]
mgr data = $DIR/mgr

[osd]
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = $MEM
osd crush initial weight = 1
osd op num shards = 2
osd op num threads per shard = 1
EOF
}

# Is the cluster in $DIR up: monitor answering, osd.0 up?
is_up() {
	[ -f "$CONF" ] && ceph_cli osd dump 2>/dev/null | grep -q '^osd.0 up'
}

do_start() {
	local fsid ouuid id
	command -v ceph-mon >/dev/null || die "ceph-mon is not installed (run: $0 install)"
	command -v ceph-osd >/dev/null || die "ceph-osd is not installed (run: $0 install)"
	if [ -e "$DIR/run" ]; then
		if is_up; then
			say "cluster already up in $DIR"
			echo "$CONF"
			return 0
		fi
		say "removing a dead cluster left in $DIR"
		do_stop
	fi
	# The OSD needs a host name for its crush location.
	case "$(hostname 2>/dev/null)" in
	"" | "(none)" | localhost)
		die "this machine has no host name: the OSD would fail to register (mon_cmd_maybe_osd_create: Invalid argument)"
		;;
	esac
	mkdir -p "$DIR"/{mon,osd,mgr,run,log}
	fsid=$(uuidgen)
	write_conf "$fsid"
	monmaptool --create --clobber --fsid "$fsid" \
		--addv a "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]" "$DIR/monmap" >/dev/null ||
		die "monmaptool failed"
	ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring /dev/null \
		> "$DIR/log/mon-mkfs.out" 2>&1 || die "ceph-mon --mkfs failed" "$DIR/log/mon-mkfs.out"
	ceph-mon -i a > "$DIR/log/mon-start.out" 2>&1 ||
		die "ceph-mon did not start" "$DIR/log/mon-start.out" "$DIR/log/mon.a.log"
	poll 90 ceph_cli mon stat ||
		die "the monitor does not answer on 127.0.0.1:3300 (is the port taken? ss -ltnp)" \
			"$DIR/log/mon.a.log"
	# clone v2, as on clusters created since mimic
	ceph_cli osd set-require-min-compat-client mimic >> "$DIR/log/setup.out" 2>&1 ||
		die "set-require-min-compat-client failed" "$DIR/log/setup.out"
	if [ "${CEPH_MGR:-0}" = 1 ]; then
		ceph-mgr -i x >> "$DIR/log/setup.out" 2>&1 || die "ceph-mgr did not start" "$DIR/log/setup.out"
	fi
	# The pool before the OSD: its PGs are created as the OSD boots.
	{ ceph_cli osd pool create rbd 8 8 && ceph_cli osd pool application enable rbd rbd; } \
		>> "$DIR/log/setup.out" 2>&1 || die "cannot create pool rbd" "$DIR/log/setup.out"
	ouuid=$(uuidgen)
	id=$(ceph_cli osd new "$ouuid" 2>> "$DIR/log/setup.out") ||
		die "ceph osd new failed" "$DIR/log/setup.out"
	ceph-osd -i "$id" --mkfs --osd-uuid "$ouuid" > "$DIR/log/osd-mkfs.out" 2>&1 ||
		die "ceph-osd --mkfs failed" "$DIR/log/osd-mkfs.out"
	ceph-osd -i "$id" > "$DIR/log/osd-start.out" 2>&1 ||
		die "ceph-osd did not start" "$DIR/log/osd-start.out" "$DIR/log/osd.$id.log"
	poll 180 sh -c "ceph --connect-timeout 20 osd dump 2>/dev/null | grep -q '^osd.$id up'" ||
		die "osd.$id did not come up" "$DIR/log/osd.$id.log"
	poll 120 timeout 20 rbd pool init rbd || die "rbd pool init failed" "$DIR/log/osd.$id.log"
	if [ "${CEPH_MGR:-0}" = 1 ]; then
		poll 120 sh -c "ceph --connect-timeout 20 mgr stat | grep -q '\"available\": true'" ||
			die "ceph-mgr did not become available" "$DIR/log/mgr.x.log"
	fi
	echo "$CONF"
}

# stop_pids PIDFILE...: SIGTERM each live ceph daemon named, wait up to 15 s, then SIGKILL.
stop_pids() {
	local f pid pids=() i
	for f in "$@"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		# a stale pid file may name another process: check it is ours
		grep -qa -- "ceph-" "/proc/$pid/cmdline" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	for pid in "${pids[@]}"; do
		for i in $(seq 150); do
			kill -0 "$pid" 2>/dev/null || break
			[ "$i" = 150 ] && kill -KILL "$pid" 2>/dev/null
			sleep 0.1
		done
	done
	return 0
}

do_stop() {
	[ -d "$DIR" ] || return 0
	# OSD first: an OSD whose monitor is gone waits 5 s before it exits
	stop_pids "$DIR"/run/osd.*.pid
	stop_pids "$DIR"/run/mgr.*.pid "$DIR"/run/mon.*.pid
	rm -rf "$DIR"
}

case "$CMD" in
install) do_install ;;
start) do_start ;;
stop) do_stop ;;
conf) echo "$CONF" ;;
*)
	echo "usage: $0 install|start|stop|conf" >&2
	exit 2
	;;
esac
