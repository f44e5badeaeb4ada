#!/usr/bin/env bash
# Runs BenchmarkAdmission of kube-psp (pkg/engine) and of the Kubernetes
# v1.24.17 plugin (bench/) on the same scenarios (bench/scenario), one after
# the other on this machine, and prints them side by side with ratios.
#   BENCHTIME=2s hack/bench.sh        longer runs
set -euo pipefail
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-300x}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "kube-psp (pkg/engine)..." >&2
go test -run '^$' -bench '^BenchmarkAdmission$' -benchtime "$BENCHTIME" ./pkg/engine > "$out/kube-psp.txt"
echo "Kubernetes v1.24.17 plugin (bench/)..." >&2
(cd bench && go test -run '^$' -bench '^BenchmarkAdmission$' -benchtime "$BENCHTIME" .) > "$out/upstream.txt"
awk '
	FNR == 1 { file++ }
	/^BenchmarkAdmission\// {
		name = $1; sub(/^BenchmarkAdmission\//, "", name); sub(/-[0-9]+$/, "", name)
		if (file == 1) { order[++n] = name; kns[name] = $3; kb[name] = $5; ka[name] = $7 }
		else { uns[name] = $3; ub[name] = $5; ua[name] = $7 }
	}
	END {
		printf "| scenario | kube-psp ns/op | v1.24 ns/op | kube-psp/v1.24 time | kube-psp B/op | v1.24 B/op | kube-psp allocs | v1.24 allocs |\n"
		printf "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
		for (i = 1; i <= n; i++) {
			s = order[i]
			printf "| %s | %d | %d | %.2f | %d | %d | %d | %d |\n", s, kns[s], uns[s], kns[s] / uns[s], kb[s], ub[s], ka[s], ua[s]
		}
	}' "$out/kube-psp.txt" "$out/upstream.txt"
