#!/usr/bin/env bash
# Runs BenchmarkAdmission of kube-psp (pkg/engine) and of the Kubernetes
# v1.24.17 plugin (bench/) on the same scenarios (bench/scenario), one after
# the other on this machine, and prints them side by side with ratios.
# Each side runs COUNT times and every row reports the median time: these
# machines are noisy.
#   BENCHTIME=2s hack/bench.sh        longer runs
#   COUNT=5 hack/bench.sh             more runs per row
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-1000x}
COUNT=${COUNT:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "kube-psp (pkg/engine)..." >&2
go test -run '^$' -bench '^BenchmarkAdmission$' -benchtime "$BENCHTIME" -count "$COUNT" ./pkg/engine > "$out/kube-psp.txt"
echo "Kubernetes v1.24.17 plugin (bench/)..." >&2
(cd bench && go test -run '^$' -bench '^BenchmarkAdmission$' -benchtime "$BENCHTIME" -count "$COUNT" .) > "$out/upstream.txt"
awk '
	FNR == 1 { file++ }
	/^BenchmarkAdmission\// {
		name = $1; sub(/^BenchmarkAdmission\//, "", name); sub(/-[0-9]+$/, "", name)
		if (file == 1) { if (!(name in kb)) order[++n] = name; kt[name] = kt[name] " " $3; kb[name] = $5; ka[name] = $7 }
		else { ut[name] = ut[name] " " $3; ub[name] = $5; ua[name] = $7 }
	}
	# median of a space-separated list of numbers
	function median(list,    v, k, i, j, t) {
		k = split(list, v, " ")
		for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j-1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
		return v[int((k + 1) / 2)]
	}
	END {
		for (i = 1; i <= n; i++) { s = order[i]; kns[s] = median(kt[s]); uns[s] = median(ut[s]) }
		printf "| scenario | kube-psp ns/op | v1.24 ns/op | kube-psp/v1.24 time | kube-psp B/op | v1.24 B/op | kube-psp allocs | v1.24 allocs |\n"
		printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
		for (i = 1; i <= n; i++) {
			s = order[i]
			printf "| %s | %d | %d | %.2f | %d | %d | %d | %d |\n", s, kns[s], uns[s], kns[s] / uns[s], kb[s], ub[s], ka[s], ua[s]
		}
	}' "$out/kube-psp.txt" "$out/upstream.txt"
