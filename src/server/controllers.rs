//! The controllers of a training session (writable server only), run on each write before
//! the answer is sent, deterministic, each a simplification of the real one:
//!
//! - Deployment → one ReplicaSet per pod template (`<name>-<hash>`), revisions in
//!   `deployment.kubernetes.io/revision`; the RS whose template matches is current and
//!   scaled to `spec.replicas`, the others to 0; a template that matches an older RS (rollout
//!   undo) makes that RS current with the next revision. Status as `rollout status` reads it.
//! - ReplicaSet / StatefulSet / DaemonSet → Pods: missing ones created, extra ones deleted
//!   (a deleted Pod comes back under a new name; a DaemonSet's on the same node).
//! - Scheduler: a new Pod goes to the Ready, schedulable node with the fewest Pods whose
//!   taints it tolerates, whose labels match its nodeSelector and whose allocatable CPU and
//!   memory fit its requests; with unbound PVCs or no such node it stays Pending
//!   (Unschedulable). A node change (uncordon, taint removed) schedules pending Pods again.
//! - Kubelet: a container's state comes from the scenario's facts ([`Facts`]): an image that
//!   cannot be pulled waits in ImagePullBackOff, a container identical to one that crash-loops
//!   in the scenario crash-loops, anything else runs and is ready.
//! - Service → Endpoints and EndpointSlices from the Pods its selector matches (ready ones as
//!   addresses, the rest as notReadyAddresses), each targetPort resolved (a named port by the
//!   Pod's container ports).
//! - PersistentVolumeClaim → bound to a new PersistentVolume by its StorageClass (the default
//!   one when it names none, also after a class is made default); pending Pods then run.
//! - Garbage collector: deleting an owner deletes its dependents (or orphans them), deleting a
//!   Namespace deletes what it holds.
//!
//! RBAC objects need no controller: the authorizer is rebuilt from the store on each change.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::store::Store;
use ktriage_api::resources::ResourceDef;
use ktriage_api::select::{FieldSelector, LabelSelector};

/// What the scenario says about images and containers, read once when the server starts.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// Images some container of the scenario runs (or ran): they can be pulled.
    pulled: HashSet<String>,
    /// Images the scenario's kubelets fail to pull.
    unpullable: HashSet<String>,
    /// Containers (image, command, args, env) that crash-loop in the scenario.
    crashing: HashSet<String>,
    /// Images the scenario says its registry holds ([`ktriage_scenarios::ServerBehavior::images`]).
    registry: HashSet<String>,
    /// Repositories of the unpullable images: their other tags exist only if declared.
    failing_repos: HashSet<String>,
}

/// An image reference without its tag or digest.
fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

/// Image names that say they do not exist.
const MISSING_MARKERS: &[&str] = &[
    "does-not-exist",
    "doesnotexist",
    "nonexistent",
    "non-existent",
    "not-exist",
    "notexist",
    "no-such",
];

impl Facts {
    /// Reads the facts from the scenario's Pods and the images its registry declares.
    pub fn from_objects<'a>(
        objects: impl IntoIterator<Item = &'a Value>,
        registry: &[String],
    ) -> Self {
        let mut facts = Facts {
            registry: registry.iter().cloned().collect(),
            ..Facts::default()
        };
        for pod in objects
            .into_iter()
            .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Pod"))
        {
            let specs: Vec<&Value> = ["containers", "initContainers"]
                .iter()
                .filter_map(|l| pod.pointer(&format!("/spec/{l}")).and_then(Value::as_array))
                .flatten()
                .collect();
            let statuses = ["containerStatuses", "initContainerStatuses"]
                .iter()
                .filter_map(|l| {
                    pod.pointer(&format!("/status/{l}"))
                        .and_then(Value::as_array)
                })
                .flatten();
            for st in statuses {
                let name = st.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(spec) = specs
                    .iter()
                    .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
                else {
                    continue;
                };
                let image = spec.get("image").and_then(Value::as_str).unwrap_or("");
                let waiting = st
                    .pointer("/state/waiting/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let restarts = st.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
                let failed_exit = st
                    .pointer("/state/terminated/exitCode")
                    .or_else(|| st.pointer("/lastState/terminated/exitCode"))
                    .and_then(Value::as_i64)
                    .is_some_and(|c| c != 0);
                match waiting {
                    "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" => {
                        facts.unpullable.insert(image.to_string());
                        continue;
                    }
                    "CrashLoopBackOff" => {
                        facts.crashing.insert(fingerprint(spec));
                    }
                    _ if restarts > 0 && failed_exit && st.get("ready") != Some(&json!(true)) => {
                        facts.crashing.insert(fingerprint(spec));
                    }
                    _ => {}
                }
                facts.pulled.insert(image.to_string());
            }
        }
        // An image some container pulled is no longer "unpullable" (another tag failed).
        let pulled = facts.pulled.clone();
        facts.unpullable.retain(|i| !pulled.contains(i));
        facts.failing_repos = facts
            .unpullable
            .iter()
            .map(|i| repository(i).to_string())
            .collect();
        facts
    }

    /// Why `image` cannot be pulled (the waiting reason), or `None` when it can: an image the
    /// scenario runs, or declares in its registry, can; one its kubelets fail to pull, any
    /// other tag of that repository, one whose name says it does not exist
    /// (`:does-not-exist`, `nonexistent`…) or an invalid reference cannot; any other is taken
    /// to exist in its registry.
    pub fn pull_failure(&self, image: &str) -> Option<&'static str> {
        if self.pulled.contains(image) || self.registry.contains(image) {
            return None;
        }
        let invalid = image.is_empty()
            || image.chars().any(char::is_whitespace)
            || image
                .split(['@', ':'])
                .next()
                .is_some_and(|repo| repo.chars().any(|c| c.is_ascii_uppercase()));
        if invalid {
            return Some("InvalidImageName");
        }
        let lower = image.to_ascii_lowercase();
        if self.unpullable.contains(image)
            || self.failing_repos.contains(repository(image))
            || MISSING_MARKERS.iter().any(|m| lower.contains(m))
        {
            return Some("ImagePullBackOff");
        }
        None
    }

    fn crashes(&self, container: &Value) -> bool {
        self.crashing.contains(&fingerprint(container))
    }
}

/// What makes two containers the same program: image, command, args and env.
fn fingerprint(c: &Value) -> String {
    json!([
        c.get("image"),
        c.get("command"),
        c.get("args"),
        c.get("env")
    ])
    .to_string()
}

/// One change the controllers react to.
pub struct Touch {
    pub res: usize,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The time as Time fields hold it.
pub fn now_secs() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn hash_of(seed: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    seed.hash(&mut h);
    h.finish()
}

/// The characters Kubernetes uses in generated names (no vowels, no look-alikes).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `n` characters of a generated name, from `seed`.
pub fn suffix(seed: &impl Hash, n: usize) -> String {
    let mut x = hash_of(seed);
    (0..n)
        .map(|_| {
            let c = ALPHANUMS[(x % ALPHANUMS.len() as u64) as usize] as char;
            x = (x / ALPHANUMS.len() as u64) ^ x.rotate_left(17);
            c
        })
        .collect()
}

/// A uid for a new object (unique: it includes the store's resourceVersion).
pub fn new_uid(kind: &str, ns: &str, name: &str, rv: u64) -> String {
    let a = hash_of(&(kind, ns, name, rv, 1u8));
    let b = hash_of(&(kind, ns, name, rv, 2u8));
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn name_of(v: &Value) -> &str {
    s(v, "/metadata/name")
}

fn ns_of(v: &Value) -> &str {
    s(v, "/metadata/namespace")
}

/// The store, with the queue of changes still to react to.
struct Ctx<'a> {
    store: &'a mut Store,
    facts: &'a Facts,
    queue: VecDeque<Touch>,
}

impl Ctx<'_> {
    fn res(&self, kind: &str) -> Option<usize> {
        self.store.resource_of_kind(kind)
    }

    fn get(&self, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let res = self.res(kind)?;
        self.store.get(res, ns, name).map(|o| (*o).clone())
    }

    fn list(&self, kind: &str, ns: Option<&str>) -> Vec<Value> {
        let Some(res) = self.res(kind) else {
            return Vec::new();
        };
        self.store
            .list(
                res,
                ns,
                &LabelSelector::default(),
                &FieldSelector::default(),
                None,
                None,
            )
            .map(|p| p.items.iter().map(|o| (**o).clone()).collect())
            .unwrap_or_default()
    }

