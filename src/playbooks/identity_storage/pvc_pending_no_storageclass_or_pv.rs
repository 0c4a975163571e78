//! ST-01 `pvc-pending-no-storageclass-or-pv`: a claim stays Pending with `no persistent
//! volumes available for this claim and no storage class is set`: it names no StorageClass,
//! the cluster has no default one, and no Available PersistentVolume matches it.

use chrono::{DateTime, Utc};

use super::common::{
    MetaExt, age_secs, ev, event_ref, event_text, events_for, human, name, namespace, s,
};
use super::storage::{
    claim_events, classes, consumers, default_class, events, pending_claims, pods, pv_mismatch,
    pvcs, pvs,
};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "pvc-pending-no-storageclass-or-pv",
    code: "ST-01",
    title: "PVC Pending: no StorageClass and no matching PersistentVolume",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["no persistent volumes available for this claim"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["no storage class is set"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["unbound immediate persistentvolumeclaims"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["pvc", "pending"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

fn queries(_r: &Results) -> Vec<Query> {
    vec![pvcs(), pvs(), classes(), events(), pods()]
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let default = default_class(r);
    let mut hits = Vec::new();
    for claim in pending_claims(r, now, 60) {
        let class = claim
            .pointer("/spec/storageClassName")
            .and_then(|v| v.as_str());
        // A named class belongs to ST-02; an unset one gets the default class when there is one.
        match class {
            Some(c) if !c.is_empty() => continue,
            None if default.is_some() => continue,
            _ => {}
        }
        let near: Vec<String> = r
            .objects(&pvs())
            .iter()
            .filter_map(|pv| pv_mismatch(pv, claim, "").map(|why| format!("{}: {why}", name(pv))))
            .collect();
        let matching = r
            .objects(&pvs())
            .iter()
            .any(|pv| pv_mismatch(pv, claim, "").is_none());
        if matching {
            continue;
        }
        hits.push((claim, class.is_some(), near));
    }
    if hits.is_empty() {
        return None;
    }
    let mut evidence = Vec::new();
    let mut any_event = false;
    let mut blocked = Vec::new();
    for (claim, explicit_empty, near) in &hits {
        let obj = format!("PersistentVolumeClaim/{}/{}", namespace(claim), name(claim));
        evidence.push(ev(
            obj.clone(),
            "spec.storageClassName",
            if *explicit_empty {
                "\"\" (static binding only)".to_string()
            } else {
                format!("unset; Pending for {}", human(age_secs(claim, now)))
            },
        ));
        evidence.push(ev(
            obj.clone(),
            "spec.resources.requests.storage / accessModes",
            format!(
                "{} {}",
                s(claim, "/spec/resources/requests/storage"),
                claim
                    .pointer("/spec/accessModes")
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            ),
        ));
        if let Some(e) = claim_events(r, claim).into_iter().find(|e| {
            e.message
                .as_deref()
                .is_some_and(|m| m.contains("no persistent volumes available"))
        }) {
            evidence.push(ev(event_ref(e), format!("{obj} event"), event_text(e)));
            any_event = true;
        }
        if !near.is_empty() {
            evidence.push(ev(
                "PersistentVolumes",
                "status.phase / spec",
                format!("none binds: {}", near.join("; ")),
            ));
        }
        for p in consumers(r, claim) {
            if p.status.phase.as_deref() == Some("Pending") {
                let (pns, pname) = (p.metadata.namespace_str(), p.metadata.name_str());
                blocked.push(format!("{pns}/{pname}"));
                if let Some(e) = events_for(r.events(), "Pod", Some(pns), pname)
                    .into_iter()
                    .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
                {
                    evidence.push(ev(
                        event_ref(e),
                        format!("Pod/{pns}/{pname} event"),
                        event_text(e),
                    ));
                }
            }
        }
    }
    let class_names: Vec<&str> = r.objects(&classes()).iter().map(name).collect();
    evidence.push(ev(
        "StorageClasses",
        "metadata.annotations[storageclass.kubernetes.io/is-default-class]",
        if class_names.is_empty() {
            "no StorageClass exists".to_string()
        } else {
            format!("none is default ({})", class_names.join(", "))
        },
    ));
    let (claim, _, _) = &hits[0];
    let (ns, n) = (namespace(claim), name(claim));
    let size = s(claim, "/spec/resources/requests/storage").to_string();
    let mode = claim
        .pointer("/spec/accessModes/0")
        .and_then(|v| v.as_str())
        .unwrap_or("ReadWriteOnce")
        .to_string();
    let mut commands = Vec::new();
    if let Some(first) = class_names.first() {
        commands.push(format!("kubectl patch storageclass {first} -p '{{\"metadata\":{{\"annotations\":{{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}}}}'"));
    } else {
        commands.push("# either install a dynamic provisioner and make it the default class (local disks: local-path-provisioner):".into());
        commands.push("kubectl apply -f https://raw.githubusercontent.com/rancher/local-path-provisioner/v0.0.30/deploy/local-path-storage.yaml".into());
        commands.push("kubectl patch storageclass local-path -p '{\"metadata\":{\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}}}'".into());
    }
    commands.push(format!("# or create a PersistentVolume that matches {ns}/{n} (here an NFS export; adjust server and path):"));
    commands.push(format!(
        "kubectl apply -f - <<'EOF'\napiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {ns}-{n}\nspec:\n  capacity:\n    storage: {size}\n  accessModes: [\"{mode}\"]\n  persistentVolumeReclaimPolicy: Retain\n  storageClassName: \"\"\n  claimRef:\n    namespace: {ns}\n    name: {n}\n  nfs:\n    server: nfs.example.internal\n    path: /exports/{ns}/{n}\nEOF"
    ));
    commands.push(format!(
        "kubectl get pvc -n {ns} {n} -w   # Bound within seconds"
    ));
    let summary = format!(
        "PersistentVolumeClaim {ns}/{n}{} is Pending: it sets no StorageClass, the cluster has no default StorageClass (no dynamic provisioning), and no Available PersistentVolume matches it{}.",
        if hits.len() > 1 {
            format!(" (and {} more)", hits.len() - 1)
        } else {
            String::new()
        },
        if blocked.is_empty() {
            String::new()
        } else {
            format!(
                "; pod {} cannot be scheduled until it binds",
                blocked.join(", ")
            )
        }
    );
    Some(Finding {
        severity: if blocked.is_empty() { FindingSeverity::Warning } else { FindingSeverity::Critical },
        confidence: if any_event { 0.95 } else { 0.85 },
        summary,
        evidence,
        ruled_out: vec![
            "Not a missing provisioner for a named class (ST-02): the claim names no class, so no provisioner is ever asked.".into(),
            "Not WaitForFirstConsumer: that only applies through a StorageClass, and there is none here.".into(),
            "Not a scheduling problem of the pod: the scheduler waits for the claim to bind (`unbound immediate PersistentVolumeClaims`).".into(),
        ],
        fix: Fix {
            explanation: "Either give the cluster dynamic provisioning — install a provisioner and mark its StorageClass as default; since Kubernetes 1.28 claims without a class get the new default retroactively — or pre-create a PersistentVolume with at least the requested size and the requested access mode and `storageClassName: \"\"`. A StatefulSet's claim template cannot be edited: fix the cluster side, or delete the Pending claim after changing the template.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::{Outcome, Watched};
    use serde_json::{Value, json};

    fn claim(class: Option<&str>) -> Value {
        let mut c = json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "data-postgres-0", "namespace": "shop", "creationTimestamp": "2026-01-15T09:00:00Z"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}, "status": {"phase": "Pending"}});
        if let Some(cl) = class {
            c["spec"]["storageClassName"] = json!(cl);
        }
        c
    }
    fn results(claims: Vec<Value>, pvs_: Vec<Value>, classes_: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(pvcs(), Outcome::Objects(claims));
        r.by_query.insert(pvs(), Outcome::Objects(pvs_));
        r.by_query.insert(classes(), Outcome::Objects(classes_));
        r.set_watched(Watched::Events, &[json!({"metadata": {"name": "e", "namespace": "shop"}, "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data-postgres-0"}, "reason": "FailedBinding", "message": "no persistent volumes available for this claim and no storage class is set", "count": 180})]);
        r.set_watched(Watched::Pods, &[json!({"metadata": {"name": "postgres-0", "namespace": "shop"}, "spec": {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-postgres-0"}}]}, "status": {"phase": "Pending"}})]);
        r
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }
    fn pv(class: &str, size: &str, mode: &str) -> Value {
        json!({"metadata": {"name": "pv-1"}, "spec": {"storageClassName": class, "capacity": {"storage": size}, "accessModes": [mode]}, "status": {"phase": "Available"}})
    }

    #[test]
    fn claim_without_class_default_or_pv_is_critical_when_a_pod_waits() {
        let r = results(
            vec![claim(None)],
            vec![pv("nfs", "50Gi", "ReadWriteMany")],
            vec![],
        );
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(f.summary.contains("shop/data-postgres-0") && f.summary.contains("postgres-0"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("pv-1: storageClassName"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("storage: 10Gi") && c.contains("name: data-postgres-0"))
        );
    }

    #[test]
    fn default_class_named_class_or_matching_pv_are_not_this() {
        let default = json!({"metadata": {"name": "local-path", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "rancher.io/local-path"});
        assert!(diagnose(&results(vec![claim(None)], vec![], vec![default]), now()).is_none());
        assert!(diagnose(&results(vec![claim(Some("gp3"))], vec![], vec![]), now()).is_none());
        assert!(
            diagnose(
                &results(
                    vec![claim(Some(""))],
                    vec![pv("", "20Gi", "ReadWriteOnce")],
                    vec![]
                ),
                now()
            )
            .is_none()
        );
    }
}
