//! `/account/connections`: the providers linked to the account (unlink —
//! never the last way in — and link another) and the apps the user let
//! sign them in through toktok (revoke).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{context, Value};
use serde::Deserialize;

use super::profile::DoneQuery;
use super::{
    confirm_page, done, done_notice, not_enrolment_only, posted, reauth_ctx, recent, render, visit,
    when, Confirm, Section, View, Visit,
};
use crate::accounts::{identities, oauth_clients};
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::hosted::{error_page, PageForm};

/// The landing page's one script: reads the `#code=` the provider's
/// callback left and posts it (a fragment never reaches the server).
const LINKED_JS: &str = include_str!("linked.js");

async fn connections_page(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    view: View,
) -> Response {
    let linked = match identities::identities(state, &v.who).await {
        Ok(list) => list,
        Err(e) => return error_page(state, &v.lang, &e),
    };
    let configured = identities::list(state);
    let name_of = |id: &str| {
        configured
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| p.name.clone())
    };
    let identities: Vec<Value> = linked
        .iter()
        .map(|i| {
            context! {
                id => &i.id,
                provider => name_of(&i.provider),
                email => &i.email,
                name => &i.name,
                created => when(&i.created_at),
            }
        })
        .collect();
    let providers: Vec<Value> = configured
        .iter()
        .map(|p| context! { id => &p.id, name => &p.name })
        .collect();
    let apps: Vec<Value> = if state.config.oidc.enabled {
        match oauth_clients::apps(state, &v.who).await {
            Ok(list) => list
                .apps
                .iter()
                .map(|a| {
                    context! {
                        client_id => &a.client_id,
                        name => &a.name,
                        scopes => a.scopes.join(" "),
                        granted => when(&a.granted_at),
                    }
                })
                .collect(),
            Err(e) => return error_page(state, &v.lang, &e),
        }
    } else {
        Vec::new()
    };
    let reauth = if providers.is_empty() {
        None
    } else {
        match recent(state, &v.who).await {
            Ok(true) => None,
            Ok(false) => match reauth_ctx(state, &v.who, Section::Connections).await {
                Ok(ctx) => Some(ctx),
                Err(e) => return error_page(state, &v.lang, &e),
            },
            Err(e) => return error_page(state, &v.lang, &e),
        }
    };
    let ctx = context! {
        identities,
        providers,
        apps,
        oidc_on => state.config.oidc.enabled,
        reauth,
    };
    render(state, headers, v, view.ctx(ctx))
}

fn view() -> View {
    View::new(
        Section::Connections,
        "account_connections.html",
        "account-connections-title",
    )
}

async fn refused(state: &AppState, headers: &HeaderMap, v: &Visit, e: &ApiError) -> Response {
    if e.parts().0.is_server_error() && !matches!(e, ApiError::ProviderUnavailable) {
        return error_page(state, &v.lang, e);
    }
    let view = view().failed(&v.lang, e, None);
    connections_page(state, headers, v, view).await
}

/// `GET /account/connections`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut view = view();
    view.notice = done_notice(&v.lang, q.done.as_deref());
    connections_page(&state, &headers, &v, view).await
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `GET /account/identities/{id}/unlink`: the confirmation (404 page for
/// an identity that is not the user's).
pub async fn unlink_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let linked = match identities::identities(&state, &v.who).await {
        Ok(list) => list,
        Err(e) => return error_page(&state, &v.lang, &e),
    };
    let Some(identity) = linked.iter().find(|i| i.id == id) else {
        return error_page(&state, &v.lang, &ApiError::NotFound);
    };
    let provider = identities::list(&state)
        .into_iter()
        .find(|p| p.id == identity.provider)
        .map_or_else(|| identity.provider.clone(), |p| p.name);
    let c = Confirm {
        section: Section::Connections,
        title_key: "account-unlink-title",
        text: v
            .lang
            .text("account-unlink-text", &[("provider", provider.into())]),
        action: format!("/account/identities/{}/unlink", identity.id),
        button_key: "account-unlink-button",
        back: "/account/connections",
    };
    confirm_page(&state, &headers, &v, c)
}

