#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Description: stands in for tcmu-ublk in the DBus tests (Ublk1 runs it):
# logs its arguments to $FAKE_UBLK_LOG and answers as tcmu-ublk would.
#   add ... -- CFG   prints /dev/ublkb4, or fails for a cfgstring "bad/..."
#   del X            succeeds, or fails for X = nosuch
echo "$*" >> "${FAKE_UBLK_LOG:-/dev/null}"
case $1 in
add)
	for cfg in "$@"; do :; done
	case $cfg in
	bad/*)
		echo "tcmu-ublk: no handler for \"bad\" in /x" >&2
		exit 1
		;;
	esac
	printf /dev/ublkb4
	;;
del)
	[ "$2" = nosuch ] && { echo "tcmu-ublk: no device named \"nosuch\"" >&2; exit 1; }
	;;
*)
	exit 2
	;;
esac
exit 0
