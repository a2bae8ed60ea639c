//! The email flows end to end (docs/API.md "Email links"): requests over HTTP,
//! mail over real SMTP to the test sink, links followed back to toktok.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp, PASSWORD};
use crate::smtp::{link_in, token_of, ReceivedMail, SmtpSink};

pub(crate) const PUBLIC_URL: &str = "https://id.example.test";
const WAIT: Duration = Duration::from_secs(10);
const NEW_PASSWORD: &str = "a completely fresh passphrase";

pub(crate) async fn with_sink(extra: &str) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let config = format!(
        "[server]\npublic_url = \"{PUBLIC_URL}\"\n[email]\nmode = \"smtp\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout = \"2s\"\n{extra}",
        sink.port()
    );
    (spawn_app_with(&config).await, sink)
}

async fn confirming() -> (TestApp, SmtpSink) {
    with_sink("[email]\nconfirmation_required = true\n").await
}

/// The link of the `n`-th message (1-based), after waiting for it.
async fn nth_mail(sink: &SmtpSink, n: usize) -> ReceivedMail {
    let mails = sink.wait_for(n, WAIT).await;
    assert!(mails.len() >= n, "expected {n} mails, got {}", mails.len());
    mails[n - 1].clone()
}

/// Path and query of a mailed link, to send to the test server.
fn local(link: &str) -> String {
    let rest = link
        .strip_prefix(PUBLIC_URL)
        .expect("link built from public_url");
    rest.to_owned()
}

async fn post_token(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.post(path, body).await
}

