//! The embedded Kubernetes API server: HTTPS on 127.0.0.1 serving a scenario to kube-rs and
//! real kubectl (discovery, get/list/watch, tables, logs, RBAC, access reviews, faults, the
//! live timeline), refusing every write and recording every request; Secrets are served
//! without their data, and clients are held to limits (connections, timeouts, body size).
//!
//! Time moves on in a served cluster ([`clock`]): the Leases and node heartbeats that were
//! alive when the scenario or snapshot was captured keep renewing, the dead ones stay stale.
//!
//! **Training mode.** A server started with [`ServerConfig::writable`] set (`ktriage train`;
//! never `serve` or `demo`, which stay read-only) accepts the writes of its clients with the
//! API server's semantics ([`writes`]: create, replace, delete, JSON/merge/strategic patch,
//! server- and client-side apply, scale, resourceVersion conflicts, validation) and runs
//! simple controllers on each write before answering ([`controllers`]: Deployments,
//! ReplicaSets, Pods, scheduling, Endpoints, PVC binding, garbage collection), so the
//! cluster has converged when kubectl returns. RBAC changes apply at once. Secrets are
//! never written (403), so the server still holds no Secret data.

pub mod clock;
mod conn;
pub mod controllers;
mod discovery;
mod http;
pub mod patch;
pub mod rbac;
mod secrets;
mod store;
pub mod table;
pub mod timeline;
pub mod tls;
pub mod writes;

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_rustls::rustls;

pub use conn::Limits;
use ktriage_scenarios::TlsFault;
use ktriage_scenarios::{AuthMethod, Change, Fault, Scenario};
use ktriage_snapshot::{PodLog, RawResponse};
use rbac::{Authorizer, User};
use store::Store;

/// Environment variable naming a file every server appends its request log to (JSON lines),
/// so a whole test suite can be audited for writes and Secret reads.
pub const REQUEST_LOG_ENV: &str = "KTRIAGE_REQUEST_LOG";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// Path with query.
    pub path: String,
    pub user: String,
    /// RBAC verb (get, list, watch, create…) or the lower-case method for non-resource paths.
    pub verb: String,
    /// Plural resource with subresource (`pods/log`), empty for non-resource paths.
    pub resource: String,
    /// HTTP status, 0 when the connection was dropped.
    pub code: u16,
    /// The client's User-Agent (kubectl, kube-rs…), so an audit can tell ktriage's
    /// requests from those a test made with kubectl on purpose.
    pub user_agent: String,
    /// Whether the server was a training server (writes accepted): an audit allows an
    /// accepted write only there, and only from kubectl.
    pub writable: bool,
}

impl RequestRecord {
    /// A request that would change state: any method but GET/HEAD, except access reviews.
    pub fn is_write(&self) -> bool {
        let review = matches!(
            self.resource.as_str(),
            "selfsubjectaccessreviews" | "selfsubjectrulesreviews" | "selfsubjectreviews"
        );
        !matches!(self.method.as_str(), "GET" | "HEAD") && !review
    }

    /// A request for Secrets (their data or their list).
    pub fn reads_secrets(&self) -> bool {
        self.resource == "secrets" || self.resource.starts_with("secrets/")
    }
}

/// How to start a server.
pub struct ServerConfig {
    pub scenario: Scenario,
    /// 0 picks a free port.
    pub port: u16,
    /// Appends the request log here (JSON lines); defaults to `$KTRIAGE_REQUEST_LOG`.
    pub request_log: Option<PathBuf>,
    /// Shift the scenario's timestamps so its clock reads "now" (true for live serving).
    pub rebase_time: bool,
    /// Connection cap, timeouts and body limit.
    pub limits: Limits,
    /// Objects served besides the scenario's, made one at a time as the store takes them (a
    /// generated cluster of 150,000 pods never exists as trees all at once). Their
    /// timestamps are shifted like the scenario's; they hold no RBAC objects.
    pub generated: Option<Box<dyn Iterator<Item = serde_json::Value> + Send>>,
    /// Training mode: accept the clients' writes and run the controllers (see the module
    /// doc). Off by default; `serve` and `demo` never set it.
    pub writable: bool,
}

