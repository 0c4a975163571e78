//! Discovery documents (`/version`, `/api`, `/apis`, group and group-version resource lists)
//! in the legacy (non-aggregated) format, which every kubectl and kube-rs version understands.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use ktriage_api::resources::ResourceDef;

/// Groups served only for their access-review endpoints.
/// (group, version, [(plural, kind)]).
type ReviewGroup = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const REVIEW_GROUPS: &[ReviewGroup] = &[
    (
        "authorization.k8s.io",
        "v1",
        &[
            ("selfsubjectaccessreviews", "SelfSubjectAccessReview"),
            ("selfsubjectrulesreviews", "SelfSubjectRulesReview"),
            ("subjectaccessreviews", "SubjectAccessReview"),
        ],
    ),
    (
        "authentication.k8s.io",
        "v1",
        &[
            ("selfsubjectreviews", "SelfSubjectReview"),
            ("tokenreviews", "TokenReview"),
        ],
    ),
];

/// Subresources listed in discovery, per plural.
fn subresources(plural: &str) -> &'static [&'static str] {
    match plural {
        "pods" => &["log", "status", "exec", "portforward", "proxy", "eviction"],
        "nodes" => &["status", "proxy"],
        "services" => &["status", "proxy"],
        "deployments" | "statefulsets" | "replicasets" => &["status", "scale"],
        "daemonsets"
        | "jobs"
        | "cronjobs"
        | "namespaces"
        | "persistentvolumeclaims"
        | "persistentvolumes"
        | "certificatesigningrequests"
        | "ingresses" => &["status"],
        _ => &[],
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `GET /version`.
pub fn version(git_version: &str) -> Value {
    let minor = git_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .unwrap_or("31")
        .to_string();
    json!({
        "major": "1",
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "ktriage-embedded",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `GET /api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_versions(defs: &[ResourceDef]) -> BTreeMap<&'static str, Vec<&'static str>> {
    let mut groups: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for d in defs.iter().filter(|d| !d.group.is_empty()) {
        let versions = groups.entry(d.group).or_default();
        if !versions.contains(&d.version) {
            versions.push(d.version);
        }
    }
    for (g, v, _) in REVIEW_GROUPS {
        groups.entry(g).or_default().push(v);
    }
    groups
}

fn group_json(name: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

/// `GET /apis`.
pub fn group_list(defs: &[ResourceDef]) -> Value {
    let groups: Vec<Value> = group_versions(defs)
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/GROUP`, `None` for an unknown group.
pub fn group(defs: &[ResourceDef], name: &str) -> Option<Value> {
    let groups = group_versions(defs);
    let versions = groups.get(name)?;
    let mut g = group_json(name, versions);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

/// `GET /api/v1` or `GET /apis/GROUP/VERSION`, `None` when nothing is served there.
pub fn resource_list(defs: &[ResourceDef], group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for d in defs
        .iter()
        .filter(|d| d.group == group && d.version == version)
    {
        resources.push(json!({
            "name": d.plural,
            "singularName": d.singular,
            "namespaced": d.namespaced,
            "kind": d.kind,
            "verbs": ALL_VERBS,
            "shortNames": d.short_names,
            "categories": d.categories,
            "storageVersionHash": "",
        }));
        for sub in subresources(d.plural) {
            let verbs: &[&str] = match *sub {
                "log" => &["get"],
                "proxy" => &["create", "delete", "get", "patch", "update"],
                "exec" | "portforward" | "eviction" => &["create", "get"],
                _ => &["get", "patch", "update"],
            };
            let mut entry = json!({
                "name": format!("{}/{}", d.plural, sub),
                "singularName": "",
                "namespaced": d.namespaced,
                "kind": if *sub == "log" { "Pod" } else { d.kind },
                "verbs": verbs,
            });
            if *sub == "scale" {
                // kubectl scale finds the Scale kind here.
                entry["group"] = json!("autoscaling");
                entry["version"] = json!("v1");
                entry["kind"] = json!("Scale");
            }
            resources.push(entry);
        }
    }
    for (g, v, kinds) in REVIEW_GROUPS {
        if *g == group && *v == version {
            for (plural, kind) in kinds.iter() {
                resources.push(json!({
                    "name": plural, "singularName": "", "namespaced": false,
                    "kind": kind, "verbs": ["create"],
                }));
            }
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// `GET /openapi/v3`: the group-versions with a document each. kubectl reads it to learn
/// that the server validates fields itself (`fieldValidation`), so `kubectl apply`,
/// `create -f` and `replace -f` need no client-side schema.
pub fn openapi_v3_root(defs: &[ResourceDef]) -> Value {
    let mut paths = serde_json::Map::new();
    // group_versions leaves the core group out (it is served under /api).
    let core = defs
        .iter()
        .any(|d| d.group.is_empty())
        .then_some(("", vec!["v1"]));
    for (group, versions) in core.into_iter().chain(group_versions(defs)) {
        for v in versions {
            let gv = if group.is_empty() {
                format!("api/{v}")
            } else {
                format!("apis/{group}/{v}")
            };
            paths.insert(
                gv.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash=ktriage")}),
            );
        }
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/apis/G/V`: a document that lists, per kind, the PATCH operation with its
/// `fieldValidation` parameter (what kubectl's validation looks for), without schemas.
pub fn openapi_v3_doc(defs: &[ResourceDef], gv: &str) -> Option<Value> {
    let (group, version) = match gv.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    let mut paths = serde_json::Map::new();
    for d in defs
        .iter()
        .filter(|d| d.group == group && d.version == version)
    {
        let path = if d.namespaced {
            format!("/{gv}/namespaces/{{namespace}}/{}/{{name}}", d.plural)
        } else {
            format!("/{gv}/{}/{{name}}", d.plural)
        };
        paths.insert(
            path,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": d.group, "version": d.version, "kind": d.kind},
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                ],
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
