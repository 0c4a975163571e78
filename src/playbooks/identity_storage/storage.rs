//! What the storage playbooks share: the queries for claims, volumes, classes, events and
//! pods, quantities, the default StorageClass, matching PersistentVolumes, and the pods that
//! consume a claim.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{Event, MetaExt, Pod, age_secs, arr, claims, events_for, name, namespace, s};
use crate::playbooks::engine::q;
use crate::playbooks::{Query, Results, Watched};

pub fn pvcs() -> Query {
    q::core("persistentvolumeclaims", None)
}
pub fn pvs() -> Query {
    q::core("persistentvolumes", None)
}
pub fn classes() -> Query {
    q::list("storage.k8s.io", "storageclasses", None, None, None)
}
pub fn events() -> Query {
    q::watched(Watched::Events)
}
pub fn pods() -> Query {
    q::watched(Watched::Pods)
}

/// A quantity (`10Gi`, `500M`, `1T`) in bytes; `None` when unparsable.
pub fn bytes(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let m = match unit {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        _ => return None,
    };
    Some(n * m)
}

/// The default StorageClass, if any.
pub fn default_class(r: &Results) -> Option<&Value> {
    r.objects(&classes()).iter().find(|c| {
        s(
            c,
            "/metadata/annotations/storageclass.kubernetes.io~1is-default-class",
        ) == "true"
            || s(
                c,
                "/metadata/annotations/storageclass.beta.kubernetes.io~1is-default-class",
            ) == "true"
    })
}

/// Claims Pending for longer than `min_age` seconds.
pub fn pending_claims(r: &Results, now: DateTime<Utc>, min_age: i64) -> Vec<&Value> {
    r.objects(&pvcs())
        .iter()
        .filter(|c| s(c, "/status/phase") == "Pending" && age_secs(c, now) > min_age)
        .collect()
}

/// Why a PV cannot bind the claim (`None`: it can).
pub fn pv_mismatch(pv: &Value, claim: &Value, class: &str) -> Option<String> {
    if s(pv, "/status/phase") != "Available" {
        return Some(format!("phase {}", s(pv, "/status/phase")));
    }
    let pv_class = s(pv, "/spec/storageClassName");
    if pv_class != class {
        return Some(format!(
            "storageClassName {:?} (claim wants {:?})",
            pv_class, class
        ));
    }
    let want = bytes(s(claim, "/spec/resources/requests/storage")).unwrap_or(0.0);
    let have = bytes(s(pv, "/spec/capacity/storage")).unwrap_or(0.0);
    if have < want {
        return Some(format!(
            "capacity {} < requested {}",
            s(pv, "/spec/capacity/storage"),
            s(claim, "/spec/resources/requests/storage")
        ));
    }
    let modes: Vec<&str> = arr(pv, "/spec/accessModes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for m in arr(claim, "/spec/accessModes")
        .iter()
        .filter_map(Value::as_str)
    {
        if !modes.contains(&m) {
            return Some(format!("accessModes {modes:?} lack {m}"));
        }
    }
    let vm = |v: &Value, p: &str| match s(v, p) {
        "" => "Filesystem".to_string(),
        x => x.to_string(),
    };
    if vm(pv, "/spec/volumeMode") != vm(claim, "/spec/volumeMode") {
        return Some(format!("volumeMode {}", vm(pv, "/spec/volumeMode")));
    }
    let cref = s(pv, "/spec/claimRef/name");
    if !cref.is_empty()
        && (cref != name(claim) || s(pv, "/spec/claimRef/namespace") != namespace(claim))
    {
        return Some(format!(
            "reserved for {}/{}",
            s(pv, "/spec/claimRef/namespace"),
            cref
        ));
    }
    None
}

/// Pods that mount the claim.
pub fn consumers<'a>(r: &'a Results, claim: &Value) -> Vec<&'a Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| {
            p.metadata.namespace_str() == namespace(claim) && claims(p).any(|c| c == name(claim))
        })
        .collect()
}

/// The claim's events, newest first.
pub fn claim_events<'a>(r: &'a Results, claim: &Value) -> Vec<&'a Event> {
    events_for(
        r.events(),
        "PersistentVolumeClaim",
        Some(namespace(claim)),
        name(claim),
    )
}