    /// Stores `obj` if it changed; `notify` queues the change for the controllers.
    fn put(&mut self, mut obj: Value, notify: bool) -> Option<Value> {
        let kind = obj.get("kind").and_then(Value::as_str)?.to_string();
        let res = self.res(&kind)?;
        let before = self.get(&kind, ns_of(&obj), name_of(&obj));
        if let Some(b) = &before {
            let mut cmp = obj.clone();
            cmp["metadata"]["resourceVersion"] = b["metadata"]["resourceVersion"].clone();
            if cmp == *b {
                return Some(b.clone());
            }
            obj["metadata"]["resourceVersion"] = Value::Null;
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
        }
        let ev = self.store.upsert(obj)?;
        let after = (*ev.object).clone();
        if notify {
            self.queue.push_back(Touch {
                res,
                before,
                after: Some(after.clone()),
            });
        }
        Some(after)
    }

    fn remove(&mut self, obj: &Value) {
        let Some(res) = obj
            .get("kind")
            .and_then(Value::as_str)
            .and_then(|k| self.res(k))
        else {
            return;
        };
        if self.store.delete(res, ns_of(obj), name_of(obj)).is_some() {
            self.queue.push_back(Touch {
                res,
                before: Some(obj.clone()),
                after: None,
            });
        }
    }

    fn event(&mut self, obj: &Value, type_: &str, reason: &str, message: String) {
        let ns = ns_of(obj).to_string();
        let now = now_secs();
        let rv = self.store.resource_version();
        let name = format!(
            "{}.{}",
            name_of(obj),
            suffix(&(name_of(obj), reason, rv), 10)
        );
        let ev = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": if ns.is_empty() { "default" } else { &ns }},
            "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": name_of(obj),
                               "namespace": ns, "uid": s(obj, "/metadata/uid")},
            "reason": reason, "message": message, "type": type_, "count": 1,
            "firstTimestamp": now, "lastTimestamp": now,
            "source": {"component": if reason == "Scheduled" { "default-scheduler" } else { "kubelet" }},
        });
        self.put(ev, false);
    }
}

/// Reacts to a change, and to the changes that causes, until the cluster is settled.
pub fn react(store: &mut Store, facts: &Facts, touch: Touch) {
    let mut ctx = Ctx {
        store,
        facts,
        queue: VecDeque::from([touch]),
    };
    // A bound on the work one write can cause (a controller loop would otherwise never end).
    let mut budget = 2_000;
    while let Some(t) = ctx.queue.pop_front() {
        budget -= 1;
        if budget == 0 {
            tracing::warn!("controllers stopped after 2000 steps for one write");
            break;
        }
        let kind = ctx.store.def(t.res).kind;
        match kind {
            "Deployment" => {
                if let Some(after) = &t.after {
                    deployment(&mut ctx, t.before.as_ref(), after);
                }
            }
            "ReplicaSet" => {
                if let Some(after) = &t.after {
                    replica_set(&mut ctx, after);
                }
            }
            "StatefulSet" => {
                if let Some(after) = &t.after {
                    stateful_set(&mut ctx, t.before.as_ref(), after);
                }
            }
            "DaemonSet" => {
                if let (Some(before), Some(after)) = (&t.before, &t.after)
                    && before.pointer("/spec/template") != after.pointer("/spec/template")
                {
                    let pods = owned_pods(&ctx, ns_of(after), "DaemonSet", name_of(after));
                    for p in pods {
                        ctx.remove(&p);
                    }
                }
            }
            "Pod" => pod_changed(&mut ctx, t.before.as_ref(), t.after.as_ref()),
            "Service" => match &t.after {
                Some(svc) => endpoints(&mut ctx, svc),
                None => {
                    if let Some(svc) = &t.before {
                        remove_endpoints(&mut ctx, svc);
                    }
                }
            },
            "PersistentVolumeClaim" => {
                if let Some(pvc) = &t.after {
                    bind(&mut ctx, pvc);
                }
            }
            // Admission may now allow what it refused: the controllers retry.
            "Namespace" | "ResourceQuota" | "LimitRange" => {
                let ns = t
                    .after
                    .as_ref()
                    .map(|o| {
                        if kind == "Namespace" {
                            name_of(o).to_string()
                        } else {
                            ns_of(o).to_string()
                        }
                    })
                    .unwrap_or_default();
                if !ns.is_empty() {
                    retry_creates(&mut ctx, Some(&ns));
                }
            }
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
                retry_creates(&mut ctx, None);
            }
            "StorageClass" => {
                for pvc in ctx.list("PersistentVolumeClaim", None) {
                    bind(&mut ctx, &pvc);
                }
            }
            "Node"
                if t.after.is_some()
                    && t.before.as_ref().map(|b| b.get("spec"))
                        != t.after.as_ref().map(|a| a.get("spec")) =>
            {
                reschedule_pending(&mut ctx, None);
            }
            _ => {}
        }
    }
}

/// ReplicaSets short of pods try again (their Deployment's rollout, when they have one),
/// after a change that may let admission accept what it refused.
fn retry_creates(ctx: &mut Ctx<'_>, ns: Option<&str>) {
    let mut rolled = HashSet::new();
    for rs in ctx.list("ReplicaSet", ns) {
        let rs_ns = ns_of(&rs).to_string();
        if (owned_pods(ctx, &rs_ns, "ReplicaSet", name_of(&rs)).len() as i64) >= replicas(&rs) {
            continue;
        }
        let owner = rs
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .and_then(|r| r.iter().find(|r| s(r, "/kind") == "Deployment"))
            .map(|r| s(r, "/name").to_string());
        match owner.and_then(|d| ctx.get("Deployment", &rs_ns, &d)) {
            Some(dep) => {
                if rolled.insert((rs_ns.clone(), name_of(&dep).to_string())) {
                    rollout(ctx, &dep, false);
                }
            }
            None => replica_set(ctx, &rs),
        }
    }
}

/// Deletes what `owner` owned (or orphans it), then reacts to the deletion of `owner`.
pub fn deleted(store: &mut Store, facts: &Facts, res: usize, owner: &Value, orphan: bool) {
    let mut ctx = Ctx {
        store,
        facts,
        queue: VecDeque::new(),
    };
    let mut owners = vec![owner.clone()];
    while let Some(o) = owners.pop() {
        let uid = s(&o, "/metadata/uid").to_string();
        let kind = o
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = name_of(&o).to_string();
        let ns = ns_of(&o).to_string();
        for dep_kind in [
            "ReplicaSet",
            "Pod",
            "Job",
            "EndpointSlice",
            "ControllerRevision",
        ] {
            let scope = (!ns.is_empty()).then_some(ns.as_str());
            for d in ctx.list(dep_kind, scope) {
                let refs = d
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let owned_by = |r: &Value| {
                    let by_uid = !uid.is_empty() && s(r, "/uid") == uid;
                    let by_name = s(r, "/kind") == kind && s(r, "/name") == name;
                    by_uid || (s(r, "/uid").is_empty() && by_name)
                };
                if !refs.iter().any(owned_by) {
                    continue;
                }
                if orphan {
                    let mut d = d.clone();
                    let kept: Vec<Value> = refs.into_iter().filter(|r| !owned_by(r)).collect();
                    d["metadata"]["ownerReferences"] = json!(kept);
                    ctx.put(d, false);
                } else {
                    ctx.remove(&d);
                    owners.push(d);
                }
            }
        }
    }
    if owner.get("kind").and_then(Value::as_str) == Some("Namespace") {
        let ns = name_of(owner).to_string();
        let defs: Vec<ResourceDef> = ctx.store.defs().to_vec();
        for (i, def) in defs.iter().enumerate() {
            if !def.namespaced {
                continue;
            }
            let items = ctx
                .store
                .list(
                    i,
                    Some(&ns),
                    &LabelSelector::default(),
                    &FieldSelector::default(),
                    None,
                    None,
                )
                .map(|p| p.items)
                .unwrap_or_default();
            for o in items {
                ctx.store.delete(i, &ns, name_of(&o));
            }
        }
    }
    ctx.queue.push_front(Touch {
        res,
        before: Some(owner.clone()),
        after: None,
    });
    let queue = std::mem::take(&mut ctx.queue);
    for t in queue {
        react(ctx.store, facts, t);
    }
}

/// Server-side defaults a trainee's objects get (those the controllers read).
pub fn defaults(store: &Store, def: &ResourceDef, old: Option<&Value>, obj: &mut Value) {
    match def.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" => {
            if obj.pointer("/spec/replicas").is_none_or(Value::is_null) {
                obj["spec"]["replicas"] = json!(1);
            }
            if def.kind == "Deployment" {
                let spec = &mut obj["spec"];
                if spec.get("strategy").is_none_or(Value::is_null) {
                    spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
                }
                if spec.get("revisionHistoryLimit").is_none_or(Value::is_null) {
                    spec["revisionHistoryLimit"] = json!(10);
                }
                if spec
                    .get("progressDeadlineSeconds")
                    .is_none_or(Value::is_null)
                {
                    spec["progressDeadlineSeconds"] = json!(600);
                }
            }
        }
        "Service" => service_defaults(store, old, obj),
        "Namespace" => {
            obj["status"] = json!({"phase": "Active"});
        }
        _ => {}
    }
}

