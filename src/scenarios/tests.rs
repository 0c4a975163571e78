//! Scenario tests: the healthy cluster is complete and self-consistent (references resolve,
//! timestamps are before the epoch, statuses agree with the pods), and every timeline
//! applies cleanly to its snapshot.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::DateTime;
use serde_json::{Value, json};

use super::builder::{ClusterBuilder, Cni, Terminated, epoch, is_namespaced, resolve, resolve_mut};
use super::{Change, SCENARIO_EPOCH, Scenario, TimelineStep, find, ids, registry};

fn healthy() -> Scenario {
    find("healthy").unwrap()
}

fn objs<'a>(s: &'a Scenario, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    s.snapshot.objects.iter().filter(move |o| o["kind"] == kind)
}

fn get<'a>(objects: &'a [Value], kind: &str, ns: Option<&str>, name: &str) -> Option<&'a Value> {
    objects.iter().find(|o| {
        o["kind"] == kind
            && o["metadata"]["name"] == name
            && o["metadata"]["namespace"].as_str() == ns
    })
}

fn parse(s: &str) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap()
}

#[test]
fn healthy_has_the_kubeadm_shape() {
    let s = healthy();
    assert_eq!(objs(&s, "Node").count(), 6);
    let static_pods: Vec<&str> = objs(&s, "Pod")
        .filter(|p| p["metadata"]["labels"]["tier"] == "control-plane")
        .map(name)
        .collect();
    assert_eq!(static_pods.len(), 12, "{static_pods:?}");
    for n in 1..=3 {
        for c in [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
        ] {
            assert!(static_pods.contains(&format!("{c}-cp-{n}").as_str()));
        }
    }
    let leases: Vec<&Value> = objs(&s, "Lease").collect();
    let leader: Vec<&str> = leases
        .iter()
        .filter(|l| l["spec"]["leaseDurationSeconds"] == 15)
        .map(|l| name(l))
        .collect();
    assert_eq!(leader, ["kube-controller-manager", "kube-scheduler"]);
    assert_eq!(
        leases
            .iter()
            .filter(|l| l["metadata"]["namespace"] == "kube-node-lease")
            .count(),
        6
    );
    let identity: Vec<&&Value> = leases
        .iter()
        .filter(|l| l["metadata"]["labels"]["apiserver.kubernetes.io/identity"] == "kube-apiserver")
        .collect();
    assert_eq!(identity.len(), 3);
    assert!(identity.iter().all(|l| name(l).starts_with("apiserver-") && l["spec"]["leaseDurationSeconds"] == 3600));
    for ns in [
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "ingress-nginx",
        "shop",
        "monitoring",
    ] {
        assert!(
            get(&s.snapshot.objects, "Namespace", None, ns).is_some(),
            "namespace {ns}"
        );
    }
    for (kind, ns, n) in [
        ("DaemonSet", "kube-system", "kube-proxy"),
        ("DaemonSet", "kube-system", "calico-node"),
        ("Deployment", "kube-system", "coredns"),
        ("Deployment", "kube-system", "calico-kube-controllers"),
        ("Deployment", "kube-system", "metrics-server"),
        ("Deployment", "ingress-nginx", "ingress-nginx-controller"),
        ("StatefulSet", "monitoring", "prometheus"),
        ("ConfigMap", "kube-system", "kubeadm-config"),
        ("ConfigMap", "kube-system", "coredns"),
        ("ConfigMap", "kube-public", "cluster-info"),
        ("ClusterRoleBinding", "", "kubeadm:cluster-admins"),
        ("ClusterRole", "", "view"),
    ] {
        let ns = (!ns.is_empty()).then_some(ns);
        assert!(
            get(&s.snapshot.objects, kind, ns, n).is_some(),
            "{kind} {ns:?}/{n}"
        );
    }
    let info = s.snapshot.info.as_ref().unwrap();
    assert_eq!(info.captured_at.as_deref(), Some(SCENARIO_EPOCH));
}

#[test]
fn every_object_is_well_formed_and_unique() {
    for s in registry() {
        let mut uids = HashSet::new();
        let mut keys = HashSet::new();
        for o in &s.snapshot.objects {
            let kind = o["kind"].as_str().unwrap_or_else(|| panic!("no kind: {o}"));
            assert!(o["apiVersion"].is_string(), "{kind} without apiVersion");
            let n = o["metadata"]["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{kind} without name"));
            let ns = o["metadata"]["namespace"].as_str();
            assert_eq!(
                ns.is_some(),
                is_namespaced(kind),
                "{kind} {n}: namespace {ns:?}"
            );
            let uid = o["metadata"]["uid"].as_str().unwrap();
            assert_eq!(uid.len(), 36, "{uid}");
            assert!(
                uids.insert(uid.to_string()),
                "{}: duplicate uid {uid} on {kind} {n}",
                s.id
            );
            assert!(
                keys.insert((kind.to_string(), ns.map(str::to_string), n.to_string())),
                "{}: duplicate {kind} {ns:?}/{n}",
                s.id
            );
            assert!(
                o["metadata"]["resourceVersion"].is_string(),
                "{kind} {n} without resourceVersion"
            );
        }
    }
}

