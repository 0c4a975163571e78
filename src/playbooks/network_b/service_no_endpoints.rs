//! NET-08 `service-no-endpoints`: a Service with a selector but no ready endpoint
//! (`Endpoints: <none>`): its selector matches no pod of its namespace (a typo, pods in
//! another namespace, a workload scaled to zero) or the matching pods are not ready
//! (`notReadyAddresses`). Clients get `connection refused` (kube-proxy rejects) or 503s.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::util::{
    MetaExt, Pod, endpoint_counts, ev, labels_match, name, namespace, obj, phase, s,
    selector_string, waiting_reason,
};
use crate::cluster::lean::condition;
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "service-no-endpoints",
    code: "NET-08",
    title: "Service has no ready endpoints",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["endpoints:", "<none>"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["no endpoints available for service"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["service", "503"],
            weight: 0.5,
        },
        Symptom {
            all_of: &["service", "connection refused"],
            weight: 0.45,
        },
    ],
    queries,
    diagnose,
};

fn q_services() -> Query {
    q::core("services", None)
}
fn q_endpoints() -> Query {
    q::core("endpoints", None)
}
fn q_pods() -> Query {
    q::watched(Watched::Pods)
}
fn q_deployments() -> Query {
    q::list("apps", "deployments", None, None, None)
}
fn q_statefulsets() -> Query {
    q::list("apps", "statefulsets", None, None, None)
}

fn queries(_: &Results) -> Vec<Query> {
    vec![
        q_services(),
        q_endpoints(),
        q_pods(),
        q_deployments(),
        q_statefulsets(),
    ]
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Why one Service has no ready endpoint.
enum Cause {
    /// Nothing matches; `near` is a pod whose labels differ slightly (key, pod value).
    NoMatch {
        near: Option<(String, String, String)>,
        elsewhere: Option<String>,
    },
    /// A workload matching the selector is scaled to zero.
    ScaledToZero(String),
    /// Pods match but none is ready (pod, state); `true` when they are all still Pending
    /// (a consequence of scheduling or the pod network, not of the Service).
    NotReady(Vec<(String, String)>, bool),
}

struct Case<'a> {
    svc: &'a Value,
    cause: Cause,
}

impl Case<'_> {
    fn weight(&self) -> (FindingSeverity, f32) {
        match &self.cause {
            Cause::NoMatch { near: Some(_), .. }
            | Cause::NoMatch {
                elsewhere: Some(_), ..
            } => (FindingSeverity::Warning, 0.9),
            Cause::NoMatch { .. } => (FindingSeverity::Warning, 0.8),
            Cause::NotReady(_, true) => (FindingSeverity::Warning, 0.45),
            Cause::NotReady(_, false) => (FindingSeverity::Warning, 0.6),
            Cause::ScaledToZero(_) => (FindingSeverity::Info, 0.5),
        }
    }
}

fn waiting_or_ready(p: &Pod) -> String {
    waiting_reason(p).map(str::to_string).unwrap_or_else(|| {
        let msg = condition(&p.status.conditions, "Ready")
            .and_then(|c| c.message.as_deref())
            .unwrap_or("not ready");
        format!("{} ({msg})", phase(p))
    })
}

fn template_matches(selector: &Value, w: &Value) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    let labels = w.pointer("/spec/template/metadata/labels");
    !sel.is_empty()
        && sel
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

