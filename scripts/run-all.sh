#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the test lists in every MMU mode on the test kernel, then in the debug
# modes on the debug kernel; print one line per run and the total.
#
#   run-all.sh RESULTS "LISTS" "MODES" "DEBUG_MODES" KERNEL DEBUG_KERNEL INITRD
#
# BESIDE_FIRST, BESIDE_THEN: commands (make test's: build the debug kernel;
# run the bisect check) run one after the other in the background, at nice
# 19, beside the runs on the test kernel, which leave about half of the CPU
# time idle (most selftests keep one vCPU of the two busy).  The runs on the
# debug kernel wait for BESIDE_FIRST; the end waits for BESIDE_THEN.  Their
# output goes to RESULTS/beside.log, printed at the end; either failing
# fails the run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=${1:?}
lists=$2
modes=$3
debug_modes=$4
kernel=$5
debug_kernel=$6
initrd=$7

mkdir -p "$results"
summary=$results/summary.txt
failures=$results/failures.txt
: > "$summary"
: > "$failures"
rc=0
# What made a run fail, in a few lines: its verdicts, the first lines of a
# splat, the last lines of each failed test.  .ci/run prints them last, as
# a CI log may keep only its tail.
digest() {
	local log=$1
	grep -E '^run-qemu: (FAILED|QEMU exited|the test init|kernel splat)' "$log"
	grep -E -m 4 '^    [0-9]+:' "$log"
	awk '/^run-qemu: output of the failed test:/ { n = 0; on = 1; next }
	     on && /^    / { buf[n++ % 6] = $0; next }
	     on { for (i = (n > 6 ? n - 6 : 0); i < n; i++) print buf[i % 6]; on = 0 }' "$log"
}
run() {
	local line st
	# Timed as a step of make test (STEPS, scripts/steps.sh): "LIST MODE".
	"$here/steps.sh" run "$4 $3${6:+-debug}" "$here/run-qemu.sh" "$@" | tee "$results/last.log"
	st=${PIPESTATUS[0]}
	line=$(tail -n 1 "$results/last.log")
	echo "$4 $line" >> "$summary"
	if [ "$st" != 0 ]; then
		rc=1
		{ echo "$4 $3${6:+-debug}:"; digest "$results/last.log" | head -n 24 | sed 's/^/  /'; } >> "$failures"
	fi
}
beside=$results/beside
rm -rf "$beside"
mkdir -p "$beside"
if [ -n "${BESIDE_FIRST:-}${BESIDE_THEN:-}" ]; then
	[ -n "$debug_modes" ] || BESIDE_FIRST=
	# In a process group of its own, which an interrupted run kills.
	setsid nice -n 19 bash -c '
		{ [ -z "$1" ] || bash -c "$1"; }; echo $? > "$3/first.rc"
		{ [ -z "$2" ] || bash -c "$2"; }; echo $? > "$3/then.rc"' \
		beside "${BESIDE_FIRST:-}" "${BESIDE_THEN:-}" "$beside" > "$beside.log" 2>&1 < /dev/null &
	bpid=$!
	trap 'kill -- -"$bpid" 2>/dev/null' EXIT
	trap 'exit 130' INT TERM
	echo "run-all: beside the runs (nice 19): ${BESIDE_FIRST:-}${BESIDE_FIRST:+, then }${BESIDE_THEN:-}"
fi
# Wait for the file $1 (an exit code) that the background job writes, timed
# as the step $2; return that exit code.
wait_beside() {
	[ -n "${bpid:-}" ] || return 0
	"$here/steps.sh" run "$2" bash -c '
		while [ ! -e "$1" ] && kill -0 "$2" 2>/dev/null; do
			sleep 5
		done
		exit "$(cat "$1" 2>/dev/null || echo 1)"' wait_beside "$1" "$bpid"
}
for list in $lists; do
	for m in $modes; do
		run "$kernel" "$initrd" "$m" "$list" "$results"
	done
done
if [ -n "$debug_modes" ]; then
	if wait_beside "$beside/first.rc" "waiting for kernel-debug"; then
		for list in $lists; do
			for m in $debug_modes; do
				run "$debug_kernel" "$initrd" "$m" "$list" "$results" debug
			done
		done
	else
		echo "run-all: the debug kernel did not build (see $beside.log); no runs on it"
		echo "debug kernel: build failed, no runs on it" >> "$failures"
		rc=1
	fi
fi
if [ -n "${bpid:-}" ]; then
	wait_beside "$beside/then.rc" "waiting for bisect check" || {
		echo "beside the runs, failed: ${BESIDE_THEN:-}" >> "$failures"
		grep -E '^(FAIL|    )' "$beside.log" | head -n 20 | sed 's/^/  /' >> "$failures"
		rc=1
	}
	wait "$bpid"
	echo
	echo "== beside the runs ($beside.log)"
	cat "$beside.log"
fi
rm -f "$results/last.log"
echo
echo "== summary (logs in $results)"
cat "$summary"
awk '{ for (i = 1; i <= NF; i++) {
	if ($(i + 1) ~ /^passed,?$/) p += $i;
	if ($(i + 1) ~ /^failed,?$/) f += $i;
	if ($(i + 1) ~ /^skipped,?$/) s += $i;
	if ($(i + 1) ~ /^retried/) r += $i } }
     END { printf "%d passed, %d failed, %d skipped, %d known TCG flakes retried\n", p, f, s, r }' "$summary" |
	tee "$results/total.txt"
exit $rc
