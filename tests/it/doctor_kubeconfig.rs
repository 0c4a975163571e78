//! Kubeconfig like kubectl: `KUBECONFIG` with several files merged in kubectl's order (the
//! first file's current-context wins; names are looked up across files) and `--context`
//! picking another context; `ktriage check` examines the context it resolves. Loopback only.

use crate::common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// Renames the generated kubeconfig's cluster, user and context to `name`.
fn renamed(kubeconfig: &str, from: &str, name: &str) -> String {
    kubeconfig.replace(from, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_kubeconfig_files_resolve_like_kubectl() {
    let broken = common::serve(common::scenario("apiserver-unreachable")).await;
    let healthy = common::serve(common::scenario("healthy")).await;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        renamed(
            &broken.kubeconfig,
            "ktriage-apiserver-unreachable",
            "broken",
        ),
    )
    .unwrap();
    // Both generated kubeconfigs name their user kubernetes-admin, like two kubeadm
    // admin.conf files; give the second its own user name first.
    std::fs::write(
        &b,
        renamed(
            &renamed(&healthy.kubeconfig, "ktriage-healthy", "good"),
            "kubernetes-admin",
            "good-admin",
        ),
    )
    .unwrap();
    let joined = format!("{}:{}", a.display(), b.display());

    let run = |extra: &[&str]| {
        let joined = joined.clone();
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let home = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let mut cmd = Command::new(BIN);
            cmd.args(["check", "--output", "json", "--timeout", "10"])
                .args(&extra)
                .env("KUBECONFIG", &joined)
                .env("HOME", &home)
                .env("KTRIAGE_LOG", "warn");
            for v in ktriage::cluster::proxy::PROXY_VARIABLES {
                cmd.env_remove(v);
            }
            let out = cmd.output().unwrap();
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
            (out.status.code(), v)
        })
        .join()
        .unwrap()
    };

    // The first file's current-context (broken) wins.
    let (code, report) = run(&[]);
    assert_eq!(code, Some(3), "{report:#}");
    assert_eq!(report["cluster"]["name"], "broken");
    assert_eq!(report["findings"][0]["playbook"], "apiserver-unreachable");

    // --context picks the second file's context, which works.
    let (code, report) = run(&["--context", "good"]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["cluster"]["name"], "good");

    // The classic merge accident: both files call their user kubernetes-admin, so kubectl
    // (and ktriage) use the first file's certificate against the second cluster.
    std::fs::write(&b, renamed(&healthy.kubeconfig, "ktriage-healthy", "good")).unwrap();
    let (code, report) = run(&["--context", "good"]);
    assert_eq!(code, Some(3), "{report:#}");
    let first = &report["findings"][0];
    assert_eq!(first["playbook"], "wrong-identity", "{report:#}");
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .contains("refuses the kubeconfig's client certificate"),
        "{first:#}"
    );
    // The doctor's own handshake reads the server's alert, whatever the HTTP client saw.
    let evidence = first["evidence"].to_string();
    assert!(evidence.contains("remote error: tls:"), "{first:#}");
    drop((broken, healthy));
}
