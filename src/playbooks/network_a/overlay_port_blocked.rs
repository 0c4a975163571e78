//! NET-06 `overlay-port-blocked`: the CNI agents cannot talk to their peers on other nodes
//! because the port or protocol their backend needs is filtered between the nodes (BGP
//! 179/tcp, IP-in-IP protocol 4, VXLAN 4789/udp or flannel's 8472/udp, Weave 6783/6784).
//! Seen as CNI agent pods not Ready whose readiness messages or logs name peer node IPs
//! (`BIRD is not ready: BGP not established with 10.0.0.22,10.0.0.23`); pod traffic across
//! those nodes fails while traffic within one node works.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    and_list, cni_agent_queries, cni_agents, containers, env_value, ev, internal_ip,
    is_control_plane, name, namespace, node_ready, obj, pod_ready, status_int,
};
use crate::playbooks::engine::q;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "overlay-port-blocked",
    code: "NET-06",
    title: "CNI overlay/BGP traffic blocked between nodes",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["bird is not ready", "bgp not established with"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["bgp not established with"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["connection shutting down due to error", "6783"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["calico/node is not ready"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["weave", "connection shutting down"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

fn unhealthy_events(ns: &str) -> Query {
    q::list("", "events", Some(ns), None, Some("reason=Unhealthy"))
}
fn config(ns: &str, plugin: &str) -> Option<Query> {
    match plugin {
        "Calico" | "Canal" => Some(q::get("", "configmaps", Some(ns), "calico-config")),
        "flannel" => Some(q::get("", "configmaps", Some(ns), "kube-flannel-cfg")),
        _ => None,
    }
}
fn agent_logs(pod: &Value) -> Option<Query> {
    let c = containers(pod).first()?.get("name")?.as_str()?.to_string();
    Some(q::logs(
        namespace(pod),
        name(pod),
        Some(&c),
        false,
        Some(200),
    ))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q::nodes()];
    out.extend(cni_agent_queries(r));
    for a in cni_agents(r) {
        out.push(unhealthy_events(&a.namespace));
        out.extend(config(&a.namespace, a.plugin));
        // Round 3: the logs of the agents that are not Ready and whose events say nothing.
        let events = r.objects(&unhealthy_events(&a.namespace));
        out.extend(
            a.pods
                .iter()
                .filter(|p| !pod_ready(p))
                .filter(|p| event_message(events, p).is_none())
                .filter_map(|p| agent_logs(p)),
        );
    }
    out
}

/// The peer failure an agent's Unhealthy events report: the probe's failing line, prefixed
/// like the kubelet prints it (`Readiness probe failed: calico/node is not ready: …`).
fn event_message(events: &[Value], pod: &Value) -> Option<String> {
    let m = events
        .iter()
        .filter(|e| e.pointer("/involvedObject/name").and_then(Value::as_str) == Some(name(pod)))
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .find(|m| peer_failure(m))?;
    let line = m.lines().find(|l| peer_failure(l)).unwrap_or(m).trim();
    let prefix = m.split_once(':').map(|(p, _)| p).unwrap_or("");
    Some(if line.starts_with(prefix) || prefix.is_empty() {
        line.to_string()
    } else {
        format!("{prefix}: {line}")
    })
}

/// The IPv4 addresses in a text.
fn ips_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|t| t.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_string)
        .collect()
}

/// The peer addresses a failure message names: after `BGP not established with`, inside
/// Weave's `->[IP:port]`, else every address in it.
fn peer_ips(text: &str) -> Vec<String> {
    let low = text.to_lowercase();
    if let Some(i) = low.find("bgp not established with") {
        return ips_in(&text[i..]);
    }
    if let Some(i) = text.find("->[") {
        let rest = &text[i + 3..];
        let end = rest.find(']').unwrap_or(rest.len());
        return ips_in(&rest[..end]);
    }
    ips_in(text)
}

/// A message of a CNI agent that says a peer cannot be reached.
fn peer_failure(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("bgp not established with")
        || (t.contains("connection shutting down due to error") && t.contains("6783"))
        || t.contains("connection to peer") && t.contains("timed out")
}

/// The ports a backend needs between nodes, and the backend's name.
fn backend_ports(plugin: &str, ds: &Value, cfg: Option<&Value>) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    match plugin {
        "Calico" | "Canal" => {
            let backend = cfg
                .and_then(|c| c.pointer("/data/calico_backend"))
                .and_then(Value::as_str)
                .unwrap_or("bird");
            let envs = |var: &str| {
                containers(ds)
                    .into_iter()
                    .find_map(|c| env_value(c, var).map(str::to_string))
            };
            if backend == "bird" {
                out.push(("BGP (calico_backend: bird)".to_string(), "179/tcp"));
            }
            let ipip = envs("CALICO_IPV4POOL_IPIP").unwrap_or_else(|| "Always".into());
            if backend == "bird" && ipip != "Never" {
                out.push((
                    format!("IP-in-IP (CALICO_IPV4POOL_IPIP={ipip})"),
                    "IP protocol 4",
                ));
            }
            let vxlan = envs("CALICO_IPV4POOL_VXLAN").unwrap_or_else(|| "Never".into());
            if vxlan != "Never" || backend == "vxlan" {
                out.push((format!("VXLAN (CALICO_IPV4POOL_VXLAN={vxlan})"), "4789/udp"));
            }
        }
        "flannel" => {
            let t = cfg
                .and_then(|c| c.pointer("/data/net-conf.json"))
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .and_then(|v| {
                    v.pointer("/Backend/Type")
                        .and_then(Value::as_str)
                        .map(str::to_lowercase)
                })
                .unwrap_or_else(|| "vxlan".into());
            match t.as_str() {
                "udp" => out.push(("flannel udp backend".into(), "8285/udp")),
                "host-gw" => {}
                _ => out.push(("flannel vxlan backend".into(), "8472/udp")),
            }
        }
        "Weave Net" => {
            out.push(("Weave control".into(), "6783/tcp"));
            out.push(("Weave data (sleeve, fastdp)".into(), "6783-6784/udp"));
        }
        "Cilium" => out.push(("Cilium VXLAN".into(), "8472/udp")),
        "Antrea" => out.push(("Antrea Geneve".into(), "6081/udp")),
        _ => {}
    }
    out
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let nodes = r.objects(&q::nodes());
    let ip_to_node: BTreeMap<String, String> = nodes
        .iter()
        .filter_map(|n| internal_ip(n).map(|ip| (ip.to_string(), name(n).to_string())))
        .collect();
    for agents in cni_agents(r) {
        let plugin = agents.plugin;
        let ns = agents.namespace.as_str();
        let Some(spec) = agents.spec() else { continue };
        let pods = &agents.pods;
        let not_ready: Vec<&Value> = pods.iter().copied().filter(|p| !pod_ready(p)).collect();
        if not_ready.is_empty() {
            continue;
        }
        let events = r.objects(&unhealthy_events(ns));
        // For each not-ready agent: the message naming its unreachable peers.
        let mut reports: Vec<(&Value, String, String, Vec<String>)> = Vec::new();
        for p in &not_ready {
            let from_event = event_message(events, p);
            let (field, text) = match from_event {
                Some(m) => ("events[Unhealthy].message".to_string(), m),
                None => {
                    let line = agent_logs(p)
                        .and_then(|lq| r.text(&lq).map(str::to_string))
                        .and_then(|t| {
                            t.lines()
                                .rev()
                                .find(|l| peer_failure(l))
                                .map(str::to_string)
                        });
                    match line {
                        Some(l) => (
                            format!(
                                "log[{}]",
                                containers(p)
                                    .first()
                                    .and_then(|c| c.get("name"))
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                            ),
                            l.trim().to_string(),
                        ),
                        None => continue,
                    }
                }
            };
            // Peers are kept even when their addresses cannot be matched to nodes (redacted
            // in a pasted message, or nodes captured without addresses).
            let peers: Vec<String> = peer_ips(&text)
                .into_iter()
                .filter(|ip| ip_to_node.contains_key(ip))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            reports.push((p, field, text, peers));
        }
        if reports.is_empty() {
            continue;
        }
        let mapped = reports.iter().any(|x| !x.3.is_empty());
        let (blocked_ips, blocked): (Vec<String>, Vec<String>) = if mapped {
            reports.retain(|x| !x.3.is_empty());
            // The nodes most agents cannot reach are the filtered ones.
            let mut named: BTreeMap<&str, usize> = BTreeMap::new();
            for (_, _, _, peers) in &reports {
                for ip in peers {
                    *named.entry(ip.as_str()).or_default() += 1;
                }
            }
            let max = named.values().copied().max().unwrap_or(0);
            let threshold = (reports.len().div_ceil(2)).max(1).min(max);
            let ips: Vec<String> = named
                .iter()
                .filter(|(_, n)| **n >= threshold)
                .map(|(ip, _)| ip.to_string())
                .collect();
            let names = ips
                .iter()
                .filter_map(|ip| ip_to_node.get(ip).cloned())
                .collect();
            (ips, names)
        } else {
            // The peers are not named in a way that matches a node: when only some agents
            // fail while the others are Ready, the filtered path is the one from the nodes
            // of the failing agents; when all fail it cannot be placed.
            let on: BTreeSet<String> = reports
                .iter()
                .filter_map(|x| x.0.pointer("/spec/nodeName").and_then(Value::as_str))
                .map(str::to_string)
                .collect();
            if reports.len() < pods.len() && !on.is_empty() {
                let ips = on
                    .iter()
                    .filter_map(|n| {
                        nodes
                            .iter()
                            .find(|x| name(x) == n)
                            .and_then(internal_ip)
                            .map(str::to_string)
                    })
                    .collect();
                (ips, on.into_iter().collect())
            } else {
                (Vec::new(), Vec::new())
            }
        };
        let blocked_ips_text = if blocked_ips.is_empty() {
            "peer addresses not matched to a captured node".to_string()
        } else {
            blocked_ips.join(", ")
        };

        let cfg = config(ns, plugin).and_then(|cq| r.objects(&cq).first());
        let ports = backend_ports(plugin, spec, cfg);

        let mut evidence = Vec::new();
        match agents.ds {
            Some(ds) => evidence.push(ev(
                obj("DaemonSet", ds),
                "status.numberReady / desiredNumberScheduled",
                format!(
                    "{} / {} {} agents Ready",
                    status_int(ds, "numberReady"),
                    status_int(ds, "desiredNumberScheduled"),
                    plugin
                ),
            )),
            None => evidence.push(ev(
                format!("Pod/{ns}/*"),
                "status.conditions[Ready]",
                format!(
                    "{} of {} captured {} agent pods Ready (DaemonSet not captured)",
                    pods.len() - not_ready.len(),
                    pods.len(),
                    plugin
                ),
            )),
        }
        // Two agents that cannot reach the filtered nodes, and one on a filtered node.
        let on_blocked = |p: &Value| {
            p.pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .is_some_and(|n| blocked.iter().any(|b| b == n))
        };
        let shown = reports
            .iter()
            .filter(|x| !on_blocked(x.0))
            .take(2)
            .chain(reports.iter().filter(|x| on_blocked(x.0)).take(1));
        for (p, field, text, _) in shown {
            let node = p
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or("?");
            evidence.push(ev(
                obj("Pod", p),
                field.clone(),
                format!("on {node}: {text}"),
            ));
        }
        if reports.len() > 3 {
            evidence.push(ev(
                format!("Pod/{ns}/*"),
                "events[Unhealthy].message",
                format!("{} more agents report unreachable peers", reports.len() - 3),
            ));
        }
        if let Some(c) = cfg {
            if let Some(b) = c.pointer("/data/calico_backend").and_then(Value::as_str) {
                evidence.push(ev(obj("ConfigMap", c), "data.calico_backend", b));
            }
            if let Some(b) = c.pointer("/data/net-conf.json").and_then(Value::as_str) {
                evidence.push(ev(
                    obj("ConfigMap", c),
                    "data[net-conf.json]",
                    b.replace('\n', " "),
                ));
            }
        }
        for var in [
            "CALICO_IPV4POOL_IPIP",
            "CALICO_IPV4POOL_VXLAN",
            "IPALLOC_RANGE",
        ] {
            if let Some(v) = containers(spec)
                .into_iter()
                .find_map(|c| env_value(c, var))
                .filter(|v| *v != "Never")
            {
                evidence.push(ev(
                    match agents.ds {
                        Some(ds) => obj("DaemonSet", ds),
                        None => obj("Pod", spec),
                    },
                    format!("spec.template.spec.containers[].env[{var}]"),
                    v,
                ));
            }
        }
        let ready_nodes: Vec<String> = nodes
            .iter()
            .filter(|n| node_ready(n))
            .map(|n| name(n).to_string())
            .collect();
        evidence.push(ev(
            "Node/*",
            "status.conditions[Ready]",
            format!(
                "True on {} of {} nodes: the CNI config is installed; only traffic between nodes fails",
                ready_nodes.len(),
                nodes.len()
            ),
        ));

        let port_list: Vec<String> = ports
            .iter()
            .map(|(what, port)| format!("{port} ({what})"))
            .collect();
        let where_ = if blocked.is_empty() {
            "other nodes".to_string()
        } else if mapped {
            and_list(&blocked)
        } else {
            format!("other nodes from {}", and_list(&blocked))
        };
        let summary = format!(
            "{} agents cannot reach their peers on {} ({}): {} between the nodes is filtered, so pod traffic across nodes fails while traffic within a node works.",
            plugin,
            where_,
            blocked_ips_text,
            if port_list.is_empty() {
                "the backend's traffic".to_string()
            } else {
                and_list(&port_list)
            }
        );

        let cp = nodes
            .iter()
            .find(|n| is_control_plane(n) && !blocked.contains(&name(n).to_string()))
            .or_else(|| {
                nodes
                    .iter()
                    .find(|n| !blocked.contains(&name(n).to_string()))
            })
            .map(|n| name(n).to_string())
            .unwrap_or_else(|| "another node".into());
        let mut commands = Vec::new();
        let first_blocked_ip = blocked_ips.first().cloned().unwrap_or_default();
        commands.push(format!(
            "# on {cp}: can this node open the backend's port on the blocked peers?"
        ));
        for (_, port) in &ports {
            match *port {
                "179/tcp" => commands.push(if blocked_ips.is_empty() {
                    "for ip in $(kubectl get nodes -o jsonpath='{.items[*].status.addresses[?(@.type==\"InternalIP\")].address}'); do nc -vz -w 3 $ip 179; done".to_string()
                } else {
                    format!(
                        "for ip in {}; do nc -vz -w 3 $ip 179; done",
                        blocked_ips.join(" ")
                    )
                }),
                "IP protocol 4" => commands.push(format!(
                    "sudo tcpdump -ni any 'ip proto 4 and host {first_blocked_ip}' -c 10"
                )),
                p => {
                    let n = p.trim_end_matches("/udp");
                    commands.push(format!(
                        "sudo tcpdump -ni any 'udp port {} and host {first_blocked_ip}' -c 10",
                        n.replace('-', " or udp port ")
                    ));
                }
            }
        }
        if plugin == "Calico" {
            commands.push("sudo calicoctl node status   # peers stuck in Connect/Active instead of Established".into());
        }
        commands.push(format!(
            "# on {}: open them to the other nodes (node IPs {})",
            and_list(&blocked),
            nodes
                .iter()
                .filter_map(internal_ip)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        commands.push("sudo firewall-cmd --list-all".into());
        for (_, port) in &ports {
            match *port {
                "IP protocol 4" => commands.push(
                    "sudo firewall-cmd --permanent --add-rich-rule='rule protocol value=\"4\" accept'".into(),
                ),
                p => commands.push(format!("sudo firewall-cmd --permanent --add-port={p}")),
            }
        }
        commands.push("sudo firewall-cmd --reload".into());
        commands.push(match agents.selector() {
            Some(sel) => format!("kubectl -n {ns} get pods -l {sel} -o wide -w"),
            None => format!("kubectl -n {ns} get pods -o wide -w"),
        });
        let explanation = format!(
            "{plugin} carries pod traffic between nodes over {}; each agent reports the peers it cannot reach, and the addresses most agents name ({}) are the nodes whose firewall (or the network between them) filters it. From {cp}, `nc -vz` to 179/tcp must print `succeeded`/`open` (`No route to host` = a REJECT rule, a timeout = DROP or a security group); tcpdump on the blocked node shows whether encapsulated packets arrive at all. Open the ports between all nodes (firewalld zone, iptables, cloud security group); the agents turn Ready within a probe period, or switch the encapsulation to one that is allowed.",
            if port_list.is_empty() {
                "its backend".to_string()
            } else {
                and_list(&port_list)
            },
            blocked_ips_text
        );
        let ruled_out = vec![
            "No CNI at all (NET-01): the CNI DaemonSet runs on every node and the nodes are Ready.".to_string(),
            "A crashing agent (pod CIDR, RBAC): the agents run; their readiness fails only on peer connectivity.".to_string(),
            format!(
                "A node down: {} are Ready and their kubelets post status; only the node-to-node backend traffic fails.",
                if blocked.is_empty() {
                    "the nodes".to_string()
                } else {
                    and_list(&blocked)
                }
            ),
        ];
        let decisive = mapped && !blocked.is_empty() && !ports.is_empty();
        return Some(Finding {
            severity: FindingSeverity::Critical,
            // Several agents naming the same peers leave little doubt; an agent whose peers
            // cannot be matched to nodes proves the peering fails, not which path.
            confidence: match (decisive, reports.len() >= 2) {
                (true, true) => 0.93,
                (true, false) => 0.88,
                _ if !blocked.is_empty() && !ports.is_empty() => 0.75,
                _ => 0.7,
            },
            summary,
            evidence,
            ruled_out,
            fix: Fix {
                explanation,
                commands,
            },
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::common::ds_pods as agent_pods;
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn node(n: &str, ip: &str) -> Value {
        json!({"metadata": {"name": n}, "status": {"addresses": [{"type": "InternalIP", "address": ip}], "conditions": [{"type": "Ready", "status": "True"}]}})
    }
    fn calico_ds() -> Value {
        json!({"metadata": {"name": "calico-node", "namespace": "kube-system"}, "spec": {"selector": {"matchLabels": {"k8s-app": "calico-node"}}, "template": {"spec": {"containers": [{"name": "calico-node", "env": [{"name": "CALICO_IPV4POOL_IPIP", "value": "Always"}]}]}}}, "status": {"desiredNumberScheduled": 3, "numberReady": 0}})
    }
    fn pod(n: &str, node: &str, ready: bool) -> Value {
        json!({"metadata": {"name": n, "namespace": "kube-system"}, "spec": {"nodeName": node, "containers": [{"name": "calico-node"}]}, "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
    }
    fn event(pod: &str, msg: &str) -> Value {
        json!({"metadata": {"name": format!("{pod}.1"), "namespace": "kube-system"}, "involvedObject": {"kind": "Pod", "name": pod}, "reason": "Unhealthy", "message": msg})
    }

    fn results(pods: Vec<Value>, events: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![
                node("cp-1", "10.0.0.11"),
                node("worker-1", "10.0.0.21"),
                node("worker-2", "10.0.0.22"),
            ]),
        );
        r.by_query
            .insert(q::daemonsets(), Outcome::Objects(vec![calico_ds()]));
        r.by_query
            .insert(agent_pods(&calico_ds()).unwrap(), Outcome::Objects(pods));
        r.by_query
            .insert(unhealthy_events("kube-system"), Outcome::Objects(events));
        r.by_query.insert(
            config("kube-system", "Calico").unwrap(),
            Outcome::Objects(vec![json!({"metadata": {"name": "calico-config", "namespace": "kube-system"}, "data": {"calico_backend": "bird"}})]),
        );
        r
    }

    #[test]
    fn bgp_not_established_names_the_filtered_node() {
        let r = results(
            vec![
                pod("calico-node-a", "cp-1", false),
                pod("calico-node-b", "worker-1", false),
                pod("calico-node-c", "worker-2", false),
            ],
            vec![
                event(
                    "calico-node-a",
                    "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.22",
                ),
                event(
                    "calico-node-b",
                    "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.22",
                ),
                event(
                    "calico-node-c",
                    "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.11,10.0.0.21",
                ),
            ],
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary.contains("on worker-2 (10.0.0.22)"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("179/tcp"));
        assert!(f.summary.contains("IP protocol 4"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c
                    == "# on cp-1: can this node open the backend's port on the blocked peers?")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "for ip in 10.0.0.22; do nc -vz -w 3 $ip 179; done")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "sudo firewall-cmd --permanent --add-port=179/tcp")
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("BGP not established with 10.0.0.22"))
        );
    }

    #[test]
    fn a_peer_address_that_matches_no_node_still_places_the_failing_agent() {
        // The peer is redacted in the message and the nodes were captured without addresses:
        // the one agent that fails while the others are Ready is where the path is filtered.
        let mut r = results(
            vec![
                pod("calico-node-a", "cp-1", true),
                pod("calico-node-b", "worker-1", true),
                pod("calico-node-c", "worker-3", false),
            ],
            vec![event(
                "calico-node-c",
                "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 192.168.XX.XX",
            )],
        );
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![
                json!({"metadata": {"name": "cp-1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
                json!({"metadata": {"name": "worker-3"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
            ]),
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!((f.confidence - 0.75).abs() < 1e-6, "{}", f.confidence);
        assert!(
            f.summary.contains("other nodes from worker-3"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("179/tcp"), "{}", f.summary);
        // Every agent failing without a matched peer cannot be placed: less sure.
        let r = results(
            vec![
                pod("calico-node-a", "cp-1", false),
                pod("calico-node-c", "worker-3", false),
            ],
            ["calico-node-a", "calico-node-c"]
                .iter()
                .map(|p| event(p, "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 192.168.XX.XX"))
                .collect(),
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!((f.confidence - 0.7).abs() < 1e-6, "{}", f.confidence);
    }

    #[test]
    fn agent_pods_without_their_daemonset_are_read() {
        let mut r = results(
            vec![],
            vec![event(
                "calico-node-c",
                "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.22",
            )],
        );
        r.by_query.insert(
            q::daemonsets(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        super::super::common::set_pods(
            &mut r,
            &[
                pod("calico-node-a", "cp-1", true),
                pod("calico-node-c", "worker-1", false),
            ],
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary.contains("on worker-2 (10.0.0.22)"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("DaemonSet not captured"))
        );
    }

    #[test]
    fn ready_agents_or_unrelated_probe_failures_are_not_this_cause() {
        let r = results(vec![pod("calico-node-a", "cp-1", true)], vec![]);
        assert_eq!(diagnose(&r, Utc::now()), None);
        let r = results(
            vec![pod("calico-node-a", "cp-1", false)],
            vec![event(
                "calico-node-a",
                "Readiness probe failed: calico/node is not ready: felix is not ready: readiness probe reporting 503",
            )],
        );
        assert_eq!(diagnose(&r, Utc::now()), None);
    }

    #[test]
    fn weave_timeouts_in_logs_are_read() {
        let mut r = results(vec![pod("weave-net-a", "cp-1", false)], vec![]);
        let ds = json!({"metadata": {"name": "weave-net", "namespace": "kube-system"}, "spec": {"selector": {"matchLabels": {"name": "weave-net"}}, "template": {"spec": {"containers": [{"name": "weave"}]}}}, "status": {}});
        r.by_query
            .insert(q::daemonsets(), Outcome::Objects(vec![ds.clone()]));
        let p = json!({"metadata": {"name": "weave-net-a", "namespace": "kube-system"}, "spec": {"nodeName": "cp-1", "containers": [{"name": "weave"}]}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        r.by_query
            .insert(agent_pods(&ds).unwrap(), Outcome::Objects(vec![p.clone()]));
        assert!(queries(&r).contains(&agent_logs(&p).unwrap()));
        r.by_query.insert(agent_logs(&p).unwrap(), Outcome::Text { code: 200, body: "INFO: 2026/01/15 09:59:01.000000 ->[10.0.0.22:6783] connection shutting down due to error during handshake: read tcp4 10.0.0.11:45678->10.0.0.22:6783: i/o timeout\n".into() });
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.summary.contains("6783/tcp"), "{}", f.summary);
        assert!(f.summary.contains("worker-2"));
    }

    #[test]
    fn backend_ports_follow_the_configuration() {
        let ds = calico_ds();
        let ports = |plugin: &str, cfg: Value| -> Vec<&'static str> {
            backend_ports(plugin, &ds, Some(&cfg))
                .into_iter()
                .map(|(_, p)| p)
                .collect()
        };
        assert_eq!(
            ports("Calico", json!({"data": {"calico_backend": "bird"}})),
            ["179/tcp", "IP protocol 4"]
        );
        assert_eq!(
            ports("Calico", json!({"data": {"calico_backend": "vxlan"}})),
            ["4789/udp"]
        );
        assert_eq!(
            ports(
                "flannel",
                json!({"data": {"net-conf.json": "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}"}})
            ),
            ["8472/udp"]
        );
        assert_eq!(
            ports(
                "flannel",
                json!({"data": {"net-conf.json": "{\"Backend\": {\"Type\": \"host-gw\"}}"}})
            ),
            Vec::<&str>::new()
        );
        assert_eq!(ports("Weave Net", json!({})), ["6783/tcp", "6783-6784/udp"]);
    }

    #[test]
    fn the_bird_message_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.22,10.0.0.23",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("overlay-port-blocked")
        );
    }
}
