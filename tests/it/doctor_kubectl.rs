//! Each connection scenario is faithful: real `kubectl`, given the scenario's kubeconfig and
//! the environment the scenario hands its clients, fails with the error text that the
//! playbook's symptoms name (and `explain` ranks that playbook first for it). Everything runs
//! on 127.0.0.1; the proxy scenario's server name is under `.invalid` and only ever reaches
//! the loopback fake proxy.

use crate::common;

use std::process::Command;
use std::time::Duration;

use ktriage::cluster::proxy::PROXY_VARIABLES;
use ktriage::playbooks::engine;

/// (scenario, fragments kubectl's stderr must contain, playbook explain must rank first)
const CASES: &[(&str, &[&str], Option<&str>)] = &[
    (
        "client-proxy-intercepts-apiserver",
        &["Unable to connect to the server", "Gateway Timeout"],
        Some("client-proxy-intercepts-apiserver"),
    ),
    (
        "apiserver-unreachable",
        &["connect: connection refused"],
        Some("apiserver-unreachable"),
    ),
    (
        "kubeconfig-ca-mismatch",
        &["x509: certificate signed by unknown authority"],
        Some("kubeconfig-ca-mismatch"),
    ),
    (
        "apiserver-cert-missing-san",
        &["x509: certificate is valid for", "not 127.0.0.1"],
        Some("apiserver-cert-missing-san"),
    ),
    (
        "certificate-expiry",
        &["x509: certificate has expired"],
        Some("certificate-expiry"),
    ),
    (
        "certificate-expiry-client",
        &["expired certificate"],
        Some("certificate-expiry"),
    ),
    (
        "kubeconfig-corrupted-ca",
        &["unable to load root certificates"],
        None,
    ),
    (
        "wrong-identity",
        &["User \"system:anonymous\" cannot list resource \"nodes\""],
        Some("wrong-identity"),
    ),
    (
        "restricted-user",
        &["User \"dev-alice\" cannot list resource \"nodes\""],
        None,
    ),
];

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_fails_with_the_symptom_text_of_each_scenario() {
    assert!(kubectl_available(), "kubectl is needed for this test");
    for (id, fragments, playbook) in CASES {
        let handle = common::serve(common::scenario(id)).await;
        let (dir, path) = common::kubeconfig_file(&handle);
        let mut cmd = Command::new("kubectl");
        // Anonymous users may not read discovery (/api) on a real cluster either, and kubectl
        // then says only "Forbidden: unknown": the seeds' text comes from a direct request.
        let what: &[&str] = if *id == "wrong-identity" {
            &["get", "--raw", "/api/v1/nodes"]
        } else {
            &["get", "nodes"]
        };
        cmd.args(["--kubeconfig", path.to_str().unwrap()])
            .args(what)
            .args(["--request-timeout", "10s"])
            .env("HOME", dir.path());
        for v in PROXY_VARIABLES {
            cmd.env_remove(v);
        }
        cmd.envs(&handle.client_env);
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::task::spawn_blocking(move || cmd.output().expect("kubectl runs")),
        )
        .await
        .expect("kubectl ends within 60 s")
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{id}: kubectl succeeded");
        for f in *fragments {
            assert!(
                stderr.contains(f),
                "{id}: kubectl said {stderr:?}, wanted {f:?}"
            );
        }
        if let Some(pb) = playbook {
            let ranked = engine::rank_symptoms(&stderr);
            assert_eq!(
                ranked.first().map(|(p, _)| p.id),
                Some(*pb),
                "{id}: explain ranks {:?} for {stderr:?}",
                ranked.iter().map(|(p, s)| (p.id, *s)).collect::<Vec<_>>()
            );
        }
        drop(handle);
    }
}

/// The inet addresses a traced command connected to (`strace -f -e trace=connect`).
fn traced_connects(program: &str, args: &[&str], envs: &[(String, String)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-e", "trace=connect", "-o"])
        .arg(&trace)
        .arg(program)
        .args(args)
        .env("HOME", dir.path())
        .env("KTRIAGE_LOG", "warn");
    for v in PROXY_VARIABLES {
        cmd.env_remove(v);
    }
    cmd.envs(envs.iter().cloned());
    cmd.output().expect("strace runs");
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains("AF_INET"))
        .filter_map(|l| {
            let start = l
                .find("inet_addr(\"")
                .map(|i| i + 11)
                .or_else(|| l.find("inet_pton(AF_INET6, \"").map(|i| i + 21))?;
            let rest = &l[start..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_leaves_loopback_in_the_proxy_scenario() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("strace is not installed: skipped");
        return;
    }
    let handle = common::serve(common::scenario("client-proxy-intercepts-apiserver")).await;
    let (_dir, path) = common::kubeconfig_file(&handle);
    let env: Vec<(String, String)> = handle
        .client_env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let kubeconfig = path.to_str().unwrap().to_string();
    let kubectl = tokio::task::spawn_blocking({
        let env = env.clone();
        move || {
            traced_connects(
                "kubectl",
                &[
                    "--kubeconfig",
                    &kubeconfig,
                    "get",
                    "nodes",
                    "--request-timeout",
                    "10s",
                ],
                &env,
            )
        }
    })
    .await
    .unwrap();
    let ktriage = tokio::task::spawn_blocking(|| {
        traced_connects(
            env!("CARGO_BIN_EXE_ktriage"),
            &[
                "check",
                "--scenario",
                "client-proxy-intercepts-apiserver",
                "--output",
                "json",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    for (who, addrs) in [("kubectl", kubectl), ("ktriage", ktriage)] {
        assert!(!addrs.is_empty(), "{who}: no connection traced");
        for a in &addrs {
            assert!(
                a.starts_with("127.") || a == "::1",
                "{who} connected to {a} (all: {addrs:?})"
            );
        }
    }
}
