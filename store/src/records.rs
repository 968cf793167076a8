//! Key layout and stored JSON forms of the `entries` and `services` trees.
//!
//! Entries and services refer to certificates by fingerprint. The DER itself
//! is stored once, in the `certs` tree, and joined back in when reading.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::fingerprint::hex_encode;
use crate::{Entry, Fingerprint, ServiceCert, ServiceRecord, StoreError};

/// Separates the list name from the fingerprint in `entries` keys. Valid
/// names never contain it, so `name + SEPARATOR` is an exact scan prefix.
const SEPARATOR: u8 = 0x00;

/// Builds the `entries` key: list name bytes, 0x00, 32 fingerprint bytes.
pub(crate) fn entry_key(list: &str, fingerprint: &Fingerprint) -> Vec<u8> {
    let mut key = entry_prefix(list);
    key.extend_from_slice(&fingerprint.0);
    key
}

/// Builds the scan prefix that selects one list's `entries` keys.
pub(crate) fn entry_prefix(list: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(list.len() + 1 + 32);
    key.extend_from_slice(list.as_bytes());
    key.push(SEPARATOR);
    key
}

/// Splits an `entries` key into list name and fingerprint.
pub(crate) fn split_entry_key(key: &[u8]) -> Result<(String, Fingerprint), StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt {
        what: format!("entries key {}", hex_encode(key)),
        detail: detail.to_owned(),
    };

    if key.len() < 2 + 32 || key[key.len() - 33] != SEPARATOR {
        return Err(corrupt(
            "expected a list name, a 0x00 byte and a 32-byte fingerprint",
        ));
    }
    let (name, rest) = key.split_at(key.len() - 33);
    let name = std::str::from_utf8(name)
        .map_err(|_| corrupt("the list name is not UTF-8"))?
        .to_owned();
    let fingerprint = Fingerprint::from_slice(&rest[1..])
        .ok_or_else(|| corrupt("the fingerprint is not 32 bytes"))?;
    Ok((name, fingerprint))
}

/// Value in the `entries` tree. The DER lives in `certs`, keyed by fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredEntry {
    pub subject: String,
    pub hosts: Vec<String>,
    pub source: String,
    pub added: String,
}

impl StoredEntry {
    pub fn from_entry(entry: &Entry) -> StoredEntry {
        StoredEntry {
            subject: entry.subject.clone(),
            hosts: sorted_unique(&entry.hosts),
            source: entry.source.clone(),
            added: entry.added.clone(),
        }
    }

    pub fn into_entry(self, list: String, fingerprint: Fingerprint, der: Vec<u8>) -> Entry {
        Entry {
            list,
            fingerprint,
            der,
            subject: self.subject,
            hosts: self.hosts,
            source: self.source,
            added: self.added,
        }
    }
}

/// Value in the `services` tree, keyed by service name. DERs live in `certs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredService {
    pub list: String,
    pub fingerprint: Fingerprint,
    pub subject: String,
    pub installed: String,
    pub history: Vec<StoredServiceCert>,
}

/// Previous certificate of a service, inside [`StoredService`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredServiceCert {
    pub fingerprint: Fingerprint,
    pub subject: String,
    pub installed: String,
}

impl StoredService {
    pub fn from_record(record: &ServiceRecord) -> StoredService {
        StoredService {
            list: record.list.clone(),
            fingerprint: record.fingerprint,
            subject: record.subject.clone(),
            installed: record.installed.clone(),
            history: record
                .history
                .iter()
                .map(|cert| StoredServiceCert {
                    fingerprint: cert.fingerprint,
                    subject: cert.subject.clone(),
                    installed: cert.installed.clone(),
                })
                .collect(),
        }
    }

    /// Tells whether the current certificate or any earlier one has this fingerprint.
    pub fn references(&self, fingerprint: &Fingerprint) -> bool {
        self.fingerprint == *fingerprint
            || self
                .history
                .iter()
                .any(|cert| cert.fingerprint == *fingerprint)
    }

    /// Rebuilds the public record, reading each DER through `load_der`.
    pub fn into_record(
        self,
        name: String,
        mut load_der: impl FnMut(&Fingerprint) -> Result<Vec<u8>, StoreError>,
    ) -> Result<ServiceRecord, StoreError> {
        let der = load_der(&self.fingerprint)?;
        let mut history = Vec::with_capacity(self.history.len());
        for cert in self.history {
            history.push(ServiceCert {
                der: load_der(&cert.fingerprint)?,
                fingerprint: cert.fingerprint,
                subject: cert.subject,
                installed: cert.installed,
            });
        }
        Ok(ServiceRecord {
            name,
            list: self.list,
            fingerprint: self.fingerprint,
            der,
            subject: self.subject,
            installed: self.installed,
            history,
        })
    }
}

/// Returns the hosts sorted and without duplicates.
pub(crate) fn sorted_unique(hosts: &[String]) -> Vec<String> {
    let mut hosts = hosts.to_vec();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Serializes a stored value. The serde_json 1 docs of `to_vec` name two
/// failure causes, maps with non-string keys and a failing `Serialize` impl,
/// and the stored types have neither. Should it fail anyway, the error names
/// the record as `what`.
pub(crate) fn encode<T: Serialize>(
    what: impl Fn() -> String,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|error| StoreError::Corrupt {
        what: what(),
        detail: format!("cannot encode it as JSON: {error}"),
    })
}

/// Decodes a stored JSON value, naming `what` in the error.
pub(crate) fn decode<T: DeserializeOwned>(
    what: impl Fn() -> String,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::Corrupt {
        what: what(),
        detail: format!("invalid JSON: {error}"),
    })
}
