"""Extracts the code blocks of docs/verifying-tokens.md that are marked
```<lang> snippet=<name>, so the interoperability test runs exactly what
the documentation shows.

    python3 snippets.py DOC OUT_DIR REPO_ROOT

A snippet named after a file of the repository (examples/verify_token.rs)
must be identical to it (the test then runs that file); the others are
written to OUT_DIR/<name>. Exit 1 on a mismatch or a missing snippet.
"""
import pathlib
import re
import sys

EXPECTED = {"verify.mjs", "verify.py", "examples/verify_token.rs"}


def main() -> int:
    doc, out, root = (pathlib.Path(a) for a in sys.argv[1:4])
    text = doc.read_text(encoding="utf-8")
    found = {}
    for match in re.finditer(r"^```\w+ snippet=(\S+)\n(.*?)^```$", text, re.M | re.S):
        found[match.group(1)] = match.group(2)
    missing = EXPECTED - found.keys()
    if missing:
        print(f"snippets: {doc} lacks {sorted(missing)}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for name, code in sorted(found.items()):
        in_repo = root / name
        if "/" in name:
            if in_repo.read_text(encoding="utf-8") != code:
                print(f"snippets: the {name} block of {doc} differs from {in_repo}", file=sys.stderr)
                return 1
            print(f"snippets: {name} is identical to the documented block")
        else:
            (out / name).write_text(code, encoding="utf-8")
            print(f"snippets: {name} extracted ({len(code.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
