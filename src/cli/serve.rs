//! `toktok serve`: the server, with systemd readiness and SIGHUP key reloads.

use anyhow::Context as _;

use crate::config::Config;
use crate::App;

pub(super) async fn serve(config: Config, source: &str) -> anyhow::Result<()> {
    tracing::info!("configuration: {source}");
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let listen = config.server.listen;
    let app = App::build(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (server.listen)"))?;
    // `/metrics` has a listener of its own, loopback by default (TT-10).
    let metrics = match config_metrics(&app) {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} (metrics.listen; \"off\" turns it off)")
        })?),
        None => None,
    };
    spawn_key_reloader(app.clone());
    // The database is open and migrated (App::build) and the port bound:
    // connections queue in the kernel from here on, so systemd may start
    // what depends on toktok.
    notify_systemd(sd_notify::NotifyState::Ready);
    let shutdown = async {
        crate::shutdown_signal().await;
        notify_systemd(sd_notify::NotifyState::Stopping);
    };
    crate::serve_with(listener, metrics, app, shutdown).await
}

/// Where `/metrics` is to be served, if anywhere.
pub(super) fn config_metrics(app: &App) -> Option<std::net::SocketAddr> {
    let metrics = &app.state().config.metrics;
    metrics.listen.filter(|_| metrics.enabled)
}

/// Tells systemd (`Type=notify`) about a state change through
/// `$NOTIFY_SOCKET`; does nothing when it is unset, i.e. outside systemd.
pub(super) fn notify_systemd(state: sd_notify::NotifyState<'_>) {
    if let Err(e) = sd_notify::notify(&[state]) {
        tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}

/// SIGHUP rereads the keys at once, without waiting for `jwt.key_reload`.
pub(super) fn spawn_key_reloader(app: App) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP; key reloads need a restart");
            return;
        };
        while hup.recv().await.is_some() {
            match app.state().reload_keys().await {
                Ok(()) => tracing::info!("keys reread (SIGHUP)"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "signing key reload failed"),
            }
        }
    });
    #[cfg(not(unix))]
    drop(app);
}
