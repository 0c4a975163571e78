//! The snapshot format: the one input format for scenarios, `--snapshot PATH` and the output
//! of `ktriage snapshot`. Owns parsing (YAML multi-doc, `kind: List` in YAML or JSON, a
//! `kubectl cluster-info dump` directory), the `ktriage/v1` evidence kinds, writing, and the
//! snapshot's clock (the instant every time-based rule is judged at).

mod dump;
mod emit;
mod evidence;
mod parse;
mod write;
pub use evidence::{Connection, NodeLog, PodLog, RawResponse, ServedCertificate, SnapshotInfo};

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The largest snapshot file read: a bigger one (or a device such as `/dev/zero`) is refused
/// before memory runs out.
pub const SNAPSHOT_LIMIT: u64 = 2 << 30;

/// API version of the evidence documents that are not Kubernetes objects.
pub const EVIDENCE_API_VERSION: &str = "ktriage/v1";

/// A parsed snapshot. Kubernetes objects are kept verbatim as JSON values (unknown kinds and
/// fields included); evidence documents are typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Kubernetes objects in input order, exactly as read (never rejected for unknown fields).
    pub objects: Vec<Value>,
    pub pod_logs: Vec<PodLog>,
    pub node_logs: Vec<NodeLog>,
    pub responses: Vec<RawResponse>,
    pub connections: Vec<Connection>,
    pub info: Option<SnapshotInfo>,
    /// `ktriage/v1` documents of a kind this version does not know: kept, written back out.
    pub unknown_evidence: Vec<Value>,
}

/// Why a snapshot could not be read. Always names the file and, where it applies, the
/// document index (0-based) and the line (1-based) of the problem.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The cause is said in the message once (it is not also a `source` to repeat).
    #[error("cannot read {path}: {reason}")]
    Io {
        path: String,
        reason: std::io::Error,
    },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error(
        "{path}: empty snapshot (no objects and no evidence): give a file written by `ktriage snapshot` or `kubectl get -o yaml`"
    )]
    Empty { path: String },
    #[error("{file}: document {document} (line {line}): {message}")]
    Malformed {
        file: String,
        document: usize,
        line: usize,
        message: String,
    },
}

impl Snapshot {
    /// Parses one snapshot text; `file` names it in errors.
    ///
    /// Accepts YAML documents separated by `---` (`...` end markers, comments and empty
    /// documents allowed), one `kind: List` or typed `*List` (YAML or JSON) whose items are
    /// objects (nested Lists are flattened; items of a typed list without `kind` get it from
    /// the list), a bare sequence of objects, or a stream of JSON values such as the stdout
    /// of `kubectl cluster-info dump` with its `==== START logs for container ... ====`
    /// sections. JSON input (first character `{` or `[`) is read with serde_json.
    ///
    /// Evidence defaults: a `PodLog` without `metadata.namespace` is in `default`, `previous`
    /// is false; a `NodeLog` without `unit` has an empty one; a `Response` without `method`
    /// is a GET, without `body` an empty body, and an object `body` is kept as its JSON text.
    /// Fields of evidence documents beyond the documented ones are not kept.
    pub fn parse_str(text: &str, file: &str) -> Result<Snapshot, SnapshotError> {
        parse::parse(text, file)
    }

