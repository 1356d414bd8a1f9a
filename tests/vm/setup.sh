#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# setup.sh: prepare everything needed to boot a real LIO/TCMU kernel under qemu
# (software emulation, no KVM needed) with this machine's root filesystem
# shared read-only into the guest.
#
#  - installs the host packages the VM and the guest tests need (apt, only if
#    missing): qemu-system-x86 busybox-static kmod cpio fio sg3-utils
#    libiscsi-bin targetcli-fb glusterfs-server (the glfs suite's volume)
#    btrfs-progs f2fs-tools (zbc suite) xorriso udftools eject (fbo suite)
#    ceph-mon ceph-osd ceph-common uuid-runtime (the rbd suite's cluster)
#    xz-utils (6.12's modules are .ko.xz)
#  - caches the Debian amd64 kernel package picked by VMKERNEL (6.1, the
#    default: Debian 12's own; 6.12: the newest linux-image-6.12.*+deb12-
#    amd64-unsigned), unpacked, in $VMCACHE (default /var/tmp/tcmu-vm; 6.12
#    in its 6.12/ subfolder, see kernel.sh) and runs depmod on it
#  - builds a small initramfs for that kernel (busybox + the virtio/9p/overlay
#    modules and their dependencies, as modprobe resolves them in that
#    kernel's tree, decompressed) whose init mounts the host root over 9p,
#    adds a tmpfs overlay and runs the guest script named on the kernel
#    command line (see run.sh)
#
# Idempotent and safe to call before every run; serialised with flock.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
C=${VMCACHE:-/var/tmp/tcmu-vm}
# shellcheck source=tests/vm/kernel.sh
. "$here/kernel.sh"
mkdir -p "$C" "$KC"

# Serialise concurrent setups (several engineers/CI jobs may share the cache).
if [ "${TCMU_VM_SETUP_LOCKED:-}" != 1 ] && command -v flock >/dev/null 2>&1; then
	TCMU_VM_SETUP_LOCKED=1 exec flock -w 900 "$C/.setup.lock" "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
pkgs="qemu-system-x86 busybox-static kmod cpio fio sg3-utils libiscsi-bin targetcli-fb glusterfs-server\
	btrfs-progs f2fs-tools xorriso udftools eject dmsetup ceph-mon ceph-osd ceph-common uuid-runtime\
	xz-utils xfsprogs dbench"
need=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	echo "setup: installing$need"
	timeout 600 apt-get update -q >/dev/null
	# shellcheck disable=SC2086 # word splitting wanted
	timeout 900 apt-get install -y -q --no-install-recommends $need >/dev/null
fi

# Debian's tcmu-runner 1.5.4 package, for its prebuilt handlers (the compat
# suite loads them into our daemon), and qemu-img.  Its DBus activation file
# is diverted first so that no system bus (host, or the guest sharing this
# root) ever starts Debian's daemon; its service is not started either.
if ! dpkg -s tcmu-runner >/dev/null 2>&1 || ! dpkg -s qemu-utils >/dev/null 2>&1; then
	svc=/usr/share/dbus-1/system-services/org.kernel.TCMUService1.service
	dpkg-divert --quiet --local --rename --divert "$svc.disabled-by-tcmu-tests" --add "$svc"
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	echo "setup: installing tcmu-runner (handlers only) qemu-utils"
	timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold \
		--no-install-recommends \
		tcmu-runner qemu-utils >/dev/null ||
		{ timeout 600 apt-get update -q >/dev/null;
		  timeout 900 apt-get install -y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold \
			--no-install-recommends tcmu-runner qemu-utils >/dev/null; }
	if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

