#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# vm-bench.sh: guest script of bench/run.sh (run by tests/vm/run.sh as root in
# the VM).  One boot, one ext4 scratch fs, three backstores over tcm_loop:
#   fileio  kernel fileio (fd_buffered_io=1) on raw.img
#   ours    our tcmu-runner + file handler on the same raw.img
#   anchor  Debian's tcmu-runner (apt package) + its qcow handler on a
#           qcow2 image made with preallocation=full
# and, for the qcow handler (not in the default BENCH_BACKENDS):
#   qcow-pre    our tcmu-runner + qcow handler on that same preallocated
#               (preallocation=full) qcow2 image
#   qcow-sparse our tcmu-runner + qcow handler on a sparse qcow2 image,
#               created afresh for each repetition (writes allocate)
#   qcow-raw    our tcmu-runner + qcow handler on raw.img (a raw image: the
#               handler's I/O path without the qcow2 lookups, on the file
#               handler's file)
# and, when named in BENCH_BACKENDS (no tcm_loop; Linux 6.0+ for ublk):
#   loop    the kernel loop device with --direct-io=on on raw.img
#   ublk    tcmu-ublk + our file handler on raw.img, one queue per CPU
#           (ublk-q1: one queue)
# Only one daemon serves TCMU at a time: each backend's LUN is created, used
# and removed (and its daemon stopped) before the next one starts.
# For each repetition and backend, five fio rows (JSON in /vmout/fio/); at
# the end one RESULT line per row on stdout and in /vmout/results.txt (fio's
# figures; CPU per SCSI command of the daemon, the whole guest, the cluster's
# own processes and fio's job thread), and THREADS lines (daemon CPU ticks
# per thread).
#
# Environment (all optional): BENCH_SIZE_MB (512), BENCH_FIO_S (8),
# BENCH_REPS (5), BENCH_HW_MAX_SECTORS (2048, both user backstores),
# BENCH_BACKENDS ("fileio ours ours-nopoll ours-poll50 anchor"),
# BENCH_EXTRA (extra backends run once
# after the repetitions, e.g. "ours-hw128 ours-dpb"), BENCH_ROWS (all five),
# BENCH_EXTRA_ROWS (the rows of the extra backends; default BENCH_ROWS),
# BENCH_SPLIT ("D:F": every server (daemon, tcmu-ublk) on CPU D and fio on
# CPU F, with taskset, so that where the scheduler puts them does not change
# a row from one repetition to the next; unset: no pinning).
# Our daemon's variants (all with our file handler on raw.img): ours (the
# default: ring_poll = adaptive), ours-nopoll (ring_poll_us = 0), ours-poll50
# (ring_poll = fixed, 50 us: the rule before adaptive polling), ours-hw128
# (hw_max_sectors left at 128), ours-dpb (data_pages_per_blk=16), ours-da8
# (max_data_area_mb=8: room for exactly QD8 x 1 MiB), ours-1m (the same as
# ours, under another name: with BENCH_EXTRA_ROWS="r1m8 w1m8" its SPIN line
# tells what the ring thread saw at 1M only).  Each ours-* daemon
# gets its own tcmu.conf (TCMU_CONFIG_DIR), so no host file leaks in.
# Gluster: backends "glfs" (our daemon + glfs handler, a LUN on bench.img in
# a one-brick loopback volume started in the guest by tests/gluster/gluster.sh)
# ("glfs-dpb": the same with data_pages_per_blk=16 on the LUN; "glfs-nopoll":
# with ring_poll_us = 0; "glfs-exp": the daemon and handlers of EXP_BUILD, see
# Experiments below)
# and "fio-gfapi" (fio's gfapi_async engine straight to the same file, no
# LUN); the volume has performance.strict-o-direct on, so neither client's
# O_DIRECT writes are acknowledged from write-behind's cache.
# Ceph: backends "rbd" (our daemon + rbd handler, a LUN on the rbd image
# rbd/bench over tcm_loop; "rbd-nopoll": the same with ring_poll_us = 0;
# "rbd-nbaio": the same with "rbd non blocking aio = false" in its ceph.conf,
# which the handler now sets itself), "anchor-rbd" (Debian's tcmu-runner + its
# handler_rbd.so on the same image) and "fio-rbd" (fio's rbd engine straight
# to the same image through librbd, no LUN), all on one single-node cluster
# (one monitor, one memstore OSD) started once per boot in the guest by
# tests/ceph/ceph.sh; the image (BENCH_SIZE_MB) is prefilled once by fio.
# The guest needs -cpu max (VMCPU=max; bench/run.sh sets it when an rbd
# backend is named) and 6 GiB.  The cluster's ceph.conf gets "rbd cache =
# false" for all clients: our handler turns the cache off itself, so with it
# every client acknowledges a write only once the OSD has it.
# Experiments: backends "exp" and "exp-async" run the daemon and handlers of
# another build tree, EXP_BUILD (e.g. a scratch copy with a change to
# measure); exp-async also sets EXP_ASYNC_MIN=65536 in its environment.
# A backend name may end in @CPU (e.g. "ours@0 fileio@0"): fio and the daemon
# then run on that CPU only (taskset), to see what cross-CPU wake-ups cost.
set -u
# shellcheck source-path=SCRIPTDIR source=../tests/vm/lib.sh
. "$TESTS_VM/lib.sh"

