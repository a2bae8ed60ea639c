//! Webhooks (docs/API.md "Hooks", docs/webhooks.md): the admin API, the
//! events each change queues (in its own transaction), Standard Webhooks
//! signatures, retries and giving up, redirects and timeouts, and the SSRF
//! rule. A receiver on loopback (axum, in the test) records what arrives;
//! tests/hooks/ runs the official `standardwebhooks` packages against a
//! live toktok too.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use toktok::hooks::signature::SigningSecret;

use crate::helpers::{assert_problem, spawn_app_with, TestApp, PASSWORD};

const PRIVATE_OK: &str = "[hooks]\nallow_private_targets = true\ntimeout = \"1s\"\n";

/// What the receiver got: headers and body of each request.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// The status it answers (204 by default; 307 redirects; 599 sleeps
    /// past the timeout, then answers 204).
    status: Arc<AtomicU16>,
    redirected: Arc<Mutex<u32>>,
}

impl Receiver {
    pub(crate) async fn start() -> (Receiver, String) {
        let r = Receiver::default();
        r.status.store(204, Ordering::SeqCst);
        let state = r.clone();
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(
                    |axum::extract::State(s): axum::extract::State<Receiver>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let status = s.status.load(Ordering::SeqCst);
                        s.got.lock().unwrap().push((headers, body));
                        match status {
                            599 => {
                                tokio::time::sleep(Duration::from_secs(3)).await;
                                AxStatus::NO_CONTENT.into_response()
                            }
                            307 => (AxStatus::TEMPORARY_REDIRECT, [("location", "/elsewhere")])
                                .into_response(),
                            n => AxStatus::from_u16(n).unwrap().into_response(),
                        }
                    },
                ),
            )
            .route(
                "/elsewhere",
                axum::routing::post(
                    |axum::extract::State(s): axum::extract::State<Receiver>| async move {
                        *s.redirected.lock().unwrap() += 1;
                        AxStatus::NO_CONTENT
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, url)
    }

    pub(crate) fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Every request so far, each verified against `secret`: (type, data).
    pub(crate) fn events(&self, secret: &str) -> Vec<(String, Value)> {
        let secret = SigningSecret::parse(secret).unwrap();
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, body)| {
                let header = |n: &str| h.get(n).unwrap().to_str().unwrap().to_owned();
                let id = header("webhook-id");
                let ts: i64 = header("webhook-timestamp").parse().unwrap();
                assert_eq!(header("webhook-signature"), secret.sign(&id, ts, body));
                assert!(id.starts_with("msg_"));
                let v: Value = serde_json::from_slice(body).unwrap();
                assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
                (v["type"].as_str().unwrap().to_owned(), v["data"].clone())
            })
            .collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

async fn admin(app: &TestApp) -> String {
    app.api_key(&["admin"]).await
}

async fn create(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/v1/admin/webhooks", Some(key), Some(body))
        .await
}