fn service_defaults(store: &Store, old: Option<&Value>, obj: &mut Value) {
    let ty = s(obj, "/spec/type").to_string();
    let ty = if ty.is_empty() {
        "ClusterIP".to_string()
    } else {
        ty
    };
    if !obj.get("spec").is_some_and(Value::is_object) {
        obj["spec"] = json!({});
    }
    obj["spec"]["type"] = json!(ty);
    if obj.pointer("/spec/sessionAffinity").is_none() {
        obj["spec"]["sessionAffinity"] = json!("None");
    }
    if let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports {
            if p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
            if p.get("targetPort").is_none()
                && let Some(port) = p.get("port").cloned()
            {
                p["targetPort"] = port;
            }
        }
    }
    if ty == "ExternalName" {
        return;
    }
    let mut ip = s(obj, "/spec/clusterIP").to_string();
    if ip.is_empty() {
        ip = old
            .map(|o| s(o, "/spec/clusterIP").to_string())
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| free_cluster_ip(store, name_of(obj)));
    }
    obj["spec"]["clusterIP"] = json!(ip);
    obj["spec"]["clusterIPs"] = json!([ip]);
    if obj.pointer("/spec/ipFamilies").is_none() {
        obj["spec"]["ipFamilies"] = json!(["IPv4"]);
        obj["spec"]["ipFamilyPolicy"] = json!("SingleStack");
    }
}

fn free_cluster_ip(store: &Store, name: &str) -> String {
    let used: HashSet<String> = store
        .resource_of_kind("Service")
        .and_then(|r| {
            store
                .list(
                    r,
                    None,
                    &LabelSelector::default(),
                    &FieldSelector::default(),
                    None,
                    None,
                )
                .ok()
        })
        .map(|p| {
            p.items
                .iter()
                .map(|s| self::s(s, "/spec/clusterIP").to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut x = hash_of(&name);
    loop {
        let ip = format!("10.96.{}.{}", (x >> 8) % 256, x % 253 + 2);
        if !used.contains(&ip) {
            return ip;
        }
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
}

// ---- workloads -----------------------------------------------------------------------------

const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";

/// A pod template as two templates are compared: without the hash label, and without
/// empty fields (`creationTimestamp: null`, `resources: {}` from Go clients such as kubectl's
/// rollout undo).
fn without_hash(template: &Value) -> Value {
    fn prune(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(m) => {
                let m: Map<String, Value> = m
                    .iter()
                    .filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) if a.is_empty() => None,
            Value::Array(a) => Some(Value::Array(a.iter().filter_map(prune).collect())),
            other => Some(other.clone()),
        }
    }
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    prune(&t).unwrap_or(Value::Null)
}

/// A pod template's hash as the Deployment controller writes it: FNV-1a of the template,
/// its decimal digits mapped onto [`ALPHANUMS`].
fn template_hash(template: &Value) -> String {
    let text = canonical(&without_hash(template));
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_string()
        .bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// JSON with object keys sorted, whatever order the object was built in.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", json!(k), canonical(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

fn controlled_by(obj: &Value, kind: &str, name: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|rs| {
            rs.iter()
                .any(|r| s(r, "/kind") == kind && s(r, "/name") == name)
        })
}

fn owner_ref(owner: &Value) -> Value {
    json!([{
        "apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"),
        "name": name_of(owner), "uid": s(owner, "/metadata/uid"),
        "controller": true, "blockOwnerDeletion": true,
    }])
}

fn revision(rs: &Value) -> i64 {
    s(
        rs,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .parse()
    .unwrap_or(0)
}

fn replicas(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn deployment(ctx: &mut Ctx<'_>, before: Option<&Value>, dep: &Value) {
    if before.is_some_and(|b| b.get("spec") == dep.get("spec")) {
        return;
    }
    let template_changed =
        before.is_none_or(|b| b.pointer("/spec/template") != dep.pointer("/spec/template"));
    rollout(ctx, dep, template_changed);
}

/// Brings a Deployment's ReplicaSets to its spec: the current one (made when the template is
/// new) scaled up, the old ones down as the new pods become ready.
fn rollout(ctx: &mut Ctx<'_>, dep: &Value, template_changed: bool) {
    let ns = ns_of(dep).to_string();
    let name = name_of(dep).to_string();
    let template = dep.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let owned: Vec<Value> = ctx
        .list("ReplicaSet", Some(&ns))
        .into_iter()
        .filter(|rs| controlled_by(rs, "Deployment", &name))
        .collect();
    let max_rev = owned.iter().map(revision).max().unwrap_or(0);
    let dep_rev: i64 = s(
        dep,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .parse()
    .unwrap_or(0);
    let matching = |rs: &&Value| {
        rs.pointer("/spec/template")
            .is_some_and(|t| without_hash(t) == without_hash(&template))
    };
    let current = if template_changed {
        owned.iter().find(matching).cloned()
    } else {
        owned
            .iter()
            .find(|rs| revision(rs) == dep_rev && dep_rev > 0)
            .or_else(|| owned.iter().find(matching))
            .or_else(|| owned.iter().max_by_key(|rs| revision(rs)))
            .cloned()
    };
    let want = replicas(dep);
    let current = match current {
        Some(mut rs) => {
            if template_changed && revision(&rs) < max_rev {
                set_annotation(&mut rs, REVISION, &(max_rev + 1).to_string());
            }
            rs
        }
        None => {
            let hash = template_hash(&template);
            let mut t = template.clone();
            t["metadata"]["labels"][HASH_LABEL] = json!(hash);
            let mut selector = dep.pointer("/spec/selector").cloned().unwrap_or(json!({}));
            selector["matchLabels"][HASH_LABEL] = json!(hash);
            json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": format!("{name}-{hash}"), "namespace": ns,
                    "labels": t["metadata"]["labels"].clone(),
                    "annotations": {
                        REVISION: (max_rev + 1).to_string(),
                        "deployment.kubernetes.io/desired-replicas": want.to_string(),
                        "deployment.kubernetes.io/max-replicas": (want + (want + 3) / 4).to_string(),
                    },
                    "ownerReferences": owner_ref(dep),
                    "uid": new_uid("ReplicaSet", &ns, &name, ctx.store.resource_version()),
                    "creationTimestamp": now_secs(),
                    "generation": 1,
                },
                "spec": {"replicas": 0, "selector": selector, "template": t,
                         "minReadySeconds": dep.pointer("/spec/minReadySeconds").cloned().unwrap_or(json!(0))},
            })
        }
    };
    let current_name = name_of(&current).to_string();
    let current_rev = revision(&current);
    let mut current = current;
    current["spec"]["replicas"] = json!(want);
    set_annotation(
        &mut current,
        "deployment.kubernetes.io/desired-replicas",
        &want.to_string(),
    );
    if let Some(rs) = ctx.put(current, false) {
        replica_set(ctx, &rs);
    }
    // A rollout that does not become ready keeps the old pods serving: the old ReplicaSets
    // (newest first) keep what the new one cannot serve yet, never more than they had.
    let new_ready = owned_pods(ctx, &ns, "ReplicaSet", &current_name)
        .iter()
        .filter(|p| is_ready(p))
        .count() as i64;
    let mut still_needed = (want - new_ready).max(0);
    let mut old: Vec<Value> = owned
        .into_iter()
        .filter(|rs| name_of(rs) != current_name)
        .collect();
    old.sort_by_key(|rs| std::cmp::Reverse(revision(rs)));
    for mut rs in old {
        let keep = still_needed.min(replicas(&rs));
        still_needed -= keep;
        if keep != replicas(&rs) {
            rs["spec"]["replicas"] = json!(keep);
            if let Some(rs) = ctx.put(rs, false) {
                replica_set(ctx, &rs);
            }
        }
    }
    if let Some(mut d) = ctx.get("Deployment", &ns, &name) {
        set_annotation(&mut d, REVISION, &current_rev.to_string());
        ctx.put(d, false);
    }
    deployment_status(ctx, &ns, &name);
}

fn set_annotation(obj: &mut Value, key: &str, value: &str) {
    if !obj
        .pointer("/metadata/annotations")
        .is_some_and(Value::is_object)
    {
        obj["metadata"]["annotations"] = json!({});
    }
    obj["metadata"]["annotations"][key] = json!(value);
}

fn condition(type_: &str, status: bool, reason: &str, message: String, old: &Value) -> Value {
    let status = if status { "True" } else { "False" };
    let now = now_secs();
    let previous = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| s(c, "/type") == type_));
    if let Some(p) = previous
        && s(p, "/status") == status
        && s(p, "/reason") == reason
        && s(p, "/message") == message
    {
        return p.clone();
    }
    let since = match previous {
        Some(p) if s(p, "/status") == status => {
            p.get("lastTransitionTime").cloned().unwrap_or(json!(now))
        }
        _ => json!(now),
    };
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastUpdateTime": now, "lastTransitionTime": since})
}

