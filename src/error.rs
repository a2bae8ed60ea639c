//! The vocabulary of refusals that the rules speak: [`ApiError`] and
//! [`FieldError`].
//!
//! Every failure a handler or an account rule can return is an
//! [`ApiError`]. This module knows nothing of HTTP, of the store or of
//! auth: what each variant answers on the wire (status, stable `code`,
//! problem+json body, `Retry-After`, `WWW-Authenticate`), and every
//! conversion of another layer's error into one, live in
//! `crate::http::error`, each an exhaustive `match`. So the arrows point
//! one way: `http → accounts → … → error`.

use serde::Serialize;

/// One invalid field of a request, reported under `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    // 400
    #[error("the request body is not valid JSON: {0}")]
    MalformedBody(String),
    /// An encrypted (JWE) body that cannot be decrypted, for any reason: one
    /// answer for every failure (docs/SECURITY.md O2).
    #[error("the encrypted body cannot be decrypted")]
    InvalidEncryption,
    #[error("this endpoint needs an encrypted body (Content-Type: application/jose)")]
    EncryptionRequired,
    /// A challenge token that cannot be read at all, or an email link's
    /// token that is unknown, used, expired or for another purpose.
    #[error("the token is invalid, expired or already used")]
    InvalidLinkToken,
    // 401
    #[error("authentication required")]
    Unauthenticated,
    #[error("the token is invalid")]
    InvalidToken,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the refresh token was already used; the session has been ended")]
    TokenReused,
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("this endpoint needs an anonymous token (POST /v1/auth/anonymous)")]
    AnonymousTokenRequired,
    // 403
    #[error("not allowed")]
    Forbidden,
    #[error("already signed in; this endpoint is for anonymous clients")]
    AlreadyAuthenticated,
    #[error("the email address is not confirmed")]
    EmailNotConfirmed,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("registration is closed")]
    RegistrationClosed,
    #[error("the token belongs to another id or action")]
    ControlMismatch,
    #[error("sign in again (POST /v1/auth/reauthenticate) with a second factor if you have one")]
    ReauthenticationRequired,
    /// A session of a user who must use a second factor (`mfa.required`,
    /// `mfa.required_roles`) below `aal` 2, on a route other than the
    /// enrolment ones: 403 `forbidden`, with this detail.
    #[error("this account must use a second factor: until this session has one, only enrolment answers; enrol TOTP (POST /v1/users/me/totp) or a passkey (POST /v1/users/me/passkeys/options) if you have none, then POST /v1/auth/reauthenticate with it")]
    SecondFactorRequired,
    /// A provider sign-in whose address belongs to an account the identity
    /// is not linked to: toktok never links on its own (docs/providers.md).
    #[error("an account with this email address exists: sign in to it and link this provider from there")]
    LinkRequired,
    // 404
    #[error("not found")]
    NotFound,
    #[error("this feature is disabled")]
    FeatureDisabled,
    #[error("no such challenge, or it expired, or the secret is wrong")]
    ChallengeNotFound,
    // 409
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("{0}")]
    Conflict(String),
    // 413 / 415
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    // 422
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    #[error("the password is not acceptable: {0}")]
    WeakPassword(String),
    // 429
    #[error("too many requests; retry after {0} s")]
    RateLimited(u64),
    /// Too many failed sign-ins for one account (L3, TT-09): 429
    /// `rate_limited` like [`ApiError::RateLimited`], with a detail that
    /// says a password reset link works at once.
    #[error("too many failed attempts for this account; retry after {0} s, or use a password reset link (POST /v1/auth/password/forgot), which works at once and lifts the lock")]
    AccountLocked(u64),
    #[error("a challenge for this id and action was created recently; retry after {0} s")]
    Throttled(u64),
    // 503
    #[error("the server is busy; retry after {0} s")]
    Overloaded(u64),
    #[error("storage is unavailable; retry later")]
    StorageUnavailable,
    // 502
    /// An upstream sign-in provider could not be reached or answered
    /// badly (details in the log, not here).
    #[error("the sign-in provider is unavailable; retry later")]
    ProviderUnavailable,
    /// The access-token hook (`[hooks.access_token]`, `on_error = "deny"`)
    /// failed or timed out: no token is issued (details in the log).
    #[error("the token hook did not answer in time or answered badly; retry later")]
    HookFailed,
    // 500
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }
}
