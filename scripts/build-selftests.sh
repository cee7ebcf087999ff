#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the KVM selftests of a tree, statically linked, out of tree.
#
#   build-selftests.sh SRC OUT
# Leaves the headers in OUT/usr/include and the tests in OUT/kvm.
set -euo pipefail

src=$(cd "${1:?usage: build-selftests.sh SRC OUT}" && pwd)
mkdir -p "${2:?}"
out=$(cd "$2" && pwd)
jobs=${JOBS:-$(nproc)}
cc=gcc
if [ -z "${NO_CCACHE:-}" ] && command -v ccache >/dev/null; then
	cc="ccache gcc"
fi

make -s -C "$src" O="$out/hdr" INSTALL_HDR_PATH="$out/usr" headers_install >/dev/null
mkdir -p "$out/kvm"
echo "build-selftests: building KVM selftests into $out/kvm"
# -static goes through EXTRA_CFLAGS: LDFLAGS on the command line would
# replace the Makefile's "-pthread".
make -C "$src/tools/testing/selftests/kvm" OUTPUT="$out/kvm" \
	KHDR_INCLUDES="-isystem $out/usr/include" EXTRA_CFLAGS=-static \
	CC="$cc" -j"$jobs" > "$out/build.log" 2>&1 || {
	grep -E -B2 -A8 'error:|Error [0-9]' "$out/build.log" | head -n 60 >&2
	echo "build-selftests: failed, see $out/build.log" >&2
	exit 1
}
echo "build-selftests: $(find "$out/kvm" -type f -perm -u+x | wc -l) programs"
