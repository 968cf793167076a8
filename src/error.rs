//! The library's error type and the exit code each error maps to.
//!
//! Every message names what failed, on which value, and what to do next. The CLI renders an
//! error once, at the edge, as text on stderr or as a JSON object with `--json`.

use std::path::PathBuf;
use std::time::Duration;

use gwtrust_store::StoreError;

/// The process exit codes, as documented in the README and in `--help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// 0: the command did what it was asked.
    Ok,
    /// 1: a check failed: name mismatch, fingerprint mismatch, no root found, invalid chain.
    CheckFailed,
    /// 2: the command line or an input file is invalid.
    Usage,
    /// 3: the network or the TLS handshake failed.
    Network,
    /// 4: the trust store could not be opened, read or written.
    Store,
}

impl ExitStatus {
    /// Returns the numeric process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::CheckFailed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Network => 3,
            ExitStatus::Store => 4,
        }
    }
}

/// Everything that can make a gwtrust command fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Usage and input errors (exit 2).
    #[error("invalid target {value:?}: {reason}; write it as host, host:port or https://host[:port]/path")]
    InvalidTarget { value: String, reason: String },

    #[error("invalid {what} {value:?}: {reason}")]
    InvalidArgument {
        what: &'static str,
        value: String,
        reason: String,
    },

    #[error("cannot read {path}: {source}; check the path and its permissions")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}; check that the directory exists and is writable")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: {reason}")]
    InvalidInput { path: PathBuf, reason: String },

    #[error("certificate {what} cannot be parsed: {reason}")]
    InvalidCertificate { what: String, reason: String },

    #[error("certificate generation failed for {what}: {reason}")]
    Generate { what: String, reason: String },

    #[error("no store directory given: pass --store DIR or set GWTRUST_STORE (neither $XDG_DATA_HOME nor $HOME is set)")]
    NoStoreDirectory,

    #[error("pinning {subject} (SHA-256 {fingerprint}) needs confirmation and there is no terminal to ask on: check the fingerprint with the CA's owner, then rerun with --expect-fingerprint {fingerprint} (or --yes); nothing was written")]
    ConfirmationRequired {
        subject: String,
        fingerprint: String,
    },

    // Check failures (exit 1).
    #[error("{0}")]
    CheckFailed(String),

    #[error("{reason}; or pass --allow-non-fqdn. Nothing was written")]
    NotFqdn { host: String, reason: String },

    #[error("{host} does not match the leaf certificate ({detail}). The presence server would reject this gateway; configure a host the certificate names, reissue the certificate with this host as a subjectAltName, or pass --allow-name-mismatch; nothing was written")]
    NameMismatch { host: String, detail: String },

    #[error("no root found for {target}: the top of the presented chain was issued by {issuer}, which is neither in the chain, nor in the store, nor in --ca-file. Get that root certificate from the CA's owner and pass it with --ca-file FILE; nothing was written")]
    NoRoot { target: String, issuer: String },

    #[error("pin cancelled at the prompt; nothing was written")]
    Cancelled,

    #[error("fingerprint mismatch for the root {subject}: expected {expected}, found {actual}; nothing was written. Confirm the fingerprint with the CA's owner before pinning")]
    FingerprintMismatch {
        subject: String,
        expected: String,
        actual: String,
    },

    #[error("the certificate of service {service} ({subject}) has no path to a root in list {list}: issuer {issuer} is not in the list. Load the root certificate first with `gwtrust import ROOT_FILE --list {list}` (then any intermediate CA under it, or pass the chain in --cert), and install again; nothing was written")]
    MissingIssuer {
        service: String,
        list: String,
        subject: String,
        issuer: String,
    },

    #[error("the key in {key} does not match the certificate {subject}: their public keys differ. Pass the key that was generated with this certificate; nothing was written")]
    KeyMismatch { key: PathBuf, subject: String },

    #[error("the certificate of service {service} ({subject}) failed path validation against list {list}: {reason}; nothing was written")]
    PathValidation {
        service: String,
        list: String,
        subject: String,
        reason: String,
    },

    // Network and TLS errors (exit 3).
    #[error("cannot resolve {host}: {reason}; check the name, or pass --connect ADDR:PORT")]
    Resolve { host: String, reason: String },

    #[error(
        "cannot connect to {addr}: {source}; check that the server is running and the port is open"
    )]
    Connect {
        addr: String,
        source: std::io::Error,
    },

    #[error("timed out after {}s connecting to {addr} or completing the TLS handshake; check the address and port, or raise --timeout", .timeout.as_secs_f64())]
    Timeout { addr: String, timeout: Duration },

    #[error("TLS handshake with {addr} failed: {reason}; the server may not speak TLS on this port, or accepts only TLS versions below 1.2")]
    Handshake { addr: String, reason: String },

    #[error("{0}")]
    Network(String),

    #[error("cannot listen on {addr}: {source}; choose another port, or port 0 for a free one")]
    Listen {
        addr: String,
        source: std::io::Error,
    },

    // Store errors (exit 4).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// Returns the exit status this error maps to.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::InvalidTarget { .. }
            | Error::InvalidArgument { .. }
            | Error::ReadFile { .. }
            | Error::WriteFile { .. }
            | Error::InvalidInput { .. }
            | Error::InvalidCertificate { .. }
            | Error::Generate { .. }
            | Error::NoStoreDirectory
            | Error::ConfirmationRequired { .. } => ExitStatus::Usage,
            Error::CheckFailed(_)
            | Error::NotFqdn { .. }
            | Error::NameMismatch { .. }
            | Error::NoRoot { .. }
            | Error::Cancelled
            | Error::FingerprintMismatch { .. }
            | Error::MissingIssuer { .. }
            | Error::KeyMismatch { .. }
            | Error::PathValidation { .. } => ExitStatus::CheckFailed,
            Error::Resolve { .. }
            | Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::Handshake { .. }
            | Error::Network(_)
            | Error::Listen { .. } => ExitStatus::Network,
            // A list or a prefix named on the command line is the caller's input.
            Error::Store(
                StoreError::ListNotFound { .. }
                | StoreError::ListExists { .. }
                | StoreError::ListNotEmpty { .. }
                | StoreError::InvalidPrefix { .. }
                | StoreError::InvalidListName { .. }
                | StoreError::InvalidServiceName { .. },
            ) => ExitStatus::Usage,
            Error::Store(_) => ExitStatus::Store,
        }
    }

    /// Returns a stable, machine-readable name for the error, used as `error.kind` in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidTarget { .. } => "invalid_target",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::ReadFile { .. } => "read_file",
            Error::WriteFile { .. } => "write_file",
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidCertificate { .. } => "invalid_certificate",
            Error::Generate { .. } => "generate",
            Error::NoStoreDirectory => "no_store_directory",
            Error::ConfirmationRequired { .. } => "confirmation_required",
            Error::CheckFailed(_) => "check_failed",
            Error::NotFqdn { .. } => "not_fqdn",
            Error::NameMismatch { .. } => "name_mismatch",
            Error::NoRoot { .. } => "no_root",
            Error::Cancelled => "cancelled",
            Error::FingerprintMismatch { .. } => "fingerprint_mismatch",
            Error::MissingIssuer { .. } => "missing_issuer",
            Error::KeyMismatch { .. } => "key_mismatch",
            Error::PathValidation { .. } => "path_validation",
            Error::Resolve { .. } => "resolve",
            Error::Connect { .. } => "connect",
            Error::Timeout { .. } => "timeout",
            Error::Handshake { .. } => "tls_handshake",
            Error::Network(_) => "network",
            Error::Listen { .. } => "listen",
            Error::Store(StoreError::InUse { .. }) => "store_in_use",
            Error::Store(StoreError::ListNotFound { .. }) => "list_not_found",
            Error::Store(StoreError::ListExists { .. }) => "list_exists",
            Error::Store(StoreError::ListNotEmpty { .. }) => "list_not_empty",
            Error::Store(StoreError::InvalidPrefix { .. }) => "invalid_prefix",
            Error::Store(StoreError::InvalidListName { .. }) => "invalid_list_name",
            Error::Store(StoreError::InvalidServiceName { .. }) => "invalid_service_name",
            Error::Store(_) => "store",
        }
    }
}

/// The result type of the gwtrust library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
