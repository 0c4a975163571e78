//! `healthy`: a kubeadm cluster with 3 control-plane and 3 worker nodes, all well. Its
//! negative controls: standby schedulers/controller-managers logging "attempting to acquire
//! leader lease", two pods that restarted once days ago, a node that joined 50 minutes ago
//! with the usual start-up warnings, and a rollout 25 minutes ago.

use super::builder::ClusterBuilder;
use super::{Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let (snapshot, timeline) = ClusterBuilder::kubeadm().build().into_parts();
    Scenario {
        id: "healthy",
        title: "Healthy kubeadm cluster",
        summary: "Three control-plane and three worker nodes (kubeadm v1.31.4, Calico), CoreDNS, kube-proxy, metrics-server, ingress-nginx and a shop application, all well. Leases renew live.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
