//! The other ways in on the hosted sign-in (issue 19): a passkey, an email
//! code, registration, a forgotten password; each ends where the
//! authorization request began.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::authenticator::Authenticator;
use crate::helpers::{spawn_app_with, PASSWORD};
use crate::oidc_flow::{authorize_url, client, wiki, Browser, OIDC, REDIRECT};

/// The unescaped value of attribute `name` in `html`.
fn attribute(html: &str, name: &str) -> String {
    let at = html.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = html[at..].find('"').unwrap();
    html[at..at + end]
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn a_passkey_signs_in_on_the_hosted_page_with_its_one_script() {
    let app = spawn_app_with(OIDC).await;
    let t = app.signed_up("ada@example.com").await;
    let mut authn = Authenticator::for_config(&app.state.config);
    crate::passkeys::register(&app, &t.access, &mut authn).await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let login = b.get(&app, &start.next()).await;
    assert!(
        login.body.contains("action=\"/login/passkey\""),
        "a passkey button"
    );
    let flow = login.input("flow");
    let page = b.get(&app, &format!("/login/passkey?flow={flow}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("to continue to <strong>Wiki</strong>"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline'; form") || csp.contains("style-src 'unsafe-inline'"));
    assert!(!csp.contains("script-src 'unsafe-inline'"), "{csp}");
    let options: Value = serde_json::from_str(&attribute(&page.body, "data-options")).unwrap();
    // A credential that does not verify: the page again, 401.
    let form = |credential: &str| {
        vec![
            ("csrf", page.input("csrf")),
            ("flow", page.input("flow")),
            ("passkey_flow", page.input("passkey_flow")),
            ("credential", credential.to_owned()),
        ]
    };
    fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(a, b)| (*a, b.as_str())).collect()
    }
    let bad = b
        .post(&app, "/login/passkey", &refs(&form("{\"id\":\"x\"}")))
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{}", bad.body);
    assert!(!b.cookies.contains_key("toktok"));
    // The refused attempt used its ceremony up: a fresh page, a good answer.
    let page = b.get(&app, &format!("/login/passkey?flow={flow}")).await;
    let options2: Value = serde_json::from_str(&attribute(&page.body, "data-options")).unwrap();
    assert_ne!(options, options2, "a new challenge");
    let credential = authn.get(&options2);
    let f = vec![
        ("csrf", page.input("csrf")),
        ("flow", page.input("flow")),
        ("passkey_flow", page.input("passkey_flow")),
        ("credential", credential.to_string()),
    ];
    let done = b.post(&app, "/login/passkey", &refs(&f)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.next().starts_with("/consent?flow="));
    let sid = b.cookies["toktok"].split('.').next().unwrap().to_owned();
    let rows = app
        .sql(&format!("SELECT aal FROM sessions WHERE id = '{sid}'"))
        .await;
    assert_eq!(rows[0][0], "2", "a user-verified passkey");
}

