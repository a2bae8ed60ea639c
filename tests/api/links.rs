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

// TT-02: pending links die with the security events that should end them.

/// Waits for `count` mails and returns the token of the last one whose
/// link leads to `path`.
async fn last_token(sink: &SmtpSink, count: usize, path: &str) -> String {
    let mails = sink.wait_for(count, WAIT).await;
    assert!(
        mails.len() >= count,
        "expected {count} mails, got {}",
        mails.len()
    );
    mails
        .iter()
        .rev()
        .filter_map(link_in)
        .find(|link| link.contains(path))
        .map(|link| token_of(&link))
        .unwrap_or_else(|| panic!("no link to {path}"))
}

const RESET_PATH: &str = "/v1/auth/password/reset?";
const CONFIRM_PATH: &str = "/v1/auth/confirm-email?";
const FRESH: &str = "a fresh password after the incident";

async fn with_auth(app: &TestApp, token: &str, path: &str, body: Value) -> Response {
    app.request(Method::POST, path, Some(token), Some(body))
        .await
}

async fn forgot(app: &TestApp, email: &str) {
    let res = app
        .post("/v1/auth/password/forgot", json!({ "email": email }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

async fn change_password(app: &TestApp, access: &str, from: &str, to: &str) {
    let res = with_auth(
        app,
        access,
        "/v1/users/me/password",
        json!({ "current_password": from, "new_password": to }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

async fn request_email_change(app: &TestApp, access: &str, to: &str, password: &str) {
    let res = with_auth(
        app,
        access,
        "/v1/users/me/email",
        json!({ "new_email": to, "password": password }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

async fn confirm(app: &TestApp, token: &str) -> Response {
    app.post("/v1/auth/confirm-email", json!({ "token": token }))
        .await
}

#[tokio::test]
async fn a_password_change_ends_pending_reset_and_email_change_links() {
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("ada@example.com").await;
    forgot(&app, "ada@example.com").await;
    let reset_token = last_token(&sink, 1, RESET_PATH).await;
    // A thief with a session asks to move the account (notice + link).
    request_email_change(&app, &t.access, "thief@evil.example", PASSWORD).await;
    let change_token = last_token(&sink, 3, CONFIRM_PATH).await;
    change_password(&app, &t.access, PASSWORD, FRESH).await;

    assert_problem(
        reset(&app, &reset_token, "set by the old inbox 1").await,
        400,
        "invalid_token",
    )
    .await;
    assert_problem(confirm(&app, &change_token).await, 400, "invalid_token").await;
    assert_eq!(
        app.login("ada@example.com", FRESH).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_reset_ends_a_pending_email_change() {
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("bob@example.com").await;
    request_email_change(&app, &t.access, "thief@evil.example", PASSWORD).await;
    let change_token = last_token(&sink, 2, CONFIRM_PATH).await;
    forgot(&app, "bob@example.com").await;
    let reset_token = last_token(&sink, 3, RESET_PATH).await;
    assert_eq!(
        reset(&app, &reset_token, FRESH).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(confirm(&app, &change_token).await, 400, "invalid_token").await;
}

#[tokio::test]
async fn an_email_change_ends_a_reset_link_sent_to_the_old_inbox() {
    // The reviewer's reproduction: reset to the old inbox, then password
    // and email change; the old link used to set a password.
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("cy@example.com").await;
    forgot(&app, "cy@example.com").await;
    let reset_token = last_token(&sink, 1, RESET_PATH).await;
    request_email_change(&app, &t.access, "cy@new.example", PASSWORD).await;
    let change_token = last_token(&sink, 3, CONFIRM_PATH).await;
    assert_eq!(confirm(&app, &change_token).await.status(), StatusCode::OK);
    assert_problem(
        reset(&app, &reset_token, "set by the old inbox 1").await,
        400,
        "invalid_token",
    )
    .await;
    assert_eq!(
        app.login("cy@new.example", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_all_ends_pending_reset_and_email_change_links() {
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("di@example.com").await;
    forgot(&app, "di@example.com").await;
    let reset_token = last_token(&sink, 1, RESET_PATH).await;
    request_email_change(&app, &t.access, "thief@evil.example", PASSWORD).await;
    let change_token = last_token(&sink, 3, CONFIRM_PATH).await;
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&t.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(confirm(&app, &change_token).await, 400, "invalid_token").await;
    assert_problem(reset(&app, &reset_token, FRESH).await, 400, "invalid_token").await;
}

#[tokio::test]
async fn signing_everyone_out_does_not_suppress_the_password_changed_notice() {
    // A thief who changes the password and then signs everyone out must
    // not take the owner's notice with the links that logout-all ends.
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("gil@example.com").await;
    sink.stop().await; // the relay is down: the notice stays queued
    change_password(&app, &t.access, PASSWORD, FRESH).await;
    // The session that changed the password lives on, and signs all out.
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&t.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.sql_count("SELECT count(*) FROM outbox WHERE kind = 'password_changed_notice'")
            .await,
        1,
        "the notice is still queued"
    );
}

#[tokio::test]
async fn admin_logout_and_disable_end_pending_links() {
    let (app, sink) = with_sink("[email]\nconfirmation_required = true\n").await;
    let admin = app.api_key(&["admin"]).await;
    // An unconfirmed account: its confirmation link dies with a disable.
    let res = app.register("ed@example.com", PASSWORD).await;
    let ed = user_id(&res.json::<Value>().await.unwrap());
    let confirm_token = last_token(&sink, 1, CONFIRM_PATH).await;
    forgot(&app, "ed@example.com").await;
    let reset_token = last_token(&sink, 2, RESET_PATH).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/admin/users/{ed}/logout"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(reset(&app, &reset_token, FRESH).await, 400, "invalid_token").await;
    // Logout leaves the confirmation alone (it proves the address, nothing
    // more); disabling ends it.
    assert_eq!(
        app.sql_count(&format!(
            "SELECT count(*) FROM challenges WHERE id = '{ed}' AND action = 'toktok:confirm-email'"
        ))
        .await,
        1
    );
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{ed}"),
            Some(&admin),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(confirm(&app, &confirm_token).await, 400, "invalid_token").await;
}

/// The schema as a toktok before issue 16 left it (migrations 1 to 5), on
/// whichever backend the suite runs.
fn schema_before_namespaces(dir: &std::path::Path) {
    let postgres = crate::helpers::postgres_server().is_some();
    let text = if postgres {
        include_str!("../../schema.postgres.sql")
    } else {
        include_str!("../../schema.sql")
    };
    let old = text
        .split("\n-- migration: 6")
        .next()
        .expect("migrations 1 to 5");
    let version = if postgres {
        "CREATE TABLE schema_version (version BIGINT NOT NULL);
         INSERT INTO schema_version (version) VALUES (5);"
    } else {
        "PRAGMA user_version = 5;"
    };
    crate::helpers::sql_in(dir, &format!("{old}\n{version}\nSELECT 1"));
}

#[tokio::test]
async fn upgrading_sorts_stored_challenges_and_rekeys_addresses() {
    // TT-01 and TT-11 migrations on both stores: rows written before them
    // keep working, each in its place; nothing is lost.
    let dir = tempfile::tempdir().unwrap();
    let _ = crate::helpers::database_toml(dir.path());
    schema_before_namespaces(dir.path());
    crate::helpers::sql_in(
        dir.path(),
        "INSERT INTO users (id, email, email_key, created_at, updated_at) VALUES
             ('u1', 'ada@example.com', 'ada@example.com', 1, 1),
             ('u2', 'ﬁ@example.com', 'ﬁ@example.com', 1, 1);
         INSERT INTO challenges (action, id, secret, metadata, created_at, ttl) VALUES
             ('toktok:password-reset', 'u1', 'false', '{}', 1, 0),
             ('register', 'a@b.c', 'false', 'null', 1, 0);
         SELECT 1",
    );
    let app = crate::helpers::spawn_in(dir, "").await;
    let rows = app
        .sql("SELECT namespace, action FROM challenges ORDER BY action")
        .await;
    assert_eq!(
        rows,
        [
            vec!["api".to_owned(), "register".to_owned()],
            vec!["toktok".to_owned(), "toktok:password-reset".to_owned()],
        ]
    );
    assert_eq!(
        app.sql("SELECT email_key FROM users WHERE id = 'u2'").await,
        [vec!["fi@example.com".to_owned()]]
    );
    // The API sees its own challenge and not the link.
    let key = app.api_key(&["challenges"]).await;
    let res = call(
        &app,
        &key,
        "/v1/challenges/info",
        json!({ "action": "register", "id": "a@b.c" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = call(
        &app,
        &key,
        "/v1/challenges/info",
        json!({ "action": "toktok:password-reset", "id": "u1" }),
    )
    .await;
    assert_problem(res, 404, "challenge_not_found").await;
}

#[tokio::test]
async fn a_password_change_drops_a_reset_mail_not_yet_sent() {
    // TT-02: queued mail names the link to mint when it is sent; a reset
    // still in the outbox must not come out with a live link afterwards.
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("fay@example.com").await;
    sink.stop().await; // the relay is down: the mail stays queued
    forgot(&app, "fay@example.com").await;
    let queued_resets =
        || app.sql_count("SELECT count(*) FROM outbox WHERE kind = 'reset_password'");
    assert_eq!(queued_resets().await, 1);
    change_password(&app, &t.access, PASSWORD, FRESH).await;
    assert_eq!(queued_resets().await, 0);
    // The change notice itself is queued as usual (its own reset link is
    // minted when it is sent, to the address the account has then).
    assert_eq!(
        app.sql_count("SELECT count(*) FROM outbox WHERE kind = 'password_changed_notice'")
            .await,
        1
    );
    assert_eq!(app.sql_count("SELECT count(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn the_store_reports_addresses_the_nfkc_rule_has_a_problem_with() {
    // TT-11: what `toktok check` can show an operator after the upgrade.
    let app = crate::helpers::spawn_app().await;
    app.signed_up("kate@example.com").await;
    assert_eq!(
        app.state.store.email_key_report().await.unwrap(),
        Default::default()
    );
    // A squatter stored by an older toktok, under the lowercase-only key.
    app.sql(
        "INSERT INTO users (id, email, email_key, created_at, updated_at)
         VALUES ('squatter', '\u{212A}im@example.com', 'kim@example.com', 1, 1)",
    )
    .await;
    let report = app.state.store.email_key_report().await.unwrap();
    assert_eq!(report.not_normalized, ["squatter"]);
    assert!(report.collisions.is_empty() && report.updates.is_empty());
}
