//! The HAProxy configuration NET-10 proposes for a cluster without a load-balancer
//! implementation (and `ktriage export haproxy` prints): one `frontend` per TCP port of each
//! NodePort or LoadBalancer Service (`bind *:<port>`), balanced round-robin over a `backend`
//! of `server <node> <InternalIP>:<nodePort> check` for every Ready node, leaving out nodes
//! labelled `node.kubernetes.io/exclude-from-external-load-balancers` and, for
//! `externalTrafficPolicy: Local`, the nodes without a ready endpoint of the Service (kube-proxy
//! drops NodePort traffic there).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::util::{arr, internal_ip, name, namespace, node_ready, ready_endpoint_nodes, s};

/// The label that keeps a node out of external load balancers (kubeadm sets it on
/// control-plane nodes).
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// One backend server: a node and its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub node: String,
    pub ip: String,
}

/// One frontend/backend pair of the generated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    /// `namespace_service` (with `_port` when the Service has several ports).
    pub name: String,
    pub namespace: String,
    pub service: String,
    /// The port HAProxy listens on.
    pub bind: i64,
    pub node_port: i64,
    /// kube-proxy's health check port for `externalTrafficPolicy: Local` LoadBalancers.
    pub health_check_node_port: Option<i64>,
    pub local: bool,
    pub servers: Vec<Server>,
    /// Notes printed as comments (why a node or port was left out).
    pub notes: Vec<String>,
}

/// Whether a Service is of a type with node ports.
pub fn is_exposed(svc: &Value) -> bool {
    matches!(s(svc, "/spec/type"), "NodePort" | "LoadBalancer")
}

/// Nodes a load balancer may send to: Ready, with an InternalIP, not excluded. Sorted by name.
pub fn balancer_nodes(nodes: &[Value]) -> Vec<Server> {
    let mut out: Vec<Server> = nodes
        .iter()
        .filter(|n| node_ready(n))
        .filter(|n| {
            n.pointer("/metadata/labels")
                .and_then(|l| l.get(EXCLUDE_LABEL))
                .is_none()
        })
        .filter(|n| !internal_ip(n).unwrap_or_default().is_empty())
        .map(|n| Server {
            node: name(n).to_string(),
            ip: internal_ip(n).unwrap_or_default().to_string(),
        })
        .collect();
    out.sort_by(|a, b| a.node.cmp(&b.node));
    out
}

