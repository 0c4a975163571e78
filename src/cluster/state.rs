//! `ClusterState`: the lean stores the health model and the playbooks read (nodes, pods, leases,
//! events, workloads), plus the raw `/readyz?verbose` answer, the server version and the sync
//! state of each watched resource. Built by the watch layer from its reflectors, or here from
//! plain JSON objects (a snapshot or a scenario) so a cluster can be judged without a server.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::lean::{DaemonSet, Deployment, Event, LAST_APPLIED, Lease, Node, Pod, StatefulSet};
use super::{ResourceSync, SyncState};
use crate::snapshot::Snapshot;

/// Everything the health model reads. Stores are `Vec<Arc<_>>`, as kube-runtime's
/// `Store::state()` returns them.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    pub nodes: Vec<Arc<Node>>,
    pub pods: Vec<Arc<Pod>>,
    /// Leases of every namespace watched (kube-system and kube-node-lease at least).
    pub leases: Vec<Arc<Lease>>,
    pub events: Vec<Arc<Event>>,
    pub daemonsets: Vec<Arc<DaemonSet>>,
    pub deployments: Vec<Arc<Deployment>>,
    pub statefulsets: Vec<Arc<StatefulSet>>,
    /// The body of `/readyz?verbose`, when it was fetched.
    pub readyz: Option<String>,
    /// The server's `gitVersion` (`v1.31.4`).
    pub server_version: Option<String>,
    /// Sync state per watched resource, by plural name (`nodes`, `pods`, `leases`, `events`,
    /// `daemonsets`, `deployments`, `statefulsets`, and `readyz` for the readiness probe). A
    /// resource without an entry counts as available (a snapshot has no entries at all).
    pub sync: Vec<ResourceSync>,
    /// Objects of a known kind that could not be decoded (and were left out), each as
    /// `Kind namespace/name: why`.
    pub dropped: Vec<String>,
    /// Resources (plural) of which the source holds some objects without having listed
    /// them all (a pasted fragment): rules may use what is there, never conclude absence.
    pub partial: Vec<String>,
}

/// The stores a snapshot fills, as (plural, kind).
const SNAPSHOT_KINDS: [(&str, &str); 7] = [
    ("nodes", "Node"),
    ("pods", "Pod"),
    ("leases", "Lease"),
    ("events", "Event"),
    ("daemonsets", "DaemonSet"),
    ("deployments", "Deployment"),
    ("statefulsets", "StatefulSet"),
];

/// The kubectl command that captures a resource for a snapshot.
pub fn capture_command(resource: &str) -> String {
    match resource {
        "nodes" => "kubectl get nodes -o yaml".into(),
        "leases" => "kubectl get leases -n kube-system -o yaml".into(),
        other => format!("kubectl get {other} -A -o yaml"),
    }
}

/// The message of a Status body, or the body itself.
fn status_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

/// Object counts, for status lines and `check` text output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub nodes: usize,
    pub pods: usize,
    pub leases: usize,
    pub events: usize,
    pub daemonsets: usize,
    pub deployments: usize,
    pub statefulsets: usize,
}

impl ClusterState {
    /// Decodes objects by `kind` (`List`s and `*List`s are unwrapped, their items taking the
    /// list's item kind when they carry none). Objects of other kinds are ignored; objects of a
    /// known kind that do not decode are named in `dropped`. A `ktriage/v1` `Response` for
    /// `/readyz…` fills `readyz`, a `SnapshotInfo` with a `version` fills `server_version`.
    pub fn from_objects(objects: &[Value]) -> ClusterState {
        let mut state = ClusterState::default();
        for v in objects {
            state.add_value(v, None);
        }
        state
    }

    /// The state a parsed snapshot describes: its objects, its `/readyz` response and version,
    /// and what it did not capture: a kind the snapshot neither holds nor declares listed is
    /// `NotCaptured`, one whose list the API server refused (a recorded 403 `Response`) is
    /// `Forbidden`, so health rules say "unknown" instead of judging an absence.
    pub fn from_snapshot(snapshot: &Snapshot) -> ClusterState {
        let mut state = ClusterState::from_objects(&snapshot.objects);
        for (resource, kind) in SNAPSHOT_KINDS {
            match snapshot.capture_of(kind, None) {
                crate::snapshot::Capture::Listed => continue,
                crate::snapshot::Capture::Partial => {
                    state.partial.push(resource.to_string());
                    continue;
                }
                crate::snapshot::Capture::NotCaptured => {}
            }
            let refused = snapshot.responses.iter().find(|r| {
                r.code == 403 && {
                    let path = r.path.split('?').next().unwrap_or("");
                    path.ends_with(&format!("/{resource}"))
                }
            });
            let sync = match refused {
                Some(r) => SyncState::Forbidden {
                    verb: "list".into(),
                    resource: resource.to_string(),
                    message: status_message(&r.body),
                },
                None => SyncState::NotCaptured {
                    capture: capture_command(resource),
                },
            };
            state.sync.push(ResourceSync {
                resource: resource.to_string(),
                state: sync,
            });
        }
        if let Some(r) = snapshot
            .responses
            .iter()
            .find(|r| r.path.starts_with("/readyz"))
        {
            state.readyz = Some(r.body.clone());
        }
        if let Some(version) = snapshot.info.as_ref().and_then(|i| i.version.clone()) {
            state.server_version = Some(version);
        }
        state
    }