#[test]
fn pods_point_at_existing_owners_nodes_and_unique_ips() {
    let s = healthy();
    let objects = &s.snapshot.objects;
    let mut ips = HashSet::new();
    for p in objs(&s, "Pod") {
        let ns = p["metadata"]["namespace"].as_str();
        let node = p["spec"]["nodeName"].as_str().unwrap();
        assert!(
            get(objects, "Node", None, node).is_some(),
            "{} on missing node {node}",
            name(p)
        );
        let owners = p["metadata"]["ownerReferences"]
            .as_array()
            .unwrap_or_else(|| panic!("{} has no owner", name(p)));
        for r in owners {
            let kind = r["kind"].as_str().unwrap();
            let owner_ns = if is_namespaced(kind) { ns } else { None };
            let owner = get(objects, kind, owner_ns, r["name"].as_str().unwrap())
                .unwrap_or_else(|| panic!("{}: owner {r} missing", name(p)));
            assert_eq!(owner["metadata"]["uid"], r["uid"], "{}: owner uid", name(p));
            assert_eq!(owner["apiVersion"], r["apiVersion"]);
        }
        assert_eq!(p["status"]["phase"], "Running", "{}", name(p));
        assert_eq!(p["status"]["conditions"][2]["type"], "Ready");
        assert_eq!(
            p["status"]["conditions"][2]["status"],
            "True",
            "{}",
            name(p)
        );
        if p["spec"]["hostNetwork"] != true {
            let ip = p["status"]["podIP"].as_str().unwrap();
            assert!(ip.starts_with("10.244."), "{ip}");
            assert!(ips.insert(ip.to_string()), "duplicate pod IP {ip}");
        }
    }
}

/// Keys whose string values are timestamps.
fn is_time_key(k: &str) -> bool {
    k.ends_with("Time")
        || k.ends_with("Timestamp")
        || k.ends_with("At")
        || k == "timeAdded"
        || k.ends_with("config.seen")
        || k.ends_with("last-change-trigger-time")
}

fn check_times(v: &Value, path: &str, out: &mut Vec<String>) {
    let limit = epoch();
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}/{k}");
                if let (true, Some(s)) = (is_time_key(k), x.as_str()) {
                    match DateTime::parse_from_rfc3339(s) {
                        Ok(t) if t <= limit => {}
                        Ok(_) => out.push(format!("{p} = {s} is after the epoch")),
                        Err(e) => out.push(format!("{p} = {s}: {e}")),
                    }
                    continue;
                }
                check_times(x, &p, out);
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| check_times(x, &format!("{path}/{i}"), out)),
        _ => {}
    }
}

#[test]
fn every_timestamp_is_rfc3339_and_not_after_the_epoch() {
    for s in registry() {
        let mut bad = Vec::new();
        let mut seen = 0;
        for o in &s.snapshot.objects {
            check_times(o, &format!("{}/{}", o["kind"], name(o)), &mut bad);
            seen += 1;
        }
        assert!(seen > 200, "{} objects", seen);
        assert!(bad.is_empty(), "{}: {bad:#?}", s.id);
    }
}

