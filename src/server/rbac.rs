//! RBAC evaluated from the scenario's Roles, ClusterRoles and bindings, the Forbidden Status
//! bodies the real API server sends, and the answers to SelfSubjectAccessReview,
//! SelfSubjectRulesReview and SelfSubjectReview.
//!
//! Evaluation follows kube-apiserver's RBAC authorizer (`plugin/pkg/auth/authorizer/rbac`):
//! ClusterRoleBindings are visited first, then the RoleBindings of the request's namespace;
//! the first rule that allows the request wins and names its binding in the reason
//! (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`). Bindings whose
//! role is missing are reported in the denial reason, as on a real cluster. Members of
//! `system:masters` are always allowed (the privileged-group authorizer), and the default
//! bindings every real cluster has (`system:discovery`, `system:basic-user`,
//! `system:public-info-viewer`) are added when the scenario does not define them.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

/// An authenticated (or anonymous) user. `groups` already holds `system:authenticated`
/// (or `system:unauthenticated` for `system:anonymous`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

/// What a request asks to do, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    /// get, list, watch, create, update, patch, delete, deletecollection…
    pub verb: String,
    pub api_group: String,
    /// Plural resource, e.g. `nodes`; empty for a non-resource request.
    pub resource: String,
    /// e.g. `log`, `proxy`, `status`.
    pub subresource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// For non-resource requests: the path, e.g. `/readyz`.
    pub path: Option<String>,
}

impl Attributes {
    fn is_resource_request(&self) -> bool {
        !self.resource.is_empty()
    }

    fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref().filter(|n| !n.is_empty())
    }

    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The request path without its query string (`/readyz?verbose` → `/readyz`).
    fn path(&self) -> &str {
        let p = self.path.as_deref().unwrap_or("");
        p.split_once('?').map_or(p, |(p, _)| p)
    }
}

/// The group whose members may do everything.
pub const SYSTEM_MASTERS: &str = "system:masters";

/// One rule of a Role or ClusterRole (`rbac.authorization.k8s.io/v1` PolicyRule).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    fn from_json(v: &Value) -> Self {
        PolicyRule {
            verbs: strings(v.get("verbs")),
            api_groups: strings(v.get("apiGroups")),
            resources: strings(v.get("resources")),
            resource_names: strings(v.get("resourceNames")),
            non_resource_urls: strings(v.get("nonResourceURLs")),
        }
    }

    /// `RuleAllows` of the RBAC authorizer.
    pub fn allows(&self, attrs: &Attributes) -> bool {
        if !self.verb_matches(&attrs.verb) {
            return false;
        }
        if attrs.is_resource_request() {
            self.api_group_matches(&attrs.api_group)
                && self.resource_matches(&attrs.resource, &attrs.subresource)
                && self.resource_name_matches(attrs.name())
        } else {
            self.non_resource_url_matches(attrs.path())
        }
    }

    fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    fn api_group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == "*" || g == group)
    }

    fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if r == "*" {
                return true;
            }
            if subresource.is_empty() {
                return r == resource;
            }
            // `resource/subresource` exactly, or `*/subresource`.
            r.split_once('/')
                .is_some_and(|(res, sub)| (res == resource || res == "*") && sub == subresource)
        })
    }

    fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    fn non_resource_url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == "*"
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix.trim_end_matches('*')))
        })
    }
}

/// The outcome of one authorization, with the reason the real API server gives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub allowed: bool,
    /// `RBAC: allowed by …` when allowed by a binding; on a denial, the RBAC errors met on
    /// the way (e.g. `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`) or empty.
    pub reason: String,
}

#[derive(Debug, Clone)]
struct Subject {
    kind: String,
    name: String,
    /// For ServiceAccounts: the namespace, defaulted to the RoleBinding's.
    namespace: String,
}

impl Subject {
    /// `describeSubject` of the RBAC rule resolver.
    fn describe(&self) -> String {
        if self.kind == "ServiceAccount" {
            format!(
                "{} {}",
                self.kind,
                go_quote(&format!("{}/{}", self.name, self.namespace))
            )
        } else {
            format!("{} {}", self.kind, go_quote(&self.name))
        }
    }

