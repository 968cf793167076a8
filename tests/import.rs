//! `import`: every file format, directories, ordering, dry runs and unparseable input.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::*;

const HOST: &str = "owa.example.com";

/// Imports `files` into `list` with `--json` and returns the run.
fn import(store: &Path, list: &str, files: &[&Path], extra: &[&str]) -> Run {
    let mut args = vec!["import".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--list".to_string(), list.to_string(), "--json".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    gwtrust(store, &args)
}

/// Returns (subject, outcome) pairs from an import's JSON, in decision order.
fn outcomes(run: &Run) -> Vec<(String, String)> {
    run.json()["result"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("no certificates array: {}{}", run.stdout, run.stderr))
        .iter()
        .map(|c| {
            (
                c["subject"].as_str().unwrap().to_string(),
                c["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn file_format(run: &Run, index: usize) -> String {
    run.json()["result"]["files"][index]["format"]
        .as_str()
        .unwrap_or("null")
        .to_string()
}

fn der_file(dir: &Path, name: &str, der: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, der).unwrap();
    path
}

#[test]
fn pem_with_bom_crlf_and_text_imports() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "\u{feff}Bag Attributes: exported by a Windows CA\n{}\nsome text between\n{}trailing notes\n",
        chain.leaf.pem, chain.root.pem
    )
    .replace('\n', "\r\n");
    let file = write(dir.path(), "bundle.crt", &text);
    let store = dir.path().join("store");

    let run = import(&store, "presence", &[&file], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(file_format(&run, 0), "pem");
    assert_eq!(
        outcomes(&run),
        vec![
            ("CN=Test Root CA".to_string(), "imported".to_string()),
            (format!("CN={HOST}"), "rejected".to_string()),
        ]
    );
    assert_eq!(
        stored_fingerprints(&store, "presence"),
        vec![sha256_hex(&chain.root.der)]
    );
}

#[test]
fn pem_trusted_and_x509_labels_import() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    // openssl -trustout writes TRUSTED CERTIFICATE with trust settings after the certificate.
    let trusted = run_tool(
        "openssl",
        &[
            "x509",
            "-in",
            root.to_str().unwrap(),
            "-trustout",
            "-addtrust",
            "serverAuth",
        ],
    );
    assert!(trusted.contains("BEGIN TRUSTED CERTIFICATE"), "{trusted}");
    let trusted_file = write(dir.path(), "trusted.pem", &trusted);
    let x509_file = write(
        dir.path(),
        "x509.pem",
        &chain
            .intermediate
            .pem
            .replace("CERTIFICATE-----", "X509 CERTIFICATE-----"),
    );
    let store = dir.path().join("store");
    gwtrust(&store, &["list", "create", "cas", "--policy", "ca-chain"]);

    let run = import(&store, "cas", &[&trusted_file, &x509_file], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mut stored = stored_fingerprints(&store, "cas");
    stored.sort();
    let mut expected = vec![
        sha256_hex(&chain.root.der),
        sha256_hex(&chain.intermediate.der),
    ];
    expected.sort();
    assert_eq!(
        stored, expected,
        "the trust settings are not part of the stored DER"
    );
}

#[test]
fn der_and_base64_import() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let der = der_file(dir.path(), "root.cer", &chain.root.der);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&chain.root.der);
    let wrapped: String = encoded
        .as_bytes()
        .chunks(64)
        .map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap()))
        .collect();
    let base64_file = write(dir.path(), "root.b64", &wrapped);
    let store = dir.path().join("store");

    let run = import(&store, "presence", &[&der], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(file_format(&run, 0), "der");
    assert_eq!(outcomes(&run)[0].1, "imported");

    let run = import(&store, "presence", &[&base64_file], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(file_format(&run, 0), "base64");
    assert_eq!(outcomes(&run)[0].1, "already_present");
}

#[test]
fn pkcs7_der_and_pem_import() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let bundle = write(
        dir.path(),
        "chain.pem",
        &format!(
            "{}{}{}",
            chain.leaf.pem, chain.intermediate.pem, chain.root.pem
        ),
    );
    let p7b = dir.path().join("chain.p7b");
    let p7c = dir.path().join("chain.p7c");
    run_tool(
        "openssl",
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            bundle.to_str().unwrap(),
            "-outform",
            "DER",
            "-out",
            p7b.to_str().unwrap(),
        ],
    );
    run_tool(
        "openssl",
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            bundle.to_str().unwrap(),
            "-out",
            p7c.to_str().unwrap(),
        ],
    );
    assert!(std::fs::read_to_string(&p7c)
        .unwrap()
        .contains("BEGIN PKCS7"));

    let store = dir.path().join("store");
    let run = import(&store, "tomcat", &[&p7b], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(file_format(&run, 0), "pkcs7");
    assert_eq!(
        outcomes(&run),
        vec![
            ("CN=Test Root CA".to_string(), "imported".to_string()),
            ("CN=Test Issuing CA".to_string(), "imported".to_string()),
            (format!("CN={HOST}"), "rejected".to_string()),
        ]
    );
    let warnings = run.json()["result"]["warnings"].to_string();
    assert!(warnings.contains("PEM or DER only"), "{warnings}");

    let run = import(&store, "tomcat", &[&p7c], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(file_format(&run, 0), "pkcs7");
    assert_eq!(outcomes(&run)[0].1, "already_present");
    assert_eq!(outcomes(&run)[1].1, "already_present");
}

#[test]
fn pkcs12_imports_certificates_only() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "leaf.pem", &chain.leaf.pem);
    let key = write(dir.path(), "leaf.key", &chain.leaf.key.serialize_pem());
    let cas = write(
        dir.path(),
        "cas.pem",
        &format!("{}{}", chain.intermediate.pem, chain.root.pem),
    );
    let pfx = dir.path().join("owa.pfx");
    let output = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-in"])
        .arg(&leaf)
        .arg("-inkey")
        .arg(&key)
        .arg("-certfile")
        .arg(&cas)
        .arg("-out")
        .arg(&pfx)
        .args(["-passout", "env:PFX_PASSWORD"])
        .env("PFX_PASSWORD", "s3cret pass")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");

    let store = dir.path().join("store");
    let missing = import(&store, "tomcat", &[&pfx], &[]);
    assert_eq!(
        missing.code, 2,
        "no password and no terminal: {}",
        missing.stdout
    );
    assert!(
        missing.stdout.contains("--password-env"),
        "{}",
        missing.stdout
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(&store)
        .arg("import")
        .arg(&pfx)
        .args([
            "--list",
            "tomcat",
            "--password-env",
            "PFX_PASSWORD",
            "--json",
        ])
        .env("PFX_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "a wrong password is an input error"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("password is wrong"));

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(&store)
        .arg("import")
        .arg(&pfx)
        .args([
            "--list",
            "tomcat",
            "--password-env",
            "PFX_PASSWORD",
            "--json",
        ])
        .env("PFX_PASSWORD", "s3cret pass")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("s3cret"), "the password is never printed");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["result"]["files"][0]["format"], "pkcs12");
    assert!(json["result"]["files"][0]["notes"]
        .to_string()
        .contains("private key"));
    assert_eq!(json["result"]["imported"], 2, "root and intermediate");
    assert_eq!(stored_fingerprints(&store, "tomcat").len(), 2);
}

