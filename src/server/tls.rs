//! Certificates for the embedded server: a CA generated at start, the serving certificate,
//! client certificates for the scenario's user, and the kubeconfig that ties them together;
//! and the TLS faults a scenario can ask for (wrong CA, missing SAN, expired certificates,
//! corrupted kubeconfig data, no credentials, a closed port, a proxy in the way).

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use super::ServerError;

/// A certificate and its private key, both PEM.
#[derive(Debug, Clone)]
pub struct CertPair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The certificate authority of one server run, able to sign more certificates.
pub struct Authority {
    pub cert_pem: String,
    params: CertificateParams,
    key: KeyPair,
}

fn tls_err(what: &str, e: rcgen::Error) -> ServerError {
    ServerError::Tls(format!("{what}: {e}"))
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
}

/// Validity of a certificate that expired `days_ago` days ago after a year of life.
fn expired(params: &mut CertificateParams, days_ago: i64) {
    let now = OffsetDateTime::now_utc();
    params.not_after = now - Duration::days(days_ago);
    params.not_before = params.not_after - Duration::days(365);
}

impl Authority {
    /// A new self-signed CA named like kubeadm's (`CN=kubernetes`).
    pub fn generate(common_name: &str) -> Result<Self, ServerError> {
        let key = KeyPair::generate().map_err(|e| tls_err("generating the CA key", e))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params, 3650);
        let cert = params
            .self_signed(&key)
            .map_err(|e| tls_err("signing the CA", e))?;
        Ok(Authority {
            cert_pem: cert.pem(),
            params,
            key,
        })
    }

    /// The API server's serving certificate, expired `days_ago` days ago.
    pub fn expired_serving_cert(
        &self,
        dns: &[&str],
        ips: &[std::net::IpAddr],
        days_ago: i64,
    ) -> Result<CertPair, ServerError> {
        let mut params = serving_params(dns, ips);
        expired(&mut params, days_ago);
        self.sign(&params)
    }

    /// A client certificate that expired `days_ago` days ago.
    pub fn expired_client_cert(
        &self,
        user: &str,
        groups: &[String],
        days_ago: i64,
    ) -> Result<CertPair, ServerError> {
        let mut params = client_params(user, groups);
        expired(&mut params, days_ago);
        self.sign(&params)
    }

    fn sign(&self, params: &CertificateParams) -> Result<CertPair, ServerError> {
        let key = KeyPair::generate().map_err(|e| tls_err("generating a key", e))?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| tls_err("signing a certificate", e))?;
        Ok(CertPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The API server's serving certificate for the given DNS names and IP addresses.
    pub fn serving_cert(
        &self,
        dns: &[&str],
        ips: &[std::net::IpAddr],
    ) -> Result<CertPair, ServerError> {
        let mut params = serving_params(dns, ips);
        validity(&mut params, 365);
        self.sign(&params)
    }

    /// A client certificate for `user` in `groups` (CN = user, O = each group), as kubeadm
    /// writes into admin.conf.
    pub fn client_cert(&self, user: &str, groups: &[String]) -> Result<CertPair, ServerError> {
        let mut params = client_params(user, groups);
        validity(&mut params, 365);
        self.sign(&params)
    }
}

fn serving_params(dns: &[&str], ips: &[std::net::IpAddr]) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kube-apiserver");
    params.distinguished_name = dn;
    params.subject_alt_names = dns
        .iter()
        .filter_map(|d| (*d).try_into().ok().map(SanType::DnsName))
        .chain(ips.iter().map(|ip| SanType::IpAddress(*ip)))
        .collect();
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
}

fn client_params(user: &str, groups: &[String]) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for g in groups {
        dn.push(DnType::OrganizationName, g.as_str());
    }
    dn.push(DnType::CommonName, user);
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

/// How the kubeconfig's user authenticates.
pub enum Credentials<'a> {
    ClientCert(&'a CertPair),
    Token(&'a str),
    /// Only a `username` (basic auth, gone from Kubernetes since 1.19): no credential reaches
    /// the server, which sees `system:anonymous`. (An empty user stanza would make kubectl
    /// prompt for a password instead.)
    UsernameOnly,
}

/// A kubeconfig (YAML) with one cluster, user and context, all named `name`.
pub fn kubeconfig(
    name: &str,
    server: &str,
    ca_pem: &str,
    user: &str,
    creds: Credentials,
) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let user_body = match creds {
        Credentials::ClientCert(pair) => format!(
            "    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(&pair.cert_pem),
            b64(&pair.key_pem)
        ),
        Credentials::Token(token) => format!("    token: {token}\n"),
        Credentials::UsernameOnly => format!("    username: {user}\n"),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n{user_body}contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {user}\ncurrent-context: {name}\npreferences: {{}}\n",
        ca = b64(ca_pem),
    )
}

/// Reads user name (CN) and groups (O) from a DER client certificate.
pub fn identity_from_der(der: &[u8]) -> Option<(String, Vec<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())?
        .to_string();
    let groups = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_string))
        .collect();
    Some((name, groups))
}

/// The kubeconfig with its `certificate-authority-data` base64-encoded a second time (the
/// classic copy-paste mistake: decoded once it reads `LS0tLS1CRUdJTi…`).
pub fn double_encode_ca(kubeconfig: &str) -> String {
    let key = "certificate-authority-data: ";
    kubeconfig
        .lines()
        .map(|l| match l.split_once(key) {
            Some((indent, data)) => format!(
                "{indent}{key}{}",
                base64::engine::general_purpose::STANDARD.encode(data.trim().as_bytes())
            ),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
