//! `crashloop` (WL-01): one checkout replica on worker-1 took a poison order 40 minutes ago
//! and panics on it at every start (Go nil-pointer panic, exit 2): CrashLoopBackOff, 9
//! restarts. The container uses `terminationMessagePolicy: FallbackToLogsOnError`, so the
//! panic is also in `lastState.terminated.message`. The other replica serves.

use serde_json::json;

use super::common::{edit_everywhere, endpoint_not_ready, set_ready_replicas};
use crate::builder::{ClusterBuilder, EventDef, MIN, Terminated, ago};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const RESTARTS: i64 = 9;
const LAST_EXIT: i64 = 88;

const PANIC: &str = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x10 pc=0x8a5c2f]\n\ngoroutine 42 [running]:\ngithub.com/acme/shop-checkout/internal/order.(*Service).applyCoupon(0xc000214000, 0xc0003a6120)\n\t/src/internal/order/coupon.go:57 +0x2f\ngithub.com/acme/shop-checkout/internal/order.(*Service).Process(0xc000214000, {0xc0003a6120})\n\t/src/internal/order/service.go:112 +0x1a5\n";

fn log_json(secs_ago: i64, msg: &str, extra: &str) -> String {
    format!(
        "{{\"level\":\"info\",\"ts\":\"{}\",\"caller\":\"cmd/main.go:48\",\"msg\":\"{msg}\"{extra}}}\n",
        ago(secs_ago)
    )
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let pod = c.pods_named(NS, "checkout-").into_iter().find(|p| {
        c.find("Pod", Some(NS), p)
            .is_some_and(|o| o["spec"]["nodeName"] == "worker-1")
    });
    let pod = pod.unwrap_or_default();
    edit_everywhere(&mut c, NS, &pod, "checkout", |ctr| {
        ctr["terminationMessagePolicy"] = json!("FallbackToLogsOnError");
    });
    c.crash_loop(
        NS,
        &pod,
        "checkout",
        RESTARTS,
        Terminated {
            reason: "Error".into(),
            exit_code: 2,
            started_ago: LAST_EXIT + 3,
            finished_ago: LAST_EXIT,
        },
    );
    if let Some(p) = c.find_mut("Pod", Some(NS), &pod)
        && let Some(st) = p["status"]["containerStatuses"][0].as_object_mut()
    {
        st.get_mut("lastState")
            .and_then(|l| l.get_mut("terminated"))
            .and_then(|t| t.as_object_mut())
            .map(|t| t.insert("message".into(), json!(PANIC)));
    }
    endpoint_not_ready(&mut c, NS, &pod);
    set_ready_replicas(&mut c, NS, "checkout", 1, 40 * MIN);
    let mut prev = log_json(LAST_EXIT + 3, "starting checkout", ",\"version\":\"3.2.4\"");
    prev.push_str(&log_json(
        LAST_EXIT + 2,
        "connected to queue",
        ",\"queue\":\"orders\"",
    ));
    prev.push_str(&log_json(
        LAST_EXIT + 1,
        "processing order",
        ",\"order_id\":\"ord_8f3k2q\"",
    ));
    prev.push_str(PANIC);
    c.pod_logs.retain(|l| l.pod != pod);
    // While it waits out the back-off, `kubectl logs` shows the run that just died.
    c.add_log(NS, &pod, "checkout", prev.clone());
    c.add_previous_log(NS, &pod, "checkout", prev);
    let uid = c
        .find("Pod", Some(NS), &pod)
        .and_then(|p| p["metadata"]["uid"].as_str())
        .unwrap_or_default()
        .to_string();
    let target = ObjRef::new("Pod", Some(NS), &pod);
    let f = "spec.containers{checkout}";
    c.event(
        EventDef::normal(
            target.clone(),
            "Pulled",
            "Container image \"ghcr.io/acme/shop-checkout:3.2.4\" already present on machine",
            "kubelet",
            LAST_EXIT + 4,
        )
        .on_host("worker-1")
        .repeated(RESTARTS, 40 * MIN)
        .field(f),
    );
    c.event(
        EventDef::normal(
            target.clone(),
            "Created",
            "Created container checkout",
            "kubelet",
            LAST_EXIT + 4,
        )
        .on_host("worker-1")
        .repeated(RESTARTS, 40 * MIN)
        .field(f),
    );
    c.event(
        EventDef::normal(
            target.clone(),
            "Started",
            "Started container checkout",
            "kubelet",
            LAST_EXIT + 3,
        )
        .on_host("worker-1")
        .repeated(RESTARTS, 40 * MIN)
        .field(f),
    );
    c.event(
        EventDef::normal(
            target,
            "BackOff",
            format!("Back-off restarting failed container checkout in pod {pod}_{NS}({uid})"),
            "kubelet",
            12,
        )
        .warning()
        .on_host("worker-1")
        .repeated(41, 39 * MIN)
        .field(f),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "crashloop",
        title: "A checkout replica in CrashLoopBackOff",
        summary: "One checkout pod on worker-1 panics on a poison order at every start (nil pointer dereference, exit 2): CrashLoopBackOff with 9 restarts in 40 minutes. The panic is in the previous log and, through FallbackToLogsOnError, in lastState.terminated.message. The other replica serves.",
        playbook: Some("crashloop"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
