#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configure and build a test kernel out of tree: tinyconfig plus the given
# config fragments, then bzImage.  Fails if a fragment asks for an option the
# final .config does not have (a dependency silently dropped it).
#
#   build-kernel.sh SRC OUT FRAGMENT... [-- EXTRA MAKE ARGS]
# TARGETS (default bzImage) names what to build; the log is OUT/build.log.
# KCONFIG_KEEP=1: OUT/.config was made by this script from the same
# fragments and no Kconfig file of SRC changed since (scripts/bisect-check.sh
# knows): keep it and only run olddefconfig, instead of configuring from
# tinyconfig again (about 8 s of kconfig tool builds and runs).
set -euo pipefail

src=$(cd "${1:?usage: build-kernel.sh SRC OUT FRAGMENT...}" && pwd)
out=${2:?}
shift 2
frags=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	frags+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")")
	shift
done
[ "${1:-}" = -- ] && shift
mkdir -p "$out"
out=$(cd "$out" && pwd)

jobs=${JOBS:-$(nproc)}
cc=gcc
if [ -z "${NO_CCACHE:-}" ] && command -v ccache >/dev/null; then
	cc="ccache gcc"
	# With CCACHE_BASEDIR set (the Makefile does), trees at the same
	# relative layout share objects: the base and the series.
	export CCACHE_NOHASHDIR=1
fi

# Configure into a scratch directory, and only replace .config when it
# changed, so that an unchanged configuration keeps the build incremental.
configure() {
	cfg=$(mktemp -d)
	trap 'rm -rf "$cfg"' EXIT
	make -s -C "$src" O="$cfg" tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$cfg" "$cfg/.config" "${frags[@]}" >/dev/null
	make -s -C "$src" O="$cfg" olddefconfig >/dev/null
	bad=0
	for f in "${frags[@]}"; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=n)
				opt=${line%%=*}
				if grep -q "^$opt=" "$cfg/.config"; then
					echo "build-kernel: $opt should be off" >&2
					bad=1
				fi ;;
			CONFIG_*=*)
				# The last fragment to name an option wins.
				want=$(grep -h "^${line%%=*}=" "${frags[@]}" | tail -n 1)
				[ "$want" = "$line" ] || continue
				if ! grep -qxF "$line" "$cfg/.config"; then
					echo "build-kernel: $line requested but not set" >&2
					bad=1
				fi ;;
			esac
		done < "$f"
	done
	[ $bad = 0 ] || exit 1
	if ! cmp -s "$cfg/.config" "$out/.config"; then
		cp "$cfg/.config" "$out/.config"
	fi
}

if [ "${KCONFIG_KEEP:-}" != 1 ] || [ ! -f "$out/.config" ]; then
	configure
fi

make -s -C "$src" O="$out" CC="$cc" olddefconfig
echo "build-kernel: building $out (jobs=$jobs, CC=$cc)"
targets=${TARGETS:-bzImage}
# shellcheck disable=SC2086
make -C "$src" O="$out" CC="$cc" -j"$jobs" "$@" $targets > "$out/build.log" 2>&1 || {
	grep -E -B2 -A8 'error:|Error [0-9]' "$out/build.log" | head -n 60 >&2
	echo "build-kernel: build failed, see $out/build.log" >&2
	exit 1
}
grep -E 'warning:' "$out/build.log" | sort -u > "$out/warnings.log" || true
echo "build-kernel: $out: $targets built ($(wc -l < "$out/warnings.log") distinct warnings)"
