//! CP-08 kubeadm-preflight-host: `kubeadm init/join` preflight errors are host problems
//! (swap, ip_forward, IPv6 disabled, ports in use, firewalld, CRI, proxy, kubelet version,
//! cgroups) that only the node shows. From the API this playbook sees what a skipped
//! preflight leaves behind — a node whose kubelet is newer than the control plane (the
//! KubeletVersion check) or older than the supported skew — and its fix spells out, check by
//! check, what to run on the node.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{self, ev, kubeadm_config, kubeadm_config_query, nodes_query, obj, s};
use crate::playbooks::engine::q;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "kubeadm-preflight-host",
    code: "CP-08",
    title: "kubeadm preflight: host prerequisites (swap, forwarding, ports, kubelet version)",
    access: Access::Node,
    symptoms: &[
        Symptom {
            all_of: &["[preflight] some fatal errors occurred"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["[error swap]"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["[error filecontent--proc-sys-net"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["[error port-"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["[error kubeletversion]"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["[warning kubeletversion]"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["[error cri]"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["[error systemverification]"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["[error fileavailable--etc-kubernetes"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["[error diravailable--var-lib-etcd"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["[warning firewalld]"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["[warning httpproxy"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["running with swap on is not supported"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["/proc/sys/net/ipv6/conf/default/forwarding"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

fn apiservers_query() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-apiserver"),
        None,
    )
}

fn queries(_: &Results) -> Vec<Query> {
    vec![nodes_query(), kubeadm_config_query(), apiservers_query()]
}

/// `v1.31.4` → (1, 31, 4).
fn version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let v = v.split(['-', '+']).next()?;
    let mut it = v.split('.').map(|x| x.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

fn fmt((a, b, c): (u32, u32, u32)) -> String {
    format!("v{a}.{b}.{c}")
}

/// The oldest API server version (from the image tags), else kubeadm's kubernetesVersion.
fn control_plane_version(results: &Results) -> Option<((u32, u32, u32), String)> {
    let from_pods = results
        .objects(&apiservers_query())
        .iter()
        .filter_map(|p| {
            let image = s(p, "/spec/containers/0/image");
            let tag = image.rsplit(':').next()?;
            Some((version(tag)?, obj(p)))
        })
        .min_by_key(|(v, _)| *v);
    from_pods.or_else(|| {
        let cfg = kubeadm_config(results)?;
        Some((
            version(&cfg.kubernetes_version)?,
            "ConfigMap/kube-system/kubeadm-config".to_string(),
        ))
    })
}

/// The preflight checks, what they mean and the fix to run on the node.
const CHECKS: &[(&str, &str)] = &[
    (
        "Swap",
        "swap is on: `sudo swapoff -a` and comment the swap line in /etc/fstab (or configure the kubelet for swap, failSwapOn: false)",
    ),
    (
        "FileContent--proc-sys-net-ipv4-ip_forward",
        "IPv4 forwarding is off: `echo net.ipv4.ip_forward=1 | sudo tee /etc/sysctl.d/k8s.conf && sudo sysctl --system`",
    ),
    (
        "FileContent--proc-sys-net-ipv6-conf-default-forwarding",
        "the file is missing when the kernel boots with ipv6.disable=1: do not use IPv6/dual-stack CIDRs on such hosts, or re-enable IPv6 and disable it with sysctl net.ipv6.conf.all.disable_ipv6=1 instead",
    ),
    (
        "FileContent--proc-sys-net-bridge-bridge-nf-call-iptables",
        "br_netfilter is not loaded: `sudo modprobe br_netfilter && echo br_netfilter | sudo tee /etc/modules-load.d/k8s.conf`",
    ),
    (
        "Port-6443 / Port-10250 / Port-2379",
        "a previous installation still listens: `sudo ss -ltnp | grep -E ':(6443|10250|10257|10259|2379|2380)'`, then `sudo kubeadm reset -f`",
    ),
    (
        "FileAvailable--etc-kubernetes-* / DirAvailable--var-lib-etcd",
        "leftovers of an earlier install: `sudo kubeadm reset -f && sudo rm -rf /etc/cni/net.d /var/lib/etcd`",
    ),
    (
        "CRI",
        "the container runtime socket does not answer: `sudo systemctl enable --now containerd && sudo crictl info`",
    ),
    (
        "Firewalld",
        "firewalld is active: open 6443, 10250, 2379-2380 (control plane) and 10250, 30000-32767 (workers), or stop it",
    ),
    (
        "HTTPProxy / HTTPProxyCIDR",
        "a proxy would carry cluster traffic: add node IPs, service and pod CIDRs to NO_PROXY (CP-01)",
    ),
    (
        "KubeletVersion",
        "the installed kubelet does not match the control plane: install the control plane's version and hold the packages",
    ),
    (
        "SystemVerification",
        "kernel/cgroups not supported: cgroup v2 with the systemd driver, a kernel the release supports",
    ),
];

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let (cp, cp_source) = control_plane_version(results)?;
    let nodes = results.objects(&nodes_query());
    let mut skewed: Vec<(&Value, (u32, u32, u32), &'static str)> = Vec::new();
    for n in nodes {
        let Some(kv) = version(s(n, "/status/nodeInfo/kubeletVersion")) else {
            continue;
        };
        if kv.0 != cp.0 {
            continue;
        }
        if kv.1 > cp.1 {
            skewed.push((n, kv, "newer than the control plane: kubeadm's KubeletVersion preflight check refuses it, so it was joined with --ignore-preflight-errors"));
        } else if cp.1 > kv.1 + 3 {
            skewed.push((n, kv, "more than three minor versions older than the control plane: outside the supported skew"));
        }
    }
    if skewed.is_empty() {
        return None;
    }
    let mut evidence = vec![ev(cp_source, "control-plane version", fmt(cp))];
    for (n, kv, why) in &skewed {
        evidence.push(ev(
            obj(n),
            "status.nodeInfo.kubeletVersion",
            format!("{} — {why}", fmt(*kv)),
        ));
    }
    let names: Vec<&str> = skewed.iter().map(|(n, _, _)| common::name(n)).collect();
    let want = format!("{}.{}.{}", cp.0, cp.1, cp.2);
    let mut commands = vec![
        "kubectl get nodes -o custom-columns=NAME:.metadata.name,KUBELET:.status.nodeInfo.kubeletVersion,CREATED:.metadata.creationTimestamp".to_string(),
    ];
    for n in &names {
        commands.push(format!(
            "# on {n}: what kubeadm checks, without changing anything (read each [ERROR ...]/[WARNING ...] line)"
        ));
        commands.push("sudo kubeadm join phase preflight --ignore-preflight-errors=none 2>&1 | grep -E '\\[(ERROR|WARNING)'".into());
        commands.push(format!(
            "# on {n}: install the control plane's kubelet version and hold it (deb packages; rpm: dnf install kubelet-{want})"
        ));
        commands.push(format!(
            "sudo apt-mark unhold kubelet kubeadm && sudo apt-get install -y --allow-downgrades kubelet='{want}-*' kubeadm='{want}-*' && sudo apt-mark hold kubelet kubeadm && sudo systemctl restart kubelet"
        ));
    }
    commands.push(format!(
        "# afterwards every node reports {}: kubectl get nodes -o wide",
        fmt(cp)
    ));
    let table: Vec<String> = CHECKS
        .iter()
        .map(|(check, fix)| format!("[ERROR {check}] → {fix}"))
        .collect();
    Some(Finding {
        severity: FindingSeverity::Warning,
        confidence: 0.75,
        summary: format!(
            "{} run{} a kubelet outside the control plane's version skew ({}): the node was joined past kubeadm's preflight checks; expect API incompatibilities and a failing next upgrade.",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" },
            skewed
                .iter()
                .map(|(_, kv, _)| format!("{} vs {}", fmt(*kv), fmt(cp)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        evidence,
        ruled_out: vec![
            "Not a failing node: the node is registered and its kubelet reports in; the problem is the version it runs.".into(),
            "The other preflight checks (swap, forwarding, ports, CRI, cgroups) leave no trace in the API when they pass; run the preflight phase on the node to see them.".into(),
        ],
        fix: Fix {
            explanation: format!(
                "kubeadm runs preflight checks on the host before init/join; an [ERROR] stops it, and --ignore-preflight-errors lets a host through that the cluster will then struggle with. The kubelet must not be newer than the API server and at most three minors older. Re-run the preflight phase on the node and read its output: every `[ERROR Name]` line stops init/join until fixed, `[WARNING Name]` lines do not; no such line means the host passes. Afterwards `kubectl get nodes -o wide` must show the control plane's version for the node. The checks and their fixes: {}",
                table.join("; ")
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

    fn results(kubelets: &[(&str, &str)]) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            apiservers_query(),
            Outcome::Objects(vec![json!({"kind": "Pod", "metadata": {"name": "kube-apiserver-cp-1", "namespace": "kube-system"},
                "spec": {"containers": [{"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.31.4"}]}})]),
        );
        r.by_query.insert(
            nodes_query(),
            Outcome::Objects(
                kubelets
                    .iter()
                    .map(|(n, v)| json!({"kind": "Node", "metadata": {"name": n}, "status": {"nodeInfo": {"kubeletVersion": v}}}))
                    .collect(),
            ),
        );
        r
    }

    #[test]
    fn matching_or_slightly_older_kubelets_are_fine() {
        let r = results(&[
            ("cp-1", "v1.31.4"),
            ("worker-1", "v1.30.8"),
            ("worker-2", "v1.28.0"),
        ]);
        assert!(diagnose(&r, Utc::now()).is_none());
    }

    #[test]
    fn newer_kubelet_is_a_skipped_preflight() {
        let r = results(&[("cp-1", "v1.31.4"), ("worker-3", "v1.32.0")]);
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.starts_with("worker-3 runs a kubelet"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("# on worker-3"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("kubelet='1.31.4-*'"))
        );
        assert!(f.fix.explanation.contains("[ERROR Swap]"));
    }

    #[test]
    fn too_old_kubelet_is_outside_the_skew() {
        let r = results(&[("worker-1", "v1.27.3")]);
        let f = diagnose(&r, Utc::now()).unwrap();
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("more than three minor versions older"))
        );
    }

    #[test]
    fn preflight_errors_rank_this_playbook() {
        let text = "error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1";
        let ranked = crate::playbooks::engine::rank_symptoms(text);
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(PLAYBOOK.id));
    }
}
