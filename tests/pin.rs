//! `fetch` and `pin` against real rustls servers on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::*;

const HOST: &str = "owa.example.test";

fn pin_args<'a>(addr: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["pin", HOST, "--connect", addr, "--json"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn pin_stores_only_sent_root() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();

    let run = gwtrust(store.path(), &pin_args(&addr, &["--yes"]));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let json = run.json();
    assert_eq!(json["command"], "pin");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["result"]["action"], "added");
    assert_eq!(json["result"]["root"]["source"]["kind"], "presented");
    assert_eq!(json["result"]["discarded"].as_array().unwrap().len(), 2);
    assert_eq!(
        stored_fingerprints(store.path(), "presence"),
        vec![sha256_hex(&chain.root.der)]
    );
}

#[test]
fn pin_finds_root_already_in_store() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(false), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();
    let ca_file = write(store.path(), "root.pem", &chain.root.pem);

    let first = gwtrust(
        store.path(),
        &pin_args(&addr, &["--yes", "--ca-file", ca_file.to_str().unwrap()]),
    );
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(first.json()["result"]["root"]["source"]["kind"], "ca_file");

    // Same server under a second name: the root now comes from the store, and the host is added.
    let second_host = "mail.example.test";
    let leaf = leaf_cert(second_host, &[second_host, HOST], &chain.intermediate);
    let server2 = TestServer::start(
        vec![leaf.der.clone(), chain.intermediate.der.clone()],
        &leaf.key,
    );
    let addr2 = server2.addr.to_string();
    let run = gwtrust(
        store.path(),
        &["pin", second_host, "--connect", &addr2, "--yes", "--json"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let json = run.json();
    assert_eq!(json["result"]["root"]["source"]["kind"], "store");
    assert_eq!(json["result"]["action"], "host_added");
    let hosts: Vec<&str> = json["result"]["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(hosts, vec![second_host, HOST]);
    assert_eq!(stored_fingerprints(store.path(), "presence").len(), 1);
}

#[test]
fn pin_unknown_root_writes_nothing() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(false), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();

    let run = gwtrust(store.path(), &pin_args(&addr, &["--yes"]));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["error"]["kind"], "no_root");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("CN=Test Root CA"),
        "the missing issuer is named: {message}"
    );
    assert!(stored_fingerprints(store.path(), "presence").is_empty());
}

#[test]
fn pin_name_mismatch_writes_nothing() {
    let chain = TestChain::new("other.example.test");
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();

    let run = gwtrust(store.path(), &pin_args(&addr, &["--yes"]));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["kind"], "name_mismatch");
    assert!(stored_fingerprints(store.path(), "presence").is_empty());

    let allowed = gwtrust(
        store.path(),
        &pin_args(&addr, &["--yes", "--allow-name-mismatch"]),
    );
    assert_eq!(allowed.code, 0, "{}{}", allowed.stdout, allowed.stderr);
    assert_eq!(stored_fingerprints(store.path(), "presence").len(), 1);
}

#[test]
fn pin_rejects_non_fqdn_before_connecting() {
    let store = tempfile::tempdir().unwrap();
    // Nothing listens here: a connect error would mean the host form was not checked first.
    let closed = closed_port().to_string();

    for host in ["owa", "127.0.0.1", "::1"] {
        let run = gwtrust(
            store.path(),
            &["pin", host, "--connect", &closed, "--yes", "--json"],
        );
        assert_eq!(run.code, 1, "{host}: {}{}", run.stdout, run.stderr);
        let json = run.json();
        assert_eq!(json["error"]["kind"], "not_fqdn", "{host}");
        assert!(
            json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("presence"),
            "{host}: the reason is given"
        );
    }
    assert!(stored_fingerprints(store.path(), "presence").is_empty());
}

#[test]
fn pin_fingerprint_mismatch_writes_nothing() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();
    let wrong = sha256_hex(&chain.intermediate.der);

    let run = gwtrust(
        store.path(),
        &pin_args(&addr, &["--expect-fingerprint", &wrong]),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["kind"], "fingerprint_mismatch");
    assert!(stored_fingerprints(store.path(), "presence").is_empty());

    let right = common::sha256_hex(&chain.root.der).to_uppercase();
    let run = gwtrust(
        store.path(),
        &pin_args(&addr, &["--expect-fingerprint", &right]),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn pin_without_terminal_needs_confirmation() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();

    let run = gwtrust(store.path(), &pin_args(&addr, &[]));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["error"]["kind"], "confirmation_required");
    let root = sha256_hex(&chain.root.der);
    assert!(
        json["error"]["message"].as_str().unwrap().contains(&root),
        "the fingerprint to confirm is shown"
    );
    assert!(stored_fingerprints(store.path(), "presence").is_empty());
}

