//! The embedded API server under hostile or careless clients, as a user of `ktriage serve`
//! meets them: Secret values never come out on any path; idle, stalled and handshake-less
//! connections cannot lock kubectl out nor exhaust file descriptors; an oversized or
//! unauthenticated upload is refused before it is read; list pages cost the same wherever
//! they are. Every connection goes to 127.0.0.1; every wait is for a state, with a bound.
//!
//! Servers started here write their own request log (not `$KTRIAGE_REQUEST_LOG`): the
//! writes and Secret reads these tests send on purpose are not ktriage's, and the CI audit
//! of that log is about ktriage's own requests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// `ktriage serve` running as a child process; killed on drop.
struct Served {
    child: Child,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    log: PathBuf,
    port: u16,
}

impl Served {
    /// Starts `ktriage serve ARGS`, under `ulimit -n FDS` when given, and waits for the
    /// line saying where it listens.
    fn start(args: &[&str], fds: Option<u64>) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let log = dir.path().join("ktriage.log");
        let mut cmd = match fds {
            // exec: the child is the server itself, so its pid is the one to measure.
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), BIN]);
                c
            }
            None => Command::new(BIN),
        };
        cmd.args(["serve", "--kubeconfig-out"])
            .arg(&kubeconfig)
            .arg("--request-log")
            .arg(dir.path().join("requests.jsonl"))
            .arg("--log-file")
            .arg(&log)
            .args(args)
            .env_remove("KTRIAGE_REQUEST_LOG")
            .env_remove("KTRIAGE_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("ktriage serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next()
            .and_then(Result::ok)
            .expect("serve prints where it listens");
        let port = first
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first:?}"));
        // The kubeconfig line follows once the file is written; the rest is drained so the
        // server never writes to a closed pipe.
        lines.next();
        std::thread::spawn(move || lines.for_each(drop));
        Served {
            child,
            dir,
            kubeconfig,
            log,
            port,
        }
    }

    /// kubectl on this server, with its own discovery cache.
    fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy");
        c
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command(args).output().expect("kubectl runs")
    }

    /// The PEM of the CA the kubeconfig trusts.
    fn ca_pem(&self) -> String {
        use base64::Engine;
        let kc: serde_json::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&self.kubeconfig).unwrap()).unwrap();
        let b64 = kc
            .pointer("/clusters/0/cluster/certificate-authority-data")
            .and_then(|v| v.as_str())
            .expect("certificate-authority-data");
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    }

    /// kubectl's stdout, asserting it succeeded.
    fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .unwrap();
        kube::Client::try_from(config).unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The Secret values of tests/fixtures/snapshot/secrets.yaml, in every form they take there.
const SECRET_VALUES: &[&str] = &[
    "czNjcjN0LXZhbHVlLTQy",
    "s3cr3t-value-42",
    "hunter2-string",
    "cmF3LXNlY3JldC05OQ==",
    "raw-secret-99",
];

fn assert_no_secret_value(what: &str, text: &str) {
    for v in SECRET_VALUES {
        assert!(
            !text.contains(v),
            "{what} serves the Secret value {v}:\n{text}"
        );
    }
}

/// The first line a streaming `kubectl get --raw` prints, then kubectl is stopped.
fn first_streamed_line(served: &Served, path: &str) -> String {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&served.kubeconfig)
        .args(["get", "--raw", path])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    line
}