SIZE_MB=${BENCH_SIZE_MB:-512}
FIO_S=${BENCH_FIO_S:-8}
REPS=${BENCH_REPS:-5}
HWMAX=${BENCH_HW_MAX_SECTORS:-2048}
BACKENDS=${BENCH_BACKENDS:-fileio ours ours-nopoll ours-poll50 anchor}
EXTRA=${BENCH_EXTRA:-}
ROWS=${BENCH_ROWS:-rr4k1 rr4k32 rw4k32 r1m8 w1m8}
EXTRA_ROWS=${BENCH_EXTRA_ROWS:-$ROWS}
SPLIT=${BENCH_SPLIT:-}
ANCHOR_BIN=${ANCHOR_BIN:-/usr/bin/tcmu-runner}
ANCHOR_HANDLERS=${ANCHOR_HANDLERS:-/usr/lib/x86_64-linux-gnu/tcmu-runner}
RES=/vmout/results.txt
UBLK=${UBLK:-$BUILD/ublk/tcmu-ublk}
HZ=$(getconf CLK_TCK)

vm_init || die "vm_init"
: > "$RES"
: > "$TT/rows.txt"
mkdir -p /vmout/fio
RAW=$SCRATCH/raw.img
QC=$SCRATCH/anchor.qcow2
BYTES=$((SIZE_MB * 1024 * 1024))

log "prefilling ${SIZE_MB} MiB raw and qcow2 (preallocation=full) images"
dd if=/dev/zero of="$RAW" bs=1M count="$SIZE_MB" conv=fsync status=none || die "dd"
qemu-img create -q -f qcow2 -o preallocation=full "$QC" "${SIZE_MB}M" || die "qemu-img"
sync

GL=$TESTS_VM/../gluster/gluster.sh
export GLFS_DIR=$SCRATCH/gluster GLFS_VOL=tcmu
# gluster_up: the volume and a prefilled bench.img, once per boot.
gluster_up() {
	[ -f "$TT/gluster-up" ] && return 0
	"$GL" stop
	"$GL" start || { echo "Gluster did not start"; return 1; }
	timeout 60 gluster --glusterd-sock="$GLFS_DIR/run/glusterd.socket" --mode=script \
		volume set "$GLFS_VOL" performance.strict-o-direct on > /dev/null ||
		{ echo "volume set strict-o-direct failed"; return 1; }
	timeout -k 10 600 fio --name=fill --ioengine=gfapi --volume="$GLFS_VOL" --brick=127.0.0.1 \
		--filename=bench.img --size="${SIZE_MB}M" --rw=write --bs=1M --direct=1 \
		> "$TT/gluster-fill.log" 2>&1 || { echo "prefill failed"; tail "$TT/gluster-fill.log"; return 1; }
	touch "$TT/gluster-up"
}

