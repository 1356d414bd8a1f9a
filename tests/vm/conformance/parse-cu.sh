#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# parse-cu.sh OUTPUT: turn iscsi-test-cu's verbose CUnit output into lines
# "PASS Family.Suite.Test" / "FAIL Family.Suite.Test".  CUnit prints only the
# suite's short name ("Suite: Read10"), and the run goes through the families
# in the order of "iscsi-test-cu -l", so each suite line is matched to the
# next listed Family.Suite with that name.  A test whose result never shows
# (crash, timeout) is reported FAIL.
set -eu
iscsi-test-cu -l 2>/dev/null | awk -F. 'NF == 2' > "${TMPDIR:-/tmp}/cu-suites.$$"
awk -v listfile="${TMPDIR:-/tmp}/cu-suites.$$" '
BEGIN { n = 0; while ((getline l < listfile) > 0) suites[n++] = l; pos = 0 }
function finish(res) { if (test != "") print res " " fam "." test; test = "" }
/^Suite: / {
	finish("FAIL")
	s = substr($0, 8); sub(/[ \t\r]+$/, "", s)
	fam = ""
	for (i = pos; i < n; i++) {
		k = suites[i]; short = k; sub(/^[^.]*\./, "", short)
		if (short == s) { fam = k; pos = i + 1; break }
	}
	if (fam == "") fam = "UNKNOWN." s
	next
}
/^  Test: / {
	finish("FAIL")
	l = substr($0, 9)
	t = l; sub(/ \.\.\..*/, "", t)
	rest = l; sub(/^[^.]* \.\.\./, "", rest)
	test = t
	if (rest ~ /^passed/) finish("PASS")
	else if (rest ~ /^FAILED/) finish("FAIL")
	next
}
test != "" && /^passed[ \t\r]*$/ { finish("PASS"); next }
test != "" && /^FAILED[ \t\r]*$/ { finish("FAIL"); next }
test != "" && /[^]]passed[ \t\r]*$/ && !/^ +\[/ { finish("PASS"); next }
/^Run Summary/ { finish("FAIL") }
END { finish("FAIL") }
' "$1"
rm -f "${TMPDIR:-/tmp}/cu-suites.$$"