/// The first line of a watch sent by kube-rs with a Table Accept header.
async fn first_table_watch_line(client: &kube::Client, path: &str) -> String {
    use http_body_util::BodyExt;
    let req = http::Request::get(path)
        .header(
            http::header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        )
        .body(kube::client::Body::empty())
        .unwrap();
    let mut body = client.send(req).await.unwrap().into_body();
    let mut text = Vec::new();
    while !text.contains(&b'\n') {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame.unwrap().into_data() {
            text.extend_from_slice(&data);
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_come_out_on_no_path() {
    let snapshot = fixture("snapshot/secrets.yaml");
    let served = Served::start(&["--snapshot", snapshot.to_str().unwrap()], None);

    // The reproduction of the report: a watch on Secrets.
    let event = first_streamed_line(
        &served,
        "/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=30",
    );
    assert!(
        event.contains("\"ADDED\"") && event.contains("db-credentials"),
        "{event}"
    );
    assert!(event.contains("payments"), "metadata is kept: {event}");
    assert_no_secret_value("a watch", &event);

    for args in [
        &["get", "--raw", "/api/v1/secrets"][..],
        &["get", "--raw", "/api/v1/namespaces/default/secrets?limit=1"],
        &["get", "secrets", "-A", "-o", "yaml"],
        &["get", "secrets", "-A", "-o", "json"],
        &["get", "secrets", "-A"],
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/kube-system/secrets/raw-json",
        ],
    ] {
        let out = served.kubectl_ok(args);
        assert!(
            out.contains("db-credentials") || out.contains("raw-json"),
            "kubectl {args:?}:\n{out}"
        );
        assert_no_secret_value(&format!("kubectl {args:?}"), &out);
    }
    // A named get stays refused, and a raw text answer that cannot be cleaned is not served.
    for args in [
        &[
            "get",
            "secret",
            "db-credentials",
            "-n",
            "default",
            "-o",
            "yaml",
        ][..],
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/kube-system/secrets/raw-text",
        ],
    ] {
        let out = served.kubectl(args);
        assert!(!out.status.success(), "kubectl {args:?} was answered");
        assert_no_secret_value(
            &format!("kubectl {args:?}"),
            &format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        );
    }

    // Tables carrying whole objects, listed and watched.
    let client = served.client().await;
    let table = client
        .request_text(
            http::Request::get("/api/v1/secrets?includeObject=Object")
                .header(
                    http::header::ACCEPT,
                    "application/json;as=Table;v=v1;g=meta.k8s.io",
                )
                .body(Vec::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(table.contains("db-credentials"), "{table}");
    assert_no_secret_value("a Table list", &table);
    let row = first_table_watch_line(
        &client,
        "/api/v1/secrets?watch=1&timeoutSeconds=30&includeObject=Object",
    )
    .await;
    assert!(row.contains("db-credentials"), "{row}");
    assert_no_secret_value("a Table watch", &row);

    // Not vacuous: other objects keep their data.
    let cm = served.kubectl_ok(&[
        "get",
        "configmap",
        "app-config",
        "-n",
        "default",
        "-o",
        "yaml",
    ]);
    assert!(cm.contains("plain-config-value"), "{cm}");
}

/// An in-process server for the healthy scenario plus `extra` objects, with `limits`.
async fn serve_in_process(
    extra: Vec<serde_json::Value>,
    limits: Option<ktriage::server::Limits>,
) -> (ktriage::server::ServerHandle, tempfile::TempDir, PathBuf) {
    let mut scenario = ktriage::scenarios::find("healthy").expect("healthy scenario");
    scenario.snapshot.objects.extend(extra);
    let dir = tempfile::tempdir().unwrap();
    let mut config = ktriage::server::ServerConfig::new(scenario);
    config.request_log = Some(dir.path().join("requests.jsonl"));
    if let Some(l) = limits {
        config.limits = l;
    }
    let server = ktriage::server::start(config).await.expect("server starts");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    (server, dir, kubeconfig)
}

fn bulk_pod(i: usize) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("bulk-{i:04}"), "namespace": format!("bulk-{}", i % 3),
                     "labels": {"tier": format!("t{}", i % 2)}},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
        "status": {"phase": "Running"}
    })
}