impl ServerConfig {
    pub fn new(scenario: Scenario) -> Self {
        ServerConfig {
            scenario,
            port: 0,
            request_log: None,
            rebase_time: true,
            limits: Limits::default(),
            generated: None,
            writable: false,
        }
    }

    /// A training server for `scenario`: writable, its clock rebased to now.
    pub fn training(scenario: Scenario) -> Self {
        ServerConfig {
            writable: true,
            ..ServerConfig::new(scenario)
        }
    }
}

/// State shared by every connection.
pub(crate) struct Shared {
    store: Mutex<Store>,
    /// Rebuilt from the store whenever a write changes an RBAC object.
    authz: RwLock<Arc<Authorizer>>,
    /// Training mode: writes accepted, controllers run.
    writable: bool,
    /// What the scenario says about images and containers (for the kubelet model).
    facts: controllers::Facts,
    /// Writes accepted so far.
    writes: AtomicU64,
    logs: Vec<PodLog>,
    responses: Vec<RawResponse>,
    faults: Vec<(Fault, AtomicU32)>,
    tokens: HashMap<String, User>,
    git_version: String,
    addr: SocketAddr,
    requests: Mutex<RequestLog>,
    request_log: Option<Mutex<std::fs::File>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    limits: Limits,
}

impl Shared {
    /// The store, even if a panicking thread poisoned the lock (the data stays consistent:
    /// every mutation is a single insert).
    fn lock_store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The authorizer as of the latest RBAC change.
    fn authz(&self) -> Arc<Authorizer> {
        self.authz.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the authorizer from the RBAC objects the store holds now.
    fn reload_rbac(&self, store: &Store) {
        let mut objects = Vec::new();
        for kind in ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"] {
            if let Some(res) = store.resource_of_kind(kind)
                && let Ok(page) = store.list(
                    res,
                    None,
                    &Default::default(),
                    &Default::default(),
                    None,
                    None,
                )
            {
                objects.extend(page.items.iter().map(|o| (**o).clone()));
            }
        }
        let authz = Arc::new(Authorizer::from_objects(objects.iter()));
        *self.authz.write().unwrap_or_else(|p| p.into_inner()) = authz;
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn record(&self, r: RequestRecord) {
        tracing::debug!(method = %r.method, path = %r.path, user = %r.user, code = r.code, "request");
        if let Some(f) = &self.request_log
            && let Ok(line) = serde_json::to_string(&r)
        {
            let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
            // One write per line: with O_APPEND, lines from several processes (a whole
            // test suite) never interleave.
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(r);
    }
}

/// The requests kept in memory: the newest [`RequestLog::RECENT`], and the writes and Secret
/// reads among older ones (up to [`RequestLog::NOTABLE`]), so a long-running server (a soak,
/// a demo left open for days) holds a bounded list and an audit still sees what matters.
#[derive(Default)]
pub(crate) struct RequestLog {
    recent: std::collections::VecDeque<RequestRecord>,
    notable: Vec<RequestRecord>,
    dropped: u64,
}

impl RequestLog {
    pub(crate) const RECENT: usize = 50_000;
    pub(crate) const NOTABLE: usize = 10_000;

    fn push(&mut self, r: RequestRecord) {
        if self.recent.len() >= Self::RECENT
            && let Some(old) = self.recent.pop_front()
        {
            if (old.is_write() || old.reads_secrets()) && self.notable.len() < Self::NOTABLE {
                self.notable.push(old);
            } else {
                self.dropped += 1;
            }
        }
        self.recent.push_back(r);
    }

    fn all(&self) -> Vec<RequestRecord> {
        self.notable.iter().chain(&self.recent).cloned().collect()
    }
}

/// A running server. Dropping it stops the server.
pub struct ServerHandle {
    pub addr: SocketAddr,
    /// The kubeconfig (YAML) that logs in as the scenario's user.
    pub kubeconfig: String,
    /// PEM of the CA that signed the serving certificate.
    pub ca_pem: String,
    /// The proxy variables a client of this scenario runs with (HTTPS_PROXY, NO_PROXY): set
    /// by a scenario with a proxy in the way, empty otherwise. Pass them to the doctor, or to
    /// kubectl's environment; never to this process's own environment.
    pub client_env: std::collections::BTreeMap<String, String>,
    shared: Arc<Shared>,
    conns: Arc<conn::Conns>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl ServerHandle {
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The requests served so far: the newest 50,000, and writes and Secret reads among
    /// older ones (the log file, when set, has them all).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .all()
    }

    /// How many requests were served but are no longer in [`ServerHandle::requests`].
    pub fn requests_forgotten(&self) -> u64 {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .dropped
    }

    /// Writes the kubeconfig (mode 0600 on Unix).
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), ServerError> {
        let werr = |source| ServerError::Write {
            path: path.to_path_buf(),
            source,
        };
        // It holds a client key: readable by the owner only, from the moment it exists.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(werr)?;
        std::io::Write::write_all(&mut file, self.kubeconfig.as_bytes()).map_err(werr)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(werr)?;
        }
        Ok(())
    }

