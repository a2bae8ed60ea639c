#!/usr/bin/env bash
# The OpenID provider's token paths under load (issue 19): a refresh-token
# rotation (the yardstick), the authorization code flow end to end
# (`GET /oauth/authorize` with the browser-session cookie, then
# `POST /oauth/token` with the code, PKCE and client_secret_basic), and
# userinfo, each at 16 requests in flight, driven by bench/oidc.rs (a Rust
# client on one thread). Prints a table and replaces the marked "OpenID
# provider" section of BENCHMARKS.md. Goal: a code exchange within 2× of a
# refresh rotation (its rate at least half).
#
# Usage: bash bench/oidc.sh [--duration SECONDS] [--runs N] [--out FILE]
#   --duration  seconds per workload run (default 5)
#   --runs      repetitions (default 3); the table shows min/median/max
#   --out FILE  the report to update (default BENCHMARKS.md; "-": nowhere)
#
# One server per run, from the release binary, on a fresh SQLite file, with
# 1,000 PBKDF2 iterations only so that setting up the users (each signs up,
# and signs in once on the hosted page) takes seconds: no password is
# hashed in the measured part of any workload.
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
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
say() { printf '%s\n' "$*" >&2; }
die() { say "bench/oidc: $*"; exit 1; }

TARGET=${CARGO_TARGET_DIR:-$(pwd)/target}
say "building (cargo build --release --bin toktok; cargo bench --bench oidc --no-run)"
cargo build --release --quiet --bin toktok
LOADER=$(cargo bench --bench oidc --no-run --message-format=json 2>/dev/null \
    | sed -n 's/.*"executable":"\([^"]*oidc[^"]*\)".*/\1/p' | tail -1)
[ -x "$LOADER" ] || die "cannot find the oidc load generator"
BIN=$TARGET/release/toktok

