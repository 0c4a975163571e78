//! AUTH-04 wrong-identity: the server does not see the user the kubeconfig means —
//! `system:anonymous` (no credential presented: missing client certificate or token, a
//! failing exec plugin), credentials refused with 401, or unusable client material.

use chrono::{DateTime, Utc};

use super::{ev, kubeconfig_object, observation, queries};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "wrong-identity",
    code: "AUTH-04",
    title: "The server does not see the user the kubeconfig means",
    access: Access::Client,
    symptoms: &[
        Symptom {
            all_of: &["user \"system:anonymous\" cannot"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["system:anonymous"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["you must be logged in to the server"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["getting credentials: exec"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["remote error: tls: error decrypting message"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["remote error: tls: bad certificate"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let kc = kubeconfig_object(&obs);
    let error = obs.error_lower();
    let anonymous = obs.user.as_deref() == Some("system:anonymous")
        || error.contains("system:anonymous")
        || obs
            .denied
            .iter()
            .any(|d| d.message.contains("system:anonymous"));
    let client_material: Vec<_> = obs
        .material
        .iter()
        .filter(|p| p.field.starts_with("client-"))
        .collect();
    let unauthorized = obs.http_status == Some(401) || error.contains("you must be logged in");
    // The server's handshake went through without a client certificate and fails with ours:
    // the server does not accept the certificate (another cluster's CA, typically two
    // kubeconfigs merged whose users share a name such as kubernetes-admin).
    let cert_refused = obs.client_certificate.is_some()
        && error.contains("remote error: tls:")
        && !error.contains("expired");
    let client_expired = obs
        .client_certificate
        .as_ref()
        .and_then(|c| c.not_after())
        .is_some_and(|a| a < _now);
    if !(anonymous
        || !client_material.is_empty()
        || unauthorized
        || cert_refused
        || obs.exec_stderr.is_some())
    {
        return None;
    }
    let mut evidence = Vec::new();
    if let Some(u) = &obs.user {
        evidence.push(ev(
            "SelfSubjectReview",
            "status.userInfo.username",
            u.clone(),
        ));
    }
    match &obs.client_certificate {
        Some(c) => evidence.push(ev(&kc, "user.client-certificate", c.subject.clone())),
        None => evidence.push(ev(&kc, "user.client-certificate", "(none usable)")),
    }
    for p in &client_material {
        evidence.push(ev(&kc, &p.field, p.problem.clone()));
    }
    if let Some(s) = &obs.exec_stderr {
        evidence.push(ev(&kc, "user.exec (stderr)", s.clone()));
    }
    for d in obs.denied.iter().take(3) {
        evidence.push(ev(
            "server",
            format!("{} {}", d.verb, d.resource),
            d.message.clone(),
        ));
    }
    if let Some(e) = &obs.error {
        evidence.push(ev("client", "error", e.clone()));
    }
    let summary = if let Some(p) = client_material.first() {
        format!(
            "The kubeconfig's client credentials cannot be used, so none are presented: {}.",
            p.problem
        )
    } else if let Some(s) = &obs.exec_stderr {
        format!("The exec credential plugin fails, so no credential is presented: {s}")
    } else if cert_refused {
        format!(
            "The server refuses the kubeconfig's client certificate ({}, issued by {}): it belongs to another cluster's CA — often two kubeconfigs merged whose users share a name (kubectl takes the first file's user).",
            obs.client_certificate
                .as_ref()
                .map(|c| c.subject.clone())
                .unwrap_or_default(),
            obs.client_certificate
                .as_ref()
                .map(|c| c.issuer.clone())
                .unwrap_or_default(),
        )
    } else if anonymous {
        "The server sees this client as system:anonymous: no credential reached it (missing client certificate or token, a failing exec plugin, or a proxy that strips the client certificate).".into()
    } else {
        "The server refuses the credentials with 401 Unauthorized (an expired or revoked token or certificate, or one from another cluster).".into()
    };
    Some(Finding {
        severity: FindingSeverity::Critical,
        // An expired client certificate is TLS-05's to explain first.
        confidence: if client_expired { 0.6 } else if anonymous || !client_material.is_empty() { 0.95 } else { 0.8 },
        summary,
        evidence,
        ruled_out: Vec::new(),
        fix: Fix {
            explanation: "Fix the kubeconfig's user: a client certificate and key from the same pair (base64 of PEM, once), a valid token, or a working exec plugin; regenerate the credentials when they expired or were revoked. A program that builds its client from the kubeconfig must keep those credentials (client-go: set config.Insecure or config.TLSClientConfig.Insecure, never replace config.TLSClientConfig whole, which drops the client certificate and key). Do not grant system:anonymous a role to make the error go away.".into(),
            commands: vec![
                "kubectl auth whoami".into(),
                "kubectl config view --minify -o jsonpath='{.users[0].user}' | head -c 300; echo".into(),
                "# on a kubeadm control plane: sudo kubeadm kubeconfig user --client-name=NAME > NAME.conf".into(),
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::connection_query;
    use super::*;
    use crate::cluster::doctor::Observation;
    use crate::playbooks::Outcome;
    use crate::snapshot::RawResponse;

    fn results(obs: Option<Observation>) -> Results {
        let mut r = Results::default();
        if let Some(o) = obs {
            r.by_query
                .insert(connection_query(), Outcome::Objects(vec![o.to_value()]));
        }
        r
    }

    fn refusal(code: u16, message: &str) -> RawResponse {
        RawResponse {
            method: "GET".into(),
            path: "/api/v1/namespaces/default/pods/web-0".into(),
            code,
            body: serde_json::json!({"kind": "Status", "message": message, "code": code})
                .to_string(),
        }
    }

    /// A capture that holds only the API server's recorded 403 for an anonymous request (no
    /// Connection document): the server names the identity it saw.
    #[test]
    fn a_recorded_anonymous_refusal_is_a_missing_credential() {
        let obs = Observation::from_responses(
            "https://10.0.0.1:6443",
            &[refusal(
                403,
                "pods \"web-0\" is forbidden: User \"system:anonymous\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\"",
            )],
        );
        let f = diagnose(&results(obs), Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("system:anonymous"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("system:anonymous"))
        );
        // A named user refused by RBAC is AUTH-01's, not an identity problem.
        let obs = Observation::from_responses(
            "https://10.0.0.1:6443",
            &[refusal(
                403,
                "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
            )],
        );
        assert!(diagnose(&results(obs), Utc::now()).is_none());
        // A 403 that names nobody says nothing about identity.
        assert!(Observation::from_responses("https://x", &[refusal(403, "forbidden")]).is_none());
        // A recorded 401: the credentials were refused.
        let obs = Observation::from_responses("https://x", &[refusal(401, "Unauthorized")]);
        let f = diagnose(&results(obs), Utc::now()).expect("finding");
        assert!(f.summary.contains("401"), "{}", f.summary);
    }
}
