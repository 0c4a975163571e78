//! Playbooks of the `network_b` group (see shared/PLAYBOOKS.md): NET-07…NET-12, the pod
//! sandbox, Service, NodePort/load-balancer, Ingress and DNS add-on failures. One file per
//! playbook; add it to `PLAYBOOKS` below. `haproxy` generates the HAProxy configuration
//! NET-10 proposes (and `ktriage export haproxy` prints).

mod dns_addon_degraded;
pub mod haproxy;
mod ingress_misconfigured;
mod ipv6_disabled_cni_sandbox;
mod nodeport_needs_external_lb;
#[cfg(test)]
mod scenario_tests;
mod service_no_endpoints;
mod service_port_mismatch;
mod util;

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &ipv6_disabled_cni_sandbox::PLAYBOOK,
    &service_no_endpoints::PLAYBOOK,
    &service_port_mismatch::PLAYBOOK,
    &nodeport_needs_external_lb::PLAYBOOK,
    &ingress_misconfigured::PLAYBOOK,
    &dns_addon_degraded::PLAYBOOK,
];

#[cfg(test)]
mod tests {
    use crate::playbooks::engine::rank_symptoms;

    /// The seed texts of issue 4's "Must show" that belong to other groups: none of this
    /// group's playbooks may claim them.
    const OTHERS: &[&str] = &[
        "x509: certificate signed by unknown authority",
        "tls: failed to find any PEM data in certificate input",
        "Error from server (Forbidden): User \"kubernetes-admin\" cannot list nodes at the cluster scope",
        "error retrieving resource lock kube-system/kube-controller-manager: Get \"https://10.0.0.11:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager\": Gateway Timeout",
        "attempting to acquire leader lease kube-system/kube-scheduler...",
        "Resetting endpoints for master service \"kubernetes\" to [10.0.0.11]",
        "network plugin is not ready: cni config uninitialized",
        "Liveness probe failed: Get http://127.0.0.1:10252/healthz: dial tcp 127.0.0.1:10252: connect: connection refused",
    ];

    #[test]
    fn other_groups_seed_texts_match_none_of_ours() {
        let ours: Vec<&str> = super::PLAYBOOKS.iter().map(|p| p.id).collect();
        for text in OTHERS {
            let hits: Vec<&str> = rank_symptoms(text)
                .into_iter()
                .map(|(p, _)| p.id)
                .filter(|id| ours.contains(id))
                .collect();
            assert!(hits.is_empty(), "{text}: {hits:?}");
        }
    }

    /// Partial or malformed objects (a pasted fragment, an odd API answer) never panic.
    #[test]
    fn malformed_answers_do_not_panic() {
        use crate::playbooks::{Outcome, Results};
        use serde_json::json;
        let junk = vec![
            json!(1),
            json!("x"),
            json!(null),
            json!({"metadata": 5, "spec": "y", "status": []}),
            json!({"kind": "Service", "metadata": {"name": "s", "namespace": "n"},
                "spec": {"type": "NodePort", "selector": {"a": 1}, "ports": [{"port": "x", "nodePort": -1, "targetPort": {}}]}}),
            json!({"kind": "Pod", "metadata": {"name": "coredns-x", "namespace": "kube-system", "labels": {"a": 1}},
                "spec": {"containers": [{"ports": "p", "args": [1, null]}]}, "status": {"phase": "Running", "containerStatuses": [{"restartCount": "many"}]}}),
        ];
        for pb in super::PLAYBOOKS {
            let mut r = Results::default();
            for _ in 0..3 {
                for q in (pb.queries)(&r) {
                    let outcome = match q.kind {
                        crate::playbooks::QueryKind::Logs { .. }
                        | crate::playbooks::QueryKind::Raw { .. } => Outcome::Text {
                            code: 200,
                            body: "{not json\n[FATAL] plugin/loop: Loop (".into(),
                        },
                        _ => Outcome::Objects(junk.clone()),
                    };
                    r.by_query.entry(q).or_insert(outcome);
                }
            }
            let _ = (pb.diagnose)(&r, chrono::Utc::now());
            let _ = (pb.diagnose)(&Results::default(), chrono::Utc::now());
        }
    }

    #[test]
    fn ids_and_codes_are_this_groups_catalog_rows() {
        let got: Vec<(&str, &str)> = super::PLAYBOOKS.iter().map(|p| (p.code, p.id)).collect();
        assert_eq!(
            got,
            vec![
                ("NET-07", "ipv6-disabled-cni-sandbox"),
                ("NET-08", "service-no-endpoints"),
                ("NET-09", "service-port-mismatch"),
                ("NET-10", "nodeport-needs-external-lb"),
                ("NET-11", "ingress-misconfigured"),
                ("NET-12", "dns-addon-degraded"),
            ]
        );
    }
}
