#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# deps.sh: install (apt, Debian/Ubuntu) the packages needed to build and test
# tcmu-runner, if any is missing.  Quiet when everything is there.
set -eu
PKGS="cmake make gcc clang pkg-config libnl-3-dev libnl-genl-3-dev liburing-dev libkmod-dev
libglib2.0-dev libglib2.0-bin zlib1g-dev libclang-rt-14-dev dbus rpm shellcheck clang-format
qemu-utils libzstd-dev libglusterfs-dev glusterfs-server librbd-dev librados-dev"
command -v dpkg >/dev/null || { echo "deps.sh: not a Debian system; install the equivalents of: $PKGS" >&2; exit 0; }
need=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
[ -z "$need" ] && exit 0
echo "deps.sh: installing$need"
export DEBIAN_FRONTEND=noninteractive
timeout 600 apt-get update -q >/dev/null
# shellcheck disable=SC2086 # word splitting wanted
timeout 1200 apt-get install -y -q --no-install-recommends $need >/dev/null
