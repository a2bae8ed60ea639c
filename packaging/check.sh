#!/usr/bin/env bash
# Checks what packaging/ ships, as CI runs it (one step of .ci/run):
#   1. the systemd unit: `systemd-analyze verify` (no warnings allowed) and
#      `systemd-analyze security --offline=yes` under a threshold;
#   2. the Debian package: `cargo deb` (release build), its file list,
#      conffiles and maintainer scripts, the unit verified against the
#      package's own files, the packaged binary reading the packaged config;
#   3. lintian, when Debian's package installs;
#   4. the nginx and Caddy examples, when nginx or caddy is installed.
# Installs what it needs (apt-get, cargo install), so it runs on a bare
# machine; safe to run again. Any failure stops it with a message.
set -euo pipefail
cd "$(dirname "$0")/.."

# The exposure score `systemd-analyze security` gives the unit is 1.1 (docs/deploying.md);
# CI fails if a change makes it worse than 1.5. systemd takes the threshold
# in tenths.
MAX_EXPOSURE_TENTHS=15

fail() { echo "packaging/check.sh: $*" >&2; exit 1; }
say() { printf -- '--- %s\n' "$*"; }

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq || return 1
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v systemd-analyze >/dev/null || apt_install systemd || fail "cannot install systemd (for systemd-analyze)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing (this script expects Debian or a derivative)"
if ! cargo deb --version >/dev/null 2>&1; then
    say "installing cargo-deb"
    cargo install cargo-deb --locked --quiet || fail "cargo install cargo-deb failed"
fi

target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unit=packaging/systemd/toktok.service

say "systemd-analyze security --offline=yes $unit"
systemd-analyze security --offline=yes --threshold="$MAX_EXPOSURE_TENTHS" "$unit" >"$work/security.txt" 2>&1 \
    || { cat "$work/security.txt"; fail "the unit's exposure is above $MAX_EXPOSURE_TENTHS tenths (or the analysis failed)"; }
grep -- 'Overall exposure level' "$work/security.txt" || fail "no exposure level in the security report"

say "cargo deb (release build)"
deb="$(cargo deb --quiet 2>"$work/deb.log" | tail -n 1)" || { cat "$work/deb.log"; fail "cargo deb failed"; }
[ -f "$deb" ] || { cat "$work/deb.log"; fail "cargo deb printed no package path (got '$deb')"; }
echo "$deb ($(du -h "$deb" | cut -f1))"

say "dpkg-deb -c: the package's files"
dpkg-deb -c "$deb" | tee "$work/contents.txt"
unit_in_deb=""
for want in ./usr/bin/toktok ./etc/toktok/toktok.toml ./usr/share/doc/toktok/copyright \
    ./usr/share/doc/toktok/examples/nginx-toktok.conf ./usr/share/doc/toktok/examples/Caddyfile; do
    grep -q " $want\$" "$work/contents.txt" || fail "$want is not in the package"
done
for candidate in ./lib/systemd/system/toktok.service ./usr/lib/systemd/system/toktok.service; do
    if grep -q " $candidate\$" "$work/contents.txt"; then unit_in_deb="${candidate#.}"; fi
done
[ -n "$unit_in_deb" ] || fail "toktok.service is not in the package"
grep -Eq -- '^-rwxr-xr-x (root/root|0/0) .* ./usr/bin/toktok$' "$work/contents.txt" || fail "usr/bin/toktok is not root-owned 0755"

say "dpkg-deb: control, conffiles, maintainer scripts"
dpkg-deb -e "$deb" "$work/control"
grep -qx '/etc/toktok/toktok.toml' "$work/control/conffiles" || fail "/etc/toktok/toktok.toml is not a conffile"
grep -q '^Depends:.*adduser' "$work/control/control" || fail "the package does not depend on adduser"
grep -q 'adduser --system' "$work/control/postinst" || fail "postinst does not create the toktok user"
grep -q 'deb-systemd-helper' "$work/control/postinst" || fail "postinst does not enable the unit"
grep -q 'toktok.*backup' "$work/control/preinst" || fail "preinst does not back the database up"
for script in "$work"/control/{preinst,postinst,prerm,postrm}; do
    [ -f "$script" ] && { sh -n "$script" || fail "$(basename "$script") is not valid sh"; }
done

say "the packaged unit and binary, unpacked into a scratch root"
root="$work/root"
dpkg-deb -x "$deb" "$root"
# verify --root needs systemd's own units and the ExecReload= command.
mkdir -p "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/system.host"
cp -an "$root/usr/lib/systemd/system.host/." "$root/usr/lib/systemd/system/"
rm -rf "$root/usr/lib/systemd/system.host"
kill_bin="$(type -P kill || true)"
[ -n "$kill_bin" ] || { apt_install procps && kill_bin="$(type -P kill)"; } || fail "no kill(1) binary"
install -D -m 0755 "$kill_bin" "$root/bin/kill"
systemd-analyze verify --man=no --root="$root" toktok.service 2>&1 | tee "$work/verify-root.txt"
[ ! -s "$work/verify-root.txt" ] || fail "systemd-analyze verify (packaged unit) complained"
# verify --root stays silent about unknown keys and bad values, so also
# verify the unit in place, its ExecStart pointing at the unpacked binary.
sed "s#/usr/bin/toktok#$root/usr/bin/toktok#" "$root$unit_in_deb" >"$work/toktok.service"
systemd-analyze verify --man=no "$work/toktok.service" 2>&1 | tee "$work/verify.txt"
[ ! -s "$work/verify.txt" ] || fail "systemd-analyze verify complained about $unit"
cmp -s "$unit" "$root$unit_in_deb" || fail "the packaged unit differs from $unit"
"$root/usr/bin/toktok" --version
# The packaged config parses with the packaged binary (the database does
# not exist here: reported as "will be created", exit 0).
"$root/usr/bin/toktok" --config "$root/etc/toktok/toktok.toml" check

say "lintian"
if command -v lintian >/dev/null || apt_install lintian; then
    # Accepted: no man page (`toktok --help` is the manual) and no Debian
    # changelog (the history is git's). Warnings are shown, errors fail.
    lintian --fail-on error --suppress-tags no-manual-page,no-changelog "$deb" \
        || fail "lintian found errors"
else
    echo "lintian could not be installed; skipped"
fi

say "reverse-proxy examples"
if command -v nginx >/dev/null; then
    # A scratch prefix with a self-signed certificate at the example's paths.
    ng="$work/nginx"
    mkdir -p "$ng/logs"
    sed "s#/etc/letsencrypt/live/auth.example.com#$ng#; s#/var/www/html#$ng#" \
        packaging/nginx/toktok.conf >"$ng/toktok.conf"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=auth.example.com \
        -keyout "$ng/privkey.pem" -out "$ng/fullchain.pem" 2>/dev/null
    printf 'pid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents {}\nhttp {\n include %s/toktok.conf;\n}\n' \
        "$ng" "$ng" "$ng" >"$ng/nginx.conf"
    nginx -t -p "$ng" -c "$ng/nginx.conf" || fail "nginx -t refused packaging/nginx/toktok.conf"
else
    echo "nginx not installed; packaging/nginx/toktok.conf not validated"
fi
if command -v caddy >/dev/null; then
    caddy validate --adapter caddyfile --config packaging/caddy/Caddyfile || fail "caddy validate refused packaging/caddy/Caddyfile"
else
    echo "caddy not installed; packaging/caddy/Caddyfile not validated"
fi

say "packaging checks passed"
