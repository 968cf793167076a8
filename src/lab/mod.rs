//! Lab generation: a root CA and OWA server certificates for test Exchange servers.
//!
//! A CA directory contains `ca.pem` (the CA certificate), `ca.key` (its private key, mode 0600)
//! and `chain.pem`. That chain is the CA certificate followed by its issuers up to the root, so
//! for a root it is the root alone. A server directory contains `cert.pem`, `key.pem` (mode
//! 0600) and `chain.pem` (the leaf followed by the CA's chain, root last).

pub mod pfx;
pub mod serve;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, RsaKeySize, SanType, SerialNumber,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};
use crate::files::{self, PRIVATE_MODE, PUBLIC_MODE};
use crate::formats;

/// The default common name of a lab root CA.
pub const DEFAULT_CA_NAME: &str = "gwtrust Lab Root CA";
/// The default common name of a lab intermediate (issuing) CA.
pub const DEFAULT_INTERMEDIATE_NAME: &str = "gwtrust Lab Issuing CA";
/// The default validity of a lab CA, in days.
pub const DEFAULT_CA_DAYS: u32 = 3650;
/// The default validity of a lab server certificate, in days.
pub const DEFAULT_SERVER_DAYS: u32 = 825;

/// The key algorithm and size of a generated key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA 2048, the default: Exchange 2007 and 2010-era servers expect RSA.
    #[default]
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
    P384,
}

impl KeyKind {
    /// The command-line names, in the order `--help` lists them.
    pub const NAMES: [&'static str; 5] = ["rsa2048", "rsa3072", "rsa4096", "p256", "p384"];

    fn generate(self) -> std::result::Result<KeyPair, rcgen::Error> {
        match self {
            KeyKind::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
            }
            KeyKind::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072)
            }
            KeyKind::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096)
            }
            KeyKind::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyKind::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        }
    }
}

impl FromStr for KeyKind {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "rsa2048" => Ok(KeyKind::Rsa2048),
            "rsa3072" => Ok(KeyKind::Rsa3072),
            "rsa4096" => Ok(KeyKind::Rsa4096),
            "p256" => Ok(KeyKind::P256),
            "p384" => Ok(KeyKind::P384),
            _ => Err(format!("expected one of {}", KeyKind::NAMES.join(", "))),
        }
    }
}

/// Options for `lab ca`.
#[derive(Clone, Debug)]
pub struct CaRequest {
    pub common_name: String,
    pub key: KeyKind,
    pub days: u32,
    /// The basicConstraints path length; None leaves it unconstrained.
    pub path_len: Option<u8>,
}

/// Options for `lab server`.
#[derive(Clone, Debug)]
pub struct ServerRequest {
    /// The FQDN the certificate is for: the first SAN and the CN.
    pub host: String,
    /// Further SAN entries: DNS names or IP addresses.
    pub extra_sans: Vec<String>,
    pub key: KeyKind,
    pub days: u32,
}

/// A generated certificate with its key, in memory.
pub struct Generated {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key_pem: String,
    /// The certificate followed by its issuers, root last.
    pub chain: Vec<CertificateDer<'static>>,
}

/// A CA loaded from a CA directory, able to issue certificates.
pub struct LoadedCa {
    pub der: CertificateDer<'static>,
    pub chain: Vec<CertificateDer<'static>>,
    key: KeyPair,
}

/// Generates a self-signed root CA: basicConstraints CA (critical), keyCertSign and cRLSign,
/// and a subject key identifier.
pub fn generate_ca(request: &CaRequest) -> Result<Generated> {
    let what = format!("lab CA {:?}", request.common_name);
    check_common_name(&request.common_name, "--cn")?;
    let key = request
        .key
        .generate()
        .map_err(|e| generation_error(&what, e))?;

    let mut params = base_params(request.days, &what)?;
    params.distinguished_name = distinguished_name(&request.common_name);
    params.is_ca = ca_constraints(request.path_len);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];

    let cert = params
        .self_signed(&key)
        .map_err(|e| generation_error(&what, e))?;
    let der = cert.der().clone();
    Ok(Generated {
        cert_pem: cert.pem(),
        chain: vec![der.clone()],
        cert_der: der,
        key_pem: key.serialize_pem(),
    })
}

/// Generates an intermediate (issuing) CA signed by `ca`, with an authority key identifier
/// and, when given, an explicit path length. Its chain is itself followed by `ca`'s chain.
pub fn generate_intermediate(ca: &LoadedCa, request: &CaRequest) -> Result<Generated> {
    let what = format!("lab intermediate CA {:?}", request.common_name);
    check_common_name(&request.common_name, "--cn")?;
    let key = request
        .key
        .generate()
        .map_err(|e| generation_error(&what, e))?;

    let mut params = base_params(request.days, &what)?;
    params.distinguished_name = distinguished_name(&request.common_name);
    params.is_ca = ca_constraints(request.path_len);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;

    sign_with_ca(ca, &params, &key, &what)
}

