//! CP-05 ha-apiserver-endpoints-flap: with `--endpoint-reconciler-type=master-count` every
//! API server keeps `default/kubernetes` at `--apiserver-count` addresses (default 1), so
//! three API servers with the default count overwrite each other's address every 10 s —
//! "Resetting endpoints for master service \"kubernetes\"" — and kube-proxy, CoreDNS and
//! every in-cluster client see the 10.96.0.1 backends churn.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{self, LeaseState, ev, flag, obj, s};
use crate::playbooks::engine::q;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "ha-apiserver-endpoints-flap",
    code: "CP-05",
    title: "HA API servers overwrite the kubernetes Service endpoints (apiserver-count)",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["resetting endpoints for master service"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["apiserver-count"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["endpoint-reconciler-type"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

fn endpoints_query() -> Query {
    q::get("", "endpoints", Some("default"), "kubernetes")
}

fn slices_query() -> Query {
    q::list(
        "discovery.k8s.io",
        "endpointslices",
        Some("default"),
        Some("kubernetes.io/service-name=kubernetes"),
        None,
    )
}

fn apiservers_query() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-apiserver"),
        None,
    )
}

fn identity_leases_query() -> Query {
    q::list(
        "coordination.k8s.io",
        "leases",
        Some("kube-system"),
        Some("apiserver.kubernetes.io/identity=kube-apiserver"),
        None,
    )
}

fn log_query(pod: &str) -> Query {
    q::logs("kube-system", pod, Some("kube-apiserver"), false, Some(300))
}

fn queries(results: &Results) -> Vec<Query> {
    let mut out = vec![
        endpoints_query(),
        slices_query(),
        apiservers_query(),
        identity_leases_query(),
    ];
    for p in results.objects(&apiservers_query()) {
        out.push(log_query(common::name(p)));
    }
    out
}

fn endpoint_ips(ep: &Value) -> BTreeSet<String> {
    ep.get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|ss| {
            ss.get("addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .map(|a| s(a, "/ip").to_string())
        .filter(|ip| !ip.is_empty())
        .collect()
}

fn slice_ips(slices: &[Value]) -> BTreeSet<String> {
    slices
        .iter()
        .flat_map(|sl| {
            sl.get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .flat_map(|e| {
            e.get("addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn join(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "(none)".into()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn diagnose(results: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = results.objects(&apiservers_query());
    let leases = results.objects(&identity_leases_query());
    let ep = results.objects(&endpoints_query()).first();
    let slices = results.objects(&slices_query());
    let fresh_leases = leases
        .iter()
        .filter(|l| !LeaseState::read(l, now).expired())
        .count();
    let n = pods.len().max(fresh_leases);
    if n < 2 {
        return None;
    }
    let ep_ips = ep.map(endpoint_ips).unwrap_or_default();
    let sl_ips = slice_ips(slices);
    let apiserver_ips: BTreeSet<String> = pods
        .iter()
        .filter_map(|p| {
            flag(p, "advertise-address").or_else(|| Some(s(p, "/status/hostIP").to_string()))
        })
        .filter(|ip| !ip.is_empty())
        .collect();

    // master-count reconcilers with a count below the number of API servers.
    let mut misconfigured = Vec::new();
    for p in pods {
        let reconciler = flag(p, "endpoint-reconciler-type").unwrap_or_else(|| "lease".into());
        if reconciler != "master-count" {
            continue;
        }
        let count_flag = flag(p, "apiserver-count");
        let count: usize = count_flag
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        if count < n {
            misconfigured.push((p, count_flag, count));
        }
    }

    let mut resets: Vec<(&Value, String)> = Vec::new();
    for p in pods {
        if let Some(text) = results.text(&log_query(common::name(p))) {
            let hits: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("Resetting endpoints for master service"))
                .collect();
            if let Some(last) = hits.last() {
                resets.push((
                    p,
                    format!(
                        "{} (and {} more such lines)",
                        last.trim_end(),
                        hits.len() - 1
                    ),
                ));
            }
        }
    }

    let missing = ep_ips.len() < n;
    let disagree = ep.is_some() && !slices.is_empty() && ep_ips != sl_ips;
    if misconfigured.is_empty() && resets.is_empty() {
        return None;
    }

    let mut evidence = Vec::new();
    evidence.push(ev(
        "Pod/kube-system (component=kube-apiserver)",
        "count",
        format!(
            "{} API servers ({}); {} fresh apiserver identity leases",
            pods.len(),
            join(&apiserver_ips),
            fresh_leases
        ),
    ));
    if let Some(ep) = ep {
        evidence.push(ev(obj(ep), "subsets[].addresses[].ip", join(&ep_ips)));
    }
    if let Some(sl) = slices.first() {
        evidence.push(ev(obj(sl), "endpoints[].addresses", join(&sl_ips)));
    }
    for (p, count_flag, count) in misconfigured.iter().take(3) {
        evidence.push(ev(
            obj(p),
            "spec.containers[kube-apiserver].command",
            format!(
                "--endpoint-reconciler-type=master-count, {}",
                match count_flag {
                    Some(c) => format!("--apiserver-count={c}"),
                    None => format!("--apiserver-count not set (default {count})"),
                }
            ),
        ));
    }
    for (p, line) in resets.iter().take(2) {
        evidence.push(ev(obj(p), "log[kube-apiserver]", line.clone()));
    }

    let (severity, confidence) = match (
        !misconfigured.is_empty(),
        missing || disagree,
        !resets.is_empty(),
    ) {
        (true, true, true) => (FindingSeverity::Critical, 0.97),
        (true, _, true) | (true, true, false) => (FindingSeverity::Critical, 0.9),
        (true, false, false) => (FindingSeverity::Warning, 0.7),
        (false, _, true) => (FindingSeverity::Warning, 0.65),
        (false, _, false) => return None,
    };
    let summary = if misconfigured.is_empty() {
        format!(
            "The API servers log \"Resetting endpoints for master service \\\"kubernetes\\\"\": default/kubernetes lists {} of {n} API servers; their reconciler settings disagree.",
            ep_ips.len()
        )
    } else {
        format!(
            "{n} API servers run the master-count endpoint reconciler with --apiserver-count={}: each keeps rewriting default/kubernetes to its own address, which lists only {} ({}), so the kubernetes Service's backends flap.",
            misconfigured.first().map(|m| m.2).unwrap_or(1),
            ep_ips.len(),
            join(&ep_ips)
        )
    };
    let nodes: Vec<String> = pods
        .iter()
        .map(|p| common::node_of(p).to_string())
        .collect();
    let commands = vec![
        "kubectl get endpoints kubernetes -n default -w".to_string(),
        "kubectl logs -n kube-system -l component=kube-apiserver --tail 50 --prefix | grep 'Resetting endpoints'".to_string(),
        format!(
            "# on {}: use the lease reconciler (the default since 1.11) — remove the two flags from the manifest",
            nodes.join(", ")
        ),
        "sudo sed -i -e '/--endpoint-reconciler-type=master-count/d' -e '/--apiserver-count=/d' /etc/kubernetes/manifests/kube-apiserver.yaml".to_string(),
        format!("# or keep master-count and set the real number on every master: --apiserver-count={n}"),
        "# then the addresses settle on all API servers:".to_string(),
        "kubectl get endpoints kubernetes -n default -o jsonpath='{.subsets[*].addresses[*].ip}'".to_string(),
    ];
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not an API server that is down: every API server pod is there; the address set is rewritten by the reconciler, not emptied by a failing server.".into(),
            "Not the lease reconciler dropping a dead server: the master-count reconciler is configured, and it only ever keeps --apiserver-count addresses.".into(),
            "Not kube-proxy or the CNI: the churn is in default/kubernetes itself, before any node programs it.".into(),
        ],
        fix: Fix {
            explanation: format!(
                "With --endpoint-reconciler-type=master-count each API server adds itself to default/kubernetes and trims the list to --apiserver-count (default 1), so {n} servers with a smaller count evict each other every reconcile. Switch every API server to the lease reconciler (delete both flags; it is the default) — or set --apiserver-count={n} on all of them. The kubelet restarts the static pod after the manifest changes; afterwards the Endpoints list {n} addresses and stays put under `-w`."
            ),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        common::parse_time("2026-01-15T10:00:00Z").unwrap()
    }

    fn results(flags: &[&str], ep_ips: &[&str], log: &str) -> Results {
        let mut r = Results::default();
        let pods: Vec<Value> = (1..=3)
            .map(|i| {
                let mut cmd = vec![json!("kube-apiserver"), json!(format!("--advertise-address=10.0.0.1{i}"))];
                cmd.extend(flags.iter().map(|f| json!(f)));
                json!({"kind": "Pod", "metadata": {"name": format!("kube-apiserver-cp-{i}"), "namespace": "kube-system", "labels": {"component": "kube-apiserver"}},
                    "spec": {"nodeName": format!("cp-{i}"), "containers": [{"name": "kube-apiserver", "command": cmd}]}})
            })
            .collect();
        r.by_query
            .insert(apiservers_query(), Outcome::Objects(pods));
        r.by_query.insert(
            endpoints_query(),
            Outcome::Objects(vec![json!({"kind": "Endpoints", "metadata": {"name": "kubernetes", "namespace": "default"},
                "subsets": [{"addresses": ep_ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>()}]})]),
        );
        r.by_query
            .insert(identity_leases_query(), Outcome::Objects(vec![]));
        r.by_query.insert(
            log_query("kube-apiserver-cp-2"),
            Outcome::Text {
                code: 200,
                body: log.into(),
            },
        );
        r
    }

    const RESET: &str = "W0115 09:59:51.000001       1 mastercount.go:158] Resetting endpoints for master service \"kubernetes\" to [10.0.0.12]\n";

    #[test]
    fn master_count_with_default_count_and_one_address_is_critical() {
        let f = diagnose(
            &results(
                &["--endpoint-reconciler-type=master-count"],
                &["10.0.0.12"],
                RESET,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.95);
        assert!(f.summary.contains("--apiserver-count=1"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("--apiserver-count not set (default 1)"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("--apiserver-count=3"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("# on cp-1, cp-2, cp-3"))
        );
    }

    #[test]
    fn lease_reconciler_with_all_addresses_is_fine() {
        assert!(
            diagnose(
                &results(&[], &["10.0.0.11", "10.0.0.12", "10.0.0.13"], ""),
                now()
            )
            .is_none()
        );
    }

    #[test]
    fn master_count_with_the_right_count_is_fine() {
        let flags = [
            "--endpoint-reconciler-type=master-count",
            "--apiserver-count=3",
        ];
        assert!(
            diagnose(
                &results(&flags, &["10.0.0.11", "10.0.0.12", "10.0.0.13"], ""),
                now()
            )
            .is_none()
        );
    }

    #[test]
    fn seed_text_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "controller.go:290] Resetting endpoints for master service \"kubernetes\" to [...]",
        );
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(PLAYBOOK.id));
    }
}
