//! What the embedded server keeps of a Secret: its metadata and type, never the values of
//! `data` or `stringData` (nor the copy of them in kubectl's last-applied annotation).
//! Objects are stripped as they enter the store and raw responses as the server starts, so
//! no path (get, list, watch, Table, raw) can serve Secret data, whichever one forgets to ask.

use serde_json::Value;

/// `kubectl apply` keeps the whole applied object here, Secret values included.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn is_secret(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Strips one Secret in place; returns whether anything was removed.
fn strip_one(obj: &mut serde_json::Map<String, Value>) -> bool {
    let mut removed = obj.remove("data").is_some();
    removed |= obj.remove("stringData").is_some();
    if let Some(annotations) = obj
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        removed |= annotations.remove(LAST_APPLIED).is_some();
    }
    removed
}

/// Strips an object about to be stored: a Secret (any apiVersion), or the Secrets among the
/// `items` of a list-shaped object. Returns whether anything was removed.
pub fn strip_stored(obj: &mut Value) -> bool {
    let Some(map) = obj.as_object_mut() else {
        return false;
    };
    if is_secret(map) {
        return strip_one(map);
    }
    let mut removed = false;
    if let Some(items) = map.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            removed |= strip_stored(item);
        }
    }
    removed
}

/// Strips every Secret anywhere in a JSON document (a list, a watch event, a Table row's
/// object, anything a raw response can hold). Returns whether anything was removed.
pub fn strip_everywhere(v: &mut Value) -> bool {
    match v {
        Value::Object(map) => {
            let mut removed = is_secret(map) && strip_one(map);
            for child in map.values_mut() {
                removed |= strip_everywhere(child);
            }
            removed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, item| strip_everywhere(item) | acc),
        _ => false,
    }
}

/// A raw response as it may be served: a JSON body with every Secret stripped; `None` for a
/// non-JSON body answering a Secrets path (its Secret data cannot be told from the rest).
pub fn strip_raw_body(path: &str, body: &str) -> Option<String> {
    match serde_json::from_str::<Value>(body) {
        Ok(mut v) => Some(if strip_everywhere(&mut v) {
            v.to_string()
        } else {
            body.to_string()
        }),
        Err(_) if reads_secrets(path) => None,
        Err(_) => Some(body.to_string()),
    }
}

/// Whether a request path (with or without query) names the `secrets` resource.
fn reads_secrets(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/').any(|seg| seg == "secrets")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "tls", "namespace": "default", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration":
                    "{\"data\":{\"tls.key\":\"c2VjcmV0\"}}",
                "team": "web"}},
            "data": {"tls.crt": "Y2VydA==", "tls.key": "c2VjcmV0"},
            "stringData": {"password": "hunter2"}
        })
    }

    #[test]
    fn a_stored_secret_keeps_metadata_and_type_only() {
        let mut s = secret();
        assert!(strip_stored(&mut s));
        let text = s.to_string();
        for value in ["Y2VydA==", "c2VjcmV0", "hunter2", "tls.key", "password"] {
            assert!(!text.contains(value), "{value} survived: {text}");
        }
        assert_eq!(s["type"], "kubernetes.io/tls");
        assert_eq!(s["metadata"]["name"], "tls");
        assert_eq!(s["metadata"]["annotations"]["team"], "web");
        assert!(!strip_stored(&mut s), "stripping twice changes nothing");
    }

    #[test]
    fn other_kinds_are_untouched_and_lists_are_stripped_item_by_item() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "c"}, "data": {"k": "v"}});
        assert!(!strip_stored(&mut cm));
        assert_eq!(cm["data"]["k"], "v");
        let mut list = json!({"kind": "SecretList", "items": [secret(), cm.clone()]});
        assert!(strip_stored(&mut list));
        assert!(list["items"][0].get("data").is_none());
        assert_eq!(list["items"][1]["data"]["k"], "v");
    }

    #[test]
    fn raw_bodies_lose_secrets_wherever_they_are() {
        let event = json!({"type": "ADDED", "object": secret()}).to_string();
        let served = strip_raw_body("/api/v1/secrets?watch=1", &event).unwrap();
        assert!(!served.contains("hunter2") && !served.contains("Y2VydA=="));
        let status = r#"{"kind":"Status","code":403}"#;
        assert_eq!(
            strip_raw_body("/api/v1/secrets", status).as_deref(),
            Some(status)
        );
        assert_eq!(
            strip_raw_body("/api/v1/namespaces/a/secrets/x", "data: c2VjcmV0"),
            None
        );
        assert_eq!(
            strip_raw_body("/readyz?verbose", "ok").as_deref(),
            Some("ok")
        );
    }
}
