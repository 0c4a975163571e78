//! WL-05 `running-not-ready`: pods `Running` whose containers never turn Ready (`0/1
//! Running`) because their readiness probe fails. The kubelet's `Unhealthy` events quote the
//! probe's error, which tells the class: `connection refused` (nothing listens on the probe
//! port: wrong port, or the app binds 127.0.0.1), a 404 (wrong path), a 5xx (the app reports
//! itself not ready), a timeout (timeoutSeconds too tight), an HTTP answer to an HTTPS probe
//! (wrong scheme). The Service without ready endpoints is the consequence and is shown as such.
//! Add-ons (kube-system, CNI, ingress namespaces) are left to their own playbooks: an unready
//! calico-node is NET-06, an unready CoreDNS NET-12.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    all_ready, container_statuses, ev, event_count, events_all, events_for, human,
    is_addon_namespace, name, name_of, namespace, ns_of, pod_detail, pod_get, pod_ref, pods_all,
    running_since, s, secs_since, st, workload_arg,
};
use crate::cluster::lean::{ContainerStatus, Event, Pod};
use crate::playbooks::engine::q;
use crate::playbooks::util::arr;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "running-not-ready",
    code: "WL-05",
    title: "Pod running but never ready",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["readiness probe failed"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["0/1", "running"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["containers with unready status"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

/// A container must have been running this long before "not ready" counts.
const GRACE_SECS: i64 = 60;

fn endpoints_all() -> Query {
    q::core("endpoints", None)
}

/// At most this many suspect pods are read in full (their probes and ports).
const MAX_SUSPECTS: usize = 10;

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), events_all(), endpoints_all()];
    for (p, _, _) in suspects(r.pods(), r.events()) {
        let q = pod_get(ns_of(p), name_of(p));
        if !out.contains(&q) && out.len() < 3 + MAX_SUSPECTS {
            out.push(q);
        }
    }
    out
}

/// Containers of running application pods that run but are not ready, with the pod's
/// latest readiness-probe failure event: those whose failing probe the kubelet reported
/// first. Their probes are judged on the pods read in full ([`unready`]).
fn suspects<'a>(
    pods: &'a [Arc<Pod>],
    events: &'a [Arc<Event>],
) -> Vec<(&'a Pod, &'a ContainerStatus, Option<&'a Event>)> {
    let mut out: Vec<(&Pod, &ContainerStatus, Option<&Event>)> = pods
        .iter()
        .map(|p| &**p)
        .filter(|p| {
            st(&p.status.phase) == "Running"
                && p.metadata.deletion_timestamp.is_none()
                && !is_addon_namespace(ns_of(*p))
        })
        .flat_map(|p| {
            container_statuses(p)
                .iter()
                .filter(|cs| !cs.ready && running_since(cs).is_some())
                .map(move |cs| {
                    let e = events_for(events, "Pod", ns_of(p), name_of(p))
                        .into_iter()
                        .find(|e| {
                            st(&e.reason) == "Unhealthy"
                                && st(&e.message).starts_with("Readiness probe failed")
                        });
                    (p, cs, e)
                })
        })
        .collect();
    out.sort_by_key(|x| x.2.is_none());
    out
}

/// The container spec named `c` in a pod read in full.
fn container_spec<'a>(pod: &'a Value, c: &str) -> Option<&'a Value> {
    ["/spec/containers", "/spec/initContainers"]
        .iter()
        .flat_map(|p| arr(pod, p))
        .find(|x| s(x, "/name") == c)
}

