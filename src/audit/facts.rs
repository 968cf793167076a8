//! The facts the audit checks, read off each certificate once, in parallel.
//!
//! A parsed `X509Certificate` is far larger than its DER, so the audit keeps only these facts.
//! Names and keys borrow from the DER. The few certificates that need a second look (issuer
//! signatures, subjects for findings) are parsed again.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{
    OID_KEY_TYPE_DSA, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION,
};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

use super::verify::{self, SignatureHash};
use crate::cert::{self, SignatureCheck};

/// The subject public key, as far as the audit grades it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa { bits: u32 },
    Ec { bits: u32 },
    Dsa,
    Other,
}

/// The facts of one certificate that the checks read.
pub struct Facts<'a> {
    /// Index into `Inputs::entries`.
    pub entry: usize,
    pub der: &'a [u8],
    pub fingerprint: [u8; 32],
    pub subject: &'a [u8],
    pub issuer: &'a [u8],
    /// The whole SubjectPublicKeyInfo, DER.
    pub spki: &'a [u8],
    pub not_before: i64,
    pub not_after: i64,
    /// 1 for a version 1 certificate, 3 for version 3.
    pub version: u32,
    /// basicConstraints cA, or None when the extension is absent.
    pub ca: Option<bool>,
    pub path_len: Option<u32>,
    /// keyUsage keyCertSign, or None when the extension is absent.
    pub key_cert_sign: Option<bool>,
    pub key: KeyKind,
    pub hash: SignatureHash,
    /// Subject equals issuer and the key identifiers do not contradict it.
    pub self_issued: bool,
    /// The self-signature check, for self-issued certificates only.
    pub self_signature: Option<SignatureCheck>,
    /// The first wildcard name in the subject CN or the subjectAltName DNS names.
    pub wildcard: Option<String>,
}

impl Facts<'_> {
    /// Returns true for a root: self-issued, with a self-signature that does not fail.
    /// Roots whose algorithm aws-lc-rs cannot check (MD5, DSA) still count as roots.
    pub fn is_root(&self) -> bool {
        self.self_issued && self.self_signature != Some(SignatureCheck::Invalid)
    }

    /// Returns the hex SHA-256 fingerprint.
    pub fn fingerprint_hex(&self) -> String {
        gwtrust_store::Fingerprint(self.fingerprint).to_string()
    }

    /// Returns the subject as text, in the form `fetch` and `list` print.
    pub fn subject_text(&self) -> String {
        name_text(self.subject)
    }

    /// Returns the issuer as text.
    pub fn issuer_text(&self) -> String {
        name_text(self.issuer)
    }
}

/// Formats a DER-encoded name as text.
pub fn name_text(der: &[u8]) -> String {
    match X509Name::from_der(der) {
        Ok((_, name)) => name.to_string(),
        Err(_) => "(unparseable name)".to_string(),
    }
}

/// Parses a certificate, allowing trailing bytes only when asked.
pub fn parse(der: &[u8], trailing_allowed: bool) -> Result<X509Certificate<'_>, String> {
    if trailing_allowed {
        return X509Certificate::from_der(der)
            .map(|(_, cert)| cert)
            .map_err(|err| err.to_string());
    }
    cert::parse(der)
}

/// Reads the facts off one certificate and checks its self-signature if it is self-issued.
pub fn read(entry: usize, der: &[u8], trailing_allowed: bool) -> Result<Facts<'_>, String> {
    let parsed = parse(der, trailing_allowed)?;
    // The certificate proper, without OpenSSL trust settings after it.
    let der = &der[..parsed.as_ref().len()];

    let subject = parsed.tbs_certificate.subject.as_raw();
    let issuer = parsed.tbs_certificate.issuer.as_raw();

    let (ca, path_len) = match parsed.basic_constraints() {
        Ok(Some(bc)) => (Some(bc.value.ca), bc.value.path_len_constraint),
        _ => (None, None),
    };
    let key_cert_sign = match parsed.key_usage() {
        Ok(Some(ku)) => Some(ku.value.key_cert_sign()),
        _ => None,
    };

    let self_issued = subject == issuer
        && match (
            cert::authority_key_id(&parsed),
            cert::subject_key_id(&parsed),
        ) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => true,
        };
    let self_signature = self_issued.then(|| verify::check(&parsed, parsed.public_key()));

    Ok(Facts {
        entry,
        der,
        fingerprint: cert::fingerprint(der).0,
        subject,
        issuer,
        spki: parsed.tbs_certificate.subject_pki.raw,
        not_before: parsed.validity().not_before.timestamp(),
        not_after: parsed.validity().not_after.timestamp(),
        version: parsed.version().0 + 1,
        ca,
        path_len,
        key_cert_sign,
        key: key_kind(&parsed),
        hash: SignatureHash::of(&parsed.signature_algorithm.algorithm),
        self_issued,
        self_signature,
        wildcard: wildcard(&parsed),
    })
}

fn key_kind(parsed: &X509Certificate<'_>) -> KeyKind {
    let spki = parsed.public_key();
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        return match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => KeyKind::Rsa {
                bits: verify::rsa_bits(rsa.modulus),
            },
            _ => KeyKind::Other,
        };
    }
    if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        return match spki.parsed() {
            Ok(PublicKey::EC(point)) => KeyKind::Ec {
                bits: point.key_size() as u32,
            },
            _ => KeyKind::Other,
        };
    }
    if *algorithm == OID_KEY_TYPE_DSA {
        return KeyKind::Dsa;
    }
    KeyKind::Other
}

fn wildcard(parsed: &X509Certificate<'_>) -> Option<String> {
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                if dns.starts_with('*') {
                    return Some(dns.to_string());
                }
            }
        }
    }
    parsed
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .find(|cn| cn.starts_with('*'))
        .map(str::to_string)
}
