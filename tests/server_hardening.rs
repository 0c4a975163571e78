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
use std::time::{Duration, Instant};

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
            .env("KTRIAGE_LOG", "debug")
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

    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("kubectl runs")
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
