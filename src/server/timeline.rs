//! Applies scenario changes to the store: the live timeline (steps at offsets, repeating or
//! not) and the JSON-pointer paths with `[field=value]` array selectors they address. Also
//! rebases a scenario's timestamps to the present when it is served.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::Shared;
use ktriage_scenarios::{Change, ObjRef, TimelineStep};

/// Why a change could not be applied (logged; the timeline goes on).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChangeError {
    #[error("no {0} in this scenario")]
    NoObject(String),
    #[error("path {path} does not resolve in {object}")]
    BadPath { object: String, path: String },
    #[error("value at {path} in {object} is not an integer")]
    NotInteger { object: String, path: String },
    #[error("object has no kind or name")]
    Unnamed,
}

/// Resolves a JSON pointer with `[field=value]` segments, creating missing object keys.
pub fn resolve_mut<'a>(mut cur: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        cur = if let Some(sel) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let (k, v) = sel.split_once('=')?;
            cur.as_array_mut()?
                .iter_mut()
                .find(|e| e.get(k).and_then(Value::as_str) == Some(v))?
        } else if cur.is_array() {
            let i: usize = seg.parse().ok()?;
            cur.get_mut(i)?
        } else {
            if cur.is_null() {
                *cur = json!({});
            }
            cur.as_object_mut()?.entry(seg).or_insert(Value::Null)
        };
    }
    Some(cur)
}

/// RFC 3339 with microseconds, as the API server writes MicroTime fields.
pub fn micro_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn describe(target: &ObjRef) -> String {
    match &target.namespace {
        Some(ns) => format!("{} {}/{}", target.kind, ns, target.name),
        None => format!("{} {}", target.kind, target.name),
    }
}

