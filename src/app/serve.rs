//! The HTTP server loop: the router over hyper's HTTP/1 connections, with what a service facing
//! the internet needs and `axum::serve` does not offer: a deadline on reading a request's headers
//! (a client that opens a connection and never finishes them is closed), a cap on connections
//! served at once (the rest wait in the kernel's backlog instead of exhausting file descriptors),
//! and a deadline on graceful shutdown (requests in flight may finish; a connection that would
//! keep SIGTERM from ending the process is dropped when the deadline passes).

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What the server loop allows a client (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers, from the connection's start or its last response.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// After shutdown is asked for, how long connections may finish.
    pub shutdown_grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets connections finish for
/// at most `limits.shutdown_grace`. Accept errors (such as running out of file descriptors) are
/// logged and retried after a pause; they never end the loop.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        // A free slot first, so that connections beyond the cap wait in the backlog.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = shutdown.cancelled() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(router.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = limits.shutdown_grace.as_secs(),
            "connections still open at the shutdown deadline were dropped"
        );
    }
}
