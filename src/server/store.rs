//! The embedded server's object store: objects by resource, namespace and name (Secrets
//! without their data, stripped on the way in), a global
//! resourceVersion counter, a bounded history of watch events (older versions answer 410
//! Gone), list pagination with continue tokens, and the broadcast that feeds watches.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::resources::{RESOURCES, ResourceDef};
use super::select::{FieldSelector, LabelSelector};

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

/// One change to the store, as watches see it.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub rv: u64,
    /// Index of the resource in `Store::defs`.
    pub res: usize,
    pub kind: EventType,
    pub object: Arc<Value>,
}

type Key = (String, String);

/// Objects of every served resource.
pub struct Store {
    defs: Vec<ResourceDef>,
    buckets: Vec<BTreeMap<Key, Arc<Value>>>,
    rv: u64,
    /// The history holds every event with `rv > compacted`.
    compacted: u64,
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
    pub items: Vec<Arc<Value>>,
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
            rv: 0,
            compacted: 0,
            history: VecDeque::new(),
            tx,
        }
    }

    /// Loads objects as the initial state (no watch events). Objects of an unknown kind get a
    /// resource of their own (plural = lower-case kind + "s"). Objects without a name are
    /// skipped and counted.
    pub fn load(&mut self, objects: impl IntoIterator<Item = Value>) -> usize {
        let mut skipped = 0;
        for obj in objects {
            if self.upsert(obj).is_none() {
                skipped += 1;
            }
        }
        self.compacted = self.rv;
        skipped
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
        Some(self.defs.len() - 1)
    }

    /// Stores `obj` with a new resourceVersion (filling uid and creationTimestamp when absent),
    /// records the watch event and returns it. `None` when the object has no kind or name.
    /// Secrets lose their data here, before anything can serve them (see `secrets`).
    pub fn upsert(&mut self, mut obj: Value) -> Option<Arc<WatchEvent>> {
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
        let object = Arc::new(obj);
        let previous = self.buckets[res].insert((ns, name), object.clone());
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        Some(self.record(res, kind, object))
    }

    /// Deletes an object; returns the DELETED event.
    pub fn delete(&mut self, res: usize, ns: &str, name: &str) -> Option<Arc<WatchEvent>> {
        let ns = if self.defs[res].namespaced { ns } else { "" };
        let old = self.buckets[res].remove(&(ns.to_string(), name.to_string()))?;
        self.rv += 1;
        let mut obj = (*old).clone();
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        }
        Some(self.record(res, EventType::Deleted, Arc::new(obj)))
    }

    fn record(&mut self, res: usize, kind: EventType, object: Arc<Value>) -> Arc<WatchEvent> {
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
    }

    pub fn get(&self, res: usize, ns: &str, name: &str) -> Option<Arc<Value>> {
        let ns = if self.defs[res].namespaced { ns } else { "" };
        self.buckets[res]
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    /// One page of a list, ordered by namespace and name.
    pub fn list(
        &self,
        res: usize,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<Page, ListError> {
        let (list_rv, after) = match continue_token {
            Some(t) if !t.is_empty() => {
                let (rv, key) = decode_continue(t).ok_or(ListError::BadContinue)?;
                if rv < self.compacted && rv < self.rv {
                    return Err(ListError::ContinueExpired);
                }
                (rv, Some(key))
            }
            _ => (self.rv, None),
        };
        let bucket = &self.buckets[res];
        let range: Box<dyn Iterator<Item = (&Key, &Arc<Value>)>> = match &after {
            Some(k) => Box::new(
                bucket.range::<Key, _>((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)),
            ),
            None => Box::new(bucket.iter()),
        };
        let mut matching = range
            .filter(|((n, _), _)| ns.is_none_or(|want| n == want))
            .filter(|(_, v)| labels.matches(v) && fields.matches(v));
        let mut items = Vec::new();
        let mut last: Option<Key> = None;
        let limit = limit.filter(|l| *l > 0);
        for (k, v) in matching.by_ref() {
            items.push(v.clone());
            if limit.is_some_and(|l| items.len() >= l) {
                last = Some(k.clone());
                break;
            }
        }
        let (continue_token, remaining) = match last {
            Some(key) => {
                let remaining = matching.count();
                if remaining == 0 {
                    (None, None)
                } else {
                    (Some(encode_continue(list_rv, &key)), Some(remaining))
                }
            }
            None => (None, None),
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
                            object: o.clone(),
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

fn encode_continue(rv: u64, key: &Key) -> String {
    let raw = json!({"rv": rv, "ns": key.0, "name": key.1}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Option<(u64, Key)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some((
        v.get("rv")?.as_u64()?,
        (
            v.get("ns")?.as_str()?.to_string(),
            v.get("name")?.as_str()?.to_string(),
        ),
    ))
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

    #[test]
    fn unknown_kinds_get_a_resource() {
        let mut s = Store::new();
        s.load([json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "x"}})]);
        let res = s.resource("example.com", "v1", "widgets").unwrap();
        assert!(s.get(res, "x", "w").is_some());
    }
}
