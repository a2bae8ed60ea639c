# The PostgreSQL run of the benchmark (issue 10), sourced by
# `bash bench/run.sh --postgres` after it has started the SQLite server; not
# meant to run on its own (it uses run.sh's functions and variables).
#
# 1. W4, W5, W6 on that SQLite server (the same commands as the suite), so
#    the PostgreSQL figures have SQLite's of the same run beside them.
# 2. A PostgreSQL server: BENCH_PG_URL if set (an empty database), else a
#    throwaway cluster started like tests/postgres/run.sh (loopback port,
#    unprivileged user, fsync=on, synchronous_commit=on), removed on exit.
# 3. W4, W5, W6 against one toktok instance on it.
# 4. A second instance on the same database and another port; each workload
#    then runs as two wrk processes at once, one per instance, each with half
#    the connections (-t1), and the two rates are summed.
# The figures replace the marked PostgreSQL section of the report ($OUT).

for run in $(seq "$RUNS"); do
    say "SQLite run $run of $RUNS (${DURATION} s per workload)"
    export RUN=sq$run
    w456 SQ
done
stop_server

# --- the PostgreSQL server ---------------------------------------------------
pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}
if [ -n "${BENCH_PG_URL:-}" ]; then
    PG_URL=$BENCH_PG_URL
    PG_WHAT="the server at BENCH_PG_URL"
else
    if ! PG_BIN=$(pg_bindir); then
        say "installing PostgreSQL (apt-get)"
        sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
        PG_BIN=$(pg_bindir)
    fi
    PG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/toktok-bench-pg.XXXXXX")
    chmod 755 "$PG_WORK"
    # initdb refuses to run as root: run the cluster as an unprivileged user.
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 \
            || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        chown postgres "$PG_WORK"
        as_pg() { runuser -u postgres -- "$@"; }
    else
        as_pg() { "$@"; }
    fi
    stop_pg() {
        as_pg "$PG_BIN/pg_ctl" -D "$PG_WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_WORK"
    }
    PG_STOP=stop_pg
    PG_PORT=$((20000 + RANDOM % 20000))
    while ! port_free "$PG_PORT"; do PG_PORT=$((20000 + RANDOM % 20000)); done
    as_pg "$PG_BIN/initdb" -D "$PG_WORK/data" -A trust -U toktok -E UTF8 --no-instructions \
        >"$PG_WORK/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$PG_WORK/initdb.log")"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_WORK/data" -l "$PG_WORK/server.log" -w -o \
        "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_WORK \
         -c fsync=on -c synchronous_commit=on -c max_connections=100 \
         -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top" start >/dev/null \
        || die "PostgreSQL did not start: $(tail -5 "$PG_WORK/server.log")"
    PG_URL="postgres://toktok@127.0.0.1:$PG_PORT/postgres"
    PG_WHAT="a throwaway cluster ($("$PG_BIN/postgres" --version), default settings plus fsync=on, synchronous_commit=on)"
fi
say "PostgreSQL: $PG_WHAT"

