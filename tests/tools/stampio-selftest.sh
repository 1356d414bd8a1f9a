#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# stampio's own test, on a plain file: a clean run verifies; a zeroed block
# and a block put back to an older stamp (stale data) are both reported.
# Usage: stampio-selftest.sh STAMPIO
set -u
S=$1
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

truncate -s 1M "$D/img"
"$S" write "$D/img" "$D/ack" -b 64 -n > "$D/w.out" &
W=$!
acks() { grep -c '^ack' "$D/ack" 2>/dev/null || echo 0; }
# Wait for writes, snapshot, then wait until every block was rewritten twice.
wait_acks() {
	local n=0
	while [ "$n" -lt 300 ]; do
		[ "$(acks)" -ge "$1" ] && return 0
		sleep 0.1; n=$((n + 1))
	done
	fail "fewer than $1 writes after 30 s"
}
wait_acks 70
cp "$D/img" "$D/old"
wait_acks $(($(acks) + 130))
kill -TERM "$W"
wait "$W" || fail "writer exit status $? ($(cat "$D/w.out"))"
cat "$D/w.out"
grep -q 'errors=0' "$D/w.out" || fail "writer reported errors"
"$S" verify "$D/img" "$D/ack" || fail "a clean run does not verify"

# Stale data: block 5 as it was half a second earlier.
cp "$D/img" "$D/stale"
dd if="$D/old" of="$D/stale" bs=4096 skip=5 seek=5 count=1 conv=notrunc status=none
if "$S" verify "$D/stale" "$D/ack" > "$D/v.out"; then
	fail "an older stamp in block 5 was not reported"
fi
grep -q 'BAD block 5:' "$D/v.out" || fail "wrong report: $(cat "$D/v.out")"

# Lost write: block 9 zeroed.
cp "$D/img" "$D/zero"
dd if=/dev/zero of="$D/zero" bs=4096 seek=9 count=1 conv=notrunc status=none
if "$S" verify "$D/zero" "$D/ack" > "$D/v.out"; then
	fail "a zeroed block 9 was not reported"
fi
grep -q 'BAD block 9: .*no stamp' "$D/v.out" || fail "wrong report: $(cat "$D/v.out")"

# An empty ack log is not a pass.
head -1 "$D/ack" > "$D/ack0"
"$S" verify "$D/img" "$D/ack0" > /dev/null && fail "nothing acknowledged, yet verified"
echo PASS
