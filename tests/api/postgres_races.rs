//! Races between PostgreSQL writers (issue 10 review).
//!
//! SQLite runs every write under one writer; PostgreSQL runs READ COMMITTED
//! with many writers in several instances. Each test here puts real
//! concurrency on a shared database — two in-process servers, each with its
//! own clock and its own connection pool (two instances as far as the
//! database can tell), hit with many concurrent requests or store calls —
//! and repeats it enough that a missing lock, a lock taken in the wrong
//! order or an unmapped error shows. They need `TOKTOK_TEST_POSTGRES`
//! (tests/postgres/run.sh sets it) and skip without.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use toktok::store::{AuditEvent, SessionRecord, StoreError};

use crate::helpers::{postgres_server, spawn_in, TestApp, Tokens, PASSWORD};

/// Two servers on one fresh PostgreSQL database (the second directory is
/// pointed at the first's database), or `None` without PostgreSQL.
async fn pair(extra: &str) -> Option<(TestApp, TestApp)> {
    if postgres_server().is_none() {
        eprintln!("skipped: needs TOKTOK_TEST_POSTGRES (tests/postgres/run.sh)");
        return None;
    }
    let first = tempfile::tempdir().unwrap();
    let a = spawn_in(first, extra).await;
    let second = tempfile::tempdir().unwrap();
    std::fs::copy(
        a.dir.path().join("pg-database"),
        second.path().join("pg-database"),
    )
    .expect("the first server made its database");
    let b = spawn_in(second, extra).await;
    // One time for both, as on NTP-synced machines: each clock starts at
    // its own spawn, which may fall on either side of a second boundary
    // (a 1 s lockout then ended early on one). The skew tests move one.
    b.clock.set(a.state.now());
    Some((a, b))
}

fn event(kind: &'static str, user_id: Option<&str>) -> AuditEvent {
    AuditEvent {
        at: 0,
        kind,
        user_id: user_id.map(str::to_owned),
        actor: None,
        ip: None,
        user_agent: None,
        detail: json!({}),
    }
}

async fn user_id(app: &TestApp, email_key: &str) -> String {
    let rows = app
        .sql(&format!(
            "SELECT id FROM users WHERE email_key = '{email_key}'"
        ))
        .await;
    rows[0][0].clone()
}

