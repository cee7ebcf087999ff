#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test kernel at every patch of the series, so that the series is
# bisectable: each patch must build on its own (with KVM_WERROR).  Uses a
# scratch worktree of the work tree, at the same relative layout as the work
# tree and its output directory, so ccache serves what did not change.
#
#   bisect-check.sh TREE SCRATCH_DIR [RANGE]
# RANGE: the commits of TREE to check, as for git rev-list (default
# base..HEAD); e.g. HEAD~3..HEAD checks the last three patches.  Patches are
# numbered from base whatever the range.
#
# Only what a patch can change is built again:
#  - a patch that touches only tools/testing/ and Documentation/ (no Kconfig
#    file), which the kernel build does not read, leaves the kernel of the
#    patch before it, built (or so reused) in this run, as it is: it is not
#    built again (reported as "same kernel"); the first patch of a range is
#    always built;
#  - the configuration (tinyconfig + configs/test.config, checked) is made at
#    the first build of a run and again after a patch that touches a Kconfig
#    file; otherwise the previous .config is kept (build-kernel.sh's
#    KCONFIG_KEEP), and olddefconfig runs as always.
# Prints one line per patch and "bisect-check: N built, N same kernel, Ns".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tree=$(cd "${1:?usage: bisect-check.sh TREE SCRATCH_DIR [RANGE]}" && pwd)
scratch=${2:?}
range=${3:-base..HEAD}
mkdir -p "$scratch/out"
scratch=$(cd "$scratch" && pwd)
wt=$scratch/linux
out=$scratch/out/kernel

if [ ! -e "$wt/.git" ]; then
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$wt" base
fi
commits=$(git -C "$tree" rev-list --reverse "$range") || exit 2
t_all=$(date +%s)
fail=0
built=0
same=0
# The kernel of the previous commit was built, or reused, in this run.
prev_ok=0
kconfig_ok=0
prev=
for c in $commits; do
	n=$(git -C "$tree" rev-list --count "base..$c")
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	files=$(git -C "$tree" diff-tree --no-commit-id --name-only -r "$c")
	parent=$(git -C "$tree" rev-parse "$c^")
	# A commit whose parent is not the commit checked before it (a range
	# with merges, say) starts over.
	[ "$parent" = "$prev" ] || prev_ok=0
	prev=$c
	if [ $prev_ok = 1 ] && [ -n "$files" ] &&
	   ! grep -q -v -E '^(tools/testing/|Documentation/)' <<< "$files" &&
	   ! grep -q -E '(^|/)Kconfig' <<< "$files"; then
		echo "ok: patch $n: same kernel as patch $((n - 1)) (changes only tools/testing/, Documentation/): $subject"
		same=$((same + 1))
		continue
	fi
	grep -q -E '(^|/)Kconfig' <<< "$files" && kconfig_ok=0
	git -C "$wt" checkout -q --detach "$c"
	start=$(date +%s)
	if KCONFIG_KEEP=$kconfig_ok "$here/scripts/build-kernel.sh" "$wt" "$out" \
		"$here/configs/test.config" >/dev/null 2>"$scratch/err"; then
		echo "ok: patch $n builds ($(( $(date +%s) - start ))s): $subject"
		prev_ok=1
		kconfig_ok=1
	else
		echo "FAIL: patch $n does not build: $subject"
		sed 's/^/    /' "$scratch/err" | head -n 30
		fail=1
		prev_ok=0
		kconfig_ok=0
	fi
	built=$((built + 1))
done
[ -n "$commits" ] || echo "bisect-check: no patches"
echo "bisect-check: $built built, $same same kernel, $(( $(date +%s) - t_all ))s"
exit $fail
