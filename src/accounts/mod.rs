//! The account rules: register, sign in, refresh, sign out, profile,
//! password and sessions.
//!
//! HTTP handlers parse requests and call these functions; everything that is
//! a rule of an auth server (enumeration-safe answers, lockout, rotation and
//! reuse detection, which sessions end when) lives here, once.
//!
//! **Lockout** (SECURITY.md L3, review findings TT-03 and TT-09). Every
//! check of an account's password — a login, or the current password on
//! an authenticated route ([`verify_current_password`]) — takes an attempt
//! before the hash: failures are counted per account and per (account,
//! client address, an IPv6 /64 being one client), and each count waits
//! 1 s after its fifth failure, doubling up to 15 min. A client waiting on
//! its own count is refused. A client waiting only on the account's count
//! is refused too, unless the account signed in from it within
//! [`KNOWN_CLIENT_SECS`]: so an attacker at one address locks out only
//! that address, guesses from many addresses still share the account's
//! back-off, and the owner's known devices keep working. A refused attempt
//! costs no hash and answers 429 saying that a password reset link works
//! (the reset clears the counts).

pub mod admin;
pub mod anonymous;
pub mod email;
pub mod tokens;

use std::net::IpAddr;

use serde::Serialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::jwt::{Claims, JwtError, TokenKind, Validation};
use crate::auth::sha256_hex;
use crate::clock::rfc3339;
use crate::domain::email::Email;
use crate::domain::password::PasswordProblem;
use crate::error::{ApiError, FieldError};
use crate::mail::MailKind;
use crate::ratelimit::{self, Bucket};
use crate::store::{
    AuditEvent, LoginClient, ProfileChange, RefreshDecision, SessionRecord, StoreError, UserRecord,
};

pub use tokens::TokenResponse;

/// Consecutive failures after which an account's logins are slowed (L3).
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// Longest lockout window.
pub const LOCKOUT_CAP_SECS: i64 = 15 * 60;
/// How long a client address an account signed in from passes the
/// account's lockout (TT-09; at most `store::lockout::MAX_KNOWN_CLIENTS`
/// per account are remembered).
pub const KNOWN_CLIENT_SECS: i64 = 90 * 86_400;
/// Largest `metadata` document, serialised (API.md "User object").
pub const METADATA_MAX_BYTES: usize = 16 * 1024;
/// Clock skew allowed on token times (J2 caps it at 60 s).
const LEEWAY_SECS: i64 = 30;
/// Longest display name, in characters.
pub const NAME_MAX_CHARS: usize = 256;

/// Who is asking: for audit events, rate limits and the sessions list.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    fn event(
        &self,
        at: i64,
        kind: &'static str,
        user_id: Option<&str>,
        detail: Value,
    ) -> AuditEvent {
        AuditEvent {
            at,
            kind,
            user_id: user_id.map(str::to_owned),
            actor: None,
            ip: self.ip.map(|ip| ip.to_string()),
            user_agent: self.user_agent.clone(),
            detail,
        }
    }

    async fn limit(&self, state: &AppState, bucket: Bucket) -> Result<(), ApiError> {
        match self.ip {
            Some(ip) => state
                .limiter
                .take(bucket, ip)
                .await
                .map_err(ApiError::RateLimited),
            None => Ok(()),
        }
    }
}

/// The user object of API.md.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = User)]
pub struct UserView {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub email_confirmed: bool,
    #[schema(required = true)]
    pub name: Option<String>,
    pub role: String,
    #[schema(value_type = Object)]
    pub metadata: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            email_confirmed: u.email_confirmed_at.is_some(),
            name: u.name.clone(),
            role: u.role.clone(),
            metadata: u.metadata.clone(),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

/// A signed-in user on one of toktok's own routes: the access token was
/// valid and its session is still live.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRecord,
    pub session: SessionRecord,
    pub claims: Claims,
}

/// What register answers.
#[derive(Debug)]
pub enum Registered {
    SignedIn(Box<TokenResponse>),
    ConfirmationSent(UserView),
}

pub struct Registration {
    /// The anonymous visitor this account grows from, if any.
    pub anonymous_id: Option<String>,
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub metadata: Option<Value>,
}

fn parse_email(field: &str, raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|e| ApiError::field(field, e.to_string()))
}