#[test]
fn workload_statuses_agree_with_their_pods() {
    let s = healthy();
    for d in objs(&s, "Deployment") {
        let want = &d["spec"]["replicas"];
        assert_eq!(&d["status"]["readyReplicas"], want, "{}", name(d));
        assert_eq!(&d["status"]["availableReplicas"], want, "{}", name(d));
        assert_eq!(d["status"]["conditions"][0]["status"], "True");
    }
    for ds in objs(&s, "DaemonSet") {
        assert_eq!(ds["status"]["desiredNumberScheduled"], 6, "{}", name(ds));
        assert_eq!(ds["status"]["numberReady"], 6, "{}", name(ds));
        assert_eq!(ds["status"]["numberAvailable"], 6, "{}", name(ds));
    }
    let coredns: Vec<&Value> = objs(&s, "Pod")
        .filter(|p| p["metadata"]["labels"]["k8s-app"] == "kube-dns")
        .collect();
    assert_eq!(coredns.len(), 2);
    let dns = get(
        &s.snapshot.objects,
        "Endpoints",
        Some("kube-system"),
        "kube-dns",
    )
    .unwrap();
    assert_eq!(dns["subsets"][0]["addresses"].as_array().unwrap().len(), 2);
    let svc = get(
        &s.snapshot.objects,
        "Service",
        Some("kube-system"),
        "kube-dns",
    )
    .unwrap();
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10");
    let k8s = get(
        &s.snapshot.objects,
        "Endpoints",
        Some("default"),
        "kubernetes",
    )
    .unwrap();
    let ips: Vec<&str> = k8s["subsets"][0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ip"].as_str().unwrap())
        .collect();
    assert_eq!(ips, ["10.0.0.11", "10.0.0.12", "10.0.0.13"]);
    assert_eq!(k8s["subsets"][0]["ports"][0]["port"], 6443);
    // Every Service with a selector has its Endpoints and EndpointSlice.
    for svc in objs(&s, "Service").filter(|v| v["spec"]["selector"].is_object()) {
        let ns = svc["metadata"]["namespace"].as_str();
        assert!(
            get(&s.snapshot.objects, "Endpoints", ns, name(svc)).is_some(),
            "{}",
            name(svc)
        );
        assert!(
            objs(&s, "EndpointSlice").any(|e| e["metadata"]["namespace"].as_str() == ns
                && e["metadata"]["labels"]["kubernetes.io/service-name"] == name(svc))
        );
    }
}

#[test]
fn control_plane_is_healthy_with_standbys_logging_their_wait() {
    let s = healthy();
    let at = epoch();
    for component in ["kube-controller-manager", "kube-scheduler"] {
        let l = get(&s.snapshot.objects, "Lease", Some("kube-system"), component).unwrap();
        let renew = DateTime::parse_from_rfc3339(l["spec"]["renewTime"].as_str().unwrap()).unwrap();
        assert!(
            renew + chrono::Duration::seconds(15) > at,
            "{component} lease is stale"
        );
        assert!(
            l["spec"]["renewTime"].as_str().unwrap().len() == "2026-01-15T09:59:58.412345Z".len()
        );
        let holder = l["spec"]["holderIdentity"].as_str().unwrap();
        assert!(holder.starts_with("cp-1_"), "{holder}");
        let leader_log = s
            .snapshot
            .pod_logs
            .iter()
            .find(|p| p.pod == format!("{component}-cp-1"))
            .unwrap();
        assert!(leader_log.text.contains(&format!(
            "successfully acquired lease kube-system/{component}"
        )));
        for standby in ["cp-2", "cp-3"] {
            let log = s
                .snapshot
                .pod_logs
                .iter()
                .find(|p| p.pod == format!("{component}-{standby}"))
                .unwrap();
            assert!(log.text.contains(&format!("leaderelection.go:250] attempting to acquire leader lease kube-system/{component}...")));
            assert!(!log.text.contains("successfully acquired"));
        }
    }
    let etcd3 = get(&s.snapshot.objects, "Pod", Some("kube-system"), "etcd-cp-3").unwrap();
    let cmd: Vec<&str> = etcd3["spec"]["containers"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(cmd.contains(&"--initial-cluster=cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380"));
    assert!(cmd.contains(&"--initial-cluster-state=existing"));
    let api = get(
        &s.snapshot.objects,
        "Pod",
        Some("kube-system"),
        "kube-apiserver-cp-2",
    )
    .unwrap();
    let c0 = &api["spec"]["containers"][0];
    assert!(
        c0["command"]
            .as_array()
            .unwrap()
            .contains(&json!("--advertise-address=10.0.0.12"))
    );
    assert_eq!(
        c0["livenessProbe"]["httpGet"],
        json!({"host": "10.0.0.12", "path": "/livez", "port": 6443, "scheme": "HTTPS"})
    );
    assert_eq!(api["metadata"]["ownerReferences"][0]["kind"], "Node");
    assert!(api["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_string());
    let readyz = s
        .snapshot
        .responses
        .iter()
        .find(|r| r.path == "/readyz?verbose")
        .unwrap();
    assert_eq!(readyz.code, 200);
    assert!(readyz.body.contains("[+]etcd ok\n") && readyz.body.ends_with("readyz check passed\n"));
    assert_eq!(
        s.snapshot
            .responses
            .iter()
            .filter(|r| r.path.ends_with("/proxy/healthz") && r.body == "ok")
            .count(),
        6
    );
}

#[test]
fn restarts_in_healthy_are_old_and_few() {
    let s = healthy();
    let mut restarted = Vec::new();
    for p in objs(&s, "Pod") {
        for c in p["status"]["containerStatuses"].as_array().unwrap() {
            let n = c["restartCount"].as_i64().unwrap();
            if n > 0 {
                let finished = parse(c["lastState"]["terminated"]["finishedAt"].as_str().unwrap());
                assert!(
                    epoch() - finished > chrono::Duration::days(5),
                    "{} restarted recently",
                    name(p)
                );
                restarted.push(name(p).to_string());
            }
        }
    }
    assert_eq!(restarted.len(), 2, "{restarted:?}");
    // The restarted cart pod keeps its previous instance's log.
    assert!(
        s.snapshot
            .pod_logs
            .iter()
            .any(|l| l.previous && l.pod.starts_with("cart-"))
    );
}

#[test]
fn rbac_rules_are_valid_and_bindings_resolve() {
    let s = healthy();
    let objects = &s.snapshot.objects;
    for r in objs(&s, "ClusterRole").chain(objs(&s, "Role")) {
        for rule in r["rules"].as_array().unwrap() {
            assert!(!rule["verbs"].as_array().unwrap().is_empty(), "{}", name(r));
            let resource = rule["apiGroups"].is_array() && rule["resources"].is_array();
            let url = rule["nonResourceURLs"].is_array();
            assert!(resource != url, "{}: {rule}", name(r));
            assert!(!(url && r["kind"] == "Role"), "non-resource URLs in a Role");
        }
    }
    for b in objs(&s, "ClusterRoleBinding").chain(objs(&s, "RoleBinding")) {
        let kind = b["roleRef"]["kind"].as_str().unwrap();
        let ns = if kind == "Role" {
            b["metadata"]["namespace"].as_str()
        } else {
            None
        };
        assert!(
            get(objects, kind, ns, b["roleRef"]["name"].as_str().unwrap()).is_some(),
            "{} -> {}",
            name(b),
            b["roleRef"]
        );
    }
    let view = get(objects, "ClusterRole", None, "view")
        .unwrap()
        .to_string();
    assert!(
        !view.contains("\"secrets\"") && !view.contains("\"nodes\",") && view.contains("\"pods\"")
    );
    let admins = get(objects, "ClusterRoleBinding", None, "cluster-admin").unwrap();
    assert_eq!(admins["subjects"][0]["name"], "system:masters");
}

#[test]
fn logs_belong_to_existing_containers() {
    let s = healthy();
    for l in &s.snapshot.pod_logs {
        let p = get(&s.snapshot.objects, "Pod", Some(&l.namespace), &l.pod)
            .unwrap_or_else(|| panic!("log of missing pod {}", l.pod));
        let c = l.container.as_deref().unwrap();
        assert!(
            p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == c),
            "{}/{c}",
            l.pod
        );
        assert!(!l.text.is_empty());
    }
    for p in objs(&s, "Pod").filter(|p| p["metadata"]["namespace"] == "kube-system") {
        assert!(
            s.snapshot.pod_logs.iter().any(|l| l.pod == name(p)),
            "no log for {}",
            name(p)
        );
    }
    let dns = s
        .snapshot
        .pod_logs
        .iter()
        .find(|l| l.pod.starts_with("coredns-"))
        .unwrap();
    assert!(
        dns.text
            .starts_with(".:53\n[INFO] plugin/reload: Running configuration SHA512 = ")
    );
    let etcd = s
        .snapshot
        .pod_logs
        .iter()
        .find(|l| l.pod == "etcd-cp-1")
        .unwrap();
    for line in etcd.text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["ts"].is_string() && v["msg"].is_string());
    }
}

#[test]
fn events_are_recent_and_name_their_objects() {
    let s = healthy();
    let events: Vec<&Value> = objs(&s, "Event").collect();
    assert!(events.len() > 20, "{}", events.len());
    for e in &events {
        let last = parse(e["lastTimestamp"].as_str().unwrap());
        assert!(
            epoch() - last < chrono::Duration::hours(1),
            "{} older than the event TTL",
            name(e)
        );
        assert!(e["involvedObject"]["uid"].is_string() && e["source"]["component"].is_string());
    }
    let reasons: HashSet<&str> = events
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    for r in [
        "Scheduled",
        "Pulled",
        "Created",
        "Started",
        "RegisteredNode",
        "NodeReady",
        "ScalingReplicaSet",
        "Killing",
    ] {
        assert!(reasons.contains(r), "no {r} event");
    }
}

// ---- Timeline simulation ----

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

fn set_at(obj: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, last) = path.rsplit_once('/').ok_or(format!("bad path {path}"))?;
    let parent_val = resolve_mut(obj, parent).ok_or(format!("missing parent of {path}"))?;
    if let Some(sel) = last.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        let (f, v) = sel.split_once('=').ok_or("bad selector")?;
        let slot = parent_val
            .as_array_mut()
            .and_then(|a| a.iter_mut().find(|e| e[f] == v))
            .ok_or(format!("no element {sel} in {path}"))?;
        *slot = value;
    } else if let Some(a) = parent_val.as_array_mut() {
        let i: usize = last.parse().map_err(|_| format!("bad index in {path}"))?;
        *a.get_mut(i)
            .ok_or(format!("index out of range in {path}"))? = value;
    } else {
        parent_val
            .as_object_mut()
            .ok_or(format!("parent of {path} is not an object"))?
            .insert(last.to_string(), value);
    }
    Ok(())
}