fn deployment_status(ctx: &mut Ctx<'_>, ns: &str, name: &str) {
    let Some(mut dep) = ctx.get("Deployment", ns, name) else {
        return;
    };
    let owned: Vec<Value> = ctx
        .list("ReplicaSet", Some(ns))
        .into_iter()
        .filter(|rs| controlled_by(rs, "Deployment", name))
        .collect();
    let dep_rev: i64 = s(
        &dep,
        &format!("/metadata/annotations/{}", REVISION.replace('/', "~1")),
    )
    .parse()
    .unwrap_or(0);
    let sum = |f: &str| -> i64 {
        owned
            .iter()
            .map(|rs| {
                rs.pointer(&format!("/status/{f}"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            })
            .sum()
    };
    let current = owned.iter().find(|rs| revision(rs) == dep_rev);
    let updated = current
        .and_then(|rs| rs.pointer("/status/replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let updated_available = current
        .and_then(|rs| rs.pointer("/status/availableReplicas"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let want = replicas(&dep);
    let (total, ready, available) = (
        sum("replicas"),
        sum("readyReplicas"),
        sum("availableReplicas"),
    );
    let rs_name = current.map(name_of).unwrap_or("").to_string();
    let done = updated == want && updated_available == want && total == want;
    let conditions = vec![
        condition(
            "Available",
            available >= want - want / 4,
            if available >= want - want / 4 {
                "MinimumReplicasAvailable"
            } else {
                "MinimumReplicasUnavailable"
            },
            if available >= want - want / 4 {
                "Deployment has minimum availability.".into()
            } else {
                "Deployment does not have minimum availability.".into()
            },
            &dep,
        ),
        condition(
            "Progressing",
            true,
            if done {
                "NewReplicaSetAvailable"
            } else {
                "ReplicaSetUpdated"
            },
            if done {
                format!("ReplicaSet \"{rs_name}\" has successfully progressed.")
            } else {
                format!("ReplicaSet \"{rs_name}\" is progressing.")
            },
            &dep,
        ),
    ];
    let mut conditions = conditions;
    if let Some(failure) = owned.iter().find_map(|rs| {
        rs.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| s(c, "/type") == "ReplicaFailure"))
    }) {
        conditions.push(failure.clone());
    }
    let mut status = json!({
        "observedGeneration": dep.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        "replicas": total, "updatedReplicas": updated, "readyReplicas": ready,
        "availableReplicas": available, "conditions": conditions,
    });
    if want > available {
        status["unavailableReplicas"] = json!(want - available);
    }
    dep["status"] = status;
    ctx.put(dep, false);
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
        })
}

fn active(pod: &Value) -> bool {
    !matches!(s(pod, "/status/phase"), "Succeeded" | "Failed")
        && pod.pointer("/metadata/deletionTimestamp").is_none()
}

fn owned_pods(ctx: &Ctx<'_>, ns: &str, kind: &str, name: &str) -> Vec<Value> {
    ctx.list("Pod", Some(ns))
        .into_iter()
        .filter(|p| controlled_by(p, kind, name) && active(p))
        .collect()
}

fn replica_set(ctx: &mut Ctx<'_>, rs: &Value) {
    let ns = ns_of(rs).to_string();
    let name = name_of(rs).to_string();
    let want = replicas(rs).max(0) as usize;
    let mut pods = owned_pods(ctx, &ns, "ReplicaSet", &name);
    if pods.len() > want {
        // Not-ready pods go first, then the newest.
        pods.sort_by_key(|p| (is_ready(p), std::cmp::Reverse(name_of(p).to_string())));
        let extra = pods.len() - want;
        for p in pods.drain(..extra) {
            ctx.remove(&p);
        }
    }
    let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let mut n = 0;
    while pods.len() < want {
        let pod_name = loop {
            let candidate = format!(
                "{name}-{}",
                suffix(&(&name, ctx.store.resource_version(), n), 5)
            );
            n += 1;
            if ctx.get("Pod", &ns, &candidate).is_none() {
                break candidate;
            }
        };
        match new_pod(ctx, rs, &template, &pod_name, None) {
            Some(p) => pods.push(p),
            None => break,
        }
    }
    workload_status(ctx, "ReplicaSet", &ns, &name);
    if let Some(owner) = rs
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|rs| rs.iter().find(|r| s(r, "/kind") == "Deployment"))
    {
        let dep = s(owner, "/name").to_string();
        deployment_status(ctx, &ns, &dep);
    }
}

fn workload_status(ctx: &mut Ctx<'_>, kind: &str, ns: &str, name: &str) {
    let Some(mut obj) = ctx.get(kind, ns, name) else {
        return;
    };
    let pods = owned_pods(ctx, ns, kind, name);
    let ready = pods.iter().filter(|p| is_ready(p)).count();
    let mut status = json!({
        "replicas": pods.len(), "readyReplicas": ready, "availableReplicas": ready,
        "observedGeneration": obj.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
    });
    match kind {
        "ReplicaSet" => status["fullyLabeledReplicas"] = json!(pods.len()),
        _ => {
            status["currentReplicas"] = json!(pods.len());
            status["updatedReplicas"] = json!(pods.len());
        }
    }
    if let Some(old) = obj.get("status").and_then(Value::as_object) {
        let mut merged: Map<String, Value> = old.clone();
        for (k, v) in status.as_object().into_iter().flatten() {
            merged.insert(k.clone(), v.clone());
        }
        status = Value::Object(merged);
    }
    obj["status"] = status;
    ctx.put(obj, false);
}

fn stateful_set(ctx: &mut Ctx<'_>, before: Option<&Value>, sts: &Value) {
    if before.is_some_and(|b| b.get("spec") == sts.get("spec")) {
        return;
    }
    let ns = ns_of(sts).to_string();
    let name = name_of(sts).to_string();
    let want = replicas(sts).max(0) as usize;
    let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let template_changed =
        before.is_some_and(|b| b.pointer("/spec/template") != sts.pointer("/spec/template"));
    for p in owned_pods(ctx, &ns, "StatefulSet", &name) {
        let ordinal = name_of(&p)
            .rsplit('-')
            .next()
            .and_then(|o| o.parse::<usize>().ok());
        if template_changed || ordinal.is_none_or(|o| o >= want) {
            ctx.remove(&p);
        }
    }
    for i in 0..want {
        let pod_name = format!("{name}-{i}");
        if ctx.get("Pod", &ns, &pod_name).is_none() {
            new_pod(ctx, sts, &template, &pod_name, None);
        }
    }
    workload_status(ctx, "StatefulSet", &ns, &name);
}

/// Creates, schedules and starts a Pod of `owner` from `template`.
fn new_pod(
    ctx: &mut Ctx<'_>,
    owner: &Value,
    template: &Value,
    name: &str,
    node: Option<&str>,
) -> Option<Value> {
    let ns = ns_of(owner).to_string();
    let mut spec = template.get("spec").cloned().unwrap_or(json!({}));
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("serviceAccountName", json!("default")),
    ] {
        if spec.get(k).is_none() {
            spec[k] = v;
        }
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns,
            "labels": template.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
            "ownerReferences": owner_ref(owner),
            "uid": new_uid("Pod", &ns, name, ctx.store.resource_version()),
            "creationTimestamp": now_secs(),
        },
        "spec": spec,
    });
    if let Some(a) = template.pointer("/metadata/annotations") {
        pod["metadata"]["annotations"] = a.clone();
    }
    if let Err(refused) = admit_pod(ctx.store, &pod) {
        create_failed(ctx, owner, &refused.message);
        return None;
    }
    create_failed(ctx, owner, "");
    run_pod(ctx, &mut pod);
    ctx.put(pod, true)
}

