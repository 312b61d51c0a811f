#!/usr/bin/env bash
# Reproduces the figures of docs/performance.md on this machine, side by side
# in one run. It builds only waflow's code; Meta's Node.js example endpoint is
# measured only if you point META_EXAMPLE (and META_EXAMPLE_ONCE) at checkouts
# you prepared as docs/performance.md says.
#
#   docs/performance.sh                       # everything, 10 s per load run
#   DURATION=30s BENCHTIME=10s docs/performance.sh   # longer runs, steadier figures
#   META_EXAMPLE=/tmp/meta/basic META_EXAMPLE_ONCE=/tmp/meta/basic-once docs/performance.sh
#
# Needs: Go, jq, curl, openssl; for the OpenSSL backend libssl-dev and a C compiler;
# for Meta's example Node.js >= 16 with its npm dependencies installed.
# Results: a table on stdout, every run's JSON in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

D=${DURATION:-10s}
BENCHTIME=${BENCHTIME:-5s} # each RSA floor measurement, in seconds
OUT=${OUT:-$(mktemp -d /tmp/waflow-perf.XXXXXX)}
PORT=${PORT:-18081}
NODE_PORT=${NODE_PORT:-13000}
CLIENTS=${CLIENTS:-8}
SWEEP=${SWEEP:-"4 8 16 32"}
mkdir -p "$OUT"
command -v jq >/dev/null || { echo "performance.sh needs jq (apt-get install jq)" >&2; exit 1; }

log() { echo "== $*" >&2; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

log "building into $OUT"
go build -o "$OUT/waflow" ./cmd/waflow
cp "$OUT/waflow" "$OUT/waflow-go"
backends=(go)
if go build -tags openssl -o "$OUT/waflow-openssl" ./cmd/waflow 2>"$OUT/openssl-build.err"; then
  backends+=(openssl)
else
  echo "OpenSSL backend not built (see $OUT/openssl-build.err): install libssl-dev and a C compiler" >&2
fi
W="$OUT/waflow"

# --- The RSA floors: RSA-OAEP decryptions per second on every core. ---------
# The benchmarks use RunParallel, whose ns/op is wall time per operation with
# every core busy: 1e9 / ns/op is the whole machine's rate.
bench_rate() { # PKG: the machine's rate of BenchmarkDecryptOAEP in PKG
  go test -run '^$' -bench '^BenchmarkDecryptOAEP$' -benchtime "$BENCHTIME" "$@" |
    awk '/^BenchmarkDecryptOAEP/ { printf "%.0f\n", 1e9 / $3 }'
}
# Each backend's floor is measured just before and just after its load runs,
# and averaged, so a machine whose speed drifts (a shared one) drifts both.
openssl_speed() {
  openssl speed -seconds "${BENCHTIME%s}" -multi "$(nproc)" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { v = $(NF-1) } END { printf "%.0f\n", v }'
}
floor() { # BACKEND: "<crypto/rsa or internal/ossl rate> <openssl speed rate>"
  case $1 in
    go) echo "$(bench_rate ./envelope) -" ;;
    openssl) echo "$(bench_rate -tags openssl ./internal/ossl) $(openssl_speed)" ;;
  esac
}
mean() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-") print "-"; else printf "%.0f", (a + b) / 2 }'; }
declare -A floor_rsa floor_speed floor_spread

# --- A server and the load runs against it. ----------------------------------
# waflow serve itself, in development mode (its key and secrets in
# $OUT/data/dev, where waflow bench finds them), with the catalog mounted:
# the full path of a real deployment. By default serve runs with GOMAXPROCS
# one above the number of cores (cmd/waflow/procs.go). Pings need no database; INIT runs
# record their flow tokens in the server's SQLite database.
start_server() { # BACKEND [GOMAXPROCS]
  local data="$OUT/data" # one key for all runs
  env ${2:+GOMAXPROCS=$2} "$OUT/waflow-$1" serve -addr "127.0.0.1:$PORT" -data-dir "$data" -log-level warn >"$OUT/server-$1.out" 2>"$OUT/server-$1.err" &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "waflow serve did not start:" >&2; cat "$OUT/server-$1.err" >&2; exit 1
}
run() { # NAME ARGS...: one load run, JSON in $OUT/NAME.json
  local name=$1; shift
  log "$name: waflow bench $*"
  "$W" bench -q -json "$@" >"$OUT/$name.json" || true # failures are in the JSON
}
j() { jq -r "$2" "$OUT/$1.json"; }

