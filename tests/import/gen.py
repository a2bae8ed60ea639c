"""Makes the users tests/import/run.sh imports, with the hashing libraries
of other ecosystems (never toktok's code), and the sample exports the
docs/import/ recipes turn into import lines.

    python gen.py WORK

Writes into WORK:
  libs.ndjson       import lines hashed by Python bcrypt, argon2-cffi,
                    passlib and Django's hashers
  keycloak.json     a realm export (PBKDF2-SHA256, -SHA512 and Argon2 credentials,
                    stored as Keycloak stores them)
  firebase.json     `firebase auth:export` output: Firebase's published
                    example user and one hashed here (hashlib.scrypt +
                    AES-256-CTR from `cryptography`)
  pocketbase.db     a PocketBase data.db with its users table
  gotrue.sql        rows for a GoTrue auth.users table (bcrypt $2a$10$)
  passwords.json    address -> password, for the sign-ins
"""

import base64
import hashlib
import json
import os
import sqlite3
import sys

import argon2
import bcrypt
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from passlib import hash as passlib_hash

import django
from django.conf import settings

settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]
)
django.setup()
from django.contrib.auth.hashers import make_password  # noqa: E402

work = sys.argv[1]
passwords = {}
b64 = lambda b: base64.b64encode(b).decode()


def password(email):
    # One in five has letters NFKC would change (toktok hashes the NFKC
    # form; these systems hashed what was typed).
    n = len(passwords)
    pw = f"pw {n} caf\u0065\u0301 {os.urandom(4).hex()}" if n % 5 == 0 else f"pw-{n}-{os.urandom(6).hex()}"
    passwords[email] = pw
    return pw


lines = []


def add(email, make, **extra):
    pw = password(email)
    lines.append({"email": email, "password_hash": make(pw), "email_confirmed": True, **extra})


add("py-bcrypt@example.com", lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(10)).decode())
add("py-bcrypt-2a@example.com", lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(8, prefix=b"2a")).decode())
add("argon2id@example.com", lambda pw: argon2.PasswordHasher().hash(pw))
add("argon2i@example.com", lambda pw: argon2.PasswordHasher(type=Type.I).hash(pw))
add("passlib-pbkdf2-sha256@example.com", lambda pw: passlib_hash.pbkdf2_sha256.hash(pw))
add("passlib-pbkdf2-sha512@example.com", lambda pw: passlib_hash.pbkdf2_sha512.hash(pw))
add("passlib-pbkdf2-sha1@example.com", lambda pw: passlib_hash.pbkdf2_sha1.hash(pw))
add("passlib-scrypt@example.com", lambda pw: passlib_hash.scrypt.hash(pw))
add("passlib-sha512-crypt@example.com", lambda pw: passlib_hash.sha512_crypt.hash(pw))
add("passlib-sha256-crypt@example.com", lambda pw: passlib_hash.sha256_crypt.hash(pw))
add("passlib-argon2@example.com", lambda pw: passlib_hash.argon2.hash(pw))
add("django-pbkdf2@example.com", lambda pw: make_password(pw, hasher="pbkdf2_sha256"))
add("django-pbkdf2-sha1@example.com", lambda pw: make_password(pw, hasher="pbkdf2_sha1"))
add("django-argon2@example.com", lambda pw: make_password(pw, hasher="argon2"))
add("django-bcrypt-sha256@example.com", lambda pw: make_password(pw, hasher="bcrypt_sha256"))
add("django-scrypt@example.com", lambda pw: make_password(pw, hasher="scrypt"))
# One cheap hash: imported, and reported as weak.
add("cheap@example.com", lambda pw: bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4)).decode())
with open(f"{work}/libs.ndjson", "w") as f:
    for line in lines:
        f.write(json.dumps(line) + "\n")

# Keycloak stores base64 hash and salt in secretData, the parameters in
# credentialData (both JSON in a string).
def keycloak_user(email, algorithm):
    pw = password(email)
    salt = os.urandom(16)
    if algorithm == "argon2":
        value = hash_secret_raw(pw.encode(), salt, time_cost=5, memory_cost=7168,
                                parallelism=1, hash_len=32, type=Type.ID)
        data = {"hashIterations": 5, "algorithm": "argon2", "additionalParameters": {
            "hashLength": ["32"], "memory": ["7168"], "type": ["id"],
            "version": ["1.3"], "parallelism": ["1"]}}
    else:
        digest, iterations, length = {"pbkdf2-sha256": ("sha256", 27500, 64),
                                      "pbkdf2-sha512": ("sha512", 210000, 64)}[algorithm]
        value = hashlib.pbkdf2_hmac(digest, pw.encode(), salt, iterations, length)
        data = {"hashIterations": iterations, "algorithm": algorithm, "additionalParameters": {}}
    return {
        "id": str(__import__("uuid").uuid4()), "createdTimestamp": 1700000000123,
        "username": email, "enabled": True, "emailVerified": True, "email": email,
        "firstName": "Key", "lastName": "Cloak",
        "credentials": [{"type": "password", "createdDate": 1700000000123,
                         "secretData": json.dumps({"value": b64(value), "salt": b64(salt),
                                                   "additionalParameters": {}}),
                         "credentialData": json.dumps(data)}],
    }


