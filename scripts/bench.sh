#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run tests/bench.list (or $BENCH_LIST) on the base kernel and on the series kernel, with the
# same initramfs, in every MMU mode, then print the comparison tables.
#
#   bench.sh OUTDIR BASE_KERNEL SERIES_KERNEL INITRD
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
outdir=${1:?usage: bench.sh OUTDIR BASE_KERNEL SERIES_KERNEL INITRD}
base=$2
series=$3
initrd=$4
modes=${MODES:-default tdp_mmu0 shadow}
# BENCH_LIST: another list of tests/, e.g. bench-dirty-ring for its cases only.
export BENCH_LIST=${BENCH_LIST:-bench}
rc=0
for m in $modes; do
	"$here/run-qemu.sh" "$base" "$initrd" "$m" "$BENCH_LIST" "$outdir/base" || rc=1
	"$here/run-qemu.sh" "$series" "$initrd" "$m" "$BENCH_LIST" "$outdir/series" || rc=1
done
python3 "$here/bench-table.py" "$outdir" $modes | tee "$outdir/table.txt"
exit $rc
