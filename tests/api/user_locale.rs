//! The user's own language (issue 21): `locale` on the user object, set
//! with `PATCH /v1/users/me` (and by admins), checked like every field, and
//! first in the choice of a page's language once the page knows the user.

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app_with, TestApp, PASSWORD};
use crate::oidc_flow::{Browser, OIDC};

async fn patch_me(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.request(Method::PATCH, "/v1/users/me", Some(token), Some(body))
        .await
}

async fn me(app: &TestApp, token: &str) -> Value {
    let res = app.get_auth("/v1/users/me", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn locale_is_set_read_and_cleared() {
    let app = spawn_app_with("").await;
    let t = app.signed_up("ada@example.com").await;
    let user = me(&app, &t.access).await;
    assert_eq!(user["locale"], Value::Null, "{user}");
    assert!(user.as_object().unwrap().contains_key("locale"));

    let res = patch_me(&app, &t.access, json!({ "locale": "fr" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["locale"], "fr");
    assert_eq!(me(&app, &t.access).await["locale"], "fr");

    // Other fields leave it; null clears it.
    let res = patch_me(&app, &t.access, json!({ "name": "Ada" })).await;
    assert_eq!(res.json::<Value>().await.unwrap()["locale"], "fr");
    let res = patch_me(&app, &t.access, json!({ "locale": null })).await;
    assert_eq!(res.json::<Value>().await.unwrap()["locale"], Value::Null);
    assert_eq!(me(&app, &t.access).await["locale"], Value::Null);

    // Admins see it and may set it.
    let key = app.api_key(&["admin"]).await;
    let id = user["id"].as_str().unwrap();
    let path = format!("/v1/admin/users/{id}");
    let res = app
        .request(
            Method::PATCH,
            &path,
            Some(&key),
            Some(json!({ "locale": "de" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["locale"], "de");
    let res = app.get_auth(&path, &key).await;
    assert_eq!(res.json::<Value>().await.unwrap()["locale"], "de");
    let res = app.get_auth("/v1/admin/users", &key).await;
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["users"][0]["locale"], "de", "{list}");
    assert_eq!(me(&app, &t.access).await["locale"], "de");
    let audit = app
        .sql("SELECT detail FROM audit_events WHERE kind = 'user.updated'")
        .await;
    assert!(audit[0][0].contains("locale"), "{audit:?}");
}

#[tokio::test]
async fn a_locale_toktok_does_not_speak_is_422() {
    let app = spawn_app_with("").await;
    let t = app.signed_up("ada@example.com").await;
    for bad in [
        json!("it"),
        json!("fr-CA"),
        json!("FR"),
        json!(""),
        json!("<script>"),
        json!(42),
        json!(["fr"]),
    ] {
        let res = patch_me(&app, &t.access, json!({ "locale": bad })).await;
        let body = assert_problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "locale", "{bad}: {body}");
    }
    let key = app.api_key(&["admin"]).await;
    let id = me(&app, &t.access).await["id"].as_str().unwrap().to_owned();
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            Some(&key),
            Some(json!({ "locale": "pt" })),
        )
        .await;
    let body = assert_problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "locale", "{body}");
    // Nothing was stored.
    assert_eq!(me(&app, &t.access).await["locale"], Value::Null);
}

/// A GET of `path` by `browser` with its cookies and `Accept-Language`.
async fn get_in(app: &TestApp, browser: &Browser, path: &str, language: &str) -> String {
    let cookies = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let res = reqwest::Client::new()
        .get(app.url(path))
        .header(COOKIE, cookies)
        .header(ACCEPT_LANGUAGE, language)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_signed_in_page_speaks_the_users_locale() {
    let app = spawn_app_with(OIDC).await;
    let t = app.signed_up("ada@example.com").await;
    let res = patch_me(&app, &t.access, json!({ "locale": "de" })).await;
    assert_eq!(res.status(), StatusCode::OK);

    let mut b = Browser::new();
    let login = b.get(&app, "/login").await;
    assert!(login.body.contains("<html lang=\"en\">"));
    let done = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &login.input("csrf")),
                ("flow", ""),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    // Signed in without an application: on to the account center, in German.
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.next(), "/account");
    let account = get_in(&app, &b, "/account", "es").await;
    assert!(account.contains("<html lang=\"de\">"), "{account}");

    // The user's locale beats the browser's Accept-Language...
    let page = get_in(&app, &b, "/logout", "es, fr;q=0.5").await;
    assert!(page.contains("<html lang=\"de\">"), "{page}");
    // ... which still decides for nobody in particular.
    let anonymous = get_in(&app, &Browser::new(), "/logout", "es").await;
    assert!(anonymous.contains("<html lang=\"es\">"), "{anonymous}");
    // Cleared: the browser's language again.
    patch_me(&app, &t.access, json!({ "locale": null })).await;
    let page = get_in(&app, &b, "/logout", "es").await;
    assert!(page.contains("<html lang=\"es\">"), "{page}");
}