fn classify<'a>(svc: &'a Value, pods: &[Arc<Pod>], workloads: &[&Value]) -> Option<Case<'a>> {
    let ns = namespace(svc);
    let selector = svc.pointer("/spec/selector")?;
    let sel = selector.as_object()?;
    if sel.is_empty() {
        return None;
    }
    let live = |p: &&Arc<Pod>| !matches!(phase(p), "Succeeded" | "Failed");
    let matching: Vec<&Arc<Pod>> = pods
        .iter()
        .filter(live)
        .filter(|p| p.metadata.namespace_str() == ns && labels_match(selector, p))
        .collect();
    if !matching.is_empty() {
        if matching.iter().any(|p| p.is_ready()) {
            // Endpoints lag behind or were built by hand; not this cause.
            return None;
        }
        return Some(Case {
            svc,
            cause: Cause::NotReady(
                matching
                    .iter()
                    .map(|p| (p.metadata.name_str().to_string(), waiting_or_ready(p)))
                    .collect(),
                matching.iter().all(|p| phase(p) == "Pending"),
            ),
        });
    }
    if let Some(w) = workloads.iter().find(|w| {
        namespace(w) == ns
            && template_matches(selector, w)
            && w.pointer("/spec/replicas").and_then(Value::as_i64) == Some(0)
    }) {
        return Some(Case {
            svc,
            cause: Cause::ScaledToZero(obj(w)),
        });
    }
    // A pod in the namespace whose labels differ from the selector by one small edit.
    let mut near: Option<(usize, String, String, String)> = None;
    for p in pods
        .iter()
        .filter(live)
        .filter(|p| p.metadata.namespace_str() == ns)
    {
        let mut diff = None;
        let mut others_ok = true;
        for (k, want) in sel {
            let want = want.as_str().unwrap_or_default();
            match p.label(k) {
                Some(have) if have == want => {}
                Some(have) if diff.is_none() => {
                    diff = Some((k.clone(), have.to_string(), levenshtein(want, have)))
                }
                _ => others_ok = false,
            }
        }
        if let (true, Some((k, have, d))) = (others_ok, diff)
            && d <= 3
            && near.as_ref().is_none_or(|n| d < n.0)
        {
            near = Some((d, k, have, p.metadata.name_str().to_string()));
        }
    }
    let elsewhere = pods
        .iter()
        .filter(live)
        .find(|p| p.metadata.namespace_str() != ns && labels_match(selector, p))
        .map(|p| format!("{}/{}", p.metadata.namespace_str(), p.metadata.name_str()));
    Some(Case {
        svc,
        cause: Cause::NoMatch {
            near: near.map(|(_, k, have, pod)| (k, have, pod)),
            elsewhere,
        },
    })
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let services = r.objects(&q_services());
    let endpoints = r.objects(&q_endpoints());
    let pods = r.pods();
    let workloads: Vec<&Value> = r
        .objects(&q_deployments())
        .iter()
        .chain(r.objects(&q_statefulsets()))
        .collect();
    if pods.is_empty() && endpoints.is_empty() {
        return None;
    }
    let mut cases: Vec<Case> = Vec::new();
    for svc in services {
        if s(svc, "/spec/type") == "ExternalName" {
            continue;
        }
        let Some(ep) = endpoints
            .iter()
            .find(|e| namespace(e) == namespace(svc) && name(e) == name(svc))
        else {
            continue;
        };
        if endpoint_counts(ep).0 > 0 {
            continue;
        }
        if let Some(c) = classify(svc, pods, &workloads) {
            cases.push(c);
        }
    }
    if cases.is_empty() {
        return None;
    }
    cases.sort_by(|a, b| {
        let (sa, ca) = a.weight();
        let (sb, cb) = b.weight();
        sb.cmp(&sa).then(cb.total_cmp(&ca))
    });
    let (severity, confidence) = cases[0].weight();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut sentences = Vec::new();
    let mut commands = Vec::new();
    let mut ruled_out = Vec::new();
    for c in cases.iter().take(6) {
        let (ns, svc) = (namespace(c.svc), name(c.svc));
        let sel = c
            .svc
            .pointer("/spec/selector")
            .map(selector_string)
            .unwrap_or_default();
        evidence.push(ev(
            format!("Endpoints/{ns}/{svc}"),
            "subsets[*].addresses",
            "<none>",
        ));
        evidence.push(ev(obj(c.svc), "spec.selector", sel.clone()));
        commands.push(format!("kubectl get endpoints {svc} -n {ns}"));
        commands.push(format!("kubectl get pods -n {ns} -l '{sel}' -o wide"));
        match &c.cause {
            Cause::NoMatch { near, elsewhere } => {
                let mut sentence =
                    format!("Service {ns}/{svc} selects `{sel}`, which matches no pod in {ns}");
                if let Some((k, have, pod)) = near {
                    evidence.push(ev(
                        format!("Pod/{ns}/{pod}"),
                        format!("metadata.labels[{k}]"),
                        have.clone(),
                    ));
                    sentence.push_str(&format!(
                        " (its pods, e.g. {pod}, are labelled {k}={have}: a typo in the selector)"
                    ));
                    commands.push(format!(
                        "kubectl patch service {svc} -n {ns} -p '{{\"spec\":{{\"selector\":{{\"{k}\":\"{have}\"}}}}}}'"
                    ));
                } else if let Some(other) = elsewhere {
                    evidence.push(ev(
                        format!("Pod/{other}"),
                        "metadata.namespace",
                        "matches the selector in another namespace",
                    ));
                    sentence.push_str(&format!(
                        " (pod {other} matches, but a Service only selects pods of its own namespace)"
                    ));
                    commands.push(format!(
                        "# create the Service in the pods' namespace, or move the workload to {ns}"
                    ));
                } else {
                    commands.push(format!(
                        "kubectl get pods -n {ns} --show-labels   # compare with the selector {sel}"
                    ));
                }
                ruled_out.push(format!(
                    "Unready pods for {ns}/{svc}: no pod matches its selector at all, so readiness never comes into play."
                ));
                sentences.push(sentence);
            }
            Cause::ScaledToZero(w) => {
                evidence.push(ev(w.clone(), "spec.replicas", "0"));
                sentences.push(format!(
                    "Service {ns}/{svc} has no endpoints because {w} is scaled to 0"
                ));
                commands.push(format!(
                    "kubectl scale {} -n {ns} --replicas=1   # if it should serve",
                    w.split('/').next().unwrap_or("deployment").to_lowercase()
                        + "/"
                        + w.rsplit('/').next().unwrap_or_default()
                ));
            }
            Cause::NotReady(list, pending) => {
                for (pod, why) in list.iter().take(4) {
                    evidence.push(ev(
                        format!("Pod/{ns}/{pod}"),
                        "status (not ready)",
                        why.clone(),
                    ));
                }
                sentences.push(format!(
                    "Service {ns}/{svc} matches {} pod(s) but none is ready ({}), {}",
                    list.len(),
                    list.iter()
                        .map(|(p, w)| format!("{p}: {w}"))
                        .take(3)
                        .collect::<Vec<_>>()
                        .join("; "),
                    if *pending {
                        "and they are still Pending: the cause is why they cannot start"
                    } else {
                        "so they sit in notReadyAddresses"
                    }
                ));
                commands.push(format!(
                    "kubectl describe pods -n {ns} -l '{sel}'   # Events: why readiness fails"
                ));
                ruled_out.push(format!(
                    "A selector typo for {ns}/{svc}: its selector does match pods; they are not ready."
                ));
            }
        }
    }
    let summary = if cases.len() == 1 {
        format!("{}.", sentences[0])
    } else {
        format!(
            "{} Service(s) have no ready endpoints: {}.",
            cases.len(),
            sentences.join("; ")
        )
    };
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "A Service sends traffic only to ready pods of its own namespace whose labels carry every key=value of its selector. Make the selector and the pod template labels agree (fix whichever is wrong: patching the Service is immediate, fixing a Deployment's template rolls the pods), or make the pods ready. `kubectl get endpoints NAME` then lists pod IPs instead of <none>.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn svc(name: &str, sel: Value) -> Value {
        json!({"kind": "Service", "metadata": {"namespace": "shop", "name": name}, "spec": {"type": "ClusterIP", "selector": sel, "ports": [{"port": 8080}]}})
    }
    fn ep(name: &str, ready: bool) -> Value {
        let subsets = if ready {
            json!([{"addresses": [{"ip": "10.244.3.9"}]}])
        } else {
            json!([])
        };
        json!({"kind": "Endpoints", "metadata": {"namespace": "shop", "name": name}, "subsets": subsets})
    }
    fn pod(ns: &str, name: &str, app: &str, ready: bool) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": ns, "name": name, "labels": {"app.kubernetes.io/name": app}},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "message": "containers with unready status: [x]"}]}})
    }
    fn results(
        services: Vec<Value>,
        eps: Vec<Value>,
        pods: Vec<Value>,
        deps: Vec<Value>,
    ) -> Results {
        let mut r = Results::default();
        r.by_query.insert(q_services(), Outcome::Objects(services));
        r.by_query.insert(q_endpoints(), Outcome::Objects(eps));
        r.set_watched(Watched::Pods, &pods);
        r.by_query.insert(q_deployments(), Outcome::Objects(deps));
        r.by_query
            .insert(q_statefulsets(), Outcome::Objects(vec![]));
        r
    }

    #[test]
    fn a_selector_typo_names_the_label_and_the_patch() {
        let r = results(
            vec![svc(
                "payments",
                json!({"app.kubernetes.io/name": "payment"}),
            )],
            vec![ep("payments", false)],
            vec![pod("shop", "payments-6f7-abcde", "payments", true)],
            vec![],
        );
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.confidence >= 0.9);
        assert!(
            f.summary.contains("app.kubernetes.io/name=payments"),
            "{}",
            f.summary
        );
        assert!(f.fix.commands.iter().any(|c| c == "kubectl patch service payments -n shop -p '{\"spec\":{\"selector\":{\"app.kubernetes.io/name\":\"payments\"}}}'"), "{:?}", f.fix.commands);
    }

    #[test]
    fn unready_pods_are_named_with_their_state() {
        let r = results(
            vec![svc("cart", json!({"app.kubernetes.io/name": "cart"}))],
            vec![ep("cart", false)],
            vec![pod("shop", "cart-1", "cart", false)],
            vec![],
        );
        let f = diagnose(&r, Utc::now()).unwrap();
        assert!(f.summary.contains("none is ready"), "{}", f.summary);
        assert!(f.confidence < 0.7);
    }

    #[test]
    fn services_with_ready_endpoints_or_scaled_to_zero_are_not_warnings() {
        let r = results(
            vec![svc("cart", json!({"app.kubernetes.io/name": "cart"}))],
            vec![ep("cart", true)],
            vec![pod("shop", "cart-1", "cart", true)],
            vec![],
        );
        assert!(diagnose(&r, Utc::now()).is_none());
        let dep = json!({"kind": "Deployment", "metadata": {"namespace": "shop", "name": "cart"},
            "spec": {"replicas": 0, "template": {"metadata": {"labels": {"app.kubernetes.io/name": "cart"}}}}});
        let r = results(
            vec![svc("cart", json!({"app.kubernetes.io/name": "cart"}))],
            vec![ep("cart", false)],
            vec![],
            vec![dep],
        );
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        // A Service without selector (the `kubernetes` Service, manual Endpoints) is not judged.
        let manual = json!({"kind": "Service", "metadata": {"namespace": "shop", "name": "db"}, "spec": {"ports": [{"port": 5432}]}});
        let r = results(
            vec![manual],
            vec![ep("db", false)],
            vec![pod("shop", "x", "y", true)],
            vec![],
        );
        assert!(diagnose(&r, Utc::now()).is_none());
    }

    #[test]
    fn describe_output_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Name: payments\nSelector: app=payment\nEndpoints:         <none>",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("service-no-endpoints")
        );
        assert_eq!(levenshtein("payment", "payments"), 1);
    }
}
