//! `service install` and `service show`: root before leaf, key match, history.

mod common;

use std::path::Path;

use common::*;

const HOST: &str = "tomcat.example.com";

fn install(store: &Path, cert: &Path, key: Option<&Path>) -> Run {
    let mut args = vec![
        "service".to_string(),
        "install".to_string(),
        "tomcat".to_string(),
        "--cert".to_string(),
        cert.display().to_string(),
        "--json".to_string(),
    ];
    if let Some(key) = key {
        args.extend(["--key".to_string(), key.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    gwtrust(store, &args)
}

fn import(store: &Path, file: &Path) {
    let run = gwtrust(
        store,
        &[
            "import",
            file.to_str().unwrap(),
            "--list",
            "tomcat",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn install_needs_root_first() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(
        dir.path(),
        "leaf-chain.pem",
        &format!("{}{}", chain.leaf.pem, chain.intermediate.pem),
    );
    let key = write(dir.path(), "leaf.key", &chain.leaf.key.serialize_pem());
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");

    let refused = install(&store, &leaf, Some(&key));
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let error = &refused.json()["error"];
    assert_eq!(error["kind"], "missing_issuer");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("issuer CN=Test Root CA"), "{message}");
    assert!(
        message.contains("Load the root certificate first"),
        "{message}"
    );

    let shown = gwtrust(&store, &["service", "show", "tomcat", "--json"]);
    assert_eq!(shown.code, 2, "nothing was installed: {}", shown.stdout);

    import(&store, &root);
    let accepted = install(&store, &leaf, Some(&key));
    assert_eq!(accepted.code, 0, "{}{}", accepted.stdout, accepted.stderr);
    let path = accepted.json()["result"]["path"].clone();
    assert_eq!(
        path,
        serde_json::json!([
            format!("CN={HOST}"),
            "CN=Test Issuing CA",
            "CN=Test Root CA"
        ])
    );
}

#[test]
fn install_missing_intermediate_names_it() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "leaf.pem", &chain.leaf.pem);
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");
    import(&store, &root);

    let refused = install(&store, &leaf, None);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    let message = refused.json()["error"]["message"].to_string();
    assert!(message.contains("issuer CN=Test Issuing CA"), "{message}");
}

#[test]
fn install_rejects_wrong_key() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(
        dir.path(),
        "leaf.pem",
        &format!("{}{}", chain.leaf.pem, chain.intermediate.pem),
    );
    let other_key = write(dir.path(), "other.key", &chain.root.key.serialize_pem());
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");
    import(&store, &root);

    let refused = install(&store, &leaf, Some(&other_key));
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert_eq!(refused.json()["error"]["kind"], "key_mismatch");
}

#[test]
fn reinstall_keeps_history() {
    let chain = TestChain::new(HOST);
    let renewed = leaf_cert(HOST, &[HOST], &chain.intermediate);
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "first.pem",
        &format!("{}{}", chain.leaf.pem, chain.intermediate.pem),
    );
    let second = write(
        dir.path(),
        "second.pem",
        &format!("{}{}", renewed.pem, chain.intermediate.pem),
    );
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");
    import(&store, &root);

    assert_eq!(install(&store, &first, None).code, 0);
    let run = install(&store, &second, None);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let shown = gwtrust(&store, &["service", "show", "tomcat", "--json"]);
    assert_eq!(shown.code, 0, "{}{}", shown.stdout, shown.stderr);
    let result = &shown.json()["result"];
    assert_eq!(
        result["certificate"]["fingerprint_sha256"],
        sha256_hex(&renewed.der)
    );
    assert_eq!(
        result["history"][0]["fingerprint_sha256"],
        sha256_hex(&chain.leaf.der)
    );
}

#[test]
fn install_rejects_client_only_certificate() {
    // A certificate without serverAuth fails path validation for a TLS server.
    let chain = TestChain::new(HOST);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![HOST.to_string()]).unwrap();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client = params.signed_by(&key, &chain.root.issuer()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "client.pem", &client.pem());
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");
    import(&store, &root);

    let refused = install(&store, &cert, None);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert_eq!(refused.json()["error"]["kind"], "path_validation");
}

#[test]
fn list_intermediate_is_not_anchor() {
    // A ca-chain list may contain an intermediate without its root; the path must still end at a root.
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "leaf.pem", &chain.leaf.pem);
    let intermediate = write(dir.path(), "ica.pem", &chain.intermediate.pem);
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");
    let created = gwtrust(&store, &["list", "create", "cas", "--policy", "ca-chain"]);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let add = |file: &Path| {
        let run = gwtrust(&store, &["import", file.to_str().unwrap(), "--list", "cas"]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    };
    let install_into_cas = || {
        gwtrust(
            &store,
            &[
                "service",
                "install",
                "web",
                "--cert",
                leaf.to_str().unwrap(),
                "--list",
                "cas",
                "--json",
            ],
        )
    };
    add(&intermediate);

    let refused = install_into_cas();
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    let message = refused.json()["error"]["message"].to_string();
    assert!(message.contains("issuer CN=Test Root CA"), "{message}");

    add(&root);
    let accepted = install_into_cas();
    assert_eq!(accepted.code, 0, "{}{}", accepted.stdout, accepted.stderr);
    assert_eq!(accepted.json()["result"]["path"][2], "CN=Test Root CA");
}

#[test]
fn install_expired_leaf_explains_plainly() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![HOST.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, HOST);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let expired = params.signed_by(&key, &chain.root.issuer()).unwrap();
    let leaf = write(dir.path(), "expired.pem", &expired.pem());
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");
    import(&store, &root);

    let refused = install(&store, &leaf, None);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("expired"), "{message}");
    assert!(
        !message.contains("UnixTime"),
        "no internal error text: {message}"
    );
}
