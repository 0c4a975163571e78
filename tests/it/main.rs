//! The integration tests: one test binary (`cargo test --test it`), one module per area, so
//! the crate is linked once instead of once per file. Test names keep their file as module
//! path (`cargo test --test it check_cli::` runs one file's tests).
//!
//! To add tests: create `tests/it/NAME.rs` (no `mod common;` in it: use `crate::common` for
//! the shared helpers) and add `mod NAME;` below in alphabetical order. Do not add files
//! directly under `tests/`: each one becomes another binary that links the whole crate.
//! Every module shares one process with the others, on parallel threads: never change the
//! process environment (`std::env::set_var`, the current directory) or other global state;
//! pass environment to the child processes you start instead. Fixtures live in
//! `tests/fixtures/` (see its README); nothing here reads outside the repository.

mod bad_input;
mod check_cli;
mod cli_edges;
mod cli_misc;
mod common;
mod config_files;
mod corpus;
mod correlation_tmux;
mod doctor_check;
mod doctor_kubeconfig;
mod doctor_kubectl;
mod doctor_probe;
mod doctor_tui;
mod explain_paste;
mod fault_matrix;
mod import_cycles;
mod live_findings;
mod playbooks_catalog;
mod playbooks_identity_storage;
mod playbooks_scenarios;
mod scale;
mod screenshots;
mod serve_cli;
mod server_clock;
mod server_hardening;
mod server_kube;
mod server_kubectl;
mod server_writes;
mod snapshot_parse;
mod snapshot_redact;
mod soak;
mod train;
mod train_fixes;
mod tui_config_tmux;
mod tui_lists_tmux;
mod tui_render;
mod tui_runner_tmux;
mod tui_tmux;
mod verdicts;
mod watch_layer;
