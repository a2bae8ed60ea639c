#!/usr/bin/env bash
# Browser end-to-end test: toktok's /demo page in Debian's headless Chromium,
# driven by playwright-core, against a real toktok with anonymous tokens and
# RSA (JWE) request bodies both required; then /docs (Swagger UI, docs.mjs);
# then passkeys (DevTools virtual authenticator), TOTP with the second step,
# email codes read from the dev outbox, and reauthentication on the same
# page (passkeys.mjs), with screenshots at 1280 and 360 px; then, on a
# second server with [oidc] on, the OpenID provider's hosted pages
# (oidc.mjs: sign-in, passkey, consent, logout, in English and French,
# with screenshots and axe-core accessibility checks of every page); then
# the admin console (admin.mjs) and the account center (account.mjs), each
# on its own server, in English and French with screenshots and axe-core.
#
#   bash tests/browser/run.sh        (called by .ci/run after cargo test)
#
# Installs what it needs: Debian's chromium (apt-get) and playwright-core
# (npm ci, pinned by package-lock.json; it never downloads a browser). A
# missing browser is a failure with a clear message, never a skip.
#
# Environment: CHROMIUM (default /usr/bin/chromium), CARGO_TARGET_DIR,
# TOKTOK_BIN (use this binary instead of building one), SHOTS_DIR (where
# passkeys.mjs writes its screenshots; default <target>/browser-shots).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

fail() {
    echo "browser e2e: FAILED: $*" >&2
    echo "browser e2e: 0 passed, 1 failed"
    exit 1
}

# --- 1. Chromium, from Debian --------------------------------------------
if [ ! -x "$CHROMIUM" ]; then
    echo "browser e2e: no Chromium at $CHROMIUM; installing Debian's chromium package"
    sudo=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
    $sudo apt-get update -q || echo "browser e2e: apt-get update failed" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium ||
        echo "browser e2e: apt-get install chromium failed" >&2
fi
if [ ! -x "$CHROMIUM" ]; then
    fail "Chromium is not installed at $CHROMIUM and could not be installed with apt-get.
  Install it (apt-get install chromium) or set CHROMIUM to a Chromium binary.
  This test is part of CI and is not skipped when the browser is missing."
fi
"$CHROMIUM" --version 2>/dev/null | tail -n 1 || fail "$CHROMIUM does not start"

# --- 2. playwright-core, pinned ------------------------------------------
command -v node >/dev/null 2>&1 || fail "node is not installed (needed for playwright-core)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (needed for playwright-core)"
(
    cd "$here"
    npm ci --no-audit --no-fund --loglevel=error
) || fail "npm ci in tests/browser failed (playwright-core could not be installed)"

