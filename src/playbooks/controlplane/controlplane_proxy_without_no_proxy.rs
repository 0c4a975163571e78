//! CP-01 controlplane-proxy-without-no-proxy: the static control-plane pods inherited an
//! HTTP(S)_PROXY from the host (kubeadm copies the environment into the manifests) with a
//! NO_PROXY that misses the cluster's own addresses, so kube-controller-manager and
//! kube-scheduler reach the API server through the proxy, which answers `Gateway Timeout`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    self, LeaseState, ev, flag, host_of, internal_ip, kubeadm_config, kubeadm_config_query,
    leases_query, log_query, mirror_pods_query, nodes_query, obj, s,
};
use crate::cluster::proxy::{no_proxy_covers, proxy_vars};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "controlplane-proxy-without-no-proxy",
    code: "CP-01",
    title: "Control-plane components talk to the API server through a proxy (NO_PROXY incomplete)",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["error retrieving resource lock", "gateway timeout"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["error retrieving resource lock", "proxyconnect"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["error retrieving resource lock", "bad gateway"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["leaderelection", "gateway timeout"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["no_proxy", "kube-apiserver"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

/// Texts an HTTP proxy puts where the API server's answer should be.
const PROXY_TEXTS: &[&str] = &[
    "Gateway Timeout",
    "Bad Gateway",
    "proxyconnect tcp",
    "Proxy Authentication Required",
    "Service Unavailable",
];

const LEADER_LEASES: &[&str] = &["kube-controller-manager", "kube-scheduler"];

fn queries(results: &Results) -> Vec<Query> {
    let mut out = vec![
        mirror_pods_query(),
        kubeadm_config_query(),
        nodes_query(),
        leases_query(),
    ];
    for p in common::mirror_pods(results) {
        let comp = common::component(p);
        if LEADER_LEASES.contains(&comp) {
            out.push(log_query(common::name(p), comp));
        }
    }
    out
}

/// The proxy and the NO_PROXY a container's Go client takes for its https traffic (the API
/// server, etcd, webhooks), chosen by Go's precedence (`cluster::proxy::proxy_vars`).
struct ProxyEnv {
    var: String,
    proxy: String,
    no_proxy_var: Option<String>,
    no_proxy: String,
}

fn proxy_env(container: &Value) -> Option<ProxyEnv> {
    // A later entry of the same name overrides an earlier one, as the kubelet does.
    let env: BTreeMap<String, String> = container
        .get("env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| (s(e, "/name").to_string(), s(e, "/value").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let vars = proxy_vars(&env, "https");
    let (var, proxy) = vars.proxy?;
    let (no_proxy_var, no_proxy) = match vars.no_proxy {
        Some((k, v)) => (Some(k), v),
        None => (None, String::new()),
    };
    Some(ProxyEnv {
        var,
        proxy,
        no_proxy_var,
        no_proxy,
    })
}

/// An address the control plane must reach directly: shown as `shown`, checked as `target`
/// at `port` (`None`: every port, as a node IP carries the API server, etcd and the kubelet).
struct Target {
    shown: String,
    target: String,
    port: Option<u16>,
    why: String,
}

impl Target {
    fn every_port(target: &str, why: String) -> Target {
        Target {
            shown: target.to_string(),
            target: target.to_string(),
            port: None,
            why,
        }
    }
}

/// Host and port the components dial for the kubeadm controlPlaneEndpoint; kubeadm uses the
/// API server's bind port when the endpoint names none.
fn endpoint_host_port(endpoint: &str, default_port: u16) -> Option<(String, u16)> {
    let bare = endpoint
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let uri: http::Uri = format!("https://{bare}").parse().ok()?;
    let host = uri.host()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_string(), uri.port_u16().unwrap_or(default_port)))
}

fn diagnose(results: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = common::mirror_pods(results);
    let nodes = results.objects(&nodes_query());
    let cfg = kubeadm_config(results).unwrap_or_default();
    let cp_ips: Vec<(String, String)> = nodes
        .iter()
        .filter(|n| common::is_control_plane(n))
        .filter_map(|n| Some((common::name(n).to_string(), internal_ip(n)?.to_string())))
        .collect();
    let api_port: u16 = pods
        .iter()
        .filter(|p| common::component(p) == "kube-apiserver")
        .find_map(|p| flag(p, "secure-port")?.parse().ok())
        .unwrap_or(6443);

    let mut evidence = Vec::new();
    let mut missing_all: Vec<String> = Vec::new();
    let mut affected: Vec<String> = Vec::new();
    let mut no_proxy_seen = String::new();
    let mut proxy_seen = String::new();
    // The leader-elected components first: their evidence is the one that explains the symptom.
    let mut ordered: Vec<&Value> = pods.clone();
    ordered.sort_by_key(|p| !LEADER_LEASES.contains(&common::component(p)));
    for p in ordered {
        let Some(c) = common::main_container(p) else {
            continue;
        };
        let Some(env) = proxy_env(c) else {
            continue;
        };
        let node = common::node_of(p);
        // What the component must reach directly.
        let mut targets: Vec<Target> = Vec::new();
        let own_ip = cp_ips
            .iter()
            .find(|(n, _)| n == node)
            .map(|(_, ip)| ip.clone())
            .or_else(|| flag(p, "advertise-address"));
        if let Some(ip) = own_ip {
            targets.push(Target::every_port(
                &ip,
                format!("node {node} InternalIP, its API server"),
            ));
        }
        for (n, ip) in &cp_ips {
            if !targets.iter().any(|t| t.target == *ip) {
                targets.push(Target::every_port(ip, format!("control-plane node {n}")));
            }
        }
        if let Some((host, port)) = Some(&cfg.control_plane_endpoint)
            .filter(|e| !e.trim().is_empty())
            .and_then(|e| endpoint_host_port(e, api_port))
        {
            targets.push(Target {
                shown: host_of(&cfg.control_plane_endpoint).to_string(),
                target: host,
                port: Some(port),
                why: "kubeadm controlPlaneEndpoint".into(),
            });
        }
        // A dual-stack subnet is two blocks, `v4/n,v6/m`.
        for (subnet, why) in [
            (&cfg.service_subnet, "serviceSubnet"),
            (&cfg.pod_subnet, "podSubnet"),
        ] {
            for block in subnet.split(',').map(str::trim).filter(|b| !b.is_empty()) {
                targets.push(Target::every_port(block, why.into()));
            }
        }
        let missing: Vec<String> = targets
            .iter()
            .filter(|t| !no_proxy_covers(&env.no_proxy, &t.target, t.port))
            .map(|t| format!("{} ({})", t.shown, t.why))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let cname = s(c, "/name");
        let pod_id = obj(p);
        if affected.is_empty() {
            evidence.push(ev(
                &pod_id,
                format!("spec.containers[{cname}].env[{}]", env.var),
                &env.proxy,
            ));
            evidence.push(ev(
                &pod_id,
                format!(
                    "spec.containers[{cname}].env[{}]",
                    env.no_proxy_var.as_deref().unwrap_or("NO_PROXY")
                ),
                if env.no_proxy.is_empty() {
                    "(not set)".to_string()
                } else {
                    env.no_proxy.clone()
                },
            ));
            evidence.push(ev(&pod_id, "NO_PROXY does not match", missing.join(", ")));
            no_proxy_seen = env.no_proxy.clone();
            proxy_seen = env.proxy.clone();
        }
        for m in missing {
            if !missing_all.contains(&m) {
                missing_all.push(m);
            }
        }
        affected.push(common::name(p).to_string());
    }
    if affected.is_empty() {
        return None;
    }

    // Corroboration: proxy answers in the leader-election logs, stale or missing leases.
    let mut log_hits = 0;
    for p in pods.iter().copied() {
        let comp = common::component(p);
        if !LEADER_LEASES.contains(&comp) {
            continue;
        }
        let Some(text) = results.text(&log_query(common::name(p), comp)) else {
            continue;
        };
        let hits: Vec<&str> = text
            .lines()
            .filter(|l| PROXY_TEXTS.iter().any(|t| l.contains(t)))
            .collect();
        if let Some(last) = hits.last() {
            log_hits += hits.len();
            if evidence
                .iter()
                .filter(|e| e.field.starts_with("log"))
                .count()
                < 2
            {
                evidence.push(ev(obj(p), format!("log[{comp}]"), last.trim_end()));
            }
        }
    }
    let leases = results.objects(&leases_query());
    let mut stale = Vec::new();
    for l in LEADER_LEASES {
        match leases.iter().find(|x| common::name(x) == *l) {
            Some(lease) => {
                let st = LeaseState::read(lease, now);
                if st.expired() {
                    evidence.push(ev(
                        obj(lease),
                        "spec.renewTime",
                        format!(
                            "{} ({} ago, leaseDurationSeconds {}): nobody holds the lock",
                            s(lease, "/spec/renewTime"),
                            st.age.map(common::human).unwrap_or_else(|| "never".into()),
                            st.duration
                        ),
                    ));
                    stale.push(l.to_string());
                }
            }
            None => {
                if pods.iter().any(|p| common::component(p) == *l) {
                    evidence.push(ev(format!("Lease/kube-system/{l}"), "(object)", "missing"));
                    stale.push(l.to_string());
                }
            }
        }
    }

    let cp_list: Vec<&str> = cp_ips.iter().map(|(n, _)| n.as_str()).collect();
    let fixed = suggested_no_proxy(&no_proxy_seen, &cp_ips, &cfg);
    let where_ = if cp_list.is_empty() {
        "each control-plane node".to_string()
    } else {
        cp_list.join(", ")
    };
    let commands = vec![
        format!("# on {where_}: see what the manifests carry"),
        "sudo grep -n -i -A1 '_proxy' /etc/kubernetes/manifests/*.yaml".into(),
        format!(
            "# on {where_}: set NO_PROXY and no_proxy to the complete list (the kubelet restarts the static pods itself)"
        ),
        format!(
            "sudo sed -i 's|value: {}$|value: {fixed}|' /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/manifests/kube-controller-manager.yaml /etc/kubernetes/manifests/kube-scheduler.yaml",
            sed_escape(&no_proxy_seen)
        ),
        "# then, from here: the leases are renewed again within seconds".into(),
        "kubectl get leases -n kube-system kube-controller-manager kube-scheduler".into(),
        format!(
            "# before the next kubeadm init/join/upgrade, export the same list so kubeadm writes it: export NO_PROXY={fixed} no_proxy={fixed}"
        ),
    ];

    let corroborated = log_hits > 0 || !stale.is_empty();
    let (severity, confidence) = match (log_hits > 0, !stale.is_empty()) {
        (true, true) => (FindingSeverity::Critical, 0.96),
        (true, false) => (FindingSeverity::Critical, 0.9),
        (false, true) => (FindingSeverity::Critical, 0.75),
        (false, false) => (FindingSeverity::Info, 0.4),
    };
    let summary = if corroborated {
        format!(
            "{} control-plane pods ({}) send their API server traffic through the proxy {proxy_seen}: NO_PROXY does not cover {}, so leader election fails{}.",
            affected.len(),
            short_list(&affected),
            missing_all.first().cloned().unwrap_or_default(),
            if log_hits > 0 {
                " with the proxy's own error (Gateway Timeout) and controllers stand still"
            } else {
                " and the leader leases are no longer renewed"
            }
        )
    } else {
        format!(
            "{} control-plane pods ({}) carry the proxy {proxy_seen} with a NO_PROXY that misses {}: nothing fails yet, but any call to those addresses will go through the proxy.",
            affected.len(),
            short_list(&affected),
            missing_all.join(", ")
        )
    };
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not an API server outage: `Gateway Timeout`/`Bad Gateway` is an HTTP status a proxy returns; the API server answers errors with a Status object, and it is only reached through the proxy here.".into(),
            "Not the client's proxy (CONN-01): the proxy variables sit in the static pods' own environment (spec.containers[].env of the mirror pods), i.e. in /etc/kubernetes/manifests on the nodes.".into(),
            "Not RBAC (AUTH-02): a Forbidden from RBAC names the user and the verb; these requests never reach authorization.".into(),
            if log_hits > 0 {
                "Not plain leader-election latency (CP-04): the lock cannot even be read, and the error text comes from the proxy.".into()
            } else {
                "Leader-election latency (CP-04) would show timeouts, not a proxy in the pods' environment; check the component logs to be sure.".into()
            },
        ],
        fix: Fix {
            explanation: format!(
                "kubeadm copies the host's proxy variables into the static pod manifests. Extend NO_PROXY/no_proxy (both spellings) with every address the control plane uses internally: the node IPs, the controlPlaneEndpoint, 127.0.0.1/localhost, the service CIDR{} and the pod CIDR{}, plus .svc and .cluster.local. Old Go releases ignore CIDR entries; list the node IPs explicitly as well. Edit the three manifests on every control-plane node; `grep` must then show the new value, and `kubectl get leases` a renewTime of a few seconds ago. Set the same NO_PROXY in the containerd/docker systemd drop-in if the runtime has a proxy.",
                if cfg.service_subnet.is_empty() { String::new() } else { format!(" ({})", cfg.service_subnet) },
                if cfg.pod_subnet.is_empty() { String::new() } else { format!(" ({})", cfg.pod_subnet) },
            ),
            commands,
        },
    })
}

fn short_list(items: &[String]) -> String {
    if items.len() <= 3 {
        items.join(", ")
    } else {
        format!("{}, … and {} more", items[..2].join(", "), items.len() - 2)
    }
}

fn sed_escape(s: &str) -> String {
    s.replace('.', "\\.").replace('*', "\\*")
}

/// The current NO_PROXY extended with what the cluster needs.
fn suggested_no_proxy(
    current: &str,
    cp_ips: &[(String, String)],
    cfg: &common::KubeadmConfig,
) -> String {
    let mut out: Vec<String> = current
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    let mut want: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    want.extend(cp_ips.iter().map(|(_, ip)| ip.clone()));
    if !cfg.control_plane_endpoint.is_empty() {
        want.push(host_of(&cfg.control_plane_endpoint).to_string());
    }
    for sub in [&cfg.service_subnet, &cfg.pod_subnet] {
        if !sub.is_empty() {
            want.push(sub.clone());
        }
    }
    want.extend([".svc".to_string(), ".cluster.local".to_string()]);
    for w in want {
        if !out.iter().any(|e| e == &w) {
            out.push(w);
        }
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        common::parse_time("2026-01-15T10:00:00Z").unwrap()
    }

    fn pod(component: &str, node: &str, env: Value) -> Value {
        json!({"kind": "Pod", "metadata": {"name": format!("{component}-{node}"), "namespace": "kube-system", "labels": {"component": component, "tier": "control-plane"}},
            "spec": {"nodeName": node, "containers": [{"name": component, "command": [component, "--advertise-address=10.0.0.11"], "env": env}]}})
    }

    const CLUSTER_CONFIGURATION: &str = "controlPlaneEndpoint: k8s-api.lab.internal:6443\nnetworking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n";

    fn results(env: Value, log: &str, renew: &str) -> Results {
        results_with(env, log, renew, CLUSTER_CONFIGURATION)
    }

    fn results_with(env: Value, log: &str, renew: &str, cluster_config: &str) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            mirror_pods_query(),
            Outcome::Objects(vec![
                pod("kube-controller-manager", "cp-1", env.clone()),
                pod("kube-apiserver", "cp-1", env),
            ]),
        );
        r.by_query.insert(
            nodes_query(),
            Outcome::Objects(vec![json!({"kind": "Node", "metadata": {"name": "cp-1", "labels": {"node-role.kubernetes.io/control-plane": ""}}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"}]}})]),
        );
        r.by_query.insert(
            kubeadm_config_query(),
            Outcome::Objects(vec![json!({"kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"}, "data": {"ClusterConfiguration": cluster_config}})]),
        );
        r.by_query.insert(
            leases_query(),
            Outcome::Objects(vec![json!({"kind": "Lease", "metadata": {"name": "kube-controller-manager", "namespace": "kube-system"}, "spec": {"holderIdentity": "cp-1_x", "leaseDurationSeconds": 15, "renewTime": renew}})]),
        );
        r.by_query.insert(
            log_query("kube-controller-manager-cp-1", "kube-controller-manager"),
            Outcome::Text {
                code: 200,
                body: log.into(),
            },
        );
        r
    }

    const LOG: &str = "E0115 09:59:54.136036       1 leaderelection.go:436] error retrieving resource lock kube-system/kube-controller-manager: Get \"https://10.0.0.11:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager?timeout=5s\": Gateway Timeout\n";

    fn proxy_env() -> Value {
        json!([{"name": "HTTPS_PROXY", "value": "http://proxy.corp.example:3128"}, {"name": "NO_PROXY", "value": "localhost,127.0.0.1,.corp.example"}])
    }

    #[test]
    fn proxy_without_node_ips_and_gateway_timeout_is_critical() {
        let f = diagnose(
            &results(proxy_env(), LOG, "2026-01-15T09:50:00.000000Z"),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(f.summary.contains("http://proxy.corp.example:3128"));
        let missing = f
            .evidence
            .iter()
            .find(|e| e.field == "NO_PROXY does not match")
            .unwrap();
        assert!(missing.value.contains("10.0.0.11"));
        assert!(missing.value.contains("10.96.0.0/12"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("Gateway Timeout"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("10.0.0.11") && c.contains("sed -i"))
        );
        assert!(f.fix.commands.iter().any(|c| c.starts_with("# on cp-1")));
    }

    #[test]
    fn complete_no_proxy_is_fine() {
        let env = json!([{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}, {"name": "NO_PROXY", "value": "localhost,127.0.0.1,10.0.0.0/8,.lab.internal"}]);
        assert!(diagnose(&results(env, LOG, "2026-01-15T09:59:59.000000Z"), now()).is_none());
    }

    /// What CP-01 reports missing for a pod env, by Go's NO_PROXY rules (`cluster::proxy`, whose
    /// tests mirror Go's `UseProxyTests`/`proxyForURLTests`): `None` when nothing is missing.
    /// The node is 10.0.0.11, the endpoint k8s-api.lab.internal:6443, unless `cluster_config`
    /// says otherwise.
    #[test]
    fn missing_addresses_follow_go_no_proxy_rules() {
        let full = "localhost,127.0.0.1,10.0.0.0/8";
        let ep = "k8s-api.lab.internal (kubeadm controlPlaneEndpoint)";
        let dual = "controlPlaneEndpoint: k8s-api.lab.internal:6443\nnetworking:\n  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n  serviceSubnet: 10.96.0.0/12,fd00:10:96::/112\n";
        let https = |no_proxy: &str| json!([{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}, {"name": "NO_PROXY", "value": no_proxy}]);
        let cases: Vec<(&str, Value, &str, Option<String>)> = vec![
            // `.lab.internal` covers the endpoint's subdomain-of-a-domain name.
            ("suffix", https(&format!("{full},.lab.internal")), CLUSTER_CONFIGURATION, None),
            // `foo.com` covers foo.com itself (Go: "example.com" vs example.com).
            ("bare", https(&format!("{full},k8s-api.lab.internal")), CLUSTER_CONFIGURATION, None),
            // `.foo.com` does not cover foo.com (Go: ".example.com" vs example.com); the old
            // CP-01 matcher said it did.
            ("dot", https(&format!("{full},.k8s-api.lab.internal")), CLUSTER_CONFIGURATION, Some(ep.into())),
            ("star", https(&format!("{full},*.k8s-api.lab.internal")), CLUSTER_CONFIGURATION, Some(ep.into())),
            // A port in the entry must be the port dialled (Go: 192.168.1.2:81 at :80).
            ("port-ok", https(&format!("{full},k8s-api.lab.internal:6443")), CLUSTER_CONFIGURATION, None),
            ("port-other", https(&format!("{full},k8s-api.lab.internal:443")), CLUSTER_CONFIGURATION, Some(ep.into())),
            // A node IP carries more than one port: an entry with a port does not cover it.
            (
                "node-port",
                https("localhost,10.0.0.11:6443,k8s-api.lab.internal,10.96.0.0/12,10.244.0.0/16"),
                CLUSTER_CONFIGURATION,
                Some("10.0.0.11 (node cp-1 InternalIP, its API server)".into()),
            ),
            // Blocks covered by several entries together.
            (
                "union",
                https("10.0.0.11,k8s-api.lab.internal,10.96.0.0/13,10.104.0.0/13,10.244.0.0/17,10.244.128.0/17"),
                CLUSTER_CONFIGURATION,
                None,
            ),
            // Dual-stack subnets are two blocks each; IPv6 blocks are matched too.
            (
                "dual",
                https(&format!("{full},.lab.internal,fd00:10:244::/56,fd00:10:96::/108")),
                dual,
                None,
            ),
            (
                "dual-missing",
                https(&format!("{full},.lab.internal,fd00:10:244::/56")),
                dual,
                Some("fd00:10:96::/112 (serviceSubnet)".into()),
            ),
            // Go reads NO_PROXY and ignores no_proxy once NO_PROXY is set; the lists do not merge.
            (
                "precedence",
                json!([{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}, {"name": "NO_PROXY", "value": "localhost,.lab.internal"}, {"name": "no_proxy", "value": "10.0.0.0/8"}]),
                CLUSTER_CONFIGURATION,
                Some("10.0.0.11 (node cp-1 InternalIP, its API server), 10.96.0.0/12 (serviceSubnet), 10.244.0.0/16 (podSubnet)".into()),
            ),
            // HTTP_PROXY alone does not apply to the https traffic of the control plane.
            (
                "http-only",
                json!([{"name": "HTTP_PROXY", "value": "http://proxy:3128"}, {"name": "NO_PROXY", "value": "localhost"}]),
                CLUSTER_CONFIGURATION,
                None,
            ),
        ];
        for (name, env, cfg, want) in cases {
            let f = diagnose(
                &results_with(env, LOG, "2026-01-15T09:59:59.000000Z", cfg),
                now(),
            );
            let got = f.map(|f| {
                f.evidence
                    .into_iter()
                    .find(|e| e.field == "NO_PROXY does not match")
                    .map(|e| e.value)
                    .unwrap_or_default()
            });
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn no_proxy_env_at_all_is_none() {
        assert!(diagnose(&results(json!([]), LOG, "2026-01-15T09:50:00Z"), now()).is_none());
    }

    #[test]
    fn latent_misconfiguration_without_symptoms_is_only_info() {
        let f = diagnose(
            &results(proxy_env(), "I0115 ok\n", "2026-01-15T09:59:58.000000Z"),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
    }

    #[test]
    fn seed_text_ranks_this_playbook() {
        let seed = "E0329 17:47:54.136036       1 leaderelection.go:224] error retrieving resource lock kube-system/kube-controller-manager: Get https://10.0.0.7:6443/api/v1/namespaces/kube-system/endpoints/kube-controller-manager: Gateway Timeout";
        let ranked = crate::playbooks::engine::rank_symptoms(seed);
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(PLAYBOOK.id));
    }
}
