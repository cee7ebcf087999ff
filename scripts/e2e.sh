#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: the test kernel (L1) boots under QEMU TCG as for the test lists,
# and in it Debian's qemu-system-x86_64, with KVM, boots an L2 guest (the same
# bzImage) and live-migrates it with the dirty ring and with the dirty bitmap
# while a memory writer runs in it; L2 verifies every page afterwards.
#
#   e2e.sh BZIMAGE "MODES" OUTDIR
# MODES: default, tdp_mmu0, shadow (as scripts/run-qemu.sh, which runs each
# boot: same MMU parameters, same console splat scan).  The cases are
# harness/e2e/e2e.list, run in L1 by harness/init; harness/e2e/e2e-l1.sh is
# what they run.  Prints a PASS/FAIL line per case and mode with its timings;
# exits non-zero if any failed.
# E2E_LIST: another list from harness/e2e/ (default e2e).
# E2E_APPEND: more L1 kernel parameters (e2e.corrupt=1: the negative control,
# every migration must then FAIL; e2e.pages=, e2e.rate=, ... see e2e-l1.sh).
set -uo pipefail

kernel=${1:?usage: e2e.sh BZIMAGE "MODES" OUTDIR}
modes=${2:?}
out=${3:?}
here=$(cd "$(dirname "$0")/.." && pwd)
e2e=$here/harness/e2e
qemu=/usr/bin/qemu-system-x86_64
[ -f "$kernel" ] || { echo "e2e: no kernel $kernel" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=$out/build
mkdir -p "$build"

. "$here/scripts/busybox.sh"
find_static_busybox e2e
[ -x $qemu ] || { echo "e2e: need $qemu (qemu-system-x86)" >&2; exit 2; }

t_build=$(date +%s)
set -e
gcc -static -O2 -Wall -Wextra -Werror -o "$build/memwriter" "$e2e/memwriter.c"
strip "$build/memwriter"

# root DIR: an initramfs skeleton with busybox.
root() {
	rm -rf "$1"
	mkdir -p "$1"/{bin,sbin,dev,proc,sys,tmp,etc,root}
	cp "$busybox" "$1/bin/busybox"
	for applet in $("$busybox" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$1/bin/$applet"
	done
}
pack() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$2.tmp"
	mv "$2.tmp" "$2"
}

# L2: busybox, its init, the writer.
l2=$build/l2
root "$l2"
cp "$e2e/init-l2" "$l2/init"
cp "$build/memwriter" "$l2/bin/memwriter"
pack "$l2" "$build/l2.cpio.gz"

# L1: the test harness's init running harness/e2e/e2e.list, Debian's QEMU
# with the libraries it links and the firmware it loads (SeaBIOS, the
# linuxboot option ROM; no NIC, so no iPXE ROM), the L2 kernel and initramfs.
l1=$build/l1
root "$l1"
mkdir -p "$l1/tests" "$l1/e2e" "$l1/usr/bin" "$l1/usr/share/qemu" "$l1/usr/share/seabios"
cp "$here/harness/init" "$l1/init"
cp "$here/harness/kvm-stats-delta" "$l1/bin/kvm-stats-delta"
cp "$here/harness/kvm-watchdog" "$l1/bin/kvm-watchdog"
cp "$e2e"/*.list "$l1/tests/"
cp "$e2e/e2e-l1.sh" "$l1/tests/e2e-l1.sh"
cp "$build/memwriter" "$l1/tests/memwriter"
cp "$kernel" "$l1/e2e/bzImage"
cp "$build/l2.cpio.gz" "$l1/e2e/l2.cpio.gz"
cp $qemu "$l1/usr/bin/"
ldd $qemu | grep -o '/[^ ]*' | sort -u | while read -r lib; do
	mkdir -p "$l1$(dirname "$lib")"
	cp -L "$lib" "$l1$lib"
done
for f in kvmvapic.bin linuxboot.bin linuxboot_dma.bin pvh.bin multiboot.bin multiboot_dma.bin; do
	cp -L "/usr/share/qemu/$f" "$l1/usr/share/qemu/"
done
cp -L /usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin "$l1/usr/share/seabios/"
pack "$l1" "$build/l1.cpio.gz"
set +e
echo "e2e: initramfs $build/l1.cpio.gz ($(du -h "$build/l1.cpio.gz" | cut -f1)," \
	"L2's $(du -h "$build/l2.cpio.gz" | cut -f1)), built in $(( $(date +%s) - t_build ))s"

export KVMTEST_APPEND="${E2E_APPEND:-}"
list=${E2E_LIST:-e2e}
export QEMU_TIMEOUT=${E2E_TIMEOUT:-1800}
: > "$out/summary.txt"
rc=0
for mode in $modes; do
	t0=$(date +%s)
	"$here/scripts/run-qemu.sh" "$kernel" "$build/l1.cpio.gz" "$mode" "$list" "$out" |
		tee "$out/run-$mode.log"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	secs=$(( $(date +%s) - t0 ))
	ktap=$out/results-$list-$mode.ktap
	console=$out/console-$list-$mode.log
	# Per case: PASS/FAIL and the e2e: lines it printed.
	awk -v mode="$mode" '
		/^# e2e: / { sub(/^# e2e: /, ""); info = info "    " $0 "\n"; next }
		/^(not )?ok / {
			res = ($1 == "ok") ? "PASS" : "FAIL"
			if ($0 ~ /# SKIP/) res = "SKIP"
			name = ($1 == "ok") ? $3 : $4
			t = $0; sub(/.*time=/, "", t)
			printf "e2e: %s %s %s (%s)\n%s", res, mode, name, t, info
			info = ""
		}' "$ktap" | tee -a "$out/summary.txt"
	# Known TCG flakes run again by harness/init: shown, and counted.
	grep '^# tcg-flake ' "$ktap" | sed 's/^# /e2e: /' | tee -a "$out/summary.txt"
	if ! grep -q '^# kvmtest-done' "$ktap"; then
		echo "e2e: FAIL $mode: L1 did not finish (see $console)" | tee -a "$out/summary.txt"
		rc=1
	fi
	if grep -q 'kernel splat' "$out/run-$mode.log"; then
		echo "e2e: FAIL $mode: kernel splat on L1's console ($console)" | tee -a "$out/summary.txt"
		rc=1
	fi
	echo "e2e: $mode took ${secs}s (L1 boot, every case, L1 power off)" | tee -a "$out/summary.txt"
done
echo
echo "== e2e summary (logs in $out)"
grep -E '^e2e: (PASS|FAIL|SKIP|tcg-flake|.* took)' "$out/summary.txt"
printf 'end to end (%s): %d passed, %d failed, %d known TCG flakes retried\n' "$modes" \
	"$(grep -c '^e2e: PASS' "$out/summary.txt")" \
	"$(grep -c '^e2e: FAIL' "$out/summary.txt")" \
	"$(grep -c '^e2e: tcg-flake' "$out/summary.txt")" | tee "$out/total.txt"
exit $rc
