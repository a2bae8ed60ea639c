//! Languages (issue 21): the hosted pages follow `ui_locales`, then
//! `Accept-Language`, then `[branding] default_locale`; problem titles
//! follow `Accept-Language` and keep their code; `branding.messages_dir`
//! overrides messages, and a bad override stops the start with its file
//! and line.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app_with, test_config};
use crate::oidc_flow::{authorize_url, client, wiki, Browser, OIDC};

async fn page(app: &crate::helpers::TestApp, path: &str, language: Option<&str>) -> String {
    let mut request = reqwest::Client::new().get(app.url(path));
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    let res = request.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn a_page_speaks_the_browsers_language() {
    let app = spawn_app_with(OIDC).await;
    let fr = page(&app, "/login", Some("fr-CA,fr;q=0.9,en;q=0.5")).await;
    assert!(fr.contains("<html lang=\"fr\">"), "{fr}");
    assert!(fr.contains("<title>Connexion · toktok</title>"), "{fr}");
    assert!(fr.contains("Mot de passe oublié ?"), "{fr}");
    let de = page(&app, "/login", Some("it, de;q=0.8")).await;
    assert!(
        de.contains("<html lang=\"de\">") && de.contains("Passwort vergessen?"),
        "{de}"
    );
    let es = page(&app, "/logout", Some("es")).await;
    assert!(es.contains("¿Cerrar la sesión de toktok?"), "{es}");
    // No header, or none supported: the default.
    let en = page(&app, "/login", None).await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Forgot your password?"));
    let en = page(&app, "/login", Some("it")).await;
    assert!(en.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn default_locale_applies_when_nothing_else_does() {
    let app = spawn_app_with("[branding]\ndefault_locale = \"es\"\n").await;
    let es = page(&app, "/logout", None).await;
    assert!(es.contains("<html lang=\"es\">"), "{es}");
    let de = page(&app, "/logout", Some("de")).await;
    assert!(de.contains("<html lang=\"de\">"), "{de}");
}

#[tokio::test]
async fn ui_locales_carries_through_the_sign_in() {
    let app = spawn_app_with(OIDC).await;
    app.signed_up("ada@example.com").await;
    let c = client(&app, wiki()).await;
    let id = c["client_id"].as_str().unwrap();
    let mut b = Browser::new();
    let start = b
        .get(&app, &authorize_url(id, "&ui_locales=it%20de-AT%20fr"))
        .await;
    let login = b.get(&app, &start.next()).await;
    assert!(login.body.contains("<html lang=\"de\">"), "{}", login.body);
    assert!(
        login
            .body
            .contains("um mit <strong>Wiki</strong> fortzufahren"),
        "{}",
        login.body
    );
    // A wrong password: the form again, its error in German too.
    let again = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &login.input("csrf")),
                ("flow", &login.input("flow")),
                ("email", "ada@example.com"),
                ("password", "not the password at all"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(
        again
            .body
            .contains("E-Mail-Adresse oder Passwort ist falsch."),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_problem_title_follows_accept_language_and_keeps_its_code() {
    let app = spawn_app_with("").await;
    let get = |language: Option<&'static str>| {
        let mut request = reqwest::Client::new().get(app.url("/v1/users/me"));
        if let Some(language) = language {
            request = request.header("accept-language", language);
        }
        async move {
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            res.json::<Value>().await.unwrap()
        }
    };
    let en = get(None).await;
    let de = get(Some("de")).await;
    assert_eq!(en["title"], "Unauthenticated");
    assert_eq!(de["title"], "Nicht angemeldet");
    assert_eq!(de["code"], en["code"]);
    assert_eq!(de["detail"], en["detail"]);
    assert_eq!(get(Some("es-MX")).await["title"], "No autenticado");
    assert_eq!(get(Some("en, fr;q=0.5")).await["title"], "Unauthenticated");
}

#[tokio::test]
async fn messages_dir_overrides_a_message() {
    let messages = tempfile::tempdir().unwrap();
    std::fs::create_dir(messages.path().join("fr")).unwrap();
    std::fs::write(
        messages.path().join("fr/acme.ftl"),
        "login-title = Connexion à Acme\n",
    )
    .unwrap();
    let app = spawn_app_with(&format!(
        "[branding]\nmessages_dir = {:?}\n",
        messages.path().to_string_lossy()
    ))
    .await;
    let fr = page(&app, "/login", Some("fr")).await;
    assert!(fr.contains("<h1>Connexion à Acme</h1>"), "{fr}");
    assert!(fr.contains("Mot de passe oublié ?"), "the rest stays: {fr}");
    let en = page(&app, "/login", Some("en")).await;
    assert!(en.contains("<h1>Sign in</h1>"), "{en}");
}

#[tokio::test]
async fn a_bad_override_stops_the_start_with_its_file_and_line() {
    let messages = tempfile::tempdir().unwrap();
    std::fs::create_dir(messages.path().join("de")).unwrap();
    let file = messages.path().join("de/acme.ftl");
    std::fs::write(
        &file,
        "login-title = Willkommen\nlogin-titel = Tippfehler\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(
        dir.path(),
        &format!(
            "[branding]\nmessages_dir = {:?}\n",
            messages.path().to_string_lossy()
        ),
    );
    let e = format!("{:#}", toktok::App::build(config).await.err().unwrap());
    assert!(
        e.contains(&format!(
            "{}:2: login-titel is not a message",
            file.display()
        )),
        "{e}"
    );
}

/// `[branding] logo` is a file toktok serves itself, so pages load nothing
/// from another origin; an SVG opened on its own cannot run script.
#[tokio::test]
async fn the_logo_is_served_from_toktoks_own_origin() {
    let files = tempfile::tempdir().unwrap();
    let logo = files.path().join("logo.svg");
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\"/>";
    std::fs::write(&logo, svg).unwrap();
    let app = spawn_app_with(&format!(
        "[branding]\nlogo = {:?}\nsupport_email = \"help@example.com\"\n",
        logo.to_string_lossy()
    ))
    .await;
    let res = reqwest::get(app.url("/branding/logo")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(res.text().await.unwrap(), svg);
    let res = reqwest::get(app.url("/logout")).await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("img-src 'self';"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(html.contains("<img src=\"/branding/logo\""), "{html}");
    assert!(html.contains("mailto:help@example.com"), "{html}");

    // Without a logo there is nothing to serve, and no image source.
    let plain = spawn_app_with("").await;
    let res = reqwest::get(plain.url("/branding/logo")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_missing_logo_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.png");
    let config = test_config(
        dir.path(),
        &format!("[branding]\nlogo = {:?}\n", missing.to_string_lossy()),
    );
    let e = format!("{:#}", toktok::App::build(config).await.err().unwrap());
    assert!(
        e.contains(&format!("branding.logo: cannot read {}", missing.display())),
        "{e}"
    );
}
