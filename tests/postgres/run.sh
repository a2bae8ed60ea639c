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
# The cluster speaks TLS (`ssl = on`, with a throwaway CA and a server
# certificate for localhost and 127.0.0.1 made here with the openssl CLI)
# and takes TCP connections only over TLS (pg_hba `hostssl`); the suite
# connects with `sslmode=verify-full&sslrootcert=<that CA>`, so every test
# runs over verified TLS and a silent fall-back to plain text would be
# refused by the server. TOKTOK_TEST_POSTGRES_CA names the CA for
# tests/api/postgres_tls.rs, and TOKTOK_TEST_POSTGRES_NO_TLS a second,
# small cluster with TLS off. TOKTOK_TEST_POSTGRES_PLAIN=1 runs the suite
# over plain TCP instead (pg_hba `host`), to compare.
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

MISSING=""
BIN=$(find_bindir) || MISSING="postgresql"
command -v openssl >/dev/null 2>&1 || MISSING="$MISSING openssl"
if [ -n "$MISSING" ]; then
    echo "== installing$MISSING from Debian's packages"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
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

# Free loopback ports (bind to 0, read it back, let it go).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
# A second, small cluster with TLS off: what sslmode=require must refuse.
NOTLS_DATA="$WORK/notls"
NOTLS_PORT=$(free_port)

stop_cluster() {
    local status=$?
    if [ "$status" -ne 0 ] && [ -f "$WORK/server.log" ]; then
        # A failed run shows what the server said (a crash, a restart).
        echo "== what the PostgreSQL server log says of crashes and restarts"
        grep -E "PANIC|terminated by|was terminated|out of memory|server process|shutting down|ready to accept" \
            "$WORK/server.log" | head -n 40 || true
        echo "== the last lines of the PostgreSQL server log"
        tail -n 20 "$WORK/server.log" || true
    fi
    as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    as_pg "$BIN/pg_ctl" -D "$NOTLS_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap stop_cluster EXIT

# A throwaway CA (P-256, valid two days) and a server certificate it signs
# for localhost and 127.0.0.1. The server's key belongs to the cluster's
# user, mode 0600, as PostgreSQL insists.
TLS="$WORK/tls"
mkdir "$TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=toktok test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$TLS/server.ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
    -CAcreateserial -days 2 -extfile "$TLS/server.ext" -out "$TLS/server.pem" 2>/dev/null
chmod 600 "$TLS/server.key" "$TLS/ca.key"
if [ "$(id -u)" -eq 0 ]; then chown "$PGUSER_OS" "$TLS/server.key"; fi

echo "== starting PostgreSQL ($("$BIN/postgres" --version)) on 127.0.0.1:$PORT, TLS on"
as_pg "$BIN/initdb" -D "$DATA" -A trust -U toktok -E UTF8 --no-instructions >"$WORK/initdb.log"
# TCP over TLS only (hostssl), unless asked for the plain comparison run.
# The role tls_scram logs in with a password (SCRAM, with channel binding
# over TLS): tests/api/postgres_tls.rs creates and uses it.
TCP=hostssl
if [ "${TOKTOK_TEST_POSTGRES_PLAIN:-}" = 1 ]; then TCP=host; fi
printf '%s\n' "local all all trust" \
    "hostssl all tls_scram 127.0.0.1/32 scram-sha-256" \
    "$TCP all all 127.0.0.1/32 trust" | as_pg tee "$DATA/pg_hba.conf" >/dev/null
as_pg "$BIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$WORK \
     -c fsync=on -c synchronous_commit=on -c max_connections=500 \
     -c ssl=on -c ssl_cert_file=$TLS/server.pem -c ssl_key_file=$TLS/server.key" \
    start >/dev/null

# The TLS-less cluster (no fsync: nothing durable is tested on it).
as_pg "$BIN/initdb" -D "$NOTLS_DATA" -A trust -U toktok -E UTF8 --no-sync --no-instructions \
    >"$WORK/initdb-notls.log"
as_pg "$BIN/pg_ctl" -D "$NOTLS_DATA" -l "$WORK/server-notls.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$NOTLS_PORT -c unix_socket_directories=$WORK \
     -c fsync=off -c ssl=off -c max_connections=20" start >/dev/null

export TOKTOK_TEST_POSTGRES_CA="$TLS/ca.pem"
export TOKTOK_TEST_POSTGRES_NO_TLS="postgres://toktok@127.0.0.1:$NOTLS_PORT/postgres"
# The PostgreSQL store is the `postgres` Cargo feature: its unit tests
# (schema parity, URL parsing) and the whole integration suite with it on.
echo "== cargo test --features postgres --lib store::postgres"
cargo test --features postgres --lib store::postgres
if [ "${TOKTOK_TEST_POSTGRES_PLAIN:-}" = 1 ]; then
    export TOKTOK_TEST_POSTGRES="postgres://toktok@127.0.0.1:$PORT/postgres"
    echo "== cargo test --features postgres --test api on PostgreSQL (plain TCP)"
else
    export TOKTOK_TEST_POSTGRES="postgres://toktok@127.0.0.1:$PORT/postgres?sslmode=verify-full&sslrootcert=$TLS/ca.pem"
    echo "== cargo test --features postgres --test api on PostgreSQL (verified TLS)"
fi
if ! cargo test --features postgres --test api "$@"; then
    echo "== server log (last 50 lines)"
    tail -n 50 "$WORK/server.log" || true
    exit 1
fi