    /// The user name or group this subject stands for, for the index.
    fn key(&self) -> Option<(bool, String)> {
        match self.kind.as_str() {
            "User" => Some((false, self.name.clone())),
            "Group" => Some((true, self.name.clone())),
            "ServiceAccount" if !self.namespace.is_empty() => Some((
                false,
                format!("system:serviceaccount:{}:{}", self.namespace, self.name),
            )),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Binding {
    name: String,
    /// `None` for a ClusterRoleBinding.
    namespace: Option<String>,
    role_kind: String,
    role_name: String,
    subjects: Vec<Subject>,
    /// Index into `Authorizer::roles`, or the error the real resolver reports.
    role: Result<usize, String>,
}

impl Binding {
    /// `clusterRoleBindingDescriber` / `roleBindingDescriber`.
    fn describe(&self, subject: &Subject) -> String {
        match &self.namespace {
            None => format!(
                "ClusterRoleBinding {} of {} {} to {}",
                go_quote(&self.name),
                self.role_kind,
                go_quote(&self.role_name),
                subject.describe()
            ),
            Some(ns) => format!(
                "RoleBinding {} of {} {} to {}",
                go_quote(&format!("{}/{ns}", self.name)),
                self.role_kind,
                go_quote(&self.role_name),
                subject.describe()
            ),
        }
    }
}

/// The RBAC rules of one scenario, indexed for evaluation. Members of `system:masters` may
/// do everything, as on a real API server.
#[derive(Debug, Clone)]
pub struct Authorizer {
    /// Rules of every Role and ClusterRole (aggregation applied).
    roles: Vec<Vec<PolicyRule>>,
    /// ClusterRoleBindings first, then RoleBindings: the order the real resolver visits.
    bindings: Vec<Binding>,
    /// User name (ServiceAccounts as `system:serviceaccount:NS:NAME`) → (binding, subject).
    by_user: HashMap<String, Vec<(usize, usize)>>,
    /// Group name → (binding, subject).
    by_group: HashMap<String, Vec<(usize, usize)>>,
}

impl Default for Authorizer {
    /// No scenario RBAC: only `system:masters` and the default bindings of every cluster.
    fn default() -> Self {
        Self::from_objects(std::iter::empty())
    }
}

struct RawRole<'a> {
    namespace: Option<String>,
    name: String,
    labels: Map<String, Value>,
    rules: Vec<PolicyRule>,
    aggregation: Option<&'a Value>,
}

impl Authorizer {
    /// Reads Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (including aggregated
    /// ClusterRoles' `aggregationRule`) from the scenario's objects; other objects are ignored.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut raw_roles: Vec<RawRole<'a>> = Vec::new();
        let mut crbs: Vec<&'a Value> = Vec::new();
        let mut rbs: Vec<&'a Value> = Vec::new();
        for obj in objects {
            let api_version = str_of(obj.get("apiVersion"));
            if !api_version.starts_with("rbac.authorization.k8s.io/") {
                continue;
            }
            let meta = obj.get("metadata");
            match str_of(obj.get("kind")) {
                kind @ ("Role" | "ClusterRole") => raw_roles.push(RawRole {
                    namespace: (kind == "Role")
                        .then(|| str_of(meta.and_then(|m| m.get("namespace"))).to_string()),
                    name: str_of(meta.and_then(|m| m.get("name"))).to_string(),
                    labels: meta
                        .and_then(|m| m.get("labels"))
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    rules: array(obj.get("rules"))
                        .iter()
                        .map(PolicyRule::from_json)
                        .collect(),
                    aggregation: obj
                        .get("aggregationRule")
                        .and_then(|a| a.get("clusterRoleSelectors"))
                        .filter(|s| s.is_array()),
                }),
                "ClusterRoleBinding" => crbs.push(obj),
                "RoleBinding" => rbs.push(obj),
                _ => {}
            }
        }

        let mut roles: Vec<Vec<PolicyRule>> = Vec::new();
        let mut cluster_roles: HashMap<String, usize> = HashMap::new();
        let mut ns_roles: HashMap<(String, String), usize> = HashMap::new();
        for r in &raw_roles {
            let idx = roles.len();
            roles.push(r.rules.clone());
            match &r.namespace {
                None => cluster_roles.insert(r.name.clone(), idx),
                Some(ns) => ns_roles.insert((ns.clone(), r.name.clone()), idx),
            };
        }
        aggregate(&raw_roles, &mut roles);

        // The default ClusterRoles and bindings of every real cluster.
        for (role_name, rules, _) in default_policy() {
            cluster_roles
                .entry(role_name.to_string())
                .or_insert_with(|| {
                    roles.push(rules);
                    roles.len() - 1
                });
        }

        let mut bindings = Vec::new();
        let mut crb_names = HashSet::new();
        for b in crbs {
            let binding = parse_binding(b, None, &cluster_roles, &ns_roles);
            crb_names.insert(binding.name.clone());
            bindings.push(binding);
        }
        for (role_name, _, groups) in default_policy() {
            if crb_names.contains(role_name) {
                continue;
            }
            let role = cluster_roles
                .get(role_name)
                .copied()
                .ok_or_else(|| not_found("clusterrole", role_name));
            bindings.push(Binding {
                name: role_name.to_string(),
                namespace: None,
                role_kind: "ClusterRole".into(),
                role_name: role_name.to_string(),
                subjects: groups
                    .iter()
                    .map(|g| Subject {
                        kind: "Group".into(),
                        name: g.to_string(),
                        namespace: String::new(),
                    })
                    .collect(),
                role,
            });
        }
        for b in rbs {
            let ns = str_of(b.get("metadata").and_then(|m| m.get("namespace"))).to_string();
            bindings.push(parse_binding(b, Some(ns), &cluster_roles, &ns_roles));
        }

        let mut by_user: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut by_group: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (bi, b) in bindings.iter().enumerate() {
            for (si, s) in b.subjects.iter().enumerate() {
                match s.key() {
                    Some((true, g)) => by_group.entry(g).or_default().push((bi, si)),
                    Some((false, u)) => by_user.entry(u).or_default().push((bi, si)),
                    None => {}
                }
            }
        }

        Authorizer {
            roles,
            bindings,
            by_user,
            by_group,
        }
    }

    /// Whether `user` may do `attrs`.
    pub fn allowed(&self, user: &User, attrs: &Attributes) -> bool {
        self.authorize(user, attrs).allowed
    }

    /// Whether `user` may do `attrs`, with the reason the real API server reports.
    pub fn authorize(&self, user: &User, attrs: &Attributes) -> Decision {
        if user.groups.iter().any(|g| g == SYSTEM_MASTERS) {
            return Decision {
                allowed: true,
                reason: String::new(),
            };
        }
        let mut errors = Vec::new();
        for (binding, subject) in self.applicable(user, attrs.namespace()) {
            match binding.role {
                Ok(role) => {
                    if self.roles[role].iter().any(|r| r.allows(attrs)) {
                        return Decision {
                            allowed: true,
                            reason: format!(
                                "RBAC: allowed by {}",
                                binding.describe(&binding.subjects[subject])
                            ),
                        };
                    }
                }
                Err(ref e) => errors.push(e.clone()),
            }
        }
        Decision {
            allowed: false,
            reason: if errors.is_empty() {
                String::new()
            } else {
                format!("RBAC: {}", aggregate_errors(errors))
            },
        }
    }

    /// The bindings that apply to `user` in `namespace` (all its ClusterRoleBindings, plus
    /// its RoleBindings of that namespace), in visiting order, with the matching subject.
    fn applicable<'s>(
        &'s self,
        user: &User,
        namespace: Option<&str>,
    ) -> impl Iterator<Item = (&'s Binding, usize)> {
        let mut hits: Vec<(usize, usize)> = Vec::new();
        if let Some(h) = self.by_user.get(&user.name) {
            hits.extend_from_slice(h);
        }
        for g in &user.groups {
            if let Some(h) = self.by_group.get(g) {
                hits.extend_from_slice(h);
            }
        }
        hits.sort_unstable();
        hits.dedup_by_key(|(b, _)| *b);
        hits.into_iter().filter_map(move |(bi, si)| {
            let b = &self.bindings[bi];
            match (&b.namespace, namespace) {
                (None, _) => Some((b, si)),
                (Some(bns), Some(ns)) if bns == ns => Some((b, si)),
                _ => None,
            }
        })
    }

