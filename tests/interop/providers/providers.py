"""toktok's "sign in with other providers" against a real OpenID provider.

Run by tests/interop/providers.sh. The provider is panva's oidc-provider
(op.mjs beside this file); this script is only the browser: one
requests.Session per person, following every redirect by hand (each hop is
checked) and posting the provider's login and consent forms as a browser
without JavaScript would. The app that toktok sends people back to does not
exist: the walk stops at its origin and reads the fragment of the Location.

Environment:
  OP_ISSUER           the provider (http://127.0.0.1:PORT)
  OP_CLIENT_SECRET    the secret of its client `toktok`
  OP_SELFTEST_REDIRECT  a redirect URI registered at the provider for the
                      provider-only part (no toktok involved)
  TOKTOK_URL          toktok's public_url; unset: the provider-only part alone
  APP_URL             an allowed redirect_to ([accounts] allowed_redirects)
  TOKTOK_ADMIN_KEY    optional: lets the script count accounts by email
  PROVIDER_ID         the [[providers]] id (default "op")

Prints "ok N - …" / "not ok N - …" per check and "N passed, N failed" last.
"""

import base64
import hashlib
import html
import json
import os
import re
import secrets
import sys
import traceback
from importlib.metadata import version
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

OP = os.environ.get("OP_ISSUER", "").rstrip("/")
OP_SECRET = os.environ.get("OP_CLIENT_SECRET", "")
SELFTEST_REDIRECT = os.environ.get("OP_SELFTEST_REDIRECT", "")
BASE = os.environ.get("TOKTOK_URL", "").rstrip("/")
APP = os.environ.get("APP_URL", "")
ADMIN_KEY = os.environ.get("TOKTOK_ADMIN_KEY", "")
PID = os.environ.get("PROVIDER_ID", "op")
OP_LOG = os.environ.get("OP_LOG", "")  # op.mjs's stderr: one line per token request
VERBOSE = os.environ.get("PROVIDERS_VERBOSE") == "1"
if not OP:
    sys.exit("usage: OP_ISSUER=… OP_CLIENT_SECRET=… [OP_SELFTEST_REDIRECT=…] "
             "[TOKTOK_URL=… APP_URL=…] python providers.py")

print(f"# requests {version('requests')}, Python {sys.version.split()[0]}; provider {OP}")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    n = passed + failed + 1
    if ok:
        passed += 1
        print(f"ok {n} - {name}" + (f"\n#   {detail}" if VERBOSE and detail != "" else ""))
    else:
        failed += 1
        print(f"not ok {n} - {name}" + (f"\n#   {detail}" if detail != "" else ""))
    return ok


def finish():
    print(f"providers: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


class Part:
    """A group of checks: an exception inside is one failed check."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if e is not None:
            check(self.name, False, f"{kind.__name__}: {e}")
            traceback.print_exception(kind, e, tb, limit=2, file=sys.stdout)
        return True


# --- JOSE, read by hand (no JOSE library: the point is what the OP sends) ---------
def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    h, p, s = token.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), (h + "." + p).encode(), b64d(s)


def rs256_ok(jwk, signing_input, sig):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2), in integers."""
    n = int.from_bytes(b64d(jwk["n"]), "big")
    e = int.from_bytes(b64d(jwk["e"]), "big")
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    em = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(signing_input).digest()
    return em == b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info


def claims_of(token):
    return jwt_parts(token)[1]


# --- a browser without JavaScript ----------------------------------------------------
def attr(tag, name):
    m = re.search(rf'\s{name}="([^"]*)"', tag, re.I)
    return html.unescape(m.group(1)) if m else None


class Browser:
    def __init__(self, name):
        self.name = name
        self.http = requests.Session()
        self.hops = []

    def request(self, method, url, form=None):
        res = self.http.request(method, url, data=form, allow_redirects=False, timeout=30)
        loc = res.headers.get("location")
        res.location = urljoin(url, loc) if loc else None
        self.hops.append(f"{method} {url.split('?')[0]} → {res.status_code} {(res.location or '').split('?')[0]}")
        return res

    def get(self, url):
        return self.request("GET", url)

    def cookie(self, name, origin):
        host = urlsplit(origin).hostname
        for c in self.http.cookies:
            if c.name == name and (c.domain or "").lstrip(".") in (host, host + ".local"):
                return c
        return None

    def form(self, page):
        """The provider's interaction form: (action, fields incl. hidden ones)."""
        for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page.text, re.S | re.I):
            fields = {}
            for tag in re.findall(r"<input\b[^>]*>", inner, re.I):
                if attr(tag, "name"):
                    fields[attr(tag, "name")] = attr(tag, "value") or ""
            if "prompt" in fields:
                return urljoin(page.url, attr(attrs, "action")), fields
        raise RuntimeError(f"no interaction form on {page.url} ({page.status_code}): {page.text[:400]}")

    def through_provider(self, url, login, stop, op=None):
        """Walk the provider from `url` (its authorization endpoint) as `login`,
        filling login and consent pages, until a redirect leaves for a URL
        that starts with `stop`; return that URL and the prompts met."""
        prompts = []
        res = self.get(url)
        for _ in range(20):
            if res.status_code in (302, 303) and res.location:
                if res.location.startswith(stop):
                    return res.location, prompts
                if not res.location.startswith((op or OP) + "/"):
                    raise RuntimeError(f"the provider sent the browser to {res.location}")
                res = self.get(res.location)
                continue
            if res.status_code != 200:
                raise RuntimeError(f"provider answered {res.status_code} at {res.url}: {res.text[:400]}")
            action, fields = self.form(res)
            prompts.append(fields["prompt"])
            if fields["prompt"] == "login":
                fields.update(login=login, password="not-checked")
            elif fields["prompt"] != "consent":
                raise RuntimeError(f"unexpected prompt {fields['prompt']!r}")
            res = self.request("POST", action, fields)
        raise RuntimeError("more than 20 hops at the provider: " + " | ".join(self.hops[-6:]))


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def fragment(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}


