//! Writes in a training session (a server started with [`crate::ServerConfig::writable`]):
//! create, replace, patch (JSON, merge, strategic merge, server-side apply), delete with
//! propagation, deletecollection, and the `scale` and `status` subresources, with the API
//! server's semantics as kubectl sees them: a resourceVersion that moves on every write, 409
//! Conflict for a stale one, 409 AlreadyExists, 404 NotFound, 422 Invalid with its causes,
//! `dryRun=All`, and the controllers run on each change before the answer is sent (so the
//! cluster has converged when kubectl returns). Secrets are never written (403): the server
//! holds no Secret data and a training session does not start to.

use serde_json::{Map, Value, json};

use super::controllers::{self, Facts, Touch};
use super::patch::{self, PatchError};
use super::store::Store;
use ktriage_api::resources::ResourceDef;
use ktriage_api::select::{FieldSelector, LabelSelector};

/// How a PATCH body is to be read, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchKind {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let ct = ct.split(';').next().unwrap_or("").trim();
        Some(match ct {
            "application/json-patch+json" => PatchKind::Json,
            "application/merge-patch+json" => PatchKind::Merge,
            "application/strategic-merge-patch+json" => PatchKind::Strategic,
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => PatchKind::Apply,
            _ => return None,
        })
    }
}

/// What a write asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Replace,
    Patch(PatchKind),
    Delete,
    DeleteCollection,
}

/// One write request, parsed.
pub struct WriteRequest<'a> {
    pub op: Op,
    pub res: usize,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub subresource: Option<&'a str>,
    pub body: Value,
    pub dry_run: bool,
    pub label_selector: LabelSelector,
}

/// A refused write: the Status the API server answers with.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl Failure {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }
    fn details(mut self, d: Value) -> Self {
        self.details = Some(d);
        self
    }
}

/// A write that was done: the HTTP code, the object to answer with, and whether RBAC
/// objects changed (the authorizer is rebuilt from the store).
pub struct Done {
    pub code: u16,
    pub body: Value,
    pub rbac_changed: bool,
}

/// `deployments.apps`, `pods`: how the API server names a resource in messages.
pub fn qualified(def: &ResourceDef) -> String {
    if def.group.is_empty() {
        def.plural.to_string()
    } else {
        format!("{}.{}", def.plural, def.group)
    }
}

fn kind_qualified(def: &ResourceDef) -> String {
    if def.group.is_empty() {
        def.kind.to_string()
    } else {
        format!("{}.{}", def.kind, def.group)
    }
}

fn not_found(def: &ResourceDef, name: &str) -> Failure {
    Failure::new(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", qualified(def)),
    )
    .details(json!({"name": name, "group": def.group, "kind": def.plural}))
}

fn conflict(def: &ResourceDef, name: &str) -> Failure {
    Failure::new(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            qualified(def)
        ),
    )
    .details(json!({"name": name, "group": def.group, "kind": def.plural}))
}

fn bad_request(message: impl Into<String>) -> Failure {
    Failure::new(400, "BadRequest", message)
}

/// One validation error, as a Status cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Cause {
    fn required(field: impl Into<String>) -> Self {
        Cause {
            reason: "FieldValueRequired",
            field: field.into(),
            message: "Required value".into(),
        }
    }
    fn invalid(field: impl Into<String>, value: &Value, why: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {}: {why}", go_value(value)),
        }
    }
    fn forbidden(field: impl Into<String>, why: &str) -> Self {
        Cause {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {why}"),
        }
    }
}

/// A value as the Go API server prints it in a message: strings quoted, the rest as JSON.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn invalid(def: &ResourceDef, name: &str, causes: Vec<Cause>) -> Failure {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let summary = if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("[{}]", parts.join(", "))
    };
    Failure::new(
        422,
        "Invalid",
        format!("{} \"{name}\" is invalid: {summary}", kind_qualified(def)),
    )
    .details(json!({
        "name": name, "group": def.group, "kind": def.kind,
        "causes": causes.iter().map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field})).collect::<Vec<_>>(),
    }))
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata was just made an object")
}