CEPH_SH=$TESTS_VM/../ceph/ceph.sh
export CEPH_DIR=/var/tmp/tcmu-ceph
export CEPH_CONF=$CEPH_DIR/ceph.conf
RBD_IMG=bench
RBD_CFG="rbd/rbd/$RBD_IMG;conf=$CEPH_CONF"
# ceph_up: the cluster and the prefilled image rbd/bench, once per boot.
ceph_up() {
	local t0=$SECONDS mem=$((SIZE_MB * 2 > 1024 ? SIZE_MB * 2 : 1024))
	[ -f "$TT/ceph-up" ] && return 0
	[ -f "$TT/ceph-failed" ] && { echo "the cluster or the prefill failed earlier in this boot"; return 1; }
	touch "$TT/ceph-failed"
	command -v ceph-mon > /dev/null || { echo "ceph-mon not installed on the host (tests/ceph/ceph.sh install)"; return 1; }
	# the OSD's crush location needs a host name that resolves
	getent hosts "$(hostname)" > /dev/null || echo "127.0.0.1 $(hostname)" >> /etc/hosts
	"$CEPH_SH" stop
	CEPH_MEM=$((mem << 20)) "$CEPH_SH" start > "$TT/ceph-start.log" 2>&1 ||
		{ echo "Ceph did not start"; tail "$TT/ceph-start.log"; return 1; }
	printf '\n[client]\nrbd cache = false\n' >> "$CEPH_CONF"
	# rbd-nbaio: the same cluster, librbd dispatching on the caller's thread
	sed 's/^rbd cache = false$/&\nrbd non blocking aio = false/' "$CEPH_CONF" > "$TT/ceph-nbaio.conf"
	log "Ceph cluster up in $((SECONDS - t0)) s"
	timeout 120 rbd create --size "${SIZE_MB}M" "rbd/$RBD_IMG" || { echo "rbd create failed"; return 1; }
	emit "INFO rbd_image=rbd/$RBD_IMG features=$(timeout 60 rbd info --format json "rbd/$RBD_IMG" |
		python3 -c 'import json, sys; print(",".join(json.load(sys.stdin)["features"]))')" \
		"rbd_cache=$(ceph-conf -c "$CEPH_CONF" --name client.admin --lookup rbd_cache)"
	timeout -k 10 1800 fio --name=fill --ioengine=rbd --pool=rbd --rbdname="$RBD_IMG" --clientname=admin \
		--size="${SIZE_MB}M" --rw=write --bs=4M --iodepth=4 > "$TT/rbd-fill.log" 2>&1 ||
		{ echo "prefill failed"; tail "$TT/rbd-fill.log"; return 1; }
	log "rbd/$RBD_IMG prefilled; $((SECONDS - t0)) s since the cluster start began"
	rm -f "$TT/ceph-failed"
	touch "$TT/ceph-up"
}

emit() { echo "$*"; echo "$*" >> "$RES"; }

# cpu_ticks PID: utime+stime of the process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# busy_ticks: non-idle ticks of the whole guest (all CPUs).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# cluster_ticks: utime+stime of the storage cluster's own processes in the
# guest (Ceph's monitor and OSD, Gluster's daemons), summed; 0 when none runs.
cluster_ticks() {
	local p t=0
	# two patterns: pgrep warns about one longer than a process name (15)
	for p in $(pgrep -x 'ceph-(osd|mon)'; pgrep -x 'gluster(d|fsd)'); do
		t=$((t + $(cpu_ticks "$p")))
	done
	echo "$t"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
num_cmds() { cat "$1/statistics/scsi_lu/num_cmds" 2>/dev/null || echo -1; }

row_args() {
	case $1 in
	rr4k1) echo "randread 4k 1" ;;
	rr4k32) echo "randread 4k 32" ;;
	rw4k32) echo "randwrite 4k 32" ;;
	r1m8) echo "read 1M 8" ;;
	w1m8) echo "write 1M 8" ;;
	esac
}

