# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# smoke-consumer: the libtcmu example program (examples/consumer, a RAM-backed
# "consumer" subtype) serving a LUN through tcm_loop.
TESTS="setup inquiry readcap dd_rw teardown"
SZ=$((64 << 20))

dev() { cat "$TT/dev"; }

t_setup() {
	start_consumer || return 1
	user_backstore c0 $SZ consumer/x || return 1
	loop_lun "$CFS/core/user_1/c0" > "$TT/dev" || return 1
	log "LUN $(dev)"
}

t_inquiry() {
	local out
	out=$(sg_inq "$(dev)") || return 1
	echo "$out" | head -12
	echo "$out" | grep -q 'Peripheral device type: disk'
}

t_readcap() {
	local out
	out=$(sg_readcap "$(dev)") || return 1
	echo "$out"
	echo "$out" | grep -q "Last LBA=$((SZ / 512 - 1))"
}

t_dd_rw() {
	head -c $((4 << 20)) /dev/urandom > "$TT/w.bin"
	dd if="$TT/w.bin" of="$(dev)" bs=64k seek=16 oflag=direct status=none || return 1
	dd if="$(dev)" of="$TT/r.bin" bs=64k skip=16 count=64 iflag=direct status=none || return 1
	cmp "$TT/w.bin" "$TT/r.bin"
}

t_teardown() {
	loop_unexport "$CFS/core/user_1/c0" || return 1
	backstore_delete "$CFS/core/user_1/c0" || return 1
	stop_consumer TERM 30 || { echo "consumer did not exit on SIGTERM"; return 1; }
}
