//! The trainee's requests as the kubectl commands they stand for: the embedded server logs
//! every request with its User-Agent; those from kubectl (`kubectl/v1.31…`) are the
//! trainee's, ktriage's own (`ktriage/…`) are not shown. A request path is read back into
//! what it touched (resource, namespace, name), which also tells whether the trainee asked
//! for what a playbook queries.

use crate::server::RequestRecord;

/// What one request touched: the API resource (plural, with subresource), the namespace
/// (`None`: cluster-scoped or across all namespaces) and the object name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Touch {
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The path was not a resource path (`/readyz`, `/version`): the path itself.
    pub raw: Option<String>,
}

/// True for a request kubectl made (the trainee's), by its User-Agent.
pub fn is_kubectl(r: &RequestRecord) -> bool {
    r.user_agent.starts_with("kubectl")
}

/// Splits `path?query` into the path and its decoded query pairs.
fn split_query(path: &str) -> (&str, Vec<(String, String)>) {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let pairs = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| percent_decode(&s.replace('+', " "));
            (dec(k), dec(v))
        })
        .collect();
    (p, pairs)
}

/// Decodes `%XX` escapes (an invalid escape stays as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a request path back into what it touched; `None` for discovery (`/api`, `/apis`,
/// `/openapi/…`, `/version`), which kubectl asks on its own.
pub fn touch(path: &str) -> Option<Touch> {
    let (p, _) = split_query(path);
    let segs: Vec<&str> = p.trim_matches('/').split('/').collect();
    let rest: &[&str] = match segs.as_slice() {
        ["api", "v1", rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        [] | [""] | ["api"] | ["api", _] | ["apis"] | ["apis", ..] => return None,
        ["openapi", ..] | ["version"] => return None,
        _ => {
            return Some(Touch {
                resource: String::new(),
                subresource: None,
                namespace: None,
                name: None,
                raw: Some(p.to_string()),
            });
        }
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let (resource, name, sub) = match rest {
        [] => return None,
        [r] => (r.to_string(), None, None),
        [r, n] => (r.to_string(), Some(n.to_string()), None),
        [r, n, s, ..] => (r.to_string(), Some(n.to_string()), Some(s.to_string())),
    };
    Some(Touch {
        resource,
        subresource: sub,
        namespace,
        name,
        raw: None,
    })
}

/// The kubectl command a request stands for, `None` for kubectl's discovery requests.
pub fn render(r: &RequestRecord) -> Option<String> {
    let t = touch(&r.path)?;
    let (_, query) = split_query(&r.path);
    let q = |k: &str| {
        query
            .iter()
            .find(|(qk, _)| qk == k)
            .map(|(_, v)| v.as_str())
    };
    if t.raw.is_some() {
        return Some(format!("kubectl get --raw '{}'", r.path));
    }
    let ns = |t: &Touch| match &t.namespace {
        Some(n) => format!(" -n {n}"),
        None => String::new(),
    };
    // Metrics API: kubectl top.
    if r.path.contains("/apis/metrics.k8s.io/") {
        let what = if t.resource == "nodes" {
            "nodes"
        } else {
            "pods"
        };
        return Some(format!("kubectl top {what}{}", ns(&t)));
    }
    let name = t.name.clone().unwrap_or_default();
    let mut cmd = match (r.method.as_str(), t.subresource.as_deref()) {
        ("GET", Some("log")) => {
            let mut c = format!("kubectl logs {name}{}", ns(&t));
            if let Some(c2) = q("container") {
                c.push_str(&format!(" -c {c2}"));
            }
            if q("previous") == Some("true") {
                c.push_str(" --previous");
            }
            if q("follow") == Some("true") {
                c.push_str(" -f");
            }
            return Some(c);
        }
        (_, Some("exec")) => return Some(format!("kubectl exec {name}{} -- …", ns(&t))),
        (_, Some("portforward")) => return Some(format!("kubectl port-forward {name}{}", ns(&t))),
        (_, Some("proxy")) => {
            return Some(format!("kubectl get --raw '{}'", r.path));
        }
        ("POST", _) if t.resource.ends_with("accessreviews") => {
            return Some("kubectl auth can-i …".to_string());
        }
        ("POST", _) if t.resource == "selfsubjectreviews" => {
            return Some("kubectl auth whoami".to_string());
        }
        ("GET", sub) => {
            let mut c = format!("kubectl get {}", t.resource);
            if let Some(n) = &t.name {
                c.push(' ');
                c.push_str(n);
            }
            if let Some(s) = sub {
                c.push_str(&format!(" --subresource {s}"));
            }
            c
        }
        ("POST", _) => format!("kubectl create {}", t.resource),
        ("DELETE", _) => format!("kubectl delete {} {name}", t.resource),
        ("PATCH", _) => format!("kubectl patch {} {name}", t.resource),
        ("PUT", _) => format!("kubectl replace {} {name}", t.resource),
        (m, _) => format!("kubectl {} {}", m.to_lowercase(), t.resource),
    };
    let cmd_ns = match (&t.namespace, t.name.is_none() && r.method == "GET") {
        (Some(n), _) => format!(" -n {n}"),
        // A list without a namespace of a namespaced kind is across all namespaces.
        (None, true) if namespaced(&t.resource) => " -A".to_string(),
        _ => String::new(),
    };
    cmd = cmd.trim_end().to_string();
    cmd.push_str(&cmd_ns);
    if let Some(l) = q("labelSelector") {
        cmd.push_str(&format!(" -l {l}"));
    }
    if let Some(f) = q("fieldSelector") {
        cmd.push_str(&format!(" --field-selector {f}"));
    }
    if q("watch") == Some("true") || q("watch") == Some("1") {
        cmd.push_str(" -w");
    }
    Some(cmd)
}

/// Kinds that live in a namespace (a list of them without one is `-A`).
fn namespaced(resource: &str) -> bool {
    !matches!(
        resource,
        "nodes"
            | "namespaces"
            | "persistentvolumes"
            | "storageclasses"
            | "clusterroles"
            | "clusterrolebindings"
            | "customresourcedefinitions"
            | "apiservices"
            | "certificatesigningrequests"
            | "validatingwebhookconfigurations"
            | "mutatingwebhookconfigurations"
            | "priorityclasses"
            | "csidrivers"
            | "csinodes"
            | "volumeattachments"
            | "ingressclasses"
            | "runtimeclasses"
            | "componentstatuses"
    )
}

/// Adds the command of a kubectl request to `list`: a repeat of the last command once,
/// and the events read right after a get of the same object (what `kubectl describe`
/// does) turn that get into `kubectl describe`. True when the list changed.
pub fn push_command(list: &mut Vec<String>, r: &RequestRecord) -> bool {
    if !is_kubectl(r) {
        return false;
    }
    let Some(cmd) = render(r) else {
        return false;
    };
    if list.last() == Some(&cmd) {
        return false;
    }
    if r.method == "GET"
        && let Some(t) = touch(&r.path)
        && t.resource == "events"
        && let Some(last) = list.last_mut()
        && let Some(rest) = last.strip_prefix("kubectl get ")
    {
        let (_, query) = split_query(&r.path);
        let about = query
            .iter()
            .find(|(k, _)| k == "fieldSelector")
            .and_then(|(_, v)| {
                v.split(',')
                    .find_map(|kv| kv.strip_prefix("involvedObject.name="))
                    .map(str::to_string)
            });
        let words: Vec<&str> = rest.split_whitespace().collect();
        if let (Some(name), Some(obj)) = (about, words.get(1))
            && *obj == name
        {
            *last = format!("kubectl describe {rest}");
            return true;
        }
        if last.starts_with("kubectl describe ") {
            return false;
        }
    }
    list.push(cmd);
    true
}

/// The commands of the trainee's requests, in order, consecutive repeats once.
pub fn commands<'a>(records: impl IntoIterator<Item = &'a RequestRecord>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        push_command(&mut out, r);
    }
    out
}

