//! Small readers over the JSON objects the `network_b` playbooks look at (names, node
//! readiness and addresses, events, service ports, endpoints) and over the lean pods they
//! scan (selector matching, phase, waiting reason), so each playbook reads them the same way
//! and never panics on partial objects.

use std::collections::BTreeSet;

use serde_json::Value;

pub use crate::cluster::lean::{Event, MetaExt, Pod};
pub use crate::playbooks::util::{
    arr, ev, internal_ip, name, namespace, obj, ready as node_ready, ready as pod_ready, s,
};

/// Whether a pod's labels satisfy an equality selector map (an empty selector matches
/// nothing; a number or bool in the selector compares as the label text it stands for).
pub fn labels_match(selector: &Value, p: &Pod) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    if sel.is_empty() {
        return false;
    }
    sel.iter().all(|(k, want)| {
        p.label(k)
            .is_some_and(|have| label_value(want).as_deref() == Some(have))
    })
}

/// A selector value as label text (`"web"`, `1`, `true`); `None` for null or a nested value.
fn label_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

/// A pod's `status.phase`, `""` when absent.
pub fn phase(p: &Pod) -> &str {
    p.status.phase.as_deref().unwrap_or_default()
}

/// `Pod/namespace/name`, as evidence names a pod.
pub fn pod_obj(p: &Pod) -> String {
    match p.metadata.namespace_str() {
        "" => format!("Pod/{}", p.metadata.name_str()),
        ns => format!("Pod/{ns}/{}", p.metadata.name_str()),
    }
}

#[cfg(test)]
pub use crate::playbooks::util::set_pods;
pub use crate::playbooks::util::{detail, pod_detail};

/// `Event/namespace/name`, as evidence names an event.
pub fn event_obj(e: &Event) -> String {
    match e.metadata.namespace_str() {
        "" => format!("Event/{}", e.metadata.name_str()),
        ns => format!("Event/{ns}/{}", e.metadata.name_str()),
    }
}

/// The first waiting reason of a pod's containers (`ContainerCreating`, `CrashLoopBackOff`).
pub fn waiting_reason(p: &Pod) -> Option<&str> {
    p.status
        .container_statuses
        .iter()
        .find_map(|c| c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()))
}

/// Node names that hold a ready endpoint of a Service, from its EndpointSlices (label
/// `kubernetes.io/service-name`) or, when there is no slice, its Endpoints object.
pub fn ready_endpoint_nodes(
    ns: &str,
    svc: &str,
    endpoint_slices: &[Value],
    endpoints: &[Value],
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let slices: Vec<&Value> = endpoint_slices
        .iter()
        .filter(|e| {
            namespace(e) == ns && s(e, "/metadata/labels/kubernetes.io~1service-name") == svc
        })
        .collect();
    if !slices.is_empty() {
        for sl in slices {
            for e in arr(sl, "/endpoints") {
                // `ready` absent means ready (EndpointSlice API semantics).
                let ready = e
                    .pointer("/conditions/ready")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                let node = s(e, "/nodeName");
                if ready && !node.is_empty() {
                    out.insert(node.to_string());
                }
            }
        }
        return out;
    }
    for ep in endpoints
        .iter()
        .filter(|e| namespace(e) == ns && name(e) == svc)
    {
        for subset in arr(ep, "/subsets") {
            for a in arr(subset, "/addresses") {
                let node = s(a, "/nodeName");
                if !node.is_empty() {
                    out.insert(node.to_string());
                }
            }
        }
    }
    out
}

/// Counts of ready and not-ready addresses of a Service's Endpoints object.
pub fn endpoint_counts(ep: &Value) -> (usize, usize) {
    let mut ready = 0;
    let mut not_ready = 0;
    for subset in arr(ep, "/subsets") {
        ready += arr(subset, "/addresses").len();
        not_ready += arr(subset, "/notReadyAddresses").len();
    }
    (ready, not_ready)
}

/// A selector map as `k=v,k2=v2`.
pub fn selector_string(selector: &Value) -> String {
    selector
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ready_endpoint_nodes_prefers_slices_and_skips_unready() {
        let slices = vec![json!({
            "metadata": {"namespace": "a", "name": "web-x", "labels": {"kubernetes.io/service-name": "web"}},
            "endpoints": [
                {"addresses": ["10.244.3.2"], "nodeName": "w1", "conditions": {"ready": true}},
                {"addresses": ["10.244.4.2"], "nodeName": "w2", "conditions": {"ready": false}},
                {"addresses": ["10.244.5.2"], "nodeName": "w3"},
            ]
        })];
        let got = ready_endpoint_nodes("a", "web", &slices, &[]);
        assert_eq!(got.into_iter().collect::<Vec<_>>(), vec!["w1", "w3"]);
        let eps = vec![
            json!({"metadata": {"namespace": "a", "name": "web"}, "subsets": [{"addresses": [{"ip": "1", "nodeName": "w9"}], "notReadyAddresses": [{"ip": "2", "nodeName": "w8"}]}]}),
        ];
        let got = ready_endpoint_nodes("a", "web", &[], &eps);
        assert_eq!(got.into_iter().collect::<Vec<_>>(), vec!["w9"]);
        assert_eq!(endpoint_counts(&eps[0]), (1, 1));
    }

    #[test]
    fn empty_selector_matches_nothing() {
        let pod: Pod =
            serde_json::from_value(json!({"metadata": {"labels": {"app": "x", "v": 1}}})).unwrap();
        assert!(!labels_match(&json!({}), &pod));
        assert!(labels_match(&json!({"app": "x"}), &pod));
        assert!(!labels_match(&json!({"app": "y"}), &pod));
        assert!(labels_match(&json!({"app": "x", "v": 1}), &pod));
    }
}
