//! Opening the store, the shared transaction wrapper and the read operations.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::error::is_sled_lock_error;
use crate::fingerprint::{hex_encode, normalize_hex};
use crate::model::is_valid_name;
use crate::records::{
    decode, entry_key, entry_prefix, split_entry_key, StoredEntry, StoredService,
};
use crate::{Entry, Fingerprint, ListInfo, ServiceRecord, StoreError};

/// Permission bits of the store directory: owner only, because it contains
/// the trust anchors that the gateway relies on.
const DIR_MODE: u32 = 0o700;

/// How long [`Store::open`] retries while the database lock is held, before
/// it returns [`StoreError::InUse`]. The lock can stay held briefly after the
/// holder is gone, for two reasons. sled 0.34.7 releases it only when its
/// background I/O threads drop their last reference to the database file,
/// which may happen after the `Store` is dropped. A child process that is
/// being spawned also keeps a copy of the file descriptor, and so the lock,
/// until it calls exec. The value is an estimate with a wide margin for both delays.
const LOCK_WAIT: Duration = Duration::from_millis(250);

/// Pause between two attempts to take the database lock.
const LOCK_RETRY_INTERVAL: Duration = Duration::from_millis(10);

/// Trust lists, their certificates and installed service certificates in a
/// sled database.
///
/// Every mutating method makes its changes in one sled transaction and
/// flushes the database before it returns `Ok`. An error before the commit
/// leaves the store unchanged. If the flush after the commit fails, the
/// method returns [`StoreError::Database`] and the change may or may not be
/// on disk.
///
/// One `Store` may be shared between threads. A second `Store` on the same
/// directory, in this process or another, fails to open with
/// [`StoreError::InUse`].
pub struct Store {
    pub(crate) path: PathBuf,
    pub(crate) db: sled::Db,
    /// Fingerprint (32 bytes) to DER.
    pub(crate) certs: sled::Tree,
    /// List name, 0x00, fingerprint to JSON [`StoredEntry`].
    pub(crate) entries: sled::Tree,
    /// List name to JSON [`ListInfo`].
    pub(crate) lists: sled::Tree,
    /// Service name to JSON [`StoredService`].
    pub(crate) services: sled::Tree,
    /// Serializes the methods that read several trees or that scan trees
    /// before writing. sled transactions cannot scan, so a mutation reads the
    /// list names and services first, and holding this lock keeps that
    /// snapshot valid until the transaction commits.
    operation_lock: Mutex<()>,
}

/// Transactional views of the four trees, passed to mutation closures.
pub(crate) struct Tx<'a> {
    pub certs: &'a TransactionalTree,
    pub entries: &'a TransactionalTree,
    pub lists: &'a TransactionalTree,
    pub services: &'a TransactionalTree,
}

