#!/usr/bin/env bash
# API conformance: Schemathesis (from PyPI) against a live toktok, driven by
# toktok's own /openapi.json. Two passes: one with an API key holding both
# scopes (admin and challenges; every operation), one with a user's access
# token (the /v1/users/me operations). Zero failures is the bar.
#
#   bash tests/schemathesis/run.sh          (called by .ci/run)
#
# Installs Schemathesis, pinned, into a virtualenv under the cache directory.
# Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use this binary instead of
# building one), ST_MAX_TIME (seconds for the first pass, default 90).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="4.32.5"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-schemathesis"
max_time="${ST_MAX_TIME:-90}"

fail() {
    echo "schemathesis: FAILED: $*" >&2
    exit 1
}

# --- 1. Schemathesis, pinned, in its own virtualenv -----------------------
st="$venv/bin/schemathesis"
if ! "$st" --version 2>/dev/null | grep -q "$version"; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" ||
        fail "pip install schemathesis==$version failed"
fi
"$st" --version

# --- 2. the toktok binary ---------------------------------------------------
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    target="${CARGO_TARGET_DIR:-$root/target}"
    case "$target" in /*) ;; *) target="$root/$target" ;; esac
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

# --- 3. a live server on a free port, every feature on -----------------------
work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
cat >"$work/toktok.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "$base"
[database]
path = "$work/toktok.db"
[password]
# Cheap hashes: this run is about the HTTP contract, not PBKDF2's cost.
pbkdf2_iterations = 1000
[anonymous]
enabled = true
[rsa]
enabled = true
key_bits = 2048
[email]
mode = "dev"
outbox_dir = "$work/outbox"
[rate_limit]
# Schemathesis sends thousands of requests from one address.
enabled = false
[log]
level = "error"
[metrics]
listen = "127.0.0.1:0"
TOML
export TOKTOK_CONFIG="$work/toktok.toml"

key="$("$bin" api-key create --name schemathesis --scope admin --scope challenges 2>/dev/null)" ||
    fail "toktok api-key create failed"
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -fsS "$base/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/ready" >/dev/null || { cat "$work/server.log" >&2; fail "toktok did not become ready"; }

# The checks are chosen in schemathesis.toml. Run from the scratch directory
# so Schemathesis's caches (.schemathesis, .hypothesis) stay out of the tree.
run() {
    (cd "$work" && "$st" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
        --workers 2 --suppress-health-check all --warnings off --no-color "$@")
}

# --- 4. pass 1: every operation, with an admin + challenges API key -----------
echo "schemathesis: pass 1, every operation, API key (${max_time}s)"
run -H "Authorization: Bearer $key" --max-time "$max_time" ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 1 (API key) reported failures"; }

# --- 5. pass 2: the signed-in user's own operations ----------------------------
access="$(curl -fsS -X POST "$base/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"schemathesis@example.com","password":"a long enough passphrase"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" ||
    fail "could not register the pass-2 user"
echo "schemathesis: pass 2, /v1/users/me, access token (30s)"
run -H "Authorization: Bearer $access" --include-path-regex '^/v1/users/me' --max-time 30 ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 2 (access token) reported failures"; }

echo "schemathesis: 0 failures"