/// Records on a ReplicaSet whether its last pod create was refused (`message`) or not
/// (empty): the ReplicaFailure condition and the FailedCreate event, as the controller does.
fn create_failed(ctx: &mut Ctx<'_>, owner: &Value, message: &str) {
    if owner.get("kind").and_then(Value::as_str) != Some("ReplicaSet") {
        if !message.is_empty() {
            ctx.event(
                owner,
                "Warning",
                "FailedCreate",
                format!("Error creating: {message}"),
            );
        }
        return;
    }
    let Some(mut rs) = ctx.get("ReplicaSet", ns_of(owner), name_of(owner)) else {
        return;
    };
    let mut conditions: Vec<Value> = rs
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let had = conditions.iter().any(|c| s(c, "/type") == "ReplicaFailure");
    conditions.retain(|c| s(c, "/type") != "ReplicaFailure");
    if !message.is_empty() {
        conditions.push(
            json!({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                               "message": message, "lastTransitionTime": now_secs()}),
        );
        ctx.event(
            owner,
            "Warning",
            "FailedCreate",
            format!("Error creating: {message}"),
        );
    } else if !had {
        return;
    }
    if !rs.get("status").is_some_and(Value::is_object) {
        rs["status"] = json!({});
    }
    rs["status"]["conditions"] = json!(conditions);
    ctx.put(rs, false);
}

