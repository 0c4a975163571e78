//! The snapshot format as a user feeds it to `--snapshot`: YAML multi-doc with evidence,
//! `kind: List` in YAML and JSON, a `kubectl cluster-info dump` directory, malformed input,
//! the snapshot clock, and writing a snapshot back out.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ktriage::snapshot::*;
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/snapshot")
        .join(name)
}

fn load(name: &str) -> Snapshot {
    Snapshot::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn load_err(name: &str) -> SnapshotError {
    match Snapshot::load(&fixture(name)) {
        Ok(s) => panic!("{name} parsed but should not: {s:?}"),
        Err(e) => e,
    }
}

/// The one document a snapshot left out, as `FILE: document N (line L): why`.
fn dropped_one(s: &Snapshot) -> &str {
    assert_eq!(s.dropped.len(), 1, "{:?}", s.dropped);
    &s.dropped[0]
}

fn malformed(err: &SnapshotError) -> (&str, usize, usize, &str) {
    match err {
        SnapshotError::Malformed {
            file,
            document,
            line,
            message,
        } => (file.as_str(), *document, *line, message.as_str()),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn names<'a>(it: impl Iterator<Item = &'a Value>) -> Vec<&'a str> {
    it.map(|o| o["metadata"]["name"].as_str().unwrap_or("?"))
        .collect()
}

fn time(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

// ------------------------------------------------------------------ YAML multi-doc

#[test]
fn yaml_multi_doc_reads_objects_and_every_evidence_kind() {
    let s = load("evidence.yaml");

    let info = s.info.as_ref().expect("SnapshotInfo");
    assert_eq!(info.captured_at.as_deref(), Some("2026-01-15T10:00:00Z"));
    assert_eq!(info.context.as_deref(), Some("prod-eu-admin"));
    assert_eq!(info.server.as_deref(), Some("https://10.0.0.10:6443"));
    assert_eq!(info.version.as_deref(), Some("0.1.0"));

    let kinds: Vec<&str> = s
        .objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Node", "Lease", "FrobnicatorPolicy"]);

    assert_eq!(s.pod_logs.len(), 2);
    let proxy = &s.pod_logs[0];
    assert_eq!(
        (proxy.namespace.as_str(), proxy.pod.as_str()),
        ("kube-system", "kube-proxy-7xk2p")
    );
    assert_eq!(proxy.container.as_deref(), Some("kube-proxy"));
    assert!(proxy.previous);
    assert!(proxy.text.starts_with("I0115 09:40:01.118811"));
    assert!(proxy.text.contains("connect: connection refused"));
    assert_eq!(proxy.text.lines().count(), 2);
    let web = &s.pod_logs[1];
    assert_eq!(web.container, None);
    assert!(!web.previous, "previous defaults to false");
    assert_eq!(web.text, "listening on :8080\n");

    assert_eq!(s.node_logs.len(), 1);
    assert_eq!(s.node_logs[0].node, "worker-2");
    assert_eq!(s.node_logs[0].unit, "kubelet");
    assert!(s.node_logs[0].text.contains("status=1/FAILURE"));

    assert_eq!(s.responses.len(), 2);
    let readyz = &s.responses[0];
    assert_eq!(readyz.method, "GET", "method defaults to GET");
    assert_eq!(readyz.path, "/readyz?verbose");
    assert_eq!(readyz.code, 500);
    assert!(readyz.body.contains("[-]etcd failed"));
    // An object body is kept as its JSON text.
    let forbidden = &s.responses[1];
    assert_eq!(forbidden.code, 403);
    let status: Value = serde_json::from_str(&forbidden.body).expect("body is JSON");
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(status["code"], 403);

    assert_eq!(s.connections.len(), 1);
    let conn = &s.connections[0];
    assert_eq!(conn.server, "https://10.0.0.10:6443");
    assert!(
        conn.error
            .as_deref()
            .unwrap()
            .contains("certificate has expired")
    );
    assert_eq!(conn.environment["HTTPS_PROXY"], "http://proxy.corp:3128");
    assert_eq!(conn.environment["no_proxy"], "localhost,127.0.0.1");
    let cert = conn.served_certificate.as_ref().expect("servedCertificate");
    assert_eq!(cert.subject, "CN=kube-apiserver");
    assert_eq!(cert.dns_names, ["kubernetes", "kubernetes.default", "cp-1"]);
    assert_eq!(cert.ip_addresses, ["10.96.0.1", "10.0.0.10"]);
    assert_eq!(cert.not_after.as_deref(), Some("2026-01-10T08:00:00Z"));
    assert_eq!(cert.pem, None);

    assert_eq!(s.unknown_evidence.len(), 1);
    assert_eq!(s.unknown_evidence[0]["kind"], "HeapProfile");
    assert_eq!(s.unknown_evidence[0]["data"], "not understood yet");
}

#[test]
fn unknown_kinds_and_fields_are_kept_with_their_types() {
    let s = load("evidence.yaml");
    let policy = s
        .objects_of_kind("FrobnicatorPolicy")
        .next()
        .expect("CRD kept");
    assert_eq!(
        policy["spec"],
        json!({
            "mode": "true",
            "threshold": 0.75,
            "levels": [1, 2, 3],
            "someFutureField": {"nested": "yes"},
        })
    );
    // Quoted numbers stay strings, unquoted ones numbers.
    let node = s.object("Node", None, "worker-2").expect("node");
    assert_eq!(node["metadata"]["resourceVersion"], json!("48213"));
    assert_eq!(node["status"]["capacity"]["cpu"], json!("4"));
    assert_eq!(
        node["metadata"]["labels"]["node-role.kubernetes.io/worker"],
        json!("")
    );
    let lease = s
        .object("Lease", Some("kube-node-lease"), "worker-2")
        .expect("lease");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], json!(40));
}

