//! The confirmation prompt of `pin`, on a real pseudo-terminal made by `script` (util-linux).

mod common;

use common::*;

const HOST: &str = "owa.example.test";

/// Runs `gwtrust pin` on a terminal and types `answer` at the prompt.
fn pin_on_terminal(store: &std::path::Path, addr: &str, answer: &str) -> (i32, String) {
    gwtrust_on_terminal(store, &format!("pin {HOST} --connect {addr}"), answer)
}

#[test]
fn prompt_yes_pins_root() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();

    let (code, text) = pin_on_terminal(store.path(), &server.addr.to_string(), "y\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Trust this root? [y/N]"), "{text}");
    assert!(
        text.contains(&sha256_hex(&chain.root.der)),
        "the fingerprint is shown: {text}"
    );
    assert_eq!(
        stored_fingerprints(store.path(), "presence"),
        vec![sha256_hex(&chain.root.der)]
    );
}

#[test]
fn prompt_no_writes_nothing() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let store = tempfile::tempdir().unwrap();

    let (code, text) = pin_on_terminal(store.path(), &server.addr.to_string(), "n\n");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("cancelled"), "{text}");
    assert!(stored_fingerprints(store.path(), "presence").is_empty());
}
