#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# Build Debian packages (tcmu-runner, the library package named after the
# built soname, e.g. libtcmu-ng1, and its -dev package, e.g. libtcmu-ng-dev)
# from this tree: a cmake build installed into a staging root, split and
# packed by dpkg-deb.
# Usage: make_debs.sh [--without rbd|glfs|qcow|zbc|fbo]... [--outdir DIR]
# --without X configures with -Dwith-X=OFF (only qcow is written yet; for
# the others the switch changes nothing today).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
OUT=$HERE/debbuild
cmake_opts=

usage() {
	sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'
	exit "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	--without)
		[ $# -ge 2 ] || usage 2
		case $2 in
		rbd|glfs|qcow|zbc|fbo) cmake_opts="$cmake_opts -Dwith-$2=OFF" ;;
		*) echo "make_debs.sh: unknown handler '$2'" >&2; usage 2 ;;
		esac
		shift 2
		;;
	--outdir)
		[ $# -ge 2 ] || usage 2
		OUT=$2
		shift 2
		;;
	-h|--help) usage 0 ;;
	*) echo "make_debs.sh: unknown option '$1'" >&2; usage 2 ;;
	esac
done

for tool in dpkg-deb dpkg cmake make readelf; do
	command -v $tool >/dev/null 2>&1 || { echo "make_debs.sh: $tool not found" >&2; exit 1; }
done