#[test]
fn yaml_quirks_markers_and_comments() {
    let text = "%YAML 1.2\n---\n# c\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n...\n\
                --- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n---\n---\n\
                apiVersion: v1\nkind: Namespace\nmetadata:\n  name: c\n  labels: &l {team: x}\n  \
                annotations: *l\n";
    let s = Snapshot::parse_str(text, "quirks.yaml").unwrap();
    assert_eq!(names(s.objects.iter()), ["a", "b", "c"]);
    assert_eq!(s.objects[2]["metadata"]["annotations"]["team"], "x");
}

// ------------------------------------------------------------------ Lists

#[test]
fn list_in_yaml_is_flattened_including_nested_lists() {
    let s = load("list.yaml");
    let kinds: Vec<&str> = s
        .objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Service", "ConfigMap", "Lease"]);
    let cm = s
        .object("ConfigMap", Some("default"), "kube-root-ca.crt")
        .unwrap();
    assert_eq!(cm["data"]["enabled"], json!("true"));
    assert_eq!(cm["data"]["retries"], json!("3"));
    let svc = s.object("Service", Some("default"), "kubernetes").unwrap();
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], json!(6443));
}

#[test]
fn list_in_json_from_kubectl_get_pods() {
    let s = load("pods.json");
    assert_eq!(s.objects.len(), 3);
    assert_eq!(
        names(s.objects_of_kind("Pod")),
        [
            "coredns-668d6bf9bc-4jx7n",
            "web-6d4b9c8f7-abcde",
            "api-7f9c6b5d4-q8w2e"
        ]
    );
    let api = s
        .object("Pod", Some("default"), "api-7f9c6b5d4-q8w2e")
        .unwrap();
    let status = &api["status"]["containerStatuses"][0];
    assert_eq!(status["restartCount"], json!(14));
    assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert!(api["status"]["conditions"][0]["lastProbeTime"].is_null());
}

#[test]
fn json_and_yaml_of_the_same_list_agree() {
    let json_text = std::fs::read_to_string(fixture("pods.json")).unwrap();
    let from_json = Snapshot::parse_str(&json_text, "pods.json").unwrap();
    let value: Value = serde_json::from_str(&json_text).unwrap();
    let yaml_text = serde_yaml_ng::to_string(&value).unwrap();
    let from_yaml = Snapshot::parse_str(&yaml_text, "pods.yaml").unwrap();
    assert_eq!(from_json, from_yaml);
}