# Database round trips per operation (issue 25): pg_stat_statements counts
# every statement (BEGIN and COMMIT included) that a client sent (track =
# top: not the foreign-key checks and other statements PostgreSQL runs
# inside one); the sync client sends each as one round trip. Reset before
# a workload, summed after, divided by the operations wrk counted. Without
# the extension (a BENCH_PG_URL server that lacks it) the column says so.
pg_sql() { psql "$PG_URL" -Atqc "$1" 2>/dev/null; }
COUNTING=0
pg_sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null && COUNTING=1
# counted NAME WHAT wrk_run-arguments...: one wrk_run; appends the statements
# per operation (WHAT: "requests", or a BENCH counter such as "rotated") to
# results/NAME.trips.
counted() {
    local name=$1 what=$2 n ops calls
    shift 2
    [ "$COUNTING" = 1 ] && pg_sql "SELECT pg_stat_statements_reset()" >/dev/null
    wrk_run "$@"
    [ "$COUNTING" = 1 ] || return 0
    n=$(wc -l <"$WORK/results/$name")
    if [ "$what" = requests ]; then
        ops=$(awk '/requests in/ { print $1 }' "$WORK/$name.$n.txt")
    else
        ops=$(sed -n "s/.* $what=\([0-9]*\).*/\1/p" "$WORK/$name.$n.txt")
    fi
    calls=$(pg_sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
                    WHERE query NOT ILIKE '%pg_stat_statements%'")
    awk -v c="$calls" -v o="$ops" 'BEGIN { printf "%.1f\n", (o > 0) ? c / o : 0 }' \
        >>"$WORK/results/$name.trips"
    # Which statements (the last run's): per operation, the first 90
    # characters of each, most frequent first.
    pg_sql "SELECT round(calls::numeric / $ops, 2) || ' × \`'
                   || left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
                   || CASE WHEN length(regexp_replace(query, '\\s+', ' ', 'g')) > 90
                           THEN '…' ELSE '' END || '\`'
            FROM pg_stat_statements
            WHERE query NOT ILIKE '%pg_stat_statements%' AND calls::numeric / $ops >= 0.01
            ORDER BY calls DESC" >"$WORK/results/$name.statements" || true
}

DATABASE_LINE="url = \"$PG_URL\""
write_config
"$BIN" user create --email "$EMAIL" --password-stdin <<<"$PASSWORD" >/dev/null
KEY=$("$BIN" api-key create --name bench --scope challenges 2>/dev/null)
export KEY
start_server
read -r ACCESS _ < <(login_tokens 1)
[ -n "$ACCESS" ] || die "login failed on PostgreSQL"

for run in $(seq "$RUNS"); do
    say "PostgreSQL, one instance: run $run of $RUNS"
    export RUN=p1-$run
    counted P1-4 requests P1-4 2xx 16 -H "Authorization: Bearer $ACCESS" "$URL/v1/users/me"
    login_tokens 34 | cut -d' ' -f2 >"$WORK/refresh.txt"
    TOKENS=$WORK/refresh.txt THREADS=2 counted P1-5 rotated P1-5 2xx 32 -s bench/refresh.lua "$URL"
    counted P1-6 verified P1-6 2xx 64 -s bench/challenge.lua "$URL"
done

# --- a second instance on the same database ----------------------------------
PID_A=$PID PORT_A=$PORT URL_A=$URL
PORT=$((20000 + RANDOM % 20000))
while ! port_free "$PORT" || [ "$PORT" = "$PORT_A" ]; do PORT=$((20000 + RANDOM % 20000)); done
URL=http://127.0.0.1:$PORT
CONFIG_FILE=$WORK/toktok-b.toml
# Its own /metrics listener too.
METRICS_A=$METRICS_PORT
METRICS_PORT=$((20000 + RANDOM % 20000))
while ! port_free "$METRICS_PORT" || [ "$METRICS_PORT" = "$PORT" ]; do
    METRICS_PORT=$((20000 + RANDOM % 20000))
done
# One deployment behind a load balancer: the same public URL, so each
# instance takes the other's tokens (their issuer).
PUBLIC_URL=$URL_A write_config
TOKTOK_CONFIG=$CONFIG_FILE start_server
PID2=$PID URL_B=$URL
PID=$PID_A PORT=$PORT_A URL=$URL_A CONFIG_FILE=$WORK/toktok.toml METRICS_PORT=$METRICS_A

# wrk_pair NAME EXPECT CONNECTIONS [wrk args...]: one wrk per instance at
# once, each -t1 with half the connections; URL_HERE in the arguments
# becomes that instance's URL, RUN gets a/b (W6's challenge ids stay apart)
# and TOKENS becomes TOKENS_A/TOKENS_B. Appends "sum_rate max_p50 max_p99
# unexpected errors" to results/NAME and "rate_a rate_b" to results/NAME.split.
wrk_pair() {
    local name=$1 expect=$2 half=$(($3 / 2)) n pa pb ra rb p50a p50b p99a p99b ua ub ea eb
    shift 3
    n=1
    [ -f "$WORK/results/$name" ] && n=$(($(wc -l <"$WORK/results/$name") + 1))
    RUN=${RUN}a TOKENS=${TOKENS_A:-} wrk -t1 -c"$half" -d"${DURATION}s" --timeout 10s --latency \
        "${@//URL_HERE/$URL_A}" >"$WORK/$name.$n.a.txt" 2>&1 &
    pa=$!
    RUN=${RUN}b TOKENS=${TOKENS_B:-} wrk -t1 -c"$half" -d"${DURATION}s" --timeout 10s --latency \
        "${@//URL_HERE/$URL_B}" >"$WORK/$name.$n.b.txt" 2>&1 &
    pb=$!
    wait "$pa" || die "wrk (A) failed for $name: $(cat "$WORK/$name.$n.a.txt")"
    wait "$pb" || die "wrk (B) failed for $name: $(cat "$WORK/$name.$n.b.txt")"
    read -r ra p50a p99a ua ea < <(parse "$WORK/$name.$n.a.txt" "$expect")
    read -r rb p50b p99b ub eb < <(parse "$WORK/$name.$n.b.txt" "$expect")
    awk -v ra="$ra" -v rb="$rb" -v a50="$p50a" -v b50="$p50b" -v a99="$p99a" -v b99="$p99b" \
        -v u=$((ua + ub)) -v e=$((ea + eb)) 'BEGIN {
            printf "%.2f %s %s %d %d\n", ra + rb, (a50 > b50) ? a50 : b50, (a99 > b99) ? a99 : b99, u, e }' \
        >>"$WORK/results/$name"
    echo "$ra $rb" >>"$WORK/results/$name.split"
}
for run in $(seq "$RUNS"); do
    say "PostgreSQL, two instances: run $run of $RUNS"
    export RUN=p2-$run
    wrk_pair P2-4 2xx 16 -H "Authorization: Bearer $ACCESS" "URL_HERE/v1/users/me"
    login_tokens 34 | cut -d' ' -f2 >"$WORK/refresh.txt"
    head -n 17 "$WORK/refresh.txt" >"$WORK/refresh.a.txt"
    tail -n 17 "$WORK/refresh.txt" >"$WORK/refresh.b.txt"
    TOKENS_A=$WORK/refresh.a.txt TOKENS_B=$WORK/refresh.b.txt THREADS=1 \
        wrk_pair P2-5 2xx 32 -s bench/refresh.lua "URL_HERE"
    wrk_pair P2-6 2xx 64 -s bench/challenge.lua "URL_HERE"
