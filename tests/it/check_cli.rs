//! `ktriage check` and `ktriage explain` as a user runs them: exit codes, the JSON shape,
//! the four health sections from a served scenario, broken scenarios flagged critical in the
//! right section, and the seeds' error texts ranked to the right playbook.

use std::process::Output;

use serde_json::Value;

use crate::common::ktriage;

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn healthy_scenario_is_all_ok_with_four_populated_sections() {
    let out = ktriage(&["check", "--scenario", "healthy", "--output", "json"]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    for section in ["control_plane", "nodes", "addons", "restarts"] {
        let items = report["health"][section].as_array().unwrap();
        assert!(!items.is_empty(), "{section} is empty");
        for item in items {
            assert_eq!(item["severity"], "ok", "{section}: {item}");
            for key in ["reason", "object", "playbooks"] {
                assert!(
                    item.get(key).is_some(),
                    "{section} item lacks {key}: {item}"
                );
            }
        }
    }
    assert_eq!(report["health"]["nodes"].as_array().unwrap().len(), 6);
    assert_eq!(report["cluster"]["version"], "v1.31.4");
    // Informational findings (an on-prem cluster's NodePorts need a load balancer) are fine;
    // nothing may warn.
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["severity"], "info", "{f:#}");
    }
}

/// The critical items of a section of `check --scenario ID`.
fn critical(id: &str, section: &str) -> (Option<i32>, Vec<Value>) {
    let out = ktriage(&["check", "--scenario", id, "--output", "json"]);
    let report = json(&out);
    let items = report["health"][section]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == "critical")
        .cloned()
        .collect();
    (out.status.code(), items)
}

#[test]
fn broken_scenarios_flag_the_right_item_as_critical() {
    // (scenario, section, an object or text the critical item must name)
    for (id, section, needle) in [
        ("node-notready-no-cni", "nodes", "Node/"),
        ("node-notready-no-cni", "addons", "CNI"),
        (
            "leader-election-lease",
            "control_plane",
            "Lease/kube-system/",
        ),
        ("addon-restart-storm", "addons", "kube-system"),
    ] {
        let (code, items) = critical(id, section);
        assert_eq!(code, Some(2), "{id} exits 2 (critical)");
        assert!(
            items.iter().any(|i| i.to_string().contains(needle)),
            "{id}: no critical {section} item naming {needle:?}: {items:#?}"
        );
    }
}

#[test]
fn markdown_and_text_reports_are_readable() {
    let md = ktriage(&["check", "--scenario", "healthy", "--output", "markdown"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.starts_with("## ktriage check: scenario `healthy`"),
        "{md}"
    );
    for s in [
        "### Control plane",
        "### Nodes",
        "### Add-ons",
        "### Restarts",
        "| ok | worker-1 |",
    ] {
        assert!(md.contains(s), "markdown lacks {s:?}");
    }
    let text = ktriage(&["check", "--scenario", "healthy"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("[OK      ] worker-1: Ready"), "{text}");
}

#[test]
fn unknown_scenario_and_bad_snapshot_exit_3_with_a_message() {
    let out = ktriage(&["check", "--scenario", "no-such-thing"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no scenario named \"no-such-thing\"") && err.contains("healthy"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n---\nkind: Pod\n metadata: [\n",
    )
    .unwrap();
    let out = ktriage(&["check", "--snapshot", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("document 1") && err.contains("line"),
        "{err}"
    );
}

#[test]
fn a_snapshot_is_judged_at_its_own_clock() {
    // Written by `ktriage snapshot`, read back hours later: leases renewed seconds before the
    // capture must still count as fresh.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthy.yaml");
    let out = ktriage(&[
        "snapshot",
        "--scenario",
        "healthy",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    // Move the capture a year into the past, timestamps included.
    let old = text.replace("2026-", "2025-");
    std::fs::write(&path, old).unwrap();
    let out = ktriage(&[
        "check",
        "--snapshot",
        path.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert!(
        report["cluster"]["judged_at"]
            .as_str()
            .unwrap()
            .starts_with("2025-")
    );
}

#[test]
fn explain_ranks_the_seed_error_texts() {
    for (text, want) in [
        (
            "Error from server: Get \"https://10.0.0.22:10250/containerLogs/kube-system/kube-proxy-x/kube-proxy\": x509: certificate signed by unknown authority",
            "kubelet-serving-cert-untrusted",
        ),
        (
            "tls: failed to find any PEM data in certificate input",
            "invalid-pem-material",
        ),
        (
            "Error from server (Forbidden): User \"kubernetes-admin\" cannot list nodes at the cluster scope",
            "rbac-forbidden",
        ),
        (
            "E0329 17:47:54.136036 1 leaderelection.go:224] error retrieving resource lock kube-system/kube-controller-manager: Get https://10.0.0.7:6443/api/v1/namespaces/kube-system/endpoints/kube-controller-manager: Gateway Timeout",
            "controlplane-proxy-without-no-proxy",
        ),
        (
            "I0115 09:58:01.123456 1 leaderelection.go:250] attempting to acquire leader lease kube-system/kube-scheduler...",
            "leader-election-lease",
        ),
        (
            "Resetting endpoints for master service \"kubernetes\" to [10.0.0.11 10.0.0.12]",
            "ha-apiserver-endpoints-flap",
        ),
        (
            "network plugin is not ready: cni config uninitialized",
            "node-notready-no-cni",
        ),
        (
            "Liveness probe failed: Get http://127.0.0.1:10252/healthz: dial tcp 127.0.0.1:10252: connect: connection refused",
            "static-pod-liveness-mismatch",
        ),
    ] {
        let out = ktriage(&["explain", "--output", "json", text]);
        let v = json(&out);
        assert_eq!(v["matches"][0]["playbook"], want, "{text}\n{v:#}");
    }
}
