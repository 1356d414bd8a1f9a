# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# shellcheck shell=bash
# Guest side of demo.sh: runs as root inside the VM.
# shellcheck source=tests/vm/lib.sh
. "$TESTS_VM/lib.sh"
say() { printf '\n== %s\n' "$*"; }
fail() { printf '\n!! %s\n' "$*"; runner_log_tail 30; exit 1; }

say "Inside the VM: Linux $(uname -r), with LIO, TCMU and tcm_loop as modules"
vm_init > /run/vm_init.log 2>&1 || { cat /run/vm_init.log; fail "vm_init failed"; }
lsmod | grep -E '^(target_core_user|tcm_loop|target_core_mod) ' | awk '{print "   module " $1}'

say "Starting tcmu-runner ($RUNNER)"
start_runner || fail "tcmu-runner did not start"
echo "   pid $RUNNER_PID, listening for TCMU netlink events; handlers: $(ls "$TT/handlers" | tr '\n' ' ')"

IMG=$SCRATCH/disk0.img
say "Creating a 256 MiB user:file backstore through configfs (image $IMG)"
truncate -s 256M "$IMG"
D=$CFS/core/user_1/disk0
echo "   mkdir $D"
echo "   echo -n dev_size=268435456 > $D/control"
echo "   echo -n dev_config=file/$IMG > $D/control"
echo "   echo -n 1 > $D/enable"
user_backstore disk0 268435456 "file/$IMG" || fail "creating the backstore failed"
for u in /sys/class/uio/uio*; do echo "   $(basename "$u"): $(cat "$u/name")"; done

say "Exporting it through tcm_loop (a local SCSI initiator)"
DEV=$(loop_lun "$D") || fail "no /dev/sdX appeared"
echo "   the LUN is $DEV"

say "sg_inq $DEV"
sg_inq "$DEV" | grep -E 'Vendor|Product|revision|Peripheral device type|version' | sed 's/^ */   /'
say "sg_readcap $DEV"
sg_readcap "$DEV" | sed 's/^ */   /'
say "sg_vpd --page=di $DEV (device identification)"
sg_vpd --page=di "$DEV" | sed 's/^ */   /' | head -12

say "dd: write 8 MiB of random data with O_DIRECT, read it back, compare"
head -c 8M /dev/urandom > /run/data.bin
dd if=/run/data.bin of="$DEV" bs=1M oflag=direct 2>&1 | tail -1 | sed 's/^/   /'
dd if="$DEV" of=/run/back.bin bs=1M count=8 iflag=direct 2>&1 | tail -1 | sed 's/^/   /'
if cmp /run/data.bin /run/back.bin; then echo "   identical"; else fail "read-back differs"; fi
if cmp /run/data.bin <(head -c 8M "$IMG"); then echo "   and the image file holds the same bytes"; else fail "image differs"; fi

say "fio: 10 s of 4 KiB random writes + reads at queue depth 16, checksummed (crc32c)"
fio --name=demo --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=16 --rw=randrw --bs=4k \
	--size=64M --runtime=10 --time_based --verify=crc32c --do_verify=1 --verify_fatal=1 \
	--output-format=normal 2>&1 | grep -E 'read:|write:|err=' | sed 's/^ */   /'
fio_rc=${PIPESTATUS[0]}
[ "$fio_rc" = 0 ] || fail "fio failed (rc $fio_rc)"

say "Cleaning up: unexport, delete the backstore, stop tcmu-runner with SIGTERM"
{ loop_unexport "$D" && backstore_delete "$D"; } || fail "cleanup failed"
stop_runner TERM 30 || fail "tcmu-runner did not exit on SIGTERM"
echo "   done"
say "tcmu-runner's log ($TT/log/tcmu-runner.log), last lines:"
tail -n 8 "$TT/log/tcmu-runner.log" 2>/dev/null | sed 's/^/   /'
dmesg_check > /run/dmesg.chk 2>&1 || { cat /run/dmesg.chk; fail "the kernel logged a warning"; }
say "DEMO OK"
