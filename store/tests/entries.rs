//! Putting, reading, finding and removing certificates in lists.

mod common;

use common::{create_list, der_for, entry, fingerprint, open_raw_db, open_store, temp_store};
use gwtrust_store::{PutOutcome, StoreError};

#[test]
fn put_then_get_round_trips() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    let mut stored = entry(
        "exchange",
        fingerprint("ab"),
        &["mail.example.com", "autodiscover.example.com"],
    );
    stored.der = vec![0x30, 0x03, 0x02, 0x01, 0x00, 0xff];
    stored.source = "import".to_owned();

    assert_eq!(store.put(&stored).unwrap(), PutOutcome::Added);
    let loaded = store.get("exchange", &stored.fingerprint).unwrap().unwrap();

    assert_eq!(loaded.der, stored.der);
    assert_eq!(loaded.subject, stored.subject);
    assert_eq!(
        loaded.hosts,
        ["autodiscover.example.com", "mail.example.com"]
    );
    assert_eq!(loaded.source, "import");
    assert_eq!(loaded.added, stored.added);
    assert_eq!(loaded.list, "exchange");
    assert_eq!(loaded.fingerprint, stored.fingerprint);
}

#[test]
fn get_missing_entry_is_none() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    store
        .put(&entry("exchange", fingerprint("ab"), &[]))
        .unwrap();

    assert_eq!(store.get("exchange", &fingerprint("cd")).unwrap(), None);
    assert_eq!(store.get("no-such-list", &fingerprint("ab")).unwrap(), None);
}

#[test]
fn put_same_fingerprint_merges_hosts() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    let first = entry("exchange", fingerprint("ab"), &["mail.example.com"]);
    let mut second = entry(
        "exchange",
        fingerprint("ab"),
        &["owa.example.com", "mail.example.com", "owa.example.com"],
    );
    second.subject = "CN=Renamed".to_owned();

    assert_eq!(store.put(&first).unwrap(), PutOutcome::Added);
    assert_eq!(
        store.put(&second).unwrap(),
        PutOutcome::HostsAdded(vec!["owa.example.com".to_owned()])
    );
    assert_eq!(store.put(&second).unwrap(), PutOutcome::AlreadyPresent);

    let entries = store.entries("exchange").unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].hosts, ["mail.example.com", "owa.example.com"]);
    assert_eq!(
        entries[0].subject, first.subject,
        "a merge keeps the stored subject"
    );
}

#[test]
fn put_into_missing_list_is_not_found() {
    let (_dir, store) = temp_store();

    let error = store
        .put(&entry("exchange", fingerprint("ab"), &[]))
        .unwrap_err();

    assert!(
        matches!(&error, StoreError::ListNotFound { name } if name == "exchange"),
        "{error:?}"
    );
    assert!(store.all_entries().unwrap().is_empty());
}

#[test]
fn put_all_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = open_store(&path);
        create_list(&store, "exchange");
        let batch = [
            entry("exchange", fingerprint("aa"), &["mail.example.com"]),
            entry("exchange", fingerprint("bb"), &["mail.example.com"]),
            entry("missing", fingerprint("cc"), &["mail.example.com"]),
        ];

        let error = store.put_all(&batch).unwrap_err();

        assert!(
            matches!(&error, StoreError::ListNotFound { name } if name == "missing"),
            "{error:?}"
        );
        assert!(store.entries("exchange").unwrap().is_empty());
    }

    // Nothing from the batch may reach the disk either, including DERs.
    let db = open_raw_db(&path);
    assert!(db.open_tree("entries").unwrap().is_empty());
    assert!(db.open_tree("certs").unwrap().is_empty());
}

#[test]
fn put_all_returns_outcomes_in_order() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    store
        .put(&entry("exchange", fingerprint("aa"), &["a.example.com"]))
        .unwrap();
    let batch = [
        entry("exchange", fingerprint("bb"), &["b.example.com"]),
        entry("exchange", fingerprint("aa"), &["a.example.com"]),
        entry("exchange", fingerprint("bb"), &["c.example.com"]),
    ];

    let outcomes = store.put_all(&batch).unwrap();

    assert_eq!(
        outcomes,
        [
            PutOutcome::Added,
            PutOutcome::AlreadyPresent,
            PutOutcome::HostsAdded(vec!["c.example.com".to_owned()]),
        ]
    );
    let hosts = store
        .get("exchange", &fingerprint("bb"))
        .unwrap()
        .unwrap()
        .hosts;
    assert_eq!(hosts, ["b.example.com", "c.example.com"]);
}

#[test]
fn entries_sorted_by_fingerprint() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    for prefix in ["ff", "01", "a0", "0f"] {
        store
            .put(&entry("exchange", fingerprint(prefix), &[]))
            .unwrap();
    }

    let order: Vec<String> = store
        .entries("exchange")
        .unwrap()
        .iter()
        .map(|entry| entry.fingerprint.to_hex()[..2].to_owned())
        .collect();

    assert_eq!(order, ["01", "0f", "a0", "ff"]);
}

#[test]
fn entries_of_missing_list_is_not_found() {
    let (_dir, store) = temp_store();

    let error = store.entries("exchange").unwrap_err();

    assert!(
        matches!(&error, StoreError::ListNotFound { name } if name == "exchange"),
        "{error:?}"
    );
}

