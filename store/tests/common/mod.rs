//! Helpers shared by the integration tests: stores in temporary directories
//! and entries with made-up DER bytes. The store does not hash, so each test
//! picks fingerprints that suit it.

#![allow(dead_code)]

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use gwtrust_store::{Entry, Fingerprint, Policy, Store};
use tempfile::TempDir;

pub const CREATED: &str = "2024-05-01T10:00:00Z";

/// Opens a store in a fresh temporary directory, which lives as long as the
/// returned `TempDir`.
pub fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("create temporary directory");
    let store = open_store(&dir.path().join("store"));
    (dir, store)
}

pub fn open_store(path: &Path) -> Store {
    Store::open(path).unwrap_or_else(|error| panic!("open store at {}: {error}", path.display()))
}

/// Fingerprint whose 64 hex digits are `prefix` padded with zeros.
pub fn fingerprint(prefix: &str) -> Fingerprint {
    let hex = format!("{prefix:0<64}");
    Fingerprint::from_hex(&hex).expect("test fingerprint is valid hex")
}

/// Fake DER bytes that differ per fingerprint, so a mixed-up join shows.
pub fn der_for(fingerprint: &Fingerprint) -> Vec<u8> {
    let mut der = vec![0x30, 0x82];
    der.extend_from_slice(&fingerprint.0);
    der
}

pub fn entry(list: &str, fingerprint: Fingerprint, hosts: &[&str]) -> Entry {
    Entry {
        list: list.to_owned(),
        fingerprint,
        der: der_for(&fingerprint),
        subject: format!("CN=Test CA {}", &fingerprint.to_hex()[..8]),
        hosts: hosts.iter().map(|host| host.to_string()).collect(),
        source: "pin".to_owned(),
        added: "2024-05-01T10:05:00Z".to_owned(),
    }
}

pub fn create_list(store: &Store, name: &str) {
    store
        .create_list(name, Policy::RootOnly, CREATED)
        .unwrap_or_else(|error| panic!("create list {name}: {error}"));
}

/// Opens the sled database of a store directly, to inspect or damage trees
/// that the API does not expose. sled 0.34.7 may release the lock of a
/// dropped store a few milliseconds late, so this retries for up to 1 s
/// while the lock is held, as `Store::open` does for 250 ms.
pub fn open_raw_db(path: &Path) -> sled::Db {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(error)
                if error.to_string().contains("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("open sled database at {}: {error}", path.display()),
        }
    }
}
