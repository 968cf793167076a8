//! Errors returned by [`Store`](crate::Store).

use std::io;
use std::path::PathBuf;

/// Failure of a store operation. Each message names the value involved and
/// what the user can do next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process, or another [`Store`](crate::Store) handle in this
    /// process, has the store open. sled takes an exclusive lock on the
    /// database file for as long as a handle is open.
    #[error(
        "store {} is in use by another gwtrust process: wait for it to finish, \
         or pass --store DIR to use a separate store",
        path.display()
    )]
    InUse {
        /// Store directory.
        path: PathBuf,
    },

    /// The store directory could not be created or set to mode 0700.
    #[error(
        "cannot create store directory {} or set its mode to 0700: {source}. \
         Check the permissions of the directory and its parent, or pass --store DIR",
        path.display()
    )]
    Io {
        /// Store directory.
        path: PathBuf,
        /// Error from the file system call.
        source: io::Error,
    },

    /// A stored record or key could not be decoded.
    #[error(
        "store record {what} is corrupt: {detail}. \
         Restore the store directory from a backup, or move it away and start a new store"
    )]
    Corrupt {
        /// Tree and key of the record, such as `entries/roots/ab12…`.
        what: String,
        /// Description of the problem.
        detail: String,
    },

    /// The named list does not exist.
    #[error(
        "list {name} does not exist: create it with \
         `gwtrust list create {name} --policy POLICY` or see `gwtrust lists`"
    )]
    ListNotFound {
        /// List name.
        name: String,
    },

    /// A list with this name already exists.
    #[error("list {name} already exists: choose another name, or see `gwtrust lists`")]
    ListExists {
        /// List name.
        name: String,
    },

    /// The list still contains certificates and deletion was not forced.
    #[error("list {name} is not empty: use --force to delete it with its {count} certificates")]
    ListNotEmpty {
        /// List name.
        name: String,
        /// Number of certificates in the list.
        count: usize,
    },

    /// A fingerprint prefix is empty, too long or contains a character that
    /// is neither a hex digit nor ':'.
    #[error(
        "invalid fingerprint prefix {prefix:?}: \
         expected 1 to 64 hex digits, optionally separated by ':'"
    )]
    InvalidPrefix {
        /// Prefix as the caller passed it.
        prefix: String,
    },

    /// A list name breaks the naming rules.
    #[error(
        "invalid list name {name:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"
    )]
    InvalidListName {
        /// Name as the caller passed it.
        name: String,
    },

    /// A service name breaks the naming rules, which are those of list names.
    #[error(
        "invalid service name {name:?}: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"
    )]
    InvalidServiceName {
        /// Name as the caller passed it.
        name: String,
    },

    /// sled failed to open the database or to read or write it.
    #[error(
        "the store database failed: {}. Check free disk space and the permissions of \
         the store directory; if it is damaged, move it away and pin or import again",
        describe_sled_error(source)
    )]
    Database {
        /// Error from sled.
        #[from]
        source: sled::Error,
    },
}

/// Describes a sled error without its debug internals (sled prints a file offset and an empty
/// backtrace for corrupted data).
fn describe_sled_error(error: &sled::Error) -> String {
    match error {
        sled::Error::Corruption { .. } => "its files are corrupted".to_string(),
        sled::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

impl StoreError {
    /// Returns true when the store is locked by another handle, so the caller
    /// can wait and retry or choose another store directory.
    pub fn is_in_use(&self) -> bool {
        matches!(self, StoreError::InUse { .. })
    }
}

/// Prefix of the message sled 0.34.7 puts in the `io::Error` it returns when
/// the exclusive lock on the database file is held elsewhere (see
/// `Config::try_lock` in sled's src/config.rs).
const SLED_LOCK_MESSAGE: &str = "could not acquire lock on ";

/// Tells whether an error from `sled::Config::open` means that another handle
/// holds the database lock. sled 0.34.7 reports that case as
/// `Error::Io(io::Error::new(ErrorKind::Other, "could not acquire lock on …"))`
/// with no more specific kind, so the message is the only mark.
pub(crate) fn is_sled_lock_error(error: &sled::Error) -> bool {
    match error {
        sled::Error::Io(io_error) => {
            io_error.kind() == io::ErrorKind::Other
                && io_error.to_string().starts_with(SLED_LOCK_MESSAGE)
        }
        _ => false,
    }
}
