//! The HTTP server: an accept loop over hyper's HTTP/1.1 connections with the limits a public
//! socket needs, which `axum::serve` does not have.
//!
//! - **Header timeout** (`HTTP_HEADER_READ_TIMEOUT_SECS`): a connection that sends nothing, or
//!   only part of a request head, is closed (no answer is possible before a head is complete).
//! - **Body timeout** (`HTTP_BODY_READ_TIMEOUT_SECS`): a body that stalls that long between two
//!   pieces fails the read; the handler answers 408 and the connection closes.
//! - **Idle timeout** (`HTTP_IDLE_TIMEOUT_SECS`): a keep-alive connection without a request is
//!   closed.
//! - **Connection cap** (`HTTP_MAX_CONNECTIONS`): when every slot is taken, the connection idle
//!   longest (no request in flight) is closed to make room, and the last slots
//!   ([`reserved_slots`]) only serve the health probes, so a flood of idle or slow sockets cannot
//!   keep `/health` from answering nor use up the process' file descriptors.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use factus_application::error_chain;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::Service;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// `HTTP_HEADER_READ_TIMEOUT_SECS` (default 30).
    pub header_read_timeout: Duration,
    /// `HTTP_BODY_READ_TIMEOUT_SECS` (default 30).
    pub body_read_timeout: Duration,
    /// `HTTP_IDLE_TIMEOUT_SECS` (default 75).
    pub idle_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS` (default 512).
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            max_connections: 512,
        }
    }
}

/// Slots kept for health probes: a tenth of the cap, at least one.
#[must_use]
pub fn reserved_slots(max_connections: usize) -> usize {
    (max_connections / 10).max(1).min(max_connections.saturating_sub(1)).max(1)
}

/// Paths a reserved slot serves (the probes of an orchestrator).
fn is_probe(path: &str) -> bool {
    path.ends_with("/health") || path.ends_with("/health/ready")
}

/// What one connection is doing, for its timeouts and for eviction.
#[derive(Debug)]
struct ConnectionState {
    started: Instant,
    /// Requests being handled (the response not yet produced).
    in_flight: AtomicUsize,
    /// Whether bytes arrived since the last response (a request head is being read).
    reading: AtomicBool,
    /// When the current phase began (milliseconds since `started`): the first byte of a head,
    /// or the end of the last response.
    since_ms: AtomicU64,
    /// Whether a request was ever answered (after that, waiting is "idle", before it "header").
    answered: AtomicBool,
    /// Wakes the watchdog when the phase changes, or to close the connection (`evicted`).
    changed: Notify,
    evicted: AtomicBool,
}

impl ConnectionState {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            reading: AtomicBool::new(false),
            since_ms: AtomicU64::new(0),
            answered: AtomicBool::new(false),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
        }
    }

    fn mark_phase(&self) {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.since_ms.store(elapsed, Ordering::Release);
        self.changed.notify_one();
    }

    fn since(&self) -> Instant {
        self.started + Duration::from_millis(self.since_ms.load(Ordering::Acquire))
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// When the connection must be closed if nothing changes, or `None` while a request runs.
    fn deadline(&self, settings: &HttpSettings) -> Option<Instant> {
        if !self.is_idle() {
            return None;
        }
        let since = self.since();
        if self.reading.load(Ordering::Acquire) || !self.answered.load(Ordering::Acquire) {
            Some(since + settings.header_read_timeout)
        } else {
            Some(since + settings.idle_timeout)
        }
    }
}

/// The TCP stream, noting when a request head starts arriving.
struct Tracked {
    stream: TcpStream,
    state: Arc<ConnectionState>,
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before
            && this.state.is_idle()
            && !this.state.reading.swap(true, Ordering::AcqRel)
            && this.state.answered.load(Ordering::Acquire)
        {
            // The next request's head starts now: from here the header timeout applies.
            this.state.mark_phase();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The open connections, to pick one to evict when the table is full.
#[derive(Default)]
struct Connections {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<ConnectionState>>>,
}

impl Connections {
    fn count(&self) -> usize {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    fn insert(&self, state: Arc<ConnectionState>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, state);
        id
    }

    fn remove(&self, id: u64) {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }

    /// Closes the connection that has waited longest without a request in flight.
    fn evict_oldest_idle(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let victim = open
            .values()
            .filter(|state| state.is_idle() && !state.evicted.load(Ordering::Acquire))
            .min_by_key(|state| state.since());
        match victim {
            Some(state) => {
                state.evicted.store(true, Ordering::Release);
                state.changed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// The 503 a reserved slot answers to anything but a probe.
fn busy() -> Response<Body> {
    let mut response = Response::new(Body::from(r#"{"detail":"Servidor ocupado, intente de nuevo"}"#));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}

/// Serves `router` on `listener` with `settings` until `shutdown` resolves; then stops accepting
/// and lets in-flight requests finish for at most `grace`.
///
/// # Errors
/// Never for a failed connection (logged); the signature leaves room for listener failures.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    settings: HttpSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let connections = Arc::new(Connections::default());
    let draining = Arc::new(Notify::new());
    let stopping = Arc::new(AtomicBool::new(false));
    let tasks = tokio_util_like::TaskCount::default();
    let reserved = reserved_slots(settings.max_connections);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = error_chain(&error), "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let open = connections.count();
        let probes_only = if open + reserved < settings.max_connections {
            false
        } else if open < settings.max_connections {
            // The last slots: evict an idle connection if there is one, else serve probes only.
            !connections.evict_oldest_idle()
        } else if connections.evict_oldest_idle() {
            false
        } else {
            tracing::warn!(open, "connection table full of busy connections, refusing one");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::new(ConnectionState::new());
        let id = connections.insert(Arc::clone(&state));
        let service = router.clone();
        let connections = Arc::clone(&connections);
        let draining = Arc::clone(&draining);
        let stopping = Arc::clone(&stopping);
        let guard = tasks.enter();
        tokio::spawn(async move {
            serve_connection(stream, peer, service, settings, Arc::clone(&state), probes_only, &draining, &stopping)
                .await;
            connections.remove(id);
            drop(guard);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    stopping.store(true, Ordering::Release);
    draining.notify_waiters();
    if tokio::time::timeout(grace, tasks.wait_idle()).await.is_err() {
        tracing::warn!(grace_secs = grace.as_secs(), "grace period over, dropping remaining connections");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    settings: HttpSettings,
    state: Arc<ConnectionState>,
    probes_only: bool,
    draining: &Notify,
    stopping: &AtomicBool,
) {
    let body_timeout = settings.body_read_timeout;
    let counted = Arc::clone(&state);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut router = router.clone();
        let state = Arc::clone(&counted);
        async move {
            state.in_flight.fetch_add(1, Ordering::AcqRel);
            state.reading.store(false, Ordering::Release);
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let body = Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, body));
            let request = Request::from_parts(parts, body);
            let response = if probes_only && !is_probe(request.uri().path()) {
                busy()
            } else {
                match <axum::Router as Service<Request<Body>>>::call(&mut router, request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            };
            state.answered.store(true, Ordering::Release);
            state.in_flight.fetch_sub(1, Ordering::AcqRel);
            state.mark_phase();
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let io = TokioIo::new(Tracked { stream, state: Arc::clone(&state) });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).keep_alive(!probes_only).header_read_timeout(None);
    let connection = builder.serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    state.mark_phase();
    loop {
        let deadline = state.deadline(&settings);
        let expired = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(error = error_chain(&error), "connection ended with an error");
                }
                return;
            }
            () = expired => {
                if state.deadline(&settings).is_some_and(|deadline| deadline <= Instant::now()) {
                    tracing::debug!(%peer, "connection timed out (header or idle)");
                    return;
                }
            }
            () = state.changed.notified() => {
                if state.evicted.load(Ordering::Acquire) && state.is_idle() {
                    tracing::debug!(%peer, "idle connection closed to make room");
                    return;
                }
            }
            () = draining.notified(), if !stopping.load(Ordering::Acquire) => {}
        }
        if stopping.load(Ordering::Acquire) {
            // Shutting down: finish what is in flight, then close.
            connection.as_mut().graceful_shutdown();
            if let Err(error) = connection.as_mut().await {
                tracing::debug!(error = error_chain(&error), "connection ended with an error while draining");
            }
            return;
        }
    }
}

/// Counting spawned connection tasks, to wait for them at shutdown.
mod tokio_util_like {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Notify;

    #[derive(Default, Clone)]
    pub(super) struct TaskCount(Arc<Inner>);

    #[derive(Default)]
    struct Inner {
        running: AtomicUsize,
        idle: Notify,
    }

    pub(super) struct Guard(Arc<Inner>);

    impl TaskCount {
        pub(super) fn enter(&self) -> Guard {
            self.0.running.fetch_add(1, Ordering::AcqRel);
            Guard(Arc::clone(&self.0))
        }

        pub(super) async fn wait_idle(&self) {
            loop {
                let notified = self.0.idle.notified();
                if self.0.running.load(Ordering::Acquire) == 0 {
                    return;
                }
                notified.await;
            }
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.0.idle.notify_waiters();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenth_of_the_slots_is_kept_for_probes() {
        assert_eq!(reserved_slots(512), 51);
        assert_eq!(reserved_slots(20), 2);
        assert_eq!(reserved_slots(2), 1);
        assert_eq!(reserved_slots(1), 1);
    }

    #[test]
    fn only_health_paths_are_probes() {
        assert!(is_probe("/api/v1/health"));
        assert!(is_probe("/api/v1/health/ready"));
        assert!(!is_probe("/api/v1/invoices"));
    }
}
