//! Writing a snapshot as multi-document YAML that [`Snapshot::parse_str`] reads back to an
//! equal snapshot: `SnapshotInfo` first, then the Kubernetes objects, then the evidence.
//! Multi-line texts (logs, journal lines) come out as YAML literal blocks where YAML allows
//! (see [`emit`](super::emit)).

use serde_json::{Map, Value};

use super::{EVIDENCE_API_VERSION, Snapshot, emit};

pub(crate) fn to_yaml(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let mut push = |doc: &Doc| {
        out.push_str("---\n");
        match doc {
            Doc::Object(v) => emit::document(&mut out, v),
            Doc::Evidence(fields) => emit::mapping(
                &mut out,
                fields.0.iter().map(|(k, v)| (k.as_str(), v)),
                0,
                false,
            ),
        }
    };

    if let Some(info) = &snapshot.info {
        let mut doc = evidence("SnapshotInfo");
        put_opt(&mut doc, "capturedAt", &info.captured_at);
        put_opt(&mut doc, "context", &info.context);
        put_opt(&mut doc, "server", &info.server);
        put_opt(&mut doc, "version", &info.version);
        put_opt(&mut doc, "redacted", &info.redacted);
        if !info.captured.is_empty() {
            doc.insert("captured".into(), serde_json::json!(info.captured));
        }
        push(&Doc::Evidence(doc));
    }
    for object in &snapshot.objects {
        push(&Doc::Object(object));
    }
    for log in &snapshot.pod_logs {
        let mut doc = evidence("PodLog");
        doc.insert(
            "metadata".into(),
            serde_json::json!({ "namespace": log.namespace, "name": log.pod }),
        );
        put_opt(&mut doc, "container", &log.container);
        if log.previous {
            doc.insert("previous".into(), Value::Bool(true));
        }
        doc.insert("text".into(), Value::String(log.text.clone()));
        push(&Doc::Evidence(doc));
    }
    for log in &snapshot.node_logs {
        let mut doc = evidence("NodeLog");
        doc.insert("metadata".into(), serde_json::json!({ "name": log.node }));
        doc.insert("unit".into(), Value::String(log.unit.clone()));
        doc.insert("text".into(), Value::String(log.text.clone()));
        push(&Doc::Evidence(doc));
    }
    for response in &snapshot.responses {
        let mut doc = evidence("Response");
        doc.insert("method".into(), Value::String(response.method.clone()));
        doc.insert("path".into(), Value::String(response.path.clone()));
        doc.insert("code".into(), Value::from(response.code));
        doc.insert("body".into(), body(&response.body));
        push(&Doc::Evidence(doc));
    }
    for connection in &snapshot.connections {
        let mut doc = evidence("Connection");
        if let Ok(Value::Object(mut fields)) = serde_json::to_value(connection) {
            for key in ["server", "error", "environment", "servedCertificate"] {
                if let Some(v) = fields.remove(key).and_then(prune_nulls) {
                    doc.insert(key.into(), v);
                }
            }
            // Fields added to `Connection` later still get written.
            for (k, v) in fields {
                if let Some(v) = prune_nulls(v) {
                    doc.insert(k, v);
                }
            }
        }
        push(&Doc::Evidence(doc));
    }
    for unknown in &snapshot.unknown_evidence {
        push(&Doc::Object(unknown));
    }
    out
}

enum Doc<'a> {
    /// Written as is (keys sorted, which puts apiVersion, kind, metadata, spec, status in order).
    Object(&'a Value),
    /// Fields in the order given.
    Evidence(Fields),
}

/// An evidence document's fields in writing order.
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn insert(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }
}

/// A body that was read from a YAML/JSON object is written back as that object (readable,
/// and it reads back to the same text); any other body as text.
fn body(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ (Value::Object(_) | Value::Array(_)))
            if serde_json::to_string(&v).is_ok_and(|t| t == text) =>
        {
            v
        }
        _ => Value::String(text.to_string()),
    }
}

fn evidence(kind: &str) -> Fields {
    let mut doc = Fields(Vec::new());
    doc.insert(
        "apiVersion".into(),
        Value::String(EVIDENCE_API_VERSION.into()),
    );
    doc.insert("kind".into(), Value::String(kind.into()));
    doc
}

fn put_opt(doc: &mut Fields, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        doc.insert(key.into(), Value::String(v.clone()));
    }
}

/// Leaves out absent optional fields (and empty maps) so the output stays readable.
fn prune_nulls(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(map) => {
            let map: Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| prune_nulls(v).map(|v| (k, v)))
                .collect();
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other),
    }
}