/// Whether a trainee's request saw what another asks for (a playbook query's path, an
/// evidence object): the same resource and subresource, in a namespace and with a name
/// that do not contradict (a list across all namespaces and a get of one object of it see
/// the same thing, for a trainee).
pub fn covers(seen: &Touch, wanted: &Touch) -> bool {
    if let (Some(a), Some(b)) = (&seen.raw, &wanted.raw) {
        return a == b;
    }
    if seen.raw.is_some() || wanted.raw.is_some() {
        return false;
    }
    if seen.resource != wanted.resource || seen.subresource != wanted.subresource {
        return false;
    }
    let agree = |a: &Option<String>, b: &Option<String>| a.is_none() || b.is_none() || a == b;
    agree(&seen.namespace, &wanted.namespace) && agree(&seen.name, &wanted.name)
}

/// The touch of an evidence object `Kind/namespace/name` or `Kind/name` (the plural is
/// made the English way, as the API does for the kinds playbooks cite).
pub fn evidence_touch(object: &str) -> Option<Touch> {
    let parts: Vec<&str> = object.split('/').collect();
    let (kind, namespace, name) = match parts.as_slice() {
        [k, n] => (*k, None, *n),
        [k, ns, n] => (*k, Some(ns.to_string()), *n),
        _ => return None,
    };
    let lower = kind.to_lowercase();
    let resource = if lower.ends_with("endpoints") || lower.ends_with('s') && !lower.ends_with("ss")
    {
        lower
    } else if lower.ends_with("ss") || lower.ends_with('x') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    };
    Some(Touch {
        resource,
        subresource: None,
        namespace,
        name: Some(name.to_string()),
        raw: None,
    })
}

