//! The health model: pure functions (no I/O) from the lean stores and a clock to a health
//! report with four sections (control plane, nodes, add-ons, restarts). Each item carries a
//! severity, a one-line reason and the ids of the playbooks that explain it.

mod report;
pub use report::{HealthItem, HealthReport, Severity};
