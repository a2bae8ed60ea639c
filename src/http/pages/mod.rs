//! The HTML pages toktok serves itself: the landing pages of emailed links
//! and (issue 19) the hosted sign-in, for deployments without their own
//! front end.
//!
//! Pages are template files (`templates/*.html`, compiled into the binary)
//! rendered by minijinja with HTML auto-escaping and strict undefined
//! variables: a value is never pasted into markup unescaped, and a template
//! naming a value its handler did not pass fails its test instead of
//! rendering blank. Every page extends `base.html`, which applies
//! `[branding]`.
//!
//! Plain HTML forms that work without JavaScript, no external assets (the
//! branding logo aside), and headers that keep a token in the URL from
//! leaking and the page from being framed: `Referrer-Policy: no-referrer`
//! (E5), a strict CSP with `frame-ancestors 'none'`, `X-Frame-Options:
//! DENY`, `Cache-Control: no-store`.

use std::sync::{Arc, OnceLock};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use minijinja::value::Kwargs;
use minijinja::{context, AutoEscape, Environment, UndefinedBehavior, Value};

use crate::app::AppState;
use crate::config::BrandingConfig;
use crate::domain::password::PasswordProblem;
use crate::error::ApiError;
use crate::i18n::{self, Arg, Catalogues, Locale};
use crate::oidc::sealed::Flow;

/// The templates, by name; each is a file next to this one.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("console.html", include_str!("templates/console.html")),
    ("message.html", include_str!("templates/message.html")),
    (
        "confirm_email.html",
        include_str!("templates/confirm_email.html"),
    ),
    (
        "reset_password.html",
        include_str!("templates/reset_password.html"),
    ),
    (
        "email_code_link.html",
        include_str!("templates/email_code_link.html"),
    ),
    // The hosted sign-in of the OpenID provider (issue 19, `http::hosted`).
    ("login.html", include_str!("templates/login.html")),
    ("passkey.html", include_str!("templates/passkey.html")),
    ("email_code.html", include_str!("templates/email_code.html")),
    ("register.html", include_str!("templates/register.html")),
    ("forgot.html", include_str!("templates/forgot.html")),
    (
        "second_factor.html",
        include_str!("templates/second_factor.html"),
    ),
    ("consent.html", include_str!("templates/consent.html")),
    ("logout.html", include_str!("templates/logout.html")),
    // The admin console (issue 21, `http::console`).
    (
        "admin_denied.html",
        include_str!("templates/admin_denied.html"),
    ),
    (
        "admin_confirm.html",
        include_str!("templates/admin_confirm.html"),
    ),
    (
        "admin_secret.html",
        include_str!("templates/admin_secret.html"),
    ),
    (
        "admin_users.html",
        include_str!("templates/admin_users.html"),
    ),
    ("admin_user.html", include_str!("templates/admin_user.html")),
    (
        "admin_events.html",
        include_str!("templates/admin_events.html"),
    ),
    (
        "admin_audit.html",
        include_str!("templates/admin_audit.html"),
    ),
    ("admin_keys.html", include_str!("templates/admin_keys.html")),
    (
        "admin_webhooks.html",
        include_str!("templates/admin_webhooks.html"),
    ),
    (
        "admin_webhook.html",
        include_str!("templates/admin_webhook.html"),
    ),
    (
        "admin_client_form.html",
        include_str!("templates/admin_client_form.html"),
    ),
    (
        "admin_clients.html",
        include_str!("templates/admin_clients.html"),
    ),
    (
        "admin_client.html",
        include_str!("templates/admin_client.html"),
    ),
    (
        "admin_providers.html",
        include_str!("templates/admin_providers.html"),
    ),
    ("admin_mail.html", include_str!("templates/admin_mail.html")),
    (
        "admin_settings.html",
        include_str!("templates/admin_settings.html"),
    ),
    // The account center (issue 21, `http::account`).
    (
        "account_base.html",
        include_str!("templates/account_base.html"),
    ),
    (
        "account_reauth_box.html",
        include_str!("templates/account_reauth_box.html"),
    ),
    (
        "account_reauth.html",
        include_str!("templates/account_reauth.html"),
    ),
    (
        "account_confirm.html",
        include_str!("templates/account_confirm.html"),
    ),
    (
        "account_overview.html",
        include_str!("templates/account_overview.html"),
    ),
    (
        "account_security.html",
        include_str!("templates/account_security.html"),
    ),
    (
        "account_totp.html",
        include_str!("templates/account_totp.html"),
    ),
    (
        "account_codes.html",
        include_str!("templates/account_codes.html"),
    ),
    (
        "account_passkey.html",
        include_str!("templates/account_passkey.html"),
    ),
    (
        "account_sessions.html",
        include_str!("templates/account_sessions.html"),
    ),
    (
        "account_connections.html",
        include_str!("templates/account_connections.html"),
    ),
    (
        "account_link.html",
        include_str!("templates/account_link.html"),
    ),
    (
        "account_linked.html",
        include_str!("templates/account_linked.html"),
    ),
    (
        "account_activity.html",
        include_str!("templates/account_activity.html"),
    ),
];