fn pod_changed(ctx: &mut Ctx<'_>, before: Option<&Value>, after: Option<&Value>) {
    let ns = after.or(before).map(ns_of).unwrap_or("").to_string();
    match (before, after) {
        // Created by a trainee (the controllers' own Pods are started before they are stored).
        (None, Some(pod)) if pod.pointer("/status/phase").is_none() => {
            let mut pod = pod.clone();
            run_pod(ctx, &mut pod);
            ctx.put(pod, false);
        }
        // A new image: the kubelet restarts the container with it.
        (Some(b), Some(a)) if images(b) != images(a) => {
            let mut pod = a.clone();
            run_pod(ctx, &mut pod);
            ctx.put(pod, false);
        }
        // Deleted: its controller replaces it.
        (Some(b), None) => {
            let owner = b
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|rs| rs.first())
                .cloned();
            if let Some(owner) = owner {
                let (kind, name) = (s(&owner, "/kind"), s(&owner, "/name"));
                match kind {
                    "ReplicaSet" => {
                        if let Some(rs) = ctx.get("ReplicaSet", &ns, name) {
                            replica_set(ctx, &rs);
                        }
                    }
                    "StatefulSet" => {
                        if let Some(sts) = ctx.get("StatefulSet", &ns, name) {
                            stateful_set(ctx, None, &sts);
                        }
                    }
                    "DaemonSet" => {
                        if let Some(ds) = ctx.get("DaemonSet", &ns, name) {
                            let node = s(b, "/spec/nodeName").to_string();
                            let template =
                                ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
                            let pod_name = format!(
                                "{name}-{}",
                                suffix(&(name, ctx.store.resource_version()), 5)
                            );
                            new_pod(
                                ctx,
                                &ds,
                                &template,
                                &pod_name,
                                (!node.is_empty()).then_some(node.as_str()),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    // Services that select the Pod, before or after.
    let labels = |p: Option<&Value>| {
        p.and_then(|p| p.pointer("/metadata/labels"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (lb, la) = (labels(before), labels(after));
    let changed_for_services = before.map(pod_view) != after.map(pod_view);
    if !changed_for_services {
        return;
    }
    for svc in ctx.list("Service", Some(&ns)) {
        if selects(&svc, &lb) || selects(&svc, &la) {
            endpoints(ctx, &svc);
        }
    }
}

/// What of a Pod its Services' endpoints depend on.
fn pod_view(p: &Value) -> Value {
    json!([
        p.pointer("/metadata/labels"),
        p.pointer("/status/podIP"),
        is_ready(p),
        p.pointer("/spec/containers")
    ])
}

fn images(p: &Value) -> Vec<String> {
    p.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| s(c, "/image").to_string())
        .collect()
}

fn selects(svc: &Value, labels: &Value) -> bool {
    let Some(sel) = svc
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    else {
        return false;
    };
    sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

// ---- scheduler and kubelet -----------------------------------------------------------------

/// A quantity in base units (cores, bytes): `250m`, `2`, `512Mi`, `1G`.
fn quantity(q: &Value) -> f64 {
    let text = match q {
        Value::Number(n) => return n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.trim(),
        _ => return 0.0,
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: f64 = num.parse().unwrap_or(0.0);
    let mult = match unit {
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        _ => 1.0,
    };
    n * mult
}

fn requests(pod: &Value, resource: &str) -> f64 {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.pointer(&format!("/resources/requests/{resource}")))
        .map(quantity)
        .sum()
}

fn tolerates(pod: &Value, taint: &Value) -> bool {
    pod.pointer("/spec/tolerations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|t| {
            let key_ok = s(t, "/key").is_empty() || s(t, "/key") == s(taint, "/key");
            let effect_ok = s(t, "/effect").is_empty() || s(t, "/effect") == s(taint, "/effect");
            let value_ok = s(t, "/operator") == "Exists"
                || (s(t, "/key").is_empty() && s(t, "/operator") == "Exists")
                || s(t, "/value") == s(taint, "/value");
            key_ok && effect_ok && value_ok
        })
}

/// Why no node fits, as the scheduler's message, or the node chosen.
fn schedule(ctx: &Ctx<'_>, pod: &Value) -> Result<String, String> {
    let ns = ns_of(pod);
    for v in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let claim = s(v, "/persistentVolumeClaim/claimName");
        if claim.is_empty() {
            continue;
        }
        match ctx.get("PersistentVolumeClaim", ns, claim) {
            None => return Err(format!("persistentvolumeclaim \"{claim}\" not found")),
            Some(pvc) if s(&pvc, "/status/phase") != "Bound" => {
                let n = ctx.list("Node", None).len();
                return Err(format!(
                    "0/{n} nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
                ));
            }
            _ => {}
        }
    }
    let nodes = ctx.list("Node", None);
    let pods = ctx.list("Pod", None);
    let mut reasons: HashMap<String, usize> = HashMap::new();
    let mut best: Option<(usize, String)> = None;
    let selector = pod
        .pointer("/spec/nodeSelector")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for node in &nodes {
        let node_name = name_of(node).to_string();
        let ready = node
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
            });
        let mut why = None;
        if node.pointer("/spec/unschedulable") == Some(&json!(true)) {
            why = Some("node(s) were unschedulable".to_string());
        } else if let Some(t) = node
            .pointer("/spec/taints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|t| matches!(s(t, "/effect"), "NoSchedule" | "NoExecute") && !tolerates(pod, t))
        {
            why = Some(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                s(t, "/key"),
                s(t, "/value")
            ));
        } else if !ready {
            why = Some("node(s) had untolerated taint {node.kubernetes.io/not-ready: }".into());
        } else if selector
            .iter()
            .any(|(k, v)| node.pointer("/metadata/labels").and_then(|l| l.get(k)) != Some(v))
        {
            why = Some("node(s) didn't match Pod's node affinity/selector".into());
        }
        let on_node: Vec<&Value> = pods
            .iter()
            .filter(|p| s(p, "/spec/nodeName") == node_name && active(p))
            .collect();
        if why.is_none() {
            for (res, label) in [
                ("cpu", "Insufficient cpu"),
                ("memory", "Insufficient memory"),
            ] {
                let allocatable = node
                    .pointer(&format!("/status/allocatable/{res}"))
                    .map(quantity);
                let used: f64 = on_node.iter().map(|p| requests(p, res)).sum();
                if let Some(a) = allocatable
                    && used + requests(pod, res) > a
                {
                    why = Some(label.to_string());
                    break;
                }
            }
        }
        match why {
            Some(w) => *reasons.entry(w).or_default() += 1,
            None => {
                let load = on_node.len();
                if best
                    .as_ref()
                    .is_none_or(|(l, n)| (load, &node_name) < (*l, n))
                {
                    best = Some((load, node_name));
                }
            }
        }
    }
    if let Some((_, n)) = best {
        return Ok(n);
    }
    let mut parts: Vec<String> = reasons.iter().map(|(w, n)| format!("{n} {w}")).collect();
    parts.sort();
    let n = nodes.len();
    Err(format!(
        "0/{n} nodes are available: {}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.",
        parts.join(", ")
    ))
}

/// Schedules a Pod (when it has no node) and decides its containers' states.
fn run_pod(ctx: &mut Ctx<'_>, pod: &mut Value) {
    let now = now_secs();
    let mut node_name = s(pod, "/spec/nodeName").to_string();
    if node_name.is_empty() {
        match schedule(ctx, pod) {
            Ok(n) => {
                pod["spec"]["nodeName"] = json!(n);
                node_name = n;
                let msg = format!(
                    "Successfully assigned {}/{} to {node_name}",
                    ns_of(pod),
                    name_of(pod)
                );
                ctx.event(pod, "Normal", "Scheduled", msg);
            }
            Err(message) => {
                pod["status"] = json!({
                    "phase": "Pending", "qosClass": "BestEffort",
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                    "message": message, "lastProbeTime": null, "lastTransitionTime": now}],
                });
                ctx.event(pod, "Warning", "FailedScheduling", message);
                return;
            }
        }
    }
    let node = ctx.get("Node", "", &node_name);
    let host_ip = node
        .as_ref()
        .and_then(|n| {
            n.pointer("/status/addresses")
                .and_then(Value::as_array)
                .cloned()
        })
        .into_iter()
        .flatten()
        .find(|a| s(a, "/type") == "InternalIP")
        .map(|a| s(&a, "/address").to_string())
        .unwrap_or_default();
    let pod_ip = match s(pod, "/status/podIP") {
        "" => pod_ip(ctx, node.as_ref(), pod),
        ip => ip.to_string(),
    };
    let pod_name = name_of(pod).to_string();
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut statuses = Vec::new();
    let (mut all_ready, mut pulling) = (true, false);
    for c in &containers {
        let cname = s(c, "/name");
        let image = s(c, "/image");
        let image_id = format!(
            "{image}@sha256:{:016x}{:016x}",
            hash_of(&image),
            hash_of(&(image, 1))
        );
        let mut st = json!({"name": cname, "image": image, "imageID": "", "restartCount": 0,
                            "ready": false, "started": false});
        if let Some(reason) = ctx.facts.pull_failure(image) {
            pulling = true;
            all_ready = false;
            let message = if reason == "InvalidImageName" {
                format!(
                    "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": invalid reference format"
                )
            } else {
                format!("Back-off pulling image \"{image}\"")
            };
            st["state"] = json!({"waiting": {"reason": reason, "message": message}});
            ctx.event(
                pod,
                "Warning",
                "Failed",
                format!("Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"),
            );
        } else if ctx.facts.crashes(c) {
            all_ready = false;
            st["imageID"] = json!(image_id);
            st["restartCount"] = json!(1);
            st["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off 10s restarting failed container={cname} pod={pod_name}")}});
            st["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}});
            ctx.event(
                pod,
                "Warning",
                "BackOff",
                "Back-off restarting failed container".into(),
            );
        } else {
            st["imageID"] = json!(image_id);
            st["ready"] = json!(true);
            st["started"] = json!(true);
            st["state"] = json!({"running": {"startedAt": now}});
        }
        statuses.push(st);
    }
    let cond = |t: &str, ok: bool| {
        let mut c = json!({"type": t, "status": if ok { "True" } else { "False" },
                           "lastProbeTime": null, "lastTransitionTime": now});
        if !ok {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                statuses
                    .iter()
                    .filter(|s| s["ready"] != json!(true))
                    .map(|s| s["name"].as_str().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        c
    };
    let qos = if containers.iter().any(|c| {
        c.pointer("/resources/requests").is_some() || c.pointer("/resources/limits").is_some()
    }) {
        "Burstable"
    } else {
        "BestEffort"
    };
    pod["status"] = json!({
        "phase": if pulling && !statuses.iter().any(|s| s.pointer("/state/running").is_some()) { "Pending" } else { "Running" },
        "conditions": [cond("PodReadyToStartContainers", true), cond("Initialized", true),
                       cond("Ready", all_ready), cond("ContainersReady", all_ready), cond("PodScheduled", true)],
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": now, "containerStatuses": statuses, "qosClass": qos,
    });
}

/// A free IP in the node's pod CIDR (10.244.N.0/24 style), else in 10.244.250.0/24.
fn pod_ip(ctx: &Ctx<'_>, node: Option<&Value>, pod: &Value) -> String {
    let cidr = node.map(|n| s(n, "/spec/podCIDR")).unwrap_or("");
    let base: Vec<&str> = cidr.split('/').next().unwrap_or("").split('.').collect();
    let prefix = if base.len() == 4 {
        format!("{}.{}.{}", base[0], base[1], base[2])
    } else {
        "10.244.250".to_string()
    };
    let used: HashSet<String> = ctx
        .list("Pod", None)
        .iter()
        .map(|p| s(p, "/status/podIP").to_string())
        .collect();
    let start = hash_of(&name_of(pod)) % 200;
    (0..250)
        .map(|i| format!("{prefix}.{}", (start + i) % 250 + 3))
        .find(|ip| !used.contains(ip))
        .unwrap_or_else(|| format!("{prefix}.254"))
}

fn reschedule_pending(ctx: &mut Ctx<'_>, only_ns: Option<&str>) {
    for pod in ctx.list("Pod", only_ns) {
        if s(&pod, "/status/phase") == "Pending" && s(&pod, "/spec/nodeName").is_empty() {
            let mut p = pod.clone();
            run_pod(ctx, &mut p);
            ctx.put(p, true);
        }
    }
}

// ---- admission -----------------------------------------------------------------------------

fn list_in(store: &Store, kind: &str, ns: Option<&str>) -> Vec<Value> {
    store
        .resource_of_kind(kind)
        .and_then(|r| {
            store
                .list(
                    r,
                    ns,
                    &LabelSelector::default(),
                    &FieldSelector::default(),
                    None,
                    None,
                )
                .ok()
        })
        .map(|p| p.items.iter().map(|o| (**o).clone()).collect())
        .unwrap_or_default()
}

fn containers_of(pod: &Value) -> Vec<&Value> {
    ["containers", "initContainers"]
        .iter()
        .filter_map(|l| pod.pointer(&format!("/spec/{l}")).and_then(Value::as_array))
        .flatten()
        .collect()
}

fn named(what: &str, names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    if names.len() == 1 {
        format!("{what} {}", quoted[0])
    } else {
        format!("{what}s {}", quoted.join(", "))
    }
}

/// Pod Security admission for the namespace's `enforce` level (baseline or restricted):
/// the violations, as the API server lists them.
fn pod_security(level: &str, pod: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let cs = containers_of(pod);
    let name = |c: &&Value| s(c, "/name").to_string();
    let privileged: Vec<String> = cs
        .iter()
        .filter(|c| c.pointer("/securityContext/privileged") == Some(&json!(true)))
        .map(name)
        .collect();
    if !privileged.is_empty() {
        let n: Vec<&str> = privileged.iter().map(String::as_str).collect();
        v.push(format!(
            "privileged ({} must not set securityContext.privileged=true)",
            named("container", &n)
        ));
    }
    let hosts: Vec<&str> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|h| pod.pointer(&format!("/spec/{h}")) == Some(&json!(true)))
        .collect();
    if !hosts.is_empty() {
        let set: Vec<String> = hosts.iter().map(|h| format!("{h}=true")).collect();
        v.push(format!("host namespaces ({})", set.join(", ")));
    }
    let host_paths: Vec<&str> = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|vol| vol.get("hostPath").is_some())
        .map(|vol| s(vol, "/name"))
        .collect();
    if !host_paths.is_empty() {
        v.push(format!(
            "hostPath volumes ({})",
            named("volume", &host_paths)
        ));
    }
    if level != "restricted" {
        return v;
    }
    let pod_sc = |f: &str| pod.pointer(&format!("/spec/securityContext/{f}")).cloned();
    let mut check = |label: &str, ok: &dyn Fn(&Value) -> bool, must: &str, pod_level: bool| {
        let bad: Vec<String> = cs.iter().filter(|c| !ok(c)).map(name).collect();
        if !bad.is_empty() {
            let n: Vec<&str> = bad.iter().map(String::as_str).collect();
            let who = if pod_level {
                format!("pod or {}", named("container", &n))
            } else {
                named("container", &n)
            };
            v.push(format!("{label} ({who} must set {must})"));
        }
    };
    check(
        "allowPrivilegeEscalation != false",
        &|c| c.pointer("/securityContext/allowPrivilegeEscalation") == Some(&json!(false)),
        "securityContext.allowPrivilegeEscalation=false",
        false,
    );
    check(
        "unrestricted capabilities",
        &|c| {
            c.pointer("/securityContext/capabilities/drop")
                .and_then(Value::as_array)
                .is_some_and(|d| d.contains(&json!("ALL")))
        },
        "securityContext.capabilities.drop=[\"ALL\"]",
        false,
    );
    let non_root = pod_sc("runAsNonRoot") == Some(json!(true));
    check(
        "runAsNonRoot != true",
        &|c| non_root || c.pointer("/securityContext/runAsNonRoot") == Some(&json!(true)),
        "securityContext.runAsNonRoot=true",
        true,
    );
    let seccomp_ok = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
    };
    let pod_seccomp = seccomp_ok(pod.pointer("/spec/securityContext/seccompProfile/type"));
    check(
        "seccompProfile",
        &|c| pod_seccomp || seccomp_ok(c.pointer("/securityContext/seccompProfile/type")),
        "securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
        true,
    );
    v
}

fn format_quantity(resource: &str, n: f64) -> String {
    if resource.ends_with("cpu") {
        format!("{}m", (n * 1000.0).round() as i64)
    } else if resource.ends_with("memory") {
        format!("{}Mi", (n / (1024.0 * 1024.0)).round() as i64)
    } else {
        format!("{}", n.round() as i64)
    }
}

