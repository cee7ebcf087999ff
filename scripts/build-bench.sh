#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the project's benchmark programs (bench/*.c) against the KVM
# selftests library of a tree, as built by build-selftests.sh, statically.
#
#   build-bench.sh SRC SELFTESTS_OUT
# Writes SELFTESTS_OUT/bench/<program>.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$(cd "${1:?usage: build-bench.sh SRC SELFTESTS_OUT}" && pwd)
st=$(cd "${2:?}" && pwd)
kst=$src/tools/testing/selftests/kvm
mkdir -p "$st/bench"

cflags=(-Werror -Wall -Wstrict-prototypes -Wuninitialized -O2 -g -std=gnu99
	-DCONFIG_64BIT -U_FORTIFY_SOURCE -fno-builtin-memcmp -fno-builtin-memcpy
	-fno-builtin-memset -fno-builtin-strnlen -fno-stack-protector -fno-PIE
	-fno-strict-aliasing -march=x86-64-v2
	-I"$src/tools/include" -I"$src/tools/arch/x86/include"
	-I"$kst/include" -I"$kst/include/x86_64" -I"$kst/../rseq" -I"$kst/.."
	-isystem "$st/usr/include")
libs=$(find "$st/kvm/lib" -name '*.o' | sort)
for c in "$here"/bench/*.c; do
	p=$(basename "$c" .c)
	# shellcheck disable=SC2086
	gcc "${cflags[@]}" -static -pthread -no-pie "$c" $libs -ldl -o "$st/bench/$p"
	echo "build-bench: $st/bench/$p"
done