/// Signs `params` with the CA's key and returns the certificate followed by the CA's chain.
fn sign_with_ca(
    ca: &LoadedCa,
    params: &CertificateParams,
    key: &KeyPair,
    what: &str,
) -> Result<Generated> {
    let issuer =
        Issuer::from_ca_cert_der(&ca.der, &ca.key).map_err(|e| generation_error(what, e))?;
    let cert = params
        .signed_by(key, &issuer)
        .map_err(|e| generation_error(what, e))?;

    let der = cert.der().clone();
    let mut chain = vec![der.clone()];
    chain.extend(ca.chain.iter().cloned());
    Ok(Generated {
        cert_pem: cert.pem(),
        cert_der: der,
        key_pem: key.serialize_pem(),
        chain,
    })
}

fn ca_constraints(path_len: Option<u8>) -> IsCa {
    match path_len {
        Some(length) => IsCa::Ca(BasicConstraints::Constrained(length)),
        None => IsCa::Ca(BasicConstraints::Unconstrained),
    }
}

/// Generates a server certificate for `request.host`, issued by `ca`: serverAuth EKU, the host
/// as first SAN and as CN, and an authority key identifier.
pub fn generate_server(ca: &LoadedCa, request: &ServerRequest) -> Result<Generated> {
    let what = format!("lab server certificate for {:?}", request.host);
    crate::names::is_fqdn(&request.host).map_err(|err| Error::InvalidArgument {
        what: "--host",
        value: request.host.clone(),
        reason: err.to_string(),
    })?;

    // The host goes in as its A-label form, first; further SANs follow, without duplicates.
    let host = san_name(&request.host, "--host")?;
    let mut names = vec![host.clone()];
    for extra in &request.extra_sans {
        let name = match extra.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => san_name(extra, "--san")?,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut sans = Vec::with_capacity(names.len());
    for name in &names {
        let san =
            match name.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(name.clone().try_into().map_err(|e| {
                    Error::InvalidArgument {
                        what: "--san",
                        value: name.clone(),
                        reason: format!("not a valid DNS name: {e}"),
                    }
                })?),
            };
        sans.push(san);
    }
    check_common_name(&host, "--host")?;

    let key = request
        .key
        .generate()
        .map_err(|e| generation_error(&what, e))?;
    let mut params = base_params(request.days, &what)?;
    params.distinguished_name = distinguished_name(&host);
    params.subject_alt_names = sans;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;

    sign_with_ca(ca, &params, &key, &what)
}

/// Writes a generated CA into `dir` as `ca.pem`, `ca.key` and `chain.pem`.
pub fn write_ca(dir: &Path, ca: &Generated) -> Result<Vec<PathBuf>> {
    files::create_dir(dir)?;
    let chain_pem = formats::to_pem_bundle(ca.chain.iter().map(|c| c.as_ref()));
    let outputs = [
        (dir.join("ca.key"), ca.key_pem.as_bytes(), PRIVATE_MODE),
        (dir.join("ca.pem"), ca.cert_pem.as_bytes(), PUBLIC_MODE),
        (dir.join("chain.pem"), chain_pem.as_bytes(), PUBLIC_MODE),
    ];
    write_all(&outputs)
}

/// Writes a generated server certificate into `dir` as `cert.pem`, `key.pem` and `chain.pem`.
pub fn write_server(dir: &Path, server: &Generated) -> Result<Vec<PathBuf>> {
    files::create_dir(dir)?;
    let chain_pem = formats::to_pem_bundle(server.chain.iter().map(|c| c.as_ref()));
    let outputs = [
        (dir.join("key.pem"), server.key_pem.as_bytes(), PRIVATE_MODE),
        (
            dir.join("cert.pem"),
            server.cert_pem.as_bytes(),
            PUBLIC_MODE,
        ),
        (dir.join("chain.pem"), chain_pem.as_bytes(), PUBLIC_MODE),
    ];
    write_all(&outputs)
}

