//! Sign-in with other providers (docs/providers.md): the round trip
//! (`start`, `callback`, `exchange`) and the user's identities. The rules
//! are in `accounts::identities`; the callback's pages are the hosted
//! pages' (`http::hosted`).

use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::browser;
use super::extract::{bearer, Auth, JsonBody, Meta};
use super::hosted::{self, login, PageForm};
use crate::accounts::identities::{
    self, CallbackParams, Exchanged, IdentityView, Landing, ProviderInfo, FLOW_TTL,
};
use crate::accounts::signin::SignInAnswer;
use crate::accounts::RequestMeta;
use crate::app::AppState;
use crate::config::ResponseMode;
use crate::error::ApiError;
use crate::oidc::sealed::Flow;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderList {
    pub providers: Vec<ProviderInfo>,
}

#[utoipa::path(get, path = "/v1/auth/providers", tag = "providers",
    summary = "The sign-in providers",
    responses((status = 200, description = "The enabled providers, in configuration order.", body = ProviderList)))]
pub async fn list(State(state): State<AppState>) -> Json<ProviderList> {
    Json(ProviderList {
        providers: identities::list(&state),
    })
}

/// `?redirect_to=` (or, from the hosted sign-in page, `?flow=`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// Where the browser goes back to with `#code=…` (or `#error=…`): one
    /// of `[accounts] allowed_redirects` or below it.
    #[serde(default)]
    pub redirect_to: Option<String>,
    /// A sealed pending `/oauth/authorize` (the hosted sign-in page's
    /// buttons): continued after the provider instead.
    #[serde(default)]
    pub flow: Option<String>,
}

fn found(url: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(url) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

#[utoipa::path(get, path = "/v1/auth/providers/{id}/start", tag = "providers",
    summary = "Start a sign-in with a provider",
    params(("id" = String, Path, description = "The provider's configured id."), StartQuery),
    responses(
        (status = 302, description = "To the provider; sets the cookie that binds the sign-in to this browser."),
        (status = 400, description = "`invalid_token`: the `flow` expired or was changed."),
        (status = 404, description = "`not_found`: no such enabled provider."),
        (status = 422, description = "`validation_failed`: `redirect_to` missing or not allowed."),
        (status = 429, description = "`rate_limited`: the client's sign-in attempts (the login bucket)."),
        (status = 502, description = "`provider_unavailable`: its discovery document could not be read."),
    ))]
pub async fn start(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Path(id): Path<String>,
    Query(query): Query<StartQuery>,
) -> Result<Response, ApiError> {
    // A pending authorization must be one of the hosted pages' sealed
    // flows (checked once the provider is known: an unknown one is 404).
    let flow = query.flow.as_deref().filter(|f| !f.is_empty());
    let sealed_ok = |f: &str| Flow::open(&state.pages_key, f, state.now()).is_some();
    if state.providers.enabled(&id).is_some() && flow.is_some_and(|f| !sealed_ok(f)) {
        return Err(ApiError::InvalidLinkToken);
    }
    let started = identities::start(&state, &id, query.redirect_to.as_deref(), flow, &meta).await?;
    let mut response = found(&started.url);
    if let Some(binding) = &started.binding {
        let form_post = state
            .providers
            .enabled(&id)
            .is_some_and(|p| p.response_mode == ResponseMode::FormPost);
        let (name, value) = browser::provider_cookie(&state, binding, FLOW_TTL, form_post);
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/v1/auth/providers/{id}/callback", tag = "providers",
    summary = "The provider's answer (redirect)",
    params(("id" = String, Path, description = "The provider's configured id."), CallbackParams),
    responses(
        (status = 303, description = "Signed in: to `redirect_to#code=…` (or `#error=…`), or on with a pending authorization."),
        (status = 200, description = "The second-factor step of a pending authorization.", content_type = "text/html", body = String),
        (status = 400, description = "Unknown, used or expired `state`, or another browser's: a page.", content_type = "text/html", body = String),
        (status = 404, description = "No such enabled provider: a page.", content_type = "text/html", body = String),
    ))]
pub async fn callback_get(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Response {
    callback(&state, &headers, &id, params, &meta).await
}

#[utoipa::path(post, path = "/v1/auth/providers/{id}/callback", tag = "providers",
    summary = "The provider's answer (form_post)",
    params(("id" = String, Path, description = "The provider's configured id.")),
    request_body(content = CallbackParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "As for GET."),
        (status = 200, description = "The second-factor step of a pending authorization.", content_type = "text/html", body = String),
        (status = 400, description = "Unknown, used or expired `state`, or another browser's: a page.", content_type = "text/html", body = String),
        (status = 404, description = "No such enabled provider: a page.", content_type = "text/html", body = String),
        (status = 415, description = "Not a form.", content_type = "text/html", body = String),
    ))]
pub async fn callback_post(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(params): PageForm<CallbackParams>,
) -> Response {
    callback(&state, &headers, &id, params, &meta).await
}

