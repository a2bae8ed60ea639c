"""toktok as an OpenID provider through Authlib (PyPI) and requests, issue 19.

Run by tests/interop/oidc.sh against a live toktok (TOKTOK_URL,
TOKTOK_ADMIN_KEY). The hosted pages are filled as a browser without
JavaScript would (a requests.Session that follows no redirect: each hop is
checked); everything else is Authlib's:

1. a confidential client with client_secret_post: OAuth2Session
   create_authorization_url (S256 from a code_verifier, state, nonce), the
   sign-in with a password and a TOTP code (RFC 6238 by hand below), consent,
   fetch_token(authorization_response, code_verifier) (Authlib checks state),
   the ID token through Authlib's OpenID client code (OpenIDMixin
   parse_id_token: joserfc with the JWKS, CodeIDToken with iss, aud, nonce,
   azp), userinfo, refresh_token, introspect_token, revoke_token;
2. a public client (token_endpoint_auth_method none): SSO from the same
   browser, its own consent page, the exchange with the verifier alone, a
   refresh with rotation;
3. POST /v1/auth/logout-all: the login page again, the public client's
   refresh token refused;
4. signed in again with a recovery code, RP-initiated logout with
   OpenIDMixin.create_logout_url and the confirmation form.

Authlib does not check RFC 9207's `iss` in the authorization response; it is
compared here by hand. Prints "N passed, N failed" last.
"""

import base64
import contextlib
import hashlib
import hmac
import html
import os
import re
import struct
import sys
import time
import traceback
from importlib.metadata import version
from urllib.parse import parse_qs, urljoin, urlsplit

# Plain http on loopback: a test server. Authlib refuses http otherwise.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.base_client import OpenIDMixin  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session, OAuthError  # noqa: E402

BASE = os.environ.get("TOKTOK_URL", "").rstrip("/")
ADMIN_KEY = os.environ.get("TOKTOK_ADMIN_KEY", "")
if not BASE or not ADMIN_KEY:
    sys.exit("usage: TOKTOK_URL=… TOKTOK_ADMIN_KEY=… python oidc_authlib.py")

print(f"Authlib {version('authlib')} (joserfc {version('joserfc')}), requests {version('requests')}, "
      f"cryptography {version('cryptography')}, Python {sys.version.split()[0]}")

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} Authlib: {name}{' — ' + str(detail) if detail else ''}")
    return ok


