//! The resource list views (`:nodes`, `:pods`, `:leases`, `:events`): the rows of the watched
//! objects in the newest model, the `/` filter, the sort column and order, the selection
//! (kept on the same object across updates) and the YAML detail of the selected object.
//!
//! Rows hold the shared objects (`Arc`s of the lean stores), not text: cells are formatted
//! only for the rows on screen, and for every row only when a filter or a text sort needs
//! them, so a 150,000-pod list costs a vector of pointers.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::cursor::Cursor;
use crate::cluster::lean::{Event, LAST_APPLIED, Lease, MetaExt, Node, Pod};
use crate::cluster::state::ClusterState;
use crate::playbooks::engine::q;
use crate::playbooks::{Outcome, Query};

/// Which objects a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Nodes,
    Pods,
    Leases,
    Events,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 4] = [
        ResourceKind::Nodes,
        ResourceKind::Pods,
        ResourceKind::Leases,
        ResourceKind::Events,
    ];

    /// The `:` command (and the resource's plural).
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::Nodes => "nodes",
            ResourceKind::Pods => "pods",
            ResourceKind::Leases => "leases",
            ResourceKind::Events => "events",
        }
    }

    /// The kind as the API writes it.
    pub fn kind(self) -> &'static str {
        match self {
            ResourceKind::Nodes => "Node",
            ResourceKind::Pods => "Pod",
            ResourceKind::Leases => "Lease",
            ResourceKind::Events => "Event",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ResourceKind::Nodes => "Nodes",
            ResourceKind::Pods => "Pods",
            ResourceKind::Leases => "Leases",
            ResourceKind::Events => "Events",
        }
    }

    fn group(self) -> &'static str {
        match self {
            ResourceKind::Leases => "coordination.k8s.io",
            _ => "",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            ResourceKind::Leases => "coordination.k8s.io/v1",
            _ => "v1",
        }
    }

    pub fn namespaced(self) -> bool {
        self != ResourceKind::Nodes
    }

    /// A `:` command name (with k9s's short forms) to a kind.
    pub fn parse(name: &str) -> Option<ResourceKind> {
        Some(match name {
            "nodes" | "node" | "no" => ResourceKind::Nodes,
            "pods" | "pod" | "po" => ResourceKind::Pods,
            "leases" | "lease" => ResourceKind::Leases,
            "events" | "event" | "ev" => ResourceKind::Events,
            _ => return None,
        })
    }

    /// The column headers, as `kubectl get` prints them.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ResourceKind::Nodes => NODE_COLUMNS,
            ResourceKind::Pods => POD_COLUMNS,
            ResourceKind::Leases => LEASE_COLUMNS,
            ResourceKind::Events => EVENT_COLUMNS,
        }
    }

    /// The sort a list opens with: by name (pods and leases by namespace, then name), events
    /// newest first.
    fn default_sort(self) -> usize {
        match self {
            ResourceKind::Events => 1,
            _ => 0,
        }
    }
}

/// How a column sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortAs {
    Text,
    Number,
}

/// A column of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub sort: SortAs,
}

impl Column {
    const fn new(header: &'static str, sort: SortAs) -> Column {
        Column { header, sort }
    }
}

use SortAs::{Number, Text};

const NODE_COLUMNS: &[Column] = &[
    Column::new("NAME", Text),
    Column::new("STATUS", Text),
    Column::new("ROLES", Text),
    Column::new("AGE", Number),
    Column::new("VERSION", Text),
    Column::new("INTERNAL-IP", Text),
    Column::new("CONTAINER-RUNTIME", Text),
];
const POD_COLUMNS: &[Column] = &[
    Column::new("NAMESPACE", Text),
    Column::new("NAME", Text),
    Column::new("READY", Text),
    Column::new("STATUS", Text),
    Column::new("RESTARTS", Number),
    Column::new("AGE", Number),
    Column::new("NODE", Text),
];
const LEASE_COLUMNS: &[Column] = &[
    Column::new("NAMESPACE", Text),
    Column::new("NAME", Text),
    Column::new("HOLDER", Text),
    Column::new("RENEWED", Number),
    Column::new("DURATION", Number),
    Column::new("TRANSITIONS", Number),
    Column::new("AGE", Number),
];
const EVENT_COLUMNS: &[Column] = &[
    Column::new("NAMESPACE", Text),
    Column::new("LAST SEEN", Number),
    Column::new("TYPE", Text),
    Column::new("REASON", Text),
    Column::new("OBJECT", Text),
    Column::new("MESSAGE", Text),
];

