//! RBAC evaluated from the scenario's Roles, ClusterRoles and bindings, the Forbidden Status
//! bodies the real API server sends, and the answers to SelfSubjectAccessReview,
//! SelfSubjectRulesReview and SelfSubjectReview.

use serde_json::Value;

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

/// The RBAC rules of one scenario, indexed for evaluation. Members of `system:masters` may
/// do everything, as on a real API server.
#[derive(Debug, Clone, Default)]
pub struct Authorizer {
    _private: (),
}

impl Authorizer {
    /// Reads Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (including aggregated
    /// ClusterRoles' `aggregationRule`) from the scenario's objects; other objects are ignored.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Self {
        let _ = objects.into_iter().count();
        todo!("from_objects")
    }

    /// Whether `user` may do `attrs`.
    pub fn allowed(&self, user: &User, attrs: &Attributes) -> bool {
        let _ = (user, attrs);
        todo!("allowed")
    }

    /// The 403 Status body a real API server returns, e.g. message
    /// `nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope`.
    pub fn forbidden_status(user: &User, attrs: &Attributes) -> Value {
        let _ = (user, attrs);
        todo!("forbidden_status")
    }

    /// Answers a SelfSubjectAccessReview body (the request as POSTed) with the same object
    /// plus `status: {allowed, reason}`.
    pub fn self_subject_access_review(&self, user: &User, review: &Value) -> Value {
        let _ = (user, review);
        todo!("ssar")
    }

    /// Answers a SelfSubjectRulesReview for `spec.namespace` with `status.resourceRules`
    /// and `status.nonResourceRules`, as `kubectl auth can-i --list` prints them.
    pub fn self_subject_rules_review(&self, user: &User, review: &Value) -> Value {
        let _ = (user, review);
        todo!("ssrr")
    }

    /// Answers a SelfSubjectReview (`kubectl auth whoami`) of the given apiVersion.
    pub fn self_subject_review(user: &User, api_version: &str) -> Value {
        let _ = (user, api_version);
        todo!("self subject review")
    }
}
