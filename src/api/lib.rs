//! The Kubernetes API as ktriage knows it, at the bottom of the workspace: the catalog of
//! resource types (group, version, kind, plural, scope, short names) that discovery, request
//! routing, snapshots and queries are derived from, and label and field selectors as the API
//! server parses them. Depends on no other ktriage crate.

pub mod printer;
pub mod query;
pub mod resources;
pub mod select;
