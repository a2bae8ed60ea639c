#!/usr/bin/env bash
# Hooks under load (issue 22): how fast webhook deliveries drain to a local
# receiver, and what the access-token hook costs a refresh rotation.
# Prints a table and replaces the marked "Hooks" section of BENCHMARKS.md.
#
# Usage: bash bench/hooks.sh [--events N] [--duration SECONDS] [--runs N] [--out FILE]
#   --events    deliveries queued for the delivery workload (default 20000)
#   --duration  seconds per refresh run (default 5)
#   --runs      repetitions (default 3); the table shows min/median/max
#   --out FILE  the report to update (default BENCHMARKS.md; "-": nowhere)
#
# Delivery: a fresh server, one endpoint (`user.created`) at bench/hooks.rs's
# receiver (answers 204 at once); the server is stopped, N due deliveries
# are written into its database (python3's sqlite3, the rows toktok itself
# writes), and the server is started again: the receiver times the first
# to the Nth delivery; then the same again while wrk drives W4 (GET
# /v1/users/me), and W4 as long again once drained; both at the default
# pace ([hooks] max_per_second = 2000) and with no limit (0). Refresh:
# bench/oidc.rs's `refresh` workload (32 sessions, 16 rotations in flight)
# on a server without the hook, then on one whose [hooks.access_token] is
# the receiver answering after 1 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=20000
DURATION=5
RUNS=3
OUT=BENCHMARKS.md
IN_FLIGHT=16
while [ $# -gt 0 ]; do
    case "$1" in
        --events) EVENTS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
say() { printf '%s\n' "$*" >&2; }
die() { say "bench/hooks: $*"; exit 1; }

command -v wrk >/dev/null 2>&1 || die "wrk is needed (Debian's package; bench/run.sh installs it)"
TARGET=${CARGO_TARGET_DIR:-$(pwd)/target}
say "building (cargo build --release --bin toktok; cargo bench --bench hooks --bench oidc --no-run)"
cargo build --release --quiet --bin toktok
loader() {
    cargo bench --bench "$1" --no-run --message-format=json 2>/dev/null \
        | sed -n "s/.*\"executable\":\"\([^\"]*$1[^\"]*\)\".*/\1/p" | tail -1
}
RECEIVER=$(loader hooks)
REFRESH=$(loader oidc)
[ -x "$RECEIVER" ] || die "cannot find the hooks receiver"
[ -x "$REFRESH" ] || die "cannot find the oidc load generator"
BIN=$TARGET/release/toktok
SECRET="whsec_$(head -c 32 /dev/urandom | base64 | tr -d '\n')"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/toktok-hooks.XXXXXX")
PID=""
RPID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# receiver [EXPECT]: starts bench/hooks.rs; sets RPID, RPORT and ROUT.
receiver() {
    ROUT=$(mktemp "$WORK/receiver.XXXX")
    "$RECEIVER" --expect "${1:-0}" --claims-delay-ms 1 >"$ROUT" 2>&1 &
    RPID=$!
    for _ in $(seq 100); do
        RPORT=$(sed -n 's/^port=//p' "$ROUT")
        [ -n "$RPORT" ] && return 0
        sleep 0.05
    done
    die "the receiver did not start: $(cat "$ROUT")"
}
stop_receiver() { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null || true; RPID=""; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# configure [EXTRA]: a fresh directory and config; sets DIR and URL.
configure() {
    local port
    # Below Linux's ephemeral range (32768-), so no client socket holds it.
    port=$((20000 + RANDOM % 12000))
    while ! port_free "$port"; do port=$((20000 + RANDOM % 12000)); done
    URL=http://127.0.0.1:$port
    DIR=$(mktemp -d "$WORK/server.XXXX")
    cat >"$DIR/toktok.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
public_url = "$URL"
demo = false
[database]
path = "$DIR/toktok.db"
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
[hooks]
allow_private_targets = true
${1:-}
EOF
}
start() {
    TOKTOK_CONFIG=$DIR/toktok.toml "$BIN" serve >>"$DIR/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do
        curl -sf "$URL/ready" >/dev/null 2>&1 && return 0
        kill -0 "$PID" 2>/dev/null || die "the server exited: $(tail -5 "$DIR/server.log")"
        sleep 0.1
    done
    die "the server was not ready within 30 s"
}
stop() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

mkdir -p "$WORK/results"
# record NAME LINE: appends "rate p50 p99 failed ok" to results/NAME.
record() {
    say "  $1: $2"
    echo "$2" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["rate"], v["p50_ms"], v["p99_ms"], v["failed"], v["ok"] }' >>"$WORK/results/$1"
}

