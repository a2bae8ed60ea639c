//! `/account/sessions`: the user's sessions and devices (user agent,
//! address, started, last used, which one is this browser), end one, end
//! all the others. Each ending is confirmed first.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use minijinja::{context, Value};
use serde::Deserialize;

use super::profile::DoneQuery;
use super::{
    confirm_page, done, done_notice, not_enrolment_only, posted, render, visit, when, Confirm,
    Section, View, Visit,
};
use crate::accounts;
use crate::app::AppState;
use crate::error::ApiError;
use crate::http::extract::Meta;
use crate::http::hosted::{error_page, PageForm};

async fn sessions_page(state: &AppState, headers: &HeaderMap, v: &Visit, view: View) -> Response {
    let list = match accounts::sessions(state, &v.who).await {
        Ok(list) => list,
        Err(e) => return error_page(state, &v.lang, &e),
    };
    let others = list.iter().filter(|s| !s.current).count();
    let sessions: Vec<Value> = list
        .iter()
        .map(|s| {
            context! {
                id => &s.id,
                user_agent => &s.user_agent,
                ip => &s.ip,
                created => when(&s.created_at),
                last_used => when(&s.last_used_at),
                current => s.current,
            }
        })
        .collect();
    let ctx = context! { sessions, others };
    render(state, headers, v, view.ctx(ctx))
}

fn view() -> View {
    View::new(
        Section::Sessions,
        "account_sessions.html",
        "account-sessions-title",
    )
}

/// `GET /account/sessions`.
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
    sessions_page(&state, &headers, &v, view).await
}

/// `GET /account/sessions/{id}/end`: the confirmation (404 page for a
/// session that is not the user's).
pub async fn end_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let list = match accounts::sessions(&state, &v.who).await {
        Ok(list) => list,
        Err(e) => return error_page(&state, &v.lang, &e),
    };
    let Some(session) = list.iter().find(|s| s.id == id) else {
        return error_page(&state, &v.lang, &ApiError::NotFound);
    };
    let device = session
        .user_agent
        .clone()
        .unwrap_or_else(|| v.lang.text("account-sessions-unknown-device", &[]));
    let key = if session.current {
        "account-session-end-current-text"
    } else {
        "account-session-end-text"
    };
    let c = Confirm {
        section: Section::Sessions,
        title_key: "account-session-end-title",
        text: v.lang.text(key, &[("device", device.into())]),
        action: format!("/account/sessions/{}/end", session.id),
        button_key: "account-session-end-button",
        back: "/account/sessions",
    };
    confirm_page(&state, &headers, &v, c)
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /account/sessions/{id}/end`: `accounts::end_session`, what
/// `DELETE /v1/users/me/sessions/{id}` calls (another user's id: 404).
/// Ending this browser's own session signs it out: on to `/login`.
pub async fn end(
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
    match accounts::end_session(&state, &v.who, &id, &meta).await {
        Ok(()) if id == v.who.session.id => {
            let mut response = crate::http::hosted::see_other("/login");
            let (name, value) = crate::http::browser::sign_out_cookie(&state);
            response.headers_mut().append(name, value);
            response
        }
        Ok(()) => done(Section::Sessions, "session-ended"),
        Err(e) if e.parts().0.is_server_error() => error_page(&state, &v.lang, &e),
        Err(e) => {
            let view = view().failed(&v.lang, &e, None);
            sessions_page(&state, &headers, &v, view).await
        }
    }
}

/// `GET /account/sessions/end-others`: the confirmation.
pub async fn end_others_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let v = match visit(&state, &headers).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let c = Confirm {
        section: Section::Sessions,
        title_key: "account-sessions-end-others-title",
        text: v.lang.text("account-sessions-end-others-text", &[]),
        action: "/account/sessions/end-others".to_owned(),
        button_key: "account-sessions-end-others-button",
        back: "/account/sessions",
    };
    confirm_page(&state, &headers, &v, c)
}

/// `POST /account/sessions/end-others`: `accounts::end_other_sessions`
/// (each ended as `DELETE /v1/users/me/sessions/{id}` ends one).
pub async fn end_others(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    let v = match posted(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Err(r) = not_enrolment_only(&state, &v) {
        return *r;
    }
    match accounts::end_other_sessions(&state, &v.who, &meta).await {
        Ok(_) => done(Section::Sessions, "sessions-ended"),
        Err(e) => error_page(&state, &v.lang, &e),
    }
}
