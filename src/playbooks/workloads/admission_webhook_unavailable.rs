//! WL-10 `admission-webhook-unavailable`: an admission webhook the API server must call has
//! no backend (its Service is gone or has no ready endpoints), so every request it
//! intercepts fails with `Internal error occurred: failed calling webhook "x": …` when its
//! failurePolicy is Fail (a policy engine uninstalled while its webhook configuration stayed
//! behind is the classic). The webhook configurations, their Services and Endpoints and the
//! controllers' FailedCreate events are the evidence. An `x509` error is the CA bundle
//! (TLS-04) and a timeout towards a healthy backend the API server's egress (CP-01): named
//! and left to them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    ev, event_count, event_time, events_all, name, name_of, namespace, ns_of, s, st,
};
use crate::cluster::lean::Event;
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "admission-webhook-unavailable",
    code: "WL-10",
    title: "Admission webhook unreachable",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["failed calling webhook"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["failed to call webhook"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["no endpoints available for service"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

fn validating() -> Query {
    q::list(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
        None,
        None,
        None,
    )
}
fn mutating() -> Query {
    q::list(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
        None,
        None,
        None,
    )
}
fn services() -> Query {
    q::core("services", None)
}
fn endpoints() -> Query {
    q::core("endpoints", None)
}

fn queries(_: &Results) -> Vec<Query> {
    vec![
        validating(),
        mutating(),
        services(),
        endpoints(),
        events_all(),
    ]
}

/// A webhook whose backend is missing or not ready.
struct Broken<'a> {
    config_kind: &'static str,
    config: &'a Value,
    index: usize,
    hook: &'a Value,
    problem: String,
    /// Whether it intercepts workloads (pods, deployments, `*`), not one narrow resource.
    broad: bool,
}

fn ready_addresses(ep: &Value) -> usize {
    ep.get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|sub| {
            sub.get("addresses")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .sum()
}

fn broad(hook: &Value) -> bool {
    hook.get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|r| {
            r.get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(Value::as_str)
        .any(|res| {
            matches!(
                res,
                "*" | "*/*"
                    | "pods"
                    | "deployments"
                    | "replicasets"
                    | "statefulsets"
                    | "daemonsets"
                    | "jobs"
            )
        })
}

fn broken<'a>(r: &'a Results) -> Vec<Broken<'a>> {
    // A Service or Endpoints list that was not captured (or failed) proves nothing: absence
    // in it is not "not found" / "no endpoints".
    let listed = |q: &Query| matches!(r.outcome(q), Some(Outcome::Objects(_)));
    let (svcs_listed, eps_listed) = (listed(&services()), listed(&endpoints()));
    let svcs = r.objects(&services());
    let eps = r.objects(&endpoints());
    let mut out = Vec::new();
    for (kind, q) in [
        ("ValidatingWebhookConfiguration", validating()),
        ("MutatingWebhookConfiguration", mutating()),
    ] {
        for cfg in r.objects(&q) {
            for (index, hook) in cfg
                .get("webhooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(svc) = hook.pointer("/clientConfig/service") else {
                    continue;
                };
                let (ns, sn) = (s(svc, "/namespace"), s(svc, "/name"));
                let svc_held = svcs.iter().any(|x| namespace(x) == ns && name(x) == sn);
                let problem = if !svc_held {
                    if !svcs_listed {
                        continue;
                    }
                    format!("service \"{sn}\" not found in namespace {ns}")
                } else {
                    match eps.iter().find(|x| namespace(x) == ns && name(x) == sn) {
                        Some(e) if ready_addresses(e) > 0 => continue,
                        Some(_) => format!("Service {ns}/{sn} has no ready endpoints"),
                        None if eps_listed => format!("Service {ns}/{sn} has no ready endpoints"),
                        None => continue,
                    }
                };
                out.push(Broken {
                    config_kind: kind,
                    config: cfg,
                    index,
                    hook,
                    problem,
                    broad: broad(hook),
                });
            }
        }
    }
    out
}

/// FailedCreate (or other) events reporting a webhook call failure: (webhook name, event).
fn call_failures(events: &[Arc<Event>]) -> Vec<(String, &Event)> {
    let mut out: Vec<(String, &Event)> = events
        .iter()
        .map(|e| &**e)
        .filter(|e| st(&e.message).contains("failed calling webhook"))
        .map(|e| {
            let hook = st(&e.message)
                .split("failed calling webhook \"")
                .nth(1)
                .and_then(|x| x.split('"').next())
                .unwrap_or("")
                .to_string();
            (hook, e)
        })
        .collect();
    out.sort_by_key(|(_, e)| std::cmp::Reverse(event_time(e)));
    out
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let failures = call_failures(r.events());
    let broken = broken(r);
    // Prefer a broken webhook the events show failing, then broad ones, then Fail policy.
    let pick = broken.iter().max_by_key(|b| {
        let hn = s(b.hook, "/name");
        (
            failures.iter().any(|(h, _)| h == hn),
            b.broad,
            s(b.hook, "/failurePolicy") != "Ignore",
        )
    });
    let Some(b) = pick else {
        // No broken backend: a failure class another playbook owns, if events show one.
        let (hook, e) = failures.first()?;
        let msg = st(&e.message);
        let (code, why) = if msg.contains("x509") {
            (
                "TLS-04",
                "the API server does not trust the webhook's certificate (caBundle)",
            )
        } else if msg.contains("context deadline exceeded") || msg.contains("Client.Timeout") {
            (
                "CP-01",
                "the API server's call times out although the backend looks ready (its egress or proxy)",
            )
        } else {
            return None;
        };
        return Some(Finding {
            severity: FindingSeverity::Warning,
            confidence: 0.5,
            summary: format!("Calls to admission webhook {hook} fail because {why}: see {code}."),
            evidence: vec![ev(
                format!("Event/{}/{}", ns_of(*e), name_of(*e)),
                st(&e.reason),
                msg,
            )],
            ruled_out: vec![
                "Not a missing backend: the webhook's Service has ready endpoints.".into(),
            ],
            fix: Fix {
                explanation: format!("{code} diagnoses this failure class."),
                commands: vec![
                    "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations"
                        .into(),
                ],
            },
        });
    };
    let hook_name = s(b.hook, "/name");
    let cfg_name = name(b.config);
    let policy = match s(b.hook, "/failurePolicy") {
        "" => "Fail",
        p => p,
    };
    let cfg_ref = format!("{}/{cfg_name}", b.config_kind);
    let svc = b
        .hook
        .pointer("/clientConfig/service")
        .cloned()
        .unwrap_or(Value::Null);
    let (svc_ns, svc_name) = (s(&svc, "/namespace"), s(&svc, "/name"));
    let mut evidence: Vec<Evidence> = vec![
        ev(
            &cfg_ref,
            format!("webhooks[{hook_name}].clientConfig.service"),
            svc.to_string(),
        ),
        ev(
            format!("Service/{svc_ns}/{svc_name}"),
            "backend",
            b.problem.clone(),
        ),
        ev(
            &cfg_ref,
            format!("webhooks[{hook_name}].failurePolicy"),
            policy,
        ),
        ev(
            &cfg_ref,
            format!("webhooks[{hook_name}].rules"),
            b.hook
                .get("rules")
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ),
    ];
    let mine: Vec<&Event> = failures
        .iter()
        .filter(|(h, _)| h == hook_name)
        .map(|(_, e)| *e)
        .collect();
    for e in mine.iter().take(3) {
        evidence.push(ev(
            format!(
                "{}/{}/{}",
                st(&e.involved_object.kind),
                st(&e.involved_object.namespace),
                st(&e.involved_object.name)
            ),
            st(&e.reason),
            format!("{} (x{})", st(&e.message), event_count(e)),
        ));
    }
    let blocking = policy == "Fail";
    // With failurePolicy Fail and no backend, the API server rejects every matching write
    // now, broad or narrow (an Ingress-only webhook blocks every Ingress): that is an
    // outage of those writes, whether or not a failed call was captured. Failing calls only
    // make the diagnosis surer. With Ignore, requests pass after the call's timeout.
    let (severity, confidence) = match (blocking, !mine.is_empty(), b.broad) {
        (true, true, _) => (FindingSeverity::Critical, 0.95),
        (true, false, _) => (FindingSeverity::Critical, 0.8),
        (false, true, _) | (false, false, true) => (FindingSeverity::Warning, 0.75),
        (false, false, false) => (FindingSeverity::Info, 0.6),
    };
    let scope = if b.broad {
        "every pod or workload it matches"
    } else {
        "the resources it matches"
    };
    let summary = if blocking {
        format!(
            "Admission webhook {hook_name} ({cfg_name}) has no backend ({}), and with failurePolicy Fail the API server rejects {scope}.",
            b.problem
        )
    } else {
        format!(
            "Admission webhook {hook_name} ({cfg_name}) has no backend ({}); with failurePolicy Ignore requests pass unchecked after waiting for its timeout.",
            b.problem
        )
    };
    let kind_lc = if b.config_kind.starts_with("Validating") {
        "validatingwebhookconfiguration"
    } else {
        "mutatingwebhookconfiguration"
    };
    let mut ruled_out = vec![
        "Not a certificate problem (TLS-04): the call fails before any TLS handshake, there is nothing to connect to.".to_string(),
        "Not a policy denial: the webhook never answered, so nothing was denied (quota-or-admission-blocked covers denials).".to_string(),
    ];
    if !mine.is_empty() {
        ruled_out.push("Not the API server's egress (CP-01): the error names the missing Service/endpoints, not a timeout.".into());
    }
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: format!(
                "The API server calls Service {svc_ns}/{svc_name} for every matching request. If the webhook's software was removed on purpose, delete its leftover {} {cfg_name}; if it should run, restore its pods (then endpoints appear). To unblock the cluster meanwhile, set failurePolicy to Ignore (requests then skip the policy).",
                b.config_kind
            ),
            commands: vec![
                format!("kubectl get {kind_lc} {cfg_name} -o yaml"),
                format!("kubectl get svc,endpoints,pods -n {svc_ns}"),
                format!("kubectl delete {kind_lc} {cfg_name}   # if its software was uninstalled"),
                format!(
                    "kubectl patch {kind_lc} {cfg_name} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/webhooks/{}/failurePolicy\",\"value\":\"Ignore\"}}]'   # temporary",
                    b.index
                ),
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::set_events;
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn hook(policy: &str, resources: &[&str]) -> Value {
        json!({"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "kyverno-resource-validating-webhook-cfg"},
            "webhooks": [{"name": "validate.kyverno.svc-fail", "failurePolicy": policy,
                "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc", "path": "/validate/fail", "port": 443}},
                "rules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": resources}]}]})
    }

    fn results(cfg: Value, svcs: Vec<Value>, eps: Vec<Value>, events: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(validating(), Outcome::Objects(vec![cfg]));
        r.by_query.insert(mutating(), Outcome::Objects(vec![]));
        r.by_query.insert(services(), Outcome::Objects(svcs));
        r.by_query.insert(endpoints(), Outcome::Objects(eps));
        set_events(&mut r, &events);
        r
    }

    fn failure_event() -> Value {
        json!({"kind": "Event", "metadata": {"namespace": "shop", "name": "cart-h.1"}, "reason": "FailedCreate", "count": 12,
            "involvedObject": {"kind": "ReplicaSet", "namespace": "shop", "name": "cart-h"}, "lastTimestamp": "2026-01-15T09:59:00Z",
            "message": "Error creating: Internal error occurred: failed calling webhook \"validate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s\": service \"kyverno-svc\" not found"})
    }

    #[test]
    fn a_leftover_webhook_with_fail_policy_is_critical() {
        let f = diagnose(
            &results(
                hook("Fail", &["pods"]),
                vec![],
                vec![],
                vec![failure_event()],
            ),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(
            f.summary.contains("validate.kyverno.svc-fail"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.object == "ReplicaSet/shop/cart-h")
        );
        assert!(f.fix.commands.iter().any(|c| c == "kubectl delete validatingwebhookconfiguration kyverno-resource-validating-webhook-cfg   # if its software was uninstalled"));
    }

    #[test]
    fn a_narrow_fail_webhook_without_endpoints_is_critical_and_a_ready_backend_is_fine() {
        let svc =
            json!({"kind": "Service", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}});
        let f = diagnose(
            &results(
                hook("Fail", &["ingresses"]),
                vec![svc.clone()],
                vec![],
                vec![],
            ),
            Utc::now(),
        )
        .unwrap();
        // An Ingress-only webhook with Fail rejects every Ingress write: critical.
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence < 0.9, "no failed call was seen");
        assert!(f.summary.contains("no ready endpoints"), "{}", f.summary);
        // With Ignore, the same webhook only delays the writes.
        let f = diagnose(
            &results(
                hook("Ignore", &["ingresses"]),
                vec![svc.clone()],
                vec![],
                vec![],
            ),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        let ep = json!({"kind": "Endpoints", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}, "subsets": [{"addresses": [{"ip": "10.244.1.5"}]}]});
        assert!(
            diagnose(
                &results(hook("Fail", &["pods"]), vec![svc], vec![ep], vec![]),
                Utc::now()
            )
            .is_none()
        );
    }

    #[test]
    fn uncaptured_services_or_endpoints_prove_no_missing_backend() {
        let svc =
            json!({"kind": "Service", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}});
        let not_captured = || Outcome::Failed {
            code: 0,
            message: "not captured: the snapshot holds no endpoints".into(),
        };
        // Endpoints not captured: the Service's readiness is unknown.
        let mut r = results(hook("Fail", &["pods"]), vec![svc], vec![], vec![]);
        r.by_query.insert(endpoints(), not_captured());
        assert!(diagnose(&r, Utc::now()).is_none());
        // Services not captured: "not found" cannot be said.
        let mut r = results(hook("Fail", &["pods"]), vec![], vec![], vec![]);
        r.by_query.insert(services(), not_captured());
        r.by_query.insert(endpoints(), not_captured());
        assert!(diagnose(&r, Utc::now()).is_none());
        // An Endpoints object without addresses that was captured is evidence on its own.
        let svc =
            json!({"kind": "Service", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}});
        let ep = json!({"kind": "Endpoints", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}, "subsets": []});
        let mut r = results(hook("Fail", &["ingresses"]), vec![svc], vec![ep], vec![]);
        r.by_query.insert(events_all(), not_captured());
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
    }

    #[test]
    fn x509_failures_are_left_to_tls_04() {
        let svc =
            json!({"kind": "Service", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}});
        let ep = json!({"kind": "Endpoints", "metadata": {"namespace": "kyverno", "name": "kyverno-svc"}, "subsets": [{"addresses": [{"ip": "10.244.1.5"}]}]});
        let mut e = failure_event();
        e["message"] = json!(
            "Internal error occurred: failed calling webhook \"validate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/validate\": tls: failed to verify certificate: x509: certificate signed by unknown authority"
        );
        let f = diagnose(
            &results(hook("Fail", &["pods"]), vec![svc], vec![ep], vec![e]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("TLS-04"), "{}", f.summary);
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Error from server (InternalError): Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": connection refused",
        );
        assert_eq!(
            r.first().map(|x| x.0.id),
            Some("admission-webhook-unavailable")
        );
    }
}