realm = {"realm": "acme", "users": [
    keycloak_user("kc-pbkdf2@example.com", "pbkdf2-sha256"),
    keycloak_user("kc-pbkdf2-sha512@example.com", "pbkdf2-sha512"),
    keycloak_user("kc-argon2@example.com", "argon2"),
]}
with open(f"{work}/keycloak.json", "w") as f:
    json.dump(realm, f, indent=2)

# Firebase: the published example, and one user hashed here as Firebase
# describes it (scrypt over salt + separator, then AES-256-CTR of the signer
# key with the first 32 bytes as key and a zero counter).
signer = base64.b64decode("jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==")
separator = base64.b64decode("Bw==")
passwords["firebase-published@example.com"] = "user1password"
pw = password("firebase-new@example.com")
salt = os.urandom(12)
key = hashlib.scrypt(pw.encode(), salt=salt + separator, n=2**14, r=8, p=1, dklen=64)[:32]
enc = Cipher(algorithms.AES(key), modes.CTR(b"\0" * 16)).encryptor()
fb_hash = enc.update(signer) + enc.finalize()
firebase = {"users": [
    {"localId": "Ptz6rr1S4cf7SNcuPalPrs5Wm3b2", "email": "firebase-published@example.com",
     "emailVerified": True, "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
     "salt": "42xEC+ixf3L2lw==", "createdAt": "1520000000000", "displayName": "Published"},
    {"localId": "c2lnbmVyLWtleQ", "email": "firebase-new@example.com", "emailVerified": False,
     "passwordHash": b64(fb_hash), "salt": b64(salt), "createdAt": "1600000000000"},
    {"localId": "phoneOnly", "phoneNumber": "+15555550100"},
]}
with open(f"{work}/firebase.json", "w") as f:
    json.dump(firebase, f, indent=2)

# PocketBase's users table (pb_data/data.db), bcrypt as Go writes it ($2a$).
db = sqlite3.connect(f"{work}/pocketbase.db")
db.execute("""CREATE TABLE users (avatar TEXT DEFAULT '' NOT NULL, created TEXT DEFAULT '' NOT NULL,
    email TEXT DEFAULT '' NOT NULL, emailVisibility BOOLEAN DEFAULT FALSE NOT NULL,
    id TEXT PRIMARY KEY NOT NULL, name TEXT DEFAULT '' NOT NULL, password TEXT DEFAULT '' NOT NULL,
    tokenKey TEXT DEFAULT '' NOT NULL, updated TEXT DEFAULT '' NOT NULL,
    verified BOOLEAN DEFAULT FALSE NOT NULL)""")
for i, (email, name) in enumerate([("pb-one@example.com", "Pat"), ("pb-two@example.com", "")]):
    pw = password(email)
    hashed = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(10, prefix=b"2a")).decode()
    db.execute("INSERT INTO users (created, email, id, name, password, tokenKey, updated, verified) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               ("2024-05-06 07:08:09.123Z", email, f"pbrecord{i:07d}", name, hashed, os.urandom(8).hex(),
                "2024-05-06 07:08:09.123Z", i == 0))
db.commit()

# GoTrue: rows for auth.users (the columns the recipe reads).
with open(f"{work}/gotrue.sql", "w") as f:
    f.write("""CREATE SCHEMA auth;
CREATE TABLE auth.users (instance_id uuid, id uuid PRIMARY KEY, aud varchar(255), role varchar(255),
  email varchar(255), encrypted_password varchar(255), email_confirmed_at timestamptz,
  raw_app_meta_data jsonb, raw_user_meta_data jsonb, created_at timestamptz, updated_at timestamptz,
  banned_until timestamptz, deleted_at timestamptz, is_anonymous boolean NOT NULL DEFAULT false);
""")
    rows = [("gt-one@example.com", True, None), ("gt-two@example.com", False, None),
            ("gt-banned@example.com", True, "2999-01-01")]
    for email, confirmed, banned in rows:
        pw = password(email)
        hashed = bcrypt.hashpw(pw.encode(), bcrypt.gensalt(10, prefix=b"2a")).decode()
        f.write("INSERT INTO auth.users VALUES ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), "
                f"'authenticated', 'authenticated', '{email}', '{hashed}', "
                f"{'now()' if confirmed else 'NULL'}, "
                "'{\"provider\":\"email\",\"providers\":[\"email\"]}', '{\"plan\":\"free\"}', "
                f"now() - interval '3 days', now(), {repr(banned) if banned else 'NULL'}, NULL, false);\n")
    f.write("INSERT INTO auth.users (id, email, encrypted_password, created_at, deleted_at) "
            "VALUES (gen_random_uuid(), 'gt-deleted@example.com', '', now(), now());\n")
    f.write("INSERT INTO auth.users (id, email, encrypted_password, created_at, is_anonymous) "
            "VALUES (gen_random_uuid(), NULL, '', now(), true);\n")

with open(f"{work}/passwords.json", "w") as f:
    json.dump(passwords, f, indent=2)
