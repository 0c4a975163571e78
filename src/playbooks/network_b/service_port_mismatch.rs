//! NET-09 `service-port-mismatch`: a Service has endpoints, but its `targetPort` is not a
//! port the selected containers expose (a number no container declares, or a port name no
//! container has), so connections to the Service are refused or time out (popeye 1106).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::util::{
    MetaExt, Pod, arr, detail, endpoint_counts, ev, labels_match, name, namespace, obj, phase,
    pod_detail, pod_obj, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "service-port-mismatch",
    code: "NET-09",
    title: "Service targetPort does not match the container port",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["targetport", "containerport"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["targetport", "connection refused"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["endpoints", "connection refused"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["port-forward", "connection refused"],
            weight: 0.55,
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

/// How many pods are read whole to look for a loopback binding (their args and env are not
/// in the pod list): the judged pods of the first Services (one batch of requests).
const LOOPBACK_SAMPLE: usize = 8;

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q_services(), q_endpoints(), q_pods()];
    out.extend(
        judged_pods(r)
            .into_iter()
            .take(LOOPBACK_SAMPLE)
            .map(pod_detail),
    );
    out
}

/// The pods the Services are judged on, each once, in the Services' order.
fn judged_pods(r: &Results) -> Vec<&Pod> {
    let mut judged: Vec<&Pod> = Vec::new();
    for svc in r.objects(&q_services()) {
        if let Some(p) = judged_pod(svc, r.pods())
            && !judged.iter().any(|j| std::ptr::eq(*j, p))
        {
            judged.push(p);
        }
    }
    judged
}

/// The running pods of the Service's namespace its selector matches.
fn selected<'a>(svc: &Value, pods: &'a [Arc<Pod>]) -> Vec<&'a Pod> {
    let Some(selector) = svc.pointer("/spec/selector") else {
        return Vec::new();
    };
    pods.iter()
        .map(|p| &**p)
        .filter(|p| phase(p) == "Running")
        .filter(|p| p.metadata.namespace_str() == namespace(svc) && labels_match(selector, p))
        .collect()
}

/// The pod a Service's ports are judged on: the first selected pod that declares ports.
fn judged_pod<'a>(svc: &Value, pods: &'a [Arc<Pod>]) -> Option<&'a Pod> {
    selected(svc, pods)
        .into_iter()
        .find(|p| !container_ports(p).is_empty())
}

/// A container port: container, number, name, protocol.
struct CPort {
    container: String,
    number: i64,
    name: String,
    protocol: String,
}

fn container_ports(pod: &Pod) -> Vec<CPort> {
    let mut out = Vec::new();
    for c in &pod.spec.containers {
        for p in &c.ports {
            out.push(CPort {
                container: c.name.clone(),
                number: i64::from(p.container_port),
                name: p.name.clone().unwrap_or_default(),
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            });
        }
    }
    out
}

