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
    vec![
        nodes_query(),
        kubeadm_config_query(),
        apiservers_query(),
        kubeadm_output_query(),
    ]
}

/// What `kubeadm init`/`join` printed on the host (a snapshot's `NodeLog` with unit
/// `kubeadm`; on a live cluster it is read on the node).
fn kubeadm_output_query() -> Query {
    q::node_log(None, "kubeadm")
}

/// The `[ERROR Name]: message` and `[WARNING Name]: message` lines of kubeadm's preflight
/// output, as (fatal, check name, message).
fn preflight_lines(text: &str) -> Vec<(bool, &str, &str)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let (fatal, rest) = if let Some(r) = l.strip_prefix("[ERROR ") {
                (true, r)
            } else {
                (false, l.strip_prefix("[WARNING ")?)
            };
            let (name, message) = rest.split_once(']')?;
            Some((fatal, name.trim(), message.trim_start_matches(':').trim()))
        })
        .collect()
}

/// The fix of the CHECKS table for a preflight check name (`Port-10250` matches `Port-*`).
fn fix_for(name: &str) -> Option<&'static str> {
    CHECKS.iter().find_map(|(keys, fix)| {
        keys.split(" / ")
            .map(|k| k.trim_end_matches('*'))
            .any(|k| name.starts_with(k) || (k.starts_with("Port-") && name.starts_with("Port-")))
            .then_some(*fix)
    })
}

/// A kubeadm run that stopped in preflight: the fatal checks it printed, with their fixes.
fn preflight_finding(results: &Results) -> Option<Finding> {
    let text = results.text(&kubeadm_output_query())?;
    let lines = preflight_lines(text);
    let fatal: Vec<&(bool, &str, &str)> = lines.iter().filter(|l| l.0).collect();
    if fatal.is_empty() {
        return None;
    }
    let mut evidence = Vec::new();
    let mut commands = Vec::new();
    for (_, name, message) in &fatal {
        evidence.push(ev("kubeadm (journal)", format!("[ERROR {name}]"), *message));
        if let Some(fix) = fix_for(name) {
            commands.push(format!("# [ERROR {name}]: {fix}"));
        }
    }
    let warnings: Vec<String> = lines
        .iter()
        .filter(|l| !l.0)
        .map(|(_, name, _)| format!("[WARNING {name}]"))
        .collect();
    commands.push("# then run kubeadm again; the checks alone, without changing anything:".into());
    commands.push("sudo kubeadm init phase preflight 2>&1 | grep -E '\\[(ERROR|WARNING)'".into());
    let names: Vec<&str> = fatal.iter().map(|(_, n, _)| *n).collect();
    // Ports in use and existing manifests on a host whose cluster is up: kubeadm was run
    // again over a working control plane. That refusal is kubeadm protecting it, not a cause.
    let leftovers_only = names.iter().all(|n| {
        n.starts_with("Port-")
            || n.starts_with("FileAvailable--")
            || n.starts_with("DirAvailable--")
    });
    if leftovers_only && !results.objects(&nodes_query()).is_empty() {
        return Some(Finding {
            severity: FindingSeverity::Info,
            confidence: 0.4,
            summary: format!(
                "kubeadm was run again on a host whose control plane is already installed ({}): it refused to overwrite it. Not a fault of the running cluster; `kubeadm reset` first if a fresh init is intended.",
                names.join(", ")
            ),
            evidence,
            ruled_out: vec!["The cluster's nodes are registered: the first installation works; the refusal only protects it.".into()],
            fix: Fix {
                explanation: "Re-running `kubeadm init` on an installed control-plane host fails preflight on the ports and manifests the running one holds. To start over, `sudo kubeadm reset -f` first (it removes the cluster on this host).".into(),
                commands: vec!["sudo kubeadm reset -f   # only to start over: removes this host's control plane".into()],
            },
        });
    }
    let mut ruled_out = vec![
        "Not a cluster fault: kubeadm stopped before it installed anything, so no API server or Node object exists yet.".to_string(),
    ];
    if !warnings.is_empty() {
        ruled_out.push(format!(
            "{} only warn: they do not stop init or join.",
            warnings.join(", ")
        ));
    }
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: 0.95,
        summary: format!(
            "kubeadm stopped in its preflight checks: {} ({}). Nothing is installed until the host is fixed.",
            names
                .iter()
                .map(|n| format!("[ERROR {n}]"))
                .collect::<Vec<_>>()
                .join(", "),
            fatal.first().map(|f| f.2).unwrap_or_default()
        ),
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "Every [ERROR Name] line of kubeadm's preflight stops init or join until the host is fixed; [WARNING Name] lines do not. Fix each error as below and run kubeadm again; --ignore-preflight-errors=Name is only right when the cluster is deliberately configured for it (for swap: the kubelet's failSwapOn: false).".into(),
            commands,
        },
    })
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
    if let Some(f) = preflight_finding(results) {
        return Some(f);
    }
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

    #[test]
    fn preflight_errors_in_the_kubeadm_output_are_the_finding_and_warnings_are_not() {
        let mut r = Results::default();
        r.by_query.insert(
            kubeadm_output_query(),
            crate::playbooks::Outcome::Text {
                code: 200,
                body: "[preflight] Running pre-flight checks\n\
                       \t[WARNING IsDockerSystemdCheck]: detected \"cgroupfs\"\n\
                       error execution phase preflight: [preflight] Some fatal errors occurred:\n\
                       \t[ERROR Swap]: running with swap on is not supported. Please disable swap\n\
                       \t[ERROR Port-10250]: Port 10250 is in use\n"
                    .into(),
            },
        );
        let f = diagnose(&r, chrono::Utc::now()).expect("a finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("[ERROR Swap]"), "{}", f.summary);
        assert!(f.fix.commands.iter().any(|c| c.contains("swapoff -a")));
        assert!(f.fix.commands.iter().any(|c| c.contains("kubeadm reset")));
        assert!(
            f.ruled_out
                .iter()
                .any(|r| r.contains("IsDockerSystemdCheck"))
        );

        let mut warn_only = Results::default();
        warn_only.by_query.insert(
            kubeadm_output_query(),
            crate::playbooks::Outcome::Text {
                code: 200,
                body: "[WARNING Firewalld]: firewalld is active\n".into(),
            },
        );
        assert!(diagnose(&warn_only, chrono::Utc::now()).is_none());
    }

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
