//! The patch formats of the Kubernetes API, applied to an object's JSON: merge patch
//! (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (the common cases: maps merge,
//! lists of containers, env, volumes, ports… merge by their merge key, `$patch: delete` and
//! `$patch: replace`, `$deleteFromPrimitiveList`, `$retainKeys`; `$setElementOrder` is
//! accepted and ignored).

use serde_json::{Map, Value};

/// Why a patch could not be applied (the API server answers 422 or 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("{0}")]
    Invalid(String),
}

/// JSON merge patch (RFC 7386): objects merge, `null` removes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
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
        (None, Some(_)) => {
            *target = Value::Object(Map::new());
            merge(target, patch);
        }
        _ => *target = strip_nulls(patch.clone()),
    }
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The merge key of a list field in a strategic merge patch, from the Kubernetes types'
/// `patchMergeKey` tags; `None` for a list that is replaced whole. `items` are the list's
/// elements (patch and target), to tell container ports from Service ports.
fn merge_key(field: &str, items: &[&Value]) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "containerStatuses" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "taints" => "key",
        "topologySpreadConstraints" => "topologyKey",
        "ports" => {
            if items.iter().any(|i| i.get("containerPort").is_some()) {
                "containerPort"
            } else {
                "port"
            }
        }
        _ => return None,
    })
}

/// Lists of scalars merged as sets (`patchStrategy:"merge"` without a key).
fn merges_primitives(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge patch.
pub fn strategic(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let Some(p) = patch.as_object() else {
        return Err(PatchError::Invalid(
            "a strategic merge patch must be a JSON object".into(),
        ));
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    strategic_map(target, p)
}

fn strategic_map(target: &mut Value, patch: &Map<String, Value>) -> Result<(), PatchError> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut p = patch.clone();
            p.remove("$patch");
            *target = strip_directives(Value::Object(p));
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) if other != "merge" => {
            return Err(PatchError::Invalid(format!(
                "unknown patch type: {other:?}"
            )));
        }
        _ => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return Ok(());
    };
    for (k, v) in patch {
        if k == "$patch" || k.starts_with("$setElementOrder/") || k == "$retainKeys" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(list), Some(gone)) =
                (t.get_mut(field).and_then(Value::as_array_mut), v.as_array())
            {
                list.retain(|x| !gone.contains(x));
            }
            continue;
        }
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::Object(pm) => {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                strategic_map(slot, pm)?;
                if slot.is_null() {
                    t.remove(k);
                }
            }
            Value::Array(items) => {
                let current = t.get(k).and_then(Value::as_array).cloned();
                let merged = strategic_list(k, current, items)?;
                t.insert(k.clone(), Value::Array(merged));
            }
            scalar => {
                t.insert(k.clone(), scalar.clone());
            }
        }
    }
    if let Some(keep) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        t.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(())
}

fn strategic_list(
    field: &str,
    current: Option<Vec<Value>>,
    patch: &[Value],
) -> Result<Vec<Value>, PatchError> {
    let current = current.unwrap_or_default();
    let replace_whole = patch
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"));
    if replace_whole {
        return Ok(patch
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .map(strip_directives)
            .collect());
    }
    if merges_primitives(field) {
        let mut out = current;
        for v in patch {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        return Ok(out);
    }
    let all: Vec<&Value> = current.iter().chain(patch).collect();
    let Some(key) = merge_key(field, &all) else {
        return Ok(patch.iter().cloned().map(strip_directives).collect());
    };
    let mut out = current;
    for item in patch {
        let Some(obj) = item.as_object() else {
            return Err(PatchError::Invalid(format!(
                "{field}: an element of a list merged by {key} must be an object"
            )));
        };
        let Some(id) = obj.get(key) else {
            return Err(PatchError::Invalid(format!(
                "map: {item} does not contain declared merge key: {key}"
            )));
        };
        let pos = out.iter().position(|e| e.get(key) == Some(id));
        if obj.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(i) = pos {
                out.remove(i);
            }
            continue;
        }
        match pos {
            Some(i) => strategic_map(&mut out[i], obj)?,
            None => out.push(strip_directives(item.clone())),
        }
    }
    Ok(out)
}

/// Removes `$`-directives left in a value added whole.
fn strip_directives(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k, strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_directives).collect()),
        other => other,
    }
}

/// A JSON pointer's segments, unescaped.
fn pointer(path: &str) -> Result<Vec<String>, PatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(PatchError::Invalid(format!(
            "JSON pointer must start with '/': {path:?}"
        )));
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent<'a>(
    doc: &'a mut Value,
    segs: &[String],
    path: &str,
) -> Result<&'a mut Value, PatchError> {
    let mut cur = doc;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get_mut(s),
            Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok(cur)
}

fn missing(path: &str) -> PatchError {
    PatchError::Invalid(format!(
        "the server rejected our request due to an error in our request: path {path:?} does not exist"
    ))
}

