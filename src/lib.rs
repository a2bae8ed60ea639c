//! toktok: a self-hosted authentication server — register, login, rotating
//! refresh tokens, sessions — in one binary with one SQLite file.
//!
//! The binary is a thin client of this library; another Rust program can
//! embed toktok the same way:
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let config = toktok::Config::load(None)?;          // defaults + TOKTOK_* env
//! let app = toktok::App::build(config).await?;        // opens the database, loads keys
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! toktok::serve(listener, app, toktok::shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! or mount [`App::router`] inside its own axum program and start
//! [`App::run_background`] beside it (mail delivery, the sweeper, key
//! reloads; see `examples/embed.rs`).
//!
//! The public API is what embedding needs: [`Config`] (and its sections in
//! [`config`]), [`App`], [`serve`], the [`clock`] to build with, and
//! [`telemetry::init`]. `cli` is the binary's command line. Everything
//! else is private to the crate; the test suites see it through the
//! `testing` feature, the fuzz targets through `fuzzing` (neither is for
//! embedders, and the release binary builds without them).
//!
//! Layout: `http/` translates HTTP; `accounts/` holds the rules; `oidc/` is toktok as an OpenID provider,
//! `federation/` toktok as the client of other providers; `auth/` the
//! credentials (JWT, passwords, API keys); `challenge/` the challenge-token
//! engine; `mail/` the outbox and transports; `store/` the storage contract
//! and its SQLite and PostgreSQL backends; `domain/` the types that parse at
//! the edge; `app.rs` the state every handler sees; `server/` the [`App`]
//! and serving. docs/architecture.md draws who imports whom.
#![forbid(unsafe_code)]

// The `toktok` command line, for the binary (src/main.rs): hidden, as its
// clap types are documented by `--help`, not for embedders.
#[doc(hidden)]
pub mod cli;
pub mod clock;
pub mod config;
pub mod telemetry;

pub use config::Config;
pub use server::{serve, serve_with, shutdown_signal, App, AppBuilder, Background};

// Internals. Each is crate-private, and public only with the `testing`
// feature, which the test targets enable through the dev-dependency on
// this crate itself (Cargo.toml); the paths stay the same either way.
#[cfg(feature = "testing")]
pub mod accounts;
#[cfg(not(feature = "testing"))]
mod accounts;
#[cfg(feature = "testing")]
pub mod app;
#[cfg(not(feature = "testing"))]
mod app;
#[cfg(feature = "testing")]
pub mod auth;
#[cfg(not(feature = "testing"))]
mod auth;
#[cfg(feature = "testing")]
pub mod challenge;
#[cfg(not(feature = "testing"))]
mod challenge;
#[cfg(feature = "testing")]
pub mod domain;
#[cfg(not(feature = "testing"))]
mod domain;
#[cfg(feature = "testing")]
pub mod error;
#[cfg(not(feature = "testing"))]
mod error;
#[cfg(feature = "testing")]
pub mod federation;
#[cfg(not(feature = "testing"))]
mod federation;
#[cfg(feature = "testing")]
pub mod hooks;
#[cfg(not(feature = "testing"))]
mod hooks;
#[cfg(feature = "testing")]
pub mod http;
#[cfg(not(feature = "testing"))]
mod http;
#[cfg(feature = "testing")]
pub mod i18n;
#[cfg(not(feature = "testing"))]
mod i18n;
#[cfg(feature = "testing")]
pub mod mail;
#[cfg(not(feature = "testing"))]
mod mail;
#[cfg(feature = "testing")]
pub mod metrics;
#[cfg(not(feature = "testing"))]
mod metrics;
#[cfg(feature = "testing")]
pub mod oidc;
#[cfg(not(feature = "testing"))]
mod oidc;
#[cfg(feature = "testing")]
pub mod ratelimit;
#[cfg(not(feature = "testing"))]
mod ratelimit;
#[cfg(feature = "testing")]
pub mod router;
#[cfg(not(feature = "testing"))]
mod router;
#[cfg(feature = "testing")]
pub mod server;
#[cfg(not(feature = "testing"))]
mod server;
#[cfg(feature = "testing")]
pub mod store;
#[cfg(not(feature = "testing"))]
mod store;

#[cfg(feature = "testing")]
pub use app::AppState;

/// What the cargo-fuzz targets (`fuzz/`) need besides the `testing`
/// internals. Not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
