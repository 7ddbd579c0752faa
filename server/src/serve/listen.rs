//! The HTTP listener: connection limits and timeouts in front of the router.
//!
//! `axum::serve` accepts every connection and waits on each forever, so idle
//! sockets, slowly sent headers and dripped bodies once held 1,100 sockets
//! and starved `/healthz`. Here every connection needs a permit (at most
//! [`Limits::max_connections`], kept below the file-descriptor limit, which is
//! raised to its hard maximum at start-up); hyper closes a connection whose
//! request headers do not arrive within [`Limits::header_timeout`] — which,
//! in hyper 1.x, also bounds the idle wait between keep-alive requests — and
//! [`read_body_in_time`] gives a request body a total deadline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use super::http::{AppError, MAX_BODY};

/// Connection limits (config keys `max_connections`, `header_timeout_seconds`, `body_timeout_seconds`).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time for a request's headers to arrive, and for an idle keep-alive
    /// connection to start its next request.
    pub header_timeout: Duration,
    /// Time for a whole request body to arrive.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: 1024, header_timeout: Duration::from_secs(10), body_timeout: Duration::from_secs(20) }
    }
}

/// File descriptors kept back for the database, log files and the grading workers.
const RESERVED_FDS: u64 = 128;

/// Raises the soft file-descriptor limit to the hard one (where allowed) and
/// returns how many connections fit below it.
pub fn connection_ceiling(wanted: usize) -> usize {
    #[cfg(unix)]
    {
        let soft = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let room = soft.saturating_sub(RESERVED_FDS).max(16);
        wanted.min(room as usize).max(1)
    }
    #[cfg(not(unix))]
    {
        wanted
    }
}

/// Reads the whole request body within `deadline` (413 beyond [`MAX_BODY`],
/// 408 when it is too slow), so a client dripping bytes cannot hold a
/// request — and its connection — open indefinitely.
pub async fn read_body_in_time(deadline: Duration, request: Request, next: Next) -> Response {
    let has_body = request.headers().get(axum::http::header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0")
        || request.headers().contains_key(axum::http::header::TRANSFER_ENCODING);
    if !has_body {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_BODY + 1)).await {
        Ok(Ok(bytes)) if bytes.len() > MAX_BODY => AppError::PayloadTooLarge(format!("the request body is larger than {MAX_BODY} bytes")).into_response(),
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Ok(Err(_)) => AppError::PayloadTooLarge(format!("the request body is larger than {MAX_BODY} bytes, or was cut off")).into_response(),
        Err(_) => {
            let body = serde_json::json!({"error": {"code": "request_timeout", "message": format!("the request body did not arrive within {} seconds", deadline.as_secs())}});
            (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
        }
    }
}

/// Serves `app` on `listener` under `limits` until `stopping` turns true;
/// then stops accepting, lets open requests finish (at most `drain`) and returns.
pub async fn serve(listener: TcpListener, app: Router, limits: &Limits, mut stopping: watch::Receiver<bool>, drain: Duration) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p?,
            _ = stopping.wait_for(|s| *s) => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors or a reset connection: not fatal; pause briefly.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopping.wait_for(|s| *s) => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = watched.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!(seconds = drain.as_secs(), "some connections were still open at the end of the drain; closing them");
    }
    Ok(())
}
