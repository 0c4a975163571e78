//! `kubeadm-preflight-host` (CP-08): worker-3 was added 50 minutes ago from a host where
//! `apt-get install kubelet kubeadm` pulled the newest packages (v1.32.0) instead of the
//! cluster's v1.31.4. `kubeadm join` stopped at preflight with
//! `[ERROR KubeletVersion]`, and the operator re-ran it with
//! `--ignore-preflight-errors=KubeletVersion`. The node works — for now — with a kubelet
//! newer than every API server.

use crate::builder::ClusterBuilder;
use crate::{Scenario, ServerBehavior};
use ktriage_snapshot::NodeLog;

const NODE: &str = "worker-3";
const KUBELET: &str = "v1.32.0";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    if let Some(n) = c.find_mut("Node", None, NODE) {
        n["status"]["nodeInfo"]["kubeletVersion"] = serde_json::json!(KUBELET);
    }
    let endpoint = c.opts.control_plane_endpoint.clone();
    c.node_logs.push(NodeLog {
        node: NODE.into(),
        unit: "kubeadm".into(),
        text: format!(
            "$ sudo kubeadm join {endpoint} --token 9x1q2k.4m0c7s3b8d5e6f7a --discovery-token-ca-cert-hash sha256:{hash}\n\
[preflight] Running pre-flight checks\n\
error execution phase preflight: [preflight] Some fatal errors occurred:\n\
\t[ERROR KubeletVersion]: the kubelet version is higher than the control plane version. This is not a supported version skew and may lead to a malfunctional cluster. Kubelet version: \"1.32.0\" Control plane version: \"1.31.4\"\n\
[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`\n\
To see the stack trace of this error execute with --v=5 or higher\n\
$ sudo kubeadm join {endpoint} --token 9x1q2k.4m0c7s3b8d5e6f7a --discovery-token-ca-cert-hash sha256:{hash} --ignore-preflight-errors=KubeletVersion\n\
[preflight] Running pre-flight checks\n\
\t[WARNING KubeletVersion]: the kubelet version is higher than the control plane version. This is not a supported version skew and may lead to a malfunctional cluster. Kubelet version: \"1.32.0\" Control plane version: \"1.31.4\"\n\
[preflight] Reading configuration from the \"kubeadm-config\" ConfigMap in namespace \"kube-system\"...\n\
[kubelet-start] Writing kubelet configuration to file \"/var/lib/kubelet/config.yaml\"\n\
[kubelet-start] Starting the kubelet\n\
[kubelet-check] The kubelet is healthy after 1.002113457s\n\
[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n\
\n\
This node has joined the cluster:\n\
* Certificate signing request was sent to apiserver and a response was received.\n\
* The Kubelet was informed of the new secure connection details.\n",
            hash = crate::builder::hex("discovery-hash", 64)
        ),
    });
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "kubeadm-preflight-host",
        title: "A node joined past kubeadm's preflight checks",
        summary: "worker-3 runs kubelet v1.32.0 against a v1.31.4 control plane: kubeadm join failed [ERROR KubeletVersion] and was re-run with --ignore-preflight-errors=KubeletVersion.",
        playbook: Some("kubeadm-preflight-host"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
