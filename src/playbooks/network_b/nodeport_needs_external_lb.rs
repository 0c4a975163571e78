//! NET-10 `nodeport-needs-external-lb`: an on-prem cluster without a load-balancer
//! implementation (no MetalLB, kube-vip, cloud controller…): NodePort Services answer only
//! on each node's IP, LoadBalancer Services stay `<pending>`. The therapy is the generated
//! HAProxy configuration (`haproxy.rs`): a frontend per Service port, a backend of the Ready
//! nodes, only the nodes with endpoints for `externalTrafficPolicy: Local`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::haproxy::{self, EXCLUDE_LABEL, is_exposed};
use super::util::{
    MetaExt, Pod, arr, detail, ev, name, namespace, node_ready, obj, pod_detail, pod_obj, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "nodeport-needs-external-lb",
    code: "NET-10",
    title: "NodePort services need an external load balancer on-prem",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["nodeport", "haproxy"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["nodeport", "load balanc"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["how do users reach", "nodeport"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["access", "services", "via each node"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["external-ip", "<pending>", "bare metal"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["<pending>", "on-prem"],
            weight: 0.75,
        },
    ],
    queries,
    diagnose,
};

fn q_services() -> Query {
    q::core("services", None)
}
fn q_nodes() -> Query {
    q::core("nodes", None)
}
fn q_slices() -> Query {
    q::list("discovery.k8s.io", "endpointslices", None, None, None)
}
fn q_pods() -> Query {
    q::watched(Watched::Pods)
}

/// kubeadm's kube-controller-manager pods, whole (a first-round list other playbooks share).
fn q_kcm() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-controller-manager"),
        None,
    )
}

/// The kube-controller-manager pods (one per control-plane node; at most 10 read): whether
/// one runs an in-tree cloud provider is in their command line. Those kubeadm's label list
/// did not bring are read one by one.
fn controller_managers(r: &Results) -> impl Iterator<Item = &Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| p.metadata.name_str().starts_with("kube-controller-manager"))
        .take(10)
}

/// A kube-controller-manager pod whole: from the label list, else as read by itself.
fn kcm_whole<'r>(r: &'r Results, p: &Pod) -> Option<&'r Value> {
    r.objects(&q_kcm())
        .iter()
        .find(|w| namespace(w) == p.metadata.namespace_str() && name(w) == p.metadata.name_str())
        .or_else(|| detail(r, p))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q_services(), q_nodes(), q_slices(), q_pods(), q_kcm()];
    // Only with a Service to report does the controller manager's provider matter.
    let services = r.objects(&q_services());
    if services.iter().any(is_exposed) && r.outcome(&q_kcm()).is_some() {
        out.extend(
            controller_managers(r)
                .filter(|p| {
                    !r.objects(&q_kcm()).iter().any(|w| {
                        namespace(w) == p.metadata.namespace_str()
                            && name(w) == p.metadata.name_str()
                    })
                })
                .map(pod_detail),
        );
    }
    out
}

/// Pod name fragments of load-balancer implementations.
const LB_PODS: &[&str] = &[
    "metallb",
    "kube-vip",
    "cloud-controller-manager",
    "openelb",
    "purelb",
    "loxilb",
    "svclb-",
];

/// What implements LoadBalancer Services here, if anything.
fn lb_implementation(r: &Results, services: &[Value]) -> Option<String> {
    if let Some(p) = r.pods().iter().find(|p| {
        let n = p.metadata.name_str();
        LB_PODS.iter().any(|f| n.contains(f))
    }) {
        return Some(format!("pod {}", pod_obj(p)));
    }
    for p in controller_managers(r).filter_map(|p| kcm_whole(r, p)) {
        for c in arr(p, "/spec/containers") {
            for a in arr(c, "/command").iter().chain(arr(c, "/args")) {
                if let Some(v) = a.as_str().and_then(|a| a.strip_prefix("--cloud-provider="))
                    && !v.is_empty()
                    && v != "external"
                    && v != "none"
                {
                    return Some(format!("{} runs --cloud-provider={v}", obj(p)));
                }
            }
        }
    }
    services
        .iter()
        .find(|svc| {
            s(svc, "/spec/type") == "LoadBalancer"
                && !arr(svc, "/status/loadBalancer/ingress").is_empty()
        })
        .map(|svc| format!("{} has a load-balancer address", obj(svc)))
}

