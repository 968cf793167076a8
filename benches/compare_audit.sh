#!/usr/bin/env bash
# Times `openssl storeutl -noout -text -certs` and `gwtrust audit --fail-on never` on the same
# 100,000-certificate PEM bundle of distinct RSA-2048 roots, three runs each, and prints both
# medians, their ratio, and gwtrust's peak memory against the bundle's size.
#
# Usage: benches/compare_audit.sh [COUNT]   (COUNT defaults to 100000; needs bc and GNU time)
# The bundle is generated once and cached under target/audit-bench/.
set -euo pipefail

if [ ! -x /usr/bin/time ]; then
    echo "compare_audit.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi
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
load=$(cut -d" " -f1-3 /proc/loadavg)

# Prints "WALL CPU" for one run of the command, in seconds; CPU is user plus system time of
# the command and its children, which other load on the machine barely changes.
time_once() {
    local report
    report=$(mktemp)
    /usr/bin/time -o "$report" -f '%e %U %S' "$@" >/dev/null 2>&1 || true
    tail -n 1 "$report" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }'
    rm -f "$report"
}

median() {
    sort -g | sed -n "$(( (runs + 1) / 2 ))p"
}

openssl_wall=() openssl_cpu=() gwtrust_wall=() gwtrust_cpu=()
for _ in $(seq "$runs"); do
    read -r wall cpu < <(time_once openssl storeutl -noout -text -certs "$bundle")
    openssl_wall+=("$wall") openssl_cpu+=("$cpu")
    read -r wall cpu < <(time_once "$gwtrust" audit "$bundle" --fail-on never)
    gwtrust_wall+=("$wall") gwtrust_cpu+=("$cpu")
done

openssl_median=$(printf '%s\n' "${openssl_wall[@]}" | median)
gwtrust_median=$(printf '%s\n' "${gwtrust_wall[@]}" | median)
openssl_cpu_median=$(printf '%s\n' "${openssl_cpu[@]}" | median)
gwtrust_cpu_median=$(printf '%s\n' "${gwtrust_cpu[@]}" | median)
ratio=$(echo "$openssl_median / $gwtrust_median" | bc -l)

# Peak resident memory (maximum RSS) of one audit.
size=$(stat -c %s "$bundle")
peak_kb=$(/usr/bin/time -v "$gwtrust" audit "$bundle" --fail-on never 2>&1 >/dev/null |
    awk -F': ' '/Maximum resident set size/ {print $2}')

echo "bundle:   $bundle ($count certificates, $(( size / 1048576 )) MiB)"
echo "machine:  $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before the runs: $load"
echo "openssl storeutl -noout -text -certs: wall ${openssl_wall[*]} s, median $openssl_median s; CPU median $openssl_cpu_median s"
echo "gwtrust audit --fail-on never:        wall ${gwtrust_wall[*]} s, median $gwtrust_median s; CPU median $gwtrust_cpu_median s"
printf 'ratio (openssl / gwtrust): %.1f\n' "$ratio"
printf 'gwtrust peak memory: %d MiB, %.2f x the bundle size\n' "$(( peak_kb / 1024 ))" "$(echo "$peak_kb * 1024 / $size" | bc -l)"