/// Registers `url` for `events`; (id, secret).
async fn endpoint(app: &TestApp, key: &str, url: &str, events: &[&str]) -> (String, String) {
    let res = create(app, key, json!({ "url": url, "events": events })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

/// Runs delivery passes until the receiver has `n` requests (or fails).
pub(crate) async fn deliver(app: &TestApp, r: &Receiver, n: usize) {
    for _ in 0..100 {
        app.state.webhooks.deliver_due().await.unwrap();
        if r.count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the receiver got {} of {n} requests", r.count());
}

async fn log(app: &TestApp, key: &str, id: &str) -> Vec<Value> {
    let res = app
        .request(
            Method::GET,
            &format!("/v1/admin/webhooks/{id}/deliveries"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn endpoints_are_managed_and_their_secret_shown_once() {
    let app = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&app).await;
    let res = create(
        &app,
        &key,
        json!({ "url": "https://8.8.4.4/x", "events": ["user.created"], "description": "CRM" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: Value = res.json().await.unwrap();
    let id = made["id"].as_str().unwrap();
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    SigningSecret::parse(made["secret"].as_str().unwrap()).unwrap();
    assert_eq!(made["enabled"], true);

    let got: Value = app
        .request(
            Method::GET,
            &format!("/v1/admin/webhooks/{id}"),
            Some(&key),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["description"], "CRM");
    assert!(got.get("secret").is_none());
    let list: Value = app
        .request(Method::GET, "/v1/admin/webhooks", Some(&key), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("whsec_"));

    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/webhooks/{id}"),
            Some(&key),
            Some(
                json!({ "events": ["session.revoked", "user.deleted"], "description": null,
                         "enabled": false }),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(
        patched["events"],
        json!(["session.revoked", "user.deleted"])
    );
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["enabled"], false);
    assert!(patched.get("secret").is_none());
    let rotated: Value = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/webhooks/{id}"),
            Some(&key),
            Some(json!({ "rotate_secret": true })),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["secret"], made["secret"]);

    let kinds = app
        .sql("SELECT kind FROM audit_events WHERE kind LIKE 'webhook.%' ORDER BY id")
        .await;
    assert_eq!(
        kinds,
        [
            ["webhook.created"],
            ["webhook.updated"],
            ["webhook.updated"]
        ]
    );
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/admin/webhooks/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::GET, format!("/v1/admin/webhooks/{id}")),
        (Method::DELETE, format!("/v1/admin/webhooks/{id}")),
        (Method::GET, format!("/v1/admin/webhooks/{id}/deliveries")),
        (Method::POST, format!("/v1/admin/webhooks/{id}/test")),
    ] {
        let res = app.request(method, &path, Some(&key), None).await;
        assert_problem(res, 404, "not_found").await;
    }
    // Not for users, nor for keys without the admin scope.
    let user = app.signed_up("u@example.com").await;
    let res = app
        .request(Method::GET, "/v1/admin/webhooks", Some(&user.access), None)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .request(Method::GET, "/v1/admin/webhooks", None, None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_endpoints_are_refused_field_by_field() {
    let app = spawn_app_with("").await;
    let key = admin(&app).await;
    for (body, field) in [
        (
            json!({ "url": "ftp://8.8.8.8/x", "events": ["user.created"] }),
            "url",
        ),
        (
            json!({ "url": "not a url", "events": ["user.created"] }),
            "url",
        ),
        (
            json!({ "url": "https://u:p@8.8.8.8/", "events": ["user.created"] }),
            "url",
        ),
        (json!({ "url": "https://8.8.8.8/", "events": [] }), "events"),
        (
            json!({ "url": "https://8.8.8.8/", "events": ["user.nope"] }),
            "events[0]",
        ),
        (
            json!({ "url": "https://8.8.8.8/", "events": ["user.created", "user.created"] }),
            "events[1]",
        ),
        (
            json!({ "url": "https://8.8.8.8/", "events": ["user.created"],
                    "description": "x".repeat(201) }),
            "description",
        ),
    ] {
        let res = create(&app, &key, body.clone()).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let res = create(
        &app,
        &key,
        json!({ "url": "https://8.8.8.8/", "events": ["user.created"], "x": 1 }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// SSRF: loopback, private, link-local and unspecified targets, and names
/// that resolve there, are refused by default.
#[tokio::test]
async fn internal_targets_are_refused_unless_allowed() {
    let app = spawn_app_with("").await;
    let key = admin(&app).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://[::1]/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/x",
        "http://localhost:8080/x",
        "http://2130706433/x",
        "http://[::ffff:127.0.0.1]/x",
    ] {
        let res = create(
            &app,
            &key,
            json!({ "url": url, "events": ["user.created"] }),
        )
        .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
    }
    assert_eq!(app.sql_count("SELECT count(*) FROM webhooks").await, 0);
    let allowed = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&allowed).await;
    let res = create(
        &allowed,
        &key,
        json!({ "url": "http://127.0.0.1:9/x", "events": ["user.created"] }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// Each change queues its event, delivered signed, with the payload the
/// docs give.
#[tokio::test]
async fn every_event_is_delivered_signed_with_its_payload() {
    let app = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&app).await;
    let (r, url) = Receiver::start().await;
    let all = [
        "user.created",
        "user.updated",
        "user.deleted",
        "user.email_changed",
        "user.disabled",
        "session.created",
        "session.revoked",
        "password.changed",
        "factors.changed",
    ];
    let (_, secret) = endpoint(&app, &key, &url, &all).await;

    let ada = app.signed_up("ada@example.com").await;
    let uid = ada.body["user"]["id"].as_str().unwrap().to_owned();
    let sid = app.sql("SELECT id FROM sessions").await[0][0].clone();
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&ada.access),
            Some(json!({ "name": "Ada" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(
            Method::POST,
            "/v1/users/me/password",
            Some(&ada.access),
            Some(json!({ "current_password": PASSWORD, "new_password": "an entirely new passphrase" })),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{uid}"),
            Some(&key),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/admin/users/{uid}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let expected = [
        "user.created",
        "session.created",
        "user.updated",
        "password.changed",
        "user.updated",
        "user.disabled",
        "session.revoked",
        "user.deleted",
    ];
    deliver(&app, &r, expected.len()).await;
    let events = r.events(&secret);
    let mut types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    types.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    assert_eq!(types, want, "{events:?}");
    for (t, data) in &events {
        assert_eq!(data["user_id"], uid.as_str(), "{t}");
        match t.as_str() {
            "user.created" => {
                assert_eq!(data["user"]["email"], "ada@example.com");
                assert!(data["user"].get("password_hash").is_none());
            }
            "session.created" => {
                assert_eq!(data["sid"], sid.as_str());
                assert_eq!(data["sub"], uid.as_str());
                assert_eq!(data["aal"], 1);
                assert_eq!(data["amr"], json!(["pwd"]));
            }
            "password.changed" => assert_eq!(data["change"], "password.changed"),
            "user.disabled" => {
                assert_eq!(data["user"]["disabled"], true);
                assert!(
                    data["actor"].as_str().unwrap().starts_with("api_key:"),
                    "{data}"
                );
            }
            _ => {}
        }
    }
    let revoked = events.iter().find(|(t, _)| t == "session.revoked").unwrap();
    assert_eq!(revoked.1["sid"], sid.as_str());
    assert_eq!(revoked.1["reason"], "disabled");
}

async fn metric(app: &TestApp, line: &str) -> bool {
    let text = app.metrics().await;
    text.lines().any(|l| l == line)
}

/// A receiver answering 500 is tried again with back-off, then given up
/// after `give_up_after` with an audit event and a metric; the request
/// that caused the event never waited for it.
#[tokio::test]
async fn failures_are_retried_with_back_off_then_given_up() {
    let app = spawn_app_with(&format!("{PRIVATE_OK}give_up_after = \"1h\"\n")).await;
    let key = admin(&app).await;
    let (r, url) = Receiver::start().await;
    r.answer(500);
    let (id, _) = endpoint(&app, &key, &url, &["user.created"]).await;
    app.signed_up("ada@example.com").await;
    deliver(&app, &r, 1).await;
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status"], 500);
    assert_eq!(d["type"], "user.created");
    assert!(d["next_attempt_at"].is_string());
    // Not due yet: nothing is sent.
    app.state.webhooks.deliver_due().await.unwrap();
    assert_eq!(r.count(), 1);
    // 5 s ± 20 % later it is.
    app.clock.advance(7);
    deliver(&app, &r, 2).await;
    assert_eq!(log(&app, &key, &id).await[0]["attempts"], 2);
    // Past the give-up time, the next failure is the last.
    for n in 3..10 {
        app.clock.advance(3600);
        app.state.webhooks.deliver_due().await.unwrap();
        if log(&app, &key, &id).await[0]["status"] == "failed" {
            assert_eq!(r.count(), n);
            break;
        }
    }
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["status"], "failed", "{d}");
    assert!(d["failed_at"].is_string());
    let failed = app
        .sql("SELECT detail FROM audit_events WHERE kind = 'webhook.failed'")
        .await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0][0].contains(&id));
    assert!(
        metric(
            &app,
            "toktok_webhook_deliveries_total{outcome=\"failed\"} 1"
        )
        .await
    );
    assert!(metric(&app, "toktok_webhook_deliveries_total{outcome=\"retry\"} 2").await);
    // A receiver that comes back does not bring a given-up delivery back.
    r.answer(204);
    app.clock.advance(86_400);
    app.state.webhooks.deliver_due().await.unwrap();
    assert_eq!(log(&app, &key, &id).await[0]["status"], "failed");
    // An admin does: the same message (same webhook-id) is sent again.
    let msg = d["id"].as_str().unwrap().to_owned();
    let retry = |m: String| {
        let (app, key, id) = (&app, &key, &id);
        async move {
            app.request(
                Method::POST,
                &format!("/v1/admin/webhooks/{id}/deliveries/{m}/retry"),
                Some(key),
                None,
            )
            .await
            .status()
        }
    };
    assert_eq!(retry("msg_nope".into()).await, StatusCode::NOT_FOUND);
    assert_eq!(retry(msg.clone()).await, StatusCode::ACCEPTED);
    let sent = r.count();
    deliver(&app, &r, sent + 1).await;
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["status"], "delivered", "{d}");
    let last = r.got.lock().unwrap().last().unwrap().0.clone();
    assert_eq!(last.get("webhook-id").unwrap().to_str().unwrap(), msg);
}

/// A redirect is a failure, and is not followed; a receiver slower than
/// `[hooks] timeout` is a failure too.
#[tokio::test]
async fn redirects_are_not_followed_and_slow_receivers_time_out() {
    let app = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&app).await;
    let (r, url) = Receiver::start().await;
    let (id, _) = endpoint(&app, &key, &url, &["user.created"]).await;
    r.answer(307);
    app.signed_up("ada@example.com").await;
    deliver(&app, &r, 1).await;
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["last_status"], 307);
    assert!(
        d["last_error"].as_str().unwrap().contains("redirect"),
        "{d}"
    );
    assert_eq!(*r.redirected.lock().unwrap(), 0);

    r.answer(599);
    app.clock.advance(10);
    let started = std::time::Instant::now();
    deliver(&app, &r, 2).await;
    assert!(started.elapsed() < Duration::from_millis(2900));
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["last_error"], "timed out", "{d}");

    // A receiver that is down.
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/webhooks/{id}"),
            Some(&key),
            Some(json!({ "url": "http://127.0.0.1:9/down" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.clock.advance(100);
    app.state.webhooks.deliver_due().await.unwrap();
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_error"], "could not connect", "{d}");
    assert_eq!(d["last_status"], Value::Null);
}

/// "Send test event" reaches that endpoint only; a paused endpoint gets
/// nothing new, and deliveries go on once it is enabled again.
#[tokio::test]
async fn test_events_and_paused_endpoints() {
    let app = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&app).await;
    let (r, url) = Receiver::start().await;
    let (other, other_url) = Receiver::start().await;
    let (id, secret) = endpoint(&app, &key, &url, &["user.created"]).await;
    endpoint(&app, &key, &other_url, &["user.deleted"]).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/admin/webhooks/{id}/test"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let queued: Value = res.json().await.unwrap();
    deliver(&app, &r, 1).await;
    let events = r.events(&secret);
    assert_eq!(events[0].0, "webhook.test");
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["id"], queued["id"]);
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["last_status"], 204);
    assert_eq!(other.count(), 0);

    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/webhooks/{id}"),
            Some(&key),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.signed_up("ada@example.com").await;
    app.state.webhooks.deliver_due().await.unwrap();
    assert_eq!(r.count(), 1);
    assert_eq!(
        log(&app, &key, &id).await.len(),
        1,
        "nothing queued while paused"
    );
}

/// Every way a session ends reports `session.revoked` with its `sid`.
#[tokio::test]
async fn every_way_a_session_ends_is_reported() {
    let app = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&app).await;
    let (r, url) = Receiver::start().await;
    let (_, secret) = endpoint(&app, &key, &url, &["session.revoked"]).await;
    let ada = app.signed_up("ada@example.com").await;
    let uid = ada.body["user"]["id"].as_str().unwrap().to_owned();
    let sid_of = |t: &str| -> String {
        let payload = t.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        claims["sid"].as_str().unwrap().to_owned()
    };
    let mut want: Vec<(String, &str)> = Vec::new();

    // Logout.
    let s = app.signed_in("ada@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout", Some(&s.access), None)
        .await;
    assert!(res.status().is_success());
    want.push((sid_of(&s.access), "logout"));
    // Logout everywhere (the sign-up session and a new one).
    let s = app.signed_in("ada@example.com").await;
    let res = app
        .request(Method::POST, "/v1/auth/logout-all", Some(&s.access), None)
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    want.push((sid_of(&s.access), "logout_all"));
    want.push((sid_of(&ada.access), "logout_all"));
    // Refresh-token reuse ends the family.
    let s = app.signed_in("ada@example.com").await;
    app.refresh(&s.refresh).await;
    app.clock.advance(3600);
    let res = app.refresh(&s.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    want.push((sid_of(&s.access), "refresh_reused"));
    // An admin's "end all sessions".
    let s = app.signed_in("ada@example.com").await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/admin/users/{uid}/logout"),
            Some(&key),
            None,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    want.push((sid_of(&s.access), "admin_logout"));
    // The account deleted.
    let s = app.signed_in("ada@example.com").await;
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/admin/users/{uid}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    want.push((sid_of(&s.access), "user_deleted"));

    deliver(&app, &r, want.len()).await;
    let mut got: Vec<(String, String)> = r
        .events(&secret)
        .into_iter()
        .map(|(t, d)| {
            assert_eq!(t, "session.revoked");
            assert_eq!(d["sub"], uid.as_str());
            (
                d["sid"].as_str().unwrap().to_owned(),
                d["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut want: Vec<(String, String)> =
        want.into_iter().map(|(s, r)| (s, r.to_owned())).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

/// The rule is checked again at each delivery: an endpoint made while
/// private targets were allowed gets nothing once they are not.
#[tokio::test]
async fn internal_targets_are_refused_again_at_delivery() {
    let app = spawn_app_with(PRIVATE_OK).await;
    let key = admin(&app).await;
    let (r, url) = Receiver::start().await;
    let (id, _) = endpoint(&app, &key, &url, &["user.created"]).await;
    let dir = app.stop().await;
    let app = crate::helpers::spawn_in(dir, "").await;
    app.signed_up("ada@example.com").await;
    app.state.webhooks.deliver_due().await.unwrap();
    assert_eq!(r.count(), 0);
    let key = admin(&app).await;
    let d = &log(&app, &key, &id).await[0];
    assert_eq!(d["status"], "pending");
    assert!(
        d["last_error"].as_str().unwrap().contains("127.0.0.1"),
        "{d}"
    );
}