/// JSON merge patch (RFC 7386).
fn merge(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// Applies one change to the store, emitting the watch event.
pub(crate) fn apply(
    shared: &Shared,
    change: &Change,
    now: DateTime<Utc>,
) -> Result<(), ChangeError> {
    let mut store = shared.lock_store();
    let fetch = |store: &super::store::Store, target: &ObjRef| {
        let res = store
            .resource_of_kind(&target.kind)
            .ok_or_else(|| ChangeError::NoObject(describe(target)))?;
        let obj = store
            .get(res, target.namespace.as_deref().unwrap_or(""), &target.name)
            .ok_or_else(|| ChangeError::NoObject(describe(target)))?;
        Ok::<_, ChangeError>((res, (*obj).clone()))
    };
    let bad_path = |target: &ObjRef, path: &str| ChangeError::BadPath {
        object: describe(target),
        path: path.to_string(),
    };
    let updated = match change {
        Change::Set {
            target,
            path,
            value,
        } => {
            let (_, mut obj) = fetch(&store, target)?;
            *resolve_mut(&mut obj, path).ok_or_else(|| bad_path(target, path))? = value.clone();
            obj
        }
        Change::Increment { target, path, by } => {
            let (_, mut obj) = fetch(&store, target)?;
            let slot = resolve_mut(&mut obj, path).ok_or_else(|| bad_path(target, path))?;
            let n = if slot.is_null() {
                Some(0)
            } else {
                slot.as_i64()
            };
            let n = n.ok_or_else(|| ChangeError::NotInteger {
                object: describe(target),
                path: path.clone(),
            })?;
            *slot = json!(n + by);
            obj
        }
        Change::Now { target, path } => {
            let (_, mut obj) = fetch(&store, target)?;
            // MicroTime fields (lease renew/acquire) carry microseconds; Time fields seconds.
            let value = if path.ends_with("renewTime") || path.ends_with("acquireTime") {
                micro_time(now)
            } else {
                now.to_rfc3339_opts(SecondsFormat::Secs, true)
            };
            *resolve_mut(&mut obj, path).ok_or_else(|| bad_path(target, path))? = json!(value);
            obj
        }
        Change::Merge { target, patch } => {
            let (_, mut obj) = fetch(&store, target)?;
            merge(&mut obj, patch);
            obj
        }
        Change::Create { object } => {
            let mut obj = object.clone();
            if obj.get("kind").and_then(Value::as_str) == Some("Event") {
                stamp_event(&mut obj, now);
            }
            obj
        }
        Change::Delete { target } => {
            let (res, _) = fetch(&store, target)?;
            store.delete(res, target.namespace.as_deref().unwrap_or(""), &target.name);
            return Ok(());
        }
    };
    store
        .upsert(updated)
        .map(|_| ())
        .ok_or(ChangeError::Unnamed)
}

/// Fills an Event's name and timestamps from the current time where absent.
fn stamp_event(ev: &mut Value, now: DateTime<Utc>) {
    let secs = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    if let Some(o) = ev.as_object_mut() {
        for key in ["firstTimestamp", "lastTimestamp"] {
            if o.get(key).is_none_or(Value::is_null) {
                o.insert(key.into(), json!(secs));
            }
        }
        o.entry("count").or_insert(json!(1));
    }
    let involved = ev
        .pointer("/involvedObject/name")
        .and_then(Value::as_str)
        .unwrap_or("event")
        .to_string();
    if let Some(meta) = ev.get_mut("metadata").and_then(Value::as_object_mut)
        && meta.get("name").is_none_or(Value::is_null)
    {
        meta.insert(
            "name".into(),
            json!(format!(
                "{involved}.{:x}",
                now.timestamp_nanos_opt().unwrap_or(0)
            )),
        );
    }
}

/// Runs the timeline until shutdown: each step at its offset from `start`, repeated every
/// `every` until `until`.
pub(crate) async fn run(
    shared: Arc<Shared>,
    steps: Vec<TimelineStep>,
    start: tokio::time::Instant,
) {
    // A step stopped before its first run (a leader that stopped renewing before the
    // scenario's epoch) never runs.
    let mut due: BinaryHeap<Reverse<(Duration, usize)>> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.until.is_none_or(|u| s.at <= u))
        .map(|(i, s)| Reverse((s.at, i)))
        .collect();
    let mut shutdown = shared.shutdown.clone();
    while let Some(Reverse((at, i))) = due.pop() {
        tokio::select! {
            _ = tokio::time::sleep_until(start + at) => {}
            _ = shutdown.changed() => return,
        }
        let step = &steps[i];
        if let Err(e) = apply(&shared, &step.change, Utc::now()) {
            tracing::warn!(step = i, error = %e, "timeline step not applied");
        }
        if let Some(every) = step.every.filter(|e| !e.is_zero()) {
            let next = at + every;
            if step.until.is_none_or(|u| next <= u) {
                due.push(Reverse((next, i)));
            }
        }
    }
}

/// Whether `s` looks like an RFC 3339 UTC timestamp (`2026-01-15T10:00:00Z`, with an
/// optional fraction).
fn timestamp_len(s: &[u8]) -> Option<usize> {
    let digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| s.get(i) == Some(&c);
    let shape = (0..4).all(digit)
        && at(4, b'-')
        && digit(5)
        && digit(6)
        && at(7, b'-')
        && digit(8)
        && digit(9)
        && at(10, b'T')
        && digit(11)
        && digit(12)
        && at(13, b':')
        && digit(14)
        && digit(15)
        && at(16, b':')
        && digit(17)
        && digit(18);
    if !shape {
        return None;
    }
    let mut end = 19;
    if at(19, b'.') {
        end = 20;
        while digit(end) {
            end += 1;
        }
    }
    at(end, b'Z').then_some(end + 1)
}

fn shift_one(ts: &str, delta: chrono::Duration) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc) + delta;
    let frac = ts.find('.').map(|dot| ts.len() - dot - 2).unwrap_or(0);
    Some(match frac {
        0 => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        1..=3 => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        4..=6 => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        _ => t.to_rfc3339_opts(SecondsFormat::Nanos, true),
    })
}

