#!/usr/bin/env bash
# The binary's size (issue 25): builds the release binary (what tests and
# CI run) and the dist one (`--profile dist`: fat LTO, one codegen unit,
# stripped; what to ship), prints their sizes, the dist binary's sections,
# and where the release binary's code and data go, by crate: symbol sizes
# from `nm`, grouped by the first word of each demangled name (generic code
# counts where its name starts, e.g. `core::ptr::drop_in_place<toktok::…>`
# under core: a guide, as cargo-bloat says of its own figures). Replaces
# the marked "Binary size" section of BENCHMARKS.md.
#
# Usage: bash bench/size.sh [--out FILE]   ("-": nowhere)
# The dist build takes about 7 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=BENCHMARKS.md
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
say() { printf '%s\n' "$*" >&2; }

TARGET=${CARGO_TARGET_DIR:-$(pwd)/target}
say "building (cargo build --release --bin toktok; cargo build --profile dist --bin toktok)"
cargo build --release --quiet --bin toktok
T0=$(date +%s)
cargo build --profile dist --quiet --bin toktok
DIST_S=$(($(date +%s) - T0))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/toktok-size.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
strip -o "$WORK/release.stripped" "$TARGET/release/toktok"
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
RELEASE=$(mib "$TARGET/release/toktok")
RELEASE_STRIPPED=$(mib "$WORK/release.stripped")
DIST=$(mib "$TARGET/dist/toktok")

sections() {
    size -A "$TARGET/dist/toktok" | awk '$1 ~ /^\./ && $2 > 100000 {
        printf "%s %.2f MiB, ", $1, $2 / 1048576 }' | sed 's/, $//'
}
crates() {
    nm -S --size-sort -C "$TARGET/release/toktok" 2>/dev/null | python3 -c '
import collections, re, sys
sizes = collections.Counter()
for line in sys.stdin:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4 or parts[2] not in "tTrRdD":
        continue
    name = parts[3]
    m = re.match(r"[<&*]*(?:dyn |mut |const )?([A-Za-z_][A-Za-z0-9_]*)", name)
    key = m.group(1) if m else "?"
    for prefix, label in (("aws_lc", "aws-lc (C)"), ("ring_core", "ring (C)"),
                          ("sqlite3", "SQLite (C)"), ("F", "handlers (<F as Handler>)")):
        if key.startswith(prefix) and (prefix != "F" or key == "F"):
            key = label
    sizes[key] += int(parts[1], 16)
for key, size in sizes.most_common(15):
    print(f"| {key} | {size / 1024:.0f} |")
'
}
report() {
    echo "| binary | MiB |"
    echo "|---|---|"
    echo "| release, as built (\`cargo build --release\`; tests, CI, \`cargo run --release\`) | $RELEASE |"
    echo "| release, stripped | $RELEASE_STRIPPED |"
    echo "| dist (\`cargo build --profile dist\`: fat LTO, one codegen unit, stripped; built in $DIST_S s) | $DIST |"
    echo
    echo "dist's sections over 100 kB: $(sections)."
    echo
    echo "Where the release binary's symbols go (KiB; the first word of each demangled name):"
    echo
    echo "| first word | KiB |"
    echo "|---|---|"
    crates
    echo
    echo "Goal (issue 25): the stripped binary ≤ 16 MiB: $(awk -v d="$DIST" 'BEGIN { print (d <= 16) ? "met" : "NOT met" }') ($DIST MiB)."
}
say ""
report >&2

if [ "$OUT" != - ]; then
    REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    KEPT=""
    [ -f "$OUT" ] && KEPT=$(sed '/^<!-- size:begin -->$/,/^<!-- size:end -->$/d' "$OUT")
    {
        [ -n "$KEPT" ] && { printf '%s\n' "$KEPT"; echo; }
        echo "<!-- size:begin -->"
        echo "## Binary size (issue 25)"
        echo
        echo "Written by \`bash bench/size.sh\` (toktok $REV, $(date -u +%Y-%m-%dT%H:%MZ); $(rustc -V))."
        echo
        report
        if [ -f docs/benchmarks-notes-size.md ]; then
            echo
            cat docs/benchmarks-notes-size.md
        fi
        echo "<!-- size:end -->"
    } >"$OUT.tmp"
    mv "$OUT.tmp" "$OUT"
    say "wrote the size section of $OUT"
fi
