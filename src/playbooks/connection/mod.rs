//! Playbooks of the `connection` group (shared/PLAYBOOKS.md "Connection", TLS-01/02/05,
//! AUTH-04): what happens before any object is read. Each asks one query,
//! `QueryKind::Connection`, answered live by a probe of the connection, by the doctor's
//! examination, or by a snapshot's `Connection` evidence, and diagnoses the resulting
//! `cluster::doctor::Observation` — the same pure code on all three ([`diagnose`]).
//!
//! `rbac::CLIENT_SIDE` (AUTH-01 seen from the client) is not registered here: the cluster-side
//! AUTH-01 playbook lives in `identity_storage`; the doctor emits this one only from its own
//! path (`ktriage check` when reads are refused).

pub mod ca_mismatch;
pub mod expiry;
pub mod identity;
pub mod proxy;
pub mod rbac;
pub mod san;
pub mod unreachable;

use chrono::{DateTime, Utc};

use super::engine::{self, Run};
use super::source::QuerySource;
pub(crate) use super::util::ev;
use super::{Outcome, Playbook, Query, QueryKind, Results};
use crate::cluster::doctor::Observation;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &proxy::PLAYBOOK,
    &unreachable::PLAYBOOK,
    &ca_mismatch::PLAYBOOK,
    &san::PLAYBOOK,
    &expiry::PLAYBOOK,
    &identity::PLAYBOOK,
];

/// The one query of every connection playbook.
pub fn queries(_: &Results) -> Vec<Query> {
    vec![connection_query()]
}

/// The observation the query returned.
pub fn observation(results: &Results) -> Option<Observation> {
    let v = results.objects(&connection_query()).first()?;
    serde_json::from_value(v.clone()).ok()
}

/// The query every connection playbook asks: the doctor's examination of the kubeconfig
/// context (live), or the snapshot's `Connection` evidence.
pub fn connection_query() -> Query {
    Query {
        kubectl: "kubectl cluster-info -v=6   # ktriage doctor: route, DNS, TCP, TLS, identity"
            .into(),
        kind: QueryKind::Connection,
    }
}

/// Answers only the `Connection` query, with a fixed observation.
pub struct ObservationSource {
    pub observation: Observation,
}

impl QuerySource for ObservationSource {
    fn run<'a>(&'a self, query: &'a Query) -> futures::future::BoxFuture<'a, Outcome> {
        let out = match query.kind {
            QueryKind::Connection => Outcome::Objects(vec![self.observation.to_value()]),
            _ => Outcome::Failed {
                code: 0,
                message: format!(
                    "not asked: the cluster could not be reached ({})",
                    self.observation
                        .error
                        .as_deref()
                        .unwrap_or("see the doctor")
                ),
            },
        };
        Box::pin(async move { out })
    }
}

/// The doctor's findings for an observation: every connection playbook that finds its
/// cause, plus the client-side RBAC finding (AUTH-01) for a restricted user, ordered by
/// severity and confidence.
pub async fn diagnose(observation: &Observation, now: DateTime<Utc>) -> Vec<Run> {
    let source = ObservationSource {
        observation: observation.clone(),
    };
    let mut cache = engine::Cache::default();
    let mut runs = Vec::new();
    let playbooks = PLAYBOOKS
        .iter()
        .copied()
        .chain(std::iter::once(&rbac::CLIENT_SIDE));
    for pb in playbooks {
        let r = engine::run(pb, &source, &mut cache, now).await;
        if r.finding.is_some() {
            runs.push(r);
        }
    }
    engine::sort_runs(&mut runs);
    runs
}

/// The object name evidence about the kubeconfig uses: `kubeconfig/CONTEXT`.
pub(crate) fn kubeconfig_object(obs: &Observation) -> String {
    format!(
        "kubeconfig/{}",
        obs.context.as_deref().unwrap_or("current-context")
    )
}

/// Whole days between two instants, signed (`then - now`).
pub(crate) fn days_between(now: DateTime<Utc>, then: DateTime<Utc>) -> i64 {
    (then - now).num_days()
}

