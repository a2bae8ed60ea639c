//! `GET /oauth/authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2.1).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{browser_of, error_page, proceed, proceed_with, see_other};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::pages;
use crate::oidc::authorize::{self, AuthorizeError, ClientView};
use crate::oidc::code;
use crate::oidc::sealed::Flow;

#[utoipa::path(get, path = "/oauth/authorize", tag = "oidc",
    summary = "Authorization endpoint (code flow, PKCE S256 required)",
    params(
        ("response_type" = Option<String>, Query, description = "`code`"),
        ("client_id" = Option<String>, Query),
        ("redirect_uri" = Option<String>, Query, description = "Exactly as registered."),
        ("scope" = Option<String>, Query, description = "`openid` plus `profile`, `email`, `offline_access`."),
        ("state" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("code_challenge" = Option<String>, Query),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`none`, `login`, `consent`"),
        ("max_age" = Option<String>, Query),
        ("login_hint" = Option<String>, Query),
        ("ui_locales" = Option<String>, Query),
    ),
    responses(
        (status = 303, description = "To `/login`, `/consent`, or back to the client's \
            `redirect_uri` with `code`, `state` and `iss` (or `error`)."),
        (status = 400, description = "An error page: unknown client or redirect URI \
            (never redirected).", content_type = "text/html", body = String),
        (status = 404, description = "`feature_disabled`", content_type = "text/html", body = String),
    ))]
pub async fn authorize(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    if let Some(off) = super::oidc_off(&state, &lang) {
        return off;
    }
    let brand = &state.config.branding;
    // The reasons (`AuthorizeError::Page`) are for the application's
    // developer, who reads the request's parameter names: they stay in
    // English; the page around them is in the browser's language.
    let refused = |text: &str| {
        pages::message_text(
            brand,
            &lang,
            StatusCode::BAD_REQUEST,
            "authorize-refused-title",
            text,
        )
    };
    let Ok(pairs) =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or(""))
    else {
        return refused("The request's parameters cannot be read.");
    };
    let client_id = pairs
        .iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let client = if client_id.is_empty() {
        None
    } else {
        match state.store.oauth_client(&client_id).await {
            Ok(client) => client,
            Err(e) => return error_page(&state, &lang, &ApiError::from(e)),
        }
    };
    let request = authorize::parse(&pairs, |id| {
        client
            .as_ref()
            .filter(|c| c.client_id == id)
            .map(|c| ClientView {
                redirect_uris: &c.redirect_uris,
                scopes: &c.scopes,
                grant_types: &c.grant_types,
            })
    });
    let request = match request {
        Ok(request) => request,
        Err(AuthorizeError::Page(text)) => return refused(text),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state: client_state,
            error,
            description,
        }) => {
            state
                .metrics
                .incr("toktok_oauth_authorize_total", &[("outcome", error)]);
            return see_other(&code::redirect_error(
                &state,
                &redirect_uri,
                client_state.as_deref(),
                error,
                &description,
            ));
        }
    };
    let flow = Flow {
        request,
        started_at: state.now(),
    };
    let lang = pages::lang(&state, &headers, None, Some(&flow));
    let who = match browser_of(&state, &lang, &headers).await {
        Ok(who) => who,
        Err(page) => return *page,
    };
    match &client {
        Some(client) => proceed_with(&state, &lang, &flow, client, who.as_ref(), &meta).await,
        None => proceed(&state, &lang, &flow, who.as_ref(), &meta).await,
    }
}
