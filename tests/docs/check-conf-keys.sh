#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Every tcmu.conf key the daemon reads (strcmp(key, "...") in daemon/config.c)
# has a row in README's tcmu.conf table and an entry in tcmu.conf(5), and
# neither documents a key the daemon does not read.
# Usage: check-conf-keys.sh <source dir>
set -eu

src=$1
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

code=$(sed -n 's/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$src/daemon/config.c" | sort -u)
[ -n "$code" ] || { echo "FAIL: no keys found in daemon/config.c"; exit 1; }
# README: first-column `key` cells of the table under "## Configuration".
readme=$(awk '/^## Configuration/ { t = 1; next } t && /^## / { exit }
	t && /^\| `/ { split($0, c, "`"); print c[2] }' "$src/README.md" | sort -u)
# tcmu.conf(5): ".BI key " = ..." entries.
man=$(sed -n 's/^\.BI \([a-z_]*\) ".*/\1/p' "$src/docs/man/tcmu.conf.5" | sort -u)

for k in $code; do
	echo "$readme" | grep -qx "$k" || bad "README's tcmu.conf table lacks $k"
	echo "$man" | grep -qx "$k" || bad "tcmu.conf(5) lacks $k"
done
for k in $readme; do
	echo "$code" | grep -qx "$k" || bad "README documents $k, which daemon/config.c does not read"
done
for k in $man; do
	echo "$code" | grep -qx "$k" || bad "tcmu.conf(5) documents $k, which daemon/config.c does not read"
done
[ $fail -eq 0 ] && echo "PASS: keys $(echo "$code" | tr '\n' ' ')"
exit $fail