    /// The 403 Status body a real API server returns, e.g. message
    /// `nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope`.
    pub fn forbidden_status(user: &User, attrs: &Attributes) -> Value {
        forbidden(user, attrs, "")
    }

    /// Like [`Authorizer::forbidden_status`], with the RBAC errors the real server appends
    /// (`…: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`) when a binding of the
    /// user points at a missing role.
    pub fn forbidden_status_for(&self, user: &User, attrs: &Attributes) -> Value {
        let decision = self.authorize(user, attrs);
        forbidden(user, attrs, &decision.reason)
    }

    /// Answers a SelfSubjectAccessReview body (the request as POSTed) with the same object
    /// plus `status: {allowed, reason}`.
    pub fn self_subject_access_review(&self, user: &User, review: &Value) -> Value {
        let spec = review.get("spec");
        let attrs = if let Some(ra) = spec
            .and_then(|s| s.get("resourceAttributes"))
            .filter(|r| r.is_object())
        {
            let opt = |k: &str| Some(str_of(ra.get(k)).to_string()).filter(|s| !s.is_empty());
            Some(Attributes {
                verb: str_of(ra.get("verb")).to_string(),
                api_group: str_of(ra.get("group")).to_string(),
                resource: str_of(ra.get("resource")).to_string(),
                subresource: str_of(ra.get("subresource")).to_string(),
                namespace: opt("namespace"),
                name: opt("name"),
                path: None,
            })
        } else {
            spec.and_then(|s| s.get("nonResourceAttributes"))
                .filter(|r| r.is_object())
                .map(|nra| Attributes {
                    verb: str_of(nra.get("verb")).to_string(),
                    path: Some(str_of(nra.get("path")).to_string()),
                    ..Attributes::default()
                })
        };
        let decision = attrs.map(|a| self.authorize(user, &a)).unwrap_or_default();
        let mut status = Map::new();
        status.insert("allowed".into(), decision.allowed.into());
        if !decision.reason.is_empty() {
            status.insert("reason".into(), decision.reason.into());
        }
        let mut out = review_envelope(review, "SelfSubjectAccessReview");
        if let Some(spec) = spec {
            out.insert("spec".into(), spec.clone());
        }
        out.insert("status".into(), Value::Object(status));
        Value::Object(out)
    }

