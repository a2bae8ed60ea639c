#!/usr/bin/env bash
# Sign-in beyond passwords under load (issues 18, 25): password sign-in,
# passkey sign-in, the TOTP step of a sign-in and an email-code sign-in,
# each at 16 requests in flight,
# driven by bench/factors.rs (a Rust client; the passkey is the test
# suite's software authenticator). Prints a table and replaces the marked
# "Sign-in beyond passwords" section of BENCHMARKS.md.
#
# Usage: bash bench/factors.sh [--duration SECONDS] [--runs N] [--out FILE]
#   --duration  seconds per workload run (default 5)
#   --runs      repetitions (default 3); the table shows min/median/max
#   --out FILE  the report to update (default BENCHMARKS.md; "-": nowhere)
#
# Two servers, one after the other, from the same release binary: the
# password sign-ins run against PBKDF2-SHA256 at 600,000 iterations (the
# default); the passkey and TOTP workloads against a server at 1,000
# iterations, only so that setting up their users (each signs up, and for
# TOTP signs in with a password once before the clock starts) takes
# seconds, not minutes. No password is hashed in their measured part.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=5
RUNS=3
OUT=BENCHMARKS.md
IN_FLIGHT=16
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
say() { printf '%s\n' "$*" >&2; }
die() { say "bench/factors: $*"; exit 1; }

TARGET=${CARGO_TARGET_DIR:-$(pwd)/target}
say "building (cargo build --release --bin toktok; cargo bench --bench factors --no-run)"
cargo build --release --quiet --bin toktok
LOADER=$(cargo bench --bench factors --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*factors[^"]*\)".*/\1/p' | tail -1)
[ -x "$LOADER" ] || die "cannot find the factors load generator"
BIN=$TARGET/release/toktok

WORK=$(mktemp -d "${TMPDIR:-/tmp}/toktok-factors.XXXXXX")
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# start ITERATIONS: a fresh server on a fresh database; sets URL and PID.
start() {
    local port dir
    port=$((20000 + RANDOM % 20000))
    while ! port_free "$port"; do port=$((20000 + RANDOM % 20000)); done
    URL=http://127.0.0.1:$port
    dir=$(mktemp -d "$WORK/server.XXXX")
    cat >"$dir/toktok.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
public_url = "$URL"
demo = false
[database]
path = "$dir/toktok.db"
[jwt]
access_ttl = "1h"
[password]
pbkdf2_iterations = $1
[email]
mode = "dev"
outbox_dir = "$dir/outbox"
[email_code]
enabled = true
[rate_limit]
enabled = false
[log]
level = "error"
[metrics]
enabled = false
EOF
    OUTBOX=$dir/outbox
    TOKTOK_CONFIG=$dir/toktok.toml "$BIN" serve >>"$dir/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do
        curl -sf "$URL/ready" >/dev/null 2>&1 && return 0
        kill -0 "$PID" 2>/dev/null || die "the server exited: $(tail -5 "$dir/server.log")"
        sleep 0.1
    done
    die "the server was not ready within 30 s"
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# run WORKLOAD USERS: one run; appends "rate p50 p99 failed" to results/WORKLOAD.
mkdir -p "$WORK/results"
run() {
    local line
    line=$(OUTBOX=$OUTBOX "$LOADER" "$1" "$URL" --in-flight "$IN_FLIGHT" --duration "$DURATION" --users "$2") \
        || die "the $1 workload failed"
    say "  $line"
    echo "$line" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["rate"], v["p50_ms"], v["p99_ms"], v["failed"], v["ok"] }' >>"$WORK/results/$1"
}

for r in $(seq "$RUNS"); do
    say "run $r of $RUNS"
    start 600000
    run password 16
    stop
    start 1000
    run passkey 32
    # One MFA step per user (a code never verifies twice): the run ends
    # when the pool of users does, or after DURATION, whichever is first.
    run totp 4000
    # The same for sign-in codes by mail (read from the dev outbox).
    run email_code 4000
    stop
done

med() { sort -n -k"$2" "$WORK/results/$1" | awk -v c="$2" '{ a[NR] = $c } END { print a[int((NR + 1) / 2)] }'; }
span() { sort -n -k"$2" "$WORK/results/$1" | awk -v c="$2" '{ a[NR] = $c } END { printf "%s / %s / %s", a[1], a[int((NR + 1) / 2)], a[NR] }'; }
failed() { awk '{ s += $4 } END { print s + 0 }' "$WORK/results/$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }'; }

PW=$(med password 1)
PK=$(med passkey 1)
TO=$(med totp 1)
EC=$(med email_code 1)
report() {
    echo "| workload (16 in flight) | sign-ins/s min / median / max | p50 ms (median) | p99 ms (median) | × password | failed |"
    echo "|---|---|---|---|---|---|"
    echo "| password sign-in (PBKDF2-SHA256, 600,000 iterations) | $(span password 1) | $(med password 2) | $(med password 3) | 1.0 | $(failed password) |"
    echo "| passkey sign-in (options + assertion + verify, ES256) | $(span passkey 1) | $(med passkey 2) | $(med passkey 3) | $(ratio "$PK" "$PW") | $(failed passkey) |"
    echo "| TOTP step of a sign-in (\`POST /v1/auth/mfa\`) | $(span totp 1) | $(med totp 2) | $(med totp 3) | $(ratio "$TO" "$PW") | $(failed totp) |"
    echo "| email-code sign-in (\`POST /v1/auth/email-code/verify\`, address + code) | $(span email_code 1) | $(med email_code 2) | $(med email_code 3) | $(ratio "$EC" "$PW") | $(failed email_code) |"
    echo
    echo "Goal (issue 18): passkey sign-in ≥ 20 × password sign-in: $(awk -v r="$(ratio "$PK" "$PW")" 'BEGIN { print (r >= 20) ? "met" : "NOT met" }') ($(ratio "$PK" "$PW") ×);"
    echo "TOTP step ≥ 20 × password sign-in (issue 25's goal): $(awk -v r="$(ratio "$TO" "$PW")" 'BEGIN { print (r >= 20) ? "met" : "NOT met" }') ($(ratio "$TO" "$PW") ×);"
    echo "email-code sign-in ≥ 20 × password sign-in (issue 25's goal): $(awk -v r="$(ratio "$EC" "$PW")" 'BEGIN { print (r >= 20) ? "met" : "NOT met" }') ($(ratio "$EC" "$PW") ×)."
}
say ""
report >&2

if [ "$OUT" != - ]; then
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    KEPT=""
    [ -f "$OUT" ] && KEPT=$(sed '/^<!-- factors:begin -->$/,/^<!-- factors:end -->$/d' "$OUT")
    {
        [ -n "$KEPT" ] && { printf '%s\n' "$KEPT"; echo; }
        echo "<!-- factors:begin -->"
        echo "## Sign-in beyond passwords (issue 18)"
        echo
        echo "Written by \`bash bench/factors.sh\` ($RUNS runs of $DURATION s; toktok $REV, $(date -u +%Y-%m-%dT%H:%MZ);"
        echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores). Client: \`bench/factors.rs\`"
        echo "(reqwest, one thread, 16 requests in flight), on the same machine as the server. The passkey and"
        echo "TOTP servers use 1,000 PBKDF2 iterations only to set up their users quickly; their measured part"
        echo "hashes no password. A passkey sign-in is two requests (options, then the assertion)."
        echo
        report
        echo "<!-- factors:end -->"
    } >"$OUT.tmp"
    mv "$OUT.tmp" "$OUT"
    say "wrote the factors section of $OUT"
fi
