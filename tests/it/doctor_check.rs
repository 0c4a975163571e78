//! `ktriage check --scenario ID --output json` on each connection scenario, as a user runs
//! it: exit code 3 (nothing could be read; 2 for the restricted user, who can read pods),
//! the right playbook first, and the decisive evidence in the finding — served issuer
//! against the kubeconfig's CA, SANs against the host, the dates, the NO_PROXY value and the
//! proxy's status line. Text and Markdown carry the same finding.

use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn ktriage(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("KTRIAGE_LOG", "warn");
    // The scenarios hand their own proxy variables to the doctor; the test's must not leak in.
    for v in ktriage::cluster::proxy::PROXY_VARIABLES {
        cmd.env_remove(v);
    }
    cmd.output().expect("ktriage runs")
}

fn check_json(id: &str) -> (Option<i32>, Value) {
    let out = ktriage(&["check", "--scenario", id, "--output", "json"]);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{id}: no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), v)
}

/// The evidence of a finding as `field = value` lines.
fn evidence(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} = {}", e["object"], e["field"], e["value"]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn each_connection_scenario_exits_3_with_its_playbook_first_and_the_decisive_evidence() {
    // (scenario, first playbook, fragments of its evidence or summary)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "client-proxy-intercepts-apiserver",
            "client-proxy-intercepts-apiserver",
            &[
                "NO_PROXY\" = \"localhost,127.0.0.1,.cluster.local\"",
                "HTTP/1.1 504 Gateway Timeout",
                "kube-apiserver.corp.invalid",
                "\"HTTPS_PROXY\" = \"http://127.0.0.1:",
            ],
        ),
        (
            "apiserver-unreachable",
            "apiserver-unreachable",
            &["connect: connection refused", "probe/tcp"],
        ),
        (
            "kubeconfig-ca-mismatch",
            "kubeconfig-ca-mismatch",
            &[
                "\"served certificate\" \"issuer\" = \"CN=kubernetes\"",
                "\"certificate-authority\" = \"CN=kubernetes (sha256 ",
                "another key",
            ],
        ),
        (
            "apiserver-cert-missing-san",
            "apiserver-cert-missing-san",
            &[
                "\"requested name\" = \"127.0.0.1\"",
                "kubernetes, kubernetes.default, cp-1.internal, 10.96.0.1, 10.0.2.15",
            ],
        ),
        (
            "certificate-expiry",
            "certificate-expiry",
            &["\"notAfter\"", "12 days ago", "CN=kube-apiserver"],
        ),
        (
            "certificate-expiry-client",
            "certificate-expiry",
            &[
                "\"notAfter\"",
                "3 days ago",
                "client certificate",
                "CN=kubernetes-admin",
            ],
        ),
        (
            "kubeconfig-corrupted-ca",
            "kubeconfig-ca-mismatch",
            &["LS0tLS1CRUdJTi", "certificate-authority-data"],
        ),
        (
            "wrong-identity",
            "wrong-identity",
            &["system:anonymous", "(none usable)"],
        ),
    ];
    for (id, playbook, fragments) in cases {
        let (code, report) = check_json(id);
        assert_eq!(code, Some(3), "{id}: exit code; {report:#}");
        let first = &report["findings"][0];
        assert_eq!(first["playbook"], *playbook, "{id}: {report:#}");
        let text = format!("{}\n{}", first["summary"], evidence(first));
        for f in *fragments {
            assert!(text.contains(f), "{id}: {f:?} missing in\n{text}");
        }
        assert!(
            !first["fix"]["explanation"].as_str().unwrap().is_empty(),
            "{id}: a fix"
        );
        assert!(
            !report["cluster"]["problems"].as_array().unwrap().is_empty(),
            "{id}: the client's error is listed"
        );
    }
}

