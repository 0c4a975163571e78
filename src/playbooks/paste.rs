//! What `explain` and the paste box read from the pasted text itself: its subjects (user or
//! service account, verb, resource, namespace, object names, image, address:port, URL,
//! webhook, certificate names), what the message means when no cluster is at hand (the
//! likely causes, ranked, and the commands that tell them apart), and for a Forbidden the
//! access review of the user the text names — evaluated with the cluster's own RBAC objects
//! (read, never written), with the Role or ClusterRole that would grant the request.

use serde::Serialize;
use serde_json::Value;

use super::identity_storage::{Denial, denials};
use crate::server::rbac::{Attributes, Authorizer, User};

/// The subjects of a pasted error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subjects {
    /// Users named by `User "…"` (service accounts as `system:serviceaccount:NS:NAME`).
    pub users: Vec<String>,
    /// The denied requests (`User "jane" cannot list resource "nodes" …`).
    #[serde(skip)]
    pub denials: Vec<Denial>,
    pub verbs: Vec<String>,
    pub resources: Vec<String>,
    pub namespaces: Vec<String>,
    /// Objects named as `RESOURCE "NAME"` or `kind/NAME`.
    pub objects: Vec<String>,
    pub images: Vec<String>,
    /// `HOST:PORT` the message dialed or named.
    pub addresses: Vec<String>,
    pub urls: Vec<String>,
    pub webhooks: Vec<String>,
    /// Names a certificate is valid for, and the name that was asked for.
    pub certificate_names: Vec<String>,
}

impl Subjects {
    pub fn is_empty(&self) -> bool {
        self == &Subjects::default()
    }

    /// One line per kind of subject: `user: jane`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (label, v) in [
            ("user", &self.users),
            ("verb", &self.verbs),
            ("resource", &self.resources),
            ("namespace", &self.namespaces),
            ("object", &self.objects),
            ("image", &self.images),
            ("address", &self.addresses),
            ("url", &self.urls),
            ("webhook", &self.webhooks),
            ("certificate name", &self.certificate_names),
        ] {
            if !v.is_empty() {
                out.push(format!("{label}: {}", v.join(", ")));
            }
        }
        out
    }
}

fn push(v: &mut Vec<String>, s: &str) {
    let s = s
        .trim()
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '\\' | ',' | '.' | ';' | ')' | '('));
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// The quoted string after each occurrence of `marker` (`image "nginx:1.2"`).
fn quoted_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(marker) {
        let start = from + i + marker.len();
        from = start;
        let rest = text[start..].trim_start_matches([' ', '\\']);
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let end = rest.find(['"', '\\']).unwrap_or(rest.len());
        out.push(&rest[..end]);
    }
    out
}

/// Words of the text (split at whitespace and quotes).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
        .filter(|w| !w.is_empty())
}

fn is_host_port(w: &str) -> bool {
    let Some((host, port)) = w.rsplit_once(':') else {
        return false;
    };
    !host.is_empty()
        && !port.is_empty()
        && port.len() <= 5
        && port.chars().all(|c| c.is_ascii_digit())
        && host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && host
            .chars()
            .any(|c| c == '.' || c.is_ascii_digit() || c == ':')
}

