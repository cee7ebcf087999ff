#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a test kernel under QEMU TCG (-cpu max: AMD SVM with nested paging, so
# kvm_amd runs inside) and run one test list in one MMU mode.  The tests write
# KTAP to the second serial port; the kernel console goes to the first and is
# scanned for splats, any of which fails the run even if every test passed.
#
#   run-qemu.sh BZIMAGE INITRD MODE LIST OUTDIR [debug]
# MODE: default (TDP MMU), tdp_mmu0 (kvm.tdp_mmu=0), shadow (kvm_amd.npt=0)
# Prints "MODE: N passed, N failed, N skipped"; exits non-zero on any failure.
# KVMTEST_QEMU: the QEMU to run (default: qemu-system-x86_64 from PATH).
set -uo pipefail

kernel=${1:?usage: run-qemu.sh BZIMAGE INITRD MODE LIST OUTDIR [debug]}
initrd=${2:?}
mode=${3:?}
list=${4:?}
outdir=${5:?}
debug=${6:-}
tag=$mode${debug:+-debug}
mkdir -p "$outdir"
console=$outdir/console-$list-$tag.log
results=$outdir/results-$list-$tag.ktap
rm -f "$console" "$results"

case "$mode" in
default) params= ;;
tdp_mmu0) params="kvm.tdp_mmu=0" ;;
shadow) params="kvm_amd.npt=0" ;;
*) echo "run-qemu: unknown mode $mode" >&2; exit 2 ;;
esac
append="console=ttyS0 panic=-1 oops=panic mitigations=off $params kvmtest.mode=$mode kvmtest.list=$list"
[ -n "$debug" ] && append="$append kvmtest.debug=1"
[ -n "${KVMTEST_APPEND:-}" ] && append="$append $KVMTEST_APPEND"

mem=${QEMU_MEM:-4G}
smp=${QEMU_SMP:-2}
limit=${QEMU_TIMEOUT:-3600}
accel=${QEMU_ACCEL:-tcg,thread=multi}
qemu=${KVMTEST_QEMU:-qemu-system-x86_64}

echo "run-qemu: $list in mode $tag (timeout ${limit}s, $("$qemu" --version | head -n 1))"
start=$(date +%s)
# Show progress while QEMU runs.
: > "$results"
tail -n +1 -F "$results" 2>/dev/null | grep --line-buffered -E '^(not )?ok |^# run ' &
tailer=$!
timeout --foreground -k 10 "$limit" "$qemu" \
	-accel "$accel" -cpu max -smp "$smp" -m "$mem" \
	-display none -vga none -monitor none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	-serial "file:$console" -serial "file:$results" < /dev/null
qrc=$?
sleep 0.5
kill $tailer 2>/dev/null
wait $tailer 2>/dev/null
secs=$(( $(date +%s) - start ))

fail=0
pass=$(grep -c '^ok .*' "$results" | tr -d ' ')
skipped=$(grep -c '^ok .* # SKIP' "$results" | tr -d ' ')
failed=$(grep -c '^not ok ' "$results" | tr -d ' ')
pass=$((pass - skipped))
# Known TCG flakes run again (harness/init, "tcgflake"): counted, not hidden.
retried=$(grep -c '^# tcg-flake ' "$results" | tr -d ' ')
# The test that was running when the guest stopped: the last one started.
running=$(sed -n 's/^# run \([^:]*\):.*/\1/p' "$results" | tail -n 1)
if [ $qrc -ne 0 ]; then
	echo "run-qemu: QEMU exited with $qrc (124 = timed out after ${limit}s), last test started: ${running:-none}"
	failed=$((failed + 1))
elif ! grep -q '^# kvmtest-done' "$results"; then
	echo "run-qemu: the test init did not finish (kernel crash?), last test started: ${running:-none}"
	failed=$((failed + 1))
fi

# Splats: any of these on the console fails the run.
splat='WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace:|'
splat+='possible circular locking|possible recursive locking|inconsistent lock state|'
splat+='suspicious RCU usage|INFO: task .* blocked|rcu: INFO:|self-detected stall|'
splat+='UBSAN:|kernel BUG|lockdep is turned off|DEBUG_LOCKS_WARN_ON|list_add corruption|list_del corruption'
if grep -E -q "$splat" "$console"; then
	echo "run-qemu: kernel splat on the console ($console):"
	grep -E -n -A12 "$splat" "$console" | head -n 60 | sed 's/^/    /'
	failed=$((failed + 1))
	fail=1
fi
grep '^not ok ' "$results" | sed 's/^/run-qemu: FAILED: /'
# What a failed test printed (its last 30 lines), so that a CI log that keeps
# only the console of this script still says which assertion failed.
awk '/^# run /{n=0} {buf[n++ % 30]=$0}
     /^not ok /{print "run-qemu: output of the failed test:"
		for (i = (n > 30 ? n - 30 : 0); i < n; i++) print "    " buf[i % 30]}' "$results"
grep '^# tcg-flake ' "$results" | sed 's/^# /run-qemu: /'
echo "$tag: $pass passed, $failed failed, $skipped skipped, $retried retried (${secs}s)"
[ "$failed" = 0 ] && [ $fail = 0 ]