/// What a pod uses of a quota's resource (`pods`, `requests.cpu`, `limits.memory`…).
fn pod_usage(pod: &Value, resource: &str) -> Option<f64> {
    let (kind, res) = match resource {
        "pods" => return Some(1.0),
        "cpu" | "memory" => ("requests", resource),
        r => r.split_once('.')?,
    };
    if !matches!(kind, "requests" | "limits") {
        return None;
    }
    Some(
        pod.pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.pointer(&format!("/resources/{kind}/{res}")))
            .map(quantity)
            .sum(),
    )
}

/// A label selector (matchLabels, matchExpressions) against labels.
fn selector_matches(selector: Option<&Value>, labels: &Map<String, Value>) -> bool {
    let Some(sel) = selector else {
        return true;
    };
    let match_labels = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let value = labels.get(s(e, "/key"));
            let values: Vec<&Value> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            match s(e, "/operator") {
                "In" => value.is_some_and(|v| values.contains(&v)),
                "NotIn" => value.is_none_or(|v| !values.contains(&v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
    match_labels && exprs
}

/// Whether the list `field` of `rule` holds one of `want`.
fn has(rule: &Value, field: &str, want: &[&str]) -> bool {
    rule.get(field)
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|x| want.contains(&x.as_str().unwrap_or(""))))
}

/// Admission webhooks that intercept pod creates and cannot be called: with failurePolicy
/// Fail, the create fails as the API server reports it. (A webhook that can be called is
/// taken to allow the pod: its decision is not modelled.)
fn webhooks(store: &Store, pod: &Value, ns_labels: &Map<String, Value>) -> Result<(), String> {
    let pod_labels = pod
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for kind in [
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        for cfg in list_in(store, kind, None) {
            for wh in cfg
                .get("webhooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let intercepts = wh
                    .get("rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|r| {
                        has(r, "operations", &["CREATE", "*"])
                            && has(r, "resources", &["pods", "*", "*/*"])
                            && has(r, "apiGroups", &["", "*"])
                    });
                if !intercepts
                    || !selector_matches(wh.get("namespaceSelector"), ns_labels)
                    || !selector_matches(wh.get("objectSelector"), &pod_labels)
                    || s(wh, "/failurePolicy") == "Ignore"
                {
                    continue;
                }
                let Some(svc) = wh.pointer("/clientConfig/service") else {
                    continue;
                };
                let (svc_name, svc_ns) = (s(svc, "/name"), s(svc, "/namespace"));
                let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443);
                let path = s(svc, "/path");
                let timeout = wh
                    .get("timeoutSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(10);
                let get = |kind: &str| {
                    store
                        .resource_of_kind(kind)
                        .and_then(|r| store.get(r, svc_ns, svc_name))
                };
                let why = if get("Service").is_none() {
                    format!("service \"{svc_name}\" not found")
                } else if !get("Endpoints").is_some_and(|ep| {
                    ep.pointer("/subsets")
                        .and_then(Value::as_array)
                        .is_some_and(|ss| {
                            ss.iter().any(|s| {
                                s.get("addresses")
                                    .is_some_and(|a| a.as_array().is_some_and(|a| !a.is_empty()))
                            })
                        })
                }) {
                    format!("no endpoints available for service \"{svc_name}\"")
                } else {
                    continue;
                };
                return Err(format!(
                    "Internal error occurred: failed calling webhook \"{}\": failed to call webhook: Post \"https://{svc_name}.{svc_ns}.svc:{port}{path}?timeout={timeout}s\": {why}",
                    s(wh, "/name")
                ));
            }
        }
    }
    Ok(())
}

/// Why admission refuses a new Pod: Pod Security (the namespace's `enforce` label), the
/// namespace's ResourceQuotas (403 Forbidden), or a webhook that cannot be called (500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

/// Admission of a new Pod (see [`Refused`]).
pub fn admit_pod(store: &Store, pod: &Value) -> Result<(), Refused> {
    let ns = ns_of(pod);
    let namespace = store
        .resource_of_kind("Namespace")
        .and_then(|r| store.get(r, "", ns));
    let mut ns_labels = namespace
        .as_ref()
        .and_then(|n| {
            n.pointer("/metadata/labels")
                .and_then(Value::as_object)
                .cloned()
        })
        .unwrap_or_default();
    ns_labels
        .entry("kubernetes.io/metadata.name")
        .or_insert(json!(ns));
    webhooks(store, pod, &ns_labels).map_err(|message| Refused {
        code: 500,
        reason: "InternalError",
        message,
    })?;
    admit_policy(store, pod).map_err(|message| Refused {
        code: 403,
        reason: "Forbidden",
        message,
    })
}

fn admit_policy(store: &Store, pod: &Value) -> Result<(), String> {
    let ns = ns_of(pod);
    let name = name_of(pod);
    let level = store
        .resource_of_kind("Namespace")
        .and_then(|r| store.get(r, "", ns))
        .map(|n| s(&n, "/metadata/labels/pod-security.kubernetes.io~1enforce").to_string())
        .unwrap_or_default();
    if matches!(level.as_str(), "baseline" | "restricted") {
        let violations = pod_security(&level, pod);
        if !violations.is_empty() {
            return Err(format!(
                "pods \"{name}\" is forbidden: violates PodSecurity \"{level}:latest\": {}",
                violations.join(", ")
            ));
        }
    }
    let pods: Vec<Value> = list_in(store, "Pod", Some(ns))
        .into_iter()
        .filter(|p| active(p) && name_of(p) != name)
        .collect();
    for quota in list_in(store, "ResourceQuota", Some(ns)) {
        let qname = name_of(&quota).to_string();
        let Some(hard) = quota.pointer("/spec/hard").and_then(Value::as_object) else {
            continue;
        };
        let mut keys: Vec<&String> = hard.keys().collect();
        keys.sort();
        for resource in keys {
            let Some(wanted) = pod_usage(pod, resource) else {
                continue;
            };
            let limit = quantity(&hard[resource]);
            let specified = resource == "pods"
                || containers_of(pod).iter().all(|c| {
                    let (kind, res) = resource.split_once('.').unwrap_or(("requests", resource));
                    c.pointer(&format!("/resources/{kind}/{res}")).is_some()
                });
            if !specified {
                return Err(format!(
                    "pods \"{name}\" is forbidden: failed quota: {qname}: must specify {resource}"
                ));
            }
            let used: f64 = pods.iter().filter_map(|p| pod_usage(p, resource)).sum();
            if used + wanted > limit + 1e-9 {
                return Err(format!(
                    "pods \"{name}\" is forbidden: exceeded quota: {qname}, requested: {resource}={}, used: {resource}={}, limited: {resource}={}",
                    format_quantity(resource, wanted),
                    format_quantity(resource, used),
                    hard[resource]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| hard[resource].to_string())
                ));
            }
        }
    }
    Ok(())
}

// ---- services ------------------------------------------------------------------------------

/// The port a Service port sends to on `pod`: a number, or a named container port.
fn target_port(svc_port: &Value, pod: &Value) -> Option<i64> {
    match svc_port.get("targetPort") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(name)) => pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|c| {
                c.get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .find(|p| s(p, "/name") == name)
            .and_then(|p| p.get("containerPort").and_then(Value::as_i64)),
        _ => svc_port.get("port").and_then(Value::as_i64),
    }
}

