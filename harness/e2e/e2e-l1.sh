#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end cases, run in L1 (the series kernel under QEMU TCG) by
# harness/init from the e2e list: Debian's QEMU, with KVM, runs an L2 guest
# (the same bzImage, harness/e2e/init-l2).
#
#   e2e-l1.sh info                 L1's boot time and MMU mode, QEMU's version
#   e2e-l1.sh boot                 boot L2, run a command in it, power it off
#   e2e-l1.sh migrate ring|bitmap  live-migrate L2 while memwriter runs in it,
#                                  with the KVM dirty ring or the dirty bitmap,
#                                  then have L2 verify every page
#
# The migration goes through a file: the source QEMU migrates with
# "exec:cat > FILE" while the guest keeps writing (so the iterative phase
# resends re-dirtied pages), a destination QEMU then takes the stream with
# -incoming "exec:cat FILE" and the guest runs on there.  QEMU is driven
# through its human monitor on a pipe chardev (the test kernel has no
# sockets).  The source's guest memory when the migration completed (its
# vCPUs stopped) and the destination's once it loaded the stream (started
# with -S, before it runs) are saved with pmemsave and must be equal: that
# is the direct proof that dirty tracking lost no page, independent of what
# L2 does afterwards.  Kernel command line (L1): e2e.corrupt=1 flips one byte of a
# memwriter page in the stream before the destination loads it (the
# verification must then fail); e2e.pages=, e2e.rate= (memwriter),
# e2e.mem=, e2e.smp=, e2e.cpu= (L2), e2e.ring= (dirty ring entries),
# e2e.bandwidth= (migration max-bandwidth), e2e.downtime= (ms).
#
# Output: "e2e: key=value" lines, which scripts/e2e.sh reads back from the
# KTAP; exit 0 on success.

QEMU=/usr/bin/qemu-system-x86_64
L2=/e2e
W=/tmp/e2e

pages=8192 rate=3000 mem=256M smp=1 ring=4096 bandwidth=32M downtime=300
# No XSAVE in L2: under TCG's nested SVM, KVM's CPUID 0xD does not follow
# L2's XCR0 (it keeps reporting 576 bytes), and L2 warns "XSAVE consistency
# problem" at boot and can take "bad frame in rt_sigreturn" (measured); with
# xsave=off L2 uses FXSAVE and boots clean.
cpu=host,xsave=off corrupt=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	e2e.pages=*) pages=${arg#*=} ;;
	e2e.rate=*) rate=${arg#*=} ;;
	e2e.mem=*) mem=${arg#*=} ;;
	e2e.smp=*) smp=${arg#*=} ;;
	e2e.ring=*) ring=${arg#*=} ;;
	e2e.bandwidth=*) bandwidth=${arg#*=} ;;
	e2e.downtime=*) downtime=${arg#*=} ;;
	e2e.cpu=*) cpu=${arg#*=} ;;
	e2e.corrupt=1) corrupt=1 ;;
	esac
done

# QEMU's -m size in bytes.
case "$mem" in
*G) membytes=$((${mem%G} << 30)) ;;
*M) membytes=$((${mem%M} << 20)) ;;
*) membytes=$mem ;;
esac

up() { cut -d' ' -f1 /proc/uptime; }
since() { awk "BEGIN { printf \"%.1f\", $(up) - $1 }"; }
say() { echo "e2e: $*"; }
die() {
	# On a line of its own even after a log without a final newline:
	# harness/init looks for "^e2e-l1: tcg-flake: ".
	printf '\ne2e-l1: %s\n' "$*"
	# Last, so that it is in the part of the output the KTAP keeps:
	# .ci/run fails on it even though it does not fail on other e2e
	# failures (docs/testbed.md).
	[ "${same:-}" = 0 ] &&
		echo "e2e-l1: lost-pages: the destination's memory differed from the source's at the stop"
	cleanup
	exit 1
}

