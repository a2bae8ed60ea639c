use axum::body::to_bytes;

use super::*;

fn brand() -> BrandingConfig {
    BrandingConfig::default()
}

fn lang(locale: Locale) -> Lang {
    Lang::new(Arc::new(Catalogues::builtin().unwrap()), locale)
}

fn en() -> Lang {
    lang(Locale::En)
}

async fn html(response: Response) -> String {
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn templates_parse_and_every_file_is_listed() {
    let env = environment();
    for (name, _) in TEMPLATES {
        assert!(env.get_template(name).is_ok(), "{name} does not parse");
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/pages/templates");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            TEMPLATES.iter().any(|(listed, _)| *listed == name),
            "{name} is not in TEMPLATES"
        );
    }
}

#[tokio::test]
async fn every_page_renders_and_escapes_what_it_shows() {
    let hostile = "t\"><script>alert(1)</script>";
    let pages = [
        confirm_form(&brand(), &en(), hostile),
        reset_form(&brand(), &en(), hostile, 12, 256, Some("<b>bad</b>")),
        reset_form(&brand(), &en(), hostile, 12, 256, None),
        email_code_form(&brand(), &en(), hostile),
        render(
            &brand(),
            &en(),
            StatusCode::OK,
            "message.html",
            "<i>title</i>",
            context! { text => hostile },
        ),
    ];
    for page in pages {
        assert_ne!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = html(page).await;
        assert!(!text.contains("<script>"), "{text}");
        assert!(!text.contains("<b>bad"), "{text}");
        assert!(!text.contains("<i>title"), "{text}");
        assert!(text.contains("--primary:#2b6cb0"), "{text}");
    }
}

#[tokio::test]
async fn pages_carry_the_protective_headers() {
    let res = reset_form(&brand(), &en(), "t", 12, 256, Some("<b>bad</b>"));
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()[header::REFERRER_POLICY], "no-referrer");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("img-src"), "{csp}");
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
}

#[tokio::test]
async fn branding_names_colours_and_shows_the_logo() {
    let brand = BrandingConfig {
        name: "Acme <Sign-in>".to_owned(),
        logo: "/etc/toktok/logo.svg".into(),
        support_email: "help@example.com".to_owned(),
        primary_color: "#aa3300".to_owned(),
        ..BrandingConfig::default()
    };
    let res = message_text(&brand, &en(), StatusCode::OK, "login-title", "text");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("img-src 'self';"), "{csp}");
    let text = html(res).await;
    assert!(
        text.contains("<title>Sign in · Acme &lt;Sign-in&gt;</title>"),
        "{text}"
    );
    // Served by toktok itself: the pages load nothing from another origin.
    assert!(
        text.contains("<img src=\"/branding/logo\" alt=\"Acme &lt;Sign-in&gt;\">"),
        "{text}"
    );
    assert!(
        text.contains("<a href=\"mailto:help@example.com\">help@example.com</a>"),
        "{text}"
    );
    assert!(text.contains("--primary:#aa3300"), "{text}");
}

/// The hosted sign-in pages with every value they take (hostile where
/// free text). With `TOKTOK_PAGES_DUMP=DIR` they are also written there,
/// to look at in a browser.
#[tokio::test]
async fn hosted_pages_render_and_escape() {
    let hostile = "\"><script>alert(1)</script>";
    let pages = [
        (
            "login.html",
            "Sign in",
            context! { client_name => hostile, error => hostile, csrf => hostile, flow => "f",
            email => hostile, passkeys => true, email_code => true,
            reset_url => "/v1/auth/password/forgot", register_url => "/register",
            providers => vec![context! { name => hostile, url => "/v1/auth/providers/g/start?flow=f" },
                context! { name => "GitHub", url => "/v1/auth/providers/github/start?flow=f" }] },
        ),
        (
            "second_factor.html",
            "Two-step verification",
            context! { error => "That code is not right.", csrf => "c", flow => "f", totp => true,
            recovery => true, mfa_token => hostile },
        ),
        (
            "passkey.html",
            "Sign in with a passkey",
            context! { client_name => hostile, error => hostile, csrf => "c", flow => "f",
            options => "{\"publicKey\":{\"challenge\":\"x\"}}", passkey_flow => hostile,
            back_url => "/login" },
        ),
        (
            "email_code.html",
            "Check your email",
            context! { error => hostile, csrf => "c", flow => "f", email => hostile, back_url => "/login" },
        ),
        (
            "register.html",
            "Create an account",
            context! { client_name => hostile, error => hostile, csrf => "c", flow => "f",
            email => hostile, name => hostile, min => 12, max => 256, back_url => "/login" },
        ),
        (
            "forgot.html",
            "Forgot your password?",
            context! { error => hostile, csrf => "c", flow => "f", email => hostile, back_url => "/login" },
        ),
        (
            "consent.html",
            "Allow access?",
            context! { client_name => hostile, scopes => vec!["See your email address", hostile],
            email => "ada@example.com", csrf => "c", flow => "f" },
        ),
        (
            "logout.html",
            "Sign out",
            context! { client_name => hostile, csrf => "c", flow => "f" },
        ),
    ];
    let dump = std::env::var_os("TOKTOK_PAGES_DUMP").map(std::path::PathBuf::from);
    for (template, title, ctx) in pages {
        let script = (template == "passkey.html").then_some("void 0;");
        let res = render_with_script(
            &brand(),
            &en(),
            StatusCode::OK,
            template,
            title,
            ctx,
            script,
        );
        assert_eq!(res.status(), StatusCode::OK, "{template}");
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{template}");
        // Only the page's own script runs, by its hash.
        let hash = "script-src 'sha256-T1YEXClWF9CUhD2vRqC2ZkctVhPSMrn+MCIkJI7U02I='";
        assert_eq!(
            csp.contains(hash),
            script.is_some(),
            "{template}: {csp:?} {hash:?}"
        );
        let text = html(res).await;
        assert!(!text.contains("<script>alert"), "{template}: {text}");
        assert_eq!(text.contains("<script>"), script.is_some(), "{template}");
        if let Some(dir) = &dump {
            std::fs::write(dir.join(template), &text).unwrap();
        }
    }
}

