//! Negative controls of CP-01 and CP-05: the benign look-alikes that must raise nothing.
//!
//! - `controlplane-proxy-with-no-proxy-control`: the control-plane pods carry the corporate
//!   proxy too, but NO_PROXY lists the node network, the controlPlaneEndpoint, both CIDRs and
//!   the cluster domains — everything internal bypasses the proxy.
//! - `ha-apiserver-master-count-control`: three API servers on the legacy master-count
//!   reconciler with the right `--apiserver-count=3`: default/kubernetes keeps all three.

use serde_json::json;

use super::common::{container_mut, set_flag};
use crate::builder::ClusterBuilder;
use crate::{Scenario, ServerBehavior};

pub fn proxy_with_no_proxy() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let proxy = "http://proxy.corp.example:3128";
    let no_proxy = "localhost,127.0.0.1,10.0.0.0/24,10.0.0.11,10.0.0.12,10.0.0.13,k8s-api.lab.internal,10.96.0.0/12,10.244.0.0/16,.svc,.cluster.local,.corp.example";
    let env = json!([
        {"name": "HTTP_PROXY", "value": proxy},
        {"name": "HTTPS_PROXY", "value": proxy},
        {"name": "NO_PROXY", "value": no_proxy},
    ]);
    for n in c.control_plane_nodes() {
        for comp in [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
        ] {
            if let Some(ctr) = container_mut(&mut c, comp, &n.name) {
                ctr["env"] = env.clone();
            }
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "controlplane-proxy-with-no-proxy-control",
        title: "Control: control plane behind a proxy, NO_PROXY complete",
        summary: "The static control-plane pods carry HTTPS_PROXY, and NO_PROXY covers the node IPs, the controlPlaneEndpoint, the service and pod CIDRs and the cluster domains. Leader election works. No finding.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}

pub fn master_count_right() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    for n in c.control_plane_nodes() {
        set_flag(
            &mut c,
            "kube-apiserver",
            &n.name,
            "endpoint-reconciler-type",
            Some("master-count"),
        );
        set_flag(
            &mut c,
            "kube-apiserver",
            &n.name,
            "apiserver-count",
            Some("3"),
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "ha-apiserver-master-count-control",
        title: "Control: master-count reconciler with the right apiserver-count",
        summary: "Three API servers with --endpoint-reconciler-type=master-count and --apiserver-count=3: default/kubernetes lists all three and stays put. No finding.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
