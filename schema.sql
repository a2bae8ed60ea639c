-- toktok's SQLite schema.
--
-- The file is read as numbered migrations: each `-- migration: N` line starts
-- migration N, which runs in its own transaction and then sets
-- `PRAGMA user_version = N`. A migration, once released, is never edited:
-- changes arrive as a new numbered section at the end.
--
-- Conventions: ids are UUIDv7 text; times are INTEGER unix seconds (UTC);
-- secrets are never stored, only SHA-256 hashes (hex) of them.

-- migration: 1
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    -- lower-cased email: the uniqueness key, so "A@x.io" and "a@x.io" are one account
    email_key           TEXT NOT NULL UNIQUE,
    email_confirmed_at  INTEGER,
    name                TEXT,
    role                TEXT NOT NULL DEFAULT 'user',
    metadata            TEXT NOT NULL DEFAULT '{}',
    app_metadata        TEXT NOT NULL DEFAULT '{}',
    -- PHC string; NULL for an account created without a password
    password_hash       TEXT,
    disabled            INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    last_login_at       INTEGER
);

-- A session is one sign-in and its family of rotating refresh tokens.
-- Only the current refresh token (`refresh_hash`) and its immediate
-- predecessor (`prev_refresh_hash`, for the reuse grace window) are known;
-- any other genuine token of the family presented again is reuse.
CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash        TEXT NOT NULL UNIQUE,
    prev_refresh_hash   TEXT,
    -- when the current refresh token was issued (start of the grace window)
    rotated_at          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER NOT NULL,
    -- absolute end of the family (refresh_ttl from sign-in)
    expires_at          INTEGER NOT NULL,
    user_agent          TEXT,
    ip                  TEXT,
    revoked_at          INTEGER,
    revoked_reason      TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- Consecutive failed logins per email key (known or not, so the throttle
-- itself does not reveal which addresses have accounts).
CREATE TABLE login_failures (
    email_key           TEXT PRIMARY KEY,
    failures            INTEGER NOT NULL,
    last_failed_at      INTEGER NOT NULL
);

-- JWT signing keys. The newest row of the configured algorithm signs; older
-- rows keep verifying until `retired_at` + refresh lifetime.
CREATE TABLE signing_keys (
    kid                 TEXT PRIMARY KEY,
    alg                 TEXT NOT NULL,
    private_der         BLOB NOT NULL,
    public_jwk          TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    retired_at          INTEGER
);

-- Server-held secrets that are not signing keys (e.g. the refresh-token
-- chain key). Generated at first start.
CREATE TABLE server_secrets (
    name                TEXT PRIMARY KEY,
    value               BLOB NOT NULL,
    created_at          INTEGER NOT NULL
);

