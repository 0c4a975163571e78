//! `ktriage snapshot --redact`: removes what a snapshot should not carry when it is shared
//! (pasted into a ticket, sent to a vendor) while keeping what the diagnosis reads:
//!
//! - ConfigMap `data`/`binaryData` values, except the cluster's own configuration in
//!   `kube-system` that playbooks read (kubeadm, kube-proxy, CoreDNS, kubelet config, the
//!   cluster CA bundles) — keys stay, so "the key is missing" still reads;
//! - literal `env` values of containers (pods and workload templates); `valueFrom` references
//!   stay (they name a ConfigMap or Secret key, not its value);
//! - annotation values, except the well-known ones the API and the playbooks use
//!   (`*.kubernetes.io/*`, `*.k8s.io/*` and the like);
//! - secret-like values in container args and commands, pod and node logs, and recorded
//!   response bodies: `password=…`, `--token …`, bearer tokens, JWTs, AWS access keys, private
//!   key blocks.
//!
//! Each redaction is counted; [`Redaction::summary`] says what was removed, and the snapshot's
//! info records that it was redacted so a reader knows why a value reads `REDACTED`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::Snapshot;

/// What replaces a removed value.
pub const REDACTED: &str = "REDACTED";

/// ConfigMaps in `kube-system` whose data is the cluster's configuration (read by the
/// playbooks, and no more secret than the cluster's layout): kept.
const CLUSTER_CONFIGMAPS: &[&str] = &[
    "kubeadm-config",
    "kubelet-config",
    "kube-proxy",
    "coredns",
    "cluster-info",
    "kube-root-ca.crt",
    "extension-apiserver-authentication",
    "kube-apiserver-legacy-service-account-token-tracking",
];

/// Annotation keys (prefix match on the part before `/`, or the whole key) whose values are
/// API machinery the diagnosis reads, not user data.
fn annotation_kept(key: &str) -> bool {
    let Some((prefix, _)) = key.split_once('/') else {
        return false;
    };
    prefix == "kubernetes.io"
        || prefix.ends_with(".kubernetes.io")
        || prefix == "k8s.io"
        || prefix.ends_with(".k8s.io")
        || prefix == "meta.helm.sh"
        || prefix == "cni.projectcalico.org"
}

/// Secret-like text: each regex's first group is the value that goes (the rest stays, so the
/// line still says what it was about).
static SECRET_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // -----BEGIN RSA PRIVATE KEY----- … -----END RSA PRIVATE KEY-----
        r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----(.*?)-----END [A-Z ]*PRIVATE KEY-----",
        // Authorization: Bearer xyz / bearer xyz
        r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)",
        // JSON Web Tokens
        r"\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})",
        // AWS access key ids
        r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b",
        // password=…, --token …, "secret": "…", api_key: …
        r#"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|credentials?)["']?\s*[:=]\s*["']?([^\s"',;&]{3,})"#,
    ]
    .iter()
    .map(|p| Regex::new(p).expect("the secret patterns are valid"))
    .collect()
});

/// What was removed, by category.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Redaction {
    pub counts: BTreeMap<&'static str, usize>,
}

impl Redaction {
    fn add(&mut self, what: &'static str, n: usize) {
        if n > 0 {
            *self.counts.entry(what).or_default() += n;
        }
    }

    /// Nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// `12 ConfigMap values, 40 env values, 3 secret-like values in logs`.
    pub fn summary(&self) -> String {
        if self.counts.is_empty() {
            return "nothing needed redacting".into();
        }
        self.counts
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Replaces the secret-like values in `text`; how many.
pub fn scrub_text(text: &mut String) -> usize {
    let mut n = 0;
    for re in SECRET_PATTERNS.iter() {
        if !re.is_match(text) {
            continue;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(1) else { continue };
            if m.as_str() == REDACTED {
                continue;
            }
            out.push_str(&text[last..m.start()]);
            out.push_str(REDACTED);
            last = m.end();
            n += 1;
        }
        out.push_str(&text[last..]);
        *text = out;
    }
    n
}

/// Redacts the snapshot in place and records it in its info.
pub fn redact(snapshot: &mut Snapshot) -> Redaction {
    let mut r = Redaction::default();
    for obj in &mut snapshot.objects {
        redact_object(obj, &mut r);
    }
    for log in &mut snapshot.pod_logs {
        let n = scrub_text(&mut log.text);
        r.add("secret-like values in pod logs", n);
    }
    for log in &mut snapshot.node_logs {
        let n = scrub_text(&mut log.text);
        r.add("secret-like values in node logs", n);
    }
    for resp in &mut snapshot.responses {
        let n = scrub_text(&mut resp.body);
        r.add("secret-like values in recorded responses", n);
    }
    let info = snapshot.info.get_or_insert_with(Default::default);
    info.redacted = Some(r.summary());
    r
}

fn redact_object(obj: &mut Value, r: &mut Redaction) {
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(items) = obj.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            redact_object(item, r);
        }
    }
    if let Some(annotations) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for (k, v) in annotations.iter_mut() {
            if !annotation_kept(k) && v.as_str() != Some(REDACTED) {
                *v = Value::String(REDACTED.into());
                r.add("annotation values", 1);
            }
        }
    }
    if kind == "ConfigMap" && !cluster_configmap(obj) {
        for field in ["data", "binaryData"] {
            if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
                for v in map.values_mut() {
                    if v.as_str() != Some(REDACTED) {
                        *v = Value::String(REDACTED.into());
                        r.add("ConfigMap values", 1);
                    }
                }
            }
        }
    }
    // A pod's spec, or a workload's pod template.
    for spec in [
        "/spec",
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
    ] {
        if let Some(spec) = obj.pointer_mut(spec) {
            redact_pod_spec(spec, r);
        }
    }
}

