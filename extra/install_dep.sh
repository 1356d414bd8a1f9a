#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Install the packages needed to build tcmu-runner, on Debian/Ubuntu (apt)
# or Fedora/RHEL/CentOS (dnf or yum).  Run as root.  Only what the build
# uses: zlib for the qcow handler; no handler needing librbd or
# glusterfs-api is written yet.
#   --dry-run   print the command instead of running it
#   --minimal   accepted for compatibility; the same as no option
set -eu

dry=0
for arg in "$@"; do
	case $arg in
	--minimal) ;;
	--dry-run) dry=1 ;;
	-h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install_dep.sh: unknown option $arg" >&2; exit 2 ;;
	esac
done

run() {
	echo "+ $*"
	[ $dry -eq 1 ] || "$@"
}

if [ -r /etc/os-release ]; then
	# shellcheck disable=SC1091
	. /etc/os-release
else
	ID=unknown
	ID_LIKE=
fi

case " $ID ${ID_LIKE:-} " in
*" debian "*|*" ubuntu "*)
	pkgs="cmake make gcc pkg-config libnl-3-dev libnl-genl-3-dev libglib2.0-dev
	      libglib2.0-bin libkmod-dev liburing-dev zlib1g-dev dbus"
	[ $dry -eq 1 ] || export DEBIAN_FRONTEND=noninteractive
	run apt-get update
	# shellcheck disable=SC2086
	run apt-get install -y $pkgs
	;;
*" fedora "*|*" rhel "*|*" centos "*|*" rocky "*|*" almalinux "*)
	if command -v dnf >/dev/null 2>&1; then
		pm=dnf
	else
		pm=yum
	fi
	pkgs="cmake make gcc pkgconfig libnl3-devel glib2-devel kmod-devel zlib-devel dbus"
	# liburing is not packaged on older RHEL; the build works without it.
	if $pm info liburing-devel >/dev/null 2>&1; then
		pkgs="$pkgs liburing-devel"
	fi
	# shellcheck disable=SC2086
	run $pm install -y $pkgs
	;;
*)
	echo "install_dep.sh: unsupported distribution '$ID'; install by hand:" >&2
	echo "  cmake, a C compiler, pkg-config, libnl-3 + libnl-genl-3, glib2/gio," >&2
	echo "  libkmod, zlib, optionally liburing" >&2
	exit 1
	;;
esac
