#!/usr/bin/env bash
# Interoperability of toktok's TOTP with pyotp (issue 18): against a real
# `toktok serve`, tests/interop/totp.py enrols TOTP from the `otpauth_uri`
# (pyotp.parse_uri), confirms with pyotp's code, and, when the server has
# the MFA step, signs in with pyotp's next code and with a recovery code.
#
#   bash tests/interop/totp.sh        (about ten seconds after the build)
#
# Installs pyotp (pinned) into a virtualenv under the cache directory, as
# run.sh does for PyJWT. Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use
# this binary instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-interop-totp"
pyotp="2.9.0"

fail() {
    echo "totp interop: FAILED: $*" >&2
    exit 1
}

py="$venv/bin/python"
if ! "$py" -c "import sys; from importlib.metadata import version; sys.exit(version('pyotp') != '$pyotp')" 2>/dev/null; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "pyotp==$pyotp" ||
        fail "pip install pyotp==$pyotp failed"
fi

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-totp.XXXXXX")"
pid=""
status=1
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ "$status" != 0 ] && [ -f "$work/toktok.log" ]; then
        echo "--- toktok.log ---"
        tail -n 60 "$work/toktok.log"
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
# Written by tests/interop/totp.sh for one run.
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
mode = "off"

[rate_limit]
enabled = false

[totp]
enabled = true
issuer = "toktok interop"
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

"$py" "$here/totp.py" "$base" || fail "pyotp and toktok disagree"
status=0
echo "totp interop: OK"
