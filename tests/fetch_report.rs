//! The chain report of `fetch`: order, duplicates, stray certificates and validity against
//! `openssl s_server` and the lab server, and where the trust anchor is (store, --ca-file,
//! system roots).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// Starts `openssl s_server` on a free loopback port presenting `leaf` and then `extra` in
/// this order (`-cert_chain` sends its certificates in file order).
fn s_server(dir: &Path, leaf: &Generated, extra: &[&Generated]) -> (KillOnDrop, String) {
    let cert = write(dir, "leaf.pem", &leaf.pem);
    let key = write(dir, "leaf.key", &leaf.key.serialize_pem());
    let chain: String = extra.iter().map(|c| c.pem.as_str()).collect();
    let chain = write(dir, "extra.pem", &chain);

    let (server, addr) = openssl_s_server(&cert, &key, &["-cert_chain", chain.to_str().unwrap()]);
    (server, addr.to_string())
}

/// Runs `gwtrust fetch HOST --connect ADDR --json` with the system roots read from `roots`
/// only (SSL_CERT_FILE, and an empty SSL_CERT_DIR), so the test does not depend on the host.
fn fetch(dir: &Path, store: &Path, host: &str, addr: &str, roots: &Path, extra: &[&str]) -> Run {
    let empty_dir = dir.join("empty-cert-dir");
    std::fs::create_dir_all(&empty_dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(store)
        .args(["fetch", host, "--connect", addr, "--json"])
        .args(extra)
        .env("SSL_CERT_FILE", roots)
        .env("SSL_CERT_DIR", &empty_dir)
        .env_remove("GWTRUST_STORE")
        .stdin(Stdio::null())
        .output()
        .expect("run gwtrust");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(run.code, 0, "fetch failed: {}{}", run.stdout, run.stderr);
    run
}

fn positions(value: &serde_json::Value) -> Vec<u64> {
    value
        .as_array()
        .expect("array of positions")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn unrelated_ca() -> Generated {
    ca_cert("Unrelated Stray CA", None)
}

#[test]
fn wrong_order_is_reported() {
    let host = "owa.order.example.test";
    let chain = TestChain::new(host);
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = s_server(dir.path(), &chain.leaf, &[&chain.root, &chain.intermediate]);
    let roots = write(dir.path(), "no-roots.pem", "");

    let run = fetch(
        dir.path(),
        &dir.path().join("store"),
        host,
        &addr,
        &roots,
        &[],
    );
    let report = &run.json()["result"]["chain"];

    assert_eq!(report["order_valid"], false);
    assert_eq!(positions(&report["path"]), [0, 2, 1]);
    assert_eq!(report["path_in_order"], false);
    assert_eq!(report["root_sent"], true);
    assert_eq!(report["duplicates"], serde_json::json!([]));
    assert_eq!(report["stray"], serde_json::json!([]));
}

#[test]
fn duplicate_is_reported() {
    let host = "owa.duplicate.example.test";
    let chain = TestChain::new(host);
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = s_server(
        dir.path(),
        &chain.leaf,
        &[&chain.intermediate, &chain.intermediate],
    );
    let roots = write(dir.path(), "no-roots.pem", "");

    let run = fetch(
        dir.path(),
        &dir.path().join("store"),
        host,
        &addr,
        &roots,
        &[],
    );
    let report = &run.json()["result"]["chain"];

    assert_eq!(
        report["duplicates"],
        serde_json::json!([{ "position": 2, "same_as": 1 }])
    );
    assert_eq!(report["stray"], serde_json::json!([]));
    assert_eq!(positions(&report["path"]), [0, 1]);
    assert_eq!(report["path_in_order"], true);
    assert_eq!(report["root_sent"], false);
}

#[test]
fn stray_is_reported() {
    let host = "owa.stray.example.test";
    let chain = TestChain::new(host);
    let stray = unrelated_ca();
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = s_server(dir.path(), &chain.leaf, &[&chain.intermediate, &stray]);
    let roots = write(dir.path(), "no-roots.pem", "");

    let run = fetch(
        dir.path(),
        &dir.path().join("store"),
        host,
        &addr,
        &roots,
        &[],
    );
    let report = &run.json()["result"]["chain"];

    assert_eq!(positions(&report["stray"]), [2]);
    assert_eq!(report["duplicates"], serde_json::json!([]));
    assert_eq!(positions(&report["path"]), [0, 1]);
    // The stray is a self-signed CA, so it counts as a root that was sent.
    assert_eq!(report["root_sent"], true);
}

#[test]
fn all_three_in_one_chain_text() {
    let host = "owa.mixed.example.test";
    let chain = TestChain::new(host);
    let stray = unrelated_ca();
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = s_server(
        dir.path(),
        &chain.leaf,
        &[
            &chain.root,
            &chain.intermediate,
            &chain.intermediate,
            &stray,
        ],
    );

    let store = dir.path().join("store");
    let run = gwtrust(&store, &["fetch", host, "--connect", &addr]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let text = &run.stdout;

    assert!(
        text.contains("Root sent: the server sent a root (harmless but wasteful"),
        "{text}"
    );
    assert!(
        text.contains("Order: NOT valid: [0] is not issued by [1]"),
        "{text}"
    );
    assert!(
        text.contains("Path from the leaf: [0] -> [2] -> [1] (sent OUT OF ORDER"),
        "{text}"
    );
    assert!(
        text.contains("Duplicate: [3] is the same certificate as [2]"),
        "{text}"
    );
    assert!(text.contains("Stray: [4] CN=Unrelated Stray CA"), "{text}");
}

#[test]
fn expired_member_is_reported() {
    let host = "owa.expired.example.test";
    let root = ca_cert("Expired Test Root", None);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Expired Issuing CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params.not_before = rcgen::date_time_ymd(2015, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let cert = params.signed_by(&key, &root.issuer()).unwrap();
    let intermediate = Generated {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    };
    let leaf = leaf_cert(host, &[host], &intermediate);
    let server = TestServer::start(vec![leaf.der.clone(), intermediate.der.clone()], &leaf.key);

    let dir = tempfile::tempdir().unwrap();
    let roots = write(dir.path(), "no-roots.pem", "");
    let run = fetch(
        dir.path(),
        &dir.path().join("store"),
        host,
        &server.addr.to_string(),
        &roots,
        &[],
    );
    let report = &run.json()["result"]["chain"];

    assert_eq!(positions(&report["expired"]), [1]);
    assert_eq!(report["not_yet_valid"], serde_json::json!([]));
    assert_eq!(report["certificates"][1]["validity"], "expired");
    assert_eq!(report["certificates"][0]["validity"], "valid");
}

#[test]
fn anchor_found_in_store_ca_file_and_system() {
    let host = "owa.anchor.example.test";
    let chain = TestChain::new(host);
    let server = TestServer::start(chain.presented(false), &chain.leaf.key);
    let addr = server.addr.to_string();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let root_file = write(dir.path(), "root.pem", &chain.root.pem);
    let root_fingerprint = sha256_hex(&chain.root.der);

    let pin = gwtrust(
        &store,
        &[
            "pin",
            host,
            "--connect",
            &addr,
            "--ca-file",
            root_file.to_str().unwrap(),
            "--yes",
        ],
    );
    assert_eq!(pin.code, 0, "{}{}", pin.stdout, pin.stderr);

    let run = fetch(
        dir.path(),
        &store,
        host,
        &addr,
        &root_file,
        &["--ca-file", root_file.to_str().unwrap()],
    );
    let anchor = &run.json()["result"]["chain"]["trust_anchor"];

    assert_eq!(anchor["store"]["status"], "found");
    assert_eq!(anchor["store"]["anchors"][0]["source"]["list"], "presence");
    assert_eq!(
        anchor["store"]["anchors"][0]["fingerprint_sha256"],
        root_fingerprint
    );
    assert_eq!(anchor["store"]["anchors"][0]["issued_position"], 1);
    assert_eq!(anchor["ca_file"]["status"], "found");
    assert_eq!(
        anchor["ca_file"]["anchors"][0]["fingerprint_sha256"],
        root_fingerprint
    );
    assert_eq!(anchor["system"]["status"], "found");
    assert_eq!(anchor["system_origin"]["kind"], "native");
    assert_eq!(anchor["system_origin"]["certificates"], 1);
    // pin looks in the store before --ca-file, and never in the system roots.
    assert_eq!(anchor["pin_root"]["status"], "found");
    assert_eq!(anchor["pin_root"]["source"]["kind"], "store");
    assert_eq!(anchor["pin_root"]["fingerprint_sha256"], root_fingerprint);
}

#[test]
fn no_store_and_empty_system_roots() {
    let host = "owa.nostore.example.test";
    let chain = TestChain::new(host);
    let server = TestServer::start(chain.presented(false), &chain.leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let root_file = write(dir.path(), "root.pem", &chain.root.pem);
    let empty_roots = write(dir.path(), "empty.pem", "");

    let run = fetch(
        dir.path(),
        &store,
        host,
        &server.addr.to_string(),
        &empty_roots,
        &["--ca-file", root_file.to_str().unwrap()],
    );
    let anchor = &run.json()["result"]["chain"]["trust_anchor"];

    assert_eq!(anchor["store"]["status"], "unavailable");
    assert!(!store.exists(), "fetch does not create a store");
    assert_eq!(anchor["ca_file"]["status"], "found");
    assert_eq!(anchor["system_origin"]["kind"], "webpki_roots");
    assert_eq!(anchor["system"]["status"], "not_found");
    assert_eq!(anchor["pin_root"]["source"]["kind"], "ca_file");
    assert_eq!(
        anchor["pin_root"]["fingerprint_sha256"],
        sha256_hex(&chain.root.der)
    );
}

#[test]
fn store_in_use_still_reports() {
    let host = "owa.inuse.example.test";
    let chain = TestChain::new(host);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let _held = gwtrust_store::Store::open(&store_dir).expect("open the store in the test");
    let roots = write(dir.path(), "no-roots.pem", "");

    let run = fetch(
        dir.path(),
        &store_dir,
        host,
        &server.addr.to_string(),
        &roots,
        &[],
    );
    let json = run.json();
    let anchor = &json["result"]["chain"]["trust_anchor"];

    assert_eq!(anchor["store"]["status"], "unavailable");
    assert!(
        anchor["store"]["reason"]
            .as_str()
            .unwrap()
            .contains("in use"),
        "{anchor:#}"
    );
    // The root was sent, so pin's search still finds it.
    assert_eq!(anchor["pin_root"]["source"]["kind"], "presented");
    assert_eq!(
        json["result"]["chain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
