//! Issue 26: the authorization matrix of the routes outside the OpenAPI
//! document — the account center, the admin console and the assets —
//! taken from the router itself (`toktok::http::page_paths()`, the paths
//! given to `http::listed::Listed`) × every kind of caller a page can
//! meet: nobody, a bearer token or API key (pages never read one), and
//! browser sessions of a disabled user, the user, another user and an
//! admin, with their own CSRF token, another session's, or none.
//!
//! The methods of a path are the router's too: each of GET and POST a
//! path answers with anything but 405 is served, and must have a row in
//! [`EXPECTED`]; a row the router does not serve fails as well. A form is
//! posted with its CSRF token (for the callers that have one) and nothing
//! else: a caller the page lets through gets the form's own refusal (the
//! page again, with the status the API would answer) or its 303.
//!
//! The API's routes are tests/api/authz_matrix.rs's; the hosted sign-in
//! pages (no session needed) are rows there, and their CSRF refusals are
//! `oidc_pages::every_hosted_form_refuses_a_missing_or_foreign_csrf_token`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::account_center::signed_in_browser;
use crate::authenticator::Authenticator;
use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::oidc_flow::Browser;
use crate::oidc_token::claims_of;

/// Every feature a page can sit behind, on; admins may use the console at
/// `aal` 1 (the console's own tests take the default, `aal` 2).
const CONFIG: &str = "[oidc]\nenabled = true\n[mfa]\nrequired_roles = []\n";

/// The kinds of caller, in the order the cells run for a route: the
/// admin's last, as they may delete the user.
const CALLERS: &[&str] = &[
    "nobody",
    "bearer: admin API key",
    "bearer: admin's access token",
    "disabled user's browser",
    "other user's browser",
    "user's browser, no CSRF token",
    "user's browser, another session's CSRF token",
    "user's browser",
    "admin's browser, no CSRF token",
    "admin's browser",
];

/// A browser signed in at `/login` and the CSRF token of its session.
struct Signed {
    browser: Browser,
    csrf: String,
}

async fn browser(app: &TestApp, email: &str) -> Signed {
    let mut browser = signed_in_browser(app, email).await;
    let csrf = browser.get(app, "/account").await.input("csrf");
    Signed { browser, csrf }
}

/// Made again for each route: the callers and what the path names.
struct Fresh {
    admin_key: String,
    admin_token: String,
    disabled: Signed,
    other: Signed,
    ann: Signed,
    admin: Signed,
    ann_id: String,
    ann_sid: String,
    /// Her passkey, identity, or consent to `client_id`, on the routes
    /// naming one.
    ann_thing: String,
    key_id: String,
    client_id: String,
    webhook_id: String,
}

async fn created(app: &TestApp, key: &str, path: &str, body: serde_json::Value) -> String {
    let res = app.request(Method::POST, path, Some(key), Some(body)).await;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
    body["id"]
        .as_str()
        .or(body["client_id"].as_str())
        .unwrap()
        .to_owned()
}

async fn fresh(app: &TestApp, n: usize, route: &str) -> Fresh {
    let admin_key = app.api_key(&["admin"]).await;
    let user = |email: String, role: &'static str| {
        let key = admin_key.clone();
        async move {
            let body = json!({ "email": email, "password": PASSWORD, "role": role });
            created(app, &key, "/v1/admin/users", body).await
        }
    };
    let ann_id = user(format!("ann{n}@example.com"), "user").await;
    let ann_access = app.signed_in(&format!("ann{n}@example.com")).await.access;
    let ann_sid = claims_of(&ann_access)["sid"].as_str().unwrap().to_owned();
    user(format!("eve{n}@example.com"), "user").await;
    let disabled_id = user(format!("dis{n}@example.com"), "user").await;
    user(format!("root{n}@example.com"), "admin").await;
    let admin_token = app.signed_in(&format!("root{n}@example.com")).await.access;
    let disabled = browser(app, &format!("dis{n}@example.com")).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{disabled_id}"),
            Some(&admin_key),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.api_key(&["challenges"]).await;
    let key_id = app
        .sql("SELECT id FROM api_keys WHERE revoked_at IS NULL ORDER BY id DESC LIMIT 1")
        .await[0][0]
        .clone();
    let client_id = created(
        app,
        &admin_key,
        "/v1/admin/oauth-clients",
        crate::oidc_flow::wiki(),
    )
    .await;
    // toktok keeps at most 50 endpoints: one only for the routes naming one.
    let webhook_id = if route.starts_with("/admin/webhooks/") {
        let body = json!({ "url": "https://8.8.4.4/in", "events": ["user.created"] });
        created(app, &admin_key, "/v1/admin/webhooks", body).await
    } else {
        "no-webhook".to_owned()
    };
    let other = browser(app, &format!("eve{n}@example.com")).await;
    let ann = browser(app, &format!("ann{n}@example.com")).await;
    let admin = browser(app, &format!("root{n}@example.com")).await;
    // After her browser signed in (a passkey would ask it for the second
    // step): so its session is at `aal` 1 beside a factor.
    let ann_thing = if route.starts_with("/account/passkeys/{id}") {
        let mut authn = Authenticator::for_config(&app.state.config);
        let view = crate::passkeys::register(app, &ann_access, &mut authn).await;
        view["id"].as_str().unwrap().to_owned()
    } else if route.starts_with("/account/apps/") {
        crate::oidc_flow::authorized(app, &client_id, &format!("ann{n}@example.com")).await;
        client_id.clone()
    } else if route.starts_with("/account/identities/") {
        // As account_center's unlink test does: no provider runs here.
        let id = format!("11111111-0000-7000-8000-{n:012}");
        app.sql(&format!(
            "INSERT INTO identities (id, user_id, provider, subject, email, email_verified, name, created_at)
             VALUES ('{id}', '{ann_id}', 'up', 's{n}', 'ann@up.example', 1, 'Ann', 1700000000)"
        ))
        .await;
        id
    } else {
        "no-such-id".to_owned()
    };
    Fresh {
        other,
        ann,
        admin,
        ann_thing,
        admin_key,
        admin_token,
        disabled,
        ann_id,
        ann_sid,
        key_id,
        client_id,
        webhook_id,
    }
}

