//! The HTTP answer of every [`ApiError`] and every conversion into one,
//! pinned: status, `Content-Type`, `Retry-After`, `WWW-Authenticate` and
//! the whole problem+json body. Written before the conversions moved into
//! `http/error.rs`, so a move that changed an answer fails here.

use axum::response::IntoResponse;

use crate::accounts::email::LinkTokenError;
use crate::accounts::tokens::SigningFailed;
use crate::auth::api_keys::ApiKeyError;
use crate::auth::jwe::DecryptError;
use crate::auth::jwt::JwtError;
use crate::auth::password::{HashError, Overloaded};
use crate::challenge::ChallengeError;
use crate::domain::password::PasswordProblem;
use crate::error::{ApiError, FieldError};
use crate::store::StoreError;

/// The name of a variant. No `_` arm: a new variant fails to compile here
/// until it has a row in [`every_variant_answers_as_pinned`].
fn variant(e: &ApiError) -> &'static str {
    use ApiError::*;
    match e {
        MalformedBody(_) => "MalformedBody",
        InvalidEncryption => "InvalidEncryption",
        EncryptionRequired => "EncryptionRequired",
        InvalidLinkToken => "InvalidLinkToken",
        Unauthenticated => "Unauthenticated",
        InvalidToken => "InvalidToken",
        TokenExpired => "TokenExpired",
        TokenReused => "TokenReused",
        InvalidCredentials => "InvalidCredentials",
        AnonymousTokenRequired => "AnonymousTokenRequired",
        Forbidden => "Forbidden",
        AlreadyAuthenticated => "AlreadyAuthenticated",
        EmailNotConfirmed => "EmailNotConfirmed",
        WrongPassword => "WrongPassword",
        RegistrationClosed => "RegistrationClosed",
        ControlMismatch => "ControlMismatch",
        ReauthenticationRequired => "ReauthenticationRequired",
        SecondFactorRequired => "SecondFactorRequired",
        Conflict(_) => "Conflict",
        LinkRequired => "LinkRequired",
        ProviderUnavailable => "ProviderUnavailable",
        HookFailed => "HookFailed",
        NotFound => "NotFound",
        FeatureDisabled => "FeatureDisabled",
        ChallengeNotFound => "ChallengeNotFound",
        EmailTaken => "EmailTaken",
        BodyTooLarge(_) => "BodyTooLarge",
        UnsupportedMediaType => "UnsupportedMediaType",
        Validation(_) => "Validation",
        WeakPassword(_) => "WeakPassword",
        RateLimited(_) => "RateLimited",
        AccountLocked(_) => "AccountLocked",
        Throttled(_) => "Throttled",
        Overloaded(_) => "Overloaded",
        StorageUnavailable => "StorageUnavailable",
        Internal(_) => "Internal",
    }
}

