//! Mutating operations. Each one takes the operation lock, reads what a
//! transaction cannot scan for, then changes the trees in one transaction.

use std::collections::BTreeMap;

use sled::transaction::ConflictableTransactionError;

use crate::records::{
    decode, encode, entry_key, entry_prefix, sorted_unique, split_entry_key, StoredEntry,
    StoredService, StoredServiceCert,
};
use crate::store::{check_list_name, check_service_name, decode_list, service_what, Tx, TxResult};
use crate::{Entry, Fingerprint, ListInfo, Policy, PutOutcome, ServiceRecord, Store, StoreError};

impl Store {
    /// Creates list `name` unless it exists, and returns the list as stored.
    /// An existing list keeps its own policy and creation time.
    pub fn ensure_list(
        &self,
        name: &str,
        policy: Policy,
        created: &str,
    ) -> Result<ListInfo, StoreError> {
        self.insert_list(name, policy, created, true)
    }

    /// Creates list `name` with `policy`, `created` being RFC 3339 text.
    ///
    /// Returns [`StoreError::ListExists`] if a list with that name exists.
    pub fn create_list(
        &self,
        name: &str,
        policy: Policy,
        created: &str,
    ) -> Result<ListInfo, StoreError> {
        self.insert_list(name, policy, created, false)
    }

    /// Deletes list `name` and returns how many entries it contained.
    ///
    /// Returns [`StoreError::ListNotEmpty`] if the list has entries and
    /// `force` is false, and [`StoreError::ListNotFound`] if it does not exist.
    pub fn delete_list(&self, name: &str, force: bool) -> Result<usize, StoreError> {
        check_list_name(name)?;
        let _guard = self.lock_operations();
        if !self.lists.contains_key(name)? {
            return Err(list_not_found(name));
        }

        let mut keys = Vec::new();
        for key in self.entries.scan_prefix(entry_prefix(name)).keys() {
            keys.push(key?);
        }
        if !keys.is_empty() && !force {
            return Err(StoreError::ListNotEmpty {
                name: name.to_owned(),
                count: keys.len(),
            });
        }
        let fingerprints = keys
            .iter()
            .map(|key| split_entry_key(key).map(|(_, fingerprint)| fingerprint))
            .collect::<Result<Vec<_>, _>>()?;
        let list_names = self.list_names()?;
        let services = self.stored_services(None)?;

        self.transact(|tx| {
            if tx.lists.remove(name)?.is_none() {
                return abort(list_not_found(name));
            }
            for key in &keys {
                tx.entries.remove(key)?;
            }
            for fingerprint in &fingerprints {
                release_cert(tx, &list_names, &services, fingerprint)?;
            }
            Ok(keys.len())
        })
    }

    /// Adds `entry` to its list, or merges its hosts into the entry that the
    /// list already has for the same fingerprint. A merge keeps the stored
    /// subject, source and added time. The DER is stored once per
    /// fingerprint, and the first DER stored for a fingerprint is kept.
    ///
    /// Returns [`StoreError::ListNotFound`] if `entry.list` does not exist.
    pub fn put(&self, entry: &Entry) -> Result<PutOutcome, StoreError> {
        let mut outcomes = self.put_all(std::slice::from_ref(entry))?;
        Ok(outcomes.remove(0))
    }

    /// Puts every entry as [`Store::put`] does, in one transaction: either all
    /// entries are written or, on any error, none. Returns one outcome per
    /// entry, in order. A later entry with the same list and fingerprint as
    /// an earlier one merges into it.
    pub fn put_all(&self, entries: &[Entry]) -> Result<Vec<PutOutcome>, StoreError> {
        for entry in entries {
            check_list_name(&entry.list)?;
        }
        let _guard = self.lock_operations();

        self.transact(|tx| {
            let mut outcomes = Vec::with_capacity(entries.len());
            for entry in entries {
                outcomes.push(put_entry(tx, entry)?);
            }
            Ok(outcomes)
        })
    }

    /// Removes the certificate from `list`. Returns false if the list did not
    /// contain it.
    ///
    /// Returns [`StoreError::ListNotFound`] if the list does not exist.
    pub fn remove(&self, list: &str, fingerprint: &Fingerprint) -> Result<bool, StoreError> {
        check_list_name(list)?;
        let _guard = self.lock_operations();
        let list_names = self.list_names()?;
        let services = self.stored_services(None)?;

        self.transact(|tx| {
            if tx.lists.get(list)?.is_none() {
                return abort(list_not_found(list));
            }
            if tx.entries.remove(entry_key(list, fingerprint))?.is_none() {
                return Ok(false);
            }
            release_cert(tx, &list_names, &services, fingerprint)?;
            Ok(true)
        })
    }

