//! The language of a mail (issue 21; docs/languages.md): the recipient's
//! own `locale`, else the language of the request that caused it
//! (`Accept-Language`, or the hosted page's, which follows `ui_locales`),
//! else `[branding] default_locale`. Read from the dev outbox, as an
//! operator would.

use reqwest::header::ACCEPT_LANGUAGE;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use toktok::mail::deliver_due;

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::oidc_flow::{authorize_url, client, wiki, Browser, OIDC};
use crate::smtp::{parts, ReceivedMail};

/// The one `.eml` of `kind` in the app's dev outbox, after a delivery pass.
async fn sent(app: &TestApp, kind: &str) -> ReceivedMail {
    deliver_due(&app.state).await;
    let dir = app.dir.path().join("outbox");
    let found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains(&format!("-{kind}-"))
        })
        .collect();
    assert_eq!(found.len(), 1, "one {kind} mail in {}", dir.display());
    ReceivedMail {
        from: String::new(),
        to: Vec::new(),
        data: std::fs::read_to_string(found[0].path()).unwrap(),
    }
}

/// The plain-text and HTML bodies, decoded.
fn bodies(mail: &ReceivedMail) -> (String, String) {
    let parts = parts(mail);
    let of = |kind: &str| {
        parts
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, text)| text.replace("\r\n", "\n"))
            .unwrap_or_else(|| panic!("no {kind} part"))
    };
    (of("text/plain"), of("text/html"))
}

async fn post_in(app: &TestApp, path: &str, body: Value, language: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .header(ACCEPT_LANGUAGE, language)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_registration_in_french_gets_a_french_confirmation_mail() {
    let app = spawn_app_with("[email]\nconfirmation_required = true\n").await;
    let res = post_in(
        &app,
        "/v1/auth/register",
        json!({ "email": "amelie@example.com", "password": PASSWORD }),
        "fr-CA,fr;q=0.9,en;q=0.5",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mail = sent(&app, "confirm_account").await;
    assert_eq!(mail.header("Content-Language").as_deref(), Some("fr"));
    assert_eq!(
        mail.subject().as_deref(),
        Some("Confirmez votre compte toktok")
    );
    let (text, html) = bodies(&mail);
    assert!(text.starts_with("Bonjour,"), "{text}");
    assert!(
        text.contains("amelie@example.com est bien votre adresse"),
        "{text}"
    );
    assert!(text.contains("expire dans 24 heures"), "{text}");
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains(">Confirmer mon adresse</a>"), "{html}");
    // The account stores no language of its own: that stays a choice.
    let locale = app.sql("SELECT locale FROM users").await;
    assert_eq!(locale[0][0], "NULL", "{locale:?}");
}

#[tokio::test]
async fn the_users_own_locale_beats_the_requests() {
    let app = spawn_app_with("").await;
    let t = app.signed_up("dora@example.com").await;
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&t.access),
            Some(json!({ "locale": "de" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = post_in(
        &app,
        "/v1/auth/password/forgot",
        json!({ "email": "dora@example.com" }),
        "es",
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mail = sent(&app, "reset_password").await;
    assert_eq!(mail.header("Content-Language").as_deref(), Some("de"));
    let (text, html) = bodies(&mail);
    assert!(text.starts_with("Hallo,"), "{text}");
    assert!(
        text.contains("das Passwort des Kontos\ndora@example.com bei toktok zurückzusetzen"),
        "{text}"
    );
    assert!(text.contains("24 Stunden lang gültig"), "{text}");
    assert!(html.contains(">Neues Passwort wählen</a>"), "{html}");
}

#[tokio::test]
async fn without_a_choice_the_default_locale_writes_the_mail() {
    let app = spawn_app_with("[branding]\ndefault_locale = \"es\"\n").await;
    app.signed_up("eva@example.com").await;
    let res = app
        .post(
            "/v1/auth/password/forgot",
            json!({ "email": "eva@example.com" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mail = sent(&app, "reset_password").await;
    assert_eq!(mail.header("Content-Language").as_deref(), Some("es"));
    let (text, _) = bodies(&mail);
    assert!(text.starts_with("Hola:"), "{text}");
    assert!(text.contains("caduca en 24 horas"), "{text}");
}

#[tokio::test]
async fn a_hosted_page_mails_in_its_ui_locales() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ugo@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    // No Accept-Language at all: the application's ui_locales decides.
    let start = b.get(&app, &authorize_url(id, "&ui_locales=fr")).await;
    let login = b.get(&app, &start.next()).await;
    let flow = login.input("flow");
    let forgot = b
        .get(&app, &format!("/login/forgot?flow={}", urlencoding(&flow)))
        .await;
    assert!(
        forgot.body.contains("<html lang=\"fr\">"),
        "{}",
        forgot.body
    );
    let done = b
        .post(
            &app,
            "/login/forgot",
            &[
                ("csrf", &forgot.input("csrf")),
                ("flow", &flow),
                ("email", "ugo@example.com"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let mail = sent(&app, "reset_password").await;
    assert_eq!(mail.header("Content-Language").as_deref(), Some("fr"));
    let (text, _) = bodies(&mail);
    assert!(text.contains("réinitialiser le mot de"), "{text}");
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
