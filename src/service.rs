//! `service install` and `service show`: the application certificate of a local service, such
//! as Tomcat's, accepted only when its chain validates to a certificate in the service's list.

use crate::anchors::Anchor;
use crate::chain::RootSource;
use crate::verify::VerifyOptions;
use std::path::{Path, PathBuf};

use gwtrust_store::{ServiceRecord, Store, StoreError};
use rustls::pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::cert::{self, CertSummary};
use crate::error::{Error, Result};
use crate::formats::{self, Content};
use crate::policy;
use crate::trust_store;

/// The list a service certificate validates against by default: Tomcat's ordered trust.
pub const TOMCAT_LIST: &str = crate::trust_store::TOMCAT_LIST;

#[derive(Debug, Clone)]
pub struct InstallRequest {
    pub name: String,
    pub cert: PathBuf,
    pub key: Option<PathBuf>,
    pub list: String,
}

#[derive(Debug, Serialize)]
pub struct InstalledCert {
    pub fingerprint_sha256: String,
    pub subject: String,
    pub installed: String,
}

#[derive(Debug, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub list: String,
    pub certificate: CertSummary,
    pub installed: String,
    /// True when this install replaced nothing because the certificate was already current.
    pub unchanged: bool,
    /// Subjects of the validated path: leaf first, trust anchor last.
    pub path: Vec<String>,
    /// Certificates installed before the current one, oldest first.
    pub history: Vec<InstalledCert>,
    pub warnings: Vec<String>,
}

/// Validates the certificate in `request.cert` against `request.list` and installs it.
pub fn install(
    store: &Store,
    request: &InstallRequest,
    password: &mut dyn FnMut(&Path) -> Result<String>,
) -> Result<ServiceReport> {
    if store.list_info(&request.list)?.is_none() {
        return Err(StoreError::ListNotFound {
            name: request.list.clone(),
        }
        .into());
    }
    let certificates = read_chain(&request.cert, password)?;

    // The leaf is the first certificate that is not a CA; the others are intermediates.
    let leaf_index = certificates
        .iter()
        .position(|der| cert::parse(der).map(|c| !cert::is_ca(&c)).unwrap_or(false))
        .unwrap_or(0);
    let leaf_der = certificates[leaf_index].clone();
    let intermediates: Vec<CertificateDer<'static>> = certificates
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != leaf_index)
        .map(|(_, der)| der.clone())
        .collect();
    let leaf = cert::parse(&leaf_der).map_err(|reason| Error::InvalidCertificate {
        what: request.cert.display().to_string(),
        reason,
    })?;
    let subject = crate::cert::display_name(leaf.subject());

    let entries = store.entries(&request.list)?;
    let path = validate(request, &leaf_der, &intermediates, &entries)?;

    if let Some(key_path) = &request.key {
        check_key(key_path, &leaf, &subject)?;
    }

    let installed = trust_store::now_rfc3339();
    let before = store.service(&request.name)?;
    let record = store.install_service(
        &request.name,
        &request.list,
        &cert::fingerprint(&leaf_der),
        &leaf_der,
        &subject,
        &installed,
    )?;
    let unchanged = before.is_some_and(|b| b.fingerprint == record.fingerprint);

    let mut report = report(&record)?;
    report.unchanged = unchanged;
    report.path = path;
    report.warnings = policy::cisco_warnings(&leaf, false);
    Ok(report)
}

/// Reads the certificate file: the leaf, optionally followed by its intermediates.
fn read_chain(
    path: &Path,
    password: &mut dyn FnMut(&Path) -> Result<String>,
) -> Result<Vec<CertificateDer<'static>>> {
    let mut ask = || password(path);
    match formats::decode_file(path, &mut ask)? {
        Content::Certificates(decoded) if !decoded.certificates.is_empty() => {
            Ok(decoded.certificates)
        }
        Content::Certificates(_) => Err(Error::InvalidInput {
            path: path.to_path_buf(),
            reason: "the file contains no certificate".into(),
        }),
        Content::NotCertificates(description) => Err(Error::InvalidInput {
            path: path.to_path_buf(),
            reason: format!("at byte offset 0: no certificate found ({description})"),
        }),
    }
}

