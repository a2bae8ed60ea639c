//! Import and export (docs/API.md "Import and export", docs/import.md):
//! users brought in with hashes made by other systems sign in over HTTP and
//! come out with toktok's hash; every bad line is reported by number; a
//! second run adds only what is missing. Runs on both stores
//! (tests/postgres/run.sh). tests/import/run.sh makes the hashes afresh with
//! the other ecosystems' own libraries.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp, PASSWORD};

const IMPORT: &str = "/v1/admin/users/import";

/// (address, hash of "correct horse"), one of each format family, made by
/// Python bcrypt, argon2-cffi, passlib and Django (src/auth/foreign/tests.rs
/// has them all).
const FOREIGN: &[(&str, &str)] = &[
    ("bcrypt@example.com", "$2b$04$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC"),
    ("argon2i@example.com", "$argon2i$v=19$m=1024,t=1,p=2$fpUZCxx2dmdEm/AWKErt+w$XPYTG+XV9tKgJsfuBuPyGHzNs+WL/rJ7QpoAI5k4TeY"),
    ("passlib@example.com", "$pbkdf2-sha512$1000$FeJca20NIYSQspbyPqdUag$Iczc7fqX7Lxiss06jagmXUCdDde1kUTMvQy66ON7YE50aaTJqg9nQ2BTEgvNK4W38deUcVkHzIA2CyKwm0CP0Q"),
    ("scrypt@example.com", "$scrypt$ln=10,r=8,p=1$cI6xtvY+hxCitJZSqrV2zg$AhQTTgshoY6H+0EQwI9iTLW4PIEE8Py4lbSf3CTJKmQ"),
    ("crypt@example.com", "$6$rounds=1000$SGM4a4Hd5oNJhU4R$mNESnGI/eJgR4Tzd9MddN86P8T870vEKapvTkGtgTDi.KtKbThj4pUMfw1kdGSZ91tOqLX5Sjm9XdUxRCcYpJ0"),
    ("django@example.com", "pbkdf2_sha256$1000$Y1MijtMcu0iA4DuDxxAhXF$zOfNqQU1S9hB7Ymsa8yMMUu7Z2DvzqKuDu2Vhw/G6GM="),
    ("django-bcrypt@example.com", "bcrypt_sha256$$2b$04$/OgonNgczyceaEVA4qNKUOsPz7ksj9zBgfS1pfKnRO2Et6oTJIGWa"),
];

/// Firebase's published example: the project's parameters and one user.
const FIREBASE_TOML: &str = "[import.firebase]\n\
    signer_key = \"jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==\"\n\
    salt_separator = \"Bw==\"\nrounds = 8\nmem_cost = 14\n";
const FIREBASE_HASH: &str = "$firebase-scrypt$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";

