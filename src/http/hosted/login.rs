//! `/login`: the password form and the second-factor step.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{checked_form, error_page, open_flow, signed_in, with_csrf, PageForm};
use crate::accounts::mfa::{self, Proof};
use crate::accounts::signin::{MfaRequired, SignInAnswer};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::browser;
use crate::http::extract::Meta;
use crate::http::pages;
use crate::oidc::code::with_query;
use crate::oidc::sealed::Flow;

/// `?flow=`: the pending authorization the page belongs to, if any.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    /// The sealed authorization request (absent: sign in to toktok itself).
    #[serde(default)]
    pub flow: String,
}

/// What the sign-in page shows besides the form.
pub struct LoginPage<'a> {
    pub sealed: &'a str,
    pub flow: Option<&'a Flow>,
    pub email: &'a str,
    pub error: Option<String>,
    pub status: StatusCode,
}

/// The client's name for "to continue to …".
pub(super) async fn client_name(state: &AppState, flow: Option<&Flow>) -> Option<String> {
    let flow = flow?;
    let client = state
        .store
        .oauth_client(&flow.request.client_id)
        .await
        .ok()??;
    Some(client.name)
}

/// Renders the sign-in page.
pub async fn login_page(state: &AppState, headers: &HeaderMap, page: LoginPage<'_>) -> Response {
    let lang = pages::lang(state, headers, None, page.flow);
    let csrf = match browser::csrf(state, headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(state, &lang, &e),
    };
    let flow_pair = [("flow", page.sealed)];
    let with_flow = |path: &str| {
        if page.sealed.is_empty() {
            path.to_owned()
        } else {
            with_query(path, &flow_pair)
        }
    };
    let email = if page.email.is_empty() {
        page.flow
            .and_then(|f| f.request.login_hint.clone())
            .unwrap_or_default()
    } else {
        page.email.to_owned()
    };
    // One button per provider, continuing this authorization after it.
    let providers: Vec<_> = if page.sealed.is_empty() {
        Vec::new()
    } else {
        crate::accounts::identities::list(state)
            .into_iter()
            .map(|p| {
                let url = with_query(&format!("/v1/auth/providers/{}/start", p.id), &flow_pair);
                context! { name => p.name, url }
            })
            .collect()
    };
    let register_url = state
        .config
        .accounts
        .registration_open
        .then(|| with_flow("/register"));
    let ctx = context! {
        client_name => client_name(state, page.flow).await,
        error => page.error,
        csrf => &csrf.token,
        flow => page.sealed,
        email,
        passkeys => state.webauthn.is_some(),
        email_code => crate::accounts::email_code::require_enabled(state).is_ok(),
        reset_url => with_flow("/login/forgot"),
        register_url,
        providers,
    };
    let response = pages::render(
        &state.config.branding,
        &lang,
        page.status,
        "login.html",
        &lang.text("login-title", &[]),
        ctx,
    );
    let back = page.flow.map(|f| f.request.redirect_uri.as_str());
    with_csrf(super::allow_redirect_to(response, back), csrf)
}

#[utoipa::path(get, path = "/login", tag = "oidc",
    summary = "Hosted sign-in page",
    params(FlowQuery),
    responses(
        (status = 200, description = "The sign-in form.", content_type = "text/html", body = String),
        (status = 400, description = "The flow expired or was changed.", content_type = "text/html", body = String),
    ))]
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    let flow = match open_flow(&state, &lang, &query.flow) {
        Ok(flow) => flow,
        Err(page) => return *page,
    };
    let page = LoginPage {
        sealed: &query.flow,
        flow: flow.as_ref(),
        email: "",
        error: None,
        status: StatusCode::OK,
    };
    login_page(&state, &headers, page).await
}

/// The sign-in form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    pub email: String,
    pub password: String,
}

