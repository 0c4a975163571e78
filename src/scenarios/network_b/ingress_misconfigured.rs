//! `ingress-misconfigured` (NET-11): the shop's Helm values were refactored 15 minutes ago
//! and the `frontend` Ingress now points at Service `frontend-svc`, which does not exist (the
//! Service is still `frontend`). ingress-nginx logs `Error obtaining Endpoints for Service
//! "shop/frontend-svc"` and answers every request for shop.lab.internal with 503.

use serde_json::json;

use crate::builder::{ClusterBuilder, MIN, epoch, hex, klog};
use crate::{Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    if let Some(ing) = c.find_mut("Ingress", Some("shop"), "frontend") {
        ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] =
            json!("frontend-svc");
        ing["metadata"]["generation"] = json!(2);
    }
    let controller = c
        .pods_named("ingress-nginx", "ingress-nginx-controller-")
        .into_iter()
        .next();
    if let Some(pod) = controller {
        let changed = 15 * MIN;
        let mut extra = String::new();
        extra.push_str(&klog(
            'I',
            changed * 1_000_000,
            "main.go:107",
            "\"successfully validated configuration, accepting\" ingress=\"shop/frontend\"",
        ));
        extra.push_str(&klog(
            'I',
            changed * 1_000_000 - 4_120,
            "store.go:440",
            "\"Found valid IngressClass\" ingress=\"shop/frontend\" ingressclass=\"nginx\"",
        ));
        extra.push_str(&klog('I', changed * 1_000_000 - 5_310, "event.go:377", "Event(v1.ObjectReference{Kind:\"Ingress\", Namespace:\"shop\", Name:\"frontend\", UID:\"\", APIVersion:\"networking.k8s.io/v1\", ResourceVersion:\"\", FieldPath:\"\"}): type: 'Normal' reason: 'Sync' Scheduled for sync"));
        for k in 0..4i64 {
            let at = (changed - 1 - 200 * k) * 1_000_000 - 71_403;
            extra.push_str(&klog('W', at, "controller.go:1214", "Error obtaining Endpoints for Service \"shop/frontend-svc\": no object matching key \"shop/frontend-svc\" in local store"));
            if k == 0 {
                extra.push_str(&klog(
                    'I',
                    at - 2_000,
                    "controller.go:193",
                    "\"Configuration changes detected, backend reload required\"",
                ));
                extra.push_str(&klog(
                    'I',
                    at - 310_000,
                    "controller.go:213",
                    "\"Backend successfully reloaded\"",
                ));
            }
        }
        for k in 0..6i64 {
            let ago = 30 + 120 * (5 - k);
            let when = (epoch() - chrono::Duration::seconds(ago)).format("%d/%b/%Y:%H:%M:%S +0000");
            extra.push_str(&format!(
                "10.0.0.{} - - [{when}] \"GET / HTTP/1.1\" 503 190 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\" 412 0.000 [shop-frontend-svc-80] [] - - - - {}\n",
                60 + k,
                hex(&format!("req503/{k}"), 32)
            ));
        }
        for l in c
            .pod_logs
            .iter_mut()
            .filter(|l| l.pod == pod && !l.previous)
        {
            // The 200s to the old upstream stopped with the change.
            l.text = l
                .text
                .lines()
                .filter(|line| !line.contains("[shop-frontend-80]"))
                .map(|line| format!("{line}\n"))
                .collect();
            l.text.push_str(&extra);
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "ingress-misconfigured",
        title: "NET-11: an Ingress routes to a Service that does not exist",
        summary: "shop/frontend's Ingress now points at Service frontend-svc (the Service is frontend): ingress-nginx logs `Error obtaining Endpoints for Service \"shop/frontend-svc\"` and answers 503 for shop.lab.internal.",
        playbook: Some("ingress-misconfigured"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
