"""Checks an import made by tests/import/run.sh.

    python check.py WORK URL                 every report clean; every user
                                             signs in over HTTP (after a
                                             wrong password is refused)
    python check.py WORK --export FILE       after those sign-ins, every
                                             hash is toktok's own
"""

import glob
import json
import sys
import urllib.error
import urllib.request

work = sys.argv[1]
passwords = json.load(open(f"{work}/passwords.json"))
# GoTrue's banned_until in the future comes over as disabled.
DISABLED = {"gt-banned@example.com"}
# Made cheaply on purpose: imported, and reported weak.
WEAK = {"cheap@example.com", "bcryptjs-cheap@example.com"}


def fail(message):
    print(f"check.py: {message}", file=sys.stderr)
    sys.exit(1)


def login(url, email, password):
    body = json.dumps({"email": email, "password": password}).encode()
    request = urllib.request.Request(f"{url}/v1/auth/login", body, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def check_reports():
    created, weak = 0, set()
    for path in sorted(glob.glob(f"{work}/*.report")):
        report = json.load(open(path))
        if report["failed"] or report["failed_total"]:
            fail(f"{path}: lines failed: {report['failed']}")
        created += report["created"]
        weak |= {w["email"] for w in report["warnings"]}
    if created != len(passwords):
        fail(f"{created} users created, {len(passwords)} expected")
    if weak != WEAK:
        fail(f"weak hashes reported: {sorted(weak)}, expected {sorted(WEAK)}")
    print(f"  {created} users imported from {len(glob.glob(f'{work}/*.report'))} files; weak: {sorted(weak)}")


def check_sign_ins(url):
    for email, password in passwords.items():
        wrong = login(url, email, password + "x")
        if wrong != 401:
            fail(f"{email}: a wrong password answered {wrong}")
        right = login(url, email, password)
        # A disabled account answers as a wrong password does (no enumeration).
        expected = 401 if email in DISABLED else 200
        if right != expected:
            fail(f"{email}: its password answered {right}, expected {expected}")
    print(f"  {len(passwords)} users: a wrong password refused, theirs accepted ({len(DISABLED)} disabled refused)")


def check_export(path):
    users = {u["email"]: u for u in map(json.loads, open(path))}
    for email in passwords:
        hashed = users[email]["password_hash"]
        own = hashed.startswith("$pbkdf2-sha256$i=100000,")
        if own == (email in DISABLED):
            fail(f"{email}: after its sign-in the stored hash is {hashed[:24]}…")
    realm = json.load(open(f"{work}/keycloak.json"))
    for kc in realm["users"]:
        got = users[kc["email"]]
        if got["id"] != kc["id"] or got.get("name") != "Key Cloak":
            fail(f"{kc['email']}: id or name not kept: {got}")
    if users["pb-one@example.com"]["app_metadata"] != {"pocketbase_id": "pbrecord0000000"}:
        fail("the PocketBase id is not kept")
    if users["firebase-published@example.com"]["app_metadata"] != {"firebase_uid": "Ptz6rr1S4cf7SNcuPalPrs5Wm3b2"}:
        fail("the Firebase uid is not kept")
    if users["gt-one@example.com"]["metadata"] != {"plan": "free"} or not users["gt-one@example.com"]["email_confirmed"]:
        fail(f"GoTrue's user came over wrong: {users['gt-one@example.com']}")
    print(f"  every signed-in user now has toktok's hash; ids, names and metadata kept")


if len(sys.argv) > 3 and sys.argv[2] == "--export":
    check_export(sys.argv[3])
else:
    check_reports()
    check_sign_ins(sys.argv[2])