#[utoipa::path(post, path = "/login", tag = "oidc",
    summary = "Sign in with a password (hosted page)",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to consent or the application; sets the browser-session cookie."),
        (status = 200, description = "The second-factor step (signed in without an application: 303 to `/account`).", content_type = "text/html", body = String),
        (status = 400, description = "Form or flow not usable.", content_type = "text/html", body = String),
        (status = 401, description = "Wrong email or password (the form again).", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
        (status = 429, description = "Too many attempts.", content_type = "text/html", body = String),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let (flow, lang) = match checked_form(&state, &headers, &form.csrf, &form.flow) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    match crate::accounts::login(&state, &form.email, form.password, &meta).await {
        Ok(SignInAnswer::Tokens(tokens)) => {
            signed_in(&state, &lang, &tokens, flow.as_ref(), &meta).await
        }
        Ok(SignInAnswer::MfaRequired(step)) => {
            second_factor_page(&state, &headers, &form.flow, &step, None, StatusCode::OK)
        }
        Err(e) => {
            let (status, _, _) = e.parts();
            if status.is_server_error() {
                return error_page(&state, &lang, &e);
            }
            let page = LoginPage {
                sealed: &form.flow,
                flow: flow.as_ref(),
                email: &form.email,
                error: Some(pages::error_text(&lang, &e)),
                status,
            };
            login_page(&state, &headers, page).await
        }
    }
}

/// The second-factor form of an MFA step.
pub(crate) fn second_factor_page(
    state: &AppState,
    headers: &HeaderMap,
    sealed: &str,
    step: &MfaRequired,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let flow = Flow::open(&state.pages_key, sealed, state.now());
    let lang = pages::lang(state, headers, None, flow.as_ref());
    let csrf = match browser::csrf(state, headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(state, &lang, &e),
    };
    let ctx = context! {
        error,
        csrf => &csrf.token,
        flow => sealed,
        mfa_token => &step.mfa_token,
        totp => step.factors.contains(&"totp"),
        recovery => step.factors.contains(&"recovery_code"),
    };
    let response = pages::render(
        &state.config.branding,
        &lang,
        status,
        "second_factor.html",
        &lang.text("mfa-title", &[]),
        ctx,
    );
    let back = flow.as_ref().map(|f| f.request.redirect_uri.as_str());
    with_csrf(super::allow_redirect_to(response, back), csrf)
}

/// The second-factor form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MfaForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
    pub mfa_token: String,
    /// A TOTP code (spaces allowed).
    #[serde(default)]
    pub totp: String,
    #[serde(default)]
    pub recovery_code: String,
}

#[utoipa::path(post, path = "/login/mfa", tag = "oidc",
    summary = "Answer the second-factor step (hosted page)",
    request_body(content = MfaForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: on to consent or the application, or without one to `/account`."),
        (status = 400, description = "Form, flow or step not usable.", content_type = "text/html", body = String),
        (status = 401, description = "Wrong code (the form again).", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
        (status = 429, description = "Too many attempts.", content_type = "text/html", body = String),
    ))]
pub async fn mfa_submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<MfaForm>,
) -> Response {
    let (flow, lang) = match checked_form(&state, &headers, &form.csrf, &form.flow) {
        Ok(checked) => checked,
        Err(page) => return *page,
    };
    let totp: String = form.totp.chars().filter(|c| !c.is_whitespace()).collect();
    let proof = if !totp.is_empty() {
        Proof::Totp(totp)
    } else if !form.recovery_code.trim().is_empty() {
        Proof::RecoveryCode(form.recovery_code.trim().to_owned())
    } else {
        Proof::Totp(String::new())
    };
    match mfa::step(&state, &form.mfa_token, proof, &meta).await {
        Ok(tokens) => signed_in(&state, &lang, &tokens, flow.as_ref(), &meta).await,
        Err(
            e @ (ApiError::InvalidCredentials
            | ApiError::RateLimited(_)
            | ApiError::AccountLocked(_)),
        ) => {
            // The step lives on (until five wrong answers): ask again.
            let step = MfaRequired {
                mfa_required: true,
                mfa_token: form.mfa_token.clone(),
                factors: vec!["totp", "recovery_code"],
                expires_in: 0,
            };
            let (status, _, _) = e.parts();
            second_factor_page(
                &state,
                &headers,
                &form.flow,
                &step,
                Some(pages::error_text(&lang, &e)),
                status,
            )
        }
        Err(e) => error_page(&state, &lang, &e),
    }
}
