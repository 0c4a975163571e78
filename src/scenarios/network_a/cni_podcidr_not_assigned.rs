//! `cni-podcidr-not-assigned` (NET-02): six days ago `kubeadm upgrade` regenerated
//! kube-controller-manager's manifest from a kubeadm-config whose `networking.podSubnet` had
//! been removed, so the controller no longer allocates node CIDRs. The nodes that existed keep
//! theirs; worker-3, joined 50 minutes ago, has none. flannel (kube subnet manager) on
//! worker-3 crash-loops with `pod cidr not assigned`, and the pods scheduled there stay in
//! ContainerCreating: `open /run/flannel/subnet.env: no such file or directory`.

use serde_json::{Value, json};

use super::super::builder::{ClusterBuilder, Cni, EventDef, MIN, Terminated, hex, klog};
use super::super::{ObjRef, Scenario, ServerBehavior};

/// The node without a podCIDR.
pub const NODE: &str = "worker-3";

/// Leaves a pod in ContainerCreating: no sandbox, no address.
fn container_creating(pod: &mut Value) {
    pod["status"]["phase"] = json!("Pending");
    if let Some(m) = pod["status"].as_object_mut() {
        m.remove("podIP");
        m.remove("podIPs");
    }
    if let Some(cs) = pod["status"]["containerStatuses"].as_array_mut() {
        for c in cs {
            c["ready"] = json!(false);
            c["started"] = json!(false);
            c["imageID"] = json!("");
            c["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
            if let Some(m) = c.as_object_mut() {
                m.remove("containerID");
            }
        }
    }
    if let Some(conds) = pod["status"]["conditions"].as_array_mut() {
        for c in conds.iter_mut() {
            match c["type"].as_str() {
                Some("PodReadyToStartContainers") => c["status"] = json!("False"),
                Some("Ready") | Some("ContainersReady") => {
                    c["status"] = json!("False");
                    c["reason"] = json!("ContainersNotReady");
                }
                _ => {}
            }
        }
    }
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().cni(Cni::Flannel).build();
    let node_ip = c.node(NODE).map(|n| n.ip.clone()).unwrap_or_default();
    for o in c.objects.iter_mut() {
        match (o["kind"].as_str(), o["metadata"]["name"].as_str()) {
            (Some("Pod"), Some(n)) if n.starts_with("kube-controller-manager-") => {
                for ctr in o["spec"]["containers"].as_array_mut().into_iter().flatten() {
                    if let Some(cmd) = ctr["command"].as_array_mut() {
                        cmd.retain(|a| {
                            a.as_str().is_none_or(|a| {
                                !a.starts_with("--allocate-node-cidrs")
                                    && !a.starts_with("--cluster-cidr")
                            })
                        });
                    }
                }
            }
            (Some("ConfigMap"), Some("kubeadm-config")) => {
                if let Some(text) = o["data"]["ClusterConfiguration"].as_str() {
                    let kept: String = text
                        .lines()
                        .filter(|l| !l.trim_start().starts_with("podSubnet:"))
                        .map(|l| format!("{l}\n"))
                        .collect();
                    o["data"]["ClusterConfiguration"] = json!(kept);
                }
            }
            (Some("Node"), Some(NODE)) => {
                if let Some(m) = o["spec"].as_object_mut() {
                    m.remove("podCIDR");
                    m.remove("podCIDRs");
                }
                if let Some(a) = o["metadata"]["annotations"].as_object_mut() {
                    a.retain(|k, _| !k.starts_with("flannel.alpha.coreos.com/"));
                }
                if let Some(conds) = o["status"]["conditions"].as_array_mut() {
                    conds.retain(|x| x["type"] != "NetworkUnavailable");
                }
            }
            _ => {}
        }
    }
    // Pods on worker-3 that need the pod network: no sandbox, no address, out of endpoints.
    let stuck: Vec<(String, String)> = c
        .of_kind("Pod", None)
        .filter(|p| p["spec"]["nodeName"] == NODE && p["spec"]["hostNetwork"] != true)
        .filter_map(|p| {
            Some((
                p["metadata"]["namespace"].as_str()?.to_string(),
                p["metadata"]["name"].as_str()?.to_string(),
            ))
        })
        .collect();
    for (ns, pod) in &stuck {
        if let Some(p) = c.find_mut("Pod", Some(ns), pod) {
            container_creating(p);
        }
        c.pod_logs
            .retain(|l| !(l.namespace == *ns && l.pod == *pod));
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some(ns), pod),
                "FailedCreatePodSandBox",
                format!(
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"{}\": plugin type=\"flannel\" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory",
                    hex(&format!("sandbox/{pod}"), 64)
                ),
                "kubelet",
                9,
            )
            .warning()
            .on_host(NODE)
            .repeated(211, 47 * MIN),
        );
    }
    for o in c.objects.iter_mut() {
        match o["kind"].as_str() {
            Some("EndpointSlice") => {
                if let Some(eps) = o["endpoints"].as_array_mut() {
                    eps.retain(|e| e["nodeName"] != NODE);
                }
            }
            Some("Endpoints") => {
                for s in o["subsets"].as_array_mut().into_iter().flatten() {
                    for key in ["addresses", "notReadyAddresses"] {
                        if let Some(a) = s[key].as_array_mut() {
                            a.retain(|e| e["nodeName"] != NODE);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // flannel on worker-3 crash-loops.
    let flannel = c
        .pods_named("kube-flannel", "kube-flannel-ds-")
        .into_iter()
        .find(|p| {
            c.find("Pod", Some("kube-flannel"), p)
                .is_some_and(|o| o["spec"]["nodeName"] == NODE)
        });
    if let Some(pod) = flannel {
        c.crash_loop(
            "kube-flannel",
            &pod,
            "kube-flannel",
            14,
            Terminated {
                reason: "Error".into(),
                exit_code: 1,
                started_ago: 3 * MIN + 2,
                finished_ago: 3 * MIN,
            },
        );
        let run = |end_us: i64| {
            let mut t = String::new();
            for (i, (level, src, msg)) in [
                ('I', "main.go:211", "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 etcdPrefix:/coreos.com/network etcdKeyfile: etcdCertfile: etcdCAFile: etcdUsername: etcdPassword: version:false kubeSubnetMgr:true kubeApiUrl: kubeAnnotationPrefix:flannel.alpha.coreos.com kubeConfigFile: iface:[] ifaceRegex:[] ipMasq:true ifaceCanReach: subnetFile:/run/flannel/subnet.env publicIP: publicIPv6: subnetLeaseRenewMargin:60 healthzIP:0.0.0.0 healthzPort:0 iptablesResyncSeconds:5 iptablesForwardRules:true netConfPath:/etc/kube-flannel/net-conf.json setNodeNetworkUnavailable:true}".to_string()),
                ('W', "client_config.go:618", "Neither --kubeconfig nor --master was specified.  Using the inClusterConfig.  This might not work.".into()),
                ('I', "kube.go:139", "Waiting 10m0s for node controller to sync".into()),
                ('I', "kube.go:469", "Starting kube subnet manager".into()),
                ('I', "kube.go:146", "Node controller sync successful".into()),
                ('I', "main.go:231", format!("Created subnet manager: Kubernetes Subnet Manager - {NODE}")),
                ('I', "main.go:234", "Installing signal handlers".into()),
                ('I', "main.go:452", "Found network config - Backend type: vxlan".into()),
                ('I', "match.go:211", "Determining IP address of default interface".to_string()),
                ('I', "match.go:264", format!("Using interface with name ens3 and address {node_ip}")),
                ('I', "match.go:286", format!("Defaulting external address to interface address ({node_ip})")),
                ('E', "main.go:359", format!("Error registering network: failed to acquire lease: node \"{NODE}\" pod cidr not assigned")),
                ('I', "main.go:432", "Stopping shutdownHandler...".into()),
            ]
            .iter()
            .enumerate()
            {
                t.push_str(&klog(*level, end_us + 1_000 * (12 - i as i64), src, msg));
            }
            t
        };
        c.pod_logs
            .retain(|l| !(l.namespace == "kube-flannel" && l.pod == pod));
        c.add_previous_log(
            "kube-flannel",
            &pod,
            "kube-flannel",
            run(3 * MIN * 1_000_000),
        );
        c.add_log("kube-flannel", &pod, "kube-flannel", run(10_000));
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "cni-podcidr-not-assigned",
        title: "worker-3 has no podCIDR: flannel cannot start there",
        summary: "kube-controller-manager lost --allocate-node-cidrs/--cluster-cidr in an upgrade: worker-3 (joined 50 minutes ago) has no podCIDR, flannel there crash-loops with `pod cidr not assigned`, and its pods fail with `open /run/flannel/subnet.env`.",
        playbook: Some("cni-podcidr-not-assigned"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
