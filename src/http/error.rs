//! Where errors become HTTP answers: the one seam between every layer's
//! errors and the wire.
//!
//! [`ApiError::parts`] is the single exhaustive `match` that gives each
//! variant its status and stable `code` (docs/API.md "Conventions"); the
//! [`IntoResponse`] impl writes the `application/problem+json` body, the
//! `Retry-After` and the `WWW-Authenticate` headers. A 5xx body is
//! generic: the cause goes to the log, never to the client.
//!
//! Every conversion of another layer's error into an [`ApiError`] lives
//! here too — store, password hashing, JWTs, API keys, RSA bodies,
//! challenges, password policy — each an exhaustive `match` with no `_`
//! arm, so a new variant anywhere forces a decision about its answer in
//! this file. The rules (`crate::accounts`) use them through `?` without
//! importing this module. Where one error type answers differently by
//! context (a JWT that fails to verify is the client's fault; one that
//! fails to sign is ours), the rules wrap it in a type that names the
//! context ([`SigningFailed`], [`LinkTokenError`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::accounts::email::LinkTokenError;
use crate::accounts::tokens::SigningFailed;
use crate::auth::api_keys::ApiKeyError;
use crate::auth::jwe::DecryptError;
use crate::auth::jwt::JwtError;
use crate::auth::password::{HashError, Overloaded};
use crate::challenge::ChallengeError;
use crate::domain::password::PasswordProblem;
use crate::error::{ApiError, FieldError};
use crate::i18n::{self, Catalogues, Locale};
use crate::store::StoreError;

#[cfg(test)]
mod tests;

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
            Forbidden | SecondFactorRequired => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
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
            ReauthenticationRequired => (
                StatusCode::FORBIDDEN,
                "reauthentication_required",
                "Reauthentication required",
            ),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            LinkRequired => (StatusCode::FORBIDDEN, "link_required", "Link required"),
            ProviderUnavailable => (
                StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                "Provider unavailable",
            ),
            HookFailed => (StatusCode::BAD_GATEWAY, "hook_failed", "Token hook failed"),
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

/// Marks a problem+json answer with its stable code, so that
/// [`localise_title`] can give it a title in the client's language.
#[derive(Debug, Clone, Copy)]
pub struct ProblemCode(pub &'static str);

/// The problem's body as [`localise_title`] reads and rewrites it, fields
/// in the same order as [`Problem`].
#[derive(Serialize, Deserialize)]
struct Retitled {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    code: String,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

/// Middleware: a problem answer to a request whose `Accept-Language` prefers
/// French, German or Spanish gets its `title` in that language (from the
/// `problem-<code>` messages). Without the header, or for English or an
/// unsupported language, the answer is left as it is, in English: API
/// clients that send nothing see no change. The `code`, the `detail` (a
/// developer's sentence) and everything else stay as they are.
pub async fn localise_title(
    State(catalogues): State<Arc<Catalogues>>,
    request: Request,
    next: Next,
) -> Response {
    let locale = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(i18n::from_accept_language)
        .filter(|l| *l != Locale::En);
    let response = next.run(request).await;
    let (Some(locale), Some(&ProblemCode(code))) = (locale, response.extensions().get()) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    // A problem body is a few hundred bytes made in memory just above.
    let bytes = match axum::body::to_bytes(body, 1 << 16).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::Internal("unreadable problem body".into()).into_response(),
    };
    let retitled = serde_json::from_slice::<Retitled>(&bytes)
        .ok()
        .and_then(|mut p| {
            p.title = catalogues.text(locale, &format!("problem-{code}"), &[]);
            serde_json::to_vec(&p).ok()
        });
    let Some(json) = retitled else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
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

impl From<Overloaded> for ApiError {
    fn from(_: Overloaded) -> Self {
        ApiError::Overloaded(1)
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Overloaded => ApiError::Overloaded(1),
            HashError::Failed => ApiError::Internal("password hashing failed".into()),
        }
    }
}

/// A challenge operation on `/v1/challenges*`.
impl From<ChallengeError> for ApiError {
    fn from(e: ChallengeError) -> Self {
        match e {
            ChallengeError::Invalid(errors) => ApiError::Validation(errors),
            ChallengeError::NotFound | ChallengeError::NoSecret => ApiError::ChallengeNotFound,
            ChallengeError::MalformedToken => ApiError::InvalidLinkToken,
            ChallengeError::ControlMismatch => ApiError::ControlMismatch,
            ChallengeError::Throttled { retry_after } => ApiError::Throttled(retry_after),
            ChallengeError::Store(e) => ApiError::from(e),
        }
    }
}

/// An email link's token (confirm, reset, change): every refusal is one
/// answer, 400 `invalid_token`, whatever the engine found wrong.
impl From<LinkTokenError> for ApiError {
    fn from(LinkTokenError(e): LinkTokenError) -> Self {
        match e {
            ChallengeError::Store(e) => e.into(),
            ChallengeError::Invalid(_)
            | ChallengeError::NotFound
            | ChallengeError::MalformedToken
            | ChallengeError::ControlMismatch
            | ChallengeError::Throttled { .. }
            | ChallengeError::NoSecret => ApiError::InvalidLinkToken,
        }
    }
}

/// A presented JWT (access, pre-1.1 refresh) that does not verify: 401,
/// `token_expired` only when everything but the expiry checked out.
impl From<JwtError> for ApiError {
    fn from(e: JwtError) -> Self {
        match e {
            JwtError::Expired => ApiError::TokenExpired,
            JwtError::Malformed | JwtError::Invalid(_) | JwtError::Key(_) => ApiError::InvalidToken,
        }
    }
}

/// A token toktok issues could not be signed: our fault, 500.
impl From<SigningFailed> for ApiError {
    fn from(e: SigningFailed) -> Self {
        match e {
            SigningFailed::Session(JwtError::Key(cause)) => {
                ApiError::Internal(format!("signing failed: {cause}"))
            }
            SigningFailed::Session(
                JwtError::Malformed | JwtError::Expired | JwtError::Invalid(_),
            ) => ApiError::Internal("signing failed".into()),
            SigningFailed::Anonymous(e) => {
                ApiError::Internal(format!("signing an anonymous token failed: {e}"))
            }
        }
    }
}

/// An API key on a service route: unknown and revoked are one answer.
impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Unknown => ApiError::Unauthenticated,
            ApiKeyError::MissingScope => ApiError::Forbidden,
            ApiKeyError::Store(e) => ApiError::from(e),
        }
    }
}

/// An encrypted (JWE) body: one answer for every decryption failure
/// (docs/SECURITY.md O2).
impl From<DecryptError> for ApiError {
    fn from(e: DecryptError) -> Self {
        match e {
            DecryptError::Overloaded => ApiError::Overloaded(1),
            DecryptError::Invalid => ApiError::InvalidEncryption,
        }
    }
}

/// A new password the policy refuses: 422 `weak_password`, saying why.
impl From<PasswordProblem> for ApiError {
    fn from(problem: PasswordProblem) -> Self {
        match problem {
            PasswordProblem::TooShort { .. }
            | PasswordProblem::TooLong { .. }
            | PasswordProblem::Common
            | PasswordProblem::SameAsEmail => ApiError::WeakPassword(problem.to_string()),
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
        response.extensions_mut().insert(ProblemCode(code));
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
