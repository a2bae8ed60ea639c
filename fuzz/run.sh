#!/usr/bin/env bash
# The cargo-fuzz targets of issues 9 and 26 (fuzz/), each for a fixed time, one
# after another, in one process each (the machine stays usable):
#   fuzz/run.sh [SECONDS] [TARGET...]     (default 600 s, every target)
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# New corpus entries go to fuzz/corpus/<target> (not committed); the small
# committed seeds are fuzz/seeds/<target>. A crash leaves its input in
# fuzz/artifacts/<target>/ and stops the run with a non-zero status.
# Not run in CI: the nightly, instrumented build of toktok and its
# dependencies alone takes far longer than CI's two-minute allowance.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-600}"
[ "$#" -gt 0 ] && shift
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(jwt jwe challenge_token json_body config oidc_authorize oidc_token
             webauthn import_line webhook_config mail_template catalogue)
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is required (cargo install cargo-fuzz)" >&2
    exit 1
fi

# Release with debug assertions and overflow checks; no sanitizer: toktok
# forbids unsafe code, and the C under it (SQLite, ring, aws-lc) is not
# instrumented by -Zsanitizer anyway, so ASan would only halve the rate.
flags=(-O -a -s none)
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    flags+=(--target-dir "$CARGO_TARGET_DIR/fuzz")
fi
mkdir -p logs
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "fuzz: $t for ${seconds} s"
    cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"logs/$t.log" 2>&1 || {
        tail -40 "logs/$t.log" >&2
        exit 1
    }
    grep -E "^Done|stat::number_of_executed_units|cov: .* ft: " "logs/$t.log" | tail -3
done