fn get<'a>(doc: &'a Value, path: &str) -> Result<&'a Value, PatchError> {
    let segs = pointer(path)?;
    let mut cur = doc;
    for s in &segs {
        cur = match cur {
            Value::Object(m) => m.get(s),
            Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| missing(path))?;
    }
    Ok(cur)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), PatchError> {
    let mut segs = pointer(path)?;
    let Some(last) = segs.pop() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, &segs, path)? {
        Value::Object(m) => {
            m.insert(last, value);
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>().map_err(|_| missing(path))?
            };
            if i > a.len() {
                return Err(missing(path));
            }
            a.insert(i, value);
        }
        _ => return Err(missing(path)),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, PatchError> {
    let mut segs = pointer(path)?;
    let last = segs.pop().ok_or_else(|| missing(path))?;
    match parent(doc, &segs, path)? {
        Value::Object(m) => m.remove(&last).ok_or_else(|| missing(path)),
        Value::Array(a) => {
            let i = last.parse::<usize>().map_err(|_| missing(path))?;
            if i >= a.len() {
                return Err(missing(path));
            }
            Ok(a.remove(i))
        }
        _ => Err(missing(path)),
    }
}

/// JSON patch (RFC 6902): add, remove, replace, move, copy and test, in order; the first
/// operation that fails leaves the document unchanged.
pub fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), PatchError> {
    let Some(ops) = ops.as_array() else {
        return Err(PatchError::Invalid(
            "a JSON patch must be a list of operations".into(),
        ));
    };
    let mut out = doc.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| PatchError::Invalid(format!("operation {op} has no \"path\"")))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| PatchError::Invalid(format!("operation {op} has no \"value\"")))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| PatchError::Invalid(format!("operation {op} has no \"from\"")))
        };
        match name {
            "add" => add(&mut out, path, value()?)?,
            "remove" => {
                remove(&mut out, path)?;
            }
            "replace" => {
                remove(&mut out, path)?;
                add(&mut out, path, value()?)?;
            }
            "move" => {
                let v = remove(&mut out, from()?)?;
                add(&mut out, path, v)?;
            }
            "copy" => {
                let v = get(&out, from()?)?.clone();
                add(&mut out, path, v)?;
            }
            "test" => {
                if *get(&out, path)? != value()? {
                    return Err(PatchError::Invalid(format!(
                        "testing value {path} failed: the value differs"
                    )));
                }
            }
            other => {
                return Err(PatchError::Invalid(format!(
                    "unexpected kind of JSON patch operation: {other:?}"
                )));
            }
        }
    }
    *doc = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_env_and_ports_by_their_keys() {
        let mut d = json!({"spec": {"containers": [
            {"name": "web", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}],
             "ports": [{"containerPort": 80, "name": "http"}]},
            {"name": "sidecar", "image": "envoy"}]}});
        strategic(
            &mut d,
            &json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                "env": [{"name": "B", "value": "2"}], "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
                "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}]}}),
        )
        .unwrap();
        let web = &d["spec"]["containers"][0];
        assert_eq!(web["image"], "nginx:1.27");
        assert_eq!(web["env"].as_array().unwrap().len(), 2);
        assert_eq!(
            web["ports"],
            json!([{"containerPort": 80, "name": "http", "protocol": "TCP"}])
        );
        assert_eq!(d["spec"]["containers"][1]["name"], "sidecar");
        assert!(d["spec"].get("$setElementOrder/containers").is_none());
    }

    #[test]
    fn strategic_deletes_and_replaces() {
        let mut d = json!({"metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "selector": {"x": "1", "y": "2"},
                     "ports": [{"port": 80, "targetPort": 8080}]}});
        strategic(
            &mut d,
            &json!({"metadata": {"labels": {"a": null}},
                "spec": {"containers": [{"name": "a", "$patch": "delete"}],
                         "selector": {"$patch": "replace", "z": "3"},
                         "ports": [{"port": 80, "targetPort": 8081}]}}),
        )
        .unwrap();
        assert_eq!(d["metadata"]["labels"], json!({"b": "2"}));
        assert_eq!(d["spec"]["containers"], json!([{"name": "b"}]));
        assert_eq!(d["spec"]["selector"], json!({"z": "3"}));
        assert_eq!(
            d["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8081}])
        );
    }

    #[test]
    fn lists_without_a_merge_key_are_replaced() {
        let mut d = json!({"spec": {"containers": [{"name": "a", "args": ["x", "y"]}]}});
        strategic(
            &mut d,
            &json!({"spec": {"containers": [{"name": "a", "args": ["z"]}]}}),
        )
        .unwrap();
        assert_eq!(d["spec"]["containers"][0]["args"], json!(["z"]));
    }

    #[test]
    fn json_patch_operations_apply_in_order_or_not_at_all() {
        let mut d = json!({"spec": {"replicas": 1, "list": [1, 2]}});
        json_patch(
            &mut d,
            &json!([{"op": "replace", "path": "/spec/replicas", "value": 3},
                    {"op": "add", "path": "/spec/list/-", "value": 9},
                    {"op": "copy", "from": "/spec/replicas", "path": "/spec/copied"},
                    {"op": "test", "path": "/spec/copied", "value": 3}]),
        )
        .unwrap();
        assert_eq!(
            d,
            json!({"spec": {"replicas": 3, "list": [1, 2, 9], "copied": 3}})
        );
        let before = d.clone();
        let err = json_patch(
            &mut d,
            &json!([{"op": "remove", "path": "/spec/replicas"}, {"op": "remove", "path": "/nope"}]),
        );
        assert!(err.is_err());
        assert_eq!(d, before);
    }

    #[test]
    fn merge_patch_removes_nulls_and_replaces_lists() {
        let mut o = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        merge(&mut o, &json!({"a": {"b": null, "d": 3}, "l": [3]}));
        assert_eq!(o, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }
}
