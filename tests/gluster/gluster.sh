#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# gluster.sh: a throwaway one-brick Gluster volume on loopback, for the glfs
# handler's tests (host ctest and the VM suite).  No systemd needed.
#
#   gluster.sh install      apt-get the server and libgfapi headers (if missing)
#   gluster.sh start        glusterd (127.0.0.1:24007 only) + volume $GLFS_VOL,
#                           and volume $GLFS_VOL_LK (default "${GLFS_VOL}lk")
#                           enforcing mandatory locks (fencing tests)
#   gluster.sh stop-brick   kill the brick process (glusterd stays)
#   gluster.sh start-brick  start the brick again (volume start force)
#   gluster.sh stop         stop everything by pid and remove $GLFS_DIR
#   gluster.sh host         print the brick host name (resolves to 127.0.0.1)
#
# Environment: GLFS_DIR (default /var/tmp/tcmu-gluster; the brick folder must
# be on a filesystem with extended attributes, not tmpfs), GLFS_VOL (tcmu).
# Port 24007 is fixed (bricks fetch their volfile there), so one instance per
# machine or VM: callers serialise with flock on $GLFS_DIR.lock.
set -euo pipefail

CMD=${1:-}
DIR=${GLFS_DIR:-/var/tmp/tcmu-gluster}
VOL=${GLFS_VOL:-tcmu}
VOLLK=${GLFS_VOL_LK:-${VOL}lk}

say() { echo "gluster.sh: $*" >&2; }
cli() {
	timeout 60 gluster --glusterd-sock="$DIR/run/glusterd.socket" --mode=script \
		--log-file="$DIR/log/cli.log" "$@"
}

# poll SECONDS CMD...: run CMD every 0.2 s until it succeeds.
poll() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# The CLI refuses 127.0.0.1/localhost as brick host: use a name whose only
# IPv4 address is 127.0.0.1 (the host name, else an /etc/hosts alias).
brick_host() {
	local h
	h=$(hostname)
	if [ "$(getent ahostsv4 "$h" 2>/dev/null | awk '{print $1}' | sort -u)" != 127.0.0.1 ]; then
		h=tcmu-gluster-local
		getent ahostsv4 "$h" >/dev/null 2>&1 || echo "127.0.0.1 $h" >> /etc/hosts
	fi
	echo "$h"
}

do_install() {
	if command -v glusterd >/dev/null && pkg-config --exists glusterfs-api; then
		return 0
	fi
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q \
		-o DPkg::Lock::Timeout=300 --no-install-recommends \
		glusterfs-server libglusterfs-dev >/dev/null
}

volume_online() {
	cli volume status "${1:-$VOL}" detail | grep -q 'Online.*: Y'
}

do_start() {
	command -v glusterd >/dev/null ||
		{ say "glusterd is not installed (tests/gluster/gluster.sh install)"; return 1; }
	[ -e "$DIR/run" ] && { say "$DIR in use: stop it first"; return 1; }
	mkdir -p "$DIR"/glusterd "$DIR"/run "$DIR"/log "$DIR"/bricks/b0
	cat > "$DIR/glusterd.vol" <<VOLEOF
volume management
    type mgmt/glusterd
    option working-directory $DIR/glusterd
    option run-directory $DIR/run
    option glusterd-sockfile $DIR/run/glusterd.socket
    option transport-type socket
    option transport.address-family inet
    option transport.socket.bind-address 127.0.0.1
    option transport.socket.listen-port 24007
    option transport.socket.read-fail-log off
    option ping-timeout 0
    option event-threads 1
    option base-port 49152
    option max-port 49252
end-volume
VOLEOF
	glusterd -f "$DIR/glusterd.vol" -p "$DIR/run/glusterd.pid" -l "$DIR/log/glusterd.log" ||
		{ say "glusterd failed to start (see $DIR/log/glusterd.log)"; return 1; }
	poll 120 cli volume list || { say "glusterd does not answer"; return 1; }
	cli volume create "$VOL" transport tcp "$(brick_host):$DIR/bricks/b0" force >/dev/null ||
		{ say "volume create failed"; return 1; }
	# Small network.ping-timeout: a brick that dies is noticed in seconds.
	cli volume set "$VOL" network.ping-timeout 5 >/dev/null || true
	cli volume start "$VOL" >/dev/null || { say "volume start failed"; return 1; }
	poll 120 volume_online || { say "brick not online after 120 s"; return 1; }
	# A second volume whose bricks enforce mandatory locks on files that ask
	# for it (the glfs handler's fencing): both options, set before start.
	cli volume create "$VOLLK" transport tcp "$(brick_host):$DIR/bricks/b1" force >/dev/null ||
		{ say "volume create $VOLLK failed"; return 1; }
	cli volume set "$VOLLK" network.ping-timeout 5 >/dev/null || true
	if ! cli volume set "$VOLLK" locks.mandatory-locking optimal >/dev/null ||
		! cli volume set "$VOLLK" features.enforce-mandatory-lock on >/dev/null; then
		say "mandatory-lock options on $VOLLK failed"; return 1
	fi
	cli volume start "$VOLLK" >/dev/null || { say "volume start $VOLLK failed"; return 1; }
	poll 120 volume_online "$VOLLK" || { say "$VOLLK brick not online after 120 s"; return 1; }
}

brick_pid() {
	local f
	for f in "$DIR"/run/gluster/vols/"$VOL"/*.pid "$DIR"/run/vols/"$VOL"/*.pid; do
		[ -f "$f" ] && { cat "$f"; return 0; }
	done
	pgrep -f -- "glusterfsd.*$DIR/bricks/b0" | head -1
}

do_stop_brick() {
	local p
	p=$(brick_pid)
	[ -n "$p" ] || { say "no brick process"; return 1; }
	kill -KILL "$p"
	poll 30 sh -c "! kill -0 $p"
}

do_start_brick() {
	cli volume start "$VOL" force >/dev/null
	poll 120 volume_online
}

do_stop() {
	local f p pids=()
	[ -d "$DIR" ] || return 0
	if [ -S "$DIR/run/glusterd.socket" ]; then
		cli volume stop "$VOL" force >/dev/null 2>&1 || true
		cli volume stop "$VOLLK" force >/dev/null 2>&1 || true
	fi
	while read -r f; do
		p=$(cat "$f" 2>/dev/null) || continue
		grep -qa -- "$DIR" "/proc/$p/cmdline" 2>/dev/null && pids+=("$p")
	done < <(find "$DIR/run" -name '*.pid' 2>/dev/null)
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		poll 15 sh -c "! kill -0 $p" || kill -KILL "$p" 2>/dev/null || true
	done
	rm -f "/var/log/glusterfs/bricks/$(echo "${DIR#/}/bricks/b0" | tr / -).log" \
		"/var/log/glusterfs/bricks/$(echo "${DIR#/}/bricks/b1" | tr / -).log"
	rm -rf "$DIR"
}

case "$CMD" in
install) do_install ;;
start) do_start ;;
stop) do_stop ;;
stop-brick) do_stop_brick ;;
start-brick) do_start_brick ;;
host) brick_host ;;
*) echo "usage: $0 install|start|stop|stop-brick|start-brick|host" >&2; exit 2 ;;
esac