#[test]
fn entries_do_not_leak_between_prefix_names() {
    let (_dir, store) = temp_store();
    create_list(&store, "a");
    create_list(&store, "a-b");
    store.put(&entry("a", fingerprint("11"), &[])).unwrap();
    store.put(&entry("a-b", fingerprint("22"), &[])).unwrap();

    let in_a = store.entries("a").unwrap();
    let all: Vec<(String, String)> = store
        .all_entries()
        .unwrap()
        .into_iter()
        .map(|entry| (entry.list, entry.fingerprint.to_hex()[..2].to_owned()))
        .collect();

    assert_eq!(in_a, vec![entry("a", fingerprint("11"), &[])]);
    assert_eq!(
        all,
        [
            ("a".to_owned(), "11".to_owned()),
            ("a-b".to_owned(), "22".to_owned())
        ]
    );
}

#[test]
fn find_prefix_cases() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    create_list(&store, "backup");
    store
        .put(&entry("exchange", fingerprint("ab12"), &[]))
        .unwrap();
    store
        .put(&entry("exchange", fingerprint("ab34"), &[]))
        .unwrap();
    store
        .put(&entry("backup", fingerprint("ab34"), &[]))
        .unwrap();

    let unique = store.find_prefix("AB:1").unwrap();
    assert_eq!(unique.len(), 1);
    assert_eq!(unique[0].fingerprint, fingerprint("ab12"));
    assert_eq!(unique[0].der, der_for(&fingerprint("ab12")));

    let ambiguous = store.find_prefix("ab").unwrap();
    assert_eq!(ambiguous.len(), 3);

    let one_cert_two_lists: Vec<String> = store
        .find_prefix("ab3")
        .unwrap()
        .into_iter()
        .map(|e| e.list)
        .collect();
    assert_eq!(one_cert_two_lists, ["backup", "exchange"]);

    assert!(store.find_prefix("cd").unwrap().is_empty());

    let full = fingerprint("ab12").to_hex();
    assert_eq!(store.find_prefix(&full).unwrap().len(), 1);
}

#[test]
fn find_prefix_rejects_invalid() {
    let (_dir, store) = temp_store();
    let too_long = "a".repeat(65);

    for prefix in ["", ":", "xyz", "ab cd", too_long.as_str()] {
        let error = store.find_prefix(prefix).unwrap_err();
        assert!(
            matches!(&error, StoreError::InvalidPrefix { prefix: bad } if bad == prefix),
            "{error:?}"
        );
    }
}

#[test]
fn remove_keeps_cert_used_by_other_list() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    create_list(&store, "backup");
    let shared = fingerprint("ab");
    store.put(&entry("exchange", shared, &[])).unwrap();
    store.put(&entry("backup", shared, &[])).unwrap();

    assert!(store.remove("exchange", &shared).unwrap());
    assert!(!store.remove("exchange", &shared).unwrap());

    assert_eq!(store.get("exchange", &shared).unwrap(), None);
    let backup_entry = store.get("backup", &shared).unwrap().unwrap();
    assert_eq!(backup_entry.der, der_for(&shared));
}

#[test]
fn remove_from_missing_list_is_not_found() {
    let (_dir, store) = temp_store();

    let error = store.remove("exchange", &fingerprint("ab")).unwrap_err();

    assert!(
        matches!(&error, StoreError::ListNotFound { name } if name == "exchange"),
        "{error:?}"
    );
}

#[test]
fn remove_everywhere_names_lists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let target = fingerprint("ab");
    {
        let store = open_store(&path);
        for name in ["zeta", "alpha", "middle"] {
            create_list(&store, name);
        }
        store.put(&entry("zeta", target, &[])).unwrap();
        store.put(&entry("alpha", target, &[])).unwrap();
        store.put(&entry("middle", fingerprint("cd"), &[])).unwrap();

        assert_eq!(store.remove_everywhere(&target).unwrap(), ["alpha", "zeta"]);
        assert!(store.remove_everywhere(&target).unwrap().is_empty());
        assert_eq!(store.all_entries().unwrap().len(), 1);
    }

    // The DER goes once no entry refers to it, and the other one stays.
    let certs = open_raw_db(&path).open_tree("certs").unwrap();
    assert!(!certs.contains_key(target.0).unwrap());
    assert!(certs.contains_key(fingerprint("cd").0).unwrap());
}

#[test]
fn corrupt_entry_is_error_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = open_store(&path);
        create_list(&store, "exchange");
        store
            .put(&entry("exchange", fingerprint("ab"), &[]))
            .unwrap();
    }
    {
        let db = open_raw_db(&path);
        let mut key = b"exchange\0".to_vec();
        key.extend_from_slice(&fingerprint("ab").0);
        db.open_tree("entries")
            .unwrap()
            .insert(key, &b"not json"[..])
            .unwrap();
        db.flush().unwrap();
    }
    let store = open_store(&path);

    let error = store.entries("exchange").unwrap_err();

    match &error {
        StoreError::Corrupt { what, .. } => {
            assert_eq!(*what, format!("entries/exchange/{}", fingerprint("ab")));
        }
        other => panic!("expected StoreError::Corrupt, got {other:?}"),
    }
}
