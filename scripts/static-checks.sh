#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks of the series:
#  1. every patch applies with "git am" on the base;
#  2. scripts/checkpatch.pl --strict: no ERROR, and every WARNING or CHECK
#     waived with a written reason in PATCHES/checkpatch-waivers
#     ("PATCH-FILE TYPE reason...");
#  3. arch/x86/kvm (which compiles virt/kvm too) built with W=1 and sparse
#     (C=2) shows no warning that the base does not have.
#
#   static-checks.sh TREE BASETREE PATCHES OUT
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tree=$(cd "${1:?}" && pwd)
basetree=$(cd "${2:?}" && pwd)
patchdir=$(cd "${3:?}" && pwd)
out=${4:?}
mkdir -p "$out"
out=$(cd "$out" && pwd)
fail=0
pass=0

shopt -s nullglob
patches=()
for p in "$patchdir"/[0-9][0-9][0-9][0-9]-*.patch; do
	[ "$(basename "$p")" = 0000-cover-letter.patch ] || patches+=("$p")
done

# 1. git am on a scratch worktree at the base.
scratch=$out/apply
git -C "$tree" worktree remove --force "$scratch" >/dev/null 2>&1
rm -rf "$scratch"
git -C "$tree" worktree prune
git -C "$tree" worktree add -q --detach "$scratch" base
if [ ${#patches[@]} -eq 0 ] ||
   git -C "$scratch" -c user.name=check -c user.email=check@invalid am -q "${patches[@]}"; then
	echo "ok: ${#patches[@]} patches apply with git am on the base"
	pass=$((pass + 1))
else
	echo "FAIL: the series does not apply with git am on the base"
	git -C "$scratch" am --abort >/dev/null 2>&1
	fail=$((fail + 1))
fi
git -C "$tree" worktree remove --force "$scratch" >/dev/null 2>&1

# 2. checkpatch --strict.
waivers=$patchdir/checkpatch-waivers
for p in "${patches[@]}"; do
	b=$(basename "$p")
	log=$out/checkpatch-$b.log
	# checkpatch must run from the tree, else it misreads the patch.
	# Debian's python3 first: checkpatch runs spdxcheck.py, which needs
	# python3-ply and python3-git.
	(cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict \
		--show-types --no-summary --quiet "$p") > "$log" 2>&1
	bad=0
	while IFS= read -r line; do
		sev=${line%%:*}
		type=$(sed -E 's/^[A-Z]+:([A-Z_0-9]+):.*/\1/' <<< "$line")
		if [ "$sev" = ERROR ]; then
			echo "FAIL: $b: $line"
			bad=1
		elif ! grep -qE "^$b[[:space:]]+$type[[:space:]]+[^[:space:]]" "$waivers" 2>/dev/null; then
			echo "FAIL: $b: $line (no waiver in patches/checkpatch-waivers)"
			bad=1
		else
			echo "note: $b: $line (waived)"
		fi
	done < <(grep -E '^(ERROR|WARNING|CHECK):' "$log")
	if [ $bad = 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
[ ${#patches[@]} -gt 0 ] && echo "checkpatch --strict: ${#patches[@]} patches checked"

# 3. W=1 and sparse on arch/x86/kvm, base vs series.
warnings() {
	local src=$1 o=$2
	# Prepare the tree (and its tools) without checking, then force the
	# checked rebuild of arch/x86/kvm only.
	TARGETS="prepare" "$here/scripts/build-kernel.sh" "$src" "$o" \
		"$here/configs/test.config" "$here/configs/static.config" >/dev/null || return 1
	rm -rf "$o/arch/x86/kvm"
	make -s -C "$src" O="$o" -j"${JOBS:-$(nproc)}" W=1 C=2 arch/x86/kvm/ > "$o/static.log" 2>&1
	local rc=$?
	# file: message, without line and column numbers, which the series moves.
	grep -E '(warning|error):' "$o/static.log" |
		sed -E "s#^($src/|\./)##; s#^([^:]+):[0-9]+:([0-9]+:)? #\1: #" | sort > "$o/static.norm"
	return $rc
}
if warnings "$basetree" "$out/static-base" && warnings "$tree" "$out/static-series"; then
	new=$(comm -13 "$out/static-base/static.norm" "$out/static-series/static.norm")
	nbase=$(wc -l < "$out/static-base/static.norm")
	if [ -n "$new" ]; then
		echo "FAIL: W=1/sparse warnings in arch/x86/kvm that the base does not have:"
		printf '%s\n' "$new" | sed 's/^/    /'
		fail=$((fail + 1))
	else
		echo "ok: W=1 + sparse (C=2) on arch/x86/kvm: no new warnings ($nbase on the base)"
		pass=$((pass + 1))
	fi
else
	echo "FAIL: W=1/sparse build of arch/x86/kvm failed (see $out/static-*/static.log)"
	fail=$((fail + 1))
fi

echo "static checks: $pass ok, $fail failed"
[ $fail = 0 ]