fn sanitize(x: &str) -> String {
    x.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The frontends the configuration holds, in namespace/name order, plus comments for the
/// ports that cannot be balanced (UDP/SCTP, no nodePort).
pub fn frontends(
    services: &[Value],
    nodes: &[Value],
    endpoint_slices: &[Value],
) -> (Vec<Frontend>, Vec<String>) {
    let candidates = balancer_nodes(nodes);
    let mut svcs: Vec<&Value> = services.iter().filter(|v| is_exposed(v)).collect();
    svcs.sort_by(|a, b| (namespace(a), name(a)).cmp(&(namespace(b), name(b))));
    let mut used: BTreeMap<i64, String> = BTreeMap::new();
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for svc in svcs {
        let (ns, sname) = (namespace(svc), name(svc));
        let ports = arr(svc, "/spec/ports");
        let local = s(svc, "/spec/externalTrafficPolicy") == "Local";
        let hc = svc
            .pointer("/spec/healthCheckNodePort")
            .and_then(Value::as_i64)
            .filter(|_| local);
        let with_endpoints: BTreeSet<String> = if local {
            ready_endpoint_nodes(ns, sname, endpoint_slices, &[])
        } else {
            BTreeSet::new()
        };
        for p in ports {
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            let Some(node_port) = p.get("nodePort").and_then(Value::as_i64) else {
                skipped.push(format!(
                    "# skipped {ns}/{sname} port {port}/{proto}: no nodePort allocated"
                ));
                continue;
            };
            if proto != "TCP" {
                skipped.push(format!(
                    "# skipped {ns}/{sname} port {port}/{proto}: HAProxy balances TCP only"
                ));
                continue;
            }
            let mut fname = format!("{}_{}", sanitize(ns), sanitize(sname));
            if ports.len() > 1 {
                let pn = p.get("name").and_then(Value::as_str).unwrap_or_default();
                fname.push('_');
                fname.push_str(&if pn.is_empty() {
                    port.to_string()
                } else {
                    sanitize(pn)
                });
            }
            let mut notes = Vec::new();
            let bind = match used.get(&port) {
                Some(other) if port > 0 => {
                    notes.push(format!(
                        "port {port} is already bound by {other}: listening on the nodePort instead"
                    ));
                    node_port
                }
                _ if port <= 0 => node_port,
                _ => port,
            };
            used.insert(bind, fname.clone());
            let servers: Vec<Server> = if local {
                candidates
                    .iter()
                    .filter(|n| with_endpoints.contains(&n.node))
                    .cloned()
                    .collect()
            } else {
                candidates.clone()
            };
            if local {
                let left_out: Vec<&str> = candidates
                    .iter()
                    .filter(|n| !with_endpoints.contains(&n.node))
                    .map(|n| n.node.as_str())
                    .collect();
                if !left_out.is_empty() {
                    notes.push(format!(
                        "externalTrafficPolicy Local: no ready endpoint on {}, left out",
                        left_out.join(", ")
                    ));
                }
            }
            if servers.is_empty() {
                notes.push(
                    "no Ready node can serve this port: check the nodes and endpoints".into(),
                );
            }
            out.push(Frontend {
                name: fname,
                namespace: ns.to_string(),
                service: sname.to_string(),
                bind,
                node_port,
                health_check_node_port: hc,
                local,
                servers,
                notes,
            });
        }
    }
    (out, skipped)
}

/// Renders frontends as haproxy.cfg sections.
pub fn render(frontends: &[Frontend], skipped: &[String]) -> String {
    let mut out = String::new();
    out.push_str("# HAProxy configuration for the cluster's NodePort/LoadBalancer Services, generated by ktriage.\n");
    out.push_str("# Append to /etc/haproxy/haproxy.cfg, check with `haproxy -c -f /etc/haproxy/haproxy.cfg`,\n");
    out.push_str(
        "# then `systemctl reload haproxy`. Regenerate when Services, nodes or endpoints change.\n",
    );
    out.push_str("defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 1m\n    timeout server 1m\n");
    for line in skipped {
        out.push_str(line);
        out.push('\n');
    }
    for f in frontends {
        out.push('\n');
        out.push_str(&format!(
            "# {}/{} nodePort {}\n",
            f.namespace, f.service, f.node_port
        ));
        for n in &f.notes {
            out.push_str(&format!("# {n}\n"));
        }
        out.push_str(&format!("frontend {}\n", f.name));
        out.push_str(&format!("    bind *:{}\n", f.bind));
        out.push_str(&format!("    default_backend {}\n", f.name));
        out.push_str(&format!("backend {}\n", f.name));
        out.push_str("    balance roundrobin\n");
        if let Some(hc) = f.health_check_node_port {
            out.push_str("    option httpchk GET /healthz\n");
            for sv in &f.servers {
                out.push_str(&format!(
                    "    server {} {}:{} check port {hc}\n",
                    sanitize(&sv.node),
                    sv.ip,
                    f.node_port
                ));
            }
        } else {
            for sv in &f.servers {
                out.push_str(&format!(
                    "    server {} {}:{} check\n",
                    sanitize(&sv.node),
                    sv.ip,
                    f.node_port
                ));
            }
        }
    }
    out
}

/// The whole configuration: Services (any list; only NodePort and LoadBalancer are used),
/// nodes and EndpointSlices as the API returns them.
pub fn haproxy_config(services: &[Value], nodes: &[Value], endpoint_slices: &[Value]) -> String {
    let (f, skipped) = frontends(services, nodes, endpoint_slices);
    render(&f, &skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, ip: &str, ready: bool, exclude: bool) -> Value {
        let mut labels = json!({"kubernetes.io/hostname": name});
        if exclude {
            labels[EXCLUDE_LABEL] = json!("");
        }
        json!({"kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
    }

    fn nodes() -> Vec<Value> {
        vec![
            node("cp-1", "10.146.47.100", true, true),
            node("worker-1", "10.146.47.110", true, false),
            node("worker-2", "10.146.47.120", true, false),
            node("worker-3", "10.146.47.130", false, false),
        ]
    }

    #[test]
    fn the_seed_shape_for_a_nodeport_service() {
        let svc = json!({"kind": "Service", "metadata": {"namespace": "guestbook", "name": "frontend"},
            "spec": {"type": "NodePort", "externalTrafficPolicy": "Cluster",
                "ports": [{"port": 80, "nodePort": 30197, "protocol": "TCP", "targetPort": 80}]}});
        let cfg = haproxy_config(&[svc], &nodes(), &[]);
        assert!(
            cfg.contains("frontend guestbook_frontend\n    bind *:80\n    default_backend guestbook_frontend\nbackend guestbook_frontend\n    balance roundrobin\n    server worker-1 10.146.47.110:30197 check\n    server worker-2 10.146.47.120:30197 check\n"),
            "{cfg}"
        );
        // Control plane excluded by label, worker-3 not Ready.
        assert!(!cfg.contains("10.146.47.100"));
        assert!(!cfg.contains("10.146.47.130"));
    }

    #[test]
    fn local_policy_keeps_only_nodes_with_ready_endpoints() {
        let svc = json!({"kind": "Service", "metadata": {"namespace": "web", "name": "shop"},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 32001,
                "ports": [{"name": "http", "port": 80, "nodePort": 31080, "protocol": "TCP"},
                          {"name": "dns", "port": 53, "nodePort": 31053, "protocol": "UDP"}]}});
        let slice = json!({"metadata": {"namespace": "web", "name": "shop-abc", "labels": {"kubernetes.io/service-name": "shop"}},
            "endpoints": [{"addresses": ["10.244.4.5"], "nodeName": "worker-2", "conditions": {"ready": true}},
                          {"addresses": ["10.244.3.5"], "nodeName": "worker-1", "conditions": {"ready": false}}]});
        let cfg = haproxy_config(&[svc], &nodes(), &[slice]);
        assert!(
            cfg.contains("frontend web_shop_http\n    bind *:80\n"),
            "{cfg}"
        );
        assert!(cfg.contains("    option httpchk GET /healthz\n    server worker-2 10.146.47.120:31080 check port 32001\n"), "{cfg}");
        assert!(!cfg.contains("server worker-1"), "{cfg}");
        assert!(
            cfg.contains("# externalTrafficPolicy Local: no ready endpoint on worker-1, left out")
        );
        assert!(cfg.contains("# skipped web/shop port 53/UDP: HAProxy balances TCP only"));
    }

    #[test]
    fn clusterip_services_are_ignored_and_port_clashes_use_the_node_port() {
        let a = json!({"metadata": {"namespace": "a", "name": "x"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30001}]}});
        let b = json!({"metadata": {"namespace": "b", "name": "y"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30002}]}});
        let c = json!({"metadata": {"namespace": "c", "name": "z"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        let cfg = haproxy_config(&[b, c, a], &nodes(), &[]);
        assert!(cfg.contains("frontend a_x\n    bind *:80\n"), "{cfg}");
        assert!(cfg.contains("frontend b_y\n    bind *:30002\n"), "{cfg}");
        assert!(!cfg.contains("c_z"));
    }

    #[test]
    fn garbage_input_gives_an_empty_configuration_without_panicking() {
        let cfg = haproxy_config(
            &[
                json!(null),
                json!({"spec": {"type": "NodePort", "ports": "x"}}),
            ],
            &[json!(1)],
            &[json!("x")],
        );
        assert!(!cfg.contains("frontend"));
    }
}