# deliver NAME [W4 [HOOKS_LINE]]: one drain of EVENTS queued deliveries,
# recorded as NAME; HOOKS_LINE goes into [hooks] (e.g. max_per_second = 0).
# With W4, wrk drives GET /v1/users/me (16 connections) from the restart
# until the receiver has them all, then as long again on the idle server
# (issue 25: deliveries must not slow W4 below 0.8 x), recorded as
# NAME.during and NAME.after.
deliver() {
    local name=$1 w4=${2:-} key line token seconds
    receiver "$EVENTS"
    configure "${3:-}"
    if [ -n "$w4" ]; then
        # The W4 user, made before the endpoint exists (no user.created delivery).
        TOKTOK_CONFIG=$DIR/toktok.toml "$BIN" user create --email w4@bench.example \
            --password-stdin <<<"the W4 user's passphrase" >/dev/null
    fi
    start
    if [ -n "$w4" ]; then
        token=$(curl -sf -H 'Content-Type: application/json' "$URL/v1/auth/login" \
            -d '{"email":"w4@bench.example","password":"the W4 user'"'"'s passphrase"}' \
            | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
        [ -n "$token" ] || die "cannot sign the W4 user in"
    fi
    key=$(TOKTOK_CONFIG=$DIR/toktok.toml "$BIN" api-key create --name bench --scope admin)
    curl -sf -o /dev/null -X POST "$URL/v1/admin/webhooks" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' \
        -d "{\"url\":\"http://127.0.0.1:$RPORT/events\",\"events\":[\"user.created\"]}" \
        || die "cannot register the endpoint"
    stop
    python3 - "$DIR/toktok.db" "$EVENTS" <<'PY' || die "cannot queue the deliveries"
import json, sqlite3, sys, time, uuid
db, n = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)
(webhook,) = conn.execute("SELECT id FROM webhooks").fetchone()
now = int(time.time())
rows = []
for _ in range(n):
    uid = str(uuid.uuid4())
    data = {"user_id": uid, "user": {"id": uid, "email": f"{uid[:8]}@bench.example", "name": None,
            "role": "user", "metadata": {}, "app_metadata": {}, "email_confirmed": False,
            "disabled": False, "locale": None, "created_at": now, "updated_at": now}}
    rows.append((f"msg_{uuid.uuid4().hex}", webhook, "user.created", json.dumps(data), now, now))
conn.executemany("INSERT INTO webhook_deliveries (id, webhook_id, type, data, at, next_attempt_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)", rows)
conn.commit()
PY
    local t0 wpid=""
    t0=$(date +%s%N)
    start
    if [ -n "$w4" ]; then
        wrk -t1 -c16 -d600s --timeout 10s --latency -H "Authorization: Bearer $token" \
            "$URL/v1/users/me" >"$WORK/w4-during.txt" 2>&1 &
        wpid=$!
    fi
    for _ in $(seq 1200); do
        line=$(grep '^workload=deliver' "$ROUT" || true)
        [ -n "$line" ] && break
        sleep 0.1
    done
    [ -n "$line" ] || die "the receiver got $(wc -l <"$ROUT") lines, not $EVENTS deliveries, in 120 s"
    if [ -n "$wpid" ]; then
        kill -INT "$wpid"
        wait "$wpid" || die "wrk (W4 during deliveries) failed: $(cat "$WORK/w4-during.txt")"
        seconds=$(( ($(date +%s%N) - t0) / 1000000000 + 1 ))
        wrk -t1 -c16 -d"${seconds}s" --timeout 10s --latency -H "Authorization: Bearer $token" \
            "$URL/v1/users/me" >"$WORK/w4-after.txt" 2>&1 || die "wrk (W4 after) failed"
        for phase in during after; do
            record "$name.$phase" "$(awk '/^Requests\/sec:/ {
                printf "rate=%s p50_ms=0 p99_ms=0 failed=0 ok=0\n", $2 }' "$WORK/w4-$phase.txt")"
        done
    fi
    record "$name" "$line"
    stop
    stop_receiver
}

refresh() {
    local name=$1 extra=$2 line
    configure "$extra"
    start
    line=$("$REFRESH" refresh "$URL" unused unused --in-flight "$IN_FLIGHT" --duration "$DURATION" \
        --users 32) || die "the refresh workload failed"
    record "$name" "$line"
    stop
}

for r in $(seq "$RUNS"); do
    say "run $r of $RUNS"
    deliver deliver
    deliver deliver_w4 W4
    deliver free "" "max_per_second = 0"
    deliver free_w4 W4 "max_per_second = 0"
    refresh refresh ""
    receiver 0
    refresh refresh_hook "[hooks.access_token]
url = \"http://127.0.0.1:$RPORT/claims\"
secret = \"$SECRET\"
timeout = \"500ms\""
    stop_receiver
done