/// Applies every firing up to `until` in time order; errors name the step that did not apply.
fn simulate(s: &Scenario, until: Duration) -> Result<Vec<Value>, String> {
    let mut objects = s.snapshot.objects.clone();
    let mut firings: Vec<(Duration, usize)> = Vec::new();
    for (i, step) in s.timeline.iter().enumerate() {
        let mut t = step.at;
        while t <= until && step.until.is_none_or(|u| t <= u) {
            firings.push((t, i));
            match step.every {
                Some(e) if !e.is_zero() => t += e,
                _ => break,
            }
        }
    }
    firings.sort();
    for (t, i) in firings {
        // MicroTime for lease fields, seconds elsewhere, as the API server serialises them.
        let at = epoch() + chrono::Duration::from_std(t).unwrap();
        let micro = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let secs = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let step: &TimelineStep = &s.timeline[i];
        let find = |objects: &mut Vec<Value>, r: &super::ObjRef| -> Result<usize, String> {
            objects
                .iter()
                .position(|o| {
                    o["kind"] == r.kind.as_str()
                        && o["metadata"]["name"] == r.name.as_str()
                        && o["metadata"]["namespace"].as_str() == r.namespace.as_deref()
                })
                .ok_or(format!("step {i}: target {r:?} missing"))
        };
        match &step.change {
            Change::Set {
                target,
                path,
                value,
            } => {
                let k = find(&mut objects, target)?;
                set_at(&mut objects[k], path, value.clone())
                    .map_err(|e| format!("step {i}: {e}"))?;
            }
            Change::Now { target, path } => {
                let k = find(&mut objects, target)?;
                let old = resolve(&objects[k], path);
                if !old.is_some_and(Value::is_string) && !path.ends_with("timeAdded") {
                    return Err(format!(
                        "step {i}: Now on {path}, which is not a timestamp already"
                    ));
                }
                set_at(
                    &mut objects[k],
                    path,
                    json!(
                        if path.ends_with("renewTime") || path.ends_with("acquireTime") {
                            &micro
                        } else {
                            &secs
                        }
                    ),
                )
                .map_err(|e| format!("step {i}: {e}"))?;
            }
            Change::Increment { target, path, by } => {
                let k = find(&mut objects, target)?;
                let v = resolve_mut(&mut objects[k], path)
                    .ok_or(format!("step {i}: {path} missing"))?;
                *v = json!(
                    v.as_i64()
                        .ok_or(format!("step {i}: {path} not an integer"))?
                        + by
                );
            }
            Change::Merge { target, patch } => {
                let k = find(&mut objects, target)?;
                merge(&mut objects[k], patch);
            }
            Change::Create { object } => objects.push(object.clone()),
            Change::Delete { target } => {
                let k = find(&mut objects, target)?;
                objects.remove(k);
            }
        }
    }
    Ok(objects)
}

