//! The embedded Kubernetes API server: HTTPS on 127.0.0.1 serving a scenario to kube-rs and
//! real kubectl (discovery, get/list/watch, tables, logs, RBAC, access reviews, faults, the
//! live timeline), refusing every write and recording every request.

pub mod rbac;
pub mod resources;
pub mod table;
