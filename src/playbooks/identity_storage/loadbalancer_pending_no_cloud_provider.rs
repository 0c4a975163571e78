//! CL-01 `loadbalancer-pending-no-cloud-provider`: a Service of type LoadBalancer shows
//! `EXTERNAL-IP <pending>` forever because nothing implements LoadBalancers here:
//! kube-controller-manager runs without `--cloud-provider` (its log: `no cloud provider
//! provided, services of type LoadBalancer will fail`), no cloud-controller-manager runs,
//! nodes have no `spec.providerID`, and no bare-metal implementation (MetalLB, kube-vip…)
//! is installed.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    MetaExt, Pod, age_secs, arr, ev, event_ref, event_text, events_for, flag, flags, human, name,
    namespace, running, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "loadbalancer-pending-no-cloud-provider",
    code: "CL-01",
    title: "LoadBalancer Service stays <pending>: no cloud provider or LB implementation",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["external-ip", "<pending>"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["loadbalancer", "pending"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["no cloud provider provided"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["cloud-provider"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["cannot create cloud load balancer"],
            weight: 0.9,
        },
    ],
    queries,
    diagnose,
};

/// Pod name fragments of LoadBalancer implementations and cloud controller managers.
const LB_IMPLEMENTATIONS: &[&str] = &[
    "metallb",
    "kube-vip",
    "openelb",
    "purelb",
    "svclb-",
    "porter-manager",
    "loxilb",
];

fn services() -> Query {
    q::core("services", None)
}
fn kcm() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-controller-manager"),
        None,
    )
}
fn pods() -> Query {
    q::watched(Watched::Pods)
}
fn events() -> Query {
    q::watched(Watched::Events)
}
fn kcm_log(pod: &str) -> Query {
    q::logs(
        "kube-system",
        pod,
        Some("kube-controller-manager"),
        false,
        Some(500),
    )
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![services(), kcm(), pods(), q::nodes(), events()];
    out.extend(r.objects(&kcm()).iter().map(|p| kcm_log(name(p))));
    out
}

fn pending_lbs(r: &Results, now: DateTime<Utc>) -> Vec<&Value> {
    r.objects(&services())
        .iter()
        .filter(|svc| {
            s(svc, "/spec/type") == "LoadBalancer"
                && arr(svc, "/status/loadBalancer/ingress").is_empty()
                && s(svc, "/spec/loadBalancerClass").is_empty()
                && age_secs(svc, now) > 120
        })
        .collect()
}

fn running_named<'a>(r: &'a Results, frags: &[&str]) -> Vec<&'a Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| running(p) && frags.iter().any(|f| p.metadata.name_str().contains(f)))
        .collect()
}