#[test]
fn every_timeline_applies_cleanly() {
    for s in registry() {
        assert!(!s.timeline.is_empty(), "{}", s.id);
        simulate(&s, Duration::from_secs(700)).unwrap_or_else(|e| panic!("{}: {e}", s.id));
    }
}

#[test]
fn healthy_timeline_keeps_every_lease_renewing() {
    let s = healthy();
    let mut periods: HashMap<String, Duration> = HashMap::new();
    for step in &s.timeline {
        if let Change::Now { target, path } = &step.change
            && target.kind == "Lease"
        {
            assert_eq!(path, "/spec/renewTime");
            assert!(step.at <= step.every.unwrap() && step.until.is_none());
            periods.insert(target.name.clone(), step.every.unwrap());
        }
    }
    assert_eq!(periods.len(), 12, "{periods:?}");
    assert_eq!(periods["ingress-nginx-leader"], Duration::from_secs(5));
    assert_eq!(periods["kube-scheduler"], Duration::from_secs(2));
    assert_eq!(periods["worker-1"], Duration::from_secs(10));
    // After 30 s every lease is fresher than its duration, judged at the new clock.
    let after = simulate(&s, Duration::from_secs(30)).unwrap();
    let now = epoch() + chrono::Duration::seconds(30);
    for l in after.iter().filter(|o| o["kind"] == "Lease") {
        let renew = parse(l["spec"]["renewTime"].as_str().unwrap());
        let dur = l["spec"]["leaseDurationSeconds"].as_i64().unwrap();
        assert!(
            now - renew < chrono::Duration::seconds(dur.min(15)),
            "{} stale at +30s",
            name(l)
        );
    }
}

