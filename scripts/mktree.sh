#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Create the kernel work tree: a git repository holding the pristine base as
# one commit (tagged "base") with the series from patches/ applied on top by
# "git am", one commit per patch.
#
#   mktree.sh TARBALL TREE PATCHDIR
set -euo pipefail

tarball=${1:?usage: mktree.sh TARBALL TREE PATCHDIR}
tree=${2:?}
patchdir=${3:?}
patchdir=$(cd "$patchdir" && pwd)

if [ -e "$tree" ]; then
	echo "mktree: $tree exists; remove it first (make clean-tree)" >&2
	exit 1
fi

export GIT_AUTHOR_NAME="Linux base" GIT_AUTHOR_EMAIL="base@invalid"
export GIT_COMMITTER_NAME="Linux base" GIT_COMMITTER_EMAIL="base@invalid"
export GIT_AUTHOR_DATE="2025-09-20T00:00:00Z" GIT_COMMITTER_DATE="2025-09-20T00:00:00Z"

tmp=$tree.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
echo "mktree: unpacking $(basename "$tarball")"
tar -C "$tmp" --strip-components=1 -xf "$tarball"
git -C "$tmp" init -q -b master
git -C "$tmp" config user.name "KVM MMU Series"
git -C "$tmp" config user.email "kvm-mmu-series@example.org"
git -C "$tmp" config core.abbrev 12
git -C "$tmp" add -A -f .
git -C "$tmp" commit -q -m "Linux 6.12.107"
git -C "$tmp" tag base
mv "$tmp" "$tree"

unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE

shopt -s nullglob
patches=()
for p in "$patchdir"/[0-9][0-9][0-9][0-9]-*.patch; do
	case "$(basename "$p")" in
	0000-cover-letter.patch) ;;
	*) patches+=("$p") ;;
	esac
done
if [ ${#patches[@]} -gt 0 ]; then
	echo "mktree: applying ${#patches[@]} patches"
	git -C "$tree" am -q --committer-date-is-author-date "${patches[@]}"
fi
git -C "$tree" log --oneline base..HEAD
echo "mktree: $tree ready ($(git -C "$tree" rev-list --count base..HEAD) patches on base)"