# --- 1. the provider on its own ------------------------------------------------------
meta = requests.get(OP + "/.well-known/openid-configuration", timeout=30).json()
jwks = requests.get(meta["jwks_uri"], timeout=30).json()


def op_code_flow(login):
    """A full authorization-code + PKCE flow at the provider alone, with
    OP_SELFTEST_REDIRECT as the client's redirect URI; returns the ID token's
    header and claims, the signature check, and what was sent."""
    b = Browser(f"op-{login}")
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = meta["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": "toktok", "redirect_uri": SELFTEST_REDIRECT,
        "scope": "openid email profile", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    back, prompts = b.through_provider(url, login, SELFTEST_REDIRECT)
    q = query(back)
    if q.get("state") != state or q.get("iss") != OP or "code" not in q:
        raise RuntimeError(f"authorization response {back}")
    tok = requests.post(meta["token_endpoint"], auth=("toktok", OP_SECRET), timeout=30, data={
        "grant_type": "authorization_code", "code": q["code"], "redirect_uri": SELFTEST_REDIRECT,
        "code_verifier": verifier})
    if tok.status_code != 200:
        raise RuntimeError(f"token endpoint {tok.status_code}: {tok.text[:300]}")
    header, claims, signing_input, sig = jwt_parts(tok.json()["id_token"])
    key = next((k for k in jwks["keys"] if k.get("kid") == header.get("kid")), None)
    signed = key is not None and header.get("alg") == "RS256" and rs256_ok(key, signing_input, sig)
    replay = requests.post(meta["token_endpoint"], auth=("toktok", OP_SECRET), timeout=30, data={
        "grant_type": "authorization_code", "code": q["code"], "redirect_uri": SELFTEST_REDIRECT,
        "code_verifier": verifier})
    return {"prompts": prompts, "header": header, "claims": claims, "signed": signed,
            "nonce": nonce, "replay": replay.status_code}


def op_selftest():
    check("provider: discovery names the issuer, S256 and RFC 9207 iss",
          meta["issuer"] == OP and meta.get("code_challenge_methods_supported") == ["S256"]
          and meta.get("authorization_response_iss_parameter_supported") is True, meta.get("issuer"))
    with Part("provider alone: code + PKCE flow for alice"):
        r = op_code_flow("alice")
        c = r["claims"]
        check("provider alone: alice logs in and consents (login, consent pages)",
              r["prompts"] == ["login", "consent"], r["prompts"])
        check("provider alone: the ID token is RS256, signed by a key of the JWKS",
              r["signed"], r["header"])
        check("provider alone: ID token has iss, aud, nonce, sub, email, email_verified, name",
              c.get("iss") == OP and c.get("aud") == "toktok" and c.get("nonce") == r["nonce"]
              and c.get("sub") == "alice" and c.get("email") == "alice@example.com"
              and c.get("email_verified") is True and c.get("name") == "Alice", c)
        check("provider alone: a code is redeemed once", r["replay"] == 400, r["replay"])
    with Part("provider alone: code + PKCE flow for mallory"):
        c = op_code_flow("mallory")["claims"]
        check("provider alone: mallory's ID token says email_verified false",
              c.get("email") == "victim@example.com" and c.get("email_verified") is False, c)
    with Part("provider alone: PKCE is required"):
        b = Browser("op-nopkce")
        res = b.get(meta["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": "toktok", "redirect_uri": SELFTEST_REDIRECT,
            "scope": "openid", "state": "s", "nonce": "n"}))
        check("provider alone: an authorization request without PKCE is refused",
              res.status_code in (302, 303) and query(res.location or "").get("error") == "invalid_request",
              f"{res.status_code} {res.location}")