fn endpoints(ctx: &mut Ctx<'_>, svc: &Value) {
    let Some(selector) = svc
        .pointer("/spec/selector")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
    else {
        // Without a selector the Endpoints are the user's to write.
        return;
    };
    let _ = selector;
    let ns = ns_of(svc).to_string();
    let name = name_of(svc).to_string();
    let svc_ports = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pods: Vec<Value> = ctx
        .list("Pod", Some(&ns))
        .into_iter()
        .filter(|p| {
            active(p)
                && !s(p, "/status/podIP").is_empty()
                && selects(svc, p.pointer("/metadata/labels").unwrap_or(&Value::Null))
        })
        .collect();
    // Pods grouped by the ports they resolve to, as the endpoints controller's subsets.
    let mut subsets: Vec<(Vec<Value>, Vec<Value>, Vec<Value>)> = Vec::new();
    let mut slice_endpoints = Vec::new();
    let mut slice_ports: Option<Vec<Value>> = None;
    for p in &pods {
        let ports: Option<Vec<Value>> = svc_ports
            .iter()
            .map(|sp| {
                target_port(sp, p).map(|port| {
                    let mut e = json!({"port": port, "protocol": sp.get("protocol").cloned().unwrap_or(json!("TCP"))});
                    if let Some(n) = sp.get("name").filter(|n| !n.as_str().unwrap_or("").is_empty()) {
                        e["name"] = n.clone();
                    }
                    e
                })
            })
            .collect();
        let Some(ports) = ports else {
            continue;
        };
        let address = json!({
            "ip": s(p, "/status/podIP"), "nodeName": s(p, "/spec/nodeName"),
            "targetRef": {"kind": "Pod", "namespace": ns, "name": name_of(p), "uid": s(p, "/metadata/uid")},
        });
        let ready = is_ready(p);
        slice_endpoints.push(json!({
            "addresses": [s(p, "/status/podIP")],
            "conditions": {"ready": ready, "serving": ready, "terminating": false},
            "nodeName": s(p, "/spec/nodeName"),
            "targetRef": address["targetRef"].clone(),
        }));
        slice_ports.get_or_insert_with(|| ports.clone());
        match subsets.iter_mut().find(|(ps, _, _)| *ps == ports) {
            Some((_, ready_list, not_ready)) => {
                if ready {
                    ready_list.push(address)
                } else {
                    not_ready.push(address)
                }
            }
            None => {
                let (r, n) = if ready {
                    (vec![address], vec![])
                } else {
                    (vec![], vec![address])
                };
                subsets.push((ports, r, n));
            }
        }
    }
    let subsets: Vec<Value> = subsets
        .into_iter()
        .map(|(ports, ready, not_ready)| {
            let mut s = json!({"ports": ports});
            if !ready.is_empty() {
                s["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                s["notReadyAddresses"] = json!(not_ready);
            }
            s
        })
        .collect();
    let mut ep = ctx.get("Endpoints", &ns, &name).unwrap_or_else(|| {
        json!({"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": name, "namespace": ns,
                            "labels": svc.pointer("/metadata/labels").cloned().unwrap_or(json!({}))}})
    });
    match ep.as_object_mut() {
        Some(m) if subsets.is_empty() => {
            m.remove("subsets");
        }
        Some(m) => {
            m.insert("subsets".into(), json!(subsets));
        }
        None => return,
    }
    ctx.put(ep, false);

    // EndpointSlices: the Service's first slice holds every endpoint.
    if ctx.res("EndpointSlice").is_none() {
        return;
    }
    let slices: Vec<Value> = ctx
        .list("EndpointSlice", Some(&ns))
        .into_iter()
        .filter(|sl| s(sl, "/metadata/labels/kubernetes.io~1service-name") == name)
        .collect();
    let mut slice = slices.first().cloned().unwrap_or_else(|| {
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": format!("{name}-{}", suffix(&(&ns, &name), 5)), "namespace": ns,
                            "labels": {"kubernetes.io/service-name": name,
                                       "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                            "ownerReferences": owner_ref(svc)},
               "addressType": "IPv4"})
    });
    slice["endpoints"] = json!(slice_endpoints);
    slice["ports"] = json!(slice_ports.unwrap_or_default());
    ctx.put(slice, false);
    for extra in slices.iter().skip(1) {
        ctx.remove(extra);
    }
}

fn remove_endpoints(ctx: &mut Ctx<'_>, svc: &Value) {
    let (ns, name) = (ns_of(svc).to_string(), name_of(svc).to_string());
    if let Some(ep) = ctx.get("Endpoints", &ns, &name) {
        ctx.remove(&ep);
    }
    for sl in ctx.list("EndpointSlice", Some(&ns)) {
        if s(&sl, "/metadata/labels/kubernetes.io~1service-name") == name {
            ctx.remove(&sl);
        }
    }
}

// ---- storage -------------------------------------------------------------------------------

fn bind(ctx: &mut Ctx<'_>, pvc: &Value) {
    if s(pvc, "/status/phase") == "Bound" {
        return;
    }
    let mut pvc = pvc.clone();
    let class = match pvc.pointer("/spec/storageClassName") {
        Some(Value::String(c)) => c.clone(),
        _ => {
            // No class named: the default one, assigned retroactively as Kubernetes does.
            let default = ctx.list("StorageClass", None).into_iter().find(|sc| {
                s(
                    sc,
                    "/metadata/annotations/storageclass.kubernetes.io~1is-default-class",
                ) == "true"
            });
            let Some(default) = default else {
                return;
            };
            let c = name_of(&default).to_string();
            pvc["spec"]["storageClassName"] = json!(c);
            c
        }
    };
    let Some(sc) = (!class.is_empty())
        .then(|| ctx.get("StorageClass", "", &class))
        .flatten()
    else {
        ctx.put(pvc, false);
        return;
    };
    let ns = ns_of(&pvc).to_string();
    let pv_name = format!("pvc-{}", s(&pvc, "/metadata/uid"));
    let size = pvc
        .pointer("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or(json!("1Gi"));
    let modes = pvc
        .pointer("/spec/accessModes")
        .cloned()
        .unwrap_or(json!(["ReadWriteOnce"]));
    let provisioner = s(&sc, "/provisioner").to_string();
    let pv = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
                     "finalizers": ["kubernetes.io/pv-protection"]},
        "spec": {
            "capacity": {"storage": size}, "accessModes": modes,
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy").cloned().unwrap_or(json!("Delete")),
            "storageClassName": class, "volumeMode": "Filesystem",
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name_of(&pvc),
                         "namespace": ns, "uid": s(&pvc, "/metadata/uid")},
            "csi": {"driver": provisioner, "volumeHandle": pv_name},
        },
        "status": {"phase": "Bound"},
    });
    ctx.put(pv, false);
    pvc["spec"]["volumeName"] = json!(pv_name);
    set_annotation(&mut pvc, "pv.kubernetes.io/bind-completed", "yes");
    set_annotation(
        &mut pvc,
        "volume.kubernetes.io/storage-provisioner",
        &provisioner,
    );
    pvc["status"] = json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}});
    let pvc_name = name_of(&pvc).to_string();
    ctx.put(pvc, false);
    ctx.event(
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": pvc_name, "namespace": ns}}),
        "Normal",
        "ProvisioningSucceeded",
        format!("Successfully provisioned volume {pv_name}"),
    );
    reschedule_pending(ctx, Some(&ns));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_pull_unless_the_scenario_or_their_name_says_otherwise() {
        let pods = [
            json!({"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "shop/api:1.4"}]},
                   "status": {"containerStatuses": [{"name": "a", "ready": true, "state": {"running": {}}}]}}),
            json!({"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "shop/api:1.5"}]},
                   "status": {"containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}),
            json!({"kind": "Pod", "spec": {"containers": [{"name": "c", "image": "shop/checkout:2", "args": ["--x"]}]},
                   "status": {"containerStatuses": [{"name": "c", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
        ];
        let f = Facts::from_objects(pods.iter(), &["shop/api:1.6".to_string()]);
        assert_eq!(f.pull_failure("shop/api:1.4"), None);
        assert_eq!(f.pull_failure("shop/api:1.5"), Some("ImagePullBackOff"));
        // The failing repository holds the declared tag only; other repositories any tag.
        assert_eq!(f.pull_failure("shop/api:1.6"), None);
        assert_eq!(f.pull_failure("shop/api:1.7"), Some("ImagePullBackOff"));
        assert_eq!(f.pull_failure("shop/web:1.4"), None);
        assert_eq!(
            repository("registry:5000/shop/web@sha256:ab"),
            "registry:5000/shop/web"
        );
        assert_eq!(
            f.pull_failure("nginx:does-not-exist"),
            Some("ImagePullBackOff")
        );
        assert_eq!(f.pull_failure("Nginx:1"), Some("InvalidImageName"));
        assert_eq!(f.pull_failure("nginx:1.27"), None);
        assert!(f.crashes(&json!({"name": "c", "image": "shop/checkout:2", "args": ["--x"]})));
        assert!(!f.crashes(&json!({"name": "c", "image": "shop/checkout:2", "args": ["--y"]})));
    }

    #[test]
    fn template_hashes_are_stable_and_ignore_the_hash_label() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "w", "image": "nginx"}]}});
        let mut labelled = t.clone();
        labelled["metadata"]["labels"][HASH_LABEL] = json!("x");
        assert_eq!(template_hash(&t), template_hash(&labelled));
        assert!(template_hash(&t).bytes().all(|b| ALPHANUMS.contains(&b)));
        let mut other = t.clone();
        other["spec"]["containers"][0]["image"] = json!("nginx:2");
        assert_ne!(template_hash(&t), template_hash(&other));
    }

    #[test]
    fn quantities_parse() {
        assert_eq!(quantity(&json!("250m")), 0.25);
        assert_eq!(quantity(&json!("2")), 2.0);
        assert_eq!(quantity(&json!("1Gi")), 1024.0 * 1024.0 * 1024.0);
    }
}
