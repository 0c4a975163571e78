//! CP-06 static-pod-liveness-mismatch: a control-plane static pod whose liveness probe asks
//! a port, scheme or host the component does not serve (the removed insecure ports 10251 /
//! 10252 over HTTP while the scheduler and controller-manager serve 10259 / 10257 HTTPS; a
//! probe host outside `--bind-address`). The kubelet kills a healthy component every
//! failureThreshold × periodSeconds: restartCount climbs, events say `Liveness probe failed`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{self, ev, flag, mirror_pods_query, obj, s};
use crate::playbooks::engine::q;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "static-pod-liveness-mismatch",
    code: "CP-06",
    title: "Control-plane liveness probe does not match what the component serves",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["liveness probe failed", "10252"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["liveness probe failed", "10251"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["server gave http response to https client"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["liveness probe failed", "127.0.0.1", "healthz"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["kube-controller-manager", "failed liveness probe"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["kube-scheduler", "failed liveness probe"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

fn events_query(pod: &str) -> Query {
    q::list(
        "",
        "events",
        Some("kube-system"),
        None,
        Some(&format!("involvedObject.name={pod}")),
    )
}

/// What a component serves: (port, scheme, bound host or None for all addresses).
fn served(pod: &Value) -> Vec<(i64, &'static str, Option<String>)> {
    let comp = common::component(pod);
    let port_flag = |k: &str, default: i64| {
        flag(pod, k)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(default)
    };
    let bind = flag(pod, "bind-address").filter(|b| b != "0.0.0.0" && b != "::");
    match comp {
        "kube-controller-manager" | "kube-scheduler" => {
            let secure = if comp == "kube-scheduler" {
                10259
            } else {
                10257
            };
            let mut out = vec![(port_flag("secure-port", secure), "HTTPS", bind.clone())];
            // Before 1.23 the component also served plain HTTP on its insecure port
            // (10251/10252 unless `--port` says otherwise; `--port=0` turns it off).
            let insecure_default = if comp == "kube-scheduler" {
                10251
            } else {
                10252
            };
            let serves_insecure = common::component_version(pod).is_some_and(|v| v < (1, 23));
            let insecure = flag(pod, "port")
                .and_then(|v| v.parse::<i64>().ok())
                .or(serves_insecure.then_some(insecure_default))
                .filter(|p| *p > 0);
            if let Some(p) = insecure {
                out.push((p, "HTTP", flag(pod, "address").filter(|a| a != "0.0.0.0")));
            }
            out
        }
        "kube-apiserver" => vec![(port_flag("secure-port", 6443), "HTTPS", bind)],
        "etcd" => {
            let mut out = Vec::new();
            for key in ["listen-metrics-urls", "listen-client-urls"] {
                for url in flag(pod, key).unwrap_or_default().split(',') {
                    let scheme = if url.starts_with("https://") {
                        "HTTPS"
                    } else if url.starts_with("http://") {
                        "HTTP"
                    } else {
                        continue;
                    };
                    let host = common::host_of(url).to_string();
                    let port = url
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.trim_end_matches('/').parse().ok())
                        .unwrap_or(0);
                    out.push((port, scheme, Some(host).filter(|h| h != "0.0.0.0")));
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The probe's target: host, port (numbers only), scheme.
fn probe_target(probe: &Value, pod: &Value) -> Option<(String, i64, String, String)> {
    let get = probe.get("httpGet")?;
    let port = get.get("port").and_then(Value::as_i64)?;
    let host = match s(get, "/host") {
        "" => s(pod, "/status/podIP").to_string(),
        h => h.to_string(),
    };
    let scheme = match s(get, "/scheme") {
        "" => "HTTP".to_string(),
        x => x.to_ascii_uppercase(),
    };
    Some((host, port, scheme, s(get, "/path").to_string()))
}

/// Why the probe cannot succeed, or None when it matches something the component serves.
fn mismatch(pod: &Value, host: &str, port: i64, scheme: &str) -> Option<String> {
    let serves = served(pod);
    if serves.is_empty() {
        return None;
    }
    let comp = common::component(pod);
    let list = serves
        .iter()
        .map(|(p, sch, h)| format!("{} on {}:{p}", sch, h.as_deref().unwrap_or("all addresses")))
        .collect::<Vec<_>>()
        .join(", ");
    let same_port: Vec<&(i64, &str, Option<String>)> =
        serves.iter().filter(|(p, _, _)| *p == port).collect();
    if same_port.is_empty() {
        let old = common::component_version(pod).filter(|v| *v < (1, 23));
        let removed = match (comp, port, old) {
            ("kube-controller-manager", 10252, None) | ("kube-scheduler", 10251, None) => {
                format!(" ({port} is the insecure port removed in Kubernetes 1.23)")
            }
            ("kube-controller-manager", 10252, Some(_)) | ("kube-scheduler", 10251, Some(_)) => {
                format!(" (the insecure port {port} is turned off with --port=0)")
            }
            _ => String::new(),
        };
        return Some(format!(
            "probes {scheme} port {port}{removed}, but {comp} serves {list}"
        ));
    }
    if !same_port.iter().any(|(_, sch, _)| *sch == scheme) {
        return Some(format!(
            "probes port {port} with {scheme}, but {comp} serves {list}"
        ));
    }
    let host_ok = same_port.iter().any(|(_, sch, h)| {
        *sch == scheme
            && match h.as_deref() {
                None => true,
                Some(b) => b == host || (b == "127.0.0.1" && host == "localhost"),
            }
    });
    if !host_ok {
        return Some(format!("probes host {host}, but {comp} binds only {list}"));
    }
    None
}

fn queries(results: &Results) -> Vec<Query> {
    let mut out = vec![mirror_pods_query()];
    for p in common::mirror_pods(results) {
        if common::restarts(p) > 0 || probe_problem(p).is_some() {
            out.push(events_query(common::name(p)));
        }
    }
    out
}

/// The first probe of the main container that cannot succeed: (probe kind, target, why).
fn probe_problem(pod: &Value) -> Option<(&'static str, String, String)> {
    let c = common::main_container(pod)?;
    for kind in ["livenessProbe", "startupProbe", "readinessProbe"] {
        let Some(probe) = c.get(kind) else {
            continue;
        };
        let Some((host, port, scheme, path)) = probe_target(probe, pod) else {
            continue;
        };
        if let Some(why) = mismatch(pod, &host, port, &scheme) {
            let url = format!("{}://{host}:{port}{path}", scheme.to_ascii_lowercase());
            return Some((kind, url, why));
        }
    }
    None
}

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let pods = common::mirror_pods(results);
    let mut evidence = Vec::new();
    let mut broken: Vec<(&Value, String, String)> = Vec::new();
    let mut failing_events = 0i64;
    for p in pods {
        let Some((kind, url, why)) = probe_problem(p) else {
            continue;
        };
        let comp = common::component(p);
        let restarts = common::restarts(p);
        evidence.push(ev(
            obj(p),
            format!("spec.containers[{comp}].{kind}.httpGet"),
            format!("{url} — {why}"),
        ));
        evidence.push(ev(
            obj(p),
            format!("status.containerStatuses[{comp}].restartCount"),
            restarts.to_string(),
        ));
        let events = results.objects(&events_query(common::name(p)));
        for reason in ["Unhealthy", "Killing"] {
            if let Some(e) = events
                .iter()
                .filter(|e| s(e, "/reason") == reason)
                .filter(|e| {
                    let m = s(e, "/message");
                    m.contains("Liveness probe failed") || m.contains("failed liveness probe")
                })
                .max_by_key(|e| e.get("count").and_then(Value::as_i64).unwrap_or(1))
            {
                let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
                failing_events += count;
                evidence.push(ev(obj(e), format!("{reason} ×{count}"), s(e, "/message")));
            }
        }
        if restarts > 0 {
            failing_events += 1;
        }
        broken.push((p, url, why));
    }
    if broken.is_empty() {
        return None;
    }
    let (severity, confidence) = if failing_events > 0 {
        (FindingSeverity::Critical, 0.97)
    } else {
        (FindingSeverity::Warning, 0.6)
    };
    let names: Vec<&str> = broken.iter().map(|(p, _, _)| common::name(p)).collect();
    let summary = format!(
        "The liveness probe of {} asks for something the component does not serve ({}): the kubelet kills {} again and again{}.",
        names.join(", "),
        broken
            .first()
            .map(|(_, url, why)| format!("{url}: {why}"))
            .unwrap_or_default(),
        if broken.len() > 1 {
            "components"
        } else {
            "component"
        },
        if failing_events > 0 {
            " — restarts and Liveness probe failures confirm it"
        } else {
            " once the probe's failure threshold is reached"
        }
    );
    let mut commands = Vec::new();
    for (p, _, _) in &broken {
        let comp = common::component(p);
        let node = common::node_of(p);
        let (port, scheme) = served(p)
            .first()
            .map(|(port, sch, _)| (*port, *sch))
            .unwrap_or((0, "HTTPS"));
        commands.push(format!(
            "kubectl get events -n kube-system --field-selector involvedObject.name={}",
            common::name(p)
        ));
        commands.push(format!(
            "# on {node}: compare the probe with the component's serving flags"
        ));
        commands.push(format!(
            "sudo grep -n -E 'port|scheme|host|bind-address' /etc/kubernetes/manifests/{comp}.yaml"
        ));
        commands.push(format!(
            "# on {node}: point the probes at {scheme} {port} (what {comp} serves); the kubelet recreates the pod"
        ));
        if port > 0 {
            commands.push(format!(
                "sudo sed -i -E -e 's/^( *port: )(10251|10252)$/\\1{port}/' -e 's/^( *scheme: )HTTP$/\\1{scheme}/' /etc/kubernetes/manifests/{comp}.yaml"
            ));
        }
        commands.push(format!(
            "# on {node}: check the endpoint the probe should use answers: curl -sk {}://127.0.0.1:{port}/healthz  →  ok",
            scheme.to_ascii_lowercase()
        ));
    }
    commands.push(
        "# better: regenerate the manifests from the cluster's kubeadm config instead of an old copy: sudo kubeadm init phase control-plane all --config kubeadm.yaml".into(),
    );
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not a crashing component (WL-01): the probe targets a port/scheme/host the container's own flags never open, so it fails even while the component works.".into(),
            "Not an overloaded node: `connection refused` is an immediate answer from the kernel — nothing listens there; a slow component would time out instead.".into(),
            "Not leader election (CP-04): killing a standby does not touch the lease; the restarts follow the probe's failureThreshold × periodSeconds rhythm.".into(),
        ],
        fix: Fix {
            explanation: "Since Kubernetes 1.22/1.23 kube-controller-manager and kube-scheduler no longer serve the insecure ports 10252/10251; they serve /healthz over HTTPS on 10257/10259 (bound to --bind-address, 127.0.0.1 in kubeadm). A manifest copied from an older cluster or guide still probes the old port over HTTP. Fix the probe's port and scheme (and host, if --bind-address is not 127.0.0.1) in /etc/kubernetes/manifests on the node; the kubelet recreates the mirror pod by itself. `curl -sk https://127.0.0.1:10257/healthz` on the node must print `ok`; afterwards restartCount stays put.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {

    fn scheduler(image: &str, extra: &[&str]) -> Value {
        let mut command = vec!["kube-scheduler".to_string()];
        command.extend(extra.iter().map(|s| s.to_string()));
        serde_json::json!({
            "metadata": {"name": "kube-scheduler-m1", "namespace": "kube-system",
                         "labels": {"k8s-app": "kube-scheduler"}},
            "spec": {"containers": [{"name": "kube-scheduler", "image": image, "command": command,
                "livenessProbe": {"httpGet": {"host": "127.0.0.1", "port": 10251, "path": "/healthz"}}}]}
        })
    }

    #[test]
    fn the_insecure_port_is_judged_by_the_schedulers_own_version() {
        // A v1.7 scheduler serves 10251 over HTTP: its probe is right.
        assert!(probe_problem(&scheduler("k8s.gcr.io/kube-scheduler-amd64:v1.7.5", &[])).is_none());
        // The same release with the insecure port turned off: the probe cannot succeed,
        // and the reason is the flag, not a removal that had not happened yet.
        let off = probe_problem(&scheduler(
            "k8s.gcr.io/kube-scheduler:v1.19.3",
            &["--port=0"],
        ))
        .expect("a mismatch");
        assert!(off.2.contains("--port=0"), "{}", off.2);
        // A current (or untagged) scheduler no longer has the port at all.
        let new = probe_problem(&scheduler("registry.k8s.io/kube-scheduler:v1.30.1", &[]))
            .expect("a mismatch");
        assert!(new.2.contains("removed in Kubernetes 1.23"), "{}", new.2);
        assert!(probe_problem(&scheduler("k8s.gcr.io/kube-scheduler", &[])).is_some());
    }

    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn kcm(port: i64, scheme: &str, restarts: i64) -> Value {
        json!({"kind": "Pod", "metadata": {"name": "kube-controller-manager-cp-2", "namespace": "kube-system", "labels": {"component": "kube-controller-manager", "tier": "control-plane"}},
            "spec": {"nodeName": "cp-2", "containers": [{"name": "kube-controller-manager", "command": ["kube-controller-manager", "--bind-address=127.0.0.1"],
                "livenessProbe": {"httpGet": {"host": "127.0.0.1", "path": "/healthz", "port": port, "scheme": scheme}, "failureThreshold": 8, "periodSeconds": 10}}]},
            "status": {"containerStatuses": [{"name": "kube-controller-manager", "restartCount": restarts}]}})
    }

    fn results(pod: Value, events: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query
            .insert(mirror_pods_query(), Outcome::Objects(vec![pod]));
        r.by_query.insert(
            events_query("kube-controller-manager-cp-2"),
            Outcome::Objects(events),
        );
        r
    }

    fn unhealthy() -> Value {
        json!({"kind": "Event", "metadata": {"name": "kube-controller-manager-cp-2.1", "namespace": "kube-system"}, "reason": "Unhealthy", "count": 41,
            "message": "Liveness probe failed: Get \"http://127.0.0.1:10252/healthz\": dial tcp 127.0.0.1:10252: connect: connection refused"})
    }

    #[test]
    fn removed_insecure_port_with_failures_is_critical() {
        let f = diagnose(
            &results(kcm(10252, "HTTP", 6), vec![unhealthy()]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("10252"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("insecure port removed"))
        );
        assert!(f.evidence.iter().any(|e| e.field == "Unhealthy ×41"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("# on cp-2") && c.contains("HTTPS 10257"))
        );
    }

    #[test]
    fn https_on_the_secure_port_is_fine() {
        assert!(diagnose(&results(kcm(10257, "HTTPS", 0), vec![]), Utc::now()).is_none());
    }

    #[test]
    fn http_on_the_secure_port_is_a_scheme_mismatch() {
        let f = diagnose(&results(kcm(10257, "HTTP", 0), vec![]), Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.evidence[0].value.contains("with HTTP"));
    }

    #[test]
    fn seed_text_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Liveness probe failed: Get http://127.0.0.1:10252/healthz: dial tcp 127.0.0.1:10252: connect: connection refused",
        );
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(PLAYBOOK.id));
    }
}
