//! Public records: trust lists, their entries and installed service certificates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Fingerprint;

/// Longest accepted list or service name, in bytes (names are ASCII).
pub const MAX_NAME_LEN: usize = 64;

/// Trust policy of a list. The store records it without interpreting it:
/// the code that validates chains decides what each policy allows.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Text form `root-only`.
    RootOnly,
    /// Text form `ca-chain`.
    CaChain,
    /// Text form `ordered`.
    Ordered,
}

impl Policy {
    /// Every policy in its text form, in declaration order.
    pub const NAMES: &'static [&'static str] = &["root-only", "ca-chain", "ordered"];

    /// Returns the text form used in the store, on the command line and by `Display`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::RootOnly => "root-only",
            Policy::CaChain => "ca-chain",
            Policy::Ordered => "ordered",
        }
    }
}

/// Error from parsing a [`Policy`] name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid policy {value:?}: expected one of root-only, ca-chain, ordered")]
pub struct ParsePolicyError {
    /// Text as the caller passed it.
    pub value: String,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Policy {
    type Err = ParsePolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "root-only" => Ok(Policy::RootOnly),
            "ca-chain" => Ok(Policy::CaChain),
            "ordered" => Ok(Policy::Ordered),
            _ => Err(ParsePolicyError {
                value: text.to_owned(),
            }),
        }
    }
}

/// Named trust list and its policy, stored as JSON in the `lists` tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    /// List name: 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
    pub name: String,
    /// Policy the list was created with.
    pub policy: Policy,
    /// Creation time as RFC 3339 text, passed in by the caller.
    pub created: String,
}

/// One certificate in one trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Name of the list that contains the certificate.
    pub list: String,
    /// SHA-256 of `der`, computed by the caller.
    pub fingerprint: Fingerprint,
    /// Certificate in DER encoding.
    pub der: Vec<u8>,
    /// Subject as the caller displays it.
    pub subject: String,
    /// Hosts the certificate was pinned for, sorted and without duplicates.
    /// Host names are compared byte for byte, so callers should lowercase them.
    pub hosts: Vec<String>,
    /// Origin of the entry, such as `pin` or `import`.
    pub source: String,
    /// Time the entry was first added, as RFC 3339 UTC text from the caller.
    pub added: String,
}

/// Result of [`Store::put`](crate::Store::put) for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The list did not contain the certificate, and now does.
    Added,
    /// The list already contained the certificate. These hosts, sorted, were
    /// not yet recorded for it and have been added.
    HostsAdded(Vec<String>),
    /// The list already contained the certificate with all the given hosts.
    AlreadyPresent,
}

/// Certificate installed for a service, with the ones it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Service name, with the same rules as list names.
    pub name: String,
    /// List the current certificate was taken from.
    pub list: String,
    /// SHA-256 of the current certificate.
    pub fingerprint: Fingerprint,
    /// Current certificate in DER encoding.
    pub der: Vec<u8>,
    /// Subject of the current certificate as the caller displays it.
    pub subject: String,
    /// Time the current certificate was installed, as RFC 3339 text from the caller.
    pub installed: String,
    /// Certificates installed before the current one, oldest first.
    pub history: Vec<ServiceCert>,
}

/// Certificate that a service used before its current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCert {
    /// SHA-256 of `der`.
    pub fingerprint: Fingerprint,
    /// Certificate in DER encoding.
    pub der: Vec<u8>,
    /// Subject as the caller displays it.
    pub subject: String,
    /// Time the certificate was installed, as RFC 3339 text from the caller.
    pub installed: String,
}

/// Checks the list and service name rules: 1 to [`MAX_NAME_LEN`] characters
/// from `A-Z a-z 0-9 . _ -`. The rules keep 0x00 out of names, which the
/// `entries` key format relies on.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_text_round_trip() {
        for &name in Policy::NAMES {
            let policy: Policy = name.parse().unwrap();
            assert_eq!(policy.to_string(), name);
            let json = serde_json::to_string(&policy).unwrap();
            assert_eq!(json, format!("\"{name}\""));
        }
    }

    #[test]
    fn policy_parse_error_names_value() {
        let error = "chain".parse::<Policy>().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("\"chain\""), "{message}");
        assert!(
            message.contains("root-only, ca-chain, ordered"),
            "{message}"
        );
    }

    #[test]
    fn name_rules() {
        assert!(is_valid_name("exchange-roots_2.0"));
        assert!(is_valid_name(&"a".repeat(MAX_NAME_LEN)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name(&"a".repeat(MAX_NAME_LEN + 1)));
        assert!(!is_valid_name("with space"));
        assert!(!is_valid_name("nul\0byte"));
        assert!(!is_valid_name("slash/name"));
        assert!(!is_valid_name("ümlaut"));
    }
}
