//! `ha-apiserver-endpoints-flap` (CP-05): the three API servers were set up from an old HA
//! guide with `--endpoint-reconciler-type=master-count` and no `--apiserver-count` (default
//! 1). Each one rewrites `default/kubernetes` to its own address on every reconcile (10 s) and
//! logs "Resetting endpoints for master service \"kubernetes\" to ..."; the Endpoints and the
//! EndpointSlice hold one address that changes live.

use std::time::Duration;

use serde_json::json;

use super::common::{append_log, set_flag, us};
use crate::builder::{ClusterBuilder, MIN, klog};
use crate::{Change, ObjRef, Scenario, ServerBehavior};

fn reset_message(ip: &str, uid: &str) -> String {
    format!(
        "Resetting endpoints for master service \"kubernetes\" to &Endpoints{{ObjectMeta:{{kubernetes  default  {uid} 0 0001-01-01 00:00:00 +0000 UTC <nil> <nil> map[endpointslice.kubernetes.io/skip-mirror:true] map[] [] [] []}},Subsets:[]EndpointSubset{{EndpointSubset{{Addresses:[]EndpointAddress{{EndpointAddress{{IP:{ip},TargetRef:nil,Hostname:,NodeName:nil,}},}},NotReadyAddresses:[]EndpointAddress{{}},Ports:[]EndpointPort{{EndpointPort{{Name:https,Port:6443,Protocol:TCP,AppProtocol:nil,}},}},}},}},}}"
    )
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let cps = c.control_plane_nodes();
    for n in &cps {
        set_flag(
            &mut c,
            "kube-apiserver",
            &n.name,
            "endpoint-reconciler-type",
            Some("master-count"),
        );
    }
    let ep_uid = c
        .find("Endpoints", Some("default"), "kubernetes")
        .map(|e| {
            e["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    // Each API server resets every 10 s; the three are 3-4 s apart. The last writer before
    // the epoch is cp-2.
    for (i, n) in cps.iter().enumerate() {
        let pod = format!("kube-apiserver-{}", n.name);
        let mut t = String::new();
        let mut k = 20 * MIN + 3 * i as i64;
        let last = if n.name == "cp-2" { 1 } else { 4 + i as i64 };
        while k >= last {
            t.push_str(&klog(
                'W',
                us(k, &pod),
                "mastercount.go:158",
                &reset_message(&n.ip, &ep_uid),
            ));
            k -= 10;
        }
        append_log(&mut c, &pod, "kube-apiserver", &t);
    }
    let current = cps
        .iter()
        .find(|n| n.name == "cp-2")
        .or(cps.first())
        .map(|n| n.ip.clone())
        .unwrap_or_default();
    if let Some(ep) = c.find_mut("Endpoints", Some("default"), "kubernetes") {
        ep["subsets"][0]["addresses"] = json!([{"ip": current}]);
    }
    if let Some(es) = c.find_mut("EndpointSlice", Some("default"), "kubernetes") {
        es["endpoints"] = json!([{"addresses": [current], "conditions": {"ready": true}}]);
    }
    // Live: the address changes hands every few seconds.
    let ep = ObjRef::new("Endpoints", Some("default"), "kubernetes");
    let es = ObjRef::new("EndpointSlice", Some("default"), "kubernetes");
    for (i, n) in cps.iter().enumerate() {
        let at = Duration::from_secs(3 + 3 * i as u64);
        c.every(
            at,
            Duration::from_secs(10),
            Change::Set {
                target: ep.clone(),
                path: "/subsets/0/addresses".into(),
                value: json!([{"ip": n.ip}]),
            },
        );
        c.every(
            at,
            Duration::from_secs(10),
            Change::Set {
                target: es.clone(),
                path: "/endpoints".into(),
                value: json!([{"addresses": [n.ip], "conditions": {"ready": true}}]),
            },
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "ha-apiserver-endpoints-flap",
        title: "HA API servers fight over default/kubernetes",
        summary: "Three API servers with --endpoint-reconciler-type=master-count and the default --apiserver-count=1: each logs `Resetting endpoints for master service \"kubernetes\"` and rewrites the Endpoints to its own address every 10 s.",
        playbook: Some("ha-apiserver-endpoints-flap"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
