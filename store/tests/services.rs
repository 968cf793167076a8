//! Installing certificates for services and keeping their history.

mod common;

use common::{create_list, der_for, entry, fingerprint, open_raw_db, open_store, temp_store};
use gwtrust_store::{ServiceCert, ServiceRecord, StoreError};

const FIRST_INSTALL: &str = "2024-05-01T10:00:00Z";
const SECOND_INSTALL: &str = "2024-06-01T10:00:00Z";

fn install(
    store: &gwtrust_store::Store,
    service: &str,
    prefix: &str,
    installed: &str,
) -> ServiceRecord {
    let fp = fingerprint(prefix);
    store
        .install_service(
            service,
            "exchange",
            &fp,
            &der_for(&fp),
            &format!("CN={prefix}"),
            installed,
        )
        .unwrap_or_else(|error| panic!("install {prefix} for {service}: {error}"))
}

#[test]
fn install_twice_keeps_first_in_history() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    install(&store, "cup-trust", "aa", FIRST_INSTALL);

    let returned = install(&store, "cup-trust", "bb", SECOND_INSTALL);
    let stored = store.service("cup-trust").unwrap().unwrap();

    assert_eq!(returned, stored);
    assert_eq!(stored.name, "cup-trust");
    assert_eq!(stored.list, "exchange");
    assert_eq!(stored.fingerprint, fingerprint("bb"));
    assert_eq!(stored.der, der_for(&fingerprint("bb")));
    assert_eq!(stored.installed, SECOND_INSTALL);
    assert_eq!(
        stored.history,
        [ServiceCert {
            fingerprint: fingerprint("aa"),
            der: der_for(&fingerprint("aa")),
            subject: "CN=aa".to_owned(),
            installed: FIRST_INSTALL.to_owned(),
        }]
    );
}

#[test]
fn install_current_cert_again_changes_nothing() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    let first = install(&store, "cup-trust", "aa", FIRST_INSTALL);

    let again = install(&store, "cup-trust", "aa", SECOND_INSTALL);

    assert_eq!(again, first);
    assert!(again.history.is_empty());
    assert_eq!(store.service("cup-trust").unwrap().unwrap(), first);
}

#[test]
fn install_from_missing_list_is_not_found() {
    let (_dir, store) = temp_store();
    let fp = fingerprint("aa");

    let error = store
        .install_service(
            "cup-trust",
            "exchange",
            &fp,
            &der_for(&fp),
            "CN=aa",
            FIRST_INSTALL,
        )
        .unwrap_err();

    assert!(
        matches!(&error, StoreError::ListNotFound { name } if name == "exchange"),
        "{error:?}"
    );
    assert_eq!(store.service("cup-trust").unwrap(), None);
}

#[test]
fn invalid_service_name_rejected() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    let fp = fingerprint("aa");

    let error = store
        .install_service(
            "cup trust",
            "exchange",
            &fp,
            &der_for(&fp),
            "CN=aa",
            FIRST_INSTALL,
        )
        .unwrap_err();

    assert!(
        matches!(&error, StoreError::InvalidServiceName { name } if name == "cup trust"),
        "{error:?}"
    );
}

#[test]
fn service_keeps_der_after_entry_removed() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    store
        .put(&entry("exchange", fingerprint("aa"), &[]))
        .unwrap();
    install(&store, "cup-trust", "aa", FIRST_INSTALL);

    assert!(store.remove("exchange", &fingerprint("aa")).unwrap());
    store.delete_list("exchange", true).unwrap();

    let record = store.service("cup-trust").unwrap().unwrap();
    assert_eq!(record.der, der_for(&fingerprint("aa")));
}

#[test]
fn services_sorted_by_name() {
    let (_dir, store) = temp_store();
    create_list(&store, "exchange");
    install(&store, "xmpp", "aa", FIRST_INSTALL);
    install(&store, "cup-trust", "bb", FIRST_INSTALL);

    let names: Vec<String> = store
        .services()
        .unwrap()
        .into_iter()
        .map(|record| record.name)
        .collect();

    assert_eq!(names, ["cup-trust", "xmpp"]);
    assert_eq!(store.service("missing").unwrap(), None);
}

#[test]
fn put_service_drops_unreferenced_der() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = open_store(&path);
        create_list(&store, "exchange");
        store
            .put(&entry("exchange", fingerprint("cc"), &[]))
            .unwrap();
        install(&store, "cup-trust", "aa", FIRST_INSTALL);
        install(&store, "cup-trust", "bb", SECOND_INSTALL);
        install(&store, "cup-trust", "cc", SECOND_INSTALL);

        // Keep only the current certificate, dropping "aa" and "bb" from the history.
        let mut record = store.service("cup-trust").unwrap().unwrap();
        assert_eq!(record.history.len(), 2);
        record
            .history
            .retain(|cert| cert.fingerprint == fingerprint("bb"));
        store.put_service(&record).unwrap();

        assert_eq!(store.service("cup-trust").unwrap().unwrap(), record);
        assert!(store.remove("exchange", &fingerprint("cc")).unwrap());
    }

    let certs = open_raw_db(&path).open_tree("certs").unwrap();
    assert!(
        !certs.contains_key(fingerprint("aa").0).unwrap(),
        "aa is referenced by nothing"
    );
    assert!(
        certs.contains_key(fingerprint("bb").0).unwrap(),
        "bb is still in the history"
    );
    assert!(
        certs.contains_key(fingerprint("cc").0).unwrap(),
        "cc is the current certificate"
    );
}

#[test]
fn service_persists_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let installed = {
        let store = open_store(&path);
        create_list(&store, "exchange");
        install(&store, "cup-trust", "aa", FIRST_INSTALL);
        install(&store, "cup-trust", "bb", SECOND_INSTALL)
    };

    let store = open_store(&path);

    assert_eq!(store.services().unwrap(), vec![installed]);
}