/// Status | Content-Type | Retry-After | WWW-Authenticate | body.
async fn render(e: ApiError) -> String {
    let res = e.into_response();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| "-".into())
    };
    let head = format!(
        "{} | {} | retry-after: {} | www-authenticate: {}",
        res.status().as_u16(),
        header("content-type"),
        header("retry-after"),
        header("www-authenticate"),
    );
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    format!("{head} | {}", String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn every_variant_answers_as_pinned() {
    use ApiError::*;
    let table: Vec<(ApiError, &str)> = vec![
        (
            MalformedBody("expected value at line 1 column 1".into()),
            r#"400 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:malformed_body","title":"Malformed body","status":400,"code":"malformed_body","detail":"the request body is not valid JSON: expected value at line 1 column 1"}"#,
        ),
        (
            InvalidEncryption,
            r#"400 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:invalid_encryption","title":"Invalid encryption","status":400,"code":"invalid_encryption","detail":"the encrypted body cannot be decrypted"}"#,
        ),
        (
            EncryptionRequired,
            r#"400 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:encryption_required","title":"Encryption required","status":400,"code":"encryption_required","detail":"this endpoint needs an encrypted body (Content-Type: application/jose)"}"#,
        ),
        (
            InvalidLinkToken,
            r#"400 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:invalid_token","title":"Invalid token","status":400,"code":"invalid_token","detail":"the token is invalid, expired or already used"}"#,
        ),
        (
            Unauthenticated,
            r#"401 | application/problem+json | retry-after: - | www-authenticate: Bearer | {"type":"urn:toktok:unauthenticated","title":"Unauthenticated","status":401,"code":"unauthenticated","detail":"authentication required"}"#,
        ),
        (
            InvalidToken,
            r#"401 | application/problem+json | retry-after: - | www-authenticate: Bearer error="invalid_token", error_description="invalid_token" | {"type":"urn:toktok:invalid_token","title":"Invalid token","status":401,"code":"invalid_token","detail":"the token is invalid"}"#,
        ),
        (
            TokenExpired,
            r#"401 | application/problem+json | retry-after: - | www-authenticate: Bearer error="invalid_token", error_description="token_expired" | {"type":"urn:toktok:token_expired","title":"Token expired","status":401,"code":"token_expired","detail":"the token has expired"}"#,
        ),
        (
            TokenReused,
            r#"401 | application/problem+json | retry-after: - | www-authenticate: Bearer error="invalid_token", error_description="token_reused" | {"type":"urn:toktok:token_reused","title":"Token reused","status":401,"code":"token_reused","detail":"the refresh token was already used; the session has been ended"}"#,
        ),
        (
            InvalidCredentials,
            r#"401 | application/problem+json | retry-after: - | www-authenticate: Bearer | {"type":"urn:toktok:invalid_credentials","title":"Invalid credentials","status":401,"code":"invalid_credentials","detail":"invalid email or password"}"#,
        ),
        (
            AnonymousTokenRequired,
            r#"401 | application/problem+json | retry-after: - | www-authenticate: Bearer | {"type":"urn:toktok:anonymous_token_required","title":"Anonymous token required","status":401,"code":"anonymous_token_required","detail":"this endpoint needs an anonymous token (POST /v1/auth/anonymous)"}"#,
        ),
        (
            Forbidden,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:forbidden","title":"Forbidden","status":403,"code":"forbidden","detail":"not allowed"}"#,
        ),
        (
            AlreadyAuthenticated,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:already_authenticated","title":"Already authenticated","status":403,"code":"already_authenticated","detail":"already signed in; this endpoint is for anonymous clients"}"#,
        ),
        (
            EmailNotConfirmed,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:email_not_confirmed","title":"Email not confirmed","status":403,"code":"email_not_confirmed","detail":"the email address is not confirmed"}"#,
        ),
        (
            WrongPassword,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:wrong_password","title":"Wrong password","status":403,"code":"wrong_password","detail":"the current password is wrong"}"#,
        ),
        (
            RegistrationClosed,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:registration_closed","title":"Registration closed","status":403,"code":"registration_closed","detail":"registration is closed"}"#,
        ),
        (
            ControlMismatch,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:control_mismatch","title":"Control mismatch","status":403,"code":"control_mismatch","detail":"the token belongs to another id or action"}"#,
        ),
        (
            ReauthenticationRequired,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:reauthentication_required","title":"Reauthentication required","status":403,"code":"reauthentication_required","detail":"sign in again (POST /v1/auth/reauthenticate) with a second factor if you have one"}"#,
        ),
        (
            SecondFactorRequired,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:forbidden","title":"Forbidden","status":403,"code":"forbidden","detail":"this account must use a second factor: until this session has one, only enrolment answers; enrol TOTP (POST /v1/users/me/totp) or a passkey (POST /v1/users/me/passkeys/options) if you have none, then POST /v1/auth/reauthenticate with it"}"#,
        ),
        (
            LinkRequired,
            r#"403 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:link_required","title":"Link required","status":403,"code":"link_required","detail":"an account with this email address exists: sign in to it and link this provider from there"}"#,
        ),
        (
            ProviderUnavailable,
            r#"502 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:provider_unavailable","title":"Provider unavailable","status":502,"code":"provider_unavailable","detail":"the sign-in provider is unavailable; retry later"}"#,
        ),
        (
            HookFailed,
            r#"502 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:hook_failed","title":"Token hook failed","status":502,"code":"hook_failed","detail":"the token hook did not answer in time or answered badly; retry later"}"#,
        ),
        (
            Conflict("this is the last way to sign in to the account".into()),
            r#"409 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:conflict","title":"Conflict","status":409,"code":"conflict","detail":"this is the last way to sign in to the account"}"#,
        ),
        (
            NotFound,
            r#"404 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:not_found","title":"Not found","status":404,"code":"not_found","detail":"not found"}"#,
        ),
        (
            FeatureDisabled,
            r#"404 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:feature_disabled","title":"Feature disabled","status":404,"code":"feature_disabled","detail":"this feature is disabled"}"#,
        ),
        (
            ChallengeNotFound,
            r#"404 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:challenge_not_found","title":"Challenge not found","status":404,"code":"challenge_not_found","detail":"no such challenge, or it expired, or the secret is wrong"}"#,
        ),
        (
            EmailTaken,
            r#"409 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:email_taken","title":"Email taken","status":409,"code":"email_taken","detail":"an account with this email already exists"}"#,
        ),
        (
            BodyTooLarge(65536),
            r#"413 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:body_too_large","title":"Body too large","status":413,"code":"body_too_large","detail":"the request body is larger than 65536 bytes"}"#,
        ),
        (
            UnsupportedMediaType,
            r#"415 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:unsupported_media_type","title":"Unsupported media type","status":415,"code":"unsupported_media_type","detail":"expected Content-Type: application/json"}"#,
        ),
        (
            Validation(vec![
                FieldError::new("email", "is required"),
                FieldError::new("name", "must not contain control characters"),
            ]),
            r#"422 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:validation_failed","title":"Validation failed","status":422,"code":"validation_failed","detail":"some fields are invalid","errors":[{"field":"email","message":"is required"},{"field":"name","message":"must not contain control characters"}]}"#,
        ),
        (
            WeakPassword("is too common".into()),
            r#"422 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:weak_password","title":"Weak password","status":422,"code":"weak_password","detail":"the password is not acceptable: is too common"}"#,
        ),
        (
            RateLimited(7),
            r#"429 | application/problem+json | retry-after: 7 | www-authenticate: - | {"type":"urn:toktok:rate_limited","title":"Rate limited","status":429,"code":"rate_limited","detail":"too many requests; retry after 7 s","retry_after":7}"#,
        ),
        (
            AccountLocked(3),
            r#"429 | application/problem+json | retry-after: 3 | www-authenticate: - | {"type":"urn:toktok:rate_limited","title":"Rate limited","status":429,"code":"rate_limited","detail":"too many failed attempts for this account; retry after 3 s, or use a password reset link (POST /v1/auth/password/forgot), which works at once and lifts the lock","retry_after":3}"#,
        ),
        (
            Throttled(9),
            r#"429 | application/problem+json | retry-after: 9 | www-authenticate: - | {"type":"urn:toktok:throttled","title":"Throttled","status":429,"code":"throttled","detail":"a challenge for this id and action was created recently; retry after 9 s","retry_after":9}"#,
        ),
        (
            Overloaded(1),
            r#"503 | application/problem+json | retry-after: 1 | www-authenticate: - | {"type":"urn:toktok:overloaded","title":"Overloaded","status":503,"code":"overloaded","detail":"the server is busy; retry after 1 s","retry_after":1}"#,
        ),
        (
            StorageUnavailable,
            r#"503 | application/problem+json | retry-after: 5 | www-authenticate: - | {"type":"urn:toktok:storage_unavailable","title":"Storage unavailable","status":503,"code":"storage_unavailable","detail":"storage is unavailable; retry later","retry_after":5}"#,
        ),
        (
            Internal("secret detail".into()),
            r#"500 | application/problem+json | retry-after: - | www-authenticate: - | {"type":"urn:toktok:internal","title":"Internal error","status":500,"code":"internal","detail":"something went wrong on our side; it has been logged"}"#,
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (error, expected) in table {
        let name = variant(&error);
        assert_eq!(render(error).await, expected, "{name}");
        seen.insert(name);
    }
    assert_eq!(seen.len(), 36, "one row per variant");
}

#[test]
fn parts_give_status_code_and_title() {
    let (status, code, title) = ApiError::AccountLocked(3).parts();
    assert_eq!(
        (status.as_u16(), code, title),
        (429, "rate_limited", "Rate limited")
    );
}

/// `ApiError` has no `PartialEq` (its payloads need none): compare the
/// `Debug` form, which names the variant and its payload.
fn debug(e: impl Into<ApiError>) -> String {
    format!("{:?}", e.into())
}

#[test]
fn store_errors() {
    assert_eq!(debug(StoreError::Conflict("email")), "EmailTaken");
    assert_eq!(
        debug(StoreError::Conflict("session")),
        r#"Internal("unexpected conflict on session")"#
    );
    assert_eq!(
        debug(StoreError::Unavailable("disk full".into())),
        "StorageUnavailable"
    );
    assert_eq!(
        debug(StoreError::Internal("bad row".into())),
        r#"Internal("bad row")"#
    );
}

#[test]
fn hash_errors() {
    assert_eq!(debug(HashError::Overloaded), "Overloaded(1)");
    assert_eq!(
        debug(HashError::Failed),
        r#"Internal("password hashing failed")"#
    );
    assert_eq!(debug(Overloaded), "Overloaded(1)");
}

#[test]
fn challenge_errors() {
    let field = FieldError::new("id", "is required");
    assert_eq!(
        debug(ChallengeError::Invalid(vec![field])),
        r#"Validation([FieldError { field: "id", message: "is required" }])"#
    );
    assert_eq!(debug(ChallengeError::NotFound), "ChallengeNotFound");
    assert_eq!(debug(ChallengeError::NoSecret), "ChallengeNotFound");
    assert_eq!(debug(ChallengeError::MalformedToken), "InvalidLinkToken");
    assert_eq!(debug(ChallengeError::ControlMismatch), "ControlMismatch");
    assert_eq!(
        debug(ChallengeError::Throttled { retry_after: 4 }),
        "Throttled(4)"
    );
    assert_eq!(
        debug(ChallengeError::Store(StoreError::Unavailable("x".into()))),
        "StorageUnavailable"
    );
}

#[test]
fn overload_and_limits_carry_retry_after() {
    use axum::http::{header, StatusCode};
    // P8: an overloaded hash pool answers 503 with Retry-After.
    let res = ApiError::from(HashError::Overloaded).into_response();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    let res = ApiError::RateLimited(7).into_response();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()[header::RETRY_AFTER], "7");
}

#[test]
fn internal_errors_never_show_their_cause() {
    use axum::http::{header, StatusCode};
    let res = ApiError::Internal("secret detail".into()).into_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
}

#[test]
fn storage_trouble_is_503_not_500() {
    use axum::http::StatusCode;
    let res = ApiError::from(StoreError::Unavailable("disk full".into())).into_response();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

// The conversions below were closures and private functions in
// `http/extract.rs`, `accounts/mod.rs`, `accounts/tokens.rs`,
// `accounts/anonymous.rs` and `accounts/email.rs` before they moved here;
// these rows are what those bodies answered.

#[test]
fn jwt_errors_of_a_presented_token() {
    assert_eq!(debug(JwtError::Expired), "TokenExpired");
    assert_eq!(debug(JwtError::Malformed), "InvalidToken");
    assert_eq!(debug(JwtError::Invalid("bad signature")), "InvalidToken");
    assert_eq!(debug(JwtError::Key("gone".into())), "InvalidToken");
}

#[test]
fn jwt_errors_of_a_token_we_sign() {
    assert_eq!(
        debug(SigningFailed::Session(JwtError::Key("no key".into()))),
        r#"Internal("signing failed: no key")"#
    );
    for e in [
        JwtError::Malformed,
        JwtError::Expired,
        JwtError::Invalid("x"),
    ] {
        assert_eq!(
            debug(SigningFailed::Session(e)),
            r#"Internal("signing failed")"#
        );
    }
    assert_eq!(
        debug(SigningFailed::Anonymous(JwtError::Key("no key".into()))),
        r#"Internal("signing an anonymous token failed: signing key error: no key")"#
    );
}

#[test]
fn link_token_errors_are_one_answer() {
    for e in [
        ChallengeError::Invalid(vec![FieldError::new("id", "x")]),
        ChallengeError::NotFound,
        ChallengeError::MalformedToken,
        ChallengeError::ControlMismatch,
        ChallengeError::Throttled { retry_after: 3 },
        ChallengeError::NoSecret,
    ] {
        assert_eq!(debug(LinkTokenError(e)), "InvalidLinkToken");
    }
    assert_eq!(
        debug(LinkTokenError(ChallengeError::Store(StoreError::Internal(
            "x".into()
        )))),
        r#"Internal("x")"#
    );
}

#[test]
fn api_key_errors() {
    assert_eq!(debug(ApiKeyError::Unknown), "Unauthenticated");
    assert_eq!(debug(ApiKeyError::MissingScope), "Forbidden");
    assert_eq!(
        debug(ApiKeyError::Store(StoreError::Unavailable("x".into()))),
        "StorageUnavailable"
    );
}

#[test]
fn decrypt_errors() {
    assert_eq!(debug(DecryptError::Overloaded), "Overloaded(1)");
    assert_eq!(debug(DecryptError::Invalid), "InvalidEncryption");
}

#[test]
fn password_problems() {
    assert_eq!(
        debug(PasswordProblem::TooShort { min: 8 }),
        r#"WeakPassword("must be at least 8 characters")"#
    );
    assert_eq!(
        debug(PasswordProblem::TooLong { max: 64 }),
        r#"WeakPassword("must be at most 64 characters")"#
    );
    assert_eq!(
        debug(PasswordProblem::Common),
        r#"WeakPassword("is too common")"#
    );
    assert_eq!(
        debug(PasswordProblem::SameAsEmail),
        r#"WeakPassword("must not be your email address")"#
    );
}

/// One value of every variant (the names checked by [`variant`]).
fn one_of_each() -> Vec<ApiError> {
    use ApiError::*;
    vec![
        MalformedBody("x".into()),
        InvalidEncryption,
        EncryptionRequired,
        InvalidLinkToken,
        Unauthenticated,
        InvalidToken,
        TokenExpired,
        TokenReused,
        InvalidCredentials,
        AnonymousTokenRequired,
        Forbidden,
        AlreadyAuthenticated,
        EmailNotConfirmed,
        WrongPassword,
        RegistrationClosed,
        ControlMismatch,
        ReauthenticationRequired,
        SecondFactorRequired,
        Conflict("x".into()),
        LinkRequired,
        ProviderUnavailable,
        HookFailed,
        NotFound,
        FeatureDisabled,
        ChallengeNotFound,
        EmailTaken,
        BodyTooLarge(1),
        UnsupportedMediaType,
        Validation(vec![]),
        WeakPassword("x".into()),
        RateLimited(1),
        AccountLocked(1),
        Throttled(1),
        Overloaded(1),
        StorageUnavailable,
        Internal("x".into()),
    ]
}

#[test]
fn every_title_is_in_every_catalogue_and_english_is_the_wire_title() {
    use crate::i18n::{Catalogues, Locale};
    let catalogues = Catalogues::builtin().unwrap();
    let all = one_of_each();
    let names: std::collections::BTreeSet<_> = all.iter().map(variant).collect();
    assert_eq!(names.len(), 36, "one of each variant");
    for e in &all {
        let (_, code, title) = e.parts();
        let key = format!("problem-{code}");
        assert_eq!(catalogues.text(Locale::En, &key, &[]), title, "{code}");
        for locale in [Locale::Fr, Locale::De, Locale::Es] {
            let local = catalogues.text(locale, &key, &[]);
            assert!(local != key && local != title, "{locale} {code}: {local}");
        }
    }
}

#[tokio::test]
async fn a_problem_title_follows_accept_language_and_the_code_stays() {
    use std::sync::Arc;

    use axum::routing::get;
    use tower::ServiceExt;

    use crate::i18n::Catalogues;

    let catalogues = Arc::new(Catalogues::builtin().unwrap());
    let app = axum::Router::new()
        .route("/", get(|| async { ApiError::RateLimited(7) }))
        .route("/ok", get(|| async { "fine" }))
        .layer(axum::middleware::from_fn_with_state(
            catalogues,
            super::localise_title,
        ));
    let call = |path: &'static str, language: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut request = axum::http::Request::get(path);
            if let Some(language) = language {
                request = request.header("accept-language", language);
            }
            let res = app
                .oneshot(request.body(axum::body::Body::empty()).unwrap())
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry = res.headers().get("retry-after").cloned();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, retry, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let english = r#"{"type":"urn:toktok:rate_limited","title":"Rate limited","status":429,"code":"rate_limited","detail":"too many requests; retry after 7 s","retry_after":7}"#;
    for language in [None, Some("en-GB"), Some("it, pt;q=0.5"), Some("de;q=0")] {
        assert_eq!(call("/", language).await.2, english, "{language:?}");
    }
    let (status, retry, german) = call("/", Some("de-CH, en;q=0.5")).await;
    assert_eq!((status, retry.unwrap()), (429, "7".parse().unwrap()));
    assert_eq!(
        german,
        r#"{"type":"urn:toktok:rate_limited","title":"Zu viele Anfragen","status":429,"code":"rate_limited","detail":"too many requests; retry after 7 s","retry_after":7}"#
    );
    let french = call("/", Some("fr")).await.2;
    assert!(french.contains(r#""title":"Trop de requêtes""#), "{french}");
    assert_eq!(call("/ok", Some("fr")).await.2, "fine");
}
