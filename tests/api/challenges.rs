//! Challenge tokens over HTTP (docs/API.md "Challenge tokens"), including the
//! scenarios of the ms-token library's own suite.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

const ACTION: &str = "register";
const ID: &str = "v@example.com";

struct Svc {
    app: TestApp,
    key: String,
}

impl Svc {
    async fn new() -> Svc {
        let app = spawn_app().await;
        let key = app.api_key(&["challenges"]).await;
        Svc { app, key }
    }

    async fn call(&self, path: &str, body: Value) -> Response {
        self.app
            .request(Method::POST, path, Some(&self.key), Some(body))
            .await
    }

    async fn create(&self, body: Value) -> Response {
        self.call("/v1/challenges", body).await
    }

    async fn created(&self, body: Value) -> Value {
        let res = self.create(body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let res = self.call(path, body.clone()).await;
        assert_eq!(res.status(), StatusCode::OK, "{path} {body}");
        res.json().await.unwrap()
    }
}

fn pair() -> Value {
    json!({ "action": ACTION, "id": ID })
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[tokio::test]
async fn an_api_key_with_the_challenges_scope_is_required() {
    let s = Svc::new().await;
    let res = s
        .app
        .request(Method::POST, "/v1/challenges", None, Some(pair()))
        .await;
    assert_problem(res, 401, "unauthenticated").await;
    let res = s
        .app
        .request(
            Method::POST,
            "/v1/challenges",
            Some("tk_unknown"),
            Some(pair()),
        )
        .await;
    assert_problem(res, 401, "unauthenticated").await;
    let admin_only = s.app.api_key(&["admin"]).await;
    let res = s
        .app
        .request(
            Method::POST,
            "/v1/challenges",
            Some(&admin_only),
            Some(pair()),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    // A user's access token is not a service key.
    let user = s.app.signed_up("user@example.com").await;
    let res = s
        .app
        .request(
            Method::POST,
            "/v1/challenges",
            Some(&user.access),
            Some(pair()),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn validation_names_the_field() {
    let s = Svc::new().await;
    let cases = [
        (json!({ "action": ACTION }), "id"),
        (json!({ "id": ID }), "action"),
        (json!({ "action": "", "id": ID }), "action"),
        (json!({ "action": 5, "id": ID }), "action"),
        (json!({ "action": "x".repeat(257), "id": ID }), "action"),
        (with(pair(), json!({ "ttl": -1 })), "ttl"),
        (with(pair(), json!({ "ttl": 1.5 })), "ttl"),
        (
            with(pair(), json!({ "ttl": 3, "throttle": 10 })),
            "throttle",
        ),
        (with(pair(), json!({ "throttle": true })), "throttle"),
        // docs/API.md: `true` or seconds, otherwise 422 (issue 16).
        (
            with(pair(), json!({ "ttl": 10, "throttle": false })),
            "throttle",
        ),
        (
            with(pair(), json!({ "regenerate": true, "secret": false })),
            "regenerate",
        ),
        (
            with(pair(), json!({ "secret": { "type": "emoji" } })),
            "secret",
        ),
        (
            with(
                pair(),
                json!({ "secret": { "type": "alphabet", "length": 4 } }),
            ),
            "secret",
        ),
        (
            with(pair(), json!({ "secret": { "type": "uuid", "length": 4 } })),
            "secret",
        ),
        (with(pair(), json!({ "unknown": 1 })), "unknown"),
    ];
    for (body, field) in cases {
        let res = s.create(body.clone()).await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{body}: {fields:?}"
        );
    }
}

#[tokio::test]
async fn a_timeless_challenge_has_an_encrypted_secret_and_no_uid() {
    let s = Svc::new().await;
    let created = s.created(pair()).await;
    assert_eq!(created["action"], ACTION);
    assert_eq!(created["id"], ID);
    assert!(created["uid"].is_null());
    let token = created["secret"].as_str().unwrap();
    let info = s.ok("/v1/challenges/info", json!({ "token": token })).await;
    assert_eq!(info["id"], ID);
    assert_eq!(info["action"], ACTION);
    assert!(info["uid"].is_null());
    assert!(
        info.get("secret").is_none(),
        "info never returns the secret"
    );
    assert!(info["created"].as_str().unwrap().ends_with('Z'));
    // Long after, still there: no expiry.
    s.app.clock.advance(10 * 365 * 24 * 3600);
    s.ok("/v1/challenges/info", json!({ "token": token })).await;
}

#[tokio::test]
async fn a_timed_challenge_expires() {
    let s = Svc::new().await;
    let created = s.created(with(pair(), json!({ "ttl": 3 }))).await;
    let token = created["secret"].as_str().unwrap();
    s.ok("/v1/challenges/info", json!({ "token": token })).await;
    s.app.clock.advance(3);
    let res = s
        .call("/v1/challenges/info", json!({ "token": token }))
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
    let res = s
        .call("/v1/challenges/verify", json!({ "token": token }))
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
}

#[tokio::test]
async fn throttling_refuses_recreation_until_it_runs_out() {
    let s = Svc::new().await;
    s.created(with(pair(), json!({ "ttl": 10, "throttle": true })))
        .await;
    let res = s.create(pair()).await;
    assert_eq!(res.headers()["retry-after"], "10");
    let body = assert_problem(res, 429, "throttled").await;
    assert_eq!(body["retry_after"], 10);

    let s = Svc::new().await;
    s.created(with(pair(), json!({ "ttl": 3, "throttle": 1 })))
        .await;
    assert_eq!(
        s.create(pair()).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    s.app.clock.advance(1);
    let created = s.created(pair()).await;
    assert!(created["uid"].is_null());
}

#[tokio::test]
async fn recreating_erases_the_old_secret_and_uid() {
    let s = Svc::new().await;
    let first = s.created(with(pair(), json!({ "regenerate": true }))).await;
    let second = s.created(with(pair(), json!({ "regenerate": true }))).await;
    assert_ne!(first["uid"], second["uid"]);
    let res = s
        .call("/v1/challenges/info", json!({ "uid": first["uid"] }))
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
    let res = s
        .call("/v1/challenges/info", json!({ "token": first["secret"] }))
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
    s.ok("/v1/challenges/info", json!({ "uid": second["uid"] }))
        .await;
    let info = s
        .ok("/v1/challenges/info", json!({ "token": second["secret"] }))
        .await;
    assert_eq!(info["uid"], second["uid"]);
}

#[tokio::test]
async fn metadata_round_trips() {
    let s = Svc::new().await;
    let metadata = json!({ "random": ["10", 20, {}], "bool": true, "num": 32, "arr": [], "obj": { "coarse": true } });
    s.created(with(pair(), json!({ "metadata": metadata.clone() })))
        .await;
    let info = s.ok("/v1/challenges/info", pair()).await;
    assert_eq!(info["metadata"], metadata);
}

#[tokio::test]
async fn alphabet_and_number_secrets() {
    let s = Svc::new().await;
    let created = s
        .created(with(
            pair(),
            json!({ "secret": { "type": "alphabet", "alphabet": "abcd", "length": 10 } }),
        ))
        .await;
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 10);
    assert!(secret.chars().all(|c| "abcd".contains(c)));
    let created = s
        .created(with(
            pair(),
            json!({ "secret": { "type": "number", "length": 6 } }),
        ))
        .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.len() == 6 && secret.chars().all(|c| c.is_ascii_digit()),
        "{secret}"
    );
    // Plain secrets verify with action + id + secret.
    let record = s
        .ok(
            "/v1/challenges/verify",
            with(pair(), json!({ "secret": secret })),
        )
        .await;
    assert_eq!(record["is_first_verification"], true);
}

#[tokio::test]
async fn no_secret_and_plain_uuid_secrets() {
    let s = Svc::new().await;
    let created = s.created(with(pair(), json!({ "secret": false }))).await;
    assert!(created["secret"].is_null());
    let res = s.call("/v1/challenges/regenerate", pair()).await;
    assert_problem(res, 404, "challenge_not_found").await;

    let created = s
        .created(with(
            pair(),
            json!({ "secret": { "type": "uuid", "encrypt": false } }),
        ))
        .await;
    let secret = created["secret"].as_str().unwrap();
    let info = s
        .ok(
            "/v1/challenges/info",
            with(pair(), json!({ "secret": secret })),
        )
        .await;
    assert_eq!(info["id"], ID);
}

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
        && s.chars()
            .filter(|c| *c != '-')
            .all(|c| c.is_ascii_hexdigit())
}

#[tokio::test]
async fn all_options_combined() {
    let s = Svc::new().await;
    let created = s
        .created(with(
            pair(),
            json!({ "ttl": 3, "throttle": 2, "metadata": { "encrypt": "me" },
                    "secret": { "type": "uuid", "encrypt": false }, "regenerate": true }),
        ))
        .await;
    assert!(created["uid"].is_string());
    assert!(is_uuid_v4(created["secret"].as_str().unwrap()), "{created}");
    let info = s
        .ok("/v1/challenges/info", json!({ "uid": created["uid"] }))
        .await;
    assert_eq!(info["metadata"], json!({ "encrypt": "me" }));
    assert_eq!(info["settings"]["ttl"], 3);
    assert_eq!(info["settings"]["throttle"], 2);
}

#[tokio::test]
async fn regenerate_issues_a_new_secret_of_the_same_kind_and_kills_the_old_one() {
    let s = Svc::new().await;
    let created = s
        .created(with(
            pair(),
            json!({ "regenerate": true, "ttl": 60, "secret": { "type": "number", "length": 6 } }),
        ))
        .await;
    let old = created["secret"].as_str().unwrap().to_owned();
    let regenerated = s.ok("/v1/challenges/regenerate", pair()).await;
    let new = regenerated["secret"].as_str().unwrap().to_owned();
    assert!(new.len() == 6 && new.chars().all(|c| c.is_ascii_digit()));
    let by_uid = s
        .ok(
            "/v1/challenges/regenerate",
            json!({ "uid": created["uid"] }),
        )
        .await;
    let newest = by_uid["secret"].as_str().unwrap().to_owned();
    for dead in [&old, &new] {
        if dead != &newest {
            let res = s
                .call(
                    "/v1/challenges/verify",
                    with(pair(), json!({ "secret": dead })),
                )
                .await;
            assert_problem(res, 404, "challenge_not_found").await;
        }
    }
    s.ok(
        "/v1/challenges/verify",
        with(pair(), json!({ "secret": newest })),
    )
    .await;

    // Encrypted secrets regenerate too, keeping the expiry.
    let created = s
        .created(with(pair(), json!({ "regenerate": true, "ttl": 60 })))
        .await;
    s.app.clock.advance(30);
    let fresh = s
        .ok(
            "/v1/challenges/regenerate",
            json!({ "uid": created["uid"] }),
        )
        .await;
    let res = s
        .call(
            "/v1/challenges/verify",
            json!({ "token": created["secret"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    s.app.clock.advance(30);
    let res = s
        .call("/v1/challenges/verify", json!({ "token": fresh["secret"] }))
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
}

#[tokio::test]
async fn tampered_and_truncated_tokens_are_invalid() {
    let s = Svc::new().await;
    let created = s.created(with(pair(), json!({ "regenerate": true }))).await;
    let token = created["secret"].as_str().unwrap();
    let mut chars: Vec<char> = token.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [
        tampered.as_str(),
        &token[1..],
        &token[..token.len() - 4],
        "garbage",
        "",
    ] {
        let res = s
            .call("/v1/challenges/verify", json!({ "token": bad }))
            .await;
        assert_problem(res, 400, "invalid_token").await;
    }
    // Still intact.
    s.ok("/v1/challenges/verify", json!({ "token": token }))
        .await;
}

#[tokio::test]
async fn a_token_for_another_id_fails_the_control_check() {
    let s = Svc::new().await;
    let created = s.created(pair()).await;
    let res = s
        .call(
            "/v1/challenges/verify",
            json!({ "token": created["secret"], "control": { "id": "another@mail.com", "action": "another" } }),
        )
        .await;
    assert_problem(res, 403, "control_mismatch").await;
    // Not consumed by the failed check.
    let ok = s
        .ok(
            "/v1/challenges/verify",
            json!({ "token": created["secret"], "control": { "id": ID, "action": ACTION } }),
        )
        .await;
    assert_eq!(ok["is_first_verification"], true);
}

#[tokio::test]
async fn verify_erases_by_default_and_clears_the_throttle() {
    let s = Svc::new().await;
    let created = s
        .created(with(
            pair(),
            json!({ "regenerate": true, "ttl": 3, "throttle": 1 }),
        ))
        .await;
    let record = s
        .ok(
            "/v1/challenges/verify",
            json!({ "token": created["secret"] }),
        )
        .await;
    assert_eq!(record["id"], ID);
    assert_eq!(record["action"], ACTION);
    assert_eq!(record["uid"], created["uid"]);
    assert!(record["verified"].is_string());
    assert_eq!(record["is_first_verification"], true);
    let res = s
        .call(
            "/v1/challenges/verify",
            json!({ "token": created["secret"] }),
        )
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
    // The throttle went with it.
    s.created(with(pair(), json!({ "ttl": 3, "throttle": 1 })))
        .await;
}

#[tokio::test]
async fn erase_false_keeps_it_for_a_second_verification() {
    let s = Svc::new().await;
    let created = s.created(pair()).await;
    let first = s
        .ok(
            "/v1/challenges/verify",
            json!({ "token": created["secret"], "erase": false }),
        )
        .await;
    assert_eq!(first["is_first_verification"], true);
    s.app.clock.advance(5);
    let second = s
        .ok(
            "/v1/challenges/verify",
            json!({ "token": created["secret"], "erase": false }),
        )
        .await;
    assert_eq!(second["is_first_verification"], false);
    assert_eq!(
        second["verified"], first["verified"],
        "time of the first verification"
    );
    let info = s.ok("/v1/challenges/info", pair()).await;
    assert!(info["verified"].is_string());
}

#[tokio::test]
async fn wrong_secrets_burn_the_challenge_after_max_attempts() {
    // E8.
    let s = Svc::new().await;
    let created = s
        .created(with(
            pair(),
            json!({ "secret": { "type": "number", "length": 6 } }),
        ))
        .await;
    let right = created["secret"].as_str().unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let res = s
            .call(
                "/v1/challenges/verify",
                with(pair(), json!({ "secret": wrong })),
            )
            .await;
        assert_problem(res, 404, "challenge_not_found").await;
    }
    let res = s
        .call(
            "/v1/challenges/verify",
            with(pair(), json!({ "secret": right })),
        )
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
}

#[tokio::test]
async fn parallel_verifications_of_one_token_succeed_once() {
    // E2.
    let s = Svc::new().await;
    let created = s.created(pair()).await;
    let token = created["secret"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let client = s.app.client.clone();
        let url = s.app.url("/v1/challenges/verify");
        let (key, token) = (s.key.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "token": token }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::NOT_FOUND => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn a_challenge_for_one_action_never_verifies_another() {
    // E7.
    let s = Svc::new().await;
    let created = s
        .created(
            json!({ "action": "reset", "id": ID, "secret": { "type": "number", "length": 6 } }),
        )
        .await;
    s.created(json!({ "action": "invite", "id": ID, "secret": false }))
        .await;
    let res = s
        .call(
            "/v1/challenges/verify",
            json!({ "action": "invite", "id": ID, "secret": created["secret"] }),
        )
        .await;
    assert_problem(res, 404, "challenge_not_found").await;
}

#[tokio::test]
async fn remove_by_pair_token_and_uid_then_404() {
    let s = Svc::new().await;
    s.created(pair()).await;
    assert_eq!(
        s.call("/v1/challenges/remove", pair()).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(
        s.call("/v1/challenges/remove", pair()).await,
        404,
        "challenge_not_found",
    )
    .await;

    let created = s.created(pair()).await;
    let res = s
        .call(
            "/v1/challenges/remove",
            json!({ "token": created["secret"] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let created = s.created(with(pair(), json!({ "regenerate": true }))).await;
    let res = s
        .call("/v1/challenges/remove", json!({ "uid": created["uid"] }))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        s.call("/v1/challenges/remove", json!({ "uid": created["uid"] }))
            .await,
        404,
        "challenge_not_found",
    )
    .await;
}

#[tokio::test]
async fn verify_with_log_writes_an_audit_event() {
    let s = Svc::new().await;
    let created = s.created(pair()).await;
    s.ok(
        "/v1/challenges/verify",
        json!({ "token": created["secret"], "log": true }),
    )
    .await;
    let kinds: Vec<String> = s
        .app
        .sql("SELECT kind FROM audit_events")
        .await
        .into_iter()
        .map(|mut r| r.remove(0))
        .collect();
    assert!(
        kinds.contains(&"challenge.verified".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn no_raw_secret_reaches_the_database_file() {
    // E1.
    if crate::helpers::sqlite_only("reads the SQLite file's bytes") {
        return;
    }
    let s = Svc::new().await;
    let mut secrets = Vec::new();
    for (i, secret) in [
        json!(true),
        json!({ "type": "uuid", "encrypt": false }),
        json!({ "type": "alphabet", "alphabet": "abcdefghij", "length": 24 }),
        json!({ "type": "number", "length": 12, "encrypt": true }),
    ]
    .into_iter()
    .enumerate()
    {
        let created = s
            .created(json!({ "action": "a", "id": format!("id{i}"), "secret": secret }))
            .await;
        secrets.push(created["secret"].as_str().unwrap().to_owned());
    }
    let path = s.app.state.store.db().path().to_owned();
    let _dir = s.app.stop().await;
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let haystack = String::from_utf8_lossy(&bytes);
    for secret in &secrets {
        assert!(!haystack.contains(secret.as_str()), "{secret} stored raw");
    }
}

#[tokio::test]
async fn the_sweeper_deletes_expired_challenges() {
    let s = Svc::new().await;
    for i in 0..30 {
        s.created(json!({ "action": "sweep", "id": format!("{i}"), "ttl": 5 }))
            .await;
    }
    s.created(json!({ "action": "sweep", "id": "forever" }))
        .await;
    s.app.clock.advance(6);
    toktok::server::sweep_once(&s.app.state).await;
    let left = s.app.sql_count("SELECT count(*) FROM challenges").await;
    assert_eq!(left, 1);
}

#[tokio::test]
async fn a_key_twice_inside_metadata_is_422_naming_it() {
    // TT-17: `{"k":1,"k":2}` inside metadata was stored as `{"k":2}`.
    let s = Svc::new().await;
    for (metadata, field) in [
        (r#"{"k":1,"k":2}"#, "metadata.k"),
        (r#"{"a":{"b":[{"k":1,"k":2}]}}"#, "metadata.a.b[0].k"),
    ] {
        let body = format!(r#"{{"action":"{ACTION}","id":"{ID}","metadata":{metadata}}}"#);
        let res = s
            .app
            .request_raw(Method::POST, "/v1/challenges", Some(&s.key), body)
            .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    // User metadata too, on register and on a profile edit.
    let body = r#"{"email":"m@example.com","password":"a long enough password","metadata":{"x":{"k":1,"k":2}}}"#;
    let res = s
        .app
        .request_raw(Method::POST, "/v1/auth/register", None, body.to_owned())
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "metadata.x.k");
    let t = s.app.signed_up("n@example.com").await;
    let body = r#"{"metadata":{"k":1,"k":2}}"#.to_owned();
    let res = s
        .app
        .request_raw(Method::PATCH, "/v1/users/me", Some(&t.access), body)
        .await;
    let problem = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "metadata.k");
}

#[tokio::test]
async fn metadata_nested_past_the_limit_is_422_saying_so() {
    // TT-17: valid JSON 200 deep got 400 malformed_body ("not valid JSON").
    let s = Svc::new().await;
    for depth in [200, 5000] {
        let body = format!(
            r#"{{"action":"{ACTION}","id":"{ID}","metadata":{}1{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let res = s
            .app
            .request_raw(Method::POST, "/v1/challenges", Some(&s.key), body)
            .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "metadata");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("nested deeper than 100"), "{message}");
    }
}
