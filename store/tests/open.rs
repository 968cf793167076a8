//! Opening the store: directory creation, permissions, persistence and the
//! lock that sled holds while a store is open.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::{create_list, entry, fingerprint, open_store};
use gwtrust_store::{Store, StoreError};

fn mode_of(path: &std::path::Path) -> u32 {
    fs::metadata(path)
        .expect("stat store directory")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn open_creates_dir_with_mode_0700() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-parent").join("store");

    let store = open_store(&path);

    assert_eq!(store.path(), path);
    assert!(path.is_dir());
    assert_eq!(mode_of(&path), 0o700);
}

#[test]
fn open_tightens_existing_0755_dir() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    fs::create_dir(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(mode_of(&path), 0o755);

    let _store = open_store(&path);

    assert_eq!(mode_of(&path), 0o700);
}

#[test]
fn open_on_regular_file_is_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-dir");
    fs::write(&path, b"plain file").unwrap();

    let error = Store::open(&path).unwrap_err();

    assert!(
        matches!(&error, StoreError::Io { path: failed, .. } if *failed == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("--store DIR"), "{message}");
}

#[test]
fn reopen_after_drop_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let stored = entry("roots", fingerprint("ab"), &["mail.example.com"]);
    {
        let store = open_store(&path);
        create_list(&store, "roots");
        store.put(&stored).unwrap();
    }

    let store = open_store(&path);

    assert_eq!(store.lists().unwrap().len(), 1);
    assert_eq!(store.entries("roots").unwrap(), vec![stored]);
}

#[test]
fn second_open_in_process_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let first = open_store(&path);

    let error = Store::open(&path).unwrap_err();

    assert!(error.is_in_use(), "{error:?}");
    assert!(
        matches!(&error, StoreError::InUse { path: locked } if *locked == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("--store DIR"), "{message}");

    drop(first);
    assert!(
        Store::open(&path).is_ok(),
        "the lock should be released on drop"
    );
}

#[test]
fn store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
}
