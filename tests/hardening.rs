//! Hostile input: forged text in certificates, special files, overwrites, bad arguments.

mod common;

use std::path::Path;

use common::*;
use rcgen::{CertificateParams, DnType, KeyPair};

const HOST: &str = "owa.example.test";

#[test]
fn subject_control_characters_are_escaped() {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(vec![HOST.to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Evil\u{1b}[31m\nSHA-256 forged");
    let cert = params.self_signed(&key).unwrap();
    let server = TestServer::start(vec![cert.der().clone()], &key);
    let store = tempfile::tempdir().unwrap();

    let run = gwtrust(
        store.path(),
        &["fetch", HOST, "--connect", &server.addr.to_string()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stdout.contains('\u{1b}'),
        "raw ESC in output:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("\nSHA-256 forged"),
        "a forged line:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\\u{1b}"),
        "escaped form expected:\n{}",
        run.stdout
    );
}

#[test]
fn out_refuses_non_regular_file() {
    let chain = TestChain::new(HOST);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    run_tool("mkfifo", &[fifo.to_str().unwrap()]);

    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "fetch",
            HOST,
            "--connect",
            &server.addr.to_string(),
            "--out",
            fifo.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&kind),
        "the FIFO is still there"
    );
}

#[test]
fn ca_file_must_be_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "pin",
            HOST,
            "--connect",
            &closed_port().to_string(),
            "--ca-file",
            "/dev/zero",
            "--yes",
        ],
    );
    // pin reads the CA file before any traffic, so the closed port is never dialled.
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);

    let run = gwtrust(&dir.path().join("store"), &["verify", "/dev/zero"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
}

#[test]
fn lab_ca_never_overwrites_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    assert_eq!(
        gwtrust(dir.path(), &["lab", "ca", "--out", ca.to_str().unwrap()]).code,
        0
    );
    let key_before = std::fs::read(ca.join("ca.key")).unwrap();

    let again = gwtrust(dir.path(), &["lab", "ca", "--out", ca.to_str().unwrap()]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read(ca.join("ca.key")).unwrap(), key_before);
}