/// POSTs `body` to `path` on `app` (bearer `token` if any): status and body.
async fn call(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let res = app.request(Method::POST, path, token, Some(body)).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_email_registered_at_once_on_both_instances_makes_one_user() {
    // Two instances see "no such user", both hash, both insert: the unique
    // email_key decides, and the loser is a 409, never a 500 or a second
    // user. The spellings differ in case only: one key on both backends.
    let Some((a, b)) = pair("").await else {
        return;
    };
    for round in 0..15 {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let app_url = if i % 2 == 0 { a.url("") } else { b.url("") };
            let email = if i % 3 == 0 {
                format!("Same{round}@Example.com")
            } else {
                format!("same{round}@example.com")
            };
            tasks.push(tokio::spawn(async move {
                reqwest::Client::new()
                    .post(format!("{app_url}/v1/auth/register"))
                    .json(&json!({ "email": email, "password": PASSWORD }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let taken = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((created, taken), (1, 7), "round {round}: {statuses:?}");
        let users = a
            .sql_count(&format!(
                "SELECT count(*) FROM users WHERE email_key = 'same{round}@example.com'"
            ))
            .await;
        assert_eq!(users, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_email_change_onto_a_taken_address_is_a_conflict() {
    // change_email runs after the confirmation link, long after the check
    // that the address was free: a registration may take it meanwhile.
    let Some((a, b)) = pair("").await else {
        return;
    };
    a.signed_up("mover@example.com").await;
    b.signed_up("taken@example.com").await;
    let id = user_id(&a, "mover@example.com").await;
    let err = b
        .state
        .store
        .change_email(
            &id,
            "Taken@example.com".into(),
            "taken@example.com".into(),
            1,
            event("user.email_changed", Some(&id)),
        )
        .await
        .expect_err("the address is taken");
    assert!(
        matches!(err, StoreError::Conflict("email")),
        "a conflict, not {err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_at_once_on_both_instances_are_all_counted() {
    let Some((a, b)) = pair("").await else {
        return;
    };
    a.signed_up("count@example.com").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/v1/auth/login"))
                .json(&json!({ "email": "count@example.com", "password": "wrong wrong wrong" }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let failures = a
        .sql_count("SELECT failures FROM login_failures WHERE email_key = 'count@example.com'")
        .await;
    assert_eq!(failures, 24, "no increment lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_past_the_lockout_are_refused() {
    // After 4 failures the 5th locks the account. Guesses that arrived
    // together all read "4 failures" before any had failed, and all got a
    // verification: a burst bought as many guesses as it had requests. The
    // attempt is now taken under the count's lock before the check. Both
    // backends (the race was in the flow), so it runs on SQLite too.
    let extra = "[rate_limit]\nenabled = true\nper_ip_burst = 1000\n";
    let both = pair(extra).await;
    let single;
    let (a, b) = match &both {
        Some((a, b)) => (a, b),
        // On SQLite too: one server stands for both.
        None => {
            single = crate::helpers::spawn_app_with(extra).await;
            (&single, &single)
        }
    };
    a.signed_up("burst@example.com").await;
    for _ in 0..4 {
        let res = a.login("burst@example.com", "wrong wrong wrong").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/v1/auth/login"))
                .json(&json!({ "email": "burst@example.com", "password": "still wrong!!" }))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut guessed = 0;
    for task in tasks {
        if task.await.unwrap() == StatusCode::UNAUTHORIZED {
            guessed += 1;
        }
    }
    assert_eq!(
        guessed, 1,
        "only the fifth guess is verified; the rest wait"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_and_a_password_change_at_once_do_not_deadlock() {
    // A login's session insert clears the failed-login row and touches the
    // user row; a password change does both too. Taken in opposite orders
    // (login_failures then users, users then login_failures) the two
    // deadlock, and PostgreSQL kills one: a 503 for a plain login.
    let Some((a, b)) = pair("").await else {
        return;
    };
    a.signed_up("order@example.com").await;
    let key = "order@example.com";
    let id = user_id(&a, key).await;
    let phc = "$pbkdf2-sha256$i=1000$AAAA$AAAA";
    let change = |store: toktok::store::Store| {
        let id = id.clone();
        async move {
            store
                .set_password(
                    &id,
                    phc.to_owned(),
                    None,
                    1,
                    event("password.changed", Some(&id)),
                    Vec::new(),
                )
                .await
        }
    };
    change(b.state.store.clone()).await.unwrap();
    let mut failed = Vec::new();
    for round in 0..60 {
        a.state
            .store
            .record_login_failure(key, 1, event("login.failed", Some(&id)))
            .await
            .unwrap();
        let session = SessionRecord {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: id.clone(),
            refresh_hash: format!("{round}-{}", uuid::Uuid::new_v4()),
            prev_refresh_hash: None,
            rotated_at_ms: 1000,
            created_at: 1,
            last_used_at: 1,
            expires_at: i64::MAX / 2,
            user_agent: None,
            ip: None,
            revoked_at: None,
            auth_time: 1,
            amr: vec!["pwd".into()],
            aal: 1,
            factor: None,
            client_id: None,
            scope: None,
            parent_id: None,
        };
        let (login, change) = tokio::join!(
            a.state.store.create_session(
                session,
                key.to_owned(),
                None,
                Some(phc.to_owned()),
                event("login.succeeded", Some(&id))
            ),
            change(b.state.store.clone())
        );
        match login {
            Ok(true) => {}
            Ok(false) => failed.push(format!("round {round}: no session")),
            Err(e) => failed.push(format!("round {round}: {e}")),
        }
        if let Err(e) = change {
            failed.push(format!("round {round}: {e}"));
        }
    }
    assert!(failed.is_empty(), "{} failed: {failed:#?}", failed.len());
}

/// Fires `refreshes` concurrent refreshes of `tokens.refresh` (alternating
/// instances) together with `end` on `b`, then checks that nothing the
/// refreshes handed out still works.
async fn refreshes_racing(a: &TestApp, b: &TestApp, tokens: &Tokens, end: (&str, Value)) {
    let mut tasks = Vec::new();
    for i in 0..6 {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        let token = tokens.refresh.clone();
        tasks.push(tokio::spawn(async move {
            let res = reqwest::Client::new()
                .post(format!("{url}/v1/auth/refresh"))
                .json(&json!({ "refresh_token": token }))
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let (path, body) = end;
    let (status, answer) = call(b, path, Some(&tokens.access), body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{path}: {answer}");
    let mut issued = BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(
            status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
            "refresh: {status} {body}"
        );
        if status == StatusCode::OK {
            issued.insert((
                body["access_token"].as_str().unwrap().to_owned(),
                body["refresh_token"].as_str().unwrap().to_owned(),
            ));
        }
    }
    for (access, refresh) in issued {
        let res = a.refresh(&refresh).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "a refresh token issued around {path} outlives it"
        );
        let res = b.get_auth("/v1/users/me", &access).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "an access token issued around {path} outlives it"
        );
    }
    let res = a.refresh(&tokens.refresh).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_session_survives_logout_all_racing_its_refreshes() {
    let Some((a, b)) = pair("").await else {
        return;
    };
    a.signed_up("all@example.com").await;
    for _ in 0..12 {
        let tokens = a.signed_in("all@example.com").await;
        refreshes_racing(&a, &b, &tokens, ("/v1/auth/logout-all", json!({}))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_other_session_survives_a_password_change_racing_its_refreshes() {
    let Some((a, b)) = pair("").await else {
        return;
    };
    a.signed_up("pw@example.com").await;
    let mut current = PASSWORD.to_owned();
    for round in 0..8 {
        // The session that refreshes, and another one that changes the
        // password (and is kept).
        let res = a.login("pw@example.com", &current).await;
        assert_eq!(res.status(), StatusCode::OK);
        let racing = Tokens::from(res.json::<Value>().await.unwrap());
        let res = b.login("pw@example.com", &current).await;
        assert_eq!(res.status(), StatusCode::OK);
        let changer = Tokens::from(res.json::<Value>().await.unwrap());
        let next = format!("{PASSWORD} round {round}");
        let tokens = Tokens {
            access: changer.access.clone(),
            refresh: racing.refresh.clone(),
            body: Value::Null,
        };
        refreshes_racing(
            &a,
            &b,
            &tokens,
            (
                "/v1/users/me/password",
                json!({ "current_password": current, "new_password": next }),
            ),
        )
        .await;
        current = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_secrets_at_once_on_both_instances_are_all_counted() {
    // E8 across instances: each wrong guess is counted under the
    // challenge's row lock, so a burst cannot outrun `max_attempts`.
    let Some((a, b)) = pair("").await else {
        return;
    };
    let key = a.api_key(&["challenges"]).await;
    for round in 0..6 {
        let id = format!("guess{round}@example.com");
        let pair_of = json!({ "action": "register", "id": id });
        let mut body = pair_of.clone();
        body["secret"] = json!({ "type": "number", "length": 6 });
        let (status, created) = call(&a, "/v1/challenges", Some(&key), body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let right = created["secret"].as_str().unwrap().to_owned();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        // Four at once (one short of the default maximum): all counted.
        guess_at_once(4, (&a, &b), &key, &pair_of, wrong).await;
        let attempts = a
            .sql_count(&format!(
                "SELECT attempts FROM challenges WHERE action = 'register' AND id = '{id}'"
            ))
            .await;
        assert_eq!(attempts, 4, "round {round}: no attempt lost");
        // Then ten more at once: the fifth kills the challenge, and the
        // right secret, after them, finds nothing.
        guess_at_once(10, (&a, &b), &key, &pair_of, wrong).await;
        let mut body = pair_of.clone();
        body["secret"] = json!(right);
        let (status, _) = call(&b, "/v1/challenges/verify", Some(&key), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "round {round}: burned");
    }
}

/// `n` verifications of `wrong` for the challenge `body` names, sent at
/// once, alternately to each instance; each must find nothing (404).
async fn guess_at_once(
    n: usize,
    (a, b): (&TestApp, &TestApp),
    key: &str,
    body: &Value,
    wrong: &str,
) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let url = if i % 2 == 0 { a.url("") } else { b.url("") };
        let (key, mut body) = (key.to_owned(), body.clone());
        body["secret"] = json!(wrong);
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{url}/v1/challenges/verify"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_take_racing_the_sweep_never_fails() {
    // The sweep deletes full buckets. A take that made sure its row
    // exists, then lost it to the sweep before locking it, found no row
    // and failed (the limiter then falls back to its own instance's
    // buckets, which is not what several instances want).
    let Some((a, b)) = pair("").await else {
        return;
    };
    let (pa, pb) = (a.state.store.pg().unwrap(), b.state.store.pg().unwrap());
    let mut failed = Vec::new();
    for round in 0..10 {
        let values: Vec<String> = (0..40)
            .map(|i| format!("('login', 'r{round}c{i}', 1000000, 0)"))
            .collect();
        a.sql(&format!(
            "INSERT INTO rate_limits (bucket, client, units, at) VALUES {}",
            values.join(", ")
        ))
        .await;
        let mut takes = Vec::new();
        for i in 0..40 {
            let pg = if i % 2 == 0 { pa.clone() } else { pb.clone() };
            takes.push(tokio::spawn(async move {
                pg.rate_limit_take("login", format!("r{round}c{i}"), |found| {
                    ((found.map_or(0, |(units, _)| units - 60), 10), ())
                })
                .await
            }));
        }
        let swept = pa.sweep_rate_limits(10, 1, 100).await;
        assert!(swept.is_ok(), "{swept:?}");
        for task in takes {
            if let Err(e) = task.await.unwrap() {
                failed.push(format!("round {round}: {e}"));
            }
        }
    }
    assert!(failed.is_empty(), "{} failed: {failed:#?}", failed.len());
}

/// Creates challenge (register, `id`) with `ttl` on `app`: its status.
async fn create_challenge(url: String, key: String, id: String, ttl: u32) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{url}/v1/challenges"))
        .bearer_auth(key)
        .json(&json!({ "action": "register", "id": id, "ttl": ttl }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_challenge_created_over_an_expired_one_survives_a_concurrent_sweep() {
    // A new challenge of an (action, id) whose last one expired replaces
    // that row in place. A sweep that picked the expired row before the
    // replacement committed must not delete the new one.
    let Some((a, b)) = pair("").await else {
        return;
    };
    let key = a.api_key(&["challenges"]).await;
    const N: usize = 60;
    for round in 0..4 {
        for i in 0..N {
            let id = format!("sw{round}-{i}");
            let status = create_challenge(a.url(""), key.clone(), id, 60).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        a.clock.advance(120);
        b.clock.set(a.state.now());
        let mut creates = Vec::new();
        for i in 0..N {
            let id = format!("sw{round}-{i}");
            creates.push(tokio::spawn(create_challenge(
                a.url(""),
                key.clone(),
                id,
                3600,
            )));
        }
        let sweeper = b.state.challenges.clone();
        let sweeping = tokio::spawn(async move {
            for _ in 0..40 {
                sweeper.sweep(4).await.expect("sweep");
            }
        });
        for task in creates {
            assert_eq!(task.await.unwrap(), StatusCode::CREATED);
        }
        sweeping.await.unwrap();
        let live = a
            .sql_count(&format!(
                "SELECT count(*) FROM challenges WHERE id LIKE 'sw{round}-%' AND expires_at > {}",
                a.state.now()
            ))
            .await;
        assert_eq!(
            live, N as i64,
            "round {round}: every new challenge is there"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_whose_clock_is_behind_refills_no_rate_limit_bucket() {
    // One request a minute per IP. Instance b's clock is a minute behind
    // a's: b's refused request must not move the bucket's time back, or a
    // would see a minute's refill in the same instant.
    let Some((a, b)) =
        pair("[rate_limit]\nenabled = true\nper_ip_per_minute = 1\nper_ip_burst = 1\n").await
    else {
        return;
    };
    b.clock.set(a.state.now() - 60);
    let body = json!({ "email": "nobody@example.com", "password": "not the password" });
    let (first, _) = call(&a, "/v1/auth/login", None, body.clone()).await;
    assert_eq!(first, StatusCode::UNAUTHORIZED, "the burst allows one");
    let (second, _) = call(&b, "/v1/auth/login", None, body.clone()).await;
    assert_eq!(second, StatusCode::TOO_MANY_REQUESTS);
    let (third, _) = call(&a, "/v1/auth/login", None, body).await;
    assert_eq!(
        third,
        StatusCode::TOO_MANY_REQUESTS,
        "no refill from the skew"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_whose_clock_is_behind_does_not_shorten_a_lockout() {
    let Some((a, b)) = pair("").await else {
        return;
    };
    let now = a.state.now();
    let key = "skew@example.com";
    for _ in 0..5 {
        a.state
            .store
            .record_login_failure(key, now, event("login.failed", None))
            .await
            .unwrap();
    }
    b.state
        .store
        .record_login_failure(key, now - 30, event("login.failed", None))
        .await
        .unwrap();
    let (failures, last) = a.state.store.login_failures(key).await.unwrap().unwrap();
    assert_eq!(
        (failures, last),
        (6, now),
        "the latest failure's time stays"
    );
}

#[tokio::test]
async fn a_nul_in_a_lookup_key_finds_nothing_on_either_backend() {
    // PostgreSQL's text cannot hold NUL, and a parameter with one is an
    // error; SQLite finds no row. Both must answer as for any unknown key.
    let app = crate::helpers::spawn_app().await;
    let admin = app.api_key(&["admin", "challenges"]).await;
    let user = app.signed_up("nul@example.com").await;
    let cases: [(Method, &str, Option<Value>, u16); 10] = [
        (Method::GET, "/v1/admin/audit?kind=a%00b", None, 200),
        (Method::GET, "/v1/admin/audit?user_id=a%00b", None, 200),
        (Method::GET, "/v1/admin/users?email=a%00b@x.com", None, 200),
        (Method::GET, "/v1/admin/users/a%00b", None, 404),
        (
            Method::PATCH,
            "/v1/admin/users/a%00b",
            Some(json!({ "name": "x" })),
            404,
        ),
        (Method::DELETE, "/v1/admin/users/a%00b", None, 404),
        (Method::POST, "/v1/admin/users/a%00b/logout", None, 404),
        (
            Method::POST,
            "/v1/challenges/info",
            Some(json!({ "uid": "a\u{0}b" })),
            404,
        ),
        (
            Method::POST,
            "/v1/challenges/regenerate",
            Some(json!({ "uid": "a\u{0}b" })),
            404,
        ),
        (
            Method::POST,
            "/v1/challenges/remove",
            Some(json!({ "uid": "a\u{0}b" })),
            404,
        ),
    ];
    for (method, path, body, status) in cases {
        let res = app.request(method.clone(), path, Some(&admin), body).await;
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
    }
    let res = app
        .request(
            Method::DELETE,
            "/v1/users/me/sessions/a%00b",
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(
        res.status().as_u16(),
        404,
        "DELETE /v1/users/me/sessions/a%00b"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_login_with_the_old_password_survives_a_password_change() {
    // Logins read the user (and its hash) before they queue for the hasher,
    // and create their session after it. A password change that commits
    // in between revokes every session there is, but not one created next
    // from the old password: the session is created only while the hash
    // it checked is still the user's. Both backends (the race is in the
    // flow, not the store), so it runs on SQLite too.
    let both = pair("").await;
    let single;
    let (a, b) = match &both {
        Some((a, b)) => (a, b),
        None => {
            single = crate::helpers::spawn_app().await;
            (&single, &single)
        }
    };
    a.signed_up("old@example.com").await;
    let mut current = PASSWORD.to_owned();
    let mut survivors = Vec::new();
    for round in 0..5 {
        let changer = a.login("old@example.com", &current).await;
        let changer = Tokens::from(changer.json::<Value>().await.unwrap());
        let mut logins = Vec::new();
        for i in 0..12 {
            let url = if i % 2 == 0 { a.url("") } else { b.url("") };
            let password = current.clone();
            logins.push(tokio::spawn(async move {
                let res = reqwest::Client::new()
                    .post(format!("{url}/v1/auth/login"))
                    .json(&json!({ "email": "old@example.com", "password": password }))
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                (status, res.json::<Value>().await.unwrap_or(Value::Null))
            }));
        }
        let next = format!("{PASSWORD} {round}");
        let (status, body) = call(
            b,
            "/v1/users/me/password",
            Some(&changer.access),
            json!({ "current_password": current, "new_password": next }),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        for login in logins {
            let (status, body) = login.await.unwrap();
            if status != StatusCode::OK {
                continue;
            }
            let access = body["access_token"].as_str().unwrap();
            if a.get_auth("/v1/users/me", access).await.status() == StatusCode::OK {
                survivors.push(format!("round {round}"));
            }
        }
        current = next;
    }
    assert!(
        survivors.is_empty(),
        "sessions from the old password outlived its change: {survivors:?}"
    );
}

#[tokio::test]
async fn a_sign_in_finishing_after_its_user_was_deleted_creates_nothing() {
    // A login reads the user, verifies, then creates the session; a delete
    // may commit in between. The session's user is gone: no session and a
    // plain "no" (the flow answers 401), not a foreign-key error (500).
    let app = crate::helpers::spawn_app().await;
    app.signed_up("gone@example.com").await;
    let user = app
        .state
        .store
        .user_by_email_key("gone@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(app
        .state
        .store
        .delete_user(&user.id, event("user.deleted", Some(&user.id)))
        .await
        .unwrap());
    let now = app.state.now();
    let session = SessionRecord {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.id.clone(),
        refresh_hash: uuid::Uuid::new_v4().to_string(),
        prev_refresh_hash: None,
        rotated_at_ms: now * 1000,
        created_at: now,
        last_used_at: now,
        expires_at: now + 3600,
        user_agent: None,
        ip: None,
        revoked_at: None,
        auth_time: now,
        amr: vec!["pwd".into()],
        aal: 1,
        factor: None,
        client_id: None,
        scope: None,
        parent_id: None,
    };
    let created = app
        .state
        .store
        .create_session(
            session,
            "gone@example.com".into(),
            None,
            user.password_hash.clone(),
            event("login.succeeded", Some(&user.id)),
        )
        .await;
    assert!(matches!(created, Ok(false)), "{created:?}");
}

#[tokio::test]
async fn a_right_password_that_may_not_sign_in_yet_gives_its_attempt_back() {
    // Attempts are counted before the check; one that turns out to be
    // right (here: the address is not confirmed yet, 403) is no failure.
    let app = crate::helpers::spawn_app_with(
        "[rate_limit]\nenabled = true\nper_ip_burst = 1000\n\
         [email]\nconfirmation_required = true\n",
    )
    .await;
    let res = app.register("early@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for _ in 0..8 {
        let res = app.login("early@example.com", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "never locked out");
    }
    let failures = app
        .sql_count("SELECT count(*) FROM login_failures WHERE failures > 0")
        .await;
    assert_eq!(failures, 0);
}