#[test]
fn typed_list_items_without_kind_get_it_from_the_list() {
    let text = r#"{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{},
                   "items":[{"metadata":{"name":"api","namespace":"shop"}}]}"#;
    let s = Snapshot::parse_str(text, "deps.json").unwrap();
    assert_eq!(s.objects[0]["kind"], "Deployment");
    assert_eq!(s.objects[0]["apiVersion"], "apps/v1");
    // A plain List cannot say what its items are: that item is left out, named.
    let s = Snapshot::parse_str(
        r#"{"kind":"List","items":[{"metadata":{"name":"x"}}]}"#,
        "l.json",
    )
    .unwrap();
    let message = dropped_one(&s);
    assert!(
        message.contains("items[0]") && message.contains("kind"),
        "{message}"
    );
}

// ------------------------------------------------------------------ cluster-info dump

#[test]
fn cluster_info_dump_directory() {
    let s = load("cluster-info-dump");

    assert_eq!(names(s.objects_of_kind("Node")), ["cp-1", "worker-2"]);
    let worker = s.object("Node", None, "worker-2").unwrap();
    assert_eq!(worker["apiVersion"], "v1");
    assert_eq!(worker["status"]["conditions"][0]["status"], "Unknown");

    let mut pods = names(s.objects_of_kind("Pod"));
    pods.sort();
    assert_eq!(
        pods,
        ["etcd-cp-1", "kube-proxy-7xk2p", "web-6d4b9c8f7-abcde"]
    );
    let events: Vec<&Value> = s.objects_of_kind("Event").collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["reason"], "NodeNotReady");
    let ds = s
        .object("DaemonSet", Some("kube-system"), "kube-proxy")
        .unwrap();
    assert_eq!(ds["apiVersion"], "apps/v1");

    // One log per container section of each logs.txt.
    let etcd = s.pod_log("kube-system", "etcd-cp-1", None, false).unwrap();
    assert_eq!(etcd.container.as_deref(), Some("etcd"));
    assert!(etcd.text.contains("apply request took too long"));
    assert!(!etcd.text.contains("===="));
    let proxy = s
        .pod_log("kube-system", "kube-proxy-7xk2p", Some("kube-proxy"), false)
        .unwrap();
    assert!(proxy.text.starts_with("I0115 09:40:01.118811"));
    assert_eq!(proxy.text.lines().count(), 2);
    let init = s
        .pod_log(
            "kube-system",
            "kube-proxy-7xk2p",
            Some("wait-for-iptables"),
            false,
        )
        .unwrap();
    assert_eq!(init.text, "");
    let shipper = s
        .pod_log("default", "web-6d4b9c8f7-abcde", Some("log-shipper"), false)
        .unwrap();
    assert!(shipper.text.starts_with("Request log error:"));
    assert_eq!(s.pod_logs.len(), 5);

    // No capturedAt in a dump: judged at its newest timestamp (a node heartbeat).
    assert_eq!(s.clock(), Some(time("2026-01-15T09:59:41Z")));
}

#[test]
fn cluster_info_dump_to_stdout_in_one_file() {
    // `kubectl cluster-info dump > dump.txt`: JSON lists one after another, logs between.
    let dir = fixture("cluster-info-dump");
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    let text = [
        read("nodes.json"),
        read("kube-system/events.json"),
        read("kube-system/pods.json"),
        read("kube-system/etcd-cp-1/logs.txt"),
        read("kube-system/kube-proxy-7xk2p/logs.txt"),
        read("default/pods.json"),
    ]
    .concat();
    let s = Snapshot::parse_str(&text, "dump.txt").unwrap();
    assert_eq!(s.objects_of_kind("Node").count(), 2);
    assert_eq!(s.objects_of_kind("Pod").count(), 3);
    assert_eq!(s.pod_logs.len(), 3);
    let proxy = s
        .pod_log("kube-system", "kube-proxy-7xk2p", Some("kube-proxy"), false)
        .unwrap();
    assert!(proxy.text.contains("connection refused"));
}