/// Loads a CA directory written by [`write_ca`].
pub fn load_ca(dir: &Path) -> Result<LoadedCa> {
    let cert_path = dir.join("ca.pem");
    let key_path = dir.join("ca.key");
    let chain_path = dir.join("chain.pem");

    let der = formats::read_certificates(&cert_path)?
        .into_iter()
        .next()
        .expect("read_certificates returns at least one certificate");
    let chain = if chain_path.exists() {
        formats::read_certificates(&chain_path)?
    } else {
        vec![der.clone()]
    };

    let key_text = String::from_utf8(files::read(&key_path)?).map_err(|_| Error::InvalidInput {
        path: key_path.clone(),
        reason: "the key file is not PEM text".into(),
    })?;
    let key = KeyPair::from_pem(&key_text).map_err(|e| Error::InvalidInput {
        path: key_path.clone(),
        reason: format!("not a usable private key: {e}"),
    })?;

    // A leaf or a mismatched key would issue certificates that no client can validate.
    let parsed = crate::cert::parse(&der).map_err(|reason| Error::InvalidInput {
        path: cert_path.clone(),
        reason,
    })?;
    if !crate::cert::is_ca(&parsed) {
        return Err(Error::InvalidInput {
            path: cert_path,
            reason: "is not a CA certificate (basicConstraints CA is not set); pass a directory made by `gwtrust lab ca`".into(),
        });
    }
    if rcgen::PublicKeyData::der_bytes(&key) != parsed.public_key().subject_public_key.data.as_ref()
    {
        return Err(Error::InvalidInput {
            path: key_path,
            reason:
                "does not match the public key of ca.pem; the CA directory mixes files of two CAs"
                    .into(),
        });
    }

    Ok(LoadedCa { der, chain, key })
}

/// Loads a server directory written by [`write_server`]: the chain and the PEM key text.
pub fn load_server(dir: &Path) -> Result<(Vec<CertificateDer<'static>>, Vec<u8>)> {
    let chain = formats::read_certificates(&dir.join("chain.pem"))?;
    let key = files::read(&dir.join("key.pem"))?;
    Ok((chain, key))
}

/// Writes every output or none: existing files are never replaced, because a lab CA's key
/// cannot be recovered once overwritten, and a failure removes what this call already wrote.
fn write_all(outputs: &[(PathBuf, &[u8], u32)]) -> Result<Vec<PathBuf>> {
    if let Some((existing, _, _)) = outputs
        .iter()
        .find(|(path, _, _)| path.symlink_metadata().is_ok())
    {
        return Err(Error::InvalidInput {
            path: existing.clone(),
            reason: "already exists; choose another --out directory or move the old files away. Nothing was written".into(),
        });
    }

    for (index, (path, data, mode)) in outputs.iter().enumerate() {
        if let Err(err) = files::write_atomic(path, data, *mode) {
            for (written, _, _) in &outputs[..index] {
                let _ = std::fs::remove_file(written);
            }
            return Err(err);
        }
    }
    Ok(outputs.iter().map(|(path, _, _)| path.clone()).collect())
}

fn base_params(days: u32, what: &str) -> Result<CertificateParams> {
    if days == 0 || days > 36_500 {
        return Err(Error::InvalidArgument {
            what: "--days",
            value: days.to_string(),
            reason: "expected a validity from 1 to 36500 days".into(),
        });
    }

    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| Error::Generate {
        what: what.to_string(),
        reason: "the system random number generator failed".into(),
    })?;
    // A positive serial number of at most 20 octets (RFC 5280 section 4.1.2.2).
    serial[0] &= 0x7f;
    serial[0] |= 0x01;

    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    // Backdated by an hour so a peer whose clock is slightly behind accepts it at once.
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(i64::from(days));
    Ok(params)
}

/// Checks a DNS name for a SAN and returns its lowercase A-label form. A leading `*.` label is
/// kept, so lab wildcard certificates can be made.
fn san_name(name: &str, option: &'static str) -> Result<String> {
    let (wildcard, rest) = match name.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let reference =
        crate::names::DnsReference::parse(rest).map_err(|err| Error::InvalidArgument {
            what: option,
            value: name.to_string(),
            reason: format!("{err}; a SAN is a DNS name such as owa.example.com, or an IP address"),
        })?;
    Ok(match wildcard {
        true => format!("*.{}", reference.as_str()),
        false => reference.as_str().to_string(),
    })
}

/// Checks a common name: 1 to 64 characters (the X.520 upper bound RFC 5280 uses), no control characters.
fn check_common_name(name: &str, option: &'static str) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidArgument {
        what: option,
        value: crate::cert::escape_control(&name.chars().take(80).collect::<String>()),
        reason: reason.to_string(),
    };
    if name.trim().is_empty() {
        return Err(invalid("a common name cannot be empty"));
    }
    if name.chars().count() > 64 {
        return Err(invalid(
            "a common name has at most 64 characters (RFC 5280 ub-common-name)",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("a common name cannot contain control characters"));
    }
    Ok(())
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "gwtrust lab");
    name.push(DnType::CommonName, common_name);
    name
}

fn generation_error(what: &str, err: rcgen::Error) -> Error {
    Error::Generate {
        what: what.to_string(),
        reason: err.to_string(),
    }
}
