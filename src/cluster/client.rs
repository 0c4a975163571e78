//! Building a kube client from a kubeconfig the way kubectl reads it (`--kubeconfig`,
//! `KUBECONFIG`, `--context`), with ktriage's user agent and short connect timeouts for
//! interactive use. The proxy is decided here with kubectl's rules (`cluster::proxy`) and set
//! explicitly: kube 5 alone checks NO_PROXY against the proxy's address, not the server's.
//! Owns loading kubeconfig files (kubectl's `KUBECONFIG` merge, missing files skipped, errors
//! naming the file) and obtaining credentials within a deadline ([`build_client`]: exec
//! plugins are killed when it passes, token files are read without blocking and capped).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::snapshot::input::{self, InputError};

/// The largest kubeconfig read (kubectl has no limit; real ones are kilobytes).
pub const KUBECONFIG_LIMIT: u64 = 64 << 20;
/// The largest token file read (a JWT is a few kilobytes).
pub const TOKEN_FILE_LIMIT: u64 = 1 << 20;
/// How long an exec credential plugin may run when the caller sets no deadline of its own.
pub const CREDENTIAL_DEADLINE: Duration = Duration::from_secs(20);
/// The most an exec credential plugin may print.
const EXEC_OUTPUT_LIMIT: usize = 1 << 20;

/// Why no client could be built. Each message says its cause once.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read kubeconfig {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("kubeconfig {path} is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("none of the kubeconfig files in KUBECONFIG exist ({paths})")]
    NoneExist { paths: String },
    #[error("cannot find a kubeconfig: set KUBECONFIG or pass --kubeconfig FILE")]
    NoPath,
    #[error("kubeconfig files cannot be merged: {0}")]
    Merge(String),
    #[error("context {name:?} is not in the kubeconfig; its contexts:{known}")]
    UnknownContext { name: String, known: String },
    #[error("kubeconfig is not usable: {0}")]
    Config(String),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("cannot create the client: {0}")]
    Client(String),
}

/// Why the user's credentials could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("token file {path} cannot be used: {reason}")]
    TokenFile { path: String, reason: String },
    #[error("the exec credential plugin {command:?} cannot be started: {reason}")]
    ExecStart { command: String, reason: String },
    #[error(
        "the exec credential plugin {command:?} gave no answer within {} s and was stopped",
        .deadline.as_secs()
    )]
    ExecTimeout { command: String, deadline: Duration },
    #[error("the exec credential plugin {command:?} failed: {stderr}")]
    ExecFailed { command: String, stderr: String },
    #[error("the exec credential plugin {command:?} printed no usable ExecCredential: {reason}")]
    ExecOutput { command: String, reason: String },
}

/// A connected client with the names the status line shows.
pub struct Connection {
    pub client: kube::Client,
    pub context: String,
    pub server: String,
}

fn input_error(path: &Path, e: InputError) -> ClientError {
    let reason = match e {
        InputError::Io { reason, .. } => reason.to_string(),
        other => other.to_string(),
    };
    ClientError::Read {
        path: path.display().to_string(),
        reason,
    }
}

/// Reads one kubeconfig file: a regular file within [`KUBECONFIG_LIMIT`], parsed with its
/// relative paths resolved against its directory. Errors name the file.
fn read_one(path: &Path) -> Result<Kubeconfig, ClientError> {
    // Checked (and refused without blocking) before kube reads it.
    input::read_limited(path, KUBECONFIG_LIMIT, "a kubeconfig")
        .map_err(|e| input_error(path, e))?;
    Kubeconfig::read_from(path).map_err(|e| match e {
        kube::config::KubeconfigError::ReadConfig(source, _) => ClientError::Read {
            path: path.display().to_string(),
            reason: source.to_string(),
        },
        kube::config::KubeconfigError::Parse(p) => ClientError::Parse {
            path: path.display().to_string(),
            reason: p.to_string(),
        },
        other => ClientError::Parse {
            path: path.display().to_string(),
            reason: other.to_string(),
        },
    })
}

