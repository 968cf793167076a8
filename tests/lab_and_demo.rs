//! `lab ca`, `lab server`, `lab serve` and `demo`, checked with openssl where it applies.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn lab_ca_and_server_verify_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let owa = dir.path().join("owa");

    let run = gwtrust(
        dir.path(),
        &[
            "lab",
            "ca",
            "--out",
            ca.to_str().unwrap(),
            "--cn",
            "Lab Root",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = gwtrust(
        dir.path(),
        &[
            "lab",
            "server",
            "--ca",
            ca.to_str().unwrap(),
            "--host",
            "owa.lab.example.test",
            "--san",
            "autodiscover.lab.example.test",
            "--out",
            owa.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    assert_eq!(mode(&ca.join("ca.key")), 0o600);
    assert_eq!(mode(&owa.join("key.pem")), 0o600);

    let ca_pem = ca.join("ca.pem");
    let verified = run_tool(
        "openssl",
        &[
            "verify",
            "-CAfile",
            ca_pem.to_str().unwrap(),
            "-purpose",
            "sslserver",
            owa.join("cert.pem").to_str().unwrap(),
        ],
    );
    assert!(verified.contains(": OK"), "{verified}");

    let text = run_tool(
        "openssl",
        &["x509", "-in", ca_pem.to_str().unwrap(), "-noout", "-text"],
    );
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    assert!(text.contains("Subject Key Identifier"), "{text}");
    assert!(
        text.contains("rsaEncryption") && text.contains("2048 bit"),
        "RSA 2048 by default: {text}"
    );

    let leaf = run_tool(
        "openssl",
        &[
            "x509",
            "-in",
            owa.join("cert.pem").to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(leaf.contains("TLS Web Server Authentication"), "{leaf}");
    assert!(
        leaf.contains("DNS:owa.lab.example.test, DNS:autodiscover.lab.example.test"),
        "host first: {leaf}"
    );
    assert!(leaf.contains("Authority Key Identifier"), "{leaf}");

    let chain = std::fs::read_to_string(owa.join("chain.pem")).unwrap();
    assert_eq!(
        chain.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf then CA"
    );
}

#[test]
fn lab_key_kinds_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let run = gwtrust(
        dir.path(),
        &["lab", "ca", "--out", ca.to_str().unwrap(), "--key", "p384"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run_tool(
        "openssl",
        &[
            "x509",
            "-in",
            ca.join("ca.pem").to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(
        text.contains("secp384r1") || text.contains("P-384"),
        "{text}"
    );

    let bad_key = gwtrust(
        dir.path(),
        &[
            "lab",
            "ca",
            "--out",
            ca.to_str().unwrap(),
            "--key",
            "rsa1024",
        ],
    );
    assert_eq!(bad_key.code, 2);

    let single_label = gwtrust(
        dir.path(),
        &[
            "lab",
            "server",
            "--ca",
            ca.to_str().unwrap(),
            "--host",
            "owa",
            "--out",
            dir.path().join("x").to_str().unwrap(),
        ],
    );
    assert_eq!(single_label.code, 2, "{}", single_label.stderr);
    assert!(
        !dir.path().join("x").exists(),
        "nothing written for a rejected host"
    );

    let missing_ca = gwtrust(
        dir.path(),
        &[
            "lab",
            "server",
            "--ca",
            dir.path().join("none").to_str().unwrap(),
            "--host",
            "owa.example.test",
            "--out",
            dir.path().join("y").to_str().unwrap(),
        ],
    );
    assert_eq!(missing_ca.code, 2);
    assert!(
        missing_ca.stderr.contains("ca.pem"),
        "{}",
        missing_ca.stderr
    );
}

#[test]
fn lab_serve_presents_chain_without_root() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let owa = dir.path().join("owa");
    assert_eq!(
        gwtrust(
            dir.path(),
            &["lab", "ca", "--out", ca.to_str().unwrap(), "--key", "p256"]
        )
        .code,
        0
    );
    assert_eq!(
        gwtrust(
            dir.path(),
            &[
                "lab",
                "server",
                "--ca",
                ca.to_str().unwrap(),
                "--host",
                "owa.lab.example.test",
                "--key",
                "p256",
                "--out",
                owa.to_str().unwrap()
            ]
        )
        .code,
        0
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args([
            "lab",
            "serve",
            "--cert",
            owa.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let listening: serde_json::Value = serde_json::from_str(&first_line).unwrap();
    assert_eq!(listening["event"], "listening");
    let addr = listening["address"].as_str().unwrap().to_string();

    let fetched = gwtrust(
        dir.path(),
        &[
            "fetch",
            "owa.lab.example.test",
            "--connect",
            &addr,
            "--json",
        ],
    );
    child.kill().unwrap();
    let _ = child.wait();

    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    let json = fetched.json();
    assert_eq!(
        json["result"]["chain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(json["result"]["chain"]["root_sent"], false);
}

#[test]
fn demo_pins_generated_ca() {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(["demo", "--json"])
        .env("HOME", home.path())
        .env_remove("GWTRUST_STORE")
        .env_remove("XDG_DATA_HOME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let result = &json["result"];
    assert_eq!(
        result["generated_ca_fingerprint"],
        result["pinned_fingerprint"]
    );
    assert_eq!(result["stored"].as_array().unwrap().len(), 1);
    assert_eq!(
        result["gateway"]["outcome"], "passed",
        "{:#}",
        result["gateway"]
    );
    assert!(
        !home.path().join(".local/share/gwtrust").exists(),
        "the demo leaves the user's store alone"
    );
}