fn ports_text(svc: &Value) -> String {
    arr(svc, "/spec/ports")
        .iter()
        .map(|p| {
            format!(
                "{}:{}/{}",
                p.get("port").and_then(Value::as_i64).unwrap_or(0),
                p.get("nodePort").and_then(Value::as_i64).unwrap_or(0),
                p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let services = r.objects(&q_services());
    let nodes = r.objects(&q_nodes());
    let slices = r.objects(&q_slices());
    if lb_implementation(r, services).is_some() {
        return None;
    }
    let (frontends, skipped) = haproxy::frontends(services, nodes, slices);
    if frontends.is_empty() {
        return None;
    }
    let exposed: Vec<&Value> = services.iter().filter(|v| is_exposed(v)).collect();
    let pending: Vec<&Value> = exposed
        .iter()
        .copied()
        .filter(|v| {
            s(v, "/spec/type") == "LoadBalancer"
                && arr(v, "/status/loadBalancer/ingress").is_empty()
        })
        .collect();
    let candidates = haproxy::balancer_nodes(nodes);
    let gaps: Vec<&haproxy::Frontend> = frontends
        .iter()
        .filter(|f| f.local && f.servers.len() < candidates.len())
        .collect();
    let config = haproxy::render(&frontends, &skipped);

    let mut evidence = Vec::new();
    for svc in &exposed {
        evidence.push(ev(
            obj(svc),
            "spec.type, spec.ports[port:nodePort], spec.externalTrafficPolicy",
            format!(
                "{} {} {}",
                s(svc, "/spec/type"),
                ports_text(svc),
                s(svc, "/spec/externalTrafficPolicy")
            ),
        ));
    }
    for svc in &pending {
        evidence.push(ev(
            obj(svc),
            "status.loadBalancer.ingress",
            "<none> (EXTERNAL-IP <pending>)",
        ));
    }
    let gap_nodes = |f: &haproxy::Frontend| -> Vec<String> {
        candidates
            .iter()
            .filter(|c| !f.servers.iter().any(|s| s.node == c.node))
            .map(|c| c.node.clone())
            .collect()
    };
    for f in &gaps {
        evidence.push(ev(
            format!("EndpointSlice/{}/{}", f.namespace, f.service),
            "endpoints[ready].nodeName",
            format!(
                "ready endpoints only on {}; none on {} (kube-proxy drops NodePort {} traffic there)",
                if f.servers.is_empty() {
                    "no node".to_string()
                } else {
                    f.servers
                        .iter()
                        .map(|s| s.node.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                gap_nodes(f).join(", "),
                f.node_port
            ),
        ));
    }
    let excluded: Vec<&str> = nodes
        .iter()
        .filter(|n| {
            n.pointer("/metadata/labels")
                .and_then(|l| l.get(EXCLUDE_LABEL))
                .is_some()
        })
        .map(name)
        .collect();
    if !excluded.is_empty() {
        evidence.push(ev(
            format!("Node/{}", excluded.join(",")),
            format!("metadata.labels[{EXCLUDE_LABEL}]"),
            "set: left out of the backends",
        ));
    }
    let not_ready: Vec<&str> = nodes.iter().filter(|n| !node_ready(n)).map(name).collect();
    if !not_ready.is_empty() {
        evidence.push(ev(
            format!("Node/{}", not_ready.join(",")),
            "status.conditions[Ready]",
            "not True: left out of the backends",
        ));
    }
    evidence.push(ev(
        "Pod (all namespaces)",
        "metadata.name",
        "no MetalLB, kube-vip, OpenELB, PureLB or cloud-controller-manager pod; kube-controller-manager without --cloud-provider",
    ));

    let (severity, confidence) = if !gaps.is_empty() {
        (FindingSeverity::Warning, 0.9)
    } else if !pending.is_empty() {
        (FindingSeverity::Warning, 0.8)
    } else {
        (FindingSeverity::Info, 0.6)
    };
    let node_list = candidates
        .iter()
        .map(|c| format!("{} ({})", c.node, c.ip))
        .collect::<Vec<_>>()
        .join(", ");
    let mut summary = format!(
        "No load-balancer implementation on this cluster: {} NodePort/LoadBalancer Service(s) are reachable only on the node IPs ({}) with no address that balances or fails over",
        exposed.len(),
        if node_list.is_empty() {
            "no Ready node".to_string()
        } else {
            node_list
        }
    );
    for f in &gaps {
        summary.push_str(&format!(
            "; {}/{} (externalTrafficPolicy Local) answers on nodePort {} only on {}, not on {}",
            f.namespace,
            f.service,
            f.node_port,
            if f.servers.is_empty() {
                "no node".to_string()
            } else {
                f.servers
                    .iter()
                    .map(|s| s.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            gap_nodes(f).join(", ")
        ));
    }
    if !pending.is_empty() {
        summary.push_str(&format!(
            "; {} LoadBalancer Service(s) stay <pending>",
            pending.len()
        ));
    }
    summary.push('.');

    let mut ruled_out = vec![
        "A missing cloud provider (CL-01): the nodes are on-prem machines with no cloud to configure; the gap is the load balancer in front of the NodePorts, which HAProxy or an in-cluster implementation fills.".to_string(),
    ];
    let empty_backends: Vec<&str> = frontends
        .iter()
        .filter(|f| f.servers.is_empty())
        .map(|f| f.name.as_str())
        .collect();
    if empty_backends.is_empty() {
        ruled_out.push("Services without endpoints (NET-08): every generated backend has at least one node that serves it.".into());
    }
    ruled_out.push("An existing load-balancer implementation: no LoadBalancer Service has ever received an address.".into());

    let mut commands = vec![
        "# on the HAProxy host in front of the nodes (for example the one balancing the API server):".to_string(),
        format!("sudo tee -a /etc/haproxy/haproxy.cfg >/dev/null <<'EOF'\n{config}EOF"),
        "sudo haproxy -c -f /etc/haproxy/haproxy.cfg && sudo systemctl reload haproxy".into(),
        "# the same configuration, regenerated from the live cluster: ktriage export haproxy".into(),
    ];
    for f in &gaps {
        commands.push(format!(
            "# or, if {}/{} does not need the client source IP, let every node forward:",
            f.namespace, f.service
        ));
        commands.push(format!(
            "kubectl patch service {} -n {} -p '{{\"spec\":{{\"externalTrafficPolicy\":\"Cluster\"}}}}'",
            f.service, f.namespace
        ));
    }
    commands.push("# alternative: an in-cluster implementation so LoadBalancer Services get addresses (then an IPAddressPool + L2Advertisement):".into());
    commands.push("kubectl apply -f https://raw.githubusercontent.com/metallb/metallb/v0.14.8/config/manifests/metallb-native.yaml".into());

    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "Put a load balancer in front of the NodePorts: the HAProxy configuration below has one frontend per Service port (it listens on the Service's port) and a backend of every Ready node that is not labelled exclude-from-external-load-balancers, at its InternalIP and the nodePort; for externalTrafficPolicy Local only the nodes that hold a ready endpoint, because kube-proxy drops the traffic on the others. `haproxy -c` must print `Configuration file is valid`; afterwards `curl http://HAPROXY:PORT/` reaches the Service. Regenerate it (`ktriage export haproxy`) when nodes, Services or endpoints change, or install MetalLB/kube-vip so LoadBalancer Services get an address of their own.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn node(n: &str, ip: &str, exclude: bool) -> Value {
        let mut labels = json!({});
        if exclude {
            labels[EXCLUDE_LABEL] = json!("");
        }
        json!({"kind": "Node", "metadata": {"name": n, "labels": labels}, "status": {
            "addresses": [{"type": "InternalIP", "address": ip}],
            "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn results(services: Vec<Value>, slices: Vec<Value>, pods: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(q_services(), Outcome::Objects(services));
        r.by_query.insert(
            q_nodes(),
            Outcome::Objects(vec![
                node("cp-1", "10.0.0.11", true),
                node("worker-1", "10.0.0.21", false),
                node("worker-2", "10.0.0.22", false),
                node("worker-3", "10.0.0.23", false),
            ]),
        );
        r.by_query.insert(q_slices(), Outcome::Objects(slices));
        r.set_watched(Watched::Pods, &pods);
        r
    }

    fn guestbook(policy: &str) -> Value {
        json!({"kind": "Service", "metadata": {"namespace": "guestbook", "name": "frontend"},
            "spec": {"type": "NodePort", "externalTrafficPolicy": policy,
                "ports": [{"port": 80, "nodePort": 30197, "protocol": "TCP"}]}, "status": {"loadBalancer": {}}})
    }

    fn slice() -> Value {
        json!({"metadata": {"namespace": "guestbook", "name": "frontend-x", "labels": {"kubernetes.io/service-name": "frontend"}},
            "endpoints": [{"addresses": ["10.244.3.4"], "nodeName": "worker-1", "conditions": {"ready": true}},
                          {"addresses": ["10.244.4.4"], "nodeName": "worker-2", "conditions": {"ready": true}}]})
    }

    #[test]
    fn local_policy_nodeport_without_lb_is_a_warning_with_the_haproxy_config() {
        let r = results(vec![guestbook("Local")], vec![slice()], vec![]);
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.summary
                .contains("only on worker-1, worker-2, not on worker-3"),
            "{}",
            f.summary
        );
        let cfg = &f.fix.commands[1];
        assert!(
            cfg.contains("frontend guestbook_frontend\n    bind *:80\n"),
            "{cfg}"
        );
        assert!(cfg.contains("server worker-1 10.0.0.21:30197 check\n"));
        assert!(!cfg.contains("server worker-3"));
        assert!(!cfg.contains("10.0.0.11"), "control plane is excluded");
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("kubectl patch service frontend -n guestbook"))
        );
    }

    #[test]
    fn plain_nodeport_is_information_and_pending_lb_is_a_warning() {
        let r = results(vec![guestbook("Cluster")], vec![slice()], vec![]);
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        assert!(f.fix.commands[1].contains("server worker-3 10.0.0.23:30197 check"));
        let lb = json!({"kind": "Service", "metadata": {"namespace": "monitoring", "name": "grafana"},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "ports": [{"port": 3000, "nodePort": 31848, "protocol": "TCP"}]},
            "status": {"loadBalancer": {}}});
        let r = results(vec![guestbook("Cluster"), lb], vec![slice()], vec![]);
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.summary
                .contains("1 LoadBalancer Service(s) stay <pending>")
        );
    }

    #[test]
    fn an_lb_implementation_or_no_nodeport_means_no_finding() {
        let metallb = json!({"kind": "Pod", "metadata": {"namespace": "metallb-system", "name": "metallb-controller-7d8c9"}});
        let r = results(vec![guestbook("Local")], vec![slice()], vec![metallb]);
        assert!(diagnose(&r, Utc::now()).is_none());
        let assigned = json!({"kind": "Service", "metadata": {"namespace": "a", "name": "b"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 31000}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.240"}]}}});
        let r = results(vec![guestbook("Cluster"), assigned], vec![], vec![]);
        assert!(diagnose(&r, Utc::now()).is_none());
        let clusterip = json!({"kind": "Service", "metadata": {"namespace": "a", "name": "c"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        assert!(diagnose(&results(vec![clusterip], vec![], vec![]), Utc::now()).is_none());
    }

    #[test]
    fn an_in_tree_cloud_provider_is_read_from_the_controller_manager_pod() {
        let kcm = json!({"kind": "Pod", "metadata": {"namespace": "kube-system", "name": "kube-controller-manager-cp-1"},
            "spec": {"containers": [{"name": "kube-controller-manager",
                "command": ["kube-controller-manager", "--cloud-provider=aws"]}]}});
        let mut r = results(vec![guestbook("Local")], vec![slice()], vec![kcm.clone()]);
        // kubeadm's label list holds it whole: nothing more to read.
        r.by_query
            .insert(q_kcm(), Outcome::Objects(vec![kcm.clone()]));
        assert!(
            !queries(&r)
                .iter()
                .any(|q| matches!(q.kind, crate::playbooks::QueryKind::Get { .. }))
        );
        assert!(diagnose(&r, Utc::now()).is_none());
        // Without that label (kops): the lean pod list names it, the pod itself is read.
        r.by_query.insert(q_kcm(), Outcome::Objects(vec![]));
        let detail_query = queries(&r)
            .into_iter()
            .find(|q| q.kind == pod_detail(&r.pods()[0]).kind);
        let detail_query = detail_query.expect("the controller manager pod is read whole");
        assert!(
            diagnose(&r, Utc::now()).is_some(),
            "not read yet: no proof of a provider"
        );
        r.by_query.insert(detail_query, Outcome::Objects(vec![kcm]));
        assert!(diagnose(&r, Utc::now()).is_none());
    }

    #[test]
    fn the_seed_question_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "we can't access the services except via each node (NodePort); we want load balancing with HAProxy",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("nodeport-needs-external-lb")
        );
    }
}