#[test]
fn pin_self_signed_server_warns() {
    let leaf = self_signed_leaf(HOST);
    let server = TestServer::start(vec![leaf.der.clone()], &leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();

    let run = gwtrust(store.path(), &pin_args(&addr, &["--yes"]));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["result"]["root"]["self_signed_leaf"], true);
    let warnings = json["result"]["warnings"].to_string();
    assert!(warnings.contains("self-signed"), "{warnings}");
    assert_eq!(
        stored_fingerprints(store.path(), "presence"),
        vec![sha256_hex(&leaf.der)]
    );
}

#[test]
fn fetch_silent_listener_times_out() {
    let (_listener, addr) = silent_listener();
    let store = tempfile::tempdir().unwrap();
    let addr = addr.to_string();

    let start = Instant::now();
    let run = gwtrust(
        store.path(),
        &[
            "fetch",
            HOST,
            "--connect",
            &addr,
            "--timeout",
            "1",
            "--json",
        ],
    );
    let elapsed = start.elapsed();
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["kind"], "timeout");
    // A generous bound: the point is that the limit applies to the handshake, not a speed target.
    assert!(
        elapsed < Duration::from_secs(8),
        "took {elapsed:?} with --timeout 1"
    );
}

#[test]
fn fetch_closed_port_is_network_error() {
    let store = tempfile::tempdir().unwrap();
    let addr = closed_port().to_string();

    let run = gwtrust(store.path(), &["fetch", HOST, "--connect", &addr]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("cannot connect"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&addr),
        "the address is named: {}",
        run.stderr
    );
}

#[test]
fn fetch_reports_chain_and_writes_pem() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(false), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();
    let out = store.path().join("chain.pem");

    let run = gwtrust(
        store.path(),
        &[
            "fetch",
            HOST,
            "--connect",
            &addr,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let result = &json["result"];
    assert_eq!(result["chain"]["root_sent"], false);
    assert_eq!(result["chain"]["order_valid"], true);
    assert_eq!(result["chain"]["certificates"][0]["role"], "leaf");
    assert_eq!(result["chain"]["certificates"][0]["issued_by_next"], true);
    assert_eq!(result["chain"]["certificates"][1]["is_ca"], true);
    assert!(
        result["name_check"]["matched"].is_object(),
        "{}",
        result["name_check"]
    );

    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.matches("BEGIN CERTIFICATE").count(), 2);
}

#[test]
fn store_in_use_is_clear_error() {
    let store = tempfile::tempdir().unwrap();
    let held = gwtrust_store::Store::open(store.path()).expect("open store");

    let run = gwtrust(store.path(), &["list", "--json"]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["error"]["kind"], "store_in_use");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("in use"));
    drop(held);

    let run = gwtrust(store.path(), &["list", "--json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn show_and_remove_by_prefix() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();
    let addr = server.addr.to_string();
    assert_eq!(gwtrust(store.path(), &pin_args(&addr, &["--yes"])).code, 0);
    let root = sha256_hex(&chain.root.der);

    let show = gwtrust(store.path(), &["show", &root[..12], "--pem"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.starts_with("-----BEGIN CERTIFICATE-----"));

    let missing = gwtrust(store.path(), &["show", "00000000000000000000", "--json"]);
    assert_eq!(missing.code, 2);

    let remove = gwtrust(store.path(), &["remove", &root[..12], "--json"]);
    assert_eq!(remove.code, 0, "{}", remove.stderr);
    assert_eq!(remove.json()["result"]["removed_from"][0], "presence");
    assert!(stored_fingerprints(store.path(), "presence").is_empty());
}

#[test]
fn store_dir_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let store = parent.path().join("store");

    let run = gwtrust(&store, &["list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mode = std::fs::metadata(&store).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn refused_pin_creates_no_store() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let parent = tempfile::tempdir().unwrap();
    let store = parent.path().join("store");
    let addr = server.addr.to_string();

    // No terminal and no confirmation: refused before anything is written.
    let run = gwtrust(&store, &pin_args(&addr, &[]));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(!store.exists(), "the store was created by a refused pin");

    let run = gwtrust(&store, &pin_args(&addr, &["--yes"]));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(stored_fingerprints(&store, "presence").len(), 1);
}
