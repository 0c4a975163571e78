//! NET-12 `dns-addon-degraded`: cluster DNS does not answer. Decides between CoreDNS
//! detecting a forwarding loop (upstream = the node's systemd-resolved stub 127.0.0.53), the
//! kube-dns Service without ready endpoints (scaled to zero, Pending, crash-looping — the
//! apiserver VIP timeout case is NET-03's), the kubelet's `clusterDNS` not being the kube-dns
//! ClusterIP (read from `/api/v1/nodes/N/proxy/configz`), and upstream timeouts.

use crate::playbooks::util::pod_restarts;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::util::{arr, endpoint_counts, ev, name, node_ready, obj, s};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "dns-addon-degraded",
    code: "NET-12",
    title: "Cluster DNS add-on degraded",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["plugin/loop", "loop", "detected for zone"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["nslookup", "kubernetes.default"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["unknownhostexception"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["lookup", "on 10.96.0.10:53"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["server misbehaving"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["kube-dns", "domain name cannot be resolved"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["coredns", "crashloopbackoff"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["plugin/errors", "i/o timeout"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

const NS: &str = "kube-system";
const SELECTOR: &str = "k8s-app=kube-dns";
/// Upstream timeouts in the CoreDNS logs' tails that make a finding (fewer are noise).
const UPSTREAM_TIMEOUTS: usize = 3;
/// At most this many nodes' kubelet configs are read.
const MAX_NODES: usize = 12;

fn q_pods() -> Query {
    q::list("", "pods", Some(NS), Some(SELECTOR), None)
}
fn q_deploy() -> Query {
    q::list("apps", "deployments", Some(NS), Some(SELECTOR), None)
}
fn q_svc() -> Query {
    q::get("", "services", Some(NS), "kube-dns")
}
fn q_ep() -> Query {
    q::get("", "endpoints", Some(NS), "kube-dns")
}
fn q_cm() -> Query {
    q::get("", "configmaps", Some(NS), "coredns")
}
fn q_nodes() -> Query {
    q::core("nodes", None)
}
fn q_log(pod: &str, previous: bool) -> Query {
    q::logs(NS, pod, Some("coredns"), previous, Some(50))
}
fn q_configz(node: &str) -> Query {
    q::raw(&format!("/api/v1/nodes/{node}/proxy/configz"))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q_pods(), q_deploy(), q_svc(), q_ep(), q_cm(), q_nodes()];
    for p in r.objects(&q_pods()).iter().take(3) {
        out.push(q_log(name(p), false));
        if pod_restarts(p) > 0 {
            out.push(q_log(name(p), true));
        }
    }
    for n in r
        .objects(&q_nodes())
        .iter()
        .filter(|n| node_ready(n))
        .take(MAX_NODES)
    {
        out.push(q_configz(name(n)));
    }
    out
}

/// The `kubeletconfig` of a configz answer, when the request succeeded.
fn kubelet_config(r: &Results, node: &str) -> Option<Value> {
    match r.outcome(&q_configz(node))? {
        Outcome::Text { code: 200, body } => {
            let v: Value = serde_json::from_str(body).ok()?;
            v.get("kubeletconfig").cloned()
        }
        _ => None,
    }
}

/// A log line and where it came from.
struct Line {
    pod: String,
    previous: bool,
    text: String,
}

fn log_lines(r: &Results, pods: &[Value], needle: &dyn Fn(&str) -> bool) -> Vec<Line> {
    let mut out = Vec::new();
    for p in pods.iter().take(3) {
        for previous in [false, true] {
            if let Some(t) = r.text(&q_log(name(p), previous))
                && let Some(l) = t.lines().find(|l| needle(l))
            {
                out.push(Line {
                    pod: name(p).to_string(),
                    previous,
                    text: l.to_string(),
                });
                break;
            }
        }
    }
    out
}

fn log_evidence(l: &Line) -> Evidence {
    ev(
        format!("Pod/{NS}/{}", l.pod),
        if l.previous {
            "log[coredns] (previous)"
        } else {
            "log[coredns]"
        },
        l.text.clone(),
    )
}

fn corefile_forward(cm: Option<&Value>) -> Option<String> {
    let core = cm?.pointer("/data/Corefile")?.as_str()?;
    core.lines()
        .map(str::trim)
        .find(|l| l.starts_with("forward "))
        .map(|l| l.trim_end_matches('{').trim().to_string())
}

fn waiting_reason(p: &Value) -> String {
    arr(p, "/status/containerStatuses")
        .iter()
        .find_map(|c| c.pointer("/state/waiting/reason").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| s(p, "/status/phase").to_string())
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.objects(&q_pods());
    let svc = r.objects(&q_svc()).first();
    let ep = r.objects(&q_ep()).first();
    let cm = r.objects(&q_cm()).first();
    let nodes = r.objects(&q_nodes());
    let deploy = r.objects(&q_deploy()).first();
    let dns_ip = svc.map(|v| s(v, "/spec/clusterIP")).unwrap_or_default();
    let forward = corefile_forward(cm);
    let configs: Vec<(String, Value)> = nodes
        .iter()
        .filter_map(|n| kubelet_config(r, name(n)).map(|c| (name(n).to_string(), c)))
        .collect();
    let pod_nodes: Vec<String> = {
        let mut v: Vec<String> = pods
            .iter()
            .map(|p| s(p, "/spec/nodeName").to_string())
            .filter(|n| !n.is_empty())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (ready_eps, not_ready_eps) = ep.map(endpoint_counts).unwrap_or((0, 0));

    // 1. CoreDNS detected a forwarding loop.
    let loops = log_lines(r, pods, &|l| {
        l.contains("plugin/loop") && l.contains("Loop (") && l.contains("detected")
    });
    if !loops.is_empty() {
        let mut evidence: Vec<Evidence> = loops.iter().map(log_evidence).collect();
        if let (Some(cm), Some(fwd)) = (cm, &forward) {
            evidence.push(ev(obj(cm), "data.Corefile", fwd.clone()));
        }
        for (node, cfg) in configs.iter().filter(|(n, _)| pod_nodes.contains(n)) {
            let rc = cfg.get("resolvConf").and_then(Value::as_str).unwrap_or("");
            if !rc.is_empty() {
                evidence.push(ev(
                    format!("Node/{node}"),
                    "configz.kubeletconfig.resolvConf",
                    rc,
                ));
            }
        }
        for p in pods {
            evidence.push(ev(
                obj(p),
                "status.containerStatuses[coredns]",
                format!("{}, {} restarts", waiting_reason(p), pod_restarts(p)),
            ));
        }
        if let Some(ep) = ep {
            evidence.push(ev(
                obj(ep),
                "subsets",
                format!("{ready_eps} ready, {not_ready_eps} not ready addresses"),
            ));
        }
        let stub_resolv = configs
            .iter()
            .filter(|(n, _)| pod_nodes.contains(n))
            .any(|(_, c)| c.get("resolvConf").and_then(Value::as_str) == Some("/etc/resolv.conf"));
        let mut commands = Vec::new();
        for n in &pod_nodes {
            commands.push(format!("# on {n}: a `nameserver 127.0.0.53` line = the systemd-resolved stub, which loops back into CoreDNS"));
            commands
                .push("cat /etc/resolv.conf; grep resolvConf /var/lib/kubelet/config.yaml".into());
            commands.push(format!("# on {n}: point the kubelet (and so CoreDNS' `forward . /etc/resolv.conf`) at the real upstreams"));
            commands.push("sudo sed -i 's#^resolvConf: .*#resolvConf: /run/systemd/resolve/resolv.conf#' /var/lib/kubelet/config.yaml && sudo systemctl restart kubelet".into());
        }
        commands.push(format!(
            "kubectl -n {NS} rollout restart deployment coredns"
        ));
        commands.push(format!("kubectl -n {NS} rollout status deployment coredns"));
        commands
            .push("# or: forward to explicit upstream resolvers instead of the node's file".into());
        commands.push(format!("kubectl -n {NS} edit configmap coredns   # forward . 10.0.0.2 10.0.0.3  (your DNS servers)"));
        return Some(Finding {
            severity: FindingSeverity::Critical,
            confidence: if stub_resolv { 0.97 } else { 0.93 },
            summary: format!(
                "CoreDNS detects a forwarding loop and exits (`{}`): its upstream{} resolves back to itself, typically the node's systemd-resolved stub 127.0.0.53 in /etc/resolv.conf; cluster DNS is down ({ready_eps} ready kube-dns endpoints).",
                loops[0].text.split(", see").next().unwrap_or(&loops[0].text).trim_start_matches("[FATAL] "),
                forward.as_deref().map(|f| format!(" (`{f}`)")).unwrap_or_default(),
            ),
            evidence,
            ruled_out: vec![
                "CoreDNS unable to reach the API server (NET-03): its log shows the loop plugin's fatal check, not `dial tcp …:443: i/o timeout`.".into(),
                "Resource limits (OOMKilled): the container exits on the loop plugin's FATAL line, not on a kill.".into(),
                "A wrong kubelet clusterDNS: pods do reach CoreDNS; CoreDNS itself cannot start.".into(),
            ],
            fix: Fix {
                explanation: format!(
                    "The loop plugin sends a random HINFO query and sees it come back: the upstream in the Corefile (`{}`) is the node's /etc/resolv.conf, whose nameserver is 127.0.0.53 (systemd-resolved's stub) or 127.0.0.1, i.e. CoreDNS itself. On each node running CoreDNS, `cat /etc/resolv.conf` shows the stub; give the kubelet the real resolver file (`resolvConf: /run/systemd/resolve/resolv.conf`, which lists the upstream servers) or forward to explicit upstream IPs, then restart CoreDNS. `kubectl -n {NS} get pods -l {SELECTOR}` must show 1/1 Running and the kube-dns endpoints must fill.",
                    forward.as_deref().unwrap_or("forward . /etc/resolv.conf")
                ),
                commands,
            },
        });
    }

    // 2. kubelet clusterDNS does not point at kube-dns.
    if !dns_ip.is_empty() && dns_ip != "None" {
        let wrong: Vec<(&str, String)> = configs
            .iter()
            .filter_map(|(n, c)| {
                let list: Vec<&str> = arr(c, "/clusterDNS")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                (!list.is_empty() && !list.contains(&dns_ip)).then(|| (n.as_str(), list.join(",")))
            })
            .collect();
        if !wrong.is_empty() {
            let mut evidence = vec![ev(
                format!("Service/{NS}/kube-dns"),
                "spec.clusterIP",
                dns_ip,
            )];
            for (n, l) in &wrong {
                evidence.push(ev(
                    format!("Node/{n}"),
                    "configz.kubeletconfig.clusterDNS",
                    l.clone(),
                ));
            }
            let mut commands = Vec::new();
            for (n, l) in &wrong {
                commands.push(format!("# on {n}: clusterDNS is {l}; it must be {dns_ip}"));
                commands.push("grep -A1 clusterDNS /var/lib/kubelet/config.yaml".into());
                commands.push(format!("sudo sed -i '/^clusterDNS:/{{n;s/- .*/- {dns_ip}/}}' /var/lib/kubelet/config.yaml && sudo systemctl restart kubelet"));
            }
            commands.push("# then recreate the pods on those nodes (their /etc/resolv.conf is written at creation)".into());
            let names: Vec<&str> = wrong.iter().map(|(n, _)| *n).collect();
            return Some(Finding {
                severity: FindingSeverity::Critical,
                confidence: 0.9,
                summary: format!(
                    "The kubelet on {} gives pods nameserver {} but the kube-dns Service is {dns_ip}: name lookups from pods there go to an address nothing serves.",
                    names.join(", "),
                    wrong[0].1
                ),
                evidence,
                ruled_out: vec![format!(
                    "CoreDNS down: the kube-dns Service has {ready_eps} ready endpoints."
                )],
                fix: Fix {
                    explanation: format!(
                        "`clusterDNS` in /var/lib/kubelet/config.yaml (shown by `kubectl get --raw /api/v1/nodes/NODE/proxy/configz`) must be the kube-dns ClusterIP {dns_ip} (kubeadm writes it from `networking.dnsDomain`/serviceSubnet; a changed serviceSubnet or a hand-written config leaves the old address). Fix it on each node, restart the kubelet, and recreate the pods: `kubectl exec POD -- cat /etc/resolv.conf` must then show `nameserver {dns_ip}`."
                    ),
                    commands,
                },
            });
        }
    }

    // 3. kube-dns without ready endpoints.
    if let (Some(svc), Some(ep)) = (svc, ep)
        && ready_eps == 0
    {
        let mut evidence = vec![ev(
            obj(ep),
            "subsets",
            format!("{ready_eps} ready, {not_ready_eps} not ready addresses"),
        )];
        let replicas = deploy
            .and_then(|d| d.pointer("/spec/replicas"))
            .and_then(Value::as_i64);
        let pending_only =
            !pods.is_empty() && pods.iter().all(|p| s(p, "/status/phase") == "Pending");
        let api_timeouts = log_lines(r, pods, &|l| {
            l.contains(":443") && (l.contains("i/o timeout") || l.contains("no route to host"))
        });
        let (summary, confidence, ruled, commands, explanation) = if pods.is_empty() {
            if let (Some(d), Some(n)) = (deploy, replicas) {
                evidence.push(ev(obj(d), "spec.replicas", n.to_string()));
            }
            (
                    format!("The kube-dns Service ({}) has no endpoints because no CoreDNS pod exists{}: every name lookup in the cluster fails.", s(svc, "/spec/clusterIP"), if replicas == Some(0) { " (the coredns Deployment is scaled to 0)" } else { "" }),
                    0.9,
                    "CoreDNS crashing or unready: there is no CoreDNS pod at all.".to_string(),
                    vec![format!("kubectl -n {NS} scale deployment coredns --replicas=2"), format!("kubectl -n {NS} rollout status deployment coredns")],
                    "Scale CoreDNS back up (kubeadm deploys 2 replicas); if the Deployment is gone, `kubeadm init phase addon coredns` on a control-plane node recreates it.".to_string(),
                )
        } else if !api_timeouts.is_empty() {
            evidence.extend(api_timeouts.iter().map(log_evidence));
            (
                    format!("CoreDNS cannot reach the API server (`{}`), never becomes ready, and the kube-dns Service has no ready endpoints: follow NET-03 (pod cannot reach the apiserver Service).", api_timeouts[0].text),
                    0.6,
                    "A DNS-specific fault (loop, upstream): CoreDNS fails before serving, on the API server connection.".to_string(),
                    vec!["ktriage explain 'dial tcp 10.96.0.1:443: i/o timeout'".to_string()],
                    "The cause is the pod network's path to the API server Service VIP; see NET-03.".to_string(),
                )
        } else {
            for p in pods {
                evidence.push(ev(
                    obj(p),
                    "status",
                    format!(
                        "{} on {}, {} restarts",
                        waiting_reason(p),
                        s(p, "/spec/nodeName"),
                        pod_restarts(p)
                    ),
                ));
            }
            (
                    format!("No CoreDNS pod is ready ({}), so the kube-dns Service has no ready endpoints: every name lookup in the cluster fails{}.", pods.iter().map(|p| format!("{} {}", name(p), waiting_reason(p))).collect::<Vec<_>>().join(", "), if pending_only { " (the pods are Pending: the cause is upstream, scheduling or the pod network, see NET-01)" } else { "" }),
                    if pending_only { 0.5 } else { 0.8 },
                    "A forwarding loop: no loop message in the CoreDNS logs.".to_string(),
                    vec![format!("kubectl -n {NS} describe pods -l {SELECTOR}"), format!("kubectl -n {NS} logs -l {SELECTOR} --previous --tail 50")],
                    "Read why the CoreDNS pods are not ready in their events and previous logs (Pending: scheduling/CNI, NET-01; CrashLoopBackOff: its last log line).".to_string(),
                )
        };
        return Some(Finding {
            severity: if pending_only {
                FindingSeverity::Warning
            } else {
                FindingSeverity::Critical
            },
            confidence,
            summary,
            evidence,
            ruled_out: vec![ruled],
            fix: Fix {
                explanation,
                commands,
            },
        });
    }

    // 4. Upstream resolvers time out, repeatedly (a stray timeout is normal on any network).
    let is_upstream_timeout =
        |l: &str| l.contains("[ERROR] plugin/errors") && l.contains("i/o timeout");
    let upstream = log_lines(r, pods, &is_upstream_timeout);
    let timeouts: usize = pods
        .iter()
        .take(3)
        .filter_map(|p| r.text(&q_log(name(p), false)))
        .map(|t| t.lines().filter(|l| is_upstream_timeout(l)).count())
        .sum();
    if !upstream.is_empty() && timeouts >= UPSTREAM_TIMEOUTS {
        let mut evidence: Vec<Evidence> = upstream.iter().map(log_evidence).collect();
        if let (Some(cm), Some(fwd)) = (cm, &forward) {
            evidence.push(ev(obj(cm), "data.Corefile", fwd.clone()));
        }
        let mut commands = Vec::new();
        for n in &pod_nodes {
            commands.push(format!("# on {n}: can the node reach its upstream resolvers? (a timeout here = firewall/route to the DNS servers)"));
            commands.push("cat /etc/resolv.conf; dig +time=2 +tries=1 kubernetes.io".into());
        }
        commands.push(format!(
            "kubectl -n {NS} edit configmap coredns   # forward . <reachable DNS servers>"
        ));
        return Some(Finding {
            severity: FindingSeverity::Warning,
            confidence: 0.7,
            summary: format!(
                "CoreDNS serves cluster names but its upstream resolvers time out ({timeouts} times in the last log lines, e.g. `{}`): external names fail or are slow.",
                upstream[0].text
            ),
            evidence,
            ruled_out: vec![format!(
                "CoreDNS down: the kube-dns Service has {ready_eps} ready endpoints."
            )],
            fix: Fix {
                explanation: "The `forward` upstreams (the nodes' /etc/resolv.conf by default) do not answer from the CoreDNS pods: check the route and firewall from the nodes to those servers, or forward to reachable resolvers.".into(),
                commands,
            },
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LOOP: &str = "[FATAL] plugin/loop: Loop (127.0.0.1:53 -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO 4547991504243258144.3688648895315093531.\"";

    fn pod(n: &str, restarts: i64, ready: bool) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": NS, "name": n}, "spec": {"nodeName": "cp-1"},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
                "containerStatuses": [{"name": "coredns", "restartCount": restarts,
                    "state": if ready {json!({"running": {}})} else {json!({"waiting": {"reason": "CrashLoopBackOff"}})}}]}})
    }

    fn base(pods: Vec<Value>, ready: bool) -> Results {
        let mut r = Results::default();
        r.by_query.insert(q_pods(), Outcome::Objects(pods));
        r.by_query.insert(q_deploy(), Outcome::Objects(vec![json!({"kind": "Deployment", "metadata": {"namespace": NS, "name": "coredns"}, "spec": {"replicas": 2}})]));
        r.by_query.insert(q_svc(), Outcome::Objects(vec![json!({"kind": "Service", "metadata": {"namespace": NS, "name": "kube-dns"}, "spec": {"clusterIP": "10.96.0.10"}})]));
        let subset = if ready {
            json!({"addresses": [{"ip": "10.244.0.2"}]})
        } else {
            json!({"notReadyAddresses": [{"ip": "10.244.0.2"}]})
        };
        r.by_query.insert(q_ep(), Outcome::Objects(vec![json!({"kind": "Endpoints", "metadata": {"namespace": NS, "name": "kube-dns"}, "subsets": [subset]})]));
        r.by_query.insert(q_cm(), Outcome::Objects(vec![json!({"kind": "ConfigMap", "metadata": {"namespace": NS, "name": "coredns"}, "data": {"Corefile": ".:53 {\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n}\n"}})]));
        r.by_query.insert(q_nodes(), Outcome::Objects(vec![json!({"kind": "Node", "metadata": {"name": "cp-1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}})]));
        r
    }

    fn configz(r: &mut Results, dns: &str, resolv: &str) {
        r.by_query.insert(
            q_configz("cp-1"),
            Outcome::Text {
                code: 200,
                body: json!({"kubeletconfig": {"clusterDNS": [dns], "clusterDomain": "cluster.local", "resolvConf": resolv}}).to_string(),
            },
        );
    }

    #[test]
    fn queries_read_logs_and_configz_in_the_second_round() {
        let r = base(vec![pod("coredns-a", 3, false)], false);
        let q = queries(&r);
        assert!(q.contains(&q_log("coredns-a", true)));
        assert!(q.contains(&q_configz("cp-1")));
        assert_eq!(
            q_configz("cp-1").kubectl,
            "kubectl get --raw '/api/v1/nodes/cp-1/proxy/configz'"
        );
    }

    #[test]
    fn the_loop_with_the_stub_resolver_is_critical() {
        let mut r = base(vec![pod("coredns-a", 14, false)], false);
        r.by_query.insert(
            q_log("coredns-a", true),
            Outcome::Text {
                code: 200,
                body: format!(".:53\nCoreDNS-1.11.3\n{LOOP}\n"),
            },
        );
        configz(&mut r, "10.96.0.10", "/etc/resolv.conf");
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.95);
        assert!(
            f.summary.contains("Loop (127.0.0.1:53 -> :53)"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field == "log[coredns] (previous)" && e.value.contains("plugin/loop"))
        );
        assert!(f.evidence.iter().any(
            |e| e.field == "configz.kubeletconfig.resolvConf" && e.value == "/etc/resolv.conf"
        ));
        assert!(f.fix.commands.iter().any(|c| c.starts_with("# on cp-1:")));
    }

    #[test]
    fn a_wrong_cluster_dns_is_found_from_configz() {
        let mut r = base(vec![pod("coredns-a", 0, true)], true);
        configz(&mut r, "10.32.0.10", "/run/systemd/resolve/resolv.conf");
        let f = diagnose(&r, Utc::now()).unwrap();
        assert!(
            f.summary.contains("10.32.0.10") && f.summary.contains("10.96.0.10"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn no_ready_endpoints_and_api_timeouts_defer_to_net03() {
        let mut r = base(vec![pod("coredns-a", 5, false)], false);
        r.by_query.insert(q_log("coredns-a", false), Outcome::Text { code: 200, body: "[ERROR] plugin/kubernetes: Failed to watch *v1.Namespace: failed to list *v1.Namespace: Get \"https://10.96.0.1:443/api/v1/namespaces?limit=500&resourceVersion=0\": dial tcp 10.96.0.1:443: i/o timeout\n".into() });
        let f = diagnose(&r, Utc::now()).unwrap();
        assert!(f.summary.contains("NET-03"));
        assert!(f.confidence < 0.7);
    }

    #[test]
    fn pending_coredns_is_a_consequence_not_the_cause() {
        let mut p = pod("coredns-a", 0, false);
        p["status"]["phase"] = json!("Pending");
        p["status"]["containerStatuses"] = json!([]);
        let f = diagnose(&base(vec![p], false), Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("NET-01"), "{}", f.summary);
        let f = diagnose(&base(vec![pod("coredns-a", 4, false)], false), Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
    }

    #[test]
    fn repeated_upstream_timeouts_warn_but_one_is_noise() {
        let line = "[ERROR] plugin/errors: 2 registry-1.docker.io. A: read udp 10.244.0.3:51234->10.0.0.2:53: i/o timeout\n";
        let mut r = base(vec![pod("coredns-a", 0, true)], true);
        r.by_query.insert(
            q_log("coredns-a", false),
            Outcome::Text {
                code: 200,
                body: line.repeat(4),
            },
        );
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("4 times"), "{}", f.summary);
        r.by_query.insert(
            q_log("coredns-a", false),
            Outcome::Text {
                code: 200,
                body: line.to_string(),
            },
        );
        assert!(diagnose(&r, Utc::now()).is_none());
    }

    #[test]
    fn healthy_dns_is_no_finding() {
        let mut r = base(vec![pod("coredns-a", 0, true)], true);
        configz(&mut r, "10.96.0.10", "/run/systemd/resolve/resolv.conf");
        assert!(diagnose(&r, Utc::now()).is_none());
        // Without configz (a 404 from a snapshot) as well.
        let r = base(vec![pod("coredns-a", 0, true)], true);
        assert!(diagnose(&r, Utc::now()).is_none());
    }

    #[test]
    fn the_seed_texts_rank_this_playbook() {
        for text in [
            LOOP,
            "nslookup kubernetes.default fails: ;; connection timed out; no servers could be reached",
        ] {
            let ranked = crate::playbooks::engine::rank_symptoms(text);
            assert_eq!(
                ranked.first().map(|(p, _)| p.id),
                Some("dns-addon-degraded"),
                "{text}"
            );
        }
    }
}