/// Kinds whose `status` is written through the status subresource only.
fn has_status_subresource(def: &ResourceDef) -> bool {
    matches!(
        def.plural,
        "pods"
            | "nodes"
            | "services"
            | "namespaces"
            | "deployments"
            | "replicasets"
            | "statefulsets"
            | "daemonsets"
            | "jobs"
            | "cronjobs"
            | "persistentvolumeclaims"
            | "persistentvolumes"
            | "ingresses"
            | "horizontalpodautoscalers"
            | "poddisruptionbudgets"
            | "certificatesigningrequests"
            | "apiservices"
            | "customresourcedefinitions"
    )
}

fn scalable(def: &ResourceDef) -> bool {
    matches!(def.plural, "deployments" | "replicasets" | "statefulsets")
}

/// The `autoscaling/v1` Scale of a workload.
pub fn scale_of(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta_str(obj, "name"),
            "namespace": meta_str(obj, "namespace"),
            "uid": meta_str(obj, "uid"),
            "resourceVersion": meta_str(obj, "resourceVersion"),
            "creationTimestamp": obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

/// Does the write. The store is locked by the caller for the whole of it, so the write and
/// the controllers' reaction are one step to every reader and watcher.
pub fn write(store: &mut Store, facts: &Facts, req: WriteRequest<'_>) -> Result<Done, Failure> {
    let def = *store.def(req.res);
    if def.kind == "Secret" {
        return Err(Failure::new(
            403,
            "Forbidden",
            format!(
                "secrets is forbidden: a ktriage training session does not write Secrets (the server never holds Secret data); {} secrets is refused",
                verb(req.op)
            ),
        )
        .details(json!({"kind": "secrets"})));
    }
    let ns = if def.namespaced {
        req.namespace.unwrap_or("")
    } else {
        ""
    };
    let rbac_changed = def.group == "rbac.authorization.k8s.io";
    let (code, body) = match req.op {
        Op::Create => {
            if req.subresource.is_some() {
                return Err(Failure::new(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                ));
            }
            let obj = create(store, facts, &def, req.res, ns, req.body, req.dry_run)?;
            (201, obj)
        }
        Op::Replace | Op::Patch(_) => {
            let name = req.name.ok_or_else(|| {
                Failure::new(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                )
            })?;
            update(store, facts, &def, &req, ns, name)?
        }
        Op::Delete => {
            let name = req
                .name
                .ok_or_else(|| bad_request("a name is required to delete"))?;
            let obj = delete(
                store,
                facts,
                &def,
                req.res,
                ns,
                name,
                &req.body,
                req.dry_run,
            )?;
            (200, obj)
        }
        Op::DeleteCollection => {
            let page = store
                .list(
                    req.res,
                    def.namespaced.then_some(ns),
                    &req.label_selector,
                    &FieldSelector::default(),
                    None,
                    None,
                )
                .map_err(|_| bad_request("the collection could not be listed"))?;
            let names: Vec<(String, String)> = page
                .items
                .iter()
                .map(|o| {
                    (
                        meta_str(o, "namespace").to_string(),
                        meta_str(o, "name").to_string(),
                    )
                })
                .collect();
            let mut items = Vec::new();
            for (ns, name) in names {
                items.push(delete(
                    store,
                    facts,
                    &def,
                    req.res,
                    &ns,
                    &name,
                    &req.body,
                    req.dry_run,
                )?);
            }
            (
                200,
                json!({"kind": format!("{}List", def.kind), "apiVersion": def.api_version(),
                       "metadata": {"resourceVersion": store.resource_version().to_string()}, "items": items}),
            )
        }
    };
    Ok(Done {
        code,
        body,
        rbac_changed: rbac_changed && !req.dry_run,
    })
}

fn verb(op: Op) -> &'static str {
    match op {
        Op::Create => "create",
        Op::Replace => "update",
        Op::Patch(_) => "patch",
        Op::Delete => "delete",
        Op::DeleteCollection => "deletecollection",
    }
}

