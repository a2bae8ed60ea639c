#!/usr/bin/env bash
# Webhooks end to end with the official `standardwebhooks` packages (issue
# 22): against a real `toktok serve`, tests/hooks/drive.py registers an
# endpoint for receiver.py (Python) and one for receiver.mjs (Node) — the
# receivers docs/webhooks.md shows — drives every event type through the
# public API, and checks what each receiver verified: every event, its
# payload, none invented; a tampered body and a wrong signature refused.
#
#   bash tests/hooks/run.sh        (about fifteen seconds after the build)
#
# Installs standardwebhooks (pinned) into a virtualenv under the cache
# directory and the npm package (npm ci, package-lock.json) into
# tests/hooks/node_modules. Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use
# this binary instead of building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/toktok-hooks"
pinned="1.3.0"

fail() {
    echo "hooks: FAILED: $*" >&2
    exit 1
}

# docs/webhooks.md shows the receivers as they are run here.
for f in receiver.py receiver.mjs; do
    python3 - "$here/$f" "$root/docs/webhooks.md" <<'PY' || fail "docs/webhooks.md does not show tests/hooks/$f as it is"
import sys
sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())
PY
done

py="$venv/bin/python"
if ! "$py" -c "import sys; from importlib.metadata import version; sys.exit(version('standardwebhooks') != '$pinned')" 2>/dev/null; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "standardwebhooks==$pinned" ||
        fail "pip install standardwebhooks==$pinned failed"
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/hooks failed"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-hooks.XXXXXX")"
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
# Written by tests/hooks/run.sh for one run.
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
confirmation_required = false

[rate_limit]
enabled = false

[totp]
enabled = true

[hooks]
# The receivers listen on loopback: a deliberate exception to the SSRF rule.
allow_private_targets = true
timeout = "5s"
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
key="$("$bin" --config "$work/toktok.toml" api-key create --name hooks --scope admin 2>"$work/api-key.log")" ||
    fail "toktok api-key create failed: $(cat "$work/api-key.log")"

echo "hooks: node $(node --version), standardwebhooks $("$py" -c 'from importlib.metadata import version; print(version("standardwebhooks"))') (Python), $(node -p 'require("'"$here"'/node_modules/standardwebhooks/package.json").version') (Node)"
"$py" "$here/drive.py" "$base" "$key" "$work/outbox" "$work" || fail "see above"
status=0
