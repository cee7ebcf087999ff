#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The steps of "make test" and .ci/run, timed, and their table.
#
#   steps.sh run NAME CMD...   run CMD; when STEPS names a file, append
#                              "NAME<TAB>SECONDS<TAB>EXIT" to it; exit as CMD
#   steps.sh table FILE [TOTAL_SECONDS]
#                              print FILE as a table (rows of the same name
#                              added up, in the order of their first
#                              appearance), then the total: TOTAL_SECONDS if
#                              given (wall time), else the sum of the rows
set -uo pipefail

case "${1:-}" in
run)
	name=${2:?usage: steps.sh run NAME CMD...}
	shift 2
	start=$(date +%s)
	"$@"
	rc=$?
	if [ -n "${STEPS:-}" ]; then
		mkdir -p "$(dirname "$STEPS")"
		printf '%s\t%s\t%s\n' "$name" $(( $(date +%s) - start )) $rc >> "$STEPS"
	fi
	exit $rc
	;;
table)
	file=${2:?usage: steps.sh table FILE [TOTAL_SECONDS]}
	[ -f "$file" ] || { echo "steps: no $file"; exit 0; }
	awk -F '\t' -v total="${3:-}" '
	!($1 in secs) { order[n++] = $1; secs[$1] = 0; rc[$1] = 0 }
	{ secs[$1] += $2; if ($3 != 0) rc[$1] = $3; sum += $2 }
	END {
		printf "%-34s %7s %9s %5s\n", "step", "seconds", "minutes", "exit"
		for (i = 0; i < n; i++)
			printf "%-34s %7d %9.1f %5d\n", order[i], secs[order[i]], secs[order[i]] / 60, rc[order[i]]
		if (total == "")
			total = sum
		printf "%-34s %7d %9.1f\n", "total", total, total / 60
	}' "$file"
	;;
*)
	echo "usage: steps.sh run NAME CMD... | steps.sh table FILE [TOTAL_SECONDS]" >&2
	exit 2
	;;
esac