/// Checks kind and apiVersion against the resource, fills them when absent.
fn check_type(def: &ResourceDef, obj: &mut Value) -> Result<(), Failure> {
    let Some(map) = obj.as_object_mut() else {
        return Err(bad_request("the request body must be a JSON object"));
    };
    let api_version = def.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v != api_version => {
            return Err(bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
        _ => {}
    }
    match map.get("kind").and_then(Value::as_str) {
        Some(k) if k != def.kind => {
            return Err(bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                def.kind
            )));
        }
        _ => {}
    }
    map.insert("apiVersion".into(), json!(api_version));
    map.insert("kind".into(), json!(def.kind));
    Ok(())
}

fn create(
    store: &mut Store,
    facts: &Facts,
    def: &ResourceDef,
    res: usize,
    ns: &str,
    mut obj: Value,
    dry_run: bool,
) -> Result<Value, Failure> {
    check_type(def, &mut obj)?;
    let body_ns = meta_str(&obj, "namespace").to_string();
    if def.namespaced {
        if !body_ns.is_empty() && body_ns != ns {
            return Err(bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta_mut(&mut obj).insert("namespace".into(), json!(ns));
        if let Some(nsres) = store.resource("", "v1", "namespaces")
            && store.get(nsres, "", ns).is_none()
        {
            return Err(
                Failure::new(404, "NotFound", format!("namespaces \"{ns}\" not found"))
                    .details(json!({"name": ns, "kind": "namespaces"})),
            );
        }
    } else {
        meta_mut(&mut obj).remove("namespace");
    }
    if meta_str(&obj, "name").is_empty() {
        let prefix = meta_str(&obj, "generateName").to_string();
        if !prefix.is_empty() {
            let name = format!(
                "{prefix}{}",
                controllers::suffix(&(prefix.as_str(), store.resource_version()), 5)
            );
            meta_mut(&mut obj).insert("name".into(), json!(name));
        }
    }
    let name = meta_str(&obj, "name").to_string();
    let causes = validate(def, None, &obj);
    if !causes.is_empty() {
        return Err(invalid(def, &name, causes));
    }
    if store.get(res, ns, &name).is_some() {
        return Err(Failure::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(def)),
        )
        .details(json!({"name": name, "group": def.group, "kind": def.plural})));
    }
    {
        let meta = meta_mut(&mut obj);
        for k in ["resourceVersion", "deletionTimestamp", "selfLink"] {
            meta.remove(k);
        }
        meta.insert(
            "uid".into(),
            json!(controllers::new_uid(
                def.kind,
                ns,
                &name,
                store.resource_version()
            )),
        );
        meta.insert("creationTimestamp".into(), json!(controllers::now_secs()));
    }
    if obj.get("spec").is_some() {
        meta_mut(&mut obj).insert("generation".into(), json!(1));
    }
    controllers::defaults(store, def, None, &mut obj);
    prune_nulls(&mut obj);
    if has_status_subresource(def)
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    if def.kind == "Pod"
        && let Err(refused) = controllers::admit_pod(store, &obj)
    {
        return Err(Failure::new(refused.code, refused.reason, refused.message)
            .details(json!({"name": name, "kind": "pods"})));
    }
    if dry_run {
        return Ok(obj);
    }
    let ev = store
        .upsert(obj)
        .ok_or_else(|| bad_request("the object has no name"))?;
    let created = (*ev.object).clone();
    controllers::react(
        store,
        facts,
        Touch {
            res,
            before: None,
            after: Some(created.clone()),
        },
    );
    // The answer is the object as the controllers left it (a Pod scheduled, a PVC bound).
    Ok(store
        .get(res, ns, &name)
        .map(|s| (*s).clone())
        .unwrap_or(created))
}

