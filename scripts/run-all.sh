#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the test lists in every MMU mode on the test kernel, and in the debug
# modes on the debug kernel; print one line per run and the total.
#
#   run-all.sh RESULTS "LISTS" "MODES" "DEBUG_MODES" KERNEL DEBUG_KERNEL INITRD
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
: > "$summary"
rc=0
run() {
	local line
	# Timed as a step of make test (STEPS, scripts/steps.sh): "LIST MODE".
	"$here/steps.sh" run "$4 $3${6:+-debug}" "$here/run-qemu.sh" "$@" | tee "$results/last.log"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	line=$(tail -n 1 "$results/last.log")
	echo "$4 $line" >> "$summary"
}
for list in $lists; do
	for m in $modes; do
		run "$kernel" "$initrd" "$m" "$list" "$results"
	done
	for m in $debug_modes; do
		run "$debug_kernel" "$initrd" "$m" "$list" "$results" debug
	done
done
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
