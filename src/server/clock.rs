//! Time moves on in a served cluster: a scenario or snapshot is shifted to the present once,
//! and from then on the holders that were alive at capture keep renewing their Leases and
//! the kubelets that were posting keep heartbeating (their node conditions'
//! `lastHeartbeatTime`), so a healthy cluster stays healthy; what was already dead stays
//! stale. Applies to every served cluster (`serve`, `demo`, training), read-only or not: the
//! server writes its own store and watches see MODIFIED events.
//!
//! What the scenario's timeline already renews (or stops renewing on purpose) is left to
//! the timeline. The rest is judged at start:
//! - a Lease is alive when it has a holder and was renewed within 1.5 renewal periods
//!   (+2 s) of the capture ([`ktriage_scenarios::lease_renew_secs`]: 2 s for 15 s leader
//!   leases, 10 s for node leases), so node-notready-demo's stopped kubelet (25 s) stays dead;
//! - a Node's kubelet is alive when its Ready condition is not `Unknown` and its node Lease
//!   is alive (or renewed forever by the timeline), or, without a Lease, when its heartbeat
//!   is younger than the report period plus the 40 s grace.
//!
//! One timer (a tick a second) renews whatever is due in one batch under one lock, so 5,000
//! nodes cost a few hundred store updates a second at most.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Shared;
use super::store::Store;
use super::timeline::micro_time;
use ktriage_api::select::{FieldSelector, LabelSelector};
use ktriage_scenarios::{Change, NODE_STATUS_REPORT_SECS, TimelineStep, lease_renew_secs};

/// Grace the node lifecycle controller gives a silent kubelet before NotReady.
const NODE_GRACE_SECS: i64 = 40;

/// What a beat renews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `spec.renewTime` of a Lease.
    LeaseRenew,
    /// `lastHeartbeatTime` of every kubelet-owned condition of a Node.
    NodeHeartbeat,
}

/// One object renewed periodically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beat {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub field: Field,
    pub period: Duration,
    /// Offset from the start of the first renewal, keeping the phase of the captured value.
    pub first: Duration,
}

/// An object by kind, namespace and name.
type Target = (String, String, String);

/// The timeline's targets: renewed or scripted there, so left alone here. The second set
/// holds the targets the timeline renews forever (no end).
fn scripted(timeline: &[TimelineStep]) -> (HashSet<Target>, HashSet<Target>) {
    let mut any = HashSet::new();
    let mut forever = HashSet::new();
    for step in timeline {
        let target = match &step.change {
            Change::Set { target, .. }
            | Change::Increment { target, .. }
            | Change::Now { target, .. }
            | Change::Merge { target, .. }
            | Change::Delete { target } => target,
            Change::Create { .. } => continue,
        };
        let key = (
            target.kind.clone(),
            target.namespace.clone().unwrap_or_default(),
            target.name.clone(),
        );
        if step.every.is_some() && step.until.is_none() {
            forever.insert(key.clone());
        }
        any.insert(key);
    }
    (any, forever)
}