fn update(
    store: &mut Store,
    facts: &Facts,
    def: &ResourceDef,
    req: &WriteRequest<'_>,
    ns: &str,
    name: &str,
) -> Result<(u16, Value), Failure> {
    let current = store.get(req.res, ns, name).map(|s| (*s).clone());
    let sub = req.subresource.unwrap_or("");
    if !matches!(sub, "" | "status" | "scale") || (sub == "scale" && !scalable(def)) {
        return Err(not_found(def, name));
    }
    let Some(current) = current else {
        // Server-side apply creates what is missing.
        if req.op == Op::Patch(PatchKind::Apply) && sub.is_empty() {
            let mut obj = req.body.clone();
            if meta_str(&obj, "name").is_empty() {
                meta_mut(&mut obj).insert("name".into(), json!(name));
            }
            let created = create(store, facts, def, req.res, ns, obj, req.dry_run)?;
            return Ok((201, created));
        }
        return Err(not_found(def, name));
    };
    let current_rv = meta_str(&current, "resourceVersion").to_string();
    // What the request edits: the object, or its Scale.
    let base = if sub == "scale" {
        scale_of(&current)
    } else {
        current.clone()
    };
    let edited = match req.op {
        Op::Replace => {
            let mut obj = req.body.clone();
            if sub.is_empty() {
                check_type(def, &mut obj)?;
            }
            obj
        }
        Op::Patch(kind) => {
            let mut obj = base.clone();
            let applied = match kind {
                PatchKind::Json => patch::json_patch(&mut obj, &req.body),
                PatchKind::Merge => {
                    patch::merge(&mut obj, &req.body);
                    Ok(())
                }
                PatchKind::Strategic | PatchKind::Apply => patch::strategic(&mut obj, &req.body),
            };
            applied.map_err(|PatchError::Invalid(m)| Failure::new(422, "Invalid", m))?;
            if sub.is_empty() {
                check_type(def, &mut obj)?;
            }
            obj
        }
        _ => unreachable!("update handles replace and patch"),
    };
    let edited_name = meta_str(&edited, "name");
    if !edited_name.is_empty() && edited_name != name {
        return Err(bad_request(format!(
            "the name of the object ({edited_name}) does not match the name on the URL ({name})"
        )));
    }
    let edited_rv = meta_str(&edited, "resourceVersion");
    if !edited_rv.is_empty() && edited_rv != current_rv {
        return Err(conflict(def, name));
    }
    if req.op == Op::Replace && sub.is_empty() && def.namespaced {
        let body_ns = meta_str(&edited, "namespace");
        if !body_ns.is_empty() && body_ns != ns {
            return Err(bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    // The new object: what the request may change, the rest as it was.
    let mut next = match sub {
        "scale" => {
            let replicas = edited
                .pointer("/spec/replicas")
                .cloned()
                .unwrap_or(json!(0));
            if replicas.as_i64().is_none_or(|r| r < 0) {
                return Err(invalid(
                    &ResourceDef {
                        kind: "Scale",
                        group: "autoscaling",
                        ..*def
                    },
                    name,
                    vec![Cause::invalid(
                        "spec.replicas",
                        &replicas,
                        "must be greater than or equal to 0",
                    )],
                ));
            }
            let mut obj = current.clone();
            obj["spec"]["replicas"] = replicas;
            obj
        }
        "status" => {
            let mut obj = current.clone();
            obj["status"] = edited.get("status").cloned().unwrap_or(json!({}));
            obj
        }
        _ => {
            let mut obj = edited;
            if has_status_subresource(def) {
                match current.get("status") {
                    Some(s) => obj["status"] = s.clone(),
                    None => {
                        if let Some(m) = obj.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            obj
        }
    };
    {
        let old_meta = current.get("metadata").cloned().unwrap_or(json!({}));
        let meta = meta_mut(&mut next);
        meta.insert("name".into(), json!(name));
        if def.namespaced {
            meta.insert("namespace".into(), json!(ns));
        } else {
            meta.remove("namespace");
        }
        for k in [
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
        ] {
            match old_meta.get(k) {
                Some(v) => meta.insert(k.into(), v.clone()),
                None => meta.remove(k),
            };
        }
        meta.remove("resourceVersion");
    }
    if next.get("spec") != current.get("spec") {
        let generation = current
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        meta_mut(&mut next).insert("generation".into(), json!(generation + 1));
    }
    controllers::defaults(store, def, Some(&current), &mut next);
    prune_nulls(&mut next);
    let causes = validate(def, Some(&current), &next);
    if !causes.is_empty() {
        return Err(invalid(def, name, causes));
    }
    if req.dry_run {
        return Ok((200, answer(sub, next)));
    }
    let mut unchanged = current.clone();
    meta_mut(&mut unchanged).remove("resourceVersion");
    if next == unchanged {
        // Nothing changed: no new resourceVersion, no watch event, as the API server does.
        return Ok((200, answer(sub, current)));
    }
    let ev = store
        .upsert(next)
        .ok_or_else(|| bad_request("the object has no name"))?;
    let stored = (*ev.object).clone();
    controllers::react(
        store,
        facts,
        Touch {
            res: req.res,
            before: Some(current),
            after: Some(stored.clone()),
        },
    );
    let latest = store
        .get(req.res, ns, name)
        .map(|s| (*s).clone())
        .unwrap_or(stored);
    Ok((200, answer(sub, latest)))
}

/// Drops `null` fields: an unset field, as the API server's typed objects hold it (Go
/// clients send `creationTimestamp: null` in every template).
fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

fn answer(sub: &str, obj: Value) -> Value {
    if sub == "scale" { scale_of(&obj) } else { obj }
}

#[allow(clippy::too_many_arguments)]
fn delete(
    store: &mut Store,
    facts: &Facts,
    def: &ResourceDef,
    res: usize,
    ns: &str,
    name: &str,
    options: &Value,
    dry_run: bool,
) -> Result<Value, Failure> {
    let Some(current) = store.get(res, ns, name).map(|s| (*s).clone()) else {
        return Err(not_found(def, name));
    };
    if let Some(rv) = options
        .pointer("/preconditions/resourceVersion")
        .and_then(Value::as_str)
        && rv != meta_str(&current, "resourceVersion")
    {
        return Err(conflict(def, name));
    }
    if let Some(uid) = options
        .pointer("/preconditions/uid")
        .and_then(Value::as_str)
        && uid != meta_str(&current, "uid")
    {
        return Err(Failure::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                qualified(def),
                meta_str(&current, "uid")
            ),
        ));
    }
    if dry_run {
        return Ok(current);
    }
    let orphan = options.get("propagationPolicy").and_then(Value::as_str) == Some("Orphan")
        || options.get("orphanDependents").and_then(Value::as_bool) == Some(true);
    store.delete(res, ns, name);
    controllers::deleted(store, facts, res, &current, orphan);
    Ok(current)
}

// ---- validation ----------------------------------------------------------------------------

const DNS1123_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_LABEL: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

fn port_in_range(v: &Value) -> bool {
    v.as_i64().is_some_and(|p| (1..=65535).contains(&p))
}

const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

/// Validates an object about to be stored (`old` on update): the checks whose messages a
/// trainee is likely to meet. Returns the causes, empty when valid.
pub fn validate(def: &ResourceDef, old: Option<&Value>, obj: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = meta_str(obj, "name");
    if name.is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired",
            field: "metadata.name".into(),
            message: "Required value: name or generateName is required".into(),
        });
    } else {
        let (ok, why) = match def.kind {
            "Namespace" => (is_label(name), DNS1123_LABEL),
            "Service" => (
                is_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase()),
                DNS1035_LABEL,
            ),
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => (
                !name.contains('/') && !name.contains('%'),
                "may not contain '/' or '%'",
            ),
            _ => (is_subdomain(name), DNS1123_SUBDOMAIN),
        };
        if !ok {
            causes.push(Cause::invalid("metadata.name", &json!(name), why));
        }
    }
    match def.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            if def.kind != "DaemonSet"
                && let Some(r) = obj.pointer("/spec/replicas")
                && r.as_i64().is_none_or(|r| r < 0)
            {
                causes.push(Cause::invalid(
                    "spec.replicas",
                    r,
                    "must be greater than or equal to 0",
                ));
            }
            workload_selector(obj, old, &mut causes);
            pod_spec(
                obj.pointer("/spec/template/spec"),
                "spec.template.spec",
                &mut causes,
            );
        }
        "Job" => pod_spec(
            obj.pointer("/spec/template/spec"),
            "spec.template.spec",
            &mut causes,
        ),
        "CronJob" => pod_spec(
            obj.pointer("/spec/jobTemplate/spec/template/spec"),
            "spec.jobTemplate.spec.template.spec",
            &mut causes,
        ),
        "Pod" => {
            pod_spec(obj.pointer("/spec"), "spec", &mut causes);
            if let Some(old) = old {
                pod_update(old, obj, &mut causes);
            }
        }
        "Service" => service(obj, old, &mut causes),
        "PersistentVolumeClaim" => {
            if obj
                .pointer("/spec/resources/requests/storage")
                .is_none_or(Value::is_null)
            {
                causes.push(Cause::required("spec.resources[storage]"));
            }
            if obj
                .pointer("/spec/accessModes")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
            {
                causes.push(Cause::required("spec.accessModes"));
            }
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            for f in ["kind", "name"] {
                if obj
                    .pointer(&format!("/roleRef/{f}"))
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    causes.push(Cause::required(format!("roleRef.{f}")));
                }
            }
            if let Some(old) = old
                && old.get("roleRef") != obj.get("roleRef")
            {
                causes.push(Cause::invalid(
                    "roleRef",
                    obj.get("roleRef").unwrap_or(&Value::Null),
                    "cannot change roleRef",
                ));
            }
        }
        _ => {}
    }
    causes
}