/// One object of a list.
#[derive(Debug, Clone)]
pub enum Entry {
    Node(Arc<Node>),
    Pod(Arc<Pod>),
    Lease(Arc<Lease>),
    Event(Arc<Event>),
}

/// A row's key for the sort column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey<'a> {
    Number(i64),
    Text(std::borrow::Cow<'a, str>),
}

/// How a row reads at a glance (drawn with the theme's roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Normal,
    Warning,
    Critical,
}

fn age(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| (now - t).num_seconds().max(0))
}

fn age_text(secs: Option<i64>) -> String {
    match secs {
        Some(s) => crate::api::printer::human_duration(chrono::TimeDelta::seconds(s)),
        None => "<unknown>".into(),
    }
}

/// `kubectl get pods`'s STATUS column: the deletion, the first waiting or terminated reason
/// of a container, else the pod's reason or phase.
pub fn pod_status(pod: &Pod) -> &str {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating";
    }
    for c in pod
        .status
        .init_container_statuses
        .iter()
        .filter(|c| c.state.terminated.as_ref().is_none_or(|t| t.exit_code != 0))
    {
        if let Some(r) = c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) {
            return r;
        }
        if c.state.terminated.is_some() {
            return "Init:Error";
        }
    }
    for c in &pod.status.container_statuses {
        if let Some(r) = c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) {
            return r;
        }
        if let Some(r) = c
            .state
            .terminated
            .as_ref()
            .and_then(|t| t.reason.as_deref())
        {
            return r;
        }
    }
    pod.status
        .reason
        .as_deref()
        .or(pod.status.phase.as_deref())
        .unwrap_or("Unknown")
}

fn node_status(node: &Node) -> String {
    let ready = match node.ready_condition().map(|c| c.status.as_str()) {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    };
    if node.spec.unschedulable {
        format!("{ready},SchedulingDisabled")
    } else {
        ready.to_string()
    }
}

