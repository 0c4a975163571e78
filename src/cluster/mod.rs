//! Talking to a cluster: kubeconfig loading, the kube client, watchers that decode straight
//! into lean types and keep lean stores, and the classification of kube errors.

pub mod capture;
pub mod client;
pub mod doctor;
pub mod lean;
pub mod proxy;
pub mod state;
pub mod watch;

/// The visible state of one watched resource (shown in the status line and in panes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    /// Initial list in progress.
    Syncing,
    /// Initial list done; watching.
    Synced,
    /// The server refused: verb, resource and the server's message.
    Forbidden {
        verb: String,
        resource: String,
        message: String,
    },
    /// Failing with an error; the next retry in `retry_in_secs`.
    Failing { error: String, retry_in_secs: u64 },
    /// Was synced, failing since `since`: the store keeps the last view it had then (shown
    /// marked stale with its age, never dropped); the next retry in `retry_in_secs`.
    Stale {
        error: String,
        retry_in_secs: u64,
        since: chrono::DateTime<chrono::Utc>,
    },
    /// Not in the source at all (a snapshot that did not capture the kind): absence of its
    /// objects proves nothing. `capture` is the command that would complete the picture.
    NotCaptured { capture: String },
}

/// The sync state of one watched resource, e.g. `pods`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSync {
    /// Plural resource name, e.g. `pods`, `leases`.
    pub resource: String,
    pub state: SyncState,
}