#[test]
fn node_notready_demo_turns_worker_2_not_ready() {
    let s = find("node-notready-demo").unwrap();
    let before = simulate(&s, Duration::from_secs(19)).unwrap();
    let ready = |objects: &[Value]| {
        resolve(
            get(objects, "Node", None, "worker-2").unwrap(),
            "/status/conditions/[type=Ready]/status",
        )
        .cloned()
    };
    assert_eq!(ready(&before), Some(json!("True")));
    let after = simulate(&s, Duration::from_secs(46)).unwrap();
    assert_eq!(ready(&after), Some(json!("Unknown")));
    let node = get(&after, "Node", None, "worker-2").unwrap();
    assert_eq!(
        resolve(node, "/status/conditions/[type=Ready]/message"),
        Some(&json!("Kubelet stopped posting node status."))
    );
    assert!(resolve(node, "/spec/taints/[effect=NoExecute]/timeAdded").is_some());
    let lease0 = get(
        &s.snapshot.objects,
        "Lease",
        Some("kube-node-lease"),
        "worker-2",
    )
    .unwrap();
    let lease = get(&after, "Lease", Some("kube-node-lease"), "worker-2").unwrap();
    assert_eq!(
        lease["spec"]["renewTime"], lease0["spec"]["renewTime"],
        "worker-2's lease must not renew"
    );
    let other0 = get(
        &s.snapshot.objects,
        "Lease",
        Some("kube-node-lease"),
        "worker-1",
    )
    .unwrap();
    let other = get(&after, "Lease", Some("kube-node-lease"), "worker-1").unwrap();
    assert_ne!(other["spec"]["renewTime"], other0["spec"]["renewTime"]);
    // The checkout pod restarted once before the epoch and at +15, +30, +45.
    let pod = after
        .iter()
        .find(|p| p["kind"] == "Pod" && p["status"]["containerStatuses"][0]["restartCount"] == 4)
        .map(name);
    assert!(pod.is_some_and(|n| n.starts_with("checkout-")), "{pod:?}");
    assert!(
        after
            .iter()
            .any(|e| e["kind"] == "Event" && e["reason"] == "NodeNotReady")
    );
    round_trip::<k8s_openapi::api::core::v1::Node>(node).unwrap();
    let proxy = get(&after, "DaemonSet", Some("kube-system"), "kube-proxy").unwrap();
    assert_eq!(
        (
            proxy["status"]["numberReady"].as_i64(),
            proxy["status"]["numberUnavailable"].as_i64()
        ),
        (Some(5), Some(1))
    );
    let on_node: Vec<&Value> = after
        .iter()
        .filter(|p| p["kind"] == "Pod" && p["spec"]["nodeName"] == "worker-2")
        .collect();
    assert!(!on_node.is_empty());
    for p in on_node {
        assert_eq!(
            resolve(p, "/status/conditions/[type=Ready]/status"),
            Some(&json!("False")),
            "{}",
            name(p)
        );
    }
}

#[test]
fn registry_ids_match() {
    let all = registry();
    let got: Vec<&str> = all.iter().map(|s| s.id).collect();
    assert_eq!(got, ids());
    assert_eq!(got[0], "healthy");
    assert!(find("no-such-scenario").is_none());
}

#[test]
fn builder_options_change_the_cluster() {
    let c = ClusterBuilder::kubeadm()
        .cni(Cni::Flannel)
        .control_planes(1)
        .workers(2)
        .apps(false)
        .build();
    assert_eq!(c.nodes.len(), 3);
    assert!(
        c.find("DaemonSet", Some("kube-flannel"), "kube-flannel-ds")
            .is_some()
    );
    assert!(
        c.find("DaemonSet", Some("kube-system"), "calico-node")
            .is_none()
    );
    assert_eq!(c.pods_named("kube-flannel", "kube-flannel-ds-").len(), 3);
    assert!(c.find("Namespace", None, "shop").is_none());
    let etcd = c.find("Pod", Some("kube-system"), "etcd-cp-1").unwrap();
    assert!(
        etcd["spec"]["containers"][0]["command"]
            .as_array()
            .unwrap()
            .contains(&json!("--initial-cluster=cp-1=https://10.0.0.11:2380"))
    );

    let none = ClusterBuilder::kubeadm().cni(Cni::None).build();
    for n in none.of_kind("Node", None) {
        assert_eq!(
            resolve(n, "/status/conditions/[type=Ready]/status"),
            Some(&json!("False"))
        );
        let msg = resolve(n, "/status/conditions/[type=Ready]/message")
            .unwrap()
            .as_str()
            .unwrap();
        assert!(msg.contains("cni plugin not initialized"));
    }
    let dns: Vec<&Value> = none
        .of_kind("Pod", Some("kube-system"))
        .filter(|p| p["metadata"]["labels"]["k8s-app"] == "kube-dns")
        .collect();
    assert!(
        dns.iter()
            .all(|p| p["status"]["phase"] == "Pending" && p["status"].get("podIP").is_none())
    );
    // The not-ready taint keeps them unscheduled; host-network DaemonSet pods still run.
    assert!(dns.iter().all(|p| p["spec"].get("nodeName").is_none()
        && p["status"]["conditions"][0]["reason"] == "Unschedulable"));
    assert!(
        none.of_kind("Pod", Some("kube-system"))
            .filter(|p| p["metadata"]["labels"]["k8s-app"] == "kube-proxy")
            .all(|p| p["status"]["phase"] == "Running")
    );
    assert!(
        none.of_kind("DaemonSet", None)
            .all(|d| d["metadata"]["name"] == "kube-proxy")
    );
    assert!(none.pod_logs.iter().all(|l| !l.pod.starts_with("coredns-")));
    let deploy = none
        .find("Deployment", Some("kube-system"), "coredns")
        .unwrap();
    assert_eq!(deploy["status"]["unavailableReplicas"], 2);
    assert!(deploy["status"].get("readyReplicas").is_none());
}

