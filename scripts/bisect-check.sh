#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test kernel at every patch of the series, so that the series is
# bisectable: each patch must build on its own (with KVM_WERROR).  Uses a
# scratch worktree of the work tree, at the same relative layout as the work
# tree and its output directory, so ccache serves what did not change.
#
#   bisect-check.sh TREE SCRATCH_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tree=$(cd "${1:?usage: bisect-check.sh TREE SCRATCH_DIR}" && pwd)
scratch=${2:?}
mkdir -p "$scratch/out"
scratch=$(cd "$scratch" && pwd)
wt=$scratch/linux
out=$scratch/out/kernel

if [ ! -e "$wt/.git" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$wt" base
fi
commits=$(git -C "$tree" rev-list --reverse base..HEAD)
n=0
fail=0
for c in $commits; do
	n=$((n + 1))
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	git -C "$wt" checkout -q --detach "$c"
	start=$(date +%s)
	if "$here/scripts/build-kernel.sh" "$wt" "$out" "$here/configs/test.config" >/dev/null 2>"$scratch/err"; then
		echo "ok: patch $n builds ($(( $(date +%s) - start ))s): $subject"
	else
		echo "FAIL: patch $n does not build: $subject"
		sed 's/^/    /' "$scratch/err" | head -n 30
		fail=1
	fi
done
[ $n -gt 0 ] || echo "bisect-check: no patches"
exit $fail
