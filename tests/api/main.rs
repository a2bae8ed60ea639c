//! The integration suite: the contract (docs/API.md) mirrored as tests against the
//! real server on a random port. One binary, one module per feature.

// Helpers and fixtures are test code outside #[test] functions: a failed
// set-up is a failed test, so unwrap, expect and panic are fine here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_center;
mod admin;
mod admin_console;
mod admin_console_webhooks;
mod anonymous;
mod api_keys;
mod architecture;
mod assurance;
mod assurance_passkey;
mod audit;
mod authenticator;
mod authz_matrix;
mod authz_pages;
mod bad_input;
mod challenges;
mod cli;
mod clock;
mod deploy;
mod email;
mod email_code;
mod embed;
mod field_errors;
mod grant_recheck;
mod helpers;
mod hostile;
mod import;
mod import_crash;
mod keys;
mod languages;
mod limits;
mod links;
mod login;
mod mail;
mod mail_languages;
mod mfa;
mod oauth_clients;
mod oidc;
mod oidc_flow;
mod oidc_pages;
mod oidc_token;
mod openapi;
mod ops;
mod passkeys;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_races;
#[cfg(feature = "postgres")]
mod postgres_tls;
mod providers;
mod refresh;
mod register;
mod rsa_keys;
mod sdk;
mod sessions;
mod smtp;
mod timing;
mod token_hooks;
mod token_shapes;
mod totp;
mod user_locale;
mod users;
mod webhooks;
