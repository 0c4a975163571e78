//! RBAC as a kubeadm cluster has it: the API server's bootstrap ClusterRoles (cluster-admin,
//! admin, edit, view, system:*), kubeadm's bindings, and the add-ons' roles. The embedded
//! server evaluates these rules, so every rule is valid RBAC.

use serde_json::{Value, json};

use super::{CLUSTER_AGE, Cluster, Cni, kv, object};
use crate::builder::addons::CNI_AGE;

const RO: &[&str] = &["get", "list", "watch"];
const RW: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];

/// A resource rule.
pub fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

/// A resource rule limited to named objects.
pub fn named_rule(groups: &[&str], resources: &[&str], names: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resourceNames": names, "resources": resources, "verbs": verbs})
}

/// A non-resource URL rule.
pub fn url_rule(urls: &[&str], verbs: &[&str]) -> Value {
    json!({"nonResourceURLs": urls, "verbs": verbs})
}

pub fn group(name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name})
}
pub fn user(name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name})
}
pub fn service_account(ns: &str, name: &str) -> Value {
    json!({"kind": "ServiceAccount", "name": name, "namespace": ns})
}

fn bootstrap_meta(o: &mut Value) {
    o["metadata"]["labels"] = kv(&[("kubernetes.io/bootstrapping", "rbac-defaults")]);
    o["metadata"]["annotations"] = kv(&[("rbac.authorization.kubernetes.io/autoupdate", "true")]);
}

impl Cluster {
    /// Pushes a ClusterRole.
    pub fn add_cluster_role(&mut self, name: &str, rules: Vec<Value>, age: i64) {
        let mut o = object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            None,
            name,
            age,
        );
        if name.starts_with("system:") || ["cluster-admin", "admin", "edit", "view"].contains(&name)
        {
            bootstrap_meta(&mut o);
        }
        o["rules"] = json!(rules);
        self.push(o);
    }
    /// Pushes a ClusterRoleBinding (`subjects` empty: the field is absent, as on `system:node`).
    pub fn add_cluster_role_binding(
        &mut self,
        name: &str,
        role: &str,
        subjects: Vec<Value>,
        age: i64,
    ) {
        let mut o = object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            None,
            name,
            age,
        );
        if name.starts_with("system:") || name == "cluster-admin" {
            bootstrap_meta(&mut o);
        }
        o["roleRef"] =
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role});
        if !subjects.is_empty() {
            o["subjects"] = json!(subjects);
        }
        self.push(o);
    }
    /// Pushes a Role.
    pub fn add_role(&mut self, ns: &str, name: &str, rules: Vec<Value>, age: i64) {
        let mut o = object("rbac.authorization.k8s.io/v1", "Role", Some(ns), name, age);
        o["rules"] = json!(rules);
        self.push(o);
    }
    /// Pushes a RoleBinding to a Role (`role_kind` "Role") or a ClusterRole.
    pub fn add_role_binding(
        &mut self,
        ns: &str,
        name: &str,
        role_kind: &str,
        role: &str,
        subjects: Vec<Value>,
        age: i64,
    ) {
        let mut o = object(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            Some(ns),
            name,
            age,
        );
        o["roleRef"] =
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role});
        o["subjects"] = json!(subjects);
        self.push(o);
    }
}

fn view_rules() -> Vec<Value> {
    vec![
        rule(
            &[""],
            &[
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
            ],
            RO,
        ),
        rule(
            &[""],
            &[
                "bindings",
                "events",
                "limitranges",
                "namespaces/status",
                "pods/log",
                "pods/status",
                "replicationcontrollers/status",
                "resourcequotas",
                "resourcequotas/status",
            ],
            RO,
        ),
        rule(&[""], &["namespaces"], RO),
        rule(&["discovery.k8s.io"], &["endpointslices"], RO),
        rule(
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
            RO,
        ),
        rule(
            &["autoscaling"],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
            RO,
        ),
        rule(
            &["batch"],
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
            RO,
        ),
        rule(
            &["extensions"],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
            ],
            RO,
        ),
        rule(
            &["policy"],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
            RO,
        ),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"],
            RO,
        ),
        rule(&["metrics.k8s.io"], &["pods", "nodes"], RO),
    ]
}