# Kill what this case started (QEMUs and the FIFO readers), drop the memory
# images (256 MiB each in L1's tmpfs).
cleanup() {
	rm -f $W/src.mem $W/dst.mem
	for f in $W/*.pid; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	sleep 0.2
}

# QEMU NAME ACCEL EXTRA...: start a QEMU in the background, its L2 console
# in $W/NAME.console, its ttyS1 (control) readable in $W/NAME.ctl.log and
# writable through $W/NAME.ctl.in, its monitor through hmp NAME.
qemu_start() {
	name=$1 accel=$2
	shift 2
	for c in ctl mon; do
		rm -f $W/$name.$c.in $W/$name.$c.out $W/$name.$c.log
		mkfifo $W/$name.$c.in $W/$name.$c.out
	done
	$QEMU -L /usr/share/qemu -L /usr/share/seabios \
		-nodefaults -display none -vga none -no-reboot \
		-accel "$accel" -cpu "$cpu" -smp "$smp" -m "$mem" \
		-kernel $L2/bzImage -initrd $L2/l2.cpio.gz \
		-serial file:$W/$name.console -d cpu_reset -D $W/$name.reset.log \
		-chardev pipe,id=ctl,path=$W/$name.ctl -serial chardev:ctl \
		-chardev pipe,id=mon,path=$W/$name.mon -mon chardev=mon,mode=readline \
		"$@" > $W/$name.stderr 2>&1 &
	echo $! > $W/$name.pid
	for c in ctl mon; do
		cat $W/$name.$c.out > $W/$name.$c.log &
		echo $! > $W/$name-$c.reader.pid
	done
}

# Processes that have the migration stream open.
stream_writers() {
	for f in /proc/[0-9]*/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "$W/mig" ] && echo "$f"
	done
}

qemu_running() { kill -0 "$(cat $W/$1.pid 2>/dev/null)" 2>/dev/null; }

# wait_for FILE REGEX SECS [NAME]: wait until FILE has a line matching REGEX
# (and QEMU NAME, if given, still runs).
wait_for() {
	n=0
	while ! grep -E -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt $(($3 * 10)) ] && return 1
		if [ -n "${4:-}" ] && ! qemu_running "$4"; then
			grep -E -q "$2" "$1" 2>/dev/null
			return
		fi
		sleep 0.1
	done
}

# hmp NAME COMMAND: run a monitor command, print its output.
hmp() {
	log=$W/$1.mon.log
	off=$(wc -c < $log 2>/dev/null || echo 0)
	# Opened read-write: a FIFO opened for writing only would block
	# forever once QEMU, its reader, is gone.
	echo "$2" 1<>$W/$1.mon.in
	n=0
	while [ $n -lt 300 ] && qemu_running "$1"; do
		out=$(tail -c +$((off + 1)) $log | tr -d '\r')
		case "$out" in *"(qemu)"*) break ;; esac
		n=$((n + 1))
		sleep 0.1
	done
	# Drop the prompt and readline's echo of the command.
	printf '%s\n' "$out" | grep -v -e '^(qemu)' -e "$(printf '\033')"
}

# save_mem NAME: save QEMU NAME's guest-physical memory in $W/NAME.mem.  The
# monitor may prompt again before the file is complete: wait for its size.
save_mem() {
	rm -f $W/$1.mem
	# Quoted: HMP would read an unquoted "/tmp/..." as a division of the
	# size.
	hmp "$1" "pmemsave 0 $membytes \"$W/$1.mem\""
	n=0
	while [ "$(wc -c < $W/$1.mem 2>/dev/null)" != "$membytes" ]; do
		n=$((n + 1))
		[ $n -gt 600 ] && die "pmemsave in QEMU '$1' did not write $membytes bytes in 60s"
		sleep 0.1
	done
}

# wait_status NAME REGEX WHY: wait (300 tries) until QEMU NAME's "info
# status" matches "status: REGEX"; fail with WHY if it does not or QEMU ends.
wait_status() {
	n=0
	until hmp "$1" "info status" | grep -q "status: $2"; do
		n=$((n + 1))
		if [ $n -gt 300 ] || ! qemu_running "$1"; then
			diagnose
			die "$3"
		fi
		sleep 0.2
	done
}

