//! Audit findings: each kind's stable id, severity, message and fix.

use serde::Serialize;

/// Severity of a finding, ordered so that `Error > Warning > Info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// Returns the lower-case name used in text and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Every kind of finding. The id ([`Kind::id`]) is stable: scripts match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A file or directory could not be read.
    Unreadable,
    /// A PEM block or DER entry is not a valid certificate.
    Unparseable,
    /// A file contains no certificate at all.
    NoCertificate,
    /// A PEM block of another type (a key, a CRL) sits among the certificates.
    NotACertificate,
    /// A PKCS#12 file, whose certificates the audit cannot read without its password.
    NeedsPassword,
    Expired,
    ExpiresSoon,
    NotYetValid,
    WeakRsaKey,
    WeakEcKey,
    DsaKey,
    RsaKeyTooLarge,
    /// MD5 or SHA-1 signature on a certificate that is not a self-signed root.
    WeakSignature,
    /// MD5 or SHA-1 on a root's own self-signature, which no client verifies.
    WeakRootSignature,
    NotCa,
    NotSelfSigned,
    BadSelfSignature,
    Orphan,
    Duplicate,
    Renewed,
    V1Ca,
    CaWithoutKeyCertSign,
    PathLengthViolated,
    Wildcard,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [Kind] = &[
        Kind::Unreadable,
        Kind::Unparseable,
        Kind::NoCertificate,
        Kind::NotACertificate,
        Kind::NeedsPassword,
        Kind::Expired,
        Kind::ExpiresSoon,
        Kind::NotYetValid,
        Kind::WeakRsaKey,
        Kind::WeakEcKey,
        Kind::DsaKey,
        Kind::RsaKeyTooLarge,
        Kind::WeakSignature,
        Kind::WeakRootSignature,
        Kind::NotCa,
        Kind::NotSelfSigned,
        Kind::BadSelfSignature,
        Kind::Orphan,
        Kind::Duplicate,
        Kind::Renewed,
        Kind::V1Ca,
        Kind::CaWithoutKeyCertSign,
        Kind::PathLengthViolated,
        Kind::Wildcard,
    ];

    /// Returns the stable id, as in JSON output.
    pub fn id(self) -> &'static str {
        match self {
            Kind::Unreadable => "unreadable",
            Kind::Unparseable => "unparseable",
            Kind::NoCertificate => "no-certificate",
            Kind::NotACertificate => "not-a-certificate",
            Kind::NeedsPassword => "needs-password",
            Kind::Expired => "expired",
            Kind::ExpiresSoon => "expires-soon",
            Kind::NotYetValid => "not-yet-valid",
            Kind::WeakRsaKey => "weak-rsa-key",
            Kind::WeakEcKey => "weak-ec-key",
            Kind::DsaKey => "dsa-key",
            Kind::RsaKeyTooLarge => "rsa-key-too-large",
            Kind::WeakSignature => "weak-signature",
            Kind::WeakRootSignature => "weak-root-signature",
            Kind::NotCa => "not-ca",
            Kind::NotSelfSigned => "not-self-signed",
            Kind::BadSelfSignature => "bad-self-signature",
            Kind::Orphan => "orphan",
            Kind::Duplicate => "duplicate",
            Kind::Renewed => "renewed",
            Kind::V1Ca => "v1-ca",
            Kind::CaWithoutKeyCertSign => "ca-without-keycertsign",
            Kind::PathLengthViolated => "path-length-violated",
            Kind::Wildcard => "wildcard",
        }
    }

    /// Returns the severity of this kind.
    pub fn severity(self) -> Severity {
        match self {
            Kind::Unreadable
            | Kind::Unparseable
            | Kind::Expired
            | Kind::NotYetValid
            | Kind::WeakRsaKey
            | Kind::WeakEcKey
            | Kind::DsaKey
            | Kind::RsaKeyTooLarge
            | Kind::WeakSignature
            | Kind::NotCa
            | Kind::NotSelfSigned
            | Kind::BadSelfSignature
            | Kind::CaWithoutKeyCertSign
            | Kind::PathLengthViolated
            | Kind::Wildcard => Severity::Error,
            Kind::NoCertificate
            | Kind::ExpiresSoon
            | Kind::Orphan
            | Kind::Duplicate
            | Kind::V1Ca => Severity::Warning,
            Kind::NotACertificate
            | Kind::NeedsPassword
            | Kind::WeakRootSignature
            | Kind::Renewed => Severity::Info,
        }
    }

    /// Returns the one-line fix printed under every finding of this kind.
    pub fn fix(self) -> &'static str {
        match self {
            Kind::Unreadable => "check the path and its permissions, then rerun the audit",
            Kind::Unparseable => {
                "replace the entry with the certificate from its issuer; a truncated or edited PEM block cannot be repaired"
            }
            Kind::NoCertificate => {
                "remove the file from the trust directory, or give the file that holds the certificates"
            }
            Kind::NotACertificate => {
                "move the block out of the trust bundle; private keys never belong in one"
            }
            Kind::NeedsPassword => {
                "import it into a list with `gwtrust import --password-env VAR`, then audit that list"
            }
            Kind::Expired => "remove it, and add the CA's current certificate if the CA is still needed",
            Kind::ExpiresSoon => "get the CA's renewed certificate and add it before this one expires",
            Kind::NotYetValid => {
                "check the clock of the machine that issued it; remove it until it is valid"
            }
            Kind::WeakRsaKey | Kind::WeakEcKey | Kind::DsaKey => {
                "replace it with a certificate whose key is RSA 2048-4096 bits or EC P-256 or larger"
            }
            Kind::RsaKeyTooLarge => {
                "use a CA with an RSA key of at most 4096 bits, or an EC key, for presence servers"
            }
            Kind::WeakSignature => "have the CA reissue it with a SHA-256 (or stronger) signature",
            Kind::WeakRootSignature => {
                "nothing to do for trust; clients do not verify a root's self-signature"
            }
            Kind::NotCa => {
                "replace it with the root CA certificate that issued it (gwtrust pin fetches and pins the root)"
            }
            Kind::NotSelfSigned => {
                "replace it with the self-signed root at the top of its chain, or move it to a ca-chain list"
            }
            Kind::BadSelfSignature => {
                "remove it: the certificate was altered or corrupted; get the root again from its owner"
            }
            Kind::Orphan => "add the certificate of its issuer, up to the root, or remove it",
            Kind::Duplicate => "remove the extra copy",
            Kind::Renewed => "remove the older certificate once nothing issued under it is in use",
            Kind::V1Ca => "replace it with a version 3 CA certificate with basicConstraints cA=TRUE",
            Kind::CaWithoutKeyCertSign => {
                "have the CA reissue it with keyUsage keyCertSign, or remove it"
            }
            Kind::PathLengthViolated => {
                "remove the certificate below the constraint, or reissue the CA with a larger pathLenConstraint"
            }
            Kind::Wildcard => {
                "replace it with the root CA that issued it; Cisco trust stores reject wildcard certificates"
            }
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// Location of a finding: a file and a byte offset, or a store list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The list name, or the path given on the command line.
    pub source: String,
    /// The file, for path inputs (a file inside a directory when the source is a directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Byte offset of the PEM block or DER entry in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.offset) {
            (Some(file), Some(offset)) => write!(f, "{file} at byte {offset}"),
            (Some(file), None) => f.write_str(file),
            (None, _) => write!(f, "list {}", self.source),
        }
    }
}

/// One problem found by an audit.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: Kind,
    pub severity: Severity,
    pub location: Location,
    /// SHA-256 fingerprint in hex, when the entry parsed as a certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub message: String,
    pub fix: &'static str,
}

impl Finding {
    /// Makes a finding of `kind` with the kind's default severity and fix.
    pub fn new(kind: Kind, location: Location, message: String) -> Finding {
        Finding {
            id: kind,
            severity: kind.severity(),
            location,
            fingerprint: None,
            subject: None,
            message,
            fix: kind.fix(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for kind in Kind::ALL {
            let id = kind.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id} is not kebab-case"
            );
            assert_eq!(serde_json::to_value(kind).unwrap(), id);
        }
    }
}
