#!/usr/bin/env bash
# The integration suite against PostgreSQL (issue 10).
#
# Starts a throwaway PostgreSQL cluster on a loopback port, as an
# unprivileged user, runs `cargo test --features postgres --test api` with TOKTOK_TEST_POSTGRES
# pointing at it (each test then creates its own database, and the
# multi-instance tests in tests/api/postgres.rs run), and stops the cluster
# on any exit. PostgreSQL's server binaries come from Debian's packages,
# installed here if `initdb` is missing.
#
# Usage: tests/postgres/run.sh [extra cargo test arguments, e.g. a filter]
set -euo pipefail

cd "$(dirname "$0")/../.."

find_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

if ! BIN=$(find_bindir); then
    echo "== installing PostgreSQL from Debian's packages"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    BIN=$(find_bindir)
fi

WORK=$(mktemp -d /tmp/toktok-pg.XXXXXX)
chmod 755 "$WORK"
DATA="$WORK/data"

# initdb refuses to run as root: run the cluster as an unprivileged user.
if [ "$(id -u)" -eq 0 ]; then
    PGUSER_OS=postgres
    if ! id "$PGUSER_OS" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
    fi
    chown "$PGUSER_OS" "$WORK"
    as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
    as_pg() { "$@"; }
fi

# A free loopback port (bind to 0, read it back, let it go).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop_cluster() {
    as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap stop_cluster EXIT

echo "== starting PostgreSQL ($("$BIN/postgres" --version)) on 127.0.0.1:$PORT"
as_pg "$BIN/initdb" -D "$DATA" -A trust -U toktok -E UTF8 --no-instructions >"$WORK/initdb.log"
as_pg "$BIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$WORK \
     -c fsync=on -c synchronous_commit=on -c max_connections=500" start >/dev/null

export TOKTOK_TEST_POSTGRES="postgres://toktok@127.0.0.1:$PORT/postgres"
# The PostgreSQL store is the `postgres` Cargo feature: its unit tests
# (schema parity, URL parsing) and the whole integration suite with it on.
echo "== cargo test --features postgres --lib store::postgres"
cargo test --features postgres --lib store::postgres
echo "== cargo test --features postgres --test api on PostgreSQL"
if ! cargo test --features postgres --test api "$@"; then
    echo "== server log (last 50 lines)"
    tail -n 50 "$WORK/server.log" || true
    exit 1
fi