#[test]
fn directory_recurses_and_skips_other_files() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("certs");
    std::fs::create_dir_all(tree.join("nested/deeper")).unwrap();
    write(&tree, "README.txt", "These are the lab certificates.\n");
    write(&tree, "leaf.key", &chain.leaf.key.serialize_pem());
    write(&tree.join("nested"), "issuing.pem", &chain.intermediate.pem);
    der_file(&tree.join("nested/deeper"), "root.cer", &chain.root.der);
    let store = dir.path().join("store");

    let run = import(&store, "tomcat", &[&tree], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let files = json["result"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    let skipped: Vec<&serde_json::Value> = files.iter().filter(|f| f["format"].is_null()).collect();
    assert_eq!(skipped.len(), 2, "README.txt and leaf.key are skipped");
    assert!(skipped[0]["notes"][0]
        .as_str()
        .unwrap()
        .starts_with("skipped"));
    assert_eq!(
        outcomes(&run),
        vec![
            ("CN=Test Root CA".to_string(), "imported".to_string()),
            ("CN=Test Issuing CA".to_string(), "imported".to_string()),
        ],
        "the root is decided first although the walk reaches it last"
    );
}

#[test]
fn unordered_file_imports_root_first() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mixed.pem",
        &format!(
            "{}{}{}",
            chain.intermediate.pem, chain.leaf.pem, chain.root.pem
        ),
    );
    let store = dir.path().join("store");

    let run = import(&store, "tomcat", &[&file], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let decided: Vec<String> = outcomes(&run).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        decided,
        vec![
            "CN=Test Root CA".to_string(),
            "CN=Test Issuing CA".to_string(),
            format!("CN={HOST}"),
        ]
    );
}

