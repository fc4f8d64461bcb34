//! What every role shares: logging, the listener and graceful shutdown.
use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    use std::io::IsTerminal;
    // Colour codes only for a person at a terminal, never into a file or a pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Binds `addr`, or says clearly why it can't.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e} (is another sa-server running? choose another port with --listen)"))
}

/// Serves `app` until SIGTERM or Ctrl-C, then lets in-flight requests finish. Every role and
/// the dev gateway listen through here, so the limits that hold for all of them are set here.
pub async fn serve(listener: TcpListener, app: Router) -> anyhow::Result<()> {
    use axum::serve::ListenerExt;
    let app = app.layer(axum::middleware::from_fn(crate::header_limit::check));
    // Without TCP_NODELAY a response written as headers then body stalls on Nagle + delayed ACK.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("shut down");
    Ok(())
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}
