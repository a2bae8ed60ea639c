//! The other ways in on the hosted sign-in: a passkey, an email code,
//! creating an account, and the forgotten-password link.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{context, Value};
use serde::Deserialize;
use utoipa::ToSchema;

use super::login::{login_page, FlowQuery, LoginPage};
use super::{checked_form, csrf_refused, error_page, open_flow, signed_in, with_csrf, PageForm};
use crate::accounts::email_code::{self, Proof};
use crate::accounts::signin::SignInAnswer;
use crate::accounts::{passkeys, Registered, Registration, RequestMeta};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::browser;
use crate::http::extract::Meta;
use crate::http::pages::{self, Lang};
use crate::oidc::code::with_query;
use crate::oidc::sealed::Flow;

/// The passkey page's one script: asks the authenticator, posts the answer.
const PASSKEY_JS: &str = include_str!("passkey.js");

/// `path`, keeping the flow.
fn keep_flow(path: &str, sealed: &str) -> String {
    if sealed.is_empty() {
        path.to_owned()
    } else {
        with_query(path, &[("flow", sealed)])
    }
}

/// A page with a form: which template, its title's key, the flow it
/// carries, what else it shows, and its script if it has one.
struct FormPage<'a> {
    template: &'a str,
    title: &'a str,
    sealed: &'a str,
    ctx: Value,
    script: Option<&'static str>,
}

/// Renders a [`FormPage`] with a CSRF token and the flow's client name.
async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    page: FormPage<'_>,
) -> Response {
    let FormPage {
        template,
        title,
        sealed,
        ctx,
        script,
    } = page;
    let flow = Flow::open(&state.pages_key, sealed, state.now());
    let lang = pages::lang(state, headers, None, flow.as_ref());
    let csrf = match browser::csrf(state, headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(state, &lang, &e),
    };
    let ctx = context! {
        client_name => super::login::client_name(state, flow.as_ref()).await,
        csrf => &csrf.token,
        flow => sealed,
        back_url => keep_flow("/login", sealed),
        ..ctx
    };
    let title = lang.text(title, &[]);
    let response = pages::render_with_script(
        &state.config.branding,
        &lang,
        status,
        template,
        &title,
        ctx,
        script,
    );
    let back = flow.as_ref().map(|f| f.request.redirect_uri.as_str());
    with_csrf(super::allow_redirect_to(response, back), csrf)
}

/// A first factor's answer on a page: signed in, the second-factor form,
/// a server fault's page; or the client's error, for the caller to show
/// its form again with.
async fn answered(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
    sealed: &str,
    flow: Option<&Flow>,
    answer: Result<SignInAnswer, ApiError>,
    meta: &RequestMeta,
) -> Result<Response, ApiError> {
    Ok(match answer {
        Ok(SignInAnswer::Tokens(tokens)) => signed_in(state, lang, &tokens, flow, meta).await,
        Ok(SignInAnswer::MfaRequired(step)) => {
            super::login::second_factor_page(state, headers, sealed, &step, None, StatusCode::OK)
        }
        Err(e) if e.parts().0.is_server_error() => error_page(state, lang, &e),
        Err(e) => return Err(e),
    })
}

#[utoipa::path(get, path = "/login/passkey", tag = "oidc",
    summary = "Sign in with a passkey (hosted page; needs JavaScript)",
    params(FlowQuery),
    responses(
        (status = 200, description = "The passkey page.", content_type = "text/html", body = String),
        (status = 400, description = "The flow expired or was changed.", content_type = "text/html", body = String),
        (status = 404, description = "Passkeys are off.", content_type = "text/html", body = String),
    ))]
pub async fn passkey_page(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    if let Err(page) = open_flow(&state, &lang, &query.flow) {
        return *page;
    }
    passkey_form(&state, &headers, &meta, &query.flow, None, StatusCode::OK).await
}

async fn passkey_form(
    state: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
    sealed: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let options = match passkeys::sign_in_options(state, meta).await {
        Ok(options) => options,
        Err(e) => {
            let flow = Flow::open(&state.pages_key, sealed, state.now());
            let lang = pages::lang(state, headers, None, flow.as_ref());
            return error_page(state, &lang, &e);
        }
    };
    let json = serde_json::to_string(&options.options).unwrap_or_default();
    let ctx = context! {
        error,
        options => json,
        passkey_flow => options.flow_id,
    };
    let page = FormPage {
        template: "passkey.html",
        title: "passkey-title",
        sealed,
        ctx,
        script: Some(PASSKEY_JS),
    };
    form_page(state, headers, status, page).await
}

/// The passkey page's form, filled by its script.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasskeyForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    /// The passkey ceremony's `flow_id`.
    pub passkey_flow: String,
    /// The credential's JSON (`PublicKeyCredential.toJSON()`).
    pub credential: String,
}

