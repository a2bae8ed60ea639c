#!/usr/bin/env bash
# Interoperability: toktok's tokens through the JWT libraries services use,
# Node's `jose` and Python's PyJWT, and the Rust example of
# docs/verifying-tokens.md (issue 16, TT-06). It shows, against a real
# `toktok serve`:
#
# 1. the obvious recipe (signature through the JWKS, iss, aud, exp) and the
#    documented one (plus typ at+jwt and a pinned algorithm) accept an access
#    token and refuse a refresh token, an anonymous token and an access token
#    of a second toktok with the same keys and another `jwt.audience`;
# 2. the documented snippets are the ones run: they are extracted from
#    docs/verifying-tokens.md (tests/interop/snippets.py), and the Rust one
#    is examples/verify_token.rs, checked identical;
# 3. a key rotation at the smallest `jwt.key_reload` (1 s) with long-lived
#    verifiers (jose createRemoteJWKSet, PyJWT PyJWKClient) verifying fresh
#    tokens continuously until the new key signs: zero failures.
#
#   bash tests/interop/run.sh        (called by .ci/run; about a minute)
#
# Installs `jose` (npm ci, pinned by package-lock.json, into
# tests/interop/node_modules) and PyJWT + cryptography (pinned, into a
# virtualenv under the cache directory). Environment: CARGO_TARGET_DIR,
# TOKTOK_BIN (use this binary instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-interop"
pyjwt="2.15.1"
cryptography="50.0.2"

fail() {
    echo "interop: FAILED: $*" >&2
    exit 1
}

# --- 1. the libraries -------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "node is not installed (needed for jose)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (needed for jose)"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/interop failed"
py="$venv/bin/python"
if ! "$py" -c "import jwt, cryptography, sys; sys.exit(jwt.__version__ != '$pyjwt' or cryptography.__version__ != '$cryptography')" 2>/dev/null; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "PyJWT==$pyjwt" "cryptography==$cryptography" ||
        fail "pip install PyJWT==$pyjwt cryptography==$cryptography failed"
fi
echo "interop: node $(node --version), jose $(node -p 'require("'"$here"'/node_modules/jose/package.json").version'), $("$py" -c 'import jwt, cryptography; print(f"PyJWT {jwt.__version__}, cryptography {cryptography.__version__}")')"

# --- 2. the documented snippets ----------------------------------------------
python3 "$here/snippets.py" "$root/docs/verifying-tokens.md" "$here/build" "$root" ||
    fail "docs/verifying-tokens.md and the tested snippets disagree"

# --- 3. the binaries ---------------------------------------------------------
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    bin="$target/debug/toktok"
fi
(cd "$root" && cargo build --quiet --example verify_token) || fail "cargo build --example verify_token failed"
rust_verify="$target/debug/examples/verify_token"
[ -x "$bin" ] || fail "no toktok binary at $bin"