#[tokio::test]
async fn a_value_a_template_needs_but_is_not_given_fails_loudly() {
    let res = render(
        &brand(),
        &en(),
        StatusCode::OK,
        "login.html",
        "Sign in",
        context! {},
    );
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_page_in_french_is_french() {
    let res = reset_form(&brand(), &lang(Locale::Fr), "t", 12, 256, None);
    assert_eq!(res.headers()[header::CONTENT_LANGUAGE], "fr");
    let text = html(res).await;
    assert!(text.contains("<html lang=\"fr\">"), "{text}");
    assert!(
        text.contains("<title>Choisissez un nouveau mot de passe · toktok</title>"),
        "{text}"
    );
    assert!(text.contains("Entre 12 et 256 caractères."), "{text}");
    assert!(
        text.contains("Enregistrer le nouveau mot de passe"),
        "{text}"
    );
    assert!(!text.contains("Set new password"), "{text}");
}

#[tokio::test]
async fn t_escapes_its_arguments_and_chooses_plurals() {
    let hostile = "<b>x</b>&";
    let ctx = context! { client_name => hostile, scopes => Vec::<String>::new(),
    email => hostile, csrf => "c", flow => "f" };
    let res = render(
        &brand(),
        &lang(Locale::De),
        StatusCode::OK,
        "consent.html",
        "T",
        ctx,
    );
    let text = html(res).await;
    assert!(
        text.contains("<strong>&lt;b&gt;x&lt;&#x2f;b&gt;&amp;</strong> möchte:")
            || text.contains("<strong>&lt;b&gt;x&lt;/b&gt;&amp;</strong> möchte:"),
        "{text}"
    );
    assert!(!text.contains("<b>x"), "{text}");
    for (min, rule) in [
        (1, "At least 1 character."),
        (12, "At least 12 characters."),
    ] {
        let ctx = context! { client_name => "", error => "", csrf => "c", flow => "f",
        email => "", name => "", min => min, max => 256, back_url => "/login" };
        let res = render(&brand(), &en(), StatusCode::OK, "register.html", "T", ctx);
        assert!(html(res).await.contains(rule), "{rule}");
    }
}

#[test]
fn every_key_a_template_or_handler_names_exists() {
    let catalogues = Catalogues::builtin().unwrap();
    let english = crate::i18n::builtin_arguments(Locale::En).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut keys: Vec<String> = Vec::new();
    // Templates: the first argument of every t("…").
    for (_, source) in TEMPLATES {
        for piece in source.split("t(\"").skip(1) {
            keys.extend(piece.split('"').next().map(str::to_owned));
        }
    }
    // Handlers: every literal shaped like a key of a known family.
    for file in [
        "hosted/mod.rs",
        "hosted/login.rs",
        "hosted/more.rs",
        "hosted/consent.rs",
        "hosted/logout.rs",
        "hosted/authorize.rs",
        "email.rs",
        "email_code.rs",
        "providers.rs",
        "pages/mod.rs",
    ] {
        let source = std::fs::read_to_string(root.join(file)).unwrap();
        for piece in source.split('"').skip(1).step_by(2) {
            let key_like = piece.contains('-')
                && piece
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
                && english
                    .keys()
                    .any(|k| k.split('-').next() == piece.split('-').next());
            if key_like {
                keys.push(piece.to_owned());
            }
        }
    }
    let mut seen = 0;
    for key in keys {
        seen += 1;
        assert!(english.contains_key(&key), "{key} is not in the catalogues");
    }
    assert!(seen > 80, "{seen}");
    drop(catalogues);
}

#[test]
fn every_refusal_has_a_sentence_in_every_language() {
    use crate::error::FieldError;
    let errors = [
        ApiError::InvalidCredentials,
        ApiError::AccountLocked(30),
        ApiError::RateLimited(1),
        ApiError::WeakPassword(PasswordProblem::TooShort { min: 12 }.to_string()),
        ApiError::WeakPassword(PasswordProblem::TooLong { max: 64 }.to_string()),
        ApiError::WeakPassword(PasswordProblem::Common.to_string()),
        ApiError::WeakPassword(PasswordProblem::SameAsEmail.to_string()),
        ApiError::Validation(vec![FieldError::new("email", "not an email address")]),
        ApiError::Validation(vec![FieldError::new("name", "too long")]),
        ApiError::NotFound,
        ApiError::Internal("secret cause".into()),
    ];
    for locale in Locale::ALL {
        for e in &errors {
            let text = error_text(&lang(locale), e);
            assert!(
                !text.is_empty() && !text.starts_with("error-") && !text.starts_with("problem-"),
                "{locale} {e:?}: {text}"
            );
            assert!(!text.contains("secret"), "{text}");
        }
    }
    let fr = lang(Locale::Fr);
    assert_eq!(
        error_text(&fr, &errors[3]),
        "Le mot de passe doit contenir au moins 12 caractères."
    );
    assert_eq!(
        error_text(&fr, &errors[4]),
        "Le mot de passe doit contenir au plus 64 caractères."
    );
    assert_eq!(
        error_text(&en(), &errors[2]),
        "Too many attempts. Try again in 1 second."
    );
    assert_eq!(error_text(&en(), &errors[0]), "Invalid email or password.");
}
