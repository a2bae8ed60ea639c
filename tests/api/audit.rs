//! The audit log (issue 6): each security-relevant flow writes its event,
//! with the user, IP and user agent, and never a secret.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::email::with_sink;
use crate::helpers::{assert_problem, TestApp, PASSWORD};
use crate::smtp::{link_in, token_of, ReceivedMail, SmtpSink};

const NEW_PASSWORD: &str = "an entirely different passphrase";

/// Every audit event of `user_id`, oldest first, paging through the API.
async fn events_of(app: &TestApp, key: &str, user_id: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = format!("/v1/admin/audit?user_id={user_id}&limit=100");
        if let Some(a) = &after {
            q.push_str(&format!("&after={a}"));
        }
        let res = app.get_auth(&q, key).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.unwrap();
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    events.reverse();
    events
}

/// The first mail to `to` whose link goes to `path`, waiting for it.
async fn link_to(sink: &SmtpSink, to: &str, path: &str) -> String {
    for _ in 0..100 {
        // Not the password-changed notice: it carries a reset link too,
        // which a later forgot-password link replaces.
        let found = sink.messages().iter().find_map(|m: &ReceivedMail| {
            let link = link_in(m)?;
            let notice = m.subject().is_some_and(|s| s.contains("was changed"));
            (m.to == [to] && link.contains(path) && !notice).then_some(link)
        });
        if let Some(link) = found {
            return link;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail to {to} with a {path} link");
}

async fn id_of(app: &TestApp, access: &str) -> String {
    let me: Value = app
        .get_auth("/v1/users/me", access)
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_security_flow_is_audited_without_secrets() {
    let (app, sink) = with_sink("").await;
    let key = app.api_key(&["admin"]).await;
    let mut secrets: Vec<String> = vec![PASSWORD.into(), NEW_PASSWORD.into()];

    // Registration, a failed and a good login.
    let first = app.signed_up("audited@example.com").await;
    let id = id_of(&app, &first.access).await;
    assert_problem(
        app.login("audited@example.com", "not the password at all")
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let session = app.signed_in("audited@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("user-agent", "audit-test/1.0")
        .json(&json!({ "email": "audited@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Refresh reuse: a spent token presented after the grace window.
    let res = app.refresh(&session.refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.clock.advance(11);
    assert_problem(app.refresh(&session.refresh).await, 401, "token_reused").await;
    secrets.push(session.refresh.clone());

    // Logout, then logout-all.
    let one = app.signed_in("audited@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout", Some(&one.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let all = app.signed_in("audited@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&all.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Password change, then forgot and reset by the mailed link.
    let t = app.signed_in("audited@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&t.access),
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "audited@example.com" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let token = token_of(&link_to(&sink, "audited@example.com", "/password/reset").await);
    secrets.push(token.clone());
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // Email change, requested and confirmed.
    let t = app.signed_in("audited@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/email",
            Some(&t.access),
            Some(json!({ "new_email": "moved@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let token = token_of(&link_to(&sink, "moved@example.com", "/confirm-email").await);
    secrets.push(token.clone());
    let res = app
        .post("/v1/auth/confirm-email", json!({ "token": token }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Five wrong passwords lock the account.
    for _ in 0..5 {
        app.login("moved@example.com", "still not the password")
            .await;
    }

    let events = events_of(&app, &key, &id).await;
    let kinds: BTreeSet<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for expected in [
        "user.registered",
        "login.failed",
        "login.succeeded",
        "refresh.reused",
        "session.ended",
        "sessions.ended_all",
        "password.changed",
        "password.reset_requested",
        "password.reset",
        "email.change_requested",
        "email.changed",
        "login.locked",
    ] {
        assert!(kinds.contains(expected), "no {expected} event in {kinds:?}");
    }
    let failed = events.iter().find(|e| e["kind"] == "login.failed").unwrap();
    assert!(failed["detail"]["reason"].is_string(), "{failed}");
    for event in &events {
        assert_eq!(event["user_id"], id.as_str());
        assert!(event["ip"].is_string(), "{event}");
    }
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "login.succeeded" && e["user_agent"] == "audit-test/1.0"),
        "the client's user agent is recorded"
    );
    let text = serde_json::to_string(&events).unwrap();
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret in the audit log");
    }
}
