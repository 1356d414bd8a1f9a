# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash disable=SC2034
# integrity: fio writes with crc32c checksums and verifies them, random and
# sequential, 4k/64k/1M blocks, on two user:file LUNs at once.
TESTS="setup rand_4k seq_4k rand_64k seq_64k rand_1m seq_1m mixed_verify teardown"
SZ=$((384 << 20))
T_TIMEOUT=400

# both LUNs at once: one fio job per LUN in the same fio run
fio2() {
	local rw=$1 bs=$2 size=$3; shift 3
	timeout -k 10 "${FIO_TMO:-360}" fio --direct=1 --ioengine=libaio --iodepth=16 \
		--rw="$rw" --bs="$bs" --size="$size" --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 "$@" \
		--name=a --filename="$(sed -n 1p "$TT/devs")" \
		--name=b --filename="$(sed -n 2p "$TT/devs")" > "$TT/fio.out" 2>&1
	local rc=$?
	grep -E 'err=|verify|IOPS' "$TT/fio.out"
	[ $rc = 0 ] || tail -n 30 "$TT/fio.out"
	return $rc
}

t_setup() {
	start_runner || return 1
	: > "$TT/devs"
	for n in 0 1; do
		truncate -s $SZ "$SCRATCH/i$n.img"
		user_backstore "i$n" $SZ "file/$SCRATCH/i$n.img" || return 1
		loop_lun "$CFS/core/user_1/i$n" >> "$TT/devs" || return 1
	done
	cat "$TT/devs"
}

t_rand_4k() { fio2 randwrite 4k 12M; }
t_seq_4k() { fio2 write 4k 12M; }
t_rand_64k() { fio2 randwrite 64k 64M; }
t_seq_64k() { fio2 write 64k 64M; }
t_rand_1m() { fio2 randwrite 1M 128M; }
t_seq_1m() { fio2 write 1M 128M; }
# mixed sizes, verify while writing (reads race with writes to other blocks)
t_mixed_verify() { fio2 randrw 4k 64M --bsrange=4k-256k --rwmixread=30 --verify_backlog=256; }

t_teardown() {
	for n in 0 1; do
		loop_unexport "$CFS/core/user_1/i$n" || return 1
		backstore_delete "$CFS/core/user_1/i$n" || return 1
	done
	stop_runner TERM 30
}