fn edit_rules() -> Vec<Value> {
    let mut r = vec![
        rule(
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
            RO,
        ),
        rule(&[""], &["serviceaccounts"], &["impersonate"]),
        rule(
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
            ],
            &["create", "delete", "deletecollection", "patch", "update"],
        ),
        rule(&[""], &["pods/eviction"], &["create"]),
        rule(
            &[""],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
            RW,
        ),
        rule(&[""], &["serviceaccounts/token"], &["create"]),
        rule(
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
            RW,
        ),
        rule(&["autoscaling"], &["horizontalpodautoscalers"], RW),
        rule(&["batch"], &["cronjobs", "jobs"], RW),
        rule(
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
            RW,
        ),
        rule(&["policy"], &["poddisruptionbudgets"], RW),
        rule(&["discovery.k8s.io"], &["endpointslices"], RW),
    ];
    r.extend(view_rules());
    r
}

pub(super) fn build(c: &mut Cluster) {
    let age = CLUSTER_AGE;
    c.add_cluster_role(
        "cluster-admin",
        vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])],
        age,
    );
    let mut admin = vec![
        rule(
            &["rbac.authorization.k8s.io"],
            &["rolebindings", "roles"],
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ],
        ),
        rule(
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews"],
            &["create"],
        ),
    ];
    admin.extend(edit_rules());
    c.add_cluster_role("admin", admin, age);
    c.add_cluster_role("edit", edit_rules(), age);
    c.add_cluster_role("view", view_rules(), age);
    for (name, sel) in [
        ("admin", "aggregate-to-admin"),
        ("edit", "aggregate-to-edit"),
        ("view", "aggregate-to-view"),
    ] {
        if let Some(o) = c.find_mut("ClusterRole", None, name) {
            o["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {format!("rbac.authorization.k8s.io/{sel}"): "true"}}]});
        }
    }
    c.add_cluster_role(
        "system:basic-user",
        vec![
            rule(
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                &["create"],
            ),
            rule(
                &["authentication.k8s.io"],
                &["selfsubjectreviews"],
                &["create"],
            ),
        ],
        age,
    );
    c.add_cluster_role(
        "system:discovery",
        vec![url_rule(
            &[
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
            ],
            &["get"],
        )],
        age,
    );
    c.add_cluster_role(
        "system:public-info-viewer",
        vec![url_rule(
            &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            &["get"],
        )],
        age,
    );
    c.add_cluster_role(
        "system:monitoring",
        vec![url_rule(
            &[
                "/healthz",
                "/healthz/*",
                "/livez",
                "/livez/*",
                "/metrics",
                "/metrics/slis",
                "/readyz",
                "/readyz/*",
            ],
            &["get"],
        )],
        age,
    );
    c.add_cluster_role(
        "system:node",
        vec![
            rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
            rule(
                &["authorization.k8s.io"],
                &["localsubjectaccessreviews", "subjectaccessreviews"],
                &["create"],
            ),
            rule(&[""], &["services"], RO),
            rule(&[""], &["nodes"], &["create", "get", "list", "watch"]),
            rule(&[""], &["nodes/status"], &["patch", "update"]),
            rule(&[""], &["nodes"], &["delete", "patch", "update"]),
            rule(
                &["", "events.k8s.io"],
                &["events"],
                &["create", "patch", "update"],
            ),
            rule(&[""], &["pods"], RO),
            rule(&[""], &["pods"], &["create", "delete"]),
            rule(&[""], &["pods/status"], &["patch", "update"]),
            rule(&[""], &["pods/eviction"], &["create"]),
            rule(&[""], &["configmaps", "secrets"], &["get", "list", "watch"]),
            rule(
                &[""],
                &["persistentvolumeclaims", "persistentvolumes"],
                &["get"],
            ),
            rule(&[""], &["endpoints"], &["get"]),
            rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests"],
                &["create", "get", "list", "watch"],
            ),
            rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["create", "delete", "get", "patch", "update"],
            ),
            rule(&["storage.k8s.io"], &["volumeattachments"], &["get"]),
            rule(&[""], &["serviceaccounts/token"], &["create"]),
            rule(
                &[""],
                &["persistentvolumeclaims/status"],
                &["get", "patch", "update"],
            ),
            rule(&["storage.k8s.io"], &["csidrivers"], RO),
            rule(
                &["storage.k8s.io"],
                &["csinodes"],
                &["create", "delete", "get", "patch", "update"],
            ),
            rule(&["node.k8s.io"], &["runtimeclasses"], RO),
        ],
        age,
    );
    c.add_cluster_role(
        "system:node-proxier",
        vec![
            rule(&[""], &["endpoints", "services"], &["list", "watch"]),
            rule(&[""], &["nodes"], RO),
            rule(
                &["", "events.k8s.io"],
                &["events"],
                &["create", "patch", "update"],
            ),
            rule(
                &["discovery.k8s.io"],
                &["endpointslices"],
                &["list", "watch"],
            ),
        ],
        age,
    );
    c.add_cluster_role(
        "system:node-bootstrapper",
        vec![rule(
            &["certificates.k8s.io"],
            &["certificatesigningrequests"],
            &["create", "get", "list", "watch"],
        )],
        age,
    );
    c.add_cluster_role(
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        vec![rule(
            &["certificates.k8s.io"],
            &["certificatesigningrequests/nodeclient"],
            &["create"],
        )],
        age,
    );
    c.add_cluster_role(
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        vec![rule(
            &["certificates.k8s.io"],
            &["certificatesigningrequests/selfnodeclient"],
            &["create"],
        )],
        age,
    );
    c.add_cluster_role(
        "system:kube-scheduler",
        vec![
            rule(
                &["", "events.k8s.io"],
                &["events"],
                &["create", "patch", "update"],
            ),
            rule(&["coordination.k8s.io"], &["leases"], &["create"]),
            named_rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["kube-scheduler"],
                &["get", "update"],
            ),
            rule(&[""], &["nodes"], RO),
            rule(&[""], &["pods"], &["delete", "get", "list", "watch"]),
            rule(&[""], &["bindings", "pods/binding"], &["create"]),
            rule(&[""], &["pods/status"], &["patch", "update"]),
            rule(
                &[""],
                &[
                    "persistentvolumeclaims",
                    "persistentvolumes",
                    "replicationcontrollers",
                    "services",
                    "namespaces",
                ],
                RO,
            ),
            rule(
                &["apps", "extensions"],
                &["replicasets", "statefulsets"],
                RO,
            ),
            rule(&["policy"], &["poddisruptionbudgets"], RO),
            rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
            rule(
                &["authorization.k8s.io"],
                &["subjectaccessreviews"],
                &["create"],
            ),
            rule(
                &["storage.k8s.io"],
                &[
                    "csidrivers",
                    "csinodes",
                    "csistoragecapacities",
                    "storageclasses",
                ],
                RO,
            ),
        ],
        age,
    );
    c.add_cluster_role(
        "system:kube-controller-manager",
        vec![
            rule(
                &["", "events.k8s.io"],
                &["events"],
                &["create", "patch", "update"],
            ),
            rule(&["coordination.k8s.io"], &["leases"], &["create"]),
            named_rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["kube-controller-manager"],
                &["get", "update"],
            ),
            rule(&[""], &["secrets", "serviceaccounts"], &["create"]),
            rule(&[""], &["secrets"], &["delete"]),
            rule(
                &[""],
                &["configmaps", "namespaces", "secrets", "serviceaccounts"],
                &["get"],
            ),
            rule(&[""], &["secrets", "serviceaccounts"], &["update"]),
            rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
            rule(
                &["authorization.k8s.io"],
                &["subjectaccessreviews"],
                &["create"],
            ),
            rule(&["*"], &["*"], &["list", "watch"]),
            rule(&[""], &["serviceaccounts/token"], &["create"]),
        ],
        age,
    );
    c.add_cluster_role(
        "system:coredns",
        vec![
            rule(
                &[""],
                &["endpoints", "services", "pods", "namespaces"],
                &["list", "watch"],
            ),
            rule(
                &["discovery.k8s.io"],
                &["endpointslices"],
                &["list", "watch"],
            ),
        ],
        age,
    );
    c.add_cluster_role(
        "kubeadm:get-nodes",
        vec![rule(&[""], &["nodes"], &["get"])],
        age,
    );

    c.add_cluster_role_binding(
        "cluster-admin",
        "cluster-admin",
        vec![group("system:masters")],
        age,
    );
    c.add_cluster_role_binding(
        "kubeadm:cluster-admins",
        "cluster-admin",
        vec![group("kubeadm:cluster-admins")],
        age,
    );
    c.add_cluster_role_binding(
        "system:basic-user",
        "system:basic-user",
        vec![group("system:authenticated")],
        age,
    );
    c.add_cluster_role_binding(
        "system:discovery",
        "system:discovery",
        vec![group("system:authenticated")],
        age,
    );
    c.add_cluster_role_binding(
        "system:public-info-viewer",
        "system:public-info-viewer",
        vec![
            group("system:authenticated"),
            group("system:unauthenticated"),
        ],
        age,
    );
    c.add_cluster_role_binding(
        "system:monitoring",
        "system:monitoring",
        vec![group("system:monitoring")],
        age,
    );
    // Since 1.8 the system:node binding exists without subjects: the Node authorizer does the work.
    c.add_cluster_role_binding("system:node", "system:node", vec![], age);
    c.add_cluster_role_binding(
        "system:node-proxier",
        "system:node-proxier",
        vec![user("system:kube-proxy")],
        age,
    );
    c.add_cluster_role_binding(
        "system:kube-scheduler",
        "system:kube-scheduler",
        vec![user("system:kube-scheduler")],
        age,
    );
    c.add_cluster_role_binding(
        "system:kube-controller-manager",
        "system:kube-controller-manager",
        vec![user("system:kube-controller-manager")],
        age,
    );
    c.add_cluster_role_binding(
        "system:coredns",
        "system:coredns",
        vec![service_account("kube-system", "coredns")],
        age,
    );
    c.add_cluster_role_binding(
        "kubeadm:node-proxier",
        "system:node-proxier",
        vec![service_account("kube-system", "kube-proxy")],
        age,
    );
    c.add_cluster_role_binding(
        "kubeadm:kubelet-bootstrap",
        "system:node-bootstrapper",
        vec![group("system:bootstrappers:kubeadm:default-node-token")],
        age,
    );
    c.add_cluster_role_binding(
        "kubeadm:node-autoapprove-bootstrap",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        vec![group("system:bootstrappers:kubeadm:default-node-token")],
        age,
    );
    c.add_cluster_role_binding(
        "kubeadm:node-autoapprove-certificate-rotation",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        vec![group("system:nodes")],
        age,
    );
    c.add_cluster_role_binding(
        "kubeadm:get-nodes",
        "kubeadm:get-nodes",
        vec![group("system:bootstrappers:kubeadm:default-node-token")],
        age,
    );

    c.add_role(
        "kube-system",
        "kube-proxy",
        vec![named_rule(
            &[""],
            &["configmaps"],
            &["kube-proxy"],
            &["get"],
        )],
        age,
    );
    c.add_role_binding(
        "kube-system",
        "kube-proxy",
        "Role",
        "kube-proxy",
        vec![group("system:bootstrappers:kubeadm:default-node-token")],
        age,
    );
    c.add_role(
        "kube-system",
        "kubeadm:kubelet-config",
        vec![named_rule(
            &[""],
            &["configmaps"],
            &["kubelet-config"],
            &["get"],
        )],
        age,
    );
    c.add_role_binding(
        "kube-system",
        "kubeadm:kubelet-config",
        "Role",
        "kubeadm:kubelet-config",
        vec![
            group("system:nodes"),
            group("system:bootstrappers:kubeadm:default-node-token"),
        ],
        age,
    );
    c.add_role(
        "kube-system",
        "kubeadm:nodes-kubeadm-config",
        vec![named_rule(
            &[""],
            &["configmaps"],
            &["kubeadm-config"],
            &["get"],
        )],
        age,
    );
    c.add_role_binding(
        "kube-system",
        "kubeadm:nodes-kubeadm-config",
        "Role",
        "kubeadm:nodes-kubeadm-config",
        vec![
            group("system:bootstrappers:kubeadm:default-node-token"),
            group("system:nodes"),
        ],
        age,
    );
    c.add_role(
        "kube-public",
        "kubeadm:bootstrap-signer-clusterinfo",
        vec![named_rule(
            &[""],
            &["configmaps"],
            &["cluster-info"],
            &["get"],
        )],
        age,
    );
    c.add_role_binding(
        "kube-public",
        "kubeadm:bootstrap-signer-clusterinfo",
        "Role",
        "kubeadm:bootstrap-signer-clusterinfo",
        vec![user("system:anonymous")],
        age,
    );
    c.add_role(
        "kube-system",
        "extension-apiserver-authentication-reader",
        vec![named_rule(
            &[""],
            &["configmaps"],
            &["extension-apiserver-authentication"],
            &["get", "list", "watch"],
        )],
        age,
    );

    // Add-ons.
    match c.opts.cni {
        Cni::Calico => {
            c.add_cluster_role(
                "calico-node",
                vec![
                    rule(&[""], &["pods", "nodes", "namespaces"], &["get"]),
                    rule(
                        &["discovery.k8s.io"],
                        &["endpointslices"],
                        &["watch", "list"],
                    ),
                    rule(&[""], &["endpoints", "services"], &["watch", "list", "get"]),
                    rule(&[""], &["configmaps"], &["get"]),
                    rule(&[""], &["nodes/status"], &["patch", "update"]),
                    rule(
                        &["networking.k8s.io"],
                        &["networkpolicies"],
                        &["watch", "list"],
                    ),
                    rule(
                        &[""],
                        &["pods", "namespaces", "serviceaccounts"],
                        &["list", "watch"],
                    ),
                    rule(&[""], &["pods/status"], &["patch"]),
                    rule(
                        &["crd.projectcalico.org"],
                        &[
                            "globalfelixconfigs",
                            "felixconfigurations",
                            "bgppeers",
                            "bgpfilters",
                            "globalbgpconfigs",
                            "bgpconfigurations",
                            "ippools",
                            "ipreservations",
                            "ipamblocks",
                            "globalnetworkpolicies",
                            "globalnetworksets",
                            "networkpolicies",
                            "networksets",
                            "clusterinformations",
                            "hostendpoints",
                            "blockaffinities",
                            "caliconodestatuses",
                        ],
                        &["get", "list", "watch"],
                    ),
                    rule(
                        &["crd.projectcalico.org"],
                        &["ippools", "felixconfigurations", "clusterinformations"],
                        &["create", "update"],
                    ),
                    rule(
                        &["crd.projectcalico.org"],
                        &["caliconodestatuses"],
                        &["update"],
                    ),
                    rule(&[""], &["nodes"], &["get", "list", "watch"]),
                    rule(
                        &["crd.projectcalico.org"],
                        &["bgpconfigurations", "bgppeers"],
                        &["create", "update"],
                    ),
                    rule(
                        &["crd.projectcalico.org"],
                        &["blockaffinities", "ipamblocks", "ipamhandles"],
                        &["get", "list", "create", "update", "delete"],
                    ),
                    rule(
                        &["crd.projectcalico.org"],
                        &["ipamconfigs"],
                        &["get", "create"],
                    ),
                    rule(&["crd.projectcalico.org"], &["blockaffinities"], &["watch"]),
                    rule(&["apps"], &["daemonsets"], &["get"]),
                ],
                CNI_AGE,
            );
            c.add_cluster_role(
                "calico-kube-controllers",
                vec![
                    rule(&[""], &["nodes"], &["watch", "list", "get"]),
                    rule(&[""], &["pods"], &["get", "list", "watch"]),
                    rule(&["crd.projectcalico.org"], &["ipreservations"], &["list"]),
                    rule(
                        &["crd.projectcalico.org"],
                        &["blockaffinities", "ipamblocks", "ipamhandles"],
                        &["get", "list", "create", "update", "delete", "watch"],
                    ),
                    rule(&["crd.projectcalico.org"], &["ippools"], &["list", "watch"]),
                    rule(
                        &["crd.projectcalico.org"],
                        &["hostendpoints"],
                        &["get", "list", "create", "update", "delete"],
                    ),
                    rule(
                        &["crd.projectcalico.org"],
                        &["clusterinformations"],
                        &["get", "list", "create", "update", "watch"],
                    ),
                    rule(
                        &["crd.projectcalico.org"],
                        &["kubecontrollersconfigurations"],
                        &["get", "create", "update", "watch"],
                    ),
                ],
                CNI_AGE,
            );
            c.add_cluster_role(
                "calico-cni-plugin",
                vec![
                    rule(&[""], &["pods", "nodes", "namespaces"], &["get"]),
                    rule(&[""], &["pods/status"], &["patch"]),
                    rule(
                        &["crd.projectcalico.org"],
                        &[
                            "blockaffinities",
                            "ipamblocks",
                            "ipamhandles",
                            "clusterinformations",
                            "ippools",
                            "ipreservations",
                            "ipamconfigs",
                        ],
                        &["get", "list", "create", "update", "delete"],
                    ),
                ],
                CNI_AGE,
            );
            for name in [
                "calico-node",
                "calico-kube-controllers",
                "calico-cni-plugin",
            ] {
                c.add_cluster_role_binding(
                    name,
                    name,
                    vec![service_account("kube-system", name)],
                    CNI_AGE,
                );
            }
        }
        Cni::Flannel => {
            c.add_cluster_role(
                "flannel",
                vec![
                    rule(&[""], &["pods"], &["get"]),
                    rule(&[""], &["nodes"], &["get", "list", "watch"]),
                    rule(&[""], &["nodes/status"], &["patch"]),
                ],
                CNI_AGE,
            );
            c.add_cluster_role_binding(
                "flannel",
                "flannel",
                vec![service_account("kube-flannel", "flannel")],
                CNI_AGE,
            );
        }
        Cni::None => {}
    }
    let ms_age = CLUSTER_AGE - 2 * 3600;
    c.add_cluster_role(
        "system:aggregated-metrics-reader",
        vec![rule(&["metrics.k8s.io"], &["pods", "nodes"], RO)],
        ms_age,
    );
    if let Some(o) = c.find_mut("ClusterRole", None, "system:aggregated-metrics-reader") {
        o["metadata"]["labels"] = kv(&[
            ("k8s-app", "metrics-server"),
            ("rbac.authorization.k8s.io/aggregate-to-admin", "true"),
            ("rbac.authorization.k8s.io/aggregate-to-edit", "true"),
            ("rbac.authorization.k8s.io/aggregate-to-view", "true"),
        ]);
        if let Some(m) = o["metadata"].as_object_mut() {
            m.remove("annotations");
        }
    }
    c.add_cluster_role(
        "system:metrics-server",
        vec![
            rule(&[""], &["nodes/metrics"], &["get"]),
            rule(&[""], &["pods", "nodes"], RO),
        ],
        ms_age,
    );
    if let Some(o) = c.find_mut("ClusterRole", None, "system:metrics-server") {
        o["metadata"]["labels"] = kv(&[("k8s-app", "metrics-server")]);
        if let Some(m) = o["metadata"].as_object_mut() {
            m.remove("annotations");
        }
    }
    c.add_cluster_role_binding(
        "system:metrics-server",
        "system:metrics-server",
        vec![service_account("kube-system", "metrics-server")],
        ms_age,
    );
    c.add_cluster_role_binding(
        "metrics-server:system:auth-delegator",
        "system:auth-delegator",
        vec![service_account("kube-system", "metrics-server")],
        ms_age,
    );
    c.add_cluster_role(
        "system:auth-delegator",
        vec![
            rule(&["authentication.k8s.io"], &["tokenreviews"], &["create"]),
            rule(
                &["authorization.k8s.io"],
                &["subjectaccessreviews"],
                &["create"],
            ),
        ],
        age,
    );
    c.add_role_binding(
        "kube-system",
        "metrics-server-auth-reader",
        "Role",
        "extension-apiserver-authentication-reader",
        vec![service_account("kube-system", "metrics-server")],
        ms_age,
    );

    c.add_cluster_role(
        "ingress-nginx",
        vec![
            rule(
                &[""],
                &[
                    "configmaps",
                    "endpoints",
                    "nodes",
                    "pods",
                    "secrets",
                    "namespaces",
                ],
                &["list", "watch"],
            ),
            rule(&["coordination.k8s.io"], &["leases"], &["list", "watch"]),
            rule(&[""], &["nodes"], &["get"]),
            rule(&[""], &["services"], RO),
            rule(&["networking.k8s.io"], &["ingresses"], RO),
            rule(&[""], &["events"], &["create", "patch"]),
            rule(&["networking.k8s.io"], &["ingresses/status"], &["update"]),
            rule(&["networking.k8s.io"], &["ingressclasses"], RO),
            rule(
                &["discovery.k8s.io"],
                &["endpointslices"],
                &["list", "watch", "get"],
            ),
        ],
        ms_age,
    );
    c.add_cluster_role_binding(
        "ingress-nginx",
        "ingress-nginx",
        vec![service_account("ingress-nginx", "ingress-nginx")],
        ms_age,
    );
    c.add_role(
        "ingress-nginx",
        "ingress-nginx",
        vec![
            rule(&[""], &["namespaces"], &["get"]),
            rule(&[""], &["configmaps", "pods", "secrets", "endpoints"], RO),
            rule(&[""], &["services"], RO),
            rule(&["networking.k8s.io"], &["ingresses", "ingressclasses"], RO),
            rule(&["networking.k8s.io"], &["ingresses/status"], &["update"]),
            named_rule(
                &["coordination.k8s.io"],
                &["leases"],
                &["ingress-nginx-leader"],
                &["get", "update"],
            ),
            rule(&["coordination.k8s.io"], &["leases"], &["create"]),
            rule(&[""], &["events"], &["create", "patch"]),
            rule(
                &["discovery.k8s.io"],
                &["endpointslices"],
                &["list", "watch", "get"],
            ),
        ],
        ms_age,
    );
    c.add_role_binding(
        "ingress-nginx",
        "ingress-nginx",
        "Role",
        "ingress-nginx",
        vec![service_account("ingress-nginx", "ingress-nginx")],
        ms_age,
    );
}
