#!/usr/bin/env bash
# Reliability checks of issue 9 against the real binary, CI-sized:
#   - crash consistency: SIGKILL at random moments under a mixed write load
#     (crash.py; CRASH_KILLS, default 12; locally use >= 200);
#   - soak: a mixed, steady load (soak.py; SOAK_SECONDS, default 60;
#     locally 600), no errors, flat RSS, stable p99;
#   - faults: slowloris, 10,000 idle connections, oversized heads, request
#     smuggling, and disk full when a tmpfs can be mounted (faults.py).
# Needs only python3 (standard library); installs it with apt-get if absent.
# The cargo-fuzz targets (fuzz/run.sh) are not run here: their nightly,
# instrumented build alone takes far longer than CI's two-minute allowance.
# Uses the debug binary of `cargo test --no-run` unless TOKTOK_BIN names one (e.g. a release build).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq python3 >/dev/null
    else
        echo "reliability: python3 is required" >&2
        exit 1
    fi
fi

if [ -z "${TOKTOK_BIN:-}" ]; then
    # The binary `cargo test` builds for the integration tests: building it
    # with `cargo build` would recompile the dependencies with other features.
    cargo test --quiet --no-run --test api
    TOKTOK_BIN="${CARGO_TARGET_DIR:-target}/debug/toktok"
fi
export TOKTOK_BIN

python3 tests/reliability/crash.py --kills "${CRASH_KILLS:-12}"
python3 tests/reliability/faults.py --strict "${FAULTS:-all}"
python3 tests/reliability/soak.py --seconds "${SOAK_SECONDS:-60}" --rate "${SOAK_RATE:-60}"