#[utoipa::path(post, path = "/login/passkey", tag = "oidc",
    summary = "Finish a passkey sign-in (hosted page)",
    request_body(content = PasskeyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to consent or the application, or without one to `/account`."),
        (status = 400, description = "Form or flow not usable.", content_type = "text/html", body = String),
        (status = 401, description = "The passkey was refused (the page again).", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
    ))]
pub async fn passkey_submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<PasskeyForm>,
) -> Response {
    let (flow, lang) = match checked_form(&state, &headers, &form.csrf, &form.flow) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    let answer = match serde_json::from_str(&form.credential) {
        Ok(credential) => passkeys::sign_in(&state, &form.passkey_flow, credential, &meta).await,
        Err(_) => Err(ApiError::InvalidCredentials),
    };
    match answered(
        &state,
        &lang,
        &headers,
        &form.flow,
        flow.as_ref(),
        answer,
        &meta,
    )
    .await
    {
        Ok(page) => page,
        Err(e) => {
            let (status, _, _) = e.parts();
            let error = Some(pages::error_text(&lang, &e));
            passkey_form(&state, &headers, &meta, &form.flow, error, status).await
        }
    }
}

/// The sign-in form, sent to ask for an email code instead.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailCodeRequestForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    /// The sign-in form's other fields (its password) are ignored.
    pub email: String,
}

#[utoipa::path(post, path = "/login/email-code", tag = "oidc",
    summary = "Email a sign-in code (hosted page)",
    request_body(content = EmailCodeRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The code form (the same page whatever the address).", content_type = "text/html", body = String),
        (status = 400, description = "Form or flow not usable.", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
        (status = 404, description = "Email codes are off.", content_type = "text/html", body = String),
        (status = 422, description = "Not an email address (the sign-in form again).", content_type = "text/html", body = String),
        (status = 429, description = "Too many requests.", content_type = "text/html", body = String),
    ))]
pub async fn email_code_request(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<EmailCodeRequestForm>,
) -> Response {
    let (flow, lang) = match checked_form(&state, &headers, &form.csrf, &form.flow) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    if let Err(e) = email_code::require_enabled(&state) {
        return error_page(&state, &lang, &e);
    }
    let meta = meta.in_language(lang.locale);
    // Signing up by code is the registration form's job: known addresses only.
    if let Err(e) = email_code::request_code(&state, &form.email, false, &meta).await {
        if e.parts().0.is_server_error() {
            return error_page(&state, &lang, &e);
        }
        let page = LoginPage {
            sealed: &form.flow,
            flow: flow.as_ref(),
            email: &form.email,
            error: Some(pages::error_text(&lang, &e)),
            status: e.parts().0,
        };
        return login_page(&state, &headers, page).await;
    }
    email_code_form(
        &state,
        &headers,
        &form.flow,
        &form.email,
        None,
        StatusCode::OK,
    )
    .await
}

async fn email_code_form(
    state: &AppState,
    headers: &HeaderMap,
    sealed: &str,
    email: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let ctx = context! { email, error };
    form_page(
        state,
        headers,
        status,
        FormPage {
            template: "email_code.html",
            title: "email-code-title",
            sealed,
            ctx,
            script: None,
        },
    )
    .await
}

/// The email-code form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailCodeForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    pub email: String,
    pub code: String,
}

#[utoipa::path(post, path = "/login/email-code/verify", tag = "oidc",
    summary = "Sign in with an emailed code (hosted page)",
    request_body(content = EmailCodeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to consent or the application, or without one to `/account`."),
        (status = 200, description = "The second-factor step (signed in without an application: 303 to `/account`).", content_type = "text/html", body = String),
        (status = 400, description = "Wrong or used code (the form again), or form or flow not usable.", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
        (status = 404, description = "Email codes are off.", content_type = "text/html", body = String),
        (status = 429, description = "Too many attempts.", content_type = "text/html", body = String),
    ))]
pub async fn email_code_verify(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<EmailCodeForm>,
) -> Response {
    let (flow, lang) = match checked_form(&state, &headers, &form.csrf, &form.flow) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    let proof = Proof::Code {
        email: form.email.clone(),
        code: form.code.trim().to_owned(),
    };
    let answer = email_code::verify(&state, proof, &meta).await;
    match answered(
        &state,
        &lang,
        &headers,
        &form.flow,
        flow.as_ref(),
        answer,
        &meta,
    )
    .await
    {
        Ok(page) => page,
        Err(e) => {
            let (status, _, _) = e.parts();
            let error = Some(pages::error_text(&lang, &e));
            email_code_form(&state, &headers, &form.flow, &form.email, error, status).await
        }
    }
}

async fn register_form(
    state: &AppState,
    headers: &HeaderMap,
    sealed: &str,
    email: &str,
    name: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let policy = &state.config.password;
    let ctx = context! {
        email,
        name,
        error,
        min => policy.min_length,
        max => policy.max_length,
    };
    form_page(
        state,
        headers,
        status,
        FormPage {
            template: "register.html",
            title: "register-title",
            sealed,
            ctx,
            script: None,
        },
    )
    .await
}

