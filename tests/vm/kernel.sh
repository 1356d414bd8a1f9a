# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=sh disable=SC2034 # KC is for the scripts that source this
#
# kernel.sh: which Debian kernel the VM boots, and where it is cached.
# Sourced by setup.sh and run.sh (POSIX sh).
#
#   VMKERNEL  6.1 (default: Debian 12's own kernel, linux-image-amd64) or
#             6.12 (the newest linux-image-6.12.*+deb12-amd64-unsigned)
#   VMCACHE   cache root (default /var/tmp/tcmu-vm)
#
# Sets VMKERNEL and KC, the kernel's cache folder: KC/k (the unpacked
# package), KC/kver (its release) and KC/initrd.gz.  6.1 keeps the layout it
# always had (KC is the cache root); 6.12 lives in KC=VMCACHE/6.12.

VMKERNEL=${VMKERNEL:-6.1}
case $VMKERNEL in
6.1) KC=${VMCACHE:-/var/tmp/tcmu-vm} ;;
6.12) KC=${VMCACHE:-/var/tmp/tcmu-vm}/6.12 ;;
*)
	echo "VMKERNEL=$VMKERNEL: unknown kernel (6.1 or 6.12)" >&2
	exit 2
	;;
esac

# kernel_pkg: the Debian package to fetch for $VMKERNEL (empty if the apt
# lists do not know one).
kernel_pkg() {
	case $VMKERNEL in
	6.1)
		apt-cache depends linux-image-amd64 2>/dev/null |
			awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
		;;
	6.12)
		apt-cache pkgnames linux-image-6.12. 2>/dev/null |
			grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
			sort -V | tail -n 1
		;;
	esac
}