    /// Reads a snapshot file, or a directory (such as `kubectl cluster-info dump
    /// --output-directory DIR`): every `*.json`/`*.yaml`/`*.yml` below it, and each
    /// `NS/POD/logs.txt` as that pod's logs.
    ///
    /// Only regular files (and directories) are read, at most [`SNAPSHOT_LIMIT`] bytes: a
    /// FIFO or a device is refused at once. A snapshot that holds nothing is an error.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let io = |reason| SnapshotError::Io {
            path: path.display().to_string(),
            reason,
        };
        let snapshot = if std::fs::metadata(path).map_err(io)?.is_dir() {
            dump::load_dir(path)?
        } else {
            let text = crate::input::read_text_limited(path, SNAPSHOT_LIMIT, "a snapshot")?;
            Snapshot::parse_str(&text, &path.display().to_string())?
        };
        if snapshot.is_empty() {
            return Err(SnapshotError::Empty {
                path: path.display().to_string(),
            });
        }
        Ok(snapshot)
    }

    /// Multi-document YAML that [`Snapshot::parse_str`] reads back to an equal snapshot.
    pub fn to_yaml(&self) -> String {
        write::to_yaml(self)
    }

    /// Writes [`Snapshot::to_yaml`] to a file.
    pub fn save(&self, path: &Path) -> Result<(), SnapshotError> {
        std::fs::write(path, self.to_yaml()).map_err(|reason| SnapshotError::Io {
            path: path.display().to_string(),
            reason,
        })
    }

    /// True when the snapshot holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self == &Snapshot::default()
    }

    /// The instant time-based rules are judged at: `SnapshotInfo.capturedAt`, else the newest
    /// timestamp found anywhere in the snapshot, else `None` (the caller then uses its own
    /// clock, which only happens for a snapshot without a single timestamp).
    ///
    /// Fields that hold a future instant by nature (certificate `notAfter`, expirations,
    /// renewal times, deadlines) are not taken as evidence of "now".
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        if let Some(at) = self
            .info
            .as_ref()
            .and_then(|i| i.captured_at.as_deref())
            .and_then(parse_time)
        {
            return Some(at);
        }
        let mut newest = None;
        for object in &self.objects {
            newest_time(object, false, &mut newest);
        }
        newest
    }

    /// The Kubernetes objects of one kind (`Pod`, `Node`, `Lease`...), in input order.
    pub fn objects_of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .iter()
            .filter(move |o| o.get("kind").and_then(Value::as_str) == Some(kind))
    }

    /// One object by kind, namespace (`None` for cluster-scoped) and name.
    pub fn object(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.iter().find(|o| {
            let meta = o.get("metadata");
            let field = |f: &str| meta.and_then(|m| m.get(f)).and_then(Value::as_str);
            o.get("kind").and_then(Value::as_str) == Some(kind)
                && field("name") == Some(name)
                && field("namespace") == namespace
        })
    }

    /// Appends everything of `other`. Info: ours wins, fields we lack are taken from `other`.
    pub fn merge(&mut self, other: Snapshot) {
        self.objects.extend(other.objects);
        self.pod_logs.extend(other.pod_logs);
        self.node_logs.extend(other.node_logs);
        self.responses.extend(other.responses);
        self.connections.extend(other.connections);
        self.unknown_evidence.extend(other.unknown_evidence);
        match (&mut self.info, other.info) {
            (Some(ours), Some(theirs)) => fill_info(ours, theirs),
            (ours @ None, theirs) => *ours = theirs,
            (Some(_), None) => {}
        }
    }

    /// A pod's log. `container: None` matches the pod's first log; a named container also
    /// matches a log without container name when that is the pod's only log (with the same
    /// `previous`).
    pub fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        previous: bool,
    ) -> Option<&PodLog> {
        let mut of_pod = self
            .pod_logs
            .iter()
            .filter(|l| l.namespace == namespace && l.pod == pod && l.previous == previous);
        match container {
            None => of_pod.next(),
            Some(c) => {
                let candidates: Vec<&PodLog> = of_pod.collect();
                candidates
                    .iter()
                    .find(|l| l.container.as_deref() == Some(c))
                    .or_else(|| match candidates.as_slice() {
                        [only] if only.container.is_none() => candidates.first(),
                        _ => None,
                    })
                    .copied()
            }
        }
    }
}

/// Fills the fields `info` lacks from `other`.
fn fill_info(info: &mut SnapshotInfo, other: SnapshotInfo) {
    info.captured_at = info.captured_at.take().or(other.captured_at);
    info.context = info.context.take().or(other.context);
    info.server = info.server.take().or(other.server);
    info.version = info.version.take().or(other.version);
}

/// An RFC 3339 instant with date and time (fractional seconds and offsets allowed).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    // Cheap filter first: `YYYY-MM-DDTHH:MM:SS...`
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Field names whose instants lie in the future by nature.
fn is_future_field(key: &str) -> bool {
    // Runs for every key of every object: no allocation.
    let k = key.as_bytes();
    ["notafter", "expir", "renewaltime", "deadline", "validuntil"]
        .iter()
        .any(|p| {
            k.windows(p.len())
                .any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
        })
}

fn newest_time(v: &Value, skip: bool, newest: &mut Option<DateTime<Utc>>) {
    match v {
        Value::String(s) if !skip => {
            if let Some(t) = parse_time(s)
                && newest.is_none_or(|n| t > n)
            {
                *newest = Some(t);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| newest_time(i, skip, newest)),
        Value::Object(map) => {
            for (k, v) in map {
                newest_time(v, skip || is_future_field(k), newest);
            }
        }
        _ => {}
    }
}
