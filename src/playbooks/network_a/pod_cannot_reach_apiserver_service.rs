//! NET-03 `pod-cannot-reach-apiserver-service`: pods time out on the `kubernetes` Service
//! (`dial tcp 10.96.0.1:443: i/o timeout` in CoreDNS) although the API server is healthy and
//! its endpoints are set. Walks the candidates in the order an expert would: the endpoint
//! address itself (an unroutable NAT NIC such as 10.0.2.15), pod/service ranges overlapping
//! the node network (kubeadm podSubnet/serviceSubnet, Weave's IPALLOC_RANGE — 10.32.0.0/12
//! when unset —, Calico's pool, flannel's Network), kube-proxy missing or failing, and
//! otherwise the node datapath (FORWARD policy, a firewall on 6443 from the pod range).

use crate::playbooks::util::pod_restarts;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    Cidr, and_list, cni_plugin, cond_str, condition, containers, env_value, ev, internal_ip,
    is_control_plane, kubeadm_networking, name, namespace, obj,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "pod-cannot-reach-apiserver-service",
    code: "NET-03",
    title: "Pods cannot reach the API server Service (10.96.0.1)",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["dial tcp 10.96.0.1:443", "i/o timeout"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["dial tcp 10.96.0.1:443"],
            weight: 0.9,
        },
        Symptom {
            all_of: &[":443: i/o timeout", "failed to list"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["error while initiating a connection to the kubernetes api server"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["plugin/kubernetes", "i/o timeout"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

/// Weave Net's allocation range when `IPALLOC_RANGE` is not set.
const WEAVE_DEFAULT_RANGE: &str = "10.32.0.0/12";

fn service() -> Query {
    q::get("", "services", Some("default"), "kubernetes")
}
fn endpoints() -> Query {
    q::get("", "endpoints", Some("default"), "kubernetes")
}
fn readyz() -> Query {
    q::raw("/readyz?verbose")
}
fn kube_proxy_pods() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("k8s-app=kube-proxy"),
        None,
    )
}
fn dns_logs(pod: &str, previous: bool) -> Query {
    q::logs("kube-system", pod, Some("coredns"), previous, Some(100))
}
fn flannel_cfg(ns: &str) -> Query {
    q::get("", "configmaps", Some(ns), "kube-flannel-cfg")
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![
        service(),
        endpoints(),
        readyz(),
        q::nodes(),
        q::daemonsets(),
        q::kubeadm_config(),
        kube_proxy_pods(),
        q::dns_pods(),
    ];
    for p in r.objects(&q::dns_pods()) {
        out.push(dns_logs(name(p), false));
        if pod_restarts(p) > 0 {
            out.push(dns_logs(name(p), true));
        }
    }
    for d in r.objects(&q::daemonsets()) {
        match cni_plugin(d) {
            Some("flannel") => out.push(flannel_cfg(namespace(d))),
            Some("Weave Net") => {
                let wq = weave_pods(namespace(d));
                // Round 3: Weave prints the range it really allocates from when it starts.
                if let Some(p) = r.objects(&wq).first() {
                    out.push(weave_logs(p));
                }
                out.push(wq);
            }
            _ => {}
        }
    }
    out
}

fn weave_pods(ns: &str) -> Query {
    q::list("", "pods", Some(ns), Some("name=weave-net"), None)
}
fn weave_logs(pod: &Value) -> Query {
    q::logs(namespace(pod), name(pod), Some("weave"), false, Some(500))
}

/// Weave's start-up line naming its allocation range: the pod and the `ipalloc-range:` token.
fn weave_range_line(r: &Results) -> Option<(String, String)> {
    r.objects(&q::daemonsets())
        .iter()
        .filter(|d| cni_plugin(d) == Some("Weave Net"))
        .find_map(|d| {
            let p = r.objects(&weave_pods(namespace(d))).first()?;
            let log = r.text(&weave_logs(p))?;
            let token = log
                .lines()
                .filter(|l| l.contains("Command line options"))
                .flat_map(|l| l.split([' ', '[', ']']))
                .find(|t| t.starts_with("ipalloc-range:"))?;
            Some((obj("Pod", p), token.to_string()))
        })
}

/// A pod network or service range and where it is configured.
struct Range {
    what: String,
    object: String,
    field: String,
    cidr: Cidr,
    /// How the value reads in evidence (`10.32.0.0/12`, or `unset: default 10.32.0.0/12`).
    shown: String,
}

fn ranges(r: &Results) -> Vec<Range> {
    let mut out = Vec::new();
    for d in r.objects(&q::daemonsets()) {
        let plugin = cni_plugin(d);
        let env = |var: &str| {
            containers(d)
                .into_iter()
                .find_map(|c| env_value(c, var).map(str::to_string))
        };
        match plugin {
            Some("Weave Net") => {
                let (v, shown) = match env("IPALLOC_RANGE") {
                    Some(v) => (v.clone(), v),
                    None => (
                        WEAVE_DEFAULT_RANGE.to_string(),
                        format!("unset: Weave's default {WEAVE_DEFAULT_RANGE}"),
                    ),
                };
                if let Some(cidr) = Cidr::parse(&v) {
                    out.push(Range {
                        what: "Weave IPALLOC_RANGE".into(),
                        object: obj("DaemonSet", d),
                        field: "spec.template.spec.containers[weave].env[IPALLOC_RANGE]".into(),
                        cidr,
                        shown,
                    });
                }
            }
            Some("Calico") | Some("Canal") => {
                if let Some(cidr) = env("CALICO_IPV4POOL_CIDR").and_then(|v| Cidr::parse(&v)) {
                    out.push(Range {
                        what: "Calico IP pool".into(),
                        object: obj("DaemonSet", d),
                        field:
                            "spec.template.spec.containers[calico-node].env[CALICO_IPV4POOL_CIDR]"
                                .into(),
                        cidr,
                        shown: cidr.to_string(),
                    });
                }
            }
            Some("flannel") => {
                let network = r
                    .objects(&flannel_cfg(namespace(d)))
                    .first()
                    .and_then(|c| c.pointer("/data/net-conf.json"))
                    .and_then(Value::as_str)
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                    .and_then(|v| {
                        v.get("Network")
                            .and_then(Value::as_str)
                            .and_then(Cidr::parse)
                    });
                if let Some(cidr) = network {
                    out.push(Range {
                        what: "flannel Network".into(),
                        object: format!("ConfigMap/{}/kube-flannel-cfg", namespace(d)),
                        field: "data[net-conf.json].Network".into(),
                        cidr,
                        shown: cidr.to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    // kubeadm's ranges after the CNI's: the CNI's own range is what pods really use.
    if let Some(net) = r
        .objects(&q::kubeadm_config())
        .first()
        .and_then(kubeadm_networking)
    {
        for (what, v) in [
            ("kubeadm podSubnet", net.pod_subnet),
            ("kubeadm serviceSubnet", net.service_subnet),
        ] {
            for part in v.unwrap_or_default().split(',') {
                if let Some(cidr) = Cidr::parse(part) {
                    out.push(Range {
                        what: what.into(),
                        object: "ConfigMap/kube-system/kubeadm-config".into(),
                        field: format!(
                            "data.ClusterConfiguration.networking.{}",
                            if what.ends_with("podSubnet") {
                                "podSubnet"
                            } else {
                                "serviceSubnet"
                            }
                        ),
                        cidr,
                        shown: cidr.to_string(),
                    });
                }
            }
        }
    }
    out
}

/// Which way the pods fail to reach the Service.
enum Cause {
    Endpoint {
        ip: String,
        nat: bool,
    },
    Overlap {
        range: usize,
        nodes: Vec<(String, String)>,
    },
    ServiceOverlap {
        service: usize,
        pods: usize,
    },
    KubeProxy {
        detail: String,
    },
    Datapath,
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let svc_ip = r
        .objects(&service())
        .first()
        .and_then(|s| s.pointer("/spec/clusterIP"))
        .and_then(Value::as_str)
        .unwrap_or("10.96.0.1")
        .to_string();
    let target = format!("dial tcp {svc_ip}:443");
    // The symptom: a pod's log shows it cannot connect to the Service.
    let mut symptom: Option<(String, String, String)> = None;
    let mut failing_pods = 0;
    let dns = r.objects(&q::dns_pods());
    for p in dns {
        let mut found = None;
        for prev in [false, true] {
            if let Some(t) = r.text(&dns_logs(name(p), prev)) {
                let line = t.lines().rev().find(|l| {
                    l.contains(&target)
                        && (l.contains("i/o timeout") || l.contains("no route to host"))
                });
                if let Some(l) = line {
                    found = Some((
                        obj("Pod", p),
                        if prev {
                            "log[coredns] (previous)"
                        } else {
                            "log[coredns]"
                        }
                        .to_string(),
                        l.trim().to_string(),
                    ));
                    break;
                }
            }
        }
        if let Some(f) = found {
            failing_pods += 1;
            symptom.get_or_insert(f);
        }
    }
    let (sym_obj, sym_field, sym_line) = symptom?;

    let nodes = r.objects(&q::nodes());
    let node_ips: Vec<(String, String)> = nodes
        .iter()
        .filter_map(|n| internal_ip(n).map(|ip| (name(n).to_string(), ip.to_string())))
        .collect();
    let ep_ips: Vec<String> = r
        .objects(&endpoints())
        .first()
        .and_then(|e| e.get("subsets"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            s.get("addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|a| a.get("ip").and_then(Value::as_str).map(str::to_string))
        .collect();
    let readyz_ok = matches!(r.outcome(&readyz()), Some(Outcome::Text { code: 200, .. }));

    let mut evidence: Vec<Evidence> = vec![ev(sym_obj, sym_field, sym_line)];
    if failing_pods > 1 {
        evidence.push(ev(
            "Pod/kube-system/coredns-*",
            "log[coredns]",
            format!(
                "{failing_pods} of {} CoreDNS pods log the same timeout",
                dns.len()
            ),
        ));
    }
    if let Some(p) = dns.first()
        && let Some(c) = condition(p, "Ready")
        && cond_str(c, "status") != "True"
    {
        evidence.push(ev(
            obj("Pod", p),
            "status.conditions[Ready]",
            format!("{} {}", cond_str(c, "status"), cond_str(c, "message")),
        ));
    }
    evidence.push(ev(
        "Endpoints/default/kubernetes",
        "subsets[].addresses[].ip",
        if ep_ips.is_empty() {
            "<none>".to_string()
        } else {
            ep_ips.join(", ")
        },
    ));
    if readyz_ok {
        evidence.push(ev(
            "apiserver",
            "GET /readyz?verbose",
            "200: readyz check passed",
        ));
    }

    // 1. The endpoint itself.
    let ranges = ranges(r);
    let mut cause = None;
    for ip in &ep_ips {
        let nat = Cidr::parse("10.0.2.0/24").is_some_and(|c| c.contains(ip));
        let is_node = node_ips.iter().any(|(_, n)| n == ip);
        if nat || (!is_node && !node_ips.is_empty()) {
            cause = Some(Cause::Endpoint {
                ip: ip.clone(),
                nat,
            });
            break;
        }
    }
    // 2. Ranges overlapping the node network, or the service range overlapping a pod range.
    if cause.is_none() {
        for (i, rg) in ranges.iter().enumerate() {
            let inside: Vec<(String, String)> = node_ips
                .iter()
                .filter(|(_, ip)| rg.cidr.contains(ip))
                .cloned()
                .collect();
            if !inside.is_empty() {
                cause = Some(Cause::Overlap {
                    range: i,
                    nodes: inside,
                });
                break;
            }
        }
    }
    if cause.is_none()
        && let Some(s) = ranges
            .iter()
            .position(|x| x.what == "kubeadm serviceSubnet")
        && let Some(p) = ranges
            .iter()
            .position(|x| x.what != "kubeadm serviceSubnet" && x.cidr.overlaps(&ranges[s].cidr))
    {
        cause = Some(Cause::ServiceOverlap {
            service: s,
            pods: p,
        });
    }
    // 3. kube-proxy.
    let proxy_ds = r
        .objects(&q::daemonsets())
        .iter()
        .find(|d| name(d) == "kube-proxy" && namespace(d) == "kube-system");
    let proxy_pods = r.objects(&kube_proxy_pods());
    let proxy_bad: Vec<&Value> = proxy_pods
        .iter()
        .filter(|p| {
            condition(p, "Ready").is_none_or(|c| cond_str(c, "status") != "True")
                || pod_restarts(p) > 3
        })
        .collect();
    if cause.is_none() {
        if proxy_ds.is_none() && proxy_pods.is_empty() {
            cause = Some(Cause::KubeProxy {
                detail:
                    "no kube-proxy DaemonSet and no kube-proxy pods (no Service VIP is programmed)"
                        .into(),
            });
        } else if !proxy_bad.is_empty() {
            cause = Some(Cause::KubeProxy {
                detail: format!(
                    "{} of {} kube-proxy pods not Ready or restarting ({})",
                    proxy_bad.len(),
                    proxy_pods.len(),
                    proxy_bad
                        .iter()
                        .map(|p| name(p).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    let cause = cause.unwrap_or(Cause::Datapath);

    let cp = nodes
        .iter()
        .find(|n| is_control_plane(n))
        .map(|n| name(n).to_string())
        .unwrap_or_else(|| "the control-plane node".into());
    let all_nodes: Vec<String> = node_ips.iter().map(|(n, _)| n.clone()).collect();
    let pod_range = ranges
        .iter()
        .find(|x| x.what != "kubeadm serviceSubnet")
        .map(|x| x.cidr.to_string())
        .unwrap_or_else(|| "10.244.0.0/16".into());
    let ep = ep_ips.first().cloned().unwrap_or_default();
    let probe = format!(
        "kubectl run netcheck --rm -it --restart=Never --image=curlimages/curl --overrides='{{\"spec\":{{\"nodeName\":\"{}\"}}}}' -- curl -sk -m 5 https://{svc_ip}/version",
        all_nodes.last().cloned().unwrap_or_default()
    );
    let mut ruled_out = Vec::new();
    if readyz_ok {
        ruled_out.push("The API server itself: /readyz answers 200 and kubectl works through the control-plane endpoint.".to_string());
    }
    if !ep_ips.is_empty() {
        ruled_out.push(format!(
            "A Service without endpoints: default/kubernetes has {}.",
            ep_ips.join(", ")
        ));
    }
    ruled_out.push("A CoreDNS configuration problem: CoreDNS cannot even list objects from the API; its Corefile is not involved.".to_string());

    let (summary, explanation, mut commands, confidence) = match cause {
        Cause::Endpoint { ip, nat } => {
            evidence.push(ev(
                "Node/*",
                "status.addresses[InternalIP]",
                node_ips
                    .iter()
                    .map(|(n, i)| format!("{n}={i}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            ruled_out.push("kube-proxy: it programs the VIP faithfully; the address it forwards to is the problem.".into());
            (
                format!(
                    "The kubernetes Service forwards to {ip}, {}: pods reach 10.96.0.1 but are sent to an address they cannot route to, so every in-cluster client times out.",
                    if nat {
                        "the VirtualBox/Vagrant NAT address every VM has (the API server advertises its default-route NIC)"
                    } else {
                        "which is no node's InternalIP (the API server advertises the wrong NIC)"
                    }
                ),
                format!(
                    "The API server publishes its --advertise-address into Endpoints default/kubernetes, and kube-proxy sends 10.96.0.1:443 there. {ip} is the NIC of the default route, not the network the nodes share. Set --advertise-address to the node's InternalIP in /etc/kubernetes/manifests/kube-apiserver.yaml on {cp} (the kubelet restarts the static pod), and start kubelets with --node-ip on that network; the endpoint changes within seconds and CoreDNS becomes Ready."
                ),
                vec![
                    "kubectl get endpoints kubernetes -n default -o wide".to_string(),
                    format!("# on {cp}: which address does the apiserver advertise?"),
                    "sudo grep -- --advertise-address /etc/kubernetes/manifests/kube-apiserver.yaml".into(),
                    "ip -4 route get 1.1.1.1; ip -4 addr".into(),
                    format!(
                        "sudo sed -i 's/--advertise-address={ip}/--advertise-address={}/' /etc/kubernetes/manifests/kube-apiserver.yaml",
                        node_ips.iter().find(|(n, _)| *n == cp).map(|(_, i)| i.clone()).unwrap_or_else(|| "NODE_IP".into())
                    ),
                    "echo 'KUBELET_EXTRA_ARGS=--node-ip=NODE_IP' | sudo tee /etc/default/kubelet && sudo systemctl restart kubelet".into(),
                ],
                0.9,
            )
        }
        Cause::Overlap {
            range,
            nodes: inside,
        } => {
            let rg = &ranges[range];
            evidence.push(ev(rg.object.clone(), rg.field.clone(), rg.shown.clone()));
            if rg.what.starts_with("Weave")
                && let Some((pod, token)) = weave_range_line(r)
            {
                evidence.push(ev(pod, "log[weave] Command line options", token));
            }
            evidence.push(ev(
                "Node/*",
                "status.addresses[InternalIP]",
                format!(
                    "{} inside {}",
                    inside
                        .iter()
                        .map(|(n, i)| format!("{n}={i}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    rg.cidr
                ),
            ));
            for other in ranges
                .iter()
                .filter(|x| x.what != rg.what && x.what != "kubeadm serviceSubnet")
            {
                evidence.push(ev(
                    other.object.clone(),
                    other.field.clone(),
                    other.cidr.to_string(),
                ));
            }
            ruled_out.push(format!(
                "kube-proxy: {} kube-proxy pods run; the VIP is translated, but the answer to a pod address inside the node network goes out the wrong way.",
                proxy_pods.len()
            ));
            ruled_out.push("The advertise address: the endpoint is a node InternalIP.".into());
            let node_cidrs: Vec<Cidr> = node_ips
                .iter()
                .filter_map(|(_, ip)| Cidr::parse(&format!("{ip}/24")))
                .collect();
            let svc = ranges
                .iter()
                .find(|x| x.what == "kubeadm serviceSubnet")
                .map(|x| x.cidr);
            let new_range = ["10.244.0.0/16", "172.30.0.0/16", "192.168.128.0/17"]
                .iter()
                .filter_map(|s| Cidr::parse(s))
                .find(|c| {
                    !node_cidrs.iter().any(|n| n.overlaps(c)) && svc.is_none_or(|s| !s.overlaps(c))
                })
                .map(|c| c.to_string())
                .unwrap_or_else(|| "a range no node or service uses".into());
            let mut cmds = vec![format!(
                "kubectl get nodes -o custom-columns=NAME:.metadata.name,IP:.status.addresses[0].address   # inside {}",
                rg.cidr
            )];
            let summary = format!(
                "The {} {} overlaps the node network ({}): pod addresses and node addresses share routes, so replies from the API server at {ep} never get back to pods and `dial tcp {svc_ip}:443` times out.",
                rg.what,
                rg.cidr,
                and_list(
                    &inside
                        .iter()
                        .map(|(n, i)| format!("{n} {i}"))
                        .collect::<Vec<_>>()
                )
            );
            let explanation;
            if rg.what.starts_with("Weave") {
                explanation = format!(
                    "Weave Net allocates pod addresses from IPALLOC_RANGE ({}) and routes that whole range over the weave bridge, ignoring kubeadm's podSubnet. The nodes' own addresses lie inside it, so traffic between pods and the API server endpoint takes the wrong route. Give Weave a range that overlaps neither the nodes nor the Service range ({new_range}; make kubeadm's podSubnet and kube-proxy's clusterCIDR match it), delete its persisted allocation on every node, and restart the weave-net pods and then the pods that got old addresses. On a node, `ip route | grep weave` shows the weave route covering the node's own subnet before the fix.",
                    rg.cidr
                );
                cmds.extend([
                    format!("# on {cp}: the weave route covers the node's own subnet"),
                    "ip -4 route; ip -4 addr show".into(),
                    format!("kubectl -n kube-system set env daemonset/weave-net -c weave IPALLOC_RANGE={new_range}"),
                    format!("# on each of {}: drop Weave's persisted IP allocation", and_list(&all_nodes)),
                    "sudo rm -f /var/lib/weave/weave-netdata.db".into(),
                    "kubectl -n kube-system delete pod -l name=weave-net".into(),
                ]);
            } else if rg.what.starts_with("Calico") {
                explanation = format!(
                    "Calico routes its pool {} over the tunnel, and the nodes' own addresses lie inside it. Create a pool that overlaps neither the nodes nor the Service range ({new_range}), disable the old one, and recreate the pods that hold old addresses.",
                    rg.cidr
                );
                cmds.extend([
                    format!("calicoctl create -f - <<'EOF'\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pods-v2\nspec:\n  cidr: {new_range}\n  ipipMode: Always\n  natOutgoing: true\nEOF"),
                    "calicoctl patch ippool default-ipv4-ippool -p '{\"spec\": {\"disabled\": true}}'".into(),
                ]);
            } else {
                explanation = format!(
                    "The {} ({}) contains the nodes' own addresses, so pod routes and node routes collide. The pod network must be re-planned to a range the nodes do not use ({new_range}): on a kubeadm cluster that means the CNI's pool, kube-controller-manager's --cluster-cidr and kube-proxy's clusterCIDR together.",
                    rg.what, rg.cidr
                );
                cmds.push(
                    "kubectl -n kube-system get cm kubeadm-config -o yaml | grep -A3 networking"
                        .into(),
                );
            }
            cmds.push("kubectl -n kube-system rollout restart deployment/coredns".into());
            // Every CoreDNS pod timing out plus an overlap of the node network is decisive.
            let conf = if failing_pods == dns.len() {
                0.93
            } else {
                0.88
            };
            (summary, explanation, cmds, conf)
        }
        Cause::ServiceOverlap { service, pods } => {
            let (s, p) = (&ranges[service], &ranges[pods]);
            evidence.push(ev(s.object.clone(), s.field.clone(), s.shown.clone()));
            evidence.push(ev(p.object.clone(), p.field.clone(), p.shown.clone()));
            (
                format!(
                    "The Service range {} overlaps the {} {}: {svc_ip} is also a pod-network address, so pods' packets to it are routed as pod traffic and time out.",
                    s.cidr, p.what, p.cidr
                ),
                "Service and pod ranges must be disjoint. Re-plan one of them (the pod range is usually easier to change in the CNI); kube-proxy's clusterCIDR and kube-controller-manager's --cluster-cidr must follow.".to_string(),
                vec!["kubectl -n kube-system get cm kubeadm-config -o yaml | grep -A3 networking".to_string()],
                0.85,
            )
        }
        Cause::KubeProxy { detail } => {
            evidence.push(ev(
                "DaemonSet/kube-system/kube-proxy",
                "status / pods",
                detail.clone(),
            ));
            (
                format!("kube-proxy is not programming the Service VIP ({detail}), so {svc_ip}:443 leads nowhere from pods."),
                "Every node's kube-proxy translates 10.96.0.1:443 to the API server endpoints. Restore it (kubeadm's addon phase re-creates the DaemonSet and ConfigMap), read its logs for the reason it fails, and check on a node that the KUBE-SERVICES chain holds the VIP.".to_string(),
                vec![
                    "kubectl -n kube-system logs ds/kube-proxy --tail 50".to_string(),
                    format!("# on {cp}: re-create the kube-proxy add-on if it is missing"),
                    "sudo kubeadm init phase addon kube-proxy --config <(kubectl -n kube-system get cm kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')".into(),
                    format!("sudo iptables -t nat -S KUBE-SERVICES | grep {svc_ip}"),
                ],
                0.85,
            )
        }
        Cause::Datapath => (
            format!(
                "Pods time out on {svc_ip}:443 while the API server is healthy, its endpoints ({}) are node addresses, no range overlaps and kube-proxy runs: the node datapath drops the traffic (FORWARD policy DROP, or a firewall on {ep}:6443 for the pod range {pod_range}).",
                ep_ips.join(", ")
            ),
            format!(
                "The API can only narrow it to the datapath; confirm on the nodes. `iptables -S FORWARD | head -1` printing `-P FORWARD DROP` (Docker sets it) with no CNI ACCEPT rules drops forwarded pod traffic; firewalld on {cp} may reject 6443 from {pod_range}. A debug pod pinned to a node shows whether the VIP answers from there."
            ),
            vec![
                format!("# on each node ({}):", and_list(&all_nodes)),
                "sudo iptables -S FORWARD | head -3".to_string(),
                "sudo iptables -P FORWARD ACCEPT".into(),
                format!("# on {cp}: allow the pod range to the API server"),
                format!(
                    "sudo firewall-cmd --permanent --add-rich-rule='rule family=ipv4 source address={pod_range} port port=6443 protocol=tcp accept' && sudo firewall-cmd --reload"
                ),
            ],
            0.55,
        ),
    };
    commands.insert(0, probe);
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation,
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(n: &str, ip: &str) -> Value {
        json!({"metadata": {"name": n, "labels": if n.starts_with("cp") {json!({"node-role.kubernetes.io/control-plane": ""})} else {json!({})}}, "status": {"addresses": [{"type": "InternalIP", "address": ip}], "conditions": [{"type": "Ready", "status": "True"}]}})
    }

    fn results(node_ips: &[(&str, &str)], endpoint: &str, dss: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            service(),
            Outcome::Objects(vec![json!({"spec": {"clusterIP": "10.96.0.1"}})]),
        );
        r.by_query.insert(
            endpoints(),
            Outcome::Objects(vec![
                json!({"subsets": [{"addresses": [{"ip": endpoint}], "ports": [{"port": 6443}]}]}),
            ]),
        );
        r.by_query.insert(
            readyz(),
            Outcome::Text {
                code: 200,
                body: "readyz check passed".into(),
            },
        );
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(node_ips.iter().map(|(n, i)| node(n, i)).collect()),
        );
        r.by_query.insert(q::daemonsets(), Outcome::Objects(dss));
        r.by_query.insert(q::kubeadm_config(), Outcome::Objects(vec![json!({"data": {"ClusterConfiguration": "networking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n"}})]));
        r.by_query.insert(kube_proxy_pods(), Outcome::Objects(vec![json!({"metadata": {"name": "kube-proxy-a"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}})]));
        r.by_query.insert(q::dns_pods(), Outcome::Objects(vec![json!({"metadata": {"name": "coredns-a", "namespace": "kube-system"}, "status": {"conditions": [{"type": "Ready", "status": "False", "message": "containers with unready status: [coredns]"}]}})]));
        r.by_query.insert(dns_logs("coredns-a", false), Outcome::Text { code: 200, body: "[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.29.3/tools/cache/reflector.go:229: Failed to watch *v1.Namespace: failed to list *v1.Namespace: Get \"https://10.96.0.1:443/api/v1/namespaces?limit=500&resourceVersion=0\": dial tcp 10.96.0.1:443: i/o timeout\n".into() });
        r
    }

    fn weave(env: Option<&str>) -> Value {
        let mut c = json!({"name": "weave", "env": [{"name": "HOSTNAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]});
        if let Some(v) = env {
            c["env"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "IPALLOC_RANGE", "value": v}));
        }
        json!({"metadata": {"name": "weave-net", "namespace": "kube-system"}, "spec": {"template": {"spec": {"containers": [c]}}}})
    }

    #[test]
    fn weave_default_range_over_the_node_network_is_found() {
        let r = results(
            &[("cp-1", "10.32.0.11"), ("worker-1", "10.32.0.21")],
            "10.32.0.11",
            vec![weave(None)],
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary
                .contains("Weave IPALLOC_RANGE 10.32.0.0/12 overlaps the node network"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence[0]
                .value
                .contains("dial tcp 10.96.0.1:443: i/o timeout")
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value == "unset: Weave's default 10.32.0.0/12")
        );
        assert!(f.fix.commands.iter().any(|c| c == "kubectl -n kube-system set env daemonset/weave-net -c weave IPALLOC_RANGE=10.244.0.0/16"));
        assert!(f.confidence >= 0.9);
    }

    #[test]
    fn a_nat_endpoint_is_found_before_anything_else() {
        let r = results(&[("cp-1", "192.168.56.10")], "10.0.2.15", vec![]);
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.summary.contains("forwards to 10.0.2.15"), "{}", f.summary);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("--advertise-address=192.168.56.10"))
        );
    }

    #[test]
    fn without_overlap_or_proxy_trouble_the_datapath_is_left() {
        let r = results(
            &[("cp-1", "10.0.0.11")],
            "10.0.0.11",
            vec![weave(Some("10.244.0.0/16"))],
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.summary.contains("node datapath"), "{}", f.summary);
        assert!(f.confidence < 0.7);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "sudo iptables -S FORWARD | head -3")
        );
    }

    #[test]
    fn missing_kube_proxy_is_named_when_no_range_overlaps() {
        let mut r = results(&[("cp-1", "10.0.0.11")], "10.0.0.11", vec![]);
        r.by_query
            .insert(kube_proxy_pods(), Outcome::Objects(vec![]));
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary
                .starts_with("kube-proxy is not programming the Service VIP"),
            "{}",
            f.summary
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("kubeadm init phase addon kube-proxy"))
        );
    }

    #[test]
    fn coredns_without_the_timeout_is_not_this_cause() {
        let mut r = results(&[("cp-1", "10.32.0.11")], "10.32.0.11", vec![weave(None)]);
        r.by_query.insert(
            dns_logs("coredns-a", false),
            Outcome::Text {
                code: 200,
                body: ".:53\nCoreDNS-1.11.3\n".into(),
            },
        );
        assert_eq!(diagnose(&r, Utc::now()), None);
    }

    #[test]
    fn the_coredns_timeout_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Failed to list *v1.Namespace: Get \"https://10.96.0.1:443/api/v1/namespaces?limit=500&resourceVersion=0\": dial tcp 10.96.0.1:443: i/o timeout",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("pod-cannot-reach-apiserver-service")
        );
    }
}