#[test]
fn plain_logs_txt_without_markers_is_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let pod_dir = dir.path().join("shop/api-0");
    std::fs::create_dir_all(&pod_dir).unwrap();
    std::fs::write(pod_dir.join("logs.txt"), b"panic: boom\n\xff\n").unwrap();
    let s = Snapshot::load(dir.path()).unwrap();
    assert_eq!(s.pod_logs.len(), 1);
    let log = s.pod_log("shop", "api-0", Some("api"), false).unwrap();
    assert_eq!(log.container, None);
    assert!(log.text.starts_with("panic: boom\n"));
}

#[test]
fn error_in_a_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("kube-system")).unwrap();
    std::fs::write(
        dir.path().join("nodes.json"),
        r#"{"kind":"NodeList","items":[]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kube-system/pods.json"),
        "{\n  \"kind\": \"PodList\",\n  \"items\": [\n",
    )
    .unwrap();
    let err = Snapshot::load(dir.path()).unwrap_err();
    let (file, document, line, _) = malformed(&err);
    assert!(file.ends_with("kube-system/pods.json"), "{file}");
    assert_eq!(document, 0);
    assert_eq!(line, 4);
}

// ------------------------------------------------------------------ malformed input

#[test]
fn bad_indentation_names_file_document_and_line() {
    let err = load_err("malformed/bad-indent.yaml");
    let (file, document, line, message) = malformed(&err);
    assert!(file.ends_with("bad-indent.yaml"), "{file}");
    assert_eq!(document, 2, "the third document, counting from 0");
    // `imagePullPolicy` sits on line 27 of the file.
    assert_eq!(line, 27, "{message}");
    let shown = err.to_string();
    assert!(
        shown.contains("bad-indent.yaml: document 2 (line 27)"),
        "{shown}"
    );
    // Line numbers inside the parser's message count from the file start too.
    assert!(message.contains("at line 27 column 8"), "{message}");
}

#[test]
fn truncated_json_names_the_line_where_it_ends() {
    let err = load_err("malformed/truncated.json");
    let (file, document, line, message) = malformed(&err);
    assert!(file.ends_with("truncated.json"));
    assert_eq!(document, 0);
    let text = std::fs::read_to_string(fixture("malformed/truncated.json")).unwrap();
    assert_eq!(line, text.lines().count(), "{message}");
    assert!(message.contains("EOF"), "{message}");
}

#[test]
fn podlog_without_name_names_the_field() {
    // The incomplete document is left out and named; the rest of the snapshot counts.
    let s = load("malformed/podlog-without-name.yaml");
    let message = dropped_one(&s);
    assert!(message.contains("document 1 (line 5)"), "{message}");
    assert!(message.contains("PodLog"), "{message}");
    assert!(message.contains("metadata.name"), "{message}");
    assert!(s.info.is_some(), "the other documents were kept");
}

#[test]
fn document_without_kind_says_kind_is_missing() {
    let s = load("malformed/no-kind.yaml");
    let message = dropped_one(&s);
    assert!(message.contains("document 1 (line 6)"), "{message}");
    assert!(message.contains("missing `kind`"), "{message}");
    assert_eq!(s.objects.len(), 1, "the Namespace before it is kept");
}

