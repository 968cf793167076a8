#!/usr/bin/env bash
# Times `openssl storeutl -noout -text -certs` and `gwtrust audit --fail-on never` on the same
# 100,000-certificate PEM bundle of distinct RSA-2048 roots, three runs each, and prints both
# medians, their ratio, and gwtrust's peak memory against the bundle's size.
#
# Usage: benches/compare_audit.sh [COUNT]   (COUNT defaults to 100000)
# The bundle is generated once and cached under target/audit-bench/.
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-100000}"
runs=3
cache="target/audit-bench"
bundle="$cache/roots-$count.pem"
mkdir -p "$cache"

cargo build --release --quiet --bin gwtrust
if [ ! -s "$bundle" ]; then
    echo "generating $bundle ($count RSA-2048 roots sharing 32 keys)..." >&2
    cargo run --release --quiet --example gen_bundle -- "$bundle" "$count" rsa
fi
gwtrust="target/release/gwtrust"

# Prints the wall time of one run of the command, in seconds.
time_once() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

median() {
    sort -g | sed -n "$(( (runs + 1) / 2 ))p"
}

openssl_times=()
gwtrust_times=()
for _ in $(seq "$runs"); do
    openssl_times+=("$(time_once openssl storeutl -noout -text -certs "$bundle")")
    gwtrust_times+=("$(time_once "$gwtrust" audit "$bundle" --fail-on never)")
done

openssl_median=$(printf '%s\n' "${openssl_times[@]}" | median)
gwtrust_median=$(printf '%s\n' "${gwtrust_times[@]}" | median)
ratio=$(echo "$openssl_median / $gwtrust_median" | bc -l)

# Peak resident memory of one audit: /usr/bin/time -v where present, else VmHWM from /proc.
size=$(stat -c %s "$bundle")
if [ -x /usr/bin/time ]; then
    peak_kb=$(/usr/bin/time -v "$gwtrust" audit "$bundle" --fail-on never 2>&1 >/dev/null |
        awk -F': ' '/Maximum resident set size/ {print $2}')
else
    "$gwtrust" audit "$bundle" --fail-on never >/dev/null &
    pid=$!
    peak_kb=0
    while kill -0 "$pid" 2>/dev/null; do
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${hwm:-0}" -gt "$peak_kb" ] && peak_kb=$hwm
        sleep 0.01
    done
    wait "$pid" || true
fi

echo "bundle:   $bundle ($count certificates, $(( size / 1048576 )) MiB)"
echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "openssl storeutl -noout -text -certs: ${openssl_times[*]} s; median $openssl_median s"
echo "gwtrust audit --fail-on never:        ${gwtrust_times[*]} s; median $gwtrust_median s"
printf 'ratio (openssl / gwtrust): %.1f\n' "$ratio"
printf 'gwtrust peak memory: %d MiB, %.2f x the bundle size\n' "$(( peak_kb / 1024 ))" "$(echo "$peak_kb * 1024 / $size" | bc -l)"
