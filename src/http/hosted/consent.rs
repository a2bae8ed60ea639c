//! `/consent`: the user's decision on what a client may have.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::login::FlowQuery;
use super::{
    browser_of, csrf_refused, error_page, flow_client, open_flow, proceed, see_other, with_csrf,
    PageForm,
};
use crate::app::AppState;
use crate::http::browser;
use crate::http::extract::Meta;
use crate::http::pages::{self, Lang};
use crate::oidc::code::{self, Next};
use crate::oidc::sealed::Flow;

/// What a scope lets the client have, in the user's words.
fn describe(lang: &Lang, scope: &str) -> String {
    match scope {
        "openid" | "profile" | "email" | "offline_access" => {
            lang.text(&format!("consent-scope-{scope}"), &[])
        }
        other => other.to_owned(),
    }
}

/// A flow that must be there (consent is always for an application), and
/// the language of what follows.
fn required_flow(
    state: &AppState,
    headers: &HeaderMap,
    sealed: &str,
) -> Result<(Flow, Lang), Box<Response>> {
    let lang = pages::lang(state, headers, None, None);
    match open_flow(state, &lang, sealed)? {
        Some(flow) => {
            let lang = pages::lang(state, headers, None, Some(&flow));
            Ok((flow, lang))
        }
        None => Err(Box::new(pages::message(
            &state.config.branding,
            &lang,
            StatusCode::BAD_REQUEST,
            "consent-nothing-title",
            "consent-nothing-text",
        ))),
    }
}

#[utoipa::path(get, path = "/consent", tag = "oidc",
    summary = "Hosted consent page",
    params(FlowQuery),
    responses(
        (status = 200, description = "What the application asks for, with Allow and Deny.", content_type = "text/html", body = String),
        (status = 303, description = "Nothing to ask: to sign-in or back to the application."),
        (status = 400, description = "The flow is missing, expired or was changed.", content_type = "text/html", body = String),
    ))]
pub async fn page(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let (flow, lang) = match required_flow(&state, &headers, &query.flow) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let who = match browser_of(&state, &lang, &headers).await {
        Ok(who) => who,
        Err(page) => return *page,
    };
    let lang = lang.for_user(who.as_ref().and_then(|w| w.user.locale.as_deref()));
    let client = match flow_client(&state, &lang, &flow).await {
        Ok(client) => client,
        Err(page) => return *page,
    };
    let (Some(who), Ok(Next::Consent)) = (
        who.as_ref(),
        code::next(&state, &flow, &client, who.as_ref()).await,
    ) else {
        return proceed(&state, &lang, &flow, who.as_ref(), &meta).await;
    };
    let csrf = match browser::csrf(&state, &headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(&state, &lang, &e),
    };
    let scopes: Vec<String> = flow
        .request
        .scopes
        .iter()
        .map(|s| describe(&lang, s))
        .collect();
    let ctx = context! {
        client_name => &client.name,
        scopes,
        email => &who.user.email,
        csrf => &csrf.token,
        flow => &query.flow,
    };
    let title = lang.text("consent-title", &[("client", client.name.as_str().into())]);
    let response = pages::render(
        &state.config.branding,
        &lang,
        StatusCode::OK,
        "consent.html",
        &title,
        ctx,
    );
    let back = Some(flow.request.redirect_uri.as_str());
    with_csrf(super::allow_redirect_to(response, back), csrf)
}

/// The consent form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentForm {
    pub csrf: String,
    pub flow: String,
    /// `allow` or `deny`.
    pub decision: String,
}

#[utoipa::path(post, path = "/consent", tag = "oidc",
    summary = "Allow or deny an application (hosted page)",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the application with a code, or with `access_denied`."),
        (status = 400, description = "Form or flow not usable.", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<ConsentForm>,
) -> Response {
    if !browser::csrf_ok(&state, &headers, &form.csrf) {
        return csrf_refused(&state, &pages::lang(&state, &headers, None, None));
    }
    let (flow, lang) = match required_flow(&state, &headers, &form.flow) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let who = match browser_of(&state, &lang, &headers).await {
        Ok(Some(who)) if code::signed_in_enough(&flow, &who, state.now()) => who,
        Ok(_) => return proceed(&state, &lang, &flow, None, &meta).await,
        Err(page) => return *page,
    };
    let lang = lang.for_user(who.user.locale.as_deref());
    let request = &flow.request;
    match form.decision.as_str() {
        "allow" => {}
        "deny" => {
            return see_other(&code::error_redirect(
                &state,
                request,
                "access_denied",
                "the user denied the request",
            ))
        }
        _ => {
            return pages::message(
                &state.config.branding,
                &lang,
                StatusCode::BAD_REQUEST,
                "form-unreadable-title",
                "form-bad-decision",
            )
        }
    }
    let now = state.now();
    let event = meta.event(
        now,
        "oauth.consent_granted",
        Some(&who.user.id),
        json!({ "client_id": request.client_id, "scopes": request.scopes }),
    );
    let granted = state
        .store
        .grant_consent(
            &who.user.id,
            &request.client_id,
            request.scopes.clone(),
            event,
        )
        .await;
    if let Err(e) = granted {
        return error_page(&state, &lang, &e.into());
    }
    match code::issue(&state, &flow, &who, &meta).await {
        Ok(location) => see_other(&location),
        Err(e) => error_page(&state, &lang, &e),
    }
}