/// Loads the kubeconfig (`path`, else `$KUBECONFIG` merged, else `~/.kube/config`). Like
/// kubectl, files of `KUBECONFIG` that do not exist are skipped; one that cannot be parsed
/// is an error naming it.
pub fn load_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, ClientError> {
    if let Some(p) = path {
        return read_one(p);
    }
    let listed: Vec<PathBuf> = std::env::var_os("KUBECONFIG")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        let home = std::env::var_os("HOME").ok_or(ClientError::NoPath)?;
        return read_one(&PathBuf::from(home).join(".kube").join("config"));
    }
    let mut merged: Option<Kubeconfig> = None;
    for p in &listed {
        if !p.exists() {
            tracing::info!(path = %p.display(), "KUBECONFIG names a file that does not exist: skipped");
            continue;
        }
        let kc = read_one(p)?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| ClientError::Merge(e.to_string()))?,
        });
    }
    merged.ok_or_else(|| ClientError::NoneExist {
        paths: listed
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Parses a kubeconfig held in memory (the embedded server's).
pub fn parse_kubeconfig(yaml: &str) -> Result<Kubeconfig, ClientError> {
    Kubeconfig::from_yaml(yaml).map_err(|e| ClientError::Parse {
        path: "(in memory)".into(),
        reason: e.to_string(),
    })
}

/// Fails with the list of the kubeconfig's contexts, one per line, when `name` is not one.
pub fn check_context(kc: &Kubeconfig, name: &str) -> Result<(), ClientError> {
    if kc.contexts.iter().any(|c| c.name == name) {
        return Ok(());
    }
    let known = if kc.contexts.is_empty() {
        " none".to_string()
    } else {
        kc.contexts
            .iter()
            .map(|c| format!("\n  {}", c.name))
            .collect::<String>()
    };
    Err(ClientError::UnknownContext {
        name: name.to_string(),
        known,
    })
}

/// The User-Agent of every request ktriage sends.
pub const USER_AGENT: &str = concat!("ktriage/", env!("CARGO_PKG_VERSION"));

/// Builds the client of `config`, first obtaining its credentials within `deadline`: the one
/// place where ktriage's clients (commands, TUI, connection doctor) meet. An exec credential
/// plugin runs here, asynchronously, and is killed when the deadline passes or the caller
/// gives up; its answer replaces the plugin in the config, so kube never runs it unbounded. A
/// token file is checked first (a regular file within [`TOKEN_FILE_LIMIT`], opened without
/// blocking), so kube's own read of it cannot hang.
pub async fn build_client(
    mut config: kube::Config,
    deadline: Duration,
) -> Result<kube::Client, ClientError> {
    resolve_credentials(&mut config.auth_info, deadline).await?;
    // Every request says it is ktriage's, so a server's audit log (and our CI's) can tell
    // ktriage's reads from a user's kubectl.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    kube::Client::try_from(config).map_err(|e| ClientError::Client(e.to_string()))
}

async fn resolve_credentials(
    auth: &mut kube::config::AuthInfo,
    deadline: Duration,
) -> Result<(), CredentialError> {
    use base64::Engine;
    if auth.token.is_none()
        && let Some(file) = &auth.token_file
    {
        let bytes = input::read_limited(Path::new(file), TOKEN_FILE_LIMIT, "a token file")
            .map_err(|e| CredentialError::TokenFile {
                path: file.clone(),
                reason: match e {
                    InputError::Io { reason, .. } => reason.to_string(),
                    other => other.to_string(),
                },
            })?;
        if String::from_utf8_lossy(&bytes).trim().is_empty() {
            return Err(CredentialError::TokenFile {
                path: file.clone(),
                reason: "the file is empty".into(),
            });
        }
        return Ok(());
    }
    let has_other = auth.token.is_some()
        || auth.token_file.is_some()
        || auth.username.is_some()
        || auth.auth_provider.is_some();
    let Some(exec) = auth.exec.clone().filter(|_| !has_other) else {
        return Ok(());
    };
    let credential = run_exec(&exec, deadline).await?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    match credential {
        ExecAnswer::Token(t) => auth.token = Some(t.into()),
        ExecAnswer::Certificate { cert, key } => {
            auth.client_certificate_data = Some(b64(&cert));
            auth.client_key_data = Some(b64(&key).into());
        }
    }
    auth.exec = None;
    Ok(())
}

enum ExecAnswer {
    Token(String),
    Certificate { cert: String, key: String },
}

/// Runs an exec credential plugin the way kubectl does (args, env, `KUBERNETES_EXEC_INFO`),
/// with a deadline: on expiry, or when the caller drops this future, the plugin is killed.
async fn run_exec(
    exec: &kube::config::ExecConfig,
    deadline: Duration,
) -> Result<ExecAnswer, CredentialError> {
    use std::process::Stdio;
    let command = exec.command.clone().unwrap_or_default();
    if command.is_empty() {
        return Err(CredentialError::ExecStart {
            command,
            reason: "the exec stanza has no command".into(),
        });
    }
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(exec.args.iter().flatten());
    for env in exec.env.iter().flatten() {
        if let (Some(n), Some(v)) = (env.get("name"), env.get("value")) {
            cmd.env(n, v);
        }
    }
    for n in exec.drop_env.iter().flatten() {
        cmd.env_remove(n);
    }
    let interactive = exec.interactive_mode != Some(kube::config::ExecInteractiveMode::Never);
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version.clone().unwrap_or_else(|| "client.authentication.k8s.io/v1".into()),
        "kind": "ExecCredential",
        "spec": spec,
    });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    cmd.stdin(if interactive {
        Stdio::inherit()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| CredentialError::ExecStart {
        command: command.clone(),
        reason: e.to_string(),
    })?;
    let out = match tokio::time::timeout(deadline, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            return Err(CredentialError::ExecStart {
                command,
                reason: e.to_string(),
            });
        }
        // Dropping the future drops the child: kill_on_drop ends the plugin.
        Err(_) => return Err(CredentialError::ExecTimeout { command, deadline }),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(CredentialError::ExecFailed {
            command,
            stderr: if stderr.is_empty() {
                format!("exited with {} and no error output", out.status)
            } else {
                stderr
            },
        });
    }
    let bad = |reason: String| CredentialError::ExecOutput {
        command: command.clone(),
        reason,
    };
    if out.stdout.len() > EXEC_OUTPUT_LIMIT {
        return Err(bad(format!(
            "more than {} of output",
            input::human_bytes(EXEC_OUTPUT_LIMIT as u64)
        )));
    }
    // client-go reads the answer with a YAML-tolerant decoder; JSON is YAML.
    let text = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let status = value
        .get("status")
        .ok_or_else(|| bad("it has no status".into()))?;
    let field = |k: &str| status.get(k).and_then(|v| v.as_str()).map(str::to_string);
    if let (Some(cert), Some(key)) = (field("clientCertificateData"), field("clientKeyData")) {
        return Ok(ExecAnswer::Certificate { cert, key });
    }
    field("token")
        .filter(|t| !t.is_empty())
        .map(ExecAnswer::Token)
        .ok_or_else(|| {
            bad("its status has neither a token nor a client certificate and key".into())
        })
}

/// The most a certificate or key file named by a kubeconfig may hold.
pub const PEM_FILE_LIMIT: u64 = 1 << 20;

/// Reads the certificate and key files a kubeconfig names (`certificate-authority`,
/// `client-certificate`, `client-key`) through the safe reads and puts their content in the
/// `*-data` fields: kube's loader would open them itself, and a FIFO there hung it.
fn inline_files(kc: &mut Kubeconfig) -> Result<(), ClientError> {
    use base64::Engine as _;
    let read = |path: &str, what: &'static str| -> Result<String, ClientError> {
        let bytes = input::read_limited(Path::new(path), PEM_FILE_LIMIT, what)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    };
    for c in kc.clusters.iter_mut().filter_map(|c| c.cluster.as_mut()) {
        if c.certificate_authority_data.is_none()
            && let Some(path) = c.certificate_authority.take()
        {
            c.certificate_authority_data = Some(read(&path, "a CA certificate file")?);
        }
    }
    for a in kc
        .auth_infos
        .iter_mut()
        .filter_map(|a| a.auth_info.as_mut())
    {
        if a.client_certificate_data.is_none()
            && let Some(path) = a.client_certificate.take()
        {
            a.client_certificate_data = Some(read(&path, "a client certificate file")?);
        }
        if a.client_key_data.is_none()
            && let Some(path) = a.client_key.take()
        {
            a.client_key_data = Some(read(&path, "a client key file")?.into());
        }
    }
    Ok(())
}