    /// Answers a SelfSubjectRulesReview for `spec.namespace` with `status.resourceRules`
    /// and `status.nonResourceRules`, as `kubectl auth can-i --list` prints them.
    pub fn self_subject_rules_review(&self, user: &User, review: &Value) -> Value {
        let namespace = review
            .get("spec")
            .and_then(|s| s.get("namespace"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let (rules, errors) = self.rules_for(user, namespace);
        let resource_rules: Vec<Value> = rules
            .iter()
            .filter(|r| !r.resources.is_empty())
            .map(|r| {
                let mut m = Map::new();
                m.insert("verbs".into(), json!(r.verbs));
                if !r.api_groups.is_empty() {
                    m.insert("apiGroups".into(), json!(r.api_groups));
                }
                m.insert("resources".into(), json!(r.resources));
                if !r.resource_names.is_empty() {
                    m.insert("resourceNames".into(), json!(r.resource_names));
                }
                Value::Object(m)
            })
            .collect();
        let non_resource_rules: Vec<Value> = rules
            .iter()
            .filter(|r| !r.non_resource_urls.is_empty())
            .map(|r| json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}))
            .collect();
        let mut status = Map::new();
        status.insert("resourceRules".into(), resource_rules.into());
        status.insert("nonResourceRules".into(), non_resource_rules.into());
        status.insert("incomplete".into(), false.into());
        if !errors.is_empty() {
            status.insert("evaluationError".into(), aggregate_errors(errors).into());
        }
        let mut out = review_envelope(review, "SelfSubjectRulesReview");
        // The real server answers with a fresh object: the spec is not echoed.
        out.insert("spec".into(), json!({}));
        out.insert("status".into(), Value::Object(status));
        Value::Object(out)
    }

