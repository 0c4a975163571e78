//! TLS-02 apiserver-cert-missing-san: the name or IP the client asks for is not among the
//! serving certificate's SANs (typically a NAT address or a load balancer name never added).

use chrono::{DateTime, Utc};

use super::{ev, kubeconfig_object, observation, queries};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "apiserver-cert-missing-san",
    code: "TLS-02",
    title: "The API server's certificate does not name the address used",
    access: Access::Client,
    symptoms: &[
        Symptom {
            all_of: &["x509: certificate is valid for", ", not "],
            weight: 0.95,
        },
        Symptom {
            all_of: &["x509: certificate is not valid for any names"],
            weight: 0.9,
        },
        Symptom {
            all_of: &[
                "unable to connect to the server",
                "doesn't contain any ip sans",
            ],
            weight: 0.95,
        },
        // The kubelet's serving certificate says the same (TLS-03).
        Symptom {
            all_of: &[
                "x509: cannot validate certificate for",
                "doesn't contain any ip sans",
            ],
            weight: 0.5,
        },
    ],
    queries,
    diagnose,
};

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let error = obs.error_lower();
    if error.contains("unknown authority") {
        return None;
    }
    let leaf = obs.served_chain.first();
    let requested = obs.requested_name.clone().or_else(|| obs.host())?;
    let by_error = error.contains("is valid for")
        || error.contains("not valid for any names")
        || error.contains("cannot validate certificate for");
    let by_cert = leaf.is_some_and(|l| !l.sans().is_empty() && !l.valid_for(&requested));
    if !(by_error || by_cert) {
        return None;
    }
    let sans = leaf.map(|l| l.sans()).unwrap_or_default();
    let mut evidence = vec![
        ev(
            kubeconfig_object(&obs),
            "cluster.server",
            obs.server.clone(),
        ),
        ev("client", "requested name", requested.clone()),
    ];
    if let Some(l) = leaf {
        evidence.push(ev(
            "served certificate",
            "subjectAltNames",
            if sans.is_empty() {
                "(none)".into()
            } else {
                sans.join(", ")
            },
        ));
        evidence.push(ev("served certificate", "subject", l.subject.clone()));
    }
    if let Some(e) = &obs.error {
        evidence.push(ev("client", "error", e.clone()));
    }
    let is_ip = requested.parse::<std::net::IpAddr>().is_ok();
    let usable: Vec<&String> = sans.iter().filter(|s| !s.starts_with("*.")).collect();
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: if leaf.is_some() { 0.95 } else { 0.85 },
        summary: if sans.is_empty() {
            format!("The kubeconfig asks for {requested}, which is not in the API server certificate's SANs.")
        } else {
            format!("The kubeconfig asks for {requested}, but the API server's certificate is valid only for {}.", sans.join(", "))
        },
        evidence,
        ruled_out: vec!["The certificate's issuer is trusted (no unknown-authority error): only the name is wrong.".into()],
        fix: Fix {
            explanation: format!(
                "Add {requested} to the serving certificate ({} in kubeadm's ClusterConfiguration apiServer.certSANs) and regenerate it, then restart the API server; or point the kubeconfig at a name the certificate already has{}.",
                if is_ip { "as an IP SAN" } else { "as a DNS SAN" },
                usable.first().map(|s| format!(" (e.g. {s}, or keep the address and set tls-server-name: {s})")).unwrap_or_default()
            ),
            commands: vec![
                format!("# on the control-plane node: add '{requested}' under apiServer.certSANs in kubeadm-config.yaml"),
                "sudo mv /etc/kubernetes/pki/apiserver.{crt,key} /tmp/".into(),
                "sudo kubeadm init phase certs apiserver --config kubeadm-config.yaml".into(),
                "sudo crictl rm -f $(sudo crictl ps -q --name kube-apiserver)   # the kubelet restarts it".into(),
            ],
        },
    })
}
