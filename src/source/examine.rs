//! Runs the connection doctor on what a command was pointed at: a kubeconfig context (with
//! the process's proxy variables) or a scenario served in-process (with the environment the
//! scenario gives its clients, so a test never changes this process's environment). Lives
//! with the sources because resolving a source spec starts scenario servers: the doctor
//! itself (`cluster::doctor`) only examines a target.

use std::collections::BTreeMap;

use super::SourceSpec;
use crate::cluster::doctor::{self, Observation, Options, Target};
use crate::cluster::{client, proxy};
use crate::server::{self, ServerConfig, ServerHandle};

/// Why the doctor could not even start.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(transparent)]
    Kubeconfig(#[from] client::ClientError),
    #[error(transparent)]
    Target(#[from] doctor::DoctorError),
    #[error("no scenario named {0:?}; known scenarios: {known}", known = crate::scenarios::ids().join(", "))]
    UnknownScenario(String),
    #[error("starting the embedded API server: {0}")]
    Server(#[from] server::ServerError),
    #[error("a snapshot has no connection to examine")]
    Snapshot,
}

/// An examination, with the scenario's server kept alive while the caller needs it.
pub struct Examined {
    pub observation: Observation,
    pub server: Option<ServerHandle>,
    /// `context` or `scenario`.
    pub source: String,
    /// The context name or scenario id.
    pub name: String,
}

/// Examines a kubeconfig context or a served scenario.
pub async fn examine_spec(spec: &SourceSpec, opts: &Options) -> Result<Examined, SpecError> {
    match spec {
        SourceSpec::Snapshot(_) => Err(SpecError::Snapshot),
        SourceSpec::Context {
            kubeconfig,
            context,
        } => {
            let kc = client::load_kubeconfig(kubeconfig.as_deref())?;
            if let Some(name) = context {
                client::check_context(&kc, name)?;
            }
            let target = Target::from_kubeconfig(&kc, context.as_deref())?;
            let env = proxy::process_environment();
            let observation = doctor::examine(&target, &env, opts).await;
            Ok(Examined {
                observation,
                server: None,
                source: "context".into(),
                name: target.context,
            })
        }
        SourceSpec::Scenario(id) => {
            // The scale cluster's connection is its base's: examined without the generated
            // objects, so the doctor does not build 150,000 pods to probe a handshake.
            let scenario = match crate::scenarios::scale::Scale::parse_id(id) {
                Some(Ok(scale)) => scale.scenario(),
                _ => crate::scenarios::find(id)
                    .ok_or_else(|| SpecError::UnknownScenario(id.clone()))?,
            };
            let handle = server::start(ServerConfig::new(scenario)).await?;
            let observation = examine_served(&handle, opts).await?;
            Ok(Examined {
                observation,
                server: Some(handle),
                source: "scenario".into(),
                name: id.clone(),
            })
        }
    }
}

/// Examines a running embedded server through the kubeconfig it wrote, with its client
/// environment.
pub async fn examine_served(
    handle: &ServerHandle,
    opts: &Options,
) -> Result<Observation, SpecError> {
    let kc = client::parse_kubeconfig(&handle.kubeconfig)?;
    let target = Target::from_kubeconfig(&kc, None)?;
    let env: BTreeMap<String, String> = handle.client_env.clone();
    Ok(doctor::examine(&target, &env, opts).await)
}

/// A snapshot holding only what a blocked connection shows: `SnapshotInfo` (now, context,
/// server) and the `Connection` evidence, for `ktriage snapshot` on a cluster that cannot
/// be read. Read back with `--snapshot`, the connection playbooks diagnose it.
pub fn evidence_snapshot(examined: &Examined) -> crate::snapshot::Snapshot {
    let obs = &examined.observation;
    crate::snapshot::Snapshot {
        connections: vec![obs.to_evidence()],
        info: Some(crate::snapshot::SnapshotInfo {
            captured_at: Some(
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            context: obs.context.clone(),
            server: Some(obs.server.clone()),
            version: None,
            captured: Vec::new(),
            redacted: None,
        }),
        ..Default::default()
    }
}
