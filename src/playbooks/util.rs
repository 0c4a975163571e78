//! The one implementation of the small readers every playbook group uses over the JSON
//! objects the API returns: string and list fields at a JSON pointer, an object's name,
//! namespace and `Kind/namespace/name`, conditions and readiness, a node's addresses and
//! control-plane role, RFC 3339 timestamps, and the evidence constructor `ev`. All pure;
//! none panics on partial objects (a missing field reads as `""`, empty or `None`).
//!
//! The group helper modules (`controlplane::common`, `network_a::common`, `network_b::util`,
//! `workloads::common`, `identity_storage::common`) re-export what they use from here and
//! keep only what is theirs. Helpers that look alike across groups but print or decide
//! differently (age formatting, the year of a klog line, the order of an event's timestamps,
//! command-line flag parsing, the kubeadm ClusterConfiguration readers) stay in their groups:
//! merging them would change a playbook's output.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cluster::lean::{MetaExt, Pod};
use crate::playbooks::engine::q;
use crate::playbooks::{Evidence, Query, Results};

/// The whole of one pod (`kubectl get pod NAME -n NS -o yaml`): what a playbook reads when it
/// needs more of a suspect pod than the lean model keeps (container args, env, volumes).
pub fn pod_detail(p: &Pod) -> Query {
    q::get(
        "",
        "pods",
        Some(p.metadata.namespace_str()),
        p.metadata.name_str(),
    )
}

/// The pod as [`pod_detail`] read it, when it answered.
pub fn detail<'r>(r: &'r Results, p: &Pod) -> Option<&'r Value> {
    r.objects(&pod_detail(p)).first()
}

/// Tests: every pod, in the pod list and each read whole ([`pod_detail`]), as the rounds of a
/// run would answer them.
#[cfg(test)]
pub fn set_pods(r: &mut Results, pods: &[Value]) {
    r.set_watched(crate::playbooks::Watched::Pods, pods);
    for p in pods {
        let lean: Pod = serde_json::from_value(p.clone()).expect("a pod");
        r.by_query.insert(
            pod_detail(&lean),
            crate::playbooks::Outcome::Objects(vec![p.clone()]),
        );
    }
}

/// The string at a JSON pointer, `""` when absent or not a string.
pub fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

/// The array at a JSON pointer, empty when absent or not an array.
pub fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// At most `max` of `items`, spread evenly over them (all of them when they are no more):
/// the nodes a playbook probes one request each, so a 5,000-node cluster costs `max`
/// requests, not 5,000. Deterministic, so a second run probes the same ones.
pub fn spread<T>(items: &[T], max: usize) -> Vec<&T> {
    if items.len() <= max {
        return items.iter().collect();
    }
    (0..max).map(|i| &items[i * items.len() / max]).collect()
}

/// `metadata.name`, or `""`.
pub fn name(v: &Value) -> &str {
    s(v, "/metadata/name")
}

/// `metadata.namespace`, or `""` (cluster-scoped objects).
pub fn namespace(v: &Value) -> &str {
    s(v, "/metadata/namespace")
}

/// `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects), as evidence names
/// objects; the kind is the object's own `kind`, `Object` when it has none (list items the
/// API returns often do not).
pub fn obj(v: &Value) -> String {
    let kind = s(v, "/kind");
    let kind = if kind.is_empty() { "Object" } else { kind };
    obj_as(kind, v)
}

/// `Kind/namespace/name` (or `Kind/name`) with the kind given by the caller.
pub fn obj_as(kind: &str, v: &Value) -> String {
    match namespace(v) {
        "" => format!("{kind}/{}", name(v)),
        ns => format!("{kind}/{ns}/{}", name(v)),
    }
}

/// One piece of evidence.
pub fn ev(
    object: impl Into<String>,
    field: impl Into<String>,
    value: impl Into<String>,
) -> Evidence {
    Evidence {
        object: object.into(),
        field: field.into(),
        value: value.into(),
    }
}

/// Parses an RFC 3339 timestamp as UTC (`None` for `""` or anything else).
pub fn parse_time(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The condition of `type_` in `status.conditions` (the first one).
pub fn condition<'a>(v: &'a Value, type_: &str) -> Option<&'a Value> {
    arr(v, "/status/conditions")
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// The status of the condition of `type_` (`True`/`False`/`Unknown`), `""` without one.
pub fn condition_status<'a>(v: &'a Value, type_: &str) -> &'a str {
    condition(v, type_).map_or("", |c| s(c, "/status"))
}

/// Whether the object's (a node's or a pod's) Ready condition is True. A pod captured
/// without conditions is ready when every container status says `ready: true`.
pub fn ready(v: &Value) -> bool {
    match condition_status(v, "Ready") {
        "" => {
            let cs = arr(v, "/status/containerStatuses");
            !cs.is_empty()
                && cs
                    .iter()
                    .all(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
        }
        status => status == "True",
    }
}

/// The node's first address of `type_` (`InternalIP`, `ExternalIP`, `Hostname`).
pub fn address<'a>(node: &'a Value, type_: &str) -> Option<&'a str> {
    arr(node, "/status/addresses")
        .iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some(type_))
        .and_then(|a| a.get("address").and_then(Value::as_str))
}

/// The node's InternalIP (the first one).
pub fn internal_ip(node: &Value) -> Option<&str> {
    address(node, "InternalIP")
}

/// Whether the node carries a control-plane role label (`control-plane` or the old `master`).
pub fn is_control_plane(node: &Value) -> bool {
    node.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .is_some_and(|l| {
            l.contains_key("node-role.kubernetes.io/control-plane")
                || l.contains_key("node-role.kubernetes.io/master")
        })
}

/// Restarts of all the pod's containers together.
pub fn pod_restarts(pod: &Value) -> i64 {
    arr(pod, "/status/containerStatuses")
        .iter()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readers_tolerate_missing_and_mistyped_fields() {
        let v = json!({"metadata": {"name": 3}, "status": {"conditions": "x"}});
        assert_eq!(name(&v), "");
        assert_eq!(namespace(&v), "");
        assert!(arr(&v, "/status/conditions").is_empty());
        assert_eq!(condition_status(&v, "Ready"), "");
        assert!(!ready(&v));
        assert_eq!(internal_ip(&v), None);
        assert!(!is_control_plane(&v));
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn objects_are_named_with_their_kind_and_namespace() {
        let pod = json!({"kind": "Pod", "metadata": {"name": "p", "namespace": "a"}});
        assert_eq!(obj(&pod), "Pod/a/p");
        let item = json!({"metadata": {"name": "n1"}});
        assert_eq!(obj(&item), "Object/n1");
        assert_eq!(obj_as("Node", &item), "Node/n1");
    }

    #[test]
    fn conditions_addresses_and_roles_are_read() {
        let node = json!({
            "metadata": {"name": "cp-1", "labels": {"node-role.kubernetes.io/master": ""}},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "Hostname", "address": "cp-1"}, {"type": "InternalIP", "address": "10.0.0.7"}, {"type": "InternalIP", "address": "10.0.0.8"}]
            }
        });
        assert!(ready(&node));
        assert_eq!(condition_status(&node, "MemoryPressure"), "False");
        assert_eq!(internal_ip(&node), Some("10.0.0.7"));
        assert_eq!(address(&node, "Hostname"), Some("cp-1"));
        assert!(is_control_plane(&node));
    }
}
