//! A TCP/HTTP fault proxy between a client (ktriage, kubectl) and the embedded server, for
//! the fault matrix: it terminates TLS with its own CA, reads each request head, forwards it
//! upstream over TLS with the scenario user's client certificate (one request per
//! connection: it adds `Connection: close`), and injects the fault in force: resets at or
//! after connect, a stall or a truncation mid-response, latency, a canned status (429 with
//! Retry-After, 5xx), `410 Gone` on watches, an outage (nothing listens), or a new CA.
//!
//! It runs on 127.0.0.1 on the runtime it is given and stops by itself when dropped.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use ktriage::server::ServerHandle;
use ktriage::server::tls::Authority;

/// What the proxy does to the traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Passes everything through.
    None,
    /// Accepts the TCP connection and resets it at once (RST), before TLS.
    ResetAtConnect,
    /// Completes TLS, reads the request, then resets the connection.
    ResetAfterConnect,
    /// Forwards the first `after` bytes of each response of at least that size, then
    /// sends nothing more while keeping the connection open.
    Stall { after: usize },
    /// Delays every request by this long before forwarding it.
    Latency(Duration),
    /// Forwards the first `after` bytes of each response, then closes the connection.
    Truncate { after: usize },
    /// Answers every request with this status (a `Status` body), with `Retry-After`.
    Status { code: u16, retry_after: Option<u32> },
    /// Answers watch requests with a `410 Gone` ERROR event (too old resourceVersion) and
    /// passes the rest.
    GoneOnWatch,
    /// Nothing listens on the proxy's port: connections are refused.
    Outage,
}

struct State {
    fault: Fault,
    /// How many more connections (or faulted responses) the fault applies to; None: all.
    remaining: Option<u32>,
    /// The identity clients see; replaced by `new_ca`.
    server_config: Arc<rustls::ServerConfig>,
    ca_pem: String,
    /// Faults actually injected.
    injected: u32,
}

/// A running proxy; dropping it stops it.
pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// Bumped on every fault change: open connections are reset (a network flap), so the
    /// new fault reaches long-running watches too.
    epoch: tokio::sync::watch::Sender<u64>,
    upstream_kubeconfig: String,
    upstream_url: String,
    upstream_ca_b64: String,
    stop: tokio::sync::watch::Sender<bool>,
}

fn identity() -> (Arc<rustls::ServerConfig>, String) {
    let ca = Authority::generate("kubernetes").expect("proxy CA");
    let ips = [std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)];
    let pair = ca.serving_cert(&["localhost"], &ips).expect("proxy cert");
    let cert = CertificateDer::from_pem_slice(pair.cert_pem.as_bytes()).expect("cert pem");
    let ca_der = CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).expect("ca pem");
    let key = PrivateKeyDer::from_pem_slice(pair.key_pem.as_bytes()).expect("key pem");
    let mut cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert, ca_der], key)
        .expect("proxy server config");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    (Arc::new(cfg), ca.cert_pem)
}

/// The value of `key: VALUE` on the kubeconfig line that holds it.
fn kubeconfig_field(kubeconfig: &str, key: &str) -> String {
    kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("kubeconfig has no {key}"))
        .trim()
        .to_string()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64 in kubeconfig")
}

fn upstream_config(server: &ServerHandle) -> Arc<rustls::ClientConfig> {
    let kc = &server.kubeconfig;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(server.ca_pem.as_bytes()).expect("server CA"))
        .expect("root");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&unb64(&kubeconfig_field(kc, "client-certificate-data")))
            .collect::<Result<_, _>>()
            .expect("client cert");
    let key = PrivateKeyDer::from_pem_slice(&unb64(&kubeconfig_field(kc, "client-key-data")))
        .expect("client key");
    let mut cfg = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .expect("upstream client config");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

impl FaultProxy {
    /// Starts a proxy in front of `server` on the runtime behind `rt`.
    pub fn start(rt: &tokio::runtime::Handle, server: &ServerHandle) -> FaultProxy {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (server_config, ca_pem) = identity();
        let state = Arc::new(Mutex::new(State {
            fault: Fault::None,
            remaining: None,
            server_config,
            ca_pem,
            injected: 0,
        }));
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("proxy binds");
        let addr = listener.local_addr().expect("proxy addr");
        let (epoch, _) = tokio::sync::watch::channel(0u64);
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let upstream = Upstream {
            addr: server.addr,
            tls: tokio_rustls::TlsConnector::from(upstream_config(server)),
        };
        rt.spawn(accept_loop(
            listener,
            addr,
            state.clone(),
            epoch.clone(),
            upstream,
            stop_rx,
        ));
        FaultProxy {
            addr,
            state,
            epoch,
            upstream_kubeconfig: server.kubeconfig.clone(),
            upstream_url: server.url(),
            upstream_ca_b64: b64(&server.ca_pem),
            stop,
        }
    }

