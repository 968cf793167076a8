#!/usr/bin/env bash
# Times `gwtrust gateway check --hosts` over 1,000 gateways on loopback lab servers, and the
# same number of sequential `openssl s_client` handshakes, and prints both with their ratio.
#
# Usage: benches/compare_fleet.sh [CHECKS] [SERVERS] [NAMES_PER_SERVER] [OPENSSL_SAMPLE]
#   CHECKS            gateway lines in the hosts file            (default 1000)
#   SERVERS           lab servers, each on its own loopback port  (default 4)
#   NAMES_PER_SERVER  host names in each server's certificate     (default 5)
#   OPENSSL_SAMPLE    s_client runs actually timed; the time is scaled to CHECKS (default 100)
#
# Everything listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

checks=${1:-1000}
servers=${2:-4}
names=${3:-5}
sample=${4:-100}

cargo build --release --quiet
bin=$PWD/target/release/gwtrust
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

store=$work/store
"$bin" lab ca --out "$work/ca" >/dev/null

# Start the lab servers: each presents one RSA 2048 leaf for several names, as OWA does, and
# serves /owa/ and the EWS endpoint with a 401.
ports=()
for s in $(seq 1 "$servers"); do
    sans=()
    for n in $(seq 2 "$names"); do sans+=(--san "owa$n.s$s.bench.example.test"); done
    "$bin" lab server --ca "$work/ca" --host "owa1.s$s.bench.example.test" "${sans[@]}" \
        --out "$work/s$s" >/dev/null
    "$bin" lab serve --cert "$work/s$s" --listen 127.0.0.1:0 --api ews --json \
        >"$work/s$s.out" 2>/dev/null &
    pids+=("$!")
done
for s in $(seq 1 "$servers"); do
    for _ in $(seq 1 100); do
        [ -s "$work/s$s.out" ] && break
        sleep 0.05
    done
    ports+=("$(sed -n 's/.*"address":"127.0.0.1:\([0-9]*\)".*/\1/p' "$work/s$s.out" | head -1)")
done

# Pin the lab root once, so that the trust check passes for every gateway.
"$bin" --store "$store" pin "owa1.s1.bench.example.test" --connect "127.0.0.1:${ports[0]}" \
    --ca-file "$work/ca/ca.pem" --yes >/dev/null

# The hosts file: CHECKS lines, cycling through the servers and their names.
hosts=$work/hosts.txt
: >"$hosts"
for i in $(seq 0 $((checks - 1))); do
    s=$((i % servers + 1))
    n=$((i / servers % names + 1))
    echo "owa$n.s$s.bench.example.test,user$i@bench.example.test,127.0.0.1:${ports[$((s - 1))]}" >>"$hosts"
done

now() { date +%s.%N; }

start=$(now)
set +e
# Each lab leaf names several hosts, which the exact-san profile reports as a warning.
"$bin" --store "$store" gateway check --hosts "$hosts" --profile rfc6125 --json >"$work/fleet.jsonl"
code=$?
set -e
fleet=$(printf "%.3f" "$(echo "$(now) - $start" | bc)")
summary=$(tail -1 "$work/fleet.jsonl")
passed=$(echo "$summary" | sed -n 's/.*"passed":\([0-9]*\).*/\1/p')

runs=$((sample < checks ? sample : checks))
start=$(now)
for i in $(seq 0 $((runs - 1))); do
    s=$((i % servers + 1))
    n=$((i / servers % names + 1))
    openssl s_client -connect "127.0.0.1:${ports[$((s - 1))]}" \
        -servername "owa$n.s$s.bench.example.test" </dev/null >/dev/null 2>&1
done
sampled=$(printf "%.3f" "$(echo "$(now) - $start" | bc)")
openssl_total=$(printf "%.3f" "$(echo "scale=3; $sampled * $checks / $runs" | bc)")

echo "machine:  $(nproc) cores, $(uname -sm)"
echo "lab:      $servers servers x $names names on 127.0.0.1"
echo "gwtrust:  $checks gateway checks (7 checks, 2 GETs each), --concurrency 32: ${fleet}s (exit $code, $passed passed)"
if [ "$runs" -lt "$checks" ]; then
    echo "openssl:  $runs sequential s_client handshakes in ${sampled}s, scaled to $checks: ${openssl_total}s"
else
    echo "openssl:  $runs sequential s_client handshakes: ${openssl_total}s"
fi
echo "ratio:    openssl / gwtrust = $(echo "scale=1; $openssl_total / $fleet" | bc)x"
