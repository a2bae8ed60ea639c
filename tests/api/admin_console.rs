//! The admin console, `/admin` (issue 21; docs/admin-console.md), driven
//! like a browser without JavaScript: a cookie jar, forms posted, each
//! redirect checked. Who may enter (a session of an admin at `aal` 2;
//! never a bearer token), every action and its audit event, and the
//! security rules: CSRF on every form, no framing, user data escaped.

use reqwest::header::{AUTHORIZATION, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::oidc_flow::{Browser, Page};
use crate::totp::{code, enrol};

/// Admins need a second factor (the default); the OpenID provider is on
/// (OAuth clients).
pub(crate) const CONSOLE: &str = "[mfa]\nrequired_roles = [\"admin\"]\n[oidc]\nenabled = true\n";
const ADMIN: &str = "root@example.com";
const XSS: &str = "<script>alert(1)</script>";

/// Creates a user through the admin API; returns the user.
pub(crate) async fn create_user(app: &TestApp, email: &str, role: &str) -> Value {
    let key = app.api_key(&["admin"]).await;
    let res = app
        .request(
            Method::POST,
            "/v1/admin/users",
            Some(&key),
            Some(json!({ "email": email, "password": PASSWORD, "role": role })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

/// A browser signed in at `/login` with a password (the first step only).
async fn password_sign_in(app: &TestApp, email: &str) -> (Browser, Page) {
    let mut b = Browser::new();
    let login = b.get(app, "/login").await;
    let csrf = login.input("csrf");
    let page = b
        .post(
            app,
            "/login",
            &[
                ("csrf", &csrf),
                ("flow", ""),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    (b, page)
}

/// The admin `ADMIN` signed in at `aal` 2 in a browser: TOTP enrolled
/// through the API, the second step passed at `/login`. Returns the
/// browser and the admin's id.
pub(crate) async fn admin_browser(app: &TestApp) -> (Browser, String) {
    let admin = create_user(app, ADMIN, "admin").await;
    let t = app.signed_in(ADMIN).await;
    let (secret, step, _) = enrol(app, &t.access).await;
    let (mut b, page) = password_sign_in(app, ADMIN).await;
    assert!(page.body.contains("name=\"mfa_token\""), "{}", page.body);
    // The next time step: a code is good once.
    app.clock.set((step + 1) * 30 + 15);
    let done = b
        .post(
            app,
            "/login/mfa",
            &[
                ("csrf", &page.input("csrf")),
                ("flow", ""),
                ("mfa_token", &page.input("mfa_token")),
                ("totp", &code(&secret, step + 1)),
            ],
        )
        .await;
    // Signed in without an application: on to the account center.
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/account"));
    (b, admin["id"].as_str().unwrap().to_owned())
}

/// A client that follows no redirect, for requests without the jar.
fn bare() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts a console form with the page's CSRF token.
pub(crate) async fn submit(
    b: &mut Browser,
    app: &TestApp,
    page: &str,
    action: &str,
    form: &[(&str, &str)],
) -> Page {
    let shown = b.get(app, page).await;
    assert_eq!(shown.status, StatusCode::OK, "{page}: {}", shown.body);
    let csrf = shown.input("csrf");
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    b.post(app, action, &fields).await
}

/// The audit events of `kind`: (user_id, actor).
pub(crate) async fn audited(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    app.sql(&format!(
        "SELECT COALESCE(user_id, ''), COALESCE(actor, '') FROM audit_events WHERE kind = '{kind}'"
    ))
    .await
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

#[tokio::test]
async fn only_an_admin_at_aal_2_with_a_browser_session_enters() {
    let app = spawn_app_with(CONSOLE).await;
    // No session: to the sign-in page.
    let mut nobody = Browser::new();
    let page = nobody.get(&app, "/admin/users").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.next(), "/login");
    assert_eq!(nobody.get(&app, "/admin").await.next(), "/login");

    // A user who is not an admin: 403.
    create_user(&app, "ada@example.com", "user").await;
    let (mut ada, _) = password_sign_in(&app, "ada@example.com").await;
    let page = ada.get(&app, "/admin/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("administrators"), "{}", page.body);

    // An admin without a second factor (aal 1): 403, pointing to /account.
    create_user(&app, "new-admin@example.com", "admin").await;
    let (mut weak, signed) = password_sign_in(&app, "new-admin@example.com").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let page = weak.get(&app, "/admin/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("second factor"), "{}", page.body);
    assert!(page.body.contains("href=\"/account\""), "{}", page.body);

    // Neither an admin API key nor an admin's access token is a way in.
    let (mut admin, _) = admin_browser(&app).await;
    let key = app.api_key(&["admin"]).await;
    let t = app.signed_in("new-admin@example.com").await;
    for token in [key.as_str(), t.access.as_str()] {
        let res = bare()
            .get(app.url("/admin/users"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{token}");
        assert_eq!(res.headers()["location"], "/login");
    }
    // The admin at aal 2 enters every area.
    for path in [
        "/admin/users",
        "/admin/audit",
        "/admin/api-keys",
        "/admin/oauth-clients",
        "/admin/providers",
        "/admin/mail",
        "/admin/settings",
    ] {
        let page = admin.get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains(ADMIN), "{path}");
    }
    assert_eq!(admin.get(&app, "/admin").await.next(), "/admin/users");
}

#[tokio::test]
async fn without_mfa_for_admins_an_admin_at_aal_1_enters_as_the_api_allows() {
    let app = spawn_app_with("[mfa]\nrequired_roles = []\n").await;
    create_user(&app, ADMIN, "admin").await;
    let (mut b, _) = password_sign_in(&app, ADMIN).await;
    let page = b.get(&app, "/admin/users").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[tokio::test]
async fn an_admin_finds_edits_and_manages_a_user() {
    let (app, sink) = crate::email::with_sink(CONSOLE).await;
    let (mut b, admin_id) = admin_browser(&app).await;
    let ada = create_user(&app, "Ada@Example.com", "user").await;
    let id = ada["id"].as_str().unwrap().to_owned();
    let actor = format!("user:{admin_id}");

    // Search: the email exactly, any case; the id; everyone.
    let found = b.get(&app, "/admin/users?q=ada%40EXAMPLE.com").await;
    assert!(
        found.body.contains(&format!("/admin/users/{id}")),
        "{}",
        found.body
    );
    assert!(!found.body.contains(&format!("/admin/users/{admin_id}")));
    let by_id = b.get(&app, &format!("/admin/users?q={id}")).await;
    assert!(
        by_id.body.contains(&format!("/admin/users/{id}")),
        "{}",
        by_id.body
    );
    assert!(!by_id.body.contains(&format!("/admin/users/{admin_id}")));
    let none = b.get(&app, "/admin/users?q=ad%40example.com").await;
    assert!(none.body.contains("No user matches"));
    let all = b.get(&app, "/admin/users").await;
    assert!(all.body.contains(&format!("/admin/users/{id}")));
    assert!(all.body.contains(&format!("/admin/users/{admin_id}")));
    let bad = b.get(&app, "/admin/users?after=nope").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    // The user's page, then edits: bad JSON beside its field, nothing saved.
    let user_page = format!("/admin/users/{id}");
    let form = |metadata: &'static str, app_metadata: &'static str| {
        vec![
            ("role", "editor"),
            ("name", "Ada L."),
            ("metadata", metadata),
            ("app_metadata", app_metadata),
            ("email_confirmed", "1"),
        ]
    };
    let bad = submit(
        &mut b,
        &app,
        &user_page,
        &user_page,
        &form("{not json", "{}"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"metadata-error\""), "{}", bad.body);
    assert!(bad.body.contains("not valid JSON"));
    assert!(bad.body.contains("{not json"), "what was typed stays");
    let array = submit(&mut b, &app, &user_page, &user_page, &form("{}", "[1, 2]")).await;
    assert_eq!(
        array.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        array.body
    );
    assert!(
        array.body.contains("id=\"app_metadata-error\""),
        "{}",
        array.body
    );
    assert!(audited(&app, "user.updated").await.is_empty());
    let ok = submit(
        &mut b,
        &app,
        &user_page,
        &user_page,
        &form("{\"theme\": \"dark\"}", "{\"plan\": \"pro\"}"),
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.next(), format!("{user_page}?notice=updated"));
    let shown = b.get(&app, &ok.next()).await;
    assert!(shown.body.contains("Changes saved."));
    let key = app.api_key(&["admin"]).await;
    let user: Value = app
        .request(
            Method::GET,
            &format!("/v1/admin/users/{id}"),
            Some(&key),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["role"], "editor");
    assert_eq!(user["name"], "Ada L.");
    assert_eq!(user["metadata"], json!({ "theme": "dark" }));
    assert_eq!(user["app_metadata"], json!({ "plan": "pro" }));
    assert_eq!(
        audited(&app, "user.updated").await,
        vec![(id.clone(), actor.clone())]
    );

    // Disable (confirmed first), enable.
    let ada_t = app.signed_in("ada@example.com").await;
    let confirm = b.get(&app, &format!("{user_page}/disable")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let action = format!("action=\"{user_page}/disable\"").replace('/', "&#x2f;");
    assert!(confirm.body.contains(&action), "{}", confirm.body);
    let done = submit(
        &mut b,
        &app,
        &format!("{user_page}/disable"),
        &format!("{user_page}/disable"),
        &[],
    )
    .await;
    assert_eq!(done.next(), format!("{user_page}?notice=disabled"));
    assert_eq!(
        audited(&app, "user.disabled").await,
        vec![(id.clone(), actor.clone())]
    );
    let me = app.get_auth("/v1/users/me", &ada_t.access).await;
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "a disable ends the sessions"
    );
    let done = submit(
        &mut b,
        &app,
        &format!("{user_page}/enable"),
        &format!("{user_page}/enable"),
        &[],
    )
    .await;
    assert_eq!(done.next(), format!("{user_page}?notice=enabled"));

    // End every session.
    let ada_t = app.signed_in("ada@example.com").await;
    let shown = b.get(&app, &user_page).await;
    assert!(shown.body.contains("Sessions"));
    let done = submit(
        &mut b,
        &app,
        &format!("{user_page}/logout"),
        &format!("{user_page}/logout"),
        &[],
    )
    .await;
    assert_eq!(done.next(), format!("{user_page}?notice=logged-out"));
    let me = app.get_auth("/v1/users/me", &ada_t.access).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        audited(&app, "sessions.ended_all").await.last().unwrap().1,
        actor
    );

    // Reset the second factors.
    let ada_t = app.signed_in("ada@example.com").await;
    enrol(&app, &ada_t.access).await;
    let shown = b.get(&app, &user_page).await;
    assert!(
        shown.body.contains("Authenticator app: on since"),
        "{}",
        shown.body
    );
    let done = submit(
        &mut b,
        &app,
        &format!("{user_page}/factors"),
        &format!("{user_page}/factors"),
        &[],
    )
    .await;
    assert_eq!(done.next(), format!("{user_page}?notice=factors-reset"));
    let shown = b.get(&app, &user_page).await;
    assert!(
        shown.body.contains("Authenticator app: off"),
        "{}",
        shown.body
    );
    assert_eq!(
        audited(&app, "factors.reset").await,
        vec![(id.clone(), actor.clone())]
    );

    // A password-reset link is mailed; a second one within a minute is not.
    let before = sink.messages().len();
    let done = submit(
        &mut b,
        &app,
        &format!("{user_page}/reset-link"),
        &format!("{user_page}/reset-link"),
        &[],
    )
    .await;
    assert_eq!(done.next(), format!("{user_page}?notice=reset-link-sent"));
    let mails = sink
        .wait_for(before + 2, std::time::Duration::from_secs(5))
        .await;
    let reset = mails
        .iter()
        .skip(before)
        .find(|m| crate::smtp::link_in(m).is_some_and(|l| l.contains("reset")));
    assert!(reset.is_some(), "a reset link was mailed");
    let again = submit(
        &mut b,
        &app,
        &format!("{user_page}/reset-link"),
        &format!("{user_page}/reset-link"),
        &[],
    )
    .await;
    assert_eq!(
        again.next(),
        format!("{user_page}?notice=reset-link-throttled")
    );
    assert_eq!(
        audited(&app, "password.reset_requested").await,
        vec![(id.clone(), actor.clone())]
    );

    // The audit log, filtered by user and by kind.
    let log = b
        .get(
            &app,
            &format!("/admin/audit?user_id={id}&kind=factors.reset"),
        )
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(
        log.body.contains("<code>factors.reset</code>"),
        "{}",
        log.body
    );
    assert!(!log.body.contains("<code>user.updated</code>"));
    let log = b.get(&app, "/admin/audit?kind=user.updated").await;
    assert!(log.body.contains("<code>user.updated</code>"));
    assert!(!log.body.contains("<code>factors.reset</code>"));
    let bad = b.get(&app, "/admin/audit?after=x").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Delete.
    let done = submit(
        &mut b,
        &app,
        &format!("{user_page}/delete"),
        &format!("{user_page}/delete"),
        &[],
    )
    .await;
    assert_eq!(done.next(), "/admin/users?notice=deleted");
    assert_eq!(b.get(&app, &user_page).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        audited(&app, "user.deleted").await,
        vec![(id.clone(), actor.clone())]
    );
    assert_eq!(
        b.get(&app, "/admin/users/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_api_key_is_shown_once_works_and_is_revoked() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, admin_id) = admin_browser(&app).await;
    let refused = submit(
        &mut b,
        &app,
        "/admin/api-keys",
        "/admin/api-keys",
        &[("name", "billing")],
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"scopes-error\""),
        "{}",
        refused.body
    );
    let refused = submit(
        &mut b,
        &app,
        "/admin/api-keys",
        "/admin/api-keys",
        &[("name", " "), ("scope", "admin")],
    )
    .await;
    assert!(
        refused.body.contains("id=\"name-error\""),
        "{}",
        refused.body
    );

    let made = submit(
        &mut b,
        &app,
        "/admin/api-keys",
        "/admin/api-keys",
        &[("name", "billing"), ("scope", "admin")],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let at = made.body.find("value=\"tk_").expect("the key") + 7;
    let key = made.body[at..at + made.body[at..].find('"').unwrap()].to_owned();
    let res = app
        .request(Method::GET, "/v1/admin/users", Some(&key), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list = b.get(&app, "/admin/api-keys").await;
    assert!(
        list.body.contains("billing") && !list.body.contains(&key),
        "never again"
    );
    assert_eq!(
        audited(&app, "api_key.created").await.last().unwrap().1,
        format!("user:{admin_id}")
    );

    let id: String = app
        .sql("SELECT id FROM api_keys WHERE name = 'billing'")
        .await[0][0]
        .clone();
    let revoke = format!("/admin/api-keys/{id}/revoke");
    let done = submit(&mut b, &app, &revoke, &revoke, &[]).await;
    assert_eq!(done.next(), "/admin/api-keys?notice=key-revoked");
    let res = app
        .request(Method::GET, "/v1/admin/users", Some(&key), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        b.get(&app, &revoke).await.status,
        StatusCode::NOT_FOUND,
        "revoked already"
    );
}

/// The value of the read-only secret field of a shown-once page.
pub(crate) fn secret_in(page: &Page) -> String {
    let at = page.body.find("id=\"secret\"").expect("a secret");
    let rest = &page.body[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..v + rest[v..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn an_oauth_client_is_created_edited_given_a_new_secret_and_deleted() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, _) = admin_browser(&app).await;
    let list = "/admin/oauth-clients";
    let wiki = [
        ("name", "Wiki"),
        ("type", "confidential"),
        ("redirect_uris", "https://wiki.example.com/cb\n"),
        ("grant_type", "authorization_code"),
        ("scope", "openid"),
        ("scope", "email"),
        ("alg", "RS256"),
    ];
    let mut bad = wiki.to_vec();
    bad[2] = ("redirect_uris", "https://wiki.example.com/cb#frag");
    let refused = submit(&mut b, &app, list, list, &bad).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"c-redirect-error\""),
        "{}",
        refused.body
    );

    let made = submit(&mut b, &app, list, list, &wiki).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let secret = secret_in(&made);
    assert!(secret.len() >= 40, "{secret}");
    let id = app.sql("SELECT client_id FROM oauth_clients").await[0][0].clone();
    let page = format!("{list}/{id}");
    let shown = b.get(&app, &page).await;
    assert!(shown.body.contains("Wiki") && !shown.body.contains(&secret));

    let mut edit = wiki.to_vec();
    edit[0] = ("name", "Team wiki");
    edit.push(("skip_consent", "1"));
    let done = submit(&mut b, &app, &page, &page, &edit).await;
    assert_eq!(
        done.next(),
        format!("{page}?notice=client-updated"),
        "{}",
        done.body
    );
    let key = app.api_key(&["admin"]).await;
    let client: Value = app
        .request(
            Method::GET,
            &format!("/v1/admin/oauth-clients/{id}"),
            Some(&key),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(client["name"], "Team wiki");
    assert_eq!(client["skip_consent"], true);
    assert_eq!(client["scopes"], json!(["openid", "email"]));

    let rotate = format!("{page}/secret");
    let rotated = submit(&mut b, &app, &rotate, &rotate, &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_ne!(secret_in(&rotated), secret);
    assert_eq!(audited(&app, "oauth.client_secret_rotated").await.len(), 1);

    let delete = format!("{page}/delete");
    let done = submit(&mut b, &app, &delete, &delete, &[]).await;
    assert_eq!(done.next(), format!("{list}?notice=client-deleted"));
    assert_eq!(b.get(&app, &page).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failed_mail_is_listed_and_retried() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, admin_id) = admin_browser(&app).await;
    let now = app.state.now();
    app.sql(&format!(
        "INSERT INTO outbox (id, kind, recipient, created_at, next_attempt_at, attempts,
                             last_error, failed_at)
         VALUES ('m-1', 'reset_password', 'lost@example.com', {now}, {now}, 3,
                 '550 no such user', {now})"
    ))
    .await;
    let page = b.get(&app, "/admin/mail").await;
    assert!(page.body.contains("lost@example.com") && page.body.contains("550 no such user"));
    let done = submit(&mut b, &app, "/admin/mail", "/admin/mail/m-1/retry", &[]).await;
    assert_eq!(done.next(), "/admin/mail?notice=mail-retried");
    let retried = audited(&app, "mail.retried").await;
    assert_eq!(retried, vec![(String::new(), format!("user:{admin_id}"))]);
    // Retried once: the row is no longer a failed one to retry.
    let again = submit(
        &mut b,
        &app,
        "/admin/api-keys",
        "/admin/mail/m-1/retry",
        &[],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
}

#[tokio::test]
async fn the_settings_and_providers_pages_show_no_secret() {
    let secrets = [
        "smtp-password-0f9e8d7c",
        "jwt-secret-abcdefghijklmnopqrstuvwxyz-0123456789",
        "provider-client-secret-5a4b3c",
    ];
    let extra = format!(
        "{CONSOLE}[smtp]\npassword = \"{}\"\n[jwt]\nalgorithm = \"HS256\"\nsecret = \"{}\"\n\
         [[providers]]\nid = \"corp\"\nkind = \"oidc\"\nissuer = \"https://idp.example.com\"\n\
         client_id = \"toktok\"\nclient_secret = \"{}\"\n",
        secrets[0], secrets[1], secrets[2]
    );
    let app = spawn_app_with(&extra).await;
    let (mut b, _) = admin_browser(&app).await;
    let settings = b.get(&app, "/admin/settings").await;
    assert_eq!(settings.status, StatusCode::OK);
    let providers = b.get(&app, "/admin/providers").await;
    for secret in secrets {
        assert!(
            !settings.body.contains(secret),
            "{secret} on the settings page"
        );
        assert!(
            !providers.body.contains(secret),
            "{secret} on the providers page"
        );
    }
    assert!(settings.body.contains("[redacted]"));
    assert!(settings.body.contains("HS256") && settings.body.contains("idp.example.com"));
    assert!(providers.body.contains("corp"), "{}", providers.body);
    assert!(providers.body.contains("idp.example.com"));
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_foreign_csrf_token() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, _) = admin_browser(&app).await;
    let ada = create_user(&app, "ada@example.com", "user").await;
    let id = ada["id"].as_str().unwrap();
    let key_id = {
        let made = submit(
            &mut b,
            &app,
            "/admin/api-keys",
            "/admin/api-keys",
            &[("name", "k"), ("scope", "admin")],
        )
        .await;
        assert_eq!(made.status, StatusCode::OK);
        app.sql("SELECT id FROM api_keys WHERE name = 'k'").await[0][0].clone()
    };
    let wiki = crate::oidc_flow::client(&app, crate::oidc_flow::wiki()).await;
    let client = wiki["client_id"].as_str().unwrap();
    let now = app.state.now();
    app.sql(&format!(
        "INSERT INTO outbox (id, kind, recipient, created_at, next_attempt_at, attempts, failed_at)
         VALUES ('m-1', 'reset_password', 'x@example.com', {now}, {now}, 1, {now})"
    ))
    .await;
    // Another browser's token: valid for its own cookie, not for ours.
    let mut other = Browser::new();
    let foreign = other.get(&app, "/login").await.input("csrf");
    let routes = [
        format!("/admin/users/{id}"),
        format!("/admin/users/{id}/disable"),
        format!("/admin/users/{id}/enable"),
        format!("/admin/users/{id}/delete"),
        format!("/admin/users/{id}/logout"),
        format!("/admin/users/{id}/factors"),
        format!("/admin/users/{id}/reset-link"),
        "/admin/api-keys".to_owned(),
        format!("/admin/api-keys/{key_id}/revoke"),
        "/admin/oauth-clients".to_owned(),
        format!("/admin/oauth-clients/{client}"),
        format!("/admin/oauth-clients/{client}/secret"),
        format!("/admin/oauth-clients/{client}/delete"),
        "/admin/mail/m-1/retry".to_owned(),
    ];
    let audits = app.sql_count("SELECT COUNT(*) FROM audit_events").await;
    for route in &routes {
        for token in [None, Some(foreign.as_str()), Some("")] {
            let mut form = vec![("role", "admin"), ("name", "k2"), ("scope", "admin")];
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let page = b.post(&app, route, &form).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{route} {token:?}: {}",
                page.body
            );
        }
    }
    assert_eq!(
        app.sql_count("SELECT COUNT(*) FROM audit_events").await,
        audits,
        "nothing happened"
    );
    // Every route named here is a form the console has.
    assert_eq!(routes.len(), 14);
}

#[tokio::test]
async fn no_console_page_can_be_framed() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, admin_id) = admin_browser(&app).await;
    let mut nobody = Browser::new();
    let (mut ada, _) = {
        create_user(&app, "ada@example.com", "user").await;
        password_sign_in(&app, "ada@example.com").await
    };
    let denied = ada.get(&app, "/admin/users").await;
    let mut pages = vec![denied];
    for path in [
        "/admin/users".to_owned(),
        format!("/admin/users/{admin_id}"),
        format!("/admin/users/{admin_id}/delete"),
        "/admin/audit".to_owned(),
        "/admin/api-keys".to_owned(),
        "/admin/oauth-clients".to_owned(),
        "/admin/providers".to_owned(),
        "/admin/mail".to_owned(),
        "/admin/settings".to_owned(),
    ] {
        pages.push(b.get(&app, &path).await);
    }
    for page in pages {
        assert_eq!(page.headers["x-frame-options"], "DENY");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(
            !csp.contains("script-src"),
            "no script on a console page: {csp}"
        );
        assert_eq!(page.headers["cache-control"], "no-store");
    }
    assert_eq!(
        nobody.get(&app, "/admin/users").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn script_payloads_in_user_data_come_back_escaped() {
    let app = spawn_app_with(CONSOLE).await;
    let (mut b, _) = admin_browser(&app).await;
    let ada = create_user(&app, "ada@example.com", "user").await;
    let id = ada["id"].as_str().unwrap();
    let key = app.api_key(&["admin"]).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/admin/users/{id}"),
            Some(&key),
            Some(json!({
                "name": XSS,
                "metadata": { "note": XSS },
                "app_metadata": { "plan": XSS },
            })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A session whose user agent is the payload.
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header(USER_AGENT, XSS)
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let list = b.get(&app, "/admin/users?q=ada%40example.com").await;
    let detail = b.get(&app, &format!("/admin/users/{id}")).await;
    let audit = b.get(&app, &format!("/admin/audit?user_id={id}")).await;
    for page in [&list, &detail, &audit] {
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<script"), "{}", page.body);
    }
    assert!(
        list.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        list.body
    );
    // Name, metadata, app_metadata and the session's user agent.
    let escaped = detail.body.matches("&lt;script&gt;").count();
    assert!(escaped >= 4, "{escaped}: {}", detail.body);
}