    /// The server's kubeconfig pointed at the proxy and trusting the proxy's current CA.
    pub fn kubeconfig(&self) -> String {
        let ca = b64(&self.lock().ca_pem);
        self.upstream_kubeconfig
            .replace(&self.upstream_url, &format!("https://{}", self.addr))
            .replace(&self.upstream_ca_b64, &ca)
    }

    /// Writes `kubeconfig()` into `dir`; returns its path.
    pub fn write_kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("proxy.kubeconfig");
        std::fs::write(&path, self.kubeconfig()).expect("kubeconfig written");
        path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `fault` in force for every connection from now on; open connections are reset.
    pub fn set(&self, fault: Fault) {
        self.set_inner(fault, None);
    }

    /// Puts `fault` in force for the next `n` connections (or faulted responses), then
    /// passes everything again. Open connections are reset.
    pub fn set_for(&self, fault: Fault, n: u32) {
        self.set_inner(fault, Some(n));
    }

    fn set_inner(&self, fault: Fault, remaining: Option<u32>) {
        {
            let mut s = self.lock();
            s.fault = fault;
            s.remaining = remaining;
        }
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Puts `fault` in force for connections and answers from now on, leaving open ones
    /// be (a stall that starts on a link already in use).
    pub fn set_quietly(&self, fault: Fault) {
        let mut s = self.lock();
        s.fault = fault;
        s.remaining = None;
    }

    /// Ends the fault without touching open connections.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.fault = Fault::None;
        s.remaining = None;
    }

    /// How many times a fault was injected.
    pub fn injected(&self) -> u32 {
        self.lock().injected
    }

    /// A server that came back with a new CA: new identity, open connections reset.
    pub fn new_ca(&self) {
        let (cfg, ca) = identity();
        {
            let mut s = self.lock();
            s.server_config = cfg;
            s.ca_pem = ca;
        }
        self.epoch.send_modify(|e| *e += 1);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.epoch.send_modify(|e| *e += 1);
    }
}

#[derive(Clone)]
struct Upstream {
    addr: SocketAddr,
    tls: tokio_rustls::TlsConnector,
}

/// The fault for one new connection (and counts it), or None.
fn take(state: &Mutex<State>, applies: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    if s.fault == Fault::None || !applies(&s.fault) {
        return None;
    }
    match s.remaining {
        Some(0) => {
            s.fault = Fault::None;
            s.remaining = None;
            return None;
        }
        Some(ref mut n) => *n -= 1,
        None => {}
    }
    s.injected += 1;
    Some(s.fault.clone())
}

fn current(state: &Mutex<State>) -> Fault {
    state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .fault
        .clone()
}

async fn accept_loop(
    mut listener: TcpListener,
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    epoch: tokio::sync::watch::Sender<u64>,
    upstream: Upstream,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        if current(&state) == Fault::Outage {
            // Nothing listens: close the port until the outage ends, then bind it again.
            drop(listener);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stop.changed() => return,
                }
                if current(&state) != Fault::Outage {
                    break;
                }
            }
            listener = loop {
                match TcpListener::bind(addr).await {
                    Ok(l) => break l,
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            continue;
        }
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
            _ = stop.changed() => return,
        };
        let Ok((tcp, _)) = accepted else { continue };
        if take(&state, |f| *f == Fault::ResetAtConnect).is_some() {
            reset(tcp);
            continue;
        }
        let state = state.clone();
        let upstream = upstream.clone();
        let mut epoch_rx = epoch.subscribe();
        epoch_rx.mark_unchanged();
        tokio::spawn(async move {
            let raw = tcp.into_std().ok();
            let Some(raw) = raw else { return };
            let tcp_for_reset = raw.try_clone().ok();
            let Ok(tcp) = TcpStream::from_std(raw) else {
                return;
            };
            tokio::select! {
                _ = serve(tcp, state, upstream) => {}
                _ = epoch_rx.changed() => {
                    if let Some(t) = tcp_for_reset {
                        linger_zero(&t);
                    }
                }
            }
        });
    }
}

/// Closes with RST instead of FIN.
fn reset(tcp: TcpStream) {
    linger_zero(&tcp);
    drop(tcp);
}