fn cluster_configmap(obj: &Value) -> bool {
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    let name = obj.pointer("/metadata/name").and_then(Value::as_str);
    ns == Some("kube-system") && name.is_some_and(|n| CLUSTER_CONFIGMAPS.contains(&n))
}

fn redact_pod_spec(spec: &mut Value, r: &mut Redaction) {
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers {
            if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
                for e in env {
                    if let Some(v) = e.get_mut("value")
                        && v.as_str().is_some_and(|s| s != REDACTED)
                    {
                        *v = Value::String(REDACTED.into());
                        r.add("env values", 1);
                    }
                }
            }
            for field in ["args", "command"] {
                if let Some(words) = c.get_mut(field).and_then(Value::as_array_mut) {
                    let n = scrub_words(words);
                    r.add("secret-like values in container args", n);
                }
            }
        }
    }
}

/// Scrubs a container's argv: `--token=abc` in one word, and `--password abc` over two.
fn scrub_words(words: &mut [Value]) -> usize {
    let mut n = 0;
    let mut after_flag = false;
    for w in words.iter_mut() {
        let Some(s) = w.as_str() else {
            after_flag = false;
            continue;
        };
        let mut text = s.to_string();
        if after_flag && !text.starts_with('-') && text != REDACTED {
            text = REDACTED.into();
            n += 1;
        } else {
            n += scrub_text(&mut text);
        }
        after_flag = is_secret_flag(s);
        *w = Value::String(text);
    }
    n
}

/// A flag whose value is a secret when it comes as the next word (`--password`, `--token`).
fn is_secret_flag(word: &str) -> bool {
    let w = word.trim_start_matches('-').to_ascii_lowercase();
    word.starts_with('-')
        && !w.contains('=')
        && [
            "password",
            "passwd",
            "token",
            "secret",
            "api-key",
            "apikey",
            "client-secret",
        ]
        .iter()
        .any(|k| w == *k || w.ends_with(&format!("-{k}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snap(objects: Vec<Value>) -> Snapshot {
        Snapshot {
            objects,
            ..Default::default()
        }
    }

    #[test]
    fn app_data_goes_and_the_cluster_configuration_stays() {
        let mut s = snap(vec![
            json!({"kind": "ConfigMap", "metadata": {"name": "app", "namespace": "shop",
                   "annotations": {"owner-email": "jane@example.com",
                                   "deployment.kubernetes.io/revision": "3"}},
                   "data": {"DB_URL": "postgres://app:hunter2@db/shop"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
                   "data": {"ClusterConfiguration": "networking:\n  podSubnet: 10.244.0.0/16\n"}}),
        ]);
        let r = redact(&mut s);
        let app = &s.objects[0];
        assert_eq!(app["data"]["DB_URL"], REDACTED);
        assert_eq!(app["metadata"]["annotations"]["owner-email"], REDACTED);
        assert_eq!(
            app["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "3"
        );
        assert!(
            s.objects[1]["data"]["ClusterConfiguration"]
                .as_str()
                .unwrap()
                .contains("podSubnet")
        );
        assert_eq!(r.counts["ConfigMap values"], 1);
        assert_eq!(r.counts["annotation values"], 1);
        assert!(
            s.info
                .as_ref()
                .unwrap()
                .redacted
                .as_ref()
                .unwrap()
                .contains("1 ConfigMap values")
        );
        // The note survives writing and reading back.
        let back = Snapshot::parse_str(&s.to_yaml(), "redacted.yaml").unwrap();
        assert_eq!(back.info.unwrap().redacted, s.info.unwrap().redacted);
    }

    #[test]
    fn env_values_and_secret_args_go_references_stay() {
        let mut s = snap(vec![
            json!({"kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"template": {"spec": {"containers": [{"name": "api",
                "args": ["--listen=:8080", "--db-password=hunter2", "--token", "abc123def", "--verbose"],
                "env": [{"name": "MODE", "value": "prod"},
                        {"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "k"}}}]}]}}}}),
        ]);
        let r = redact(&mut s);
        let c = &s.objects[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["env"][0]["value"], REDACTED);
        assert_eq!(c["env"][1]["valueFrom"]["secretKeyRef"]["name"], "api");
        let args: Vec<&str> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "--listen=:8080",
                "--db-password=REDACTED",
                "--token",
                "REDACTED",
                "--verbose"
            ]
        );
        assert_eq!(r.counts["env values"], 1);
        assert_eq!(r.counts["secret-like values in container args"], 2);
    }

    #[test]
    fn log_lines_keep_their_words_and_lose_their_secrets() {
        let mut text = "GET /api Authorization: Bearer abcdefghijklmnop\n\
                        login ok password=hunter2 user=jane\n\
                        key AKIAABCDEFGHIJKLMNOP used\n\
                        -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n\
                        connection refused to 10.96.0.1:443\n"
            .to_string();
        let n = scrub_text(&mut text);
        assert_eq!(n, 4, "{text}");
        assert!(!text.contains("abcdefghijklmnop") && !text.contains("hunter2"));
        assert!(!text.contains("AKIAABCDEFGHIJKLMNOP") && !text.contains("MIIEow"));
        assert!(text.contains("user=jane") && text.contains("connection refused to 10.96.0.1:443"));
        // Redacting twice changes nothing more.
        assert_eq!(scrub_text(&mut text), 0);
    }
}
