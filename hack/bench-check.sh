#!/usr/bin/env bash
# Times `psp check` on 10,000 generated workload files (mixed kinds, one in
# seven privileged) against the built-in restricted preset.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
kinds=(Deployment DaemonSet StatefulSet Job)
for i in $(seq 0 9999); do
	priv=false; (( i % 7 == 0 )) && priv=true
	if (( i % 5 == 4 )); then
		printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: ns%d}\nspec:\n  containers:\n  - {name: c, image: nginx, securityContext: {privileged: %s}}\n' "$i" $((i % 50)) "$priv"
	else
		kind=${kinds[$((i % 5))]}; api=apps/v1; [ "$kind" = Job ] && api=batch/v1
		printf 'apiVersion: %s\nkind: %s\nmetadata: {name: w%d, namespace: ns%d}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: nginx, securityContext: {privileged: %s, runAsUser: %d}}\n' "$api" "$kind" "$i" $((i % 50)) "$priv" $((1000 + i % 3))
	fi > "$dir/w$(printf %05d "$i").yaml"
done
go build -o "$dir/psp" ./cmd/psp
for run in 1 2 3; do
	start=$(date +%s.%N)
	"$dir/psp" check -f "$dir" > "$dir/out.txt" || true
	end=$(date +%s.%N)
	echo "run $run: $(tail -1 "$dir/out.txt") in $(echo "$end - $start" | bc) s"
done

# psp diff on the same files, side by side with check (compare CPU time on a
# shared machine): restricted preset before, baseline preset after, so every
# admitted workload changes policy. diff is two checks and their comparison.
sets=$(mktemp -d)
trap 'rm -rf "$dir" "$sets"' EXIT
"$dir/psp" init --preset restricted > "$sets/restricted.yaml"
"$dir/psp" init --preset baseline > "$sets/baseline.yaml"
timed() { if [ -x /usr/bin/time ]; then /usr/bin/time -f "$1: %e s wall, %U+%S s CPU, peak RSS %M KB" "${@:2}"; else "${@:2}"; fi; }
for run in 1 2 3; do
	timed check "$dir/psp" check -f "$dir" > "$dir/out.txt" || true
	timed diff "$dir/psp" diff -f "$dir" --before "$sets/restricted.yaml" --after "$sets/baseline.yaml" --fail-on none > "$dir/diff.txt"
	echo "diff run $run: $(tail -1 "$dir/diff.txt")"
done
