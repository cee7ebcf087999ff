# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the fetch scripts: apt-get with a private sources list and
# private state and cache directories, so that the system's apt configuration
# and package lists are left untouched.  Bash only (local, arrays).
#
#   debian_mirror             prints the Debian mirror the system is configured
#                             with (deb822 or one-line format), or DEBIAN_MIRROR
#   apt_private DIR LINE...   makes DIR's sources list of the LINEs and sets
#                             the array apt_opts for apt-get to use DIR

debian_mirror() {
	local mirror=${DEBIAN_MIRROR:-}

	if [ -z "$mirror" ]; then
		mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
			 awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
	fi
	if [ -z "$mirror" ]; then
		mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			 awk '$1 ~ /^deb(-src)?$/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }')
	fi
	[ -n "$mirror" ] || return 1
	echo "$mirror"
}

apt_private() {
	local dir=$1

	shift
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	printf '%s\n' "$@" > "$dir/sources.list"
	apt_opts=(
		-o "Dir::Etc::sourcelist=$dir/sources.list"
		-o "Dir::Etc::sourceparts=-"
		-o "Dir::State::lists=$dir/lists"
		-o "Dir::Cache=$dir/cache"
		-o "APT::Get::List-Cleanup=0"
		-o "APT::Sandbox::User=root"
		-o "Debug::NoLocking=1"
	)
}
