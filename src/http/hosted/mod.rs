//! The hosted pages of the OpenID provider (issue 19; docs/oidc.md "Hosted
//! pages"): `GET /oauth/authorize`, then `/login` (and its second-factor,
//! passkey, email-code, registration and forgotten-password steps),
//! `/consent`, and the sign-out pages.
//!
//! A pending authorization travels between them sealed (`oidc::sealed`) in
//! `flow=`; the browser's sign-in is the browser-session cookie
//! (`http::browser`); every form carries a CSRF token. The rules — what a
//! request needs next, the code — are in `crate::oidc::code`; the sign-ins
//! are the same `accounts` functions the JSON API calls, with the same
//! lockout, rate limits and audit. Every answer is a page or a redirect,
//! never JSON, and an error before the client and its redirect URI are
//! trusted is shown here, never redirected (no open redirect).

use axum::extract::{FromRequest, Request};
use axum::http::header::{self, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::browser::{self, Csrf};
use super::pages::{self, Lang};
use crate::accounts::{Authenticated, TokenResponse};
use crate::app::AppState;
use crate::error::ApiError;
use crate::oidc::code::{self, Next};
use crate::oidc::sealed::Flow;
use crate::store::OAuthClientRow;

pub mod authorize;
pub mod consent;
pub mod login;
pub mod logout;
pub mod more;

/// A form posted by one of the pages; anything else is a 400/413/415 page.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let brand = &state.config.branding;
        let lang = pages::lang(state, req.headers(), None, None);
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(pages::message(
                brand,
                &lang,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "form-unreadable-title",
                "form-not-urlencoded",
            ));
        }
        let bytes = super::extract::read_body(req, state.config.server.max_body_bytes)
            .await
            .map_err(|e| error_page(state, &lang, &e))?;
        serde_urlencoded::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|e| {
                let text = lang.text("form-malformed", &[("reason", e.to_string().into())]);
                pages::message_text(
                    brand,
                    &lang,
                    StatusCode::BAD_REQUEST,
                    "form-unreadable-title",
                    &text,
                )
            })
    }
}

/// A page saying what went wrong; a server fault says no more than that.
pub fn error_page(state: &AppState, lang: &Lang, e: &ApiError) -> Response {
    let (status, _, _) = e.parts();
    if status.is_server_error() {
        tracing::error!(error = %e, "a hosted page failed");
    }
    let text = pages::error_text(lang, e);
    pages::message_text(&state.config.branding, lang, status, "error-title", &text)
}

/// 303 to `location`.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `response` whose forms may end in a redirect to `uri`'s origin.
///
/// Chromium applies `form-action` to every hop of a form submission,
/// redirects included (CSP Level 3): with `form-action 'self'` alone, the
/// 303 that sends the browser back to the client after Allow, a sign-in
/// or a sign-out is blocked, and the person is left on the page. So the
/// forms of a page that continues an authorization request (or a logout
/// with a return address) may also go to the origin of that request's
/// redirect URI, which is registered, exact, and known when the page is
/// made. Nothing else is added: an origin with any other character than
/// a registered URI's host and port may have is left out.
pub fn allow_redirect_to(mut response: Response, uri: Option<&str>) -> Response {
    let Some(origin) = uri
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .filter(|o| {
            o.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:/[]".contains(&b))
        })
    else {
        return response;
    };
    let headers = response.headers_mut();
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|p| {
            p.replacen(
                "form-action 'self'",
                &format!("form-action 'self' {origin}"),
                1,
            )
        });
    if let Some(value) = policy.and_then(|p| HeaderValue::from_str(&p).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `response` with the CSRF cookie set if the page made one.
pub fn with_csrf(mut response: Response, csrf: Csrf) -> Response {
    if let Some((name, value)) = csrf.set_cookie {
        response.headers_mut().append(name, value);
    }
    response
}

/// The 403 page of a form posted without its CSRF token (or from another
/// site, or after the cookie was lost).
pub fn csrf_refused(state: &AppState, lang: &Lang) -> Response {
    pages::message(
        &state.config.branding,
        lang,
        StatusCode::FORBIDDEN,
        "form-expired-title",
        "form-expired-text",
    )
}

/// The 404 page when `[oidc] enabled = false`.
pub fn oidc_off(state: &AppState, lang: &Lang) -> Option<Response> {
    (!state.config.oidc.enabled).then(|| error_page(state, lang, &ApiError::FeatureDisabled))
}

/// The flow a page was given, if any: `Ok(None)` for an empty one (the
/// pages also work without an application), a 400 page for one that does
/// not open (changed, expired).
pub fn open_flow(
    state: &AppState,
    lang: &Lang,
    sealed: &str,
) -> Result<Option<Flow>, Box<Response>> {
    if sealed.is_empty() {
        return Ok(None);
    }
    match Flow::open(&state.pages_key, sealed, state.now()) {
        Some(flow) => Ok(Some(flow)),
        None => Err(Box::new(pages::message(
            &state.config.branding,
            lang,
            StatusCode::BAD_REQUEST,
            "flow-expired-title",
            "flow-expired-text",
        ))),
    }
}

/// A posted form's CSRF token, then its flow: the 403 page, the 400 page
/// (in the browser's language), or the flow (`None` without one) with the
/// language of the pages that follow.
pub fn checked_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    sealed: &str,
) -> Result<(Option<Flow>, Lang), Box<Response>> {
    let lang = pages::lang(state, headers, None, None);
    if !browser::csrf_ok(state, headers, csrf) {
        return Err(Box::new(csrf_refused(state, &lang)));
    }
    let flow = open_flow(state, &lang, sealed)?;
    let lang = pages::lang(state, headers, None, flow.as_ref());
    Ok((flow, lang))
}

