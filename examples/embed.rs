//! Embedding toktok in another axum program: toktok's routes mounted beside
//! the host program's own, on one listener.
//!
//! Run with `cargo run --example embed` (serves on 127.0.0.1:8081 with the
//! default configuration plus any `TOKTOK_*` variables).

use std::future::Future;
use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

/// The host program: its own `/hello` plus every toktok route.
async fn run(
    listener: TcpListener,
    config: toktok::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = toktok::App::build(config).await?;
    let router = Router::new()
        .route("/hello", get(|| async { "hello from the host program" }))
        .merge(app.router());
    // toktok reads the client address from ConnectInfo (rate limits, audit).
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = toktok::Config::load(None)?;
    toktok::telemetry::init(false, &config.log.level)?;
    let listener = TcpListener::bind("127.0.0.1:8081").await?;
    println!("embedded toktok on http://{}", listener.local_addr()?);
    run(listener, config, toktok::shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_example_serves_its_own_routes_and_toktoks() {
        let dir = tempfile::tempdir().unwrap();
        let toml = format!(
            "[database]\npath = {:?}\n[password]\npbkdf2_iterations = 1000\n",
            dir.path().join("embed.db").to_string_lossy()
        );
        let config = toktok::Config::from_sources(Some(&toml), std::iter::empty()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(run(listener, config, async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let hello = client
            .get(format!("http://{addr}/hello"))
            .send()
            .await
            .unwrap();
        assert_eq!(hello.text().await.unwrap(), "hello from the host program");
        let res = client
            .post(format!("http://{addr}/v1/auth/register"))
            .json(&serde_json::json!({ "email": "host@example.com", "password": "an embedded passphrase" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
