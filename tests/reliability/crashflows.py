"""The client side of crash.py's issue-26 state, with the standard library
only (CI runs crash.py on a bare Python):

- TOTP (RFC 6238, SHA-1, 6 digits, 30 s), as an authenticator app computes it;
- a passkey authenticator: P-256 ECDSA (FIPS 186-4, written out below: the
  standard library has none), CBOR (RFC 8949) and COSE keys (RFC 8152),
  the "none" attestation and the `.toJSON()` shapes of WebAuthn Level 3,
  as tests/api/authenticator.rs makes them;
- a browser without JavaScript for the hosted pages: cookies, hidden form
  fields, one hop at a time (no redirect is followed for it).

Nothing here knows about crashes; crash.py decides what an answer means.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import http.client
import json
import re
import secrets
import struct
import time
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- TOTP -------------------------------------------------------------------
STEP = 30


def totp_at(secret: str, step: int) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def free_step(last_step: int) -> int | None:
    """The step of a code toktok takes now that is after `last_step` (it
    takes one step of drift either way, each step once), or None."""
    now = int(time.time() // STEP)
    step = max(now, last_step + 1)
    return step if step <= now + 1 else None


# --- P-256 ECDSA ------------------------------------------------------------
P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


def _add(a, b):
    """Affine point addition on y² = x³ - 3x + b; None is the identity."""
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0]:
        if (a[1] + b[1]) % P == 0:
            return None
        slope = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, P) % P
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, P) % P
    x = (slope * slope - a[0] - b[0]) % P
    return x, (slope * (a[0] - x) - a[1]) % P


def _mul(k: int, point):
    result = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _der_int(n: int) -> bytes:
    raw = n.to_bytes(33, "big").lstrip(b"\0")
    if not raw or raw[0] & 0x80:
        raw = b"\0" + raw
    return b"\x02" + bytes([len(raw)]) + raw


def ecdsa_sign(d: int, message: bytes) -> bytes:
    """An ASN.1 DER ECDSA-SHA256 signature, as authenticators send it."""
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    while True:
        k = secrets.randbelow(N - 1) + 1
        r = _mul(k, G)[0] % N
        s = pow(k, -1, N) * (e + r * d) % N
        if r and s:
            body = _der_int(r) + _der_int(s)
            return b"\x30" + bytes([len(body)]) + body


# --- CBOR -------------------------------------------------------------------
def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor(value) -> bytes:
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        return _head(3, len(value.encode())) + value.encode()
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(type(value))


# --- a passkey ----------------------------------------------------------------
class Passkey:
    """One device-bound passkey (user verification, counter counting up
    from 1), made by `create` for the relying party `rp_id`."""

    def __init__(self, rp_id: str):
        self.rp_id = rp_id
        self.d = secrets.randbelow(N - 1) + 1
        self.q = _mul(self.d, G)
        self.id = secrets.token_bytes(32)
        self.user_handle = b""
        self.counter = 1

    def _auth_data(self, counter: int, attested: bool) -> bytes:
        flags = 0x01 | 0x04 | (0x40 if attested else 0)  # UP, UV, AT
        data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + counter.to_bytes(4, "big")
        if attested:
            x, y = (c.to_bytes(32, "big") for c in self.q)
            key = cbor({1: 2, 3: -7, -1: 1, -2: x, -3: y})
            data += bytes(16) + len(self.id).to_bytes(2, "big") + self.id + key
        return data

    @staticmethod
    def _client_data(kind: str, options: dict, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": options["challenge"], "origin": origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict, origin: str) -> dict:
        """`navigator.credentials.create()` then `.toJSON()`."""
        self.user_handle = unb64(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options, origin)
        auth_data = self._auth_data(0, True)
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04" + b"".join(
            c.to_bytes(32, "big") for c in self.q
        )
        return {
            "id": b64(self.id), "rawId": b64(self.id), "type": "public-key",
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(client_data), "attestationObject": b64(attestation),
                "authenticatorData": b64(auth_data), "transports": ["internal"],
                "publicKey": b64(spki), "publicKeyAlgorithm": -7,
            },
        }

    def get(self, options: dict, origin: str, counter: int) -> dict:
        """`navigator.credentials.get()` then `.toJSON()`, signing `counter`."""
        client_data = self._client_data("webauthn.get", options, origin)
        auth_data = self._auth_data(counter, False)
        signature = ecdsa_sign(self.d, auth_data + hashlib.sha256(client_data).digest())
        return {
            "id": b64(self.id), "rawId": b64(self.id), "type": "public-key",
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                "signature": b64(signature), "userHandle": b64(self.user_handle),
            },
        }


# --- a browser without JavaScript ---------------------------------------------
class Page:
    def __init__(self, status: int, location: str | None, text: str):
        self.status, self.location, self.text = status, location, text

    def form(self, action: str) -> dict | None:
        """The hidden fields of the form posting to `action`, or None."""
        for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", self.text, re.S | re.I):
            if _attr(attrs, "action") != action:
                continue
            fields = {}
            for tag in re.findall(r"<input\b[^>]*>", inner, re.I):
                if _attr(tag, "type") == "hidden" and _attr(tag, "name"):
                    fields[_attr(tag, "name")] = _attr(tag, "value") or ""
            return fields
        return None


def _attr(tag: str, name: str) -> str | None:
    m = re.search(rf'\s{name}="([^"]*)"', tag, re.I)
    return html.unescape(m.group(1)) if m else None


class Browser:
    """Cookies kept across servers (they live in the database, and a
    restart changes only the port); raises OSError/HTTPException when the
    server is gone, like relcommon.Client."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def forget(self) -> None:
        self.cookies.clear()

    def request(self, port: int, method: str, target: str, form: dict | None = None) -> Page:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            headers = {}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urlencode(form).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, target, body=body, headers=headers)
            res = conn.getresponse()
            text = res.read().decode("utf-8", "replace")
            for header in res.headers.get_all("set-cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            return Page(res.status, res.getheader("location"), text)
        finally:
            conn.close()


def local(location: str) -> str:
    """The path and query of a Location on the server itself."""
    parts = urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64(hashlib.sha256(verifier.encode()).digest())