#[test]
fn evidence_field_errors_are_precise() {
    let cases = [
        (
            "apiVersion: ktriage/v1\nkind: Response\npath: /livez\ncode: 9000\n",
            "`code`",
        ),
        (
            "apiVersion: ktriage/v1\nkind: Response\ncode: 200\n",
            "`path`",
        ),
        (
            "apiVersion: ktriage/v1\nkind: PodLog\nmetadata: {name: p}\nprevious: maybe\ntext: x\n",
            "`previous`",
        ),
        (
            "apiVersion: ktriage/v1\nkind: NodeLog\nmetadata: {name: n}\nunit: kubelet\n",
            "`text`",
        ),
        ("just a string\n", "mapping"),
    ];
    for (text, expected) in cases {
        let s = Snapshot::parse_str(text, "case.yaml").unwrap();
        let message = dropped_one(&s);
        assert!(message.contains(expected), "{text:?}: {message}");
    }
    // A Connection is kept with what it has (a pasted error without the server address; a
    // certificate without an issuer).
    let s = Snapshot::parse_str(
        "apiVersion: ktriage/v1\nkind: Connection\nerror: refused\n\
         servedCertificate: {subject: CN=kube-apiserver}\n",
        "case.yaml",
    )
    .unwrap();
    assert!(s.dropped.is_empty(), "{:?}", s.dropped);
    assert_eq!(s.connections[0].error.as_deref(), Some("refused"));
    assert_eq!(
        s.connections[0].served_certificate.as_ref().unwrap().issuer,
        ""
    );
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let err = Snapshot::load(&fixture("does-not-exist.yaml")).unwrap_err();
    assert!(matches!(err, SnapshotError::Io { .. }));
    assert!(err.to_string().contains("does-not-exist.yaml"));
}

#[test]
fn hostile_input_never_panics() {
    let inputs = [
        "",
        "---",
        "...",
        "{",
        "[",
        "]",
        "- 1\n- 2\n",
        "kind: [",
        "---\n- a\n",
        "{\"kind\": \"List\", \"items\": 3}",
        "\u{feff}{}",
        "==== START logs for container",
        "{} ==== START logs for container a of pod b/c ====\n",
        "kind: 5\n",
        "a: *missing\n",
        "<<: 3\nkind: X\n",
    ];
    for text in inputs {
        let _ = Snapshot::parse_str(text, "x");
    }
}

// ------------------------------------------------------------------ clock

#[test]
fn clock_is_captured_at_when_present() {
    let s = load("evidence.yaml");
    assert_eq!(s.clock(), Some(time("2026-01-15T10:00:00Z")));
}

#[test]
fn clock_is_the_newest_timestamp_without_captured_at() {
    // The Lease's renewTime carries microseconds and is the newest instant.
    let s = load("list.yaml");
    assert_eq!(s.clock(), Some(time("2026-01-15T09:59:58.123456Z")));

    // A certificate's notAfter lies in the future by nature and is not "now".
    let mut with_cert = s.clone();
    with_cert.objects.push(json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"notAfter": "2026-04-01T00:00:00Z", "renewalTime": "2026-03-01T00:00:00Z"}
    }));
    assert_eq!(with_cert.clock(), Some(time("2026-01-15T09:59:58.123456Z")));

    // An unparseable capturedAt falls back to the objects.
    let mut bad_info = s.clone();
    bad_info.info = Some(SnapshotInfo {
        captured_at: Some("yesterday".into()),
        ..Default::default()
    });
    assert_eq!(bad_info.clock(), Some(time("2026-01-15T09:59:58.123456Z")));

    // Offsets are honoured.
    let offset = Snapshot::parse_str(
        "kind: X\nmetadata: {creationTimestamp: '2026-01-15T12:00:00+03:00'}\n---\n\
         kind: Y\nmetadata: {creationTimestamp: '2026-01-15T09:30:00Z'}\n",
        "o.yaml",
    )
    .unwrap();
    assert_eq!(offset.clock(), Some(time("2026-01-15T09:30:00Z")));
}

#[test]
fn clock_is_none_without_any_timestamp() {
    let s = Snapshot::parse_str("kind: Namespace\nmetadata: {name: a}\n", "x").unwrap();
    assert_eq!(s.clock(), None);
}

// ------------------------------------------------------------------ writing