VERSION=$(sed -n 's/^project(tcmu-runner VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$VERSION" ] || { echo "make_debs.sh: no version in CMakeLists.txt" >&2; exit 1; }
DEBVER=$VERSION-1
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
LIBDIR=usr/lib/$MA
MAINT="tcmu-runner developers <target-devel@vger.kernel.org>"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
B=$OUT/build
ROOT=$OUT/root
rm -rf "$ROOT" "$OUT/pkg"
mkdir -p "$ROOT" "$OUT/pkg"

# shellcheck disable=SC2086
cmake -S "$SRC" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR="lib/$MA" \
	-DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSUPPORT_SYSTEMD=ON -DSYSTEMD_UNIT_DIR=/lib/systemd/system \
	-DWERROR=OFF -DBUILD_TESTS=OFF $cmake_opts
make -C "$B" -j2
DESTDIR=$ROOT cmake --install "$B" --strip

mkdir -p "$ROOT/etc/tcmu" "$ROOT/$LIBDIR/tcmu-runner"
# Example programs are not shipped.
rm -f "$ROOT/usr/bin/consumer" "$ROOT/usr/bin/tcmu-synthesizer"
[ -f "$ROOT/etc/tcmu/tcmu.conf" ] ||
	printf '# tcmu-runner configuration, see tcmu.conf(5)\n# log_level = 3\n' \
		>"$ROOT/etc/tcmu/tcmu.conf"
find "$ROOT/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +

# The library package is named after the soname the build produced
# (Debian policy: libfoo.so.1 -> libfoo1, libfoo-bar.so.1 -> libfoo-bar1).
lib=$(find "$ROOT/$LIBDIR" -maxdepth 1 -type f -name 'libtcmu*.so.*' | head -n 1)
[ -n "$lib" ] || { echo "make_debs.sh: no libtcmu*.so.* was installed" >&2; exit 1; }
SONAME=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ -n "$SONAME" ] || { echo "make_debs.sh: $lib has no soname" >&2; exit 1; }
LIBBASE=${SONAME%%.so.*}
case $LIBBASE in
*[0-9]) LIBPKG=$LIBBASE-${SONAME#*.so.} ;;
*) LIBPKG=$LIBBASE${SONAME#*.so.} ;;
esac
DEVPKG=$LIBBASE-dev
echo "make_debs.sh: soname $SONAME: packages $LIBPKG and $DEVPKG"

# Example sources (installed under the doc folder) go with the -dev package.
if [ -d "$ROOT/usr/share/doc/tcmu-runner/examples" ]; then
	mkdir -p "$ROOT/usr/share/doc/$DEVPKG"
	mv "$ROOT/usr/share/doc/tcmu-runner/examples" "$ROOT/usr/share/doc/$DEVPKG/"
	rmdir "$ROOT/usr/share/doc/tcmu-runner" 2>/dev/null || true
fi

# take <package> <path>...: move paths from the staging root into a package.
take() {
	pkg=$OUT/pkg/$1
	shift
	for p in "$@"; do
		for src in "$ROOT"/$p; do
			[ -e "$src" ] || [ -L "$src" ] || continue
			rel=${src#"$ROOT"/}
			mkdir -p "$pkg/$(dirname "$rel")"
			mv "$src" "$pkg/$rel"
		done
	done
}

take "$LIBPKG" "$LIBDIR/$LIBBASE.so.*"
take "$DEVPKG" usr/include "$LIBDIR/$LIBBASE.so" "$LIBDIR/pkgconfig" usr/share/man/man3 \
	"usr/share/doc/$DEVPKG"
take tcmu-runner usr/bin usr/sbin "$LIBDIR/tcmu-runner" etc usr/share/dbus-1 lib/systemd \
	usr/share/man/man5 usr/share/man/man8

left=$(find "$ROOT" -type f -o -type l)
if [ -n "$left" ]; then
	echo "make_debs.sh: installed files not assigned to a package:" >&2
	echo "$left" >&2
	exit 1
fi

# Shared library dependencies, from dpkg-shlibdeps when dpkg-dev is present.
shlibdeps() {	# shlibdeps <package dir>: prints a Depends list (may be empty)
	command -v dpkg-shlibdeps >/dev/null 2>&1 || return 0
	elfs=$(find "$1" -type f \( -perm -u+x -o -name '*.so*' \) -exec sh -c \
		'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
	[ -n "$elfs" ] || return 0
	tmp=$(mktemp -d)
	mkdir "$tmp/debian"
	printf 'Source: tcmu-runner\n\nPackage: x\nArchitecture: any\n' >"$tmp/debian/control"
	# shellcheck disable=SC2086
	(cd "$tmp" && dpkg-shlibdeps -O -l"$OUT/pkg/$LIBPKG/$LIBDIR" \
		--ignore-missing-info $elfs 2>/dev/null) |
		sed -n 's/^shlibs:Depends=//p'
	rm -rf "$tmp"
}

docs() {	# docs <package>: copyright note
	d=$OUT/pkg/$1/usr/share/doc/$1
	mkdir -p "$d"
	cat >"$d/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: tcmu-runner

Files: *
License: LGPL-2.1-or-later or Apache-2.0
 See /usr/share/common-licenses/LGPL-2.1 and /usr/share/common-licenses/Apache-2.0.
EOF
}

control() {	# control <package> <section> <depends> <summary> <description...>
	pkg=$1 section=$2 deps=$3 summary=$4
	shift 4
	dir=$OUT/pkg/$pkg
	mkdir -p "$dir/DEBIAN"
	{
		echo "Package: $pkg"
		echo "Version: $DEBVER"
		echo "Architecture: $ARCH"
		echo "Maintainer: $MAINT"
		echo "Installed-Size: $(du -sk "$dir" | cut -f1)"
		[ -z "$deps" ] || echo "Depends: $deps"
		echo "Section: $section"
		echo "Priority: optional"
		echo "Homepage: https://github.com/open-iscsi/tcmu-runner"
		echo "Description: $summary"
		for line in "$@"; do
			echo " $line"
		done
	} >"$dir/DEBIAN/control"
}

for p in tcmu-runner "$LIBPKG" "$DEVPKG"; do
	docs "$p"
done

dep_run=$(shlibdeps "$OUT/pkg/tcmu-runner")
control tcmu-runner admin "${dep_run:+$dep_run, }dbus" \
	"userspace daemon for LIO TCM-User (TCMU) backstores" \
	"tcmu-runner serves the logical units of the kernel target's \"user\"" \
	"backstore from userspace, passing storage requests to handler plugins." \
	"It offers the org.kernel.TCMUService1 DBus service used by targetcli" \
	"and tcmu-stat."
dep_lib=$(shlibdeps "$OUT/pkg/$LIBPKG")
control "$LIBPKG" libs "$dep_lib" "library for serving LIO TCM-User devices" \
	"libtcmu handles the kernel side of target_core_user devices: netlink" \
	"events, the mapped command ring and configfs.  Its ABI is not that of" \
	"upstream tcmu-runner's libtcmu.so.2, hence its own soname ($SONAME)."
control "$DEVPKG" libdevel "$LIBPKG (= $DEBVER)" \
	"development files for libtcmu and tcmu-runner handlers" \
	"Headers, pkg-config file (libtcmu), manual pages and example sources" \
	"for libtcmu programs and tcmu-runner handler plugins."
# Same header and pkg-config names as upstream's libtcmu-dev.
if [ "$DEVPKG" != libtcmu-dev ]; then
	echo "Conflicts: libtcmu-dev" >>"$OUT/pkg/$DEVPKG/DEBIAN/control"
fi

# tcmu-runner: configuration files, and a systemd reload on install/removal.
(cd "$OUT/pkg/tcmu-runner" && find etc -type f | sed 's|^|/|' | sort) \
	>"$OUT/pkg/tcmu-runner/DEBIAN/conffiles"
for script in postinst postrm; do
	cat >"$OUT/pkg/tcmu-runner/DEBIAN/$script" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
EOF
	chmod 755 "$OUT/pkg/tcmu-runner/DEBIAN/$script"
done
echo "activate-noawait ldconfig" >"$OUT/pkg/$LIBPKG/DEBIAN/triggers"

for p in tcmu-runner "$LIBPKG" "$DEVPKG"; do
	dpkg-deb --root-owner-group -Zxz --build "$OUT/pkg/$p" \
		"$OUT/${p}_${DEBVER}_$ARCH.deb" >/dev/null
	echo "$OUT/${p}_${DEBVER}_$ARCH.deb"
done