    /// Applies a change now, as a timeline step would (for tests and the demo).
    pub fn apply(&self, change: &Change) -> Result<(), timeline::ChangeError> {
        timeline::apply(&self.shared, change, Utc::now())
    }

    /// Drops the watch history: watches from older resourceVersions get 410 Gone.
    pub fn compact(&self) {
        self.shared.lock_store().compact();
    }

    /// Whether this server accepts writes (training mode).
    pub fn writable(&self) -> bool {
        self.shared.writable
    }

    /// Writes accepted so far (training mode): when it moves, the trainee changed the
    /// cluster and the controllers have already reacted (they run before the write is
    /// answered), so a check run now sees the converged cluster.
    pub fn writes_accepted(&self) -> u64 {
        self.shared.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The store's current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock_store().resource_version()
    }

    /// How many objects the server holds, and the bytes of their JSON.
    pub fn stored(&self) -> (usize, usize) {
        let store = self.shared.lock_store();
        (store.count(), store.json_bytes())
    }

    /// Client connections open now (handshaking, serving or idle).
    pub fn open_connections(&self) -> usize {
        self.conns.open()
    }

    /// Stops accepting connections and ends open watches.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The API server version a scenario claims: the kube-apiserver image tag, else v1.31.4.
fn git_version(objects: &[serde_json::Value]) -> String {
    objects
        .iter()
        .filter(|o| o.get("kind").and_then(|k| k.as_str()) == Some("Pod"))
        .filter_map(|o| {
            o.pointer("/spec/containers/0/image")
                .and_then(|i| i.as_str())
        })
        .find_map(|img| {
            let (repo, tag) = img.rsplit_once(':')?;
            (repo.ends_with("/kube-apiserver") && tag.starts_with('v')).then(|| tag.to_string())
        })
        .unwrap_or_else(|| "v1.31.4".to_string())
}

/// Starts the server on the current tokio runtime.
pub async fn start(config: ServerConfig) -> Result<ServerHandle, ServerError> {
    // rustls needs a process-wide crypto provider; installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ServerConfig {
        scenario,
        port,
        request_log,
        rebase_time,
        limits,
        generated,
        writable,
    } = config;
    let mut snapshot = scenario.snapshot;
    let mut shift = None;
    if rebase_time && let Some(clock) = snapshot.clock() {
        let delta = Utc::now() - clock;
        shift = Some(delta);
        snapshot
            .objects
            .iter_mut()
            .for_each(|o| timeline::shift_value(o, delta));
        for log in &mut snapshot.pod_logs {
            log.text = timeline::shift_text(&log.text, delta);
        }
    }

