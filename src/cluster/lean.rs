//! The lean object model: Node, Pod, Lease, Event, DaemonSet, Deployment and StatefulSet
//! holding only the fields the health model and the playbooks read, decoded straight
//! from API JSON (serde skips everything else, including `managedFields` and the
//! `last-applied-configuration` annotation, without allocating them).
//!
//! Every type implements [`kube::Resource`] with the kind, group, version and plural of the real
//! type, so `Api::<lean::Pod>::all(client)` and the kube-runtime watcher/reflector work with them.
//!
//! Decoding never fails on a partial or odd object: every field has a default, `null` reads as
//! the default, timestamps that do not parse read as `None`, numbers written as strings (and
//! strings written as numbers, as pasted YAML does) are accepted where they plausibly occur.
//! There are no `serde_json::Value` fields and no `#[serde(flatten)]`: decoding is the hot path.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Serialize};

/// The annotation kubectl writes on `apply`: often larger than the rest of the object; dropped.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

// ---------------------------------------------------------------------------------------------
// Resource impls

macro_rules! lean_resource {
    ($t:ty, $kind:literal, $group:literal, $version:literal, $plural:literal, $scope:ty) => {
        impl kube::Resource for $t {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }
            fn group(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($group)
            }
            fn version(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($version)
            }
            fn plural(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

lean_resource!(
    Node,
    "Node",
    "",
    "v1",
    "nodes",
    k8s_openapi::ClusterResourceScope
);
lean_resource!(
    Pod,
    "Pod",
    "",
    "v1",
    "pods",
    k8s_openapi::NamespaceResourceScope
);
lean_resource!(
    Event,
    "Event",
    "",
    "v1",
    "events",
    k8s_openapi::NamespaceResourceScope
);
lean_resource!(
    Lease,
    "Lease",
    "coordination.k8s.io",
    "v1",
    "leases",
    k8s_openapi::NamespaceResourceScope
);
lean_resource!(
    DaemonSet,
    "DaemonSet",
    "apps",
    "v1",
    "daemonsets",
    k8s_openapi::NamespaceResourceScope
);
lean_resource!(
    Deployment,
    "Deployment",
    "apps",
    "v1",
    "deployments",
    k8s_openapi::NamespaceResourceScope
);
lean_resource!(
    StatefulSet,
    "StatefulSet",
    "apps",
    "v1",
    "statefulsets",
    k8s_openapi::NamespaceResourceScope
);

// ---------------------------------------------------------------------------------------------
// Metadata helpers

/// Convenient, allocation-free reads of the metadata the model uses.
pub trait MetaExt {
    /// `metadata.name`, empty when absent.
    fn name_str(&self) -> &str;
    /// `metadata.namespace`, empty for cluster-scoped objects.
    fn namespace_str(&self) -> &str;
    /// A label's value.
    fn label(&self, key: &str) -> Option<&str>;
    /// `metadata.creationTimestamp` as chrono.
    fn created(&self) -> Option<DateTime<Utc>>;
    /// The owner reference with `controller: true` (else the first one).
    fn controller_owner(&self) -> Option<&OwnerReference>;
}

impl MetaExt for ObjectMeta {
    fn name_str(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
    fn namespace_str(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
    fn label(&self, key: &str) -> Option<&str> {
        self.labels.as_ref()?.get(key).map(String::as_str)
    }
    fn created(&self) -> Option<DateTime<Utc>> {
        self.creation_timestamp.as_ref().and_then(time_to_chrono)
    }
    fn controller_owner(&self) -> Option<&OwnerReference> {
        let owners = self.owner_references.as_ref()?;
        owners
            .iter()
            .find(|o| o.controller == Some(true))
            .or_else(|| owners.first())
    }
}

/// k8s-openapi's `Time` (jiff) to chrono.
pub fn time_to_chrono(t: &Time) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(
        t.0.as_second(),
        u32::try_from(t.0.subsec_nanosecond()).ok()?,
    )
}

/// chrono to k8s-openapi's `Time` (jiff); `None` outside jiff's range.
pub fn chrono_to_time(t: DateTime<Utc>) -> Option<Time> {
    let nanos = i32::try_from(t.timestamp_subsec_nanos()).ok()?;
    k8s_openapi::jiff::Timestamp::new(t.timestamp(), nanos)
        .ok()
        .map(Time)
}

// ---------------------------------------------------------------------------------------------
// Shared small types

/// A condition as nodes, pods and workloads report them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(deserialize_with = "de::time")]
    pub last_heartbeat_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::time")]
    pub last_transition_time: Option<DateTime<Utc>>,
}

impl Condition {
    /// `status == "True"`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// Finds a condition by type.
pub fn condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

// ---------------------------------------------------------------------------------------------
// Node

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Node {
    #[serde(deserialize_with = "de::meta")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "de::nullable")]
    pub spec: NodeSpec,
    #[serde(deserialize_with = "de::nullable")]
    pub status: NodeStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeSpec {
    #[serde(deserialize_with = "de::bool_or_false")]
    pub unschedulable: bool,
    #[serde(deserialize_with = "de::list")]
    pub taints: Vec<Taint>,
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Option<String>,
    #[serde(rename = "providerID")]
    pub provider_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(deserialize_with = "de::opt_string")]
    pub value: Option<String>,
    pub effect: String,
    #[serde(deserialize_with = "de::time")]
    pub time_added: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeStatus {
    #[serde(deserialize_with = "de::list")]
    pub conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::list")]
    pub addresses: Vec<NodeAddress>,
    #[serde(deserialize_with = "de::nullable")]
    pub node_info: NodeInfo,
    #[serde(deserialize_with = "de::string_map")]
    pub allocatable: BTreeMap<String, String>,
    #[serde(deserialize_with = "de::string_map")]
    pub capacity: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub type_: String,
    pub address: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeInfo {
    pub kubelet_version: Option<String>,
    pub container_runtime_version: Option<String>,
    pub os_image: Option<String>,
    pub kernel_version: Option<String>,
    pub architecture: Option<String>,
}

impl Node {
    /// The node's `Ready` condition, if reported.
    pub fn ready_condition(&self) -> Option<&Condition> {
        condition(&self.status.conditions, "Ready")
    }
    /// The roles of its `node-role.kubernetes.io/ROLE` labels (`control-plane`, `worker`…).
    pub fn roles(&self) -> Vec<&str> {
        self.metadata
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
            .filter(|r| !r.is_empty())
            .collect()
    }
    /// The first address of the given type (`InternalIP`, `Hostname`…).
    pub fn address(&self, type_: &str) -> Option<&str> {
        self.status
            .addresses
            .iter()
            .find(|a| a.type_ == type_)
            .map(|a| a.address.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Pod

/// A pod. Its labels live in [`Pod::labels`], not in `metadata.labels` (which stays `None`):
/// a `BTreeMap` allocates a whole 544-byte node even for two labels, the largest single cost
/// of a stored pod. Read them with [`Pod::label`]; serializing puts them back in `metadata`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(from = "PodIn")]
pub struct Pod {
    /// Everything of `metadata` ktriage keeps, except `labels`.
    pub metadata: ObjectMeta,
    /// `metadata.labels`.
    pub labels: Labels,
    pub spec: PodSpec,
    pub status: PodStatus,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct PodIn {
    #[serde(deserialize_with = "de::meta")]
    metadata: ObjectMeta,
    #[serde(deserialize_with = "de::nullable")]
    spec: PodSpec,
    #[serde(deserialize_with = "de::nullable")]
    status: PodStatus,
}

impl From<PodIn> for Pod {
    fn from(p: PodIn) -> Pod {
        let mut metadata = p.metadata;
        let labels = Labels::from(metadata.labels.take().unwrap_or_default());
        Pod {
            metadata,
            labels,
            spec: p.spec,
            status: p.status,
        }
    }
}

impl Serialize for Pod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct PodOut<'a> {
            metadata: Cow<'a, ObjectMeta>,
            spec: &'a PodSpec,
            status: &'a PodStatus,
        }
        let metadata = if self.labels.is_empty() {
            Cow::Borrowed(&self.metadata)
        } else {
            Cow::Owned(ObjectMeta {
                labels: Some(self.labels.to_map()),
                ..self.metadata.clone()
            })
        };
        PodOut {
            metadata,
            spec: &self.spec,
            status: &self.status,
        }
        .serialize(s)
    }
}

/// Labels held compactly: a boxed slice of (key, value) sorted by key, 16 bytes plus 32 per
/// label and the text, where a `BTreeMap` takes a 544-byte node from the first label on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(Box<[(Box<str>, Box<str>)]>);

impl Labels {
    /// A label's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &*self.0[i].1)
    }
    /// (key, value) pairs, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// As `ObjectMeta` holds them.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(map: BTreeMap<String, String>) -> Labels {
        // A BTreeMap iterates by key, so the slice comes out sorted.
        Labels(
            map.into_iter()
                .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
                .collect(),
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    pub node_name: Option<String>,
    #[serde(deserialize_with = "de::list")]
    pub containers: Vec<Container>,
    /// The volumes that mount a PersistentVolumeClaim; the others (service-account tokens,
    /// ConfigMaps, Secrets…) are not kept, so most pods hold none.
    #[serde(deserialize_with = "de::claim_volumes")]
    pub volumes: Vec<Volume>,
    /// `hostNetwork`: the pod has the node's IP, not one of the pod network.
    #[serde(deserialize_with = "de::bool_or_false")]
    pub host_network: bool,
}

/// A pod volume backed by a PersistentVolumeClaim (its name is not kept).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Volume {
    #[serde(deserialize_with = "de::nullable")]
    pub persistent_volume_claim: Option<ClaimSource>,
}

/// `persistentVolumeClaim` of a pod volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClaimSource {
    #[serde(deserialize_with = "de::opt_string")]
    pub claim_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    #[serde(deserialize_with = "de::list")]
    pub ports: Vec<ContainerPort>,
    /// `resources`, of which only `limits.memory` is kept (an OOM kill is judged against it).
    #[serde(deserialize_with = "de::nullable")]
    pub resources: Resources,
}

/// A container's `resources`: only `limits.memory`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    #[serde(deserialize_with = "de::nullable")]
    pub limits: ResourceLimits,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceLimits {
    #[serde(deserialize_with = "de::opt_string")]
    pub memory: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: Option<String>,
    #[serde(deserialize_with = "de::int_or_zero")]
    pub container_port: i32,
    pub protocol: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    pub phase: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(deserialize_with = "de::list")]
    pub conditions: Vec<Condition>,
    #[serde(deserialize_with = "de::time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::list")]
    pub container_statuses: Vec<ContainerStatus>,
    #[serde(deserialize_with = "de::list")]
    pub init_container_statuses: Vec<ContainerStatus>,
    #[serde(rename = "podIP")]
    pub pod_ip: Option<String>,
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
    pub qos_class: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    #[serde(deserialize_with = "de::bool_or_false")]
    pub ready: bool,
    #[serde(deserialize_with = "de::int_or_zero")]
    pub restart_count: i32,
    pub started: Option<bool>,
    #[serde(deserialize_with = "de::nullable")]
    pub state: ContainerState,
    #[serde(deserialize_with = "de::nullable")]
    pub last_state: ContainerState,
}

/// One of waiting / running / terminated (the API sets at most one). Waiting and terminated
/// are boxed: a running container (most of them) then costs two null pointers, not 128 bytes,
/// in both `state` and `lastState`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerState {
    pub waiting: Option<Box<StateWaiting>>,
    pub running: Option<StateRunning>,
    pub terminated: Option<Box<StateTerminated>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateWaiting {
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateRunning {
    #[serde(deserialize_with = "de::time")]
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StateTerminated {
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(deserialize_with = "de::int_or_zero")]
    pub exit_code: i32,
    #[serde(deserialize_with = "de::time")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::time")]
    pub finished_at: Option<DateTime<Utc>>,
}

impl Pod {
    /// A label's value (`metadata.labels`, held in [`Pod::labels`]).
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key)
    }
    /// Main and init container statuses.
    pub fn all_container_statuses(&self) -> impl Iterator<Item = &ContainerStatus> {
        self.status
            .init_container_statuses
            .iter()
            .chain(self.status.container_statuses.iter())
    }
    /// Sum of `restartCount` over every container (init containers included).
    pub fn restarts(&self) -> i64 {
        self.all_container_statuses()
            .map(|c| i64::from(c.restart_count.max(0)))
            .sum()
    }
    /// `status.phase == Running`.
    pub fn is_running(&self) -> bool {
        self.status.phase.as_deref() == Some("Running")
    }
    /// The `Ready` condition is `True`; a pod captured without conditions (a pasted
    /// fragment, an old `kubectl get -o yaml`) is ready when every container says `ready`.
    pub fn is_ready(&self) -> bool {
        match condition(&self.status.conditions, "Ready") {
            Some(c) => c.is_true(),
            None => {
                !self.status.container_statuses.is_empty()
                    && self.status.container_statuses.iter().all(|c| c.ready)
            }
        }
    }
    /// The first container waiting with this reason (e.g. `CrashLoopBackOff`).
    pub fn waiting_with(&self, reason: &str) -> Option<&ContainerStatus> {
        self.all_container_statuses()
            .find(|c| c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) == Some(reason))
    }
    /// The most recent termination of any container: from `lastState.terminated` or, for a
    /// container that is terminated now, `state.terminated`. Returns the container too.
    pub fn last_termination(&self) -> Option<(&ContainerStatus, &StateTerminated)> {
        let mut best: Option<(&ContainerStatus, &StateTerminated)> = None;
        // Only containers that restarted: an init container that Completed, or a Job's
        // container that exited 0 once, did not restart.
        for c in self
            .all_container_statuses()
            .filter(|c| c.restart_count > 0)
        {
            for t in [
                c.last_state.terminated.as_deref(),
                c.state.terminated.as_deref(),
            ]
            .into_iter()
            .flatten()
            {
                let newer = match best {
                    None => true,
                    Some((_, b)) => t.finished_at > b.finished_at,
                };
                if newer {
                    best = Some((c, t));
                }
            }
        }
        best
    }
}

// ---------------------------------------------------------------------------------------------
// Lease

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Lease {
    #[serde(deserialize_with = "de::meta")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "de::nullable")]
    pub spec: LeaseSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LeaseSpec {
    pub holder_identity: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    pub lease_duration_seconds: Option<i32>,
    #[serde(deserialize_with = "de::time")]
    pub acquire_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::time")]
    pub renew_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_int")]
    pub lease_transitions: Option<i32>,
}

// ---------------------------------------------------------------------------------------------
// Event (core/v1; events.k8s.io/v1 field names are accepted as aliases)

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    #[serde(deserialize_with = "de::meta")]
    pub metadata: ObjectMeta,
    #[serde(alias = "regarding", deserialize_with = "de::nullable")]
    pub involved_object: InvolvedObject,
    pub reason: Option<String>,
    #[serde(alias = "note")]
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    #[serde(alias = "deprecatedCount", deserialize_with = "de::opt_int")]
    pub count: Option<i32>,
    #[serde(alias = "deprecatedFirstTimestamp", deserialize_with = "de::time")]
    pub first_timestamp: Option<DateTime<Utc>>,
    #[serde(alias = "deprecatedLastTimestamp", deserialize_with = "de::time")]
    pub last_timestamp: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::time")]
    pub event_time: Option<DateTime<Utc>>,
    #[serde(alias = "deprecatedSource", deserialize_with = "de::nullable")]
    pub source: EventSource,
    #[serde(alias = "reportingController")]
    pub reporting_component: Option<String>,
    /// `series` of a repeated event (newer API servers count repeats there); boxed, most
    /// events have none.
    #[serde(deserialize_with = "de::nullable")]
    pub series: Option<Box<EventSeries>>,
}

/// `series` of an event: how often it repeated and when it was last seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EventSeries {
    #[serde(deserialize_with = "de::opt_int")]
    pub count: Option<i32>,
    #[serde(deserialize_with = "de::time")]
    pub last_observed_time: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InvolvedObject {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub uid: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EventSource {
    pub component: Option<String>,
    pub host: Option<String>,
}

impl Event {
    /// The newest of lastTimestamp, eventTime, firstTimestamp, creationTimestamp.
    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        [
            self.last_timestamp,
            self.event_time,
            self.first_timestamp,
            self.metadata.created(),
        ]
        .into_iter()
        .flatten()
        .max()
    }
}

// ---------------------------------------------------------------------------------------------
// Workloads

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DaemonSet {
    #[serde(deserialize_with = "de::meta")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "de::nullable")]
    pub status: DaemonSetStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DaemonSetStatus {
    #[serde(deserialize_with = "de::opt_int")]
    pub desired_number_scheduled: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub current_number_scheduled: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub number_ready: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub number_available: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub number_unavailable: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub updated_number_scheduled: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub number_misscheduled: Option<i32>,
    #[serde(deserialize_with = "de::list")]
    pub conditions: Vec<Condition>,
}

/// `spec.replicas` of a Deployment, StatefulSet or ReplicaSet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplicaSpec {
    #[serde(deserialize_with = "de::opt_int")]
    pub replicas: Option<i32>,
}

/// The status of a Deployment, StatefulSet or ReplicaSet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReplicaStatus {
    #[serde(deserialize_with = "de::opt_int")]
    pub replicas: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub ready_replicas: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub available_replicas: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub updated_replicas: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub unavailable_replicas: Option<i32>,
    #[serde(deserialize_with = "de::opt_int")]
    pub current_replicas: Option<i32>,
    #[serde(deserialize_with = "de::list")]
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Deployment {
    #[serde(deserialize_with = "de::meta")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "de::nullable")]
    pub spec: ReplicaSpec,
    #[serde(deserialize_with = "de::nullable")]
    pub status: ReplicaStatus,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StatefulSet {
    #[serde(deserialize_with = "de::meta")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "de::nullable")]
    pub spec: ReplicaSpec,
    #[serde(deserialize_with = "de::nullable")]
    pub status: ReplicaStatus,
}

// ---------------------------------------------------------------------------------------------
// Lenient deserializers

/// Lenient field deserializers used by the lean types (public so the watch layer and playbooks
/// can reuse them on their own lean types).
pub mod de {
    use std::collections::BTreeMap;
    use std::fmt;

    use chrono::{DateTime, Utc};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
    use serde::Deserialize;
    use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    use super::{LAST_APPLIED, chrono_to_time};

    /// `null` reads as `T::default()`.
    pub fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// A list: `null` reads as empty, and the vector holds no spare capacity (serde grows it
    /// to at least 4 slots; for 150,000 pods with one container that spare room was the
    /// largest share of the heap).
    pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        let mut v = Option::<Vec<T>>::deserialize(d)?.unwrap_or_default();
        v.shrink_to_fit();
        Ok(v)
    }

    /// Parses an RFC 3339 timestamp (with or without fractional seconds, `Z` or an offset).
    pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// A scalar read without failing: what a lenient field saw.
    enum Scalar {
        Str(String),
        Int(i64),
        Float(f64),
        Bool(bool),
        Nothing,
    }

    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Scalar;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any value")
        }
        fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
            Ok(Scalar::Str(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
            Ok(Scalar::Str(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
            Ok(Scalar::Int(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
            Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
            Ok(Scalar::Float(v))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
            Ok(Scalar::Bool(v))
        }
        fn visit_none<E>(self) -> Result<Scalar, E> {
            Ok(Scalar::Nothing)
        }
        fn visit_unit<E>(self) -> Result<Scalar, E> {
            Ok(Scalar::Nothing)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Scalar::Nothing)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Scalar::Nothing)
        }
    }

    impl Scalar {
        fn into_string(self) -> Option<String> {
            match self {
                Scalar::Str(s) => Some(s),
                Scalar::Int(i) => Some(i.to_string()),
                Scalar::Float(f) => Some(f.to_string()),
                Scalar::Bool(b) => Some(b.to_string()),
                Scalar::Nothing => None,
            }
        }
        fn into_int(self) -> Option<i64> {
            match self {
                Scalar::Int(i) => Some(i),
                Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
                Scalar::Str(s) => s.trim().parse().ok(),
                _ => None,
            }
        }
    }

    /// A timestamp: RFC 3339; anything unparseable (or not a string) reads as `None`.
    pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        struct TimeVisitor;
        impl<'de> Visitor<'de> for TimeVisitor {
            type Value = Option<DateTime<Utc>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(parse_time(v))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(TimeVisitor)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(TimeVisitor)
    }

    /// A pod's volumes, keeping only those backed by a PersistentVolumeClaim.
    pub fn claim_volumes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<super::Volume>, D::Error> {
        let mut v: Vec<super::Volume> = list(d)?;
        v.retain(|v| v.persistent_volume_claim.is_some());
        v.shrink_to_fit();
        Ok(v)
    }

    /// An optional integer: accepts numbers and numeric strings; anything else reads as `None`.
    pub fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        Ok(d.deserialize_any(ScalarVisitor)?
            .into_int()
            .and_then(|i| T::try_from(i).ok()))
    }

    /// Like [`opt_int`], with 0 for anything absent or unreadable.
    pub fn int_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        Ok(opt_int(d)?.unwrap_or(0))
    }

    /// A bool; `"true"` as a string is accepted; anything else reads as `false`.
    pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(match d.deserialize_any(ScalarVisitor)? {
            Scalar::Bool(b) => b,
            Scalar::Str(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        })
    }

    /// An optional string that also accepts numbers and bools (as YAML writes them unquoted).
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(d.deserialize_any(ScalarVisitor)?.into_string())
    }

    struct StringMapVisitor {
        skip_last_applied: bool,
    }

    impl<'de> Visitor<'de> for StringMapVisitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<KeyString>()? {
                if self.skip_last_applied && key.0 == LAST_APPLIED {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                if let Some(v) = map.next_value_seed(ScalarSeed)?.into_string() {
                    out.insert(key.0, v);
                }
            }
            Ok(out)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(BTreeMap::new())
        }
    }

    /// A map key as an owned string (keys are short; borrowing is not always possible).
    struct KeyString(String);
    impl<'de> Deserialize<'de> for KeyString {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(KeyString(
                d.deserialize_any(ScalarVisitor)?
                    .into_string()
                    .unwrap_or_default(),
            ))
        }
    }

    struct ScalarSeed;
    impl<'de> serde::de::DeserializeSeed<'de> for ScalarSeed {
        type Value = Scalar;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
    }

    /// A string map (labels, allocatable): numbers and bools become strings, nested values
    /// and nulls are dropped, a non-map reads as empty.
    pub fn string_map<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        d.deserialize_any(StringMapVisitor {
            skip_last_applied: false,
        })
    }

    /// Annotations: like [`string_map`] but the last-applied-configuration value is skipped
    /// without being allocated.
    pub fn annotations<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        d.deserialize_any(StringMapVisitor {
            skip_last_applied: true,
        })
    }

    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct OwnerIn {
        api_version: String,
        kind: String,
        name: String,
        uid: String,
        controller: Option<bool>,
    }

    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct MetaIn {
        name: Option<String>,
        generate_name: Option<String>,
        namespace: Option<String>,
        uid: Option<String>,
        resource_version: Option<String>,
        #[serde(deserialize_with = "opt_int")]
        generation: Option<i64>,
        #[serde(deserialize_with = "string_map")]
        labels: BTreeMap<String, String>,
        #[serde(deserialize_with = "annotations")]
        annotations: BTreeMap<String, String>,
        #[serde(deserialize_with = "time")]
        creation_timestamp: Option<DateTime<Utc>>,
        #[serde(deserialize_with = "time")]
        deletion_timestamp: Option<DateTime<Utc>>,
        #[serde(deserialize_with = "list")]
        owner_references: Vec<OwnerIn>,
    }

    /// `metadata`, decoded leanly (no managedFields, no last-applied annotation) into
    /// k8s-openapi's `ObjectMeta` (what `kube::Resource::meta` must return).
    pub fn meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
        let m = Option::<MetaIn>::deserialize(d)?.unwrap_or_default();
        Ok(ObjectMeta {
            name: m.name,
            generate_name: m.generate_name,
            namespace: m.namespace,
            uid: m.uid,
            resource_version: m.resource_version,
            generation: m.generation,
            labels: (!m.labels.is_empty()).then_some(m.labels),
            annotations: (!m.annotations.is_empty()).then_some(m.annotations),
            creation_timestamp: m.creation_timestamp.and_then(chrono_to_time),
            deletion_timestamp: m.deletion_timestamp.and_then(chrono_to_time),
            owner_references: (!m.owner_references.is_empty())
                .then(|| {
                    m.owner_references
                        .into_iter()
                        .map(|o| OwnerReference {
                            api_version: o.api_version,
                            kind: o.kind,
                            name: o.name,
                            uid: o.uid,
                            controller: o.controller,
                            block_owner_deletion: None,
                        })
                        .collect::<Vec<_>>()
                })
                .map(|mut owners| {
                    // The conversion reuses the decoded vector's allocation; drop its spare room.
                    owners.shrink_to_fit();
                    owners
                }),
            ..ObjectMeta::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completed_init_containers_are_not_restarts() {
        let p: Pod = serde_json::from_value(json!({"status": {
            "initContainerStatuses": [{"name": "install-cni", "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                          "finishedAt": "2026-01-15T09:59:00Z"}}}],
            "containerStatuses": [{"name": "calico-node", "restartCount": 0,
                "state": {"running": {"startedAt": "2026-01-15T09:59:01Z"}}}]}}))
        .unwrap();
        assert!(p.last_termination().is_none());
    }

    #[test]
    fn a_pod_keeps_only_its_claim_volumes() {
        let p: Pod = serde_json::from_value(json!({"spec": {"volumes": [
            {"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
            {"name": "config", "configMap": {"name": "app"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0", "readOnly": false}}]}}))
        .unwrap();
        let claims: Vec<&str> = p
            .spec
            .volumes
            .iter()
            .filter_map(|v| v.persistent_volume_claim.as_ref()?.claim_name.as_deref())
            .collect();
        assert_eq!(claims, ["data-db-0"]);
        let none: Pod = serde_json::from_value(json!({"spec": {"volumes": null}})).unwrap();
        assert!(none.spec.volumes.is_empty());
        assert!(!none.spec.host_network);
        let host: Pod = serde_json::from_value(json!({"spec": {"hostNetwork": true}})).unwrap();
        assert!(host.spec.host_network);
    }

    #[test]
    fn pod_decodes_fields_the_model_reads_and_drops_the_rest() {
        let v = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "coredns-7db6d8ff4d-abcde", "namespace": "kube-system", "uid": "u1",
                "resourceVersion": "42",
                "labels": {"k8s-app": "kube-dns", "pod-template-hash": "7db6d8ff4d"},
                "annotations": {"a": "b", LAST_APPLIED: "{\"huge\":true}"},
                "creationTimestamp": "2026-01-15T09:00:00Z",
                "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}],
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": "coredns-7db6d8ff4d", "uid": "rs", "controller": true}]
            },
            "spec": {"nodeName": "cp-1", "containers": [{"name": "coredns",
                "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                "ports": [{"containerPort": 53, "protocol": "UDP", "name": "dns"}],
                "resources": {"limits": {"memory": "170Mi", "cpu": "1"}, "requests": {"cpu": "100m"}},
                "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}}}]},
            "status": {
                "phase": "Running", "podIP": "10.244.0.3", "hostIP": "10.0.0.10",
                "qosClass": "Burstable", "startTime": "2026-01-15T09:00:01.123456Z",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "coredns", "ready": true, "restartCount": 3,
                    "state": {"running": {"startedAt": "2026-01-15T09:05:00Z"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                        "finishedAt": "2026-01-15T09:04:59Z"}}}]
            }
        });
        let p: Pod = serde_json::from_value(v).unwrap();
        assert_eq!(p.metadata.name_str(), "coredns-7db6d8ff4d-abcde");
        assert_eq!(p.label("k8s-app"), Some("kube-dns"));
        assert_eq!(p.label("pod-template-hash"), Some("7db6d8ff4d"));
        assert_eq!(p.label("nope"), None);
        assert!(p.metadata.managed_fields.is_none());
        let ann = p.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann.len(), 1, "last-applied dropped, others kept");
        assert_eq!(p.metadata.controller_owner().unwrap().kind, "ReplicaSet");
        assert_eq!(
            p.metadata.created(),
            parse_time_for_test("2026-01-15T09:00:00Z")
        );
        assert_eq!(p.spec.node_name.as_deref(), Some("cp-1"));
        assert_eq!(p.spec.containers[0].ports[0].container_port, 53);
        assert_eq!(
            p.spec.containers[0].resources.limits.memory.as_deref(),
            Some("170Mi")
        );
        assert_eq!(p.status.pod_ip.as_deref(), Some("10.244.0.3"));
        assert!(p.status.start_time.is_some(), "fractional seconds parse");
        assert!(p.is_running() && p.is_ready());
        assert_eq!(p.restarts(), 3);
        let (c, t) = p.last_termination().unwrap();
        assert_eq!((c.name.as_str(), t.exit_code), ("coredns", 137));
        assert_eq!(t.reason.as_deref(), Some("OOMKilled"));
    }

    /// Pod labels are held outside `ObjectMeta` but read, serialize (lean YAML, snapshots) and
    /// decode back as `metadata.labels`.
    #[test]
    fn pod_labels_read_and_roundtrip_through_metadata() {
        let v = json!({"metadata": {"name": "a", "namespace": "kube-system",
            "labels": {"tier": "control-plane", "component": "etcd", "n": 1}},
            "spec": {"nodeName": "cp-1"}});
        let p: Pod = serde_json::from_value(v).unwrap();
        assert_eq!(p.label("tier"), Some("control-plane"));
        assert_eq!(p.label("n"), Some("1"));
        assert_eq!(p.labels.len(), 3);
        let out = serde_json::to_value(&p).unwrap();
        assert_eq!(
            out["metadata"]["labels"],
            json!({"component": "etcd", "n": "1", "tier": "control-plane"})
        );
        assert_eq!(out["metadata"]["name"], "a");
        assert_eq!(out["spec"]["nodeName"], "cp-1");
        let back: Pod = serde_json::from_value(out).unwrap();
        assert_eq!(back.labels, p.labels);
        let bare = serde_json::to_value(Pod::default()).unwrap();
        assert!(bare["metadata"].get("labels").is_none());
    }

    /// serde grows a decoded vector to at least 4 slots; 150,000 pods must not carry that.
    #[test]
    fn decoded_lists_hold_no_spare_capacity() {
        let p: Pod = serde_json::from_slice(
            br#"{"metadata": {"name": "a", "ownerReferences": [{"kind": "ReplicaSet", "name": "r"}]},
                "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]},
                "status": {"conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{"name": "c"}], "initContainerStatuses": []}}"#,
        )
        .unwrap();
        let owners = p.metadata.owner_references.as_ref().unwrap();
        assert_eq!((owners.len(), owners.capacity()), (1, 1));
        assert_eq!(p.spec.containers.capacity(), 1);
        assert_eq!(p.spec.containers[0].ports.capacity(), 1);
        assert_eq!(p.status.conditions.capacity(), 1);
        assert_eq!(p.status.container_statuses.capacity(), 1);
        assert_eq!(p.status.init_container_statuses.capacity(), 0);
        let n: Node = serde_json::from_slice(
            br#"{"status": {"conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}"#,
        )
        .unwrap();
        assert_eq!(n.status.conditions.capacity(), 1);
        assert_eq!(n.status.addresses.capacity(), 1);
    }

    fn parse_time_for_test(s: &str) -> Option<DateTime<Utc>> {
        de::parse_time(s)
    }

    #[test]
    fn partial_and_odd_objects_never_fail() {
        for v in [
            json!({}),
            json!({"metadata": null, "spec": null, "status": null}),
            json!({"metadata": {"labels": null, "annotations": {"n": 1, "b": true}}}),
            json!({"status": {"startTime": "yesterday", "containerStatuses": [
                {"restartCount": "4", "ready": "true", "state": null}]}}),
            json!({"status": {"startTime": 12345, "conditions": null, "phase": "Pending",
                "extra": {"deep": [1, 2, 3]}}}),
        ] {
            let p: Pod = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
            assert!(p.status.start_time.is_none());
        }
        let p: Pod = serde_json::from_value(json!({"status": {"containerStatuses": [
            {"restartCount": "4", "ready": "true"}]}}))
        .unwrap();
        assert_eq!(p.restarts(), 4);
        assert!(p.status.container_statuses[0].ready);
        let p: Pod =
            serde_json::from_value(json!({"metadata": {"annotations": {"n": 1}}})).unwrap();
        assert_eq!(p.metadata.annotations.unwrap()["n"], "1");
    }

    #[test]
    fn node_lease_event_and_workloads_decode() {
        let n: Node = serde_json::from_value(json!({
            "metadata": {"name": "w-1", "labels": {"node-role.kubernetes.io/worker": ""}},
            "spec": {"unschedulable": true, "podCIDR": "10.244.1.0/24", "providerID": "aws:///i-1",
                "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
            "status": {"conditions": [{"type": "Ready", "status": "False",
                    "reason": "KubeletNotReady", "lastHeartbeatTime": "2026-01-15T09:59:50Z"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.21"}],
                "nodeInfo": {"kubeletVersion": "v1.31.4", "containerRuntimeVersion": "containerd://1.7.22"},
                "allocatable": {"cpu": 4, "memory": "16Gi"}}
        }))
        .unwrap();
        assert!(n.spec.unschedulable);
        assert_eq!(n.spec.pod_cidr.as_deref(), Some("10.244.1.0/24"));
        assert_eq!(n.spec.provider_id.as_deref(), Some("aws:///i-1"));
        assert_eq!(n.address("InternalIP"), Some("10.0.0.21"));
        assert_eq!(n.status.allocatable["cpu"], "4");
        assert_eq!(n.ready_condition().unwrap().status, "False");
        assert!(n.ready_condition().unwrap().last_heartbeat_time.is_some());

        let l: Lease = serde_json::from_value(json!({
            "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
            "spec": {"holderIdentity": "cp-1_0b7c", "leaseDurationSeconds": 15,
                "renewTime": "2026-01-15T09:59:58.123456Z", "leaseTransitions": 2}
        }))
        .unwrap();
        assert_eq!(l.spec.lease_duration_seconds, Some(15));
        assert_eq!(l.spec.lease_transitions, Some(2));
        assert!(l.spec.renew_time.is_some());

        let e: Event = serde_json::from_value(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "x.1", "namespace": "default"},
            "regarding": {"kind": "Pod", "name": "web-1", "namespace": "default"},
            "note": "Back-off restarting failed container", "reason": "BackOff",
            "type": "Warning", "deprecatedCount": 7, "reportingController": "kubelet",
            "eventTime": "2026-01-15T09:59:00.000001Z"
        }))
        .unwrap();
        assert_eq!(e.involved_object.name.as_deref(), Some("web-1"));
        assert_eq!(e.count, Some(7));
        assert_eq!(e.reporting_component.as_deref(), Some("kubelet"));
        assert_eq!(e.last_seen(), e.event_time);

        let d: Deployment = serde_json::from_value(json!({
            "spec": {"replicas": 2, "template": {"spec": {}}},
            "status": {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1,
                "conditions": [{"type": "Available", "status": "False"}]}
        }))
        .unwrap();
        assert_eq!(
            (d.spec.replicas, d.status.ready_replicas),
            (Some(2), Some(1))
        );
        let ds: DaemonSet = serde_json::from_value(json!({
            "status": {"desiredNumberScheduled": 3, "numberReady": 2, "numberAvailable": 2}
        }))
        .unwrap();
        assert_eq!(ds.status.desired_number_scheduled, Some(3));
    }

    #[test]
    fn resource_metadata_matches_the_real_types() {
        use kube::Resource;
        assert_eq!(Pod::url_path(&(), Some("ns")), "/api/v1/namespaces/ns/pods");
        assert_eq!(Node::url_path(&(), None), "/api/v1/nodes");
        assert_eq!(
            Lease::url_path(&(), Some("kube-node-lease")),
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        );
        assert_eq!(DaemonSet::api_version(&()), "apps/v1");
        assert_eq!(Event::kind(&()), "Event");
    }

    #[test]
    fn time_roundtrips_between_chrono_and_jiff() {
        let t = de::parse_time("2026-01-15T10:00:00.5Z").unwrap();
        let j = chrono_to_time(t).unwrap();
        assert_eq!(time_to_chrono(&j), Some(t));
    }
}
