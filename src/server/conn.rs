//! Connections of the embedded server: the accept loop, the cap on open connections (at the
//! cap, the connection idle longest is closed to admit the new one, so idle or stalled
//! clients can never lock out kubectl), the TLS handshake and request-header deadlines, the
//! backoff after accept errors (no spinning when file descriptors run out), and the
//! rate-limited logging of errors that repeat once per connection.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio_rustls::rustls;

use super::http::{self, Body};
use super::{Shared, authenticated, tls};

/// The limits a server enforces on its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once. At the cap, the connection idle longest (no request in
    /// flight, or none yet) is closed for a new one; when every connection has a request in
    /// flight, a new one waits up to a second for a slot and is then closed.
    pub max_connections: usize,
    /// Time a client has to complete the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Time a client has to send a request's headers once the connection is ready (the
    /// first request, and every later one on HTTP/1.1).
    pub header_read_timeout: Duration,
    /// Largest request body read (only access reviews have one); larger ones get 413
    /// before they are read.
    pub max_body_bytes: usize,
}

/// kube-apiserver's own request body limit (3 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Connections the server keeps at most when the file-descriptor limit allows it.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: default_max_connections(),
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// The process's soft limit on open files, when the platform tells.
pub fn fd_soft_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
        if rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY {
            // rlim_t is u64 on Linux, not on every Unix.
            #[allow(clippy::unnecessary_cast)]
            return Some(lim.rlim_cur as u64);
        }
    }
    None
}

