//! `ktriage snapshot`: captures what the health model and the playbooks read from a live
//! cluster into one snapshot — objects (lean: no managedFields, no last-applied annotation),
//! control-plane and add-on logs, the logs of application pods in trouble, the apiserver's
//! readiness answers, the kubelets' healthz/configz (and stats summary of nodes under
//! pressure) — read-only, and never a Secret.

use chrono::Utc;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, LogParams};
use serde_json::Value;

use super::state::strip;
use crate::api::resources::RESOURCES;
use crate::snapshot::{PodLog, RawResponse, Snapshot, SnapshotInfo};

/// Namespaces whose pods' logs are captured (the components the playbooks read).
const LOG_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-flannel",
    "calico-system",
    "tigera-operator",
    "ingress-nginx",
];
/// Nodes whose kubelet answers (healthz, configz) are captured, at most.
const NODE_PROBES: usize = 100;
/// Lines kept per log.
const LOG_TAIL: i64 = 300;
/// Pods outside the component namespaces whose logs are captured, at most: the ones in
/// trouble (restarted, waiting, terminated), most restarts first.
const TROUBLED_PODS: usize = 50;

/// What could not be captured, for the user to know the snapshot is partial.
#[derive(Debug, Default)]
pub struct CaptureReport {
    pub objects: usize,
    pub logs: usize,
    pub skipped: Vec<String>,
}

fn is_capturable(kind: &str) -> bool {
    // Secrets are never read; Events of the events.k8s.io group duplicate core Events.
    kind != "Secret"
}

/// Captures the cluster behind `client`.
pub async fn capture(client: &Client, context: &str, server: &str) -> (Snapshot, CaptureReport) {
    let mut snap = Snapshot::default();
    let mut report = CaptureReport::default();
    let version = client.apiserver_version().await.ok().map(|v| v.git_version);
    // The kinds listed cluster-wide: for these, absence in the snapshot is real.
    let mut captured = Vec::new();
    for def in RESOURCES.iter().filter(|d| is_capturable(d.kind)) {
        let ar = ApiResource {
            group: def.group.to_string(),
            version: def.version.to_string(),
            api_version: def.api_version(),
            kind: def.kind.to_string(),
            plural: def.plural.to_string(),
        };
        match list_all(&Api::all_with(client.clone(), &ar)).await {
            Ok(items) => {
                captured.push(def.kind.to_string());
                push_items(&mut snap, &mut report, def.kind, &ar.api_version, items)
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(kube::Error::Api(s)) => {
                // Kept as evidence: a forbidden list is what AUTH playbooks read.
                record_status(&mut snap, list_path(def, None), &s);
                report
                    .skipped
                    .push(format!("{}: {} ({})", def.plural, s.reason, s.code));
                if def.namespaced && s.code == 403 {
                    let ns = client.default_namespace().to_string();
                    match list_all(&Api::namespaced_with(client.clone(), &ns, &ar)).await {
                        Ok(items) => {
                            push_items(&mut snap, &mut report, def.kind, &ar.api_version, items)
                        }
                        Err(kube::Error::Api(s)) => {
                            record_status(&mut snap, list_path(def, Some(&ns)), &s)
                        }
                        Err(e) => report.skipped.push(format!("{} in {ns}: {e}", def.plural)),
                    }
                }
            }
            Err(e) => report.skipped.push(format!("{}: {e}", def.plural)),
        }
    }
    capture_logs(client, &mut snap, &mut report).await;
    // The apiserver's health, and per node what the kubelet answers through the API server
    // proxy (healthz: reachability of 10250; configz: the effective kubelet configuration).
    let mut paths: Vec<String> = vec!["/readyz?verbose".into(), "/livez?verbose".into()];
    let nodes: Vec<String> = snap
        .objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Node"))
        .filter_map(|o| {
            o.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .take(NODE_PROBES)
        .collect();
    for n in &nodes {
        paths.push(format!("/api/v1/nodes/{n}/proxy/healthz"));
        paths.push(format!("/api/v1/nodes/{n}/proxy/configz"));
    }
    // How full a node under pressure is (the kubelet's stats summary): only those nodes,
    // the answer is large.
    for n in snap
        .objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Node"))
        .filter(|o| under_pressure(o))
        .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
        .take(NODE_PROBES)
    {
        paths.push(format!("/api/v1/nodes/{n}/proxy/stats/summary"));
    }
    for path in paths {
        let Ok(req) = http::Request::get(path.as_str()).body(Vec::new()) else {
            continue;
        };
        let (code, body) = match client.request_text(req).await {
            Ok(body) => (200, body),
            // readyz/livez answer failures with their plain-text check list.
            Err(kube::Error::Api(s)) if !path.starts_with("/api/") => (s.code, s.message),
            Err(kube::Error::Api(s)) => {
                let body = serde_json::json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": s.message, "reason": s.reason, "code": s.code,
                });
                (s.code, body.to_string())
            }
            Err(e) => {
                report.skipped.push(format!("{path}: {e}"));
                continue;
            }
        };
        snap.responses.push(RawResponse {
            method: "GET".into(),
            path,
            code,
            body,
        });
    }
    snap.info = Some(SnapshotInfo {
        captured_at: Some(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        context: Some(context.to_string()),
        server: Some(server.to_string()),
        version,
        captured,
        redacted: None,
    });
    (snap, report)
}

/// Every item of a list, page by page.
async fn list_all(api: &Api<DynamicObject>) -> Result<Vec<DynamicObject>, kube::Error> {
    let mut items = Vec::new();
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = api.list(&lp).await?;
        items.extend(page.items);
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => return Ok(items),
        }
    }
}

