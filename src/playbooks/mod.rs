//! Guided troubleshooting playbooks (shared/PLAYBOOKS.md): each one declares the queries an
//! expert would run (shown as the kubectl commands the engineer would type), a pure
//! `diagnose` over their results, and the therapy. The same playbook code runs in the TUI, in
//! `check` and in `explain`, on a live cluster, a served scenario or a snapshot, through one
//! query interface (`source::QuerySource`).
//!
//! Adding a playbook is one new file in its group's folder and one line in that group's
//! `PLAYBOOKS` list.

#[cfg(test)]
mod acceptance;
pub mod connection;
pub mod controlplane;
pub mod engine;
pub mod identity_storage;
pub mod network_a;
pub mod network_b;
pub mod paste;
pub mod source;
pub mod util;
pub mod workloads;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// How much of the diagnosis the API can decide (PLAYBOOKS.md "Access").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Access {
    /// Decidable from API responses alone.
    #[serde(rename = "API")]
    Api,
    /// The API narrows it to one cause class; node access confirms it.
    #[serde(rename = "API+")]
    ApiPlus,
    /// Needs node access: the playbook says what to run on the node and how to read it.
    #[serde(rename = "NODE")]
    Node,
    /// Decided on the client side (kubeconfig, environment, TLS handshake).
    #[serde(rename = "API (client side)")]
    Client,
}

/// A pattern of an error message or log line that points at this playbook.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Symptom {
    /// Lower-case fragments that must all appear in the text (matched case-insensitively).
    pub all_of: &'static [&'static str],
    /// How strongly a match points here (0.0–1.0); the best match ranks first in `explain`.
    pub weight: f32,
}

pub use crate::api::query::{Query, QueryKind, Watched};
use crate::cluster::lean;

/// What a query returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Objects (a list's items, or one object from a get).
    Objects(Vec<Value>),
    /// A [`QueryKind::Watched`] answer: the objects in the lean model, shared with the watch
    /// stores (an `Arc` each, not a copy).
    Lean(LeanObjects),
    /// Text (logs, raw bodies) with the HTTP status code.
    Text { code: u16, body: String },
    /// The request failed; `code` is the HTTP status (0 for transport errors).
    Failed { code: u16, message: String },
}

/// The results of every query run so far, by query.
/// Objects of a watched kind, in the lean model.
#[derive(Debug, Clone)]
pub enum LeanObjects {
    Pods(Vec<Arc<lean::Pod>>),
    Events(Vec<Arc<lean::Event>>),
}