done
kill -TERM "$PID2"
wait "$PID2" 2>/dev/null || true
PID2=""
stop_server
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ----------------------------------------------------------------
# As in run.sh's report (defined there after this file is sourced).
col() {
    awk -v c="$2" '{ print $c }' "$WORK/results/$1" | sort -g | awk '
        { v[NR] = $1 } END { printf "%s %s %s\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
med() { col "$1" "$2" | awk '{ print $2 }'; }
# cell NAME: "median (min–max)" of the rate.
cell() {
    col "$1" 1 | awk '{ printf "%s (%s–%s)", $2, $1, $3 }'
}
# ab_rates NAME: the A and B rates of the median run ("a + b").
ab_rates() {
    awk '{ print $1 + $2, $1, $2 }' "$WORK/results/$1.split" | sort -g | awk '
        { v[NR] = $2 " + " $3 } END { print v[int((NR + 1) / 2)] }'
}
# trips NAME: the median of the statements per operation, or "not counted".
trips() {
    [ -s "$WORK/results/$1.trips" ] || { echo "not counted"; return; }
    sort -g "$WORK/results/$1.trips" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
# two_vs_one N: PostgreSQL two instances ÷ one, medians; three decimals,
# so that no goal passes by rounding.
two_vs_one() { awk -v a="$(med "P2-$1" 1)" -v b="$(med "P1-$1" 1)" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
pg_table() {
    printf '| workload | unit | SQLite, 1 instance | PostgreSQL, 1 instance | PostgreSQL, 2 instances (sum) | 2 ÷ 1 | 2 instances: A + B (median run) | p99 ms: SQLite / PG 1 / PG 2 | database statements per operation |\n'
    printf '|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
    local w unit what
    for w in 4 5 6; do
        case $w in
            4) what='W4 `GET /v1/users/me`, 16 conns'; unit=req/s ;;
            5) what='W5 refresh rotation, 32 chains'; unit=rotations/s ;;
            6) what='W6 challenge create+verify, 64 conns'; unit=pairs/s ;;
        esac
        printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s |\n' "$what" "$unit" \
            "$(cell SQ$w)" "$(cell P1-$w)" "$(cell P2-$w)" "$(two_vs_one $w)" "$(ab_rates P2-$w)" \
            "$(med SQ$w 3)" "$(med P1-$w 3)" "$(med P2-$w 3)" "$(trips P1-$w)"
    done
    echo
    local name
    for w in 4 5 6; do
        name=P1-$w
        [ -s "$WORK/results/$name.statements" ] || continue
        case $w in
            4) echo "Statements per W4 request (one instance, last run; at least 0.01 a request):" ;;
            5) echo "Statements per W5 rotation:" ;;
            6) echo "Statements per W6 create+verify pair:" ;;
        esac
        echo
        sed 's/^/- /' "$WORK/results/$name.statements"
        echo
    done
    echo "Goal (issue 25): W5 on two instances ≥ 0.9 × one (they share this machine's two cores):" \
        "$(awk -v r="$(two_vs_one 5)" 'BEGIN { print (r >= 0.9) ? "met" : "NOT met" }') ($(two_vs_one 5) ×)."
}
say ""
pg_table
BAD=$(( $(cat "$WORK"/results/SQ* "$WORK"/results/P1-* "$WORK"/results/P2-[456] \
    | awk '{ s += $4 + $5 } END { print s + 0 }') ))