/// The path with its parameters filled in: the user's own resources where
/// she has one (her session, passkey, provider identity, consent to an
/// app: the other user and the admin get 404 for them, she does not), else
/// resources that exist or ids that do not.
fn concrete(route: &str, f: &Fresh) -> String {
    let id = if route.starts_with("/admin/users/") {
        f.ann_id.as_str()
    } else if route.starts_with("/admin/api-keys/") {
        f.key_id.as_str()
    } else if route.starts_with("/admin/oauth-clients/") {
        f.client_id.as_str()
    } else if route.starts_with("/account/apps/")
        || route.starts_with("/account/passkeys/{id}")
        || route.starts_with("/account/identities/")
    {
        f.ann_thing.as_str()
    } else if route.starts_with("/admin/webhooks/") {
        f.webhook_id.as_str()
    } else if route.starts_with("/account/sessions/") {
        f.ann_sid.as_str()
    } else {
        "no-such-id"
    };
    route
        .replace("{id}", id)
        .replace("{client_id}", id)
        .replace("{action}", "delete")
        .replace("{delivery}", "no-such-delivery")
}

/// A 303 to `/login`: what a page answers a caller without a live
/// browser session.
const LOGIN: u16 = 1;

/// `plain` is a client without cookies that follows no redirect, for the
/// callers without a browser.
async fn send(
    (app, plain): (&TestApp, &reqwest::Client),
    method: &Method,
    (route, path): (&str, &str),
    caller: &str,
    f: &mut Fresh,
) -> u16 {
    let bearer = match caller {
        "nobody" => Some(None),
        "bearer: admin API key" => Some(Some(f.admin_key.clone())),
        "bearer: admin's access token" => Some(Some(f.admin_token.clone())),
        _ => None,
    };
    if let Some(token) = bearer {
        let mut req = plain.request(method.clone(), app.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if *method == Method::POST {
            req = req.form(&fields(route));
        }
        let res = req.send().await.unwrap();
        let to_login = res
            .headers()
            .get("location")
            .is_some_and(|l| l.as_bytes().starts_with(b"/login"));
        return match res.status().as_u16() {
            303 if to_login => LOGIN,
            status => status,
        };
    }
    let foreign = f.other.csrf.clone();
    // Whose browser, and whether it sends its own token, another's or none.
    let (signed, token) = match caller {
        "disabled user's browser" => (&mut f.disabled, Some(None)),
        "other user's browser" => (&mut f.other, Some(None)),
        "user's browser, no CSRF token" => (&mut f.ann, None),
        "user's browser, another session's CSRF token" => (&mut f.ann, Some(Some(foreign))),
        "user's browser" => (&mut f.ann, Some(None)),
        "admin's browser, no CSRF token" => (&mut f.admin, None),
        "admin's browser" => (&mut f.admin, Some(None)),
        other => panic!("no caller {other}"),
    };
    let csrf = token.map(|t| t.unwrap_or_else(|| signed.csrf.clone()));
    let page = if *method == Method::GET {
        signed.browser.get(app, path).await
    } else {
        let mut form: Vec<(&str, &str)> = csrf.iter().map(|c| ("csrf", c.as_str())).collect();
        form.extend(fields(route));
        signed.browser.post(app, path, &form).await
    };
    let to_login = page
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/login"));
    match page.status.as_u16() {
        303 if to_login => LOGIN,
        status => status,
    }
}

/// The fields of a complete form (but for its CSRF token), where the page
/// reads the form before it looks at the session.
fn fields(route: &str) -> Vec<(&'static str, &'static str)> {
    match route {
        "/account/email" => vec![("new_email", "new@example.com"), ("password", PASSWORD)],
        "/account/password" => vec![
            ("current_password", PASSWORD),
            ("new_password", "another long passphrase"),
        ],
        "/account/reauth" => vec![("password", PASSWORD)],
        "/account/totp/confirm" => vec![("code", "123456")],
        "/account/passkeys/new" => vec![("passkey_flow", "x"), ("credential", "{}")],
        "/account/passkeys/{id}/rename" => vec![("name", "x")],
        "/account/providers/linked" => vec![("code", "x")],
        _ => vec![],
    }
}

type Row = [u16; 10];

/// A static asset: the same for everyone.
const fn asset(status: u16) -> Row {
    [status; 10]
}

/// An account center page (GET): 303 to `/login` without a live browser
/// session (a bearer token is not one); `own` for the signed-in callers
/// (other user, user ×3, admin ×2).
const fn account_page(own: [u16; 6]) -> Row {
    [
        LOGIN, LOGIN, LOGIN, LOGIN, own[0], own[1], own[2], own[3], own[4], own[5],
    ]
}

/// An account center form (POST): the CSRF token is checked first, so 403
/// without one (nobody, a bearer) or with another session's, and a 303
/// to `/login` for the disabled user's own token; `other`, `user` and
/// `admin` are the answers to those callers with their own tokens.
const fn account_form(other: u16, user: u16, admin: u16) -> Row {
    [403, 403, 403, LOGIN, other, 403, 403, user, 403, admin]
}

/// A console page (GET): 303 to `/login` without a live session, 403 for
/// a user who is not an admin; `admin` for the admin.
const fn console_page(admin: u16) -> Row {
    [LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 403, 403, admin, admin]
}

/// A console form (POST): the session is checked first, as for its page;
/// then 403 for the admin without the session's CSRF token.
const fn console_form(admin: u16) -> Row {
    [LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 403, 403, 403, admin]
}

/// Every page the router serves outside the document, and what each kind
/// of caller gets.
#[rustfmt::skip]
const EXPECTED: &[(&str, Row)] = &[
    ("GET /branding/logo", asset(404)),
    ("GET /sdk/toktok.js", asset(200)),
    ("GET /sdk/toktok.d.ts", asset(200)),
    ("GET /admin", console_page(303)),
    ("GET /admin/users", console_page(200)),
    ("GET /admin/users/{id}", console_page(200)),
    ("POST /admin/users/{id}", console_form(422)),
    ("GET /admin/users/{id}/disable", console_page(200)),
    ("POST /admin/users/{id}/disable", console_form(303)),
    ("GET /admin/users/{id}/enable", console_page(200)),
    ("POST /admin/users/{id}/enable", console_form(303)),
    ("GET /admin/users/{id}/delete", console_page(200)),
    ("POST /admin/users/{id}/delete", console_form(303)),
    ("GET /admin/users/{id}/logout", console_page(200)),
    ("POST /admin/users/{id}/logout", console_form(303)),
    ("GET /admin/users/{id}/factors", console_page(200)),
    ("POST /admin/users/{id}/factors", console_form(303)),
    ("GET /admin/users/{id}/reset-link", console_page(200)),
    ("POST /admin/users/{id}/reset-link", console_form(303)),
    ("GET /admin/audit", console_page(200)),
    ("GET /admin/api-keys", console_page(200)),
    ("POST /admin/api-keys", console_form(422)),
    ("GET /admin/api-keys/{id}/revoke", console_page(200)),
    ("POST /admin/api-keys/{id}/revoke", console_form(303)),
    ("GET /admin/oauth-clients", console_page(200)),
    ("POST /admin/oauth-clients", console_form(422)),
    ("GET /admin/oauth-clients/{id}", console_page(200)),
    ("POST /admin/oauth-clients/{id}", console_form(422)),
    ("GET /admin/oauth-clients/{id}/secret", console_page(200)),
    ("POST /admin/oauth-clients/{id}/secret", console_form(200)),
    ("GET /admin/oauth-clients/{id}/delete", console_page(200)),
    ("POST /admin/oauth-clients/{id}/delete", console_form(303)),
    ("GET /admin/webhooks", console_page(200)),
    ("POST /admin/webhooks", console_form(422)),
    ("GET /admin/webhooks/{id}", console_page(200)),
    ("GET /admin/webhooks/{id}/{action}", console_page(200)),
    ("POST /admin/webhooks/{id}/{action}", console_form(303)),
    ("POST /admin/webhooks/{id}/deliveries/{delivery}/retry", console_form(404)),
    ("GET /admin/providers", console_page(200)),
    ("GET /admin/mail", console_page(200)),
    ("POST /admin/mail/{id}/retry", console_form(404)),
    ("GET /admin/settings", console_page(200)),
    ("GET /account", account_page([200, 200, 200, 200, 200, 200])),
    ("POST /account/profile", account_form(303, 303, 303)),
    ("POST /account/email", account_form(303, 303, 303)),
    ("POST /account/password", account_form(303, 303, 303)),
    ("POST /account/reauth", account_form(303, 303, 303)),
    ("GET /account/security", account_page([200, 200, 200, 200, 200, 200])),
    ("POST /account/totp", account_form(200, 200, 200)),
    ("POST /account/totp/confirm", account_form(404, 404, 404)),
    ("GET /account/totp/remove", account_page([200, 200, 200, 200, 200, 200])),
    ("POST /account/totp/remove", account_form(404, 404, 404)),
    ("POST /account/recovery-codes", account_form(409, 409, 409)),
    ("GET /account/passkeys/new", account_page([200, 200, 200, 200, 200, 200])),
    ("POST /account/passkeys/new", account_form(422, 422, 422)),
    ("POST /account/passkeys/{id}/rename", account_form(404, 303, 404)),
    ("GET /account/passkeys/{id}/remove", account_page([404, 200, 200, 200, 404, 404])),
    ("POST /account/passkeys/{id}/remove", account_form(404, 403, 404)),
    ("GET /account/sessions", account_page([200, 200, 200, 200, 200, 200])),
    ("GET /account/sessions/{id}/end", account_page([404, 200, 200, 200, 404, 404])),
    ("POST /account/sessions/{id}/end", account_form(404, 303, 404)),
    ("GET /account/sessions/end-others", account_page([200, 200, 200, 200, 200, 200])),
    ("POST /account/sessions/end-others", account_form(303, 303, 303)),
    ("GET /account/connections", account_page([200, 200, 200, 200, 200, 200])),
    ("GET /account/identities/{id}/unlink", account_page([404, 200, 200, 200, 404, 404])),
    ("POST /account/identities/{id}/unlink", account_form(404, 303, 404)),
    ("POST /account/providers/{id}/link", account_form(404, 404, 404)),
    ("GET /account/providers/linked", account_page([200, 200, 200, 200, 200, 200])),
    ("POST /account/providers/linked", account_form(400, 400, 400)),
    ("GET /account/apps/{client_id}/revoke", account_page([404, 200, 200, 200, 404, 404])),
    ("POST /account/apps/{client_id}/revoke", account_form(404, 303, 404)),
    ("GET /account/activity", account_page([200, 200, 200, 200, 200, 200])),
];

#[tokio::test]
async fn every_page_answers_every_kind_of_caller_as_the_table_says() {
    let app = spawn_app_with(CONFIG).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let paths = toktok::http::page_paths();
    let mut served = Vec::new();
    let mut wrong = Vec::new();
    let mut cells = 0;
    for (n, route) in paths.iter().enumerate() {
        for method in [Method::GET, Method::POST] {
            let mut f = fresh(&app, n * 2 + usize::from(method == Method::POST), route).await;
            let path = concrete(route, &f);
            let name = format!("{method} {route}");
            if send((&app, &plain), &method, (route, &path), "nobody", &mut f).await == 405 {
                continue;
            }
            let expected = EXPECTED.iter().find(|(row, _)| *row == name);
            if expected.is_none() {
                wrong.push(format!("no row for {name}"));
            }
            served.push(name.clone());
            let mut got = Vec::new();
            for (i, caller) in CALLERS.iter().enumerate() {
                let status = send((&app, &plain), &method, (route, &path), caller, &mut f).await;
                cells += 1;
                got.push(status);
                match expected {
                    Some((_, row)) if row[i] != status => {
                        let want = row[i];
                        wrong.push(format!("{name}, {caller}: {status} (expected {want})"));
                    }
                    _ => {}
                }
            }
            // What to paste into EXPECTED when a row is new or changed.
            println!("    (\"{name}\", {got:?}),");
        }
    }
    for (name, _) in EXPECTED {
        if !served.iter().any(|s| s == name) {
            wrong.push(format!("a row for {name}, which the router does not serve"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