def finish():
    print(f"Authlib: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


@contextlib.contextmanager
def part(name):
    try:
        yield
    except Exception as e:  # a library refusal or a failed hop: one failed check
        detail = f"{type(e).__name__}: {e}"
        if isinstance(e, OAuthError):
            detail += f" (error {e.error!r}, {e.description!r})"
        check(name, False, detail)
        traceback.print_exc(limit=3)


# --- RFC 6238, as an authenticator app computes it ---------------------------
def totp_at(secret, step):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


# --- the JSON API (set-up only) -----------------------------------------------
def api(method, path, body=None, token=None, status=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    res = requests.request(method, BASE + path, json=body, headers=headers, timeout=30)
    if status is not None and res.status_code != status:
        raise RuntimeError(f"{method} {path}: expected {status}, got {res.status_code} {res.text[:300]}")
    return res.json() if res.content else None


# --- a browser without JavaScript -----------------------------------------------
class Browser:
    def __init__(self):
        self.http = requests.Session()
        self.hops = []

    def request(self, method, url, form=None):
        url = urljoin(BASE + "/", url)
        res = self.http.request(method, url, data=form, allow_redirects=False, timeout=30)
        loc = res.headers.get("location")
        res.location = urljoin(url, loc) if loc else None
        self.hops.append(f"{method} {urlsplit(url).path} → {res.status_code} {(loc or '').split('?')[0]}")
        return res

    def get(self, url):
        return self.request("GET", url)

    def submit(self, page, action, **fill):
        """The form of `page` posting to `action`: its hidden fields plus `fill`."""
        for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page.text, re.S | re.I):
            if attr(attrs, "action") != action:
                continue
            fields = {}
            for tag in re.findall(r"<input\b[^>]*>", inner, re.I):
                if attr(tag, "type") == "hidden" and attr(tag, "name"):
                    fields[attr(tag, "name")] = attr(tag, "value") or ""
            fields.update(fill)
            return self.request((attr(attrs, "method") or "get").upper(), action, fields)
        raise RuntimeError(f"no form posting to {action} on {page.url} ({page.status_code}): {page.text[:300]}")

    def has_session(self):
        return "toktok" in self.http.cookies


def attr(tag, name):
    m = re.search(rf'\s{name}="([^"]*)"', tag, re.I)
    return html.unescape(m.group(1)) if m else None


def expect_redirect(res, prefix, what):
    if res.status_code != 303 or not (res.location or "").startswith(prefix):
        raise RuntimeError(f"{what}: expected 303 to {prefix}…, got {res.status_code} "
                           f"{res.location or res.text[:300]}")
    return res.location


# --- Authlib's OpenID client code on an OAuth2Session ------------------------------
class OpenID(OpenIDMixin):
    """OpenIDMixin (parse_id_token, userinfo, create_logout_url) is what
    Authlib's framework clients use; outside a framework it needs these."""

    def __init__(self, session, metadata):
        self.session = session
        self.client_id = session.client_id
        self.server_metadata = dict(metadata)

    def load_server_metadata(self):
        return self.server_metadata

    def _get_session(self):
        return contextlib.nullcontext(self.session)

    def get(self, url, **kwargs):
        return self.session.get(url, **kwargs)


REDIRECT_C = "http://127.0.0.1:9/authlib/confidential/callback"
REDIRECT_P = "http://127.0.0.1:9/authlib/public/callback"
BYE = "http://127.0.0.1:9/authlib/bye"
EMAIL = f"bob.authlib.{int(time.time() * 1000)}@example.com"
PASSWORD = f"authlib-{generate_token(12)}-pw"

try:
    metadata = requests.get(BASE + "/.well-known/openid-configuration", timeout=30).json()
    check("discovery: issuer is the public URL, S256, end_session_endpoint",
          metadata["issuer"] == BASE and metadata["code_challenge_methods_supported"] == ["S256"]
          and metadata.get("end_session_endpoint") == BASE + "/oauth/logout", metadata["issuer"])
    conf = api("POST", "/v1/admin/oauth-clients", {
        "name": "Authlib confidential", "type": "confidential", "redirect_uris": [REDIRECT_C],
        "post_logout_redirect_uris": [BYE]}, ADMIN_KEY, 201)
    pub = api("POST", "/v1/admin/oauth-clients", {
        "name": "Authlib public", "type": "public", "redirect_uris": [REDIRECT_P],
        "scopes": ["openid", "profile", "offline_access"]}, ADMIN_KEY, 201)
    reg = api("POST", "/v1/auth/register", {"email": EMAIL, "password": PASSWORD}, status=201)
    begun = api("POST", "/v1/users/me/totp", token=reg["access_token"], status=200)
    secret = begun["secret"]
    last_step = int(time.time() // 30)
    recovery = api("POST", "/v1/users/me/totp/confirm", {"code": totp_at(secret, last_step)},
                   reg["access_token"], 200)["recovery_codes"]
except Exception as e:
    check("set-up: discovery, two clients, a user with TOTP", False, f"{type(e).__name__}: {e}")
    finish()


def next_totp():
    """A code of a step not used yet (toktok takes one step of drift)."""
    global last_step
    last_step = max(int(time.time() // 30), last_step + 1)
    return totp_at(secret, last_step)


def session_for(c, method, scope):
    return OAuth2Session(
        client_id=c["client_id"], client_secret=c.get("client_secret"),
        token_endpoint_auth_method=method, revocation_endpoint_auth_method=method,
        scope=scope, redirect_uri=c["redirect_uris"][0], code_challenge_method="S256")


def begin(session):
    """create_authorization_url with a fresh verifier, state and nonce."""
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    q = parse_qs(urlsplit(url).query)
    assert q["code_challenge_method"] == ["S256"] and q["nonce"] == [nonce], url
    return url, verifier, nonce, state


def exchange(session, oid, back, verifier, nonce, state):
    """fetch_token for the redirect `back` (Authlib compares its state with
    the request's), the ID token checked by Authlib."""
    q = parse_qs(urlsplit(back).query)
    if q.get("iss") != [BASE]:
        raise RuntimeError(f"RFC 9207: iss in the authorization response is {q.get('iss')}, not {BASE}")
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=back,
                                code_verifier=verifier, state=state)
    claims = oid.parse_id_token(token, nonce, claims_options={
        "iss": {"essential": True, "values": [BASE]},
        "aud": {"essential": True, "values": [session.client_id]},
    })
    return token, claims


def refused_refresh(session, refresh_token):
    try:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
    except OAuthError as e:
        return e.error
    return None


browser = Browser()
conf_s = session_for(conf, "client_secret_post", "openid profile email offline_access")
conf_oid = OpenID(conf_s, metadata)
pub_s = session_for(pub, "none", "openid profile offline_access")
pub_oid = OpenID(pub_s, metadata)
sub = None

# --- 1. the confidential client --------------------------------------------------
with part("confidential client (client_secret_post): the whole flow"):
    url, verifier, nonce, state = begin(conf_s)
    login = browser.get(expect_redirect(browser.get(url), BASE + "/login?flow=", "GET /oauth/authorize"))
    check("GET /login names the client", login.status_code == 200 and "Authlib confidential" in login.text)
    step = browser.submit(login, "/login", email=EMAIL, password=PASSWORD)
    check("POST /login: the second-factor page, no session yet",
          step.status_code == 200 and 'name="mfa_token"' in step.text and not browser.has_session(),
          step.status_code)
    consent = browser.get(expect_redirect(browser.submit(step, "/login/mfa", totp=next_totp()),
                                          BASE + "/consent?flow=", "POST /login/mfa"))
    check("consent page lists the scopes in words", consent.status_code == 200 and "email address" in consent.text)
    back = expect_redirect(browser.submit(consent, "/consent", decision="allow"), REDIRECT_C + "?", "allow")
    token, claims = exchange(conf_s, conf_oid, back, verifier, nonce, state)
    sub = claims["sub"]
    check("fetch_token + parse_id_token: code exchanged, ID token valid (JWKS, iss, aud, nonce, azp)",
          claims["aud"] == conf["client_id"] and claims["nonce"] == nonce and token.get("refresh_token"),
          {k: claims.get(k) for k in ("acr", "amr", "email")})
    info = conf_oid.userinfo()
    check("userinfo with the session's token: sub, email", info["sub"] == sub and info.get("email") == EMAIL,
          sorted(info))
    old = token["refresh_token"]
    fresh = conf_s.refresh_token(metadata["token_endpoint"])
    check("refresh_token: rotated, a new ID token valid without nonce",
          fresh["refresh_token"] != old and conf_oid.parse_id_token(fresh, None)["sub"] == sub)
    seen = conf_s.introspect_token(metadata["introspection_endpoint"], token=fresh["access_token"]).json()
    check("introspect_token (client_secret_post): active, this client",
          seen.get("active") is True and seen.get("client_id") == conf["client_id"], seen.get("scope"))
    res = conf_s.revoke_token(metadata["revocation_endpoint"], token=fresh["refresh_token"],
                              token_type_hint="refresh_token")
    check("revoke_token: 200, then the refresh token is refused (invalid_grant)",
          res.status_code == 200 and refused_refresh(conf_s, fresh["refresh_token"]) == "invalid_grant",
          res.status_code)

# --- 2. the public client: SSO, its own consent -------------------------------------
pub_token = None
with part("public client (none): SSO, consent, exchange, refresh"):
    url, verifier, nonce, state = begin(pub_s)
    start = browser.get(url)
    consent = browser.get(expect_redirect(start, BASE + "/consent?flow=", "GET /oauth/authorize (SSO)"))
    check("SSO: no login page, straight to this client's consent", "Authlib public" in consent.text)
    back = expect_redirect(browser.submit(consent, "/consent", decision="allow"), REDIRECT_P + "?", "allow")
    pub_token, claims = exchange(pub_s, pub_oid, back, verifier, nonce, state)
    check("public client: exchanged with the verifier and no secret, ID token valid, same user",
          claims["sub"] == sub and claims["aud"] == pub["client_id"] and pub_token.get("refresh_token"))
    info = pub_oid.userinfo()
    check("public client: userinfo has profile claims, no email (scope)",
          info["sub"] == sub and "email" not in info and "preferred_username" in info, sorted(info))
    rotated = pub_s.refresh_token(metadata["token_endpoint"])
    check("public client: refresh rotates", rotated["refresh_token"] != pub_token["refresh_token"])
    pub_token = rotated

# --- 3. logout-all -------------------------------------------------------------------
with part("logout-all"):
    login = api("POST", "/v1/auth/login", {"email": EMAIL, "password": PASSWORD}, status=200)
    if login.get("mfa_required"):
        login = api("POST", "/v1/auth/mfa", {"mfa_token": login["mfa_token"],
                                             "recovery_code": recovery.pop()}, status=200)
    res = requests.post(BASE + "/v1/auth/logout-all", timeout=30,
                        headers={"authorization": f"Bearer {login['access_token']}"})
    check("POST /v1/auth/logout-all with a first-party token", res.ok, res.status_code)
    again = browser.get(begin(conf_s)[0])
    check("after logout-all /oauth/authorize shows the login page again",
          again.status_code == 303 and again.location.startswith(BASE + "/login?flow="),
          again.location.split("?")[0])
    check("after logout-all the public client's refresh token is refused",
          pub_token and refused_refresh(pub_s, pub_token["refresh_token"]) == "invalid_grant")

# --- 4. RP-initiated logout ------------------------------------------------------------
with part("RP-initiated logout"):
    url, verifier, nonce, state = begin(conf_s)
    login = browser.get(expect_redirect(browser.get(url), BASE + "/login?flow=", "authorize"))
    step = browser.submit(login, "/login", email=EMAIL, password=PASSWORD)
    back = expect_redirect(browser.submit(step, "/login/mfa", recovery_code=recovery.pop()),
                           REDIRECT_C + "?", "POST /login/mfa (recovery code; consent remembered)")
    token, _ = exchange(conf_s, conf_oid, back, verifier, nonce, state)
    out = conf_oid.create_logout_url(post_logout_redirect_uri=BYE, id_token_hint=token["id_token"])
    confirm = browser.get(out["url"])
    check("create_logout_url → GET /oauth/logout: the confirmation page",
          confirm.status_code == 200 and "Authlib confidential" in confirm.text, confirm.status_code)
    bye = expect_redirect(browser.submit(confirm, "/logout"), BYE, "POST /logout")
    check("POST /logout: back at the registered URI with state, cookie gone",
          parse_qs(urlsplit(bye).query).get("state") == [out["state"]] and not browser.has_session(), bye)
    check("after the logout the refresh token is refused",
          refused_refresh(conf_s, token["refresh_token"]) == "invalid_grant")

if failed:
    print("Authlib: the browser's hops:\n  " + "\n  ".join(browser.hops))
finish()