/// `POST /account/identities/{id}/unlink`: `identities::unlink`, what
/// `DELETE /v1/users/me/identities/{id}` calls (409 when it is the last
/// way in; another user's id: 404).
pub async fn unlink(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = not_enrolment_only(&state, &v) {
        return *r;
    }
    match identities::unlink(&state, &v.who, &id, &meta).await {
        Ok(()) => done(Section::Connections, "unlinked"),
        Err(ApiError::Conflict(_)) => {
            let mut view = view();
            view.status = axum::http::StatusCode::CONFLICT;
            view.error = Some(v.lang.text("account-unlink-last-way", &[]));
            connections_page(&state, &headers, &v, view).await
        }
        Err(e) => refused(&state, &headers, &v, &e).await,
    }
}

/// `POST /account/providers/{id}/link` (R): `identities::start_link_here`
/// (`start_link` landing on the account center); a page with the link to
/// the provider — a link, not a redirect, since a form's redirect to
/// another origin is blocked by `form-action 'self'`.
pub async fn link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = not_enrolment_only(&state, &v) {
        return *r;
    }
    match identities::start_link_here(&state, &v.who, &id).await {
        Ok(started) => {
            let provider = identities::list(&state)
                .into_iter()
                .find(|p| p.id == id)
                .map_or(id, |p| p.name);
            let ctx = context! { url => started.url, provider };
            let view = View::new(
                Section::Connections,
                "account_link.html",
                "account-link-title",
            )
            .ctx(ctx);
            render(&state, &headers, &v, view)
        }
        Err(e) => refused(&state, &headers, &v, &e).await,
    }
}

/// `GET /account/providers/linked`: where a link comes back, with
/// `#code=` (or `#error=`) for its script.
pub async fn linked_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let lang = &v.lang;
    let ctx = context! {
        checking => lang.text("account-linked-checking", &[]),
        refused => lang.text("account-linked-refused", &[]),
        nothing => lang.text("account-linked-nothing", &[]),
    };
    let mut view = View::new(
        Section::Connections,
        "account_linked.html",
        "account-link-title",
    )
    .ctx(ctx);
    view.script = Some(LINKED_JS);
    render(&state, &headers, &v, view)
}

/// The landing page's form.
#[derive(Debug, Deserialize)]
pub struct LinkedForm {
    #[serde(default)]
    pub csrf: String,
    pub code: String,
}

/// `POST /account/providers/linked`: `identities::exchange` with the
/// browser's session as the user who started the link (what `POST
/// /v1/auth/providers/exchange` does with their access token).
pub async fn linked(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<LinkedForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    match identities::exchange(&state, &form.code, Some(&v.who), &meta).await {
        Ok(identities::Exchanged::Linked { .. }) => done(Section::Connections, "linked"),
        // A sign-in's code is not a link's: refused like a wrong one.
        Ok(identities::Exchanged::SignIn(_)) => {
            refused(&state, &headers, &v, &ApiError::InvalidLinkToken).await
        }
        Err(e) => refused(&state, &headers, &v, &e).await,
    }
}

/// `GET /account/apps/{client_id}/revoke`: the confirmation (404 page for
/// an app the user has no grant to).
pub async fn revoke_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let apps = match oauth_clients::apps(&state, &v.who).await {
        Ok(list) => list.apps,
        Err(e) => return error_page(&state, &v.lang, &e),
    };
    let Some(app) = apps.iter().find(|a| a.client_id == client_id) else {
        return error_page(&state, &v.lang, &ApiError::NotFound);
    };
    let c = Confirm {
        section: Section::Connections,
        title_key: "account-revoke-title",
        text: v
            .lang
            .text("account-revoke-text", &[("app", app.name.as_str().into())]),
        action: format!("/account/apps/{}/revoke", app.client_id),
        button_key: "account-revoke-button",
        back: "/account/connections",
    };
    confirm_page(&state, &headers, &v, c)
}

/// `POST /account/apps/{client_id}/revoke`: `oauth_clients::revoke_app`,
/// what `DELETE /v1/users/me/apps/{client_id}` calls: the grant goes and
/// the user's sessions of that app (their refresh tokens) end.
pub async fn revoke(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = not_enrolment_only(&state, &v) {
        return *r;
    }
    let revoked = match oauth_clients::enabled(&state) {
        Ok(()) => oauth_clients::revoke_app(&state, &v.who, &client_id, &meta).await,
        Err(e) => Err(e),
    };
    match revoked {
        Ok(()) => done(Section::Connections, "revoked"),
        Err(e) => refused(&state, &headers, &v, &e).await,
    }
}
