#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Export the work tree's commits on top of tag "base" to a patch directory, as
# "git format-patch" files plus a cover letter.  The cover letter's subject
# and blurb are kept from the existing patches/0000-cover-letter.patch; its
# shortlog and diffstat are regenerated.  Patch files are rewritten only when
# their content changes, so an export does not churn unchanged patches.
#
#   export.sh TREE PATCHDIR          write PATCHDIR
#   export.sh --check TREE PATCHDIR  exit 1 if TREE has uncommitted work or
#                                    commits PATCHDIR does not hold
set -euo pipefail

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
tree=${1:?usage: export.sh [--check] TREE PATCHDIR}
patchdir=${2:?}

if [ ! -d "$tree/.git" ]; then
	if [ $check = 1 ]; then
		echo "export-check: no work tree at $tree, nothing to lose"
		exit 0
	fi
	echo "export: no work tree at $tree" >&2
	exit 1
fi

if [ $check = 1 ]; then
	dirty=$(git -C "$tree" status --porcelain)
	if [ -n "$dirty" ]; then
		echo "export-check: $tree has uncommitted changes:"
		printf '%s\n' "$dirty" | head -n 20
		exit 1
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$tree" format-patch -q --zero-commit --no-signature --cover-letter \
	--subject-prefix=PATCH -o "$tmp" base..HEAD >/dev/null 2>&1 || true
# format-patch writes nothing for an empty range, not even a cover letter.
cover=$tmp/0000-cover-letter.patch
old_cover=$patchdir/0000-cover-letter.patch
if [ -f "$cover" ] && [ -f "$old_cover" ]; then
	python3 - "$old_cover" "$cover" <<'PY'
import re, sys
old, new = (open(p).read() for p in sys.argv[1:3])
head, _, body = old.partition('\n\n')
subject = re.search(r'^Subject: \[PATCH[^\]]*\] (.*?)\n(?! )', head + '\n', re.S | re.M)
date = re.search(r'^(Date: .*)$', head, re.M)
# The blurb ends where format-patch's shortlog begins: "Author (N):".
m = re.search(r'^\S[^\n]* \(\d+\):$', body, re.M)
blurb = body[:m.start()].rstrip('\n') if m else None
if subject:
    new = new.replace('*** SUBJECT HERE ***', subject.group(1), 1)
if blurb:
    new = new.replace('*** BLURB HERE ***', blurb, 1)
if date:
    new = re.sub(r'^Date: .*$', lambda _: date.group(1), new, count=1, flags=re.M)
open(sys.argv[2], 'w').write(new)
PY
fi

status=0
if [ $check = 1 ]; then
	if ! diff -r -q "$tmp" "$patchdir" --exclude='*.orig' >/dev/null 2>&1; then
		# Compare only patch files; patches/ may hold a README.
		for f in "$tmp"/*.patch "$patchdir"/*.patch; do
			[ -e "$f" ] || continue
			b=$(basename "$f")
			if ! cmp -s "$tmp/$b" "$patchdir/$b"; then
				echo "export-check: $b differs between $tree and $patchdir"
				status=1
			fi
		done
	fi
	[ $status = 0 ] && echo "export-check: $patchdir holds all of $tree"
	exit $status
fi

mkdir -p "$patchdir"
changed=0
for f in "$tmp"/*.patch; do
	[ -e "$f" ] || continue
	b=$(basename "$f")
	if ! cmp -s "$f" "$patchdir/$b"; then
		cp "$f" "$patchdir/$b"
		echo "export: wrote $b"
		changed=1
	fi
done
for f in "$patchdir"/*.patch; do
	[ -e "$f" ] || continue
	b=$(basename "$f")
	if [ ! -e "$tmp/$b" ]; then
		rm "$f"
		echo "export: removed $b"
		changed=1
	fi
done
[ $changed = 0 ] && echo "export: $patchdir already up to date"
exit 0
