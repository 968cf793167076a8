//! Persistence for gwtrust: named trust lists, the certificates in them and
//! the certificate installed for each service, in a sled 0.34 database.
//!
//! The crate stores what callers pass and does no TLS, certificate parsing
//! or hashing: callers compute each SHA-256 [`Fingerprint`] themselves.
//!
//! The database has four trees:
//! - `certs`: 32-byte fingerprint to DER, one copy per certificate, deleted
//!   when no entry and no service record refers to it any longer;
//! - `entries`: list name, 0x00 and fingerprint to the entry's JSON metadata;
//! - `lists`: list name to JSON [`ListInfo`];
//! - `services`: service name to the JSON service record, whose current and
//!   previous certificates are fingerprints into `certs`.

mod error;
mod fingerprint;
mod model;
mod records;
mod store;
mod write;

pub use error::StoreError;
pub use fingerprint::{Fingerprint, ParseFingerprintError};
pub use model::{
    is_valid_name, Entry, ListInfo, ParsePolicyError, Policy, PutOutcome, ServiceCert,
    ServiceRecord, MAX_NAME_LEN,
};
pub use store::Store;