/// Reads the subjects of a pasted error text.
pub fn subjects(text: &str) -> Subjects {
    let mut s = Subjects::default();
    for d in denials(text) {
        push(&mut s.users, &d.user);
        push(&mut s.verbs, &d.verb);
        let resource = if d.group.is_empty() {
            d.resource.clone()
        } else {
            format!("{}.{}", d.resource, d.group)
        };
        push(&mut s.resources, &resource);
        if let Some(ns) = &d.namespace {
            push(&mut s.namespaces, ns);
        }
        s.denials.push(d);
    }
    for u in quoted_after(text, "user ") {
        push(&mut s.users, u);
    }
    for w in words(text) {
        if w.starts_with("system:serviceaccount:") {
            push(&mut s.users, w);
        }
    }
    for ns in quoted_after(text, "in the namespace ")
        .into_iter()
        .chain(quoted_after(text, "namespace "))
    {
        push(&mut s.namespaces, ns);
    }
    // `-n NS` / `--namespace NS` of a pasted command line.
    let ws: Vec<&str> = words(text).collect();
    for pair in ws.windows(2) {
        if matches!(pair[0], "-n" | "--namespace") {
            push(&mut s.namespaces, pair[1]);
        }
    }
    // `pods "web-1" is forbidden`, `deployments.apps "x" not found`.
    let lower = text.to_lowercase();
    for marker in ["\" is forbidden", "\" not found", "\" already exists"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(marker) {
            let end = from + i;
            from = end + marker.len();
            let Some(open) = text[..end].rfind('"') else {
                continue;
            };
            let name = &text[open + 1..end];
            let kind = text[..open].trim_end().rsplit(' ').next().unwrap_or("");
            if !name.is_empty() && !kind.is_empty() {
                push(&mut s.objects, &format!("{kind}/{name}"));
            }
        }
    }
    for img in quoted_after(text, "image ")
        .into_iter()
        .chain(quoted_after(text, "pulling image "))
    {
        push(&mut s.images, img);
    }
    for w in words(text) {
        if w.starts_with("http://") || w.starts_with("https://") {
            push(&mut s.urls, w.trim_end_matches([':', ',', '.', ')']));
        } else if is_host_port(w.trim_end_matches([':', ',', ')'])) {
            push(&mut s.addresses, w.trim_end_matches([':', ',', ')']));
        }
    }
    // The address inside a URL counts too.
    for u in s.urls.clone() {
        if let Some(hostport) = u.split("://").nth(1).and_then(|r| r.split('/').next())
            && is_host_port(hostport)
        {
            push(&mut s.addresses, hostport);
        }
    }
    for w in quoted_after(text, "failed calling webhook ") {
        push(&mut s.webhooks, w);
    }
    // `x509: certificate is valid for a, b, not c`.
    if let Some(i) = lower.find("certificate is valid for ") {
        let rest = &text[i + "certificate is valid for ".len()..];
        let (valid, asked) = rest.split_once(", not ").unwrap_or((rest, ""));
        for n in valid.split(", ") {
            push(&mut s.certificate_names, n);
        }
        if let Some(n) = words(asked).next() {
            push(&mut s.certificate_names, n);
        }
    }
    s
}

/// What a message means without a cluster to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meaning {
    /// What the message says happened.
    pub meaning: String,
    /// The likely causes, most likely first.
    pub causes: Vec<String>,
    /// Commands that tell the causes apart, with the pasted subjects filled in.
    pub commands: Vec<String>,
}

