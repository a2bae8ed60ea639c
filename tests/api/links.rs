//! toktok's own email links against the rest of the API (issue 16): the
//! challenge API cannot reach them (TT-01), and they die with the security
//! events that should end them (TT-02).

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::email::with_sink;
use crate::helpers::{assert_problem, TestApp, PASSWORD};
use crate::smtp::{link_in, token_of, SmtpSink};

const WAIT: Duration = Duration::from_secs(10);
const ATTACKER_PASSWORD: &str = "attacker chosen password 42";
const LINK_ACTIONS: [&str; 3] = [
    "toktok:password-reset",
    "toktok:email-change",
    "toktok:confirm-email",
];

async fn call(app: &TestApp, key: &str, path: &str, body: Value) -> Response {
    app.request(Method::POST, path, Some(key), Some(body)).await
}

fn user_id(body: &Value) -> String {
    body["user"]["id"].as_str().expect("user id").to_owned()
}

/// The token of the `n`-th mail's link (1-based).
async fn nth_token(sink: &SmtpSink, n: usize) -> String {
    let mails = sink.wait_for(n, WAIT).await;
    assert!(mails.len() >= n, "expected {n} mails, got {}", mails.len());
    token_of(&link_in(&mails[n - 1]).expect("a link"))
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Response {
    app.post(
        "/v1/auth/password/reset",
        json!({ "token": token, "password": password }),
    )
    .await
}

#[tokio::test]
async fn a_challenges_key_cannot_mint_a_link_challenge() {
    // TT-01, the reviewer's reproduction: a key that may only run
    // challenges minted a reset token for any user, admins included.
    let (app, _sink) = with_sink("").await;
    let key = app.api_key(&["challenges"]).await;
    let victim = app.signed_up("boss@example.com").await;
    let uid = user_id(&victim.body);
    for action in LINK_ACTIONS {
        let res = call(
            &app,
            &key,
            "/v1/challenges",
            json!({ "action": action, "id": uid, "metadata": { "new_email": "attacker@evil.example" } }),
        )
        .await;
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        if let Some(secret) = body["secret"].as_str() {
            // Whatever came back must open nothing.
            let res = reset(&app, secret, ATTACKER_PASSWORD).await;
            assert_ne!(res.status(), StatusCode::NO_CONTENT, "{action}: reset");
            let res = app
                .post("/v1/auth/confirm-email", json!({ "token": secret }))
                .await;
            assert_ne!(res.status(), StatusCode::OK, "{action}: confirm");
        }
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{action}: {body}");
        assert_eq!(body["errors"][0]["field"], "action", "{body}");
    }
    assert_eq!(
        app.login("boss@example.com", ATTACKER_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("boss@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_challenges_key_cannot_see_or_touch_a_pending_link() {
    // TT-01: info, regenerate, verify and remove on a reset the user asked
    // for themselves, by pair and by the mailed token.
    let (app, sink) = with_sink("").await;
    let key = app.api_key(&["challenges"]).await;
    let victim = app.signed_up("ada@example.com").await;
    let uid = user_id(&victim.body);
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "ada@example.com" }),
    )
    .await;
    let token = nth_token(&sink, 1).await;
    let pair = json!({ "action": "toktok:password-reset", "id": uid });

    for path in [
        "/v1/challenges/info",
        "/v1/challenges/regenerate",
        "/v1/challenges/remove",
    ] {
        let res = call(&app, &key, path, pair.clone()).await;
        assert_problem(res, 404, "challenge_not_found").await;
    }
    let wrong_secret = json!({ "action": "toktok:password-reset", "id": uid, "secret": "x" });
    for path in ["/v1/challenges/info", "/v1/challenges/verify"] {
        let res = call(&app, &key, path, wrong_secret.clone()).await;
        assert_problem(res, 404, "challenge_not_found").await;
    }
    // The mailed token is not a token of the challenge API.
    for path in [
        "/v1/challenges/info",
        "/v1/challenges/verify",
        "/v1/challenges/remove",
    ] {
        let res = call(&app, &key, path, json!({ "token": token })).await;
        assert_problem(res, 400, "invalid_token").await;
    }
    // A throttle set through the API does not hold back the user's mail.
    let res = call(
        &app,
        &key,
        "/v1/challenges",
        json!({ "action": "toktok:password-reset", "id": uid, "ttl": 86400, "throttle": 86400, "secret": false }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // None of it touched the link, which still works once.
    assert_eq!(
        reset(&app, &token, "ada's own new password 1")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        reset(&app, &token, "again again again 1").await,
        400,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_api_token_is_not_a_link_token() {
    // The other direction: a service challenge named like a link is still
    // a service challenge, and its token opens no link endpoint.
    let (app, _sink) = with_sink("").await;
    let key = app.api_key(&["challenges"]).await;
    let victim = app.signed_up("eve@example.com").await;
    let uid = user_id(&victim.body);
    let res = call(
        &app,
        &key,
        "/v1/challenges",
        json!({ "action": "password-reset", "id": uid }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let secret = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        reset(&app, &secret, ATTACKER_PASSWORD).await,
        400,
        "invalid_token",
    )
    .await;
    let res = app
        .post("/v1/auth/confirm-email", json!({ "token": secret }))
        .await;
    assert_problem(res, 400, "invalid_token").await;
}