fn rich_snapshot() -> Snapshot {
    let mut s = load("evidence.yaml");
    s.merge(load("list.yaml"));
    s.merge(load("cluster-info-dump"));
    s.pod_logs.push(PodLog {
        namespace: "default".into(),
        pod: "tricky".into(),
        container: Some("c".into()),
        previous: false,
        text: "  indented first line\n\ttab\nno newline at end".into(),
    });
    s.pod_logs.push(PodLog {
        namespace: "default".into(),
        pod: "tricky".into(),
        container: Some("windows".into()),
        previous: true,
        text: "crlf line\r\ntrailing spaces   \nnull\n\n\n".into(),
    });
    s.node_logs.push(NodeLog {
        node: "cp-1".into(),
        unit: "true".into(),
        text: "123".into(),
    });
    s.responses.push(RawResponse {
        method: "POST".into(),
        path: "/api/v1/namespaces".into(),
        code: 403,
        body: "{\"kind\":\"Status\"}".into(),
    });
    s.connections.push(Connection {
        server: "https://127.0.0.1:6443".into(),
        error: None,
        environment: Default::default(),
        served_certificate: Some(ServedCertificate {
            subject: "CN=x".into(),
            issuer: "CN=y".into(),
            pem: Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into()),
            ..Default::default()
        }),
    });
    s
}

#[test]
fn to_yaml_round_trips_a_rich_snapshot() {
    let s = rich_snapshot();
    let text = s.to_yaml();
    let back = Snapshot::parse_str(&text, "written.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, s);
    // And writing is stable.
    assert_eq!(back.to_yaml(), text);
}

#[test]
fn to_yaml_is_readable() {
    let text = rich_snapshot().to_yaml();
    // SnapshotInfo comes first.
    assert!(
        text.starts_with("---\napiVersion: ktriage/v1\nkind: SnapshotInfo\n"),
        "{}",
        &text[..200]
    );
    // Logs come out as literal blocks, and strings that look like other types stay quoted.
    assert!(text.contains("text: |"), "no literal block");
    assert!(text.contains("  I0115 09:40:01.118811"));
    assert!(text.contains("unit: 'true'") || text.contains("unit: \"true\""));
    // A JSON body read from an object is written back as YAML.
    assert!(
        text.contains("body:\n  apiVersion: v1\n  code: 403\n"),
        "{text}"
    );
    assert!(
        text.contains("resourceVersion: '48213'") || text.contains("resourceVersion: \"48213\"")
    );
}

#[test]
fn empty_snapshot_round_trips() {
    let s = Snapshot::default();
    assert!(s.is_empty());
    assert_eq!(Snapshot::parse_str(&s.to_yaml(), "e").unwrap(), s);
}

#[test]
fn save_then_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incident.yaml");
    let s = rich_snapshot();
    s.save(&path).unwrap();
    assert_eq!(Snapshot::load(&path).unwrap(), s);
    assert!(!s.is_empty());
    let err = s.save(&dir.path().join("missing/dir/x.yaml")).unwrap_err();
    assert!(matches!(err, SnapshotError::Io { .. }), "{err}");
}

// ------------------------------------------------------------------ helpers

#[test]
fn pod_log_lookup_rules() {
    let log = |container: Option<&str>, previous: bool, text: &str| PodLog {
        namespace: "ns".into(),
        pod: "p".into(),
        container: container.map(str::to_string),
        previous,
        text: text.into(),
    };
    let mut s = Snapshot {
        pod_logs: vec![
            log(Some("a"), false, "a-now"),
            log(Some("b"), false, "b-now"),
        ],
        ..Default::default()
    };
    s.pod_logs.push(log(Some("b"), true, "b-before"));
    assert_eq!(s.pod_log("ns", "p", None, false).unwrap().text, "a-now");
    assert_eq!(
        s.pod_log("ns", "p", Some("b"), false).unwrap().text,
        "b-now"
    );
    assert_eq!(
        s.pod_log("ns", "p", Some("b"), true).unwrap().text,
        "b-before"
    );
    assert!(s.pod_log("ns", "p", Some("c"), false).is_none());
    assert!(s.pod_log("other", "p", None, false).is_none());

    // One unnamed log stands for whichever container is asked for...
    let single = Snapshot {
        pod_logs: vec![log(None, false, "only")],
        ..Default::default()
    };
    assert_eq!(
        single.pod_log("ns", "p", Some("x"), false).unwrap().text,
        "only"
    );
    // ...but not when the pod has several logs.
    let several = Snapshot {
        pod_logs: vec![log(None, false, "first"), log(Some("y"), false, "y")],
        ..Default::default()
    };
    assert!(several.pod_log("ns", "p", Some("x"), false).is_none());
}

