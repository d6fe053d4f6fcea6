//! The server: an accept loop that serves each connection with hyper itself, so that a fault can
//! drop a connection without answering and `shutdown` can drop connections that hang.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::app::{App, ConnHandle, router};
use crate::config::SandboxConfig;
use crate::persist;

/// A running sandbox. Dropping it stops the server too, without saving state; call
/// [`Sandbox::shutdown`] to stop it and save.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    flusher: Option<tokio::task::JoinHandle<()>>,
    app: Arc<App>,
}

impl Sandbox {
    /// Binds `config.bind` (port 0 allowed) and serves in a background tokio task.
    ///
    /// # Errors
    /// Binding fails, or the state file cannot be read.
    pub async fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        let listener = TcpListener::bind(config.bind).await?;
        Self::start_on(listener, config).await
    }

    /// Serves on an already bound listener.
    ///
    /// # Errors
    /// The listener has no local address, or the state file cannot be read.
    pub async fn start_on(listener: TcpListener, config: SandboxConfig) -> io::Result<Sandbox> {
        let addr = listener.local_addr()?;
        let app = Arc::new(App::new(config));
        if let Some(path) = app.config.state_file.clone() {
            let loading = Arc::clone(&app);
            tokio::task::spawn_blocking(move || persist::load(&loading.store, &path))
                .await
                .map_err(io::Error::other)??;
        }
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, router(Arc::clone(&app)), stopped.clone()));
        let flusher =
            app.config.state_file.clone().map(|path| tokio::spawn(flush_periodically(Arc::clone(&app), path, stopped)));
        Ok(Sandbox { addr, stop, server: Some(server), flusher, app })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, drops open connections (so a `hang` ends), saves state if configured.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.await;
        }
        if let Some(path) = self.app.config.state_file.clone() {
            let app = Arc::clone(&self.app);
            let saved = tokio::task::spawn_blocking(move || persist::save(&app.store, &path)).await;
            match saved {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = format!("{e:#}"), "could not save the sandbox state"),
                Err(e) => tracing::error!(error = format!("{e:#}"), "the state-saving task failed"),
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Accepts until told to stop, then aborts every connection task (closing their sockets).
async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = format!("{e:#}"), "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = stopped(&mut stop) => break,
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Serves one connection until it ends or a handler asks for it to be dropped.
async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let handle = ConnHandle::default();
    let signal = Arc::clone(&handle.0);
    let service = router.map_request(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(handle.clone());
        request
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::select! {
        _ = connection => {}
        () = signal.notified() => {}
    }
}

/// Resolves once the sandbox is told to stop (or its handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Saves the state every second while it changes.
async fn flush_periodically(app: Arc<App>, path: std::path::PathBuf, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stopped(&mut stop) => return,
        }
        if app.store.dirty.swap(false, Ordering::Relaxed) {
            let app = Arc::clone(&app);
            let path = path.clone();
            match tokio::task::spawn_blocking(move || persist::save(&app.store, &path)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = format!("{e:#}"), "could not save the sandbox state"),
                Err(e) => tracing::warn!(error = format!("{e:#}"), "the state-saving task failed"),
            }
        }
    }
}
