//! Interop: exports and lab PKCS#12 files read by `openssl` and Java's `keytool`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const HOST: &str = "owa.example.com";

/// A store whose tomcat list contains the chain's root and intermediate, and the leaf as a file.
struct Exported {
    dir: tempfile::TempDir,
    store: PathBuf,
    leaf: PathBuf,
    chain: TestChain,
}

fn setup() -> Exported {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let cas = write(
        dir.path(),
        "cas.pem",
        &format!("{}{}", chain.intermediate.pem, chain.root.pem),
    );
    let leaf = write(dir.path(), "leaf.pem", &chain.leaf.pem);
    let store = dir.path().join("store");
    let run = gwtrust(
        &store,
        &["import", cas.to_str().unwrap(), "--list", "tomcat"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    Exported {
        dir,
        store,
        leaf,
        chain,
    }
}

fn export(store: &Path, format: &str, out: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(store)
        .args(["export", "--list", "tomcat", "--format", format, "--out"])
        .arg(out)
        .args(["--password-env", "EXPORT_PASSWORD", "--json"])
        .env("EXPORT_PASSWORD", "changeit")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn openssl_subject_hash(pem_path: &Path) -> String {
    run_tool(
        "openssl",
        &[
            "x509",
            "-in",
            pem_path.to_str().unwrap(),
            "-noout",
            "-subject_hash",
        ],
    )
    .trim()
    .to_string()
}

#[test]
fn pem_export_verifies_with_cafile() {
    let setup = setup();
    let out = setup.dir.path().join("trust.pem");
    let run = export(&setup.store, "pem", &out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let verified = run_tool(
        "openssl",
        &[
            "verify",
            "-CAfile",
            out.to_str().unwrap(),
            setup.leaf.to_str().unwrap(),
        ],
    );
    assert!(verified.trim().ends_with(": OK"), "{verified}");
}

#[test]
fn hashdir_export_verifies_with_capath() {
    let setup = setup();
    let out = setup.dir.path().join("capath");
    let run = export(&setup.store, "hashdir", &out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let root = write(setup.dir.path(), "root.pem", &setup.chain.root.pem);
    let intermediate = write(setup.dir.path(), "ica.pem", &setup.chain.intermediate.pem);
    let mut expected = vec![
        format!("{}.0", openssl_subject_hash(&root)),
        format!("{}.0", openssl_subject_hash(&intermediate)),
    ];
    expected.sort();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, expected);

    let verified = run_tool(
        "openssl",
        &[
            "verify",
            "-CApath",
            out.to_str().unwrap(),
            setup.leaf.to_str().unwrap(),
        ],
    );
    assert!(verified.trim().ends_with(": OK"), "{verified}");

    let again = export(&setup.store, "hashdir", &out);
    assert_eq!(
        again.code, 2,
        "a non-empty --out is refused: {}",
        again.stdout
    );
}

#[test]
fn subject_hash_matches_openssl_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let subjects = [
        "/C=US/O=  Example   Corp /CN=Mixed Case  Root",
        "/CN=UPPER ROOT/OU=Unit\tWith Tab/DC=example/DC=com",
        "/CN=Ünïcödé Root CA/O=Beispiel GmbH",
    ];
    for (index, subject) in subjects.iter().enumerate() {
        let key = dir.path().join(format!("{index}.key"));
        let cert = dir.path().join(format!("{index}.pem"));
        run_tool(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-utf8",
                "-keyout",
                key.to_str().unwrap(),
                "-out",
                cert.to_str().unwrap(),
                "-subj",
                subject,
                "-days",
                "30",
            ],
        );
        let der = gwtrust::formats::read_certificates(&cert).unwrap();
        let ours = gwtrust::export::openssl_subject_hash(&der[0]).unwrap();
        assert_eq!(
            format!("{ours:08x}"),
            openssl_subject_hash(&cert),
            "subject {subject}"
        );
    }
}

#[test]
fn hashdir_numbers_hash_collisions() {
    // Two roots with the same subject name have the same hash: .0 and .1.
    let first = ca_cert("Shared Name Root", None);
    let second = ca_cert("Shared Name Root", None);
    let leaf = leaf_cert(HOST, &[HOST], &second);
    let dir = tempfile::tempdir().unwrap();
    let roots = write(
        dir.path(),
        "roots.pem",
        &format!("{}{}", first.pem, second.pem),
    );
    let leaf_file = write(dir.path(), "leaf.pem", &leaf.pem);
    let store = dir.path().join("store");
    let run = gwtrust(
        &store,
        &["import", roots.to_str().unwrap(), "--list", "tomcat"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let out = dir.path().join("capath");
    let run = export(&store, "hashdir", &out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let hash = openssl_subject_hash(&write(dir.path(), "first.pem", &first.pem));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec![format!("{hash}.0"), format!("{hash}.1")]);

    let verified = run_tool(
        "openssl",
        &[
            "verify",
            "-CApath",
            out.to_str().unwrap(),
            leaf_file.to_str().unwrap(),
        ],
    );
    assert!(verified.trim().ends_with(": OK"), "{verified}");
}

#[test]
fn p7b_export_reads_in_openssl() {
    let setup = setup();
    let out = setup.dir.path().join("trust.p7b");
    let run = export(&setup.store, "p7b", &out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let printed = run_tool(
        "openssl",
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            out.to_str().unwrap(),
            "-print_certs",
        ],
    );
    assert!(printed.contains("subject=CN = Test Root CA"), "{printed}");
    assert!(
        printed.contains("subject=CN = Test Issuing CA"),
        "{printed}"
    );

    // The bundle imports back, so the two halves agree.
    let store = setup.dir.path().join("store2");
    let run = gwtrust(
        &store,
        &[
            "import",
            out.to_str().unwrap(),
            "--list",
            "tomcat",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["result"]["imported"], 2);
}

#[test]
fn p12_export_lists_in_keytool() {
    let setup = setup();
    let out = setup.dir.path().join("truststore.p12");
    let run = export(&setup.store, "p12", &out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let listed = run_tool(
        "keytool",
        &[
            "-list",
            "-storetype",
            "PKCS12",
            "-keystore",
            out.to_str().unwrap(),
            "-storepass",
            "changeit",
        ],
    );
    assert!(
        listed.contains("Your keystore contains 2 entries"),
        "{listed}"
    );
    assert_eq!(listed.matches("trustedCertEntry").count(), 2, "{listed}");
}

#[test]
fn der_export_writes_one_file_each() {
    let setup = setup();
    let out = setup.dir.path().join("der");
    let run = export(&setup.store, "der", &out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2);
    for file in files {
        let subject = run_tool(
            "openssl",
            &[
                "x509",
                "-inform",
                "DER",
                "-in",
                file.to_str().unwrap(),
                "-noout",
                "-subject",
            ],
        );
        assert!(subject.starts_with("subject="), "{subject}");
    }
}

#[test]
fn lab_pfx_reads_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let root = dir.path().join("root");
    let issuing = dir.path().join("issuing");
    let run = gwtrust(&store, &["lab", "ca", "--out", root.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = gwtrust(
        &store,
        &[
            "lab",
            "ca",
            "--intermediate",
            "--ca",
            root.to_str().unwrap(),
            "--out",
            issuing.to_str().unwrap(),
            "--pathlen",
            "0",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run_tool(
        "openssl",
        &[
            "x509",
            "-in",
            issuing.join("ca.pem").to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");

    for (name, legacy) in [("modern.pfx", false), ("legacy.pfx", true)] {
        let pfx = dir.path().join(name);
        let mut command = Command::new(env!("CARGO_BIN_EXE_gwtrust"));
        command
            .args(["lab", "server", "--ca"])
            .arg(&issuing)
            .args(["--host", HOST, "--out"])
            .arg(dir.path().join(format!("{name}.d")))
            .arg("--pfx")
            .arg(&pfx)
            .args(["--password-env", "PFX_PASSWORD"])
            .env("PFX_PASSWORD", "lab pass");
        if legacy {
            command.arg("--pfx-legacy");
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let mode = std::fs::metadata(&pfx).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let mut info = Command::new("openssl");
        info.args([
            "pkcs12",
            "-info",
            "-noout",
            "-passin",
            "env:PFX_PASSWORD",
            "-in",
        ])
        .arg(&pfx)
        .env("PFX_PASSWORD", "lab pass");
        if legacy {
            info.arg("-legacy");
        }
        let output = info.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        let expected = if legacy {
            "pbeWithSHA1And3-KeyTripleDES-CBC"
        } else {
            "AES-256-CBC"
        };
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(stderr.contains("Shrouded Keybag"), "{name}: {stderr}");

        let mut certs = Command::new("openssl");
        certs
            .args(["pkcs12", "-nokeys", "-passin", "env:PFX_PASSWORD", "-in"])
            .arg(&pfx)
            .env("PFX_PASSWORD", "lab pass");
        if legacy {
            certs.arg("-legacy");
        }
        let output = certs.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            stdout.matches("BEGIN CERTIFICATE").count(),
            3,
            "leaf, issuing CA, root"
        );
    }
}
