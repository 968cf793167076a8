//! Creating, finding and deleting trust lists.

mod common;

use common::{create_list, entry, fingerprint, temp_store, CREATED};
use gwtrust_store::{Policy, StoreError};

#[test]
fn create_list_then_list_info() {
    let (_dir, store) = temp_store();

    let created = store
        .create_list("exchange", Policy::CaChain, CREATED)
        .unwrap();

    assert_eq!(created.name, "exchange");
    assert_eq!(created.policy, Policy::CaChain);
    assert_eq!(created.created, CREATED);
    assert_eq!(store.list_info("exchange").unwrap(), Some(created));
    assert_eq!(store.list_info("other").unwrap(), None);
}

#[test]
fn create_list_twice_is_list_exists() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");

    let error = store
        .create_list("exchange", Policy::Ordered, CREATED)
        .unwrap_err();

    assert!(
        matches!(&error, StoreError::ListExists { name } if name == "exchange"),
        "{error:?}"
    );
    assert_eq!(
        store.list_info("exchange").unwrap().unwrap().policy,
        Policy::RootOnly
    );
}

#[test]
fn ensure_list_keeps_existing_policy() {
    let (_dir, store) = temp_store();

    let first = store
        .ensure_list("exchange", Policy::RootOnly, CREATED)
        .unwrap();
    let second = store
        .ensure_list("exchange", Policy::Ordered, "2030-01-01T00:00:00Z")
        .unwrap();

    assert_eq!(first.policy, Policy::RootOnly);
    assert_eq!(second, first);
    assert_eq!(store.lists().unwrap(), vec![first]);
}

#[test]
fn lists_sorted_by_name() {
    let (_dir, store) = temp_store();
    for name in ["zeta", "alpha", "alpha-2", "Mixed"] {
        create_list(&store, name);
    }

    let names: Vec<String> = store
        .lists()
        .unwrap()
        .into_iter()
        .map(|list| list.name)
        .collect();

    assert_eq!(names, ["Mixed", "alpha", "alpha-2", "zeta"]);
}

#[test]
fn invalid_list_names_rejected() {
    let (_dir, store) = temp_store();
    let too_long = "a".repeat(65);

    for name in ["", "has space", "slash/name", "nul\0", too_long.as_str()] {
        let error = store
            .create_list(name, Policy::RootOnly, CREATED)
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::InvalidListName { name: bad } if bad == name),
            "{error:?}"
        );
    }
    assert!(store.lists().unwrap().is_empty());
    assert!(store
        .create_list(&"a".repeat(64), Policy::RootOnly, CREATED)
        .is_ok());
}

#[test]
fn delete_list_refuses_non_empty() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    store
        .put(&entry("exchange", fingerprint("aa"), &["mail.example.com"]))
        .unwrap();
    store
        .put(&entry("exchange", fingerprint("bb"), &["mail.example.com"]))
        .unwrap();

    let error = store.delete_list("exchange", false).unwrap_err();

    assert!(
        matches!(&error, StoreError::ListNotEmpty { name, count: 2 } if name == "exchange"),
        "{error:?}"
    );
    assert!(error.to_string().contains("--force"), "{error}");
    assert!(store.list_info("exchange").unwrap().is_some());
    assert_eq!(store.entries("exchange").unwrap().len(), 2);
}

#[test]
fn delete_list_with_force_removes_entries() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    create_list(&store, "other");
    store
        .put(&entry("exchange", fingerprint("aa"), &[]))
        .unwrap();
    store
        .put(&entry("exchange", fingerprint("bb"), &[]))
        .unwrap();
    store.put(&entry("other", fingerprint("bb"), &[])).unwrap();

    let removed = store.delete_list("exchange", true).unwrap();

    assert_eq!(removed, 2);
    assert_eq!(store.list_info("exchange").unwrap(), None);
    let remaining = store.all_entries().unwrap();
    assert_eq!(remaining, vec![entry("other", fingerprint("bb"), &[])]);

    create_list(&store, "exchange");
    assert!(store.entries("exchange").unwrap().is_empty());
}

#[test]
fn delete_empty_list_without_force() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");

    assert_eq!(store.delete_list("exchange", false).unwrap(), 0);
    assert_eq!(store.list_info("exchange").unwrap(), None);
}

#[test]
fn delete_missing_list_is_not_found() {
    let (_dir, store) = temp_store();

    let error = store.delete_list("exchange", true).unwrap_err();

    assert!(
        matches!(&error, StoreError::ListNotFound { name } if name == "exchange"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("gwtrust list create exchange --policy"),
        "{message}"
    );
}