/// The path a list of `def` is requested at, as playbook queries request it.
fn list_path(def: &crate::api::resources::ResourceDef, namespace: Option<&str>) -> String {
    let kind = crate::api::query::QueryKind::List {
        group: def.group.to_string(),
        resource: def.plural.to_string(),
        namespace: namespace.map(str::to_string),
        label_selector: None,
        field_selector: None,
    };
    let req = crate::api::query::request_path(&kind);
    req.trim_start_matches("GET ").to_string()
}

/// Keeps the error Status the API server answered for `path` as a `Response`.
fn record_status(snap: &mut Snapshot, path: String, s: &kube::core::Status) {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": s.message, "reason": s.reason, "code": s.code,
    });
    snap.responses.push(RawResponse {
        method: "GET".into(),
        path,
        code: s.code,
        body: body.to_string(),
    });
}

fn push_items(
    snap: &mut Snapshot,
    report: &mut CaptureReport,
    kind: &str,
    api_version: &str,
    items: Vec<DynamicObject>,
) {
    for item in items {
        let Ok(mut v) = serde_json::to_value(&item) else {
            continue;
        };
        if let Some(o) = v.as_object_mut() {
            o.insert("apiVersion".into(), Value::String(api_version.to_string()));
            o.insert("kind".into(), Value::String(kind.to_string()));
        }
        strip(&mut v);
        snap.objects.push(v);
        report.objects += 1;
    }
}