if SELFTEST_REDIRECT:
    op_selftest()
if not BASE:
    finish()

# --- 2. toktok against the provider ----------------------------------------------------
CALLBACK = f"{BASE}/v1/auth/providers/{PID}/callback"
app_parts = urlsplit(APP)
APP_ORIGIN = f"{app_parts.scheme}://{app_parts.netloc}"


def api(method, path, body=None, token=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, BASE + path, json=body, headers=headers, timeout=30)


def count_users(email):
    if not ADMIN_KEY:
        return None
    res = api("GET", "/v1/admin/users?" + urlencode({"email": email}), token=ADMIN_KEY)
    if res.status_code != 200:
        raise RuntimeError(f"GET /v1/admin/users: {res.status_code} {res.text[:200]}")
    return len(res.json()["users"])


class Flow:
    """One provider sign-in in one browser: start, the provider, the callback."""

    def __init__(self, browser, login, redirect_to=None, pid=PID, op=None):
        self.browser = browser
        self.login = login
        self.redirect_to = redirect_to or APP
        self.pid, self.op = pid, op or OP
        self.authz = meta["authorization_endpoint"] if op is None else \
            requests.get(op + "/.well-known/openid-configuration", timeout=30).json()["authorization_endpoint"]

    def start(self):
        b = self.browser
        self.start_res = b.get(f"{BASE}/v1/auth/providers/{self.pid}/start?" + urlencode({"redirect_to": self.redirect_to}))
        res = self.start_res
        if res.status_code not in (302, 303) or not (res.location or "").startswith(self.authz + "?"):
            raise RuntimeError(f"GET …/start: expected 302 to {self.authz}, got "
                               f"{res.status_code} {res.location or res.text[:300]}")
        self.auth_url = res.location
        self.auth_query = query(res.location)
        return self

    def provider(self):
        self.callback_url, self.prompts = self.browser.through_provider(
            self.auth_url, self.login, f"{BASE}/v1/auth/providers/{self.pid}/callback", self.op)
        return self

    def callback(self, browser=None):
        res = (browser or self.browser).get(self.callback_url)
        self.callback_res = res
        return res

    def run(self):
        self.start().provider()
        res = self.callback()
        if res.status_code != 303 or not (res.location or "").startswith(self.redirect_to + "#"):
            raise RuntimeError(f"GET …/callback: expected 303 to {self.redirect_to}#…, got {res.status_code} "
                               f"{res.location or res.text[:300]} (hops: {' | '.join(self.browser.hops[-8:])})")
        self.result = fragment(res.location)
        return self.result


def exchange(code):
    return api("POST", "/v1/auth/providers/exchange", {"code": code})


def identities(access_token):
    res = api("GET", "/v1/users/me/identities", token=access_token)
    if res.status_code != 200:
        raise RuntimeError(f"GET /v1/users/me/identities: {res.status_code} {res.text[:300]}")
    return res.json()["identities"]


def token_requests():
    """How many token requests the provider has answered (op.mjs logs each)."""
    if not OP_LOG:
        return None
    with open(OP_LOG, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if line.startswith("op: grant."))


def refused(res):
    """A callback answer that signs nobody in: a 4xx page, or 303 with #error=."""
    if 400 <= res.status_code < 500:
        return True
    return res.status_code in (302, 303) and "error" in fragment(res.location or "") and "code" not in fragment(res.location or "")


with Part("toktok lists its providers"):
    res = api("GET", "/v1/auth/providers")
    check("GET /v1/auth/providers lists {id: op, name: Test provider}",
          res.status_code == 200 and {"id": PID, "name": "Test provider"} in
          [{"id": p.get("id"), "name": p.get("name")} for p in res.json().get("providers", [])],
          f"{res.status_code} {res.text[:300]}")

