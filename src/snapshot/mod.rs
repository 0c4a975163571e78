//! The snapshot format: the one input format for scenarios, `--snapshot PATH` and the output
//! of `ktriage snapshot`. Owns parsing (YAML multi-doc, `kind: List` in YAML or JSON, a
//! `kubectl cluster-info dump` directory), the `ktriage/v1` evidence kinds, writing, and the
//! snapshot's clock (the instant every time-based rule is judged at).

mod evidence;
pub use evidence::{Connection, NodeLog, PodLog, RawResponse, ServedCertificate, SnapshotInfo};

use chrono::{DateTime, Utc};
use serde_json::Value;

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
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: document {document} (line {line}): {message}")]
    Malformed {
        file: String,
        document: usize,
        line: usize,
        message: String,
    },
}

impl Snapshot {
    /// The instant time-based rules are judged at: `SnapshotInfo.capturedAt`, else the newest
    /// timestamp found anywhere in the snapshot, else `None` (the caller then uses its own
    /// clock, which only happens for a snapshot without a single timestamp).
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        todo!("snapshot clock")
    }
}
