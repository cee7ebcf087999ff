#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the pristine base of the series: upstream Linux v6.12.107 as the orig
# tarball of Debian's source package linux 6.12.107-1 (trixie), and verify it.
#
#   fetch-base.sh DEST_DIR
#
# BASE_TARBALL=/path/to/linux_6.12.107.orig.tar.xz uses a local copy instead of
# downloading (it is verified all the same).  The download uses apt-get with a
# private sources list and private state/cache directories, so the system's
# apt configuration is left untouched.  The mirror is the Debian mirror the
# system already uses (DEBIAN_MIRROR overrides it).
set -euo pipefail
. "$(dirname "$0")/apt-private.sh"

BASE_VERSION=6.12.107
DEB_VERSION=6.12.107-1
DEB_SUITE=${DEB_SUITE:-trixie}
TARBALL=linux_${BASE_VERSION}.orig.tar.xz
SHA256=efc76d3c78a5d65f42724118c437d11db1c9f6309a5f024ee9a8b1978fdc6919

dest=${1:?usage: fetch-base.sh DEST_DIR}
mkdir -p "$dest"
out=$dest/$TARBALL

verify() {
	echo "$SHA256  $1" | sha256sum -c --status
}

if [ -f "$out" ] && verify "$out"; then
	echo "fetch-base: $out already present and verified"
	exit 0
fi

if [ -n "${BASE_TARBALL:-}" ]; then
	if [ ! -f "$BASE_TARBALL" ]; then
		echo "fetch-base: BASE_TARBALL=$BASE_TARBALL does not exist" >&2
		exit 1
	fi
	verify "$BASE_TARBALL" || {
		echo "fetch-base: $BASE_TARBALL fails the sha256 check" >&2
		exit 1
	}
	cp "$BASE_TARBALL" "$out.tmp"
	mv "$out.tmp" "$out"
	echo "fetch-base: copied verified $BASE_TARBALL"
	exit 0
fi

mirror=$(debian_mirror) || {
	echo "fetch-base: no Debian mirror found in /etc/apt; set DEBIAN_MIRROR" >&2
	exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=
[ -f "$keyring" ] && signed="[signed-by=$keyring] "
apt_private "$work/apt" "deb-src ${signed}${mirror} ${DEB_SUITE} main"
echo "fetch-base: downloading linux $DEB_VERSION source from $DEB_SUITE"
apt-get -q "${apt_opts[@]}" update
(cd "$work/src" && apt-get -q "${apt_opts[@]}" source --download-only "linux=$DEB_VERSION")
if ! verify "$work/src/$TARBALL"; then
	echo "fetch-base: downloaded $TARBALL fails the sha256 check" >&2
	exit 1
fi
mv "$work/src/$TARBALL" "$out"
echo "fetch-base: $out downloaded and verified"