if [ ! -d "$KC/k/boot" ]; then
	echo "setup: fetching the Debian $VMKERNEL kernel package"
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ]; then
		timeout 600 apt-get update -q >/dev/null
		pkg=$(kernel_pkg)
	fi
	[ -n "$pkg" ] || { echo "setup: no linux-image package found for $VMKERNEL" >&2; exit 1; }
	echo "setup: $pkg"
	tmp=$(mktemp -d "$KC/dl.XXXXXX")
	(cd "$tmp" && timeout 600 apt-get download "$pkg" >/dev/null 2>&1) ||
		{ timeout 600 apt-get update -q >/dev/null;
		  (cd "$tmp" && timeout 600 apt-get download "$pkg" >/dev/null); }
	dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/k"
	rm -rf "$KC/k"
	mv "$tmp/k" "$KC/k"
	rm -rf "$tmp"
fi
KV=$(ls "$KC/k/lib/modules")
[ -f "$KC/k/lib/modules/$KV/modules.dep" ] || depmod -b "$KC/k" "$KV"

# initramfs: the modules init needs to mount the host root, in load order
# (modprobe --show-depends prints dependencies first; "builtin" lines are
# built into this kernel: virtio is in 6.12, a module in 6.1).  busybox's
# insmod takes plain .ko files only, so compressed ones are unpacked here.
ir=$(mktemp -d "$KC/ir.XXXXXX")
mkdir -p "$ir/bin" "$ir/mods" "$ir/dev" "$ir/proc" "$ir/sys"
cp /bin/busybox "$ir/bin/"
: > "$ir/mods/order"
for want in virtio_pci 9pnet_virtio 9p overlay; do
	deps=$(modprobe -d "$KC/k" -S "$KV" --show-depends "$want") ||
		{ echo "setup: $want: not in kernel $KV" >&2; exit 1; }
	for f in $(echo "$deps" | awk '$1 == "insmod" { print $2 }'); do
		m=$(basename "$f"); m=${m%%.ko*}
		grep -qx "$m" "$ir/mods/order" && continue
		case $f in
		*.ko) cp "$f" "$ir/mods/$m.ko" ;;
		*.ko.xz) xz -dc "$f" > "$ir/mods/$m.ko" ;;
		*.ko.zst) zstd -qdc "$f" > "$ir/mods/$m.ko" ;;
		*.ko.gz) gzip -dc "$f" > "$ir/mods/$m.ko" ;;
		*) echo "setup: $f: unknown module format" >&2; exit 1 ;;
		esac
		echo "$m" >> "$ir/mods/order"
	done
done
# The kernel passes unknown command-line words of the form K=V to init as
# environment: GUEST (script to run) and KMODDIR (kernel module tree).
cat > "$ir/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m.ko; done
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=${VM9PCACHE:-loose} hostroot /lower || poweroff -f
mount -t tmpfs -o size=60% tmpfs /rw; mkdir -p /rw/u /rw/w
mount -t overlay -o lowerdir=/lower,upperdir=/rw/u,workdir=/rw/w overlay /newroot || poweroff -f
mount --move /proc /newroot/proc; mount --move /sys /newroot/sys; mount --move /dev /newroot/dev
exec chroot /newroot /bin/sh -c '
mount -t tmpfs t /run
mkdir -p /vmout /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs t /dev/shm
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do [ -e /dev/${i#*:} ] || ln -s /proc/self/fd/${i%:*} /dev/${i#*:}; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /vmout
mkdir -p /lib/modules; ln -sfn "$KMODDIR" /lib/modules/$(uname -r)
hostname tcmu-vm
[ -f /vmout/env ] && . /vmout/env
cd /
bash "$GUEST" > /vmout/guest.log 2>&1 < /dev/null
echo $? > /vmout/rc
dmesg > /vmout/dmesg.log 2>&1
sync
poweroff -f'
EOI
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$KC/initrd.gz.new")
mv "$KC/initrd.gz.new" "$KC/initrd.gz"
mods=$(tr '\n' ' ' < "$ir/mods/order")
rm -rf "$ir"
echo "$KV" > "$KC/kver"
echo "setup: ready: $KC (kernel $KV; initramfs modules: $mods)"
