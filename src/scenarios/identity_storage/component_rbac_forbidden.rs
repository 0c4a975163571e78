//! `component-rbac-forbidden` (AUTH-02): two hours ago an "RBAC cleanup" script deleted
//! every `kubeadm:*` ClusterRoleBinding it did not recognise (among them
//! `kubeadm:node-proxier`) and emptied `system:coredns`. kube-proxy and CoreDNS keep running
//! on their caches, but every relist is forbidden and they log it.

use crate::builder::{ClusterBuilder, HOUR, klog};
use crate::{Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    c.remove("ClusterRoleBinding", None, "kubeadm:node-proxier");
    if let Some(b) = c.find_mut("ClusterRoleBinding", None, "system:coredns")
        && let Some(m) = b.as_object_mut()
    {
        m.remove("subjects");
    }
    let since = 2 * HOUR - 340;
    let proxy = "system:serviceaccount:kube-system:kube-proxy";
    let dns = "system:serviceaccount:kube-system:coredns";
    for pod in c.pods_named("kube-system", "kube-proxy-") {
        let mut t = String::new();
        let mut at = since;
        while at > 0 {
            for (i, (kind, res, group)) in [
                ("Service", "services", ""),
                ("EndpointSlice", "endpointslices", "discovery.k8s.io"),
            ]
            .iter()
            .enumerate()
            {
                let qualified = if group.is_empty() {
                    res.to_string()
                } else {
                    format!("{res}.{group}")
                };
                let micros = at * 1_000_000 - 211_000 * i as i64;
                t.push_str(&klog(
                    'W',
                    micros,
                    "reflector.go:561",
                    &format!("k8s.io/client-go/informers/factory.go:160: failed to list *v1.{kind}: {qualified} is forbidden: User \"{proxy}\" cannot list resource \"{res}\" in API group \"{group}\" at the cluster scope"),
                ));
                t.push_str(&klog(
                    'E',
                    micros - 300,
                    "reflector.go:158",
                    &format!("\"Unhandled Error\" err=\"k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.{kind}: failed to list *v1.{kind}: {qualified} is forbidden: User \\\"{proxy}\\\" cannot list resource \\\"{res}\\\" in API group \\\"{group}\\\" at the cluster scope\" logger=\"UnhandledError\""),
                ));
            }
            at -= if at > 600 { 1800 } else { 300 };
        }
        if let Some(l) = c
            .pod_logs
            .iter_mut()
            .find(|l| l.namespace == "kube-system" && l.pod == pod)
        {
            l.text.push_str(&t);
        }
    }
    for pod in c.pods_named("kube-system", "coredns-") {
        let mut t = String::new();
        for (kind, res, group) in [
            ("Namespace", "namespaces", ""),
            ("Service", "services", ""),
            ("EndpointSlice", "endpointslices", "discovery.k8s.io"),
        ] {
            let qualified = if group.is_empty() {
                res.to_string()
            } else {
                format!("{res}.{group}")
            };
            t.push_str(&format!(
                "[ERROR] plugin/kubernetes: Unhandled Error: pkg/mod/k8s.io/client-go@v0.29.3/tools/cache/reflector.go:229: Failed to watch *v1.{kind}: failed to list *v1.{kind}: {qualified} is forbidden: User \"{dns}\" cannot list resource \"{res}\" in API group \"{group}\" at the cluster scope\n"
            ));
        }
        if let Some(l) = c
            .pod_logs
            .iter_mut()
            .find(|l| l.namespace == "kube-system" && l.pod == pod)
        {
            l.text.push_str(&t);
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "component-rbac-forbidden",
        title: "kube-proxy and CoreDNS forbidden: kubeadm's bindings were deleted",
        summary: "An RBAC cleanup deleted ClusterRoleBinding kubeadm:node-proxier and emptied system:coredns: kube-proxy and CoreDNS log `is forbidden: User \"system:serviceaccount:kube-system:…\" cannot list resource …` on every relist.",
        playbook: Some("component-rbac-forbidden"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
