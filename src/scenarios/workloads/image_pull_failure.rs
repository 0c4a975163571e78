//! `image-pull-failure` (WL-02): a new `shop/recommendations` Deployment was applied 9 minutes
//! ago with tag `v1.4.0`, but CI pushes tags without the `v` (`1.4.0`). Both pods wait in
//! ImagePullBackOff; the kubelet's events carry containerd's `not found`.

use serde_json::json;

use super::common::{add_app, set_ready_replicas, set_waiting};
use crate::builder::{ClusterBuilder, ContainerDef, EventDef, MIN};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const IMAGE: &str = "ghcr.io/acme/shop-recommendations:v1.4.0";
const AGE: i64 = 9 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let mut ctr = ContainerDef::new("recommendations", IMAGE);
    ctr.ports = vec![json!({"containerPort": 8080, "name": "http", "protocol": "TCP"})];
    ctr.resources =
        json!({"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}});
    let pods = add_app(
        &mut c,
        NS,
        "recommendations",
        ctr,
        &["worker-1", "worker-3"],
        AGE,
    );
    let not_found = format!(
        "Failed to pull image \"{IMAGE}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{IMAGE}\": failed to resolve reference \"{IMAGE}\": {IMAGE}: not found"
    );
    for (i, pod) in pods.iter().enumerate() {
        let node = if i == 0 { "worker-1" } else { "worker-3" };
        set_waiting(
            &mut c,
            NS,
            pod,
            "recommendations",
            "ImagePullBackOff",
            &format!("Back-off pulling image \"{IMAGE}\""),
            AGE - 5,
        );
        if let Some(p) = c.find_mut("Pod", Some(NS), pod) {
            p["status"]["phase"] = json!("Pending");
        }
        let target = ObjRef::new("Pod", Some(NS), pod);
        let f = "spec.containers{recommendations}";
        c.event(EventDef::normal(
            target.clone(),
            "Scheduled",
            format!("Successfully assigned {NS}/{pod} to {node}"),
            "default-scheduler",
            AGE - 1,
        ));
        c.event(
            EventDef::normal(
                target.clone(),
                "Pulling",
                format!("Pulling image \"{IMAGE}\""),
                "kubelet",
                40,
            )
            .on_host(node)
            .repeated(6, AGE - 3)
            .field(f),
        );
        c.event(
            EventDef::normal(target.clone(), "Failed", not_found.clone(), "kubelet", 39)
                .warning()
                .on_host(node)
                .repeated(6, AGE - 4)
                .field(f),
        );
        c.event(
            EventDef::normal(
                target.clone(),
                "Failed",
                "Error: ErrImagePull",
                "kubelet",
                39,
            )
            .warning()
            .on_host(node)
            .repeated(6, AGE - 4)
            .field(f),
        );
        c.event(
            EventDef::normal(
                target.clone(),
                "BackOff",
                format!("Back-off pulling image \"{IMAGE}\""),
                "kubelet",
                8,
            )
            .on_host(node)
            .repeated(33, AGE - 5)
            .field(f),
        );
        c.event(
            EventDef::normal(target, "Failed", "Error: ImagePullBackOff", "kubelet", 8)
                .warning()
                .on_host(node)
                .repeated(33, AGE - 5)
                .field(f),
        );
    }
    set_ready_replicas(&mut c, NS, "recommendations", 0, AGE - 20);
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "image-pull-failure",
        title: "New deployment with a tag that was never pushed",
        summary: "shop/recommendations was applied 9 minutes ago with image tag v1.4.0; the registry only has 1.4.0. Both pods wait in ImagePullBackOff and the kubelet events carry containerd's `not found`.",
        playbook: Some("image-pull-failure"),
        snapshot,
        timeline,
        behavior: ServerBehavior {
            // The tag CI did push: the fix.
            images: vec![IMAGE.replace(":v1.4.0", ":1.4.0")],
            ..Default::default()
        },
    }
}
