//! The snapshot format: the one input format for scenarios, `--snapshot PATH` and the output
//! of `ktriage snapshot`. Owns parsing (YAML multi-doc, `kind: List` in YAML or JSON, a
//! `kubectl cluster-info dump` directory), the `ktriage/v1` evidence kinds, writing, and the
//! snapshot's clock (the instant every time-based rule is judged at).

mod coverage;
mod dump;
mod emit;
mod evidence;
pub mod input;
mod normalize;
mod parse;
pub mod redact;
mod write;
pub use coverage::Capture;
pub use evidence::{Connection, NodeLog, PodLog, RawResponse, ServedCertificate, SnapshotInfo};
pub use normalize::object as normalize_object;

use std::path::Path;

use chrono::{DateTime, Datelike, Utc};
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
    /// Documents left out because they cannot be read as what they claim to be, each as
    /// `FILE: document N (line L): why`. One bad document never rejects the snapshot.
    pub dropped: Vec<String>,
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
    /// renewal times, deadlines) are not taken as evidence of "now". Besides the objects'
    /// times: RFC 3339 stamps in log lines, klog (`I0915 18:36:03.679`) and journal
    /// (`Sep 15 18:36:03`) stamps in log lines, in the year that puts them nearest the
    /// newest full timestamp, and a served certificate's
    /// `notBefore`. A stamp that lies in the future even of this machine's clock
    /// (`9999-12-31`, a node whose clock ran away) is not taken.
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        if let Some(at) = self
            .info
            .as_ref()
            .and_then(|i| i.captured_at.as_deref())
            .and_then(parse_time)
        {
            return Some(at);
        }
        let mut newest = Newest::default();
        for object in &self.objects {
            collect_times(object, false, &mut newest);
        }
        for c in &self.connections {
            if let Some(t) = c
                .served_certificate
                .as_ref()
                .and_then(|s| s.not_before.as_deref())
                .and_then(parse_time)
            {
                newest.offer(t);
            }
        }
        let logs = self
            .pod_logs
            .iter()
            .map(|l| l.text.as_str())
            .chain(self.node_logs.iter().map(|l| l.text.as_str()));
        let mut yearless = Vec::new();
        for text in logs {
            for line in text.lines() {
                match log_line_time(line) {
                    Some(LogTime::Full(t)) => newest.offer(t),
                    Some(LogTime::Yearless(m, d, t)) => yearless.push((m, d, t)),
                    None => {}
                }
            }
        }
        let anchor = newest.0;
        if let Some(anchor) = anchor {
            for (month, day, time) in yearless {
                let place = |year: i32| {
                    chrono::NaiveDate::from_ymd_opt(year, month, day)
                        .map(|d| d.and_time(time).and_utc())
                };
                // The year that puts the stamp nearest the anchor (a December line
                // next to January objects is from the year before).
                let t = [anchor.year() - 1, anchor.year(), anchor.year() + 1]
                    .into_iter()
                    .filter_map(place)
                    .min_by_key(|t| (*t - anchor).num_seconds().abs());
                if let Some(t) = t {
                    newest.offer(t);
                }
            }
        }
        newest.0
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
        self.dropped.extend(other.dropped);
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
    info.redacted = info.redacted.take().or(other.redacted);
    for kind in other.captured {
        if !info.captured.contains(&kind) {
            info.captured.push(kind);
        }
    }
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

