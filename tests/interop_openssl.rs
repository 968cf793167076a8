//! Interop: `openssl s_server` presents leaf, intermediate and root; gwtrust pins exactly the root.

mod common;

use common::*;

#[test]
fn openssl_s_server_root_is_pinned() {
    let host = "owa.interop.example.test";
    let chain = TestChain::new(host);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "leaf.pem", &chain.leaf.pem);
    let key = write(dir.path(), "leaf.key", &chain.leaf.key.serialize_pem());
    let extra = write(
        dir.path(),
        "extra.pem",
        &format!("{}{}", chain.intermediate.pem, chain.root.pem),
    );
    let root = write(dir.path(), "root.pem", &chain.root.pem);

    let (_server, addr) = openssl_s_server(&leaf, &key, &["-cert_chain", extra.to_str().unwrap()]);

    let store = dir.path().join("store");
    let run = gwtrust(
        &store,
        &[
            "pin",
            host,
            "--connect",
            &addr.to_string(),
            "--yes",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(
        json["result"]["fetch"]["chain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "openssl sent three certificates"
    );

    let stored = stored_fingerprints(&store, "presence");
    assert_eq!(stored.len(), 1, "exactly the root is stored");

    let openssl = run_tool(
        "openssl",
        &[
            "x509",
            "-in",
            root.to_str().unwrap(),
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    let openssl_hex: String = openssl
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    assert_eq!(stored[0], openssl_hex);
}
