//! Embedding toktok in another axum program: toktok's routes merged beside
//! the host program's own, on one listener, with toktok's background work
//! (mail delivery, the sweeper, key reloads) running alongside.
//!
//! Run with `cargo run --example embed` (serves on 127.0.0.1:8081 with the
//! default configuration plus any `TOKTOK_*` variables). The test that
//! proves mail and key rotation work through this code is
//! `tests/api/embed.rs`, which compiles this file as a module.

use std::future::Future;
use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

/// The host program: its own `/hello` plus every toktok route, served until
/// `shutdown`; toktok's background work stops with it.
pub async fn run(
    listener: TcpListener,
    config: toktok::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = toktok::App::build(config).await?;
    // The outbox worker, the sweeper and the key reloader: without them
    // no mail leaves and a rotated key never reaches the JWKS.
    let background = app.run_background();
    let router = Router::new()
        .route("/hello", get(|| async { "hello from the host program" }))
        .merge(app.router());
    // toktok reads the client address from ConnectInfo (rate limits, audit).
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // The mail worker finishes the message in hand, then everything stops.
    background.stop().await;
    Ok(served?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = toktok::Config::load(None)?;
    toktok::telemetry::init(false, &config.log.level)?;
    let listener = TcpListener::bind("127.0.0.1:8081").await?;
    println!("embedded toktok on http://{}", listener.local_addr()?);
    run(listener, config, toktok::shutdown_signal()).await
}
