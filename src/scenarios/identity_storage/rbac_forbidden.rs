//! `rbac-forbidden` (AUTH-01): the kubeconfig logs in as `jane` (group `shop-developers`), a
//! developer of the shop team. Her team admin bound her to `edit` in namespace `shop` and,
//! to let her see where her pods run, created a Role `node-viewer` with a RoleBinding — in
//! `shop`. Nodes are cluster-scoped, so `kubectl get nodes` answers
//! `Error from server (Forbidden): nodes is forbidden: User "jane" cannot list resource
//! "nodes" in API group "" at the cluster scope`. The snapshot carries that answer too.

use super::status_body;
use crate::builder::{ClusterBuilder, DAY, rule, user};
use crate::{Identity, Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let age = 9 * DAY;
    c.add_role_binding(
        "shop",
        "shop-developers-edit",
        "ClusterRole",
        "edit",
        vec![user("jane")],
        age,
    );
    c.add_role(
        "shop",
        "rbac-viewer",
        vec![rule(
            &["rbac.authorization.k8s.io"],
            &["roles", "rolebindings"],
            &["get", "list", "watch"],
        )],
        age,
    );
    c.add_role_binding(
        "shop",
        "jane-rbac-viewer",
        "Role",
        "rbac-viewer",
        vec![user("jane")],
        age,
    );
    c.add_role(
        "shop",
        "node-viewer",
        vec![rule(&[""], &["nodes"], &["get", "list", "watch"])],
        2 * DAY,
    );
    c.add_role_binding(
        "shop",
        "jane-node-viewer",
        "Role",
        "node-viewer",
        vec![user("jane")],
        2 * DAY,
    );
    // The answers jane got, as a snapshot records them.
    c.add_response(
        "/api/v1/nodes",
        403,
        status_body(
            403,
            "Forbidden",
            "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
        ),
    );
    c.add_response(
        "/api/v1/nodes?limit=1",
        403,
        status_body(
            403,
            "Forbidden",
            "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
        ),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "rbac-forbidden",
        title: "jane cannot list nodes: a Role cannot grant a cluster-scoped resource",
        summary: "Logged in as jane (edit in shop). Her node-viewer Role and RoleBinding live in namespace shop, so `kubectl get nodes` is Forbidden at the cluster scope.",
        playbook: Some("rbac-forbidden"),
        snapshot,
        timeline,
        behavior: ServerBehavior {
            user: Some(Identity {
                name: "jane".into(),
                groups: vec!["shop-developers".into()],
            }),
            ..Default::default()
        },
    }
}