# run_rows REP BACKEND DEV BACKSTORE_DIR DAEMON_PID(or "")
run_rows() {
	local rep=$1 be=$2 dev=$3 bs=$4 pid=$5 row rw bsz qd c0 c1 n0 n1 b0 b1 k0 k1 js rss
	local target=(--filename="$dev" --ioengine=libaio)
	# fio's own gfapi client: no LUN, no daemon (num_cmds gives -1: fio's count is used).
	[ "${be%@*}" = fio-gfapi ] && target=(--ioengine=gfapi_async --volume="$GLFS_VOL"
		--brick=127.0.0.1 --filename=bench.img --size="${SIZE_MB}M")
	# fio's own librbd client: no LUN, no daemon either.
	[ "${be%@*}" = fio-rbd ] && target=(--ioengine=rbd --pool=rbd --rbdname="$RBD_IMG"
		--clientname=admin --size="${SIZE_MB}M")
	for row in $ROWS; do
		# shellcheck disable=SC2046
		set -- $(row_args "$row")
		rw=$1 bsz=$2 qd=$3
		js=/vmout/fio/$rep-$be-$row.json
		c0=0; [ -n "$pid" ] && c0=$(cpu_ticks "$pid")
		n0=$(num_cmds "$bs"); b0=$(busy_ticks); k0=$(cluster_ticks)
		timeout -k 10 $((FIO_S + 120)) "${FPIN[@]}" fio --name=b "${target[@]}" --direct=1 \
			--rw="$rw" --bs="$bsz" --iodepth="$qd" \
			--runtime="$FIO_S" --time_based --ramp_time=1 --randrepeat=0 \
			--norandommap --lat_percentiles=1 --output-format=json > "$js" 2> "$js.err"
		n1=$(num_cmds "$bs"); b1=$(busy_ticks); k1=$(cluster_ticks)
		c1=0; [ -n "$pid" ] && c1=$(cpu_ticks "$pid")
		# fio's JSON is parsed once at the end (python is slow to start under TCG).
		[ -n "$pid" ] && rss=$(rss_kib "$pid") || rss=0
		echo "$rep $be $row $rw $js $((n1 - n0)) $((c1 - c0)) $((b1 - b0)) $rss $((k1 - k0))" >> "$TT/rows.txt"
		# Our daemon's own view (totals since the LUN was opened): commands and
		# the latency from taking a command off the ring to completing it.
		[ "$STATD" = 1 ] && [ -x "$STAT" ] &&
			emit "STAT rep=$rep backend=$be row=$row $(timeout 20 "$STAT" -p 2>&1 | head -1)"
	done
}