#[tokio::test]
async fn sign_up_confirmation_end_to_end() {
    let (app, sink) = confirming().await;
    let res = app.register("new@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["confirmation_sent"], true);
    assert!(body.get("access_token").is_none());

    let mail = nth_mail(&sink, 1).await;
    assert_eq!(mail.to, ["new@example.com"]);
    assert!(mail
        .subject()
        .unwrap_or_default()
        .to_lowercase()
        .contains("confirm"));
    let link = link_in(&mail).expect("a link");
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/v1/auth/confirm-email?token=")),
        "{link}"
    );

    // Not yet: the right password gets 403 email_not_confirmed.
    assert_problem(
        app.login("new@example.com", PASSWORD).await,
        403,
        "email_not_confirmed",
    )
    .await;

    // A GET (a mail scanner) shows a page and consumes nothing (E5).
    for _ in 0..2 {
        let page = app.client.get(app.url(&local(&link))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        let html = page.text().await.unwrap();
        assert!(html.contains("<form method=\"post\" action=\"/v1/auth/confirm-email\""));
    }
    let token = token_of(&link);
    let res = post_token(&app, "/v1/auth/confirm-email", json!({ "token": token })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["email_confirmed"], true);
    // Single use.
    let res = post_token(&app, "/v1/auth/confirm-email", json!({ "token": token })).await;
    assert_problem(res, 400, "invalid_token").await;
    let signed_in = app.login("new@example.com", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let body: Value = signed_in.json().await.unwrap();
    assert_eq!(body["user"]["email_confirmed"], true);
}

#[tokio::test]
async fn the_confirmation_page_form_works_without_javascript() {
    let (app, sink) = confirming().await;
    app.register("form@example.com", PASSWORD).await;
    let token = token_of(&link_in(&nth_mail(&sink, 1).await).unwrap());
    let res = app
        .client
        .post(app.url("/v1/auth/confirm-email"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        app.login("form@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_mangled_link_query_still_gets_a_page() {
    let (app, _sink) = confirming().await;
    for path in ["/v1/auth/confirm-email", "/v1/auth/password/reset"] {
        for query in [
            "token=%ff%fe",
            "token=a&token=b",
            "token",
            "=&&=x",
            "utm_source=mail",
        ] {
            let res = app
                .client
                .get(app.url(&format!("{path}?{query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}?{query}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}?{query}"
            );
        }
    }
}

#[tokio::test]
async fn registering_a_taken_address_mails_the_owner_instead() {
    // L1.
    let (app, sink) = confirming().await;
    app.register("owner@example.com", PASSWORD).await;
    nth_mail(&sink, 1).await;
    let again = app
        .register("owner@example.com", "another good passphrase")
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["confirmation_sent"], true);
    let mail = nth_mail(&sink, 2).await;
    assert_eq!(mail.to, ["owner@example.com"]);
    assert!(link_in(&mail).is_none(), "a notice, not a link");
}

#[tokio::test]
async fn resend_and_forgot_answer_the_same_for_any_address() {
    // L1: byte for byte.
    let (app, sink) = confirming().await;
    app.register("known@example.com", PASSWORD).await;
    nth_mail(&sink, 1).await;
    for path in ["/v1/auth/confirm-email/resend", "/v1/auth/password/forgot"] {
        let known = app
            .post(path, json!({ "email": "known@example.com" }))
            .await;
        let unknown = app
            .post(path, json!({ "email": "nobody@example.com" }))
            .await;
        assert_eq!(known.status(), StatusCode::ACCEPTED);
        assert_eq!(unknown.status(), StatusCode::ACCEPTED);
        assert_eq!(known.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    }
    // The known address got one confirmation again and one reset link.
    let mails = sink.wait_for(3, WAIT).await;
    assert_eq!(mails.len(), 3);
    assert!(mails.iter().all(|m| m.to == ["known@example.com"]));
}

#[tokio::test]
async fn password_reset_end_to_end() {
    let (app, sink) = with_sink("").await;
    let first = app.signed_up("reset@example.com").await;
    let second = app.signed_in("reset@example.com").await;
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "reset@example.com" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let link = link_in(&nth_mail(&sink, 1).await).unwrap();
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/v1/auth/password/reset?token=")),
        "{link}"
    );

    // The form: no referrer, strict CSP, the rules shown; a GET consumes nothing.
    let page = app.client.get(app.url(&local(&link))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("minlength=\"12\""));

    let token = token_of(&link);
    // A weak password is refused and the link survives.
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": "short" }),
        )
        .await;
    assert_problem(res, 422, "weak_password").await;
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // E6: every session ended, no automatic login.
    for t in [&first, &second] {
        assert_problem(
            app.get_auth("/v1/users/me", &t.access).await,
            401,
            "invalid_token",
        )
        .await;
        assert_problem(app.refresh(&t.refresh).await, 401, "invalid_token").await;
    }
    assert_problem(
        app.login("reset@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login("reset@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Used once only.
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_problem(res, 400, "invalid_token").await;
    // And the owner is told (P6).
    let notice = nth_mail(&sink, 2).await;
    assert_eq!(notice.to, ["reset@example.com"]);
}

#[tokio::test]
async fn a_token_works_only_for_its_purpose() {
    // E7.
    let (app, sink) = confirming().await;
    app.register("purpose@example.com", PASSWORD).await;
    let confirm_token = token_of(&link_in(&nth_mail(&sink, 1).await).unwrap());
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "purpose@example.com" }),
    )
    .await;
    let reset_token = token_of(&link_in(&nth_mail(&sink, 2).await).unwrap());
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": confirm_token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_problem(res, 400, "invalid_token").await;
    let res = app
        .post("/v1/auth/confirm-email", json!({ "token": reset_token }))
        .await;
    assert_problem(res, 400, "invalid_token").await;
    for garbage in ["", "garbage", "a.b.c"] {
        let res = app
            .post("/v1/auth/confirm-email", json!({ "token": garbage }))
            .await;
        assert_problem(res, 400, "invalid_token").await;
    }
    // Both still work for their own purpose.
    let res = app
        .post("/v1/auth/confirm-email", json!({ "token": confirm_token }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": reset_token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn links_expire_after_link_ttl() {
    // E3, with the test clock.
    let (app, sink) = with_sink("[email]\nlink_ttl = \"1h\"\n").await;
    app.signed_up("late@example.com").await;
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "late@example.com" }),
    )
    .await;
    let token = token_of(&link_in(&nth_mail(&sink, 1).await).unwrap());
    app.clock.advance(3600);
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_problem(res, 400, "invalid_token").await;
}

#[tokio::test]
async fn redirect_urls_get_the_token_in_the_fragment() {
    let (app, sink) = with_sink(
        "[email]\nconfirmation_required = true\nconfirm_redirect_url = \"https://app.example/confirmed\"\n\
         reset_redirect_url = \"https://app.example/reset\"\n",
    )
    .await;
    app.register("redir@example.com", PASSWORD).await;
    let link = link_in(&nth_mail(&sink, 1).await).unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(app.url(&local(&link))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("https://app.example/confirmed#token={}", token_of(&link))
    );
    let res = client
        .get(app.url("/v1/auth/password/reset?token=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"],
        "https://app.example/reset#token=abc"
    );
}

#[tokio::test]
async fn links_ignore_a_spoofed_host_header() {
    // E4.
    let (app, sink) = with_sink("").await;
    app.signed_up("host@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/auth/password/forgot"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .json(&json!({ "email": "host@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let link = link_in(&nth_mail(&sink, 1).await).unwrap();
    assert!(link.starts_with(PUBLIC_URL), "{link}");
    assert!(!link.contains("evil"));
}

#[tokio::test]
async fn a_locked_out_account_can_still_reset_its_password() {
    let (app, sink) = with_sink("[rate_limit]\nenabled = true\nper_ip_burst = 100000\n").await;
    app.signed_up("locked@example.com").await;
    for _ in 0..6 {
        let _ = app.login("locked@example.com", "wrong wrong wrong").await;
    }
    assert_eq!(
        app.login("locked@example.com", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "locked@example.com" }),
    )
    .await;
    let token = token_of(&link_in(&nth_mail(&sink, 1).await).unwrap());
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("locked@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_email_needs_the_password_and_a_confirmation() {
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("old@example.com").await;
    let change = |password: &'static str| {
        app.request(
            Method::POST,
            "/v1/users/me/email",
            Some(&t.access),
            Some(json!({ "new_email": "fresh@example.com", "password": password })),
        )
    };
    assert_problem(change("wrong wrong wrong").await, 403, "wrong_password").await;
    assert_eq!(change(PASSWORD).await.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for(2, WAIT).await;
    let to_new = mails
        .iter()
        .find(|m| m.to == ["fresh@example.com"])
        .expect("mail to the new address");
    let to_old = mails
        .iter()
        .find(|m| m.to == ["old@example.com"])
        .expect("notice to the old address");
    assert!(link_in(to_old).is_none());
    let token = token_of(&link_in(to_new).unwrap());
    // Nothing changes before confirmation, and no session ends.
    let me: Value = app
        .get_auth("/v1/users/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "old@example.com");
    let res = app
        .post("/v1/auth/confirm-email", json!({ "token": token }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["email"], "fresh@example.com");
    assert_eq!(
        app.login("fresh@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_problem(
        app.login("old@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

#[tokio::test]
async fn an_address_taken_in_the_meantime_is_refused_at_confirmation() {
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("first@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/email",
            Some(&t.access),
            Some(json!({ "new_email": "wanted@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for(2, WAIT).await;
    let to_new = mails
        .iter()
        .find(|m| m.to == ["wanted@example.com"])
        .unwrap();
    let token = token_of(&link_in(to_new).unwrap());
    app.signed_up("wanted@example.com").await;
    let res = app
        .post("/v1/auth/confirm-email", json!({ "token": token }))
        .await;
    assert_problem(res, 409, "email_taken").await;
}

#[tokio::test]
async fn a_password_change_is_notified() {
    // P6.
    let (app, sink) = with_sink("").await;
    let t = app.signed_up("notify@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&t.access),
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let mail = nth_mail(&sink, 1).await;
    assert_eq!(mail.to, ["notify@example.com"]);
    // With a reset link for an owner who did not make the change.
    let link = link_in(&mail).expect("a reset link");
    assert!(link.contains("/v1/auth/password/reset?token="), "{link}");
}

#[tokio::test]
async fn smtp_down_at_request_time_loses_nothing() {
    let (app, sink) = with_sink("").await;
    let port = sink.port();
    sink.stop().await;
    app.signed_up("down@example.com").await;
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "down@example.com" }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::ACCEPTED,
        "the request does not wait for SMTP"
    );
    let sink = SmtpSink::start_on(port).await;
    // Past the back-off, the worker tries again. The background worker's
    // own failed attempt may still be in flight (and push the retry past
    // one step of the clock) when the sink comes back: step again until
    // the mail arrives, a bounded number of times.
    for _ in 0..5 {
        app.clock.advance(600);
        toktok::mail::deliver_due(&app.state).await;
        if !sink.wait_for(1, Duration::from_secs(2)).await.is_empty() {
            break;
        }
    }
    let mail = nth_mail(&sink, 1).await;
    assert_eq!(mail.to, ["down@example.com"]);
    assert!(link_in(&mail).is_some());
}

#[tokio::test]
async fn with_email_off_the_flows_are_404() {
    let app = spawn_app_with("[email]\nmode = \"off\"\n").await;
    let t = app.signed_up("off@example.com").await;
    for (path, body) in [
        ("/v1/auth/confirm-email", json!({ "token": "x" })),
        (
            "/v1/auth/confirm-email/resend",
            json!({ "email": "off@example.com" }),
        ),
        (
            "/v1/auth/password/forgot",
            json!({ "email": "off@example.com" }),
        ),
        (
            "/v1/auth/password/reset",
            json!({ "token": "x", "password": NEW_PASSWORD }),
        ),
    ] {
        assert_problem(app.post(path, body).await, 404, "feature_disabled").await;
    }
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/email",
            Some(&t.access),
            Some(json!({ "new_email": "n@example.com", "password": PASSWORD })),
        )
        .await;
    assert_problem(res, 404, "feature_disabled").await;
    // Password changes still work, with no mail to send.
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&t.access),
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn one_mail_of_a_kind_per_address_a_minute() {
    let app = spawn_app_with("[email]\nmode = \"dev\"\n").await;
    app.signed_up("often@example.com").await;
    let forgot = || {
        app.post(
            "/v1/auth/password/forgot",
            json!({ "email": "often@example.com" }),
        )
    };
    let app = &app;
    let count = |sql: &'static str| async move { app.sql_count(sql).await };
    // The dev worker may deliver (and delete) rows meanwhile: count the
    // audit events, written in the same transaction as each queued mail.
    let requested = "SELECT count(*) FROM audit_events WHERE kind = 'password.reset_requested'";
    let queued = "SELECT count(*) FROM outbox WHERE kind = 'reset_password'";
    for _ in 0..3 {
        assert_eq!(forgot().await.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(count(requested).await, 1, "one mail in the first minute");
    app.clock.advance(61);
    assert_eq!(forgot().await.status(), StatusCode::ACCEPTED);
    assert_eq!(count(requested).await, 2, "the next minute allows another");
    assert!(count(queued).await <= 2);
}

/// The mails that arrived once the sink has been quiet for a while: waits
/// for one more than `expected`, so a surplus would show.
async fn mails_settled(sink: &SmtpSink, expected: usize) -> Vec<ReceivedMail> {
    sink.wait_for(expected + 1, Duration::from_millis(1500))
        .await
}

#[tokio::test]
async fn email_change_mail_is_throttled_per_account_and_per_address() {
    // TT-08: 30 requests from one account sent 30 mails to a third party.
    let (app, sink) = with_sink("").await;
    let mallory = app.signed_up("mallory@example.com").await;
    let change = |access: String, to: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/v1/users/me/email",
                Some(&access),
                Some(json!({ "new_email": to, "password": PASSWORD })),
            )
            .await
            .status()
        }
    };
    for _ in 0..10 {
        // The same answer, throttled or not.
        assert_eq!(
            change(mallory.access.clone(), "someone-else@example.net").await,
            StatusCode::ACCEPTED
        );
    }
    // Another target from the same account within the minute: nothing.
    assert_eq!(
        change(mallory.access.clone(), "third@example.net").await,
        StatusCode::ACCEPTED
    );
    // Another account, same target within the minute: nothing either.
    let eve = app.signed_up("eve@example.com").await;
    assert_eq!(
        change(eve.access.clone(), "someone-else@example.net").await,
        StatusCode::ACCEPTED
    );
    let mails = mails_settled(&sink, 2).await;
    let to_target = mails
        .iter()
        .filter(|m| m.to == ["someone-else@example.net"])
        .count();
    assert_eq!(to_target, 1, "one confirmation to the target");
    assert_eq!(mails.len(), 2, "and one notice to the old address");

    // A minute later each may send again.
    app.clock.advance(61);
    assert_eq!(
        change(eve.access.clone(), "someone-else@example.net").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(mails_settled(&sink, 4).await.len(), 4);
}

#[tokio::test]
async fn forgot_and_resend_claim_the_address_slot_for_unknown_addresses_too() {
    // TT-05: the unknown path makes the same durable write as the known
    // one (a throttle slot for the address), and repeats cost the same.
    let (app, _sink) = with_sink("[email]\nconfirmation_required = true\n").await;
    app.register("known@example.com", PASSWORD).await;
    let slots = || app.sql_count("SELECT count(*) FROM mail_address_slots");
    assert_eq!(slots().await, 0);
    for email in ["known@example.com", "Unknown@Example.com"] {
        for path in ["/v1/auth/password/forgot", "/v1/auth/confirm-email/resend"] {
            let res = app.post(path, json!({ "email": email })).await;
            assert_eq!(res.status(), StatusCode::ACCEPTED);
        }
    }
    assert_eq!(slots().await, 4);
    // Keyed by a hash of the address, never the address.
    let stored = app
        .sql("SELECT address_hash FROM mail_address_slots")
        .await
        .concat()
        .join(" ");
    assert!(!stored.contains("example"), "{stored}");
    // Expired slots are swept.
    app.clock.advance(61);
    toktok::server::sweep_once(&app.state).await;
    assert_eq!(slots().await, 0);
}

#[tokio::test]
async fn compatibility_characters_cannot_squat_an_address() {
    // TT-11, the reviewer's reproduction: U+212A KELVIN SIGN lowercases to
    // `k`, so `\u{212A}ate@example.com` took kate's key, and her mail.
    let (app, sink) = with_sink("[email]\nconfirmation_required = true\n").await;
    let kelvin = "\u{212A}ate@example.com";
    let res = app.register(kelvin, PASSWORD).await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "email", "{problem}");
    for wide in ["ｋate@example.com", "kate@ｅxample.com"] {
        assert_problem(app.register(wide, PASSWORD).await, 422, "validation_failed").await;
    }
    // Kate registers as herself and gets her own mail.
    let res = app.register("kate@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mails = nth_mail(&sink, 1).await;
    assert_eq!(mails.to, ["kate@example.com"]);
    // Nor can a signed-in user move to such an address.
    let t = app
        .post(
            "/v1/auth/confirm-email",
            json!({ "token": token_of(&link_in(&mails).unwrap()) }),
        )
        .await;
    assert_eq!(t.status(), StatusCode::OK);
    let tokens = app.signed_in("kate@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/email",
            Some(&tokens.access),
            Some(json!({ "new_email": "\u{212A}ate@example.org", "password": PASSWORD })),
        )
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "new_email");
}

/// The password-changed notice, as received over SMTP: marked as machine
/// mail, laid out so a long link wraps, and carrying a reset link that
/// takes the account back.
#[tokio::test]
async fn the_password_changed_notice_carries_a_working_reset_link() {
    let (app, sink) = with_sink("").await;
    let user = app.signed_up("changed@example.com").await;
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&user.access),
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let notice = nth_mail(&sink, 1).await;
    assert_eq!(notice.to, ["changed@example.com"]);
    assert_eq!(
        notice.subject().as_deref(),
        Some("Your toktok password was changed")
    );
    assert_eq!(
        notice.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let parts = crate::smtp::parts(&notice);
    let html = parts
        .iter()
        .find(|(content_type, _)| content_type.starts_with("text/html"))
        .map(|(_, body)| body.clone())
        .expect("an HTML part");
    assert!(html.contains("max-width:560px"), "{html}");
    assert!(html.contains("table-layout:fixed"), "{html}");
    assert!(html.contains("overflow-wrap:anywhere"), "{html}");
    assert!(html.contains("word-break:break-all"), "{html}");
    // The link leads to the reset form, and the reset works: whoever did
    // not change the password takes the account back.
    let link = link_in(&notice).expect("a reset link in the notice");
    assert!(
        link.starts_with(&format!("{PUBLIC_URL}/v1/auth/password/reset?token=")),
        "{link}"
    );
    let form = app.client.get(app.url(&local(&link))).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let mine_again = "my own passphrase once more";
    let res = app
        .post(
            "/v1/auth/password/reset",
            json!({ "token": token_of(&link), "password": mine_again }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("changed@example.com", mine_again).await.status(),
        StatusCode::OK
    );
    // Every message toktok sends is marked, the reset's own notice too.
    let second = nth_mail(&sink, 2).await;
    assert_eq!(
        second.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    app.stop().await;
    sink.stop().await;
}
