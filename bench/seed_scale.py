#!/usr/bin/env python3
"""Seeds a toktok database for the scale workloads of bench/run.sh (issue 8).

Usage: python3 bench/seed_scale.py DB USERS CHALLENGES EXPIRED [PASSKEYS GRANTS]

DB must already hold toktok's schema (a database the server has opened) and
no server may be running on it. Adds USERS users and CHALLENGES challenges,
EXPIRED of which have already expired (waiting for the sweeper), then
PASSKEYS passkeys and GRANTS OpenID Connect grants (issue 25; default 0).

The fast path: SQLite generates every row itself (`WITH RECURSIVE` counters,
one INSERT ... SELECT per kind of row), all in one transaction with the
journal off, so nothing crosses the Python/SQLite boundary per row. Keys are
generated in ascending order, so the B-trees are appended to rather than
split at random. The journal goes back to WAL at the end, as toktok wants it.
About a minute for 1 M users and 5 M challenges here.

The rows are shaped like the ones toktok writes (same columns, same indices,
same sizes; compare `sqlite3 toktok.db 'select * from challenges'` after a
few API calls):

- users: UUIDv7-shaped ids in creation order, `scale-NNNNNNN@scale.example`,
  a PBKDF2 PHC string of the real length (hex in place of base64: nobody
  logs in as these users; the benchmark's own users are real ones), `{}`
  metadata, created over the past year.
- challenges, a mix of what an application keeps:
  1/5 `email-confirm` for a user id (encrypted UUID secret, ttl 1 h),
  2/5 `login-otp` (6-digit secret, metadata `{"ip": ...}`, ttl 10 min),
  1/5 `password-reset` for a user id (encrypted UUID secret, ttl 1 h),
  1/5 `magic-link` (encrypted UUID secret, ttl 15 min);
  every one with a 64-hex secret_hash. The EXPIRED rows are spread evenly
  over all four kinds, with `expires_at` in the past day;
  the others expire a day from now, so none expires while the suite runs.
- passkeys (issue 25): one per seeded user in turn, a random credential id
  (base64url-sized, so the UNIQUE index is filled in random order, as real
  ones are) and a `credential` shaped like webauthn-rs's serialized
  `Passkey` (an ES256 key, about 560 bytes).
- OIDC grants (issue 25): one confidential client, `scale-client`; per
  grant, a user's consent to it and a live session of it (the row a
  code exchange writes: `client_id`, `scope`, a 64-hex refresh hash in
  random order, expiring in 30 days).
"""

import sqlite3
import sys
import time


