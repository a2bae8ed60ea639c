//! Token shapes v1.1 (docs/API.md; issue 16 TT-06): access tokens a standard
//! verifier cannot confuse with anything else, opaque refresh tokens, and
//! the tokens of the shapes before it, which keep working until they expire.
//! The same shapes through real libraries: tests/interop/.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use toktok::auth::jwt::{Claims, TokenKind};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, Tokens};

fn part(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

async fn refreshed(app: &TestApp, refresh: &str) -> Tokens {
    let res = app.refresh(refresh).await;
    assert_eq!(res.status(), StatusCode::OK, "refresh of {refresh}");
    Tokens::from(res.json::<Value>().await.unwrap())
}

/// The session id and user id behind an access token.
fn sid_and_sub(access: &str) -> (String, String) {
    let claims = part(access, 1);
    (
        claims["sid"].as_str().unwrap().to_owned(),
        claims["sub"].as_str().unwrap().to_owned(),
    )
}

/// A refresh token as toktok issued them before v1.1: a JWT whose `jti` is
/// the secret (here the secret of an opaque token of the same session, which
/// the store knows by the same hash), `typ: refresh`, header `typ: JWT`.
fn legacy_refresh_jwt(app: &TestApp, opaque: &str, access: &str) -> String {
    let (sid, sub) = sid_and_sub(access);
    let now = app.state.now();
    let claims = Claims {
        iss: "toktok".into(),
        aud: "toktok".into(),
        sub,
        exp: now + 30 * 24 * 3600,
        iat: now,
        nbf: now,
        jti: opaque.strip_prefix("rt_").unwrap().to_owned(),
        client_id: None,
        sid: Some(sid),
        typ: TokenKind::Refresh,
        email: None,
        email_verified: None,
        role: None,
        auth_time: None,
        amr: None,
        aal: None,
        scope: None,
    };
    let token = app.state.keys().sign(&claims).unwrap();
    assert_eq!(part(&token, 0)["typ"], "JWT");
    token
}

#[tokio::test]
async fn access_tokens_are_rfc_9068_with_auth_time_amr_and_aal() {
    let app = spawn_app().await;
    let signed_up_at = app.state.now();
    let t = app.signed_up("shape@example.com").await;
    let header = part(&t.access, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
    let claims = part(&t.access, 1);
    for name in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "sid"] {
        assert!(!claims[name].is_null(), "{name} missing: {claims}");
    }
    assert_eq!(claims["client_id"], "toktok");
    assert_eq!(claims["aud"], "toktok");
    assert_eq!(claims["typ"], "access");
    assert_eq!(claims["auth_time"], signed_up_at);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["aal"], 1);
    // A refresh much later keeps when and how the user signed in.
    app.clock.advance(3600);
    let later = refreshed(&app, &t.refresh).await;
    let claims = part(&later.access, 1);
    assert_eq!(claims["auth_time"], signed_up_at);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert_eq!(claims["iat"], signed_up_at + 3600);
    // A new sign-in is a new auth_time.
    let again = app.signed_in("shape@example.com").await;
    assert_eq!(part(&again.access, 1)["auth_time"], signed_up_at + 3600);
}

const HS_SECRET: &str = "a-test-secret-of-more-than-32-bytes-for-hs256";

/// A JWT signed by hand (HS256 with the server's secret), header and all.
fn hs256_by_hand(header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HS_SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[tokio::test]
async fn access_tokens_of_the_pre_1_1_shape_work_until_they_expire() {
    // Header typ JWT, no client_id: what toktok issued before. An upgrade
    // must not sign anyone out; today's shape without at+jwt is refused.
    let app = spawn_app_with(&format!(
        "[jwt]\nalgorithm = \"HS256\"\nsecret = \"{HS_SECRET}\"\n"
    ))
    .await;
    let t = app.signed_up("old-access@example.com").await;
    let header = part(&t.access, 0);
    assert_eq!(header["typ"], "at+jwt");
    let mut old_header = header.clone();
    old_header["typ"] = json!("JWT");
    let today = part(&t.access, 1);
    let mut legacy = today.clone();
    for claim in ["client_id", "auth_time", "amr", "aal"] {
        legacy.as_object_mut().unwrap().remove(claim);
    }
    let res = app
        .get_auth("/v1/users/me", &hs256_by_hand(&old_header, &legacy))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        app.get_auth("/v1/users/me", &hs256_by_hand(&old_header, &today))
            .await,
        401,
        "invalid_token",
    )
    .await;
    app.clock.advance(16 * 60);
    assert_problem(
        app.get_auth("/v1/users/me", &hs256_by_hand(&old_header, &legacy))
            .await,
        401,
        "token_expired",
    )
    .await;
}