#[tokio::test]
async fn an_email_code_signs_in_on_the_hosted_page() {
    let (app, sink) =
        crate::email::with_sink("[email_code]\nenabled = true\n[oidc]\nenabled = true\n").await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let login = b.get(&app, &start.next()).await;
    assert!(login.body.contains("formaction=\"/login/email-code\""));
    let before = crate::email_code::mails(&app, &sink).await.len();
    let (csrf, flow) = (login.input("csrf"), login.input("flow"));
    let asked = b
        .post(
            &app,
            "/login/email-code",
            &[
                ("csrf", &csrf),
                ("flow", &flow),
                ("email", "ada@example.com"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    // An unknown address gets the same page and no mail.
    let unknown = b
        .post(
            &app,
            "/login/email-code",
            &[
                ("csrf", &csrf),
                ("flow", &flow),
                ("email", "nobody@example.com"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    let all = crate::email_code::mails(&app, &sink).await;
    assert_eq!(all.len(), before + 1);
    let code = crate::email_code::code_in(all.last().unwrap());
    let form = |code: &str| {
        vec![
            ("csrf", asked.input("csrf")),
            ("flow", asked.input("flow")),
            ("email", asked.input("email")),
            ("code", code.to_owned()),
        ]
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let f = form(wrong);
    let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let again = b.post(&app, "/login/email-code/verify", &refs).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(again.body.contains("role=\"alert\""));
    let f = form(&code);
    let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let done = b.post(&app, "/login/email-code/verify", &refs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.next().starts_with("/consent?flow="));
}

#[tokio::test]
async fn registering_on_the_hosted_page_continues_the_request() {
    let app = spawn_app_with(OIDC).await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let login = b.get(&app, &start.next()).await;
    let flow = login.input("flow");
    assert!(
        login.body.contains(&format!("register?flow={flow}\"")),
        "{}",
        login.body
    );
    let page = b.get(&app, &format!("/register?flow={flow}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("to continue to <strong>Wiki</strong>"));
    let (csrf, flow) = (page.input("csrf"), page.input("flow"));
    let short = b
        .post(
            &app,
            "/register",
            &[
                ("csrf", &csrf),
                ("flow", &flow),
                ("email", "new@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    assert_eq!(short.input("email"), "new@example.com");
    let done = b
        .post(
            &app,
            "/register",
            &[
                ("csrf", &csrf),
                ("flow", &flow),
                ("email", "new@example.com"),
                ("password", PASSWORD),
                ("name", "New"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.next().starts_with("/consent?flow="));
    // The address is taken now: the form again, 409.
    let mut other = Browser::new();
    let page = other.get(&app, &format!("/register?flow={flow}")).await;
    let taken = other
        .post(
            &app,
            "/register",
            &[
                ("csrf", &page.input("csrf")),
                ("flow", &flow),
                ("email", "new@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    // Closed registration: no link, and the page says so.
    let closed = spawn_app_with(&format!("{OIDC}[accounts]\nregistration_open = false\n")).await;
    let c = client(&closed, wiki()).await;
    let mut b = Browser::new();
    let start = b
        .get(
            &closed,
            &authorize_url(c["client_id"].as_str().unwrap(), ""),
        )
        .await;
    let login = b.get(&closed, &start.next()).await;
    assert!(!login.body.contains("/register"));
    let res = b.get(&closed, "/register").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_forgot_page_answers_the_same_and_mails_known_addresses_only() {
    let (app, sink) = crate::email::with_sink("[oidc]\nenabled = true\n").await;
    app.signed_up("ada@example.com").await;
    let before = crate::email_code::mails(&app, &sink).await.len();
    let mut b = Browser::new();
    let page = b.get(&app, "/login/forgot").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.input("csrf");
    let mut bodies = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let res = b
            .post(
                &app,
                "/login/forgot",
                &[("csrf", &csrf), ("flow", ""), ("email", email)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        bodies.push(res.body);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(
        crate::email_code::mails(&app, &sink).await.len(),
        before + 1
    );
    let res = b
        .post(
            &app,
            "/login/forgot",
            &[("csrf", "x"), ("email", "ada@example.com")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_code_for_one_request_never_goes_to_another_redirect() {
    // The flow is sealed: swapping its redirect (or anything) breaks it.
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let mut body = wiki();
    body["redirect_uris"] = json!([REDIRECT, "https://wiki.example.com/other"]);
    let c = client(&app, body).await;
    let id = c["client_id"].as_str().unwrap();
    let (p, _) = crate::oidc_flow::authorized(&app, id, "ada@example.com").await;
    assert!(p.contains_key("code"));
    let mut b = Browser::new();
    let start = b.get(&app, &authorize_url(id, "")).await;
    let sealed = start.next().trim_start_matches("/login?flow=").to_owned();
    let (payload, mac) = sealed.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let text = String::from_utf8(engine.decode(payload).unwrap()).unwrap();
    let changed = text.replace("oauth/callback", "other");
    let forged = format!("{}.{mac}", engine.encode(changed));
    let page = b.get(&app, &format!("/login?flow={forged}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}