fn describe(ports: &[CPort]) -> String {
    ports
        .iter()
        .map(|p| {
            if p.name.is_empty() {
                format!("{}:{}/{}", p.container, p.number, p.protocol)
            } else {
                format!("{}:{}/{} ({})", p.container, p.number, p.protocol, p.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct Mismatch {
    ns: String,
    svc: String,
    svc_obj: String,
    port_index: usize,
    port_label: String,
    target: String,
    pod: String,
    declared: String,
    /// A declared port to point the Service at instead (`http` or `8080`).
    suggestion: Option<String>,
    named: bool,
    /// The port matches, but the container is told to listen on loopback (the arg or env).
    loopback: Option<String>,
}

/// An argument or environment variable that binds the container to 127.0.0.1/localhost.
fn loopback_binding(pod: &Value, container: &str) -> Option<String> {
    let is_loop = |v: &str| {
        let v = v.to_ascii_lowercase();
        v.contains("127.0.0.1") || v.contains("localhost")
    };
    let bindish = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["bind", "listen", "host", "addr"]
            .iter()
            .any(|w| k.contains(w))
    };
    for c in arr(pod, "/spec/containers")
        .iter()
        .filter(|c| s(c, "/name") == container)
    {
        let cname = s(c, "/name");
        for a in arr(c, "/args").iter().chain(arr(c, "/command")) {
            let a = a.as_str().unwrap_or_default();
            if a.starts_with("--") && bindish(a) && is_loop(a) {
                return Some(format!("{cname}: {a}"));
            }
        }
        for e in arr(c, "/env") {
            let (k, v) = (s(e, "/name"), s(e, "/value"));
            if bindish(k) && is_loop(v) {
                return Some(format!("{cname}: env {k}={v}"));
            }
        }
    }
    None
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let services = r.objects(&q_services());
    let endpoints = r.objects(&q_endpoints());
    let mut found: Vec<Mismatch> = Vec::new();
    for svc in services {
        let (ns, sname) = (namespace(svc), name(svc));
        let selected = selected(svc, r.pods());
        if selected.is_empty() {
            continue; // NET-08's case.
        }
        for (i, sp) in arr(svc, "/spec/ports").iter().enumerate() {
            let proto = sp.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let port = sp.get("port").and_then(Value::as_i64).unwrap_or(0);
            let target = sp.get("targetPort").cloned().unwrap_or(Value::from(port));
            let label = {
                let n = s(sp, "/name");
                if n.is_empty() {
                    port.to_string()
                } else {
                    n.to_string()
                }
            };
            // Judge on the first selected pod that declares ports at all.
            let Some((pod, ports)) = selected
                .iter()
                .map(|p| (*p, container_ports(p)))
                .find(|(_, ports)| !ports.is_empty())
            else {
                continue;
            };
            let same_proto: Vec<&CPort> = ports.iter().filter(|p| p.protocol == proto).collect();
            let (ok, named, tstr) = match &target {
                Value::String(n) if n.parse::<i64>().is_err() => {
                    (same_proto.iter().any(|p| &p.name == n), true, n.clone())
                }
                Value::String(n) => {
                    let num = n.parse::<i64>().unwrap_or(0);
                    (same_proto.iter().any(|p| p.number == num), false, n.clone())
                }
                other => {
                    let num = other.as_i64().unwrap_or(port);
                    (
                        same_proto.iter().any(|p| p.number == num),
                        false,
                        num.to_string(),
                    )
                }
            };
            if ok {
                let serving = same_proto
                    .iter()
                    .find(|p| match &target {
                        Value::String(n) if n.parse::<i64>().is_err() => &p.name == n,
                        Value::String(n) => n.parse::<i64>().ok() == Some(p.number),
                        other => other.as_i64().unwrap_or(port) == p.number,
                    })
                    .map(|p| p.container.clone())
                    .unwrap_or_default();
                if let Some(b) = detail(r, pod).and_then(|d| loopback_binding(d, &serving)) {
                    found.push(Mismatch {
                        ns: ns.to_string(),
                        svc: sname.to_string(),
                        svc_obj: obj(svc),
                        port_index: i,
                        port_label: label,
                        target: tstr,
                        pod: pod_obj(pod),
                        declared: describe(&ports),
                        suggestion: None,
                        named,
                        loopback: Some(b),
                    });
                }
                continue;
            }
            let suggestion = if same_proto.len() == 1 {
                let p = same_proto[0];
                Some(if p.name.is_empty() {
                    p.number.to_string()
                } else {
                    p.name.clone()
                })
            } else {
                None
            };
            found.push(Mismatch {
                ns: ns.to_string(),
                svc: sname.to_string(),
                svc_obj: obj(svc),
                port_index: i,
                port_label: label,
                target: tstr,
                pod: pod_obj(pod),
                declared: describe(&ports),
                suggestion,
                named,
                loopback: None,
            });
        }
    }
    if found.is_empty() {
        return None;
    }
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut commands = Vec::new();
    let mut parts = Vec::new();
    for m in found.iter().take(6) {
        evidence.push(ev(
            m.svc_obj.clone(),
            format!("spec.ports[{}].targetPort", m.port_label),
            m.target.clone(),
        ));
        evidence.push(ev(
            m.pod.clone(),
            "spec.containers[*].ports",
            m.declared.clone(),
        ));
        if let Some(e) = endpoints
            .iter()
            .find(|e| namespace(e) == m.ns && name(e) == m.svc)
        {
            let (ready, _) = endpoint_counts(e);
            let ports: Vec<String> = arr(e, "/subsets")
                .iter()
                .flat_map(|ss| arr(ss, "/ports"))
                .map(|p| {
                    p.get("port")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                        .to_string()
                })
                .collect();
            evidence.push(ev(
                obj(e),
                "subsets[*].ports",
                format!(
                    "{ready} ready address(es) on port(s) {}",
                    if ports.is_empty() {
                        "<none>".into()
                    } else {
                        ports.join(",")
                    }
                ),
            ));
        }
        match &m.loopback {
            Some(b) => {
                evidence.push(ev(m.pod.clone(), "spec.containers[*].args/env", b.clone()));
                parts.push(format!(
                    "Service {}/{} targets port {} correctly, but the container listens on loopback only ({b})",
                    m.ns, m.svc, m.target
                ));
            }
            None => parts.push(format!(
                "Service {}/{} sends port {} to targetPort {} but its pods only expose {}",
                m.ns, m.svc, m.port_label, m.target, m.declared
            )),
        }
        if let Some(sug) = &m.suggestion {
            let value = if sug.parse::<i64>().is_ok() {
                sug.clone()
            } else {
                format!("\"{sug}\"")
            };
            commands.push(format!(
                "kubectl patch service {} -n {} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/ports/{}/targetPort\",\"value\":{value}}}]'",
                m.svc, m.ns, m.port_index
            ));
        }
        let pod_name = m.pod.rsplit('/').next().unwrap_or_default();
        commands.push("# check what the app really listens on (0.0.0.0 vs 127.0.0.1) and test the pod directly:".to_string());
        commands.push(format!(
            "kubectl exec -n {} {pod_name} -- sh -c 'ss -ltn || netstat -ltn'",
            m.ns
        ));
        commands.push(format!(
            "kubectl port-forward -n {} pod/{pod_name} 18080:{}   # then: curl -v http://127.0.0.1:18080/",
            m.ns,
            m.suggestion
                .as_deref()
                .filter(|s| s.parse::<i64>().is_ok())
                .map(str::to_string)
                .or_else(|| {
                    m.declared
                        .split(':')
                        .nth(1)
                        .and_then(|x| x.split('/').next())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| m.target.clone())
        ));
    }
    let mut ruled_out = vec![
        "No endpoints (NET-08): the selector matches running pods and the Endpoints list their addresses.".to_string(),
        "A network policy or CNI fault: the traffic reaches the pod IP and is refused there (RST), which is the port, not the path.".into(),
    ];
    let judged = judged_pods(r);
    if judged.len() > LOOPBACK_SAMPLE {
        ruled_out.push(format!(
            "Loopback bindings were looked for on {LOOPBACK_SAMPLE} of the {} judged pods only ({}…): read the others' args with `kubectl get pod NAME -o yaml`.",
            judged.len(),
            judged
                .iter()
                .take(3)
                .map(|p| pod_obj(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let any_named = found.iter().any(|m| m.named && m.loopback.is_none());
    let only_loopback = found.iter().all(|m| m.loopback.is_some());
    Some(Finding {
        severity: FindingSeverity::Warning,
        confidence: if only_loopback {
            0.75
        } else if any_named {
            0.9
        } else {
            0.85
        },
        summary: format!(
            "{}: connections reach the pods on a port nothing listens on and are refused.",
            parts.join("; ")
        ),
        evidence,
        ruled_out,
        fix: Fix {
            explanation: format!(
                "kube-proxy forwards Service port → pod IP:targetPort. The targetPort must be a port the container listens on (declared containerPorts document it; a named targetPort must match a declared port name). Point targetPort at the container's port{}, or change the app/containerPort. If the port is right and `ss -ltn` shows 127.0.0.1:PORT, the app listens on loopback only: make it bind 0.0.0.0. After the fix, `kubectl get endpoints` shows the container port and the port-forward test answers.",
                if any_named { " name" } else { "" }
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

    fn svc(target: Value) -> Value {
        json!({"kind": "Service", "metadata": {"namespace": "shop", "name": "cart"},
            "spec": {"selector": {"app": "cart"}, "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": target}]}})
    }
    fn pod(ports: Value) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": "cart-1", "labels": {"app": "cart"}},
            "spec": {"containers": [{"name": "cart", "ports": ports}]}, "status": {"phase": "Running"}})
    }
    fn results(svcs: Vec<Value>, pods: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(q_services(), Outcome::Objects(svcs));
        r.by_query.insert(q_endpoints(), Outcome::Objects(vec![json!({"kind": "Endpoints", "metadata": {"namespace": "shop", "name": "cart"},
            "subsets": [{"addresses": [{"ip": "10.244.3.4"}], "ports": [{"name": "http", "port": 80}]}]})]));
        super::super::util::set_pods(&mut r, &pods);
        r
    }
    fn http8080() -> Value {
        json!([{"containerPort": 8080, "name": "http", "protocol": "TCP"}])
    }

    #[test]
    fn numeric_target_port_not_declared_is_a_warning_with_a_patch() {
        let f = diagnose(
            &results(vec![svc(json!(80))], vec![pod(http8080())]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("targetPort 80"), "{}", f.summary);
        assert!(f.summary.contains("cart:8080/TCP (http)"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("\"path\":\"/spec/ports/0/targetPort\",\"value\":\"http\"")),
            "{:?}",
            f.fix.commands
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.object == "Endpoints/shop/cart" && e.value.contains("port(s) 80"))
        );
    }

    #[test]
    fn a_named_target_port_must_exist() {
        let f = diagnose(
            &results(vec![svc(json!("web"))], vec![pod(http8080())]),
            Utc::now(),
        )
        .unwrap();
        assert!(f.confidence >= 0.9);
        assert!(
            diagnose(
                &results(vec![svc(json!("http"))], vec![pod(http8080())]),
                Utc::now()
            )
            .is_none()
        );
    }

    #[test]
    fn an_app_bound_to_loopback_is_found_from_its_args() {
        let mut p = pod(http8080());
        p["spec"]["containers"][0]["args"] = json!(["--listen-address=127.0.0.1:8080"]);
        let f = diagnose(&results(vec![svc(json!(8080))], vec![p]), Utc::now()).unwrap();
        assert!(
            f.summary
                .contains("loopback only (cart: --listen-address=127.0.0.1:8080)"),
            "{}",
            f.summary
        );
        assert!(f.confidence < 0.8);
        // A sidecar on loopback is not the serving container.
        let mut p = pod(http8080());
        p["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "exporter", "args": ["--web.listen-address=127.0.0.1:9100"]}));
        assert!(diagnose(&results(vec![svc(json!(8080))], vec![p]), Utc::now()).is_none());
    }

    #[test]
    fn matching_or_undeclared_ports_are_no_finding() {
        assert!(
            diagnose(
                &results(vec![svc(json!(8080))], vec![pod(http8080())]),
                Utc::now()
            )
            .is_none()
        );
        // Pods that declare no ports: nothing to compare with.
        assert!(
            diagnose(
                &results(vec![svc(json!(80))], vec![pod(json!([]))]),
                Utc::now()
            )
            .is_none()
        );
        // UDP service port against a UDP container port of the same number.
        let dns = json!({"kind": "Service", "metadata": {"namespace": "shop", "name": "cart"},
            "spec": {"selector": {"app": "cart"}, "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}]}});
        let p = pod(json!([{"containerPort": 53, "name": "dns", "protocol": "UDP"}]));
        assert!(diagnose(&results(vec![dns], vec![p]), Utc::now()).is_none());
    }
}
