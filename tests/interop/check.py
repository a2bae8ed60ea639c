"""toktok's tokens through Python's PyJWT (tests/interop/run.sh).

    python check.py tokens TOKENS.json   the obvious recipe and the documented
                                         one accept the access token only
    python check.py rotate EMAIL PASSWORD READY_FILE
                                         verifies fresh tokens with one
                                         long-lived PyJWKClient across a rotation

TOKTOK_URL names the server whose JWKS is trusted.
"""
import json
import os
import pathlib
import sys
import time
import urllib.request

import jwt

sys.path.insert(0, str(pathlib.Path(__file__).parent / "build"))
from verify import verify_access_token  # noqa: E402  (the documented snippet)

URL = os.environ["TOKTOK_URL"]


def outcome(verify, token):
    try:
        verify(token)
        return "accepted", ""
    except jwt.PyJWTError as e:
        return "refused", type(e).__name__


def tokens(path):
    t = json.loads(pathlib.Path(path).read_text())
    client = jwt.PyJWKClient(f"{URL}/.well-known/jwks.json")

    def obvious(token):
        # The recipe most services start from: signature, iss, aud, exp.
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key, algorithms=["EdDSA"], issuer="toktok", audience="toktok")

    failures = 0
    for recipe, verify in (("obvious", obvious), ("documented", verify_access_token)):
        for name, token in t.items():
            expected = "accepted" if name == "access" else "refused"
            got, why = outcome(verify, token)
            ok = got == expected
            failures += not ok
            print(f"PyJWT {recipe:<10} {name:<15} {got} {why}{'' if ok else '  <-- WRONG'}")
    return 0 if failures == 0 else 1


def login(email, password):
    req = urllib.request.Request(
        f"{URL}/v1/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)["access_token"]


def rotate(email, password, ready_file):
    start = time.monotonic()
    first_kid = new_since = None
    verified = with_new = failures = 0
    while True:
        token = login(email, password)
        kid = jwt.get_unverified_header(token)["kid"]
        try:
            verify_access_token(token)
            verified += 1
        except jwt.PyJWTError as e:
            failures += 1
            print(f"PyJWT rotate: a fresh token with kid {kid} was refused at "
                  f"+{time.monotonic() - start:.1f} s: {type(e).__name__}: {e}", flush=True)
        if first_kid is None:
            first_kid = kid
            pathlib.Path(ready_file).write_text("ready\n")
        elif kid != first_kid:
            if new_since is None:
                new_since = time.monotonic()
            with_new += 1
            if time.monotonic() - new_since >= 5 and with_new >= 10:
                break
        if time.monotonic() - start > 150:
            print("PyJWT rotate: the new key did not sign within 150 s")
            return 1
        time.sleep(0.2)
    print(f"PyJWT rotate: {verified} fresh tokens verified with one PyJWKClient, {with_new} by the "
          f"new key (first at +{new_since - start:.1f} s), {failures} failures")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    sys.exit(tokens(*args) if mode == "tokens" else rotate(*args))