/// How a touch reads in "what you looked at": `pods in shop`, `pod shop/cart-1`, `nodes`.
pub fn describe(t: &Touch) -> String {
    if let Some(raw) = &t.raw {
        return raw.clone();
    }
    let what = match &t.subresource {
        Some(s) => format!("{}/{s}", t.resource),
        None => t.resource.clone(),
    };
    match (&t.namespace, &t.name) {
        (Some(ns), Some(n)) => format!("{what} {ns}/{n}"),
        (None, Some(n)) => format!("{what} {n}"),
        (Some(ns), None) => format!("{what} in {ns}"),
        (None, None) => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, ua: &str) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            path: path.into(),
            user: "kubernetes-admin".into(),
            verb: String::new(),
            resource: String::new(),
            code: 200,
            user_agent: ua.into(),
            writable: true,
        }
    }

    fn k(method: &str, path: &str) -> Option<String> {
        render(&req(
            method,
            path,
            "kubectl/v1.31.0 (linux/amd64) kubernetes/abc",
        ))
    }

    #[test]
    fn requests_read_as_the_kubectl_commands_they_stand_for() {
        assert_eq!(
            k("GET", "/api/v1/namespaces/shop/pods?limit=500").as_deref(),
            Some("kubectl get pods -n shop")
        );
        assert_eq!(
            k("GET", "/api/v1/pods?limit=500").as_deref(),
            Some("kubectl get pods -A")
        );
        assert_eq!(
            k("GET", "/api/v1/nodes").as_deref(),
            Some("kubectl get nodes")
        );
        assert_eq!(
            k("GET", "/api/v1/namespaces/shop/pods/cart-1").as_deref(),
            Some("kubectl get pods cart-1 -n shop")
        );
        assert_eq!(
            k(
                "GET",
                "/apis/apps/v1/namespaces/shop/deployments?labelSelector=app%3Dcart"
            )
            .as_deref(),
            Some("kubectl get deployments -n shop -l app=cart")
        );
        assert_eq!(
            k(
                "GET",
                "/api/v1/namespaces/shop/pods/checkout-1/log?container=app&previous=true"
            )
            .as_deref(),
            Some("kubectl logs checkout-1 -n shop -c app --previous")
        );
        assert_eq!(
            k(
                "GET",
                "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dcart-1"
            )
            .as_deref(),
            Some("kubectl get events -n shop --field-selector involvedObject.name=cart-1")
        );
        assert_eq!(
            k("GET", "/apis/metrics.k8s.io/v1beta1/nodes").as_deref(),
            Some("kubectl top nodes")
        );
        assert_eq!(
            k("GET", "/readyz?verbose").as_deref(),
            Some("kubectl get --raw '/readyz?verbose'")
        );
        assert_eq!(
            k("DELETE", "/api/v1/namespaces/shop/pods/cart-1").as_deref(),
            Some("kubectl delete pods cart-1 -n shop")
        );
        assert_eq!(
            k("GET", "/api/v1/namespaces/shop/pods?watch=true").as_deref(),
            Some("kubectl get pods -n shop -w")
        );
        // Discovery is kubectl's own business.
        assert_eq!(k("GET", "/api"), None);
        assert_eq!(k("GET", "/apis"), None);
        assert_eq!(k("GET", "/apis/apps/v1"), None);
        assert_eq!(k("GET", "/openapi/v3"), None);
    }

    #[test]
    fn only_kubectl_requests_are_listed_and_repeats_once() {
        let log = vec![
            req("GET", "/api/v1/nodes", "ktriage/0.1.0"),
            req("GET", "/api", "kubectl/v1.31.0"),
            req("GET", "/api/v1/nodes", "kubectl/v1.31.0"),
            req("GET", "/api/v1/nodes", "kubectl/v1.31.0"),
            req("GET", "/api/v1/namespaces/shop/services", "kubectl/v1.31.0"),
            req("GET", "/api/v1/namespaces/shop/services", "kube-rs/0.9"),
        ];
        assert_eq!(
            commands(&log),
            vec!["kubectl get nodes", "kubectl get services -n shop"]
        );
        // kubectl describe: the object, then its events.
        let describe = vec![
            req(
                "GET",
                "/api/v1/namespaces/shop/pods/cart-1",
                "kubectl/v1.31.0",
            ),
            req(
                "GET",
                "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dcart-1%2CinvolvedObject.namespace%3Dshop",
                "kubectl/v1.31.0",
            ),
            req("GET", "/api/v1/namespaces/shop/events", "kubectl/v1.31.0"),
        ];
        assert_eq!(
            commands(&describe),
            vec![
                "kubectl describe pods cart-1 -n shop",
                "kubectl get events -n shop"
            ]
        );
    }

    #[test]
    fn a_list_covers_the_gets_in_its_scope() {
        let all = touch("/api/v1/pods").unwrap();
        let shop = touch("/api/v1/namespaces/shop/pods").unwrap();
        let one = touch("/api/v1/namespaces/shop/pods/cart-1").unwrap();
        let other_ns = touch("/api/v1/namespaces/kube-system/pods").unwrap();
        assert!(covers(&all, &one));
        assert!(covers(&shop, &one));
        assert!(!covers(&other_ns, &one));
        assert!(
            covers(&one, &all),
            "a playbook's list -A is seen by a look at one pod"
        );
        let other_pod = touch("/api/v1/namespaces/shop/pods/cart-2").unwrap();
        assert!(!covers(&other_pod, &one));
        let ev = evidence_touch("Endpoints/shop/payments").unwrap();
        assert_eq!(ev.resource, "endpoints");
        assert!(covers(
            &touch("/api/v1/namespaces/shop/endpoints").unwrap(),
            &ev
        ));
        assert!(!covers(&shop, &ev));
        assert_eq!(
            evidence_touch("StorageClass/gp3").unwrap().resource,
            "storageclasses"
        );
        assert_eq!(
            evidence_touch("Ingress/shop/frontend").unwrap().resource,
            "ingresses"
        );
        assert_eq!(evidence_touch("Policy/x/y").unwrap().resource, "policies");
        let log = touch("/api/v1/namespaces/shop/pods/cart-1/log").unwrap();
        assert!(!covers(&one, &log), "reading a pod is not reading its log");
        assert_eq!(describe(&one), "pods shop/cart-1");
        assert_eq!(describe(&shop), "pods in shop");
    }
}
