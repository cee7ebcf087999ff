#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack the test initramfs: busybox (static), the init, the test lists and the
# statically linked test programs.
#
#   mkinitramfs.sh OUT.cpio.gz SELFTESTS_DIR LISTDIR [EXTRA_BIN_DIR...]
set -euo pipefail

out=${1:?usage: mkinitramfs.sh OUT.cpio.gz SELFTESTS_DIR LISTDIR [EXTRA_BIN_DIR...]}
st=${2:?}
lists=${3:?}
shift 3
here=$(cd "$(dirname "$0")/.." && pwd)

. "$here/scripts/busybox.sh"
find_static_busybox mkinitramfs

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,tests,etc,root}
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
cp "$here/harness/init" "$root/init"
chmod +x "$root/init"
cp "$here/harness/kvm-stats-delta" "$root/bin/kvm-stats-delta"
cp "$here/harness/kvm-watchdog" "$root/bin/kvm-watchdog"
cp "$here/harness/trace-run" "$root/bin/trace-run"
cp "$lists"/*.list "$root/tests/"
# Every executable the KVM selftests build, flattened (x86_64/foo -> foo).
find "$st" -type f -perm -u+x ! -name '*.sh' -print0 |
	while IFS= read -r -d '' f; do
		cp "$f" "$root/tests/$(basename "$f")"
		strip "$root/tests/$(basename "$f")"
	done
for d in "$@"; do
	[ -d "$d" ] || continue
	find "$d" -maxdepth 1 -type f -perm -u+x -exec cp {} "$root/tests/" \;
	find "$d" -maxdepth 1 -type f -perm -u+x -printf "$root/tests/%f\0" | xargs -0 -r strip
done
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(du -h "$out" | cut -f1), $(ls "$root/tests" | wc -l) files in /tests)"