async fn callback(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    params: CallbackParams,
    meta: &RequestMeta,
) -> Response {
    let binding = browser::provider_binding(state, headers).map(str::to_owned);
    let landing = identities::callback(state, id, params, binding.as_deref(), meta).await;
    let refused = matches!(landing, Landing::Refused(_));
    let lang = super::pages::lang(state, headers, None, None);
    let mut response = match landing {
        Landing::Redirect(url) => hosted::see_other(&url),
        Landing::Refused(ApiError::InvalidLinkToken) => super::pages::message(
            &state.config.branding,
            &lang,
            StatusCode::BAD_REQUEST,
            "flow-expired-title",
            "flow-provider-expired-text",
        ),
        Landing::Refused(e) => hosted::error_page(state, &lang, &e),
        Landing::Authorize { answer, sealed } => {
            let flow = match hosted::open_flow(state, &lang, &sealed) {
                Ok(flow) => flow,
                Err(page) => return *page,
            };
            let lang = super::pages::lang(state, headers, None, flow.as_ref());
            match *answer {
                SignInAnswer::Tokens(tokens) => {
                    hosted::signed_in(state, &lang, &tokens, flow.as_ref(), meta).await
                }
                SignInAnswer::MfaRequired(step) => {
                    login::second_factor_page(state, headers, &sealed, &step, None, StatusCode::OK)
                }
            }
        }
        Landing::AuthorizeRefused { error, sealed } => {
            let flow = Flow::open(&state.pages_key, &sealed, state.now());
            let lang = super::pages::lang(state, headers, None, flow.as_ref());
            let (status, _, _) = error.parts();
            if status.is_server_error() && status != StatusCode::BAD_GATEWAY {
                return hosted::error_page(state, &lang, &error);
            }
            let page = login::LoginPage {
                sealed: &sealed,
                flow: flow.as_ref(),
                email: "",
                error: Some(super::pages::error_text(&lang, &error)),
                status,
            };
            login::login_page(state, headers, page).await
        }
    };
    // The binding is spent with its state; a refused callback (a forged or
    // stale state) leaves it, so that one cannot end a sign-in in progress.
    if binding.is_some() && !refused {
        let (name, value) = browser::provider_cookie(state, "", 0, false);
        response.headers_mut().append(name, value);
    }
    response
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "code": "8TNZhXdNpBkwYteh3SNPqgeSWHO-zr3E_QXwGtZz4fo" }))]
pub struct ExchangeBody {
    /// The `code` from the callback's redirect (`#code=…`).
    pub code: String,
}

#[utoipa::path(post, path = "/v1/auth/providers/exchange", tag = "providers",
    summary = "Exchange a provider sign-in's code for tokens",
    description = "A code works once, for 60 s. A link's code (from `POST /v1/users/me/identities/{provider}/start`) needs the access token of the user who started the link, and answers the linked identity.",
    request_body = ExchangeBody,
    responses(
        (status = 200, description = "A token response (`amr` `[\"fed\"]`), the MFA step, or `{\"identity\"}` for a link.", body = Exchanged),
        (status = 400, description = "`invalid_token`: unknown, used or expired code."),
        (status = 401, description = "`unauthenticated`: a link's code without an access token."),
        (status = 403, description = "`forbidden`: the account is disabled, or a link's code with another user's token."),
        (status = 409, description = "`conflict`: the provider account is linked to another account."),
    ))]
pub async fn exchange(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ExchangeBody>,
) -> Result<Json<Exchanged>, ApiError> {
    let who = match bearer(&headers) {
        Some(token) => Some(crate::accounts::authenticate(&state, token).await?),
        None => None,
    };
    identities::exchange(&state, &body.code, who.as_ref(), &meta)
        .await
        .map(Json)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityList {
    pub identities: Vec<IdentityView>,
}

#[utoipa::path(get, path = "/v1/users/me/identities", tag = "providers",
    summary = "The user's provider identities",
    security(("bearer_jwt" = [])),
    responses((status = 200, description = "Oldest first.", body = IdentityList)))]
pub async fn list_identities(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<IdentityList>, ApiError> {
    Ok(Json(IdentityList {
        identities: identities::identities(&state, &who).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "redirect_to": "https://app.example.com/auth/linked" }))]
pub struct LinkBody {
    /// Where the browser goes back to with `#code=…`: one of `[accounts]
    /// allowed_redirects` or below it.
    pub redirect_to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkStarted {
    /// Send the browser here; back at `redirect_to#code=…`, exchange the
    /// code with this user's access token.
    pub url: String,
}

#[utoipa::path(post, path = "/v1/users/me/identities/{provider}/start", tag = "providers",
    summary = "Link a provider (R)",
    security(("bearer_jwt" = [])),
    params(("provider" = String, Path, description = "The provider's configured id.")),
    request_body = LinkBody,
    responses(
        (status = 200, description = "The provider URL to send the browser to.", body = LinkStarted),
        (status = 403, description = "`reauthentication_required`."),
        (status = 404, description = "`not_found`: no such enabled provider."),
        (status = 422, description = "`validation_failed`: `redirect_to` not allowed."),
        (status = 502, description = "`provider_unavailable`."),
    ))]
pub async fn start_link(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(provider): Path<String>,
    JsonBody(body): JsonBody<LinkBody>,
) -> Result<Json<LinkStarted>, ApiError> {
    let started = identities::start_link(&state, &who, &provider, &body.redirect_to).await?;
    Ok(Json(LinkStarted { url: started.url }))
}

#[utoipa::path(delete, path = "/v1/users/me/identities/{id}", tag = "providers",
    summary = "Unlink a provider identity",
    security(("bearer_jwt" = [])),
    params(("id" = String, Path, description = "The identity's id.")),
    responses(
        (status = 204, description = "Unlinked."),
        (status = 404, description = "`not_found`: no such identity of this user."),
        (status = 409, description = "`conflict`: it is the account's last way to sign in."),
    ))]
pub async fn unlink(
    State(state): State<AppState>,
    Meta(meta): Meta,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    identities::unlink(&state, &who, &id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