async fn kubectl_async(kubeconfig: &Path, args: &[&str]) -> String {
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .await
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_and_kube_rs_page_through_every_pod_once() {
    let total = 600;
    let (server, _dir, kubeconfig) =
        serve_in_process((0..total).map(bulk_pod).collect(), None).await;

    let bulk = |out: &str| -> Vec<String> {
        let mut names: Vec<String> = out
            .lines()
            .filter(|l| l.contains("bulk-"))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    };
    let all = kubectl_async(
        &kubeconfig,
        &["get", "pods", "-A", "--chunk-size=100", "-o", "name"],
    )
    .await;
    let names = bulk(&all);
    assert_eq!(names.len(), total, "every pod once");
    assert!(names.windows(2).all(|w| w[0] != w[1]), "no pod twice");
    let one_ns = kubectl_async(
        &kubeconfig,
        &[
            "get",
            "pods",
            "-n",
            "bulk-1",
            "--chunk-size=7",
            "-o",
            "name",
        ],
    )
    .await;
    assert_eq!(bulk(&one_ns).len(), total / 3);

    // kube-rs, page by page: remainingItemCount counts down without selectors and is left
    // out with one, as the real API server does.
    use kube::api::{Api, ApiResource, DynamicObject, ListParams};
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let ar = ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&());
    for (ns, selector, expected) in [
        ("bulk-2", None, total / 3),
        ("bulk-0", Some("tier=t0"), total / 6),
    ] {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut lp = ListParams::default().limit(150);
            if let Some(s) = selector {
                lp = lp.labels(s);
            }
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            let page = api.list(&lp).await.unwrap();
            seen.extend(page.items.iter().filter_map(|o| o.metadata.name.clone()));
            let remaining = page.metadata.remaining_item_count;
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            match (&token, selector) {
                (Some(_), None) => {
                    assert_eq!(remaining, Some((expected - seen.len()) as i64), "{ns}")
                }
                _ => assert_eq!(remaining, None, "{ns} {selector:?}"),
            }
            if token.is_none() {
                break;
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), expected, "{ns} {selector:?}");
    }
    drop(server);
}

// ---- connections ------------------------------------------------------------------------

/// The longest any test here waits for a state the server should reach in well under a
/// second (it bounds the wait; it is never slept).
const BOUND: Duration = Duration::from_secs(20);

fn tls_connector(ca_pem: &str) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA PEM"))
        .unwrap();
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls_connect(port: u16, connector: &tokio_rustls::TlsConnector) -> Tls {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.expect("TLS handshake")
}

/// Whether the server closes the connection within `BOUND` (EOF or reset on read).
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + BOUND;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// The status code of the HTTP/1.1 response head the server sends (within `BOUND`).
async fn response_status<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<u16> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(BOUND, read_head).await.ok()?;
    let text = String::from_utf8_lossy(&head);
    text.split_whitespace().nth(1)?.parse().ok()
}

/// The bearer token of a kubeconfig (scenarios with `AuthMethod::BearerToken`).
fn token_of(kubeconfig: &str) -> String {
    let kc: serde_json::Value = serde_yaml_ng::from_str(kubeconfig).unwrap();
    kc.pointer("/users/0/user/token")
        .and_then(|t| t.as_str())
        .expect("a token user")
        .to_string()
}

fn short_limits(max_connections: usize) -> ktriage::server::Limits {
    ktriage::server::Limits {
        max_connections,
        tls_handshake_timeout: Duration::from_millis(300),
        header_read_timeout: Duration::from_millis(300),
        ..Default::default()
    }
}

