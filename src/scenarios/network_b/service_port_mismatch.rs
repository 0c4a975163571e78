//! `service-port-mismatch` (NET-09): a "cleanup" of the shop's Services 20 minutes ago set
//! the cart Service's `targetPort` to 80, while the cart container listens on 8080 (its port
//! is named `http`). The Endpoints list both cart pods on port 80; the frontend's calls to
//! cart are refused by the pods.

use serde_json::json;

use super::common::{append_log, json_line};
use crate::builder::{ClusterBuilder, MIN};
use crate::{Scenario, ServerBehavior};

const NS: &str = "shop";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    if let Some(svc) = c.find_mut("Service", Some(NS), "cart") {
        svc["spec"]["ports"][0]["targetPort"] = json!(80);
        svc["metadata"]["generation"] = json!(2);
    }
    for o in c.objects.iter_mut() {
        let is_cart = o["metadata"]["namespace"] == NS
            && (o["metadata"]["name"] == "cart"
                || o["metadata"]["labels"]["kubernetes.io/service-name"] == "cart");
        if !is_cart {
            continue;
        }
        if o["kind"] == "Endpoints" {
            if let Some(subsets) = o["subsets"].as_array_mut() {
                for s in subsets {
                    s["ports"][0]["port"] = json!(80);
                }
            }
            o["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"] =
                json!(crate::builder::ago(20 * MIN));
        } else if o["kind"] == "EndpointSlice" {
            o["ports"][0]["port"] = json!(80);
        }
    }
    let cart_ips: Vec<String> = c
        .of_kind("Pod", Some(NS))
        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "cart")
        .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
        .collect();
    let frontends = c.pods_named(NS, "frontend-");
    for (i, pod) in frontends.iter().enumerate() {
        let mut lines = String::new();
        for k in 0..3i64 {
            let ip = cart_ips
                .get((i + k as usize) % cart_ips.len().max(1))
                .cloned()
                .unwrap_or_default();
            lines.push_str(&json_line(
                540 - 170 * k - 13 * i as i64,
                "error",
                "cart lookup failed",
                &format!(",\"path\":\"/cart\",\"status\":502,\"error\":\"Get \\\"http://cart.shop.svc.cluster.local:8080/v1/cart\\\": dial tcp {ip}:80: connect: connection refused\""),
            ));
        }
        append_log(&mut c, NS, pod, "frontend", &lines);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "service-port-mismatch",
        title: "NET-09: a Service targetPort the container does not listen on",
        summary: "shop/cart's Service sends 8080 to targetPort 80, but the cart container listens on 8080 (named http): the Endpoints hold both pods on port 80 and every call is refused.",
        playbook: Some("service-port-mismatch"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