fn workload_selector(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let selector = obj.pointer("/spec/selector");
    let Some(selector) = selector.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
        causes.push(Cause::required("spec.selector"));
        return;
    };
    if let Some(old) = old
        && let Some(before) = old.pointer("/spec/selector")
        && before != selector
    {
        causes.push(Cause::invalid(
            "spec.selector",
            selector,
            "field is immutable",
        ));
    }
    let labels = obj
        .pointer("/spec/template/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    let wanted = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if wanted.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        causes.push(Cause::invalid(
            "spec.template.metadata.labels",
            &labels,
            "`selector` does not match template `labels`",
        ));
    }
}

fn pod_spec(spec: Option<&Value>, at: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    let Some(containers) = containers.filter(|c| !c.is_empty()) else {
        causes.push(Cause::required(format!("{at}.containers")));
        return;
    };
    for (list, items) in [
        ("containers", Some(containers)),
        (
            "initContainers",
            spec.and_then(|s| s.get("initContainers"))
                .and_then(Value::as_array),
        ),
    ] {
        for (i, c) in items.into_iter().flatten().enumerate() {
            let here = format!("{at}.{list}[{i}]");
            match c.get("name").and_then(Value::as_str) {
                None | Some("") => causes.push(Cause::required(format!("{here}.name"))),
                Some(n) if !is_label(n) => causes.push(Cause::invalid(
                    format!("{here}.name"),
                    &json!(n),
                    DNS1123_LABEL,
                )),
                _ => {}
            }
            if c.get("image")
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                causes.push(Cause::required(format!("{here}.image")));
            }
            for (j, p) in c
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                match p.get("containerPort") {
                    None => {
                        causes.push(Cause::required(format!("{here}.ports[{j}].containerPort")))
                    }
                    Some(v) if !port_in_range(v) => causes.push(Cause::invalid(
                        format!("{here}.ports[{j}].containerPort"),
                        v,
                        PORT_RANGE,
                    )),
                    _ => {}
                }
            }
        }
    }
}