/// The pods selected by the Services that admission webhooks call.
fn webhook_pods(objects: &[Value]) -> Vec<Value> {
    let kind = |o: &Value| o.get("kind").and_then(Value::as_str).map(str::to_string);
    let services: Vec<(String, String)> = objects
        .iter()
        .filter(|o| {
            matches!(
                kind(o).as_deref(),
                Some("ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration")
            )
        })
        .flat_map(|o| {
            o.get("webhooks")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|w| {
            let svc = w.pointer("/clientConfig/service")?;
            Some((
                svc.get("namespace")?.as_str()?.to_string(),
                svc.get("name")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let selectors: Vec<(String, serde_json::Map<String, Value>)> = objects
        .iter()
        .filter(|o| kind(o).as_deref() == Some("Service"))
        .filter_map(|o| {
            let ns = o.pointer("/metadata/namespace")?.as_str()?;
            let name = o.pointer("/metadata/name")?.as_str()?;
            services
                .iter()
                .any(|(n, s)| n == ns && s == name)
                .then(|| {
                    let sel = o.pointer("/spec/selector")?.as_object()?.clone();
                    (!sel.is_empty()).then(|| (ns.to_string(), sel))
                })
                .flatten()
        })
        .collect();
    objects
        .iter()
        .filter(|o| kind(o).as_deref() == Some("Pod"))
        .filter(|pod| {
            let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str);
            let labels = pod.pointer("/metadata/labels").and_then(Value::as_object);
            selectors.iter().any(|(sns, sel)| {
                ns == Some(sns.as_str())
                    && labels.is_some_and(|l| sel.iter().all(|(k, v)| l.get(k) == Some(v)))
            })
        })
        .cloned()
        .collect()
}

/// A node with MemoryPressure, DiskPressure or PIDPressure `True`.
fn under_pressure(node: &Value) -> bool {
    node.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with("Pressure"))
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

/// A pod in trouble: a container that restarted, waits (CrashLoopBackOff, …) or terminated.
/// Returns its restarts (for ordering).
fn trouble(pod: &Value) -> Option<i64> {
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)?;
    let restarts: i64 = statuses
        .iter()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
        .sum();
    let stuck = statuses
        .iter()
        .any(|c| c.pointer("/state/waiting").is_some() || c.pointer("/state/terminated").is_some());
    (restarts > 0 || stuck).then_some(restarts)
}

async fn capture_logs(client: &Client, snap: &mut Snapshot, report: &mut CaptureReport) {
    let all_pods = snap
        .objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("Pod"));
    let component = |o: &&Value| {
        o.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .is_some_and(|ns| LOG_NAMESPACES.contains(&ns))
    };
    let mut pods: Vec<Value> = all_pods.clone().filter(component).cloned().collect();
    // Application pods in trouble too: the crash-loop and probe playbooks quote their logs.
    let mut troubled: Vec<(i64, Value)> = all_pods
        .filter(|o| !component(o))
        .filter_map(|o| trouble(o).map(|restarts| (restarts, o.clone())))
        .collect();
    troubled.sort_by_key(|t| std::cmp::Reverse(t.0));
    if troubled.len() > TROUBLED_PODS {
        report.skipped.push(format!(
            "logs of {} more application pods in trouble (only the {TROUBLED_PODS} with the most restarts are captured)",
            troubled.len() - TROUBLED_PODS
        ));
    }
    pods.extend(troubled.into_iter().take(TROUBLED_PODS).map(|(_, p)| p));
    // The pods behind admission webhooks: a webhook that fails says why in its own log.
    for p in webhook_pods(&snap.objects) {
        let key = |o: &Value| {
            (
                o.pointer("/metadata/namespace").cloned(),
                o.pointer("/metadata/name").cloned(),
            )
        };
        if !pods.iter().any(|q| key(q) == key(&p)) {
            pods.push(p);
        }
    }
    for pod in pods {
        let ns = pod
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let pods_api: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), ns);
        let statuses = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for cs in statuses {
            let Some(container) = cs.get("name").and_then(Value::as_str) else {
                continue;
            };
            let restarted = cs.get("restartCount").and_then(Value::as_i64).unwrap_or(0) > 0;
            for previous in [false, true] {
                if previous && !restarted {
                    continue;
                }
                let params = LogParams {
                    container: Some(container.to_string()),
                    previous,
                    tail_lines: Some(LOG_TAIL),
                    ..Default::default()
                };
                match pods_api.logs(name, &params).await {
                    Ok(text) => {
                        snap.pod_logs.push(PodLog {
                            namespace: ns.to_string(),
                            pod: name.to_string(),
                            container: Some(container.to_string()),
                            previous,
                            text,
                        });
                        report.logs += 1;
                    }
                    Err(kube::Error::Api(s)) if s.code == 400 && previous => {}
                    // The API server's answer is evidence too (a kubelet whose serving
                    // certificate it does not trust, a node that is gone): kept as a
                    // `Response` for the log request without tailLines.
                    Err(kube::Error::Api(s)) => {
                        let path =
                            crate::api::query::request_path(&crate::api::query::QueryKind::Logs {
                                namespace: ns.to_string(),
                                pod: name.to_string(),
                                container: Some(container.to_string()),
                                previous,
                                tail_lines: None,
                            });
                        record_status(snap, path.trim_start_matches("GET ").to_string(), &s);
                        report
                            .skipped
                            .push(format!("log {ns}/{name}/{container}: {}", s.message));
                    }
                    Err(e) => report
                        .skipped
                        .push(format!("log {ns}/{name}/{container}: {e}")),
                }
            }
        }
    }
}
