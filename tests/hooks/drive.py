"""Webhooks end to end (issue 22): against a live toktok, registers one
endpoint for tests/hooks/receiver.py (Python `standardwebhooks`) and one
for receiver.mjs (Node `standardwebhooks`), both subscribed to every
event; drives each event type through the public API; then checks that
each receiver verified and got every event, with its payload, none
invented, and that a tampered or wrongly signed delivery is refused.

    python drive.py BASE_URL ADMIN_KEY OUTBOX_DIR WORK_DIR   (run by run.sh)
"""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE, KEY, OUTBOX, WORK = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4]
HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "hooks-e2e-password-1"
NEW_PASSWORD = "hooks-e2e-password-2"
EVENTS = [
    "user.created", "user.updated", "user.deleted", "user.email_changed",
    "user.disabled", "session.created", "session.revoked", "password.changed",
    "factors.changed",
]


def fail(what):
    sys.exit(f"hooks: FAILED: {what}")


def call(method, path, body=None, token=None, key=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    if key:
        req.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None)


def expect(got, status, what):
    if got[0] != status:
        fail(f"{what}: expected {status}, got {got[0]} {got[1]}")
    return got[1]


def claims(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def totp(secret, at=None):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 15
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def confirm_token(address):
    for _ in range(100):
        for name in sorted(n for n in os.listdir(OUTBOX) if n.endswith(".eml")):
            try:
                text = open(os.path.join(OUTBOX, name), encoding="utf8").read()
            except FileNotFoundError:
                continue
            head, _, body = text.partition("\r\n\r\n") if "\r\n\r\n" in text else text.partition("\n\n")
            if not re.search(rf"^To:.*{re.escape(address)}", head, re.M | re.I):
                continue
            body = re.sub(r"=\r?\n", "", body).replace("=3D", "=")
            m = re.search(r"/v1/auth/confirm-email\?token=([A-Za-z0-9_.~-]+)", body)
            if m:
                return m.group(1)
        time.sleep(0.1)
    fail(f"no confirmation mail to {address}")


# --- 1. two endpoints and their receivers ------------------------------------
receivers = {}
for name, cmd in [("python", [sys.executable, os.path.join(HERE, "receiver.py")]),
                  ("node", ["node", os.path.join(HERE, "receiver.mjs")])]:
    port = free_port()
    created = expect(call("POST", "/v1/admin/webhooks", {
        "url": f"http://127.0.0.1:{port}/toktok", "events": EVENTS,
        "description": f"the {name} receiver",
    }, key=KEY), 201, f"create the {name} endpoint")
    assert created["secret"].startswith("whsec_"), created
    log = os.path.join(WORK, f"{name}.jsonl")
    env = dict(os.environ, TOKTOK_WEBHOOK_SECRET=created["secret"], EVENTS_LOG=log)
    proc = subprocess.Popen(cmd + [str(port)], env=env)
    receivers[name] = {"id": created["id"], "port": port, "log": log, "proc": proc,
                       "secret": created["secret"]}
    listed = expect(call("GET", f"/v1/admin/webhooks/{created['id']}", key=KEY), 200, "read")
    assert "secret" not in listed, listed
for r in receivers.values():
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", r["port"]), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        fail(f"a receiver did not start on {r['port']}")

try:
    # --- 2. every event, through the public API --------------------------------
    email = f"hooks-{int(time.time())}@example.com"
    new_email = "new-" + email
    s1 = expect(call("POST", "/v1/auth/register", {"email": email, "password": PASSWORD}),
                201, "register")
    uid = s1["user"]["id"]
    sid1 = claims(s1["access_token"])["sid"]
    s2 = expect(call("POST", "/v1/auth/login", {"email": email, "password": PASSWORD}), 200, "login 2")
    s3 = expect(call("POST", "/v1/auth/login", {"email": email, "password": PASSWORD}), 200, "login 3")
    sid2, sid3 = claims(s2["access_token"])["sid"], claims(s3["access_token"])["sid"]
    token = s1["access_token"]
    expect(call("POST", "/v1/auth/logout", token=s3["access_token"]), 204, "logout")
    expect(call("PATCH", "/v1/users/me", {"name": "Ada"}, token=token), 200, "profile")
    expect(call("POST", "/v1/users/me/password",
                {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token=token),
           204, "password change")
    expect(call("POST", "/v1/users/me/email", {"new_email": new_email, "password": NEW_PASSWORD},
                token=token), 202, "email change")
    expect(call("POST", "/v1/auth/confirm-email", {"token": confirm_token(new_email)}),
           200, "confirm the new address")
    begun = expect(call("POST", "/v1/users/me/totp", token=token), 200, "TOTP enrolment")
    expect(call("POST", "/v1/users/me/totp/confirm", {"code": totp(begun["secret"])}, token=token),
           200, "TOTP confirm")
    expect(call("PATCH", f"/v1/admin/users/{uid}", {"disabled": True}, key=KEY), 200, "disable")
    expect(call("DELETE", f"/v1/admin/users/{uid}", key=KEY), 204, "delete")
    for r in receivers.values():
        expect(call("POST", f"/v1/admin/webhooks/{r['id']}/test", key=KEY), 202, "test event")

    # --- 3. what each receiver verified -----------------------------------------
    want = {"user.created": 1, "session.created": 3, "session.revoked": 3, "user.updated": 2,
            "password.changed": 1, "user.email_changed": 1, "user.disabled": 1,
            "user.deleted": 1, "webhook.test": 1}
    # TOTP on, and its recovery codes; user.updated: the user's and the
    # admin's (who disabled the account: user.disabled follows).
    at_least = {"factors.changed": 1}

    def arrived(r):
        if not os.path.exists(r["log"]):
            return []
        return [json.loads(line) for line in open(r["log"]) if line.strip()]

    for name, r in receivers.items():
        deadline = time.time() + 60
        while True:
            got = arrived(r)
            types = [g["event"]["type"] for g in got]
            complete = all(types.count(t) >= n for t, n in {**want, **at_least}.items())
            if complete or time.time() > deadline:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # anything invented would arrive now
        got = arrived(r)
        types = [g["event"]["type"] for g in got]
        for t, n in want.items():
            if types.count(t) != n:
                fail(f"{name}: {types.count(t)} {t} events, expected {n}: {types}")
        for t, n in at_least.items():
            if types.count(t) < n:
                fail(f"{name}: no {t} event: {types}")
        if set(types) - set(want) - set(at_least):
            fail(f"{name}: unexpected events: {types}")
        ids = [g["id"] for g in got]
        assert len(set(ids)) == len(ids) and all(i.startswith("msg_") for i in ids), ids
        by = {}
        for g in got:
            by.setdefault(g["event"]["type"], []).append(g["event"])
        for e in got:
            ev = e["event"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", ev["timestamp"]), ev
            if ev["type"] != "webhook.test":
                assert ev["data"]["user_id"] == uid, ev
            assert "password_hash" not in json.dumps(ev), ev
        created = by["user.created"][0]["data"]
        assert created["user"]["email"] == email and created["user"]["id"] == uid, created
        sessions = {d["data"]["sid"]: d["data"] for d in by["session.created"]}
        assert set(sessions) == {sid1, sid2, sid3}, sessions
        for d in sessions.values():
            assert d["sub"] == uid and d["aal"] == 1 and d["amr"] == ["pwd"], d
            assert d["client_id"] is None, d
        revoked = {d["data"]["sid"]: d["data"]["reason"] for d in by["session.revoked"]}
        assert revoked == {sid3: "logout", sid2: "password_changed", sid1: "disabled"}, revoked
        updated = sorted(by["user.updated"], key=lambda e: "actor" in e["data"])
        assert updated[0]["data"]["user"]["name"] == "Ada", updated
        assert updated[1]["data"]["user"]["disabled"] is True, updated
        assert updated[1]["data"]["actor"].startswith("api_key:"), updated
        assert by["user.email_changed"][0]["data"]["user"]["email"] == new_email
        assert by["password.changed"][0]["data"]["change"] == "password.changed"
        changes = {d["data"]["change"] for d in by["factors.changed"]}
        assert "totp.enabled" in changes, changes
        disabled = by["user.disabled"][0]["data"]
        assert disabled["user"]["disabled"] is True, disabled
        assert disabled["actor"].startswith("api_key:"), disabled
        assert by["webhook.test"][0]["data"]["webhook_id"] == r["id"]
        log = expect(call("GET", f"/v1/admin/webhooks/{r['id']}/deliveries?limit=200", key=KEY),
                     200, "delivery log")["deliveries"]
        assert len(log) == len(got) and all(d["status"] == "delivered" for d in log), log
        print(f"hooks: {name} receiver verified {len(got)} deliveries: {sorted(set(types))}")

        # --- 4. forged deliveries are refused -----------------------------------
        # An event naming the user (webhook.test, which may arrive first,
        # does not), so that the tampering below changes its bytes.
        body = next(e for e in (json.dumps(d["event"]).encode() for d in got) if uid.encode() in e)
        ts = str(int(time.time()))
        key = base64.b64decode(r["secret"][len("whsec_"):])

        def sign(msg_id, body):
            mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
            return "v1," + base64.b64encode(mac).decode()

        def post(body, signature, msg_id="msg_forged"):
            req = urllib.request.Request(f"http://127.0.0.1:{r['port']}/toktok", data=body,
                                         method="POST", headers={
                                             "content-type": "application/json",
                                             "webhook-id": msg_id, "webhook-timestamp": ts,
                                             "webhook-signature": signature})
            try:
                with urllib.request.urlopen(req, timeout=5) as res:
                    return res.status
            except urllib.error.HTTPError as e:
                return e.code

        tampered = body.replace(uid.encode(), b"00000000-0000-0000-0000-000000000000")
        assert tampered != body
        assert post(tampered, sign("msg_forged", body)) == 400, "a tampered body was accepted"
        assert post(body, "v1," + base64.b64encode(b"x" * 32).decode()) == 400, "a bad signature"
        assert post(body, sign("msg_good_sig", body), "msg_good_sig") == 204, "our own signature"
        assert len(arrived(r)) == len(got) + 1, "a forged delivery was acted on"
        print(f"hooks: {name} receiver refused a tampered body and a wrong signature")
finally:
    for r in receivers.values():
        r["proc"].terminate()
        r["proc"].wait()
print("hooks: OK")
