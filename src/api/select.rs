//! Label and field selectors as the API server parses them (`app=web,tier!=db`,
//! `env in (a,b)`, `!canary`; `spec.nodeName=n1,status.phase!=Failed`).

use serde_json::Value;

/// Why a selector was rejected (the server answers 400 BadRequest with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct SelectorError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelReq>);

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn set_values(rest: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| SelectorError(format!("{whole}: expected a set like (a,b)")))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let req = if let Some(key) = p.strip_prefix('!') {
                LabelReq::NotExists(key.trim().to_string())
            } else if let Some((k, v)) = p.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = p.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = p.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, rest)) = p.split_once(" notin ") {
                LabelReq::NotIn(k.trim().to_string(), set_values(rest, p)?)
            } else if let Some((k, rest)) = p.split_once(" in ") {
                LabelReq::In(k.trim().to_string(), set_values(rest, p)?)
            } else if p.contains(['(', ')', ' ']) {
                return Err(SelectorError(p.to_string()));
            } else {
                LabelReq::Exists(p.to_string())
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether the selector has no requirement (it matches everything).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an object's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector: `field=value`, `field==value`, `field!=value`, comma-joined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in s.split(',') {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let (field, eq, value) = if let Some((k, v)) = p.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = p.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = p.split_once('=') {
                (k, true, v)
            } else {
                return Err(SelectorError(format!("{p}: expected field=value")));
            };
            reqs.push((field.trim().to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    /// The value a field selector names. Any dotted path of the object works (the real
    /// server supports a fixed set per kind: metadata.name, metadata.namespace, spec.nodeName,
    /// status.phase, involvedObject.*, …); Events' `source` is `source.component`.
    pub fn field_value(obj: &Value, field: &str) -> String {
        let path = match field {
            "source" => "source.component",
            f => f,
        };
        let mut cur = obj;
        for seg in path.split('.') {
            match cur.get(seg) {
                Some(v) => cur = v,
                None => return String::new(),
            }
        }
        match cur {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// Whether the selector has no requirement (it matches everything).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, eq, value)| {
            let actual = Self::field_value(obj, field);
            (actual == *value) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web", "tier": "front"}},
               "spec": {"nodeName": "worker-1"}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selector_forms() {
        let p = pod();
        for (sel, want) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web,api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!canary", true),
            ("app=web,tier=back", false),
            ("app in (api, web),tier", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&p),
                want,
                "{sel}"
            );
        }
    }

    #[test]
    fn bad_label_selector_is_an_error() {
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn field_selector_forms() {
        let p = pod();
        for (sel, want) in [
            ("metadata.name=web-1", true),
            (
                "spec.nodeName=worker-1,status.phase!=Failed,status.phase!=Succeeded",
                true,
            ),
            ("spec.nodeName=worker-2", false),
            ("metadata.namespace==shop", true),
            ("spec.missing=", true),
        ] {
            assert_eq!(
                FieldSelector::parse(sel).unwrap().matches(&p),
                want,
                "{sel}"
            );
        }
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn event_source_field() {
        let ev = json!({"source": {"component": "kubelet"}, "involvedObject": {"kind": "Node", "name": "n1"}});
        let sel = FieldSelector::parse("source=kubelet,involvedObject.kind=Node").unwrap();
        assert!(sel.matches(&ev));
    }
}