fn node_roles(node: &Node) -> String {
    let roles = node.roles();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

impl Entry {
    pub fn namespace(&self) -> &str {
        self.meta().namespace_str()
    }

    /// The shared object's address (to tell a new model's objects from the held ones).
    fn addr(&self) -> *const () {
        match self {
            Entry::Node(o) => Arc::as_ptr(o).cast(),
            Entry::Pod(o) => Arc::as_ptr(o).cast(),
            Entry::Lease(o) => Arc::as_ptr(o).cast(),
            Entry::Event(o) => Arc::as_ptr(o).cast(),
        }
    }

    pub fn name(&self) -> &str {
        self.meta().name_str()
    }

    fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Entry::Node(o) => &o.metadata,
            Entry::Pod(o) => &o.metadata,
            Entry::Lease(o) => &o.metadata,
            Entry::Event(o) => &o.metadata,
        }
    }

    /// The cells of the row, in [`ResourceKind::columns`] order.
    pub fn cells(&self, now: DateTime<Utc>) -> Vec<String> {
        match self {
            Entry::Node(n) => vec![
                n.metadata.name_str().to_string(),
                node_status(n),
                node_roles(n),
                age_text(age(now, n.metadata.created())),
                n.status
                    .node_info
                    .kubelet_version
                    .clone()
                    .unwrap_or_default(),
                n.address("InternalIP").unwrap_or("<none>").to_string(),
                n.status
                    .node_info
                    .container_runtime_version
                    .clone()
                    .unwrap_or_default(),
            ],
            Entry::Pod(p) => {
                let total = p
                    .spec
                    .containers
                    .len()
                    .max(p.status.container_statuses.len());
                let ready = p
                    .status
                    .container_statuses
                    .iter()
                    .filter(|c| c.ready)
                    .count();
                vec![
                    p.metadata.namespace_str().to_string(),
                    p.metadata.name_str().to_string(),
                    format!("{ready}/{total}"),
                    pod_status(p).to_string(),
                    p.restarts().to_string(),
                    age_text(age(now, p.metadata.created())),
                    p.spec.node_name.clone().unwrap_or_else(|| "<none>".into()),
                ]
            }
            Entry::Lease(l) => vec![
                l.metadata.namespace_str().to_string(),
                l.metadata.name_str().to_string(),
                l.spec
                    .holder_identity
                    .clone()
                    .unwrap_or_else(|| "<none>".into()),
                match age(now, l.spec.renew_time) {
                    Some(s) => format!("{} ago", age_text(Some(s))),
                    None => "never".into(),
                },
                l.spec
                    .lease_duration_seconds
                    .map(|d| format!("{d}s"))
                    .unwrap_or_else(|| "-".into()),
                l.spec.lease_transitions.unwrap_or(0).to_string(),
                age_text(age(now, l.metadata.created())),
            ],
            Entry::Event(e) => {
                let o = &e.involved_object;
                let count = match e.count {
                    Some(c) if c > 1 => format!(" (x{c})"),
                    _ => String::new(),
                };
                vec![
                    e.metadata.namespace_str().to_string(),
                    age_text(age(now, e.last_seen())),
                    e.type_.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                    format!(
                        "{}/{}",
                        o.kind.as_deref().unwrap_or("?").to_lowercase(),
                        o.name.as_deref().unwrap_or("?")
                    ),
                    format!(
                        "{}{count}",
                        crate::text::clean(e.message.as_deref().unwrap_or(""))
                    ),
                ]
            }
        }
    }

    /// The text of one cell for sorting: borrowed from the object where the cell is a
    /// field as it is (names, namespaces, statuses), formatted otherwise.
    fn text(&self, column: usize, now: DateTime<Utc>) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow::Borrowed;
        fn some(s: &Option<String>) -> Option<std::borrow::Cow<'_, str>> {
            s.as_deref().map(std::borrow::Cow::Borrowed)
        }
        let cell = match (self, column) {
            (Entry::Node(n), 0) => Some(Borrowed(n.metadata.name_str())),
            (Entry::Pod(p), 0) => Some(Borrowed(p.metadata.namespace_str())),
            (Entry::Pod(p), 1) => Some(Borrowed(p.metadata.name_str())),
            (Entry::Pod(p), 3) => Some(Borrowed(pod_status(p))),
            (Entry::Pod(p), 6) => some(&p.spec.node_name),
            (Entry::Lease(l), 0) => Some(Borrowed(l.metadata.namespace_str())),
            (Entry::Lease(l), 1) => Some(Borrowed(l.metadata.name_str())),
            (Entry::Lease(l), 2) => some(&l.spec.holder_identity),
            (Entry::Event(e), 0) => Some(Borrowed(e.metadata.namespace_str())),
            (Entry::Event(e), 2) => some(&e.type_),
            (Entry::Event(e), 3) => some(&e.reason),
            _ => None,
        };
        cell.unwrap_or_else(|| {
            let mut cells = self.cells(now);
            std::borrow::Cow::Owned(if column < cells.len() {
                cells.swap_remove(column)
            } else {
                String::new()
            })
        })
    }

    /// The numeric sort key of a number column (ages in seconds; missing sorts last).
    fn number(&self, column: usize, now: DateTime<Utc>) -> i64 {
        let missing = i64::MAX;
        match (self, column) {
            (Entry::Node(n), 3) => age(now, n.metadata.created()).unwrap_or(missing),
            (Entry::Pod(p), 4) => p.restarts(),
            (Entry::Pod(p), 5) => age(now, p.metadata.created()).unwrap_or(missing),
            (Entry::Lease(l), 3) => age(now, l.spec.renew_time).unwrap_or(missing),
            (Entry::Lease(l), 4) => l.spec.lease_duration_seconds.map_or(missing, i64::from),
            (Entry::Lease(l), 5) => i64::from(l.spec.lease_transitions.unwrap_or(0)),
            (Entry::Lease(l), 6) => age(now, l.metadata.created()).unwrap_or(missing),
            (Entry::Event(e), 1) => age(now, e.last_seen()).unwrap_or(missing),
            _ => 0,
        }
    }

    /// How the row reads: not Ready nodes, failing pods and Warning events stand out.
    pub fn tone(&self, now: DateTime<Utc>) -> Tone {
        match self {
            Entry::Node(n) => match n.ready_condition().map(|c| c.status.as_str()) {
                Some("True") if n.spec.unschedulable => Tone::Warning,
                Some("True") => Tone::Normal,
                _ => Tone::Critical,
            },
            Entry::Pod(p) => {
                let status = pod_status(p);
                if matches!(
                    status,
                    "CrashLoopBackOff"
                        | "ImagePullBackOff"
                        | "ErrImagePull"
                        | "Error"
                        | "Failed"
                        | "OOMKilled"
                        | "CreateContainerConfigError"
                        | "Init:Error"
                ) {
                    Tone::Critical
                } else if status == "Pending"
                    || status == "ContainerCreating"
                    || (p.is_running() && !p.is_ready())
                {
                    Tone::Warning
                } else {
                    Tone::Normal
                }
            }
            Entry::Lease(l) => {
                let stale = match (l.spec.renew_time, l.spec.lease_duration_seconds) {
                    (Some(r), Some(d)) => (now - r).num_seconds() > i64::from(d),
                    _ => false,
                };
                if stale { Tone::Warning } else { Tone::Normal }
            }
            Entry::Event(e) if e.type_.as_deref() == Some("Warning") => Tone::Warning,
            Entry::Event(_) => Tone::Normal,
        }
    }

    /// The object as YAML from the lean store: only the fields ktriage keeps.
    pub fn lean_yaml(&self, kind: ResourceKind) -> String {
        let body = match self {
            Entry::Node(o) => serde_json::to_value(o.as_ref()),
            Entry::Pod(o) => serde_json::to_value(o.as_ref()),
            Entry::Lease(o) => serde_json::to_value(o.as_ref()),
            Entry::Event(o) => serde_json::to_value(o.as_ref()),
        };
        let mut object = serde_json::Map::new();
        object.insert("apiVersion".into(), kind.api_version().into());
        object.insert("kind".into(), kind.kind().into());
        if let Ok(Value::Object(fields)) = body {
            object.extend(fields);
        }
        to_yaml(&Value::Object(prune(Value::Object(object))))
    }
}