#[test]
fn unparseable_file_names_offset_writes_nothing() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "root.pem", &chain.root.pem);
    let broken_text = format!(
        "{}-----BEGIN CERTIFICATE-----\nMIIB!!!not base64!!!\n-----END CERTIFICATE-----\n",
        chain.intermediate.pem
    );
    let broken = write(dir.path(), "broken.pem", &broken_text);
    let store = dir.path().join("store");

    let run = import(&store, "tomcat", &[&good, &broken], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("broken.pem"), "{message}");
    let offset = chain.intermediate.pem.len();
    assert!(
        message.contains(&format!("at byte offset {offset}")),
        "{message}"
    );
    assert!(
        stored_fingerprints(&store, "tomcat").is_empty(),
        "nothing is written, not even from the good file"
    );

    let mut truncated = chain.root.der.to_vec();
    truncated.truncate(truncated.len() - 10);
    let truncated = der_file(dir.path(), "truncated.cer", &truncated);
    let run = import(&store, "tomcat", &[&truncated], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("truncated.cer"), "{message}");
    assert!(message.contains("byte offset"), "{message}");
}

#[test]
fn named_non_certificate_file_is_error() {
    let dir = tempfile::tempdir().unwrap();
    let notes = write(dir.path(), "notes.txt", "not a certificate\n");
    let store = dir.path().join("store");

    let run = import(&store, "presence", &[&notes], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["kind"], "invalid_input");
}

#[test]
fn dry_run_writes_nothing() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");

    let run = import(&store, "presence", &[&root], &["--dry-run"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["result"]["imported"], 0);
    assert_eq!(run.json()["result"]["would_import"], 1);
    assert_eq!(outcomes(&run)[0].1, "would_import");
    assert_eq!(run.json()["result"]["written"], false);
    assert!(stored_fingerprints(&store, "presence").is_empty());
}

#[test]
fn all_or_nothing_blocks_on_rejection() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let bundle = write(
        dir.path(),
        "chain.pem",
        &format!("{}{}", chain.leaf.pem, chain.root.pem),
    );
    let store = dir.path().join("store");

    let run = import(&store, "presence", &[&bundle], &["--all-or-nothing"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["result"]["written"], false);
    assert!(stored_fingerprints(&store, "presence").is_empty());

    let run = import(&store, "presence", &[&bundle], &[]);
    assert_eq!(run.code, 0, "without the flag the root goes in");
    assert_eq!(stored_fingerprints(&store, "presence").len(), 1);
}

#[test]
fn missing_list_is_input_error() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("store");

    let run = import(&store, "nosuchlist", &[&root], &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("gwtrust list create nosuchlist"));
}

#[test]
fn lab_pfx_imports_with_password() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let ca = dir.path().join("ca");
    let server = dir.path().join("server");
    let pfx = dir.path().join("owa.pfx");
    let run = gwtrust(&store, &["lab", "ca", "--out", ca.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(["lab", "server", "--ca"])
        .arg(&ca)
        .args(["--host", HOST, "--out"])
        .arg(&server)
        .arg("--pfx")
        .arg(&pfx)
        .args(["--password-env", "LAB_PFX"])
        .env("LAB_PFX", "lab")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(&store)
        .arg("import")
        .arg(&pfx)
        .args(["--list", "presence", "--password-env", "LAB_PFX", "--json"])
        .env("LAB_PFX", "lab")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let ca_der = gwtrust::formats::read_certificates(&ca.join("ca.pem")).unwrap();
    assert_eq!(
        stored_fingerprints(&store, "presence"),
        vec![sha256_hex(&ca_der[0])]
    );
}
