//! `forward-policy-drop` (NET-04), after seed 004: the nodes run Docker 20.10 (through
//! cri-dockerd), which sets `iptables -P FORWARD DROP`, and the flannel DaemonSet was never
//! upgraded from v0.9.0, which adds no FORWARD accept rules. Pods reach pods on their own node;
//! everything forwarded between nodes is dropped — the ingress controller answers requests
//! served by the frontend on its node and times out on the frontends elsewhere.

use serde_json::{Value, json};

use super::super::builder::{ClusterBuilder, Cni, epoch, klog};
use super::super::{Scenario, ServerBehavior};

const FLANNEL: &str = "quay.io/coreos/flannel:v0.9.0-amd64";
const DOCKER: &str = "docker://20.10.24";

/// Rewrites every string in a JSON value.
fn map_strings(v: &mut Value, f: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::String(s) => {
            if let Some(n) = f(s) {
                *s = n;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| map_strings(x, f)),
        Value::Object(m) => m.values_mut().for_each(|x| map_strings(x, f)),
        _ => {}
    }
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().cni(Cni::Flannel).build();
    for o in c.objects.iter_mut() {
        match o["kind"].as_str() {
            Some("Node") => {
                o["status"]["nodeInfo"]["containerRuntimeVersion"] = json!(DOCKER);
                o["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"] =
                    json!("unix:///var/run/cri-dockerd.sock");
            }
            Some("Pod") => {
                let flannel = o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("kube-flannel-ds-"));
                map_strings(&mut o["status"], &|s| {
                    if let Some(rest) = s.strip_prefix("containerd://") {
                        Some(format!("docker://{rest}"))
                    } else if flannel && s.contains("flannel/flannel:") {
                        Some(FLANNEL.into())
                    } else if flannel && s.contains("flannel/flannel@sha256") {
                        Some(format!(
                            "docker-pullable://quay.io/coreos/flannel@sha256:{}",
                            &"6ecef07be35e5e861016ee557f986f89ad8244df47198de379a1bf4e580185df"
                        ))
                    } else {
                        None
                    }
                });
                if flannel {
                    map_strings(&mut o["spec"], &|s| {
                        s.contains("flannel/flannel:").then(|| FLANNEL.to_string())
                    });
                }
            }
            Some("DaemonSet") if o["metadata"]["name"] == "kube-flannel-ds" => {
                map_strings(&mut o["spec"], &|s| {
                    s.contains("flannel/flannel:").then(|| FLANNEL.to_string())
                });
            }
            _ => {}
        }
    }
    // flannel v0.9.0 logs as it did.
    let flannel_pods: Vec<(String, String, String)> = c
        .of_kind("Pod", Some("kube-flannel"))
        .filter_map(|p| {
            let node = p["spec"]["nodeName"].as_str()?;
            Some((
                p["metadata"]["name"].as_str()?.to_string(),
                node.to_string(),
                c.node(node)?.ip.clone(),
            ))
        })
        .collect();
    c.pod_logs
        .retain(|l| !(l.namespace == "kube-flannel" && l.pod.starts_with("kube-flannel-ds-")));
    for (pod, node, ip) in flannel_pods {
        let t0 = 2 * 86_400_000_000 + 7_000_123;
        let mut t = String::new();
        for (i, (src, msg)) in [
            (
                "main.go:474",
                "Determining IP address of default interface".to_string(),
            ),
            (
                "main.go:487",
                format!("Using interface with name ens3 and address {ip}"),
            ),
            (
                "main.go:504",
                format!("Defaulting external address to interface address ({ip})"),
            ),
            (
                "kube.go:130",
                "Waiting 10m0s for node controller to sync".into(),
            ),
            ("kube.go:283", "Starting kube subnet manager".into()),
            ("kube.go:137", "Node controller sync successful".into()),
            (
                "main.go:234",
                format!("Created subnet manager: Kubernetes Subnet Manager - {node}"),
            ),
            ("main.go:237", "Installing signal handlers".into()),
            (
                "main.go:352",
                "Found network config - Backend type: vxlan".into(),
            ),
            (
                "vxlan.go:119",
                "VXLAN config: VNI=1 Port=0 GBP=false DirectRouting=false".into(),
            ),
            (
                "main.go:299",
                "Wrote subnet file to /run/flannel/subnet.env".into(),
            ),
            ("main.go:303", "Running backend.".into()),
            ("main.go:321", "Waiting for all goroutines to exit".into()),
            (
                "vxlan_network.go:56",
                "watching for new subnet leases".into(),
            ),
        ]
        .iter()
        .enumerate()
        {
            t.push_str(&klog('I', t0 - 40_000 * i as i64, src, msg));
        }
        c.add_log("kube-flannel", &pod, "kube-flannel", t);
    }
    // The ingress controller: frontends on its node answer, the others time out.
    let controller = c
        .of_kind("Pod", Some("ingress-nginx"))
        .find(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("ingress-nginx-controller-"))
        })
        .and_then(|p| {
            Some((
                p["metadata"]["name"].as_str()?.to_string(),
                p["spec"]["nodeName"].as_str()?.to_string(),
            ))
        });
    let frontends: Vec<(String, String)> = c
        .of_kind("Pod", Some("shop"))
        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "frontend")
        .filter_map(|p| {
            Some((
                p["status"]["podIP"].as_str()?.to_string(),
                p["spec"]["nodeName"].as_str()?.to_string(),
            ))
        })
        .collect();
    if let Some((ctl, ctl_node)) = controller {
        let mut t = String::new();
        for k in 0..12i64 {
            let Some((ip, node)) = frontends.get(k as usize % frontends.len().max(1)) else {
                break;
            };
            let at = epoch() - chrono::Duration::seconds(600 - 45 * k);
            let client = format!("10.0.0.{}", 60 + k % 7);
            let id = super::super::builder::hex(&format!("fwd/{k}"), 32);
            if *node == ctl_node {
                t.push_str(&format!(
                    "{client} - - [{}] \"GET / HTTP/1.1\" 200 4120 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\" 412 0.004 [shop-frontend-80] [] {ip}:8080 4120 0.004 200 {id}\n",
                    at.format("%d/%b/%Y:%H:%M:%S +0000")
                ));
            } else {
                let done = at + chrono::Duration::seconds(5);
                t.push_str(&format!(
                    "{} [error] 31#31: *{} upstream timed out (110: Connection timed out) while connecting to upstream, client: {client}, server: shop.lab.internal, request: \"GET / HTTP/1.1\", upstream: \"http://{ip}:8080/\", host: \"shop.lab.internal\"\n",
                    done.format("%Y/%m/%d %H:%M:%S"),
                    48_000 + k * 17
                ));
                t.push_str(&format!(
                    "{client} - - [{}] \"GET / HTTP/1.1\" 504 160 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\" 412 5.001 [shop-frontend-80] [] {ip}:8080 0 5.001 504 {id}\n",
                    done.format("%d/%b/%Y:%H:%M:%S +0000")
                ));
            }
        }
        if let Some(log) = c
            .pod_logs
            .iter_mut()
            .find(|l| l.namespace == "ingress-nginx" && l.pod == ctl)
        {
            // Requests of the last minutes: the builder's successful ones are replaced.
            log.text = log
                .text
                .lines()
                .filter(|l| !l.contains(" [] "))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
                + &t;
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "forward-policy-drop",
        title: "Docker's FORWARD DROP with flannel v0.9.0: cross-node pod traffic dropped",
        summary: "Nodes run Docker 20.10 (FORWARD policy DROP) and flannel v0.9.0 (no FORWARD accept rules): the ingress controller reaches the frontend on its own node and times out on the frontends on other nodes.",
        playbook: Some("forward-policy-drop"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