/// Drops nulls and empty maps and lists, so the lean YAML reads like `kubectl get -o yaml`.
fn prune(v: Value) -> serde_json::Map<String, Value> {
    fn keep(v: Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(m) => {
                let m: serde_json::Map<_, _> = m
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, keep(v)?)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) => {
                let a: Vec<_> = a.into_iter().filter_map(keep).collect();
                (!a.is_empty()).then_some(Value::Array(a))
            }
            Value::String(s) if s.is_empty() => None,
            other => Some(other),
        }
    }
    match keep(v) {
        Some(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn to_yaml(v: &Value) -> String {
    serde_yaml_ng::to_string(v).unwrap_or_else(|e| format!("# cannot show as YAML: {e}\n"))
}

/// The full object from the API server without `managedFields` and the last-applied
/// annotation, as YAML.
pub fn full_yaml(mut object: Value) -> String {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove(LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    to_yaml(&object)
}

/// Where the YAML of the detail came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlSource {
    /// The stored fields while the full object is being fetched.
    Fetching,
    /// The full object from the API server.
    Server,
    /// The stored fields only, and why the full object could not be read.
    Stored(String),
}

/// The YAML detail of one object.
#[derive(Debug, Clone)]
pub struct ObjectDetail {
    pub namespace: String,
    pub name: String,
    pub yaml: String,
    pub source: YamlSource,
    pub scroll: usize,
    /// The request that fetches the full object.
    pub query: Query,
}

impl ObjectDetail {
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.yaml.lines()
    }

    pub fn line_count(&self) -> usize {
        self.yaml.lines().count()
    }
}

/// A list view.
#[derive(Debug, Clone)]
pub struct ResourceList {
    pub kind: ResourceKind,
    /// The namespace of `:ns` (`None`: all namespaces).
    pub namespace: Option<String>,
    entries: Vec<Entry>,
    /// Each entry's cells, lower-cased and joined: built at the first filter keystroke after
    /// the entries changed, so typing costs a substring search per row, not formatting.
    haystack: Vec<String>,
    /// Indices into `entries` that pass the filter, in sort order.
    shown: Vec<usize>,
    pub filter: String,
    /// The filter line has the keyboard.
    pub filtering: bool,
    pub sort_column: usize,
    pub descending: bool,
    /// Selected row (an index into the shown rows) and first visible row.
    pub cursor: Cursor,
    /// Columns scrolled off to the left (Left/Right).
    pub hscroll: u16,
    pub detail: Option<ObjectDetail>,
    /// The clock ages are judged at (the model's).
    pub now: DateTime<Utc>,
}

impl ResourceList {
    pub fn new(
        kind: ResourceKind,
        namespace: Option<String>,
        state: &ClusterState,
        now: DateTime<Utc>,
    ) -> ResourceList {
        let mut list = ResourceList {
            kind,
            namespace,
            entries: Vec::new(),
            haystack: Vec::new(),
            shown: Vec::new(),
            filter: String::new(),
            filtering: false,
            sort_column: kind.default_sort(),
            descending: false,
            cursor: Cursor::default(),
            hscroll: 0,
            detail: None,
            now,
        };
        list.refresh(state, now);
        list
    }

    /// The objects of the list's kind in `state` (in the namespace, when one is set).
    fn collect(&self, state: &ClusterState) -> Vec<Entry> {
        let ns = self.namespace.as_deref();
        let keep = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            ns.is_none_or(|n| m.namespace_str() == n)
        };
        match self.kind {
            ResourceKind::Nodes => state.nodes.iter().cloned().map(Entry::Node).collect(),
            ResourceKind::Pods => state
                .pods
                .iter()
                .filter(|o| keep(&o.metadata))
                .cloned()
                .map(Entry::Pod)
                .collect(),
            ResourceKind::Leases => state
                .leases
                .iter()
                .filter(|o| keep(&o.metadata))
                .cloned()
                .map(Entry::Lease)
                .collect(),
            ResourceKind::Events => state
                .events
                .iter()
                .filter(|o| keep(&o.metadata))
                .cloned()
                .map(Entry::Event)
                .collect(),
        }
    }

    /// Takes the objects of a new model, keeping the filter, the sort and the selected object.
    /// A model rebuilt only because time moved on (every second while idle) holds the same
    /// objects: then only the clock changes, and nothing is collected, filtered or sorted.
    pub fn refresh(&mut self, state: &ClusterState, now: DateTime<Utc>) {
        self.now = now;
        if self.holds_same_objects(state) {
            return;
        }
        let keep = self.selected_key();
        self.entries = self.collect(state);
        self.haystack.clear();
        self.reshape(keep);
    }

    /// The objects of `state` for this list are the very ones held (same allocations, same
    /// order): compared by pointer, without collecting them.
    fn holds_same_objects(&self, state: &ClusterState) -> bool {
        fn same<'a, T: 'a>(
            held: &[Entry],
            new: impl Iterator<Item = &'a Arc<T>>,
            ns: Option<&str>,
            meta: impl Fn(&T) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        ) -> bool {
            let new = new
                .filter(|o| ns.is_none_or(|n| meta(o).namespace_str() == n))
                .map(|o| Arc::as_ptr(o).cast::<()>());
            held.iter().map(Entry::addr).eq(new)
        }
        let ns = self.namespace.as_deref();
        match self.kind {
            ResourceKind::Nodes => same(&self.entries, state.nodes.iter(), None, |o| &o.metadata),
            ResourceKind::Pods => same(&self.entries, state.pods.iter(), ns, |o| &o.metadata),
            ResourceKind::Leases => same(&self.entries, state.leases.iter(), ns, |o| &o.metadata),
            ResourceKind::Events => same(&self.entries, state.events.iter(), ns, |o| &o.metadata),
        }
    }

    /// Changes the namespace and re-reads `state`.
    pub fn set_namespace(&mut self, namespace: Option<String>, state: &ClusterState) {
        self.namespace = namespace;
        self.cursor = Cursor::default();
        let now = self.now;
        self.entries = self.collect(state);
        self.haystack.clear();
        self.reshape(None);
        self.now = now;
    }

    fn selected_key(&self) -> Option<(String, String)> {
        self.selected_entry()
            .map(|e| (e.namespace().to_string(), e.name().to_string()))
    }

    /// Filters and sorts again; the selection stays on `keep` when it is still shown.
    fn reshape(&mut self, keep: Option<(String, String)>) {
        let now = self.now;
        let needle = self.filter.to_lowercase();
        let (invert, needle) = match needle.strip_prefix('!') {
            Some(rest) => (true, rest.to_string()),
            None => (false, needle),
        };
        let mut shown: Vec<usize> = if needle.is_empty() {
            (0..self.entries.len()).collect()
        } else {
            if self.haystack.len() != self.entries.len() {
                // A separator no one types keeps a match inside one cell.
                self.haystack = self
                    .entries
                    .iter()
                    .map(|e| e.cells(now).join("\u{1}").to_lowercase())
                    .collect();
            }
            self.haystack
                .iter()
                .enumerate()
                .filter(|(_, h)| h.contains(&needle) != invert)
                .map(|(i, _)| i)
                .collect()
        };
        let col = self.sort_column;
        let entries = &self.entries;
        let descending = self.descending;
        // The sort key of each shown row, computed once; ties fall back to namespace and
        // name (always ascending), so the order is stable across updates.
        let mut keyed: Vec<(SortKey, usize)> = match self.kind.columns().get(col).map(|c| c.sort) {
            Some(SortAs::Number) => shown
                .iter()
                .map(|&i| (SortKey::Number(entries[i].number(col, now)), i))
                .collect(),
            Some(SortAs::Text) => shown
                .iter()
                .map(|&i| (SortKey::Text(entries[i].text(col, now)), i))
                .collect(),
            None => shown.iter().map(|&i| (SortKey::Number(0), i)).collect(),
        };
        keyed.sort_by(|(ka, a), (kb, b)| {
            let primary = if descending { kb.cmp(ka) } else { ka.cmp(kb) };
            primary.then_with(|| {
                let (a, b) = (&entries[*a], &entries[*b]);
                a.namespace()
                    .cmp(b.namespace())
                    .then_with(|| a.name().cmp(b.name()))
            })
        });
        shown = keyed.into_iter().map(|(_, i)| i).collect();
        self.shown = shown;
        let (shown, entries) = (&self.shown, &self.entries);
        self.cursor.keep(keep, shown.len(), |(ns, name)| {
            shown
                .iter()
                .position(|&i| entries[i].namespace() == ns && entries[i].name() == name)
        });
    }

    /// The rows that pass the filter.
    pub fn len(&self) -> usize {
        self.shown.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// Objects of the kind before the filter.
    pub fn total(&self) -> usize {
        self.entries.len()
    }

    /// The `i`th shown row.
    pub fn row(&self, i: usize) -> Option<&Entry> {
        self.shown.get(i).map(|&j| &self.entries[j])
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.row(self.cursor.selected)
    }

    /// Sets the filter text (while typing) and filters again.
    pub fn set_filter(&mut self, filter: String) {
        let keep = self.selected_key();
        self.filter = filter;
        self.cursor.selected = 0;
        self.reshape(keep);
    }

    /// Sorts by the next column (or reverses with `reverse`).
    pub fn sort_next(&mut self, reverse: bool) {
        if reverse {
            self.descending = !self.descending;
        } else {
            self.sort_column = (self.sort_column + 1) % self.kind.columns().len();
            self.descending = false;
        }
        // A new order starts at its top.
        self.cursor = Cursor::default();
        self.reshape(None);
    }

    /// The name to copy: `namespace/name` for namespaced objects, as kubectl accepts them in
    /// `-n NS NAME` they are shown together.
    pub fn selected_name(&self) -> Option<String> {
        self.selected_entry().map(|e| e.name().to_string())
    }

    /// Opens the YAML detail of the selected object: the stored fields at once, and the
    /// query that fetches the whole object (the caller runs it).
    pub fn open_detail(&mut self) -> Option<Query> {
        let kind = self.kind;
        let entry = self.selected_entry()?;
        let namespace = entry.namespace().to_string();
        let name = entry.name().to_string();
        let query = q::get(
            kind.group(),
            kind.name(),
            kind.namespaced().then_some(namespace.as_str()),
            &name,
        );
        let yaml = entry.lean_yaml(kind);
        self.detail = Some(ObjectDetail {
            namespace,
            name,
            yaml,
            source: YamlSource::Fetching,
            scroll: 0,
            query: query.clone(),
        });
        Some(query)
    }

    /// The answer to the detail's fetch; ignored when the detail shows another object now.
    pub fn fetched(&mut self, query: &Query, outcome: Outcome) {
        let Some(detail) = &mut self.detail else {
            return;
        };
        if &detail.query != query {
            return;
        }
        match outcome {
            Outcome::Objects(mut objects) if !objects.is_empty() => {
                detail.yaml = full_yaml(objects.swap_remove(0));
                detail.source = YamlSource::Server;
            }
            Outcome::Objects(_) | Outcome::Lean(_) => {
                detail.source = YamlSource::Stored("the server no longer has it".into());
            }
            Outcome::Failed { code, message } => {
                detail.source = YamlSource::Stored(if code == 0 {
                    message
                } else {
                    format!("{code}: {message}")
                });
            }
            Outcome::Text { code, .. } => {
                detail.source = YamlSource::Stored(format!("unexpected answer ({code})"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> ClusterState {
        ClusterState::from_objects(&[
            json!({"kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop",
                "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"nodeName": "w1", "containers": [{"name": "c"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": false,
                    "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
            json!({"kind": "Pod", "metadata": {"name": "coredns-1", "namespace": "kube-system",
                "creationTimestamp": "2026-01-01T01:00:00Z"},
                "spec": {"nodeName": "cp1", "containers": [{"name": "c"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0,
                    "state": {"running": {}}}]}}),
            json!({"kind": "Pod", "metadata": {"name": "api-1", "namespace": "shop",
                "creationTimestamp": "2026-01-01T02:00:00Z"},
                "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Pending"}}),
        ])
    }

    fn now() -> DateTime<Utc> {
        "2026-01-02T00:00:00Z".parse().unwrap()
    }

    fn names(list: &ResourceList) -> Vec<String> {
        (0..list.len())
            .map(|i| list.row(i).unwrap().name().to_string())
            .collect()
    }

    #[test]
    fn pods_read_like_kubectl_get_pods() {
        let list = ResourceList::new(ResourceKind::Pods, None, &state(), now());
        assert_eq!(names(&list), ["coredns-1", "api-1", "web-1"]);
        let web = list.row(2).unwrap();
        assert_eq!(
            web.cells(now()),
            ["shop", "web-1", "0/1", "CrashLoopBackOff", "7", "24h", "w1"]
        );
        assert_eq!(web.tone(now()), Tone::Critical);
        assert_eq!(list.row(1).unwrap().cells(now())[6], "<none>");
    }

    #[test]
    fn the_filter_narrows_and_bang_inverts() {
        let mut list = ResourceList::new(ResourceKind::Pods, None, &state(), now());
        list.set_filter("SHOP".into());
        assert_eq!(names(&list), ["api-1", "web-1"]);
        list.set_filter("crashloop".into());
        assert_eq!(names(&list), ["web-1"]);
        list.set_filter("!shop".into());
        assert_eq!(names(&list), ["coredns-1"]);
        list.set_filter(String::new());
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn sorting_by_restarts_is_numeric_and_reversible() {
        let mut list = ResourceList::new(ResourceKind::Pods, None, &state(), now());
        while list.kind.columns()[list.sort_column].header != "RESTARTS" {
            list.sort_next(false);
        }
        // Ties (0 restarts) fall back to namespace, then name, also when reversed.
        assert_eq!(names(&list), ["coredns-1", "api-1", "web-1"]);
        list.sort_next(true);
        assert_eq!(names(&list), ["web-1", "coredns-1", "api-1"]);
        assert_eq!(list.cursor.selected, 0, "a new order starts at its top");
    }

    #[test]
    fn text_columns_sort_by_what_they_show() {
        let mut list = ResourceList::new(ResourceKind::Pods, None, &state(), now());
        while list.kind.columns()[list.sort_column].header != "STATUS" {
            list.sort_next(false);
        }
        assert_eq!(names(&list), ["web-1", "api-1", "coredns-1"]);
        // READY is formatted ("0/1"), not a field: it sorts by its text too.
        while list.kind.columns()[list.sort_column].header != "READY" {
            list.sort_next(false);
        }
        assert_eq!(names(&list), ["api-1", "web-1", "coredns-1"]);
    }

    #[test]
    fn the_selection_follows_its_object_across_updates() {
        let mut list = ResourceList::new(ResourceKind::Pods, None, &state(), now());
        list.cursor.selected = 2;
        assert_eq!(list.selected_name().as_deref(), Some("web-1"));
        let mut s = state();
        s.pods.remove(1);
        list.refresh(&s, now());
        assert_eq!(list.selected_name().as_deref(), Some("web-1"));
    }

    #[test]
    fn a_model_with_the_same_objects_only_moves_the_clock() {
        let s = state();
        let mut list = ResourceList::new(ResourceKind::Pods, None, &s, now());
        list.set_filter("shop".into());
        let later = now() + chrono::Duration::hours(1);
        // The same Arcs in a new state (as a rebuild over unchanged stores makes).
        let again = ClusterState {
            pods: s.pods.clone(),
            ..Default::default()
        };
        assert!(list.holds_same_objects(&again));
        list.refresh(&again, later);
        assert_eq!(list.now, later);
        assert_eq!(names(&list), ["api-1", "web-1"]);
        // A changed object is a new allocation: the list is built again.
        let mut changed = s.clone();
        changed.pods[0] = Arc::new((*s.pods[0]).clone());
        assert!(!list.holds_same_objects(&changed));
        changed.pods.remove(2);
        list.refresh(&changed, later);
        assert_eq!(names(&list), ["web-1"]);
    }

    #[test]
    fn a_namespace_limits_the_list() {
        let list = ResourceList::new(ResourceKind::Pods, Some("shop".into()), &state(), now());
        assert_eq!(names(&list), ["api-1", "web-1"]);
    }

    #[test]
    fn the_full_object_loses_managed_fields_and_last_applied() {
        let yaml = full_yaml(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "managedFields": [{"manager": "kubectl"}],
                "annotations": {LAST_APPLIED: "{}", "team": "a"}}}));
        assert!(!yaml.contains("managedFields"), "{yaml}");
        assert!(!yaml.contains("last-applied"), "{yaml}");
        assert!(yaml.contains("team: a"), "{yaml}");
    }

    #[test]
    fn the_detail_shows_stored_fields_until_the_server_answers() {
        let mut list = ResourceList::new(ResourceKind::Pods, None, &state(), now());
        list.cursor.selected = 2;
        let query = list.open_detail().unwrap();
        assert_eq!(query.kubectl, "kubectl get pods web-1 -n shop -o yaml");
        let d = list.detail.as_ref().unwrap();
        assert!(
            d.yaml.starts_with("apiVersion: v1\nkind: Pod\n"),
            "{}",
            d.yaml
        );
        assert!(d.yaml.contains("CrashLoopBackOff"), "{}", d.yaml);
        assert_eq!(d.source, YamlSource::Fetching);
        list.fetched(
            &query,
            Outcome::Failed {
                code: 403,
                message: "pods \"web-1\" is forbidden".into(),
            },
        );
        let d = list.detail.as_ref().unwrap();
        assert!(matches!(&d.source, YamlSource::Stored(m) if m.contains("forbidden")));
        list.fetched(
            &query,
            Outcome::Objects(vec![json!({"kind": "Pod", "metadata": {"name": "web-1"},
                "spec": {"volumes": [{"name": "data"}]}})]),
        );
        let d = list.detail.as_ref().unwrap();
        assert_eq!(d.source, YamlSource::Server);
        assert!(d.yaml.contains("volumes"), "{}", d.yaml);
    }
}
