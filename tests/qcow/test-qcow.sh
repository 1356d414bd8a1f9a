#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# The qcow format layer against qemu-img / qemu-io, one variant at a time:
# images qemu makes are changed by qcow_tool (random writes and discards,
# mirrored on a raw file), then 'qemu-img check' must be clean and
# 'qemu-img compare' must match the mirror; qemu-io writes are read back.
# Usage: test-qcow.sh QCOW_TOOL [VARIANT...]   (exit 77: qemu-img missing)
set -u
TOOL=$(realpath "$1")
shift
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	echo "SKIP: qemu-img/qemu-io not installed (apt-get install qemu-utils)"
	exit 77
fi
T=$(mktemp -d /tmp/qcow-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILED=0
PASSED=0

fail() { echo "FAIL $CUR: $*"; FAILED=$((FAILED + 1)); return 1; }

# check IMG: no corruption and no leak (or leaks allowed with "leaks").
check() {
	local out rc
	out=$(qemu-img check "$1" 2>&1); rc=$?
	if [ "$rc" = 0 ] || { [ "${2:-}" = leaks ] && [ "$rc" = 3 ]; }; then
		return 0
	fi
	fail "qemu-img check $1 rc=$rc: $out"
}

same() {	# IMG RAW: qemu's view and ours both equal RAW
	qemu-img compare -q "$1" "$2" || { fail "qemu-img compare $1 $2 differ"; return 1; }
	"$TOOL" dump "$1" "$T/ours.raw" || { fail "dump $1"; return 1; }
	cmp -s "$T/ours.raw" "$2" || fail "our read of $1 differs from $2"
}

# mkimg NAME SIZE OPTIONS: a qcow2 image with some data qemu-io wrote.
mkimg() {
	qemu-img create -q -f qcow2 -o "$3" "$T/$1" "$2" || return 1
	qemu-io -c "write -P 0x5a 0 100k" -c "write -P 0xa5 3M 70k" "$T/$1" >/dev/null
}

roundtrip() {	# IMG OPS SEED: random ops, check, compare, qemu-io writes, compare
	local img=$1
	qemu-img convert -O raw "$img" "$T/mirror.raw" || return 1
	"$TOOL" random "$img" "$T/mirror.raw" "$2" "$3" || { fail "random ops"; return 1; }
	check "$img" && same "$img" "$T/mirror.raw" || return 1
	qemu-io -c "write -P 0x3c 1M 65k" "$img" >/dev/null
	qemu-io -f raw -c "write -P 0x3c 1M 65k" "$T/mirror.raw" >/dev/null
	same "$img" "$T/mirror.raw"
}

plain() {	# NAME SIZE OPTIONS
	mkimg "$1" "$2" "$3" && roundtrip "$T/$1" 400 "$RANDOM"
}

v_v2_64k() { plain a.qcow2 16M compat=0.10; }
v_v3_64k() { plain a.qcow2 16M compat=1.1; }
v_v2_512() { plain a.qcow2 8M compat=0.10,cluster_size=512; }
v_v3_512() { plain a.qcow2 8M cluster_size=512; }
v_v3_2m() { plain a.qcow2 64M cluster_size=2M; }
v_rc1() { plain a.qcow2 16M refcount_bits=1; }
v_rc64() { plain a.qcow2 16M refcount_bits=64; }
v_rc8_4k() { plain a.qcow2 16M refcount_bits=8,cluster_size=4k; }

# Fill every cluster of a small-cluster image: the refcount table must grow.
v_grow() {
	local o
	for o in cluster_size=512,refcount_bits=64 cluster_size=512,refcount_bits=1 \
		 compat=0.10,cluster_size=512; do
		rm -f "$T/g.qcow2"
		qemu-img create -q -f qcow2 -o "$o" "$T/g.qcow2" 24M || return 1
		head -c 24M /dev/urandom >"$T/full.raw"
		"$TOOL" load "$T/g.qcow2" "$T/full.raw" || { fail "load ($o)"; return 1; }
		check "$T/g.qcow2" && same "$T/g.qcow2" "$T/full.raw" || return 1
	done
}

# raw <- qcow2 v2 <- qcow2 v3 <- top, relative backing names.
v_chain() {
	mkdir -p "$T/sub"
	head -c 16M /dev/urandom >"$T/sub/base.raw"
	(cd "$T/sub" &&
	 qemu-img create -q -f qcow2 -o compat=0.10 -b base.raw -F raw mid1.qcow2 &&
	 qemu-io -c "write -P 0x11 2M 200k" mid1.qcow2 >/dev/null &&
	 qemu-img create -q -f qcow2 -b mid1.qcow2 -F qcow2 -o cluster_size=4k mid2.qcow2 &&
	 qemu-io -c "write -P 0x22 5M 9k" mid2.qcow2 >/dev/null &&
	 qemu-img create -q -f qcow2 -b mid2.qcow2 -F qcow2 top.qcow2) || return 1
	cp "$T/sub/base.raw" "$T/base.copy"
	# Run from elsewhere: names resolve against the image's folder.
	(cd / && roundtrip "$T/sub/top.qcow2" 400 "$RANDOM") || return 1
	cmp -s "$T/sub/base.raw" "$T/base.copy" || fail "backing file changed"
	check "$T/sub/mid1.qcow2" && check "$T/sub/mid2.qcow2"
	# Discard over a backing file: zero clusters (v3), reads as zero.
	"$TOOL" discard "$T/sub/top.qcow2" 0 4194304 || { fail discard; return 1; }
	qemu-img convert -O raw "$T/sub/top.qcow2" "$T/m2.raw"
	cmp -s -n 4194304 "$T/m2.raw" /dev/zero || fail "discarded range not zero"
	check "$T/sub/top.qcow2"
}

v_compressed() {
	mkimg src.qcow2 16M compat=1.1 || return 1
	head -c 4M /dev/urandom | tr -d '\000-\077' | head -c 2M >"$T/p"
	qemu-io -c "write -P 0x77 6M 1M" "$T/src.qcow2" >/dev/null
	qemu-img convert -q -c -O qcow2 "$T/src.qcow2" "$T/c.qcow2" || return 1
	qemu-img check --output=json "$T/c.qcow2" | grep -q '"compressed-clusters": [1-9]' ||
		{ fail "qemu made no compressed cluster"; return 1; }
	qemu-img convert -O raw "$T/src.qcow2" "$T/src.raw"
	same "$T/c.qcow2" "$T/src.raw" && roundtrip "$T/c.qcow2" 400 "$RANDOM"
}

v_snapshots() {
	mkimg s.qcow2 16M compat=1.1 || return 1
	qemu-img convert -O raw "$T/s.qcow2" "$T/A.raw"
	qemu-img snapshot -c one "$T/s.qcow2" || return 1
	cp "$T/A.raw" "$T/mirror.raw"
	"$TOOL" random "$T/s.qcow2" "$T/mirror.raw" 300 "$RANDOM" || { fail random; return 1; }
	cp "$T/mirror.raw" "$T/B.raw"
	qemu-img snapshot -c two "$T/s.qcow2" || return 1
	"$TOOL" random "$T/s.qcow2" "$T/mirror.raw" 300 "$RANDOM" || { fail random; return 1; }
	check "$T/s.qcow2" && same "$T/s.qcow2" "$T/mirror.raw" || return 1
	qemu-img snapshot -a one "$T/s.qcow2" && same "$T/s.qcow2" "$T/A.raw" || return 1
	qemu-img snapshot -a two "$T/s.qcow2" && same "$T/s.qcow2" "$T/B.raw" || return 1
	qemu-img snapshot -d one "$T/s.qcow2" && check "$T/s.qcow2"
}

v_v2_snapshots() {
	mkimg s.qcow2 8M compat=0.10,cluster_size=4k || return 1
	qemu-img convert -O raw "$T/s.qcow2" "$T/A.raw"
	qemu-img snapshot -c one "$T/s.qcow2" || return 1
	roundtrip "$T/s.qcow2" 300 "$RANDOM" || return 1
	qemu-img snapshot -a one "$T/s.qcow2" && same "$T/s.qcow2" "$T/A.raw"
}

v_discard() {
	local before after
	qemu-img create -q -f qcow2 "$T/d.qcow2" 16M || return 1
	head -c 16M /dev/urandom >"$T/full.raw"
	"$TOOL" load "$T/d.qcow2" "$T/full.raw" || return 1
	before=$(du -k "$T/d.qcow2" | cut -f1)
	"$TOOL" discard "$T/d.qcow2" 1000 12000000 || { fail discard; return 1; }
	dd if=/dev/zero of="$T/full.raw" bs=1000 seek=1 count=12000 conv=notrunc status=none
	check "$T/d.qcow2" && same "$T/d.qcow2" "$T/full.raw" || return 1
	after=$(du -k "$T/d.qcow2" | cut -f1)
	[ "$("$TOOL" status "$T/d.qcow2")" -le $((16 * 1048576 - 11 * 1048576)) ] ||
		fail "status still counts the discarded clusters"
	echo "  du before ${before}K after ${after}K"
	[ "$after" -lt "$before" ] || fail "discard returned no space (du ${before}K -> ${after}K)"
	# Freed clusters are reused.
	"$TOOL" load "$T/d.qcow2" "$T/full.raw" && check "$T/d.qcow2" || return 1
	same "$T/d.qcow2" "$T/full.raw"
}

v_threads() {
	qemu-img create -q -f qcow2 -o cluster_size=4k "$T/p.qcow2" 32M || return 1
	qemu-img convert -O raw "$T/p.qcow2" "$T/mirror.raw"
	"$TOOL" threads "$T/p.qcow2" "$T/mirror.raw" 4 "$RANDOM" || { fail threads; return 1; }
	check "$T/p.qcow2" && same "$T/p.qcow2" "$T/mirror.raw"
}

# Threads race for the first write of each cluster (each writes its own
# sectors of it): every sector must land, no cluster may be allocated twice
# (a leak): fresh clusters in v3 and v2 images, and copy-up from a backing file.
v_interleave() {
	local o
	for o in cluster_size=4k cluster_size=64k compat=0.10,cluster_size=4k; do
		qemu-img create -q -f qcow2 -o "$o" "$T/i.qcow2" 16M || return 1
		qemu-img convert -O raw "$T/i.qcow2" "$T/mirror.raw"
		"$TOOL" interleave "$T/i.qcow2" "$T/mirror.raw" 4 "$RANDOM" ||
			{ fail "interleave $o"; return 1; }
		check "$T/i.qcow2" && same "$T/i.qcow2" "$T/mirror.raw" || return 1
	done
	# Copy-up: a backing file full of data, so every first write reads it.
	qemu-img create -q -f qcow2 -o cluster_size=4k "$T/ib.qcow2" 16M || return 1
	qemu-io -c "write -P 0x5a 0 16M" "$T/ib.qcow2" >/dev/null || return 1
	qemu-img create -q -f qcow2 -o cluster_size=4k -b ib.qcow2 -F qcow2 "$T/i.qcow2" || return 1
	qemu-img convert -O raw "$T/i.qcow2" "$T/mirror.raw"
	"$TOOL" interleave "$T/i.qcow2" "$T/mirror.raw" 4 "$RANDOM" ||
		{ fail "interleave over a backing file"; return 1; }
	check "$T/i.qcow2" && same "$T/i.qcow2" "$T/mirror.raw"
}

# grow_one NAME SIZE NEWSIZE OPTIONS [snapshot]: qemu-io data (and a snapshot
# of it), grow with qimg_grow, then qemu-img check clean, qemu-img info gives
# the new size, the data and a zero new area compare equal, and random writes
# all over the new size round-trip.
grow_one() {
	local vs new
	new=$(numfmt --from=iec "$3")
	mkimg "$1" "$2" "$4" || return 1
	[ -z "${5:-}" ] || qemu-img snapshot -c one "$T/$1" || return 1
	qemu-img convert -O raw "$T/$1" "$T/grow.raw" || return 1
	"$TOOL" grow "$T/$1" "$new" || { fail "grow $1 ($4) to $3"; return 1; }
	truncate -s "$new" "$T/grow.raw"
	vs=$(qemu-img info --output=json "$T/$1" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
	[ "$vs" = "$new" ] || { fail "qemu-img info: size $vs after growing $1 to $new"; return 1; }
	check "$T/$1" && same "$T/$1" "$T/grow.raw" && roundtrip "$T/$1" 300 "$RANDOM"
}

# Growing the virtual size (LUN resize): L1 table relocated (512 B and 4 KiB
# clusters), grown in place (64 KiB), 1-bit refcounts, a v2 image, an image
# with a snapshot, an old size that ends inside a cluster; shrinking and a
# bigger backing file are refused; a raw file is extended.
v_resize() {
	local out
	grow_one a.qcow2 8M 24M cluster_size=512 || return 1
	grow_one b.qcow2 8M 20M cluster_size=512,refcount_bits=1 || return 1
	grow_one c.qcow2 8M 40M compat=0.10,cluster_size=4k || return 1
	grow_one d.qcow2 16M 1100M cluster_size=4k || return 1
	grow_one e.qcow2 16M 64M compat=1.1 || return 1
	grow_one f.qcow2 4000256 6M cluster_size=64k || return 1
	grow_one s.qcow2 8M 16M cluster_size=512 snapshot || return 1
	out=$("$TOOL" grow "$T/a.qcow2" 8388608 2>&1) && { fail "shrink accepted"; return 1; }
	grep -q "shrinking" <<<"$out" || { fail "shrink refused without the reason: $out"; return 1; }
	head -c 16M /dev/urandom >"$T/base.raw"
	qemu-img create -q -f qcow2 -b "$T/base.raw" -F raw "$T/top.qcow2" 8M || return 1
	out=$("$TOOL" grow "$T/top.qcow2" 33554432 2>&1) &&
		{ fail "grow over a bigger backing file accepted"; return 1; }
	grep -q "backing file" <<<"$out" || { fail "no reason given: $out"; return 1; }
	head -c 4M /dev/urandom >"$T/r.img"
	"$TOOL" grow "$T/r.img" 8388608 || { fail "raw grow"; return 1; }
	[ "$(stat -c %s "$T/r.img")" = 8388608 ] || fail "raw file not extended"
}

v_raw() {
	head -c 4M /dev/urandom >"$T/r.img"
	cp "$T/r.img" "$T/mirror.raw"
	"$TOOL" random "$T/r.img" "$T/mirror.raw" 100 "$RANDOM" || { fail random; return 1; }
	cmp -s "$T/r.img" "$T/mirror.raw" || fail "raw image differs"
}

# zstd-compressed clusters (v3 compression_type 1): read, then rewritten on
# write, when built with libzstd; refused with a message naming zstd otherwise.
v_zstd() {
	local out
	if ! qemu-img create -q -f qcow2 -o compression_type=zstd "$T/z.qcow2" 16M 2>/dev/null; then
		echo "  SKIP zstd: this qemu-img cannot make zstd images"
		return 0
	fi
	qemu-io -c "write -P 0x5a 0 100k" -c "write -c -P 0x11 4M 64k" -c "write -c -P 0x12 6M 64k" \
		"$T/z.qcow2" >/dev/null || return 1
	if ! out=$("$TOOL" open "$T/z.qcow2" 2>&1); then
		grep -q zstd <<<"$out" || fail "zstd image refused without naming zstd: $out"
		echo "  zstd image refused (built without libzstd): $out"
		return 0
	fi
	qemu-img check --output=json "$T/z.qcow2" | grep -q '"compressed-clusters": [1-9]' ||
		{ fail "qemu made no compressed cluster"; return 1; }
	qemu-img convert -O raw "$T/z.qcow2" "$T/z.raw"
	same "$T/z.qcow2" "$T/z.raw" && roundtrip "$T/z.qcow2" 300 "$RANDOM"
}

# qcow version 1 (no qemu-img check for it: compare only), with compressed
# clusters written by qemu-io and a backing file.
v_v1() {
	local i
	qemu-img create -q -f qcow "$T/v1.qcow" 16M || return 1
	qemu-io -f qcow -c "write -P 0x5a 0 100k" -c "write -c -P 0x11 4M 4k" \
		-c "write -c -P 0x12 5M 4k" "$T/v1.qcow" >/dev/null || return 1
	qemu-img convert -O raw "$T/v1.qcow" "$T/mirror.raw"
	same "$T/v1.qcow" "$T/mirror.raw" || return 1
	"$TOOL" random "$T/v1.qcow" "$T/mirror.raw" 400 "$RANDOM" || { fail "random ops"; return 1; }
	same "$T/v1.qcow" "$T/mirror.raw" || return 1
	qemu-io -f qcow -c "write -P 0x3c 1M 65k" "$T/v1.qcow" >/dev/null
	qemu-io -f raw -c "write -P 0x3c 1M 65k" "$T/mirror.raw" >/dev/null
	same "$T/v1.qcow" "$T/mirror.raw" || return 1
	# v1 over a raw backing file, relative name
	head -c 8M /dev/urandom >"$T/b.raw"
	(cd "$T" && qemu-img create -q -f qcow -b b.raw -F raw top.qcow) || return 1
	cp "$T/b.raw" "$T/mirror.raw"
	"$TOOL" random "$T/top.qcow" "$T/mirror.raw" 200 "$RANDOM" || { fail "random ops"; return 1; }
	same "$T/top.qcow" "$T/mirror.raw"
	i=$("$TOOL" open "$T/top.qcow")
	grep -q "qcow v1" <<<"$i" || fail "description: $i"
}

# kill -9 during writes, 5 times: leaks at most, acknowledged data intact
v_crash() {
	local i pid
	qemu-img create -q -f qcow2 -o cluster_size=4k "$T/k.qcow2" 16M || return 1
	qemu-img convert -O raw "$T/k.qcow2" "$T/mirror.raw"
	for i in 1 2 3 4 5; do
		qemu-img snapshot -c "s$i" "$T/k.qcow2" 2>/dev/null
		"$TOOL" random "$T/k.qcow2" "$T/mirror.raw" 100000 "$RANDOM" 2>/dev/null &
		pid=$!
		sleep 0.$((RANDOM % 9 + 1))
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		check "$T/k.qcow2" leaks || return 1
		qemu-img check -q -r leaks "$T/k.qcow2" >/dev/null 2>&1
		"$TOOL" open "$T/k.qcow2" >/dev/null || { fail "reopen after kill"; return 1; }
	done
}

# Images to refuse (and the corrupt bit: read-only).
poke() { printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
v_refuse() {
	local out
	refused() {	# IMG PATTERN
		if out=$("$TOOL" open "$1" 2>&1); then
			fail "$1 opened: $out"
		elif ! grep -qi -- "$2" <<<"$out"; then
			fail "$1 refused without '$2': $out"
		fi
	}
	qemu-img create -q -f qcow2 "$T/x.qcow2" 1M
	cp "$T/x.qcow2" "$T/dirty.qcow2"; poke "$T/dirty.qcow2" 79 '\001'
	refused "$T/dirty.qcow2" "dirty"
	cp "$T/x.qcow2" "$T/unk.qcow2"; poke "$T/unk.qcow2" 78 '\001'
	refused "$T/unk.qcow2" "unknown incompatible"
	cp "$T/x.qcow2" "$T/enc.qcow2"; poke "$T/enc.qcow2" 35 '\001'
	refused "$T/enc.qcow2" "encrypt"
	qemu-img create -q -f qcow2 -o extended_l2=on "$T/ext.qcow2" 1M
	refused "$T/ext.qcow2" "extended L2"
	qemu-img create -q -f qcow2 -o data_file="$T/data.raw" "$T/df.qcow2" 1M
	refused "$T/df.qcow2" "external data"
	cp "$T/x.qcow2" "$T/cl.qcow2"; poke "$T/cl.qcow2" 23 '\026'
	refused "$T/cl.qcow2" "cluster_bits"
	cp "$T/x.qcow2" "$T/l1.qcow2"; poke "$T/l1.qcow2" 40 '\177'
	refused "$T/l1.qcow2" "L1 table"
	cp "$T/x.qcow2" "$T/corrupt.qcow2"; poke "$T/corrupt.qcow2" 79 '\002'
	out=$("$TOOL" open "$T/corrupt.qcow2" 2>&1) || fail "corrupt image not opened: $out"
	grep -q "read-only" <<<"$out" || fail "corrupt image not read-only: $out"
	head -c 1M /dev/zero >"$T/m.raw"
	"$TOOL" random "$T/corrupt.qcow2" "$T/m.raw" 1 1 2>&1 | grep -q "file system" ||
		fail "write to a corrupt image not refused with EROFS"
}

# extents IMG OFF LEN BYTE WANT: qcow_tool extents prints WANT (the fast
# path's extents for the write and the read, i.e. io_uring SQEs), its data
# read back right on both paths, and qemu-io reads the same bytes.
extents() {
	local out
	out=$("$TOOL" extents "$1" "$2" "$3" "$4" 2>&1) || { fail "extents $*: $out"; return 1; }
	[ "$out" = "$5" ] || { fail "extents $1 $2 $3: got '$out', want '$5'"; return 1; }
	qemu-io -c "read -P $4 $2 $3" "$1" | grep -q "^read $3/$3 " ||
		fail "qemu-io does not read $4 at $2+$3 of $1"
}

# Host clusters that follow each other in the file move in one vectored I/O
# (one SQE) however many clusters the I/O spans; scattered ones take one
# extent each, and past 16 extents the command goes to a worker.
v_extents() {
	qemu-img create -q -f qcow2 -o preallocation=full "$T/p.qcow2" 4M || return 1
	extents "$T/p.qcow2" 1048576 1048576 0x6b "write=1 read=1" &&
		extents "$T/p.qcow2" 66048 1048576 0x2d "write=1 read=1" && check "$T/p.qcow2" || return 1
	qemu-img create -q -f qcow2 -o preallocation=full,cluster_size=2M "$T/q.qcow2" 8M || return 1
	extents "$T/q.qcow2" 1572864 1048576 0x6b "write=1 read=1" && check "$T/q.qcow2" || return 1
	# 17 clusters from 1 MiB allocated last to first: no two follow in the file.
	qemu-img create -q -f qcow2 "$T/f.qcow2" 4M || return 1
	for i in $(seq 16 -1 0); do
		qemu-io -c "write -P 1 $((1048576 + i * 65536)) 64k" "$T/f.qcow2" >/dev/null || return 1
	done
	extents "$T/f.qcow2" 1048576 1048576 0x6b "write=16 read=16" &&
		extents "$T/f.qcow2" 1048576 1114112 0x5e "write=none read=none" &&
		extents "$T/f.qcow2" 1114112 131072 0x3c "write=2 read=2" && check "$T/f.qcow2"
}

ALL="v2_64k v3_64k v2_512 v3_512 v3_2m rc1 rc64 rc8_4k grow chain compressed snapshots
v2_snapshots discard threads interleave resize raw v1 zstd crash refuse extents"
# shellcheck disable=SC2086 # the list splits on purpose
[ $# -gt 0 ] || set -- $ALL
for CUR in "$@"; do
	before=$FAILED
	"v_$CUR"
	rc=$?
	if [ "$FAILED" = "$before" ] && [ "$rc" != 0 ]; then
		fail "setup step failed (rc $rc)"
	fi
	if [ "$FAILED" = "$before" ]; then
		echo "PASS $CUR"
		PASSED=$((PASSED + 1))
	fi
	rm -rf "${T:?}"/*
done
echo "qcow variants: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