fn weak(problem: PasswordProblem) -> ApiError {
    ApiError::WeakPassword(problem.to_string())
}

pub(crate) fn check_name(name: &Option<String>) -> Result<(), FieldError> {
    match name {
        Some(n) if n.chars().count() > NAME_MAX_CHARS => Err(FieldError::new(
            "name",
            format!("must be at most {NAME_MAX_CHARS} characters"),
        )),
        Some(n) if n.chars().any(char::is_control) => Err(FieldError::new(
            "name",
            "must not contain control characters",
        )),
        _ => Ok(()),
    }
}

/// A user-supplied JSON document (`metadata`, `app_metadata`): an object
/// of at most [`METADATA_MAX_BYTES`]; errors are reported under `field`.
pub(crate) fn check_metadata(field: &str, metadata: &Value) -> Result<(), FieldError> {
    if !metadata.is_object() {
        return Err(FieldError::new(field, "must be a JSON object"));
    }
    if metadata.to_string().len() > METADATA_MAX_BYTES {
        return Err(FieldError::new(
            field,
            format!("must be at most {METADATA_MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn collect(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Starts a session for `user` and answers with its tokens.
async fn sign_in(
    state: &AppState,
    user: &UserRecord,
    email_key: String,
    rehash: Option<String>,
    meta: &RequestMeta,
    kind: &'static str,
) -> Result<TokenResponse, ApiError> {
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let jti = tokens::random_jti()?;
    let session = SessionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        refresh_hash: sha256_hex(&jti),
        prev_refresh_hash: None,
        rotated_at_ms: now_ms,
        created_at: now,
        last_used_at: now,
        expires_at: now + state.config.jwt.refresh_ttl.as_secs() as i64,
        user_agent: meta.user_agent.clone(),
        ip: meta.ip.map(|ip| ip.to_string()),
        revoked_at: None,
        // Register and login both take the password (RFC 8176 "pwd").
        auth_time: now,
        amr: vec![tokens::AMR_PASSWORD.to_owned()],
    };
    let event = meta.event(now, kind, Some(&user.id), json!({ "session": session.id }));
    // Only while `user` (read before the password check) still holds: a
    // password change or a delete that committed meanwhile wins.
    let verified = user.password_hash.clone();
    let client = login_client(state, &email_key, meta.ip);
    let created = state
        .store
        .create_session(session.clone(), email_key.clone(), rehash, verified, event)
        .await?;
    if !created {
        return Err(ApiError::InvalidCredentials);
    }
    // This client's count ends and it becomes known (TT-09). Lost, the
    // client is merely not remembered this time: a warning, not an error.
    if let Err(e) = state
        .store
        .login_succeeded(&email_key, client, Some(&user.id), now)
        .await
    {
        tracing::warn!(error = %e, "cannot remember the client of a sign-in");
    }
    let mut user = user.clone();
    user.last_login_at = Some(now);
    tokens::token_response(state, &user, &session, &jti, now)
}

pub async fn register(
    state: &AppState,
    input: Registration,
    meta: &RequestMeta,
) -> Result<Registered, ApiError> {
    if !state.config.accounts.registration_open {
        return Err(ApiError::RegistrationClosed);
    }
    meta.limit(state, Bucket::Register).await?;
    let mut errors = Vec::new();
    let email = match Email::parse(&input.email) {
        Ok(email) => Some(email),
        Err(e) => {
            errors.push(FieldError::new("email", e.to_string()));
            None
        }
    };
    if let Err(e) = check_name(&input.name) {
        errors.push(e);
    }
    if let Some(Err(e)) = input
        .metadata
        .as_ref()
        .map(|m| check_metadata("metadata", m))
    {
        errors.push(e);
    }
    collect(errors)?;
    let Some(email) = email else {
        return Err(ApiError::field("email", "is required"));
    };
    state
        .policy
        .check(&input.password, Some(&email))
        .map_err(weak)?;

    let confirmation = state.config.email.confirmation_required;
    let key = email.normalized();
    let existing = state.store.user_by_email_key(&key).await?;
    // Hash before answering either way, so "taken" costs what "new" costs.
    let phc = state.hasher.hash(input.password).await?;
    let now = state.now();
    let mut user = new_user_record(&email, "user", Some(phc), None, now);
    user.name = input.name;
    user.metadata = input.metadata.unwrap_or_else(|| json!({}));
    if let Some(anonymous_id) = input.anonymous_id {
        user.app_metadata = json!({ "anonymous_id": anonymous_id });
    }
    if let Some(owner) = existing {
        if !confirmation {
            return Err(ApiError::EmailTaken);
        }
        return taken_quietly(state, &owner, &user).await;
    }
    let event = meta.event(now, "user.registered", Some(&user.id), json!({}));
    let mails = if confirmation {
        vec![email::confirm_account_mail(&user)]
    } else {
        Vec::new()
    };
    let inserted = state
        .store
        .insert_user(user.clone(), key.clone(), event, mails)
        .await;
    match inserted {
        Ok(()) => {}
        // Another registration of the address committed since the read
        // above: with confirmation on, answer as for any taken address.
        Err(StoreError::Conflict("email")) if confirmation => {
            let Some(owner) = state.store.user_by_email_key(&key).await? else {
                return Ok(Registered::ConfirmationSent(UserView::from(&user)));
            };
            return taken_quietly(state, &owner, &user).await;
        }
        Err(e) => return Err(e.into()),
    }
    if confirmation {
        email::mail_queued(state);
        return Ok(Registered::ConfirmationSent(UserView::from(&user)));
    }
    let tokens = sign_in(state, &user, key, None, meta, "login.succeeded").await?;
    Ok(Registered::SignedIn(Box::new(tokens)))
}

/// L1: a registration of `owner`'s address gets the same answer as a new
/// one (the user object of an account that is never stored); the owner is
/// told by mail instead.
async fn taken_quietly(
    state: &AppState,
    owner: &UserRecord,
    unsaved: &UserRecord,
) -> Result<Registered, ApiError> {
    let mail = email::notice(MailKind::RegistrationAttempt, owner, json!({}));
    email::queue_throttled(state, mail, None).await?;
    Ok(Registered::ConfirmationSent(UserView::from(unsaved)))
}

/// A user record as a new account starts: no name, empty metadata.
fn new_user_record(
    email: &Email,
    role: &str,
    password_hash: Option<String>,
    email_confirmed_at: Option<i64>,
    now: i64,
) -> UserRecord {
    UserRecord {
        id: uuid::Uuid::now_v7().to_string(),
        email: email.as_str().to_owned(),
        email_confirmed_at,
        name: None,
        role: role.to_owned(),
        metadata: json!({}),
        app_metadata: json!({}),
        password_hash,
        disabled: false,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    }
}

/// Seconds an account must still wait after `failures` consecutive failures,
/// the last at `last_failed_at`: 1 s after the fifth, doubling, at most 15 min.
pub fn lockout_remaining(failures: u32, last_failed_at: i64, now: i64) -> Option<u64> {
    if failures < LOCKOUT_THRESHOLD {
        return None;
    }
    let exponent = (failures - LOCKOUT_THRESHOLD).min(20);
    let window = (1i64 << exponent).min(LOCKOUT_CAP_SECS);
    let until = last_failed_at + window;
    (now < until).then(|| (until - now) as u64)
}

pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    let outcome = login_inner(state, email, password, meta).await;
    state.metrics.record_login(match &outcome {
        Ok(_) => "success",
        Err(ApiError::InvalidCredentials) => "invalid_credentials",
        Err(ApiError::RateLimited(_)) => "rate_limited",
        Err(ApiError::AccountLocked(_)) => "locked",
        Err(ApiError::EmailNotConfirmed) => "not_confirmed",
        Err(ApiError::Overloaded(_)) => "overloaded",
        Err(_) => "error",
    });
    outcome
}

async fn login_inner(
    state: &AppState,
    email: &str,
    password: String,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    meta.limit(state, Bucket::Login).await?;
    let email = parse_email("email", email)?;
    let key = email.normalized();
    let attempt = Attempt::take(state, &key, meta).await?;
    let outcome = login_checked(state, &key, password, meta, attempt.failures).await;
    // Not a wrong password (a correct one that may not sign in yet, an
    // overload, a storage error before the check): the attempt is given
    // back. After a wrong password nothing but 401 comes out. A success
    // already cleared the counts.
    if matches!(&outcome, Err(e) if !matches!(e, ApiError::InvalidCredentials)) {
        attempt.give_back(state).await;
    }
    outcome
}

/// The lockout client of a request from `ip` for the account `email_key`:
/// its rate-limit key and an HMAC of both under a server key (the row that
/// remembers it as known, which so names no address).
fn login_client(state: &AppState, email_key: &str, ip: Option<IpAddr>) -> Option<LoginClient> {
    let key = ratelimit::client_key(ip?);
    let input = format!("toktok sign-in client\0{email_key}\0{key}");
    let tag = ring::hmac::sign(&state.refresh_chain_key, input.as_bytes());
    let hash = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Some(LoginClient { key, hash })
}

/// One attempt at an account's password, taken before the hash (see the
/// module docs, "Lockout").
struct Attempt {
    email_key: String,
    client: Option<LoginClient>,
    /// The account's consecutive failures with this one; `None` when the
    /// lockout is off (`rate_limit.enabled = false`).
    failures: Option<u32>,
}

impl Attempt {
    /// Takes the attempt, or answers 429 when the client must wait. The
    /// attempt is counted as a failure at once, under the count's lock:
    /// concurrent guesses, through any instance, each see the ones before
    /// them, so a burst cannot all pass a check made before any failed.
    async fn take(state: &AppState, email_key: &str, meta: &RequestMeta) -> Result<Self, ApiError> {
        let client = login_client(state, email_key, meta.ip);
        let mut attempt = Attempt {
            email_key: email_key.to_owned(),
            client: client.clone(),
            failures: None,
        };
        if !state.config.rate_limit.enabled {
            return Ok(attempt);
        }
        let now = state.now();
        let locked = move |failures, last| lockout_remaining(failures, last, now);
        let known_since = now - KNOWN_CLIENT_SECS;
        match state
            .store
            .take_login_attempt(email_key, client, now, known_since, locked)
            .await?
        {
            Ok(failures) => {
                attempt.failures = Some(failures);
                Ok(attempt)
            }
            Err(wait) => Err(ApiError::AccountLocked(wait)),
        }
    }

    /// Uncounts an attempt that turned out not to be a wrong password.
    async fn give_back(&self, state: &AppState) {
        if self.failures.is_none() {
            return;
        }
        let client = self.client.as_ref();
        if let Err(e) = state
            .store
            .return_login_attempt(&self.email_key, client)
            .await
        {
            tracing::warn!(error = %e, "cannot give a login attempt back");
        }
    }
}

/// The rest of a login once its attempt was `taken` (`None`: lockout off,
/// a failure is counted after the check instead).
async fn login_checked(
    state: &AppState,
    key: &str,
    password: String,
    meta: &RequestMeta,
    taken: Option<u32>,
) -> Result<TokenResponse, ApiError> {
    let key = key.to_owned();
    let user = state.store.user_by_email_key(&key).await?;
    let phc = user.as_ref().and_then(|u| u.password_hash.clone());
    // L2: an unknown email still costs one (dummy) verification.
    let verification = state.hasher.verify(phc, password.clone()).await?;
    let user = match user {
        Some(user) if verification.ok && !user.disabled => user,
        user => {
            let now = state.now();
            let id = user.as_ref().map(|u| u.id.as_str());
            let reason = match &user {
                None => "unknown_email",
                Some(u) if u.disabled && verification.ok => "disabled",
                Some(_) => "wrong_password",
            };
            let event = meta.event(now, "login.failed", id, json!({ "reason": reason }));
            let failures = match taken {
                Some(failures) => {
                    // The attempt is counted already. A lost audit row is
                    // logged, never turned into an error: any error but
                    // 401 gives the attempt back, and this guess was wrong.
                    audit_or_warn(state, event).await;
                    failures
                }
                None => state.store.record_login_failure(&key, now, event).await?,
            };
            if failures == LOCKOUT_THRESHOLD {
                let event = meta.event(now, "login.locked", id, json!({ "failures": failures }));
                audit_or_warn(state, event).await;
            }
            // L1: one answer for unknown email, wrong password and disabled.
            return Err(ApiError::InvalidCredentials);
        }
    };
    if state.config.email.confirmation_required && user.email_confirmed_at.is_none() {
        return Err(ApiError::EmailNotConfirmed);
    }
    let rehash = if verification.needs_rehash {
        Some(state.hasher.hash(password).await?)
    } else {
        None
    };
    sign_in(state, &user, key, rehash, meta, "login.succeeded").await
}

/// Writes an audit event whose loss must not change the answer.
async fn audit_or_warn(state: &AppState, event: AuditEvent) {
    let kind = event.kind;
    if let Err(e) = state.store.audit(event).await {
        tracing::warn!(error = %e, kind, "cannot write an audit event");
    }
}

fn validation(state: &AppState, kind: TokenKind) -> Validation {
    Validation {
        issuer: state.config.jwt.issuer.clone(),
        audience: state.config.jwt.audience.clone(),
        leeway: LEEWAY_SECS,
        kind,
    }
}

fn token_error(e: JwtError) -> ApiError {
    match e {
        JwtError::Expired => ApiError::TokenExpired,
        _ => ApiError::InvalidToken,
    }
}

/// Checks an access token and that its session is still live (J5).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Authenticated, ApiError> {
    let now = state.now();
    let claims = state
        .keys()
        .verify(token, &validation(state, TokenKind::Access), now)
        .map_err(token_error)?;
    let sid = claims.sid.as_deref().ok_or(ApiError::InvalidToken)?;
    let (session, user) = state
        .store
        .live_session(sid, now)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if session.user_id != claims.sub {
        return Err(ApiError::InvalidToken);
    }
    Ok(Authenticated {
        user,
        session,
        claims,
    })
}

/// Rotates a refresh token (R1–R4): an opaque `rt_…` one, or a JWT one
/// issued before v1.1 (`tokens::presented_refresh`).
pub async fn refresh(
    state: &AppState,
    token: &str,
    meta: &RequestMeta,
) -> Result<TokenResponse, ApiError> {
    let now_ms = state.now_ms();
    let now = now_ms.div_euclid(1000);
    let presented = tokens::presented_refresh(state, token)?;
    let presented_hash = sha256_hex(&presented.secret);
    let successor = tokens::successor_jti(state, &presented.secret);
    let successor_hash = sha256_hex(&successor);
    let grace_ms = i64::try_from(state.config.jwt.reuse_grace.as_millis()).unwrap_or(i64::MAX);
    let idle = state.config.jwt.refresh_idle_ttl.as_secs() as i64;
    let meta_for_event = meta.clone();
    let reuse_event = move |session: &SessionRecord| {
        meta_for_event.event(
            now,
            "refresh.reused",
            Some(&session.user_id),
            json!({ "session": session.id }),
        )
    };
    let subject = presented.subject;
    let outcome = state
        .store
        .refresh_session(presented.key, now_ms, reuse_event, move |session, user| {
            decide_refresh(
                session,
                user,
                subject.as_deref(),
                &presented_hash,
                &successor_hash,
                now_ms,
                grace_ms,
                idle,
            )
        })
        .await?;
    let Some((decision, session, user)) = outcome else {
        return Err(ApiError::InvalidToken);
    };
    match decision {
        RefreshDecision::Rotate { .. } | RefreshDecision::Replay => {
            state
                .metrics
                .incr("toktok_refresh_total", &[("outcome", "rotated")]);
            tokens::token_response(state, &user, &session, &successor, now)
        }
        RefreshDecision::RevokeFamily => {
            state
                .metrics
                .incr("toktok_refresh_total", &[("outcome", "reused")]);
            Err(ApiError::TokenReused)
        }
        RefreshDecision::Reject => {
            let idled = session.is_live(now) && now - session.last_used_at > idle;
            // An opaque token has no `exp` of its own: its family's end is it.
            let ended = session.revoked_at.is_none() && now >= session.expires_at;
            if idled || ended {
                Err(ApiError::TokenExpired)
            } else {
                Err(ApiError::InvalidToken)
            }
        }
    }
}

/// The rotation rules, free of storage so they can be tested directly.
///
/// `subject` is the user a pre-1.1 JWT refresh token names (an opaque one
/// names none). The grace is counted exactly, in milliseconds: the
/// predecessor replays while `now_ms - rotated_at_ms < grace_ms`, so a
/// grace of 0 never replays (strict rotation).
#[allow(clippy::too_many_arguments)]
pub fn decide_refresh(
    session: &SessionRecord,
    user: &UserRecord,
    subject: Option<&str>,
    presented_hash: &str,
    successor_hash: &str,
    now_ms: i64,
    grace_ms: i64,
    idle: i64,
) -> RefreshDecision {
    let now = now_ms.div_euclid(1000);
    let foreign = subject.is_some_and(|sub| sub != session.user_id);
    if foreign || user.disabled || !session.is_live(now) {
        return RefreshDecision::Reject;
    }
    // The family's head was issued in the future (a clock stepped back):
    // fail closed, as a JWT's `iat` in the future does, until time catches
    // up. The leeway is the JWT one, for instances whose clocks differ.
    if now_ms.saturating_add(LEEWAY_SECS * 1000) < session.rotated_at_ms {
        return RefreshDecision::Reject;
    }
    if now - session.last_used_at > idle {
        return RefreshDecision::Reject;
    }
    if session.refresh_hash == presented_hash {
        return RefreshDecision::Rotate {
            successor_hash: successor_hash.to_owned(),
        };
    }
    let is_predecessor = session.prev_refresh_hash.as_deref() == Some(presented_hash);
    let in_grace = now_ms.saturating_sub(session.rotated_at_ms) < grace_ms;
    if is_predecessor && in_grace && session.refresh_hash == successor_hash {
        return RefreshDecision::Replay;
    }
    // A genuine token of this family (its signature and `sid` are ours) that
    // is no longer current: someone kept a copy.
    RefreshDecision::RevokeFamily
}

pub async fn logout(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    match end_session(state, who, &who.session.id, meta).await {
        // Ended by a concurrent request since the token was checked: done too.
        Err(ApiError::NotFound) => Ok(()),
        other => other,
    }
}

pub async fn logout_all(
    state: &AppState,
    who: &Authenticated,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = meta.event(now, "sessions.ended_all", Some(&who.user.id), json!({}));
    state
        .store
        .end_all_sessions(&who.user.id, now, event)
        .await?;
    Ok(())
}

pub async fn update_profile(
    state: &AppState,
    who: &Authenticated,
    change: ProfileChange,
) -> Result<UserView, ApiError> {
    let mut errors = Vec::new();
    if let Some(name) = &change.name {
        if let Err(e) = check_name(name) {
            errors.push(e);
        }
    }
    if let Some(Err(e)) = change
        .metadata
        .as_ref()
        .map(|m| check_metadata("metadata", m))
    {
        errors.push(e);
    }
    collect(errors)?;
    let user = state
        .store
        .update_profile(&who.user.id, change, state.now())
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(UserView::from(&user))
}

/// Checks the signed-in user's current password (P6) before a sensitive
/// change — password change, email change, account delete, and the
/// re-authentication to come — answering 403 `wrong_password`.
///
/// Counted like a login (TT-03): first the client's `PasswordCheck`
/// bucket, then an attempt on the account's lockout and the (account,
/// client) one, all before the hash, so a flooding or locked-out client
/// costs no hash (and cannot fill the hash pool that every login needs).
/// A wrong password counts as a failed sign-in; a right one clears the
/// counts.
pub async fn verify_current_password(
    state: &AppState,
    who: &Authenticated,
    password: String,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    meta.limit(state, Bucket::PasswordCheck).await?;
    let email_key = Email::parse(&who.user.email)
        .map(|e| e.normalized())
        .unwrap_or_else(|_| who.user.email.to_lowercase());
    let attempt = Attempt::take(state, &email_key, meta).await?;
    let verification = match state
        .hasher
        .verify(who.user.password_hash.clone(), password)
        .await
    {
        Ok(verification) => verification,
        Err(e) => {
            attempt.give_back(state).await;
            return Err(e.into());
        }
    };
    let now = state.now();
    if verification.ok {
        if attempt.failures.is_some() {
            let cleared = state
                .store
                .login_succeeded(&email_key, attempt.client, None, now)
                .await;
            if let Err(e) = cleared {
                tracing::warn!(error = %e, "cannot clear the failed-attempt count");
            }
        }
        return Ok(());
    }
    if let Some(failures) = attempt.failures {
        let id = Some(who.user.id.as_str());
        let detail = json!({ "reason": "wrong_current_password" });
        audit_or_warn(state, meta.event(now, "login.failed", id, detail)).await;
        if failures == LOCKOUT_THRESHOLD {
            let event = meta.event(now, "login.locked", id, json!({ "failures": failures }));
            audit_or_warn(state, event).await;
        }
    }
    Err(ApiError::WrongPassword)
}

pub async fn change_password(
    state: &AppState,
    who: &Authenticated,
    current: String,
    new: String,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let email = Email::parse(&who.user.email).ok();
    state.policy.check(&new, email.as_ref()).map_err(weak)?;
    verify_current_password(state, who, current, meta).await?;
    let phc = state.hasher.hash(new).await?;
    let now = state.now();
    let event = meta.event(now, "password.changed", Some(&who.user.id), json!({}));
    let mails = email::if_email_on(
        state,
        email::notice(MailKind::PasswordChangedNotice, &who.user, json!({})),
    );
    state
        .store
        .set_password(
            &who.user.id,
            phc,
            Some(who.session.id.clone()),
            now,
            event,
            mails,
        )
        .await?;
    email::mail_queued(state);
    Ok(())
}

pub async fn delete_account(
    state: &AppState,
    who: &Authenticated,
    password: String,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    verify_current_password(state, who, password, meta).await?;
    let now = state.now();
    let event = meta.event(
        now,
        "user.deleted",
        Some(&who.user.id),
        json!({ "by": "self" }),
    );
    state.store.delete_user(&who.user.id, event).await?;
    Ok(())
}

/// One entry of the sessions list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub ip: Option<String>,
    pub current: bool,
}

pub async fn sessions(state: &AppState, who: &Authenticated) -> Result<Vec<SessionView>, ApiError> {
    let list = state.store.list_sessions(&who.user.id, state.now()).await?;
    Ok(list
        .into_iter()
        .map(|s| SessionView {
            current: s.id == who.session.id,
            id: s.id,
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
}

pub async fn end_session(
    state: &AppState,
    who: &Authenticated,
    sid: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = meta.event(
        now,
        "session.ended",
        Some(&who.user.id),
        json!({ "session": sid }),
    );
    if state
        .store
        .end_session(&who.user.id, sid, now, event)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Creates a user from the command line (`toktok user create`).
pub async fn create_user(
    state: &AppState,
    email: &str,
    role: &str,
    password: Option<String>,
) -> Result<UserView, ApiError> {
    let email = parse_email("email", email)?;
    admin::check_role(role).map_err(|e| ApiError::Validation(vec![e]))?;
    let phc = match password {
        Some(password) => {
            state.policy.check(&password, Some(&email)).map_err(weak)?;
            Some(state.hasher.hash(password).await?)
        }
        None => None,
    };
    let now = state.now();
    // Created by the operator: the address is taken as confirmed.
    let user = new_user_record(&email, role, phc, Some(now), now);
    let mut event = RequestMeta::default().event(
        now,
        "user.registered",
        Some(&user.id),
        json!({ "role": role }),
    );
    event.actor = Some("cli".into());
    let view = UserView::from(&user);
    state
        .store
        .insert_user(user, email.normalized(), event, Vec::new())
        .await?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionRecord {
        SessionRecord {
            id: "s".into(),
            user_id: "u".into(),
            refresh_hash: "h1".into(),
            prev_refresh_hash: Some("h0".into()),
            // Rotated at 1000.5 s.
            rotated_at_ms: 1_000_500,
            created_at: 900,
            last_used_at: 1000,
            expires_at: 10_000,
            user_agent: None,
            ip: None,
            revoked_at: None,
            auth_time: 900,
            amr: vec!["pwd".into()],
        }
    }

    fn user() -> UserRecord {
        UserRecord {
            id: "u".into(),
            email: "a@b.io".into(),
            email_confirmed_at: None,
            name: None,
            role: "user".into(),
            metadata: json!({}),
            app_metadata: json!({}),
            password_hash: None,
            disabled: false,
            created_at: 0,
            updated_at: 0,
            last_login_at: None,
        }
    }

    /// `decide_refresh` at `now_ms` with a 10 s grace and a 600 s idle limit.
    fn decide(
        subject: Option<&str>,
        presented: &str,
        successor: &str,
        now_ms: i64,
    ) -> RefreshDecision {
        decide_refresh(
            &session(),
            &user(),
            subject,
            presented,
            successor,
            now_ms,
            10_000,
            600,
        )
    }

    #[test]
    fn current_token_rotates() {
        for subject in [Some("u"), None] {
            assert_eq!(
                decide(subject, "h1", "h2", 1_001_000),
                RefreshDecision::Rotate {
                    successor_hash: "h2".into()
                }
            );
        }
    }

    #[test]
    fn predecessor_inside_grace_replays_and_outside_revokes() {
        // h0's successor is h1, the current head.
        assert_eq!(decide(None, "h0", "h1", 1_005_000), RefreshDecision::Replay);
        assert_eq!(
            decide(None, "h0", "h1", 1_011_000),
            RefreshDecision::RevokeFamily
        );
    }

    #[test]
    fn the_grace_is_counted_to_the_millisecond() {
        // Rotated at 1000.5 s with a 10 s grace: 9.999 s later is inside,
        // 10 s later is not, although both are in second 1010.
        assert_eq!(decide(None, "h0", "h1", 1_010_499), RefreshDecision::Replay);
        assert_eq!(
            decide(None, "h0", "h1", 1_010_500),
            RefreshDecision::RevokeFamily
        );
        // A one-second grace lasts one second, not up to two.
        let one =
            |now_ms| decide_refresh(&session(), &user(), None, "h0", "h1", now_ms, 1_000, 600);
        assert_eq!(one(1_001_499), RefreshDecision::Replay);
        assert_eq!(one(1_001_500), RefreshDecision::RevokeFamily);
        assert_eq!(one(1_001_999), RefreshDecision::RevokeFamily);
    }

    #[test]
    fn a_zero_grace_is_strict_rotation() {
        let strict = |now_ms| decide_refresh(&session(), &user(), None, "h0", "h1", now_ms, 0, 600);
        assert_eq!(
            strict(1_000_500),
            RefreshDecision::RevokeFamily,
            "even at once"
        );
        assert_eq!(strict(1_000_501), RefreshDecision::RevokeFamily);
    }

    #[test]
    fn older_tokens_revoke_even_inside_grace() {
        assert_eq!(
            decide(None, "h-old", "h0", 1_001_000),
            RefreshDecision::RevokeFamily
        );
    }

    #[test]
    fn a_head_issued_in_the_future_is_refused_until_time_catches_up() {
        // Rotated at 1000.5 s; 30 s of leeway for instances' clock skew.
        assert_eq!(
            decide(None, "h1", "h2", 970_500),
            RefreshDecision::Rotate {
                successor_hash: "h2".into()
            }
        );
        assert_eq!(decide(None, "h1", "h2", 970_499), RefreshDecision::Reject);
        assert_eq!(decide(None, "h0", "h1", 0), RefreshDecision::Reject);
    }

    #[test]
    fn dead_sessions_idle_sessions_and_disabled_users_reject() {
        let mut s = session();
        s.revoked_at = Some(1000);
        assert_eq!(
            decide_refresh(&s, &user(), None, "h1", "h2", 1_001_000, 10_000, 600),
            RefreshDecision::Reject
        );
        assert_eq!(
            decide_refresh(
                &session(),
                &user(),
                None,
                "h1",
                "h2",
                10_000_000,
                10_000,
                1_000_000
            ),
            RefreshDecision::Reject
        );
        assert_eq!(decide(None, "h1", "h2", 1_601_000), RefreshDecision::Reject);
        let mut u = user();
        u.disabled = true;
        assert_eq!(
            decide_refresh(&session(), &u, None, "h1", "h2", 1_001_000, 10_000, 600),
            RefreshDecision::Reject
        );
        // A pre-1.1 JWT refresh token naming another user.
        assert_eq!(
            decide(Some("other"), "h1", "h2", 1_001_000),
            RefreshDecision::Reject
        );
    }

    #[test]
    fn lockout_starts_at_one_second_and_doubles_to_fifteen_minutes() {
        assert_eq!(lockout_remaining(4, 100, 100), None);
        assert_eq!(lockout_remaining(5, 100, 100), Some(1));
        assert_eq!(lockout_remaining(5, 100, 101), None);
        assert_eq!(lockout_remaining(6, 100, 100), Some(2));
        assert_eq!(lockout_remaining(8, 100, 100), Some(8));
        assert_eq!(lockout_remaining(50, 100, 100), Some(900));
        assert_eq!(lockout_remaining(u32::MAX, 100, 100), Some(900));
    }
}
