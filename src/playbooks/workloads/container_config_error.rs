//! WL-06 `container-config-error`: containers waiting in `CreateContainerConfigError` because
//! a Secret or ConfigMap (or one of its keys) they reference does not exist. The kubelet's
//! message names the object (`secret "x" not found`, `configmap "x" not found`, `couldn't
//! find key K in Secret ns/x`); the pod spec shows where it is referenced. ConfigMaps are
//! listed to confirm; Secrets are never read, the kubelet's message is the evidence.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    container_statuses, ev, events_all, events_for, name, name_of, ns_of, owner_workload,
    pod_detail, pod_get, pod_ref, pods_all, s, st, waiting_message, waiting_reason, workload_arg,
};
use crate::cluster::lean::{ContainerStatus, Pod};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "container-config-error",
    code: "WL-06",
    title: "Container references a missing Secret or ConfigMap",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["createcontainerconfigerror"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["secret", "not found", "error:"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["couldn't find key"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["configmap", "not found"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

fn configmaps(ns: &str) -> Query {
    q::core("configmaps", Some(ns))
}

fn blocked(p: &Pod) -> Option<(&ContainerStatus, &str)> {
    container_statuses(p)
        .iter()
        .chain(&p.status.init_container_statuses)
        .find(|cs| waiting_reason(cs) == "CreateContainerConfigError")
        .map(|cs| (cs, waiting_message(cs)))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), events_all()];
    let blocked_pods: Vec<&Pod> = r
        .pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| blocked(p).is_some())
        .collect();
    // The first blocked pod in full: where its spec references the missing object.
    if let Some(p) = blocked_pods.first() {
        out.push(pod_get(ns_of(*p), name_of(*p)));
    }
    let mut nss: Vec<&str> = blocked_pods.iter().map(|p| ns_of(*p)).collect();
    nss.sort();
    nss.dedup();
    out.extend(nss.into_iter().take(3).map(configmaps));
    out
}

/// What the message says is missing: (kind, name, key).
fn missing(message: &str) -> Option<(&'static str, String, Option<String>)> {
    let quoted = |after: &str| -> Option<String> {
        let rest = message.split(after).nth(1)?;
        let rest = rest.trim_start().strip_prefix('"')?;
        Some(rest.split('"').next()?.to_string())
    };
    if let Some(rest) = message.split("couldn't find key ").nth(1) {
        let mut it = rest.split_whitespace();
        let key = it.next()?.to_string();
        let _in = it.next();
        let kind = match it.next()? {
            "Secret" => "Secret",
            _ => "ConfigMap",
        };
        let obj = it.next()?.trim_end_matches(['.', ',']);
        let name = obj.rsplit('/').next()?.to_string();
        return Some((kind, name, Some(key)));
    }
    if message.contains("not found") {
        if let Some(n) = quoted("secret") {
            return Some(("Secret", n, None));
        }
        if let Some(n) = quoted("configmap") {
            return Some(("ConfigMap", n, None));
        }
    }
    None
}

/// Where the pod spec (of the pod read in full) references `name` of `kind`: field paths.
fn references(pod: &Value, kind: &str, obj: &str) -> Vec<String> {
    let (ref_key, src_key, vol_key, vol_name) = if kind == "Secret" {
        ("secretKeyRef", "secretRef", "secret", "secretName")
    } else {
        ("configMapKeyRef", "configMapRef", "configMap", "name")
    };
    let mut out = Vec::new();
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let cn = s(c, "/name");
        for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
            if s(e, &format!("/valueFrom/{ref_key}/name")) == obj {
                out.push(format!(
                    "spec.containers[{cn}].env[{}].valueFrom.{ref_key}",
                    s(e, "/name")
                ));
            }
        }
        for e in c
            .get("envFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if s(e, &format!("/{src_key}/name")) == obj {
                out.push(format!("spec.containers[{cn}].envFrom.{src_key}"));
            }
        }
    }
    for v in pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if s(v, &format!("/{vol_key}/{vol_name}")) == obj {
            out.push(format!("spec.volumes[{}].{vol_key}", s(v, "/name")));
        }
    }
    out
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let events = r.events();
    let found: Vec<(&Pod, &ContainerStatus, &str)> = pods
        .iter()
        .filter_map(|p| blocked(p).map(|(cs, m)| (&**p, cs, m)))
        .collect();
    let (pod, cs, message) = *found.first()?;
    let (ns, pod_name, cname) = (ns_of(pod), name_of(pod), cs.name.as_str());
    let pref = pod_ref(ns, pod_name);
    let mut evidence: Vec<Evidence> = vec![ev(
        &pref,
        format!("status.containerStatuses[{cname}].state.waiting"),
        format!("CreateContainerConfigError: {message}"),
    )];
    if let Some(e) = events_for(events, "Pod", ns, pod_name)
        .into_iter()
        .find(|e| st(&e.reason) == "Failed")
    {
        evidence.push(ev(
            format!("Event/{ns}/{}", name_of(e)),
            "Failed",
            st(&e.message),
        ));
    }
    if found.len() > 1 {
        evidence.push(ev(
            "Pod",
            "also blocked",
            found[1..]
                .iter()
                .take(5)
                .map(|(p, _, _)| format!("{}/{}", ns_of(*p), name_of(*p)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let wl = workload_arg(pod);
    let Some((kind, obj, key)) = missing(message) else {
        return Some(Finding {
            severity: FindingSeverity::Critical,
            confidence: 0.6,
            summary: format!("{ns}/{pod_name} ({cname}) cannot be created: {message}"),
            evidence,
            ruled_out: vec![],
            fix: Fix {
                explanation: "The kubelet could not build the container's configuration; the message names what is wrong (a missing object, a bad subPath, a runAsNonRoot image running as root).".into(),
                commands: vec![format!("kubectl describe pod -n {ns} {pod_name}")],
            },
        });
    };
    for f in references(
        pod_detail(r, ns, pod_name).unwrap_or(&Value::Null),
        kind,
        &obj,
    ) {
        evidence.push(ev(&pref, f, format!("{kind} {obj}")));
    }
    let mut ruled_out = Vec::new();
    if kind == "ConfigMap" {
        let cms = r.objects(&configmaps(ns));
        let exists = cms.iter().find(|c| name(c) == obj);
        match (exists, &key) {
            (None, _) => {
                evidence.push(ev(
                    format!("ConfigMap/{ns}/{obj}"),
                    "exists",
                    "no (not in `kubectl get configmaps`)",
                ));
            }
            (Some(cm), Some(k)) => {
                let keys: Vec<&str> = cm
                    .get("data")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                evidence.push(ev(
                    format!("ConfigMap/{ns}/{obj}"),
                    "data keys",
                    keys.join(", "),
                ));
                ruled_out.push(format!(
                    "Not a missing ConfigMap: {obj} exists but has no key {k}."
                ));
            }
            _ => {}
        }
    } else {
        ruled_out.push("ktriage does not read Secrets: the kubelet's message is the evidence that it is missing.".into());
    }
    let of = if owner_workload(pod).is_some() {
        format!(" of {wl}")
    } else {
        String::new()
    };
    let what = match &key {
        Some(k) => format!("key {k} of {kind} {ns}/{obj}"),
        None => format!("{kind} {ns}/{obj}"),
    };
    let create = match (kind, &key) {
        ("Secret", Some(k)) => format!(
            "kubectl -n {ns} create secret generic {obj} --from-literal={k}=<value>   # or add the key to the existing Secret"
        ),
        ("Secret", None) => {
            format!("kubectl -n {ns} create secret generic {obj} --from-literal=<key>=<value>")
        }
        (_, Some(k)) => format!(
            "kubectl -n {ns} patch configmap {obj} --type merge -p '{{\"data\":{{\"{k}\":\"<value>\"}}}}'"
        ),
        _ => format!("kubectl -n {ns} create configmap {obj} --from-literal=<key>=<value>"),
    };
    ruled_out.push("Not an image or runtime problem: the kubelet stops before creating the container because its configuration cannot be assembled.".into());
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: 0.95,
        summary: format!(
            "{ns}/{pod_name} ({cname}{of}) cannot start: it references {what}, which does not exist."
        ),
        evidence,
        ruled_out,
        fix: Fix {
            explanation: format!(
                "Create the {kind} in namespace {ns} (objects are not shared across namespaces; a typo in the name is as good as missing), or fix the reference in {wl}. The kubelet retries on its own: the pod starts once the {kind} exists."
            ),
            commands: vec![
                format!("kubectl -n {ns} get {} {obj}", kind.to_lowercase()),
                create,
                format!("kubectl -n {ns} get pod {pod_name} -w"),
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{set_events, set_pods};
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn pod(message: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": "payments-h-1"},
            "spec": {"containers": [{"name": "payments", "env": [{"name": "STRIPE_KEY", "valueFrom": {"secretKeyRef": {"name": "payments-stripe", "key": "api-key"}}}],
                "envFrom": [{"configMapRef": {"name": "payments-config"}}]}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "payments", "ready": false,
                "state": {"waiting": {"reason": "CreateContainerConfigError", "message": message}}}]}})
    }

    fn results(p: Value, cms: Vec<Value>) -> Results {
        let mut r = Results::default();
        set_pods(&mut r, std::slice::from_ref(&p));
        set_events(&mut r, &[]);
        // The second round: the blocked pod in full.
        let full = pod_get(s(&p, "/metadata/namespace"), s(&p, "/metadata/name"));
        r.by_query.insert(full, Outcome::Objects(vec![p]));
        r.by_query.insert(configmaps("shop"), Outcome::Objects(cms));
        r
    }

    #[test]
    fn a_missing_secret_is_named_with_where_it_is_referenced() {
        let f = diagnose(
            &results(pod("secret \"payments-stripe\" not found"), vec![]),
            Utc::now(),
        )
        .unwrap();
        assert!(
            f.summary.contains("Secret shop/payments-stripe"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field
                    == "spec.containers[payments].env[STRIPE_KEY].valueFrom.secretKeyRef")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("kubectl -n shop create secret generic payments-stripe"))
        );
    }

    #[test]
    fn a_missing_key_of_an_existing_configmap_lists_its_keys() {
        let cm = json!({"kind": "ConfigMap", "metadata": {"namespace": "shop", "name": "payments-config"}, "data": {"MODE": "live"}});
        let f = diagnose(
            &results(
                pod("couldn't find key CURRENCY in ConfigMap shop/payments-config"),
                vec![cm],
            ),
            Utc::now(),
        )
        .unwrap();
        assert!(
            f.summary
                .contains("key CURRENCY of ConfigMap shop/payments-config"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field == "data keys" && e.value == "MODE")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("patch configmap payments-config"))
        );
    }

    #[test]
    fn running_pods_are_not_blocked() {
        let mut p = pod("");
        p["status"]["containerStatuses"][0]["state"] = json!({"running": {}});
        assert!(diagnose(&results(p, vec![]), Utc::now()).is_none());
        assert_eq!(
            missing("configmap \"app\" not found"),
            Some(("ConfigMap", "app".into(), None))
        );
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Error: couldn't find key api-key in Secret shop/payments-stripe",
        );
        assert_eq!(r.first().map(|x| x.0.id), Some("container-config-error"));
    }
}