    let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
        .await
        .map_err(|source| ServerError::Bind { port, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { port, source })?;

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let ca = tls::Authority::generate("kubernetes")?;
    let fault = scenario.behavior.tls_fault.clone();
    let dns = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ];
    let ips = [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1)),
    ];
    let serving = match &fault {
        Some(TlsFault::MissingSan {
            dns_names,
            ip_addresses,
        }) => {
            let names: Vec<&str> = dns_names.iter().map(String::as_str).collect();
            ca.serving_cert(&names, ip_addresses)?
        }
        Some(TlsFault::ExpiredServingCert { days_ago }) => {
            ca.expired_serving_cert(&dns, &ips, *days_ago)?
        }
        _ => ca.serving_cert(&dns, &ips)?,
    };
    // The CA the kubeconfig trusts: another one (same name, other key) for WrongCa.
    let kubeconfig_ca = match &fault {
        Some(TlsFault::WrongCa) => tls::Authority::generate("kubernetes")?.cert_pem,
        _ => ca.cert_pem.clone(),
    };
    let mut client_env = std::collections::BTreeMap::new();
    let server_url = match &fault {
        Some(TlsFault::ClosedPort) => format!("https://127.0.0.1:{}", closed_port()?),
        Some(TlsFault::ProxyRefuses {
            host,
            status,
            no_proxy,
        }) => {
            let proxy = ktriage_scenarios::connection::fake_proxy::spawn(
                status.clone(),
                shutdown_tx.subscribe(),
            )
            .await
            .map_err(|source| ServerError::Bind { port: 0, source })?;
            client_env.insert("HTTPS_PROXY".to_string(), format!("http://{proxy}"));
            client_env.insert("NO_PROXY".to_string(), no_proxy.clone());
            format!("https://{host}:{}", addr.port())
        }
        _ => format!("https://{addr}"),
    };
    let identity = scenario
        .behavior
        .user
        .clone()
        .unwrap_or(ktriage_scenarios::Identity {
            name: "kubernetes-admin".into(),
            groups: vec!["system:masters".into()],
        });
    let mut tokens = HashMap::new();
    let name = format!("ktriage-{}", scenario.id);
    let kubeconfig = match scenario.behavior.auth {
        _ if fault == Some(TlsFault::NoCredentials) => tls::kubeconfig(
            &name,
            &server_url,
            &kubeconfig_ca,
            &identity.name,
            tls::Credentials::UsernameOnly,
        ),
        AuthMethod::ClientCertificate => {
            let pair = match &fault {
                Some(TlsFault::ExpiredClientCert { days_ago }) => {
                    ca.expired_client_cert(&identity.name, &identity.groups, *days_ago)?
                }
                _ => ca.client_cert(&identity.name, &identity.groups)?,
            };
            tls::kubeconfig(
                &name,
                &server_url,
                &kubeconfig_ca,
                &identity.name,
                tls::Credentials::ClientCert(&pair),
            )
        }
        AuthMethod::BearerToken => {
            let token = random_token()?;
            tokens.insert(
                token.clone(),
                authenticated(&identity.name, &identity.groups),
            );
            tls::kubeconfig(
                &name,
                &server_url,
                &kubeconfig_ca,
                &identity.name,
                tls::Credentials::Token(&token),
            )
        }
    };
    let kubeconfig = match &fault {
        Some(TlsFault::DoubleBase64Ca) => tls::double_encode_ca(&kubeconfig),
        _ => kubeconfig,
    };
    let tls_config = server_tls(&ca, &serving)?;

    let request_log = request_log
        .or_else(|| std::env::var_os(REQUEST_LOG_ENV).map(PathBuf::from))
        .and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(
                    |e| tracing::warn!(path = %p.display(), error = %e, "request log not opened"),
                )
                .ok()
        })
        .map(Mutex::new);

    let mut store = Store::new();
    let authz = Authorizer::from_objects(snapshot.objects.iter());
    let facts = if writable {
        controllers::Facts::from_objects(snapshot.objects.iter(), &scenario.behavior.images)
    } else {
        controllers::Facts::default()
    };
    let git_version = git_version(&snapshot.objects);
    let mut skipped = store.load(snapshot.objects);
    if let Some(objects) = generated {
        skipped += store.load(objects.map(|mut o| {
            if let Some(delta) = shift {
                timeline::shift_value(&mut o, delta);
            }
            o
        }));
    }
    if skipped > 0 {
        tracing::warn!(skipped, "objects without kind or name were not served");
    }
    // Time moves on from now: live holders keep renewing (see `clock`).
    let beats = if shift.is_some() {
        clock::plan(&store, &scenario.timeline, Utc::now())
    } else {
        Vec::new()
    };
    let responses = snapshot
        .responses
        .into_iter()
        .filter_map(|mut r| match secrets::strip_raw_body(&r.path, &r.body) {
            Some(body) => {
                r.body = body;
                Some(r)
            }
            None => {
                tracing::warn!(path = %r.path, "raw response for Secrets is not JSON: not served");
                None
            }
        })
        .collect();
    let conns = Arc::new(conn::Conns::new(limits.max_connections));
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        authz: RwLock::new(Arc::new(authz)),
        writable,
        facts,
        writes: AtomicU64::new(0),
        logs: snapshot.pod_logs,
        responses,
        faults: scenario
            .behavior
            .faults
            .into_iter()
            .map(|f| (f, AtomicU32::new(0)))
            .collect(),
        tokens,
        git_version,
        addr,
        requests: Mutex::new(RequestLog::default()),
        request_log,
        shutdown: shutdown_rx,
        limits,
    });

    tokio::spawn(conn::accept_loop(
        listener,
        tls_config,
        shared.clone(),
        conns.clone(),
    ));
    if !beats.is_empty() {
        tokio::spawn(clock::run(
            shared.clone(),
            beats,
            tokio::time::Instant::now(),
        ));
    }
    if !scenario.timeline.is_empty() {
        tokio::spawn(timeline::run(
            shared.clone(),
            scenario.timeline,
            tokio::time::Instant::now(),
        ));
    }
    Ok(ServerHandle {
        addr,
        kubeconfig,
        ca_pem: ca.cert_pem.clone(),
        client_env,
        shared,
        conns,
        shutdown: shutdown_tx,
    })
}

