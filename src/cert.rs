//! One certificate: its DER, SHA-256 fingerprint, the facts an admin reads off it, and the
//! signature check that links a certificate to its issuer.

use aws_lc_rs::digest;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::{FromDer, X509Error};

use crate::error::{Error, Result};
use gwtrust_store::Fingerprint;

/// Returns the SHA-256 fingerprint of a DER certificate.
pub fn fingerprint(der: &[u8]) -> Fingerprint {
    let digest = digest::digest(&digest::SHA256, der);
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    Fingerprint(bytes)
}

/// Formats a fingerprint the way `openssl x509 -fingerprint -sha256` does: upper case, colons.
pub fn fingerprint_colons(fp: &Fingerprint) -> String {
    fp.0.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses DER into an x509-parser certificate, rejecting trailing bytes.
pub fn parse(der: &[u8]) -> std::result::Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok((rest, _)) if !rest.is_empty() => Err(format!(
            "{} unexpected bytes after the certificate",
            rest.len()
        )),
        Ok((_, cert)) => Ok(cert),
        Err(err) => Err(err.to_string()),
    }
}

/// The outcome of checking that `issuer`'s key signed `child`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureCheck {
    Valid,
    Invalid,
    /// aws-lc-rs has no verifier for this algorithm (MD5, RSA-PSS with SHA-1, DSA, ...).
    UnsupportedAlgorithm,
}

/// Verifies `child`'s signature with `issuer`'s subject public key.
pub fn check_signature(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> SignatureCheck {
    match child.verify_signature(Some(issuer.public_key())) {
        Ok(()) => SignatureCheck::Valid,
        Err(X509Error::SignatureUnsupportedAlgorithm) => SignatureCheck::UnsupportedAlgorithm,
        Err(_) => SignatureCheck::Invalid,
    }
}

/// Returns the key identifier of the subject key identifier extension, if present.
pub fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    use x509_parser::extensions::ParsedExtension;
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
            _ => None,
        })
}

/// Returns the key identifier of the authority key identifier extension, if present.
pub fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    use x509_parser::extensions::ParsedExtension;
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|id| id.0)
            }
            _ => None,
        })
}

/// Returns true when `issuer` issued `child`: the issuer name equals the subject name, the key
/// identifiers agree where both are present, and the signature verifies with the issuer's key.
///
/// Names alone are never enough, because two CAs can share a name.
pub fn issued_by(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    if child.issuer().as_raw() != issuer.subject().as_raw() {
        return false;
    }
    if let (Some(aki), Some(ski)) = (authority_key_id(child), subject_key_id(issuer)) {
        if aki != ski {
            return false;
        }
    }
    check_signature(child, issuer) == SignatureCheck::Valid
}

/// Returns true when the certificate is self-issued and its own key verifies its signature.
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    issued_by(cert, cert)
}

/// Returns true when basicConstraints marks the certificate as a CA.
pub fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
}

/// Formats a distinguished name for display, escaping control characters.
///
/// A name comes from the certificate's maker, so a raw ESC or newline could redraw the
/// terminal or forge a line such as a fake fingerprint; each one is shown as `\u{..}` instead.
pub fn display_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    escape_control(&name.to_string())
}

/// Escapes control characters (C0, DEL and C1) as `\u{..}`, leaving other text as it is.
pub fn escape_control(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// Formats an ASN.1 time as RFC 3339 UTC.
pub fn rfc3339(time: &x509_parser::time::ASN1Time) -> String {
    let format = time::format_description::well_known::Rfc3339;
    time.to_datetime()
        .format(&format)
        .unwrap_or_else(|_| time.to_string())
}

/// The facts `fetch`, `list` and `show` print for one certificate.
#[derive(Clone, Debug, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub fingerprint_sha256: String,
    pub is_ca: bool,
    pub self_signed: bool,
}

impl CertSummary {
    /// Summarises a DER certificate. `what` names it in the error if it does not parse.
    pub fn from_der(der: &[u8], what: &str) -> Result<CertSummary> {
        let cert = parse(der).map_err(|reason| Error::InvalidCertificate {
            what: what.to_string(),
            reason,
        })?;
        Ok(CertSummary::from_parsed(der, &cert))
    }

    /// Summarises an already parsed certificate.
    pub fn from_parsed(der: &[u8], cert: &X509Certificate<'_>) -> CertSummary {
        CertSummary {
            subject: display_name(cert.subject()),
            issuer: display_name(cert.issuer()),
            serial: cert.raw_serial_as_string(),
            not_before: rfc3339(&cert.validity().not_before),
            not_after: rfc3339(&cert.validity().not_after),
            fingerprint_sha256: fingerprint(der).to_string(),
            is_ca: is_ca(cert),
            self_signed: is_self_signed(cert),
        }
    }
}
