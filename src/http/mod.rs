//! HTTP handlers, one module per resource. Handlers translate between HTTP
//! and the services (`crate::accounts`); they hold no rules of their own.
//!
//! Each handler declares its own route and OpenAPI operation with
//! `#[utoipa::path]`; [`ops`] and [`api`] below are the only list of them.
//! `utoipa-axum` turns each `routes!(…)` into both the axum route and the
//! document's operation, so the two cannot disagree. `crate::router` adds
//! the layers; [`openapi`] completes the document.

#[cfg(any(test, feature = "testing"))]
use axum::http::Method;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

pub mod account;
pub mod admin;
pub mod admin_factors;
pub mod assurance;
pub mod auth;
pub mod branding;
pub mod browser;
pub mod challenges;
pub mod console;
pub mod demo;
pub mod email;
pub mod email_code;
pub mod error;
pub mod extract;
pub mod hosted;
pub mod import;
pub mod listed;
pub mod mfa;
pub mod oauth;
pub mod oauth_clients;
pub mod oauth_token;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod passkeys;
pub mod providers;
pub mod sdk;
pub mod swagger;
pub mod totp;
pub mod users;
pub mod webhooks;

/// The operational routes: probes, keys, the document, the demo page.
pub fn ops() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::jwks))
        .routes(routes!(oauth::openid_configuration))
        .routes(routes!(oauth::authorization_server))
        .routes(routes!(openapi::serve))
        .routes(routes!(demo::page))
}

/// The API of docs/API.md, under `/v1/` (answers that must not be cached).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(ops::settings))
        .routes(routes!(auth::anonymous))
        .routes(routes!(auth::public_key))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::logout_all))
        .routes(routes!(users::me, users::patch_me, users::delete_me))
        .routes(routes!(users::change_password))
        .routes(routes!(users::sessions))
        .routes(routes!(users::end_session))
        .routes(routes!(email::change_email))
        .routes(routes!(email::confirm_page, email::confirm))
        .routes(routes!(email::resend))
        .routes(routes!(email::forgot))
        .routes(routes!(email::reset_page, email::reset))
        .routes(routes!(challenges::create))
        .routes(routes!(challenges::verify))
        .routes(routes!(challenges::info))
        .routes(routes!(challenges::regenerate))
        .routes(routes!(challenges::remove))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(
            admin::get_user,
            admin::patch_user,
            admin::delete_user
        ))
        .routes(routes!(admin::logout_user))
        .routes(routes!(admin::audit))
        .routes(routes!(import::import_users))
        .routes(routes!(mfa::mfa))
        .routes(routes!(mfa::passkey_options))
        .routes(routes!(passkeys::sign_in_options))
        .routes(routes!(passkeys::sign_in))
        .routes(routes!(passkeys::register_options))
        .routes(routes!(passkeys::register))
        .routes(routes!(passkeys::rename, passkeys::remove))
        .routes(routes!(email_code::request))
        .routes(routes!(email_code::page, email_code::verify))
        .routes(routes!(totp::factors))
        .routes(routes!(totp::begin, totp::disable))
        .routes(routes!(totp::confirm))
        .routes(routes!(totp::recovery_codes))
        .routes(routes!(assurance::reauthenticate))
        .routes(routes!(assurance::reauthenticate_passkey_options))
        .routes(routes!(admin_factors::reset_user_factors))
        .routes(routes!(oauth_clients::list, oauth_clients::create))
        .routes(routes!(
            oauth_clients::get,
            oauth_clients::patch,
            oauth_clients::delete
        ))
        .routes(routes!(oauth_clients::rotate_secret))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::patch, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::retry))
        .routes(routes!(oauth_clients::apps))
        .routes(routes!(oauth_clients::revoke_app))
        .routes(routes!(oauth_token::token))
        .routes(routes!(
            oauth_token::userinfo_get,
            oauth_token::userinfo_post
        ))
        .routes(routes!(oauth_token::revoke))
        .routes(routes!(oauth_token::introspect))
        .routes(routes!(providers::list))
        .routes(routes!(providers::start))
        .routes(routes!(providers::callback_get, providers::callback_post))
        .routes(routes!(providers::exchange))
        .routes(routes!(providers::list_identities))
        .routes(routes!(providers::start_link))
        .routes(routes!(providers::unlink))
        .merge(hosted())
}

/// The OpenID provider's authorization endpoint and hosted pages (HTML).
fn hosted() -> OpenApiRouter<AppState> {
    use hosted::{authorize, consent, login, logout, more};
    OpenApiRouter::default()
        .routes(routes!(authorize::authorize))
        .routes(routes!(login::page, login::submit))
        .routes(routes!(login::mfa_submit))
        .routes(routes!(more::passkey_page, more::passkey_submit))
        .routes(routes!(more::email_code_request))
        .routes(routes!(more::email_code_verify))
        .routes(routes!(more::register_page, more::register_submit))
        .routes(routes!(more::forgot_page, more::forgot_submit))
        .routes(routes!(consent::page, consent::submit))
        .routes(routes!(logout::rp_initiated))
        .routes(routes!(logout::page, logout::submit))
}

/// The routes outside the OpenAPI document: the branding logo (an image
/// beside the pages), the client library (clients/js/) for apps to
/// import, the admin console and the account center (HTML for people).
pub fn pages() -> listed::Listed {
    listed::Listed::default()
        .route("/branding/logo", axum::routing::get(branding::logo))
        .route("/sdk/toktok.js", axum::routing::get(sdk::script))
        .route("/sdk/toktok.d.ts", axum::routing::get(sdk::types))
        .merge(console::routes())
        .merge(account::router())
}

#[cfg(any(test, feature = "testing"))]
/// Every path of [`pages`], in the router's syntax (`/admin/users/{id}`).
/// `/docs` (Swagger UI's own router, off by configuration) and
/// `/metrics` (its own listener) are not here.
pub fn page_paths() -> Vec<&'static str> {
    pages().paths().to_vec()
}

/// Every route of [`ops`] and [`api`], with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    ops().merge(api())
}

#[cfg(any(test, feature = "testing"))]
/// Every (method, path) served by [`routes`], in the router's path syntax
/// (`/v1/admin/users/{id}`). `GET /docs` (Swagger UI's own router) is not a
/// handler here, so not listed.
pub fn operations() -> Vec<(Method, String)> {
    let document = routes().into_openapi();
    let mut found = Vec::new();
    for (path, item) in &document.paths.paths {
        let methods = [
            (Method::GET, item.get.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::DELETE, item.delete.is_some()),
            (Method::OPTIONS, item.options.is_some()),
            (Method::HEAD, item.head.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::TRACE, item.trace.is_some()),
        ];
        for (method, present) in methods {
            if present {
                found.push((method, path.clone()));
            }
        }
    }
    found
}
