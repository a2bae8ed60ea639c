//! OAuth clients of toktok as an OpenID provider: the list with the
//! new-client form, a client's edit form, a new secret and deletion (both
//! confirmed). The same `accounts::oauth_clients` functions as `/v1/admin/
//! oauth-clients`, and like those routes they need `[oidc] enabled`.
//! A secret is shown once, on the answer to the form that made it.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{context, Value};

use super::users::{param, query};
use super::{
    confirm_page, enter, enter_form, errors_value, failed, field_errors, notice, render, to_value,
    Confirm, Console, Fields, View,
};
use crate::accounts::oauth_clients::{
    self, ClientView, ClientWithSecret, NewClient, GRANT_TYPES, ID_TOKEN_ALGS, SCOPES,
};
use crate::app::AppState;
use crate::http::extract::Meta;
use crate::http::hosted::{see_other, PageForm};
use crate::store::OAuthClientChange;

/// The client form's values: as stored, as posted, or a new client's.
#[derive(serde::Serialize)]
struct Form {
    name: String,
    client_type: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: Vec<String>,
    scopes: Vec<String>,
    audience: String,
    skip_consent: bool,
    alg: String,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Form {
    fn new_client() -> Form {
        Form {
            name: String::new(),
            client_type: "confidential".to_owned(),
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            grant_types: strings(&["authorization_code", "refresh_token"]),
            scopes: strings(&SCOPES),
            audience: String::new(),
            skip_consent: false,
            alg: "RS256".to_owned(),
        }
    }

    fn of(c: &ClientView) -> Form {
        Form {
            name: c.name.clone(),
            client_type: c.client_type.clone(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.clone(),
            audience: c.audience.clone().unwrap_or_default(),
            skip_consent: c.skip_consent,
            alg: c.id_token_signed_response_alg.clone(),
        }
    }

    fn posted(f: &Fields) -> Form {
        Form {
            name: f.get("name").trim().to_owned(),
            client_type: f.get("type").to_owned(),
            redirect_uris: f.get("redirect_uris").to_owned(),
            post_logout_redirect_uris: f.get("post_logout_redirect_uris").to_owned(),
            grant_types: f.all("grant_type"),
            scopes: f.all("scope"),
            audience: f.get("audience").trim().to_owned(),
            skip_consent: f.checked("skip_consent"),
            alg: f.get("alg").to_owned(),
        }
    }
}

/// The lines of a textarea, blank ones left out.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What the form choices offer.
fn choices() -> Value {
    context! { grant_types => GRANT_TYPES, scopes => SCOPES, algs => ID_TOKEN_ALGS }
}

async fn list_page(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    form: Form,
    errors: Vec<(String, String)>,
    message: Option<String>,
) -> Response {
    let lang = &console.lang;
    let enabled = state.config.oidc.enabled;
    let clients = if enabled {
        match oauth_clients::list(state).await {
            Ok(list) => list.clients,
            Err(e) => return failed(state, console, &e),
        }
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error = (!errors.is_empty()).then(|| lang.text("admin-error-form", &[]));
    let ctx = context! {
        enabled,
        clients => to_value(&clients),
        form => to_value(&form),
        errors => errors_value(&errors),
        choices => choices(),
    };
    let title = lang.text("admin-clients-title", &[]);
    let view = View::new("/admin/oauth-clients", "admin_clients.html", title, ctx)
        .status(status)
        .notice(message)
        .error(error);
    render(state, headers, console, view)
}

/// `GET /admin/oauth-clients`.
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let pairs = query(raw);
    let message = notice(&console.lang, Some(param(&pairs, "notice")));
    list_page(
        &state,
        &headers,
        &console,
        Form::new_client(),
        Vec::new(),
        message,
    )
    .await
}

/// The page that shows a client's secret, once.
fn secret_page(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    client: &ClientWithSecret,
    title_key: &str,
) -> Response {
    let lang = &console.lang;
    let name = [("name", client.client.name.as_str().into())];
    let ctx = context! {
        secret => client.client_secret.clone(),
        secret_label => lang.text("admin-clients-secret-label", &[]),
        client_id => &client.client.client_id,
        text => lang.text("admin-clients-secret-text", &name),
        back => format!("/admin/oauth-clients/{}", client.client.client_id),
    };
    let view = View::new(
        "/admin/oauth-clients",
        "admin_secret.html",
        lang.text(title_key, &[]),
        ctx,
    );
    render(state, headers, console, view)
}

/// `POST /admin/oauth-clients`: a new client.
pub(super) async fn create(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(form);
    let console = match enter_form(&state, &headers, &fields).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if let Err(e) = oauth_clients::enabled(&state) {
        return failed(&state, &console, &e);
    }
    let form = Form::posted(&fields);
    let input = NewClient {
        name: form.name.clone(),
        client_type: form.client_type.clone(),
        redirect_uris: lines(&form.redirect_uris),
        post_logout_redirect_uris: Some(lines(&form.post_logout_redirect_uris)),
        grant_types: Some(form.grant_types.clone()),
        scopes: Some(form.scopes.clone()),
        audience: Some(form.audience.clone()).filter(|a| !a.is_empty()),
        skip_consent: Some(form.skip_consent),
        id_token_signed_response_alg: Some(form.alg.clone()),
    };
    match oauth_clients::create(&state, &console.actor, input, &meta).await {
        Ok(client) if client.client_secret.is_some() => secret_page(
            &state,
            &headers,
            &console,
            &client,
            "admin-clients-created-title",
        ),
        Ok(client) => see_other(&format!(
            "/admin/oauth-clients/{}?notice=client-updated",
            client.client.client_id
        )),
        Err(e) => match field_errors(&console.lang, &e) {
            Some(errors) => list_page(&state, &headers, &console, form, errors, None).await,
            None => failed(&state, &console, &e),
        },
    }
}

async fn edit_form(
    state: &AppState,
    headers: &HeaderMap,
    console: &Console,
    client: &ClientView,
    form: Form,
    errors: Vec<(String, String)>,
    message: Option<String>,
) -> Response {
    let lang = &console.lang;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error = (!errors.is_empty()).then(|| lang.text("admin-error-form", &[]));
    let ctx = context! {
        client => to_value(client),
        form => to_value(&form),
        errors => errors_value(&errors),
        choices => choices(),
    };
    let title = lang.text(
        "admin-client-title",
        &[("name", client.name.as_str().into())],
    );
    let view = View::new("/admin/oauth-clients", "admin_client.html", title, ctx)
        .status(status)
        .notice(message)
        .error(error);
    render(state, headers, console, view)
}

/// The client `id` for a console page: `[oidc]` must be on.
async fn client_of(state: &AppState, console: &Console, id: &str) -> Result<ClientView, Response> {
    let found = match oauth_clients::enabled(state) {
        Ok(()) => oauth_clients::get(state, id).await,
        Err(e) => Err(e),
    };
    found.map_err(|e| failed(state, console, &e))
}

/// `GET /admin/oauth-clients/{id}`.
pub(super) async fn edit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let client = match client_of(&state, &console, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let pairs = query(raw);
    let message = notice(&console.lang, Some(param(&pairs, "notice")));
    let form = Form::of(&client);
    edit_form(
        &state,
        &headers,
        &console,
        &client,
        form,
        Vec::new(),
        message,
    )
    .await
}

/// `POST /admin/oauth-clients/{id}`: what differs from the stored client
/// is changed.
pub(super) async fn edit(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(form);
    let console = match enter_form(&state, &headers, &fields).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let client = match client_of(&state, &console, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let mut form = Form::posted(&fields);
    form.client_type.clone_from(&client.client_type);
    let differs = |a: &Vec<String>, b: &Vec<String>| (a != b).then(|| a.clone());
    let redirect_uris = lines(&form.redirect_uris);
    let post_logout = lines(&form.post_logout_redirect_uris);
    let audience = Some(form.audience.clone()).filter(|a| !a.is_empty());
    let change = OAuthClientChange {
        name: (form.name != client.name).then(|| form.name.clone()),
        redirect_uris: differs(&redirect_uris, &client.redirect_uris),
        post_logout_redirect_uris: differs(&post_logout, &client.post_logout_redirect_uris),
        grant_types: differs(&form.grant_types, &client.grant_types),
        scopes: differs(&form.scopes, &client.scopes),
        audience: (audience != client.audience).then_some(audience),
        skip_consent: (form.skip_consent != client.skip_consent).then_some(form.skip_consent),
        id_token_alg: (form.alg != client.id_token_signed_response_alg).then(|| form.alg.clone()),
    };
    match oauth_clients::update(&state, &console.actor, &id, change, &meta).await {
        Ok(_) => see_other(&format!("/admin/oauth-clients/{id}?notice=client-updated")),
        Err(e) => match field_errors(&console.lang, &e) {
            Some(errors) => {
                edit_form(&state, &headers, &console, &client, form, errors, None).await
            }
            None => failed(&state, &console, &e),
        },
    }
}

/// A confirmation for client `id`: `stem` names its title and text.
async fn confirm(
    state: AppState,
    headers: HeaderMap,
    id: String,
    stem: &str,
    path: &str,
) -> Response {
    let console = match enter(&state, &headers).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let client = match client_of(&state, &console, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let lang = &console.lang;
    let name = [("name", client.name.as_str().into())];
    let action = format!("/admin/oauth-clients/{}/{path}", client.client_id);
    let back = format!("/admin/oauth-clients/{}", client.client_id);
    let c = Confirm {
        area: "/admin/oauth-clients",
        title: lang.text(&format!("{stem}-title"), &name),
        text: lang.text(&format!("{stem}-text"), &name),
        action: &action,
        cancel: &back,
        danger: true,
    };
    confirm_page(&state, &headers, &console, c)
}

/// `GET /admin/oauth-clients/{id}/secret`: the confirmation.
pub(super) async fn confirm_rotate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    confirm(state, headers, id, "admin-clients-rotate", "secret").await
}

/// `GET /admin/oauth-clients/{id}/delete`: the confirmation.
pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    confirm(state, headers, id, "admin-clients-delete", "delete").await
}

/// `POST /admin/oauth-clients/{id}/secret`: a new secret, shown once.
pub(super) async fn rotate(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(form);
    let console = match enter_form(&state, &headers, &fields).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if let Err(e) = oauth_clients::enabled(&state) {
        return failed(&state, &console, &e);
    }
    match oauth_clients::rotate_secret(&state, &console.actor, &id, &meta).await {
        Ok(client) => secret_page(
            &state,
            &headers,
            &console,
            &client,
            "admin-clients-rotated-title",
        ),
        Err(e) => failed(&state, &console, &e),
    }
}

/// `POST /admin/oauth-clients/{id}/delete`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(form);
    let console = match enter_form(&state, &headers, &fields).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if let Err(e) = oauth_clients::enabled(&state) {
        return failed(&state, &console, &e);
    }
    match oauth_clients::delete(&state, &console.actor, &id, &meta).await {
        Ok(()) => see_other("/admin/oauth-clients?notice=client-deleted"),
        Err(e) => failed(&state, &console, &e),
    }
}