/// Explains a message class from its text alone: connection refused, timeouts, DNS,
/// certificates, 401/403, image pulls, webhooks. `None` for a message it does not know.
pub fn meaning(text: &str) -> Option<Meaning> {
    let lower = text.to_lowercase();
    let s = subjects(text);
    let addr = s
        .addresses
        .first()
        .cloned()
        .unwrap_or_else(|| "HOST:PORT".into());
    let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), "PORT"));
    let (host, port) = (host.to_string(), port.to_string());
    let m = |meaning: &str, causes: &[&str], commands: Vec<String>| Meaning {
        meaning: meaning.to_string(),
        causes: causes.iter().map(|c| c.to_string()).collect(),
        commands,
    };
    if lower.contains("connection refused") || lower.contains("was refused") {
        let api = port == "6443" || port == "443" || lower.contains("the connection to the server");
        let mut causes = vec![
            format!("Nothing listens on {addr}: the process is down or restarting (for the API server: its static pod on the control-plane node crashed or the kubelet there is stopped)."),
            format!("The address or port is wrong: the kubeconfig or client points at {addr}, but the service listens elsewhere (another port, another IP, only on 127.0.0.1)."),
            "A local firewall rejects the connection with a TCP reset (a REJECT --reject-with tcp-reset rule).".to_string(),
        ];
        if host == "localhost" || host == "127.0.0.1" {
            causes.insert(0, format!("The client talks to {addr} on this machine: no kubeconfig was found (kubectl falls back to localhost:8080) or it points at a local cluster that is not running."));
        }
        let mut commands = vec![
            format!("nc -vz {host} {port}"),
            format!("curl -k https://{host}:{port}/healthz"),
            "kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}'".to_string(),
        ];
        if api {
            commands.push("# on the control-plane node:".into());
            commands.push("sudo ss -ltnp | grep -E ':6443|:443'".into());
            commands.push("sudo crictl ps -a --name kube-apiserver".into());
            commands.push("sudo journalctl -u kubelet --no-pager | tail -50".into());
        } else {
            commands.push(format!("# on {host}: sudo ss -ltnp | grep ':{port}'"));
        }
        return Some(Meaning {
            meaning: format!(
                "The TCP connection to {addr} was actively refused: the host answered, but nothing accepts connections on that port."
            ),
            causes,
            commands,
        });
    }
    if lower.contains("i/o timeout")
        || lower.contains("connection timed out")
        || lower.contains("no route to host")
    {
        return Some(m(
            &format!(
                "No answer from {addr}: packets to it are dropped or the host is unreachable (`no route to host` is an ICMP reject)."
            ),
            &[
                "A firewall or security group drops or rejects the port.",
                "The host is down, or the address is not routable from here (wrong IP, a VPN or proxy needed).",
                "The service is overloaded and does not accept connections in time.",
            ],
            vec![
                format!("nc -vz -w 3 {host} {port}"),
                format!("ping -c 3 {host}"),
                format!("traceroute -T -p {port} {host}"),
                "env | grep -i _proxy".into(),
            ],
        ));
    }
    if lower.contains("no such host") || lower.contains("server misbehaving") {
        return Some(m(
            &format!("The name {host} does not resolve: DNS has no record for it."),
            &[
                "A typo or an old name in the kubeconfig or the client's configuration.",
                "The resolver in use (/etc/resolv.conf, a VPN's DNS) does not know the cluster's names.",
            ],
            vec![
                format!("getent hosts {host}"),
                "cat /etc/resolv.conf".into(),
                "kubectl config view --minify".into(),
            ],
        ));
    }
    if lower.contains("x509") {
        return Some(m(
            "The TLS certificate the server presented was not accepted.",
            &[
                "`unknown authority`: the kubeconfig's certificate-authority-data is not the CA that signed the server's certificate (a rebuilt cluster, a proxy re-signing TLS).",
                "`certificate has expired or is not yet valid`: the certificate is past its NotAfter (kubeadm certificates last a year) or the clock is wrong.",
                "`valid for …, not …`: the name or IP dialled is not in the certificate's SANs (a new load balancer or IP).",
            ],
            vec![
                format!("openssl s_client -connect {host}:{port} -showcerts </dev/null | openssl x509 -noout -subject -issuer -dates -ext subjectAltName"),
                "kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d | openssl x509 -noout -subject -dates".into(),
                "sudo kubeadm certs check-expiration".into(),
            ],
        ));
    }
    if lower.contains("forbidden") && !s.denials.is_empty() {
        let d = &s.denials[0];
        let scope = d
            .namespace
            .as_deref()
            .map(|n| format!("in namespace {n}"))
            .unwrap_or_else(|| "at the cluster scope".into());
        let ns_flag = d
            .namespace
            .as_deref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        return Some(m(
            &format!(
                "The API server authenticated {} but RBAC does not allow them to {} {} {scope}.",
                d.user, d.verb, d.resource
            ),
            &[
                "No Role/ClusterRole binding grants the verb on the resource to the user or a group of theirs.",
                "A RoleBinding grants it in one namespace, but the request is cluster-wide (or in another namespace).",
                "The client runs as another identity than intended (a service account, the wrong kubeconfig user).",
            ],
            vec![
                format!(
                    "kubectl auth can-i {} {}{ns_flag} --as {}",
                    d.verb, d.resource, d.user
                ),
                "kubectl auth whoami".into(),
                format!(
                    "kubectl get clusterrolebindings,rolebindings -A -o wide | grep -w {}",
                    d.user
                ),
            ],
        ));
    }
    if lower.contains("unauthorized") || lower.contains("must be logged in") {
        return Some(m(
            "The API server did not accept the credentials (401): it does not know who the client is.",
            &[
                "An expired token or client certificate (or an exec credential plugin that failed).",
                "Credentials of another cluster in the kubeconfig.",
            ],
            vec![
                "kubectl auth whoami".into(),
                "kubectl config view --minify".into(),
            ],
        ));
    }
    if lower.contains("imagepullbackoff")
        || lower.contains("errimagepull")
        || lower.contains("failed to pull image")
    {
        let image = s.images.first().cloned().unwrap_or_else(|| "IMAGE".into());
        return Some(m(
            &format!("The kubelet could not pull the image {image}."),
            &[
                "The image name or tag does not exist (`not found`, `manifest unknown`).",
                "The registry needs credentials the pod does not have (`unauthorized`, `denied`): imagePullSecrets.",
                "The node cannot reach the registry (DNS, proxy, firewall: `i/o timeout`, `no such host`).",
            ],
            vec![
                format!("kubectl get pods -A -o wide | grep -E 'ImagePull|ErrImage'"),
                format!("# on the node: sudo crictl pull {image}"),
                "kubectl describe pod POD | sed -n '/Events/,$p'".into(),
            ],
        ));
    }
    if lower.contains("failed calling webhook") {
        let hook = s
            .webhooks
            .first()
            .cloned()
            .unwrap_or_else(|| "WEBHOOK".into());
        return Some(m(
            &format!(
                "The API server could not call the admission webhook {hook}, so it refused the request."
            ),
            &[
                "The webhook's Service has no ready endpoints (its pods are down).",
                "The webhook's certificate is not trusted (caBundle mismatch) or has expired.",
                "The control plane cannot reach the webhook pods (network policy, firewall).",
            ],
            vec![
                "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations".into(),
                "kubectl get endpoints -A | grep -i webhook".into(),
            ],
        ));
    }
    None
}

