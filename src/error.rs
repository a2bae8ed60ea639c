//! The one place where errors become HTTP answers.
//!
//! Every failure a handler can return is an [`ApiError`]; [`ApiError::parts`]
//! is the single exhaustive `match` that gives each its status and stable
//! `code` (API.md "Conventions"), so adding a variant forces a decision here.
//! Bodies are `application/problem+json`. A 5xx body is generic: the cause
//! goes to the log, never to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

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
    /// answer for every failure (SECURITY.md O2).
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
    // 500
    #[error("internal error")]
    Internal(String),
}

/// The problem+json body.
#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// Status, stable code and title of each error.
    pub fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed_body", "Malformed body"),
            InvalidLinkToken => (StatusCode::BAD_REQUEST, "invalid_token", "Invalid token"),
            InvalidEncryption => (
                StatusCode::BAD_REQUEST,
                "invalid_encryption",
                "Invalid encryption",
            ),
            EncryptionRequired => (
                StatusCode::BAD_REQUEST,
                "encryption_required",
                "Encryption required",
            ),
            AnonymousTokenRequired => (
                StatusCode::UNAUTHORIZED,
                "anonymous_token_required",
                "Anonymous token required",
            ),
            AlreadyAuthenticated => (
                StatusCode::FORBIDDEN,
                "already_authenticated",
                "Already authenticated",
            ),
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
            ),
            InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token", "Invalid token"),
            TokenExpired => (StatusCode::UNAUTHORIZED, "token_expired", "Token expired"),
            TokenReused => (StatusCode::UNAUTHORIZED, "token_reused", "Token reused"),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid credentials",
            ),
            Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            EmailNotConfirmed => (
                StatusCode::FORBIDDEN,
                "email_not_confirmed",
                "Email not confirmed",
            ),
            WrongPassword => (StatusCode::FORBIDDEN, "wrong_password", "Wrong password"),
            RegistrationClosed => (
                StatusCode::FORBIDDEN,
                "registration_closed",
                "Registration closed",
            ),
            ControlMismatch => (
                StatusCode::FORBIDDEN,
                "control_mismatch",
                "Control mismatch",
            ),
            NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ChallengeNotFound => (
                StatusCode::NOT_FOUND,
                "challenge_not_found",
                "Challenge not found",
            ),
            FeatureDisabled => (
                StatusCode::NOT_FOUND,
                "feature_disabled",
                "Feature disabled",
            ),
            EmailTaken => (StatusCode::CONFLICT, "email_taken", "Email taken"),
            BodyTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "Body too large",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation failed",
            ),
            WeakPassword(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "weak_password",
                "Weak password",
            ),
            RateLimited(_) | AccountLocked(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Rate limited",
            ),
            Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "throttled", "Throttled"),
            Overloaded(_) => (StatusCode::SERVICE_UNAVAILABLE, "overloaded", "Overloaded"),
            StorageUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "Storage unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited(s)
            | ApiError::AccountLocked(s)
            | ApiError::Throttled(s)
            | ApiError::Overloaded(s) => Some(*s),
            ApiError::StorageUnavailable => Some(5),
            _ => None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict("email") => ApiError::EmailTaken,
            StoreError::Conflict(what) => {
                ApiError::Internal(format!("unexpected conflict on {what}"))
            }
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "storage unavailable");
                ApiError::StorageUnavailable
            }
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::auth::password::Overloaded> for ApiError {
    fn from(_: crate::auth::password::Overloaded) -> Self {
        ApiError::Overloaded(1)
    }
}

impl From<crate::auth::password::HashError> for ApiError {
    fn from(e: crate::auth::password::HashError) -> Self {
        match e {
            crate::auth::password::HashError::Overloaded => ApiError::Overloaded(1),
            crate::auth::password::HashError::Failed => {
                ApiError::Internal("password hashing failed".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.parts();
        let detail = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "something went wrong on our side; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match &self {
            ApiError::Validation(errors) => Some(errors.as_slice()),
            _ => None,
        };
        let retry_after = self.retry_after();
        let body = Problem {
            kind: format!("urn:toktok:{code}"),
            title,
            status: status.as_u16(),
            code,
            detail,
            errors,
            retry_after,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = match code {
                "invalid_token" | "token_expired" | "token_reused" => {
                    format!("Bearer error=\"invalid_token\", error_description=\"{code}\"")
                }
                _ => "Bearer".to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_and_limits_carry_retry_after() {
        // P8: an overloaded hash pool answers 503 with Retry-After.
        let res = ApiError::from(crate::auth::password::HashError::Overloaded).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        let res = ApiError::RateLimited(7).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let res = ApiError::Internal("secret detail".into()).into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[test]
    fn storage_trouble_is_503_not_500() {
        let res = ApiError::from(StoreError::Unavailable("disk full".into())).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
