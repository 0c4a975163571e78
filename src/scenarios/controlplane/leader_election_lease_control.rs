//! `leader-election-lease-control` (negative control of CP-04): the healthy cluster, where an
//! engineer raised kube-scheduler's verbosity on cp-3 eight minutes ago. The recreated standby
//! logs, as every standby does, "attempting to acquire leader lease kube-system/kube-scheduler..."
//! and, at --v=4, "lock is held by ... and has not yet expired", while cp-1 holds and renews
//! the lease. Nothing is wrong: no playbook may raise a warning.

use serde_json::json;

use super::common::{set_flag, take_log, us};
use crate::builder::leader_holder;
use crate::builder::{ClusterBuilder, MIN, ago, klog};
use crate::{Scenario, ServerBehavior};

const RECREATED_AGO: i64 = 8 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let comp = "kube-scheduler";
    let pod = format!("{comp}-cp-3");
    set_flag(&mut c, comp, "cp-3", "v", Some("4"));
    if let Some(p) = c.find_mut("Pod", Some("kube-system"), &pod) {
        p["metadata"]["creationTimestamp"] = json!(ago(RECREATED_AGO));
        p["status"]["startTime"] = json!(ago(RECREATED_AGO));
        if let Some(st) = p["status"]["containerStatuses"].get_mut(0) {
            st["state"] = json!({"running": {"startedAt": ago(RECREATED_AGO - 1)}});
        }
        if let Some(conds) = p["status"]["conditions"].as_array_mut() {
            for cond in conds {
                cond["lastTransitionTime"] = json!(ago(RECREATED_AGO - 2));
            }
        }
    }
    let holder = leader_holder(comp, "cp-1");
    let _ = take_log(&mut c, &pod, comp);
    let s = RECREATED_AGO - 1;
    let mut t = klog('I', us(s, &pod), "flags.go:64", "FLAG: --v=\"4\"");
    t.push_str(&klog(
        'I',
        us(s - 1, &pod),
        "serving.go:386",
        "Generated self-signed cert in-memory",
    ));
    t.push_str(&klog(
        'I',
        us(s - 1, &pod) - 300,
        "server.go:167",
        "\"Starting Kubernetes Scheduler\" version=\"v1.31.4\"",
    ));
    t.push_str(&klog(
        'I',
        us(s - 1, &pod) - 900,
        "secure_serving.go:213",
        "Serving securely on 127.0.0.1:10259",
    ));
    t.push_str(&klog(
        'I',
        us(s - 2, &pod),
        "leaderelection.go:254",
        "attempting to acquire leader lease kube-system/kube-scheduler...",
    ));
    let mut k = s - 2;
    while k > 3 {
        t.push_str(&klog(
            'I',
            us(k, &pod) - 400_000,
            "leaderelection.go:364",
            &format!("lock is held by {holder} and has not yet expired"),
        ));
        t.push_str(&klog(
            'I',
            us(k, &pod) - 400_100,
            "leaderelection.go:259",
            "failed to acquire lease kube-system/kube-scheduler",
        ));
        k -= 13;
    }
    c.add_log("kube-system", &pod, comp, t);
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "leader-election-lease-control",
        title: "Control: a standby waiting for the scheduler lease",
        summary: "Healthy cluster; kube-scheduler on cp-3 was recreated 8 minutes ago with --v=4 and logs `attempting to acquire leader lease` and `lock is held by ... and has not yet expired` while cp-1 renews the lease. Normal: no finding.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
