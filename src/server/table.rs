//! Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the
//! columns the real API server prints for each kind, so `kubectl get` output looks the same.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::resources::ResourceDef;

/// What each row carries in `object` (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    /// PartialObjectMetadata (the default): kubectl needs it for the NAMESPACE column of `-A`.
    #[default]
    Metadata,
    Object,
}

/// Renders `objects` (already filtered and paginated) as a `meta.k8s.io/v1` Table whose
/// columns match the real API server's for `def` (falling back to Name and Age). `list_meta`
/// is the list's metadata (resourceVersion, continue) and is copied to the Table. Ages are
/// computed against `now`.
pub fn table(
    def: &ResourceDef,
    objects: &[&Value],
    list_meta: Value,
    include: IncludeObject,
    now: DateTime<Utc>,
) -> Value {
    let _ = (def, objects, list_meta, include, now);
    todo!("table")
}