#[test]
fn lab_server_rejects_mismatched_ca() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    assert_eq!(
        gwtrust(
            dir.path(),
            &[
                "lab",
                "ca",
                "--out",
                first.to_str().unwrap(),
                "--key",
                "p256"
            ]
        )
        .code,
        0
    );
    assert_eq!(
        gwtrust(
            dir.path(),
            &[
                "lab",
                "ca",
                "--out",
                second.to_str().unwrap(),
                "--key",
                "p256"
            ]
        )
        .code,
        0
    );
    std::fs::copy(second.join("ca.key"), first.join("ca.key")).unwrap();

    let out = dir.path().join("owa");
    let run = gwtrust(
        dir.path(),
        &[
            "lab",
            "server",
            "--ca",
            first.to_str().unwrap(),
            "--host",
            HOST,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    assert!(!out.exists(), "nothing was written");
}

#[test]
fn lab_server_rejects_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    assert_eq!(
        gwtrust(
            dir.path(),
            &["lab", "ca", "--out", ca.to_str().unwrap(), "--key", "p256"]
        )
        .code,
        0
    );

    for san in ["", "a b", "-bad.example.test"] {
        let out = dir.path().join("out");
        let san_arg = format!("--san={san}");
        let run = gwtrust(
            dir.path(),
            &[
                "lab",
                "server",
                "--ca",
                ca.to_str().unwrap(),
                "--host",
                HOST,
                &san_arg,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 2, "--san {san:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("--san"),
            "--san {san:?}: {}",
            run.stderr
        );
        assert!(!out.exists());
    }

    let long_name = "x".repeat(65);
    let run = gwtrust(
        dir.path(),
        &[
            "lab",
            "ca",
            "--out",
            dir.path().join("c2").to_str().unwrap(),
            "--cn",
            &long_name,
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn pin_walks_intermediate_in_ca_file() {
    let chain = TestChain::new(HOST);
    // The server sends the leaf alone; the CA file has the intermediate and the root.
    let server = TestServer::start(vec![chain.leaf.der.clone()], &chain.leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = write(
        dir.path(),
        "cas.pem",
        &format!("{}{}", chain.intermediate.pem, chain.root.pem),
    );
    let store = dir.path().join("store");

    let run = gwtrust(
        &store,
        &[
            "pin",
            HOST,
            "--connect",
            &server.addr.to_string(),
            "--ca-file",
            ca_file.to_str().unwrap(),
            "--yes",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        stored_fingerprints(&store, "presence"),
        vec![sha256_hex(&chain.root.der)]
    );
}

#[test]
fn usage_errors_print_json() {
    let run = gwtrust_plain(&["fetch", "--json"]);
    assert_eq!(run.code, 2);
    let json = run.json();
    assert_eq!(json["error"]["kind"], "usage");
    assert_eq!(json["exit_code"], 2);

    let run = gwtrust_plain(&["fetch", HOST, "--timeout", "5s", "--json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["kind"], "usage");
}

#[test]
fn invalid_connect_is_usage_error() {
    let store = tempfile::tempdir().unwrap();
    for connect in ["", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":80x"] {
        let run = gwtrust(
            store.path(),
            &["fetch", HOST, "--connect", connect, "--json"],
        );
        assert_eq!(run.code, 2, "--connect {connect:?}: {}", run.stdout);
        assert_eq!(
            run.json()["error"]["kind"],
            "invalid_argument",
            "--connect {connect:?}"
        );
    }
}

#[test]
fn version1_certificate_is_captured() {
    // `openssl x509 -req` without extensions makes an X.509 v1 certificate, which webpki rejects;
    // the capture must still show it, over TLS 1.2 and TLS 1.3.
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    run_tool(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &path("ca.key"),
            "-out",
            &path("ca.pem"),
            "-subj",
            "/CN=V1 Root",
            "-days",
            "30",
        ],
    );
    run_tool(
        "openssl",
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &path("leaf.key"),
            "-out",
            &path("leaf.csr"),
            "-subj",
            &format!("/CN={HOST}"),
        ],
    );
    run_tool(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &path("leaf.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca.key"),
            "-CAcreateserial",
            "-out",
            &path("leaf.pem"),
            "-days",
            "30",
        ],
    );
    let text = run_tool(
        "openssl",
        &["x509", "-in", &path("leaf.pem"), "-noout", "-text"],
    );
    assert!(text.contains("Version: 1"), "the fixture is v1: {text}");

    for protocol in ["-tls1_2", "-tls1_3"] {
        let (_server, addr) = openssl_s_server(
            Path::new(&path("leaf.pem")),
            Path::new(&path("leaf.key")),
            &[protocol],
        );

        let store = dir.path().join("store");
        let run = gwtrust(
            &store,
            &["fetch", HOST, "--connect", &addr.to_string(), "--json"],
        );
        assert_eq!(run.code, 0, "{protocol}: {}{}", run.stdout, run.stderr);
        let json = run.json();
        let expected = if protocol == "-tls1_2" {
            "TLSv1_2"
        } else {
            "TLSv1_3"
        };
        assert_eq!(json["result"]["protocol"], expected);
        assert_eq!(
            json["result"]["chain"]["certificates"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

#[test]
fn gateway_rejects_bad_connect_and_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    for connect in ["127.0.0.1", "127.0.0.1:0"] {
        let run = gwtrust(
            &store,
            &[
                "gateway",
                "check",
                "--host",
                HOST,
                "--connect",
                connect,
                "--json",
            ],
        );
        assert_eq!(run.code, 2, "--connect {connect:?}: {}", run.stdout);
        assert_eq!(run.json()["error"]["kind"], "invalid_argument");
    }

    // A FIFO as the hosts file would block the read forever.
    let fifo = dir.path().join("hosts");
    run_tool("mkfifo", &[fifo.to_str().unwrap()]);
    let run = gwtrust(
        &store,
        &[
            "gateway",
            "check",
            "--hosts",
            fifo.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a regular file"));
}

#[test]
fn usage_error_json_names_command() {
    let run = gwtrust_plain(&["lab", "ca", "--json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["command"], "lab ca");
}