pub(crate) fn ccm_pods(r: &Results) -> Vec<&Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| {
            p.metadata.name_str().contains("cloud-controller-manager")
                || p.label("component") == Some("cloud-controller-manager")
                || p.label("k8s-app")
                    .is_some_and(|a| a.contains("cloud-controller-manager"))
        })
        .collect()
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let lbs = pending_lbs(r, now);
    if lbs.is_empty() {
        return None;
    }
    if !running_named(r, LB_IMPLEMENTATIONS).is_empty() {
        return None; // a bare-metal implementation is installed: a different problem
    }
    let kcm_pod = r.objects(&kcm()).first();
    let cmd = kcm_pod.map(flags).unwrap_or_default();
    let cloud = flag(&cmd, "--cloud-provider").map(str::to_string);
    if let Some(c) = &cloud
        && c != "external"
    {
        return None; // an in-tree provider is configured: its errors are a different case
    }
    let ccm = ccm_pods(r);
    let ccm_running = ccm.iter().any(|p| running(p));
    if ccm_running {
        return None;
    }
    let mut evidence: Vec<Evidence> = Vec::new();
    for svc in &lbs {
        let ports: Vec<String> = arr(svc, "/spec/ports")
            .iter()
            .map(|p| {
                format!(
                    "{}:{}/{}",
                    p.get("port").cloned().unwrap_or_default(),
                    p.get("nodePort").cloned().unwrap_or_default(),
                    s(p, "/protocol")
                )
            })
            .collect();
        evidence.push(ev(
            format!("Service/{}/{}", namespace(svc), name(svc)),
            "status.loadBalancer.ingress",
            format!(
                "empty (EXTERNAL-IP <pending>) for {}; ports {}",
                human(age_secs(svc, now)),
                ports.join(", ")
            ),
        ));
        let evs = events_for(r.events(), "Service", Some(namespace(svc)), name(svc));
        match evs.iter().find(|e| {
            e.reason
                .as_deref()
                .is_some_and(|r| r.contains("LoadBalancer"))
        }) {
            Some(e) => evidence.push(ev(
                event_ref(e),
                format!("Service/{}/{} event", namespace(svc), name(svc)),
                event_text(e),
            )),
            None => evidence.push(ev(
                format!("Service/{}/{}", namespace(svc), name(svc)),
                "events",
                "no EnsuringLoadBalancer event: no service controller ever picked it up",
            )),
        }
    }
    if let Some(p) = kcm_pod {
        evidence.push(ev(
            format!("Pod/kube-system/{}", name(p)),
            "spec.containers[kube-controller-manager].command",
            match &cloud {
                None => {
                    "no --cloud-provider flag: the service-lb-controller does not run".to_string()
                }
                Some(c) => format!(
                    "--cloud-provider={c}: LoadBalancers are left to a cloud-controller-manager"
                ),
            },
        ));
    }
    let mut log_seen = false;
    for p in r.objects(&kcm()) {
        if let Some(text) = r.text(&kcm_log(name(p)))
            && let Some(line) = text.lines().find(|l| {
                l.contains("no cloud provider provided")
                    || (l.contains("Skipping a cloud provider controller")
                        && l.contains("service-lb"))
            })
        {
            evidence.push(ev(
                format!("Pod/kube-system/{}", name(p)),
                "log[kube-controller-manager]",
                line.trim(),
            ));
            log_seen = true;
            break;
        }
    }
    evidence.push(ev(
        "Pods",
        "cloud-controller-manager",
        if ccm.is_empty() {
            "none in any namespace".to_string()
        } else {
            format!(
                "{} not running",
                ccm.iter()
                    .map(|p| p.metadata.name_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    ));
    evidence.push(ev(
        "Pods",
        "LoadBalancer implementations (MetalLB, kube-vip, OpenELB…)",
        "none running",
    ));
    let node_objs = r.objects(&q::nodes());
    let no_provider = node_objs
        .iter()
        .filter(|n| s(n, "/spec/providerID").is_empty())
        .count();
    if !node_objs.is_empty() {
        evidence.push(ev(
            "Nodes",
            "spec.providerID",
            format!(
                "empty on {no_provider} of {} nodes: no cloud ever initialised them",
                node_objs.len()
            ),
        ));
    }
    let ips: Vec<&str> = node_objs
        .iter()
        .filter_map(|n| {
            arr(n, "/status/addresses")
                .iter()
                .find(|a| s(a, "/type") == "InternalIP")
                .map(|a| s(a, "/address"))
        })
        .collect();
    let prefix = ips
        .first()
        .and_then(|ip| ip.rsplit_once('.'))
        .map(|(p, _)| p.to_string())
        .unwrap_or_else(|| "192.168.1".into());
    let worker_ip = node_objs
        .iter()
        .find(|n| {
            n.pointer("/metadata/labels/node-role.kubernetes.io~1control-plane")
                .is_none()
        })
        .and_then(|n| {
            arr(n, "/status/addresses")
                .iter()
                .find(|a| s(a, "/type") == "InternalIP")
                .map(|a| s(a, "/address").to_string())
        })
        .unwrap_or_else(|| ips.first().map(|s| s.to_string()).unwrap_or_default());
    let svc = lbs[0];
    let (ns, n) = (namespace(svc), name(svc));
    let node_port = arr(svc, "/spec/ports")
        .first()
        .and_then(|p| p.get("nodePort"))
        .and_then(Value::as_i64);
    let mut commands = vec![
        "# bare metal / on-premises: install MetalLB and give it free addresses of the node network".to_string(),
        "kubectl apply -f https://raw.githubusercontent.com/metallb/metallb/v0.14.8/config/manifests/metallb-native.yaml".into(),
        format!(
            "kubectl apply -f - <<'EOF'\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: default\n  namespace: metallb-system\nspec:\n  addresses:\n  - {prefix}.240-{prefix}.250   # unused addresses in the nodes' subnet\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata:\n  name: default\n  namespace: metallb-system\nEOF"
        ),
        "# in a cloud: run the provider's cloud-controller-manager (with kubelets on --cloud-provider=external) and its IAM permissions/tags".into(),
        format!("kubectl get svc -n {ns} {n} -w   # EXTERNAL-IP appears"),
    ];
    if let Some(np) = node_port {
        commands.push(format!("curl -sI http://{worker_ip}:{np}/   # meanwhile the NodePort already works (see NET-10 for an HAProxy front)"));
    }
    let summary = format!(
        "Service {ns}/{n}{} has waited {} for an external IP, but nothing in this cluster implements LoadBalancers: kube-controller-manager {}, no cloud-controller-manager runs, nodes have no providerID, and no MetalLB/kube-vip is installed.",
        if lbs.len() > 1 {
            format!(" (and {} more LoadBalancer Services)", lbs.len() - 1)
        } else {
            String::new()
        },
        human(age_secs(svc, now)),
        match &cloud {
            None => "runs without --cloud-provider".to_string(),
            Some(c) => format!("runs with --cloud-provider={c}"),
        }
    );
    // The controller manager's own word (or an external provider without its CCM) makes it
    // certain; otherwise the Service may be a leftover on a NodePort-based cluster (NET-10).
    let decisive = log_seen || cloud.as_deref() == Some("external");
    Some(Finding {
        severity: if decisive { FindingSeverity::Critical } else { FindingSeverity::Warning },
        confidence: if log_seen { 0.97 } else if decisive { 0.93 } else { 0.85 },
        summary,
        evidence,
        ruled_out: vec![
            "Not a cloud API or quota error: no controller ever tried (no EnsuringLoadBalancer/SyncLoadBalancerFailed events).".into(),
            "Not the Service's pods: the external IP is assigned before and regardless of endpoints; the NodePort path works.".into(),
            "Not a loadBalancerClass handled elsewhere: the Service sets none, so the default (cloud) implementation is expected.".into(),
        ],
        fix: Fix {
            explanation: "Type LoadBalancer needs an implementation: in a cloud the cloud-controller-manager (or, on old releases, kube-controller-manager --cloud-provider=<cloud> on the API server, controller manager and kubelets); on bare metal MetalLB, kube-vip or OpenELB with a pool of free addresses. Until then reach the Service on its NodePort on any node, or put HAProxy in front of the NodePorts.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn results(extra_pods: Vec<Value>, kcm_cmd: &[&str]) -> Results {
        let mut r = Results::default();
        r.by_query.insert(services(), Outcome::Objects(vec![json!({"metadata": {"name": "frontend-public", "namespace": "shop", "creationTimestamp": "2026-01-12T10:00:00Z"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31380, "protocol": "TCP"}]}, "status": {"loadBalancer": {}}})]));
        let kcm_pod = json!({"metadata": {"name": "kube-controller-manager-cp-1", "namespace": "kube-system"}, "spec": {"containers": [{"command": kcm_cmd}]}, "status": {"phase": "Running"}});
        r.by_query.insert(kcm(), Outcome::Objects(vec![kcm_pod]));
        r.set_watched(Watched::Pods, &extra_pods);
        r.by_query.insert(q::nodes(), Outcome::Objects(vec![json!({"metadata": {"name": "worker-1", "labels": {}}, "spec": {}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.21"}]}})]));
        r.set_watched(Watched::Events, &[]);
        r.by_query.insert(kcm_log("kube-controller-manager-cp-1"), Outcome::Text { code: 200, body: "W0109 10:00:03.000000       1 core.go:105] no cloud provider provided, services of type LoadBalancer will fail\n".into() });
        r
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }

    #[test]
    fn no_cloud_provider_no_ccm_no_metallb_is_decisive() {
        let f = diagnose(
            &results(vec![], &["kube-controller-manager", "--leader-elect=true"]),
            now(),
        )
        .expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.95);
        assert!(f.summary.contains("shop/frontend-public"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("10.0.0.240-10.0.0.250"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("http://10.0.0.21:31380/"))
        );
    }

    #[test]
    fn without_the_controller_managers_word_it_is_a_warning() {
        let mut r = results(vec![], &["kube-controller-manager"]);
        r.by_query.insert(
            kcm_log("kube-controller-manager-cp-1"),
            Outcome::Text {
                code: 200,
                body: String::new(),
            },
        );
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.confidence < 0.9);
    }

    #[test]
    fn metallb_or_a_running_ccm_rules_it_out() {
        let metallb = json!({"metadata": {"name": "metallb-controller-5f9bb77dcd-x2x9q", "namespace": "metallb-system"}, "status": {"phase": "Running"}});
        assert!(diagnose(&results(vec![metallb], &["kube-controller-manager"]), now()).is_none());
        let ccm = json!({"metadata": {"name": "aws-cloud-controller-manager-abcde", "namespace": "kube-system"}, "status": {"phase": "Running"}});
        assert!(
            diagnose(
                &results(
                    vec![ccm],
                    &["kube-controller-manager", "--cloud-provider=external"]
                ),
                now()
            )
            .is_none()
        );
    }
}
