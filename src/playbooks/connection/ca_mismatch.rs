//! TLS-01 kubeconfig-ca-mismatch: the served chain is not issued by the kubeconfig's CA
//! (cluster re-initialised, another cluster, or a TLS-intercepting proxy in between), or the
//! kubeconfig's CA data cannot be used at all (base64 of base64, DER, empty…).

use chrono::{DateTime, Utc};

use super::{ev, kubeconfig_object, observation, queries};
use crate::cluster::doctor::CertInfo;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "kubeconfig-ca-mismatch",
    code: "TLS-01",
    title: "The kubeconfig's CA does not match the server's certificate",
    access: Access::Client,
    symptoms: &[
        Symptom {
            all_of: &[
                "unable to connect to the server",
                "x509: certificate signed by unknown authority",
            ],
            weight: 0.95,
        },
        // Without kubectl's prefix the text may come from the kubelet (TLS-03) or a webhook.
        Symptom {
            all_of: &["x509: certificate signed by unknown authority"],
            weight: 0.5,
        },
        Symptom {
            all_of: &["unable to load root certificates"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

/// The CN of a distinguished name (`CN=kubernetes, O=x` → `kubernetes`), else the whole name.
fn common_name(dn: &str) -> String {
    dn.split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or(dn)
        .to_string()
}

fn describe(c: &CertInfo) -> String {
    if c.sha256.is_empty() {
        c.subject.clone()
    } else {
        format!("{} (sha256 {})", c.subject, c.sha256)
    }
}

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let kc = kubeconfig_object(&obs);
    let fix = Fix {
        explanation: "Take the kubeconfig again from the cluster it should talk to (/etc/kubernetes/admin.conf on a kubeadm control plane, or the cloud CLI); if a corporate proxy inspects TLS, bypass it for the API server (NO_PROXY). Never set insecure-skip-tls-verify.".into(),
        commands: vec![
            "# on a control-plane node: sudo cat /etc/kubernetes/admin.conf".into(),
            "kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d | openssl x509 -noout -subject -fingerprint -sha256".into(),
            format!("openssl s_client -connect {}:{} -showcerts </dev/null 2>/dev/null | openssl x509 -noout -issuer -subject -fingerprint -sha256", obs.host().unwrap_or_else(|| "API_SERVER".into()), obs.port().unwrap_or(6443)),
        ],
    };
    if let Some(p) = obs
        .material
        .iter()
        .find(|p| p.field.starts_with("certificate-authority"))
    {
        let mut evidence = vec![
            ev(&kc, &p.field, p.problem.clone()),
            ev("client", "error", p.kubectl_error.clone()),
        ];
        if let Some(leaf) = obs.served_chain.first() {
            evidence.push(ev("served certificate", "issuer", leaf.issuer.clone()));
        }
        return Some(Finding {
            severity: FindingSeverity::Critical,
            confidence: 0.95,
            summary: format!("The kubeconfig's CA cannot be used: {}.", p.problem),
            evidence,
            ruled_out: Vec::new(),
            fix: Fix {
                explanation: format!("Write {} as the CA's PEM base64-encoded exactly once (`base64 -w0 ca.crt`), or take the kubeconfig again from the cluster.", p.field),
                commands: vec![
                    format!("kubectl config view --raw --minify -o jsonpath='{{.clusters[0].cluster.{}}}' | base64 -d | head -c 20; echo", p.field),
                    "kubectl config set clusters.NAME.certificate-authority-data \"$(base64 -w0 < ca.crt)\"".into(),
                ],
            },
        });
    }
    if !obs.error_lower().contains("unknown authority") {
        return None;
    }
    let mut evidence = Vec::new();
    let leaf = obs.served_chain.first();
    let served_issuer = leaf.map(|l| l.issuer.clone());
    // The decisive pair first: who issued the served certificate, and whom the kubeconfig trusts.
    if let Some(l) = leaf {
        evidence.push(ev("served certificate", "issuer", l.issuer.clone()));
    }
    for c in &obs.kubeconfig_ca {
        evidence.push(ev(&kc, "certificate-authority", describe(c)));
    }
    for c in obs.served_chain.iter().skip(1) {
        evidence.push(ev("served chain", "certificate", describe(c)));
    }
    if let Some(l) = leaf {
        evidence.push(ev("served certificate", "subject", l.subject.clone()));
    }
    if let Some(e) = &obs.error {
        evidence.push(ev("client", "error", e.clone()));
    }
    let ca_cns: Vec<String> = obs
        .kubeconfig_ca
        .iter()
        .map(|c| common_name(&c.subject))
        .collect();
    let summary = match (&served_issuer, ca_cns.first()) {
        (Some(issuer), Some(ca)) if common_name(issuer) != *ca => format!(
            "The server's certificate is issued by \"{}\", not by the kubeconfig's CA \"{ca}\": a TLS-intercepting proxy (corporate inspection) is in between, or this is another cluster.",
            common_name(issuer)
        ),
        (Some(issuer), Some(_)) => format!(
            "The server's certificate is issued by a CA named \"{}\" like the kubeconfig's, but with another key (different fingerprint): the cluster was re-initialised or this kubeconfig belongs to another cluster of the same name.",
            common_name(issuer)
        ),
        (Some(issuer), None) => format!(
            "The server's certificate is issued by \"{}\", which the kubeconfig's CA does not verify (another CA, a re-initialised cluster, or a TLS-intercepting proxy).",
            common_name(issuer)
        ),
        (None, _) => "The server's certificate is not signed by the kubeconfig's CA (x509: certificate signed by unknown authority).".into(),
    };
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: if served_issuer.is_some() && !obs.kubeconfig_ca.is_empty() {
            0.95
        } else {
            0.8
        },
        summary,
        evidence,
        ruled_out: Vec::new(),
        fix,
    })
}
