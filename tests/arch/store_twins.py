#!/usr/bin/env python3
"""How much of the PostgreSQL store repeats the SQLite store, line for line.

Usage: store_twins.py SQLITE_DIR POSTGRES_DIR [--exclude SUBDIR ...]

Counts the substantive lines of every .rs file under POSTGRES_DIR (not
blank, not a comment, not lone punctuation, not a `use` line, not inside a
`#[cfg(test)]` module; whitespace folded, `$N` placeholders written `?N`)
and says how many of them are repeated: a PostgreSQL line is repeated when
it lies in a run of at least 4 consecutive substantive lines that also
stand consecutively in some .rs file under SQLITE_DIR. Subdirectories of
SQLITE_DIR named by --exclude (e.g. `postgres` when it sits inside the
SQLite folder, as before issue 17) are skipped. Code shared by both
backends from a third place (e.g. store/flows.rs) is in neither directory
and so counts as not repeated.

A second line gives the looser count the architecture review's 42% matches
at 4c1080b: every substantive PostgreSQL line found anywhere on the SQLite
side, runs or not.

Before issue 17:  store_twins.py src/store src/store/postgres --exclude postgres
After:            store_twins.py src/store/sqlite src/store/postgres
"""

import os
import re
import sys

RUN = 4
PUNCT = re.compile(r"^[\s{}()\[\];,.?&*|]*$")
PLACEHOLDER = re.compile(r"\$(\d+)")


def substantive(path):
    lines = []
    depth_test = None  # brace depth at which a #[cfg(test)] module started
    depth = 0
    pending_test = False
    in_block_comment = False
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if in_block_comment:
                if "*/" in line:
                    in_block_comment = False
                continue
            if line.startswith("/*"):
                if "*/" not in line:
                    in_block_comment = True
                continue
            code = line if line.startswith("//") else re.sub(r'"(\\.|[^"\\])*"', '""', line)
            code = code.split("//")[0] if not line.startswith("//") else ""
            opens, closes = code.count("{"), code.count("}")
            if line.startswith("#[cfg(test)]"):
                pending_test = True
                continue
            if pending_test and depth_test is None and re.match(r"^(pub(\(\w+\))? )?mod \w+", line):
                depth_test = depth
            pending_test = pending_test and not line.startswith(("mod ", "pub mod", "pub(crate) mod", "fn ", "use "))
            depth += opens - closes
            if depth_test is not None:
                if depth <= depth_test:
                    depth_test = None
                continue
            if not line or line.startswith("//"):
                continue
            if PUNCT.match(line):
                continue
            if re.match(r"^(pub(\([\w:]+\))? )?use ", line):
                continue
            folded = " ".join(line.split())
            lines.append(PLACEHOLDER.sub(r"?\1", folded))
    return lines


def rust_files(root, exclude=()):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel != "." and rel.split(os.sep)[0] in exclude:
            dirnames[:] = []
            continue
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".rs"):
                out.append(os.path.join(dirpath, name))
    return out


def repeated(pg, others):
    """Indices of `pg` inside a run of >= RUN lines found in one of `others`."""
    hit = [False] * len(pg)
    for other in others:
        where = {}
        for j, line in enumerate(other):
            where.setdefault(line, []).append(j)
        for i, line in enumerate(pg):
            for j in where.get(line, ()):
                if i > 0 and j > 0 and pg[i - 1] == other[j - 1]:
                    continue  # not the start of a run
                n = 0
                while i + n < len(pg) and j + n < len(other) and pg[i + n] == other[j + n]:
                    n += 1
                if n >= RUN:
                    for k in range(i, i + n):
                        hit[k] = True
    return hit


def main(argv):
    args, exclude = [], []
    it = iter(argv[1:])
    for a in it:
        if a == "--exclude":
            exclude.append(next(it))
        elif a == "-v":
            exclude.append("\0verbose")
        else:
            args.append(a)
    if len(args) != 2:
        sys.exit(__doc__)
    sqlite_dir, pg_dir = args
    verbose = "\0verbose" in exclude
    others = [substantive(p) for p in rust_files(sqlite_dir, exclude)]
    anywhere = {line for other in others for line in other}
    total = rep = loose = 0
    for path in rust_files(pg_dir):
        lines = substantive(path)
        hit = repeated(lines, others)
        total += len(lines)
        rep += sum(hit)
        loose += sum(line in anywhere for line in lines)
        if verbose:
            print(f"{path}: {sum(hit)} of {len(lines)}", file=sys.stderr)
    pct = 100 * rep / total if total else 0
    print(f"repeated {rep} of {total} substantive PostgreSQL lines ({pct:.1f}%)")
    pct = 100 * loose / total if total else 0
    print(f"(any single line found on the SQLite side: {loose} of {total}, {pct:.1f}%)")


if __name__ == "__main__":
    main(sys.argv)