DPID=""
STATD=0		# 1 while our own daemon serves (tcmu-stat can ask it)
STAT=$BUILD/tools/tcmu-stat
PIN=()		# (taskset -c CPU) for a backend named NAME@CPU: its server
FPIN=()		# and fio (the same CPU, or BENCH_SPLIT's)
CONF=""		# tcmu.conf text of the next ours-* daemon
start_daemon() {	# start_daemon ours|anchor LOGDIR
	local logd=$2
	mkdir -p "$logd" "$logd.conf"
	printf '%b' "$CONF" > "$logd.conf/tcmu.conf"
	logd_last=$logd
	if [ "$1" = anchor ]; then
		"${PIN[@]}" "$ANCHOR_BIN" --handler-path "$ANCHOR_HANDLERS" -l "$logd" > "$logd/stdout" 2>&1 &
	elif [ "$1" = exp ] || [ "$1" = exp-async ]; then
		local hd=$TT/exp-handlers
		mkdir -p "$hd"
		ln -sfn "$EXP_BUILD/handlers/file/handler_file.so" "$hd/handler_file.so"
		[ -f "$EXP_BUILD/handlers/glfs/handler_glfs.so" ] &&
			ln -sfn "$EXP_BUILD/handlers/glfs/handler_glfs.so" "$hd/handler_glfs.so"
		if [ "$1" = exp-async ]; then
			EXP_ASYNC_MIN=65536 "${PIN[@]}" "$EXP_BUILD/daemon/tcmu-runner" --handler-path "$hd" \
				-l "$logd" > "$logd/stdout" 2>&1 &
		else
			"${PIN[@]}" "$EXP_BUILD/daemon/tcmu-runner" --handler-path "$hd" -l "$logd" \
				> "$logd/stdout" 2>&1 &
		fi
	else
		TCMU_CONFIG_DIR=$logd.conf "${PIN[@]}" "$RUNNER" --handler-path "$(handler_dir)" \
			-l "$logd" > "$logd/stdout" 2>&1 &
	fi
	DPID=$!
	STATD=1; [ "$1" = anchor ] && STATD=0
	wait_for 60 nl_listening "$DPID" || {
		echo "daemon $1 not listening"; tail -n 20 "$logd"/* ; return 1; }
}

stop_daemon() {
	[ -n "$DPID" ] || return 0
	stop_pid "$DPID" TERM 30
	DPID="" STATD=0
}

# one_backend REP NAME
one_backend() {
	local rep=$1 be=${2%@*} label=$2 bsd="" dev="" name=b_${2%@*}_$1 ctl=()
	PIN=() FPIN=() CONF="" DLOG="" logd_last=""
	case $be in
	ours-nopoll|glfs-nopoll|rbd-nopoll) CONF='ring_poll_us = 0\n' ;;
	ours-poll50) CONF='ring_poll = fixed\nring_poll_us = 50\n' ;;
	esac
	case $2 in
	*@*) PIN=(taskset -c "${2#*@}") FPIN=("${PIN[@]}") ;;
	*) [ -n "$SPLIT" ] && PIN=(taskset -c "${SPLIT%:*}") FPIN=(taskset -c "${SPLIT#*:}") ;;
	esac
	case $be in
	fileio)
		bsd=$CFS/core/fileio_1/$name
		fileio_backstore "$name" "$BYTES" "$RAW" || { echo "fileio backstore failed"; return 1; }
		;;
	fio-gfapi)
		gluster_up || return 1
		log "rep $rep: $be (fio gfapi_async on $GLFS_VOL/bench.img)"
		run_rows "$rep" "$label" "" "" ""
		return 0
		;;
	fio-rbd)
		ceph_up || return 1
		log "rep $rep: $be (fio rbd engine on rbd/$RBD_IMG)"
		run_rows "$rep" "$label" "" "" ""
		return 0
		;;
	rbd|rbd-nopoll|rbd-nbaio|anchor-rbd)
		ceph_up || return 1
		local cfg=$RBD_CFG
		[ "$be" = rbd-nbaio ] && cfg="rbd/rbd/$RBD_IMG;conf=$TT/ceph-nbaio.conf"
		if [ "$be" != anchor-rbd ]; then
			start_daemon ours "$TT/log-$be-$rep" || return 1
			DLOG=$TT/log-$be-$rep
		else
			start_daemon anchor "$TT/log-$be-$rep" || return 1
		fi
		bsd=$CFS/core/user_1/$name
		user_backstore "$name" "$BYTES" "$cfg" 1 "hw_max_sectors=$HWMAX" ||
			{ echo "user backstore $be failed"; tail -n 20 "$TT/log-$be-$rep"/*; stop_daemon; return 1; }
		;;
	glfs|glfs-dpb|glfs-nopoll|glfs-exp)
		gluster_up || return 1
		if [ "$be" = glfs-exp ]; then
			start_daemon exp "$TT/log-$be-$rep" || return 1
		else
			start_daemon ours "$TT/log-$be-$rep" || return 1
		fi
		bsd=$CFS/core/user_1/$name
		ctl=("hw_max_sectors=$HWMAX")
		[ "$be" = glfs-dpb ] && ctl+=("data_pages_per_blk=16")
		DLOG=$TT/log-$be-$rep
		user_backstore "$name" "$BYTES" "glfs/$GLFS_VOL@127.0.0.1/bench.img" 1 "${ctl[@]}" ||
			{ echo "user backstore $be failed"; tail -n 20 "$TT/log-$be-$rep"/*; stop_daemon; return 1; }
		;;
	ours|ours-nopoll|ours-poll50|ours-1m|ours-hw128|ours-dpb|ours-da8|anchor|exp|exp-async|qcow-pre|qcow-sparse|qcow-raw)
		case $be in
		ours|ours-nopoll|ours-poll50|ours-1m|exp|exp-async) ctl=("hw_max_sectors=$HWMAX") ;;
		qcow-pre|qcow-sparse|qcow-raw) ctl=("hw_max_sectors=$HWMAX") ;;
		ours-hw128) ctl=() ;;
		ours-dpb) ctl=("hw_max_sectors=$HWMAX" "data_pages_per_blk=16") ;;
		ours-da8) ctl=("hw_max_sectors=$HWMAX" "max_data_area_mb=8") ;;
		anchor) ctl=("hw_max_sectors=$HWMAX") ;;
		esac
		if [ "$be" = anchor ]; then
			start_daemon anchor "$TT/log-$be-$rep" || return 1
			cfg="qcow/$QC"
		elif [ "$be" = exp ] || [ "$be" = exp-async ]; then
			start_daemon "$be" "$TT/log-$be-$rep" || return 1
			cfg="file/$RAW"
		elif [ "$be" = qcow-pre ]; then
			start_daemon ours "$TT/log-$be-$rep" || return 1
			cfg="qcow/$QC"
			DLOG=$TT/log-$be-$rep
		elif [ "$be" = qcow-raw ]; then
			start_daemon ours "$TT/log-$be-$rep" || return 1
			cfg="qcow/$RAW"
			DLOG=$TT/log-$be-$rep
		elif [ "$be" = qcow-sparse ]; then
			# A new image each time, so that the write rows allocate.
			rm -f "$SCRATCH/sparse.qcow2"
			qemu-img create -q -f qcow2 "$SCRATCH/sparse.qcow2" "${SIZE_MB}M" ||
				{ echo "qemu-img create (sparse) failed"; return 1; }
			start_daemon ours "$TT/log-$be-$rep" || return 1
			cfg="qcow/$SCRATCH/sparse.qcow2"
			DLOG=$TT/log-$be-$rep
		else
			start_daemon ours "$TT/log-$be-$rep" || return 1
			cfg="file/$RAW"
			DLOG=$TT/log-$be-$rep
		fi
		bsd=$CFS/core/user_1/$name
		user_backstore "$name" "$BYTES" "$cfg" 1 "${ctl[@]}" ||
			{ echo "user backstore $be failed"; tail -n 20 "$TT/log-$be-$rep"/*; stop_daemon; return 1; }
		;;
	loop)
		# the kernel loop device, direct I/O on the same file
		dev=$(losetup --direct-io=on --show -f "$RAW") || { echo "losetup failed"; return 1; }
		;;
	ublk|ublk-q1)
		# our file handler over ublk (tcmu-ublk), one queue per guest CPU
		local nq=1
		[ "$be" = ublk ] && nq=$(nproc)
		modprobe ublk_drv || { echo "no ublk_drv in $(uname -r)"; return 1; }
		"${PIN[@]}" "$UBLK" add --name "$name" --queues "$nq" --depth 128 \
			--max-sectors "$HWMAX" --handler-path "$(handler_dir)" "file/$RAW" \
			> "$TT/ublk.dev" 2> "$TT/ublk.err" || { echo "tcmu-ublk add failed"; cat "$TT/ublk.err"; return 1; }
		dev=$(cat "$TT/ublk.dev")
		DPID=$("$UBLK" list | awk -v d="$dev" '$2 == d { print $7 }')
		wait_for 10 test -b "$dev" || { echo "$dev missing"; return 1; }
		;;
	*) echo "unknown backend $be"; return 1 ;;
	esac
	[ -n "$dev" ] || dev=$(loop_lun "$bsd") || { echo "no LUN for $be"; return 1; }
	# Warm the page cache the same way for every backend (once per boot is
	# enough: 6 GiB guest, 2 x SIZE_MB of images).
	[ -f "$TT/warm" ] || { cat "$RAW" "$QC" > /dev/null; touch "$TT/warm"; }
	log "rep $rep: $be on $dev ($(cat /sys/block/"${dev#/dev/}"/queue/max_sectors_kb) KiB max IO)"
	# How much of each image is in the page cache now (a read that misses goes
	# through the loop device under the scratch fs: a slower row).
	emit "CACHE rep=$rep backend=$label $(fincore --bytes --noheadings --output RES,FILE "$RAW" "$QC" |
		awk '{ printf "%s=%s ", $2, $1 }')$(awk '/^(MemFree|Cached|Dirty):/ { printf "%s=%s ", $1, $2 }' /proc/meminfo)"
	run_rows "$rep" "$label" "$dev" "$bsd" "$DPID"
	# Where the daemon's CPU went, per thread (ticks over the whole backend).
	# shellcheck disable=SC2046 # one word per thread wanted
	[ -n "$DPID" ] && emit "THREADS rep=$rep backend=$label" $(for t in /proc/"$DPID"/task/*; do
		printf '%s:%s ' "$(tr ' ' '_' < "$t/comm")" "$(awk '{ print $14 + $15 }' "$t/stat")"
	done)
	case $be in
	loop) losetup -d "$dev" ;;
	ublk|ublk-q1) "$UBLK" del "$name" || echo "tcmu-ublk del $name failed"; DPID="" ;;
	*)
		loop_unexport "$bsd"
		backstore_delete "$bsd" 60 || echo "backstore $bsd removal failed"
		;;
	esac
	stop_daemon
	# What the ring thread saw (spin decisions, commands per pass, in flight).
	[ -n "$DLOG" ] && grep -h "ring spin" "$DLOG"/*.log 2>/dev/null | tr -s ' ' |
		sed "s/^/SPIN rep=$rep backend=$label /" | tee -a "$RES"
	[ -n "${logd_last:-}" ] && cp -r "$logd_last" /vmout/ 2>/dev/null
	dmesg_check || true
}

dmesg_mark
emit "INFO kernel=$(uname -r) cpus=$(nproc) mem_mib=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))" \
	"size_mb=$SIZE_MB fio_s=$FIO_S reps=$REPS hw_max_sectors=$HWMAX" \
	"anchor=$("$ANCHOR_BIN" --version 2>&1 | head -1 | tr ' ' '_')" \
	"clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# Optional: a program printing the cost of clock_gettime in this guest.
[ -n "${BENCH_CLOCK_PROBE:-}" ] && log "clock_gettime: $("$BENCH_CLOCK_PROBE" 2>&1)"
for rep in $(seq 1 "$REPS"); do
	for be in $BACKENDS; do
		one_backend "$rep" "$be" || { echo "backend $be failed in rep $rep"; cleanup_targets; stop_daemon; }
	done
done
ROWS=$EXTRA_ROWS
for be in $EXTRA; do
	one_backend 1 "$be" || { echo "backend $be failed"; cleanup_targets; stop_daemon; }
done
cleanup_targets
[ -f "$TT/gluster-up" ] && "$GL" stop
[ -f "$TT/ceph-up" ] && "$CEPH_SH" stop

# One RESULT line per row: fio figures + daemon/guest CPU per SCSI command.
python3 - "$TT/rows.txt" "$HZ" <<'EOP' | tee -a "$RES"
import json, sys
hz = float(sys.argv[2])
for ln in open(sys.argv[1]):
    rep, be, row, rw, js, cmds, cpu, busy, rss, clus = ln.split()
    cmds, cpu, busy, clus = int(cmds), int(cpu), int(busy), int(clus)
    fio_cpu = -1
    try:
        j = json.load(open(js))["jobs"][0]
        d = j["write" if "write" in rw else "read"]
        lat = d.get("lat_ns", {})
        pct = lat.get("percentile") or d.get("clat_ns", {}).get("percentile", {})
        if cmds <= 0:
            cmds = d["total_ios"]
        # fio's job thread (fio's own usr_cpu/sys_cpu, percent of one CPU over
        # the job's run time), as ticks; librbd's or gfapi's threads in fio
        # (fio-rbd, fio-gfapi) are not in it.
        fio_cpu = (j["usr_cpu"] + j["sys_cpu"]) / 100.0 * j["job_runtime"] / 1000.0 * hz
        fio = "iops=%.1f mibs=%.2f lat_mean_us=%.1f lat_p99_us=%.1f ios=%d" % (
            d["iops"], d["bw_bytes"] / 1048576.0, lat.get("mean", -1000) / 1000.0,
            pct.get("99.000000", -1000) / 1000.0, d["total_ios"])
    except Exception as e:
        fio = "error=%s" % type(e).__name__
    per = lambda t: "%.1f" % (t * 1e6 / hz / cmds) if cmds > 0 else "-1"
    print("RESULT rep=%s backend=%s row=%s %s cmds=%d cpu_us_per_cmd=%s "
          "sys_cpu_us_per_cmd=%s rss_kib=%s cluster_cpu_us_per_cmd=%s "
          "fio_cpu_us_per_cmd=%s" % (rep, be, row, fio, cmds,
          per(cpu) if be != "fileio" else "-1", per(busy), rss, per(clus),
          per(fio_cpu) if fio_cpu >= 0 else "-1"))
EOP
echo "DONE"
exit 0
