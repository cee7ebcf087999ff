#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages that the builds and the QEMU test bed need,
# only those that are missing; a no-op (no apt-get, no sudo) when all are
# there.  "make demo", "make test", "make bench", "make e2e" and .ci/run call
# it first.  Runs apt-get through sudo when not root.
#
#   install-deps.sh            install what is missing
#   install-deps.sh --check    list what is missing; exit 1 if anything is
#
# A package counts as installed only in dpkg's "install ok installed"
# state: one removed but with its configuration files left ("rc", which
# "dpkg -s" still describes) is missing.
set -euo pipefail

pkgs=(
	# Kernel builds (make, gcc, libc headers, binutils), the work tree.
	build-essential git bc bison flex libelf-dev libssl-dev cpio xz-utils
	rsync kmod ccache
	# checkpatch.pl and its spdxcheck.py; sparse for the static checks.
	perl python3 python3-ply python3-git sparse
	# The test bed: the initramfs's busybox, QEMU TCG (L0) and, in L1, the
	# same QEMU with KVM for the end-to-end cases.
	busybox-static qemu-system-x86 qemu-utils
)

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ "${1:-}" = --check ]; then
	[ ${#missing[@]} -eq 0 ] && exit 0
	echo "install-deps: missing: ${missing[*]}"
	exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || {
		echo "install-deps: not root and no sudo; as root: apt-get install ${missing[*]}" >&2
		exit 1
	}
	sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# What apt-get did not install (a name that no longer exists, say).
still=()
for p in "${missing[@]}"; do
	installed "$p" || still+=("$p")
done
if [ ${#still[@]} -gt 0 ]; then
	echo "install-deps: still missing after apt-get: ${still[*]}" >&2
	exit 1
fi
echo "install-deps: done"