/// Whether the suspect has a readiness probe and has run unready past its grace (and the
/// probe's initial delay), judged on its pod read in full.
fn unready(full: &Value, cs: &ContainerStatus, now: DateTime<Utc>) -> bool {
    let Some(ctr) = container_spec(full, &cs.name) else {
        return false;
    };
    let delay = ctr
        .pointer("/readinessProbe/initialDelaySeconds")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    secs_since(running_since(cs), now).is_some_and(|a| a > GRACE_SECS + delay)
        && ctr.get("readinessProbe").is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeCause {
    Refused,
    NotFound,
    AppUnready,
    Timeout,
    Scheme,
    Other,
}

fn classify(msg: &str) -> ProbeCause {
    let m = msg.to_lowercase();
    if m.contains("connection refused") {
        ProbeCause::Refused
    } else if m.contains("statuscode: 404") {
        ProbeCause::NotFound
    } else if m.contains("statuscode: 5") {
        ProbeCause::AppUnready
    } else if m.contains("context deadline exceeded") || m.contains("timeout") {
        ProbeCause::Timeout
    } else if m.contains("http response to https client")
        || m.contains("first record does not look like a tls handshake")
    {
        ProbeCause::Scheme
    } else {
        ProbeCause::Other
    }
}

/// The probe's target port as written, and whether the container declares it.
fn probe_port(ctr: &Value) -> Option<(String, bool)> {
    let probe = ctr.get("readinessProbe")?;
    let port = ["/httpGet/port", "/tcpSocket/port", "/grpc/port"]
        .iter()
        .find_map(|p| probe.pointer(p))?;
    let ports = ctr.get("ports").and_then(Value::as_array);
    let declared = ports.into_iter().flatten().any(|cp| match port {
        Value::Number(n) => cp.get("containerPort").and_then(Value::as_i64) == n.as_i64(),
        Value::String(name) => {
            s(cp, "/name") == name
                || name.parse::<i64>().ok() == cp.get("containerPort").and_then(Value::as_i64)
        }
        _ => false,
    });
    let shown = match port {
        Value::String(x) => x.clone(),
        other => other.to_string(),
    };
    Some((shown, declared))
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let (pod, cs, event, full) =
        suspects(pods, r.events())
            .into_iter()
            .find_map(|(p, cs, e)| {
                let full = pod_detail(r, ns_of(p), name_of(p))?;
                unready(full, cs, now).then_some((p, cs, e, full))
            })?;
    let (ns, pod_name, cname) = (ns_of(pod), name_of(pod), cs.name.as_str());
    let pref = pod_ref(ns, pod_name);
    let ctr = container_spec(full, cname)?;
    let probe = ctr.get("readinessProbe")?;
    let running_for = secs_since(running_since(cs), now).unwrap_or(0);
    let mut evidence: Vec<Evidence> = vec![
        ev(
            &pref,
            format!("status.containerStatuses[{cname}]"),
            format!(
                "running for {}, ready=false, restartCount={}",
                human(running_for),
                cs.restart_count
            ),
        ),
        ev(
            &pref,
            format!("spec.containers[{cname}].readinessProbe"),
            probe.to_string(),
        ),
    ];
    let message = event
        .map(|e| st(&e.message).to_string())
        .unwrap_or_default();
    if let Some(e) = event {
        evidence.push(ev(
            format!("Event/{ns}/{}", name_of(e)),
            "Unhealthy",
            format!("{} (x{})", st(&e.message), event_count(e)),
        ));
    }
    let port = probe_port(ctr);
    let declared: Vec<String> = ctr
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let n = s(p, "/name");
            let num = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
            if n.is_empty() {
                num.to_string()
            } else {
                format!("{n} {num}")
            }
        })
        .collect();
    if let Some((p, false)) = &port {
        evidence.push(ev(
            &pref,
            format!("spec.containers[{cname}].ports"),
            format!(
                "probe port {p} is not a declared port ({})",
                if declared.is_empty() {
                    "none".into()
                } else {
                    declared.join(", ")
                }
            ),
        ));
    }
    let wl = workload_arg(pod);
    let siblings: Vec<&Pod> = pods
        .iter()
        .map(|p| &**p)
        .filter(|p| ns_of(*p) == ns && workload_arg(p) == wl)
        .collect();
    let ready = siblings.iter().filter(|p| all_ready(p, true)).count();
    evidence.push(ev(
        format!("{wl} in {ns}"),
        "ready pods",
        format!("{ready}/{}", siblings.len()),
    ));
    // The consequence on the Service side.
    let services: Vec<String> = r
        .objects(&endpoints_all())
        .iter()
        .filter(|e| namespace(e) == ns)
        .filter(|e| {
            e.get("subsets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|sub| {
                    sub.get("notReadyAddresses")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .any(|a| s(a, "/targetRef/name") == pod_name)
                })
        })
        .map(|e| name(e).to_string())
        .collect();
    for svc in &services {
        evidence.push(ev(
            format!("Endpoints/{ns}/{svc}"),
            "subsets[].notReadyAddresses",
            format!("{pod_name} is listed as not ready (consequence: the Service does not send it traffic)"),
        ));
    }
    let cause = classify(&message);
    let port_txt = port.as_ref().map(|p| p.0.clone()).unwrap_or_default();
    let path = s(probe, "/httpGet/path");
    let mut ruled_out = vec![
        "Not a crash: the container is running (no CrashLoopBackOff, see crashloop for that)."
            .to_string(),
    ];
    if !services.is_empty() {
        ruled_out.push(format!(
            "Not a Service selector problem: Service {} selects the pod, but lists it under notReadyAddresses because the pod is not ready.",
            services.join(", ")
        ));
    }
    let port_mismatch = matches!(port, Some((_, false)));
    let (summary, explanation, confidence) = match cause {
        ProbeCause::Refused if port_mismatch => (
            format!("The readiness probe of {ns}/{pod_name} ({cname}) targets port {port_txt}, which the container does not serve (connection refused): the pod runs but never turns Ready."),
            format!("The probe connects to port {port_txt}, but the container declares {} and nothing listens on {port_txt}. Point the probe at the port the application serves.", declared.join(", ")),
            0.96,
        ),
        ProbeCause::Refused => (
            format!("The readiness probe of {ns}/{pod_name} ({cname}) gets connection refused on port {port_txt}: nothing listens there on the pod IP."),
            format!("Port {port_txt} is declared but refused on the pod IP: the application listens on another port or only on 127.0.0.1. Make it listen on 0.0.0.0:{port_txt} or probe the right port."),
            0.9,
        ),
        ProbeCause::NotFound => (
            format!("The readiness probe of {ns}/{pod_name} ({cname}) asks for path {path}, which the application answers with 404."),
            format!("The application has no handler at {path}. Use the path it serves for readiness."),
            0.92,
        ),
        ProbeCause::AppUnready => (
            format!("{ns}/{pod_name} ({cname}) reports itself not ready: its readiness endpoint {path} answers 5xx."),
            "The probe reaches the application, which says it is not ready (usually a dependency it checks: database, cache, another service). Read its log for the failing dependency.".into(),
            0.85,
        ),
        ProbeCause::Timeout => (
            format!("The readiness probe of {ns}/{pod_name} ({cname}) times out after {}s.", probe.get("timeoutSeconds").and_then(Value::as_i64).unwrap_or(1)),
            "The endpoint answers too slowly for timeoutSeconds (1 s by default): raise timeoutSeconds, or make the readiness handler cheap.".into(),
            0.85,
        ),
        ProbeCause::Scheme => (
            format!("The readiness probe of {ns}/{pod_name} ({cname}) uses the wrong scheme for port {port_txt}."),
            "An HTTPS probe against an HTTP listener (or the reverse) fails the TLS handshake: set scheme to what the port serves.".into(),
            0.9,
        ),
        ProbeCause::Other => (
            format!("{ns}/{pod_name} ({cname}) has been running for {} but its readiness probe never succeeds.", human(running_for)),
            "The readiness probe keeps failing; `kubectl describe pod` shows the kubelet's probe errors.".into(),
            if event.is_some() { 0.8 } else { 0.65 },
        ),
    };
    if cause != ProbeCause::AppUnready && cause != ProbeCause::Other {
        ruled_out.push("Not the application reporting itself unready: the probe never got an application answer.".into());
    }
    let severity = if ready == 0 {
        FindingSeverity::Critical
    } else {
        FindingSeverity::Warning
    };
    let idx = full
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().position(|c| s(c, "/name") == cname))
        .unwrap_or(0);
    let patch = match (&port, cause) {
        (Some((_, false)), ProbeCause::Refused) => {
            let target = ctr
                .get("ports")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .map(|p| match s(p, "/name") {
                    "" => p
                        .get("containerPort")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                        .to_string(),
                    n => format!("\"{n}\""),
                })
                .unwrap_or_else(|| "<port>".into());
            let kind = if probe.get("httpGet").is_some() {
                "httpGet"
            } else {
                "tcpSocket"
            };
            format!(
                "kubectl -n {ns} patch {wl} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/{idx}/readinessProbe/{kind}/port\",\"value\":{target}}}]'"
            )
        }
        _ => format!(
            "kubectl -n {ns} edit {wl}   # fix spec.template.spec.containers[{cname}].readinessProbe"
        ),
    };
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation,
            commands: vec![
                format!("kubectl describe pod -n {ns} {pod_name} | grep -A3 Readiness"),
                format!(
                    "kubectl -n {ns} port-forward pod/{pod_name} 18080:{}   # then: curl -v http://127.0.0.1:18080{}",
                    if port_txt.is_empty() {
                        "<port>".into()
                    } else {
                        port_txt.clone()
                    },
                    if path.is_empty() { "/" } else { path }
                ),
                patch,
                format!("kubectl -n {ns} rollout status {wl}"),
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{answer_gets, lean_results};
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::common::parse_time("2026-01-15T10:00:00Z").unwrap_or_default()
    }

    fn pod(name: &str, ready: bool, probe_port: Value) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": name, "labels": {"pod-template-hash": "h"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "reviews-h", "controller": true}]},
            "spec": {"containers": [{"name": "reviews", "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": probe_port, "scheme": "HTTP"}, "initialDelaySeconds": 5, "timeoutSeconds": 1}}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "reviews", "ready": ready, "restartCount": 0,
                "state": {"running": {"startedAt": "2026-01-15T09:40:00Z"}}}]}})
    }

    fn results(pods: Vec<Value>, msg: Option<&str>) -> Results {
        let mut events = Vec::new();
        if let Some(m) = msg {
            events.push(json!({"kind": "Event", "metadata": {"namespace": "shop", "name": "e"}, "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "reviews-h-1"},
                "reason": "Unhealthy", "type": "Warning", "count": 120, "message": m, "lastTimestamp": "2026-01-15T09:59:50Z"}));
        }
        let ep = json!({"kind": "Endpoints", "metadata": {"namespace": "shop", "name": "reviews"}, "subsets": [{"notReadyAddresses": [{"ip": "10.244.3.5", "targetRef": {"kind": "Pod", "name": "reviews-h-1"}}]}]});
        let mut r = lean_results(&pods, &events);
        r.by_query
            .insert(endpoints_all(), Outcome::Objects(vec![ep]));
        // The second round: the suspects in full.
        let next = queries(&r);
        answer_gets(&mut r, next, &pods);
        r
    }

    #[test]
    fn a_probe_on_an_undeclared_port_is_decisive_and_the_service_is_secondary() {
        let msg = "Readiness probe failed: Get \"http://10.244.3.5:8081/ready\": dial tcp 10.244.3.5:8081: connect: connection refused";
        let f = diagnose(
            &results(vec![pod("reviews-h-1", false, json!(8081))], Some(msg)),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.95);
        assert!(f.summary.contains("port 8081"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.object == "Endpoints/shop/reviews")
        );
        assert!(
            f.ruled_out
                .iter()
                .any(|r| r.contains("Not a Service selector problem"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("readinessProbe/httpGet/port\",\"value\":\"http\"")),
            "{:#?}",
            f.fix.commands
        );
    }

    #[test]
    fn a_404_names_the_path_and_a_ready_sibling_makes_it_a_warning() {
        let msg = "Readiness probe failed: HTTP probe failed with statuscode: 404";
        let f = diagnose(
            &results(
                vec![
                    pod("reviews-h-1", false, json!("http")),
                    pod("reviews-h-2", true, json!("http")),
                ],
                Some(msg),
            ),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.summary.contains("/ready") && f.summary.contains("404"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn unready_addons_are_left_to_their_playbooks() {
        let mut p = pod("reviews-h-1", false, json!(8080));
        p["metadata"]["namespace"] = json!("kube-system");
        assert!(diagnose(&results(vec![p], Some("Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.21")), now()).is_none());
    }

    #[test]
    fn ready_pods_and_fresh_starts_are_fine() {
        assert!(
            diagnose(
                &results(vec![pod("reviews-h-1", true, json!(8080))], None),
                now()
            )
            .is_none()
        );
        let mut fresh = pod("reviews-h-1", false, json!(8080));
        fresh["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] =
            json!("2026-01-15T09:59:40Z");
        assert!(diagnose(&results(vec![fresh], None), now()).is_none());
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 503",
        );
        assert_eq!(r.first().map(|x| x.0.id), Some("running-not-ready"));
    }
}
