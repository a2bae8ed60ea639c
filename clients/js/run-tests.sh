#!/usr/bin/env bash
# The client library against live toktok servers (issue 24), with Node's
# own test runner: `node --test clients/js/test/`. Two servers: one plain
# (access tokens of 3 s, so refreshes happen during the run), one that
# requires anonymous tokens and encrypted (JWE) bodies.
#
#   bash clients/js/run-tests.sh
#
# Before that: the size minified + gzipped (size.mjs, esbuild; under
# 20 KB) and the declarations under `tsc --strict` (test/types-check.ts),
# with esbuild and typescript pinned in package.json (npm ci).
#
# Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use this binary).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fail() { echo "clients/js: FAILED: $*" >&2; exit 1; }

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in clients/js failed"
(cd "$here" && node size.mjs) || fail "size"
(cd "$here" && node_modules/.bin/tsc --strict --noEmit --target es2022 --module nodenext \
    --moduleResolution nodenext --lib es2022,dom test/types-check.ts) || fail "tsc --strict on the declarations"
echo "clients/js: the declarations compile with tsc --strict"
sri="sha384-$(openssl dgst -sha384 -binary "$here/toktok.js" | base64 -w0)"
grep -qF -- "<!-- integrity -->\`$sri\`<!-- /integrity -->" "$here/README.md" ||
    fail "clients/js/README.md does not show toktok.js's integrity value $sri (run: bash clients/js/sri.sh)"
echo "clients/js: README.md shows the integrity value $sri"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    bin="$target/debug/toktok"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-js.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() { # name port extra-toml
    mkdir -p "$work/$1"
    cat >"$work/$1/toktok.toml" <<TOML
[server]
listen = "127.0.0.1:$2"
public_url = "http://127.0.0.1:$2"
[database]
path = "$work/$1/toktok.db"
[password]
pbkdf2_iterations = 1000
[rate_limit]
enabled = false
[metrics]
listen = "off"
[email]
outbox_dir = "$work/$1/outbox"
$3
TOML
    "$bin" --config "$work/$1/toktok.toml" serve >"$work/$1/serve.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do
        curl -fsS "http://127.0.0.1:$2/ready" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "$1 server not ready: $(tail -3 "$work/$1/serve.log")"
}

plain=$(free_port)
sealed=$(free_port)
start plain "$plain" '[jwt]
access_ttl = "3s"
reuse_grace = "1s"
[email_code]
enabled = true'
start sealed "$sealed" '[anonymous]
enabled = true
required = true
[rsa]
enabled = true
required = true
[email_code]
enabled = true'

TOKTOK_URL="http://127.0.0.1:$plain" TOKTOK_SEALED_URL="http://127.0.0.1:$sealed" \
TOKTOK_OUTBOX="$work/plain/outbox" \
    node --test --test-reporter=spec "$here/test/"