fn collect_times(v: &Value, skip: bool, newest: &mut Newest) {
    match v {
        Value::String(s) if !skip => {
            if let Some(t) = parse_time(s) {
                newest.offer(t);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_times(i, skip, newest)),
        Value::Object(map) => {
            for (k, v) in map {
                collect_times(v, skip || is_future_field(k), newest);
            }
        }
        _ => {}
    }
}

/// The newest time a capture can have been taken at: a stamp later than a day past the
/// machine's clock (`9999-12-31`, a node whose clock ran away) cannot be the moment of
/// capture. The wall clock only bounds what is credible; it never becomes "now".
struct Newest(Option<DateTime<Utc>>, DateTime<Utc>);

impl Default for Newest {
    fn default() -> Self {
        Newest(None, Utc::now() + chrono::Duration::days(1))
    }
}

impl Newest {
    /// Keeps `t` when it is newer and credible (see the doc above).
    fn offer(&mut self, t: DateTime<Utc>) {
        if t <= self.1 && self.0.is_none_or(|n| t > n) {
            self.0 = Some(t);
        }
    }
}

/// The time a log line was written, when its stamp says.
enum LogTime {
    Full(DateTime<Utc>),
    /// klog and journal stamps carry no year: (month, day, time of day).
    Yearless(u32, u32, chrono::NaiveTime),
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The stamp of one log line: an RFC 3339 time among its first words (`time="…"`, a CRI
/// prefix), a klog header (`E0329 17:47:54.136036`, possibly after a journal prefix) or a
/// journal prefix (`Sep 15 18:36:03`).
fn log_line_time(line: &str) -> Option<LogTime> {
    let line = line.trim_start();
    for word in line.split_whitespace().take(4) {
        let word = word
            .trim_start_matches("time=")
            .trim_matches(|c| c == '"' || c == '[' || c == ']');
        if let Some(t) = parse_time(word) {
            return Some(LogTime::Full(t));
        }
    }
    let words: Vec<&str> = line.split_whitespace().take(8).collect();
    // klog: `Lmmdd hh:mm:ss.uuuuuu`, at the start or after a journal prefix.
    for pair in words.windows(2) {
        let (head, clock) = (pair[0], pair[1]);
        let b = head.as_bytes();
        if b.len() == 5
            && b"IWEF".contains(&b[0])
            && head[1..].bytes().all(|c| c.is_ascii_digit())
            && let (Ok(month), Ok(day)) = (head[1..3].parse::<u32>(), head[3..5].parse::<u32>())
            && let Ok(time) = chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S%.f")
        {
            return Some(LogTime::Yearless(month, day, time));
        }
    }
    // journal: `Mon dd hh:mm:ss host unit[pid]: …`
    if let [mon, day, clock, ..] = words.as_slice()
        && let Some(m) = MONTHS.iter().position(|x| x == mon)
        && let Ok(day) = day.parse::<u32>()
        && let Ok(time) = chrono::NaiveTime::parse_from_str(clock, "%H:%M:%S%.f")
    {
        return Some(LogTime::Yearless(m as u32 + 1, day, time));
    }
    None
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn log_stamps_count_with_the_year_of_the_newest_full_timestamp() {
        let s = Snapshot::parse_str(
            "apiVersion: v1\nkind: Node\nmetadata: {name: n1, creationTimestamp: '2021-09-13T08:00:00Z'}\n---\n\
             apiVersion: ktriage/v1\nkind: NodeLog\nmetadata: {name: n1}\nunit: kubelet\ntext: |\n  \
             Sep 15 18:36:03 n1 kubelet[4522]: I0915 18:36:03.679821 4522 prober.go:116] Probe failed\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(s.clock(), Some(at("2021-09-15T18:36:03.679821Z")));
    }

    #[test]
    fn a_stamp_after_the_anchor_belongs_to_the_year_before() {
        // Object times end in January 2022; a klog line from December is December 2021.
        let s = Snapshot::parse_str(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, creationTimestamp: '2022-01-02T00:00:00Z'}\n---\n\
             apiVersion: ktriage/v1\nkind: PodLog\nmetadata: {name: p, namespace: a}\ntext: |\n  \
             E1230 10:00:00.000000       1 x.go:1] old\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(s.clock(), Some(at("2022-01-02T00:00:00Z")));
    }

    #[test]
    fn a_lone_far_future_timestamp_is_not_the_clock() {
        let s = Snapshot::parse_str(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, creationTimestamp: '2024-03-01T10:00:00Z'}\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x, creationTimestamp: '9999-12-31T00:00:00Z'}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(s.clock(), Some(at("2024-03-01T10:00:00Z")));
    }
}