/// Result type inside a transaction closure. `Abort` carries the error that
/// the method returns after sled rolls the transaction back.
pub(crate) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl Store {
    /// Opens the store in `dir`, creating the directory and the database if
    /// needed. A new directory is created with mode 0700 and an existing one
    /// is set to 0700. Missing parent directories are created with the
    /// default mode.
    ///
    /// Returns [`StoreError::InUse`] when another handle still has the store
    /// open after up to 250 ms of retries, and [`StoreError::Io`] when the
    /// directory cannot be created or its mode cannot be set.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        prepare_dir(dir).map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })?;

        let db = open_db(dir).map_err(|error| {
            if is_sled_lock_error(&error) {
                StoreError::InUse {
                    path: dir.to_owned(),
                }
            } else {
                StoreError::Database { source: error }
            }
        })?;

        Ok(Store {
            path: dir.to_owned(),
            certs: db.open_tree("certs")?,
            entries: db.open_tree("entries")?,
            lists: db.open_tree("lists")?,
            services: db.open_tree("services")?,
            db,
            operation_lock: Mutex::new(()),
        })
    }

    /// Returns the store directory as passed to [`Store::open`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the list named `name`, or `None` if it does not exist.
    pub fn list_info(&self, name: &str) -> Result<Option<ListInfo>, StoreError> {
        check_list_name(name)?;
        match self.lists.get(name)? {
            Some(bytes) => decode_list(name.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Returns all lists, sorted by name.
    pub fn lists(&self) -> Result<Vec<ListInfo>, StoreError> {
        let mut lists = Vec::new();
        for item in self.lists.iter() {
            let (key, value) = item?;
            lists.push(decode_list(&key, &value)?);
        }
        Ok(lists)
    }

    /// Returns the entries of one list, sorted by fingerprint.
    ///
    /// Returns [`StoreError::ListNotFound`] if the list does not exist.
    pub fn entries(&self, list: &str) -> Result<Vec<Entry>, StoreError> {
        check_list_name(list)?;
        let _guard = self.lock_operations();
        if !self.lists.contains_key(list)? {
            return Err(StoreError::ListNotFound {
                name: list.to_owned(),
            });
        }
        self.collect_entries(self.entries.scan_prefix(entry_prefix(list)), |_| true)
    }

    /// Returns the entries of all lists, sorted by list name and then by fingerprint.
    pub fn all_entries(&self) -> Result<Vec<Entry>, StoreError> {
        let _guard = self.lock_operations();
        self.collect_entries(self.entries.iter(), |_| true)
    }

    /// Returns the entry for `fingerprint` in `list`, or `None` if the list
    /// does not contain it or does not exist.
    pub fn get(&self, list: &str, fingerprint: &Fingerprint) -> Result<Option<Entry>, StoreError> {
        check_list_name(list)?;
        let _guard = self.lock_operations();
        let key = entry_key(list, fingerprint);
        match self.entries.get(&key)? {
            Some(value) => self.load_entry(&key, &value).map(Some),
            None => Ok(None),
        }
    }

    /// Finds the entries, in all lists, whose fingerprint starts with the hex
    /// `prefix`. Case does not matter and ':' separators are ignored. The
    /// same certificate in two lists yields two entries, so callers that need
    /// one certificate should compare the distinct fingerprints.
    ///
    /// Returns [`StoreError::InvalidPrefix`] if the prefix has no hex digits,
    /// more than 64, or any character other than hex digits and ':'.
    pub fn find_prefix(&self, prefix: &str) -> Result<Vec<Entry>, StoreError> {
        let invalid = || StoreError::InvalidPrefix {
            prefix: prefix.to_owned(),
        };
        let digits = normalize_hex(prefix).map_err(|_| invalid())?;
        if digits.is_empty() || digits.len() > 64 {
            return Err(invalid());
        }

        let _guard = self.lock_operations();
        self.collect_entries(self.entries.iter(), |fingerprint| {
            fingerprint.to_hex().starts_with(&digits)
        })
    }

    /// Returns the record of service `name`, or `None` if nothing was installed for it.
    pub fn service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        check_service_name(name)?;
        let _guard = self.lock_operations();
        match self.services.get(name)? {
            Some(value) => self.load_service(name.as_bytes(), &value).map(Some),
            None => Ok(None),
        }
    }

    /// Returns all service records, sorted by service name.
    pub fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        let _guard = self.lock_operations();
        let mut records = Vec::new();
        for item in self.services.iter() {
            let (key, value) = item?;
            records.push(self.load_service(&key, &value)?);
        }
        Ok(records)
    }

    /// Takes the lock that serializes multi-tree operations. The lock guards
    /// no data of its own, so a poisoned lock is still usable.
    pub(crate) fn lock_operations(&self) -> MutexGuard<'_, ()> {
        self.operation_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `operation` in one transaction over all four trees, then flushes
    /// the database. sled may run the closure more than once if it detects a
    /// conflict, so the closure must not have side effects outside `Tx`.
    pub(crate) fn transact<T>(
        &self,
        operation: impl Fn(&Tx<'_>) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        let result = (&self.certs, &self.entries, &self.lists, &self.services).transaction(
            |(certs, entries, lists, services)| {
                operation(&Tx {
                    certs,
                    entries,
                    lists,
                    services,
                })
            },
        );
        let value = result.map_err(|error| match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(source) => StoreError::Database { source },
        })?;

        self.db.flush()?;
        Ok(value)
    }

    /// Returns the names of all lists.
    pub(crate) fn list_names(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        for key in self.lists.iter().keys() {
            let key = key?;
            let name = std::str::from_utf8(&key).map_err(|_| StoreError::Corrupt {
                what: format!("lists key {}", hex_encode(&key)),
                detail: "the list name is not UTF-8".to_owned(),
            })?;
            names.push(name.to_owned());
        }
        Ok(names)
    }

    /// Returns the stored form of every service, leaving out `except` if given.
    pub(crate) fn stored_services(
        &self,
        except: Option<&str>,
    ) -> Result<Vec<StoredService>, StoreError> {
        let mut services = Vec::new();
        for item in self.services.iter() {
            let (key, value) = item?;
            if except.is_some_and(|name| *key == *name.as_bytes()) {
                continue;
            }
            services.push(decode(|| service_what(&key), &value)?);
        }
        Ok(services)
    }

    /// Decodes entries from a key-value iterator, keeping those whose
    /// fingerprint passes `keep`.
    fn collect_entries(
        &self,
        items: sled::Iter,
        keep: impl Fn(&Fingerprint) -> bool,
    ) -> Result<Vec<Entry>, StoreError> {
        let mut entries = Vec::new();
        for item in items {
            let (key, value) = item?;
            let (_, fingerprint) = split_entry_key(&key)?;
            if keep(&fingerprint) {
                entries.push(self.load_entry(&key, &value)?);
            }
        }
        Ok(entries)
    }

    /// Decodes one `entries` record and joins its DER from `certs`.
    fn load_entry(&self, key: &[u8], value: &[u8]) -> Result<Entry, StoreError> {
        let (list, fingerprint) = split_entry_key(key)?;
        let what = || format!("entries/{list}/{fingerprint}");
        let stored: StoredEntry = decode(what, value)?;
        let der = self.load_der(&fingerprint, &what())?;
        Ok(stored.into_entry(list, fingerprint, der))
    }

    /// Decodes one `services` record and joins its DERs from `certs`.
    fn load_service(&self, key: &[u8], value: &[u8]) -> Result<ServiceRecord, StoreError> {
        let what = service_what(key);
        let stored: StoredService = decode(|| what.clone(), value)?;
        let name = std::str::from_utf8(key).map_err(|_| StoreError::Corrupt {
            what: what.clone(),
            detail: "the service name is not UTF-8".to_owned(),
        })?;
        stored.into_record(name.to_owned(), |fingerprint| {
            self.load_der(fingerprint, &what)
        })
    }

    /// Reads the DER for `fingerprint`, which the record `referrer` refers to.
    fn load_der(&self, fingerprint: &Fingerprint, referrer: &str) -> Result<Vec<u8>, StoreError> {
        match self.certs.get(fingerprint.0)? {
            Some(der) => Ok(der.to_vec()),
            None => Err(StoreError::Corrupt {
                what: format!("certs/{fingerprint}"),
                detail: format!("no DER is stored, but {referrer} refers to it"),
            }),
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Opens the sled database in `dir`, retrying for up to [`LOCK_WAIT`] while
/// its lock is held.
fn open_db(dir: &Path) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        // The background flusher is off because every mutation flushes itself.
        let result = sled::Config::new().path(dir).flush_every_ms(None).open();
        match result {
            Err(error) if is_sled_lock_error(&error) && Instant::now() < deadline => {
                thread::sleep(LOCK_RETRY_INTERVAL);
            }
            result => return result,
        }
    }
}