#[test]
#[ignore = "writes /tmp/healthy.yaml for a human to read"]
fn dump_healthy() {
    let s = healthy();
    let mut out = String::new();
    for o in &s.snapshot.objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(o).unwrap());
    }
    for l in &s.snapshot.pod_logs {
        out.push_str(&format!(
            "--- # log {}/{} {:?} previous={}\n{}",
            l.namespace, l.pod, l.container, l.previous, l.text
        ));
    }
    std::fs::write("/tmp/healthy.yaml", out).unwrap();
}

/// The instant of a klog (`I0115 09:58:01.123456 ...`) or JSON (`"ts":"..."`) log line.
fn line_time(line: &str) -> Option<DateTime<chrono::Utc>> {
    let b = line.as_bytes();
    if b.len() > 21 && b"IWEF".contains(&b[0]) && b[1..5].iter().all(u8::is_ascii_digit) {
        let year = if &line[1..3] == "12" { 2025 } else { 2026 };
        let s = format!("{year}-{}-{}T{}Z", &line[1..3], &line[3..5], &line[6..21]);
        return DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc));
    }
    if b.len() > 23 && b[4] == b'-' && b[10] == b' ' {
        let t = chrono::NaiveDateTime::parse_from_str(&line[..23], "%Y-%m-%d %H:%M:%S%.3f").ok()?;
        return Some(t.and_utc());
    }
    let v: Value = serde_json::from_str(line).ok()?;
    Some(parse(v["ts"].as_str()?))
}

