#!/usr/bin/env bash
# toktok's "sign in with other providers" against a real, certified OpenID
# provider on loopback: panva's `oidc-provider` (npm, pinned), configured by
# tests/interop/providers/op.mjs with a fresh RS256 key, PKCE required and an
# in-memory table of people (alice verified, mallory with an unverified
# victim@example.com, bob and carol verified). No mock: its discovery, JWKS,
# login and consent pages, codes and ID tokens are the library's own.
#
# tests/interop/providers/providers.py is the browser (requests, pinned): it
# first runs a code + PKCE flow at the provider alone, then walks toktok's
# /v1/auth/providers/op/start → the provider's login and consent forms →
# toktok's callback → redirect_to#code=… → POST /v1/auth/providers/exchange,
# and checks sign-up, sign-in again, the unverified email, link_required for
# an existing password account, a replayed or cookie-less callback and
# redirect_to outside [accounts] allowed_redirects. A second provider, in
# oidc-provider's default mode (email claims at userinfo only, not in the
# ID token) checks that toktok reads the address from userinfo.
# The provider's stderr (op.log) has one line per token request: the
# replayed and cookie-less callbacks must not reach its token endpoint.
#
#   bash tests/interop/providers.sh            (~5 s after installs)
#   bash tests/interop/providers.sh --op-only  (the provider alone, no toktok)
#
# Installs oidc-provider (npm ci, pinned by tests/interop/providers/
# package-lock.json) and requests (pinned, into a virtualenv under the cache
# directory). Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use this binary
# instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dir="$here/providers"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-interop-providers"
requests="2.34.2"
op_only=0
[ "${1:-}" = "--op-only" ] && op_only=1

fail() {
    echo "providers interop: FAILED: $*" >&2
    exit 1
}

# --- 1. the provider and the browser -------------------------------------------
command -v node >/dev/null 2>&1 || fail "node is not installed (needed for oidc-provider)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (needed for oidc-provider)"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/interop/providers failed"
py="$venv/bin/python"
if ! "$py" -c "import sys; from importlib.metadata import version; sys.exit(version('requests') != '$requests')" 2>/dev/null; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "requests==$requests" ||
        fail "pip install requests==$requests failed"
fi

# --- 2. the binary ---------------------------------------------------------------
if [ "$op_only" = 0 ]; then
    target="${CARGO_TARGET_DIR:-$root/target}"
    case "$target" in /*) ;; *) target="$root/$target" ;; esac
    if [ -n "${TOKTOK_BIN:-}" ]; then
        bin="$TOKTOK_BIN"
    else
        (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
        bin="$target/debug/toktok"
    fi
    [ -x "$bin" ] || fail "no toktok binary at $bin"
fi

# --- 3. a throw-away provider and server ---------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-providers.XXXXXX")"
pid=""
op_pid=""
op2_pid=""
status=1
stop_all() {
    for p in "$pid" "$op_pid" "$op2_pid"; do
        if [ -n "$p" ]; then
            kill "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    pid=""
    op_pid=""
    op2_pid=""
}
cleanup() {
    stop_all
    if [ "$status" != 0 ]; then
        for log in op.log op_ui.log toktok.log; do
            if [ -f "$work/$log" ]; then
                echo "--- $log ---"
                tail -n 60 "$work/$log"
            fi
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# start_op NAME LOG ARGS…: an oidc-provider on a port of its choosing, in
# the background; sets started_pid and started_issuer.
start_op() {
    local name="$1" log="$2" port_seen=""
    shift 2
    : >"$work/$name.out"
    (cd "$dir" && exec node op.mjs --port 0 --client-secret "$secret" "$@") >"$work/$name.out" 2>"$log" &
    started_pid=$!
    for _ in $(seq 1 100); do
        port_seen="$(awk '/^LISTENING /{print $2; exit}' "$work/$name.out")"
        [ -n "$port_seen" ] && break
        kill -0 "$started_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port_seen" ] || fail "oidc-provider ($name) did not start: $(cat "$log")"
    started_issuer="http://127.0.0.1:$port_seen"
}

secret="op-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
# op's secret through the environment (serve and the CLI both read the
# config), op_ui's in the file.
export TOKTOK_PROVIDERS__OP__CLIENT_SECRET="$secret"
base=""
issuer=""
for _ in 1 2 3; do
    port="$(free_port)"
    app_port="$(free_port)"  # nothing listens there: the browser stops at its origin
    app="http://127.0.0.1:$app_port/app"
    selftest="http://127.0.0.1:$app_port/op-selftest/callback"

    # The providers first: toktok discovers them at start-up or on first use.
    start_op op "$work/op.log" --redirect-uri "http://127.0.0.1:$port/v1/auth/providers/op/callback" \
        --redirect-uri "$selftest"
    op_pid=$started_pid
    issuer="$started_issuer"
    [ "$op_only" = 1 ] && break
    # A second one that puts the email claims at userinfo only (its default,
    # conformIdTokenClaims): not a check, a note of what toktok does then.
    OP_CONFORM_ID_TOKEN_CLAIMS=1 start_op op_ui "$work/op_ui.log" \
        --redirect-uri "http://127.0.0.1:$port/v1/auth/providers/op_ui/callback"
    op2_pid=$started_pid
    issuer2="$started_issuer"

    cat >"$work/toktok.toml" <<CONF
# Written by tests/interop/providers.sh for one run.
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"

[database]
path = "$work/toktok.db"

[metrics]
listen = "off"

[password]
# Cheap hashes: this database lives for one test run.
pbkdf2_iterations = 1000

[email]
mode = "dev"
outbox_dir = "$work/outbox"

[rate_limit]
enabled = false

[accounts]
registration_open = true
allowed_redirects = ["$app"]

[[providers]]
id = "op"
kind = "oidc"
issuer = "$issuer"
client_id = "toktok"
# client_secret: from TOKTOK_PROVIDERS__OP__CLIENT_SECRET.
client_secret = ""
scopes = ["openid", "email", "profile"]
name = "Test provider"

[[providers]]
id = "op_ui"
kind = "oidc"
issuer = "$issuer2"
client_id = "toktok"
client_secret = "$secret"
scopes = ["openid", "email", "profile"]
name = "Userinfo-only provider"
CONF
    "$bin" --config "$work/toktok.toml" serve >"$work/toktok.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/ready" 2>/dev/null; then
            base="http://127.0.0.1:$port"
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$base" ] && break
    grep -qi "address already in use" "$work/toktok.log" || fail "toktok did not start"
    stop_all
done
[ -n "$issuer" ] || fail "oidc-provider could not start"
echo "providers interop: oidc-provider $(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).version' "$dir/node_modules/oidc-provider/package.json") at $issuer (node $(node --version))"

export OP_ISSUER="$issuer" OP_CLIENT_SECRET="$secret" OP_SELFTEST_REDIRECT="$selftest" APP_URL="$app"
export OP_LOG="$work/op.log"
export OP2_ISSUER="${issuer2:-}"
if [ "$op_only" = 0 ]; then
    [ -n "$base" ] || fail "toktok could not bind a port"
    key="$("$bin" --config "$work/toktok.toml" api-key create --name providers-interop --scope admin 2>"$work/api-key.log")" ||
        fail "toktok api-key create failed: $(cat "$work/api-key.log")"
    echo "providers interop: toktok at $base"
    export TOKTOK_URL="$base" TOKTOK_ADMIN_KEY="$key"
fi

# --- 4. the browser ------------------------------------------------------------------
"$py" "$dir/providers.py" || fail "checks failed (above)"
status=0
echo "providers interop: OK"