/// Waits until `cond` holds, up to `BOUND`.
async fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + BOUND;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_stalled_connections_are_closed_after_their_timeouts() {
    let (server, _dir, _kc) = serve_in_process(Vec::new(), Some(short_limits(64))).await;
    let port = server.addr.port();
    let tls = tls_connector(&server.ca_pem);

    // No TLS handshake at all.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // A handshake, then nothing.
    let mut no_request = tls_connect(port, &tls).await;
    // Request headers that never end (slowloris).
    let mut partial = tls_connect(port, &tls).await;
    partial
        .write_all(b"GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    // One request answered, then a second one that never ends on the kept-alive connection.
    let mut kept = tls_connect(port, &tls).await;
    kept.write_all(b"GET /version HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(response_status(&mut kept).await, Some(200));
    kept.write_all(b"GET /version HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();

    assert!(closed_by_server(&mut silent).await, "no handshake");
    assert!(closed_by_server(&mut no_request).await, "no request");
    assert!(closed_by_server(&mut partial).await, "partial headers");
    assert!(closed_by_server(&mut kept).await, "partial second request");
    assert!(
        wait_until(|| server.open_connections() == 0).await,
        "{} connections still open",
        server.open_connections()
    );
}

/// The first line of a watch streamed through kube-rs, and the body to read more from.
async fn start_watch(client: &kube::Client, path: &str) -> (String, kube::client::Body) {
    use http_body_util::BodyExt;
    let req = http::Request::get(path)
        .body(kube::client::Body::empty())
        .unwrap();
    let mut body = client.send(req).await.unwrap().into_body();
    let mut text = Vec::new();
    while !text.contains(&b'\n') {
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(d) = f.into_data() {
                    text.extend_from_slice(&d);
                }
            }
            _ => break,
        }
    }
    (String::from_utf8_lossy(&text).into_owned(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_idle_connections_make_room_and_busy_ones_stay() {
    let max = 8;
    let limits = ktriage::server::Limits {
        max_connections: max,
        ..Default::default()
    };
    let (server, _dir, kubeconfig) = serve_in_process(Vec::new(), Some(limits)).await;
    let port = server.addr.port();

    // A watch is a request in flight for as long as it streams.
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let (first, mut watch) = start_watch(
        &client,
        "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=120",
    )
    .await;
    assert!(first.contains("ADDED"), "{first}");

    // Far more idle connections than the cap.
    let mut idle = Vec::new();
    for _ in 0..(max * 3) {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    assert!(wait_until(|| server.open_connections() == max).await);

    // kubectl gets in (closing the idle connection idle longest) and is answered.
    let t = Instant::now();
    let nodes = kubectl_async(&kubeconfig, &["get", "nodes", "-o", "name"]).await;
    assert_eq!(nodes.lines().count(), 6, "{nodes}");
    eprintln!("kubectl get nodes at the cap: {:?}", t.elapsed());

    // The oldest idle connections were closed for the newer ones; the watch was not.
    let mut closed = 0;
    for s in idle.iter_mut().take(max * 2) {
        closed += usize::from(closed_by_server(s).await);
    }
    assert_eq!(closed, max * 2, "the oldest idle connections were closed");
    server
        .apply(&ktriage::scenarios::Change::Create {
            object: serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "after-the-flood", "namespace": "default"}}),
        })
        .unwrap();
    use http_body_util::BodyExt;
    let mut seen = String::new();
    let read = async {
        while !seen.contains("after-the-flood") {
            match watch.frame().await {
                Some(Ok(f)) => {
                    if let Ok(d) = f.into_data() {
                        seen.push_str(&String::from_utf8_lossy(&d));
                    }
                }
                _ => break,
            }
        }
    };
    tokio::time::timeout(BOUND, read).await.ok();
    assert!(
        seen.contains("after-the-flood"),
        "the watch kept streaming: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_refused_before_their_body_is_read() {
    let scenario_limits = ktriage::server::Limits {
        max_body_bytes: 64 * 1024,
        ..Default::default()
    };
    // A bearer-token scenario, so a raw client can authenticate.
    let mut scenario = ktriage::scenarios::find("healthy").unwrap();
    scenario.behavior.auth = ktriage::scenarios::AuthMethod::BearerToken;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ktriage::server::ServerConfig::new(scenario);
    config.request_log = Some(dir.path().join("requests.jsonl"));
    config.limits = scenario_limits;
    let server = ktriage::server::start(config).await.unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let token = token_of(&server.kubeconfig);
    let port = server.addr.port();
    let tls = tls_connector(&server.ca_pem);
    let gib = 1u64 << 30;

    // Headers announcing 1 GiB and not one byte of body: an answer proves nothing was read.
    let head = |path: &str, auth: Option<&str>| {
        let auth = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{auth}Content-Length: {gib}\r\n\r\n"
        )
    };
    for (what, path, auth, want) in [
        (
            "anonymous write",
            "/api/v1/namespaces/default/pods",
            None,
            403,
        ),
        (
            "authenticated write",
            "/api/v1/namespaces/default/pods",
            Some(token.as_str()),
            405,
        ),
        (
            "oversized access review",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            Some(token.as_str()),
            413,
        ),
    ] {
        let mut s = tls_connect(port, &tls).await;
        s.write_all(head(path, auth).as_bytes()).await.unwrap();
        assert_eq!(response_status(&mut s).await, Some(want), "{what}");
    }

    // A chunked body with no length is cut off at the limit, not buffered to its end.
    let mut s = tls_connect(port, &tls).await;
    s.write_all(
        format!(
            "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (mut rd, mut wr) = tokio::io::split(s);
    let sender = tokio::spawn(async move {
        let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, " ".repeat(16 * 1024));
        let mut sent = 0u64;
        // At most 64 MiB, stopping when the server stops reading.
        while sent < 64 << 20 {
            if wr.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            sent += 16 * 1024;
        }
        sent
    });
    assert_eq!(
        response_status(&mut rd).await,
        Some(413),
        "chunked oversized review"
    );
    drop(rd);
    let sent = sender.await.unwrap();
    assert!(
        sent < 64 << 20,
        "the server read the whole chunked body ({sent} bytes)"
    );

    // kubectl: a refused write still gets its Status, and access reviews still work.
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "x".repeat(2 << 20)).unwrap();
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["create", "configmap", "big", "--from-file"])
        .arg(&big)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("create configmaps is refused") && stderr.contains("read-only"),
        "{stderr}"
    );
    let can = kubectl_async(&kubeconfig, &["auth", "can-i", "list", "pods"]).await;
    assert_eq!(can.trim(), "yes");

    // The request log still records each with its code, in the same form.
    let codes: Vec<u16> = server.requests().iter().map(|r| r.code).collect();
    for code in [403, 405, 413] {
        assert!(codes.contains(&code), "{codes:?}");
    }
}