/// Shifts every RFC 3339 timestamp inside `text` (log lines, JSON logs) by `delta`, and the
/// klog headers (`I0115 09:58:01.123456`) too.
pub fn shift_text(text: &str, delta: chrono::Duration) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        if line_start && let Some(shifted) = shift_klog_header(&text[i..], delta) {
            out.push_str(&shifted);
            i += shifted.len();
            line_start = false;
            continue;
        }
        if bytes[i].is_ascii_digit()
            && let Some(len) = timestamp_len(&bytes[i..])
            && let Some(s) = shift_one(&text[i..i + len], delta)
        {
            out.push_str(&s);
            i += len;
            line_start = false;
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        line_start = ch == '\n';
        i += ch.len_utf8();
    }
    out
}

/// `I0115 09:58:01.123456` → the same header shifted (year taken as the shifted year).
fn shift_klog_header(s: &str, delta: chrono::Duration) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 21
        || !matches!(b[0], b'I' | b'W' | b'E' | b'F')
        || b[5] != b' '
        || b[8] != b':'
        || b[14] != b'.'
    {
        return None;
    }
    let (month, day) = (
        s.get(1..3)?.parse::<u32>().ok()?,
        s.get(3..5)?.parse::<u32>().ok()?,
    );
    let time = chrono::NaiveTime::parse_from_str(s.get(6..21)?, "%H:%M:%S%.6f").ok()?;
    let year = (Utc::now() - delta)
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let t = date.and_time(time).and_utc() + delta;
    Some(format!("{}{}", &s[0..1], t.format("%m%d %H:%M:%S%.6f")))
}

/// Shifts every timestamp string in an object tree by `delta`.
pub fn shift_value(v: &mut Value, delta: chrono::Duration) {
    match v {
        Value::String(s) if timestamp_len(s.as_bytes()) == Some(s.len()) => {
            if let Some(shifted) = shift_one(s, delta) {
                *s = shifted;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_value(x, delta)),
        Value::Object(o) => o.values_mut().for_each(|x| shift_value(x, delta)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_with_selectors() {
        let mut node = json!({"status": {"conditions": [
            {"type": "MemoryPressure", "status": "False"},
            {"type": "Ready", "status": "True"}]}});
        *resolve_mut(&mut node, "/status/conditions/[type=Ready]/status").unwrap() =
            json!("Unknown");
        assert_eq!(node["status"]["conditions"][1]["status"], "Unknown");
        assert!(resolve_mut(&mut node, "/status/conditions/[type=Nope]/status").is_none());
        *resolve_mut(&mut node, "/spec/unschedulable").unwrap() = json!(true);
        assert_eq!(node["spec"]["unschedulable"], true);
    }

    #[test]
    fn merge_patch_removes_nulls() {
        let mut o = json!({"a": {"b": 1, "c": 2}});
        merge(&mut o, &json!({"a": {"b": null, "d": 3}}));
        assert_eq!(o, json!({"a": {"c": 2, "d": 3}}));
    }

    #[test]
    fn timestamps_shift_keeping_their_precision() {
        let delta = chrono::Duration::days(10);
        let mut v = json!({"a": "2026-01-15T10:00:00Z", "b": ["2026-01-15T09:59:58.412345Z"], "c": "2026-01-15"});
        shift_value(&mut v, delta);
        assert_eq!(
            v,
            json!({"a": "2026-01-25T10:00:00Z", "b": ["2026-01-25T09:59:58.412345Z"], "c": "2026-01-15"})
        );
    }

    #[test]
    fn log_text_shifts() {
        let delta = chrono::Duration::hours(1);
        let text = "I0115 09:58:01.123456       1 leaderelection.go:258] acquired\n{\"ts\":\"2026-01-15T09:00:00.000Z\"}\n";
        let out = shift_text(text, delta);
        assert!(
            out.starts_with("I0115 10:58:01.123456       1 leaderelection"),
            "{out}"
        );
        assert!(out.contains("\"2026-01-15T10:00:00.000Z\""), "{out}");
    }
}