    /// Removes the certificate from every list that contains it, and returns
    /// the names of those lists, sorted.
    pub fn remove_everywhere(&self, fingerprint: &Fingerprint) -> Result<Vec<String>, StoreError> {
        let _guard = self.lock_operations();
        let list_names = self.list_names()?;
        let services = self.stored_services(None)?;

        self.transact(|tx| {
            let mut removed_from = Vec::new();
            for name in &list_names {
                if tx.entries.remove(entry_key(name, fingerprint))?.is_some() {
                    removed_from.push(name.clone());
                }
            }
            if !removed_from.is_empty() {
                release_cert(tx, &list_names, &services, fingerprint)?;
            }
            Ok(removed_from)
        })
    }

    /// Installs a certificate from `list` for service `name` and returns the
    /// stored record. The certificate installed before, if any, moves to the
    /// end of the history. Installing the certificate that is already current
    /// changes nothing and returns the existing record.
    ///
    /// Returns [`StoreError::ListNotFound`] if `list` does not exist. The
    /// list need not contain the certificate.
    pub fn install_service(
        &self,
        name: &str,
        list: &str,
        fingerprint: &Fingerprint,
        der: &[u8],
        subject: &str,
        installed: &str,
    ) -> Result<ServiceRecord, StoreError> {
        check_service_name(name)?;
        check_list_name(list)?;
        let _guard = self.lock_operations();

        self.transact(|tx| {
            if tx.lists.get(list)?.is_none() {
                return abort(list_not_found(list));
            }
            let previous = read_service(tx, name)?;
            if let Some(previous) = &previous {
                if previous.fingerprint == *fingerprint {
                    return load_record(tx, name, previous.clone());
                }
            }

            let mut history = Vec::new();
            if let Some(previous) = previous {
                history = previous.history;
                history.push(StoredServiceCert {
                    fingerprint: previous.fingerprint,
                    subject: previous.subject,
                    installed: previous.installed,
                });
            }
            let stored = StoredService {
                list: list.to_owned(),
                fingerprint: *fingerprint,
                subject: subject.to_owned(),
                installed: installed.to_owned(),
                history,
            };

            insert_cert_if_missing(tx, fingerprint, der)?;
            write_service(tx, name, &stored)?;
            load_record(tx, name, stored)
        })
    }

    /// Writes `record` as given, replacing any record for the same service.
    /// Prefer [`Store::install_service`], which keeps the history itself.
    /// DERs of the old record that nothing references any longer are deleted.
    ///
    /// Returns [`StoreError::ListNotFound`] if `record.list` does not exist.
    pub fn put_service(&self, record: &ServiceRecord) -> Result<(), StoreError> {
        check_service_name(&record.name)?;
        check_list_name(&record.list)?;
        let _guard = self.lock_operations();
        let list_names = self.list_names()?;
        let other_services = self.stored_services(Some(&record.name))?;
        let stored = StoredService::from_record(record);

        self.transact(|tx| {
            if tx.lists.get(&record.list)?.is_none() {
                return abort(list_not_found(&record.list));
            }
            let previous = read_service(tx, &record.name)?;

            insert_cert_if_missing(tx, &record.fingerprint, &record.der)?;
            for cert in &record.history {
                insert_cert_if_missing(tx, &cert.fingerprint, &cert.der)?;
            }
            write_service(tx, &record.name, &stored)?;

            if let Some(previous) = previous {
                let dropped = std::iter::once(previous.fingerprint)
                    .chain(previous.history.iter().map(|cert| cert.fingerprint))
                    .filter(|fingerprint| !stored.references(fingerprint));
                for fingerprint in dropped {
                    release_cert(tx, &list_names, &other_services, &fingerprint)?;
                }
            }
            Ok(())
        })
    }

    /// Shared body of [`Store::ensure_list`] and [`Store::create_list`].
    fn insert_list(
        &self,
        name: &str,
        policy: Policy,
        created: &str,
        existing_ok: bool,
    ) -> Result<ListInfo, StoreError> {
        check_list_name(name)?;
        let info = ListInfo {
            name: name.to_owned(),
            policy,
            created: created.to_owned(),
        };
        let value = encode(|| format!("lists/{name}"), &info)?;
        let _guard = self.lock_operations();

        self.transact(|tx| {
            if let Some(existing) = tx.lists.get(name)? {
                if existing_ok {
                    return decode_list(name.as_bytes(), &existing)
                        .map_err(ConflictableTransactionError::Abort);
                }
                return abort(StoreError::ListExists {
                    name: name.to_owned(),
                });
            }
            tx.lists.insert(name, value.as_slice())?;
            Ok(info.clone())
        })
    }
}