-- Append-only security events (SECURITY.md L4). Never holds a secret.
CREATE TABLE audit_events (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  INTEGER NOT NULL,
    kind                TEXT NOT NULL,
    user_id             TEXT,
    actor               TEXT,
    ip                  TEXT,
    user_agent          TEXT,
    detail              TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_user ON audit_events(user_id, id);
CREATE INDEX audit_events_kind ON audit_events(kind, id);

-- migration: 2
-- Challenge tokens (src/challenge/): one live challenge per (action, id).
-- The secret is never stored, only a keyed hash of it; encrypted secrets
-- (tokens) are decrypted with `challenge_keys`.
CREATE TABLE challenges (
    action              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    -- set when `regenerate` was asked for: a handle to regenerate by
    uid                 TEXT UNIQUE,
    -- the secret's kind and settings, as JSON: {"type","alphabet","length","encrypt"}
    secret              TEXT NOT NULL,
    -- HMAC-SHA256 (hex) of the raw secret; NULL for challenges without one
    secret_hash         TEXT,
    metadata            TEXT NOT NULL DEFAULT 'null',
    created_at          INTEGER NOT NULL,
    verified_at         INTEGER,
    ttl                 INTEGER NOT NULL,
    -- NULL: never expires
    expires_at          INTEGER,
    throttle            INTEGER NOT NULL DEFAULT 0,
    -- no new challenge for this pair before this time
    throttle_until      INTEGER,
    attempts            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (action, id)
) WITHOUT ROWID;
CREATE INDEX challenges_expires ON challenges(expires_at) WHERE expires_at IS NOT NULL;

-- Keys of the challenge-token AEAD. The newest encrypts; all decrypt.
CREATE TABLE challenge_keys (
    kid                 TEXT PRIMARY KEY,
    key                 BLOB NOT NULL,
    created_at          INTEGER NOT NULL
);

-- Service API keys (`tk_…`). Only a SHA-256 of the key is stored.
CREATE TABLE api_keys (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    key_hash            TEXT NOT NULL UNIQUE,
    -- JSON array of scopes, e.g. ["challenges","admin"]
    scopes              TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER,
    revoked_at          INTEGER
);

-- migration: 3
-- The durable mail outbox (src/mail/). A message is queued in the same
-- transaction as the change it reports, and deleted once sent. It holds no
-- secret: a message with a link names the challenge to mint (`link`), and
-- the worker creates that challenge, and so the token, when it sends.
CREATE TABLE outbox (
    -- UUIDv7: the send order
    id                  TEXT PRIMARY KEY,
    kind                TEXT NOT NULL,
    recipient           TEXT NOT NULL,
    user_id             TEXT REFERENCES users(id) ON DELETE CASCADE,
    -- JSON {"action","id","path","metadata"} of the link to mint, or NULL
    link                TEXT,
    -- JSON of the template's non-secret variables
    vars                TEXT NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT,
    -- set when the worker gave up; such rows are kept a while, then swept
    failed_at           INTEGER
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE failed_at IS NULL;

-- migration: 4
-- RSA keys that decrypt JWE request bodies (src/auth/rsa.rs, SECURITY.md
-- O3): kept here so that every restart and every worker uses the same key.
-- The newest row without `retired_at` is the current key; a rotated-out key
-- keeps decrypting for a grace period (24 h) after `retired_at`, then its row
-- is deleted.
CREATE TABLE rsa_keys (
    kid                 TEXT PRIMARY KEY,
    -- PKCS#8 DER of the private key
    private_der         BLOB NOT NULL,
    created_at          INTEGER NOT NULL,
    retired_at          INTEGER
);

-- migration: 5
-- The per-address mail throttle (one mail of a kind per user a minute,
-- src/accounts/email.rs): claimed in the transaction that queues the mail,
-- so a crash can never leave the slot taken and the mail unqueued.
CREATE TABLE mail_slots (
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    -- unix seconds until which no other mail of this kind is queued
    until               INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

-- migration: 6
-- Lockout by client (TT-09): failed sign-ins and current-password checks
-- per (account, client address), beside the per-account count of
-- `login_failures`, so one address cannot keep an owner out; and the
-- clients an account signed in from before, whose correct password passes
-- the per-account lockout (src/accounts/mod.rs, "Lockout").
CREATE TABLE login_failures_by_client (
    email_key           TEXT NOT NULL,
    -- an IPv4 address or an IPv6 /64 (src/ratelimit.rs `client_key`)
    client              TEXT NOT NULL,
    failures            INTEGER NOT NULL,
    last_failed_at      INTEGER NOT NULL,
    PRIMARY KEY (email_key, client)
) WITHOUT ROWID;
CREATE INDEX login_failures_by_client_last ON login_failures_by_client(last_failed_at);
CREATE TABLE sign_in_clients (
    -- HMAC of (email key, client address) under a server key: the table
    -- does not list the addresses a user comes from
    client_hash         TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_seen_at        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sign_in_clients_user ON sign_in_clients(user_id);

-- migration: 7
-- Token shapes v1.1 (issue 16, "tokens no standard verifier can misuse").
-- Refresh tokens become opaque (`rt_…`), so a presented one is found by its
-- hash: the current one by `sessions.refresh_hash`, every earlier one of the
-- family by `spent_refresh_tokens` (presenting one is reuse, R2, however
-- old). The session keeps how and when the user signed in (`auth_time`,
-- `amr`, RFC 8176 as a JSON array) so refreshed access tokens carry them,
-- and the rotation time in milliseconds so the reuse grace is exact.
ALTER TABLE sessions RENAME COLUMN rotated_at TO rotated_at_ms;
UPDATE sessions SET rotated_at_ms = rotated_at_ms * 1000;
ALTER TABLE sessions ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = created_at;
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]';
-- One row per rotation, gone with its session (the sweeper deletes ended
-- sessions).
CREATE TABLE spent_refresh_tokens (
    -- SHA-256 (hex) of a refresh token's secret that has been rotated out
    hash                TEXT PRIMARY KEY,
    session_id          TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX spent_refresh_tokens_session ON spent_refresh_tokens(session_id);

-- migration: 8
-- then: rekey email addresses (NFKC, TT-11): after this SQL, in the same
-- transaction, toktok re-keys the stored addresses under the new rule and
-- logs the accounts it cannot (src/domain/email.rs, plan_rekey).
-- Challenge namespaces (issue 16, TT-01): toktok's own email links
-- (`toktok:password-reset`, `toktok:email-change`, `toktok:confirm-email`)
-- live in namespace 'toktok', the challenges of `/v1/challenges*` in 'api'.
-- The namespace is part of the key, and of a token's authenticated data, so
-- the challenge API can neither name nor open a link challenge. Rows that
-- exist already are sorted by their action, so links mailed before the
-- upgrade keep working. SQLite cannot change a primary key in place: the
-- table is rebuilt.
CREATE TABLE challenges_new (
    -- 'toktok' (email links, src/mail/) or 'api' (/v1/challenges*)
    namespace           TEXT NOT NULL DEFAULT 'api',
    action              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    uid                 TEXT UNIQUE,
    secret              TEXT NOT NULL,
    secret_hash         TEXT,
    metadata            TEXT NOT NULL DEFAULT 'null',
    created_at          INTEGER NOT NULL,
    verified_at         INTEGER,
    ttl                 INTEGER NOT NULL,
    expires_at          INTEGER,
    throttle            INTEGER NOT NULL DEFAULT 0,
    throttle_until      INTEGER,
    attempts            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (namespace, action, id)
) WITHOUT ROWID;
INSERT INTO challenges_new (namespace, action, id, uid, secret, secret_hash, metadata,
        created_at, verified_at, ttl, expires_at, throttle, throttle_until, attempts)
    SELECT CASE WHEN substr(action, 1, 7) = 'toktok:' THEN 'toktok' ELSE 'api' END,
           action, id, uid, secret, secret_hash, metadata, created_at, verified_at, ttl,
           expires_at, throttle, throttle_until, attempts
    FROM challenges;
DROP TABLE challenges;
ALTER TABLE challenges_new RENAME TO challenges;
CREATE INDEX challenges_expires ON challenges(expires_at) WHERE expires_at IS NOT NULL;

-- The per-address mail throttle (issue 16, TT-05 and TT-08): one mail of a
-- kind per address a minute, whether or not the address has an account (an
-- email change's new address has none; a forgot for an unknown address
-- claims its slot too, so it costs the same durable write as a known one).
-- Keyed by the SHA-256 (hex) of the address's key, never the address.
-- Rows are swept once expired (src/mail/outbox.rs).
CREATE TABLE mail_address_slots (
    address_hash        TEXT NOT NULL,
    kind                TEXT NOT NULL,
    -- unix seconds until which no other mail of this kind goes to the address
    until               INTEGER NOT NULL,
    PRIMARY KEY (address_hash, kind)
) WITHOUT ROWID;

-- migration: 9
-- Sign-in beyond passwords (issue 18; docs/API.md "Sign-in beyond
-- passwords"). A session keeps its assurance level (1, or 2 after a second
-- factor or a user-verified passkey) and which factor raised it, so removing
-- that factor ends exactly the sessions that depended on it: 'totp',
-- 'recovery_code', or 'passkey:<passkeys.id>'; NULL at aal 1.
ALTER TABLE sessions ADD COLUMN aal INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN factor TEXT;
-- One TOTP secret a user (RFC 6238, SHA-1, 6 digits, 30 s). Pending until
-- a first code confirms it (`confirmed_at`); a pending row unconfirmed by
-- `pending_until` is as good as absent and is replaced by the next enrolment.
CREATE TABLE totp_factors (
    user_id             TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- base32 (RFC 4648, no padding), 160 random bits
    secret              TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    confirmed_at        INTEGER,
    pending_until       INTEGER,
    -- the highest time step accepted so far: a code of that step or an
    -- earlier one is never accepted again
    last_step           INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- Recovery codes: ten a set, shown once; only their SHA-256 (hex) is kept.
-- A new set replaces the old one.
CREATE TABLE recovery_codes (
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash           TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    used_at             INTEGER,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;
-- Passkeys (WebAuthn). `credential` is webauthn-rs's serialised Passkey
-- (public key, counter, backup flags); the columns beside it are what
-- toktok reads without deserialising it.
CREATE TABLE passkeys (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- base64url of the credential id, as authenticators send it
    credential_id       TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    credential          TEXT NOT NULL,
    sign_count          INTEGER NOT NULL DEFAULT 0,
    backup_eligible     INTEGER NOT NULL DEFAULT 0,
    backed_up           INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER
);
CREATE INDEX passkeys_user ON passkeys(user_id);

-- migration: 10
-- The MFA step of a sign-in (issue 18): a first factor passed, a second is
-- owed. `mfa_token` is `mfa_` + 43 base64url characters (256 random bits);
-- only its SHA-256 (hex) is kept. One use; dead after `expires_at` or five
-- wrong codes, and when the user's password changed since the first
-- factor (`password_hash` is the one it was checked against). Expired rows
-- go when the next flow starts.
CREATE TABLE mfa_flows (
    token_hash          TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email_key           TEXT NOT NULL,
    -- the first factor's RFC 8176 methods, a JSON array
    amr                 TEXT NOT NULL,
    password_hash       TEXT,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    failures            INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX mfa_flows_expires ON mfa_flows(expires_at);

-- migration: 11
-- OAuth clients of toktok as an OpenID Connect provider (issue 19;
-- docs/oidc.md). `secret_hash` is the SHA-256 (hex) of a confidential
-- client's secret (256 random bits, base64url; a fast hash suffices, as for
-- API keys), NULL for a public client. The list columns are JSON arrays of
-- strings; redirect URIs are kept exactly as registered, because the
-- authorize endpoint compares them as strings. `skip_consent` is 0 or 1.
CREATE TABLE oauth_clients (
    client_id           TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    -- 'confidential' | 'public'
    type                TEXT NOT NULL,
    secret_hash         TEXT,
    redirect_uris       TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grant_types         TEXT NOT NULL,
    scopes              TEXT NOT NULL,
    audience            TEXT,
    skip_consent        INTEGER NOT NULL DEFAULT 0,
    -- RS256 | ES256 | EdDSA
    id_token_alg        TEXT NOT NULL DEFAULT 'RS256',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
-- What a user granted a client: the scopes, a JSON array. Revoking it ends
-- the user's sessions of that client.
CREATE TABLE oauth_consents (
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id           TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
    scopes              TEXT NOT NULL,
    granted_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) WITHOUT ROWID;
CREATE INDEX oauth_consents_client ON oauth_consents(client_id);
-- A grant of a client is a session of that client: `client_id` names it
-- (NULL for toktok's own sign-ins), `scope` is what it was granted
-- (space-separated). Deleting a client, or a user's consent to it, ends its
-- sessions by this column. No foreign key: a session outlives nothing, it
-- is revoked, and the revoked row keeps the id for the audit trail.
ALTER TABLE sessions ADD COLUMN client_id TEXT;
ALTER TABLE sessions ADD COLUMN scope TEXT;
CREATE INDEX sessions_client ON sessions(client_id);

-- migration: 12
-- OpenID Connect authorization codes (issue 19; docs/oidc.md). Only the
-- SHA-256 (hex) of a code is kept; it is single use (`used_at`), lives
-- `[oidc] code_ttl`, and is bound to the client, redirect URI and PKCE
-- challenge. `session_id` is the browser session the user signed in with
-- (the ID token's `sid`); `auth_time`, `amr` (a JSON array) and `aal` are
-- that session's, copied when the code was issued. `issued_session` is the
-- client session the first exchange created: what a replay revokes.
CREATE TABLE oauth_codes (
    code_hash           TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL REFERENCES oauth_clients(client_id) ON DELETE CASCADE,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id          TEXT NOT NULL,
    redirect_uri        TEXT NOT NULL,
    scope               TEXT NOT NULL,
    nonce               TEXT,
    code_challenge      TEXT NOT NULL,
    auth_time           INTEGER NOT NULL,
    amr                 TEXT NOT NULL,
    aal                 INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    used_at             INTEGER,
    issued_session      TEXT
) WITHOUT ROWID;
CREATE INDEX oauth_codes_expires ON oauth_codes(expires_at);
-- The browser session a client's session was issued from (NULL for
-- toktok's own sign-ins): RP-initiated logout ends both.
ALTER TABLE sessions ADD COLUMN parent_id TEXT;
CREATE INDEX sessions_parent ON sessions(parent_id);

-- migration: 13
-- Sign-in with other providers (issue 20; docs/providers.md). An identity
-- is one account at one upstream provider (`provider` is its configured id,
-- `subject` the provider's stable `sub` or user id), linked to exactly one
-- toktok user. `email_verified` (0/1) records whether the provider vouched
-- for `email`: a password reset, which proves the address, removes the
-- identities that did not (schema.sql has no other use of the flag).
CREATE TABLE identities (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider            TEXT NOT NULL,
    subject             TEXT NOT NULL,
    email               TEXT,
    email_verified      INTEGER NOT NULL,
    name                TEXT,
    created_at          INTEGER NOT NULL,
    last_login_at       INTEGER,
    UNIQUE (provider, subject)
) WITHOUT ROWID;
CREATE INDEX identities_user ON identities(user_id);
-- A provider sign-in in flight, keyed by the SHA-256 of its `state`: the
-- nonce and PKCE verifier the callback needs (kept here, never in the
-- browser), the browser it must come back to (SHA-256 of the binding
-- cookie; NULL for a link started by an access token), and where it goes
-- next. The callback takes the state once (`state_used_at`); a success
-- then stores the one-use exchange code (hash) on the same row.
CREATE TABLE provider_flows (
    state_hash          TEXT PRIMARY KEY,
    provider            TEXT NOT NULL,
    nonce               TEXT NOT NULL,
    code_verifier       TEXT NOT NULL,
    binding_hash        TEXT,
    redirect_to         TEXT,
    oauth_flow          TEXT,
    link_user_id        TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    state_used_at       INTEGER,
    code_hash           TEXT UNIQUE,
    code_user_id        TEXT REFERENCES users(id) ON DELETE CASCADE,
    code_identity       TEXT,
    code_expires_at     INTEGER,
    code_used_at        INTEGER
) WITHOUT ROWID;
CREATE INDEX provider_flows_expires ON provider_flows(expires_at);

-- migration: 14
-- The user's own language (issue 21; docs/languages.md): "en", "fr", "de"
-- or "es", chosen with `PATCH /v1/users/me {"locale"}`; NULL lets each
-- request choose (`ui_locales`, `Accept-Language`, the default). Pages and
-- mails for this user are in it.
ALTER TABLE users ADD COLUMN locale TEXT;

-- migration: 15
-- Webhooks (issue 22; docs/webhooks.md). `webhooks` are the endpoints an
-- admin registered; `secret` is the `whsec_…` signing secret (kept as is:
-- every delivery is signed with it). `webhook_subscriptions` lists, per
-- event type, the enabled endpoints that want it: what a change reads,
-- in its own transaction, to queue one `webhook_deliveries` row per
-- endpoint. A delivery row is the message itself (`id` is the
-- `webhook-id`, the same on every attempt; `data` the payload's data;
-- `at` when the change happened) and its state: due at
-- `next_attempt_at`, then delivered or failed (given up), kept for the
-- delivery log until `[hooks] retention` has passed.
CREATE TABLE webhooks (
    id                  TEXT PRIMARY KEY,
    url                 TEXT NOT NULL,
    description         TEXT,
    secret              TEXT NOT NULL,
    events              TEXT NOT NULL,
    enabled             INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE TABLE webhook_subscriptions (
    event               TEXT NOT NULL,
    webhook_id          TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    PRIMARY KEY (event, webhook_id)
) WITHOUT ROWID;
CREATE INDEX webhook_subscriptions_webhook ON webhook_subscriptions(webhook_id);
CREATE TABLE webhook_deliveries (
    id                  TEXT PRIMARY KEY,
    webhook_id          TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    type                TEXT NOT NULL,
    data                TEXT NOT NULL,
    at                  INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_attempt_at     INTEGER,
    last_status         INTEGER,
    last_error          TEXT,
    delivered_at        INTEGER,
    failed_at           INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, at);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries(at)
    WHERE delivered_at IS NOT NULL OR failed_at IS NOT NULL;
-- Sessions report themselves: whatever path starts or ends a session (a
-- sign-in, a logout, a reuse, a removed factor, a deleted user…) goes
-- through these rows, so `session.created` and `session.revoked` cannot
-- be forgotten by a new path. The `WHEN` makes them free when nobody
-- subscribes.
CREATE TRIGGER webhook_session_created AFTER INSERT ON sessions
WHEN EXISTS (SELECT 1 FROM webhook_subscriptions WHERE event = 'session.created')
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, type, data, at, next_attempt_at)
    SELECT 'msg_' || lower(hex(randomblob(16))), s.webhook_id, 'session.created',
           json_object('sid', NEW.id, 'sub', NEW.user_id, 'user_id', NEW.user_id,
                       'aal', NEW.aal, 'amr', json(NEW.amr), 'client_id', NEW.client_id),
           NEW.created_at, NEW.created_at
      FROM webhook_subscriptions s WHERE s.event = 'session.created';
END;
CREATE TRIGGER webhook_session_revoked AFTER UPDATE OF revoked_at ON sessions
WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
 AND EXISTS (SELECT 1 FROM webhook_subscriptions WHERE event = 'session.revoked')
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, type, data, at, next_attempt_at)
    SELECT 'msg_' || lower(hex(randomblob(16))), s.webhook_id, 'session.revoked',
           json_object('sid', NEW.id, 'sub', NEW.user_id, 'user_id', NEW.user_id,
                       'reason', NEW.revoked_reason, 'client_id', NEW.client_id),
           NEW.revoked_at, NEW.revoked_at
      FROM webhook_subscriptions s WHERE s.event = 'session.revoked';
END;