med() { sort -n -k"$2" "$WORK/results/$1" | awk -v c="$2" '{ a[NR] = $c } END { print a[int((NR + 1) / 2)] }'; }
span() { sort -n -k"$2" "$WORK/results/$1" | awk -v c="$2" '{ a[NR] = $c } END { printf "%s / %s / %s", a[1], a[int((NR + 1) / 2)], a[NR] }'; }
failed() { awk '{ s += $4 } END { print s + 0 }' "$WORK/results/$1"; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", a - b }'; }

DELIVER=$(med deliver 1)
DELIVER_W4=$(med deliver_w4 1)
FREE=$(med free 1)
w4_ratio() { awk -v a="$(med "$1.during" 1)" -v b="$(med "$1.after" 1)" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
W4_RATIO=$(w4_ratio deliver_w4)
report() {
    echo "| workload | per second min / median / max | p50 ms (median) | p99 ms (median) | failed |"
    echo "|---|---|---|---|---|"
    echo "| webhook deliveries drained to a local receiver ($EVENTS queued; \`max_per_second\` 2000, the default) | $(span deliver 1) | – | – | $(failed deliver) |"
    echo "| the same drain while wrk drives W4 (\`GET /v1/users/me\`, 16 connections) | $(span deliver_w4 1) | – | – | $(failed deliver_w4) |"
    echo "| W4 during that drain | $(span deliver_w4.during 1) | – | – | – |"
    echo "| W4 on the same server once drained, as long again | $(span deliver_w4.after 1) | – | – | – |"
    echo "| deliveries drained with no limit (\`max_per_second = 0\`) | $(span free 1) | – | – | $(failed free) |"
    echo "| the same while wrk drives W4 | $(span free_w4 1) | – | – | $(failed free_w4) |"
    echo "| W4 during that drain, and once drained | $(med free_w4.during 1) and $(med free_w4.after 1) ($(w4_ratio free_w4) ×) | – | – | – |"
    echo "| refresh rotation, no hook (16 in flight) | $(span refresh 1) | $(med refresh 2) | $(med refresh 3) | $(failed refresh) |"
    echo "| refresh rotation, \`[hooks.access_token]\` answering in 1 ms | $(span refresh_hook 1) | $(med refresh_hook 2) | $(med refresh_hook 3) | $(failed refresh_hook) |"
    echo
    echo "The hook adds $(diff_ms "$(med refresh_hook 2)" "$(med refresh 2)") ms at p50 and $(diff_ms "$(med refresh_hook 3)" "$(med refresh 3)") ms at p99 to a refresh rotation."
    echo "Goal (issue 25): ≥ 2,000 deliveries/s: $(awk -v r="$DELIVER_W4" 'BEGIN { print (r >= 2000) ? "met" : "NOT met" }') ($DELIVER_W4/s under W4 at the default pace; $DELIVER/s alone; $FREE/s alone with no limit);"
    echo "without slowing W4 below 0.8 ×: $(awk -v r="$W4_RATIO" 'BEGIN { print (r >= 0.8) ? "met" : "NOT met" }') ($W4_RATIO × W4 once drained)."
}
say ""
report >&2

if [ "$OUT" != - ]; then
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    KEPT=""
    [ -f "$OUT" ] && KEPT=$(sed '/^<!-- hooks:begin -->$/,/^<!-- hooks:end -->$/d' "$OUT")
    {
        [ -n "$KEPT" ] && { printf '%s\n' "$KEPT"; echo; }
        echo "<!-- hooks:begin -->"
        echo "## Hooks (issue 22)"
        echo
        echo "Written by \`bash bench/hooks.sh\` ($RUNS runs; refresh runs of $DURATION s; toktok $REV, $(date -u +%Y-%m-%dT%H:%MZ);"
        echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores). Deliveries: $EVENTS due"
        echo "\`user.created\` deliveries written into the database of a stopped server, which is then started; the"
        echo "receiver (\`bench/hooks.rs\`, axum, answers 204 at once) times the first to the last. Each is a signed"
        echo "\`POST\` (HMAC-SHA256), up to 128 in flight, outcomes recorded in batches as they come, passes paced to"
        echo "\`[hooks] max_per_second\` (2000 by default; the no-limit rows set 0)."
        echo "Refresh: \`bench/oidc.rs\`'s \`refresh\` workload (32 sessions, 16 rotations in flight), without and"
        echo "with the access-token hook (the same receiver, \`/claims\`, answering after a 1 ms sleep, which tokio's timer makes 1 to 2 ms)."
        echo "W4 beside the drain: \`wrk -t1 -c16\` on \`/v1/users/me\` from the restart until the receiver has every delivery,"
        echo "then for as long again on the drained server (the yardstick)."
        echo "Client, receiver and server share the machine's cores."
        echo
        report
        echo "<!-- hooks:end -->"
    } >"$OUT.tmp"
    mv "$OUT.tmp" "$OUT"
    say "wrote the hooks section of $OUT"
fi