/// Adds or merges one entry inside a transaction.
fn put_entry(tx: &Tx<'_>, entry: &Entry) -> TxResult<PutOutcome> {
    if tx.lists.get(&entry.list)?.is_none() {
        return abort(list_not_found(&entry.list));
    }
    let key = entry_key(&entry.list, &entry.fingerprint);
    let what = || format!("entries/{}/{}", entry.list, entry.fingerprint);

    let Some(existing) = tx.entries.get(&key)? else {
        let stored = StoredEntry::from_entry(entry);
        tx.entries.insert(
            key,
            encode(what, &stored).map_err(ConflictableTransactionError::Abort)?,
        )?;
        insert_cert_if_missing(tx, &entry.fingerprint, &entry.der)?;
        return Ok(PutOutcome::Added);
    };

    let mut stored: StoredEntry =
        decode(what, &existing).map_err(ConflictableTransactionError::Abort)?;
    let new_hosts: Vec<String> = sorted_unique(&entry.hosts)
        .into_iter()
        .filter(|host| stored.hosts.binary_search(host).is_err())
        .collect();
    if new_hosts.is_empty() {
        return Ok(PutOutcome::AlreadyPresent);
    }

    stored.hosts.extend(new_hosts.iter().cloned());
    stored.hosts = sorted_unique(&stored.hosts);
    tx.entries.insert(
        key,
        encode(what, &stored).map_err(ConflictableTransactionError::Abort)?,
    )?;
    Ok(PutOutcome::HostsAdded(new_hosts))
}

/// Stores `der` under `fingerprint` unless a DER is already stored there.
fn insert_cert_if_missing(tx: &Tx<'_>, fingerprint: &Fingerprint, der: &[u8]) -> TxResult<()> {
    if tx.certs.get(fingerprint.0)?.is_none() {
        tx.certs.insert(&fingerprint.0, der)?;
    }
    Ok(())
}

/// Deletes the DER of `fingerprint` if no list entry and no service refers
/// to it any longer. `list_names` must include every list, and `services`
/// every service record that the transaction does not change.
fn release_cert(
    tx: &Tx<'_>,
    list_names: &[String],
    services: &[StoredService],
    fingerprint: &Fingerprint,
) -> TxResult<()> {
    if services
        .iter()
        .any(|service| service.references(fingerprint))
    {
        return Ok(());
    }
    for name in list_names {
        if tx.entries.get(entry_key(name, fingerprint))?.is_some() {
            return Ok(());
        }
    }
    tx.certs.remove(&fingerprint.0)?;
    Ok(())
}

fn read_service(tx: &Tx<'_>, name: &str) -> TxResult<Option<StoredService>> {
    match tx.services.get(name)? {
        Some(value) => decode(|| service_what(name.as_bytes()), &value)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
        None => Ok(None),
    }
}

fn write_service(tx: &Tx<'_>, name: &str, stored: &StoredService) -> TxResult<()> {
    let value = encode(|| service_what(name.as_bytes()), stored)
        .map_err(ConflictableTransactionError::Abort)?;
    tx.services.insert(name, value)?;
    Ok(())
}

/// Builds the public record of a service, reading DERs inside the transaction
/// so that certificates it has just inserted are found.
fn load_record(tx: &Tx<'_>, name: &str, stored: StoredService) -> TxResult<ServiceRecord> {
    let fingerprints = std::iter::once(stored.fingerprint)
        .chain(stored.history.iter().map(|cert| cert.fingerprint));
    let mut ders = BTreeMap::new();
    for fingerprint in fingerprints {
        // `?` here passes sled's conflict signal on, so sled retries the transaction.
        if let Some(der) = tx.certs.get(fingerprint.0)? {
            ders.insert(fingerprint, der.to_vec());
        }
    }

    let record = stored.into_record(name.to_owned(), |fingerprint| {
        ders.get(fingerprint)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("certs/{fingerprint}"),
                detail: format!(
                    "no DER is stored, but {} refers to it",
                    service_what(name.as_bytes())
                ),
            })
    });
    record.map_err(ConflictableTransactionError::Abort)
}

fn list_not_found(name: &str) -> StoreError {
    StoreError::ListNotFound {
        name: name.to_owned(),
    }
}

fn abort<T>(error: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(error))
}
