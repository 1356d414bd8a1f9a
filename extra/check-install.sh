#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Install a built tree into a scratch DESTDIR, check the layout and that an
# existing tcmu.conf survives, then uninstall with "xargs rm < manifest".
# Usage: check-install.sh <cmake build dir>
set -u

BUILD=$(cd "$1" && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
fail=0

say() { echo "check-install: $*"; }
bad() { say "FAIL: $*"; fail=1; }

install_tree() {
	DESTDIR="$D" cmake --install "$BUILD" >"$D.log" 2>&1 || {
		cat "$D.log"; rm -f "$D.log"; bad "install failed"; exit 1; }
	rm -f "$D.log"
}

uninstall_tree() {
	# The manifest lists the final paths (no DESTDIR): rm them under $D.
	(cd "$D" && sed 's|^/||' "$BUILD/install_manifest.txt" | xargs rm) ||
		bad "xargs rm failed"
}

leftovers() { find "$D" -type f -o -type l | sort; }

install_tree
while read -r f || [ -n "$f" ]; do
	[ -e "$D$f" ] || bad "listed but missing: $f"
done <"$BUILD/install_manifest.txt"
for pat in "*/dbus-1/system.d/tcmu-runner.conf" \
	   "*/dbus-1/system-services/org.kernel.TCMUService1.service" \
	   "*/logrotate.d/tcmu-runner" "*/man8/tcmu-runner.8"; do
	[ -n "$(find "$D" -path "$pat" | head -1)" ] || bad "not installed: $pat"
done

conf=$(find "$D" -path "*/tcmu/tcmu.conf" | head -1)
if [ -n "$conf" ]; then
	echo "# kept by the administrator" >>"$conf"
	install_tree
	grep -q "kept by the administrator" "$conf" || bad "tcmu.conf was overwritten"
	[ -f "$conf.new" ] || bad "no tcmu.conf.new next to the kept file"
	grep -qx "${conf#"$D"}" "$BUILD/install_manifest.txt" && bad "kept tcmu.conf is in the manifest"
	uninstall_tree
	[ -f "$conf" ] || bad "uninstall removed the administrator's tcmu.conf"
	rm -f "$conf"
else
	say "no tcmu.conf installed (extra/tcmu.conf absent)"
	uninstall_tree
fi
left=$(leftovers)
[ -z "$left" ] || bad "left after uninstall: $left"

# A fresh install must uninstall completely too.
install_tree
uninstall_tree
left=$(leftovers)
[ -z "$left" ] || bad "left after fresh uninstall: $left"

[ $fail -eq 0 ] && say "ok ($(wc -l <"$BUILD/install_manifest.txt") files)"
exit $fail
