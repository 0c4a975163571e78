//! `ktriage snapshot --redact` through the real binary: what should not be shared is gone
//! from the file, and the diagnosis read from the redacted snapshot is the same.

use crate::common::ktriage;

/// Every literal env value, non-system ConfigMap value and non-kubernetes.io annotation in
/// the documents of a snapshot file, as `what: value` (what redaction must have removed).
fn leftovers(yaml: &str) -> Vec<String> {
    let mut left = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
        let Ok(v) = <serde_json::Value as serde::Deserialize>::deserialize(doc) else {
            continue;
        };
        walk(&v, &mut left);
    }
    left
}

fn walk(v: &serde_json::Value, left: &mut Vec<String>) {
    use serde_json::Value;
    let str_at = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
    if str_at("/kind") == "ConfigMap" && str_at("/metadata/namespace") != "kube-system" {
        for (k, x) in v
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if x != "REDACTED" {
                left.push(format!("ConfigMap {} {k}: {x}", str_at("/metadata/name")));
            }
        }
    }
    if let Some(a) = v
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, x) in a {
            if !k.contains("kubernetes.io/") && !k.contains("k8s.io/") && x != "REDACTED" {
                left.push(format!("annotation {k}: {x}"));
            }
        }
    }
    if let Some(env) = v.get("env").and_then(Value::as_array) {
        for e in env {
            if let Some(x) = e.get("value")
                && x != "REDACTED"
            {
                left.push(format!("env {}: {x}", e["name"]));
            }
        }
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, left)),
        Value::Object(m) => m.values().for_each(|i| walk(i, left)),
        _ => {}
    }
}

/// The playbook ids `check` finds on a snapshot file.
fn findings(path: &std::path::Path) -> Vec<String> {
    let out = ktriage(&["check", "--snapshot", path.to_str().unwrap(), "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("check prints JSON");
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["playbook"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn redacted_snapshots_keep_their_diagnosis_and_lose_their_values() {
    let dir = tempfile::tempdir().unwrap();
    // Env values and app ConfigMaps (container-config-error), logs (crashloop), the
    // cluster's own ConfigMaps that playbooks read (dns-addon-degraded: the Corefile).
    for id in ["container-config-error", "crashloop", "dns-addon-degraded"] {
        let plain = dir.path().join(format!("{id}.yaml"));
        let redacted = dir.path().join(format!("{id}-redacted.yaml"));
        let out = ktriage(&["snapshot", "--scenario", id, "-o", plain.to_str().unwrap()]);
        assert!(out.status.success(), "{out:?}");
        let out = ktriage(&[
            "snapshot",
            "--scenario",
            id,
            "--redact",
            "-o",
            redacted.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("ktriage: redacted "), "{id}: {said}");
        let plain_text = std::fs::read_to_string(&plain).unwrap();
        let text = std::fs::read_to_string(&redacted).unwrap();
        assert!(
            !leftovers(&plain_text).is_empty() || id == "crashloop",
            "{id}: the plain snapshot has values to redact"
        );
        let left = leftovers(&text);
        assert!(left.is_empty(), "{id}: still in the file: {left:#?}");
        assert!(
            text.contains("redacted:"),
            "{id}: the snapshot says it was redacted"
        );
        assert_eq!(
            findings(&redacted),
            findings(&plain),
            "{id}: the redacted snapshot is diagnosed the same"
        );
        assert!(!findings(&plain).is_empty(), "{id}: a finding to compare");
    }
}
