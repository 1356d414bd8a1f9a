#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Build the tcmu-runner, libtcmu and libtcmu-devel RPMs from this tree.
# Usage: make_runnerrpms.sh [--without rbd|glfs|qcow|zbc|fbo]... [--topdir DIR]
# The result lands in DIR/RPMS (default: extra/rpmbuild).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
TOPDIR=$HERE/rpmbuild
without=

usage() {
	sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//'
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	--without)
		[ $# -ge 2 ] || usage 2
		case $2 in
		rbd|glfs|qcow|zbc|fbo) without="$without --without $2" ;;
		*) echo "make_runnerrpms.sh: unknown handler '$2'" >&2; usage 2 ;;
		esac
		shift 2
		;;
	--without=*)
		v=${1#--without=}
		shift
		set -- --without "$v" "$@"
		continue
		;;
	--topdir)
		[ $# -ge 2 ] || usage 2
		TOPDIR=$2
		shift 2
		;;
	-h|--help) usage 0 ;;
	*) echo "make_runnerrpms.sh: unknown option '$1'" >&2; usage 2 ;;
	esac
done

command -v rpmbuild >/dev/null 2>&1 || {
	echo "make_runnerrpms.sh: rpmbuild not found (package rpm-build, or rpm on Debian)" >&2
	exit 1
}

VERSION=$(sed -n 's/^project(tcmu-runner VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$VERSION" ] || { echo "make_runnerrpms.sh: no version in CMakeLists.txt" >&2; exit 1; }
NV=tcmu-runner-$VERSION

mkdir -p "$TOPDIR/BUILD" "$TOPDIR/RPMS" "$TOPDIR/SOURCES" "$TOPDIR/SPECS" "$TOPDIR/SRPMS"
TOPDIR=$(cd "$TOPDIR" && pwd)

# Source tarball of the working tree, without build outputs.
tar -C "$SRC" --exclude=.git --exclude='./build*' --exclude=./extra/rpmbuild \
	--exclude=./extra/debbuild --transform "s,^\.,$NV," -czf "$TOPDIR/SOURCES/$NV.tar.gz" .
cp "$HERE/tcmu-runner.spec" "$TOPDIR/SPECS/"

# On a distribution whose packages are not in the RPM database (Debian,
# Ubuntu), BuildRequires cannot be checked: skip that check.
nodeps=
if ! rpm -q rpm >/dev/null 2>&1; then
	echo "make_runnerrpms.sh: no RPM database, building with --nodeps"
	nodeps=--nodeps
fi

# shellcheck disable=SC2086
rpmbuild -ba $nodeps $without \
	--define "_topdir $TOPDIR" \
	--define "tcmu_version $VERSION" \
	"$TOPDIR/SPECS/tcmu-runner.spec"

echo "RPMs:"
find "$TOPDIR/RPMS" "$TOPDIR/SRPMS" -name '*.rpm' -newer "$TOPDIR/SOURCES/$NV.tar.gz" | sort