WORK=$(mktemp -d "${TMPDIR:-/tmp}/toktok-oidc.XXXXXX")
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# start: a fresh server on a fresh database with a registered client; sets
# URL, PID, CLIENT_ID and CLIENT_SECRET.
start() {
    local port dir key client
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
pbkdf2_iterations = 1000
[email]
mode = "off"
[rate_limit]
enabled = false
[log]
level = "error"
[metrics]
enabled = false
[oidc]
enabled = true
code_ttl = "10m"
EOF
    TOKTOK_CONFIG=$dir/toktok.toml "$BIN" serve >>"$dir/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do
        curl -sf "$URL/ready" >/dev/null 2>&1 && break
        kill -0 "$PID" 2>/dev/null || die "the server exited: $(tail -5 "$dir/server.log")"
        sleep 0.1
    done
    curl -sf "$URL/ready" >/dev/null 2>&1 || die "the server was not ready within 30 s"
    key=$(TOKTOK_CONFIG=$dir/toktok.toml "$BIN" api-key create --name bench --scope admin)
    client=$(curl -sf -X POST "$URL/v1/admin/oauth-clients" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' \
        -d '{"name":"Bench","type":"confidential","redirect_uris":["https://bench.example/cb"],"skip_consent":true}') \
        || die "cannot register the bench client"
    CLIENT_ID=$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
    CLIENT_SECRET=$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
    # The same client with EdDSA ID tokens (toktok's own algorithm): what
    # the RS256 signature costs.
    client=$(curl -sf -X POST "$URL/v1/admin/oauth-clients" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' \
        -d '{"name":"Bench EdDSA","type":"confidential","redirect_uris":["https://bench.example/cb"],"skip_consent":true,"id_token_signed_response_alg":"EdDSA"}') \
        || die "cannot register the EdDSA bench client"
    ED_ID=$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
    ED_SECRET=$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# run WORKLOAD [NAME ID SECRET]: one run (with the RS256 client, or the one
# given); appends "rate p50 p99 failed ok" to results/NAME.
mkdir -p "$WORK/results"
run() {
    local line
    line=$("$LOADER" "$1" "$URL" "${3:-$CLIENT_ID}" "${4:-$CLIENT_SECRET}" --in-flight "$IN_FLIGHT" \
        --duration "$DURATION" --users 32) || die "the $1 workload failed"
    say "  $line"
    echo "$line" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["rate"], v["p50_ms"], v["p99_ms"], v["failed"], v["ok"] }' >>"$WORK/results/${2:-$1}"
}

for r in $(seq "$RUNS"); do
    say "run $r of $RUNS"
    start
    run refresh
    run code
    run code code_eddsa "$ED_ID" "$ED_SECRET"
    run exchange
    run exchange exchange_eddsa "$ED_ID" "$ED_SECRET"
    run userinfo
    stop
done

med() { sort -n -k"$2" "$WORK/results/$1" | awk -v c="$2" '{ a[NR] = $c } END { print a[int((NR + 1) / 2)] }'; }
span() { sort -n -k"$2" "$WORK/results/$1" | awk -v c="$2" '{ a[NR] = $c } END { printf "%s / %s / %s", a[1], a[int((NR + 1) / 2)], a[NR] }'; }
failed() { awk '{ s += $4 } END { print s + 0 }' "$WORK/results/$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }

RF=$(med refresh 1)
CO=$(med code 1)
CE=$(med code_eddsa 1)
UI=$(med userinfo 1)
EX=$(med exchange 1)
EE=$(med exchange_eddsa 1)
report() {
    echo "| workload (16 in flight) | per second min / median / max | p50 ms (median) | p99 ms (median) | × refresh | failed |"
    echo "|---|---|---|---|---|---|"
    echo "| refresh rotation (\`POST /v1/auth/refresh\`, durable) | $(span refresh 1) | $(med refresh 2) | $(med refresh 3) | 1.00 | $(failed refresh) |"
    echo "| code flow: \`GET /oauth/authorize\` (session, consent, new code) + \`POST /oauth/token\` (code, PKCE, basic auth; access + RS256 ID token) | $(span code 1) | $(med code 2) | $(med code 3) | $(ratio "$CO" "$RF") | $(failed code) |"
    echo "| the same with an EdDSA ID token (a client's \`id_token_signed_response_alg\`) | $(span code_eddsa 1) | $(med code_eddsa 2) | $(med code_eddsa 3) | $(ratio "$CE" "$RF") | $(failed code_eddsa) |"
    echo "| the code exchange alone: \`POST /oauth/token\` (codes made before the clock starts; RS256 ID token) | $(span exchange 1) | $(med exchange 2) | $(med exchange 3) | $(ratio "$EX" "$RF") | $(failed exchange) |"
    echo "| the code exchange alone with an EdDSA ID token | $(span exchange_eddsa 1) | $(med exchange_eddsa 2) | $(med exchange_eddsa 3) | $(ratio "$EE" "$RF") | $(failed exchange_eddsa) |"
    echo "| \`GET /oauth/userinfo\` | $(span userinfo 1) | $(med userinfo 2) | $(med userinfo 3) | $(ratio "$UI" "$RF") | $(failed userinfo) |"
    echo
    echo "Goal (issues 19, 25): a code exchange within 2× of a refresh rotation (rate ≥ 0.5 × refresh):" \
        "$(awk -v r="$(ratio "$EX" "$RF")" 'BEGIN { print (r >= 0.5) ? "met" : "NOT met" }') ($(ratio "$EX" "$RF") × for \`POST /oauth/token\` alone;" \
        "$(ratio "$CO" "$RF") × for the whole flow, authorize included);" \
        "with an EdDSA ID token: $(awk -v r="$(ratio "$EE" "$RF")" 'BEGIN { print (r >= 0.5) ? "met" : "NOT met" }') ($(ratio "$EE" "$RF") ×)."
}
say ""
report >&2

if [ "$OUT" != - ]; then
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    KEPT=""
    [ -f "$OUT" ] && KEPT=$(sed '/^<!-- oidc:begin -->$/,/^<!-- oidc:end -->$/d' "$OUT")
    {
        [ -n "$KEPT" ] && { printf '%s\n' "$KEPT"; echo; }
        echo "<!-- oidc:begin -->"
        echo "## OpenID provider (issue 19)"
        echo
        echo "Written by \`bash bench/oidc.sh\` ($RUNS runs of $DURATION s; toktok $REV, $(date -u +%Y-%m-%dT%H:%MZ);"
        echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores). Client: \`bench/oidc.rs\`"
        echo "(reqwest, one thread, 16 requests in flight), on the same machine as the server, SQLite."
        echo "One code-flow operation is two requests and two durable writes (the code at authorize; the"
        echo "code used and the client's session at the exchange); a rotation is one request and one write."
        echo
        report
        echo "<!-- oidc:end -->"
    } >"$OUT.tmp"
    mv "$OUT.tmp" "$OUT"
    say "wrote the oidc section of $OUT"
fi
