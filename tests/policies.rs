//! Trust lists: create, delete, lists, and what each policy accepts and rejects.

mod common;

use std::path::Path;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

const HOST: &str = "owa.example.com";

/// Imports one PEM text into `list` and returns (outcome, reason, warnings) per certificate.
fn import_pem(store: &Path, list: &str, pem: &str) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "in.pem", pem);
    let run = gwtrust(
        store,
        &["import", file.to_str().unwrap(), "--list", list, "--json"],
    );
    assert!(
        run.code == 0 || run.code == 1,
        "{}{}",
        run.stdout,
        run.stderr
    );
    run.json()["result"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["outcome"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap_or("").to_string(),
                c["warnings"].to_string(),
            )
        })
        .collect()
}

fn create_list(store: &Path, name: &str, policy: &str) {
    let run = gwtrust(store, &["list", "create", name, "--policy", policy]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn lists_create_delete_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    create_list(&store, "exchange-cas", "ca-chain");

    let run = gwtrust(&store, &["lists", "--json"]);
    assert_eq!(run.code, 0);
    let json = run.json();
    let lists = json["result"]["lists"].as_array().unwrap();
    let find = |name: &str| {
        lists
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {lists:?}"))["policy"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(find("presence"), "root-only");
    assert_eq!(find("tomcat"), "ordered");
    assert_eq!(find("exchange-cas"), "ca-chain");

    let again = gwtrust(
        &store,
        &["list", "create", "exchange-cas", "--policy", "ordered"],
    );
    assert_eq!(again.code, 2, "a list name is used once: {}", again.stderr);

    let bad = gwtrust(&store, &["list", "create", "x", "--policy", "chain"]);
    assert_eq!(bad.code, 2);

    let chain = TestChain::new(HOST);
    import_pem(&store, "exchange-cas", &chain.root.pem);
    let refused = gwtrust(&store, &["list", "delete", "exchange-cas", "--json"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(refused.stdout.contains("--force"), "{}", refused.stdout);

    let deleted = gwtrust(
        &store,
        &["list", "delete", "exchange-cas", "--force", "--json"],
    );
    assert_eq!(deleted.code, 0, "{}{}", deleted.stdout, deleted.stderr);
    assert_eq!(deleted.json()["command"], "list delete");
    assert_eq!(deleted.json()["result"]["certificates_removed"], 1);

    // `list` without a subcommand still prints the entries.
    let listed = gwtrust(&store, &["list", "--list", "presence", "--json"]);
    assert_eq!(listed.code, 0);
    assert_eq!(listed.json()["command"], "list");
}

#[test]
fn root_only_keeps_roots() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let decided = import_pem(
        &store,
        "presence",
        &format!(
            "{}{}{}",
            chain.leaf.pem, chain.intermediate.pem, chain.root.pem
        ),
    );
    assert_eq!(decided[0].0, "imported", "the root: {decided:?}");
    assert_eq!(decided[1].0, "rejected", "the intermediate");
    assert!(decided[1].1.starts_with("not a root:"), "{}", decided[1].1);
    assert_eq!(decided[2].0, "rejected", "the leaf");
    assert_eq!(
        decided[2].1,
        format!("not a root: a root-only list keeps only self-signed CA certificates — this is the server certificate of {HOST}; pin its root instead")
    );
}

#[test]
fn root_only_warns_on_self_signed_leaf() {
    let leaf = self_signed_leaf("mail.example.com");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let decided = import_pem(&store, "presence", &leaf.pem);
    assert_eq!(decided[0].0, "imported");
    assert!(
        decided[0].2.contains("self-signed server certificate"),
        "{}",
        decided[0].2
    );
}

#[test]
fn root_only_rejects_forged_self_signature() {
    // Same subject and issuer, but signed by another key: self-issued, not self-signed.
    let forger = ca_cert("Forged Root", None);
    let victim_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Forged Root");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let forged = params.signed_by(&victim_key, &forger.issuer()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let decided = import_pem(&store, "presence", &forged.pem());
    assert_eq!(decided[0].0, "rejected", "{decided:?}");
}

#[test]
fn ca_chain_keeps_cas_not_leaves() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    create_list(&store, "imp", "ca-chain");

    // An intermediate alone is fine: ca-chain does not require the issuer first.
    let decided = import_pem(&store, "imp", &chain.intermediate.pem);
    assert_eq!(decided[0].0, "imported");

    let decided = import_pem(
        &store,
        "imp",
        &format!("{}{}", chain.leaf.pem, chain.root.pem),
    );
    assert_eq!(decided[0].0, "imported", "the root: {decided:?}");
    assert_eq!(decided[1].0, "rejected", "the leaf");
    assert!(decided[1].1.contains("never a leaf"), "{}", decided[1].1);
    assert!(decided[1].1.contains(HOST), "{}", decided[1].1);
}

#[test]
fn ordered_needs_issuer_first() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let decided = import_pem(&store, "tomcat", &chain.intermediate.pem);
    assert_eq!(decided[0].0, "rejected");
    assert_eq!(
        decided[0].1,
        "issuer CN=Test Root CA is not in list tomcat: import the root certificate first, then each CA certificate under it in order"
    );

    let decided = import_pem(&store, "tomcat", &chain.root.pem);
    assert_eq!(decided[0].0, "imported");
    let decided = import_pem(&store, "tomcat", &chain.intermediate.pem);
    assert_eq!(decided[0].0, "imported", "{decided:?}");
}

#[test]
fn ordered_rejects_leaf_pointing_to_service() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let decided = import_pem(
        &store,
        "tomcat",
        &format!(
            "{}{}{}",
            chain.root.pem, chain.intermediate.pem, chain.leaf.pem
        ),
    );
    assert_eq!(decided[2].0, "rejected");
    assert!(
        decided[2].1.contains("gwtrust service install"),
        "{}",
        decided[2].1
    );
}

#[test]
fn ordered_rejects_lookalike_issuer() {
    // An intermediate whose issuer name matches a stored root but whose signature does not.
    let chain = TestChain::new(HOST);
    let impostor_root = ca_cert("Test Root CA", None);
    let impostor_intermediate = ca_cert("Test Issuing CA", Some(&impostor_root));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    import_pem(&store, "tomcat", &chain.root.pem);

    let decided = import_pem(&store, "tomcat", &impostor_intermediate.pem);
    assert_eq!(decided[0].0, "rejected", "{decided:?}");
}

#[test]
fn wildcard_in_trust_list_warns() {
    let leaf = self_signed_leaf("*.example.com");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let decided = import_pem(&store, "presence", &leaf.pem);
    assert_eq!(decided[0].0, "imported");
    assert!(decided[0].2.contains("wildcard"), "{}", decided[0].2);
}

#[test]
fn key_over_4096_bits_warns() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("big.key");
    let cert = dir.path().join("big.pem");
    run_tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:4160",
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
            "-subj",
            "/CN=Big Key Root",
            "-days",
            "30",
        ],
    );
    let store = dir.path().join("store");
    let decided = import_pem(&store, "presence", &std::fs::read_to_string(&cert).unwrap());
    assert_eq!(decided[0].0, "imported");
    assert!(decided[0].2.contains("4160-bit"), "{}", decided[0].2);
}
