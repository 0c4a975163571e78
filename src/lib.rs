//! ktriage: a terminal UI that shows live Kubernetes cluster health next to guided
//! troubleshooting playbooks, plus the embedded API server that serves training scenarios.
//!
//! Data flows one way: a source (kubeconfig, scenario or snapshot) feeds watchers that fill
//! lean stores; pure functions (`health`, playbooks) turn the stores into a model; the UI
//! draws the newest model. See README.md for the module map.

pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod findings;
pub mod health;
pub mod playbooks;
pub mod report;
pub mod source;
pub mod text;
pub mod train;
pub mod tui;
pub mod ui;

// The lower layers are crates of this workspace (kept in place under src/), re-exported so
// the paths `ktriage::server::…` and `crate::snapshot::…` read as before. They cannot reach
// back up: Cargo refuses a dependency cycle, and `tests/it/import_cycles.rs` holds the order.
pub use ktriage_api as api;
pub use ktriage_scenarios as scenarios;
pub use ktriage_server as server;
pub use ktriage_snapshot as snapshot;
