//! The account center (issue 21, `/account`): each action driven over real
//! HTTP like a browser without JavaScript (a cookie jar, form posts, no
//! redirect followed), on whichever store the harness runs; then the
//! security rules every page keeps: CSRF on every form, no framing,
//! escaped user data, no session no page, and nobody acting on another
//! user's sessions or passkeys.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp, PASSWORD};
use crate::oidc_flow::{authorized, client, wiki, Browser, Page, OIDC};
use crate::totp::code;

const SCRIPT: &str = "<script>alert(1)</script>";

/// A browser signed in on `/login` (no OIDC flow) as `email`: it lands on
/// `/account`.
pub(crate) async fn signed_in_browser(app: &TestApp, email: &str) -> Browser {
    let mut b = Browser::new();
    let login = b.get(app, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let done = b
        .post(
            app,
            "/login",
            &[
                ("csrf", &login.input("csrf")),
                ("flow", ""),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.next(), "/account");
    b
}

/// GETs `path` (200) and posts `form` plus its CSRF token to `action`.
async fn submit(
    b: &mut Browser,
    app: &TestApp,
    path: &str,
    action: &str,
    form: &[(&str, &str)],
) -> Page {
    let page = b.get(app, path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    let csrf = page.input("csrf");
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    b.post(app, action, &fields).await
}

/// The text of `<code id="totp-secret">` without its spaces.
fn secret_in(body: &str) -> String {
    let at = body.find("id=\"totp-secret\">").expect("the secret") + 17;
    let end = body[at..].find('<').unwrap();
    body[at..at + end].replace(' ', "")
}

/// Puts the clock in the middle of a TOTP step; returns that step.
fn mid_step(app: &TestApp) -> i64 {
    let step = app.state.now() / 30 + 1;
    app.clock.set(step * 30 + 15);
    step
}

#[tokio::test]
async fn without_a_session_every_page_goes_to_login() {
    let app = spawn_app_with("").await;
    let mut b = Browser::new();
    for path in [
        "/account",
        "/account/security",
        "/account/sessions",
        "/account/connections",
        "/account/activity",
        "/account/passkeys/new",
        "/account/totp/remove",
        "/account/sessions/end-others",
    ] {
        let page = b.get(&app, path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.next(), "/login", "{path}");
    }
}

#[tokio::test]
async fn profile_email_and_password() {
    let app = spawn_app_with("").await;
    app.signed_up("ada@example.com").await;
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    let page = b.get(&app, "/account").await;
    assert!(page.body.contains("ada@example.com"), "{}", page.body);
    assert!(page.body.contains("Not confirmed"));

    // Name: saved through the same rules as PATCH /v1/users/me.
    let done = submit(
        &mut b,
        &app,
        "/account",
        "/account/profile",
        &[("name", "Ada L.")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.next(), "/account?done=profile");
    let page = b.get(&app, &done.next()).await;
    assert!(page.body.contains("Your profile was saved."));
    assert!(page.body.contains("value=\"Ada L.\""));
    let long = "x".repeat(300);
    let refused = submit(
        &mut b,
        &app,
        "/account",
        "/account/profile",
        &[("name", &long)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .body
        .contains("class=\"field-error\" id=\"name-error\""));

    // The language: the pages follow the user's own choice.
    let refused = submit(
        &mut b,
        &app,
        "/account",
        "/account/profile",
        &[("name", "Ada L."), ("locale", "it")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"locale-error\""),
        "{}",
        refused.body
    );
    let fr = submit(
        &mut b,
        &app,
        "/account",
        "/account/profile",
        &[("name", "Ada L."), ("locale", "fr")],
    )
    .await;
    assert_eq!(fr.next(), "/account?done=profile");
    let page = b.get(&app, "/account").await;
    assert!(page.body.contains("<html lang=\"fr\">"), "{}", page.body);
    assert!(page
        .body
        .contains("<option value=\"fr\" lang=\"fr\" selected>"));
    let back = submit(
        &mut b,
        &app,
        "/account",
        "/account/profile",
        &[("name", "Ada L."), ("locale", "")],
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert!(b
        .get(&app, "/account")
        .await
        .body
        .contains("<html lang=\"en\">"));

    // Email change: the current password is asked; a link is sent.
    let wrong = submit(
        &mut b,
        &app,
        "/account",
        "/account/email",
        &[
            ("new_email", "ada2@example.com"),
            ("password", "nope nope nope"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        wrong.body.contains("id=\"email-password-error\""),
        "{}",
        wrong.body
    );
    let sent = submit(
        &mut b,
        &app,
        "/account",
        "/account/email",
        &[("new_email", "ada2@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(sent.next(), "/account?done=email");
    let kinds = app
        .sql("SELECT count(*) FROM audit_events WHERE kind = 'email.change_requested'")
        .await;
    assert_eq!(kinds[0][0], "1");

    // Password: the rules beside the field, a wrong current password
    // beside its own, then a change.
    let weak = submit(
        &mut b,
        &app,
        "/account",
        "/account/password",
        &[("current_password", PASSWORD), ("new_password", "short")],
    )
    .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body.contains("id=\"new-password-error\""),
        "{}",
        weak.body
    );
    let wrong = submit(
        &mut b,
        &app,
        "/account",
        "/account/password",
        &[
            ("current_password", "not my password at all"),
            ("new_password", "a brand new passphrase"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("id=\"current-password-error\""));
    let changed = submit(
        &mut b,
        &app,
        "/account",
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "a brand new passphrase"),
        ],
    )
    .await;
    assert_eq!(changed.next(), "/account?done=password");
    let res = app.login("ada@example.com", "a brand new passphrase").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_account_without_a_password_sets_one_under_recent_sign_in() {
    let app = spawn_app_with("").await;
    app.signed_up("ada@example.com").await;
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    app.sql("UPDATE users SET password_hash = NULL WHERE email = 'ada@example.com'")
        .await;
    // A write through the server moves the session cache on.
    app.signed_up("other@example.com").await;
    let page = b.get(&app, "/account").await;
    assert!(page.body.contains("Set password"), "{}", page.body);
    assert!(!page.body.contains("name=\"current_password\""));
    let set = submit(
        &mut b,
        &app,
        "/account",
        "/account/password",
        &[("new_password", "my very first passphrase")],
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let res = app
        .login("ada@example.com", "my very first passphrase")
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Stale and still without a password: refused as the API refuses (R).
    let mut b = signed_in_browser(&app, "other@example.com").await;
    app.sql("UPDATE users SET password_hash = NULL WHERE email = 'other@example.com'")
        .await;
    app.signed_up("third@example.com").await;
    app.clock.advance(600);
    let stale = submit(
        &mut b,
        &app,
        "/account",
        "/account/password",
        &[("new_password", "my very first passphrase")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.body);
    assert!(stale.body.contains("confirm it is you"), "{}", stale.body);
    assert!(stale.body.contains("Sign in again"));
}

/// A session at `aal` 1 of a user who enrolled TOTP elsewhere since: the
/// overview shows the reauthentication box above the email and password
/// forms, which both need it (docs/sign-in.md); the email change is
/// refused with the right password until the code is given, then works.
#[tokio::test]
async fn an_aal1_session_beside_totp_reauthenticates_before_an_email_change() {
    let app = spawn_app_with("").await;
    let tokens = app.signed_up("ada@example.com").await;
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    let (secret, _, _) = crate::totp::enrol(&app, &tokens.access).await;

    let overview = b.get(&app, "/account").await;
    let boxed = overview.body.find("class=\"reauth\"").expect("the box");
    let email_form = overview.body.find("action=\"/account/email\"").unwrap();
    assert!(boxed < email_form, "the box is above the email form");
    let refused = submit(
        &mut b,
        &app,
        "/account",
        "/account/email",
        &[("new_email", "ada2@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let step = mid_step(&app);
    let raised = submit(
        &mut b,
        &app,
        "/account",
        "/account/reauth",
        &[("next", "/account"), ("code", &code(&secret, step))],
    )
    .await;
    assert_eq!(raised.next(), "/account?done=reauth");
    let overview = b.get(&app, "/account").await;
    assert!(!overview.body.contains("class=\"reauth\""));
    let sent = submit(
        &mut b,
        &app,
        "/account",
        "/account/email",
        &[("new_email", "ada2@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(sent.next(), "/account?done=email");
}

#[tokio::test]
async fn totp_enrolment_recovery_codes_and_reauthentication() {
    let app = spawn_app_with("").await;
    app.signed_up("ada@example.com").await;
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    let step = mid_step(&app);
    let page = submit(&mut b, &app, "/account/security", "/account/totp", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<svg role=\"img\""),
        "an inline SVG QR code"
    );
    let secret = secret_in(&page.body);
    let pending = page.input("pending");
    let csrf = page.input("csrf");

    // A wrong code: the QR code and the secret again, the error beside.
    let wrong = b
        .post(
            &app,
            "/account/totp/confirm",
            &[("csrf", &csrf), ("pending", &pending), ("code", "000000")],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("id=\"code-error\""));
    assert_eq!(secret_in(&wrong.body), secret);

    let codes = b
        .post(
            &app,
            "/account/totp/confirm",
            &[
                ("csrf", &csrf),
                ("pending", &pending),
                ("code", &code(&secret, step)),
            ],
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.body);
    assert_eq!(codes.body.matches("<li>").count(), 10, "{}", codes.body);
    let security = b.get(&app, "/account/security").await;
    assert!(security.body.contains("On since"), "{}", security.body);
    assert!(security.body.contains("You have 10 unused recovery codes."));

    // The session was raised by the enrolment: a new set at once.
    let again = submit(
        &mut b,
        &app,
        "/account/security",
        "/account/recovery-codes",
        &[],
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);

    // Later, removing TOTP needs a fresh code first (R).
    app.clock.advance(600);
    let step = mid_step(&app);
    let stale = submit(
        &mut b,
        &app,
        "/account/totp/remove",
        "/account/totp/remove",
        &[],
    )
    .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.body);
    assert!(stale
        .body
        .contains("name=\"next\" value=\"&#x2f;account&#x2f;security\""));
    let bad = submit(
        &mut b,
        &app,
        "/account/security",
        "/account/reauth",
        &[("next", "/account/security"), ("code", "123456")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{}", bad.body);
    assert!(bad.body.contains("id=\"reauth-error\""));
    let ok = submit(
        &mut b,
        &app,
        "/account/security",
        "/account/reauth",
        &[
            ("next", "https://evil.example/"),
            ("code", &code(&secret, step)),
        ],
    )
    .await;
    assert_eq!(
        ok.next(),
        "/account?done=reauth",
        "an unknown next is the overview"
    );
    let removed = submit(
        &mut b,
        &app,
        "/account/totp/remove",
        "/account/totp/remove",
        &[],
    )
    .await;
    assert_eq!(removed.next(), "/account/security?done=totp-removed");
    let n = app
        .sql_count("SELECT count(*) FROM audit_events WHERE kind = 'totp.disabled'")
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn sessions_end_one_and_end_the_others_and_not_anothers() {
    let app = spawn_app_with("").await;
    app.signed_up("ada@example.com").await;
    app.signed_in("ada@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("user-agent", SCRIPT)
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    let page = b.get(&app, "/account/sessions").await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 4, "{}", page.body);
    assert!(page.body.contains("this browser"));
    assert!(!page.body.contains(SCRIPT), "the user agent is escaped");
    assert!(page
        .body
        .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));

    // End one (not this browser's), confirmed first.
    let ids: Vec<String> = app
        .sql("SELECT id FROM sessions WHERE revoked_at IS NULL ORDER BY created_at")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let first = &ids[0];
    let confirm = format!("/account/sessions/{first}/end");
    let ended = submit(&mut b, &app, &confirm, &confirm, &[]).await;
    assert_eq!(ended.next(), "/account/sessions?done=session-ended");

    // Another user can neither see nor end Ada's sessions.
    app.signed_up("eve@example.com").await;
    let mut eve = signed_in_browser(&app, "eve@example.com").await;
    let other = &ids[1];
    let path = format!("/account/sessions/{other}/end");
    assert_eq!(eve.get(&app, &path).await.status, StatusCode::NOT_FOUND);
    let refused = submit(&mut eve, &app, "/account/sessions", &path, &[]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/account/passkeys/{other}/remove"),
        format!("/account/identities/{other}/unlink"),
        format!("/account/apps/{other}/revoke"),
    ] {
        assert_eq!(
            eve.get(&app, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        let refused = submit(&mut eve, &app, "/account/sessions", &path, &[]).await;
        assert!(
            refused.status == StatusCode::NOT_FOUND,
            "{path}: {}",
            refused.status
        );
    }
    let renamed = submit(
        &mut eve,
        &app,
        "/account/security",
        &format!("/account/passkeys/{other}/rename"),
        &[("name", "mine")],
    )
    .await;
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);

    // End all the others: only this browser's is left.
    let all = submit(
        &mut b,
        &app,
        "/account/sessions/end-others",
        "/account/sessions/end-others",
        &[],
    )
    .await;
    assert_eq!(all.next(), "/account/sessions?done=sessions-ended");
    let page = b.get(&app, &all.next()).await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 1, "{}", page.body);
    assert!(page.body.contains("All your other sessions were ended."));

    // Ending this browser's own session signs it out.
    let page = b.get(&app, "/account/sessions").await;
    let at = page.body.find("/account/sessions/").unwrap();
    let end = page.body[at..].find('"').unwrap();
    let own = page.body[at..at + end].to_owned();
    let out = submit(&mut b, &app, &own, &own, &[]).await;
    assert_eq!(out.next(), "/login");
    assert_eq!(b.get(&app, "/account").await.next(), "/login");
}

#[tokio::test]
async fn a_provider_is_unlinked_but_never_the_last_way_in() {
    let app = spawn_app_with("").await;
    app.signed_up("ada@example.com").await;
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    let uid = app
        .sql("SELECT id FROM users WHERE email = 'ada@example.com'")
        .await[0][0]
        .clone();
    for (id, subject) in [
        ("11111111-0000-7000-8000-000000000001", "s1"),
        ("11111111-0000-7000-8000-000000000002", "s2"),
    ] {
        app.sql(&format!(
            "INSERT INTO identities (id, user_id, provider, subject, email, email_verified, name, created_at)
             VALUES ('{id}', '{uid}', 'up', '{subject}', 'ada@up.example', 1, '{SCRIPT}', 1700000000)"
        ))
        .await;
    }
    let page = b.get(&app, "/account/connections").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("/unlink\"").count(), 2, "{}", page.body);
    let first = "/account/identities/11111111-0000-7000-8000-000000000001/unlink";
    let done = submit(&mut b, &app, first, first, &[]).await;
    assert_eq!(done.next(), "/account/connections?done=unlinked");

    // Without a password, the last identity is the last way in: 409.
    app.sql("UPDATE users SET password_hash = NULL WHERE email = 'ada@example.com'")
        .await;
    app.signed_up("other@example.com").await;
    let last = "/account/identities/11111111-0000-7000-8000-000000000002/unlink";
    let refused = submit(&mut b, &app, last, last, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("last way to sign in"));
}

#[tokio::test]
async fn an_app_is_revoked_and_its_sessions_end() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let (params, mut b) = authorized(&app, id, "ada@example.com").await;
    assert!(params.contains_key("code"));
    let page = b.get(&app, "/account/connections").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<td data-label=\"App\">Wiki</td>"),
        "{}",
        page.body
    );
    let path = format!("/account/apps/{id}/revoke");
    let confirm = b.get(&app, &path).await;
    assert!(confirm.body.contains("Wiki will no longer have access"));
    let done = submit(&mut b, &app, &path, &path, &[]).await;
    assert_eq!(done.next(), "/account/connections?done=revoked");
    let page = b.get(&app, "/account/connections").await;
    assert!(!page.body.contains("data-label=\"App\">Wiki"));
    let n = app.sql_count("SELECT count(*) FROM oauth_consents").await;
    assert_eq!(n, 0);
    // Twice: nothing left to revoke.
    let again = submit(&mut b, &app, "/account/connections", &path, &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_security_log_shows_the_users_own_events_in_their_language() {
    let app = spawn_app_with("").await;
    app.signed_up("ada@example.com").await;
    app.signed_up("eve@example.com").await;
    let res = app.login("ada@example.com", "wrong wrong wrong").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    let page = b.get(&app, "/account/activity").await;
    assert!(page.body.contains("Account created"), "{}", page.body);
    assert!(page.body.contains("Failed sign-in attempt"));
    assert!(page.body.contains("Signed in with password"));
    assert_eq!(page.body.matches("Account created").count(), 1, "not Eve's");
    let res = reqwest::Client::new()
        .get(app.url("/account/activity"))
        .header("accept-language", "fr")
        .header(
            "cookie",
            b.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .send()
        .await
        .unwrap();
    let fr = res.text().await.unwrap();
    assert!(fr.contains("Compte créé"), "{fr}");
}

/// Every POST of the account center with a form that is complete but for
/// its CSRF token.
fn forms() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let id = "00000000-0000-7000-8000-000000000000";
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    vec![
        ("/account/profile", vec![("name", "x"), ("locale", "fr")]),
        (
            "/account/email",
            vec![("new_email", "x@example.com"), ("password", PASSWORD)],
        ),
        (
            "/account/password",
            vec![
                ("current_password", PASSWORD),
                ("new_password", "another long passphrase"),
            ],
        ),
        ("/account/reauth", vec![("password", PASSWORD)]),
        ("/account/totp", vec![]),
        ("/account/totp/confirm", vec![("code", "123456")]),
        ("/account/totp/remove", vec![]),
        ("/account/recovery-codes", vec![]),
        (
            "/account/passkeys/new",
            vec![("passkey_flow", "x"), ("credential", "{}")],
        ),
        (
            leak(format!("/account/passkeys/{id}/rename")),
            vec![("name", "x")],
        ),
        (leak(format!("/account/passkeys/{id}/remove")), vec![]),
        (leak(format!("/account/sessions/{id}/end")), vec![]),
        ("/account/sessions/end-others", vec![]),
        (leak(format!("/account/identities/{id}/unlink")), vec![]),
        ("/account/providers/up/link", vec![]),
        ("/account/providers/linked", vec![("code", "x")]),
        (leak(format!("/account/apps/{id}/revoke")), vec![]),
    ]
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_foreign_csrf_token() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    app.signed_up("eve@example.com").await;
    let mut ada = signed_in_browser(&app, "ada@example.com").await;
    let mut eve = signed_in_browser(&app, "eve@example.com").await;
    let foreign = eve.get(&app, "/account").await.input("csrf");
    let sessions_before = app
        .sql_count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL")
        .await;
    for (path, fields) in forms() {
        let missing = ada.post(&app, path, &fields).await;
        assert_eq!(
            missing.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        let mut with = vec![("csrf", foreign.as_str())];
        with.extend_from_slice(&fields);
        let forged = ada.post(&app, path, &with).await;
        assert_eq!(
            forged.status,
            StatusCode::FORBIDDEN,
            "{path} with Eve's token"
        );
        assert!(forged.body.contains("<html"), "{path}: a page");
    }
    // Nothing happened.
    assert_eq!(
        app.sql_count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL")
            .await,
        sessions_before
    );
    let page = ada.get(&app, "/account").await;
    assert!(!page.body.contains("value=\"x\""));
    let _ = eve;
}

#[tokio::test]
async fn no_page_can_be_framed_and_user_data_is_escaped() {
    let app = spawn_app_with(OIDC).await;
    let tokens = app.signed_up("ada@example.com").await;
    let res = app
        .request(
            Method::PATCH,
            "/v1/users/me",
            Some(&tokens.access),
            Some(json!({"name": SCRIPT, "metadata": {"x": SCRIPT}})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut b = signed_in_browser(&app, "ada@example.com").await;
    for path in [
        "/account",
        "/account/security",
        "/account/sessions",
        "/account/connections",
        "/account/activity",
        "/account/passkeys/new",
        "/account/totp/remove",
        "/account/sessions/end-others",
        "/account/providers/linked",
    ] {
        let page = b.get(&app, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert_eq!(page.headers["x-frame-options"], "DENY", "{path}");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        assert!(!page.body.contains(SCRIPT), "{path}: unescaped");
    }
    let page = b.get(&app, "/account").await;
    assert!(page
        .body
        .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
}