/// The longest silence within an answer; see `connect`.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a client for `context` (the kubeconfig's current context when `None`).
pub async fn connect(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
) -> Result<Connection, ClientError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let context_name = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let mut kubeconfig = kubeconfig;
    inline_files(&mut kubeconfig)?;
    let kubeconfig_for_proxy = kubeconfig.clone();
    if let Some(name) = context {
        check_context(&kubeconfig, name)?;
    }
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ClientError::Config(e.to_string()))?;
    let proxy_url = kubeconfig_proxy_url(&kubeconfig_for_proxy, &context_name);
    let route = crate::cluster::proxy::decide(
        config.cluster_url.to_string().as_str(),
        proxy_url.as_deref(),
        &crate::cluster::proxy::process_environment(),
    );
    config.proxy_url = route.proxy.as_deref().and_then(|p| p.parse().ok());
    tracing::info!(proxy = ?route.proxy, reason = %route.reason, "route to the API server");
    if config.accept_invalid_certs {
        tracing::warn!(
            context = %context_name,
            "insecure-skip-tls-verify is set: the API server's certificate is not verified"
        );
    }
    config.connect_timeout = Some(Duration::from_secs(5));
    // A server that stops sending mid-response (kube's default waits forever) is an error
    // after this long; idle watches end sooner (`watch::WATCH_TIMEOUT`), so this never cuts
    // a quiet but healthy one.
    config.read_timeout = Some(READ_TIMEOUT);
    if let Ok(ua) = http::HeaderValue::from_str(&format!("ktriage/{}", env!("CARGO_PKG_VERSION"))) {
        config.headers.push((http::header::USER_AGENT, ua));
    }
    let server = config.cluster_url.to_string();
    let client = build_client(config, CREDENTIAL_DEADLINE).await?;
    Ok(Connection {
        client,
        context: context_name,
        server,
    })
}

/// The `proxy-url` of the context's cluster, when set.
fn kubeconfig_proxy_url(kc: &Kubeconfig, context: &str) -> Option<String> {
    let cluster = kc
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())?;
    kc.clusters
        .iter()
        .find(|c| c.name == cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.proxy_url.clone())
        .filter(|p| !p.trim().is_empty())
}