/// The access review of a denied request against the cluster's RBAC objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessReview {
    pub user: String,
    pub verb: String,
    pub resource: String,
    pub group: String,
    pub namespace: Option<String>,
    /// Whether the RBAC objects allow the request to the user (with `system:authenticated`).
    pub allowed: bool,
    /// The missing permission, as `kubectl auth can-i` spells it.
    pub missing: String,
    /// Existing roles that include it (`ClusterRole/view`), the smallest first, the
    /// `system:` roles and cluster-admin last.
    pub granted_by: Vec<String>,
    /// Commands that grant it: a binding of the best existing role, or a minimal new one.
    pub commands: Vec<String>,
}

/// The RBAC objects as the authorizer reads them: list items lack `apiVersion`/`kind`.
fn typed(kind: &str, items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if let Some(m) = o.as_object_mut() {
                m.insert(
                    "apiVersion".into(),
                    Value::String("rbac.authorization.k8s.io/v1".into()),
                );
                m.insert("kind".into(), Value::String(kind.into()));
            }
            o
        })
        .collect()
}

fn rule_count(role: &Value) -> usize {
    role.get("rules")
        .and_then(Value::as_array)
        .map_or(usize::MAX / 2, |r| {
            r.iter()
                .map(|rule| {
                    let n = |k: &str| rule.get(k).and_then(Value::as_array).map_or(1, Vec::len);
                    n("verbs") * n("resources") * n("apiGroups")
                })
                .sum()
        })
}

/// Whether a role (`ClusterRole/view`, `Role/shop/pod-reader`) is made for people: the
/// aggregated user-facing roles, or a `*-reader`/`*-viewer`.
fn for_people(role: &str) -> bool {
    let name = role.rsplit('/').next().unwrap_or_default();
    matches!(name, "view" | "edit" | "admin")
        || name.ends_with("-reader")
        || name.ends_with("-viewer")
}