#[tokio::test]
async fn refresh_tokens_are_opaque_and_only_well_formed_ones_are_read() {
    let app = spawn_app().await;
    let t = app.signed_up("opaque@example.com").await;
    let secret = t.refresh.strip_prefix("rt_").expect("rt_ prefix");
    assert_eq!(secret.len(), 43);
    assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
    let next = refreshed(&app, &t.refresh).await;
    assert!(next.refresh.starts_with("rt_") && next.refresh.len() == 46);
    for bad in [
        "rt_".to_owned(),
        "rt_short".to_owned(),
        format!("rt_{}", &secret[..42]),
        format!("rt_{secret}="),
        format!(
            "rt_{}",
            secret.replace(|c: char| c.is_ascii_alphanumeric(), "+")
        ),
        format!("RT_{secret}"),
        format!("rt_{}", "A".repeat(43)),
        "not a token".to_owned(),
    ] {
        assert_problem(app.refresh(&bad).await, 401, "invalid_token").await;
    }
    // Neither kind stands in for the other.
    assert_problem(
        app.get_auth("/v1/users/me", &next.refresh).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(app.refresh(&next.access).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn any_spent_refresh_token_is_reuse_however_old() {
    // R2 with opaque tokens: the store remembers every spent hash of a
    // family, so a token two or more rotations old still revokes it.
    let app = spawn_app().await;
    let t0 = app.signed_up("spent@example.com").await;
    let t1 = refreshed(&app, &t0.refresh).await;
    app.clock.advance(20);
    let t2 = refreshed(&app, &t1.refresh).await;
    app.clock.advance(20);
    let t3 = refreshed(&app, &t2.refresh).await;
    assert_problem(app.refresh(&t0.refresh).await, 401, "token_reused").await;
    assert_problem(app.refresh(&t3.refresh).await, 401, "invalid_token").await;
    assert_problem(
        app.get_auth("/v1/users/me", &t3.access).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn a_jwt_refresh_token_from_before_the_upgrade_keeps_working() {
    let app = spawn_app().await;
    let t = app.signed_up("legacy@example.com").await;
    let legacy = legacy_refresh_jwt(&app, &t.refresh, &t.access);
    // It rotates like the opaque token with the same secret would, into an
    // opaque successor.
    let next = refreshed(&app, &legacy).await;
    assert!(next.refresh.starts_with("rt_"));
    assert_eq!(part(&next.access, 0)["typ"], "at+jwt");
    // Replayed inside the grace window: the very same successor.
    app.clock.advance(5);
    let again = refreshed(&app, &legacy).await;
    assert_eq!(again.refresh, next.refresh);
    // The opaque successor goes on.
    let third = refreshed(&app, &next.refresh).await;
    // Past the grace, the old JWT is reuse and ends the family.
    app.clock.advance(11);
    assert_problem(app.refresh(&legacy).await, 401, "token_reused").await;
    assert_problem(app.refresh(&third.refresh).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn a_jwt_refresh_token_from_before_the_upgrade_expires_as_before() {
    let app = spawn_app().await;
    let t = app.signed_up("legacy-exp@example.com").await;
    let legacy = legacy_refresh_jwt(&app, &t.refresh, &t.access);
    app.clock.advance(31 * 24 * 3600);
    assert_problem(app.refresh(&legacy).await, 401, "token_expired").await;
}

#[tokio::test]
async fn the_reuse_grace_is_counted_exactly() {
    // Issue 16 section 3: a 1 s grace lasted up to 2 s (whole seconds).
    let app = spawn_app_with("[jwt]\nreuse_grace = \"1s\"\n").await;
    let t = app.signed_up("grace@example.com").await;
    app.clock.advance_ms(900);
    let next = refreshed(&app, &t.refresh).await;
    // 999 ms after the rotation (across a whole-second boundary): replay.
    app.clock.advance_ms(999);
    assert_eq!(refreshed(&app, &t.refresh).await.refresh, next.refresh);
    // 1000 ms after it: reuse, although the old rule (whole seconds,
    // `<=`) would have allowed it until 2 s.
    app.clock.advance_ms(1);
    assert_problem(app.refresh(&t.refresh).await, 401, "token_reused").await;
}

#[tokio::test]
async fn a_zero_reuse_grace_is_strict_rotation() {
    let app = spawn_app_with("[jwt]\nreuse_grace = \"0s\"\n").await;
    let t = app.signed_up("strict@example.com").await;
    let next = refreshed(&app, &t.refresh).await;
    // Presented again at once, in the same millisecond: reuse.
    assert_problem(app.refresh(&t.refresh).await, 401, "token_reused").await;
    assert_problem(app.refresh(&next.refresh).await, 401, "invalid_token").await;
}

#[tokio::test]
async fn anonymous_tokens_have_their_own_audience_and_still_open_the_gate() {
    let app = spawn_app_with("[anonymous]\nenabled = true\nrequired = true\n").await;
    let res = app
        .request(Method::POST, "/v1/auth/anonymous", None, None)
        .await;
    let body: Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(part(token, 1)["aud"], "toktok:anonymous");
    assert_eq!(part(token, 0)["typ"], "JWT");
    let res = app
        .request(
            Method::POST,
            "/v1/auth/register",
            Some(token),
            Some(json!({"email":"anon-gate@example.com","password":crate::helpers::PASSWORD})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // A pre-1.1 anonymous token (aud = the audience) too, until it expires.
    let mut claims: Claims = serde_json::from_value(part(token, 1)).unwrap();
    claims.aud = "toktok".into();
    let legacy = app.state.keys().sign(&claims).unwrap();
    let res = app
        .request(
            Method::POST,
            "/v1/auth/password/forgot",
            Some(&legacy),
            Some(json!({"email":"anon-gate@example.com"})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}