fn parse(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn all(store: &Store, kind: &str) -> Vec<super::store::Stored> {
    store
        .resource_of_kind(kind)
        .and_then(|res| {
            store
                .list(
                    res,
                    None,
                    &LabelSelector::default(),
                    &FieldSelector::default(),
                    None,
                    None,
                )
                .ok()
        })
        .map(|p| p.items)
        .unwrap_or_default()
}

/// The first renewal keeps the captured value's phase: renewed `age` ago every `period`,
/// next due at `period - age mod period`.
fn phase(age_ms: i64, period: Duration) -> Duration {
    let p = period.as_millis().max(1) as i64;
    Duration::from_millis((p - age_ms.rem_euclid(p)).max(1) as u64)
}

/// The beats of a store whose clock reads `now`, leaving out what `timeline` handles.
pub fn plan(store: &Store, timeline: &[TimelineStep], now: DateTime<Utc>) -> Vec<Beat> {
    let (scripted, forever) = scripted(timeline);
    let key =
        |kind: &str, ns: &str, name: &str| (kind.to_string(), ns.to_string(), name.to_string());
    let mut beats = Vec::new();
    // Node leases alive (renewed here or forever by the timeline), by node name.
    let mut live_node_leases = HashSet::new();
    let mut node_leases = HashSet::new();
    for lease in all(store, "Lease") {
        let ns = lease
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = lease
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let node_lease = ns == "kube-node-lease";
        if node_lease {
            node_leases.insert(name.to_string());
        }
        let k = key("Lease", ns, name);
        if forever.contains(&k) {
            if node_lease {
                live_node_leases.insert(name.to_string());
            }
            continue;
        }
        if scripted.contains(&k) {
            continue;
        }
        let holder = lease
            .pointer("/spec/holderIdentity")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(renewed) = parse(lease.pointer("/spec/renewTime").and_then(Value::as_str)) else {
            continue;
        };
        let period = Duration::from_secs(lease_renew_secs(
            lease
                .pointer("/spec/leaseDurationSeconds")
                .and_then(Value::as_i64),
        ));
        let age_ms = (now - renewed).num_milliseconds();
        let alive = !holder.is_empty() && age_ms <= period.as_millis() as i64 * 3 / 2 + 2_000;
        if !alive {
            continue;
        }
        if node_lease {
            live_node_leases.insert(name.to_string());
        }
        beats.push(Beat {
            kind: "Lease",
            namespace: ns.to_string(),
            name: name.to_string(),
            field: Field::LeaseRenew,
            period,
            first: phase(age_ms, period),
        });
    }
    let report = Duration::from_secs(NODE_STATUS_REPORT_SECS);
    for node in all(store, "Node") {
        let name = node
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if scripted.contains(&key("Node", "", name)) {
            continue;
        }
        let ready = node
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
        let Some(ready) = ready else {
            continue;
        };
        let Some(heartbeat) = parse(ready["lastHeartbeatTime"].as_str()) else {
            continue;
        };
        let age_ms = (now - heartbeat).num_milliseconds();
        let posting = ready["status"] != "Unknown";
        let alive = posting
            && if node_leases.contains(name) {
                live_node_leases.contains(name)
            } else {
                age_ms <= (NODE_STATUS_REPORT_SECS as i64 + NODE_GRACE_SECS) * 1000
            };
        if alive {
            beats.push(Beat {
                kind: "Node",
                namespace: String::new(),
                name: name.to_string(),
                field: Field::NodeHeartbeat,
                period: report,
                first: phase(age_ms, report),
            });
        }
    }
    beats
}

/// Renews one object now; false when it is gone.
fn renew(store: &mut Store, beat: &Beat, now: DateTime<Utc>) -> bool {
    let Some(res) = store.resource_of_kind(beat.kind) else {
        return false;
    };
    let Some(obj) = store.get(res, &beat.namespace, &beat.name) else {
        return false;
    };
    let mut obj = (*obj).clone();
    match beat.field {
        Field::LeaseRenew => obj["spec"]["renewTime"] = json!(micro_time(now)),
        Field::NodeHeartbeat => {
            let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
            if let Some(cs) = obj
                .pointer_mut("/status/conditions")
                .and_then(Value::as_array_mut)
            {
                // NetworkUnavailable is the CNI's, not the kubelet's.
                for c in cs.iter_mut().filter(|c| c["type"] != "NetworkUnavailable") {
                    c["lastHeartbeatTime"] = json!(at);
                }
            }
        }
    }
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    store.upsert(obj).is_some()
}

/// Renews the beats until shutdown: one tick a second, what is due renewed in one batch.
pub(crate) async fn run(shared: Arc<Shared>, beats: Vec<Beat>, start: Instant) {
    let mut due: Vec<(Instant, Beat)> = beats.into_iter().map(|b| (start + b.first, b)).collect();
    let mut shutdown = shared.shutdown.clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = Instant::now();
        if !due.iter().any(|(at, _)| *at <= now) {
            continue;
        }
        let wall = Utc::now();
        let mut store = shared.lock_store();
        due.retain_mut(|(at, beat)| {
            if *at > now {
                return true;
            }
            // Keep the cadence; after a stall, renew once and go on from now.
            *at += beat.period;
            if *at <= now {
                *at = now + beat.period;
            }
            renew(&mut store, beat, wall)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktriage_scenarios::ObjRef;

    fn lease(ns: &str, name: &str, duration: i64, age_ms: i64, now: DateTime<Utc>) -> Value {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"holderIdentity": name, "leaseDurationSeconds": duration,
                        "renewTime": micro_time(now - chrono::Duration::milliseconds(age_ms))}})
    }

    fn node(name: &str, status: &str, age_s: i64, now: DateTime<Utc>) -> Value {
        let t = (now - chrono::Duration::seconds(age_s)).to_rfc3339_opts(SecondsFormat::Secs, true);
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
               "status": {"conditions": [{"type": "Ready", "status": status, "lastHeartbeatTime": t},
                                         {"type": "NetworkUnavailable", "status": "False", "lastHeartbeatTime": t}]}})
    }

    #[test]
    fn live_holders_renew_and_dead_ones_stay_stale() {
        let now = Utc::now();
        let mut store = Store::new();
        store.load([
            lease("kube-node-lease", "worker-1", 40, 4_000, now),
            lease("kube-node-lease", "worker-2", 40, 25_000, now),
            lease("kube-node-lease", "worker-3", 40, 1_000, now),
            lease("kube-system", "kube-scheduler", 15, 1_500, now),
            lease("kube-system", "kube-controller-manager", 15, 28_000, now),
            node("worker-1", "True", 120, now),
            node("worker-2", "True", 30, now),
            node("worker-3", "True", 100, now),
            node("worker-4", "Unknown", 10, now),
            node("worker-5", "False", 60, now),
        ]);
        // The timeline already renews worker-3's lease forever.
        let timeline = vec![TimelineStep {
            at: Duration::from_secs(1),
            every: Some(Duration::from_secs(10)),
            until: None,
            change: Change::Now {
                target: ObjRef::new("Lease", Some("kube-node-lease"), "worker-3"),
                path: "/spec/renewTime".into(),
            },
        }];
        let beats = plan(&store, &timeline, now);
        let names: Vec<(&str, &str)> = beats.iter().map(|b| (b.kind, b.name.as_str())).collect();
        assert_eq!(
            names,
            [
                ("Lease", "worker-1"),
                ("Lease", "kube-scheduler"),
                ("Node", "worker-1"),
                ("Node", "worker-3"),
                ("Node", "worker-5"),
            ]
        );
        let scheduler = &beats[1];
        assert_eq!(scheduler.period, Duration::from_secs(2));
        assert_eq!(scheduler.first, Duration::from_millis(500));
        assert_eq!(beats[0].first, Duration::from_secs(6));
        // Heartbeats are whole seconds: the phase is within a second of 3 minutes.
        assert!(beats[2].first.abs_diff(Duration::from_secs(180)) <= Duration::from_secs(1));

        let later = now + chrono::Duration::seconds(7);
        assert!(renew(&mut store, &beats[2], later));
        let res = store.resource_of_kind("Node").unwrap();
        let n = store.get(res, "", "worker-1").unwrap();
        let conds = n["status"]["conditions"].as_array().unwrap();
        assert_eq!(
            conds[0]["lastHeartbeatTime"],
            json!(later.to_rfc3339_opts(SecondsFormat::Secs, true))
        );
        assert_ne!(conds[1]["lastHeartbeatTime"], conds[0]["lastHeartbeatTime"]);
    }
}