/// Runs path validation with serverAuth at the current time, the list's roots being the trust
/// anchors. Returns the subjects of the path, leaf first.
fn validate(
    request: &InstallRequest,
    leaf_der: &CertificateDer<'static>,
    intermediates: &[CertificateDer<'static>],
    entries: &[gwtrust_store::Entry],
) -> Result<Vec<String>> {
    let subject = || {
        cert::parse(leaf_der)
            .map(|c| crate::cert::display_name(c.subject()))
            .unwrap_or_default()
    };
    let failed = |reason: String| Error::PathValidation {
        service: request.name.clone(),
        list: request.list.clone(),
        subject: subject(),
        reason,
    };

    // Only the list's roots are trust anchors. Its intermediate CA certificates (a ca-chain
    // list may contain one without its root) can only extend a path towards a root.
    let (anchor_ders, list_intermediates): (Vec<CertificateDer<'static>>, Vec<_>) = entries
        .iter()
        .map(|e| CertificateDer::from(e.der.clone()))
        .partition(|der| cert::parse(der).is_ok_and(|c| cert::is_self_signed(&c)));
    let anchors = anchor_ders
        .iter()
        .filter_map(|der| webpki::anchor_from_trusted_cert(der).ok())
        .collect::<Vec<_>>();
    let mut intermediates = intermediates.to_vec();
    intermediates.extend(list_intermediates);
    let end_entity = webpki::EndEntityCert::try_from(leaf_der)
        .map_err(|error| failed(format!("the certificate cannot be parsed: {error}")))?;

    let verified = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        UnixTime::now(),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    );
    match verified {
        Ok(path) => {
            let mut subjects = vec![subject()];
            for der in path.intermediate_certificates() {
                if let Ok(c) = cert::parse(der.der().as_ref()) {
                    subjects.push(crate::cert::display_name(c.subject()));
                }
            }
            let anchor_subject = path.anchor().subject.as_ref();
            let anchor = anchor_ders.iter().find(|der| {
                webpki::anchor_from_trusted_cert(der)
                    .is_ok_and(|a| a.subject.as_ref() == anchor_subject)
            });
            if let Some(Ok(anchor)) = anchor.map(|der| cert::parse(der)) {
                subjects.push(crate::cert::display_name(anchor.subject()));
            }
            Ok(subjects)
        }
        Err(webpki::Error::UnknownIssuer) => Err(Error::MissingIssuer {
            service: request.name.clone(),
            list: request.list.clone(),
            subject: subject(),
            issuer: missing_issuer(leaf_der, &intermediates),
        }),
        Err(error) => Err(failed(explain(
            leaf_der,
            &intermediates,
            &anchor_ders,
            &request.list,
            &error,
        ))),
    }
}

/// Explains a path validation failure in the words `gwtrust verify` uses, naming the
/// certificate concerned; falls back to rustls-webpki's own text.
fn explain(
    leaf: &CertificateDer<'static>,
    intermediates: &[CertificateDer<'static>],
    anchor_ders: &[CertificateDer<'static>],
    list: &str,
    error: &webpki::Error,
) -> String {
    let anchors: Vec<Anchor> = anchor_ders
        .iter()
        .filter_map(|der| {
            let source = RootSource::Store {
                list: list.to_string(),
            };
            Anchor::from_der(der.clone(), source).ok()
        })
        .collect();
    let explained =
        crate::verify::verify_chain(leaf, intermediates, &anchors, &VerifyOptions::now())
            .ok()
            .map(|report| {
                report
                    .failures
                    .iter()
                    .map(|failure| failure.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|text| !text.is_empty());
    explained.unwrap_or_else(|| {
        format!(
            "rustls-webpki reports {error:?}; run `gwtrust verify` on the certificate for details"
        )
    })
}

/// Walks up from the leaf through the given intermediates and returns the issuer name of the
/// topmost certificate found: the one the list lacks.
fn missing_issuer(leaf: &[u8], intermediates: &[CertificateDer<'static>]) -> String {
    let parsed: Vec<_> = intermediates
        .iter()
        .filter_map(|der| cert::parse(der).ok())
        .collect();
    let Ok(mut current) = cert::parse(leaf) else {
        return "(unparseable)".into();
    };
    for _ in 0..=parsed.len() {
        match parsed.iter().find(|p| cert::issued_by(&current, p)) {
            Some(issuer) if !cert::is_self_signed(&current) => current = issuer.clone(),
            _ => break,
        }
    }
    crate::cert::display_name(current.issuer())
}

/// Checks that the private key in `path` belongs to the certificate.
fn check_key(
    path: &Path,
    leaf: &x509_parser::certificate::X509Certificate<'_>,
    subject: &str,
) -> Result<()> {
    let text = String::from_utf8(crate::files::read(path)?).map_err(|_| Error::InvalidInput {
        path: path.to_path_buf(),
        reason: "the key file is not PEM text".into(),
    })?;
    let key = rcgen::KeyPair::from_pem(&text).map_err(|error| Error::InvalidInput {
        path: path.to_path_buf(),
        reason: format!(
            "not a usable private key ({error}): expected an unencrypted PEM key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY); decrypt it first with `openssl pkey -in KEY -out key.pem`"
        ),
    })?;
    if rcgen::PublicKeyData::subject_public_key_info(&key) != leaf.public_key().raw {
        return Err(Error::KeyMismatch {
            key: path.to_path_buf(),
            subject: subject.to_string(),
        });
    }
    Ok(())
}

/// Returns the record of service `name`.
pub fn show(store: &Store, name: &str) -> Result<ServiceReport> {
    let record = store
        .service(name)?
        .ok_or_else(|| Error::InvalidArgument {
            what: "service",
            value: name.to_string(),
            reason: "no certificate is installed for it; install one with `gwtrust service install NAME --cert FILE`".into(),
        })?;
    report(&record)
}

fn report(record: &ServiceRecord) -> Result<ServiceReport> {
    Ok(ServiceReport {
        name: record.name.clone(),
        list: record.list.clone(),
        certificate: CertSummary::from_der(&record.der, &format!("service {}", record.name))?,
        installed: record.installed.clone(),
        unchanged: false,
        path: Vec::new(),
        history: record
            .history
            .iter()
            .map(|h| InstalledCert {
                fingerprint_sha256: h.fingerprint.to_string(),
                subject: h.subject.clone(),
                installed: h.installed.clone(),
            })
            .collect(),
        warnings: Vec::new(),
    })
}
