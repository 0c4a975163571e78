//! TLS-03 `kubelet-serving-cert-untrusted`: `kubectl logs/exec` fail with
//! `Get "https://NODE:10250/...": x509: certificate signed by unknown authority` for pods on
//! some nodes, because the API server verifies kubelet serving certificates with the cluster
//! CA (`--kubelet-certificate-authority`) while those kubelets serve a self-signed
//! certificate (serverTLSBootstrap off) or still wait for their kubelet-serving CSR.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    MetaExt, Pod, age_secs, arr, csr_signer, ev, flag, flags, human, name, pod_ref, running, s,
    status_message,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
    Watched,
};

const SIGNER: &str = "kubernetes.io/kubelet-serving";
/// Per-node probes are limited to this many nodes.
const MAX_NODES: usize = 30;

pub static PLAYBOOK: Playbook = Playbook {
    id: "kubelet-serving-cert-untrusted",
    code: "TLS-03",
    title: "kubectl logs/exec fail: the API server does not trust a kubelet's serving certificate",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["x509: certificate signed by unknown authority", ":10250"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["containerlogs", "x509"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["kubectl logs", "x509"],
            weight: 0.9,
        },
        Symptom {
            all_of: &[":10250", "doesn't contain any ip sans"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["kubelet-serving"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["x509: certificate signed by unknown authority"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

fn apiservers() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-apiserver"),
        None,
    )
}
fn csrs() -> Query {
    q::list(
        "certificates.k8s.io",
        "certificatesigningrequests",
        None,
        None,
        None,
    )
}
fn pods() -> Query {
    q::watched(Watched::Pods)
}
fn healthz(node: &str) -> Query {
    q::raw(&format!("/api/v1/nodes/{node}/proxy/healthz"))
}
fn configz(node: &str) -> Query {
    q::raw(&format!("/api/v1/nodes/{node}/proxy/configz"))
}

/// One running pod per node (first by namespace/name) whose log is probed.
fn probe_pods(r: &Results) -> BTreeMap<String, (String, String, String)> {
    let mut out: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut all: Vec<&Pod> = r
        .pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| running(p))
        .collect();
    all.sort_by_key(|p| (p.metadata.namespace_str(), p.metadata.name_str()));
    for p in all {
        let node = p.spec.node_name.as_deref().unwrap_or_default();
        let container = p.spec.containers.first().map_or("", |c| c.name.as_str());
        if node.is_empty() || container.is_empty() || out.contains_key(node) {
            continue;
        }
        out.insert(
            node.to_string(),
            (
                p.metadata.namespace_str().to_string(),
                p.metadata.name_str().to_string(),
                container.to_string(),
            ),
        );
    }
    out
}

fn node_names(r: &Results) -> Vec<String> {
    r.objects(&q::nodes())
        .iter()
        .map(|n| name(n).to_string())
        .filter(|n| !n.is_empty())
        .take(MAX_NODES)
        .collect()
}

fn log_probe(ns: &str, pod: &str, container: &str) -> Query {
    q::logs(ns, pod, Some(container), false, Some(1))
}

fn metrics_pods(r: &Results) -> Vec<&Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| p.label("k8s-app") == Some("metrics-server") && running(p))
        .collect()
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![apiservers(), q::nodes(), csrs(), pods()];
    for n in node_names(r) {
        out.push(healthz(&n));
        out.push(configz(&n));
    }
    let names: BTreeSet<String> = node_names(r).into_iter().collect();
    for (node, (ns, pod, c)) in probe_pods(r) {
        if names.contains(&node) {
            out.push(log_probe(&ns, &pod, &c));
        }
    }
    for p in metrics_pods(r) {
        out.push(q::logs(
            p.metadata.namespace_str(),
            p.metadata.name_str(),
            Some("metrics-server"),
            false,
            Some(200),
        ));
    }
    out
}

fn is_tls_error(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("x509:") || t.contains("tls:") || t.contains("certificate")
}

/// A failure message of an outcome that is about TLS.
fn tls_failure(o: Option<&Outcome>) -> Option<String> {
    match o? {
        Outcome::Failed { message, .. } if is_tls_error(message) => Some(status_message(message)),
        Outcome::Text { code, body } if *code >= 400 && is_tls_error(body) => {
            Some(status_message(body))
        }
        _ => None,
    }
}

fn approved(csr: &Value) -> bool {
    arr(csr, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == "Approved" && s(c, "/status") != "False")
}
fn decided(csr: &Value) -> bool {
    arr(csr, "/status/conditions")
        .iter()
        .any(|c| matches!(s(c, "/type"), "Approved" | "Denied" | "Failed"))
}

#[derive(Default)]
struct NodeState {
    failures: Vec<Evidence>,
    self_signed: Vec<Evidence>,
    pending: Vec<String>,
    trusted: Vec<String>,
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let apiserver = r.objects(&apiservers()).first();
    let verify_ca = apiserver
        .and_then(|p| flag(&flags(p), "--kubelet-certificate-authority").map(str::to_string));
    let node_objs = r.objects(&q::nodes());
    let ip_of = |n: &str| {
        node_objs
            .iter()
            .find(|o| name(o) == n)
            .and_then(|o| {
                arr(o, "/status/addresses")
                    .iter()
                    .find(|a| s(a, "/type") == "InternalIP")
                    .map(|a| s(a, "/address").to_string())
            })
            .unwrap_or_else(|| n.to_string())
    };
    let mut st: BTreeMap<String, NodeState> = BTreeMap::new();
    for n in node_names(r) {
        let e = st.entry(n.clone()).or_default();
        for (what, qq) in [("healthz", healthz(&n)), ("configz", configz(&n))] {
            if let Some(m) = tls_failure(r.outcome(&qq)) {
                e.failures.push(ev(
                    format!("Node/{n}"),
                    format!("GET /api/v1/nodes/{n}/proxy/{what}"),
                    m,
                ));
            }
        }
        if let Some(Outcome::Text { code: 200, body }) = r.outcome(&configz(&n)) {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.contains("\"serverTLSBootstrap\":true") {
                e.trusted
                    .push("configz serverTLSBootstrap: true".to_string());
            } else {
                e.self_signed.push(ev(
                    format!("Node/{n}"),
                    "configz kubeletconfig.serverTLSBootstrap",
                    "false (the kubelet serves a self-signed certificate)",
                ));
            }
        }
    }
    for (node, (ns, pod, c)) in probe_pods(r) {
        if let (Some(m), Some(e)) = (
            tls_failure(r.outcome(&log_probe(&ns, &pod, &c))),
            st.get_mut(&node),
        ) {
            e.failures.push(ev(
                format!("Pod/{ns}/{pod}"),
                format!("kubectl logs -c {c} (node {node})"),
                m,
            ));
        }
    }
    for p in metrics_pods(r) {
        let qq = q::logs(
            p.metadata.namespace_str(),
            p.metadata.name_str(),
            Some("metrics-server"),
            false,
            Some(200),
        );
        let Some(text) = r.text(&qq) else { continue };
        for (node, e) in st.iter_mut() {
            let marker = format!("node=\"{node}\"");
            if let Some(line) = text
                .lines()
                .rev()
                .find(|l| l.contains(&marker) && is_tls_error(l) && l.contains("10250"))
            {
                e.failures
                    .push(ev(pod_ref(p), "log[metrics-server]", line.trim()));
            }
        }
    }
    let mut pending_names: Vec<String> = Vec::new();
    for csr in r.objects(&csrs()) {
        // v1beta1 serving CSRs (before signer names) count too.
        if csr_signer(csr) != SIGNER {
            continue;
        }
        let Some(node) = s(csr, "/spec/username").strip_prefix("system:node:") else {
            continue;
        };
        let Some(e) = st.get_mut(node) else { continue };
        if !decided(csr) {
            e.pending.push(format!(
                "{} Pending for {} (no approver signs kubelet-serving CSRs)",
                name(csr),
                human(age_secs(csr, now))
            ));
            pending_names.push(name(csr).to_string());
        } else if approved(csr) && !s(csr, "/status/certificate").is_empty() {
            e.trusted.push(format!("{} Approved and issued", name(csr)));
        }
    }
    let bad: Vec<&String> = st
        .iter()
        .filter(|(_, e)| {
            !e.failures.is_empty()
                || (verify_ca.is_some()
                    && (!e.self_signed.is_empty()
                        || (!e.pending.is_empty() && e.trusted.is_empty())))
        })
        .map(|(n, _)| n)
        .collect();
    let observed = st.values().any(|e| !e.failures.is_empty());
    // Failures of requests the API server forwards (logs, nodes/proxy): it is the API server
    // that verifies, whatever its flags say (or when they were not captured).
    let via_apiserver = st
        .values()
        .flat_map(|e| &e.failures)
        .any(|f| f.field.starts_with("kubectl logs") || f.field.starts_with("GET /api/v1/nodes/"));
    if bad.is_empty() || (!observed && verify_ca.is_none()) {
        return None;
    }
    let mut evidence = Vec::new();
    if let (Some(ca), Some(p)) = (&verify_ca, apiserver) {
        evidence.push(ev(
            format!("Pod/kube-system/{}", name(p)),
            "spec.containers[kube-apiserver].command",
            format!("--kubelet-certificate-authority={ca}"),
        ));
    }
    for n in &bad {
        let e = &st[*n];
        evidence.extend(e.failures.iter().take(4).cloned());
        evidence.extend(e.self_signed.iter().cloned());
        for p in &e.pending {
            evidence.push(ev(
                format!("CertificateSigningRequest (node {n})"),
                "status.conditions",
                p.clone(),
            ));
        }
        if e.pending.is_empty() && e.trusted.is_empty() && e.self_signed.is_empty() {
            evidence.push(ev(
                format!("Node/{n}"),
                "certificatesigningrequests[signerName=kubernetes.io/kubelet-serving]",
                "none for system:node:".to_string()
                    + n
                    + ": the kubelet never asked for a CA-signed serving certificate",
            ));
        }
    }
    let good: Vec<&String> = st
        .iter()
        .filter(|(n, e)| !bad.contains(n) && (!e.trusted.is_empty()))
        .map(|(n, _)| n)
        .collect();
    let bad_list = bad
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let summary = format!(
        "The API server {} but the kubelets on {bad_list} serve a certificate it does not trust (self-signed, or their kubelet-serving CSR was never approved), so kubectl logs/exec/port-forward to pods on {} fail with x509/TLS errors.",
        match &verify_ca {
            Some(ca) => format!(
                "verifies kubelet serving certificates with {ca} (--kubelet-certificate-authority),"
            ),
            None if via_apiserver => "verifies kubelet serving certificates (its requests to them fail with x509/TLS errors),".into(),
            None =>
                "or another client (metrics-server) verifies kubelet serving certificates,".into(),
        },
        if bad.len() == 1 {
            "that node"
        } else {
            "those nodes"
        }
    );
    let mut ruled_out = vec![
        "Not the kubeconfig's CA (TLS-01): the API server answers this client; only the requests it forwards to kubelets on port 10250 fail.".to_string(),
        "Not a firewall or routing problem (CONN-02): the TLS handshake with the kubelet got far enough to present a certificate; a blocked port shows `dial tcp …:10250: i/o timeout` instead.".to_string(),
    ];
    if !good.is_empty() {
        ruled_out.push(format!(
            "Not a broken CA file on the API server: the same requests to {} succeed, their kubelets serve certificates from approved kubelet-serving CSRs.",
            good.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut commands = vec![
        "kubectl get csr --field-selector spec.signerName=kubernetes.io/kubelet-serving"
            .to_string(),
    ];
    if !pending_names.is_empty() {
        commands.push(format!(
            "kubectl certificate approve {}",
            pending_names.join(" ")
        ));
    }
    for n in &bad {
        let e = &st[*n];
        if !e.pending.is_empty() {
            continue;
        }
        let ip = ip_of(n);
        commands.push(format!("# on {n}: which certificate does the kubelet serve, and does it ask for a CA-signed one?"));
        commands.push(format!("openssl s_client -connect {ip}:10250 </dev/null 2>/dev/null | openssl x509 -noout -issuer -subject"));
        commands.push("sudo grep -n serverTLSBootstrap /var/lib/kubelet/config.yaml".into());
        commands.push(format!(
            "# on {n}: turn on serving-certificate bootstrap and restart the kubelet"
        ));
        commands.push("grep -q '^serverTLSBootstrap:' /var/lib/kubelet/config.yaml && sudo sed -i 's/^serverTLSBootstrap:.*/serverTLSBootstrap: true/' /var/lib/kubelet/config.yaml || echo 'serverTLSBootstrap: true' | sudo tee -a /var/lib/kubelet/config.yaml".into());
        commands.push("sudo systemctl restart kubelet".into());
        commands.push(format!(
            "kubectl get csr --field-selector spec.signerName=kubernetes.io/kubelet-serving -o jsonpath='{{range .items[?(@.spec.username==\"system:node:{n}\")]}}{{.metadata.name}}{{\"\\n\"}}{{end}}' | xargs -r kubectl certificate approve"
        ));
    }
    commands.push("kubectl -n kube-system get cm kubelet-config -o yaml | grep serverTLSBootstrap   # new nodes: keep serverTLSBootstrap: true here".into());
    if let Some((node, (ns, pod, c))) = probe_pods(r).into_iter().find(|(n, _)| bad.contains(&n)) {
        commands.push(format!(
            "kubectl logs -n {ns} {pod} -c {c} --tail 1   # verify ({node})"
        ));
    }
    let severity = if observed {
        FindingSeverity::Critical
    } else {
        FindingSeverity::Warning
    };
    let mut confidence: f32 = 0.6;
    if verify_ca.is_some() {
        confidence += 0.2;
    }
    if observed {
        confidence += 0.15;
    }
    Some(Finding {
        severity,
        confidence: confidence.min(0.97),
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "Give those kubelets a serving certificate signed by the cluster CA: approve their pending kubelet-serving CSRs; where none exists, set `serverTLSBootstrap: true` in /var/lib/kubelet/config.yaml, restart the kubelet and approve the CSR it creates (kube-controller-manager never auto-approves kubelet-serving CSRs; a cert approver such as kubelet-csr-approver can). Keep --kubelet-certificate-authority (CIS 1.2.5) rather than removing it. Reading the node output: an issuer like `CN=worker-2-ca@1700000000` is the kubelet's self-signed certificate (untrusted); issuer `CN=kubernetes` means it is signed by the cluster CA; `serverTLSBootstrap` missing or false means the kubelet never asks for one.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(n: &str, ip: &str) -> Value {
        json!({"kind": "Node", "metadata": {"name": n}, "status": {"addresses": [{"type": "InternalIP", "address": ip}]}})
    }
    fn pod(ns: &str, n: &str, node: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"name": n, "namespace": ns}, "spec": {"nodeName": node, "containers": [{"name": "app"}]}, "status": {"phase": "Running"}})
    }
    fn apiserver(verify: bool) -> Value {
        let mut cmd = vec!["kube-apiserver", "--secure-port=6443"];
        if verify {
            cmd.push("--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt");
        }
        json!({"kind": "Pod", "metadata": {"name": "kube-apiserver-cp-1", "namespace": "kube-system"}, "spec": {"containers": [{"name": "kube-apiserver", "command": cmd}]}, "status": {"phase": "Running"}})
    }
    fn base(verify: bool) -> Results {
        let mut r = Results::default();
        r.by_query
            .insert(apiservers(), Outcome::Objects(vec![apiserver(verify)]));
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![
                node("cp-1", "10.0.0.11"),
                node("worker-2", "10.0.0.22"),
            ]),
        );
        r.set_watched(
            Watched::Pods,
            &[
                pod("shop", "web-1", "worker-2"),
                pod("shop", "web-0", "cp-1"),
            ],
        );
        r.by_query.insert(csrs(), Outcome::Objects(vec![]));
        for n in ["cp-1", "worker-2"] {
            r.by_query.insert(
                healthz(n),
                Outcome::Text {
                    code: 200,
                    body: "ok".into(),
                },
            );
        }
        r.by_query.insert(
            configz("cp-1"),
            Outcome::Text {
                code: 200,
                body: "{\"kubeletconfig\":{\"serverTLSBootstrap\":true}}".into(),
            },
        );
        r
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }

    #[test]
    fn untrusted_node_with_verifying_apiserver_is_critical() {
        let mut r = base(true);
        let msg = "Get \"https://10.0.0.22:10250/containerLogs/shop/web-1/app?tailLines=1\": tls: failed to verify certificate: x509: certificate signed by unknown authority";
        r.by_query.insert(
            log_probe("shop", "web-1", "app"),
            Outcome::Failed {
                code: 500,
                message: msg.into(),
            },
        );
        r.by_query.insert(
            configz("worker-2"),
            Outcome::Text { code: 500, body: "error trying to reach service: tls: failed to verify certificate: x509: certificate signed by unknown authority".into() },
        );
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(f.summary.contains("worker-2") && !f.summary.contains("cp-1,"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("unknown authority"))
        );
        assert!(f.fix.commands.iter().any(|c| c.contains("# on worker-2")));
        assert!(f.fix.commands.iter().any(|c| c.contains("10.0.0.22:10250")));
        assert!(f.ruled_out.iter().any(|c| c.contains("cp-1")));
    }

    #[test]
    fn pending_serving_csr_is_approved_in_the_fix() {
        let mut r = base(true);
        r.by_query.insert(
            csrs(),
            Outcome::Objects(vec![json!({"kind": "CertificateSigningRequest", "metadata": {"name": "csr-7xk2p", "creationTimestamp": "2026-01-15T09:10:00Z"}, "spec": {"signerName": SIGNER, "username": "system:node:worker-2"}, "status": {}})]),
        );
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "kubectl certificate approve csr-7xk2p")
        );
    }

    /// A 1.12 capture: no API server pod, a legacy client CSR only, a log request that
    /// failed because the kubelet's self-made certificate has no IP SANs.
    #[test]
    fn no_ip_san_failure_without_the_apiserver_flags_is_observed() {
        let mut r = base(false);
        r.by_query.insert(
            apiservers(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        r.by_query.insert(
            csrs(),
            Outcome::Objects(vec![json!({"metadata": {"name": "node-csr-x", "creationTimestamp": "2026-01-15T09:10:00Z"}, "spec": {"signerName": "kubernetes.io/legacy-unknown", "username": "kubelet-bootstrap", "usages": ["client auth"]}, "status": {"conditions": [{"type": "Approved"}]}})]),
        );
        r.by_query.insert(
            log_probe("shop", "web-1", "app"),
            Outcome::Failed {
                code: 500,
                message: "Get https://10.0.0.22:10250/containerLogs/shop/web-1/app: x509: cannot validate certificate for 10.0.0.22 because it doesn't contain any IP SANs".into(),
            },
        );
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("worker-2"), "{}", f.summary);
        assert!(!f.summary.contains("metrics-server"), "{}", f.summary);
        assert!(f.evidence.iter().any(|e| e.value.contains("IP SANs")));
    }

    #[test]
    fn healthy_cluster_and_dial_timeouts_are_not_this() {
        let r = base(false);
        assert!(diagnose(&r, now()).is_none());
        let mut r = base(true);
        r.by_query.insert(
            healthz("worker-2"),
            Outcome::Text { code: 500, body: "Internal error occurred: error dialing backend: dial tcp 10.0.0.22:10250: i/o timeout".into() },
        );
        assert!(diagnose(&r, now()).is_none());
    }
}