/// A bearer token nobody can guess: 128 random bits (it was derived from the port, which
/// also overflowed, a panic in debug builds).
fn random_token() -> Result<String, ServerError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServerError::Tls("no randomness for the bearer token".into()))?;
    Ok(format!(
        "ktriage.{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// A port on 127.0.0.1 where nothing listens: bound, then released.
fn closed_port() -> Result<u16, ServerError> {
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|source| ServerError::Bind { port: 0, source })?;
    let port = l
        .local_addr()
        .map_err(|source| ServerError::Bind { port: 0, source })?
        .port();
    drop(l);
    Ok(port)
}

/// A user with the groups the authenticator adds.
fn authenticated(name: &str, groups: &[String]) -> User {
    let mut groups = groups.to_vec();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    User {
        name: name.to_string(),
        groups,
    }
}

fn server_tls(
    ca: &tls::Authority,
    serving: &tls::CertPair,
) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let terr = |what: &str, e: &dyn std::fmt::Display| ServerError::Tls(format!("{what}: {e}"));
    let ca_der =
        CertificateDer::from_pem_slice(ca.cert_pem.as_bytes()).map_err(|e| terr("CA", &e))?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.clone()).map_err(|e| terr("CA", &e))?;
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .allow_unauthenticated()
        .build()
        .map_err(|e| terr("client verifier", &e))?;
    let cert = CertificateDer::from_pem_slice(serving.cert_pem.as_bytes())
        .map_err(|e| terr("serving cert", &e))?;
    let key = PrivateKeyDer::from_pem_slice(serving.key_pem.as_bytes())
        .map_err(|e| terr("serving key", &e))?;
    let mut cfg = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert, ca_der], key)
        .map_err(|e| terr("server config", &e))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod request_log_tests {
    use super::*;

    fn rec(method: &str, resource: &str) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            path: "/".into(),
            user: "u".into(),
            verb: "get".into(),
            resource: resource.into(),
            code: 200,
            user_agent: "t".into(),
            writable: false,
        }
    }

    #[test]
    fn the_request_list_is_bounded_and_keeps_writes_and_secret_reads() {
        let mut log = RequestLog::default();
        log.push(rec("POST", "pods"));
        log.push(rec("GET", "secrets"));
        for _ in 0..RequestLog::RECENT + 1_000 {
            log.push(rec("GET", "pods"));
        }
        let all = log.all();
        assert_eq!(all.len(), RequestLog::RECENT + 2);
        assert!(all.iter().any(RequestRecord::is_write));
        assert!(all.iter().any(RequestRecord::reads_secrets));
        assert_eq!(log.dropped, 1_000);
    }
}