alice_id = None
with Part("a. alice (verified) signs up through the provider"):
    flow = Flow(Browser("alice"), "alice").start()
    q = flow.auth_query
    check("start: 302 to the provider with client_id, the exact redirect_uri, openid email profile",
          q.get("response_type") == "code" and q.get("client_id") == "toktok"
          and q.get("redirect_uri") == CALLBACK
          and {"openid", "email", "profile"} <= set(q.get("scope", "").split()), flow.auth_url)
    check("start: state, nonce and PKCE S256 in the authorization request",
          len(q.get("state", "")) >= 16 and len(q.get("nonce", "")) >= 16
          and q.get("code_challenge_method") == "S256" and len(q.get("code_challenge", "")) == 43,
          flow.auth_url)
    cookie = flow.browser.cookie("toktok-provider", BASE)
    samesite = (cookie.get_nonstandard_attr("SameSite") or cookie.get_nonstandard_attr("samesite") or "") if cookie else ""
    check("start: sets the browser-binding cookie toktok-provider, HttpOnly, not SameSite=Strict",
          cookie is not None and cookie.has_nonstandard_attr("HttpOnly") and samesite.lower() != "strict",
          flow.start_res.headers.get("set-cookie"))
    flow.provider()
    cq = query(flow.callback_url)
    check("provider: login and consent, then back to toktok's callback with code, state and iss",
          flow.prompts == ["login", "consent"] and "code" in cq and cq.get("state") == q["state"]
          and cq.get("iss") == OP, f"{flow.prompts} {flow.callback_url}")
    res = flow.callback()
    frag = fragment(res.location or "")
    check("callback: 303 to redirect_to#code=… (oidc-provider's RS256 ID token accepted)",
          res.status_code == 303 and (res.location or "").startswith(APP + "#") and "code" in frag,
          f"{res.status_code} {res.location or res.text[:300]}")
    code = frag["code"]
    res = exchange(code)
    body = res.json() if res.headers.get("content-type", "").startswith("application/json") else {}
    user = body.get("user", {})
    check("exchange: 200 with access_token, refresh_token and the user",
          res.status_code == 200 and body.get("access_token") and body.get("refresh_token") and user.get("id"),
          f"{res.status_code} {res.text[:300]}")
    check("exchange: user alice@example.com with email_confirmed true (verified at the provider)",
          user.get("email") == "alice@example.com" and user.get("email_confirmed") is True, user)
    access = claims_of(body["access_token"])
    check("access token: amr is [\"fed\"]", access.get("amr") == ["fed"], access)
    alice_id, alice_access = user["id"], body["access_token"]
    ids = identities(alice_access)
    one = ids[0] if len(ids) == 1 else {}
    check("identities: one, provider op, subject alice, email verified",
          len(ids) == 1 and one.get("provider") == PID and one.get("subject") == "alice"
          and one.get("email") == "alice@example.com" and one.get("email_verified") is True
          and one.get("id") and one.get("created_at"), ids)
    res = exchange(code)
    check("exchange: the same code a second time is refused (4xx)", 400 <= res.status_code < 500,
          f"{res.status_code} {res.text[:300]}")

    # e. (first half) the same callback again, in the same browser.
    before = token_requests()
    res = flow.callback()
    check("e. the callback replayed (same URL, same state, same browser) is refused",
          refused(res), f"{res.status_code} {res.location or res.text[:300]}")
    if before is not None:
        after = token_requests()
        check("e. the replayed callback never reached the provider's token endpoint (state used once)",
              after == before, f"{after - before} token request(s) for the replay")

with Part("b. alice signs in again"):
    flow = Flow(Browser("alice-again"), "alice")
    frag = flow.run()
    res = exchange(frag.get("code", ""))
    user = res.json().get("user", {}) if res.status_code == 200 else {}
    check("b. alice again: same user id", res.status_code == 200 and user.get("id") == alice_id,
          f"{res.status_code} {frag} {res.text[:300]} (first: {alice_id})")
    if res.status_code == 200:
        ids = identities(res.json()["access_token"])
        check("b. alice again: still one identity", len(ids) == 1, ids)
    flow = Flow(flow.browser, "alice")
    frag = flow.run()
    check("b. alice again, provider session kept: no login or consent page, a code",
          flow.prompts == [] and "code" in frag, f"{flow.prompts} {frag}")

with Part("c. mallory (unverified victim@example.com) signs up"):
    frag = Flow(Browser("mallory"), "mallory").run()
    res = exchange(frag.get("code", ""))
    body = res.json() if res.status_code == 200 else {}
    user = body.get("user", {})
    check("c. mallory: a new account for victim@example.com with email_confirmed false",
          res.status_code == 200 and user.get("email") == "victim@example.com"
          and user.get("email_confirmed") is False and user.get("id") not in (None, alice_id),
          f"{res.status_code} {frag} {res.text[:300]}")
    if body:
        check("c. mallory: access token email_verified false, amr [\"fed\"]",
              claims_of(body["access_token"]).get("email_verified") is False
              and claims_of(body["access_token"]).get("amr") == ["fed"], claims_of(body["access_token"]))
        ids = identities(body["access_token"])
        check("c. mallory: her identity is stored with email_verified false",
              len(ids) == 1 and ids[0].get("subject") == "mallory" and ids[0].get("email_verified") is False, ids)

