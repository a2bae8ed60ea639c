//! Signing out of the browser session: `GET /oauth/logout` (OIDC
//! RP-Initiated Logout 1.0), `GET /logout`, and the confirmation's
//! `POST /logout`.
//!
//! A GET never signs out (a prefetch or an `<img>` must not): it shows a
//! confirmation whose form carries the request sealed. The redirect back
//! is allowed only to one of the client's registered
//! `post_logout_redirect_uris`, compared exactly, and the client is known
//! only from a valid `id_token_hint` of toktok's or `client_id`; anything
//! else is an error page, never a redirect.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{browser_of, csrf_refused, error_page, see_other, with_csrf, PageForm};
use crate::app::AppState;
use crate::http::browser;
use crate::http::extract::Meta;
use crate::http::pages;
use crate::oidc::code::with_query;
use crate::oidc::sealed;

const LOGOUT: &str = "toktok logout";

/// A checked logout request, sealed into the confirmation form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LogoutRequest {
    client_name: Option<String>,
    redirect: Option<String>,
    state: Option<String>,
}

/// The claims of an ID token toktok signed (any expiry), issued by it.
fn id_token_claims(
    state: &AppState,
    token: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let keyrings = [state.rs256_keys(), Some(state.keys())];
    let claims = keyrings
        .into_iter()
        .flatten()
        .find_map(|keys| keys.verify_json_signature(token).ok())?;
    (claims.get("iss")?.as_str()? == state.config.server.public_url).then_some(claims)
}

/// Checks the parameters of an RP-initiated logout.
/// The request, or the catalogue key of why it cannot be used.
async fn check(state: &AppState, query: &str) -> Result<LogoutRequest, &'static str> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| "logout-unreadable")?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let hinted = match get("id_token_hint") {
        Some(hint) => {
            let claims = id_token_claims(state, &hint).ok_or("logout-bad-hint")?;
            claims
                .get("aud")
                .and_then(|a| a.as_str())
                .map(str::to_owned)
        }
        None => None,
    };
    let client_id = match (hinted, get("client_id")) {
        (Some(a), Some(b)) if a != b => return Err("logout-hint-mismatch"),
        (a, b) => a.or(b),
    };
    let client = match &client_id {
        Some(id) => Some(
            state
                .store
                .oauth_client(id)
                .await
                .ok()
                .flatten()
                .ok_or("logout-unknown-client")?,
        ),
        None => None,
    };
    let redirect = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = client.as_ref().ok_or("logout-return-needs-client")?;
            if !client.post_logout_redirect_uris.contains(&uri) {
                return Err("logout-unregistered-return");
            }
            Some(uri)
        }
    };
    let client_state = get("state").filter(|s| s.len() <= crate::oidc::authorize::MAX_PARAM);
    Ok(LogoutRequest {
        client_name: client.map(|c| c.name),
        redirect,
        state: client_state,
    })
}

async fn confirmation(state: &AppState, headers: &HeaderMap, request: &LogoutRequest) -> Response {
    let lang = pages::lang(state, headers, None, None);
    let lang = match browser_of(state, &lang, headers).await {
        Ok(who) => lang.for_user(who.as_ref().and_then(|w| w.user.locale.as_deref())),
        Err(page) => return *page,
    };
    let csrf = match browser::csrf(state, headers) {
        Ok(csrf) => csrf,
        Err(e) => return error_page(state, &lang, &e),
    };
    let ctx = context! {
        client_name => &request.client_name,
        csrf => &csrf.token,
        flow => sealed::seal(&state.pages_key, LOGOUT, request),
    };
    let response = pages::render(
        &state.config.branding,
        &lang,
        StatusCode::OK,
        "logout.html",
        &lang.text("logout-title", &[]),
        ctx,
    );
    let back = request.redirect.as_deref();
    with_csrf(super::allow_redirect_to(response, back), csrf)
}

#[utoipa::path(get, path = "/oauth/logout", tag = "oidc",
    summary = "RP-initiated logout (OIDC RP-Initiated Logout 1.0)",
    params(
        ("id_token_hint" = Option<String>, Query),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "Registered, exact."),
        ("client_id" = Option<String>, Query),
        ("state" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "A confirmation page.", content_type = "text/html", body = String),
        (status = 400, description = "An error page (never a redirect).", content_type = "text/html", body = String),
        (status = 404, description = "`feature_disabled`", content_type = "text/html", body = String),
    ))]
pub async fn rp_initiated(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    if let Some(off) = super::oidc_off(&state, &lang) {
        return off;
    }
    match check(&state, query.as_deref().unwrap_or("")).await {
        Ok(request) => confirmation(&state, &headers, &request).await,
        Err(why) => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::BAD_REQUEST,
            "logout-refused-title",
            why,
        ),
    }
}

#[utoipa::path(get, path = "/logout", tag = "oidc",
    summary = "Hosted sign-out page",
    responses(
        (status = 200, description = "A confirmation page.", content_type = "text/html", body = String),
    ))]
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    confirmation(&state, &headers, &LogoutRequest::default()).await
}

/// The confirmation form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutForm {
    pub csrf: String,
    #[serde(default)]
    pub flow: String,
}

#[utoipa::path(post, path = "/logout", tag = "oidc",
    summary = "Sign out of the browser session (hosted page)",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out: back to the application's registered address, with `state`."),
        (status = 200, description = "Signed out.", content_type = "text/html", body = String),
        (status = 400, description = "Form not usable.", content_type = "text/html", body = String),
        (status = 403, description = "CSRF token missing or wrong.", content_type = "text/html", body = String),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<LogoutForm>,
) -> Response {
    let lang = pages::lang(&state, &headers, None, None);
    if !browser::csrf_ok(&state, &headers, &form.csrf) {
        return csrf_refused(&state, &lang);
    }
    let request: LogoutRequest = if form.flow.is_empty() {
        LogoutRequest::default()
    } else {
        match sealed::open(&state.pages_key, LOGOUT, &form.flow) {
            Some(request) => request,
            None => {
                return pages::message(
                    &state.config.branding,
                    &lang,
                    StatusCode::BAD_REQUEST,
                    "logout-refused-title",
                    "logout-form-changed",
                )
            }
        }
    };
    let who = match browser_of(&state, &lang, &headers).await {
        Ok(who) => who,
        Err(page) => return *page,
    };
    let lang = lang.for_user(who.as_ref().and_then(|w| w.user.locale.as_deref()));
    if let Some(who) = who {
        let now = state.now();
        let event = meta.event(
            now,
            "logout",
            Some(&who.user.id),
            json!({ "session": who.session.id, "browser": true }),
        );
        if let Err(e) = state
            .store
            .end_browser_session(&who.user.id, &who.session.id, now, event)
            .await
        {
            return error_page(&state, &lang, &e.into());
        }
    }
    let mut response = match request.redirect {
        Some(uri) => {
            let pairs: Vec<(&str, &str)> = request
                .state
                .as_deref()
                .map(|s| ("state", s))
                .into_iter()
                .collect();
            if pairs.is_empty() {
                see_other(&uri)
            } else {
                see_other(&with_query(&uri, &pairs))
            }
        }
        None => pages::message(
            &state.config.branding,
            &lang,
            StatusCode::OK,
            "logout-done-title",
            "logout-done-text",
        ),
    };
    let (name, value) = browser::sign_out_cookie(&state);
    response.headers_mut().append(name, value);
    response
}