/// `"in 12 days"` / `"3 days ago"` / `"today"`.
pub(crate) fn relative(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let d = days_between(now, then);
    match d {
        0 if then >= now => "later today".into(),
        0 => "earlier today".into(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::doctor::CertInfo;
    use crate::playbooks::{FindingSeverity, engine};
    use crate::snapshot::{Connection, ServedCertificate};

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    async fn ids(obs: Observation) -> Vec<&'static str> {
        diagnose(&obs, now())
            .await
            .iter()
            .map(|r| r.playbook.id)
            .collect()
    }

    #[test]
    fn ids_codes_and_symptoms_match_the_catalog() {
        let want = [
            ("client-proxy-intercepts-apiserver", "CONN-01"),
            ("apiserver-unreachable", "CONN-02"),
            ("kubeconfig-ca-mismatch", "TLS-01"),
            ("apiserver-cert-missing-san", "TLS-02"),
            ("certificate-expiry", "TLS-05"),
            ("wrong-identity", "AUTH-04"),
        ];
        let got: Vec<_> = PLAYBOOKS.iter().map(|p| (p.id, p.code)).collect();
        assert_eq!(got, want);
        for (text, id) in [
            (
                "Unable to connect to the server: Gateway Timeout",
                "client-proxy-intercepts-apiserver",
            ),
            (
                "Unable to connect to the server: proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused",
                "client-proxy-intercepts-apiserver",
            ),
            (
                "Unable to connect to the server: x509: certificate signed by unknown authority",
                "kubeconfig-ca-mismatch",
            ),
            (
                "Unable to connect to the server: x509: certificate is valid for kubernetes, kubernetes.default, 10.96.0.1, 10.0.2.15, not 192.168.56.10",
                "apiserver-cert-missing-san",
            ),
            (
                "Unable to connect to the server: x509: certificate has expired or is not yet valid",
                "certificate-expiry",
            ),
            (
                "The connection to the server 10.0.0.5:6443 was refused - did you specify the right host or port? dial tcp 10.0.0.5:6443: connect: connection refused",
                "apiserver-unreachable",
            ),
            (
                "Unable to connect to the server: dial tcp 10.0.0.5:6443: i/o timeout",
                "apiserver-unreachable",
            ),
            (
                "Unable to connect to the server: dial tcp: lookup api.example.com: no such host",
                "apiserver-unreachable",
            ),
            (
                "Error from server (Forbidden): pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\"",
                "wrong-identity",
            ),
        ] {
            let ranked = engine::rank_symptoms(text);
            let ours: Vec<_> = ranked
                .iter()
                .filter(|(p, _)| PLAYBOOKS.iter().any(|q| q.id == p.id))
                .collect();
            assert_eq!(ours.first().map(|(p, _)| p.id), Some(id), "{text}");
        }
    }

    #[tokio::test]
    async fn snapshot_evidence_is_diagnosed_like_a_live_observation() {
        let mut environment = std::collections::BTreeMap::new();
        environment.insert(
            "HTTPS_PROXY".to_string(),
            "http://proxy.corp:3128".to_string(),
        );
        environment.insert("NO_PROXY".to_string(), "localhost,.corp".to_string());
        let c = Connection {
            server: "https://10.20.0.5:6443".into(),
            error: Some("Unable to connect to the server: Gateway Timeout".into()),
            environment,
            served_certificate: None,
        };
        assert_eq!(
            ids(Observation::from_evidence(&c)).await,
            vec!["client-proxy-intercepts-apiserver"]
        );

        let c = Connection {
            server: "https://192.168.56.10:6443".into(),
            error: Some(
                "x509: certificate is valid for kubernetes, 10.0.2.15, not 192.168.56.10".into(),
            ),
            served_certificate: Some(ServedCertificate {
                subject: "CN=kube-apiserver".into(),
                issuer: "CN=kubernetes".into(),
                dns_names: vec!["kubernetes".into()],
                ip_addresses: vec!["10.0.2.15".into()],
                not_before: Some("2026-01-01T00:00:00Z".into()),
                not_after: Some("2027-01-01T00:00:00Z".into()),
                pem: None,
            }),
            ..Default::default()
        };
        let runs = diagnose(&Observation::from_evidence(&c), now()).await;
        assert_eq!(runs[0].playbook.id, "apiserver-cert-missing-san");
        let f = runs[0].finding.as_ref().unwrap();
        assert!(
            f.evidence.iter().any(|e| e.value.contains("10.0.2.15")),
            "{f:?}"
        );
    }

    #[tokio::test]
    async fn an_expired_served_certificate_names_its_dates() {
        let obs = Observation {
            server: "https://10.0.0.1:6443".into(),
            error: Some("x509: certificate has expired or is not yet valid".into()),
            served_chain: vec![CertInfo {
                subject: "CN=kube-apiserver".into(),
                issuer: "CN=kubernetes".into(),
                not_before: Some("2025-02-01T00:00:00Z".into()),
                not_after: Some("2026-02-01T00:00:00Z".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let runs = diagnose(&obs, now()).await;
        assert_eq!(runs[0].playbook.id, "certificate-expiry");
        let f = runs[0].finding.as_ref().unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("28 days ago"), "{}", f.summary);
    }

    #[tokio::test]
    async fn a_reachable_cluster_has_no_connection_finding() {
        let obs = Observation {
            server: "https://127.0.0.1:6443".into(),
            user: Some("kubernetes-admin".into()),
            allowed: vec!["list pods".into()],
            ..Default::default()
        };
        assert!(ids(obs).await.is_empty());
    }
}
