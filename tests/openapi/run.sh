#!/usr/bin/env bash
# Client generation from toktok's OpenAPI document (issue 17): the document
# must be usable as written, not only valid.
#
#   1. openapi-python-client (PyPI, pinned) generates a client with one
#      function per operation and no schema dropped: any warning it prints
#      (an unsupported construct, a skipped endpoint or schema) fails the
#      run; the generated package is then imported, module by module.
#   2. @hey-api/openapi-ts (npm, pinned by package-lock.json) generates a
#      typed fetch client with one function per operation, and `tsc
#      --strict` compiles it.
#
#   bash tests/openapi/run.sh          (called by .ci/run)
#
# Installs its tools into the cache directory (a virtualenv, and an npm
# prefix holding this directory's package.json and package-lock.json);
# needs only PyPI and npm. The document comes from `toktok openapi`, which
# needs no database and no server.
# Environment: CARGO_TARGET_DIR, TOKTOK_BIN (use this binary instead of
# building one).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}"
py_version="0.29.1"
venv="$cache/toktok-openapi-python"
npm_prefix="$cache/toktok-openapi-ts"

fail() {
    echo "openapi clients: FAILED: $*" >&2
    exit 1
}

# --- 1. the document --------------------------------------------------------
if [ -n "${TOKTOK_BIN:-}" ]; then
    bin="$TOKTOK_BIN"
else
    (cd "$root" && cargo build --quiet --bin toktok) || fail "cargo build failed"
    target="${CARGO_TARGET_DIR:-$root/target}"
    case "$target" in /*) ;; *) target="$root/$target" ;; esac
    bin="$target/debug/toktok"
fi
[ -x "$bin" ] || fail "no toktok binary at $bin"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && env -u TOKTOK_CONFIG "$bin" openapi >"$work/openapi.json") ||
    fail "toktok openapi failed"

# The operations the document holds, as operationId and as the camelCase
# name TypeScript generators give them.
python3 - "$work/openapi.json" >"$work/operations" <<'PY' || fail "the document is not JSON"
import json, sys
document = json.load(open(sys.argv[1]))
for path, item in document["paths"].items():
    for method, operation in item.items():
        if method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            op = operation["operationId"]
            words = op.split("_")
            print(op, words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]))
PY
count="$(wc -l <"$work/operations")"
echo "openapi clients: the document has $count operations"
[ "$count" -gt 30 ] || fail "only $count operations in the document"

# --- 2. openapi-python-client, pinned, in its own virtualenv ------------------
gen="$venv/bin/openapi-python-client"
if ! "$gen" --version 2>/dev/null | grep -q "$py_version"; then
    python3 -m venv "$venv" || fail "python3 -m venv $venv failed"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-python-client==$py_version" ||
        fail "pip install openapi-python-client==$py_version failed"
fi
"$gen" --version

(cd "$work" && "$gen" generate --path openapi.json --output-path toktok_client --meta none \
    --config "$here/openapi-python-client.yaml") >"$work/python.log" 2>&1 ||
    { cat "$work/python.log" >&2; fail "openapi-python-client generate failed"; }
if grep -Eiq "warning|unable to|skipp|unsupported|removal" "$work/python.log"; then
    cat "$work/python.log" >&2
    fail "openapi-python-client warned: an operation or a schema was dropped or changed"
fi
missing=""
while read -r op _; do
    ls "$work"/toktok_client/api/*/"$op.py" >/dev/null 2>&1 || missing="$missing $op"
done <"$work/operations"
[ -z "$missing" ] || fail "no Python function for:$missing"
# Every object and enum schema is a model class (the unions and strings
# are Python unions and str).
python3 - "$work/openapi.json" "$work/toktok_client/models" <<'PY' || fail "a schema has no Python model"
import json, os, re, sys
document = json.load(open(sys.argv[1]))
models = {name[:-3] for name in os.listdir(sys.argv[2])}
missing = [name for name, schema in document["components"]["schemas"].items()
           if (schema.get("type") == "object" or "enum" in schema or "allOf" in schema)
           and re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() not in models]
if missing:
    sys.exit(f"no model for: {missing}")
PY
# openapi-python-client#1451 (open, fix in PR #1478): a required body with
# several media types, as on the (E) endpoints, is annotated `| Unset`
# without importing `Unset`. Add the import where it is missing, so that
# the import check below tests everything else; a fixed release makes this
# a no-op.
(cd "$work" && "$venv/bin/python" - <<'PY') || fail "could not patch around openapi-python-client#1451"
import pathlib, re
for module in pathlib.Path("toktok_client/api").rglob("*.py"):
    text = module.read_text()
    if "| Unset" in text and not re.search(r"^from \.\.\.types import .*\bUnset\b", text, re.M):
        module.write_text(re.sub(r"^(from \.\.\.types import .*)$", r"\1, Unset", text, count=1, flags=re.M))
PY
(cd "$work" && "$venv/bin/python" - <<'PY') || fail "the generated Python client does not import"
import importlib, pathlib
modules = [p.with_suffix("").as_posix().replace("/", ".")
           for p in pathlib.Path("toktok_client").rglob("*.py")]
for module in sorted(modules):
    importlib.import_module(module.removesuffix(".__init__"))
print(f"python client: {len(modules)} modules import")
PY
echo "openapi clients: Python client complete, no warnings"

# --- 3. @hey-api/openapi-ts, pinned, compiled with tsc --strict ---------------
command -v node >/dev/null 2>&1 || fail "node is not installed (needed for @hey-api/openapi-ts)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (needed for @hey-api/openapi-ts)"
mkdir -p "$npm_prefix"
if ! cmp -s "$here/package-lock.json" "$npm_prefix/package-lock.json" ||
    [ ! -x "$npm_prefix/node_modules/.bin/tsc" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$npm_prefix/"
    (cd "$npm_prefix" && npm ci --no-audit --no-fund --loglevel=error) ||
        fail "npm ci of @hey-api/openapi-ts and typescript failed"
fi
bin_dir="$npm_prefix/node_modules/.bin"
(cd "$work" && "$bin_dir/openapi-ts" -i openapi.json -o ts -c @hey-api/client-fetch) \
    >"$work/ts.log" 2>&1 || { cat "$work/ts.log" >&2; fail "openapi-ts failed"; }
if grep -Eiq "warn|error|skipp|unsupported" "$work/ts.log"; then
    cat "$work/ts.log" >&2
    fail "openapi-ts warned"
fi
missing=""
while read -r _ name; do
    grep -q "^export const $name = " "$work/ts/sdk.gen.ts" || missing="$missing $name"
done <"$work/operations"
[ -z "$missing" ] || fail "no TypeScript function for:$missing"
cat >"$work/ts/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "noUnusedLocals": false,
    "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler",
    "lib": ["ES2022", "DOM", "DOM.Iterable"]
  },
  "include": ["./**/*.ts"]
}
JSON
"$bin_dir/tsc" --version
"$bin_dir/tsc" -p "$work/ts/tsconfig.json" || fail "the generated TypeScript client does not compile with tsc --strict"
echo "openapi clients: TypeScript client complete, compiles with tsc --strict"
echo "openapi clients: 0 failures"
