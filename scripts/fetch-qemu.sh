#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-qemu.sh DIR: put Debian's backported QEMU (bookworm-backports: 10.0)
# in DIR without installing it, beside the release's own QEMU (7.2), and
# write DIR/qemu, which runs it.  Used as the outer QEMU of the end-to-end
# runs (KVMTEST_QEMU=DIR/qemu scripts/e2e.sh ...); see docs/testbed.md.
# The packages come from Debian's archive through apt-get with a private
# package list (DIR/apt), so the system's apt sources and packages are left
# alone, but for the shared libraries QEMU links, installed from the release.
# Prints the wrapper's path and QEMU's version; exits non-zero on failure.
# Runs as root (apt-get; the wrapper's unshare -m and mount --bind); DIR must
# not contain spaces or quotes (it is written into the wrapper unquoted).
set -euo pipefail
. "$(dirname "$0")/apt-private.sh"

dir=${1:?usage: fetch-qemu.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
. /etc/os-release
suite=${QEMU_SUITE:-$VERSION_CODENAME-backports}
pkgs="qemu-system-x86 qemu-system-common qemu-system-data"

if [ -x "$dir/qemu" ] && "$dir/qemu" --version > /dev/null 2>&1; then
	echo "$dir/qemu: $("$dir/qemu" --version | head -n 1) (already here)"
	exit 0
fi

mirror=$(debian_mirror) || mirror=http://deb.debian.org/debian
rm -rf "$dir/apt" "$dir/deb" "$dir/root"
mkdir -p "$dir/deb" "$dir/root"
apt_private "$dir/apt" "deb $mirror $suite main"
apt-get "${apt_opts[@]}" -q update > "$dir/apt/update.log"
cd "$dir/deb"
for p in $pkgs; do
	apt-get "${apt_opts[@]}" -q download "$p/$suite" > /dev/null
done
for d in *.deb; do
	dpkg-deb -x "$d" "$dir/root"
done

# The shared libraries it links, from the release (their versions are met
# there); installed only if one is missing.
bin=$dir/root/usr/bin/qemu-system-x86_64
ldd "$bin" > "$dir/ldd.txt" || true
if grep -q 'not found' "$dir/ldd.txt"; then
	libs=$(dpkg-deb -f qemu-system-x86_*.deb Depends | tr ',' '\n' |
	       sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^qemu-\|^seabios$\|^ipxe')
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $libs
fi
ldd "$bin" > "$dir/ldd.txt" || true
if grep 'not found' "$dir/ldd.txt"; then
	echo "fetch-qemu: libraries missing for $bin" >&2
	exit 1
fi

# Its modules: the release's QEMU loads its own from the same directory, and
# QEMU refuses modules of another build, so the wrapper shows it its own in
# a private mount namespace.
mods=/usr/lib/x86_64-linux-gnu/qemu
if [ -d $mods ]; then
	cat > "$dir/qemu" <<EOF
#!/bin/sh
# Debian $suite's QEMU, from scripts/fetch-qemu.sh.
exec unshare -m sh -c 'mount --bind $dir/root$mods $mods && exec $bin \\
	-L $dir/root/usr/share/qemu -L /usr/share/seabios "\$@"' qemu "\$@"
EOF
else
	cat > "$dir/qemu" <<EOF
#!/bin/sh
# Debian $suite's QEMU, from scripts/fetch-qemu.sh.
QEMU_MODULE_DIR=$dir/root$mods exec $bin \\
	-L $dir/root/usr/share/qemu -L /usr/share/seabios "\$@"
EOF
fi
chmod +x "$dir/qemu"
"$dir/qemu" -accel tcg -M none -display none -S -monitor none -daemonize \
	-pidfile "$dir/probe.pid"
kill "$(cat "$dir/probe.pid")"
echo "$dir/qemu: $("$dir/qemu" --version | head -n 1)"
