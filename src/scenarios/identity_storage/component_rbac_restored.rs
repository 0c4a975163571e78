//! `component-rbac-restored`: a negative control for AUTH-02. Two days ago the RBAC cleanup
//! deleted `kubeadm:node-proxier` and kube-proxy logged `… is forbidden: User
//! "system:serviceaccount:kube-system:kube-proxy" cannot list …` for twenty minutes, until
//! an admin re-created the binding. The lines are still in the log, but today's RBAC allows
//! the requests: nothing to fix.

use super::insert_log_lines;
use crate::builder::{ClusterBuilder, DAY, MIN, klog};
use crate::{Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let proxy = "system:serviceaccount:kube-system:kube-proxy";
    for pod in c.pods_named("kube-system", "kube-proxy-") {
        let mut lines = Vec::new();
        let mut at = 2 * DAY + 20 * MIN;
        while at > 2 * DAY {
            lines.push(klog(
                'E',
                at * 1_000_000 - 402_114,
                "reflector.go:158",
                &format!("\"Unhandled Error\" err=\"k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User \\\"{proxy}\\\" cannot list resource \\\"endpointslices\\\" in API group \\\"discovery.k8s.io\\\" at the cluster scope\" logger=\"UnhandledError\""),
            ));
            at -= 5 * MIN;
        }
        lines.push(klog(
            'I',
            (2 * DAY - 30) * 1_000_000,
            "shared_informer.go:320",
            "Caches are synced for endpoint slice config",
        ));
        insert_log_lines(&mut c, "kube-system", &pod, &lines);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "component-rbac-restored",
        title: "Control: kube-proxy's old Forbidden lines, binding restored since",
        summary: "kube-proxy logged forbidden errors two days ago while kubeadm:node-proxier was missing; the binding is back and the errors stopped. AUTH-02 must stay quiet.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
