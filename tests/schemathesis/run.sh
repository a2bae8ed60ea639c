#!/usr/bin/env bash
# API conformance: Schemathesis (from PyPI) against a live toktok, driven by
# toktok's own /openapi.json, with every check on, authenticated
# (schemathesis.toml): an admin API key for /v1/admin/*, a challenges API
# key for /v1/challenges*, a user's access token for /v1/users/me* and
# logout. Two passes, as Schemathesis has one value per security scheme:
# everything but the challenges with the admin key, then the challenges
# with theirs. Zero failures is the bar.
#
#   bash tests/schemathesis/run.sh          (called by .ci/run)
#
# Installs Schemathesis, pinned, into a virtualenv under the cache directory.
# Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use this binary instead of
# building one), ST_MAX_TIME (seconds for the first pass, default 120; the
# second takes a third of it).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="4.32.5"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-schemathesis"
max_time="${ST_MAX_TIME:-120}"

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
[email_code]
enabled = true
[oidc]
enabled = true
[log]
level = "error"
[metrics]
listen = "127.0.0.1:0"
TOML
export TOKTOK_CONFIG="$work/toktok.toml"

admin_key="$("$bin" api-key create --name schemathesis-admin --scope admin 2>/dev/null)" ||
    fail "toktok api-key create (admin) failed"
challenges_key="$("$bin" api-key create --name schemathesis-challenges --scope challenges 2>/dev/null)" ||
    fail "toktok api-key create (challenges) failed"
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -fsS "$base/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$base/ready" >/dev/null || { cat "$work/server.log" >&2; fail "toktok did not become ready"; }

# run AUTH ARGS...: Schemathesis with schemathesis.toml (the checks) and the
# credentials in AUTH (TOML, Schemathesis's OpenAPI-aware auth: one value per
# security scheme of the document). Run from the scratch directory so that
# Schemathesis's caches (.schemathesis, .hypothesis) stay out of the tree.
# One worker: with two threads, Hypothesis parses strategy source in both at
# once and CPython 3.11's parser can fail with "SystemError: AST constructor
# recursion depth mismatch" (a race in the interpreter, not in toktok; seen
# in CI on 2026-12-04). The run is bounded by time, so it only draws fewer
# cases. hooks.py adds a serializer for the import's NDJSON body.
run() {
    { cat "$here/schemathesis.toml"; printf '\n%s\n' "$1"; } >"$work/schemathesis.toml"
    shift
    (cd "$work" && PYTHONPATH="$here" SCHEMATHESIS_HOOKS=hooks "$st" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
        --workers 1 --suppress-health-check all --no-color "$@")
}
api_key_auth='[auth.openapi.api_key]
bearer = "${TOKTOK_API_KEY}"'

# --- 4. pass 1: everything but the user's and the challenges' operations ----
# The admin key; the operations anyone may call. First, before the run's
# user exists, so that no admin operation Schemathesis sends (disable,
# delete, end sessions) can reach it.
user_ops='^/v1/(users/me|auth/logout)'
echo "schemathesis: pass 1, admin key and no credentials (${max_time}s)"
TOKTOK_API_KEY="$admin_key" run "$api_key_auth" --exclude-path-regex "$user_ops|^/v1/challenges|^/oauth/(token|revoke|introspect)$" \
    --max-time "$max_time" ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 1 reported failures"; }

# --- 5. pass 2: the challenges, with a challenges key -------------------------
short=$((max_time / 3))
echo "schemathesis: pass 2, /v1/challenges*, challenges key (${short}s)"
TOKTOK_API_KEY="$challenges_key" run "$api_key_auth" --include-path-regex '^/v1/challenges' --max-time "$short" ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 2 reported failures"; }

# --- 5b. pass 5: the OAuth token side, with a confidential client ------------
# Registered with the admin key; its id and secret go in HTTP Basic
# (client_secret_basic), so every grant, revocation and introspection
# Schemathesis makes is authenticated and reaches the grant's own checks.
client_json="$(curl -fsS -X POST "$base/v1/admin/oauth-clients" -H "authorization: Bearer $admin_key" \
    -H 'content-type: application/json' \
    -d '{"name":"schemathesis","type":"confidential","redirect_uris":["https://app.example/cb"],"grant_types":["authorization_code","refresh_token","client_credentials"]}')" ||
    fail "could not register the run's OAuth client"
export TOKTOK_CLIENT_ID TOKTOK_CLIENT_SECRET
TOKTOK_CLIENT_ID="$(printf '%s' "$client_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"
TOKTOK_CLIENT_SECRET="$(printf '%s' "$client_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')"
echo "schemathesis: pass 5, /oauth/token, revoke, introspect, client_secret_basic (${short}s)"
run '[auth.openapi.client_secret_basic]
username = "${TOKTOK_CLIENT_ID}"
password = "${TOKTOK_CLIENT_SECRET}"' --include-path-regex '^/oauth/(token|revoke|introspect)$' --max-time "$short" ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 5 reported failures"; }

# --- 6. the user whose access token passes 3 and 4 use ------------------------
# Its password is none of the document's examples, so that the example
# bodies Schemathesis sends (delete the account, change the password) are
# refused rather than lock the run out.
export TOKTOK_USER_EMAIL="schemathesis@example.com"
export TOKTOK_USER_PASSWORD="schemathesis: a passphrase of its own"
curl -fsS -o /dev/null -X POST "$base/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$TOKTOK_USER_EMAIL\",\"password\":\"$TOKTOK_USER_PASSWORD\"}" ||
    fail "could not register the run's user"

# --- 7. pass 3: the user's operations that take no password -------------------
# The access token comes from logging in, again after a logout ends it. The operations that check the password are left to pass
# 4: Schemathesis's wrong guesses would lock the account (five failures),
# and logging in with it.
password_ops='^(delete_v1_users_me|post_v1_users_me_password|post_v1_users_me_email)$'
echo "schemathesis: pass 3, the user's operations, access token by login (${short}s)"
run '[auth.dynamic.openapi.bearer_jwt]
path = "/v1/auth/login"
payload = { email = "${TOKTOK_USER_EMAIL}", password = "${TOKTOK_USER_PASSWORD}" }
extract_selector = "/access_token"' --include-path-regex "$user_ops" \
    --exclude-operation-id-regex "$password_ops" --max-time "$short" ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 3 reported failures"; }

# --- 8. pass 4: the user's operations that check the password -----------------
# One access token, taken now; these operations never end its session (the
# password is never guessed), though the guesses lock logging in.
access="$(curl -fsS -X POST "$base/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$TOKTOK_USER_EMAIL\",\"password\":\"$TOKTOK_USER_PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" ||
    fail "could not log the run's user in"
echo "schemathesis: pass 4, the user's password operations, one access token (${short}s)"
TOKTOK_ACCESS="$access" run '[auth.openapi.bearer_jwt]
bearer = "${TOKTOK_ACCESS}"' --include-operation-id-regex "$password_ops" --max-time "$short" ||
    { tail -n 50 "$work/server.log" >&2; fail "pass 4 reported failures"; }

echo "schemathesis: 0 failures"
