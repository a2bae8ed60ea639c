#!/usr/bin/env python3
"""Crash-consistency harness for toktok (docs/SECURITY.md D1, D2; issue 9).

Runs a mixed write workload against the real binary, SIGKILLs it at a random
moment, restarts it on the same database, and checks, every round:

- `PRAGMA integrity_check` is `ok` (before the restart, on the killed file);
- every write that got a 2xx is there: registered users log in with their
  latest acknowledged password (a password change or reset that was
  acknowledged is in force; one cut off by the kill may have gone either
  way, but exactly one of old/new must work); acknowledged sessions still
  refresh; acknowledged challenges still verify;
- nothing is accepted twice across the crash: a refresh token rotated before
  the kill is refused afterwards (and its family dies, R2), a challenge
  verified before the kill is gone, a reset link used before the kill is
  refused.

At the end, mail: every acknowledged password-forgot request (not followed
by a password change, which ends the link and drops its queued mail) has its
reset mail either written (dev mode: `<time>-reset_password-<row id>.eml`)
or still queued in the outbox table. Delivery is AT LEAST ONCE (see
src/mail/outbox.rs): the row is deleted after the message is handed over, so
a kill between the two sends it again after restart (once the 5-minute lease
runs out). Duplicates are counted and reported, never failed.

And webhooks (issue 22): a receiver on loopback, in this process, verifies
each delivery's Standard Webhooks signature and records it (it answers 500
to the first try of one in twenty, so retries happen across kills too). After the last
round the server runs until its webhook queue is empty (leases of
deliveries cut off by a kill run out after 2 x timeout + 60 s), then:
every acknowledged change's event arrived at least once (`user.created`
for each acknowledged sign-up, `session.created` for each acknowledged
sign-in, `password.changed` for each acknowledged change or reset,
`session.revoked` for each session one of them ended), and none is
invented (no event for a sign-up that did not commit, for a user or a
session the harness never made, or more `password.changed` than were
attempted). Duplicates (same `webhook-id` twice) are counted, never
failed.

Imports (issue 26): one to three users at a time through `POST
/v1/admin/users/import` with Django PBKDF2 hashes; an acknowledged import's
users sign in with their passwords after every kill (their first sign-in
re-hashes the password, a write the kills land on too), an unanswered one's
exist or not, each on its own. Imports send no `user.created`.

Factors, OIDC and consent (issue 26; the client side is crashflows.py):
users enrol TOTP and add passkeys, and from then on sign in with the
second-factor step (a passkey, or a TOTP code when a step is free); they
sign in with a passkey alone; they go through the hosted pages of
`/oauth/authorize` (sign-in, consent) to a code, exchanged at once or
left for later, and rotate the grant's refresh token. After every kill:
- an acknowledged enrolment is in force (the password answers
  `mfa_required`), an unanswered one resolves either way;
- no factor verifies twice: each TOTP code accepted before the kill is
  refused, and an assertion with a counter already accepted (a clone's) is
  refused while the device's next counter signs in;
- an acknowledged but unexchanged code exchanges once; a code exchanged
  before the kill is refused (and revokes its grant); a rotated OIDC
  refresh token is refused and its successor dies; an acknowledged one
  rotates;
- an acknowledged consent is stored, and the consent page never comes back
  for it.

Usage: tests/reliability/crash.py [--kills N] [--bin PATH] [--seed S] [--keep]
Prints one summary line; exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import base64
import email
import hashlib
import hmac
import json
import email.policy
import random
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crashflows import STEP, Browser, Passkey, free_step, local, pkce, query, totp_at  # noqa: E402
from relcommon import Client, Server, find_binary  # noqa: E402

GRACE = 1.0  # jwt.reuse_grace below
CODE_TTL = 300.0  # oidc.code_ttl below
EXTRA = (
    '[jwt]\nreuse_grace = "1s"\n[hooks]\nallow_private_targets = true\ntimeout = "2s"\n'
    '[oidc]\nenabled = true\ncode_ttl = "300s"\n'
)
REDIRECT = "http://127.0.0.1:9/crash/callback"
SCOPE = "openid email offline_access"
HOOK_EVENTS = ["user.created", "session.created", "session.revoked", "password.changed"]
WORKERS = 4


def new_password() -> str:
    return "pw-" + secrets.token_hex(10)


def django_pbkdf2(password: str) -> str:
    """A Django `pbkdf2_sha256` hash, one of the foreign formats an import
    takes (docs/import.md); few iterations, so the run stays fast: toktok
    re-hashes it at the first sign-in, a write the kills also land on."""
    salt = secrets.token_hex(6)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 2000)
    return f"pbkdf2_sha256$2000${salt}${base64.b64encode(dk).decode()}"


@dataclass
class Session:
    refresh: str
    access: str

    @property
    def sid(self) -> str:
        return jwt_claims(self.access)["sid"]


def session_of(body) -> Session | None:
    """The session a token response gives; None for `mfa_required`."""
    if isinstance(body, dict) and "refresh_token" in body:
        return Session(body["refresh_token"], body["access_token"])
    return None


@dataclass
class Grant:
    """An OIDC grant the harness holds: its current refresh token."""
    refresh: str


def jwt_claims(token: str) -> dict:
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@dataclass
class User:
    email: str
    password: str
    # Passwords that may be in force after an unanswered change/reset.
    maybe: list[str] = field(default_factory=list)
    exists: bool = True  # False while an unanswered register is unresolved
    sessions: list[Session] = field(default_factory=list)
    forgot: str = "no"  # no | acked | unknown
    # A forgot claims the address's reset-mail slot for a minute, even if a
    # password change then drops its mail: no forgot before this (monotonic).
    forgot_after: float = 0.0
    reset_token_used: str | None = None
    touched: bool = True
    uid: str = ""
    # Password changes and resets acknowledged, and attempted.
    pw_acked: int = 0
    pw_tried: int = 0
    # Made by an import (issue 26): no user.created event; its id is
    # learnt at its first sign-in.
    imported: bool = False
    # Factors (issue 26): none | maybe (unanswered) | on.
    totp_state: str = "none"
    totp: str = ""
    last_step: int = 0  # the last TOTP step sent: never sent again
    replay: list[tuple[str, int]] = field(default_factory=list)  # (code, step) accepted since the last check
    totp_sent: tuple[str, int] | None = None  # the enrolment's code, while its answer is unknown
    pk_state: str = "none"
    passkey: Passkey | None = None
    pk_acked: int = 0  # the last counter an assertion was accepted with
    pk_touched: bool = False
    # OIDC (issue 26): the hosted pages' cookies, the consent to the
    # harness's client, acknowledged unexchanged codes, live grants.
    browser: Browser = field(default_factory=Browser)
    consent: str = "no"  # no | maybe | yes
    codes: list[tuple[str, str, float]] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)

    def settled(self) -> bool:
        return self.exists and not self.maybe and "maybe" not in (self.totp_state, self.pk_state, self.consent)

    def forget_oidc(self) -> None:
        """A password change or reset ends every session, the hosted pages'
        and the grants' too: what the harness held of them is unknown."""
        self.browser.forget()
        self.codes, self.grants = [], []


