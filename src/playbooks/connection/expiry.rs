//! TLS-05 certificate-expiry: the served certificate or the kubeconfig's client certificate
//! is expired or not yet valid (or expires within 30 days), with dates and days.

use chrono::{DateTime, Duration, Utc};

use super::{ev, kubeconfig_object, observation, queries, relative};
use crate::cluster::doctor::CertInfo;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "certificate-expiry",
    code: "TLS-05",
    title: "A certificate has expired (or is about to)",
    access: Access::Client,
    symptoms: &[
        Symptom {
            all_of: &["unable to connect to the server", "certificate has expired"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["unable to connect to the server", "expired certificate"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["certificate has expired"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["tls: expired certificate"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["is not yet valid"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

struct Problem {
    which: &'static str,
    cert: CertInfo,
    state: &'static str,
    when: String,
    date: String,
    critical: bool,
}

fn judge(which: &'static str, c: &CertInfo, now: DateTime<Utc>) -> Option<Problem> {
    let after = c.not_after();
    let before = c.not_before();
    let (state, at, critical) = match (before, after) {
        (_, Some(a)) if a < now => ("expired", a, true),
        (Some(b), _) if b > now => ("not valid yet", b, true),
        (_, Some(a)) if a < now + Duration::days(30) => ("expires soon", a, false),
        _ => return None,
    };
    Some(Problem {
        which,
        cert: c.clone(),
        state,
        when: relative(now, at),
        date: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        critical,
    })
}

fn diagnose(results: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let mut problems: Vec<Problem> = Vec::new();
    if let Some(leaf) = obs.served_chain.first() {
        problems.extend(judge("the API server's serving certificate", leaf, now));
    }
    for ca in obs.served_chain.iter().skip(1) {
        problems.extend(judge("the served CA certificate", ca, now));
    }
    if let Some(c) = &obs.client_certificate {
        problems.extend(judge("the kubeconfig's client certificate", c, now));
    }
    let error = obs.error_lower();
    if problems.is_empty()
        && !(error.contains("certificate has expired") || error.contains("expired certificate"))
    {
        return None;
    }
    problems.sort_by_key(|p| !p.critical);
    let mut evidence = Vec::new();
    for p in &problems {
        let object = if p.which.contains("client") {
            kubeconfig_object(&obs)
        } else {
            "served certificate".into()
        };
        evidence.push(ev(&object, "subject", p.cert.subject.clone()));
        evidence.push(ev(
            &object,
            "notBefore",
            p.cert.not_before.clone().unwrap_or_default(),
        ));
        evidence.push(ev(&object, "notAfter", format!("{} ({})", p.date, p.when)));
    }
    evidence.push(ev(
        "check",
        "judged at",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ));
    if let Some(e) = &obs.error {
        evidence.push(ev("client", "error", e.clone()));
    }
    let summary = match problems.first() {
        Some(p) => {
            let verb = match p.state {
                "expired" => format!("expired {} ({})", p.when, p.date),
                "not valid yet" => format!("is not valid until {} ({})", p.date, p.when),
                _ => format!("expires {} ({})", p.when, p.date),
            };
            format!("{} ({}) {verb}.", capitalise(p.which), p.cert.subject)
        }
        None => {
            "A certificate has expired (the client says so; the certificate itself was not seen)."
                .into()
        }
    };
    let client = problems.first().is_some_and(|p| p.which.contains("client"));
    Some(Finding {
        severity: if problems.iter().any(|p| p.critical) || problems.is_empty() { FindingSeverity::Critical } else { FindingSeverity::Warning },
        confidence: if problems.is_empty() { 0.7 } else { 0.95 },
        summary,
        evidence,
        ruled_out: Vec::new(),
        fix: Fix {
            explanation: if client {
                "Renew the client certificate and update the kubeconfig: on kubeadm, `kubeadm certs renew admin.conf` and copy /etc/kubernetes/admin.conf again (or `kubeadm kubeconfig user`).".into()
            } else {
                "Renew the control-plane certificates and restart the static pods so they load them, then update kubeconfigs that embed old certificates.".into()
            },
            commands: vec![
                "# on each control-plane node:".into(),
                "sudo kubeadm certs check-expiration".into(),
                "sudo kubeadm certs renew all".into(),
                "sudo crictl rm -f $(sudo crictl ps -q --name 'kube-apiserver|kube-controller-manager|kube-scheduler|etcd')".into(),
                "sudo cp /etc/kubernetes/admin.conf ~/.kube/config".into(),
            ],
        },
    })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
