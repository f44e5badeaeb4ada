#!/usr/bin/env bash
# Measures psp check on a large corpus (go run ./hack/gen-corpus DIR) in
# every output format: CPU seconds (user+sys), peak RSS (/usr/bin/time -v's
# maximum resident set size) and the time to the first byte of the report
# on stdout. Compares binaries given in turn, e.g. main's and this tree's:
#
#   hack/bench-stream.sh DIR FORMATS BINARY...
#   hack/bench-stream.sh /tmp/corpus "text json yaml sarif" /tmp/psp-main ./psp
set -euo pipefail
dir=${1:?usage: hack/bench-stream.sh DIR FORMATS BINARY...}
formats=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for format in $formats; do
	for bin in "$@"; do
		# The time to the first byte: the report read through a pipe, the
		# clock read when its first byte arrives.
		start=$(date +%s.%N)
		first=$( { /usr/bin/time -f '%U %S %M %e' -o "$out/time" "$bin" check -f "$dir" -o "$format" 2>/dev/null || true; } |
			{ head -c 1 >/dev/null; date +%s.%N; cat >/dev/null; })
		read -r user sys rss wall < <(tail -1 "$out/time")
		printf '%-8s %-28s cpu %6.1f s  peak RSS %5d MB  first byte %6.2f s  wall %6.1f s\n' \
			"$format" "$bin" "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(echo "$first - $start" | bc)" "$wall"
	done
done