# --- Meta's Node.js example, as it ships and with its key parsed once. ------
node_run() { # NAME DIR
  local name=$1 dir=$2 keydir="$OUT/node-key"
  if [[ ! -d "$keydir" ]]; then # the kind of key its src/keyGenerator.js makes
    mkdir -p "$keydir"
    openssl genrsa -traditional -des3 -passout pass:bench -out "$keydir/private.pem" 2048 2>/dev/null
    openssl rsa -in "$keydir/private.pem" -passin pass:bench -pubout -out "$keydir/public.pem" 2>/dev/null
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$keydir/app-secret"
  fi
  (cd "$dir" && PORT=$NODE_PORT APP_SECRET=$(cat "$keydir/app-secret") PRIVATE_KEY=$(cat "$keydir/private.pem") PASSPHRASE=bench \
    exec node src/server.js >/dev/null 2>"$OUT/$name.err") &
  local pid=$!
  pids+=("$pid")
  sleep 1.5
  local nurl="http://127.0.0.1:$NODE_PORT/"
  local args=(-public-key "$keydir/public.pem" -app-secret-file "$keydir/app-secret" -pid "$pid")
  run "$name-warmup" "${args[@]}" -c "$CLIENTS" -d 2s "$nurl"
  run "$name-ping-c$CLIENTS" "${args[@]}" -c "$CLIENTS" -d "$D" "$nurl"
  # And at the concurrency where the waflow backend it is compared with
  # peaked, so the peak figures compare at the same concurrency too.
  [[ $peak_c == "$CLIENTS" ]] || run "$name-ping-c$peak_c" "${args[@]}" -c "$peak_c" -d "$D" "$nurl"
  cp "$OUT/$name-ping-c$peak_c.json" "$OUT/$name-ping-peak.json"
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

# Each backend, then the Node.js variant it is compared with, in turn.
for b in "${backends[@]}"; do
  log "RSA floor of the $b backend, before its load runs"
  read -r rsa1 speed1 <<<"$(floor "$b")"
  start_server "$b"
  url="http://127.0.0.1:$PORT/flows/appointment_booking"
  common=(-data-dir "$OUT/data" -pid "$server_pid")
  run "$b-warmup" "${common[@]}" -c "$CLIENTS" -d 2s "$url"
  best=0
  peak_c=${SWEEP%% *}
  for c in $SWEEP; do
    run "$b-ping-c$c" "${common[@]}" -c "$c" -d "$D" "$url"
    rate=$(j "$b-ping-c$c" .ok_per_second)
    if awk -v r="$rate" -v b="$best" 'BEGIN { exit !(r > b) }'; then best=$rate; peak_c=$c; fi
  done
  cp "$OUT/$b-ping-c$peak_c.json" "$OUT/$b-ping-peak.json"
  [[ -f "$OUT/$b-ping-c$CLIENTS.json" ]] || run "$b-ping-c$CLIENTS" "${common[@]}" -c "$CLIENTS" -d "$D" "$url"
  half=$(awk -v r="$best" 'BEGIN { printf "%.0f", r / 2 }')
  run "$b-open-half" "${common[@]}" -rate "$half" -d "$D" "$url"
  run "$b-init-c$CLIENTS" "${common[@]}" -mode init -c "$CLIENTS" -d "$D" "$url"
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true
  # The same server with GOMAXPROCS set to the number of cores, which
  # turns off serve's spare P (the RSA bound stays at one per core): what
  # the spare P buys, side by side.
  log "$b backend with GOMAXPROCS=$(nproc)"
  start_server "$b" "$(nproc)"
  common=(-data-dir "$OUT/data" -pid "$server_pid")
  run "$b-no-spare-p-warmup" "${common[@]}" -c "$CLIENTS" -d 2s "$url"
  run "$b-no-spare-p-ping-c$CLIENTS" "${common[@]}" -c "$CLIENTS" -d "$D" "$url"
  [[ $peak_c == "$CLIENTS" ]] || run "$b-no-spare-p-ping-c$peak_c" "${common[@]}" -c "$peak_c" -d "$D" "$url"
  run "$b-no-spare-p-open-half" "${common[@]}" -rate "$half" -d "$D" "$url"
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true
  log "RSA floor of the $b backend, after its load runs"
  read -r rsa2 speed2 <<<"$(floor "$b")"
  floor_rsa[$b]=$(mean "$rsa1" "$rsa2")
  floor_speed[$b]=$(mean "$speed1" "$speed2")
  floor_spread[$b]="$rsa1 then $rsa2; openssl speed $speed1 then $speed2"
  if [[ $b == go && -n "${META_EXAMPLE:-}" ]]; then node_run node "$META_EXAMPLE"; fi
  if [[ $b == openssl && -n "${META_EXAMPLE_ONCE:-}" ]]; then node_run node-once "$META_EXAMPLE_ONCE"; fi
done

# --- Webhook ingestion through waflow serve (development mode, SQLite, FULL). -
log "webhook: waflow serve in development mode"
"$W" serve -addr "127.0.0.1:$PORT" -data-dir "$OUT/serve-data" >"$OUT/serve.out" 2>"$OUT/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 1 100); do grep -q 'waflow serving' "$OUT/serve.err" 2>/dev/null && break; sleep 0.1; done
webhook_url="http://127.0.0.1:$PORT/webhook"
if ! kill -0 "$serve_pid" 2>/dev/null; then
  echo "waflow serve did not start, webhook figures skipped: $(tail -1 "$OUT/serve.err")" >&2
  probe="not started"
else
  probe=$("$W" bench -q -json -data-dir "$OUT/serve-data" -mode webhook -n 1 "$webhook_url" | jq -r '.errors[0].kind // "ok"' || true)
fi
if [[ "$probe" == "not started" ]]; then
  :
elif [[ "$probe" == "status 404" || "$probe" == "status 405" || "$probe" == transport ]]; then
  echo "waflow serve has no webhook receiver at /webhook yet ($probe): webhook figures skipped" >&2
else
  # 32 senders, as the webhook package's BenchmarkWebhookIngest (the storage
  # figure), run next for comparison.
  run webhook-c32 -data-dir "$OUT/serve-data" -mode webhook -c 32 -d "$D" -pid "$serve_pid" "$webhook_url"
fi
kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true
if [[ -f "$OUT/webhook-c32.json" ]]; then
  log "webhook: BenchmarkWebhookIngest/sync=FULL/http"
  ingest=$(go test -run '^$' -bench 'BenchmarkWebhookIngest/sync=FULL/http' -benchtime "$BENCHTIME" ./webhook |
    awk '/^BenchmarkWebhookIngest/ { for (i = 1; i < NF; i++) if ($(i+1) == "events/s") print $i }')
fi

# --- The table. --------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { # NAME: one load run's line
  [[ -f "$OUT/$1.json" ]] || return 0
  jq -r --arg n "$1" '
    def r2: . * 100 | round / 100;
    def per_req(s): if s == null or .requests == 0 then "-" else (s / .requests * 1e6 | round) end;
    "| \($n) | \(.ok_per_second | floor) | \(.latency_ms.p50 | r2) | \(.latency_ms.p90 | r2) | \(.latency_ms.p99 | r2) | \(.latency_ms.max | r2) | \(if .latency_ms.p50 > 0 then .latency_ms.p99 / .latency_ms.p50 | r2 else "-" end) | \(.failed) | \(per_req(.server.cpu_seconds)) | \(per_req(.generator_cpu_seconds)) | \(.server.peak_resident_mb // "-" | if type == "number" then r2 else . end) |"' "$OUT/$1.json"
}
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Go $(go env GOVERSION), $(openssl version), Node $(node --version 2>/dev/null || echo absent); runs of $D; JSON in $OUT"
echo
echo "| RSA-2048 private-key operations per second, all cores (mean of before and after) | | |"
echo "| --- | --- | --- |"
echo "| crypto/rsa DecryptOAEP (envelope BenchmarkDecryptOAEP) | ${floor_rsa[go]} | ${floor_spread[go]%%;*} |"
if [[ -n "${floor_rsa[openssl]:-}" ]]; then
  echo "| OpenSSL EVP_PKEY_decrypt through internal/ossl (BenchmarkDecryptOAEP) | ${floor_rsa[openssl]} | ${floor_spread[openssl]%%;*} |"
  echo "| openssl speed -multi $(nproc) rsa2048, sign/s | ${floor_speed[openssl]} | ${floor_spread[openssl]#*; openssl speed } |"
