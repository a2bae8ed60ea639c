#!/usr/bin/env bash
# Import end to end with the other ecosystems' own hashing libraries and
# the docs/import/ recipes (issue 23), against a real `toktok serve`:
#
# 1. tests/import/gen.py hashes users with Python bcrypt, argon2-cffi,
#    passlib and Django's hashers, and writes sample exports in the shapes
#    Keycloak, Firebase, PocketBase and GoTrue produce; gen.mjs hashes with
#    Node's bcryptjs and writes an Auth0 export.
# 2. The recipes turn the samples into import lines, as docs/import.md
#    shows them (GoTrue's against a throwaway PostgreSQL cluster's
#    auth.users table).
# 3. One file goes in over HTTP, the others with `toktok users import`.
# 4. check.py signs every user in over HTTP (a wrong password first), then
#    `toktok users export --with-hashes` shows each hash is now toktok's.
#
#   bash tests/import/run.sh        (about a minute after the build)
#
# Installs the Python packages (pinned) into a virtualenv under the cache
# directory and bcryptjs (npm ci) into tests/import/node_modules. Needs jq,
# sqlite3 and, for the GoTrue recipe, PostgreSQL's server binaries (installed
# from Debian's packages when missing). Environment: CARGO_TARGET_DIR,
# TOKTOK_BIN (use this binary instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-import"
packages="bcrypt==5.0.0 argon2-cffi==25.1.0 passlib==1.7.4 Django==5.2.19 cryptography==50.0.2"

fail() {
    echo "import: FAILED: $*" >&2
    exit 1
}

missing=""
for tool in jq sqlite3; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && pg_bin="$dir"; done
[ -n "$pg_bin" ] || missing="$missing postgresql"
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
    for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && pg_bin="$dir"; done
fi

py="$venv/bin/python"
if ! "$py" -c "import sys; from importlib.metadata import version as v; sys.exit(any(v(p.split('==')[0]) != p.split('==')[1] for p in sys.argv[1:]))" $packages 2>/dev/null; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet --disable-pip-version-check $packages || fail "pip install failed"
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/import failed"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-import.XXXXXX")"
chmod 755 "$work"
pid=""
pg_data=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$pg_data" ]; then as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== hashing users with Python bcrypt, argon2-cffi, passlib, Django, and Node's bcryptjs"
"$py" "$here/gen.py" "$work" || fail "gen.py"
node "$here/gen.mjs" "$work" || fail "gen.mjs"

echo "== the docs/import/ recipes on sample exports"
recipes="$root/docs/import"
jq -c -f "$recipes/keycloak.jq" "$work/keycloak.json" >"$work/keycloak.ndjson" || fail "keycloak.jq"
jq -c -f "$recipes/firebase.jq" "$work/firebase.json" >"$work/firebase.ndjson" || fail "firebase.jq"
jq -c -f "$recipes/auth0.jq" "$work/auth0.json" >"$work/auth0.ndjson" || fail "auth0.jq"
sh "$recipes/pocketbase.sh" "$work/pocketbase.db" >"$work/pocketbase.ndjson" || fail "pocketbase.sh"

# GoTrue: its auth.users table in a throwaway cluster (run as an
# unprivileged user: initdb refuses root).
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$work"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi
pg_data="$work/pg"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$pg_bin/initdb" -D "$pg_data" -A trust -U supabase_admin -E UTF8 --no-sync --no-instructions >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/pg.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$work" start >/dev/null
gotrue_url="postgresql://supabase_admin@127.0.0.1:$pg_port/postgres"
psql "$gotrue_url" -q -v ON_ERROR_STOP=1 -f "$work/gotrue.sql" >/dev/null || fail "loading auth.users"
psql "$gotrue_url" -At -f "$recipes/gotrue.sql" >"$work/gotrue.ndjson" || fail "gotrue.sql"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/toktok.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"
[database]
path = "$work/toktok.db"
[password]
pbkdf2_iterations = 100000
[rate_limit]
enabled = false
[metrics]
listen = "off"
[email]
outbox_dir = "$work/outbox"
[import.firebase]
signer_key = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
salt_separator = "Bw=="
rounds = 8
mem_cost = 14
TOML
tt() { "$bin" --config "$work/toktok.toml" "$@"; }

echo "== toktok serve on 127.0.0.1:$port"
tt serve >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || fail "toktok serve exited: $(tail -5 "$work/serve.log")"
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || fail "toktok serve is not ready: $(tail -5 "$work/serve.log")"
key=$(tt api-key create --name import --scope admin) || fail "api-key create"

echo "== import over HTTP: libs.ndjson"
curl -fsS -X POST "http://127.0.0.1:$port/v1/admin/users/import" -H "authorization: Bearer $key" \
    -H "content-type: application/x-ndjson" --data-binary "@$work/libs.ndjson" >"$work/libs.report" ||
    fail "POST /v1/admin/users/import"
for f in node keycloak firebase auth0 pocketbase gotrue; do
    echo "== toktok users import $f.ndjson"
    tt users import "$work/$f.ndjson" >"$work/$f.report" || fail "users import $f.ndjson: $(cat "$work/$f.report")"
done

echo "== signing every user in over HTTP"
"$py" "$here/check.py" "$work" "http://127.0.0.1:$port" || fail "check.py"
tt users export --with-hashes >"$work/export.ndjson" 2>/dev/null || fail "users export"
"$py" "$here/check.py" "$work" --export "$work/export.ndjson" || fail "the hashes after sign-in"
echo "import: ok"
