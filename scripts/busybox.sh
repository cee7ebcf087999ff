# SPDX-License-Identifier: GPL-2.0
# Sourced by the initramfs builders: sets $busybox to a static busybox
# (Debian's busybox-static), or fails with a message naming CALLER.
#   . scripts/busybox.sh; find_static_busybox CALLER
find_static_busybox() {
	busybox=
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
			busybox=$b
			return 0
		fi
	done
	echo "$1: need a static busybox (busybox-static)" >&2
	exit 2
}
