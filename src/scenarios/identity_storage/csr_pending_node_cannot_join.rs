//! `csr-pending-node-cannot-join` (AUTH-03): worker-3 joined 50 minutes ago and its client
//! CSR was auto-approved. Forty minutes ago an RBAC cleanup deleted
//! `kubeadm:node-autoapprove-bootstrap`. Since then the new worker-4 has run `kubeadm join`
//! three times: each time its kubelet created a CSR as `system:bootstrap:abcdef`, nobody
//! approved it, kubeadm gave up waiting for the TLS bootstrap, and worker-4 is not a node.

use super::{CsrDef, csr};
use crate::builder::{ClusterBuilder, MIN, hex};
use crate::{Scenario, ServerBehavior};

const SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const GROUPS: &[&str] = &[
    "system:bootstrappers",
    "system:bootstrappers:kubeadm:default-node-token",
    "system:authenticated",
];
const USAGES: &[&str] = &["digital signature", "client auth"];

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    c.remove(
        "ClusterRoleBinding",
        None,
        "kubeadm:node-autoapprove-bootstrap",
    );
    let w3 = format!("node-csr-{}", hex("client/worker-3", 43));
    c.push(csr(&CsrDef {
        name: &w3,
        signer: SIGNER,
        username: "system:bootstrap:abcdef",
        groups: GROUPS,
        usages: USAGES,
        created_ago: 50 * MIN + 12,
        approved: Some((
            "AutoApproved",
            "Auto approving kubelet client certificate after SubjectAccessReview.",
            50 * MIN + 11,
        )),
    }));
    for (i, ago) in [26 * MIN, 17 * MIN + 40, 9 * MIN + 5].iter().enumerate() {
        let name = format!("node-csr-{}", hex(&format!("client/worker-4/{i}"), 43));
        c.push(csr(&CsrDef {
            name: &name,
            signer: SIGNER,
            username: "system:bootstrap:abcdef",
            groups: GROUPS,
            usages: USAGES,
            created_ago: *ago,
            approved: None,
        }));
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "csr-pending-node-cannot-join",
        title: "worker-4 cannot join: its client CSRs stay Pending",
        summary: "kubeadm:node-autoapprove-bootstrap was deleted 40 minutes ago: worker-3's CSR (50 min) was approved, worker-4's three join attempts left three Pending CSRs from system:bootstrap:abcdef and no Node.",
        playbook: Some("csr-pending-node-cannot-join"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
