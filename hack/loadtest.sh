#!/usr/bin/env bash
# Starts `psp serve --dev` on 127.0.0.1, drives it with bench/cmd/loadgen at
# fixed concurrencies and a fixed rate (each run bounded to DURATION), and
# stops it. Loopback only.
#   DURATION=10s hack/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
dir=$(mktemp -d)
go build -o "$dir/psp" ./cmd/psp
(cd bench && go build -o "$dir/loadgen" ./cmd/loadgen)
port=$((20000 + RANDOM % 20000))
"$dir/psp" serve --dev --dev-dir "$dir/dev" --listen "127.0.0.1:$port" --log-level warn > "$dir/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for i in $(seq 50); do [ -f "$dir/dev/ca.crt" ] && curl -sf --cacert "$dir/dev/ca.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
for path in mutate validate; do
	for c in 1 4 16; do
		"$dir/loadgen" -url "https://127.0.0.1:$port/$path" -ca "$dir/dev/ca.crt" -concurrency "$c" -duration "$DURATION" | sed -n '1,3p'
	done
	"$dir/loadgen" -url "https://127.0.0.1:$port/$path" -ca "$dir/dev/ca.crt" -concurrency 8 -rate 300 -duration "$DURATION" | sed -n '1,3p'
done