# --- 3. the toktok binary --------------------------------------------------
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    target="${CARGO_TARGET_DIR:-$root/target}"
    case "$target" in /*) ;; *) target="$root/$target" ;; esac
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

# --- 4. a throw-away server -------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/toktok-e2e.XXXXXX")"
log="$work/toktok.log"
pid=""
pids=()
status=1

cleanup() {
    for p in "${pids[@]}" $pid; do
        if kill -0 "$p" 2>/dev/null; then
            kill "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    if [ "$status" != 0 ]; then
        for l in "$work"/*.log; do
            [ -f "$l" ] || continue
            echo "--- toktok log ($l) ---"
            tail -n 200 "$l"
            echo "--- end of toktok log ---"
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

# The OpenID provider's hosted pages (oidc.mjs): a second server, since the
# first requires anonymous tokens and JWE bodies of every API client.
write_oidc_config() {
    cat >"$work/oidc.toml" <<EOF
# Written by tests/browser/run.sh for one run.
[server]
listen = "127.0.0.1:$1"
# The issuer, and a host name for WebAuthn (see above).
public_url = "http://localhost:$1"
# For registering a passkey through a page.
demo = true

[database]
path = "$work/oidc.db"

[password]
pbkdf2_iterations = 1000

[email]
mode = "dev"
outbox_dir = "$work/oidc-outbox"

[email_code]
enabled = true

[totp]
enabled = true

[webauthn]
enabled = true

[oidc]
enabled = true

[rate_limit]
enabled = false

[metrics]
listen = "off"
EOF
}

write_config() {
    cat >"$work/toktok.toml" <<EOF
# Written by tests/browser/run.sh for one run.
[server]
listen = "127.0.0.1:$1"
# A host name, not an IP address: WebAuthn refuses IP addresses as relying
# party ids, and webauthn.rp_id defaults to this host.
public_url = "http://localhost:$1"
demo = true

[database]
path = "$work/toktok.db"

[password]
# Cheap hashes: this database lives for one test run.
pbkdf2_iterations = 1000

[anonymous]
enabled = true
required = true

[rsa]
enabled = true
required = true
key_bits = 2048

[email]
mode = "dev"
outbox_dir = "$work/outbox"

[email_code]
enabled = true

[totp]
enabled = true

[webauthn]
enabled = true

[rate_limit]
enabled = false

[log]
level = "info"

[metrics]
listen = "127.0.0.1:0"
EOF
}

# The port is free when picked but could be taken before toktok binds it;
# try a few.
base=""
for attempt in 1 2 3; do
    port="$(free_port)" || fail "python3 could not pick a free port"
    write_config "$port"
    "$bin" --config "$work/toktok.toml" serve >"$log" 2>&1 &
    pid=$!
    # Generating the 2048-bit RSA key at first start can take a few seconds.
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/ready" 2>/dev/null; then
            base="http://127.0.0.1:$port"
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$base" ] && break
    if kill -0 "$pid" 2>/dev/null; then
        fail "toktok did not become ready within 60 s"
    fi
    wait "$pid" 2>/dev/null || true
    pid=""
    grep -qi "address already in use" "$log" || { status=1; fail "toktok exited at start"; }
    echo "browser e2e: port $port was taken; trying another"
done
[ -n "$base" ] || fail "toktok could not bind a port"
echo "browser e2e: toktok is ready at $base"

# --- 5. the browser ---------------------------------------------------------
# The /demo client (e2e.mjs), then /docs (docs.mjs): "Try it out" ready on
# application/json with a JSON example for every operation with a body.
status=0
(cd "$here" && node e2e.mjs "$base") || status=1
(cd "$here" && node docs.mjs "$base") || status=1
shots="${SHOTS_DIR:-${CARGO_TARGET_DIR:-$root/target}/browser-shots}"
case "$shots" in /*) ;; *) shots="$root/$shots" ;; esac
(cd "$here" && OUTBOX_DIR="$work/outbox" SHOTS_DIR="$shots" \
    node passkeys.mjs "http://localhost:${base##*:}") || status=1

# --- 6. the OpenID provider's hosted pages ------------------------------------
# A real browser through /oauth/authorize: password + TOTP, consent, the
# redirect with a code; a passkey on /login/passkey; RP-initiated logout;
# screenshots of every page; no request leaves the server, no CSP report.
pids+=("$pid")
pid=""
oidc_base=""
for attempt in 1 2 3; do
    port="$(free_port)" || fail "python3 could not pick a free port"
    write_oidc_config "$port"
    "$bin" --config "$work/oidc.toml" serve >"$work/oidc.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/ready" 2>/dev/null; then
            oidc_base="http://localhost:$port"
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$oidc_base" ] && break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    grep -qi "address already in use" "$work/oidc.log" || { status=1; fail "the OIDC toktok exited at start"; }
done
[ -n "$oidc_base" ] || { status=1; fail "the OIDC toktok could not bind a port"; }
admin_key="$("$bin" --config "$work/oidc.toml" api-key create --name browser --scope admin 2>>"$work/oidc.log")" ||
    { status=1; fail "toktok api-key create failed"; }
(cd "$here" && TOKTOK_ADMIN_KEY="$admin_key" SHOTS_DIR="$shots" node oidc.mjs "$oidc_base") || status=1

# Starts toktok as server NAME from $work/NAME.toml.in (PORT replaced by a
# free port, tried a few times) and sets $served to its base URL.
serve() {
    local name="$1"
    pids+=("$pid")
    pid=""
    served=""
    for attempt in 1 2 3; do
        port="$(free_port)" || fail "python3 could not pick a free port"
        sed "s#PORT#$port#g" "$work/$name.toml.in" >"$work/$name.toml"
        "$bin" --config "$work/$name.toml" serve >"$work/$name.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 600); do
            if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/ready" 2>/dev/null; then
                served="http://localhost:$port"
                break
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        [ -n "$served" ] && break
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=""
        grep -qi "address already in use" "$work/$name.log" || { status=1; fail "the $name toktok exited at start"; }
    done
    [ -n "$served" ] || { status=1; fail "the $name toktok could not bind a port"; }
}

# --- 7. the admin console -----------------------------------------------------
# An admin made by the command line signs in with a password and TOTP,
# finds a user, disables them, resets their factors, creates an API key,
# an OAuth client and a webhook endpoint; every /admin page at 1280 and 360 px in English
# and French, with axe-core (admin.mjs).
cat >"$work/admin.toml.in" <<EOF2
# Written by tests/browser/run.sh for one run.
[server]
listen = "127.0.0.1:PORT"
public_url = "http://localhost:PORT"

[database]
path = "$work/admin.db"

[password]
pbkdf2_iterations = 1000

[email]
mode = "dev"
outbox_dir = "$work/admin-outbox"

[oidc]
enabled = true

[rate_limit]
enabled = false

[metrics]
listen = "off"

[hooks]
# The console's webhook lands on this server itself (loopback).
allow_private_targets = true
timeout = "2s"
EOF2
serve admin
admin_password="admin-$(date +%s)-correct-horse"
printf '%s\n' "$admin_password" |
    "$bin" --config "$work/admin.toml" user create --email admin@example.com --role admin --password-stdin \
        >>"$work/admin.log" 2>&1 || { status=1; fail "toktok user create failed"; }
(cd "$here" && ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD="$admin_password" SHOTS_DIR="$shots" \
    node admin.mjs "$served") || status=1

# --- 8. the account center ------------------------------------------------------
# /account in English and French (account.mjs): sign-up, the emailed
# confirmation, /login, TOTP from the QR code's secret, a passkey, ending a
# session, revoking an app; screenshots and axe on every page. The OIDC
# server's configuration, with confirmation required.
sed -e "s#$work/oidc.db#$work/account.db#" -e "s#$work/oidc-outbox#$work/account-outbox#" \
    -e 's#^mode = "dev"#mode = "dev"\nconfirmation_required = true#' \
    -e "s#^listen = \"127.0.0.1:[0-9]*\"#listen = \"127.0.0.1:PORT\"#" \
    -e "s#^public_url = \"http://localhost:[0-9]*\"#public_url = \"http://localhost:PORT\"#" \
    "$work/oidc.toml" >"$work/account.toml.in"
serve account
account_key="$("$bin" --config "$work/account.toml" api-key create --name browser --scope admin 2>>"$work/account.log")" ||
    { status=1; fail "toktok api-key create failed"; }
(cd "$here" && TOKTOK_ADMIN_KEY="$account_key" OUTBOX_DIR="$work/account-outbox" SHOTS_DIR="$shots" \
    node account.mjs "$served") || status=1

# --- 9. the client library across tabs ----------------------------------------
# Four tabs of one origin share the tokens and call getAccessToken() for
# several lifetimes of 2 s access tokens under strict rotation: with the
# cross-tab lock nothing is presented twice and no reuse is recorded;
# without it reuse detection trips (tabs.mjs).
cat >"$work/tabs.toml.in" <<EOF2
# Written by tests/browser/run.sh for one run.
[server]
listen = "127.0.0.1:PORT"
public_url = "http://localhost:PORT"

[database]
path = "$work/tabs.db"

[password]
pbkdf2_iterations = 1000

[jwt]
access_ttl = "2s"
reuse_grace = 0

[email]
outbox_dir = "$work/tabs-outbox"

[rate_limit]
enabled = false

[metrics]
listen = "off"
EOF2
serve tabs
tabs_key="$("$bin" --config "$work/tabs.toml" api-key create --name browser --scope admin 2>>"$work/tabs.log")" ||
    { status=1; fail "toktok api-key create failed"; }
(cd "$here" && TOKTOK_ADMIN_KEY="$tabs_key" node tabs.mjs "$served") || status=1
# The library's passkey sign-in (DevTools virtual authenticator) and its
# MFA step with TOTP and with the passkey (sdk.mjs), on the same server.
(cd "$here" && node sdk.mjs "$served") || status=1
exit "$status"