/// 1024 connections, or three quarters of the file-descriptor limit when that is smaller:
/// the rest stays for the listener, log files and whatever else the process (the TUI, its
/// kube client) opens.
pub fn default_max_connections() -> usize {
    match fd_soft_limit() {
        Some(n) => (n.saturating_mul(3) / 4).clamp(16, DEFAULT_MAX_CONNECTIONS as u64) as usize,
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

/// Logs an error that can repeat once per connection at most once per interval, with the
/// number of occurrences it left out.
pub(crate) struct Throttle {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    pub(crate) fn new(every: Duration) -> Self {
        Throttle {
            every,
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(left_out)` when this occurrence should be logged: how many were not since the
    /// last one that was.
    pub(crate) fn check(&self) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match s.0 {
            Some(last) if now.duration_since(last) < self.every => {
                s.1 += 1;
                None
            }
            _ => {
                let left_out = s.1;
                *s = (Some(now), 0);
                Some(left_out)
            }
        }
    }
}

/// How often a repeated connection error is logged at most.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// One throttle per kind of repeated event.
struct Logs {
    accept: Throttle,
    evicted: Throttle,
    refused: Throttle,
    handshake: Throttle,
    no_request: Throttle,
    ended: Throttle,
}

struct Entry {
    in_flight: u32,
    /// Tick of the last request's end (or of the accept), for "idle longest".
    last_used: u64,
    abort: Option<AbortHandle>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    tick: u64,
    open: HashMap<u64, Entry>,
}

/// The open connections and what each is doing.
pub(crate) struct Conns {
    /// The cap; lowered to what the process can hold when accept runs out of descriptors.
    max: AtomicUsize,
    state: Mutex<State>,
    /// Notified when a connection closes or finishes a request.
    changed: Notify,
    logs: Logs,
}

impl Conns {
    pub(crate) fn new(max: usize) -> Self {
        let t = || Throttle::new(LOG_EVERY);
        Conns {
            max: AtomicUsize::new(max.max(1)),
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            logs: Logs {
                accept: t(),
                evicted: t(),
                refused: t(),
                handshake: t(),
                no_request: t(),
                ended: t(),
            },
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.lock().open.len()
    }

    pub(crate) fn max(&self) -> usize {
        self.max.load(Ordering::Relaxed)
    }

    /// Closes the connection idle longest; false when every one has a request in flight.
    fn evict_locked(state: &mut State) -> bool {
        let victim = state
            .open
            .iter()
            .filter(|(_, c)| c.in_flight == 0 && c.abort.is_some())
            .min_by_key(|(_, c)| c.last_used)
            .map(|(id, _)| *id);
        match victim.and_then(|id| state.open.remove(&id)) {
            Some(entry) => {
                if let Some(a) = entry.abort {
                    a.abort();
                }
                true
            }
            None => false,
        }
    }

    /// A slot for a new connection: `(id, evicted)`, or `None` when the cap is reached and
    /// every connection has a request in flight.
    fn admit(&self) -> Option<(u64, bool)> {
        let mut s = self.lock();
        let evicted = s.open.len() >= self.max();
        if evicted && !Self::evict_locked(&mut s) {
            return None;
        }
        s.next_id += 1;
        s.tick += 1;
        let (id, tick) = (s.next_id, s.tick);
        s.open.insert(
            id,
            Entry {
                in_flight: 0,
                last_used: tick,
                abort: None,
            },
        );
        Some((id, evicted))
    }

    /// Waits until a slot is free or a connection is idle, then takes it.
    async fn admit_when_possible(&self) -> (u64, bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(a) = self.admit() {
                return a;
            }
            changed.await;
        }
    }

    fn set_abort(&self, id: u64, abort: AbortHandle) {
        if let Some(e) = self.lock().open.get_mut(&id) {
            e.abort = Some(abort);
        }
    }

    /// Out of file descriptors: closes up to `SHED` idle connections so accept can go on,
    /// and lowers the cap to what is left open, so from now on a new connection replaces an
    /// idle one instead of failing accept. Returns how many were closed.
    fn shed(&self) -> usize {
        let mut s = self.lock();
        let mut closed = 0;
        while closed < SHED && Self::evict_locked(&mut s) {
            closed += 1;
        }
        let fits = s.open.len().max(MIN_CONNECTIONS);
        self.max.fetch_min(fits, Ordering::Relaxed);
        drop(s);
        if closed > 0 {
            self.changed.notify_waiters();
        }
        closed
    }

    fn release(&self, id: u64) {
        self.lock().open.remove(&id);
        self.changed.notify_waiters();
    }

    fn request_started(self: &Arc<Self>, id: u64) -> InFlight {
        if let Some(e) = self.lock().open.get_mut(&id) {
            e.in_flight += 1;
        }
        InFlight {
            conns: self.clone(),
            id,
        }
    }

    fn request_ended(&self, id: u64) {
        {
            let mut s = self.lock();
            s.tick += 1;
            let tick = s.tick;
            if let Some(e) = s.open.get_mut(&id) {
                e.in_flight = e.in_flight.saturating_sub(1);
                e.last_used = tick;
            }
        }
        self.changed.notify_waiters();
    }
}

/// A connection's slot, released when its task ends (or is aborted, even before it ran).
struct Slot {
    conns: Arc<Conns>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conns.release(self.id);
    }
}

/// A request in flight on a connection: from its headers to the last byte of its response
/// (a watch stays in flight while it streams), so its connection is never evicted.
struct InFlight {
    conns: Arc<Conns>,
    id: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.conns.request_ended(self.id);
    }
}

/// A response body that keeps its request in flight until it is sent or dropped.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Whether an accept error means the process ran out of file descriptors or memory for
/// sockets (closing an idle connection helps), rather than a client's aborted connect.
fn is_resource_exhaustion(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        )
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Doubling pause after consecutive accept errors, from 5 ms up to 1 s.
struct Backoff(Duration);

impl Backoff {
    const MIN: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        d
    }

    fn reset(&mut self) {
        self.0 = Self::MIN;
    }
}

/// Idle connections closed at once when accept runs out of file descriptors: room for the
/// connections that were waiting, and for those being closed to let go of theirs.
const SHED: usize = 16;

/// The cap is never lowered below this.
const MIN_CONNECTIONS: usize = 16;

/// How long a new connection waits for a slot when every open one is busy.
const ADMIT_WAIT: Duration = Duration::from_secs(1);

pub(crate) async fn accept_loop(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    conns: Arc<Conns>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let mut shutdown = shared.shutdown.clone();
    let mut backoff = Backoff(Backoff::MIN);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        let tcp = match accepted {
            Ok((tcp, _peer)) => {
                backoff.reset();
                tcp
            }
            Err(e) => {
                let closed_idle = if is_resource_exhaustion(&e) {
                    conns.shed()
                } else {
                    0
                };
                let pause = backoff.next();
                if let Some(left_out) = conns.logs.accept.check() {
                    tracing::warn!(
                        error = %e,
                        open = conns.open(),
                        closed_idle,
                        max_connections = conns.max(),
                        retry_in_ms = pause.as_millis() as u64,
                        left_out,
                        "accept failed"
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => return,
                }
                continue;
            }
        };
        let admitted = match conns.admit() {
            Some(a) => Some(a),
            None => tokio::select! {
                r = tokio::time::timeout(ADMIT_WAIT, conns.admit_when_possible()) => r.ok(),
                _ = shutdown.changed() => return,
            },
        };
        let Some((id, evicted)) = admitted else {
            if let Some(left_out) = conns.logs.refused.check() {
                tracing::warn!(
                    open = conns.open(),
                    left_out,
                    "connection limit reached and every connection is busy: closed a new connection"
                );
            }
            drop(tcp);
            continue;
        };
        if evicted && let Some(left_out) = conns.logs.evicted.check() {
            tracing::info!(
                max = conns.max(),
                left_out,
                "connection limit reached: closed the connection idle longest for a new one"
            );
        }
        let slot = Slot {
            conns: conns.clone(),
            id,
        };
        let task = tokio::spawn(serve_connection(
            tcp,
            acceptor.clone(),
            shared.clone(),
            slot,
        ));
        conns.set_abort(id, task.abort_handle());
    }
}

async fn serve_connection(
    tcp: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    slot: Slot,
) {
    let conns = slot.conns.clone();
    let id = slot.id;
    let limits = shared.limits.clone();
    let mut shutdown = shared.shutdown.clone();
    let handshake = tokio::select! {
        r = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp)) => r,
        _ = shutdown.changed() => return,
    };
    let stream = match handshake {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            if let Some(left_out) = conns.logs.handshake.check() {
                tracing::debug!(error = %e, left_out, "TLS handshake failed");
            }
            return;
        }
        Err(_) => {
            if let Some(left_out) = conns.logs.handshake.check() {
                tracing::debug!(
                    timeout_ms = limits.tls_handshake_timeout.as_millis() as u64,
                    left_out,
                    "TLS handshake timed out"
                );
            }
            return;
        }
    };
    let cert_user = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|der| tls::identity_from_der(der))
        .map(|(name, groups)| authenticated(&name, &groups));

    let first_request = Arc::new(Notify::new());
    let service = {
        let first_request = first_request.clone();
        let conns = conns.clone();
        let shared = shared.clone();
        hyper::service::service_fn(move |req| {
            first_request.notify_one();
            let in_flight = conns.request_started(id);
            let resp = http::handle(shared.clone(), cert_user.clone(), req);
            async move {
                let resp = resp.await?;
                Ok::<_, http::DropConnection>(resp.map(|body| {
                    Tracked {
                        body,
                        _in_flight: in_flight,
                    }
                    .boxed_unsync()
                }))
            }
        })
    };
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    // The first request's headers must arrive in time whatever the protocol (hyper's own
    // timeout only covers HTTP/1.1, and only once it knows the protocol).
    let first_deadline = tokio::time::sleep(limits.header_read_timeout);
    let result = tokio::select! {
        r = conn.as_mut() => Some(r),
        _ = shutdown.changed() => return,
        _ = first_request.notified() => None,
        _ = first_deadline => {
            if let Some(left_out) = conns.logs.no_request.check() {
                tracing::debug!(
                    timeout_ms = limits.header_read_timeout.as_millis() as u64,
                    left_out,
                    "no request within the header timeout: connection closed"
                );
            }
            return;
        }
    };
    let result = match result {
        Some(r) => r,
        None => tokio::select! {
            r = conn.as_mut() => r,
            _ = shutdown.changed() => return,
        },
    };
    if let Err(e) = result
        && let Some(left_out) = conns.logs.ended.check()
    {
        tracing::debug!(error = %e, left_out, "connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_logs_the_first_and_counts_the_rest() {
        let t = Throttle::new(Duration::from_secs(3600));
        assert_eq!(t.check(), Some(0));
        for _ in 0..1000 {
            assert_eq!(t.check(), None);
        }
        let t = Throttle::new(Duration::ZERO);
        assert_eq!(t.check(), Some(0));
        assert_eq!(t.check(), Some(0));
    }

    #[tokio::test]
    async fn out_of_descriptors_closes_idle_connections_and_lowers_the_cap() {
        let conns = Arc::new(Conns::new(1000));
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let (id, evicted) = conns.admit().unwrap();
            assert!(!evicted);
            let t = tokio::spawn(std::future::pending::<()>());
            conns.set_abort(id, t.abort_handle());
            tasks.push(t);
        }
        assert_eq!(conns.shed(), SHED);
        assert_eq!((conns.open(), conns.max()), (40 - SHED, 40 - SHED));
        let (_, evicted) = conns.admit().unwrap();
        assert!(
            evicted,
            "at the lowered cap a new connection replaces an idle one"
        );
        // The ones idle longest (the first admitted) were closed, the others are untouched.
        for t in tasks.drain(..SHED + 1) {
            assert!(t.await.unwrap_err().is_cancelled());
        }
        assert!(tasks.iter().all(|t| !t.is_finished()));
    }

    #[test]
    fn backoff_doubles_up_to_a_second_and_resets() {
        let mut b = Backoff(Backoff::MIN);
        let waits: Vec<Duration> = (0..10).map(|_| b.next()).collect();
        assert_eq!(waits[0], Duration::from_millis(5));
        assert_eq!(waits[1], Duration::from_millis(10));
        assert_eq!(*waits.last().unwrap(), Duration::from_secs(1));
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(5));
    }

    #[tokio::test]
    async fn at_the_cap_the_connection_idle_longest_makes_room() {
        let conns = Arc::new(Conns::new(2));
        let park = || tokio::spawn(std::future::pending::<()>());
        let (a, _) = conns.admit().unwrap();
        let ta = park();
        conns.set_abort(a, ta.abort_handle());
        let (b, _) = conns.admit().unwrap();
        let tb = park();
        conns.set_abort(b, tb.abort_handle());
        // `a` serves a request: `b` is now the one idle longest.
        let busy = conns.request_started(a);
        let (c, evicted) = conns.admit().unwrap();
        assert!(evicted);
        assert!(tb.await.unwrap_err().is_cancelled(), "b was closed");
        assert_eq!(conns.open(), 2);
        let tc = park();
        conns.set_abort(c, tc.abort_handle());
        // Both busy: nobody to close.
        let _busy_c = conns.request_started(c);
        assert!(conns.admit().is_none());
        drop(busy);
        let (_, evicted) = conns.admit().expect("a finished its request");
        assert!(evicted);
        assert!(ta.await.unwrap_err().is_cancelled(), "a was closed");
    }
}