def main() -> None:
    if len(sys.argv) not in (5, 7):
        sys.exit(__doc__.split("\n\n")[1])
    path = sys.argv[1]
    users, challenges, expired = (int(a) for a in sys.argv[2:5])
    passkeys, grants = (int(a) for a in sys.argv[5:7]) if len(sys.argv) == 7 else (0, 0)
    if not 0 <= expired <= challenges:
        sys.exit("EXPIRED must be between 0 and CHALLENGES")
    if (passkeys or grants) and users == 0:
        sys.exit("passkeys and grants belong to seeded users: USERS must be above 0")
    if grants > users:
        sys.exit("GRANTS must not exceed USERS (one consent per user and client)")
    now = int(time.time())
    t0 = time.monotonic()

    conn = sqlite3.connect(path, isolation_level=None)
    if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'challenges'").fetchone()[0] != 1:
        sys.exit(f"{path} holds no toktok schema: start toktok on it once first")
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -512000")  # 512 MB while seeding
    conn.execute("BEGIN")

    # A UUIDv7-shaped id for counter n, ascending with n (48-bit ms, then
    # random-looking bits), as toktok's ids are.
    def uuid7(n: str, ms: str) -> str:
        return (
            f"printf('%08x-%04x-7%03x-%04x-%012x', ({ms}) >> 16, ({ms}) & 65535, "
            f"{n} & 4095, 32768 | (({n} >> 12) & 16383), abs(random()) % 281474976710656)"
        )

    base = conn.execute("SELECT coalesce(max(rowid), 0) FROM users").fetchone()[0]
    year = 365 * 86400
    # Users: created over the past year, in id order.
    user_ms = f"(({now} - {year}) * 1000 + n * ({year} * 1000 / {max(users, 1)}))"
    conn.execute(
        f"""
        WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {users})
        INSERT INTO users (id, email, email_key, email_confirmed_at, name, role, metadata,
                           app_metadata, password_hash, disabled, created_at, updated_at,
                           last_login_at)
        SELECT {uuid7('n', user_ms)},
               printf('Scale-%07d@scale.example', n), printf('scale-%07d@scale.example', n),
               CASE WHEN n % 4 THEN {user_ms} / 1000 + 60 END,
               CASE WHEN n % 3 = 0 THEN printf('Scale User %d', n) END,
               'user', '{{}}', '{{}}',
               '$pbkdf2-sha256$i=600000,l=32$' || substr(hex(randomblob(11)), 1, 22) || '$'
                   || substr(hex(randomblob(22)), 1, 43),
               0, {user_ms} / 1000, {user_ms} / 1000,
               CASE WHEN n % 2 THEN {now} - (n % 86400) END
        FROM c
        """
    )
    t_users = time.monotonic() - t0

    # Challenges: four kinds, each generated in key order. Row n (1-based,
    # across all kinds) is expired when n * EXPIRED / CHALLENGES crosses an
    # integer: exactly EXPIRED rows, spread evenly.
    kinds = [
        # (action, share of 5, id expression, secret settings, metadata, ttl)
        ("email-confirm", 1, "uid", '{"encrypt":true,"type":"uuid"}', "'null'", 3600),
        ("login-otp", 2, "printf('otp-%08d', k)", '{"encrypt":false,"length":6,"type":"number"}',
         "printf('{\"ip\":\"10.%d.%d.%d\"}', k % 256, (k / 256) % 256, (k / 65536) % 256)", 600),
        ("password-reset", 1, "uid", '{"encrypt":true,"type":"uuid"}', "'null'", 3600),
        ("magic-link", 1, "printf('ml-%08d', k)", '{"encrypt":true,"type":"uuid"}', "'null'", 900),
    ]
    start = 0
    for index, (action, share, id_expr, settings, metadata, ttl) in enumerate(kinds):
        count = challenges * share // 5 if index < len(kinds) - 1 else challenges - start
        # k: 1..count within the kind; n: the row's number overall.
        # For user-keyed kinds the id is the k-th seeded user's id (users repeat
        # when there are more challenges than users, with a suffix).
        uid_expr = (
            f"(SELECT id FROM users WHERE rowid = {base} + ((k - 1) % {max(users, 1)}) + 1)"
            f" || CASE WHEN k > {max(users, 1)} THEN printf('-%d', (k - 1) / {max(users, 1)}) ELSE '' END"
        )
        id_sql = id_expr.replace("uid", uid_expr) if id_expr == "uid" else id_expr
        expired_test = (
            f"((({start} + k) * {expired}) / {challenges} > (({start} + k - 1) * {expired}) / {challenges})"
        )
        conn.execute(
            f"""
            WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < {count})
            INSERT INTO challenges (action, id, uid, secret, secret_hash, metadata, created_at,
                                    verified_at, ttl, expires_at, throttle, throttle_until,
                                    attempts)
            SELECT '{action}', {id_sql}, NULL, '{settings}', lower(hex(randomblob(32))),
                   {metadata},
                   CASE WHEN {expired_test} THEN {now} - 86400 - {ttl} + (k % 86400)
                        ELSE {now} - (k % 60) END,
                   NULL, {ttl},
                   CASE WHEN {expired_test} THEN {now} - 86400 + (k % 86400)
                        ELSE {now} + 86400 + (k % 3600) END,
                   0, NULL, k % 3
            FROM c
            """
        )
        start += count
    t_challenges = time.monotonic() - t0
    seed_factors_and_grants(conn, base, users, passkeys, grants, now, uuid7)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    got = conn.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM challenges),"
        " (SELECT count(*) FROM challenges WHERE expires_at <= ?),"
        " (SELECT count(*) FROM passkeys), (SELECT count(*) FROM oauth_consents),"
        " (SELECT count(*) FROM sessions WHERE client_id IS NOT NULL)",
        (now,),
    ).fetchone()
    conn.close()
    print(
        f"seeded in {time.monotonic() - t0:.1f} s (users {t_users:.1f} s, "
        f"to the challenges {t_challenges:.1f} s): "
        f"{got[0]} users, {got[1]} challenges, {got[2]} expired, "
        f"{got[3]} passkeys, {got[4]} consents and {got[5]} client sessions"
    )