#[utoipa::path(get, path = "/register", tag = "oidc",
    summary = "Hosted registration page",
    params(FlowQuery),
    responses(
        (status = 200, description = "The registration form.", content_type = "text/html", body = String),
        (status = 400, description = "The flow expired or was changed.", content_type = "text/html", body = String),
        (status = 403, description = "Registration is closed.", content_type = "text/html", body = String),
    ))]
pub async fn register_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    let flow = match open_flow(&state, &lang, &query.flow) {
        Ok(flow) => flow,
        Err(page) => return *page,
    };
    if !state.config.accounts.registration_open {
        let lang = pages::lang(&state, &headers, None, flow.as_ref());
        return error_page(&state, &lang, &ApiError::RegistrationClosed);
    }
    register_form(&state, &headers, &query.flow, "", "", None, StatusCode::OK).await
}

/// The registration form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub name: String,
}

#[utoipa::path(post, path = "/register", tag = "oidc",
    summary = "Create an account (hosted page)",
    request_body(content = RegisterForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to consent or the application, or without one to `/account`."),
        (status = 200, description = "Created: signed in, or asked to confirm the address first.", content_type = "text/html", body = String),
        (status = 400, description = "Form or flow not usable.", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong, or registration closed.", content_type = "text/html", body = String),
        (status = 409, description = "The address has an account (the form again).", content_type = "text/html", body = String),
        (status = 422, description = "A field is refused (the form again).", content_type = "text/html", body = String),
        (status = 429, description = "Too many requests.", content_type = "text/html", body = String),
    ))]
pub async fn register_submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<RegisterForm>,
) -> Response {
    let (flow, lang) = match checked_form(&state, &headers, &form.csrf, &form.flow) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    let meta = meta.in_language(lang.locale);
    let name = form.name.trim();
    let input = Registration {
        anonymous_id: None,
        email: form.email.clone(),
        password: form.password,
        name: (!name.is_empty()).then(|| name.to_owned()),
        metadata: None,
    };
    match crate::accounts::register(&state, input, &meta).await {
        Ok(Registered::SignedIn(tokens)) => {
            signed_in(&state, &lang, &tokens, flow.as_ref(), &meta).await
        }
        Ok(Registered::ConfirmationSent(_)) => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::OK,
            "register-confirm-title",
            "register-confirm-text",
        ),
        Err(e) if e.parts().0.is_server_error() => error_page(&state, &lang, &e),
        Err(e) => {
            let (status, _, _) = e.parts();
            register_form(
                &state,
                &headers,
                &form.flow,
                &form.email,
                name,
                Some(pages::error_text(&lang, &e)),
                status,
            )
            .await
        }
    }
}

fn forgot(sealed: &str, ctx: Value) -> FormPage<'_> {
    FormPage {
        template: "forgot.html",
        title: "forgot-title",
        sealed,
        ctx,
        script: None,
    }
}

#[utoipa::path(get, path = "/login/forgot", tag = "oidc",
    summary = "Hosted forgotten-password page",
    params(FlowQuery),
    responses(
        (status = 200, description = "The form asking for the address.", content_type = "text/html", body = String),
        (status = 400, description = "The flow expired or was changed.", content_type = "text/html", body = String),
    ))]
pub async fn forgot_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    if let Err(page) = open_flow(&state, &lang, &query.flow) {
        return *page;
    }
    let ctx = context! { email => "", error => Option::<String>::None };
    form_page(&state, &headers, StatusCode::OK, forgot(&query.flow, ctx)).await
}

/// The forgotten-password form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    pub email: String,
}

#[utoipa::path(post, path = "/login/forgot", tag = "oidc",
    summary = "Send a password-reset link (hosted page)",
    request_body(content = ForgotForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The same page whatever the address.", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
        (status = 404, description = "Mail is off.", content_type = "text/html", body = String),
        (status = 422, description = "Not an email address (the form again).", content_type = "text/html", body = String),
        (status = 429, description = "Too many requests.", content_type = "text/html", body = String),
    ))]
pub async fn forgot_submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<ForgotForm>,
) -> Response {
    let flow = Flow::open(&state.pages_key, &form.flow, state.now());
    let lang = pages::lang(&state, &headers, None, flow.as_ref());
    if !browser::csrf_ok(&state, &headers, &form.csrf) {
        return csrf_refused(&state, &lang);
    }
    let meta = meta.in_language(lang.locale);
    match crate::accounts::email::forgot_password(&state, &form.email, &meta).await {
        Ok(()) => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::OK,
            "forgot-sent-title",
            "forgot-sent-text",
        ),
        Err(e) if e.parts().0.is_server_error() => error_page(&state, &lang, &e),
        Err(e) => {
            let (status, _, _) = e.parts();
            let ctx = context! { email => &form.email, error => pages::error_text(&lang, &e) };
            form_page(&state, &headers, status, forgot(&form.flow, ctx)).await
        }
    }
}