#[test]
fn the_restricted_user_exits_2_with_the_denied_reads_and_the_minimal_grant() {
    let (code, report) = check_json("restricted-user");
    assert_eq!(code, Some(2), "{report:#}");
    let first = &report["findings"][0];
    assert_eq!(first["playbook"], "rbac-forbidden", "{report:#}");
    assert_eq!(first["code"], "AUTH-01");
    let ev = evidence(first);
    assert!(ev.contains("userInfo.username\" = \"dev-alice\""), "{ev}");
    assert!(ev.contains("cannot list resource \\\"nodes\\\""), "{ev}");
    assert!(ev.contains("list pods"), "{ev}");
    let cmds: Vec<&str> = first["fix"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("kubectl create clusterrole ktriage-read --verb=get,list,watch --resource=namespaces,nodes")),
        "{cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c.contains("clusterrolebinding") && c.contains("--user=dev-alice")),
        "{cmds:?}"
    );
    // The pods it may read are still judged.
    assert!(
        !report["health"]["restarts"].as_array().unwrap().is_empty()
            || !report["health"]["addons"].as_array().unwrap().is_empty()
    );
}

#[test]
fn text_and_markdown_carry_the_doctors_finding() {
    let out = ktriage(&["check", "--scenario", "kubeconfig-ca-mismatch"]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TLS-01 kubeconfig-ca-mismatch"), "{text}");
    assert!(text.contains("fix: Take the kubeconfig again"), "{text}");
    let out = ktriage(&[
        "check",
        "--scenario",
        "apiserver-cert-missing-san",
        "--output",
        "markdown",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("#### TLS-02 `apiserver-cert-missing-san`"),
        "{md}"
    );
    assert!(
        md.contains("| `served certificate` | `subjectAltNames` |"),
        "{md}"
    );
}

#[test]
fn explain_ranks_the_connection_playbooks_for_the_seeds_texts() {
    for (text, id) in [
        (
            "Unable to connect to the server: Gateway Timeout",
            "client-proxy-intercepts-apiserver",
        ),
        (
            "Unable to connect to the server: x509: certificate signed by unknown authority",
            "kubeconfig-ca-mismatch",
        ),
        (
            "dial tcp 10.0.0.1:6443: connect: connection refused",
            "apiserver-unreachable",
        ),
    ] {
        let out = ktriage(&["explain", text, "--output", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["matches"][0]["playbook"], id, "{text}: {v:#}");
    }
}

#[test]
fn a_healthy_scenario_passes_the_doctor_untouched() {
    let (code, report) = check_json("healthy");
    assert_eq!(code, Some(0), "{report:#}");
    // No connection playbook fires on a reachable cluster (cluster-side info findings, such
    // as an on-prem NodePort note, may appear).
    let connection = [
        "client-proxy-intercepts-apiserver",
        "apiserver-unreachable",
        "kubeconfig-ca-mismatch",
        "apiserver-cert-missing-san",
        "certificate-expiry",
        "wrong-identity",
    ];
    for f in report["findings"].as_array().unwrap() {
        assert!(
            !connection.contains(&f["playbook"].as_str().unwrap_or("")),
            "{f:#}"
        );
        assert_eq!(f["severity"], "info", "{f:#}");
    }
}

#[test]
fn a_snapshots_connection_evidence_is_diagnosed_by_the_same_playbooks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jump-host.yaml");
    std::fs::write(
        &path,
        r#"apiVersion: ktriage/v1
kind: SnapshotInfo
capturedAt: "2026-03-01T12:00:00Z"
context: prod
server: https://10.20.0.5:6443
---
apiVersion: ktriage/v1
kind: Connection
server: https://10.20.0.5:6443
error: "Unable to connect to the server: Gateway Timeout"
environment:
  HTTPS_PROXY: http://proxy.corp.example:3128
  NO_PROXY: localhost,127.0.0.1,.corp.example,10.10.0.0/16
"#,
    )
    .unwrap();
    let out = ktriage(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let first = &report["findings"][0];
    assert_eq!(
        first["playbook"], "client-proxy-intercepts-apiserver",
        "{report:#}"
    );
    let ev = evidence(first);
    assert!(ev.contains("10.10.0.0/16"), "{ev}");
    assert!(ev.contains("http://proxy.corp.example:3128"), "{ev}");
}