# --- 4. two servers with the same keys, two audiences -------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-interop.XXXXXX")"
pids=()
status=1
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ "$status" != 0 ]; then
        for log in "$work"/*.log; do
            [ -f "$log" ] || continue
            echo "--- $log ---"
            tail -n 60 "$log"
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

# write_config NAME PORT AUDIENCE DB
write_config() {
    cat >"$work/$1.toml" <<CONF
# Written by tests/interop/run.sh for one run.
[server]
listen = "127.0.0.1:$2"
public_url = "http://127.0.0.1:$2"

[database]
path = "$4"

[metrics]
# Two servers run at once: neither takes the default metrics port.
listen = "off"

[jwt]
audience = "$3"
# The smallest allowed: the rotation below runs at it.
key_reload = "1s"

[anonymous]
enabled = true

[password]
# Cheap hashes: this database lives for one test run.
pbkdf2_iterations = 1000

[email]
mode = "off"

[rate_limit]
enabled = false
CONF
}

# start NAME AUDIENCE DB: starts a server, sets $base
start() {
    base=""
    local port
    for _ in 1 2 3; do
        port="$(free_port)"
        write_config "$1" "$port" "$2" "$3"
        "$bin" --config "$work/$1.toml" serve >"$work/$1.log" 2>&1 &
        local pid=$!
        for _ in $(seq 1 300); do
            if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/ready" 2>/dev/null; then
                pids+=("$pid")
                base="http://127.0.0.1:$port"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        grep -qi "address already in use" "$work/$1.log" || fail "toktok $1 did not start"
    done
    fail "toktok $1 could not bind a port"
}

post() { curl -fsS -H 'content-type: application/json' -d "$2" "$1"; }
field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

password="interop-password-$RANDOM-$RANDOM"
start a toktok "$work/a.db"
a="$base"
registered="$(post "$a/v1/auth/register" "{\"email\":\"ada@example.com\",\"password\":\"$password\"}")"
access="$(field access_token <<<"$registered")"
refresh="$(field refresh_token <<<"$registered")"
anonymous="$(post "$a/v1/auth/anonymous" '{}' | field access_token)"
# A second toktok on a copy of the database: same signing keys, so only the
# audience tells its tokens apart.
"$bin" --config "$work/a.toml" backup "$work/b.db" >"$work/backup.log" 2>&1 || fail "toktok backup failed"
start b other-api "$work/b.db"
other="$(post "$base/v1/auth/register" "{\"email\":\"bob@example.com\",\"password\":\"$password\"}" | field access_token)"
python3 - "$access" "$other" <<'PY' || fail "the second server does not share the keys"
import base64, json, sys
kid = lambda t: json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "=="))["kid"]
sys.exit(kid(sys.argv[1]) != kid(sys.argv[2]))
PY
printf '{"access":"%s","refresh":"%s","anonymous":"%s","other_audience":"%s"}\n' \
    "$access" "$refresh" "$anonymous" "$other" >"$work/tokens.json"
echo "interop: servers at $a (audience toktok) and $base (audience other-api), same keys"

# --- 5. which tokens each recipe accepts ----------------------------------------
export TOKTOK_URL="$a"
(cd "$here" && node check.mjs tokens "$work/tokens.json") || fail "jose accepted or refused the wrong tokens"
"$py" "$here/check.py" tokens "$work/tokens.json" || fail "PyJWT accepted or refused the wrong tokens"
for name in access refresh anonymous other_audience; do
    token="$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/tokens.json" "$name")"
    if answer="$("$rust_verify" "$a" "$token")"; then got=accepted; else got=refused; fi
    expected=refused
    [ "$name" = access ] && expected=accepted
    echo "jsonwebtoken documented ${name}: $got (${answer#* })" | cut -c1-110
    [ "$got" = "$expected" ] || fail "the Rust example $got the $name token"
done

# --- 6. a key rotation under long-lived verifiers --------------------------------
rm -f "$work/ready.node" "$work/ready.py"
(cd "$here" && node check.mjs rotate ada@example.com "$password" "$work/ready.node") &
node_pid=$!
"$py" "$here/check.py" rotate ada@example.com "$password" "$work/ready.py" &
py_pid=$!
pids+=("$node_pid" "$py_pid")
# Both verifiers have fetched the key set just now: the worst moment for a
# new key to appear, since neither refetches for 30 s.
for _ in $(seq 1 100); do
    [ -f "$work/ready.node" ] && [ -f "$work/ready.py" ] && break
    sleep 0.1
done
[ -f "$work/ready.node" ] && [ -f "$work/ready.py" ] || fail "the verifiers did not start"
rotated_at=$(date +%s)
"$bin" --config "$work/a.toml" keys rotate 2>&1 | sed 's/^/interop: keys rotate: /'
rotation=0
wait "$node_pid" || rotation=1
wait "$py_pid" || rotation=1
echo "interop: rotation run took $(($(date +%s) - rotated_at)) s"
[ "$rotation" = 0 ] || fail "a verifier refused a fresh token during the key rotation"

status=0
echo "interop: all checks passed"