fi
echo
echo "| run | ok/s | p50 ms | p90 ms | p99 ms | max ms | p99/p50 | failed | server CPU µs/req | generator CPU µs/req | server peak RSS MB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for b in "${backends[@]}"; do
  for c in $SWEEP; do row "$b-ping-c$c"; done
  row "$b-open-half"
  row "$b-init-c$CLIENTS"
  for c in $SWEEP; do row "$b-no-spare-p-ping-c$c"; done
  row "$b-no-spare-p-open-half"
done
for c in $SWEEP; do row "node-ping-c$c"; done
for c in $SWEEP; do row "node-once-ping-c$c"; done
row webhook-c32
echo
echo "Ratios (the issue's targets in brackets):"
go8=$(j "go-ping-c$CLIENTS" .ok_per_second)
gopeak=$(j go-ping-peak .ok_per_second)
echo "- Go backend, ping at peak / crypto/rsa rate: $(ratio "$gopeak" "${floor_rsa[go]}") [>= 0.90]; at $CLIENTS clients: $(ratio "$go8" "${floor_rsa[go]}")"
if [[ -f "$OUT/node-ping-c$CLIENTS.json" ]]; then
  echo "- Go backend / Meta's example as it ships, $CLIENTS clients: $(ratio "$go8" "$(j "node-ping-c$CLIENTS" .ok_per_second)") [>= 2]; at Go's peak ($(j go-ping-peak .concurrency) clients, both): $(ratio "$gopeak" "$(j node-ping-peak .ok_per_second)")"
