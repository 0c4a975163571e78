//! The embedded server's object store: objects by resource, namespace and name (Secrets
//! without their data, stripped on the way in), a global resourceVersion counter, a bounded
//! history of watch events (older versions answer 410 Gone), list pagination with continue
//! tokens at a cost independent of the page's position, and the broadcast that feeds watches.
//!
//! Each object is held as its serialized JSON (a `serde_json::Value` tree of a pod is 3–4
//! times its JSON, so 150,000 pods held as trees took 12 GB): a list page copies the bytes
//! out, and a handle ([`Stored`]) decodes the object only when something reads a field of it
//! (selectors, Tables, logs, the timeline).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use ktriage_api::resources::{RESOURCES, ResourceDef};
use ktriage_api::select::{FieldSelector, LabelSelector};

/// How many watch events the store keeps for watches that resume from a resourceVersion.
const HISTORY: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One stored object handed out by the store: its JSON as stored (shared, never copied
/// while held) and the decoded tree, made on first use. Reading a field (`obj.pointer(…)`,
/// `&*obj`) decodes; `to_string()` and [`Stored::json`] give the JSON without decoding.
#[derive(Clone)]
pub struct Stored {
    json: Arc<str>,
    value: OnceLock<Value>,
}

impl Stored {
    fn new(json: Arc<str>) -> Self {
        Stored {
            json,
            value: OnceLock::new(),
        }
    }

    fn with_value(json: Arc<str>, value: Value) -> Self {
        Stored {
            json,
            value: OnceLock::from(value),
        }
    }

    /// The object's JSON, as stored.
    pub fn json(&self) -> &str {
        &self.json
    }
}

impl std::ops::Deref for Stored {
    type Target = Value;
    fn deref(&self) -> &Value {
        // The JSON was written by the store from a Value, so it decodes; Null otherwise.
        self.value
            .get_or_init(|| serde_json::from_str(&self.json).unwrap_or(Value::Null))
    }
}

impl AsRef<Value> for Stored {
    fn as_ref(&self) -> &Value {
        self
    }
}

impl std::fmt::Display for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.json)
    }
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.json)
    }
}

/// One change to the store, as watches see it.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub rv: u64,
    /// Index of the resource in `Store::defs`.
    pub res: usize,
    pub kind: EventType,
    pub object: Stored,
}

type Key = (String, String);

/// Objects of every served resource.
pub struct Store {
    defs: Vec<ResourceDef>,
    /// Each object's JSON by namespace and name.
    buckets: Vec<BTreeMap<Key, Arc<str>>>,
    /// Objects per namespace in each bucket, so a page's remainingItemCount costs a lookup.
    ns_counts: Vec<HashMap<String, usize>>,
    rv: u64,
    /// The history holds every event with `rv > compacted`.
    compacted: u64,
    /// Continue tokens from before this version are expired (etcd's compaction, `compact`):
    /// the history's bound only limits watches, as the API server's watch cache does, so a
    /// long list is not cut short by a busy minute of lease renewals.
    list_compacted: u64,
    history: VecDeque<Arc<WatchEvent>>,
    tx: broadcast::Sender<Arc<WatchEvent>>,
}

/// What a watch starting at some resourceVersion gets first.
pub enum WatchStart {
    /// Events to replay before the live ones.
    Events(Vec<Arc<WatchEvent>>),
    /// The requested version is older than the history: 410 Gone.
    Gone { requested: u64, oldest: u64 },
}

/// One page of a list.
pub struct Page {
    pub items: Vec<Stored>,
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<usize>,
}

/// Why a list could not be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    /// The continue token is malformed.
    BadContinue,
    /// The continue token refers to a compacted resourceVersion.
    ContinueExpired,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// A UUID-shaped uid derived from the object's identity, stable across runs.
