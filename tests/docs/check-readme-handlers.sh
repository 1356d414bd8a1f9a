#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# README's handler table must match the build: a row whose status starts
# with "built" needs handler_<name>.so in the build's handlers folder (unless
# this build switched the handler off with -Dwith-<name>=OFF), any other row
# must have none, and every handler_<name>.so built there needs a "built" row.
# Usage: check-readme-handlers.sh README.md BUILD/handlers [off1,off2,...]
set -eu

readme=$1
dir=$2
off=",${3:-},"
fail=0

bad() {
	echo "FAIL: $*"
	fail=1
}

# Rows of the table whose header is "| handler | cfgstring | status |".
rows=$(awk -F'|' '
	/^\| *handler *\| *cfgstring *\| *status *\|/ { t = 1; next }
	t && /^\|---/ { next }
	t && /^\|/ { n = $2; s = $4; gsub(/^ +| +$/, "", n); gsub(/^ +| +$/, "", s)
		     print n "|" s; next }
	t { exit }' "$readme")
[ -n "$rows" ] || { bad "no handler table (| handler | cfgstring | status |) in $readme"; exit 1; }

built_rows=
while IFS='|' read -r name status; do
	so=$(find "$dir" -name "handler_$name.so" | head -n 1)
	case $status in
	built*)
		built_rows="$built_rows $name "
		if [ -n "$so" ]; then
			echo "ok: $name is built ($so)"
		elif case $off in *",$name,"*) true ;; *) false ;; esac; then
			echo "ok: $name is switched off in this build (-Dwith-$name=OFF)"
		else
			bad "README says $name is built, but there is no handler_$name.so under $dir"
		fi
		;;
	*)
		if [ -n "$so" ]; then
			bad "README says $name is '$status', but $so was built"
		else
			echo "ok: $name is not built ($status)"
		fi
		;;
	esac
done <<ROWS
$rows
ROWS

for so in $(find "$dir" -name 'handler_*.so' | sort); do
	name=${so##*/handler_}
	name=${name%.so}
	case $built_rows in
	*" $name "*) ;;
	*) bad "$so is built but README's handler table has no 'built' row for $name" ;;
	esac
done

[ $fail -eq 0 ] && echo PASS
exit $fail