with Part("d. bob has a password account: the provider sign-in needs a link"):
    password = "bob-" + secrets.token_urlsafe(12)
    res = api("POST", "/v1/auth/register", {"email": "bob@example.com", "password": password})
    if not check("d. bob registers with a password (201)", res.status_code == 201, f"{res.status_code} {res.text[:300]}"):
        raise RuntimeError("no password account for bob")
    flow = Flow(Browser("bob"), "bob")
    frag = flow.run()
    check("d. bob via the provider: redirect_to#error=link_required, no code",
          frag.get("error") == "link_required" and "code" not in frag, flow.callback_res.location)
    res = api("POST", "/v1/auth/login", {"email": "bob@example.com", "password": password})
    if check("d. bob still signs in with his password", res.status_code == 200, f"{res.status_code} {res.text[:300]}"):
        ids = identities(res.json()["access_token"])
        check("d. bob's account has no identity", ids == [], ids)
    n = count_users("bob@example.com")
    if n is not None:
        check("d. still one account for bob@example.com", n == 1, n)

with Part("e. a callback without the binding cookie"):
    flow = Flow(Browser("carol"), "carol").start().provider()
    before = token_requests()
    res = flow.callback(Browser("elsewhere"))
    check("e. the callback in a fresh browser (right state, no toktok-provider cookie) is refused",
          refused(res), f"{res.status_code} {res.location or res.text[:300]}")
    if before is not None:
        after = token_requests()
        check("e. the cookie-less callback did not redeem the code at the provider",
              after == before, f"{after - before} token request(s)")
    n = count_users("carol@example.com")
    if n is not None:
        check("e. no account was made for carol", n == 0, n)

with Part("e. a callback with a state toktok never issued"):
    flow = Flow(Browser("carol-2"), "carol").start().provider()
    parts = urlsplit(flow.callback_url)
    q = query(flow.callback_url)
    q["state"] = secrets.token_urlsafe(24)
    res = flow.browser.get(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(q)}")
    check("e. the callback with a forged state (binding cookie present) is refused",
          refused(res), f"{res.status_code} {res.location or res.text[:300]}")

with Part("e. carol, refused above, signs up from one browser"):
    # The refusals above were about state and cookie, not about carol.
    frag = Flow(Browser("carol-3"), "carol").run()
    res = exchange(frag.get("code", ""))
    check("e. carol's own complete sign-in works: an account for carol@example.com",
          res.status_code == 200 and res.json()["user"].get("email") == "carol@example.com",
          f"{res.status_code} {frag} {res.text[:300]}")

with Part("redirect_to outside [accounts] allowed_redirects"):
    port = app_parts.port
    for bad in (f"http://127.0.0.1:{port + 1}/app",
                f"http://127.0.0.1:{port}@evil.example/app",
                f"{APP_ORIGIN}/elsewhere"):
        res = Browser("redirect").get(f"{BASE}/v1/auth/providers/{PID}/start?" + urlencode({"redirect_to": bad}))
        check(f"start refuses redirect_to={bad} (4xx, not to the provider)",
              400 <= res.status_code < 500, f"{res.status_code} {res.location or res.text[:200]}")
    res = Browser("unknown").get(f"{BASE}/v1/auth/providers/nope/start?" + urlencode({"redirect_to": APP}))
    check("start for an unknown provider id is 404", res.status_code == 404, f"{res.status_code} {res.text[:200]}")


OP2 = os.environ.get("OP2_ISSUER", "").rstrip("/")
if OP2:
    with Part("an address at userinfo only"):
        # oidc-provider's default (conformIdTokenClaims), like Okta, puts
        # the email claims at userinfo only: toktok reads them there, for
        # the ID token's subject.
        flow = Flow(Browser("dave"), "dave", pid=os.environ.get("PROVIDER2_ID", "op_ui"), op=OP2)
        frag = flow.run()
        check("userinfo-only: the callback gives a code", "code" in frag, str(frag))
        res = exchange(frag["code"]) if "code" in frag else None
        user = res.json().get("user", {}) if res is not None and res.status_code == 200 else {}
        check("userinfo-only: the address comes from userinfo, confirmed",
              user.get("email") == "dave@example.com" and user.get("email_confirmed") is True,
              f"{res.status_code if res is not None else '-'} {user}")

finish()
