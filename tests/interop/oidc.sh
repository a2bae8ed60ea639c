#!/usr/bin/env bash
# toktok as an OpenID Connect provider through two real relying-party
# libraries, none of whose code is written here (issue 19):
#
#   - oidc_client.mjs: panva's `openid-client` (npm, v6), with `otpauth`
#     making the TOTP codes for the second-factor page;
#   - oidc_authlib.py: `Authlib` (PyPI) with `requests`.
#
# Both run against one live `toktok serve` ([oidc] on, TOTP on, the issuer
# = server.public_url = its http://127.0.0.1:PORT), create their own clients
# with an admin API key and their own users, fill the hosted pages as a
# browser without JavaScript would, and let the library do the rest:
# discovery, PKCE, code exchange, ID-token validation, userinfo, refresh,
# revocation, SSO and logout-all, RP-initiated logout. The passkey sign-in
# on the same pages runs in real Chromium (tests/browser/oidc.mjs).
#
#   bash tests/interop/oidc.sh        (called by .ci/run; ~15 s after installs)
#
# Installs openid-client and otpauth (npm ci, pinned by package-lock.json,
# into tests/interop/node_modules) and Authlib + requests (pinned, into a
# virtualenv under the cache directory). Environment: CARGO_TARGET_DIR,
# TOKTOK_BIN (use this binary instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-interop-oidc"
authlib="1.9.10"
requests="2.34.2"
cryptography="50.0.2"

fail() {
    echo "oidc interop: FAILED: $*" >&2
    exit 1
}

# --- 1. the libraries -------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "node is not installed (needed for openid-client)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (needed for openid-client)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/interop failed"
py="$venv/bin/python"
if ! "$py" - "$authlib" "$requests" "$cryptography" 2>/dev/null <<'PY'; then
import sys
from importlib.metadata import version
sys.exit([version("authlib"), version("requests"), version("cryptography")] != sys.argv[1:])
PY
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "Authlib==$authlib" "requests==$requests" "cryptography==$cryptography" ||
        fail "pip install Authlib==$authlib requests==$requests cryptography==$cryptography failed"
fi

# --- 2. the binary ------------------------------------------------------------
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

# --- 3. a throw-away server ----------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-oidc.XXXXXX")"
pid=""
status=1
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ "$status" != 0 ] && [ -f "$work/toktok.log" ]; then
        echo "--- toktok.log ---"
        tail -n 80 "$work/toktok.log"
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

base=""
for _ in 1 2 3; do
    port="$(free_port)"
    cat >"$work/toktok.toml" <<CONF
# Written by tests/interop/oidc.sh for one run.
[server]
listen = "127.0.0.1:$port"
# The issuer: what the libraries discover and compare iss with.
public_url = "http://127.0.0.1:$port"

[database]
path = "$work/toktok.db"

[metrics]
listen = "off"

[password]
# Cheap hashes: this database lives for one test run.
pbkdf2_iterations = 1000

[email]
mode = "off"

[rate_limit]
enabled = false

[totp]
enabled = true

[oidc]
enabled = true
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
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    grep -qi "address already in use" "$work/toktok.log" || fail "toktok did not start"
done
[ -n "$base" ] || fail "toktok could not bind a port"
key="$("$bin" --config "$work/toktok.toml" api-key create --name oidc-interop --scope admin 2>"$work/api-key.log")" ||
    fail "toktok api-key create failed: $(cat "$work/api-key.log")"
echo "oidc interop: toktok at $base"

# --- 4. the relying parties -----------------------------------------------------
export TOKTOK_URL="$base" TOKTOK_ADMIN_KEY="$key"
result=0
(cd "$here" && node oidc_client.mjs) || result=1
[ ! -f "$here/oidc_authlib.py" ] || "$py" "$here/oidc_authlib.py" || result=1
[ "$result" = 0 ] || fail "a relying party could not complete the flow (above)"
status=0
echo "oidc interop: OK"
