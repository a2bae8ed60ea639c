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
//! or mount [`App::router`] inside its own axum/hyper server (see
//! `examples/embed.rs`). Background tasks (the sweeper, the mail worker)
//! run only under [`serve`]; a program that mounts the router calls
//! [`server::sweep_once`] and [`mail::deliver_due`] on its own schedule.
//!
//! Layout: `http/` translates HTTP; `accounts/` holds the rules; `auth/` the
//! credentials (JWT, passwords, API keys); `challenge/` the challenge-token
//! engine; `mail/` the outbox and transports; `store/` the SQLite data;
//! `domain/` the types that parse at the edge.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod app;
pub mod auth;
pub mod challenge;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod ratelimit;
pub mod router;
pub mod server;
pub mod store;
pub mod telemetry;

pub use app::AppState;
pub use config::Config;
pub use server::{serve, serve_with, shutdown_signal, App, AppBuilder, Background};