# Wait for QEMU NAME to exit by itself (L2 powered off), at most SECS.
qemu_wait() {
	n=0
	while qemu_running "$1"; do
		n=$((n + 1))
		[ $n -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	rm -f $W/$1.pid
}

# Kernel splats in an L2 console (the same list as scripts/run-qemu.sh).
splat='WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace:|'
splat="${splat}possible circular locking|possible recursive locking|inconsistent lock state|"
splat="${splat}suspicious RCU usage|INFO: task .* blocked|rcu: INFO:|self-detected stall|"
splat="${splat}UBSAN:|kernel BUG|lockdep is turned off|DEBUG_LOCKS_WARN_ON|list_add corruption|list_del corruption"
check_console() {
	if grep -E -q "$splat" $W/$1.console; then
		grep -E -B3 -A12 "$splat" $W/$1.console | head -n 30
		die "kernel splat on L2's console ($1)"
	fi
}

# exit_report NAME: how QEMU NAME, no longer running, ended.  -no-reboot: a
# guest reset (e.g. a triple fault) ends QEMU quietly, with status 0;
# -d cpu_reset logged the vCPU state at each reset, the first one being
# QEMU's own at start-up.
exit_report() {
	wait "$(cat $W/$1.pid)"
	qstatus=$?
	echo "--- the QEMU '$1' exited with status $qstatus (0: it ended itself)"
	echo "--- $W/$1.reset.log: $(grep -c 'CPU Reset' $W/$1.reset.log 2>/dev/null) CPU resets, the last:"
	awk '/CPU Reset/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' \
		$W/$1.reset.log 2>/dev/null | head -n 30
}

# L2's kernel crashed on the source (while booting, or on the source QEMU
# before the migration completed), where its memory is the real one, so a
# page lost by dirty tracking cannot be the cause: under TCG this happens now
# and then, also on the base kernel (docs/testbed.md).  Say so in
# the words harness/init looks for, so that it runs the case again; so do a
# reset on the source, and a crash or reset on the destination once its
# memory was shown equal to the source's.  Anything else fails at once.
l2_died_early() {
	grep -E -q 'Kernel panic|Oops|general protection fault' $W/$1.console 2>/dev/null &&
		die "tcg-flake: L2's kernel crashed in QEMU '$1', where no migration had completed"
}

# l2_early_failure NAME WHAT: L2 did not get as far as WHAT in QEMU NAME,
# which ran no migration: L2's memory is the real one, so whether L2 crashed,
# reset or hung, it is not a page lost by dirty tracking but a TCG flake (a
# normal L2 boot took 14-24 s here); a QEMU that failed is not.
l2_early_failure() {
	diagnose
	qemu_running "$1" &&
		die "tcg-flake: L2 hung in QEMU '$1': not as far as $2 after ${early}s"
	exit_report "$1"
	l2_died_early "$1"
	[ $qstatus = 0 ] && die "tcg-flake: L2 reset in QEMU '$1' before $2"
	die "QEMU '$1' failed (status $qstatus) before $2"
}

# The state of every QEMU and FIFO reader this case started: their threads'
# kernel stacks, their VMs' changing KVM stats, and the ends of the logs
# (harness/kvm-watchdog's report, also what its watchdog prints).
logs='*.console *.stderr *.ctl.log info'
diagnose() {
	kvm-watchdog report -d $W -l "$logs"
}

# Watchdog: after E2E_LIMIT seconds (e2e.limit=, under the list's timeout),
# show where the case hangs and kill its QEMUs, so that it fails with a
# report instead of being killed silently by harness/init.
limit=400
# How long L2 may take to boot (to its report, or to memwriter ready).
early=120
for arg in $(cat /proc/cmdline); do
	case "$arg" in e2e.limit=*) limit=${arg#*=} ;; esac
done
# Nothing of an earlier case: its logs would be taken for this one's.
rm -rf $W
mkdir -p $W
# harness/kvm-watchdog, told by $W/watchdog.done that the case ended, and
# waited for, not killed: a report once begun is finished first.
if [ "${1:-}" != info ]; then
	kvm-watchdog wait $limit $W/watchdog.done -d $W -l "$logs" \
		-h "e2e-l1: watchdog: the case still runs after ${limit}s" &
	watchdog=$!
fi
trap 'cleanup; [ -n "${watchdog:-}" ] && : > $W/watchdog.done && wait $watchdog' EXIT

case "${1:-}" in
info)
	say "l1_uptime_s=$(up)"
	say "l1_kernel=$(uname -r) tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu) npt=$(cat /sys/module/kvm_amd/parameters/npt)"
	say "qemu=$($QEMU --version | head -n 1)"
	[ -c /dev/kvm ] || die "no /dev/kvm"
	;;