/// The parsed templates, built on first use.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; `templates_parse` below
            // proves each one parses.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a page template does not parse");
            }
        }
        env
    })
}

/// The page's content security policy: nothing but inline style, forms to
/// this origin, no framing; images from this origin when there is a
/// branding logo (`/branding/logo`); and the one inline script of a page
/// that has one, by its hash.
fn csp(brand: &BrandingConfig, script: Option<&str>) -> String {
    let img = if brand.logo.as_os_str().is_empty() {
        ""
    } else {
        "img-src 'self'; "
    };
    let script = script
        .map(|js| {
            let digest = ring::digest::digest(&ring::digest::SHA256, js.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
            format!("script-src 'sha256-{b64}'; ")
        })
        .unwrap_or_default();
    format!(
        "default-src 'none'; {img}{script}style-src 'unsafe-inline'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The language of one page: the catalogues and the locale negotiated
/// for its request. Cheap to clone (the catalogues are shared).
#[derive(Clone)]
pub struct Lang {
    catalogues: Arc<Catalogues>,
    pub locale: Locale,
}

impl Lang {
    pub fn new(catalogues: Arc<Catalogues>, locale: Locale) -> Lang {
        Lang { catalogues, locale }
    }

    /// This language once the page knows who is signed in: their own
    /// `locale`, when they chose one, comes before anything the request
    /// says (`crate::i18n::negotiate`'s order), so a page whose language
    /// was negotiated before the user was known switches to it.
    pub fn for_user(self, user_locale: Option<&str>) -> Lang {
        match user_locale.and_then(Locale::from_tag) {
            Some(locale) => Lang { locale, ..self },
            None => self,
        }
    }

    /// The plain text of `key` (a title, a one-line message): the page
    /// escapes it like any other value.
    pub fn text(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.catalogues.text(self.locale, key, args)
    }

    /// The template function `t("key", name=value, …)`: the message in this
    /// locale as markup, its text trusted (the built-in catalogues and the
    /// operator's overrides) and every text argument HTML-escaped; a number
    /// stays a number, so it can choose a plural form.
    fn template_function(&self) -> Value {
        let lang = self.clone();
        Value::from_function(
            move |key: &str, kwargs: Kwargs| -> Result<Value, minijinja::Error> {
                let mut args: Vec<(&str, Arg<'_>)> = Vec::new();
                for name in kwargs.args() {
                    let value: Value = kwargs.get(name)?;
                    let arg = match value.as_i64() {
                        Some(n) if value.kind() == minijinja::value::ValueKind::Number => {
                            Arg::Number(n)
                        }
                        _ => Arg::from(escape_html(&value.to_string())),
                    };
                    args.push((name, arg));
                }
                kwargs.assert_all_used()?;
                Ok(Value::from_safe_string(lang.text(key, &args)))
            },
        )
    }
}

/// `text` with the five HTML metacharacters escaped (for `t()` arguments).
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The language of a page answering a request with `headers`, in the
/// contract's order (`crate::i18n::negotiate`): the signed-in user's own
/// `locale` (`UserRecord::locale`; `None` on a page that does not know
/// the user, or see [`Lang::for_user`] once it does), the authorization
/// request's `ui_locales` when the page belongs to a flow, the browser's
/// `Accept-Language`, and `[branding] default_locale`.
pub fn lang(
    state: &AppState,
    headers: &HeaderMap,
    user_locale: Option<&str>,
    flow: Option<&Flow>,
) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let ui_locales = flow.and_then(|f| f.request.ui_locales.as_deref());
    let locale = i18n::negotiate(
        user_locale,
        ui_locales,
        accept,
        state.config.branding.default_locale,
    );
    Lang::new(state.catalogues.clone(), locale)
}

/// Renders `template` with `ctx` (plus `brand`, `lang`, `title` and the
/// function `t`) into a response with the protective headers. A render
/// failure (a bug: every template is rendered by the tests) is a plain 500
/// page.
pub fn render(
    brand: &BrandingConfig,
    lang: &Lang,
    status: StatusCode,
    template: &str,
    title: &str,
    ctx: Value,
) -> Response {
    render_with_script(brand, lang, status, template, title, ctx, None)
}

/// [`render`] for a page with one inline script (given to the template as
/// `script`, and allowed by the CSP by its SHA-256 alone).
pub fn render_with_script(
    brand: &BrandingConfig,
    lang: &Lang,
    status: StatusCode,
    template: &str,
    title: &str,
    ctx: Value,
    script: Option<&'static str>,
) -> Response {
    let brand_ctx = context! {
        name => &brand.name,
        logo => !brand.logo.as_os_str().is_empty(),
        support_email => &brand.support_email,
        primary_color => &brand.primary_color,
    };
    let full = context! {
        brand => brand_ctx,
        lang => lang.locale.as_str(),
        t => lang.template_function(),
        title => title,
        script => script,
        ..ctx
    };
    let rendered = environment()
        .get_template(template)
        .and_then(|t| t.render(full));
    let (status, html) = match rendered {
        Ok(html) => (status, html),
        Err(e) => {
            tracing::error!(template, error = %e, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "<!doctype html><html lang=\"{}\"><title>Error</title><p>{}</p>",
                    lang.locale,
                    escape_html(&lang.text("page-fallback-error", &[]))
                ),
            )
        }
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(value) = HeaderValue::from_str(&csp(brand, script)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(lang.locale.as_str()) {
        headers.insert(header::CONTENT_LANGUAGE, value);
    }
    response
}

/// The confirm-email landing page: a button that POSTs the token (a GET
/// never consumes it: mail scanners pre-fetch links).
pub fn confirm_form(brand: &BrandingConfig, lang: &Lang, token: &str) -> Response {
    render(
        brand,
        lang,
        StatusCode::OK,
        "confirm_email.html",
        &lang.text("confirm-title", &[]),
        context! { token },
    )
}

/// The new-password form of a reset link, with the rules and, after a
/// failed attempt, the server's message (and 422).
pub fn reset_form(
    brand: &BrandingConfig,
    lang: &Lang,
    token: &str,
    min: usize,
    max: usize,
    error: Option<&str>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        brand,
        lang,
        status,
        "reset_password.html",
        &lang.text("reset-title", &[]),
        context! { token, min, max, error },
    )
}

/// The email-code link's page: a button that POSTs the token.
pub fn email_code_form(brand: &BrandingConfig, lang: &Lang, token: &str) -> Response {
    render(
        brand,
        lang,
        StatusCode::OK,
        "email_code_link.html",
        &lang.text("email-code-link-title", &[]),
        context! { token },
    )
}

/// A one-line outcome page: its title and text are catalogue keys.
pub fn message(
    brand: &BrandingConfig,
    lang: &Lang,
    status: StatusCode,
    title_key: &str,
    text_key: &str,
) -> Response {
    let text = lang.text(text_key, &[]);
    message_text(brand, lang, status, title_key, &text)
}

/// [`message`] with a text already made (an error's sentence, a message
/// with arguments).
pub fn message_text(
    brand: &BrandingConfig,
    lang: &Lang,
    status: StatusCode,
    title_key: &str,
    text: &str,
) -> Response {
    let title = lang.text(title_key, &[]);
    render(
        brand,
        lang,
        status,
        "message.html",
        &title,
        context! { text },
    )
}

/// What a page says about a refusal, in the page's language: a sentence
/// for those a person meets on the sign-in pages, the problem's title
/// for the others, and no more than "something went wrong" for a server
/// fault (its cause is in the log).
pub fn error_text(lang: &Lang, e: &ApiError) -> String {
    use ApiError::*;
    let seconds = |s: &u64| [("seconds", Arg::from(*s))];
    match e {
        InvalidCredentials | WrongPassword => lang.text("error-invalid-credentials", &[]),
        InvalidLinkToken | ChallengeNotFound | ControlMismatch | InvalidToken | TokenExpired
        | TokenReused => lang.text("error-invalid-link", &[]),
        EmailNotConfirmed => lang.text("error-email-not-confirmed", &[]),
        EmailTaken => lang.text("error-email-taken", &[]),
        Validation(errors) if errors.iter().all(|f| f.field == "email") => {
            lang.text("error-invalid-email", &[])
        }
        Validation(errors) => {
            let fields: Vec<&str> = errors.iter().map(|f| f.field.as_str()).collect();
            lang.text("error-validation", &[("fields", fields.join(", ").into())])
        }
        WeakPassword(reason) => weak_password(lang, reason),
        RegistrationClosed => lang.text("error-registration-closed", &[]),
        FeatureDisabled => lang.text("error-feature-disabled", &[]),
        Forbidden | SecondFactorRequired | AlreadyAuthenticated | ReauthenticationRequired => {
            lang.text("error-not-allowed", &[])
        }
        RateLimited(s) => lang.text("error-retry-after", &seconds(s)),
        AccountLocked(s) => lang.text("error-account-locked", &seconds(s)),
        Throttled(s) => lang.text("error-throttled", &seconds(s)),
        Overloaded(s) => lang.text("error-busy", &seconds(s)),
        LinkRequired => lang.text("error-link-required", &[]),
        ProviderUnavailable => lang.text("error-provider-unavailable", &[]),
        StorageUnavailable | HookFailed | Internal(_) => lang.text("error-server", &[]),
        MalformedBody(_)
        | InvalidEncryption
        | EncryptionRequired
        | AnonymousTokenRequired
        | Unauthenticated
        | Conflict(_)
        | NotFound
        | BodyTooLarge(_)
        | UnsupportedMediaType => {
            let (_, code, _) = e.parts();
            lang.text(&format!("problem-{code}"), &[])
        }
    }
}

/// The sentence for a password the policy refused. The reason travels as
/// [`PasswordProblem`]'s English text; matched back to its kind here (the
/// length from its digits), so the page can say it in its language.
fn weak_password(lang: &Lang, reason: &str) -> String {
    let digits: String = reason.chars().filter(char::is_ascii_digit).collect();
    let n: usize = digits.parse().unwrap_or(0);
    if reason == PasswordProblem::Common.to_string() {
        lang.text("error-password-common", &[])
    } else if reason == PasswordProblem::SameAsEmail.to_string() {
        lang.text("error-password-email", &[])
    } else if reason == (PasswordProblem::TooLong { max: n }).to_string() {
        lang.text("error-password-long", &[("max", n.into())])
    } else if reason == (PasswordProblem::TooShort { min: n }).to_string() {
        lang.text("error-password-short", &[("min", n.into())])
    } else {
        lang.text("problem-weak_password", &[])
    }
}

#[cfg(test)]
mod tests;