if [ "$OUT" != - ]; then
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    git diff --quiet HEAD -- . ':!BENCHMARKS.md' 2>/dev/null || REV="$REV (with uncommitted changes)"
    SECTION=$(
        echo "<!-- postgres:begin -->"
        echo "## PostgreSQL (issues 10, 25)"
        echo
        echo "Written by \`bash bench/run.sh --postgres --duration $DURATION --runs $RUNS\`: median (min–max) of $RUNS runs of $DURATION s."
        echo "A full \`bash bench/run.sh\` keeps this section as it is."
        echo
        echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); toktok $REV${BENCH_BIN:+ (server binary: $BENCH_BIN)}; \`nproc\` = $(nproc)"
        echo "- load average at the end: $LOAD_END. toktok, wrk and PostgreSQL itself all share the $(nproc) cores:"
        echo "  a second instance adds no cores, only a second process competing for the same two."
        echo "- PostgreSQL: $PG_WHAT, on 127.0.0.1 (TCP)."
        echo "  toktok: \`synchronous_commit = on\` per connection (every 2xx is on disk), a pool of 16 connections per instance."
        echo "- commands: W4/W5/W6 are the suite's (above) for SQLite and one PostgreSQL instance. Two instances: a second"
        echo "  \`toktok serve\` on another port, same database; each workload runs as two \`wrk -t1\` at once, one per"
        echo "  instance with half the connections (W4 8 + 8, W5 16 + 16 chains, W6 32 + 32); the rates are summed and the"
        echo "  p99 is the larger of the two. Statements per operation: \`pg_stat_statements\` (top level, BEGIN and COMMIT"
        echo "  included; each is one round trip for toktok's sync client) summed over a one-instance run, divided by"
        echo "  the requests (W4), rotations (W5) or create+verify pairs (W6) wrk counted; background tasks included."
        echo
        pg_table
        if [ -f docs/benchmarks-notes-postgres.md ]; then
            echo
            cat docs/benchmarks-notes-postgres.md
        fi
        echo "<!-- postgres:end -->"
    )
    KEPT=""
    [ -f "$OUT" ] && KEPT=$(sed '/^<!-- postgres:begin -->$/,/^<!-- postgres:end -->$/d' "$OUT")
    {
        if [ -n "$KEPT" ]; then
            printf '%s\n\n' "$KEPT"
        fi
        printf '%s\n' "$SECTION"
    } >"$OUT"
    say "wrote the PostgreSQL section of $OUT"
fi
[ "$BAD" -eq 0 ] || die "$BAD unexpected answers or socket errors (see the table)"