/// The registered client of a flow; a page when it was deleted meanwhile.
pub async fn flow_client(
    state: &AppState,
    lang: &Lang,
    flow: &Flow,
) -> Result<OAuthClientRow, Box<Response>> {
    match state.store.oauth_client(&flow.request.client_id).await {
        Ok(Some(client)) => Ok(client),
        Ok(None) => Err(Box::new(pages::message(
            &state.config.branding,
            lang,
            StatusCode::BAD_REQUEST,
            "client-gone-title",
            "client-gone-text",
        ))),
        Err(e) => Err(Box::new(error_page(state, lang, &ApiError::from(e)))),
    }
}

/// Moves a flow on for the browser's session `who`: to sign-in, to consent,
/// or back to the client with a code (or, for `prompt=none`, the error
/// OIDC Core §3.1.2.6 names instead of any page).
pub async fn proceed(
    state: &AppState,
    lang: &Lang,
    flow: &Flow,
    who: Option<&Authenticated>,
    meta: &crate::accounts::RequestMeta,
) -> Response {
    let client = match flow_client(state, lang, flow).await {
        Ok(client) => client,
        Err(page) => return *page,
    };
    proceed_with(state, lang, flow, &client, who, meta).await
}

/// [`proceed`] with the flow's client already read.
pub async fn proceed_with(
    state: &AppState,
    lang: &Lang,
    flow: &Flow,
    client: &OAuthClientRow,
    who: Option<&Authenticated>,
    meta: &crate::accounts::RequestMeta,
) -> Response {
    let lang = &lang
        .clone()
        .for_user(who.and_then(|w| w.user.locale.as_deref()));
    let next = match code::next(state, flow, client, who).await {
        Ok(next) => next,
        Err(e) => return error_page(state, lang, &e),
    };
    let sealed = flow.seal(&state.pages_key);
    let none = flow.request.prompt.none;
    match (next, who) {
        (Next::SignIn, _) if none => see_other(&code::error_redirect(
            state,
            &flow.request,
            "login_required",
            "the user is not signed in",
        )),
        (Next::SignIn, _) => see_other(&code::with_query("/login", &[("flow", &sealed)])),
        (Next::Consent, _) if none => see_other(&code::error_redirect(
            state,
            &flow.request,
            "consent_required",
            "the user has not granted these scopes",
        )),
        (Next::Consent, _) => see_other(&code::with_query("/consent", &[("flow", &sealed)])),
        (Next::Code, Some(who)) => match code::issue(state, flow, who, meta).await {
            Ok(location) => see_other(&location),
            Err(e) => error_page(state, lang, &e),
        },
        (Next::Code, None) => see_other(&code::with_query("/login", &[("flow", &sealed)])),
    }
}

/// After a sign-in on a page: the browser session becomes `tokens`'
/// session, and the flow goes on (or, without one, to `/account`).
pub async fn signed_in(
    state: &AppState,
    lang: &Lang,
    tokens: &TokenResponse,
    flow: Option<&Flow>,
    meta: &crate::accounts::RequestMeta,
) -> Response {
    let who = match crate::accounts::authenticate(state, &tokens.access_token).await {
        Ok(who) => who,
        Err(e) => return error_page(state, lang, &e),
    };
    let lang = &lang.clone().for_user(who.user.locale.as_deref());
    let cookie = browser::sign_in_cookie(state, &who);
    let mut response = match flow {
        Some(flow) => proceed(state, lang, flow, Some(&who), meta).await,
        // Signed in to toktok itself: on to the account center.
        None => see_other("/account"),
    };
    response.headers_mut().append(cookie.0, cookie.1);
    response
}

/// Reads the request headers' browser session, as a page sees it.
pub async fn browser_of(
    state: &AppState,
    lang: &Lang,
    headers: &HeaderMap,
) -> Result<Option<Authenticated>, Box<Response>> {
    browser::session(state, headers)
        .await
        .map_err(|e| Box::new(error_page(state, lang, &e)))
}