impl LeanObjects {
    /// None of `kind`.
    pub fn empty(kind: Watched) -> LeanObjects {
        match kind {
            Watched::Pods => LeanObjects::Pods(Vec::new()),
            Watched::Events => LeanObjects::Events(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            LeanObjects::Pods(v) => v.len(),
            LeanObjects::Events(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The objects in the order a list returns them (by namespace, then name): a watch
    /// store holds them in no order, and a playbook that names the first of several must
    /// name the same one whatever answered.
    pub fn in_list_order(mut self) -> LeanObjects {
        fn sort<T: kube::Resource>(v: &mut [Arc<T>]) {
            v.sort_by(|a, b| {
                let (a, b) = (a.meta(), b.meta());
                (a.namespace.as_deref(), a.name.as_deref())
                    .cmp(&(b.namespace.as_deref(), b.name.as_deref()))
            });
        }
        match &mut self {
            LeanObjects::Pods(v) => sort(v),
            LeanObjects::Events(v) => sort(v),
        }
        self
    }

    /// Decodes API objects (a snapshot's, a list's) into the lean model; an object that does
    /// not decode is left out, as the health model leaves it out.
    pub fn decode(kind: Watched, objects: &[Value]) -> LeanObjects {
        fn all<T: serde::de::DeserializeOwned>(objects: &[Value]) -> Vec<Arc<T>> {
            objects
                .iter()
                .filter_map(|v| T::deserialize(v).ok().map(Arc::new))
                .collect()
        }
        match kind {
            Watched::Pods => LeanObjects::Pods(all(objects)),
            Watched::Events => LeanObjects::Events(all(objects)),
        }
    }
}

impl Results {
    /// Tests: the answer to `q::watched(kind)` is these API objects, decoded as a source would.
    #[cfg(test)]
    pub fn set_watched(&mut self, kind: Watched, objects: &[Value]) {
        self.by_query.insert(
            engine::q::watched(kind),
            Outcome::Lean(LeanObjects::decode(kind, objects)),
        );
    }
}

impl From<Vec<Arc<lean::Pod>>> for LeanObjects {
    fn from(v: Vec<Arc<lean::Pod>>) -> LeanObjects {
        LeanObjects::Pods(v)
    }
}

impl From<Vec<Arc<lean::Event>>> for LeanObjects {
    fn from(v: Vec<Arc<lean::Event>>) -> LeanObjects {
        LeanObjects::Events(v)
    }
}

/// Two answers are the same when they hold the same objects at the same versions.
impl PartialEq for LeanObjects {
    fn eq(&self, other: &LeanObjects) -> bool {
        fn same<T: kube::Resource>(a: &[Arc<T>], b: &[Arc<T>]) -> bool {
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    let (x, y) = (x.meta(), y.meta());
                    x.namespace == y.namespace
                        && x.name == y.name
                        && x.resource_version == y.resource_version
                })
        }
        match (self, other) {
            (LeanObjects::Pods(a), LeanObjects::Pods(b)) => same(a, b),
            (LeanObjects::Events(a), LeanObjects::Events(b)) => same(a, b),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Results {
    pub by_query: BTreeMap<Query, Outcome>,
    /// Queries whose objects are only part of what the cluster held (a snapshot that holds
    /// a pasted fragment of the kind): their objects are evidence, their absences are not.
    pub partial: std::collections::BTreeSet<Query>,
}

impl Results {
    /// The objects a query returned (empty if it failed or was not run).
    pub fn objects(&self, q: &Query) -> &[Value] {
        match self.by_query.get(q) {
            Some(Outcome::Objects(v)) => v,
            _ => &[],
        }
    }

    /// The text a query returned.
    pub fn text(&self, q: &Query) -> Option<&str> {
        match self.by_query.get(q) {
            Some(Outcome::Text { body, .. }) => Some(body),
            _ => None,
        }
    }

    pub fn outcome(&self, q: &Query) -> Option<&Outcome> {
        self.by_query.get(q)
    }

    /// The objects of a query that listed everything it asked for: `None` when it failed,
    /// was not captured or holds only a fragment. Rules that conclude from an absence or a
    /// count ("no lease", "a single control-plane node") read this, never `objects`.
    /// Every pod (`kubectl get pods -A`) in the lean model; empty when the query was not
    /// asked or failed (see [`Results::outcome`]).
    pub fn pods(&self) -> &[Arc<lean::Pod>] {
        match self.by_query.get(&engine::q::watched(Watched::Pods)) {
            Some(Outcome::Lean(LeanObjects::Pods(v))) => v,
            _ => &[],
        }
    }

    /// Every event (`kubectl get events -A`) in the lean model; empty when not asked or failed.
    pub fn events(&self) -> &[Arc<lean::Event>] {
        match self.by_query.get(&engine::q::watched(Watched::Events)) {
            Some(Outcome::Lean(LeanObjects::Events(v))) => v,
            _ => &[],
        }
    }

    /// [`Results::pods`] when every pod was listed (not failed, not a partial capture).
    pub fn pods_listed(&self) -> Option<&[Arc<lean::Pod>]> {
        let q = engine::q::watched(Watched::Pods);
        match self.by_query.get(&q) {
            Some(Outcome::Lean(LeanObjects::Pods(v))) if !self.partial.contains(&q) => Some(v),
            _ => None,
        }
    }

    pub fn listed(&self, q: &Query) -> Option<&[Value]> {
        match self.by_query.get(q) {
            Some(Outcome::Objects(v)) if !self.partial.contains(q) => Some(v),
            _ => None,
        }
    }
}

/// One piece of evidence: an object's field and its value, or a log line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// `Kind/namespace/name` or `Kind/name`.
    pub object: String,
    /// A field path (`status.conditions[Ready].message`) or `log` / `log[container]`.
    pub field: String,
    pub value: String,
}

/// What to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    pub explanation: String,
    /// Commands to copy, with the cluster's real names filled in. Commands to run on a node
    /// start with `# on NODE:` comments that say so.
    pub commands: Vec<String>,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingSeverity {
    Info,
    Warning,
    Critical,
}

/// The diagnosis of one playbook on one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: FindingSeverity,
    /// 0.0–1.0: how sure the cause is.
    pub confidence: f32,
    /// The cause in one sentence.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Why the other candidate causes were ruled out, one sentence each.
    pub ruled_out: Vec<String>,
    pub fix: Fix,
}

/// A playbook: metadata, queries, a pure diagnosis.
pub struct Playbook {
    /// The id from PLAYBOOKS.md (`node-notready-no-cni`).
    pub id: &'static str,
    /// The code (`NET-01`).
    pub code: &'static str,
    pub title: &'static str,
    pub access: Access,
    pub symptoms: &'static [Symptom],
    /// The queries to run, given what earlier rounds returned (called until it asks for
    /// nothing new, at most a few rounds): lets a playbook read the logs of a pod it found.
    pub queries: fn(&Results) -> Vec<Query>,
    /// The diagnosis: `None` when this playbook's cause is not present. Pure: no I/O; time
    /// is `now` (the snapshot's clock for a snapshot).
    pub diagnose: fn(&Results, DateTime<Utc>) -> Option<Finding>,
}

impl std::fmt::Debug for Playbook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Playbook")
            .field("id", &self.id)
            .field("code", &self.code)
            .finish()
    }
}

/// Every registered playbook.
pub fn registry() -> Vec<&'static Playbook> {
    [
        connection::PLAYBOOKS,
        controlplane::PLAYBOOKS,
        identity_storage::PLAYBOOKS,
        network_a::PLAYBOOKS,
        network_b::PLAYBOOKS,
        workloads::PLAYBOOKS,
    ]
    .concat()
}

/// Looks a playbook up by id.
pub fn find(id: &str) -> Option<&'static Playbook> {
    registry().into_iter().find(|p| p.id == id)
}
