"""Writes independent.json: an RSA key and JWEs sealed by Python's
`cryptography` (OpenSSL), which share no code with aws-lc or ring, so
src/auth/jwe/tests.rs can check toktok's decryption, kid and public-key
object against an implementation of its own. Test data only: the key
protects nothing.

    python3 src/auth/jwe/testdata/independent.py   (cryptography >= 42)
"""
import base64, hashlib, json, os, pathlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pub = key.public_key()
n, e = b64(uint(pub.public_numbers().n)), b64(uint(pub.public_numbers().e))
# RFC 7638: the required members in lexicographic order, no whitespace.
kid = b64(hashlib.sha256(json.dumps({"e": e, "kty": "RSA", "n": n}, separators=(",", ":"), sort_keys=True).encode()).digest())
oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
plaintext = b'{"email":"a@example.com","password":"correct horse battery staple"}'


def seal(header: dict) -> str:
    protected = b64(json.dumps(header, separators=(",", ":")).encode())
    cek, iv = os.urandom(32), os.urandom(12)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode())
    ct, tag = sealed[:-16], sealed[-16:]
    return ".".join([protected, b64(pub.encrypt(cek, oaep)), b64(iv), b64(ct), b64(tag)])


out = {
    "pkcs8": base64.b64encode(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())).decode(),
    "pem": pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
    "n": n,
    "e": e,
    "kid": kid,
    "plaintext": plaintext.decode(),
    "jwe": seal({"alg": "RSA-OAEP-256", "enc": "A256GCM"}),
    "jwe_with_kid": seal({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": kid}),
}
path = pathlib.Path(__file__).with_name("independent.json")
path.write_text(json.dumps(out, indent=1) + "\n")