/// Reviews `denial` against the RBAC objects (lists of ClusterRoles, ClusterRoleBindings,
/// Roles and RoleBindings as the API returns them).
pub fn review(
    denial: &Denial,
    cluster_roles: &[Value],
    cluster_role_bindings: &[Value],
    roles: &[Value],
    role_bindings: &[Value],
) -> AccessReview {
    let (user, groups) = match denial.user.strip_prefix("system:serviceaccount:") {
        Some(sa) => (
            denial.user.clone(),
            vec![
                "system:serviceaccounts".to_string(),
                format!(
                    "system:serviceaccounts:{}",
                    sa.split(':').next().unwrap_or_default()
                ),
                "system:authenticated".into(),
            ],
        ),
        None => (
            denial.user.clone(),
            vec!["system:authenticated".to_string()],
        ),
    };
    let who = User {
        name: user.clone(),
        groups,
    };
    let attrs = Attributes {
        verb: denial.verb.clone(),
        api_group: denial.group.clone(),
        resource: denial.resource.clone(),
        namespace: denial.namespace.clone(),
        ..Attributes::default()
    };
    let crs = typed("ClusterRole", cluster_roles);
    let rs = typed("Role", roles);
    let mut all = crs.clone();
    all.extend(typed("ClusterRoleBinding", cluster_role_bindings));
    all.extend(rs.clone());
    all.extend(typed("RoleBinding", role_bindings));
    let allowed = Authorizer::from_objects(&all).allowed(&who, &attrs);

    // Which existing roles would grant it, bound to this user alone.
    let subject = if let Some(sa) = user.strip_prefix("system:serviceaccount:") {
        let (ns, name) = sa.split_once(':').unwrap_or(("default", sa));
        serde_json::json!({"kind": "ServiceAccount", "name": name, "namespace": ns})
    } else {
        serde_json::json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user})
    };
    let mut grants: Vec<(usize, String)> = Vec::new();
    for cr in &crs {
        let name = cr
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let binding = match &denial.namespace {
            Some(ns) => {
                serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "review", "namespace": ns}, "roleRef": {"kind": "ClusterRole", "name": name, "apiGroup": "rbac.authorization.k8s.io"}, "subjects": [subject]})
            }
            None => {
                serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "review"}, "roleRef": {"kind": "ClusterRole", "name": name, "apiGroup": "rbac.authorization.k8s.io"}, "subjects": [subject]})
            }
        };
        let mut objs: Vec<&Value> = crs.iter().collect();
        objs.push(&binding);
        if Authorizer::from_objects(objs).allowed(&who, &attrs) {
            grants.push((rule_count(cr), format!("ClusterRole/{name}")));
        }
    }
    if let Some(ns) = &denial.namespace {
        for r in rs
            .iter()
            .filter(|r| r.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns))
        {
            let name = r
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let binding = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "review", "namespace": ns}, "roleRef": {"kind": "Role", "name": name, "apiGroup": "rbac.authorization.k8s.io"}, "subjects": [subject]});
            if Authorizer::from_objects([r, &binding]).allowed(&who, &attrs) {
                grants.push((rule_count(r), format!("Role/{ns}/{name}")));
            }
        }
    }
    // Roles made for people first, then the smallest; cluster-admin and the system: roles
    // last.
    grants.sort_by_key(|(n, name)| {
        (
            name.ends_with("/cluster-admin"),
            name.contains("/system:"),
            !for_people(name),
            *n,
            name.clone(),
        )
    });
    let granted_by: Vec<String> = grants.into_iter().map(|(_, n)| n).take(5).collect();
    let resource = if denial.group.is_empty() {
        denial.resource.clone()
    } else {
        format!("{}.{}", denial.resource, denial.group)
    };
    let ns_flag = denial
        .namespace
        .as_deref()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    let who_flag = match user.strip_prefix("system:serviceaccount:") {
        Some(sa) => format!("--serviceaccount={sa}"),
        None => format!("--user={user}"),
    };
    let safe: String = user
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut commands = vec![format!(
        "kubectl auth can-i {} {resource}{ns_flag} --as {user}",
        denial.verb
    )];
    // An existing role is reused only when it is made for people (the aggregated user-facing
    // roles, a `*-reader`/`*-viewer`); an add-on's own role grants what the add-on needs, not
    // what this user lacks: then a minimal role is created.
    let reusable = granted_by.iter().find(|g| for_people(g)).cloned();
    match (&denial.namespace, reusable) {
        (None, Some(g)) => commands.push(format!(
            "kubectl create clusterrolebinding {safe}-{} --clusterrole={} {who_flag}",
            denial.resource,
            g.trim_start_matches("ClusterRole/")
        )),
        (Some(ns), Some(g)) if g.starts_with("ClusterRole/") => commands.push(format!(
            "kubectl create rolebinding {safe}-{} -n {ns} --clusterrole={} {who_flag}",
            denial.resource,
            g.trim_start_matches("ClusterRole/")
        )),
        (Some(ns), Some(g)) => commands.push(format!(
            "kubectl create rolebinding {safe}-{} -n {ns} --role={} {who_flag}",
            denial.resource,
            g.rsplit('/').next().unwrap_or_default()
        )),
        (None, None) => {
            commands.push(format!(
                "kubectl create clusterrole {}-reader --verb={} --resource={resource}",
                denial.resource, denial.verb
            ));
            commands.push(format!(
                "kubectl create clusterrolebinding {safe}-{} --clusterrole={}-reader {who_flag}",
                denial.resource, denial.resource
            ));
        }
        (Some(ns), None) => {
            commands.push(format!(
                "kubectl create role {}-reader -n {ns} --verb={} --resource={resource}",
                denial.resource, denial.verb
            ));
            commands.push(format!(
                "kubectl create rolebinding {safe}-{} -n {ns} --role={}-reader {who_flag}",
                denial.resource, denial.resource
            ));
        }
    }
    AccessReview {
        user,
        verb: denial.verb.clone(),
        resource,
        group: denial.group.clone(),
        namespace: denial.namespace.clone(),
        allowed,
        missing: format!(
            "{} {}{}",
            denial.verb,
            if denial.group.is_empty() {
                denial.resource.clone()
            } else {
                format!("{}.{}", denial.resource, denial.group)
            },
            denial
                .namespace
                .as_deref()
                .map(|n| format!(" in namespace {n}"))
                .unwrap_or_else(|| " at the cluster scope".into())
        ),
        granted_by,
        commands,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JANE: &str = "Error from server (Forbidden): nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope";

    #[test]
    fn the_subjects_of_a_forbidden_and_a_dial_error_are_read() {
        let s = subjects(JANE);
        assert_eq!(s.users, ["jane"]);
        assert_eq!(s.verbs, ["list"]);
        assert_eq!(s.resources, ["nodes"]);
        let s = subjects(
            "Error from server (Forbidden): pods \"web-1\" is forbidden: User \"system:serviceaccount:shop:ci\" cannot get resource \"pods\" in API group \"\" in the namespace \"shop\"",
        );
        assert_eq!(s.users, ["system:serviceaccount:shop:ci"]);
        assert_eq!(s.namespaces, ["shop"]);
        assert_eq!(s.objects, ["pods/web-1"]);
        let s = subjects(
            "The connection to the server 10.0.0.10:6443 was refused - did you specify the right host or port?",
        );
        assert_eq!(s.addresses, ["10.0.0.10:6443"]);
        let s = subjects(
            "Failed to pull image \"registry.example.com/shop/web:1.4\": rpc error: code = NotFound",
        );
        assert_eq!(s.images, ["registry.example.com/shop/web:1.4"]);
        let s = subjects(
            "Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": Post \"https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s\": dial tcp 10.96.12.7:443: connect: connection refused",
        );
        assert_eq!(s.webhooks, ["validate.nginx.ingress.kubernetes.io"]);
        assert!(s.addresses.contains(&"10.96.12.7:443".to_string()), "{s:?}");
        assert_eq!(s.urls.len(), 1, "{s:?}");
    }

    #[test]
    fn connection_refused_is_explained_without_a_cluster() {
        let m = meaning("The connection to the server 10.0.0.10:6443 was refused - did you specify the right host or port?").expect("known");
        assert!(m.meaning.contains("10.0.0.10:6443"), "{}", m.meaning);
        assert!(m.causes[0].starts_with("Nothing listens on 10.0.0.10:6443"));
        assert!(m.commands.iter().any(|c| c == "nc -vz 10.0.0.10 6443"));
        assert_eq!(meaning("everything is fine"), None);
    }

    #[test]
    fn the_access_review_names_the_missing_permission_and_a_role_that_grants_it() {
        let denial = &subjects(JANE).denials[0];
        let crs = vec![
            json!({"metadata": {"name": "cluster-admin"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
            json!({"metadata": {"name": "node-reader"}, "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}]}),
            json!({"metadata": {"name": "view"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
        ];
        let r = review(denial, &crs, &[], &[], &[]);
        assert!(!r.allowed);
        assert_eq!(r.missing, "list nodes at the cluster scope");
        assert_eq!(
            r.granted_by,
            ["ClusterRole/node-reader", "ClusterRole/cluster-admin"]
        );
        assert!(r.commands.iter().any(|c| c
            == "kubectl create clusterrolebinding jane-nodes --clusterrole=node-reader --user=jane"));
        // Bound already: allowed.
        let crb = json!({"metadata": {"name": "jane"}, "roleRef": {"kind": "ClusterRole", "name": "node-reader", "apiGroup": "rbac.authorization.k8s.io"}, "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]});
        assert!(review(denial, &crs, &[crb], &[], &[]).allowed);
    }
}