#[test]
fn merge_appends_and_keeps_our_info() {
    let mut a = load("evidence.yaml");
    let b = Snapshot::parse_str(
        "apiVersion: ktriage/v1\nkind: SnapshotInfo\ncapturedAt: '2020-01-01T00:00:00Z'\n\
         context: other\n---\nkind: Namespace\nmetadata: {name: extra}\n",
        "b.yaml",
    )
    .unwrap();
    let before = a.objects.len();
    a.merge(b);
    assert_eq!(a.objects.len(), before + 1);
    let info = a.info.unwrap();
    assert_eq!(info.captured_at.as_deref(), Some("2026-01-15T10:00:00Z"));
    assert_eq!(info.context.as_deref(), Some("prod-eu-admin"));
}

#[test]
fn a_list_kind_without_item_sequence_is_an_ordinary_object() {
    let s = Snapshot::parse_str(
        "apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: a}\nitems: {cidr: 10.0.0.0/8}\n",
        "allow.yaml",
    )
    .unwrap();
    assert_eq!(s.objects.len(), 1);
    assert_eq!(s.objects[0]["items"]["cidr"], "10.0.0.0/8");
}

#[test]
fn merge_keys_are_resolved_but_a_quoted_merge_key_is_data() {
    let text = "kind: ConfigMap\nmetadata: {name: a}\nbase: &b {x: 1, y: 2}\n\
                data:\n  <<: *b\n  y: 3\n";
    let s = Snapshot::parse_str(text, "merge.yaml").unwrap();
    assert_eq!(s.objects[0]["data"], json!({"x": 1, "y": 3}));

    let literal = Snapshot {
        objects: vec![json!({"kind": "ConfigMap", "data": {"<<": "not a merge", "=": "yes"}})],
        ..Default::default()
    };
    assert_eq!(
        Snapshot::parse_str(&literal.to_yaml(), "w.yaml").unwrap(),
        literal
    );
}

#[test]
fn windows_line_endings_read_the_same() {
    let text = std::fs::read_to_string(fixture("evidence.yaml")).unwrap();
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(
        Snapshot::parse_str(&crlf, "crlf.yaml").unwrap(),
        Snapshot::parse_str(&text, "lf.yaml").unwrap()
    );
    let bad = std::fs::read_to_string(fixture("malformed/bad-indent.yaml"))
        .unwrap()
        .replace('\n', "\r\n");
    let err = Snapshot::parse_str(&bad, "bad.yaml").unwrap_err();
    assert_eq!(malformed(&err).2, 27);
}

/// Every truncation and many one-byte mutations of the fixtures: no panic, and whatever
/// parses also survives a round trip through `to_yaml`.
#[test]
fn mutated_fixtures_never_panic_and_round_trip() {
    for (name, step) in [("evidence.yaml", 3), ("list.yaml", 3), ("pods.json", 41)] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let mut n = 0;
        for cut in (0..text.len()).step_by(step) {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let _ = Snapshot::parse_str(&text[..cut], "t");
            let mut flipped = text.clone().into_bytes();
            let m: &[u8] = b"-:{}[]\n #|>'\"\t&*!%@`";
            flipped[cut] = m[cut % m.len()];
            if let Ok(t) = String::from_utf8(flipped)
                && let Ok(mut s) = Snapshot::parse_str(&t, "t")
            {
                // What was left out is not written back: the round trip keeps the rest.
                s.dropped.clear();
                let back = Snapshot::parse_str(&s.to_yaml(), "w")
                    .unwrap_or_else(|e| panic!("{e}\n{}", s.to_yaml()));
                assert!(
                    back == s,
                    "round trip differs for mutation at {cut} of {name}"
                );
                n += 1;
            }
        }
        assert!(n > 10, "{name}: only {n} mutants parsed");
    }
}