    fn add_value(&mut self, v: &Value, default_kind: Option<&str>) {
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .or(default_kind)
            .unwrap_or("");
        let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api_version == crate::snapshot::EVIDENCE_API_VERSION {
            self.add_evidence(kind, v);
            return;
        }
        match kind {
            "Node" => push(&mut self.nodes, &mut self.dropped, v),
            "Pod" => push(&mut self.pods, &mut self.dropped, v),
            "Lease" => push(&mut self.leases, &mut self.dropped, v),
            "Event" => push(&mut self.events, &mut self.dropped, v),
            "DaemonSet" => push(&mut self.daemonsets, &mut self.dropped, v),
            "Deployment" => push(&mut self.deployments, &mut self.dropped, v),
            "StatefulSet" => push(&mut self.statefulsets, &mut self.dropped, v),
            _ => {
                if let Some(items) = v.get("items").and_then(Value::as_array)
                    && kind.ends_with("List")
                {
                    let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
                    for item in items {
                        self.add_value(item, item_kind);
                    }
                }
            }
        }
    }

    fn add_evidence(&mut self, kind: &str, v: &Value) {
        match kind {
            "Response" => {
                let path = v.get("path").and_then(Value::as_str).unwrap_or("");
                if path.starts_with("/readyz")
                    && let Some(body) = v.get("body").and_then(Value::as_str)
                {
                    self.readyz = Some(body.to_string());
                }
            }
            "SnapshotInfo" => {
                if let Some(version) = v.get("version").and_then(Value::as_str) {
                    self.server_version = Some(version.to_string());
                }
            }
            _ => {}
        }
    }

    /// True when the source listed every object of `resource` it could see (a live watch, a
    /// declared or `*List` capture), so the absence of an object is real.
    pub fn fully_listed(&self, resource: &str) -> bool {
        !self.partial.iter().any(|r| r == resource)
    }

    /// The sync state of one resource (`None`: not tracked, treated as available).
    pub fn sync_of(&self, resource: &str) -> Option<&SyncState> {
        self.sync
            .iter()
            .find(|s| s.resource == resource)
            .map(|s| &s.state)
    }

    /// Object counts per store.
    pub fn counts(&self) -> StateCounts {
        StateCounts {
            nodes: self.nodes.len(),
            pods: self.pods.len(),
            leases: self.leases.len(),
            events: self.events.len(),
            daemonsets: self.daemonsets.len(),
            deployments: self.deployments.len(),
            statefulsets: self.statefulsets.len(),
        }
    }
}

fn push<T: DeserializeOwned>(store: &mut Vec<Arc<T>>, dropped: &mut Vec<String>, v: &Value) {
    match T::deserialize(v) {
        Ok(obj) => store.push(Arc::new(obj)),
        Err(e) => {
            let field = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or("");
            let ns = field("/metadata/namespace");
            let name = field("/metadata/name");
            let name = if ns.is_empty() {
                name.to_string()
            } else {
                format!("{ns}/{name}")
            };
            dropped.push(format!("{} {name}: {e}", field("/kind")));
        }
    }
}

/// Removes what is never stored: `metadata.managedFields` and the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation (dropping `annotations`
/// when it becomes empty).
pub fn strip(v: &mut Value) {
    let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    meta.remove("managedFields");
    let now_empty = match meta.get_mut("annotations").and_then(Value::as_object_mut) {
        Some(ann) => {
            ann.remove(LAST_APPLIED);
            ann.is_empty()
        }
        None => false,
    };
    if now_empty {
        meta.remove("annotations");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn from_objects_sorts_by_kind_unwraps_lists_and_counts_undecodable() {
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1"}}),
            json!({"apiVersion": "v1", "kind": "PodList", "items": [
                {"metadata": {"name": "a", "namespace": "default"}},
                {"metadata": {"name": "b", "namespace": "default"}}
            ]}),
            json!({"apiVersion": "v1", "kind": "List", "items": [
                {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "cp-1", "namespace": "kube-node-lease"}}
            ]}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            // A Pod whose metadata is a string cannot be read.
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": "broken"}),
            json!({"apiVersion": "ktriage/v1", "kind": "Response", "path": "/readyz?verbose",
                   "code": 200, "body": "[+]ping ok\nreadyz check passed"}),
            json!({"apiVersion": "ktriage/v1", "kind": "SnapshotInfo", "version": "v1.31.4"}),
        ];
        let s = ClusterState::from_objects(&objects);
        let c = s.counts();
        assert_eq!((c.nodes, c.pods, c.leases), (1, 2, 1));
        assert_eq!(s.dropped.len(), 1, "{:?}", s.dropped);
        assert_eq!(s.readyz.as_deref(), Some("[+]ping ok\nreadyz check passed"));
        assert_eq!(s.server_version.as_deref(), Some("v1.31.4"));
        assert!(s.sync_of("pods").is_none());
    }

    #[test]
    fn strip_removes_managed_fields_and_last_applied_only() {
        let mut v = json!({"metadata": {"name": "x", "managedFields": [{}],
            "annotations": {LAST_APPLIED: "{}", "keep": "me"}}});
        strip(&mut v);
        assert_eq!(
            v,
            json!({"metadata": {"name": "x", "annotations": {"keep": "me"}}})
        );
        let mut v = json!({"metadata": {"annotations": {LAST_APPLIED: "{}"}}});
        strip(&mut v);
        assert_eq!(v, json!({"metadata": {}}));
        let mut v = json!("not an object");
        strip(&mut v);
        assert_eq!(v, json!("not an object"));
    }
}
