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
pub mod input;
pub mod playbooks;
pub mod report;
pub mod scenarios;
pub mod server;
pub mod snapshot;
pub mod source;
pub mod ui;