async fn import(app: &TestApp, key: &str, query: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.url(&format!("{IMPORT}{query}")))
        .bearer_auth(key)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn report(app: &TestApp, key: &str, query: &str, body: String) -> Value {
    let res = import(app, key, query, body).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn lines(users: &[Value]) -> String {
    users.iter().map(|u| format!("{u}\n")).collect()
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    app.sql(&format!(
        "SELECT password_hash FROM users WHERE email_key = '{email}'"
    ))
    .await[0][0]
        .clone()
}

#[tokio::test]
async fn users_sign_in_with_their_old_hashes_which_are_then_replaced() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let users: Vec<Value> = FOREIGN
        .iter()
        .map(|(email, hash)| json!({ "email": email, "password_hash": hash, "email_confirmed": true }))
        .collect();
    let r = report(&app, &key, "", lines(&users)).await;
    assert_eq!(r["created"], FOREIGN.len(), "{r}");
    assert_eq!(r["failed"], json!([]));
    // Every one of these is cheap (made quickly for the test): flagged.
    assert_eq!(r["warnings_total"], FOREIGN.len(), "{r}");
    assert_eq!(r["warnings"][0]["reason"], "weak_hash");

    for (email, hash) in FOREIGN {
        let wrong = app.login(email, "correct horse!").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{email}");
        assert_eq!(stored_hash(&app, email).await, *hash, "a failure keeps it");
        let res = app.login(email, "correct horse").await;
        assert_eq!(res.status(), StatusCode::OK, "{email}");
        let now = stored_hash(&app, email).await;
        assert!(now.starts_with("$pbkdf2-sha256$i="), "{email}: {now}");
        // The new hash works, the old one is gone.
        assert_eq!(
            app.login(email, "correct horse").await.status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn firebase_hashes_need_the_projects_keys() {
    let without = spawn_app().await;
    let key = without.api_key(&["admin"]).await;
    let line = json!({ "email": "fb@example.com", "password_hash": FIREBASE_HASH });
    let r = report(&without, &key, "", lines(std::slice::from_ref(&line))).await;
    assert_eq!(r["created"], 0);
    assert_eq!(r["failed"][0]["reason"], "firebase_not_configured", "{r}");

    let app = spawn_app_with(FIREBASE_TOML).await;
    let key = app.api_key(&["admin"]).await;
    let r = report(&app, &key, "", lines(&[line])).await;
    assert_eq!(r["created"], 1, "{r}");
    assert_eq!(
        r["warnings_total"], 0,
        "Firebase's own parameters are not weak"
    );
    assert_eq!(
        app.login("fb@example.com", "user1password").await.status(),
        StatusCode::OK
    );
    assert!(stored_hash(&app, "fb@example.com")
        .await
        .starts_with("$pbkdf2-sha256$"));
}

#[tokio::test]
async fn every_bad_line_is_reported_by_number_and_nothing_wrong_is_imported() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    app.signed_up("taken@example.com").await;
    let taken_id = app
        .sql("SELECT id FROM users WHERE email_key = 'taken@example.com'")
        .await[0][0]
        .clone();
    let body = [
        r#"{"email":"ok@example.com","name":"Ok"}"#.to_owned(),
        "not json".to_owned(),
        r#"{"email":"no-at-sign"}"#.to_owned(),
        r#"{"email":"hash@example.com","password_hash":"md5$abc"}"#.to_owned(),
        r#"{"email":"OK@Example.com"}"#.to_owned(),
        r#"{"email":"Taken@EXAMPLE.com","password_hash":"$2b$04$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC"}"#.to_owned(),
        String::new(),
        format!(r#"{{"email":"stolen-id@example.com","id":"{taken_id}"}}"#),
        r#"{"email":"typo@example.com","passwordHash":"x"}"#.to_owned(),
        r#"{"email":"role@example.com","role":"root user"}"#.to_owned(),
        format!(r#"{{"email":"long@example.com","name":"{}"}}"#, "x".repeat(300 * 1024)),
        r#"{"email":"last@example.com"}"#.to_owned(),
    ]
    .join("\n");
    let r = report(&app, &key, "", body).await;
    let failed: Vec<(u64, String)> = r["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        (2, "invalid_json"),
        (3, "invalid_email"),
        (4, "unknown_hash_format"),
        (5, "duplicate"),
        (6, "exists"),
        (8, "id_taken"),
        (9, "invalid_line"),
        (10, "invalid_role"),
        (11, "line_too_long"),
    ];
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(l, r)| (*l, (*r).to_owned()))
        .collect();
    assert_eq!(failed, expected, "{r}");
    assert_eq!(r["created"], 2);
    assert_eq!(r["skipped"], 1);
    assert_eq!(r["failed_total"], 9);
    assert_eq!(r["lines"], 12);
    assert_eq!(r["failed"][4]["email"], "Taken@example.com");
    // Nothing else got in, and the existing account kept its password.
    assert_eq!(app.sql_count("SELECT count(*) FROM users").await, 3);
    assert_eq!(
        app.login("taken@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.sql("SELECT name FROM users WHERE email_key = 'ok@example.com'")
            .await[0][0],
        "Ok"
    );
}

#[tokio::test]
async fn a_second_run_adds_only_what_is_missing_across_batches() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    // 1,200 lines: three batches, with a duplicate of line 1 in the third.
    let mut users: Vec<Value> = (0..1_199)
        .map(|i| json!({ "email": format!("user{i}@example.com") }))
        .collect();
    users.push(json!({ "email": "USER0@example.com" }));
    let first_half = lines(&users[..700]);
    let r = report(&app, &key, "", first_half).await;
    assert_eq!(r["created"], 700);

    let r = report(&app, &key, "", lines(&users)).await;
    assert_eq!(r["created"], 499, "{r}");
    assert_eq!(r["skipped"], 700);
    assert_eq!(r["failed_total"], 701);
    let last = r["failed"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["line"], 1_200);
    assert_eq!(last["reason"], "duplicate");
    assert_eq!(app.sql_count("SELECT count(*) FROM users").await, 1_199);

    // One audit event per batch written, with what it created.
    let created: Vec<i64> = app
        .sql("SELECT detail FROM audit_events WHERE kind = 'users.imported' ORDER BY id")
        .await
        .iter()
        .map(|row| {
            serde_json::from_str::<Value>(&row[0]).unwrap()["created"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(created, vec![500, 200, 0, 300, 199]);
}

#[tokio::test]
async fn a_dry_run_reports_the_same_and_writes_nothing() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    app.signed_up("taken@example.com").await;
    let body = lines(&[
        json!({ "email": "new@example.com" }),
        json!({ "email": "taken@example.com" }),
        json!({ "email": "new@example.com" }),
        json!({ "email": "bad" }),
    ]);
    let dry = report(&app, &key, "?dry_run=true", body.clone()).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(app.sql_count("SELECT count(*) FROM users").await, 1);
    assert_eq!(
        app.sql_count("SELECT count(*) FROM audit_events WHERE kind = 'users.imported'")
            .await,
        0
    );
    let real = report(&app, &key, "", body).await;
    for field in ["created", "skipped", "failed", "failed_total"] {
        assert_eq!(dry[field], real[field], "{field}");
    }
}

#[tokio::test]
async fn the_route_is_for_admins_and_ndjson_only() {
    let app = spawn_app().await;
    let key = app.api_key(&["admin"]).await;
    let user = app.signed_up("u@example.com").await;
    let body = lines(&[json!({ "email": "x@example.com" })]);
    let res = app
        .client
        .post(app.url(IMPORT))
        .header("content-type", "application/x-ndjson")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "unauthenticated").await;
    let res = import(&app, &user.access, "", body.clone()).await;
    assert_problem(res, 403, "forbidden").await;
    let challenges = app.api_key(&["challenges"]).await;
    assert_problem(
        import(&app, &challenges, "", body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .request_raw(Method::POST, IMPORT, Some(&key), body.clone())
        .await;
    assert_problem(res, 415, "unsupported_media_type").await;
    let res = import(&app, &key, "?dry_run=maybe", body).await;
    assert_problem(res, 422, "validation_failed").await;
    assert_eq!(app.sql_count("SELECT count(*) FROM users").await, 1);
}

#[tokio::test]
async fn an_export_imports_unchanged_into_another_toktok() {
    let from = spawn_app().await;
    let key = from.api_key(&["admin"]).await;
    from.signed_up("ada@example.com").await;
    let r = report(
        &from,
        &key,
        "",
        lines(&[json!({
            "email": "grace@example.com", "name": "Grace", "role": "admin",
            "metadata": { "team": "cobol" }, "app_metadata": { "plan": "pro" },
            "email_confirmed": true, "created_at": "2020-01-02T03:04:05Z", "disabled": true,
            "password_hash": FOREIGN[0].1,
        })]),
    )
    .await;
    assert_eq!(r["created"], 1);
    let mut exported = String::new();
    let count = toktok::accounts::import::export_users(&from.state, true, "test", |line| {
        exported.push_str(&serde_json::to_string(line).unwrap());
        exported.push('\n');
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(count, 2);
    assert_eq!(
        from.sql_count("SELECT count(*) FROM audit_events WHERE kind = 'users.exported'")
            .await,
        1
    );

    let to = spawn_app().await;
    let key = to.api_key(&["admin"]).await;
    let r = report(&to, &key, "", exported.clone()).await;
    assert_eq!(r["created"], 2, "{r}");
    let columns = "id, email, email_key, email_confirmed_at IS NULL, name, role, metadata, \
                   app_metadata, password_hash, disabled, created_at";
    let sql = format!("SELECT {columns} FROM users ORDER BY id");
    assert_eq!(from.sql(&sql).await, to.sql(&sql).await);
    // Ada's own (toktok) hash and Grace's bcrypt both still sign in.
    assert_eq!(
        to.login("ada@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    let disabled = to.login("grace@example.com", "correct horse").await;
    assert_ne!(
        disabled.status(),
        StatusCode::OK,
        "Grace came over disabled"
    );
    // Without --with-hashes no hash leaves.
    let mut bare = String::new();
    toktok::accounts::import::export_users(&from.state, false, "test", |line| {
        bare.push_str(&serde_json::to_string(line).unwrap());
        Ok(())
    })
    .await
    .unwrap();
    assert!(!bare.contains("password_hash"), "{bare}");
}