#[test]
fn log_lines_are_in_time_order_and_before_the_epoch() {
    let s = healthy();
    let mut checked = 0;
    for l in &s.snapshot.pod_logs {
        let times: Vec<DateTime<chrono::Utc>> = l.text.lines().filter_map(line_time).collect();
        for w in times.windows(2) {
            assert!(
                w[0] <= w[1],
                "{}/{}: {} after {}",
                l.pod,
                l.container.as_deref().unwrap_or(""),
                w[0],
                w[1]
            );
        }
        if let Some(last) = times.last() {
            assert!(*last <= epoch(), "{}: line after the epoch", l.pod);
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked} logs with timestamps");
    assert!(
        s.snapshot
            .pod_logs
            .iter()
            .filter(|l| l.pod.starts_with("calico-node-"))
            .all(|l| l.text.lines().all(|x| line_time(x).is_some()))
    );
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Decodes into the k8s-openapi type and encodes back: a field of the wrong type fails to
/// decode, a misspelt or misplaced field is dropped and the round trip differs.
fn round_trip<K: serde::de::DeserializeOwned + serde::Serialize>(o: &Value) -> Result<(), String> {
    let typed: K = serde_json::from_value(o.clone()).map_err(|e| e.to_string())?;
    let mut back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let mut want = o.clone();
    strip_nulls(&mut want);
    strip_nulls(&mut back);
    if back == want {
        return Ok(());
    }
    Err(format!(
        "round trip differs:\n{}\n---\n{}",
        serde_json::to_string(&want).unwrap(),
        serde_json::to_string(&back).unwrap()
    ))
}

#[test]
fn every_object_decodes_as_its_kubernetes_type() {
    use k8s_openapi::api::{
        admissionregistration::v1 as adm, apps::v1 as apps, coordination::v1 as coord,
        core::v1 as core, discovery::v1 as disc, networking::v1 as net, rbac::v1 as rbac,
        scheduling::v1 as sched,
    };
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as agg;
    // The check itself catches a misspelt field and a wrongly typed one.
    let typo = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": [], "nodeNme": "a"}});
    assert!(round_trip::<core::Pod>(&typo).is_err());
    let wrong = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "status": {"containerStatuses": [{"restartCount": "1"}]}});
    assert!(round_trip::<core::Pod>(&wrong).is_err());
    let mut failures = Vec::new();
    for s in registry() {
        for o in &s.snapshot.objects {
            let r = match o["kind"].as_str().unwrap() {
                "Namespace" => round_trip::<core::Namespace>(o),
                "Node" => round_trip::<core::Node>(o),
                "Pod" => round_trip::<core::Pod>(o),
                "Service" => round_trip::<core::Service>(o),
                "Endpoints" => round_trip::<core::Endpoints>(o),
                "ConfigMap" => round_trip::<core::ConfigMap>(o),
                "ServiceAccount" => round_trip::<core::ServiceAccount>(o),
                "Event" => round_trip::<core::Event>(o),
                "EndpointSlice" => round_trip::<disc::EndpointSlice>(o),
                "Lease" => round_trip::<coord::Lease>(o),
                "Deployment" => round_trip::<apps::Deployment>(o),
                "ReplicaSet" => round_trip::<apps::ReplicaSet>(o),
                "DaemonSet" => round_trip::<apps::DaemonSet>(o),
                "StatefulSet" => round_trip::<apps::StatefulSet>(o),
                "ClusterRole" => round_trip::<rbac::ClusterRole>(o),
                "ClusterRoleBinding" => round_trip::<rbac::ClusterRoleBinding>(o),
                "Role" => round_trip::<rbac::Role>(o),
                "RoleBinding" => round_trip::<rbac::RoleBinding>(o),
                "PriorityClass" => round_trip::<sched::PriorityClass>(o),
                "IngressClass" => round_trip::<net::IngressClass>(o),
                "Ingress" => round_trip::<net::Ingress>(o),
                "ValidatingWebhookConfiguration" => {
                    round_trip::<adm::ValidatingWebhookConfiguration>(o)
                }
                "APIService" => round_trip::<agg::APIService>(o),
                "CertificateSigningRequest" => {
                    round_trip::<k8s_openapi::api::certificates::v1::CertificateSigningRequest>(o)
                }
                "PersistentVolume" => round_trip::<core::PersistentVolume>(o),
                "PersistentVolumeClaim" => round_trip::<core::PersistentVolumeClaim>(o),
                "ResourceQuota" => round_trip::<core::ResourceQuota>(o),
                "LimitRange" => round_trip::<core::LimitRange>(o),
                "StorageClass" => round_trip::<k8s_openapi::api::storage::v1::StorageClass>(o),
                "CSIDriver" => round_trip::<k8s_openapi::api::storage::v1::CSIDriver>(o),
                "CSINode" => round_trip::<k8s_openapi::api::storage::v1::CSINode>(o),
                "VolumeAttachment" => {
                    round_trip::<k8s_openapi::api::storage::v1::VolumeAttachment>(o)
                }
                "MutatingWebhookConfiguration" => {
                    round_trip::<adm::MutatingWebhookConfiguration>(o)
                }
                other => Err(format!("no type for kind {other}")),
            };
            if let Err(e) = r {
                failures.push(format!("{} {}/{}: {e}", s.id, o["kind"], name(o)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn fault_helpers_break_the_cluster_like_real_failures() {
    let mut c = ClusterBuilder::kubeadm().build();
    let pod = c.pods_named("kube-system", "coredns-")[0].clone();
    assert!(c.crash_loop(
        "kube-system",
        &pod,
        "coredns",
        7,
        Terminated {
            reason: "Error".into(),
            exit_code: 1,
            started_ago: 44,
            finished_ago: 40
        }
    ));
    assert!(!c.crash_loop(
        "kube-system",
        "no-such-pod",
        "coredns",
        1,
        Terminated {
            reason: "Error".into(),
            exit_code: 1,
            started_ago: 44,
            finished_ago: 40
        }
    ));
    assert!(c.stale_lease("kube-system", "kube-scheduler", 95));
    assert!(c.set_node_condition(
        "worker-1",
        "MemoryPressure",
        "True",
        "KubeletHasInsufficientMemory",
        "kubelet has insufficient memory available",
        120
    ));
    c.fail_health_checks(&["etcd", "etcd-readiness"]);
    let p = c.find("Pod", Some("kube-system"), &pod).unwrap().clone();
    let st = &p["status"]["containerStatuses"][0];
    assert_eq!(st["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert!(
        st["state"]["waiting"]["message"]
            .as_str()
            .unwrap()
            .starts_with("back-off 5m0s restarting failed container=coredns pod=")
    );
    assert_eq!(st["restartCount"], 7);
    assert_eq!(st["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(
        resolve(&p, "/status/conditions/[type=Ready]/status"),
        Some(&json!("False"))
    );
    round_trip::<k8s_openapi::api::core::v1::Pod>(&p).unwrap();
    let node = c.find("Node", None, "worker-1").unwrap().clone();
    assert_eq!(
        resolve(&node, "/status/conditions/[type=MemoryPressure]/status"),
        Some(&json!("True"))
    );
    let ready = c
        .responses
        .iter()
        .find(|r| r.path == "/readyz?verbose")
        .unwrap();
    assert_eq!(ready.code, 500);
    assert!(
        ready.body.contains(
            "[-]etcd failed: reason withheld\n[-]etcd-readiness failed: reason withheld\n"
        )
    );
    assert!(ready.body.ends_with("readyz check failed\n"));
    let live = c
        .responses
        .iter()
        .find(|r| r.path == "/livez?verbose")
        .unwrap();
    assert!(live.code == 500 && !live.body.contains("etcd-readiness"));
    // The stale scheduler lease is never renewed; the controller-manager's still is.
    let (snapshot, timeline) = c.into_parts();
    let s = Scenario {
        id: "t",
        title: "t",
        summary: "t",
        playbook: None,
        snapshot,
        timeline,
        behavior: Default::default(),
    };
    let after = simulate(&s, Duration::from_secs(20)).unwrap();
    let before = &s.snapshot.objects;
    let renew = |objs: &[Value], n: &str| {
        get(objs, "Lease", Some("kube-system"), n).unwrap()["spec"]["renewTime"].clone()
    };
    assert_eq!(
        renew(&after, "kube-scheduler"),
        renew(before, "kube-scheduler")
    );
    assert_ne!(
        renew(&after, "kube-controller-manager"),
        renew(before, "kube-controller-manager")
    );
}