fn derived_uid(kind: &str, ns: &str, name: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut parts = [0u64; 2];
    for (i, salt) in [0x9e37u64, 0x7f4a].iter().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (salt, kind, ns, name).hash(&mut h);
        parts[i] = h.finish();
    }
    let hex = format!("{:016x}{:016x}", parts[0], parts[1]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Store {
    /// An empty store serving the static resource table.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Store {
            defs: RESOURCES.to_vec(),
            buckets: vec![BTreeMap::new(); RESOURCES.len()],
            ns_counts: vec![HashMap::new(); RESOURCES.len()],
            rv: 0,
            compacted: 0,
            list_compacted: 0,
            history: VecDeque::new(),
            tx,
        }
    }

    /// Loads objects as the initial state (no watch events: a watch from before the load is
    /// answered 410 Gone). Objects of an unknown kind get a resource of their own (plural =
    /// lower-case kind + "s"). Objects without a name are skipped and counted. Objects are
    /// taken one at a time, so a generated cluster never exists as trees all at once.
    pub fn load(&mut self, objects: impl IntoIterator<Item = Value>) -> usize {
        let mut skipped = 0;
        for obj in objects {
            if self.insert(obj).is_none() {
                skipped += 1;
            }
        }
        self.compacted = self.rv;
        self.list_compacted = self.rv;
        self.history.clear();
        skipped
    }

    /// The bytes of JSON the store holds (objects only, not the watch history), beside what
    /// it takes to hold them: the measure of its memory.
    pub fn json_bytes(&self) -> usize {
        self.buckets
            .iter()
            .flat_map(|b| b.values())
            .map(|j| j.len())
            .sum()
    }

    /// How many objects the store holds.
    pub fn count(&self) -> usize {
        self.buckets.iter().map(BTreeMap::len).sum()
    }

    pub fn defs(&self) -> &[ResourceDef] {
        &self.defs
    }

    pub fn def(&self, res: usize) -> &ResourceDef {
        &self.defs[res]
    }

    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Finds a resource index by group, version and plural.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.defs
            .iter()
            .position(|d| d.group == group && d.version == version && d.plural == plural)
    }

    /// Finds a resource index by kind (any version), for scenario timelines.
    pub fn resource_of_kind(&self, kind: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.kind == kind)
    }

    fn resource_for(&mut self, obj: &Value) -> Option<usize> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str)?;
        let kind = obj.get("kind").and_then(Value::as_str)?;
        if let Some(i) = self
            .defs
            .iter()
            .position(|d| d.kind == kind && d.api_version() == api_version)
        {
            return Some(i);
        }
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let namespaced = !meta_str(obj, "namespace").is_empty();
        let lower = kind.to_ascii_lowercase();
        self.defs.push(ResourceDef {
            group: leak(group.to_string()),
            version: leak(version.to_string()),
            kind: leak(kind.to_string()),
            plural: leak(format!("{lower}s")),
            singular: leak(lower),
            namespaced,
            short_names: &[],
            categories: &[],
        });
        self.buckets.push(BTreeMap::new());
        self.ns_counts.push(HashMap::new());
        Some(self.defs.len() - 1)
    }

    /// Stores `obj` with a new resourceVersion (filling uid and creationTimestamp when absent),
    /// records the watch event and returns it. `None` when the object has no kind or name.
    /// Secrets lose their data here, before anything can serve them (see `secrets`).
    pub fn upsert(&mut self, obj: Value) -> Option<Arc<WatchEvent>> {
        let (res, kind, object) = self.insert(obj)?;
        Some(self.record(res, kind, object))
    }

    /// Stores `obj` as `upsert` does, without recording a watch event.
    fn insert(&mut self, mut obj: Value) -> Option<(usize, EventType, Stored)> {
        super::secrets::strip_stored(&mut obj);
        let res = self.resource_for(&obj)?;
        let name = meta_str(&obj, "name").to_string();
        if name.is_empty() {
            return None;
        }
        let ns = if self.defs[res].namespaced {
            meta_str(&obj, "namespace").to_string()
        } else {
            String::new()
        };
        self.rv += 1;
        let rv = self.rv;
        let kind = self.defs[res].kind;
        let meta = obj
            .as_object_mut()?
            .entry("metadata")
            .or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
            m.entry("uid")
                .or_insert_with(|| Value::String(derived_uid(kind, &ns, &name)));
            m.entry("creationTimestamp").or_insert_with(|| {
                Value::String(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string())
            });
        }
        let json: Arc<str> = serde_json::to_string(&obj).ok()?.into();
        let previous = self.buckets[res].insert((ns.clone(), name), json.clone());
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            *self.ns_counts[res].entry(ns).or_default() += 1;
            EventType::Added
        };
        Some((res, kind, Stored::with_value(json, obj)))
    }

    /// Deletes an object; returns the DELETED event.
    pub fn delete(&mut self, res: usize, ns: &str, name: &str) -> Option<Arc<WatchEvent>> {
        let ns = if self.defs[res].namespaced { ns } else { "" };
        let old = self.buckets[res].remove(&(ns.to_string(), name.to_string()))?;
        if let Some(n) = self.ns_counts[res].get_mut(ns) {
            *n = n.saturating_sub(1);
        }
        self.rv += 1;
        let mut obj: Value = serde_json::from_str(&old).unwrap_or(Value::Null);
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        }
        let json: Arc<str> = serde_json::to_string(&obj).unwrap_or_default().into();
        Some(self.record(res, EventType::Deleted, Stored::with_value(json, obj)))
    }

    fn record(&mut self, res: usize, kind: EventType, object: Stored) -> Arc<WatchEvent> {
        let ev = Arc::new(WatchEvent {
            rv: self.rv,
            res,
            kind,
            object,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > HISTORY {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody watches yet.
        let _ = self.tx.send(ev.clone());
        ev
    }

    /// Forgets the history up to now, as etcd compaction does: watches from older
    /// resourceVersions get 410 Gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
        self.list_compacted = self.rv;
    }

    pub fn get(&self, res: usize, ns: &str, name: &str) -> Option<Stored> {
        let ns = if self.defs[res].namespaced { ns } else { "" };
        self.buckets[res]
            .get(&(ns.to_string(), name.to_string()))
            .map(|j| Stored::new(j.clone()))
    }

    /// One page of a list, ordered by namespace and name. A page costs the same wherever it
    /// is in the list: it starts at the continue key (or the namespace's first key) and stops
    /// at the first match after the page, which only says whether there are more. Without
    /// selectors, remainingItemCount comes from the count of objects in scope less those the
    /// continue token says were served; with selectors it is unknown and left out, as the
    /// real API server does.
    pub fn list(
        &self,
        res: usize,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<Page, ListError> {
        let (list_rv, after, served_before) = match continue_token {
            Some(t) if !t.is_empty() => {
                let token = decode_continue(t).ok_or(ListError::BadContinue)?;
                if token.rv < self.list_compacted && token.rv < self.rv {
                    return Err(ListError::ContinueExpired);
                }
                (token.rv, Some(token.key), token.served)
            }
            _ => (self.rv, None, 0),
        };
        let bucket = &self.buckets[res];
        let ns_start = ns.map(|n| (n.to_string(), String::new()));
        let from = match (&after, &ns_start) {
            (Some(k), Some(first)) if k < first => Bound::Included(first),
            (Some(k), _) => Bound::Excluded(k),
            (None, Some(first)) => Bound::Included(first),
            (None, None) => Bound::Unbounded,
        };
        // Without selectors nothing is decoded: the page is the stored JSON.
        let select = !(labels.is_empty() && fields.is_empty());
        let mut matching = bucket
            .range::<Key, _>((from, Bound::Unbounded))
            .take_while(|((n, _), _)| ns.is_none_or(|want| n == want))
            .map(|(k, j)| (k, Stored::new(j.clone())))
            .filter(|(_, v)| !select || (labels.matches(v) && fields.matches(v)));
        let mut items = Vec::new();
        let mut last: Option<&Key> = None;
        let limit = limit.filter(|l| *l > 0);
        for (k, v) in matching.by_ref() {
            items.push(v);
            if limit.is_some_and(|l| items.len() >= l) {
                last = Some(k);
                break;
            }
        }
        let more = last.is_some() && matching.next().is_some();
        let (continue_token, remaining) = match last {
            Some(key) if more => {
                let served = served_before.saturating_add(items.len());
                let remaining = (labels.is_empty() && fields.is_empty()).then(|| {
                    let in_scope = match ns {
                        Some(n) => self.ns_counts[res].get(n).copied().unwrap_or(0),
                        None => bucket.len(),
                    };
                    // Objects added or deleted since the first page make this an estimate,
                    // as the real API server's is; there is at least the one found above.
                    in_scope.saturating_sub(served).max(1)
                });
                (Some(encode_continue(list_rv, key, served)), remaining)
            }
            _ => (None, None),
        };
        Ok(Page {
            items,
            resource_version: list_rv,
            continue_token,
            remaining,
        })
    }

    /// Subscribes to live events and returns what a watch from `from_rv` must replay first.
    /// `None` means "start now, with the current state as ADDED events" (resourceVersion
    /// unset or "0").
    pub fn watch(
        &self,
        res: usize,
        from_rv: Option<u64>,
    ) -> (WatchStart, broadcast::Receiver<Arc<WatchEvent>>) {
        let rx = self.tx.subscribe();
        let start = match from_rv {
            None => WatchStart::Events(
                self.buckets[res]
                    .values()
                    .map(|o| {
                        Arc::new(WatchEvent {
                            rv: self.rv,
                            res,
                            kind: EventType::Added,
                            object: Stored::new(o.clone()),
                        })
                    })
                    .collect(),
            ),
            Some(rv) if rv < self.compacted => WatchStart::Gone {
                requested: rv,
                oldest: self.compacted + 1,
            },
            Some(rv) => WatchStart::Events(
                self.history
                    .iter()
                    .filter(|e| e.rv > rv && e.res == res)
                    .cloned()
                    .collect(),
            ),
        };
        (start, rx)
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// What a continue token carries: the list's resourceVersion, the last key served and how
/// many items the pages so far held.
struct Continue {
    rv: u64,
    key: Key,
    served: usize,
}

fn encode_continue(rv: u64, key: &Key, served: usize) -> String {
    let raw = json!({"rv": rv, "ns": key.0, "name": key.1, "n": served}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Option<Continue> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some(Continue {
        rv: v.get("rv")?.as_u64()?,
        key: (
            v.get("ns")?.as_str()?.to_string(),
            v.get("name")?.as_str()?.to_string(),
        ),
        // Tokens from before the count was carried still continue; the count is an estimate.
        served: v
            .get("n")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, app: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns, "labels": {"app": app}}})
    }

    fn store() -> (Store, usize) {
        let mut s = Store::new();
        s.load((0..7).map(|i| pod(if i % 2 == 0 { "a" } else { "b" }, &format!("p{i}"), "web")));
        let res = s.resource("", "v1", "pods").unwrap();
        (s, res)
    }

    #[test]
    fn load_assigns_versions_and_uids() {
        let (s, res) = store();
        assert_eq!(s.resource_version(), 7);
        let p = s.get(res, "a", "p0").unwrap();
        assert_eq!(p["metadata"]["resourceVersion"], "1");
        assert_eq!(p["metadata"]["uid"].as_str().unwrap().len(), 36);
    }

    #[test]
    fn pagination_walks_every_item_once() {
        let (s, res) = store();
        let (l, f) = (LabelSelector::default(), FieldSelector::default());
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = s
                .list(res, None, &l, &f, Some(3), token.as_deref())
                .unwrap();
            assert_eq!(page.resource_version, 7);
            seen.extend(
                page.items
                    .iter()
                    .map(|p| p["metadata"]["name"].as_str().unwrap().to_string()),
            );
            match page.continue_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        seen.sort();
        assert_eq!(seen, (0..7).map(|i| format!("p{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn namespace_and_selector_filter() {
        let (s, res) = store();
        let f = FieldSelector::parse("metadata.name!=p0").unwrap();
        let page = s
            .list(
                res,
                Some("a"),
                &LabelSelector::parse("app=web").unwrap(),
                &f,
                None,
                None,
            )
            .unwrap();
        assert_eq!(page.items.len(), 3);
        assert!(
            s.list(
                res,
                None,
                &LabelSelector::default(),
                &f,
                None,
                Some("garbage!")
            )
            .is_err()
        );
    }

    #[test]
    fn watch_replays_history_and_answers_gone_for_old_versions() {
        let (mut s, res) = store();
        s.upsert(pod("a", "p0", "api"));
        s.upsert(pod("a", "new", "web"));
        match s.watch(res, Some(7)).0 {
            WatchStart::Events(evs) => {
                let kinds: Vec<_> = evs.iter().map(|e| e.kind).collect();
                assert_eq!(kinds, vec![EventType::Modified, EventType::Added]);
            }
            WatchStart::Gone { .. } => panic!("version 7 is in the history"),
        }
        assert!(matches!(s.watch(res, Some(3)).0, WatchStart::Gone { .. }));
        match s.watch(res, None).0 {
            WatchStart::Events(evs) => assert_eq!(evs.len(), 8),
            WatchStart::Gone { .. } => panic!(),
        }
    }

    #[test]
    fn secrets_are_stored_without_their_data() {
        let (mut s, _) = store();
        s.upsert(
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": "db", "namespace": "a"},
                        "data": {"password": "aHVudGVyMg=="}, "stringData": {"user": "root"}}),
        );
        let res = s.resource("", "v1", "secrets").unwrap();
        let stored = s.get(res, "a", "db").unwrap();
        assert!(stored.get("data").is_none() && stored.get("stringData").is_none());
        assert_eq!(stored["type"], "Opaque");
        let WatchStart::Events(evs) = s.watch(res, Some(7)).0 else {
            panic!("version 7 is in the history")
        };
        assert!(!evs[0].object.to_string().contains("aHVudGVyMg=="));
    }

    fn page_names(p: &Page) -> Vec<String> {
        p.items
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn remaining_item_count_is_counted_without_selectors_and_left_out_with_them() {
        let (s, res) = store();
        let (l, f) = (LabelSelector::default(), FieldSelector::default());
        let first = s.list(res, None, &l, &f, Some(3), None).unwrap();
        assert_eq!(first.remaining, Some(4));
        let second = s
            .list(res, None, &l, &f, Some(3), first.continue_token.as_deref())
            .unwrap();
        assert_eq!(second.remaining, Some(1));
        let last = s
            .list(res, None, &l, &f, Some(3), second.continue_token.as_deref())
            .unwrap();
        assert_eq!(
            (last.items.len(), last.continue_token, last.remaining),
            (1, None, None)
        );

        // Namespace "a" holds p0, p2, p4, p6; "b" p1, p3, p5.
        let a = s.list(res, Some("a"), &l, &f, Some(3), None).unwrap();
        assert_eq!(page_names(&a), ["p0", "p2", "p4"]);
        assert_eq!(a.remaining, Some(1));
        let a2 = s
            .list(res, Some("a"), &l, &f, Some(3), a.continue_token.as_deref())
            .unwrap();
        assert_eq!(page_names(&a2), ["p6"]);
        assert!(a2.continue_token.is_none());
        let b = s.list(res, Some("b"), &l, &f, Some(3), None).unwrap();
        assert_eq!(page_names(&b), ["p1", "p3", "p5"]);
        assert!(
            b.continue_token.is_none(),
            "a full last page has no continue"
        );

        let web = LabelSelector::parse("app=web").unwrap();
        let page = s.list(res, None, &web, &f, Some(3), None).unwrap();
        assert!(page.continue_token.is_some());
        assert_eq!(page.remaining, None);
    }

    #[test]
    fn remaining_item_count_follows_deletes() {
        let (mut s, res) = store();
        s.delete(res, "a", "p6");
        let (l, f) = (LabelSelector::default(), FieldSelector::default());
        let a = s.list(res, Some("a"), &l, &f, Some(2), None).unwrap();
        assert_eq!(a.remaining, Some(1));
        let all = s.list(res, None, &l, &f, Some(2), None).unwrap();
        assert_eq!(all.remaining, Some(4));
    }

    /// The fastest of a few runs: what the work costs, without the scheduler's noise.
    fn fastest(mut f: impl FnMut()) -> std::time::Duration {
        (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap()
    }

    #[test]
    fn a_page_costs_the_same_at_the_start_of_a_big_list_as_at_its_end() {
        let mut s = Store::new();
        let n = 50_000;
        s.load((0..n).map(|i| pod(&format!("ns-{:02}", i % 40), &format!("p{i:06}"), "web")));
        let res = s.resource("", "v1", "pods").unwrap();
        let (l, f) = (LabelSelector::default(), FieldSelector::default());
        // The continue token of the page just before the last 500 pods.
        let mut token = None;
        for _ in 0..(n / 500 - 1) {
            let p = s
                .list(res, None, &l, &f, Some(500), token.as_deref())
                .unwrap();
            token = p.continue_token;
        }
        let last = fastest(|| {
            let p = s
                .list(res, None, &l, &f, Some(500), token.as_deref())
                .unwrap();
            assert!(p.continue_token.is_none() && p.items.len() == 500);
        });
        let first = fastest(|| {
            let p = s.list(res, None, &l, &f, Some(500), None).unwrap();
            assert_eq!(p.remaining, Some(n - 500));
        });
        let last_ns = fastest(|| {
            let p = s.list(res, Some("ns-39"), &l, &f, Some(500), None).unwrap();
            assert_eq!(p.remaining, Some(n / 40 - 500));
        });
        let bound = last * 10 + std::time::Duration::from_micros(500);
        assert!(
            first <= bound && last_ns <= bound,
            "first page {first:?}, first page of the last namespace {last_ns:?}, last page {last:?}"
        );
    }

    #[test]
    fn a_list_continues_past_a_full_watch_history_until_compaction() {
        let (mut s, res) = store();
        let (l, f) = (LabelSelector::default(), FieldSelector::default());
        let first = s.list(res, None, &l, &f, Some(3), None).unwrap();
        let token = first.continue_token.unwrap();
        // A busy cluster: more changes than the watch history holds (lease renewals).
        for _ in 0..=HISTORY {
            s.upsert(pod("b", "busy", "web"));
        }
        assert!(matches!(s.watch(res, Some(7)).0, WatchStart::Gone { .. }));
        let next = s.list(res, None, &l, &f, Some(3), Some(&token)).unwrap();
        assert_eq!(next.items.len(), 3);
        s.compact();
        assert!(matches!(
            s.list(res, None, &l, &f, Some(3), Some(&token)),
            Err(ListError::ContinueExpired)
        ));
    }

    #[test]
    fn unknown_kinds_get_a_resource() {
        let mut s = Store::new();
        s.load([json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "x"}})]);
        let res = s.resource("example.com", "v1", "widgets").unwrap();
        assert!(s.get(res, "x", "w").is_some());
    }
}
