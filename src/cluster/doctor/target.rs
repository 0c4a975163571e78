//! What the doctor examines: one kubeconfig context resolved the way kubectl resolves it
//! (context → cluster and user), with its credential material decoded and checked.

use kube::config::Kubeconfig;

use super::certs::{self, Expect, MaterialProblem};

/// Why the kubeconfig names nothing to examine.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error("the kubeconfig has no current-context and no --context was given")]
    NoContext,
    #[error("context {0:?} is not in the kubeconfig")]
    UnknownContext(String),
    #[error("cluster {0:?} (of context {1:?}) is not in the kubeconfig")]
    UnknownCluster(String, String),
    #[error("cluster {0:?} has no server URL")]
    NoServer(String),
}

/// A resolved context.
#[derive(Debug, Clone)]
pub struct Target {
    pub context: String,
    /// The context's namespace (`default` when unset).
    pub namespace: String,
    pub server: String,
    pub proxy_url: Option<String>,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
    /// The CA bundle (PEM), when usable.
    pub ca_pem: Option<Vec<u8>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Vec<u8>>,
    pub has_token: bool,
    /// The exec plugin's command, when the user authenticates with one.
    pub exec_command: Option<String>,
    pub material: Vec<MaterialProblem>,
    /// The kubeconfig, for building the client of the authenticated steps.
    pub kubeconfig: Kubeconfig,
}

fn read_file(field: &str, path: &str, expect: Expect) -> Result<Vec<u8>, MaterialProblem> {
    // Through the safe reads: a FIFO or a device named here is refused, never waited on.
    match crate::snapshot::input::read_limited(
        std::path::Path::new(path),
        crate::cluster::client::PEM_FILE_LIMIT,
        "a certificate or key file",
    ) {
        Ok(b) => certs::check_pem(field, &b, expect),
        Err(e) => Err(MaterialProblem {
            field: field.to_string(),
            problem: format!("{field} {path} cannot be read: {e}"),
            kubectl_error: format!("open {path}: {e}"),
        }),
    }
}

impl Target {
    /// Resolves `context` (the current context when `None`).
    pub fn from_kubeconfig(kc: &Kubeconfig, context: Option<&str>) -> Result<Target, DoctorError> {
        let ctx_name = context
            .map(str::to_string)
            .or_else(|| kc.current_context.clone())
            .filter(|c| !c.is_empty())
            .ok_or(DoctorError::NoContext)?;
        let ctx = kc
            .contexts
            .iter()
            .find(|c| c.name == ctx_name)
            .and_then(|c| c.context.clone())
            .ok_or_else(|| DoctorError::UnknownContext(ctx_name.clone()))?;
        let cluster = kc
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .and_then(|c| c.cluster.clone())
            .ok_or_else(|| DoctorError::UnknownCluster(ctx.cluster.clone(), ctx_name.clone()))?;
        let server = cluster
            .server
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| DoctorError::NoServer(ctx.cluster.clone()))?;
        let user = ctx.user.as_ref().and_then(|u| {
            kc.auth_infos
                .iter()
                .find(|a| &a.name == u)
                .and_then(|a| a.auth_info.clone())
        });
        let mut material = Vec::new();
        let mut take = |r: Result<Vec<u8>, MaterialProblem>| match r {
            Ok(b) => Some(b),
            Err(p) => {
                material.push(p);
                None
            }
        };
        let ca_pem = match (
            &cluster.certificate_authority_data,
            &cluster.certificate_authority,
        ) {
            (Some(d), _) => take(certs::decode_data(
                "certificate-authority-data",
                d,
                Expect::Certificate,
            )),
            (None, Some(p)) => take(read_file("certificate-authority", p, Expect::Certificate)),
            _ => None,
        };
        let (mut client_cert_pem, mut client_key_pem, mut has_token, mut exec_command) =
            (None, None, false, None);
        if let Some(u) = &user {
            use secrecy::ExposeSecret;
            client_cert_pem = match (&u.client_certificate_data, &u.client_certificate) {
                (Some(d), _) => take(certs::decode_data(
                    "client-certificate-data",
                    d,
                    Expect::Certificate,
                )),
                (None, Some(p)) => take(read_file("client-certificate", p, Expect::Certificate)),
                _ => None,
            };
            client_key_pem = match (&u.client_key_data, &u.client_key) {
                (Some(d), _) => take(certs::decode_data(
                    "client-key-data",
                    d.expose_secret(),
                    Expect::Key,
                )),
                (None, Some(p)) => take(read_file("client-key", p, Expect::Key)),
                _ => None,
            };
            has_token = u.token.is_some() || u.token_file.is_some();
            exec_command = u.exec.as_ref().and_then(|e| e.command.clone());
        }
        if let (Some(c), Some(k)) = (&client_cert_pem, &client_key_pem)
            && certs::key_matches(c, k) == Some(false)
        {
            material.push(MaterialProblem {
                field: "client-key-data".into(),
                problem: "client-key-data is not the private key of client-certificate-data (they come from different pairs)".into(),
                kubectl_error: "tls: private key does not match public key".into(),
            });
            client_key_pem = None;
        }
        Ok(Target {
            namespace: ctx
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "default".into()),
            context: ctx_name,
            server,
            proxy_url: cluster.proxy_url.clone().filter(|p| !p.trim().is_empty()),
            tls_server_name: cluster.tls_server_name.clone().filter(|s| !s.is_empty()),
            insecure_skip_tls_verify: cluster.insecure_skip_tls_verify.unwrap_or(false),
            ca_pem,
            client_cert_pem,
            client_key_pem,
            has_token,
            exec_command,
            material,
            kubeconfig: kc.clone(),
        })
    }

    /// Whether the user stanza presents any credential at all.
    pub fn has_credentials(&self) -> bool {
        self.client_cert_pem.is_some() || self.has_token || self.exec_command.is_some()
    }
}