/// `SO_LINGER` 0: the close that follows sends RST (a reset, not an orderly end).
fn linger_zero(sock: &impl std::os::fd::AsRawFd) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized linger value.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn status_response(code: u16, retry_after: Option<u32>) -> Vec<u8> {
    let (reason, text) = match code {
        429 => ("TooManyRequests", "Too Many Requests"),
        500 => ("InternalError", "Internal Server Error"),
        502 => ("InternalError", "Bad Gateway"),
        503 => ("ServiceUnavailable", "Service Unavailable"),
        504 => ("Timeout", "Gateway Timeout"),
        _ => ("InternalError", "Error"),
    };
    let body = format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"injected by the fault proxy: {text}","reason":"{reason}","code":{code}}}"#
    );
    let retry = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {code} {text}\r\nContent-Type: application/json\r\n{retry}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn gone_event() -> Vec<u8> {
    let event = r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (2)","reason":"Expired","code":410}}"#;
    let chunk = format!("{event}\n");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    )
    .into_bytes()
}

async fn serve(tcp: TcpStream, state: Arc<Mutex<State>>, upstream: Upstream) {
    let cfg = state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .server_config
        .clone();
    let raw = tcp.into_std().ok();
    let Some(raw) = raw else { return };
    let for_reset = raw.try_clone().ok();
    let Ok(tcp) = TcpStream::from_std(raw) else {
        return;
    };
    let Ok(Ok(mut client)) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_rustls::TlsAcceptor::from(cfg).accept(tcp),
    )
    .await
    else {
        return;
    };
    // The request head.
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 256 * 1024 {
            return;
        }
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let rest = head.split_off(end);
    let text = String::from_utf8_lossy(&head).into_owned();
    let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
    let is_watch = path.contains("watch=1") || path.contains("watch=true");

    if take(&state, |f| *f == Fault::ResetAfterConnect).is_some() {
        if let Some(t) = for_reset {
            linger_zero(&t);
        }
        return;
    }
    if let Some(Fault::Status { code, retry_after }) =
        take(&state, |f| matches!(f, Fault::Status { .. }))
    {
        // Read the request's body first, as a server does before it answers.
        let length: usize = text
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut have = rest.len();
        while have < length.min(1 << 20) {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => have += n,
            }
        }
        let _ = client.write_all(&status_response(code, retry_after)).await;
        let _ = client.shutdown().await;
        return;
    }
    if is_watch && take(&state, |f| *f == Fault::GoneOnWatch).is_some() {
        let _ = client.write_all(&gone_event()).await;
        let _ = client.shutdown().await;
        return;
    }
    if let Fault::Latency(d) = current(&state) {
        take(&state, |f| matches!(f, Fault::Latency(_)));
        tokio::time::sleep(d).await;
    }

    // Forward: one request per connection.
    let mut lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    lines.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    let mut out = lines.join("\r\n");
    out.push_str("\r\nConnection: close\r\n\r\n");
    let Ok(up_tcp) = TcpStream::connect(upstream.addr).await else {
        return;
    };
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let Ok(mut up) = upstream.tls.connect(name, up_tcp).await else {
        return;
    };
    if up.write_all(out.as_bytes()).await.is_err() || up.write_all(&rest).await.is_err() {
        return;
    }
    let (mut client_r, mut client_w) = tokio::io::split(client);
    let (mut up_r, mut up_w) = tokio::io::split(up);
    // Request bodies (access reviews) keep flowing upstream.
    let to_upstream = async {
        let _ = tokio::io::copy(&mut client_r, &mut up_w).await;
    };
    let to_client = async {
        let mut sent = 0usize;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match up_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let mut chunk = &buf[..n];
            let cut = match current(&state) {
                Fault::Stall { after } | Fault::Truncate { after } if sent + n > after => {
                    Some(after.saturating_sub(sent))
                }
                _ => None,
            };
            if let Some(keep) = cut {
                chunk = &chunk[..keep];
            }
            if client_w.write_all(chunk).await.is_err() {
                break;
            }
            let _ = client_w.flush().await;
            sent += chunk.len();
            if cut.is_some() {
                match take(&state, |f| {
                    matches!(f, Fault::Stall { .. } | Fault::Truncate { .. })
                }) {
                    Some(Fault::Stall { .. }) => {
                        // Silent but open until the stall ends (or the client gives up),
                        // then the rest flows as if the link came back.
                        while matches!(current(&state), Fault::Stall { .. }) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        let keep = keep_or(cut);
                        if client_w.write_all(&buf[keep..n]).await.is_err() {
                            break;
                        }
                        let _ = client_w.flush().await;
                        sent += n - keep;
                    }
                    Some(_) => break,
                    // The fault ran out meanwhile: forward the rest of this chunk.
                    None => {
                        if client_w.write_all(&buf[keep_or(cut)..n]).await.is_err() {
                            break;
                        }
                        sent += n - keep_or(cut);
                    }
                }
            }
        }
        let _ = client_w.shutdown().await;
    };
    tokio::select! {
        _ = to_client => {}
        _ = async { to_upstream.await; std::future::pending::<()>().await } => {}
    }
}

fn keep_or(cut: Option<usize>) -> usize {
    cut.unwrap_or(0)
}
