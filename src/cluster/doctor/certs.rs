//! Certificates as the doctor reports them (subject, issuer, SANs, validity, SHA-256
//! fingerprint), and the checks of kubeconfig credential material: base64 that is not
//! base64, base64 of base64 (`LS0tLS1CRUdJTi…`), empty values, DER instead of PEM, a
//! certificate where the key belongs (and the other way round), a key that does not match.

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

/// One certificate, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    #[serde(default)]
    pub dns_names: Vec<String>,
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    /// RFC 3339.
    pub not_before: Option<String>,
    /// RFC 3339.
    pub not_after: Option<String>,
    /// SHA-256 of the DER, upper-case hex pairs joined by `:` (as `openssl x509 -fingerprint`).
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub is_ca: bool,
}

impl CertInfo {
    pub fn not_after(&self) -> Option<DateTime<Utc>> {
        parse_time(self.not_after.as_deref()?)
    }

    pub fn not_before(&self) -> Option<DateTime<Utc>> {
        parse_time(self.not_before.as_deref()?)
    }

    /// The SANs in the order Go lists them: DNS names, then IPs.
    pub fn sans(&self) -> Vec<String> {
        self.dns_names
            .iter()
            .chain(self.ip_addresses.iter())
            .cloned()
            .collect()
    }

    /// Whether the certificate is valid for `host` (a DNS name or IP address), with `*.`
    /// wildcards matching one label.
    pub fn valid_for(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return self
                .ip_addresses
                .iter()
                .any(|a| a.parse::<std::net::IpAddr>().ok() == Some(ip));
        }
        self.dns_names.iter().any(|n| {
            let n = n.to_ascii_lowercase();
            match n.strip_prefix("*.") {
                Some(rest) => host
                    .split_once('.')
                    .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
                None => n == host,
            }
        })
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// SHA-256 fingerprint as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses one DER certificate.
pub fn parse_der(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut info = CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sha256: fingerprint(der),
        is_ca: cert.is_ca(),
        ..Default::default()
    };
    let ts = |t: x509_parser::time::ASN1Time| {
        Utc.timestamp_opt(t.timestamp(), 0)
            .single()
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    info.not_before = ts(cert.validity().not_before);
    info.not_after = ts(cert.validity().not_after);
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(d) => {
                    info.dns_names.push((*d).to_string())
                }
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(std::net::IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(std::net::IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        info.ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Some(info)
}

/// The certificates of a PEM bundle, DER.
pub fn pem_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .collect()
}

/// What is wrong with one piece of credential material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaterialProblem {
    /// The kubeconfig field: `certificate-authority-data`, `client-certificate-data`…
    pub field: String,
    /// What is wrong, one sentence.
    pub problem: String,
    /// The error kubectl prints for it.
    pub kubectl_error: String,
}

/// Which kind of material a field should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Certificate,
    Key,
}