/// A Pod's spec is immutable but for its images (and a few fields a trainee will not touch).
fn pod_update(old: &Value, new: &Value, causes: &mut Vec<Cause>) {
    let without_images = |v: &Value| {
        let mut s = v.get("spec").cloned().unwrap_or(Value::Null);
        for list in ["containers", "initContainers"] {
            if let Some(cs) = s.get_mut(list).and_then(Value::as_array_mut) {
                for c in cs {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("image");
                    }
                }
            }
        }
        if let Some(m) = s.as_object_mut() {
            m.remove("tolerations");
            m.remove("activeDeadlineSeconds");
        }
        s
    };
    if without_images(old) != without_images(new) {
        causes.push(Cause::forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ));
    }
}

fn service(obj: &Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let ty = obj
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if !matches!(
        ty,
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName"
    ) {
        causes.push(Cause {
            reason: "FieldValueNotSupported",
            field: "spec.type".into(),
            message: format!(
                "Unsupported value: {ty:?}: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""
            ),
        });
    }
    let ports = obj.pointer("/spec/ports").and_then(Value::as_array);
    if ty != "ExternalName" && ports.is_none_or(Vec::is_empty) {
        let headless = obj.pointer("/spec/clusterIP").and_then(Value::as_str) == Some("None");
        if !headless {
            causes.push(Cause::required("spec.ports"));
        }
    }
    for (i, p) in ports.into_iter().flatten().enumerate() {
        match p.get("port") {
            Some(v) if port_in_range(v) => {}
            Some(v) => causes.push(Cause::invalid(
                format!("spec.ports[{i}].port"),
                v,
                PORT_RANGE,
            )),
            None => causes.push(Cause::required(format!("spec.ports[{i}].port"))),
        }
        match p.get("targetPort") {
            Some(v @ Value::Number(_)) if !port_in_range(v) => causes.push(Cause::invalid(
                format!("spec.ports[{i}].targetPort"),
                v,
                PORT_RANGE,
            )),
            Some(Value::String(s))
                if !(is_label(s) && s.len() <= 15 && s.chars().any(|c| c.is_ascii_lowercase())) =>
            {
                causes.push(Cause::invalid(
                    format!("spec.ports[{i}].targetPort"),
                    &json!(s),
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                ))
            }
            _ => {}
        }
    }
    if let Some(old) = old {
        let before = old.pointer("/spec/clusterIP").and_then(Value::as_str);
        let after = obj.pointer("/spec/clusterIP").and_then(Value::as_str);
        if let (Some(b), Some(a)) = (before, after)
            && b != a
            && !b.is_empty()
        {
            causes.push(Cause::invalid(
                "spec.clusterIPs[0]",
                &json!([a]),
                "may not change once set",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktriage_api::resources::RESOURCES;

    fn def(kind: &str) -> ResourceDef {
        *RESOURCES.iter().find(|d| d.kind == kind).unwrap()
    }

    fn deployment(replicas: i64, port: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": port}]}]}}}})
    }

    #[test]
    fn invalid_objects_get_the_api_servers_causes() {
        assert!(validate(&def("Deployment"), None, &deployment(2, 80)).is_empty());
        let causes = validate(&def("Deployment"), None, &deployment(-1, 70000));
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "spec.replicas",
                "spec.template.spec.containers[0].ports[0].containerPort"
            ]
        );
        let f = invalid(&def("Deployment"), "web", causes);
        assert_eq!(f.code, 422);
        assert!(
            f.message.starts_with("Deployment.apps \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, "),
            "{}",
            f.message
        );
        let mut unnamed = deployment(1, 80);
        unnamed["metadata"]["name"] = json!("");
        assert_eq!(
            validate(&def("Deployment"), None, &unnamed)[0].field,
            "metadata.name"
        );
    }

    #[test]
    fn a_selector_is_immutable_and_must_match_the_template() {
        let old = deployment(1, 80);
        let mut new = old.clone();
        new["spec"]["selector"]["matchLabels"]["app"] = json!("api");
        let fields: Vec<String> = validate(&def("Deployment"), Some(&old), &new)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(fields, ["spec.selector", "spec.template.metadata.labels"]);
    }

    #[test]
    fn patch_kinds_come_from_the_content_type() {
        assert_eq!(
            PatchKind::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchKind::Strategic)
        );
        assert_eq!(
            PatchKind::from_content_type("application/apply-patch+yaml"),
            Some(PatchKind::Apply)
        );
        assert_eq!(PatchKind::from_content_type("text/plain"), None);
    }
}