    /// Every rule granted to `user` in `namespace` (cluster-wide rules only when `None`),
    /// duplicates removed, plus the errors met (missing roles).
    pub fn rules_for(
        &self,
        user: &User,
        namespace: Option<&str>,
    ) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules: Vec<PolicyRule> = Vec::new();
        let mut errors = Vec::new();
        if user.groups.iter().any(|g| g == SYSTEM_MASTERS) {
            rules.push(PolicyRule {
                verbs: vec!["*".into()],
                api_groups: vec!["*".into()],
                resources: vec!["*".into()],
                ..PolicyRule::default()
            });
            rules.push(PolicyRule {
                verbs: vec!["*".into()],
                non_resource_urls: vec!["*".into()],
                ..PolicyRule::default()
            });
        }
        for (binding, _) in self.applicable(user, namespace) {
            match binding.role {
                Ok(role) => {
                    for r in &self.roles[role] {
                        if !rules.contains(r) {
                            rules.push(r.clone());
                        }
                    }
                }
                Err(ref e) => errors.push(e.clone()),
            }
        }
        (rules, errors)
    }

    /// Answers a SelfSubjectReview (`kubectl auth whoami`) of the given apiVersion.
    pub fn self_subject_review(user: &User, api_version: &str) -> Value {
        let mut info = Map::new();
        if !user.name.is_empty() {
            info.insert("username".into(), user.name.clone().into());
        }
        if !user.groups.is_empty() {
            info.insert("groups".into(), json!(user.groups));
        }
        json!({
            "kind": "SelfSubjectReview",
            "apiVersion": api_version,
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": Value::Object(info)},
        })
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn strings(v: Option<&Value>) -> Vec<String> {
    array(v)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Go's `%q` for the plain names RBAC deals with.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn not_found(kind: &str, name: &str) -> String {
    format!(
        "{kind}.rbac.authorization.k8s.io {} not found",
        go_quote(name)
    )
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is, several as `[a, b]`.
fn aggregate_errors(mut errors: Vec<String>) -> String {
    let mut seen = HashSet::new();
    errors.retain(|e| seen.insert(e.clone()));
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        format!("[{}]", errors.join(", "))
    }
}

fn parse_binding(
    b: &Value,
    namespace: Option<String>,
    cluster_roles: &HashMap<String, usize>,
    ns_roles: &HashMap<(String, String), usize>,
) -> Binding {
    let name = str_of(b.get("metadata").and_then(|m| m.get("name"))).to_string();
    let role_kind = str_of(b.get("roleRef").and_then(|r| r.get("kind"))).to_string();
    let role_name = str_of(b.get("roleRef").and_then(|r| r.get("name"))).to_string();
    let role = match (role_kind.as_str(), &namespace) {
        ("ClusterRole", _) => cluster_roles
            .get(&role_name)
            .copied()
            .ok_or_else(|| not_found("clusterrole", &role_name)),
        ("Role", Some(ns)) => ns_roles
            .get(&(ns.clone(), role_name.clone()))
            .copied()
            .ok_or_else(|| not_found("role", &role_name)),
        (kind, _) => Err(format!(
            "unsupported role reference kind: {}",
            go_quote(kind)
        )),
    };
    let subjects = array(b.get("subjects"))
        .iter()
        .map(|s| {
            let mut ns = str_of(s.get("namespace")).to_string();
            if ns.is_empty() && str_of(s.get("kind")) == "ServiceAccount" {
                ns = namespace.clone().unwrap_or_default();
            }
            Subject {
                kind: str_of(s.get("kind")).to_string(),
                name: str_of(s.get("name")).to_string(),
                namespace: ns,
            }
        })
        .collect();
    Binding {
        name,
        namespace,
        role_kind,
        role_name,
        subjects,
        role,
    }
}

/// Whether `labels` match a LabelSelector (matchLabels and matchExpressions).
fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if label(k) != v.as_str() {
                return false;
            }
        }
    }
    for expr in array(selector.get("matchExpressions")) {
        let key = str_of(expr.get("key"));
        let values = strings(expr.get("values"));
        let value = label(key);
        let ok = match str_of(expr.get("operator")) {
            "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
            "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The ClusterRole aggregation controller: an aggregated ClusterRole gets the rules of the
/// ClusterRoles its selectors match (by name order, without duplicates), until nothing
/// changes (aggregated roles may feed each other, like `edit` into `admin`).
fn aggregate(raw: &[RawRole<'_>], roles: &mut [Vec<PolicyRule>]) {
    let mut by_name: Vec<usize> = (0..raw.len())
        .filter(|&i| raw[i].namespace.is_none())
        .collect();
    by_name.sort_by(|&a, &b| raw[a].name.cmp(&raw[b].name));
    for _ in 0..8 {
        let mut changed = false;
        for (i, r) in raw.iter().enumerate() {
            let Some(selectors) = r.aggregation.and_then(Value::as_array) else {
                continue;
            };
            if r.namespace.is_some() {
                continue;
            }
            for &j in &by_name {
                if j == i
                    || !selectors
                        .iter()
                        .any(|s| selector_matches(s, &raw[j].labels))
                {
                    continue;
                }
                let source = roles[j].clone();
                for rule in source {
                    if !roles[i].contains(&rule) {
                        roles[i].push(rule);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
}

type DefaultBinding = (&'static str, Vec<PolicyRule>, &'static [&'static str]);

/// The ClusterRoles and ClusterRoleBindings every real cluster has, as kube-apiserver's
/// bootstrap policy defines them.
fn default_policy() -> Vec<DefaultBinding> {
    let get = |urls: &[&str]| PolicyRule {
        verbs: vec!["get".into()],
        non_resource_urls: urls.iter().map(|u| u.to_string()).collect(),
        ..PolicyRule::default()
    };
    let create = |group: &str, resources: &[&str]| PolicyRule {
        verbs: vec!["create".into()],
        api_groups: vec![group.into()],
        resources: resources.iter().map(|r| r.to_string()).collect(),
        ..PolicyRule::default()
    };
    vec![
        (
            "system:discovery",
            vec![get(&[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ])],
            &["system:authenticated"],
        ),
        (
            "system:basic-user",
            vec![
                create(
                    "authorization.k8s.io",
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                create("authentication.k8s.io", &["selfsubjectreviews"]),
            ],
            &["system:authenticated"],
        ),
        (
            "system:public-info-viewer",
            vec![get(&[
                "/healthz",
                "/livez",
                "/readyz",
                "/version",
                "/version/",
            ])],
            &["system:authenticated", "system:unauthenticated"],
        ),
    ]
}

/// `forbiddenMessage` + `apierrors.NewForbidden` of k8s.io/apiserver.
fn forbidden(user: &User, attrs: &Attributes, reason: &str) -> Value {
    let who = go_quote(&user.name);
    let mut msg = if attrs.is_resource_request() {
        let mut resource = attrs.resource.clone();
        if !attrs.subresource.is_empty() {
            resource = format!("{resource}/{}", attrs.subresource);
        }
        let scope = match attrs.namespace() {
            Some(ns) => format!("in the namespace {}", go_quote(ns)),
            None => "at the cluster scope".to_string(),
        };
        format!(
            "User {who} cannot {} resource {} in API group {} {scope}",
            attrs.verb,
            go_quote(&resource),
            go_quote(&attrs.api_group)
        )
    } else {
        format!(
            "User {who} cannot {} path {}",
            attrs.verb,
            go_quote(attrs.path.as_deref().unwrap_or(""))
        )
    };
    if !reason.is_empty() {
        msg = format!("{msg}: {reason}");
    }

    let mut details = Map::new();
    let message = if attrs.is_resource_request() {
        let qualified = if attrs.api_group.is_empty() {
            attrs.resource.clone()
        } else {
            format!("{}.{}", attrs.resource, attrs.api_group)
        };
        let name = attrs.name();
        if !name.is_empty() {
            details.insert("name".into(), name.into());
        }
        if !attrs.api_group.is_empty() {
            details.insert("group".into(), attrs.api_group.clone().into());
        }
        details.insert("kind".into(), attrs.resource.clone().into());
        if name.is_empty() {
            format!("{qualified} is forbidden: {msg}")
        } else {
            format!("{qualified} {} is forbidden: {msg}", go_quote(name))
        }
    } else {
        format!("forbidden: {msg}")
    };
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Forbidden",
        "details": Value::Object(details),
        "code": 403,
    })
}

/// kind, apiVersion (the request's, else `authorization.k8s.io/v1`) and metadata with
/// `creationTimestamp: null`, as the real server answers a review.
fn review_envelope(review: &Value, kind: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    let api_version = match str_of(review.get("apiVersion")) {
        "" => "authorization.k8s.io/v1",
        v => v,
    };
    out.insert("apiVersion".into(), api_version.into());
    let mut metadata = review
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.entry("creationTimestamp").or_insert(Value::Null);
    out.insert("metadata".into(), Value::Object(metadata));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, groups: &[&str]) -> User {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        groups.push("system:authenticated".into());
        User {
            name: name.into(),
            groups,
        }
    }

    fn res(verb: &str, group: &str, resource: &str, ns: Option<&str>) -> Attributes {
        Attributes {
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            namespace: ns.map(str::to_string),
            ..Attributes::default()
        }
    }

    fn path(verb: &str, p: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            path: Some(p.into()),
            ..Attributes::default()
        }
    }

    fn scenario() -> Vec<Value> {
        vec![
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "pod-reader", "namespace": "shop"},
                "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "jane-reads-pods", "namespace": "shop"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "view"},
                "rules": [{"apiGroups": ["", "apps"], "resources": ["pods", "services", "deployments", "events"], "verbs": ["get", "list", "watch"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "auditors-view"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "auditors"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "bob-view", "namespace": "dev"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "User", "name": "bob"}]}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ignored"}}),
        ]
    }

    fn authorizer() -> Authorizer {
        let objs = scenario();
        Authorizer::from_objects(objs.iter())
    }

    #[test]
    fn system_masters_may_do_anything() {
        let a = Authorizer::from_objects(std::iter::empty());
        let admin = user("kubernetes-admin", &["system:masters"]);
        assert!(a.allowed(&admin, &res("delete", "", "nodes", None)));
        assert!(a.allowed(&admin, &res("get", "", "secrets", Some("kube-system"))));
        assert!(a.allowed(&admin, &path("get", "/readyz/etcd")));
        assert!(!a.allowed(&user("jane", &[]), &res("list", "", "nodes", None)));
    }

    #[test]
    fn role_in_shop_is_limited_to_shop_and_its_resources() {
        let a = authorizer();
        let jane = user("jane", &[]);
        assert!(a.allowed(&jane, &res("list", "", "pods", Some("shop"))));
        assert!(!a.allowed(&jane, &res("list", "", "pods", Some("kube-system"))));
        assert!(!a.allowed(&jane, &res("list", "", "pods", None)));
        assert!(!a.allowed(&jane, &res("list", "", "nodes", None)));
        assert!(!a.allowed(&jane, &res("delete", "", "pods", Some("shop"))));
        assert!(!a.allowed(&jane, &res("list", "apps", "pods", Some("shop"))));
        let d = a.authorize(&jane, &res("list", "", "pods", Some("shop")));
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "jane-reads-pods/shop" of Role "pod-reader" to User "jane""#
        );
    }

    #[test]
    fn cluster_role_binding_to_view_grants_everywhere_but_only_its_rules() {
        let a = authorizer();
        let ann = user("ann", &["auditors"]);
        assert!(a.allowed(&ann, &res("list", "", "pods", None)));
        assert!(a.allowed(&ann, &res("watch", "", "pods", Some("kube-system"))));
        assert!(a.allowed(&ann, &res("get", "apps", "deployments", Some("shop"))));
        assert!(!a.allowed(&ann, &res("list", "", "secrets", Some("shop"))));
        assert!(!a.allowed(&ann, &res("list", "", "nodes", None)));
        assert_eq!(
            a.authorize(&ann, &res("list", "", "pods", None)).reason,
            r#"RBAC: allowed by ClusterRoleBinding "auditors-view" of ClusterRole "view" to Group "auditors""#
        );
    }

    #[test]
    fn role_binding_to_cluster_role_is_namespace_limited() {
        let a = authorizer();
        let bob = user("bob", &[]);
        assert!(a.allowed(&bob, &res("list", "", "pods", Some("dev"))));
        assert!(!a.allowed(&bob, &res("list", "", "pods", Some("shop"))));
        assert!(!a.allowed(&bob, &res("list", "", "pods", None)));
    }

    #[test]
    fn resource_names_restrict_to_named_requests() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "one-cm", "namespace": "shop"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app-config"], "verbs": ["get", "list"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "rb", "namespace": "shop"},
                "roleRef": {"kind": "Role", "name": "one-cm"}, "subjects": [{"kind": "User", "name": "jane"}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let jane = user("jane", &[]);
        let mut get = res("get", "", "configmaps", Some("shop"));
        get.name = Some("app-config".into());
        assert!(a.allowed(&jane, &get));
        get.name = Some("other".into());
        assert!(!a.allowed(&jane, &get));
        assert!(!a.allowed(&jane, &res("list", "", "configmaps", Some("shop"))));
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "logs"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                          {"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "crb"},
                "roleRef": {"kind": "ClusterRole", "name": "logs"}, "subjects": [{"kind": "User", "name": "jane"}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let jane = user("jane", &[]);
        let mut log = res("get", "", "pods", Some("shop"));
        log.subresource = "log".into();
        log.name = Some("web-1".into());
        assert!(!a.allowed(&jane, &log), "pods does not grant pods/log");
        let mut status = log.clone();
        status.subresource = "status".into();
        assert!(a.allowed(&jane, &status), "*/status grants pods/status");
        // The Role in `scenario` lists pods/log explicitly.
        let a = authorizer();
        assert!(a.allowed(&jane, &log));
    }

    #[test]
    fn aggregated_cluster_roles_collect_matching_rules() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "monitoring"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]},
                "rules": []}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "monitoring-endpoints", "labels": {"rbac.example.com/aggregate-to-monitoring": "true"}},
                "rules": [{"apiGroups": [""], "resources": ["services", "endpoints", "pods"], "verbs": ["get", "list", "watch"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "unrelated", "labels": {"other": "true"}},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "prom"},
                "roleRef": {"kind": "ClusterRole", "name": "monitoring"},
                "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let sa = User {
            name: "system:serviceaccount:monitoring:prometheus".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:monitoring".into(),
                "system:authenticated".into(),
            ],
        };
        assert!(a.allowed(&sa, &res("list", "", "endpoints", None)));
        assert!(!a.allowed(&sa, &res("get", "", "secrets", Some("default"))));
        assert_eq!(
            a.authorize(&sa, &res("list", "", "pods", None)).reason,
            r#"RBAC: allowed by ClusterRoleBinding "prom" of ClusterRole "monitoring" to ServiceAccount "prometheus/monitoring""#
        );
    }

    #[test]
    fn service_account_subject_defaults_to_binding_namespace() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "ci"},
                "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "deployer", "namespace": "ci"},
                "roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "builder"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "all-sa", "namespace": "ci"},
                "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "Group", "name": "system:serviceaccounts:ci"}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "view"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let sa = User {
            name: "system:serviceaccount:ci:builder".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:ci".into(),
                "system:authenticated".into(),
            ],
        };
        assert!(a.allowed(&sa, &res("patch", "apps", "deployments", Some("ci"))));
        assert!(!a.allowed(&sa, &res("patch", "apps", "deployments", Some("prod"))));
        assert!(a.allowed(&sa, &res("get", "", "configmaps", Some("ci"))));
        let other = User {
            name: "system:serviceaccount:prod:builder".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:prod".into(),
            ],
        };
        assert!(!a.allowed(&other, &res("patch", "apps", "deployments", Some("ci"))));
    }

    #[test]
    fn non_resource_urls_and_default_discovery_access() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "health"},
                "rules": [{"nonResourceURLs": ["/readyz*", "/metrics"], "verbs": ["get"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "health"},
                "roleRef": {"kind": "ClusterRole", "name": "health"}, "subjects": [{"kind": "User", "name": "mon"}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let mon = user("mon", &[]);
        assert!(a.allowed(&mon, &path("get", "/readyz/etcd")));
        assert!(a.allowed(&mon, &path("get", "/metrics")));
        assert!(!a.allowed(&mon, &path("get", "/metrics/cadvisor")));
        assert!(!a.allowed(&mon, &path("post", "/metrics")));

        // Every authenticated user: discovery, health, version, self reviews.
        let jane = user("jane", &[]);
        for p in [
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps/v1",
            "/version",
            "/healthz",
            "/livez",
            "/readyz",
            "/readyz?verbose",
        ] {
            assert!(a.allowed(&jane, &path("get", p)), "{p}");
        }
        assert!(!a.allowed(&jane, &path("get", "/readyz/etcd")));
        assert!(!a.allowed(&jane, &path("get", "/metrics")));
        let ssar = res(
            "create",
            "authorization.k8s.io",
            "selfsubjectaccessreviews",
            None,
        );
        assert!(a.allowed(&jane, &ssar));
        assert!(a.allowed(
            &jane,
            &res(
                "create",
                "authentication.k8s.io",
                "selfsubjectreviews",
                None
            )
        ));
        assert_eq!(
            a.authorize(&jane, &path("get", "/version")).reason,
            r#"RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated""#
        );
        // Anonymous: only the public info.
        let anon = User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
        };
        assert!(a.allowed(&anon, &path("get", "/healthz")));
        assert!(!a.allowed(&anon, &path("get", "/api")));
        assert!(!a.allowed(&anon, &ssar));
    }

    #[test]
    fn forbidden_bodies_match_the_api_server() {
        let jane = user("jane", &[]);
        assert_eq!(
            Authorizer::forbidden_status(&jane, &res("list", "", "nodes", None)),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
                "reason": "Forbidden", "details": {"kind": "nodes"}, "code": 403})
        );
        let s = Authorizer::forbidden_status(&jane, &res("list", "", "pods", Some("default")));
        assert_eq!(
            s["message"],
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let mut get = res("get", "", "pods", Some("shop"));
        get.name = Some("web-1".into());
        let s = Authorizer::forbidden_status(&jane, &get);
        assert_eq!(
            s["message"],
            "pods \"web-1\" is forbidden: User \"jane\" cannot get resource \"pods\" in API group \"\" in the namespace \"shop\""
        );
        assert_eq!(s["details"], json!({"name": "web-1", "kind": "pods"}));
        get.subresource = "log".into();
        assert_eq!(
            Authorizer::forbidden_status(&jane, &get)["message"],
            "pods \"web-1\" is forbidden: User \"jane\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"shop\""
        );
        let s =
            Authorizer::forbidden_status(&jane, &res("list", "apps", "deployments", Some("shop")));
        assert_eq!(
            s["message"],
            "deployments.apps is forbidden: User \"jane\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"shop\""
        );
        assert_eq!(
            s["details"],
            json!({"group": "apps", "kind": "deployments"})
        );
        let s = Authorizer::forbidden_status(&jane, &path("get", "/readyz"));
        assert_eq!(
            s["message"],
            "forbidden: User \"jane\" cannot get path \"/readyz\""
        );
        assert_eq!(s["details"], json!({}));
        let anon = User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
        };
        assert_eq!(
            Authorizer::forbidden_status(&anon, &path("get", "/"))["message"],
            "forbidden: User \"system:anonymous\" cannot get path \"/\""
        );
    }

    #[test]
    fn missing_role_is_reported_like_rbac() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "oops"},
            "roleRef": {"kind": "ClusterRole", "name": "node-reader"}, "subjects": [{"kind": "User", "name": "jane"}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let jane = user("jane", &[]);
        let attrs = res("list", "", "nodes", None);
        let d = a.authorize(&jane, &attrs);
        assert!(!d.allowed);
        assert_eq!(
            d.reason,
            "RBAC: clusterrole.rbac.authorization.k8s.io \"node-reader\" not found"
        );
        assert_eq!(
            a.forbidden_status_for(&jane, &attrs)["message"],
            "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"node-reader\" not found"
        );
    }

    #[test]
    fn self_subject_access_review_shapes() {
        let a = authorizer();
        let jane = user("jane", &[]);
        let req = json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": null},
            "spec": {"resourceAttributes": {"namespace": "shop", "verb": "list", "resource": "pods"}}, "status": {"allowed": false}});
        let resp = a.self_subject_access_review(&jane, &req);
        assert_eq!(resp["kind"], "SelfSubjectAccessReview");
        assert_eq!(resp["apiVersion"], "authorization.k8s.io/v1");
        assert_eq!(resp["metadata"], json!({"creationTimestamp": null}));
        assert_eq!(resp["spec"], req["spec"]);
        assert_eq!(
            resp["status"],
            json!({"allowed": true, "reason": "RBAC: allowed by RoleBinding \"jane-reads-pods/shop\" of Role \"pod-reader\" to User \"jane\""})
        );
        // `kubectl auth can-i list nodes`: denied, no reason.
        let req = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "list", "resource": "nodes"}}});
        assert_eq!(
            a.self_subject_access_review(&jane, &req)["status"],
            json!({"allowed": false})
        );
        let req = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"nonResourceAttributes": {"verb": "get", "path": "/healthz"}}});
        assert_eq!(
            a.self_subject_access_review(&jane, &req)["status"]["allowed"],
            true
        );
        // Admin: allowed by the privileged group, no RBAC reason.
        let admin = user("kubernetes-admin", &["system:masters"]);
        let req = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "list", "resource": "nodes"}}});
        assert_eq!(
            a.self_subject_access_review(&admin, &req)["status"],
            json!({"allowed": true})
        );
        // Garbage body: denied, no panic.
        assert_eq!(
            a.self_subject_access_review(&jane, &json!("x"))["status"]["allowed"],
            false
        );
    }

    #[test]
    fn self_subject_rules_review_lists_cluster_and_namespace_rules() {
        let a = authorizer();
        let jane = user("jane", &[]);
        let req = json!({"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {"creationTimestamp": null}, "spec": {"namespace": "shop"}});
        let resp = a.self_subject_rules_review(&jane, &req);
        assert_eq!(resp["kind"], "SelfSubjectRulesReview");
        assert_eq!(resp["status"]["incomplete"], false);
        let rr = resp["status"]["resourceRules"].as_array().unwrap();
        assert!(rr.contains(&json!({"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods", "pods/log"]})));
        assert!(rr.contains(&json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]})));
        let nr = resp["status"]["nonResourceRules"].as_array().unwrap();
        assert!(nr.iter().any(|r| {
            r["nonResourceURLs"]
                .as_array()
                .unwrap()
                .contains(&json!("/api/*"))
        }));
        assert!(resp["status"].get("evaluationError").is_none());
        // In another namespace the Role's rules are absent.
        let req = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": "kube-system"}});
        let rr = a.self_subject_rules_review(&jane, &req)["status"]["resourceRules"].clone();
        assert!(
            !rr.as_array()
                .unwrap()
                .iter()
                .any(|r| r["resources"] == json!(["pods", "pods/log"]))
        );
        // system:masters gets everything.
        let admin = user("kubernetes-admin", &["system:masters"]);
        let st = a.self_subject_rules_review(&admin, &req)["status"].clone();
        assert_eq!(
            st["resourceRules"][0],
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        );
        assert_eq!(
            st["nonResourceRules"][0],
            json!({"verbs": ["*"], "nonResourceURLs": ["*"]})
        );
    }

    #[test]
    fn self_subject_review_shape() {
        let jane = user("jane", &["devs"]);
        assert_eq!(
            Authorizer::self_subject_review(&jane, "authentication.k8s.io/v1"),
            json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": null},
                "status": {"userInfo": {"username": "jane", "groups": ["devs", "system:authenticated"]}}})
        );
    }

    #[test]
    fn scenario_defined_default_bindings_are_not_duplicated() {
        let objs = [
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:discovery"},
                "rules": [{"nonResourceURLs": ["/api"], "verbs": ["get"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "system:discovery"},
                "roleRef": {"kind": "ClusterRole", "name": "system:discovery"}, "subjects": [{"kind": "Group", "name": "system:authenticated"}]}),
        ];
        let a = Authorizer::from_objects(objs.iter());
        let jane = user("jane", &[]);
        assert!(a.allowed(&jane, &path("get", "/api")));
        // The scenario's narrower role wins; /apis is not in it (and not in public-info-viewer).
        assert!(!a.allowed(&jane, &path("get", "/apis")));
        assert!(a.allowed(&jane, &path("get", "/healthz")));
    }
}