/// CPU time (user + system) a process has used so far, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// A `/proc/PID/status` figure in KiB (VmRSS, VmHWM).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{field} missing"))
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Waits until the server's log contains `text`, up to `BOUND`.
fn wait_for_log(served: &Served, text: &str) -> bool {
    let deadline = Instant::now() + BOUND;
    while Instant::now() < deadline {
        if std::fs::read_to_string(&served.log).is_ok_and(|l| l.contains(text)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn out_of_file_descriptors_the_server_backs_off_sheds_idle_connections_and_keeps_answering() {
    // A cap far above what `ulimit -n 128` lets the process hold: accept runs out of
    // descriptors (EMFILE) once ~110 connections are open.
    let served = Served::start(
        &["--scenario", "healthy", "--max-connections", "100000"],
        Some(128),
    );
    let pid = served.child.id();
    served.kubectl_ok(&["get", "nodes"]);
    let (cpu0, t0, log0) = (cpu_time(pid), Instant::now(), file_len(&served.log));

    let idle: Vec<std::net::TcpStream> = (0..400)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", served.port)).unwrap())
        .collect();
    assert!(
        wait_for_log(&served, "accept failed"),
        "the server never ran out of descriptors"
    );

    let t = Instant::now();
    let pods = served.kubectl_ok(&["get", "pods", "-A", "--request-timeout=15s"]);
    let kubectl = t.elapsed();
    assert!(pods.contains("kube-apiserver-cp-1"), "{pods}");
    let (cpu, wall) = (cpu_time(pid) - cpu0, t0.elapsed());
    let log = file_len(&served.log) - log0;
    eprintln!(
        "EMFILE: 400 idle connections under ulimit -n 128: kubectl get pods -A {kubectl:?}, \
         server CPU {cpu:?} over {wall:?}, log +{log} bytes"
    );
    // Before: the accept loop spun at 100% CPU and wrote GBs of "accept failed".
    assert!(
        cpu < wall / 2 + Duration::from_millis(500),
        "CPU {cpu:?} over {wall:?}"
    );
    assert!(log < 64 * 1024, "log grew {log} bytes");
    drop(idle);
}

/// Raises this process's soft limit on open files to `need` when it is lower (the hard
/// limit allowing); the test cannot run with fewer, and says so.
fn ensure_open_files(need: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write only the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < need {
            assert!(
                lim.rlim_max == libc::RLIM_INFINITY || lim.rlim_max >= need,
                "this test opens {need} files; the hard limit is {}: raise it (ulimit -Hn)",
                lim.rlim_max
            );
            lim.rlim_cur = need;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
}

/// Sends an anonymous `POST` announcing 1 GiB and writes zeros until the server stops
/// reading (at most 1 GiB); returns the status it answered and the bytes that got out.
async fn upload_one_gib(port: u16, tls: tokio_rustls::TlsConnector) -> (Option<u16>, u64) {
    let gib: u64 = 1 << 30;
    let mut s = tls_connect(port, &tls).await;
    let head = format!(
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {gib}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = tokio::io::split(s);
    let writer = tokio::spawn(async move {
        let chunk = vec![0u8; 64 * 1024];
        let mut sent = 0u64;
        while sent < gib {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len() as u64;
        }
        sent
    });
    let status = response_status(&mut rd).await;
    drop(rd);
    (status, writer.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_connections_and_a_1_gib_upload_leave_kubectl_answered_within_a_second() {
    ensure_open_files(4096);
    // The descriptor limit the review measured with: 2,000 connections are twice as many
    // as the server may hold (its cap is 3/4 of it, 768).
    let served = Served::start(&["--scenario", "healthy"], Some(1024));
    let pid = served.child.id();
    let tls = tls_connector(&served.ca_pem());
    // Discovery is cached by this first run: the measured ones are the list itself.
    served.kubectl_ok(&["get", "pods", "-A"]);
    let rss0 = status_kib(pid, "VmRSS");
    let (cpu0, t0, log0) = (cpu_time(pid), Instant::now(), file_len(&served.log));

    // 1,800 connections that never start TLS and 200 that finish it and send nothing.
    let mut raw = Vec::new();
    for _ in 0..1800 {
        raw.push(
            TcpStream::connect(("127.0.0.1", served.port))
                .await
                .unwrap(),
        );
    }
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(tls_connect(served.port, &tls).await);
    }
    let upload = tokio::spawn(upload_one_gib(served.port, tls.clone()));

    let mut runs = Vec::new();
    for _ in 0..3 {
        let mut cmd = tokio::process::Command::from(served.kubectl_command(&["get", "pods", "-A"]));
        let t = Instant::now();
        let out = tokio::time::timeout(BOUND, cmd.output())
            .await
            .expect("kubectl answered within the bound")
            .unwrap();
        runs.push(t.elapsed());
        assert!(
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains("kube-apiserver-cp-1"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (status, sent) = upload.await.unwrap();
    let (cpu, wall) = (cpu_time(pid) - cpu0, t0.elapsed());
    let (rss, hwm) = (status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM"));
    let log = file_len(&served.log) - log0;
    eprintln!(
        "2,000 idle connections + 1 GiB anonymous upload (server under ulimit -n 1024): \
         kubectl get pods -A {runs:?}; upload answered {status:?} after {sent} bytes; \
         server RSS {rss0} KiB before, {rss} KiB after, peak {hwm} KiB; \
         CPU {cpu:?} over {wall:?}; log +{log} bytes"
    );
    assert_eq!(status, Some(403), "the anonymous upload is refused");
    assert!(
        sent < 64 << 20,
        "the server read {sent} bytes of a refused upload"
    );
    assert!(
        runs.iter().min().unwrap() < &Duration::from_secs(1),
        "kubectl get pods -A took {runs:?}"
    );
    assert!(
        hwm < rss0 + 100 * 1024,
        "peak RSS {hwm} KiB (from {rss0} KiB)"
    );
    assert!(log < 64 * 1024, "log grew {log} bytes");
    drop((raw, silent));
}