/// Creates `dir` with mode 0700 if it is missing, and sets mode 0700 on it
/// either way, because a directory created earlier may be more open.
fn prepare_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            if !fs::metadata(dir)?.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the path exists and is not a directory",
                ));
            }
        }
        Err(error) => return Err(error),
    }
    // The umask may have removed owner bits at creation, so set the mode explicitly.
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
}

/// Returns [`StoreError::InvalidListName`] unless `name` follows the name rules.
pub(crate) fn check_list_name(name: &str) -> Result<(), StoreError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(StoreError::InvalidListName {
            name: name.to_owned(),
        })
    }
}

/// Returns [`StoreError::InvalidServiceName`] unless `name` follows the name rules.
pub(crate) fn check_service_name(name: &str) -> Result<(), StoreError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(StoreError::InvalidServiceName {
            name: name.to_owned(),
        })
    }
}

/// Decodes a `lists` record and checks that it names its own key.
pub(crate) fn decode_list(key: &[u8], value: &[u8]) -> Result<ListInfo, StoreError> {
    let what = || format!("lists/{}", String::from_utf8_lossy(key));
    let info: ListInfo = decode(what, value)?;
    if info.name.as_bytes() != key {
        return Err(StoreError::Corrupt {
            what: what(),
            detail: format!("the record names list {:?}", info.name),
        });
    }
    Ok(info)
}

pub(crate) fn service_what(key: &[u8]) -> String {
    format!("services/{}", String::from_utf8_lossy(key))
}
