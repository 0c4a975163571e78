//! Shared helpers for integration tests: start the embedded server on loopback and build a
//! kube client from the kubeconfig it generates.
#![allow(dead_code)]

pub mod faultproxy;
pub mod tmux;

use std::path::PathBuf;

use ktriage::scenarios::{self, Scenario};
use ktriage::server::{self, ServerConfig, ServerHandle};

/// The scenario by id; panics with the known ids when missing.
pub fn scenario(id: &str) -> Scenario {
    scenarios::find(id).unwrap_or_else(|| panic!("scenario {id} is not registered"))
}

pub async fn serve(scenario: Scenario) -> ServerHandle {
    server::start(ServerConfig::new(scenario))
        .await
        .expect("embedded server starts")
}

pub async fn client(handle: &ServerHandle) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&handle.kubeconfig).expect("kubeconfig parses");
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("kubeconfig loads");
    kube::Client::try_from(config).expect("client builds")
}

/// Writes the server's kubeconfig into a fresh temp dir; keep the dir alive while used.
pub fn kubeconfig_file(handle: &ServerHandle) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    handle.write_kubeconfig(&path).expect("kubeconfig written");
    (dir, path)
}

/// Asserts the server saw no write (access reviews excepted) and no Secret read.
pub fn assert_read_only(handle: &ServerHandle) {
    for r in handle.requests() {
        assert!(!r.is_write(), "unexpected write: {r:?}");
        assert!(!r.reads_secrets(), "unexpected Secret read: {r:?}");
    }
}

/// Runs the real binary with `args` (logging at warn) and waits for it.
pub fn ktriage(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .env("KTRIAGE_LOG", "warn")
        .output()
        .expect("ktriage runs")
}