/// Decodes a `*-data` field (base64 of PEM). `Ok(pem)` when usable, else what is wrong.
pub fn decode_data(field: &str, data: &str, expect: Expect) -> Result<Vec<u8>, MaterialProblem> {
    let what = match expect {
        Expect::Certificate => "certificate",
        Expect::Key => "key",
    };
    let problem = |p: String, k: String| MaterialProblem {
        field: field.to_string(),
        problem: p,
        kubectl_error: k,
    };
    let compact: String = data.split_whitespace().collect();
    if compact.is_empty() {
        return Err(problem(
            format!("{field} is empty"),
            format!("tls: failed to find any PEM data in {what} input"),
        ));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = match b64.decode(compact.as_bytes()) {
        Ok(b) => b,
        Err(e) => {
            let hint = if compact.starts_with("-----BEGIN") {
                " (it holds PEM text: a `*-data` field wants the PEM base64-encoded once; or use the file field without -data)"
            } else {
                ""
            };
            return Err(problem(
                format!("{field} is not valid base64: {e}{hint}"),
                format!(
                    "illegal base64 data at input byte {}",
                    first_bad_byte(&compact)
                ),
            ));
        }
    };
    check_pem(field, &bytes, expect)
}

fn first_bad_byte(s: &str) -> usize {
    s.bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='))
        .unwrap_or(0)
}

/// Checks decoded material (PEM expected).
pub fn check_pem(field: &str, bytes: &[u8], expect: Expect) -> Result<Vec<u8>, MaterialProblem> {
    let what = match expect {
        Expect::Certificate => "certificate",
        Expect::Key => "key",
    };
    let problem = |p: String| MaterialProblem {
        field: field.to_string(),
        problem: p,
        kubectl_error: format!("tls: failed to find any PEM data in {what} input"),
    };
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    if trimmed.starts_with("LS0tLS1CRUdJTi") || trimmed.starts_with("LS0tLS1") {
        return Err(MaterialProblem {
            field: field.to_string(),
            problem: format!(
                "{field} is base64 of base64: decoded once it still starts with \"LS0tLS1CRUdJTi\" (base64 of \"-----BEGIN\"); it was encoded twice"
            ),
            kubectl_error: match expect {
                Expect::Certificate if field.starts_with("certificate-authority") => {
                    "unable to load root certificates: unable to parse bytes as PEM block".into()
                }
                _ => format!("tls: failed to find any PEM data in {what} input"),
            },
        });
    }
    if bytes.first() == Some(&0x30) {
        return Err(problem(format!(
            "{field} holds DER (binary) instead of PEM: convert it with `openssl x509 -inform der` (or `openssl pkey -inform der`) first"
        )));
    }
    if !trimmed.starts_with("-----BEGIN") {
        return Err(problem(format!(
            "{field} decodes to text that is not PEM (it should start with \"-----BEGIN\")"
        )));
    }
    let has_cert = trimmed.contains("-----BEGIN CERTIFICATE-----");
    let has_key = trimmed.contains("PRIVATE KEY-----");
    match expect {
        Expect::Certificate if !has_cert && has_key => Err(problem(format!(
            "{field} holds a private key, not a certificate: certificate and key are swapped"
        ))),
        Expect::Key if !has_key && has_cert => Err(problem(format!(
            "{field} holds a certificate, not a private key: certificate and key are swapped"
        ))),
        Expect::Certificate if pem_certs(bytes).is_empty() => Err(problem(format!(
            "{field} has no parsable CERTIFICATE block"
        ))),
        Expect::Key if PrivateKeyDer::from_pem_slice(bytes).is_err() => Err(problem(format!(
            "{field} has no parsable PRIVATE KEY block"
        ))),
        _ => Ok(bytes.to_vec()),
    }
}

/// Whether `key_pem` is the private key of `cert_pem` (`None` when it cannot be decided).
pub fn key_matches(cert_pem: &[u8], key_pem: &[u8]) -> Option<bool> {
    let cert = pem_certs(cert_pem).into_iter().next()?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).ok()?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key).ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&cert).ok()?;
    let cert_spki = parsed.public_key().raw.to_vec();
    let key_spki = signing.public_key()?;
    Some(key_spki.as_ref() == cert_spki.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (String, String) {
        let ca = crate::server::tls::Authority::generate("kubernetes").unwrap();
        let p = ca.client_cert("alice", &["dev".into()]).unwrap();
        (p.cert_pem, p.key_pem)
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn good_material_decodes_and_the_key_matches() {
        let (cert, key) = pair();
        let c = decode_data(
            "client-certificate-data",
            &b64(cert.as_bytes()),
            Expect::Certificate,
        )
        .unwrap();
        let k = decode_data("client-key-data", &b64(key.as_bytes()), Expect::Key).unwrap();
        assert_eq!(key_matches(&c, &k), Some(true));
        let (_, other_key) = pair();
        assert_eq!(key_matches(&c, other_key.as_bytes()), Some(false));
        let info = parse_der(&pem_certs(&c)[0]).unwrap();
        assert!(info.subject.contains("CN=alice"), "{}", info.subject);
        assert_eq!(info.sha256.len(), 32 * 3 - 1);
    }

    #[test]
    fn every_kind_of_bad_material_is_named() {
        let (cert, key) = pair();
        let twice = b64(b64(cert.as_bytes()).as_bytes());
        let p = decode_data("certificate-authority-data", &twice, Expect::Certificate).unwrap_err();
        assert!(p.problem.contains("LS0tLS1CRUdJTi"), "{}", p.problem);
        assert!(p.kubectl_error.contains("unable to parse bytes as PEM"));
        let p = decode_data("client-certificate-data", "", Expect::Certificate).unwrap_err();
        assert!(p.problem.contains("empty"));
        let p = decode_data(
            "client-certificate-data",
            "%%%not base64",
            Expect::Certificate,
        )
        .unwrap_err();
        assert!(p.problem.contains("not valid base64"), "{}", p.problem);
        let der = pem_certs(cert.as_bytes())[0].to_vec();
        let p =
            decode_data("client-certificate-data", &b64(&der), Expect::Certificate).unwrap_err();
        assert!(p.problem.contains("DER"), "{}", p.problem);
        let p = decode_data(
            "client-certificate-data",
            &b64(key.as_bytes()),
            Expect::Certificate,
        )
        .unwrap_err();
        assert!(p.problem.contains("swapped"), "{}", p.problem);
        let p = decode_data("client-key-data", &b64(cert.as_bytes()), Expect::Key).unwrap_err();
        assert!(p.problem.contains("swapped"), "{}", p.problem);
    }

    #[test]
    fn san_matching_handles_ips_and_wildcards() {
        let c = CertInfo {
            dns_names: vec!["kubernetes".into(), "*.example.com".into()],
            ip_addresses: vec!["10.96.0.1".into()],
            ..Default::default()
        };
        assert!(c.valid_for("kubernetes"));
        assert!(c.valid_for("api.example.com"));
        assert!(!c.valid_for("a.b.example.com"));
        assert!(c.valid_for("10.96.0.1"));
        assert!(!c.valid_for("127.0.0.1"));
        assert_eq!(c.sans(), vec!["kubernetes", "*.example.com", "10.96.0.1"]);
    }
}
