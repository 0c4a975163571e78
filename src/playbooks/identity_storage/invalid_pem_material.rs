//! TLS-04 `invalid-pem-material`: `tls: failed to find any PEM data in certificate input` /
//! webhook `unable to load root certificates: unable to parse bytes as PEM block`. Decided
//! from what is visible without reading a Secret: every webhook configuration's and
//! APIService's `caBundle` is base64-decoded once and must then start with `-----BEGIN`
//! (double base64 decodes to `LS0tLS1CRUdJTi…`, DER starts with 0x30 0x82), plus the events
//! and log lines that quote PEM errors, with the Secrets the affected pods mount.

use std::collections::BTreeSet;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    MetaExt, Pod, arr, detail, ev, event_ref, event_text, name, namespace, pod_detail, pod_ref,
    running, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "invalid-pem-material",
    code: "TLS-04",
    title: "Certificate data that is not PEM (double base64, DER, empty) in caBundles or TLS Secrets",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["failed to find any pem data"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["unable to parse bytes as pem block"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["unable to load root certificates"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["cabundle"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["no valid pem formatted block found"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

const PEM_ERRORS: &[&str] = &[
    "failed to find any pem data",
    "unable to parse bytes as pem block",
    "unable to load root certificates",
    "no valid pem formatted block found",
    "x509: malformed certificate",
];

fn vwc() -> Query {
    q::list(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        None,
        None,
        None,
    )
}
fn mwc() -> Query {
    q::list(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        None,
        None,
        None,
    )
}
fn apiservices() -> Query {
    q::list("apiregistration.k8s.io", "apiservices", None, None, None)
}
fn events() -> Query {
    q::watched(Watched::Events)
}
fn pods() -> Query {
    q::watched(Watched::Pods)
}

fn mentions_pem_error(text: &str) -> bool {
    let t = text.to_lowercase();
    PEM_ERRORS.iter().any(|e| t.contains(e))
}

/// Namespaces of the services behind webhooks and APIServices.
fn backend_namespaces(r: &Results) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in r.objects(&vwc()).iter().chain(r.objects(&mwc())) {
        for w in arr(c, "/webhooks") {
            let ns = s(w, "/clientConfig/service/namespace");
            if !ns.is_empty() {
                out.insert(ns.to_string());
            }
        }
    }
    for a in r.objects(&apiservices()) {
        let ns = s(a, "/spec/service/namespace");
        if !ns.is_empty() {
            out.insert(ns.to_string());
        }
    }
    out
}

fn secret_volumes(p: &Value) -> Vec<String> {
    arr(p, "/spec/volumes")
        .iter()
        .filter_map(|v| v.pointer("/secret/secretName").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// How many running pods of the webhooks' namespaces are read whole to find those that mount
/// a Secret (the pod list does not keep Secret volumes).
const BACKEND_CANDIDATES: usize = 16;

/// The running pods of the namespaces behind webhooks (not kube-system), read whole.
fn backend_candidates(r: &Results) -> Vec<&Pod> {
    let nss = backend_namespaces(r);
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| {
            let ns = p.metadata.namespace_str();
            nss.contains(ns) && ns != "kube-system" && running(p)
        })
        .take(BACKEND_CANDIDATES)
        .collect()
}

/// Pods behind webhooks that mount a Secret (their serving certificate), as read whole: at
/// most 8.
fn backend_pods(r: &Results) -> Vec<&Value> {
    backend_candidates(r)
        .into_iter()
        .filter_map(|p| detail(r, p))
        .filter(|p| !secret_volumes(p).is_empty())
        .take(8)
        .collect()
}

/// A container status message that shows a PEM error, with the field it is in.
fn pem_status_messages(p: &Pod) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for cs in &p.status.container_statuses {
        let messages = [
            (
                "/lastState/terminated/message",
                cs.last_state
                    .terminated
                    .as_ref()
                    .and_then(|t| t.message.as_deref()),
            ),
            (
                "/state/waiting/message",
                cs.state.waiting.as_ref().and_then(|w| w.message.as_deref()),
            ),
            (
                "/state/terminated/message",
                cs.state
                    .terminated
                    .as_ref()
                    .and_then(|t| t.message.as_deref()),
            ),
        ];
        for (st, m) in messages {
            let m = m.unwrap_or_default();
            if mentions_pem_error(m) {
                out.push((
                    format!(
                        "status.containerStatuses[{}]{}",
                        cs.name,
                        st.replace('/', ".")
                    ),
                    m,
                ));
            }
        }
    }
    out
}

/// Pods whose containers failed on PEM material (at most 10): read whole for the Secrets
/// they mount.
fn pem_failing_pods(r: &Results) -> Vec<&Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| !pem_status_messages(p).is_empty())
        .take(10)
        .collect()
}

fn pod_log(p: &Value) -> Query {
    let c = s(p, "/spec/containers/0/name");
    q::logs(namespace(p), name(p), Some(c), false, Some(100))
}

fn apiserver_logs(r: &Results) -> Vec<Query> {
    r.pods()
        .iter()
        .filter(|p| {
            p.metadata.namespace_str() == "kube-system"
                && p.label("component") == Some("kube-apiserver")
        })
        .map(|p| {
            q::logs(
                "kube-system",
                p.metadata.name_str(),
                Some("kube-apiserver"),
                false,
                Some(300),
            )
        })
        .collect()
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![vwc(), mwc(), apiservices(), events(), pods()];
    out.extend(backend_candidates(r).into_iter().map(pod_detail));
    out.extend(pem_failing_pods(r).into_iter().map(pod_detail));
    out.extend(backend_pods(r).into_iter().map(pod_log));
    out.extend(apiserver_logs(r));
    out
}

/// What a base64 `caBundle` holds once decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bundle {
    Pem,
    Empty,
    /// base64 of base64: decodes to `LS0tLS1CRUdJTi…`.
    DoubleBase64,
    /// Binary DER (starts with an ASN.1 SEQUENCE).
    Der,
    /// Something else; the first characters.
    NotPem(String),
    NotBase64,
}

pub fn classify(b64: &str) -> Bundle {
    let b64: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    if b64.is_empty() {
        return Bundle::Empty;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&b64) else {
        return Bundle::NotBase64;
    };
    let text = String::from_utf8_lossy(&bytes);
    let t = text.trim_start();
    if t.starts_with("-----BEGIN") {
        Bundle::Pem
    } else if t.starts_with("LS0tLS1CRUdJTi") {
        Bundle::DoubleBase64
    } else if bytes.first() == Some(&0x30) && bytes.get(1).is_some_and(|b| *b >= 0x80) {
        Bundle::Der
    } else {
        Bundle::NotPem(t.chars().take(16).collect())
    }
}

struct Bad {
    object: String,
    field: String,
    kind: Bundle,
    /// `validatingwebhookconfiguration NAME` etc. for kubectl, and the JSON path of the field.
    kubectl_ref: String,
    json_path: String,
    jsonpath: String,
}

fn describe(b: &Bundle) -> String {
    match b {
        Bundle::Pem => "PEM".into(),
        Bundle::Empty => "empty: the client falls back to the system roots and will not trust a private CA".into(),
        Bundle::DoubleBase64 => "base64-encoded twice: decodes to \"LS0tLS1CRUdJTi…\" (base64 of \"-----BEGIN\"), not PEM".into(),
        Bundle::Der => "DER (binary ASN.1, starts 0x30 0x82), not PEM".into(),
        Bundle::NotPem(start) => format!("not PEM: decodes to \"{start}…\""),
        Bundle::NotBase64 => "not valid base64".into(),
    }
}

fn bundles(r: &Results) -> Vec<Bad> {
    let mut out = Vec::new();
    for (qq, res) in [
        (vwc(), "validatingwebhookconfiguration"),
        (mwc(), "mutatingwebhookconfiguration"),
    ] {
        for c in r.objects(&qq) {
            for (i, w) in arr(c, "/webhooks").iter().enumerate() {
                let uses_service = w.pointer("/clientConfig/service").is_some();
                let kind = classify(s(w, "/clientConfig/caBundle"));
                if kind == Bundle::Pem || (kind == Bundle::Empty && !uses_service) {
                    continue;
                }
                out.push(Bad {
                    object: format!("{}/{}", s(c, "/kind"), name(c)),
                    field: format!("webhooks[{}].clientConfig.caBundle", s(w, "/name")),
                    kind,
                    kubectl_ref: format!("{res} {}", name(c)),
                    json_path: format!("/webhooks/{i}/clientConfig/caBundle"),
                    jsonpath: format!("{{.webhooks[{i}].clientConfig.caBundle}}"),
                });
            }
        }
    }
    for a in r.objects(&apiservices()) {
        if a.pointer("/spec/service").is_none()
            || a.pointer("/spec/insecureSkipTLSVerify") == Some(&Value::Bool(true))
        {
            continue;
        }
        let kind = classify(s(a, "/spec/caBundle"));
        if kind == Bundle::Pem {
            continue;
        }
        out.push(Bad {
            object: format!("APIService/{}", name(a)),
            field: "spec.caBundle".into(),
            kind,
            kubectl_ref: format!("apiservice {}", name(a)),
            json_path: "/spec/caBundle".into(),
            jsonpath: "{.spec.caBundle}".into(),
        });
    }
    out
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let bad = bundles(r);
    let mut said: Vec<Evidence> = Vec::new();
    for e in r.events() {
        if mentions_pem_error(e.message.as_deref().unwrap_or_default()) {
            let o = &e.involved_object;
            let (kind, name) = (
                o.kind.as_deref().unwrap_or_default(),
                o.name.as_deref().unwrap_or_default(),
            );
            let obj = match o.namespace.as_deref().unwrap_or_default() {
                "" => format!("{kind}/{name}"),
                ns => format!("{kind}/{ns}/{name}"),
            };
            said.push(ev(
                obj,
                format!(
                    "{} (reason {})",
                    event_ref(e),
                    e.reason.as_deref().unwrap_or_default()
                ),
                event_text(e),
            ));
        }
    }
    for a in r.objects(&apiservices()) {
        for c in arr(a, "/status/conditions") {
            if mentions_pem_error(s(c, "/message")) {
                said.push(ev(
                    format!("APIService/{}", name(a)),
                    "status.conditions[Available].message",
                    s(c, "/message"),
                ));
            }
        }
    }
    let mut suspect_secrets: Vec<String> = Vec::new();
    for p in r.pods() {
        for (field, m) in pem_status_messages(p) {
            said.push(ev(pod_ref(p), field, m.trim()));
            for sec in detail(r, p).map(secret_volumes).unwrap_or_default() {
                suspect_secrets.push(format!("{}/{sec}", p.metadata.namespace_str()));
            }
        }
    }
    let mut log_queries: Vec<(Query, String, String)> = backend_pods(r)
        .into_iter()
        .map(|p| {
            (
                pod_log(p),
                format!("Pod/{}/{}", namespace(p), name(p)),
                s(p, "/spec/containers/0/name").to_string(),
            )
        })
        .collect();
    for qq in apiserver_logs(r) {
        if let crate::playbooks::QueryKind::Logs { pod, .. } = &qq.kind {
            let obj = format!("Pod/kube-system/{pod}");
            log_queries.push((qq.clone(), obj, "kube-apiserver".into()));
        }
    }
    for (qq, obj, ctr) in &log_queries {
        let Some(text) = r.text(qq) else { continue };
        if let Some(line) = text.lines().rev().find(|l| mentions_pem_error(l)) {
            said.push(ev(obj.clone(), format!("log[{ctr}]"), line.trim()));
            if let crate::playbooks::QueryKind::Logs {
                namespace: ns, pod, ..
            } = &qq.kind
                && ns != "kube-system"
                && let Some(p) = r.objects(&q::get("", "pods", Some(ns), pod)).first()
            {
                for sec in secret_volumes(p) {
                    suspect_secrets.push(format!("{ns}/{sec}"));
                }
            }
        }
    }
    suspect_secrets.sort();
    suspect_secrets.dedup();
    let broken: Vec<&Bad> = bad.iter().filter(|b| b.kind != Bundle::Empty).collect();
    if broken.is_empty() && said.is_empty() {
        // Only empty caBundles: a trust problem (x509 unknown authority), not PEM parsing.
        if bad.is_empty() {
            return None;
        }
    }
    let mut evidence: Vec<Evidence> = bad
        .iter()
        .map(|b| ev(b.object.clone(), b.field.clone(), describe(&b.kind)))
        .collect();
    evidence.extend(said.iter().take(8).cloned());
    let (severity, confidence) = match (!broken.is_empty(), !said.is_empty()) {
        (true, true) => (FindingSeverity::Critical, 0.97),
        (true, false) => (FindingSeverity::Critical, 0.9),
        (false, true) => (FindingSeverity::Critical, 0.75),
        (false, false) => (FindingSeverity::Warning, 0.5),
    };
    let summary = if let Some(b) = broken.first() {
        format!(
            "{} {} is {}, so the API server cannot load it as a CA (`unable to load root certificates: unable to parse bytes as PEM block`) and every call through it fails{}.",
            b.object,
            b.field,
            describe(&b.kind),
            if broken.len() > 1 {
                format!(
                    "; {} more caBundles are broken the same way",
                    broken.len() - 1
                )
            } else {
                String::new()
            }
        )
    } else if !said.is_empty() {
        format!(
            "A component fails to parse certificate data as PEM (`{}`){}: the TLS Secret it loads holds data that is not PEM (double base64, DER, or cert and key swapped).",
            said.first()
                .map(|e| e.value.chars().take(120).collect::<String>())
                .unwrap_or_default(),
            if suspect_secrets.is_empty() {
                String::new()
            } else {
                format!("; it mounts {}", suspect_secrets.join(", "))
            }
        )
    } else {
        format!(
            "{} {} is empty: the caller will not trust the webhook's private CA.",
            bad[0].object, bad[0].field
        )
    };
    let mut commands = Vec::new();
    for b in &bad {
        let get = format!("kubectl get {} -o jsonpath='{}'", b.kubectl_ref, b.jsonpath);
        commands.push(format!(
            "{get} | base64 -d | head -c 40; echo   # must print -----BEGIN CERTIFICATE-----"
        ));
        match b.kind {
            Bundle::DoubleBase64 => commands.push(format!(
                "kubectl patch {} --type=json -p \"[{{\\\"op\\\":\\\"replace\\\",\\\"path\\\":\\\"{}\\\",\\\"value\\\":\\\"$({get} | base64 -d)\\\"}}]\"",
                b.kubectl_ref, b.json_path
            )),
            Bundle::Der => {
                commands.push(format!("{get} | base64 -d | openssl x509 -inform der -out ca.pem"));
                commands.push(format!(
                    "kubectl patch {} --type=json -p \"[{{\\\"op\\\":\\\"replace\\\",\\\"path\\\":\\\"{}\\\",\\\"value\\\":\\\"$(base64 -w0 ca.pem)\\\"}}]\"",
                    b.kubectl_ref, b.json_path
                ));
            }
            _ => commands.push(format!(
                "kubectl patch {} --type=json -p \"[{{\\\"op\\\":\\\"replace\\\",\\\"path\\\":\\\"{}\\\",\\\"value\\\":\\\"$(base64 -w0 ca.crt)\\\"}}]\"   # ca.crt: the PEM CA that signed the webhook's serving certificate",
                b.kubectl_ref, b.json_path
            )),
        }
    }
    for sec in &suspect_secrets {
        let (ns, n) = sec.split_once('/').unwrap_or(("default", sec));
        commands.push(
            "head -1 tls.crt tls.key   # on your workstation: both must start with -----BEGIN"
                .to_string(),
        );
        commands.push(format!("kubectl create secret tls {n} -n {ns} --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -"));
    }
    let ruled_out = vec![
        "Not an untrusted or expired certificate (TLS-01/TLS-05): those fail with `x509: certificate signed by unknown authority` or `has expired` after the PEM was parsed; here the bytes never parse.".to_string(),
        "Not the webhook backend being down (WL-10): the call fails while building the TLS client, before any connection to the service is made.".to_string(),
        "Secrets were not read (ktriage never reads Secret data): the diagnosis rests on the caBundle fields, events and log lines; check the Secret's files on your side with the commands given.".to_string(),
    ];
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "A caBundle is base64 of the PEM text, encoded exactly once (`base64 -w0 ca.crt`); Kubernetes decodes it once and needs `-----BEGIN CERTIFICATE-----`. A value that decodes to `LS0tLS1CRUdJTi…` was encoded twice: decoding it once gives the correct value. DER must be converted to PEM first. TLS Secrets take PEM files: recreate them with `kubectl create secret tls --cert --key` rather than pasting pre-encoded data into `data:` fields, and restart or let the workload reload.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }
    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn webhook(bundle: &str) -> Value {
        json!({"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "policy-webhook"}, "webhooks": [
            {"name": "validate.policy.acme.io", "clientConfig": {"caBundle": bundle, "service": {"name": "policy-webhook", "namespace": "policy"}}}
        ]})
    }
    fn results(hooks: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(vwc(), Outcome::Objects(hooks));
        for qq in [mwc(), apiservices()] {
            r.by_query.insert(qq, Outcome::Objects(vec![]));
        }
        r.set_watched(Watched::Events, &[]);
        r.set_watched(Watched::Pods, &[]);
        r
    }

    #[test]
    fn classify_recognises_the_usual_mistakes() {
        assert_eq!(classify(&b64(PEM.as_bytes())), Bundle::Pem);
        assert_eq!(
            classify(&b64(b64(PEM.as_bytes()).as_bytes())),
            Bundle::DoubleBase64
        );
        assert_eq!(classify(&b64(&[0x30, 0x82, 0x03, 0x01])), Bundle::Der);
        assert_eq!(classify(""), Bundle::Empty);
        assert_eq!(classify("%%%"), Bundle::NotBase64);
    }

    #[test]
    fn double_encoded_cabundle_is_critical_with_a_patch() {
        let mut r = results(vec![webhook(&b64(b64(PEM.as_bytes()).as_bytes()))]);
        r.set_watched(Watched::Events, &[json!({"metadata": {"name": "e1", "namespace": "shop"}, "involvedObject": {"kind": "ReplicaSet", "name": "reports-1"}, "reason": "FailedCreate", "message": "Error creating: Internal error occurred: failed calling webhook \"validate.policy.acme.io\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block", "count": 7})]);
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.95);
        assert!(f.summary.contains("twice"));
        assert!(f.fix.commands.iter().any(|c| {
            c.contains("kubectl patch validatingwebhookconfiguration policy-webhook")
                && c.contains("/webhooks/0/clientConfig/caBundle")
        }));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("FailedCreate (x7)"))
        );
    }

    #[test]
    fn pem_bundles_and_url_webhooks_without_bundle_are_fine() {
        let mut hook = webhook(&b64(PEM.as_bytes()));
        hook["webhooks"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "public.example.com", "clientConfig": {"url": "https://hooks.example.com/validate"}}));
        let r = results(vec![hook]);
        assert!(diagnose(&r, Utc::now()).is_none());
    }
}