fi
if [[ -n "${floor_rsa[openssl]:-}" ]]; then
  o8=$(j "openssl-ping-c$CLIENTS" .ok_per_second)
  opeak=$(j openssl-ping-peak .ok_per_second)
  echo "- OpenSSL backend, ping at peak / openssl speed: $(ratio "$opeak" "${floor_speed[openssl]}") [>= 0.70]; at $CLIENTS clients: $(ratio "$o8" "${floor_speed[openssl]}")"
  if [[ -f "$OUT/node-once-ping-c$CLIENTS.json" ]]; then
    echo "- OpenSSL backend / Meta's example with its key parsed once, $CLIENTS clients: $(ratio "$o8" "$(j "node-once-ping-c$CLIENTS" .ok_per_second)") [>= 2.5]; at OpenSSL's peak ($(j openssl-ping-peak .concurrency) clients, both): $(ratio "$opeak" "$(j node-once-ping-peak .ok_per_second)")"
  fi
fi
for b in "${backends[@]}"; do
  f="$b-no-spare-p-ping-c$CLIENTS"
  [[ -f "$OUT/$f.json" ]] || continue
  base=${floor_rsa[$b]}
  [[ $b == openssl ]] && base=${floor_speed[openssl]}
  node=node
  [[ $b == openssl ]] && node=node-once
  vs_node=""
  [[ -f "$OUT/$node-ping-c$CLIENTS.json" ]] && vs_node=", $(ratio "$(j "$f" .ok_per_second)" "$(j "$node-ping-c$CLIENTS" .ok_per_second)")x $node"
  echo "- $b backend with GOMAXPROCS=$(nproc) (no spare P), $CLIENTS clients: $(ratio "$(j "$f" .ok_per_second)" "$base") of the floor$vs_node, p99/p50 $(ratio "$(j "$f" .latency_ms.p99)" "$(j "$f" .latency_ms.p50)"); open loop at half of peak: p99 $(j "$b-no-spare-p-open-half" '.latency_ms.p99 * 100 | round / 100') ms"
done
if [[ -n "${ingest:-}" ]]; then
  echo "- Webhooks: waflow bench -mode webhook -c 32 against waflow serve: $(j webhook-c32 '.ok_per_second | floor')/s; BenchmarkWebhookIngest/sync=FULL/http in the same session: ${ingest%.*}/s"
fi
for b in "${backends[@]}"; do
  echo "- $b: p99/p50 at $CLIENTS clients $(ratio "$(j "$b-ping-c$CLIENTS" .latency_ms.p99)" "$(j "$b-ping-c$CLIENTS" .latency_ms.p50)"), at peak ($(j "$b-ping-peak" .concurrency) clients) $(ratio "$(j "$b-ping-peak" .latency_ms.p99)" "$(j "$b-ping-peak" .latency_ms.p50)") [<= 3]; open loop at half of peak: p99 $(j "$b-open-half" '.latency_ms.p99 * 100 | round / 100') ms [< 20]"
done