@dataclass
class Challenge:
    action: str
    id: str
    token: str


class Violation(Exception):
    pass


class Model:
    """What the harness knows was acknowledged. Each worker owns disjoint
    users, so no locking is needed for them; shared lists take `lock`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users: list[list[User]] = [[] for _ in range(WORKERS)]
        self.used_refresh: list[tuple[float, str, Session, User]] = []
        self.open_challenges: list[list[Challenge]] = [[] for _ in range(WORKERS)]
        self.verified: list[Challenge] = []
        self.used_reset: list[tuple[str, User]] = []
        self.violations: list[str] = []
        self.checks = 0
        self.acked = 0
        self.unanswered = 0
        self.api_key = ""
        self.admin_key = ""
        self.imported = 0
        self.seq = 0
        self.client_id = ""
        self.client_secret = ""
        # (code, verifier, grant it gave) exchanged; (time, old, grant, user) rotated.
        self.used_codes: list[tuple[str, str, Grant, User]] = []
        self.used_oidc: list[tuple[float, str, Grant, User]] = []
        self.factors = {"totp": 0, "passkey": 0, "mfa": 0, "passkey_signin": 0, "codes": 0, "consents": 0, "totp_replays": 0}
        # Webhooks: sids of acknowledged sign-ins, sids an acknowledged
        # change ended, e-mails of sign-ups that did not commit.
        self.signed_in: set[str] = set()
        self.ended: set[str] = set()
        self.never_made: set[str] = set()

    def fail(self, what: str) -> None:
        with self.lock:
            self.violations.append(what)
        print("VIOLATION:", what, file=sys.stderr, flush=True)

    def next_id(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq


def latest_reset_token(outbox: Path, addr: str) -> str | None:
    files = sorted(outbox.glob("*-reset_password-*.eml")) if outbox.exists() else []
    for f in reversed(files):
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        if msg["To"] is None or msg["To"].addresses[0].addr_spec.lower() != addr.lower():
            continue
        body = msg.get_body(("plain",))
        text = body.get_content() if body else ""
        m = re.search(r"token=([A-Za-z0-9_\-]+)", text)
        if m:
            return m.group(1)
    return None


def origin(c: Client) -> str:
    return f"http://127.0.0.1:{c.port}"


def sign_in(c: Client, m: Model, u: User, password: str | None = None) -> tuple[int, object, Session | None]:
    """A password sign-in, with the second-factor step when one is asked
    for and the harness can take it (a passkey always; TOTP when a step is
    free). (status, body of the login, the session or None)."""
    status, body = c.call("POST", "/v1/auth/login", {"email": u.email, "password": password or u.password})
    if status != 200 or not body.get("mfa_required"):
        return status, body, session_of(body) if status == 200 else None
    return status, body, second_factor(c, m, u, body["mfa_token"])


def second_factor(c: Client, m: Model, u: User, mfa_token: str) -> Session | None:
    if u.pk_state == "on" and u.passkey:
        status, body = c.call("POST", "/v1/auth/mfa/passkey-options", {"mfa_token": mfa_token})
        if status != 200:
            m.fail(f"passkey options of the MFA step of {u.email}: {status} {body}")
            return None
        counter = u.passkey.counter
        u.passkey.counter += 1
        credential = u.passkey.get(body["options"], origin(c), counter)
        status, answer = c.call(
            "POST", "/v1/auth/mfa", {"mfa_token": mfa_token, "flow_id": body["flow_id"], "credential": credential}
        )
        if status != 200:
            m.fail(f"the MFA step with an acknowledged passkey of {u.email}: {status} {answer}")
            return None
        u.pk_acked, u.pk_touched = counter, True
    elif u.totp_state == "on":
        step = free_step(u.last_step)
        if step is None:
            return None
        u.last_step = step
        code = totp_at(u.totp, step)
        status, answer = c.call("POST", "/v1/auth/mfa", {"mfa_token": mfa_token, "totp": code})
        if status != 200:
            m.fail(f"the MFA step with a fresh TOTP code of {u.email}: {status} {answer}")
            return None
        u.replay.append((code, step))
    else:
        m.fail(f"{u.email} has no factor the harness knows of, and was asked for one")
        return None
    with m.lock:
        m.factors["mfa"] += 1
    return session_of(answer)


def token_request(c: Client, m: Model, form: dict) -> tuple[int, object]:
    """`POST /oauth/token` as the harness's confidential client."""
    basic = base64.b64encode(f"{m.client_id}:{m.client_secret}".encode()).decode()
    return c.call("POST", "/oauth/token", raw=urlencode(form).encode(), headers={
        "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})


def exchange(c: Client, m: Model, code: str, verifier: str) -> tuple[int, object]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    return token_request(c, m, form)


def rotate(c: Client, m: Model, refresh: str) -> tuple[int, object]:
    return token_request(c, m, {"grant_type": "refresh_token", "refresh_token": refresh})


def authorize(c: Client, m: Model, u: User) -> tuple[str, str] | None:
    """`/oauth/authorize` through the hosted pages, as a browser without
    JavaScript: sign-in when the browser has no session (users without a
    factor only), consent when asked. (code, verifier), or None when this
    user cannot go on now. The consent page for a consent acknowledged
    before is a violation."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    params = {"response_type": "code", "client_id": m.client_id, "redirect_uri": REDIRECT, "scope": SCOPE,
              "state": state, "nonce": secrets.token_urlsafe(12), "code_challenge": challenge,
              "code_challenge_method": "S256"}
    page = u.browser.request(c.port, "GET", "/oauth/authorize?" + urlencode(params))
    for _ in range(8):
        if page.status in (302, 303) and page.location and page.location.startswith(REDIRECT):
            got = query(page.location)
            if got.get("state") != state or "code" not in got:
                m.fail(f"authorize for {u.email}: redirected with {got}")
                return None
            if u.consent == "maybe":
                u.consent = "yes"
                with m.lock:
                    m.factors["consents"] += 1
            return got["code"], verifier
        if page.status in (302, 303) and page.location:
            page = u.browser.request(c.port, "GET", local(page.location))
        elif page.status == 200 and (form := page.form("/consent")) is not None:
            if u.consent == "yes":
                m.fail(f"the consent page again for the acknowledged consent of {u.email}")
                return None
            u.consent = "maybe"
            page = u.browser.request(c.port, "POST", "/consent", {**form, "decision": "allow"})
        elif page.status == 200 and (form := page.form("/login")) is not None:
            if u.totp_state != "none" or u.pk_state != "none":
                return None  # the hosted second-factor step is the browser tests'
            page = u.browser.request(c.port, "POST", "/login", {**form, "email": u.email, "password": u.password})
        else:
            m.fail(f"authorize for {u.email}: {page.status} {page.location} {page.text[:200]}")
            return None
    m.fail(f"authorize for {u.email}: more than 8 hops")
    return None


class Worker(threading.Thread):
    def __init__(self, idx: int, model: Model, server: Server, rng: random.Random, stop: threading.Event):
        super().__init__(daemon=True)
        self.idx, self.model, self.server, self.rng, self.stop = idx, model, server, rng, stop
        self.client = Client(server.port, timeout=10)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.step()
            except OSError:  # the server is gone: the request in hand is unanswered
                with self.model.lock:
                    self.model.unanswered += 1
                return
            except Exception as e:  # noqa: BLE001
                if type(e).__module__ == "http.client":  # cut off mid-response
                    with self.model.lock:
                        self.model.unanswered += 1
                    return
                self.model.fail(f"worker {self.idx}: unexpected {e!r}")
                return

    def users(self) -> list[User]:
        return [u for u in self.model.users[self.idx] if u.settled()]

    def step(self) -> None:
        m, c, rng = self.model, self.client, self.rng
        users = self.users()
        op = rng.choices(
            ["register", "login", "refresh", "password", "forgot", "reset", "ch_create", "ch_verify", "import",
             "totp", "passkey", "pk_signin", "oidc", "oidc_refresh"],
            [3, 2, 5, 2, 1, 1, 3, 3, 1, 1, 1, 3, 2, 3],
        )[0]
        if op == "import":
            # One to three users in one NDJSON body: each exists after the
            # restart if the import was acknowledged, and signs in with its
            # password; an unanswered import resolves each either way.
            made = [
                User(f"i{m.next_id()}-{secrets.token_hex(3)}@crash.test", new_password(), exists=False, imported=True)
                for _ in range(rng.randint(1, 3))
            ]
            m.users[self.idx].extend(made)
            lines = "\n".join(
                json.dumps({"email": u.email, "password_hash": django_pbkdf2(u.password), "email_confirmed": True})
                for u in made
            )
            status, body = c.call(
                "POST", "/v1/admin/users/import", raw=lines.encode(), token=m.admin_key,
                headers={"Content-Type": "application/x-ndjson"},
            )
            if status != 200 or body.get("created") != len(made):
                m.fail(f"import of {len(made)}: {status} {body}")
                for u in made:
                    m.users[self.idx].remove(u)
                return
            for u in made:
                u.exists = True
            with m.lock:
                m.imported += len(made)
            m.acked += 1
            return
        if op == "register" or not users:
            u = User(f"u{m.next_id()}-{secrets.token_hex(3)}@crash.test", new_password(), exists=False)
            m.users[self.idx].append(u)
            status, body = c.call("POST", "/v1/auth/register", {"email": u.email, "password": u.password})
            if status != 201:
                m.fail(f"register {u.email}: {status} {body}")
                m.users[self.idx].remove(u)
                return
            u.exists = True
            u.uid = body["user"]["id"]
            session = Session(body["refresh_token"], body["access_token"])
            u.sessions.append(session)
            with m.lock:
                m.signed_in.add(session.sid)
            m.acked += 1
            return
        u = rng.choice(users)
        if op == "login":
            status, body, session = sign_in(c, m, u)
            if status != 200:
                m.fail(f"login {u.email} with its acknowledged password: {status} {body}")
                return
            u.touched = True
            if session is None:  # no TOTP step free yet
                return
            u.uid = u.uid or jwt_claims(session.access)["sub"]
            u.sessions.append(session)
            with m.lock:
                m.signed_in.add(session.sid)
        elif op in ("totp", "passkey", "pk_signin", "oidc", "oidc_refresh"):
            self.issue26(op, u)
        elif op == "refresh" and u.sessions:
            s = rng.choice(u.sessions)
            old = s.refresh
            u.sessions.remove(s)  # unknown until answered
            status, body = c.call("POST", "/v1/auth/refresh", {"refresh_token": old})
            if status != 200:
                m.fail(f"refresh of an acknowledged session of {u.email}: {status} {body}")
                return
            s.refresh, s.access = body["refresh_token"], body["access_token"]
            u.sessions.append(s)
            with m.lock:
                m.used_refresh.append((time.monotonic(), old, s, u))
            m.acked += 1
            u.touched = True
        elif op == "password" and u.sessions:
            s = u.sessions[-1]
            new = new_password()
            others = [x for x in u.sessions if x is not s]
            u.sessions = [s]
            u.maybe = [new]
            u.touched = True
            codes, grants = u.codes, u.grants
            u.forget_oidc()  # it ends them (if it goes through)
            # A password change ends the user's reset link and drops its
            # mail if still queued (TT-02): from the moment it is sent (its
            # answer may be lost to a kill), an acknowledged forgot no longer
            # promises a mail. Another forgot may follow.
            forgot = u.forgot
            if forgot != "no":
                u.forgot_after = time.monotonic() + 61
            if forgot == "acked":
                u.forgot = "no"
            u.pw_tried += 1
            status, body = c.call(
                "POST", "/v1/users/me/password", {"current_password": u.password, "new_password": new}, token=s.access
            )
            refused = status == 401 or (status == 403 and isinstance(body, dict) and body.get("code") == "reauthentication_required")
            if refused:  # expired (15 min), or aal 1 beside a factor: later; nothing changed
                u.codes, u.grants = codes, grants
                u.pw_tried -= 1
                u.maybe = []
                u.sessions = others + [s]
                u.forgot = forgot
                return
            if status != 204:
                m.fail(f"password change {u.email}: {status} {body}")
                u.maybe = []
                return
            u.password, u.maybe = new, []
            u.pw_acked += 1
            m.acked += 1
            # The other sessions ended (R5): their refresh tokens must die.
            with m.lock:
                m.ended.update(o.sid for o in others)
                for o in others:
                    m.used_refresh.append((0.0, o.refresh, Session(o.refresh, o.access), u))
        elif op == "forgot" and u.forgot == "no" and time.monotonic() >= u.forgot_after:
            u.forgot = "unknown"
            status, body = c.call("POST", "/v1/auth/password/forgot", {"email": u.email})
            if status != 202:
                m.fail(f"forgot {u.email}: {status} {body}")
                return
            u.forgot = "acked"
            m.acked += 1
        elif op == "reset" and u.forgot == "acked" and u.reset_token_used is None:
            token = latest_reset_token(self.server.outbox, u.email)
            if token is None:
                return
            new = new_password()
            dead = u.sessions
            u.sessions = []
            u.maybe = [new]
            u.touched = True
            u.forget_oidc()
            u.pw_tried += 1
            status, body = c.call("POST", "/v1/auth/password/reset", {"token": token, "password": new})
            if status == 400:  # a newer mail replaced this link; fine
                u.pw_tried -= 1
                u.maybe = []
                u.sessions = dead
                return
            if status != 204:
                m.fail(f"reset {u.email}: {status} {body}")
                return
            u.password, u.maybe = new, []
            u.reset_token_used = token
            u.pw_acked += 1
            m.acked += 1
            with m.lock:
                m.ended.update(o.sid for o in dead)
                m.used_reset.append((token, u))
                for o in dead:  # E6: every session ends
                    m.used_refresh.append((0.0, o.refresh, Session(o.refresh, o.access), u))
        elif op == "ch_create":
            ch = Challenge("crash", f"c{m.next_id()}", "")
            status, body = c.call("POST", "/v1/challenges", {"action": ch.action, "id": ch.id}, token=m.api_key)
            if status != 201:
                m.fail(f"challenge create: {status} {body}")
                return
            ch.token = body["secret"]
            m.open_challenges[self.idx].append(ch)
            m.acked += 1
        elif op == "ch_verify" and m.open_challenges[self.idx]:
            ch = m.open_challenges[self.idx].pop(rng.randrange(len(m.open_challenges[self.idx])))
            status, body = c.call("POST", "/v1/challenges/verify", {"token": ch.token}, token=m.api_key)
            if status != 200:
                m.fail(f"verify of an acknowledged challenge {ch.id}: {status} {body}")
                return
            with m.lock:
                m.verified.append(ch)
            m.acked += 1

    def issue26(self, op: str, u: User) -> None:
        """Factors, passkey sign-in, the OIDC code and refresh grants."""
        m, c, rng = self.model, self.client, self.rng
        s = u.sessions[-1] if u.sessions else None
        if op == "totp" and u.totp_state == "none" and s:
            status, body = c.call("POST", "/v1/users/me/totp", token=s.access)
            if status in (401, 403):  # expired, or not recent enough (R): later
                return
            if status != 200:
                m.fail(f"TOTP enrolment of {u.email}: {status} {body}")
                return
            step = free_step(0)
            u.totp, u.totp_state, u.last_step = body["secret"], "maybe", step
            code = totp_at(u.totp, step)
            u.totp_sent = (code, step)
            status, body = c.call("POST", "/v1/users/me/totp/confirm", {"code": code}, token=s.access)
            if status != 200 or len(body.get("recovery_codes", [])) != 10:
                m.fail(f"TOTP confirmation of {u.email}: {status} {body}")
                u.totp_state = "none"
                return
            u.totp_state = "on"
            u.replay.append((code, step))
            u.totp_sent = None
            with m.lock:
                m.factors["totp"] += 1
            m.acked += 1
        elif op == "passkey" and u.pk_state == "none" and s:
            status, body = c.call("POST", "/v1/users/me/passkeys/options", {}, token=s.access)
            if status in (401, 403):  # expired, not recent, or aal 1 beside TOTP: later
                return
            if status != 200:
                m.fail(f"passkey options of {u.email}: {status} {body}")
                return
            u.passkey, u.pk_state = Passkey("127.0.0.1"), "maybe"
            credential = u.passkey.create(body["options"], origin(c))
            status, body = c.call(
                "POST", "/v1/users/me/passkeys",
                {"flow_id": body["flow_id"], "credential": credential, "name": "crash"}, token=s.access,
            )
            if status != 201:
                m.fail(f"passkey registration of {u.email}: {status} {body}")
                u.passkey, u.pk_state = None, "none"
                return
            u.pk_state, u.pk_touched = "on", True
            with m.lock:
                m.factors["passkey"] += 1
            m.acked += 1
        elif op == "pk_signin" and u.pk_state == "on" and u.passkey:
            session = passkey_sign_in(c, m, u, u.passkey.counter)
            if session is None:
                m.fail(f"passkey sign-in of {u.email} with its next counter refused")
                return
            u.sessions.append(session)
            with m.lock:
                m.signed_in.add(session.sid)
                m.factors["passkey_signin"] += 1
            m.acked += 1
        elif op == "oidc":
            got = authorize(c, m, u)
            if got is None:
                return
            code, verifier = got
            with m.lock:
                m.factors["codes"] += 1
            m.acked += 1
            if rng.random() < 0.5:  # left for after the kill
                u.codes.append((code, verifier, time.monotonic()))
                return
            status, body = exchange(c, m, code, verifier)
            if status != 200 or "refresh_token" not in body:
                m.fail(f"exchange of a fresh code of {u.email}: {status} {body}")
                return
            grant = Grant(body["refresh_token"])
            u.grants.append(grant)
            with m.lock:
                m.used_codes.append((code, verifier, grant, u))
        elif op == "oidc_refresh" and u.grants:
            grant = rng.choice(u.grants)
            u.grants.remove(grant)  # unknown until answered
            old = grant.refresh
            status, body = rotate(c, m, old)
            if status != 200:
                m.fail(f"rotation of an acknowledged OIDC refresh token of {u.email}: {status} {body}")
                return
            grant.refresh = body["refresh_token"]
            u.grants.append(grant)
            with m.lock:
                m.used_oidc.append((time.monotonic(), old, grant, u))
            m.acked += 1


def passkey_sign_in(c: Client, m: Model, u: User, counter: int) -> Session | None:
    """A usernameless passkey sign-in signing `counter`; None when refused."""
    status, body = c.call("POST", "/v1/auth/passkey/options", {})
    if status != 200:
        m.fail(f"passkey sign-in options: {status} {body}")
        return None
    assert u.passkey
    u.passkey.counter = max(u.passkey.counter, counter + 1)
    credential = u.passkey.get(body["options"], origin(c), counter)
    status, answer = c.call("POST", "/v1/auth/passkey", {"flow_id": body["flow_id"], "credential": credential})
    if status != 200:
        return None
    u.pk_acked, u.pk_touched = counter, True
    return session_of(answer)


class HookReceiver:
    """A webhook receiver on loopback: verifies each delivery's Standard
    Webhooks signature, records (webhook-id, type, data), answers 500 to
    the first try of one delivery in twenty."""

    def __init__(self, rng: random.Random):
        self.lock = threading.Lock()
        self.got: list[tuple[str, str, dict]] = []
        self.bad = 0
        self.refused = 0
        self.tried: set[str] = set()  # ids seen once: never refused twice
        self.key = b""
        self.rng = rng
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                msg_id = self.headers.get("webhook-id", "")
                signed = f"{msg_id}.{self.headers.get('webhook-timestamp', '')}.".encode() + body
                mac = base64.b64encode(hmac.new(receiver.key, signed, hashlib.sha256).digest()).decode()
                sigs = self.headers.get("webhook-signature", "").split()
                with receiver.lock:
                    if not any(hmac.compare_digest(s, "v1," + mac) for s in sigs):
                        receiver.bad += 1
                        status = 400
                    elif msg_id not in receiver.tried and receiver.rng.random() < 0.05:
                        receiver.tried.add(msg_id)
                        receiver.refused += 1
                        status = 500
                    else:
                        receiver.tried.add(msg_id)
                        event = json.loads(body)
                        receiver.got.append((msg_id, event["type"], event["data"]))
                        status = 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # toktok sends up to 128 at once
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/crash"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def pending_deliveries(db: Path) -> list[tuple[str, str, dict]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT id, type, data FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL"
        ).fetchall()
    finally:
        conn.close()
    return [(i, t, json.loads(d)) for i, t, d in rows]


def check_hooks(model: Model, receiver: HookReceiver, server: Server) -> dict:
    """At least once and none invented; returns the figures."""
    m = model
    with receiver.lock:
        got = list(receiver.got)
    pending = pending_deliveries(server.db)
    stored = {i: (t, d) for i, t, d in got + pending}
    # An imported user's id is not in the import's answer: read it.
    conn = sqlite3.connect(server.db)
    try:
        for u in (u for g in m.users for u in g if u.exists and u.imported and not u.uid):
            row = conn.execute("SELECT id FROM users WHERE lower(email) = ?", (u.email.lower(),)).fetchone()
            u.uid = row[0] if row else ""
    finally:
        conn.close()
    users = [u for g in m.users for u in g if u.exists and u.uid]
    emails = {u.email.lower() for u in users}
    uids = {u.uid for u in users}
    created, sessions, revoked = set(), set(), set()
    changed: dict[str, int] = {}
    for t, d in stored.values():
        m.checks += 1
        if t == "user.created":
            addr = d["user"]["email"].lower()
            if addr in m.never_made:
                m.fail(f"user.created for a sign-up that did not commit ({addr})")
            elif addr not in emails:
                m.fail(f"user.created for an address never registered ({addr})")
            created.add(d["user_id"])
        elif d.get("user_id") not in uids:
            m.fail(f"{t} for a user the harness never made: {d}")
        elif t == "session.created":
            sessions.add(d["sid"])
        elif t == "session.revoked":
            revoked.add(d["sid"])
        elif t == "password.changed":
            changed[d["user_id"]] = changed.get(d["user_id"], 0) + 1
    expected = 0
    for u in users:
        expected += (0 if u.imported else 1) + u.pw_acked
        m.checks += 2
        if u.uid not in created and not u.imported:
            m.fail(f"no user.created for {u.email}")
        if u.uid in created and u.imported:
            m.fail(f"user.created for the imported {u.email}")
        n = changed.get(u.uid, 0)
        if not u.pw_acked <= n <= u.pw_tried:
            m.fail(f"{u.email}: {n} password.changed events for {u.pw_acked} acknowledged, "
                   f"{u.pw_tried} attempted changes")
    for sid in m.signed_in:
        expected += 1
        m.checks += 1
        if sid not in sessions:
            m.fail(f"no session.created for the acknowledged session {sid}")
    for sid in m.ended:
        expected += 1
        m.checks += 1
        if sid not in revoked:
            m.fail(f"no session.revoked for the session {sid} an acknowledged change ended")
    if receiver.bad:
        m.fail(f"{receiver.bad} deliveries with a wrong signature")
    ids = [i for i, _, _ in got]
    return {
        "expected": expected,
        "delivered": len(set(ids)),
        "duplicates": len(ids) - len(set(ids)),
        "pending": len(pending),
        "refused": receiver.refused,
    }


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def check_after_restart(model: Model, server: Server, rng: random.Random) -> None:
    """Everything acknowledged before the kill is there; nothing is accepted twice."""
    c = Client(server.port)
    m = model
    resolve_issue26(m, server)
    # Users: unanswered register resolves either way; acknowledged ones must log in.
    for group in m.users:
        for u in list(group):
            if not u.exists:
                status, body = c.call("POST", "/v1/auth/login", {"email": u.email, "password": u.password})
                if status == 200:
                    u.exists = True
                    u.uid = body["user"]["id"]
                    session = Session(body["refresh_token"], body["access_token"])
                    u.sessions.append(session)
                    m.signed_in.add(session.sid)
                else:
                    group.remove(u)
                    m.never_made.add(u.email.lower())
                continue
            if u.maybe:
                # Exactly one of old/new works (and the unanswered request's
                # effect on sessions is unknown: forget them).
                results = []
                for pw in [u.password, *u.maybe]:
                    status, body = c.call("POST", "/v1/auth/login", {"email": u.email, "password": pw})
                    results.append((status, pw, body))
                ok = [(pw, body) for status, pw, body in results if status == 200]
                m.checks += 1
                if len(ok) != 1:
                    m.fail(f"{u.email}: {len(ok)} of old/new passwords work after an unanswered change")
                    group.remove(u)
                    continue
                if ok[0][0] != u.password:
                    u.pw_acked += 1  # the unanswered change took effect
                u.password, u.maybe = ok[0][0], []
                u.sessions = [x for x in [session_of(ok[0][1])] if x]
                for _, _, b in results:
                    if b and "access_token" in b:
                        m.signed_in.add(jwt_claims(b["access_token"])["sid"])
                u.touched = False
                continue
            if u.touched or rng.random() < 0.05:
                status, body = c.call("POST", "/v1/auth/login", {"email": u.email, "password": u.password})
                m.checks += 1
                if status != 200:
                    m.fail(f"{u.email}: acknowledged password lost ({status} {body})")
                    group.remove(u)
                    continue
                u.touched = False
                session = session_of(body)
                if session is None:  # a second factor: check_issue26's
                    continue
                u.sessions.append(session)
                m.signed_in.add(session.sid)
    # Rotated refresh tokens: refused once the grace window has passed.
    with m.lock:
        used, m.used_refresh = m.used_refresh, []
    if used or m.used_oidc:
        # The server counts the grace exactly (ms); the extra 1.2 s covers
        # request latency and this script's clock.
        wait = max(t for t, *_ in used + m.used_oidc) + GRACE + 1.2 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    for _, old, s, u in used:
        status, body = c.call("POST", "/v1/auth/refresh", {"refresh_token": old})
        m.checks += 1
        if status == 200:
            m.fail(f"a refresh token used before the crash was accepted again ({u.email})")
        # Reuse ends the family (R2): the successor dies too.
        status, body = c.call("POST", "/v1/auth/refresh", {"refresh_token": s.refresh})
        m.checks += 1
        if status == 200 and s.refresh != old:
            m.fail(f"the successor of a reused refresh token still works ({u.email})")
        if s in u.sessions:
            u.sessions.remove(s)
    # Verified challenges: gone.
    with m.lock:
        verified, m.verified = m.verified, []
    for ch in verified:
        status, body = c.call("POST", "/v1/challenges/verify", {"token": ch.token}, token=m.api_key)
        m.checks += 1
        if status != 404:
            m.fail(f"challenge {ch.id} verified before the crash answered {status} again")
    check_issue26(m, c)
    # Used reset links: refused.
    with m.lock:
        resets, m.used_reset = m.used_reset, []
    for token, u in resets:
        status, body = c.call("POST", "/v1/auth/password/reset", {"token": token, "password": new_password()})
        m.checks += 1
        if status != 400:
            m.fail(f"a reset link used before the crash answered {status} again ({u.email})")
    c.close()


def resolve_issue26(m: Model, server: Server) -> None:
    """Unanswered enrolments, passkey registrations and consents went
    either way: the database says which (before any request)."""
    conn = sqlite3.connect(server.db)
    try:
        for u in (u for g in m.users for u in g if u.exists):
            if not u.uid and (u.totp_state, u.pk_state, u.consent) != ("none", "none", "no"):
                row = conn.execute("SELECT id FROM users WHERE lower(email) = ?", (u.email.lower(),)).fetchone()
                u.uid = row[0] if row else ""
            if u.totp_state == "maybe":
                row = conn.execute("SELECT confirmed_at FROM totp_factors WHERE user_id = ?", (u.uid,)).fetchone()
                u.totp_state = "on" if row and row[0] is not None else "none"
                if u.totp_state == "on" and u.totp_sent:  # confirmed: its code was used
                    u.replay.append(u.totp_sent)
                u.totp_sent = None
            if u.pk_state == "maybe" and u.passkey:
                cid = base64.urlsafe_b64encode(u.passkey.id).rstrip(b"=").decode()
                row = conn.execute("SELECT 1 FROM passkeys WHERE credential_id = ?", (cid,)).fetchone()
                u.pk_state, u.pk_touched = ("on", True) if row else ("none", False)
                if not row:
                    u.passkey = None
            if u.consent == "maybe":
                row = conn.execute(
                    "SELECT 1 FROM oauth_consents WHERE user_id = ? AND client_id = ?", (u.uid, m.client_id)
                ).fetchone()
                u.consent = "yes" if row else "no"
        # Every acknowledged consent is stored.
        stored = {r[0] for r in conn.execute("SELECT user_id FROM oauth_consents WHERE client_id = ?",
                                             (m.client_id,))}
        for u in (u for g in m.users for u in g if u.exists and u.consent == "yes"):
            m.checks += 1
            if u.uid not in stored:
                m.fail(f"the acknowledged consent of {u.email} is gone")
    finally:
        conn.close()


def check_issue26(m: Model, c: Client) -> None:
    """No factor verifies twice; acknowledged factors, codes and grants
    survive; used codes and rotated OIDC refresh tokens do not."""
    for u in (u for g in m.users for u in g if u.settled()):
        if u.totp_state == "on" and u.replay:  # the enrolment's code, at least
            # The latest two (older ones have smaller steps still): each on
            # its own mfa_token, as five wrong codes kill one. Two wrong
            # codes stay below the lockout (five).
            now = int(time.time() // STEP)
            for code, step in u.replay[-2:]:
                status, body = c.call("POST", "/v1/auth/login", {"email": u.email, "password": u.password})
                m.checks += 1
                if status != 200 or not body.get("mfa_required") or "totp" not in body.get("factors", []):
                    m.fail(f"{u.email}: the acknowledged TOTP factor is not asked for ({status} {body})")
                    break
                status, answer = c.call("POST", "/v1/auth/mfa", {"mfa_token": body["mfa_token"], "totp": code})
                m.checks += 1
                if status != 401 or not isinstance(answer, dict) or answer.get("code") != "invalid_credentials":
                    m.fail(f"{u.email}: a TOTP code accepted before the kill answered {status} {answer} again")
                elif abs(now - step) <= 1:  # it would verify but for its use
                    with m.lock:
                        m.factors["totp_replays"] += 1
            u.replay = []
        if u.pk_state == "on" and u.passkey and u.pk_touched:
            if u.pk_acked:  # a clone replaying the last accepted counter
                m.checks += 1
                if passkey_sign_in(c, m, u, u.pk_acked) is not None:
                    m.fail(f"{u.email}: a passkey counter accepted before the kill was accepted again")
            counter = u.passkey.counter
            session = passkey_sign_in(c, m, u, counter)
            m.checks += 1
            if session is None:
                m.fail(f"{u.email}: the acknowledged passkey, at its next counter {counter}, refused")
                continue
            u.sessions.append(session)
            m.signed_in.add(session.sid)
            u.pk_touched = False
        # Codes acknowledged before the kill and not exchanged: once.
        for code, verifier, at in u.codes:
            if time.monotonic() - at > CODE_TTL - 30:
                continue
            status, body = exchange(c, m, code, verifier)
            m.checks += 1
            if status != 200:
                m.fail(f"{u.email}: an acknowledged code did not exchange after the kill ({status} {body})")
                continue
            grant = Grant(body["refresh_token"])
            u.grants.append(grant)
            m.used_codes.append((code, verifier, grant, u))
        u.codes = []
    # Codes exchanged before (or just now): refused, and their grants end.
    used_codes, m.used_codes = m.used_codes, []
    for code, verifier, grant, u in used_codes:
        status, body = exchange(c, m, code, verifier)
        m.checks += 1
        if status != 400 or body.get("error") != "invalid_grant":
            m.fail(f"{u.email}: a code exchanged before answered {status} {body} again")
        if grant in u.grants:
            u.grants.remove(grant)
    # Rotated OIDC refresh tokens (the grace has passed): refused, and the
    # successor dies with them.
    used, m.used_oidc = m.used_oidc, []
    for _, old, grant, u in used:
        for token, what in ((old, "a rotated"), (grant.refresh, "the successor of a reused")):
            status, body = rotate(c, m, token)
            m.checks += 1
            if status == 200:
                m.fail(f"{u.email}: {what} OIDC refresh token was accepted after the kill")
        if grant in u.grants:
            u.grants.remove(grant)
    # One acknowledged grant of each user rotates.
    for u in (u for g in m.users for u in g if u.settled() and u.grants):
        grant = u.grants[-1]
        status, body = rotate(c, m, grant.refresh)
        m.checks += 1
        if status != 200:
            m.fail(f"{u.email}: an acknowledged OIDC refresh token was refused after the kill ({status} {body})")
            u.grants.remove(grant)
            continue
        m.used_oidc.append((time.monotonic(), grant.refresh, grant, u))
        grant.refresh = body["refresh_token"]


def check_mail(model: Model, server: Server) -> tuple[int, int, int]:
    """At least once: each acknowledged forgot has its reset mail written or
    still queued. Returns (expected, written, duplicates)."""
    ids_by_to: dict[str, set[str]] = {}
    written: dict[str, int] = {}
    for f in server.outbox.glob("*-reset_password-*.eml") if server.outbox.exists() else []:
        row_id = f.stem.split("-reset_password-", 1)[1]
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        to = msg["To"].addresses[0].addr_spec.lower()
        ids_by_to.setdefault(to, set()).add(row_id)
        written[row_id] = written.get(row_id, 0) + 1
    conn = sqlite3.connect(server.db)
    queued = conn.execute("SELECT id, recipient FROM outbox WHERE kind = 'reset_password'").fetchall()
    conn.close()
    duplicates = sum(n - 1 for n in written.values())
    for row_id, to in queued:
        if row_id in written:
            duplicates += 1  # written, and will be written again
        ids_by_to.setdefault(to.lower(), set()).add(row_id)
    expected = 0
    for group in model.users:
        for u in group:
            if u.forgot == "acked":
                expected += 1
                model.checks += 1
                if not ids_by_to.get(u.email.lower()):
                    model.fail(f"reset mail for {u.email} neither written nor queued")
    return expected, len(written), duplicates


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--bin")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--min-run", type=float, default=0.05, help="shortest workload before a kill (s)")
    ap.add_argument("--max-run", type=float, default=1.5, help="longest workload before a kill (s)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    binary = find_binary(args.bin)
    work = Path(tempfile.mkdtemp(prefix="toktok-crash-"))
    server = Server(binary, work, EXTRA)
    model = Model()
    model.api_key = server.cli("api-key", "create", "--name", "crash", "--scope", "challenges")
    admin_key = server.cli("api-key", "create", "--name", "crash-hooks", "--scope", "admin")
    model.admin_key = admin_key
    receiver = HookReceiver(random.Random(rng.random()))
    started = time.monotonic()
    kills = 0
    expected = written = duplicates = "?"
    hooks: dict = {}
    try:
        server.start()
        status, body = Client(server.port).call(
            "POST", "/v1/admin/webhooks", {"url": receiver.url, "events": HOOK_EVENTS}, token=admin_key
        )
        if status != 201:
            raise SystemExit(f"crash: cannot register the webhook endpoint: {status} {body}")
        receiver.key = base64.b64decode(body["secret"].removeprefix("whsec_"))
        status, body = Client(server.port).call(
            "POST", "/v1/admin/oauth-clients",
            {"name": "crash", "type": "confidential", "redirect_uris": [REDIRECT]}, token=admin_key,
        )
        if status != 201:
            raise SystemExit(f"crash: cannot register the OIDC client: {status} {body}")
        model.client_id, model.client_secret = body["client_id"], body["client_secret"]
        for _ in range(args.kills):
            stop = threading.Event()
            workers = [Worker(i, model, server, random.Random(rng.random()), stop) for i in range(WORKERS)]
            for w in workers:
                w.start()
            time.sleep(rng.uniform(args.min_run, args.max_run))
            server.kill()
            kills += 1
            stop.set()
            for w in workers:
                w.join()
            result = integrity(server.db)
            model.checks += 1
            if result != "ok":
                model.fail(f"integrity_check after kill {kills}: {result}")
                break
            server.start()
            check_after_restart(model, server, rng)
            if model.violations:
                break
        # Let the mail worker drain what is due, and the webhook worker its
        # queue (deliveries cut off by the last kills wait out their lease).
        time.sleep(1.5)
        deadline = time.monotonic() + 150
        while pending_deliveries(server.db) and time.monotonic() < deadline:
            time.sleep(0.5)
        server.stop()
        expected, written, duplicates = check_mail(model, server)
        if not model.violations:
            hooks = check_hooks(model, receiver, server)
        result = integrity(server.db)
        model.checks += 1
        if result != "ok":
            model.fail(f"final integrity_check: {result}")
    finally:
        server.kill()
    users = sum(len(g) for g in model.users)
    elapsed = time.monotonic() - started
    print(
        f"crash: seed={seed} kills={kills} survived={kills if not model.violations else kills - 1} "
        f"acked_writes={model.acked} unanswered={model.unanswered} checks={model.checks} users={users} "
        f"imported={model.imported} "
        f"totp_enrolled={model.factors['totp']} passkeys_added={model.factors['passkey']} "
        f"mfa_steps={model.factors['mfa']} passkey_signins={model.factors['passkey_signin']} "
        f"codes={model.factors['codes']} consents={model.factors['consents']} "
        f"totp_replays_in_window={model.factors['totp_replays']} "
        f"reset_mails_expected={expected} written={written} duplicates={duplicates} "
        f"webhook_events_expected={hooks.get('expected', '?')} delivered={hooks.get('delivered', '?')} "
        f"pending_at_end={hooks.get('pending', '?')} duplicates={hooks.get('duplicates', '?')} "
        f"answered_500={hooks.get('refused', '?')} "
        f"violations={len(model.violations)} time={elapsed:.0f}s binary={binary}",
        flush=True,
    )
    if model.violations or args.keep:
        print(f"work directory kept: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if model.violations else 0


if __name__ == "__main__":
    sys.exit(main())