def seed_factors_and_grants(conn, base, users, passkeys, grants, now, uuid7) -> None:
    """PASSKEYS passkeys and GRANTS OIDC grants for the seeded users (the
    k-th row goes to seeded user k, round the users again if need be)."""
    user_of = f"(SELECT id FROM users WHERE rowid = {base} + ((k - 1) % {max(users, 1)}) + 1)"
    # Created over the past week, in id order; sessions live 30 days, so
    # none expires (and no sweeper runs) while the suite runs.
    week, month = 7 * 86400, 30 * 86400
    ms = f"({now} * 1000 - {week} * 1000 + k * ({week} * 1000 / {max(passkeys, grants, 1)}))"
    # n random characters of the base64url alphabet (hex, with two letters
    # made into '-' and '_').
    b64 = "replace(replace(substr(hex(randomblob({n})), 1, {n}), 'A', '-'), 'B', '_')"
    if passkeys:
        # webauthn-rs's `Passkey`, serialized as toktok stores it: the shape
        # and size, with random coordinates (nobody signs in with these).
        credential = (
            """'{"cred":{"cred_id":"' || cid || '","cred":{"type_":"ES256","key":{"EC_EC2":'"""
            """ || '{"curve":"SECP256R1","x":"' || """ + b64.format(n=43) + """ || '","y":"' || """
            + b64.format(n=43)
            + """ || '"}}},"counter":0,"transports":["internal","hybrid"],"user_verified":true,'"""
            """ || '"backup_eligible":true,"backup_state":true,"registration_policy":"required",'"""
            """ || '"extensions":{"cred_protect":"NotRequested","hmac_create_secret":"NotRequested",'"""
            """ || '"appid":"NotRequested","cred_props":"Ignored"},"attestation":{"data":"None",'"""
            """ || '"metadata":"None"},"attestation_format":"none"}}'"""
        )
        conn.execute(
            f"""
            WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < {passkeys}),
                 p(k, cid) AS (SELECT k, {b64.format(n=22)} || printf('%07x', k) FROM c)
            INSERT INTO passkeys (id, user_id, credential_id, name, credential, sign_count,
                                  backup_eligible, backed_up, created_at, last_used_at)
            SELECT {uuid7('k', ms)}, {user_of}, cid, 'Passkey', {credential}, 0, 1, 1,
                   {ms} / 1000, CASE WHEN k % 2 THEN {now} - (k % 86400) END
            FROM p
            """
        )
    if grants:
        conn.execute(
            f"""
            INSERT INTO oauth_clients (client_id, name, type, secret_hash, redirect_uris,
                                       post_logout_redirect_uris, grant_types, scopes,
                                       audience, skip_consent, id_token_alg, created_at,
                                       updated_at)
            VALUES ('scale-client', 'Scale client', 'confidential', lower(hex(randomblob(32))),
                    '["https://app.scale.example/callback"]', '[]',
                    '["authorization_code","refresh_token"]', '["openid","email","profile"]',
                    NULL, 0, 'RS256', {now} - {month}, {now} - {month})
            """
        )
        conn.execute(
            f"""
            WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < {grants})
            INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at, updated_at)
            SELECT {user_of}, 'scale-client', '["openid","email"]', {ms} / 1000, {ms} / 1000
            FROM c
            """
        )
        conn.execute(
            f"""
            WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM c WHERE k < {grants})
            INSERT INTO sessions (id, user_id, refresh_hash, rotated_at_ms, created_at,
                                  last_used_at, expires_at, user_agent, ip, auth_time, amr, aal,
                                  factor, client_id, scope, parent_id)
            SELECT {uuid7('k', ms)}, {user_of}, lower(hex(randomblob(32))), {ms}, {ms} / 1000,
                   {ms} / 1000, {ms} / 1000 + {month}, 'Mozilla/5.0 (scale)',
                   printf('10.%d.%d.%d', k % 256, (k / 256) % 256, (k / 65536) % 256),
                   {ms} / 1000, '["pwd"]', 1, NULL, 'scale-client', 'openid email', NULL
            FROM c
            """
        )


if __name__ == "__main__":
    main()
