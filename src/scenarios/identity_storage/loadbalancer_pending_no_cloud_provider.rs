//! `loadbalancer-pending-no-cloud-provider` (CL-01): on the bare-metal kubeadm cluster the
//! shop team exposed the frontend as `type: LoadBalancer` three days ago, as they do on their
//! cloud clusters. kube-controller-manager runs without `--cloud-provider` and logged at start
//! `no cloud provider provided, services of type LoadBalancer will fail`; there is no
//! cloud-controller-manager and no MetalLB. EXTERNAL-IP stays `<pending>`.

use super::insert_log_lines;
use crate::builder::{ClusterBuilder, DAY, ServiceDef, SvcPort, epoch, klog, kv};
use crate::{Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let selector = kv(&[("app.kubernetes.io/name", "frontend")]);
    let mut port = SvcPort::tcp("http", 80, 8080);
    port.node_port = Some(31380);
    c.add_service(&ServiceDef {
        type_: "LoadBalancer".into(),
        ..ServiceDef::new(
            "shop",
            "frontend-public",
            selector,
            vec![port],
            3 * DAY + 1260,
        )
    });
    for pod in c.pods_named("kube-system", "kube-controller-manager-") {
        let started = c
            .find("Pod", Some("kube-system"), &pod)
            .and_then(|p| {
                p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].as_str()
            })
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| {
                (epoch() - t.with_timezone(&chrono::Utc))
                    .num_microseconds()
                    .unwrap_or(0)
            })
            .unwrap_or(3_600_000_000);
        let at = started - 2_304_118;
        let mut lines = vec![klog(
            'W',
            at,
            "core.go:105",
            "no cloud provider provided, services of type LoadBalancer will fail",
        )];
        for (i, ctrl) in [
            "service-lb-controller",
            "node-route-controller",
            "cloud-node-lifecycle-controller",
        ]
        .iter()
        .enumerate()
        {
            lines.push(klog(
                'I',
                at - 1_500 * (i as i64 + 1),
                "controllermanager.go:758",
                &format!("\"Skipping a cloud provider controller\" controller=\"{ctrl}\""),
            ));
        }
        insert_log_lines(&mut c, "kube-system", &pod, &lines);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "loadbalancer-pending-no-cloud-provider",
        title: "frontend-public: EXTERNAL-IP <pending> for three days",
        summary: "A LoadBalancer Service on a bare-metal kubeadm cluster: kube-controller-manager has no --cloud-provider, there is no cloud-controller-manager and no MetalLB, so no one assigns an external IP.",
        playbook: Some("loadbalancer-pending-no-cloud-provider"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