boot)
	[ -n "${2:-}" ] && cpu=$2
	t0=$(up)
	qemu_start boot kvm -append "console=ttyS0 panic=-1 mitigations=off e2e.role=boot"
	wait_for $W/boot.ctl.log 'e2e-l2: result' $early boot ||
		l2_early_failure boot "it reported"
	t_up=$(sed -n 's/.*e2e-l2: up.* uptime=\([0-9.]*\).*/\1/p' $W/boot.ctl.log | head -n 1)
	qemu_wait boot 60 || die "L2 did not power off"
	secs=$(since $t0)
	grep 'e2e-l2:' $W/boot.ctl.log | tr -d '\r'
	check_console boot
	grep -q 'e2e-l2: result PASS' $W/boot.ctl.log || die "L2 failed"
	say "l2_cpu=$cpu l2_boot_to_init_s=$t_up l2_boot_s=$secs (QEMU start to L2 powered off)"
	;;
migrate)
	how=${2:?ring or bitmap}
	case "$how" in
	ring) accel="kvm,dirty-ring-size=$ring" ;;
	bitmap) accel=kvm ;;
	*) die "unknown dirty tracking $how" ;;
	esac
	rm -f $W/mig
	append="console=ttyS0 panic=-1 mitigations=off e2e.role=migrate e2e.pages=$pages e2e.rate=$rate"
	t0=$(up)
	qemu_start src "$accel" -append "$append"
	wait_for $W/src.ctl.log 'memwriter: ready' $early src ||
		l2_early_failure src "memwriter was ready"
	t_ready=$(since $t0)
	# The dirty ring really is in use: QEMU warns and falls back to the
	# bitmap when KVM refuses it, and maps the ring pages of each vCPU
	# (at KVM_DIRTY_LOG_PAGE_OFFSET, 64 pages into the vCPU fd) when not.
	if [ "$how" = ring ]; then
		grep -i 'dirty ring' $W/src.stderr && die "QEMU did not enable the dirty ring"
		rmap=$(grep -c ' 00040000 .*kvm-vcpu' /proc/$(cat $W/src.pid)/maps)
		[ "$rmap" -ge 1 ] || { grep kvm /proc/$(cat $W/src.pid)/maps; die "no dirty ring mapped"; }
		say "dirty_ring_entries=$ring vcpu_ring_mappings=$rmap"
	fi
	# Let the writer get going.
	sleep 2
	hmp src "migrate_set_parameter max-bandwidth $bandwidth" > /dev/null
	hmp src "migrate_set_parameter downtime-limit $downtime" > /dev/null
	w0=$(grep progress $W/src.ctl.log | tail -n 1)
	t1=$(up)
	hmp src "migrate -d \"exec:cat > $W/mig\""
	status=
	n=0
	syncs_seen=
	while [ $n -lt 600 ]; do
		hmp src "info migrate" > $W/info
		status=$(sed -n 's/^Migration status: *//p' $W/info)
		s=$(sed -n 's/^dirty sync count: *//p' $W/info)
		[ -n "$s" ] && [ "$s" != "${syncs_seen##* }" ] && syncs_seen="$syncs_seen $s"
		case "$status" in completed|failed|cancelled) break ;; esac
		if ! qemu_running src; then
			diagnose
			exit_report src
			l2_died_early src
			[ $qstatus = 0 ] &&
				die "tcg-flake: the source QEMU ended (L2 reset) during the migration, where L2's memory is the real one"
			die "the source QEMU failed during the migration"
		fi
		n=$((n + 1))
		sleep 0.5
	done
	t_mig=$(since $t1)
	w1=$(grep progress $W/src.ctl.log | tail -n 1)
	grep -E '^(Migration status|total time|downtime|transferred ram|throughput|total ram|duplicate|normal|dirty sync count):' $W/info
	[ "$status" = completed ] || die "migration $status after ${t_mig}s"
	hmp src "info status" | grep -q postmigrate || die "source not in postmigrate"
	# The source's memory as the migration left it, for the comparison
	# with the destination's.
	t5=$(up)
	save_mem src
	save_src=$(since $t5)
	echo quit 1<>$W/src.mon.in
	qemu_wait src 30 || die "source QEMU did not quit"
	check_console src
	# The stream is complete only when the "cat" that QEMU spawned for
	# exec: has written all of it: QEMU does not wait for it (it signals
	# the shell and leaves), so cat may still be draining the pipe.
	t3=$(up)
	n=0
	while [ -n "$(stream_writers)" ]; do
		n=$((n + 1))
		[ $n -gt 600 ] && die "the migration stream is still being written after 60s"
		sleep 0.1
	done
	say "migrate_$how: stream_writer_wait_s=$(since $t3)"

	field() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" $W/info; }
	syncs=$(field 'dirty sync count')
	normal=$(field normal)
	dup=$(field duplicate)
	xfer=$(field 'transferred ram')
	total=$(field 'total ram')
	downt=$(field downtime)
	ww0=$(echo "$w0" | sed -n 's/.*writes=\([0-9]*\).*/\1/p')
	ww1=$(echo "$w1" | sed -n 's/.*writes=\([0-9]*\).*/\1/p')
	during=$(( ${ww1:-0} - ${ww0:-0} ))
	say "migrate_$how: src_boot_to_writer_ready_s=$t_ready migration_s=$t_mig downtime_ms=$downt"
	say "migrate_$how: dirty_sync_count=$syncs (seen:$syncs_seen) normal_pages=$normal duplicate_pages=$dup transferred_kB=$xfer total_ram_kB=$total writer_pages=$pages"
	say "migrate_$how: writer_writes_during_migration>=$during stream_bytes=$(wc -c < $W/mig)"
	# Iterative: the writer kept running and the RAM was synced more than
	# once (setup, each iteration, completion).
	[ "${syncs:-0}" -ge 3 ] || die "only ${syncs:-0} dirty syncs: not iterative"
	# L2 stalled on the source, where its memory is the real one.
	[ "$during" -gt 0 ] ||
		die "tcg-flake: the writer made no progress during the migration: L2 stalled on the source"

	if [ $corrupt = 1 ]; then
		/tests/memwriter corrupt $W/mig
	fi

	t2=$(up)
	qemu_start dst "$accel" -append "$append" -incoming "exec:cat $W/mig" -S
	# -S: once loaded, the guest stays paused ("paused (inmigrate)" while
	# loading) until its memory is saved and compared with the source's.
	wait_status dst 'paused$' "destination did not load the stream"
	t_load=$(since $t2)
	t5=$(up)
	save_mem dst
	save_dst=$(since $t5)
	t4=$(up)
	if /tests/memwriter cmpmem $W/src.mem $W/dst.mem; then
		same=1
	else
		same=0
	fi
	say "migrate_$how: memory_images_equal=$same save_src_s=$save_src save_dst_s=$save_dst compare_s=$(since $t4)"
	rm -f $W/src.mem $W/dst.mem
	hmp dst cont > /dev/null
	wait_status dst running "destination did not start running"
	echo verify 1<>$W/dst.ctl.in
	# L2's verification took 5.5-24.2 s here; a hung L2 must be seen before the
	# watchdog ends the whole case, which would hide why.
	if ! wait_for $W/dst.ctl.log 'e2e-l2: result' $early dst; then
		diagnose
		if ! qemu_running dst; then
			exit_report dst
			# With memory equal to the source's at the stop, the
			# crash is not a page lost by dirty tracking: a TCG flake
			# as on the source.
			[ $same = 1 ] && [ $qstatus = 0 ] &&
				die "tcg-flake: L2 reset on the destination, whose memory was equal to the source's"
			die "the destination QEMU exited before L2 reported: L2 reset after the migration"
		fi
		[ $same = 1 ] &&
			die "tcg-flake: L2 hung on the destination, whose memory was equal to the source's"
		die "no result from L2 after the migration"
	fi
	qemu_wait dst 60 || die "destination L2 did not power off"
	check_console dst
	# The destination ran the migrated guest, not a fresh boot of L2.
	if grep -q 'e2e-l2: up' $W/dst.ctl.log || grep -q 'Linux version' $W/dst.console; then
		die "the destination booted L2 afresh instead of resuming it"
	fi
	grep 'memwriter: page' $W/dst.ctl.log | tr -d '\r'
	say "migrate_$how: dst_load_s=$t_load total_s=$(since $t0)"
	say "migrate_$how: L2 after migration: $(grep -E 'memwriter: (PASS|FAIL)' $W/dst.ctl.log | tr -d '\r')"
	[ $same = 1 ] || die "the destination's memory differs from the source's at the stop ($how)"
	grep -q 'e2e-l2: result PASS' $W/dst.ctl.log || die "L2's verification failed after migration ($how)"
	;;
*)
	echo "usage: e2e-l1.sh info | boot | migrate ring|bitmap"
	exit 2
	;;
esac
cleanup
exit 0
