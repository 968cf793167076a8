//! Hostile input to `import`, `export` and `list delete`: store paths, broken self-signatures,
//! dry runs, odd files in directories, non-BMP names, PKCS#12 passwords and built-in lists.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const HOST: &str = "owa.example.com";

/// Runs gwtrust with `args` and `--json`.
fn run_json(store: &Path, args: &[&str]) -> Run {
    let mut args = args.to_vec();
    args.push("--json");
    gwtrust(store, &args)
}

fn message(run: &Run) -> String {
    run.json()["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {}{}", run.stdout, run.stderr))
        .to_string()
}

/// Creates a store whose presence list contains the chain's root.
fn store_with_root(dir: &Path, chain: &TestChain) -> PathBuf {
    let store = dir.join("store");
    let root = write(dir, "root.pem", &chain.root.pem);
    let run = run_json(
        &store,
        &["import", root.to_str().unwrap(), "--list", "presence"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    store
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn export_rejects_store_database() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_root(dir.path(), &chain);
    let db = store.join("db");

    let run = run_json(
        &store,
        &[
            "export",
            "--list",
            "presence",
            "--format",
            "pem",
            "--out",
            path_str(&db),
            "--force",
        ],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        message(&run).contains("inside the store directory"),
        "{}",
        run.stdout
    );
    let overwritten = std::fs::read(&db).unwrap().starts_with(b"-----BEGIN");
    assert!(!overwritten, "the database was replaced by the PEM bundle");

    let inside = store.join("sub/new.pem");
    let run = run_json(
        &store,
        &[
            "export",
            "--list",
            "presence",
            "--format",
            "pem",
            "--out",
            path_str(&inside),
        ],
    );
    assert_eq!(run.code, 2, "a new path under the store: {}", run.stdout);
    assert!(!inside.exists());
    assert_eq!(stored_fingerprints(&store, "presence").len(), 1);
}

#[test]
fn export_existing_file_needs_force() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_root(dir.path(), &chain);
    let out = write(dir.path(), "notes.txt", "keep me");

    for format in ["pem", "p7b"] {
        let run = run_json(
            &store,
            &[
                "export",
                "--list",
                "presence",
                "--format",
                format,
                "--out",
                path_str(&out),
            ],
        );
        assert_eq!(run.code, 2, "{format}: {}{}", run.stdout, run.stderr);
        assert!(
            message(&run).contains("--force"),
            "{format}: {}",
            run.stdout
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    }

    let run = run_json(
        &store,
        &[
            "export",
            "--list",
            "presence",
            "--format",
            "pem",
            "--out",
            path_str(&out),
            "--force",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
}

#[test]
fn export_der_onto_file_names_directory() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_root(dir.path(), &chain);
    let out = write(dir.path(), "file.txt", "x");

    for format in ["der", "hashdir"] {
        let run = run_json(
            &store,
            &[
                "export",
                "--list",
                "presence",
                "--format",
                format,
                "--out",
                path_str(&out),
            ],
        );
        assert_eq!(run.code, 2, "{format}: {}{}", run.stdout, run.stderr);
        let text = message(&run);
        assert!(text.contains("new or empty directory"), "{format}: {text}");
        assert!(!text.contains("os error"), "{format}: {text}");
    }
}

/// Returns the chain's root with the last byte of its signature flipped.
fn broken_root(chain: &TestChain) -> Vec<u8> {
    let mut der = chain.root.der.to_vec();
    *der.last_mut().unwrap() ^= 0x01;
    der
}

#[test]
fn broken_self_signature_rejected_everywhere() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let bad = dir.path().join("badsig.der");
    std::fs::write(&bad, broken_root(&chain)).unwrap();
    let created = run_json(&store, &["list", "create", "cas", "--policy", "ca-chain"]);
    assert_eq!(created.code, 0, "{}", created.stdout);

    for list in ["presence", "cas", "tomcat"] {
        for extra in [&["--dry-run"][..], &[][..]] {
            let mut args = vec!["import", path_str(&bad), "--list", list];
            args.extend(extra);
            let run = run_json(&store, &args);
            assert_eq!(
                run.code, 1,
                "{list} {extra:?}: {}{}",
                run.stdout, run.stderr
            );
            let decided = &run.json()["result"]["certificates"][0];
            assert_eq!(decided["outcome"], "rejected", "{list}: {decided}");
            let reason = decided["reason"].as_str().unwrap();
            assert!(
                reason.contains("its self-signature does not verify"),
                "{list}: {reason}"
            );
            assert!(!reason.contains("intermediate"), "{list}: {reason}");
        }
        assert!(stored_fingerprints(&store, list).is_empty(), "{list}");
    }
}

#[test]
fn dry_run_missing_store_not_created() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let store = dir.path().join("new-store");

    let run = run_json(
        &store,
        &["import", path_str(&root), "--list", "presence", "--dry-run"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["result"]["would_import"], 1);
    assert!(!store.exists(), "the dry run created the store");

    let text = gwtrust(
        &store,
        &["import", path_str(&root), "--list", "tomcat", "--dry-run"],
    );
    assert_eq!(text.code, 0, "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains("would import: CN=Test Root CA"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("was not created"), "{}", text.stdout);
    assert!(!store.exists());
}

#[test]
fn all_or_nothing_reports_would_import() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let bundle = write(
        dir.path(),
        "chain.pem",
        &format!("{}{}", chain.leaf.pem, chain.root.pem),
    );
    let store = dir.path().join("store");

    let run = run_json(
        &store,
        &[
            "import",
            path_str(&bundle),
            "--list",
            "presence",
            "--all-or-nothing",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let result = &run.json()["result"];
    assert_eq!(result["imported"], 0);
    assert_eq!(result["would_import"], 1);
    assert_eq!(result["written"], false);
    assert_eq!(result["certificates"][0]["outcome"], "would_import");

    let text = gwtrust(
        &store,
        &[
            "import",
            path_str(&bundle),
            "--list",
            "presence",
            "--all-or-nothing",
        ],
    );
    assert!(!text.stdout.contains("imported:"), "{}", text.stdout);
    assert!(
        text.stdout.contains("would import: CN=Test Root CA"),
        "{}",
        text.stdout
    );
}

#[test]
fn directory_skips_fifo_and_dangling_link() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir(&input).unwrap();
    write(&input, "root.pem", &chain.root.pem);
    let fifo = input.join("pipe");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink(input.join("missing.pem"), input.join("dangling.pem")).unwrap();
    let store = dir.path().join("store");

    let run = run_json(&store, &["import", path_str(&input), "--list", "presence"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["result"]["imported"], 1);
    let notes = run.json()["result"]["files"].to_string();
    assert!(notes.contains("not a regular file"), "{notes}");
    assert!(notes.contains("does not exist"), "{notes}");

    let named = run_json(&store, &["import", path_str(&fifo), "--list", "presence"]);
    assert_eq!(named.code, 2, "a FIFO named directly: {}", named.stdout);
    assert!(
        message(&named).contains("not a regular file"),
        "{}",
        named.stdout
    );
}

#[test]
fn parse_error_says_import_stopped() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir(&input).unwrap();
    write(&input, "a-root.pem", &chain.root.pem);
    let bad = write(
        &input,
        "b-bad.pem",
        "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    );
    let store = dir.path().join("store");

    let run = run_json(&store, &["import", path_str(&input), "--list", "presence"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let text = message(&run);
    assert!(text.contains(path_str(&bad)), "{text}");
    assert!(text.contains("byte offset"), "{text}");
    assert!(
        text.contains("the import stopped, so nothing was written"),
        "{text}"
    );
    assert!(!text.contains("nothing from this file"), "{text}");
    assert!(stored_fingerprints(&store, "presence").is_empty());
}

#[test]
fn p12_export_non_bmp_name() {
    let root = ca_cert("Root \u{1F512} CA", None);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "root.pem", &root.pem);
    let store = dir.path().join("store");
    let run = run_json(&store, &["import", path_str(&file), "--list", "presence"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let out = dir.path().join("trust.p12");
    let run = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(["--store", path_str(&store), "export", "--list", "presence"])
        .args([
            "--format",
            "p12",
            "--out",
            path_str(&out),
            "--password-env",
            "P12_PASS",
        ])
        .env("P12_PASS", "changeit")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let listed = run_tool(
        "keytool",
        &[
            "-list",
            "-storetype",
            "PKCS12",
            "-keystore",
            path_str(&out),
            "-storepass",
            "changeit",
        ],
    );
    assert!(
        listed.contains("Your keystore contains 1 entry"),
        "{listed}"
    );
}

#[test]
fn p12_empty_env_password_warns() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_root(dir.path(), &chain);
    let out = dir.path().join("trust.p12");

    let run = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(["--store", path_str(&store), "export", "--list", "presence"])
        .args([
            "--format",
            "p12",
            "--out",
            path_str(&out),
            "--password-env",
            "P12_PASS",
        ])
        .arg("--json")
        .env("P12_PASS", "")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(stdout.contains("keytool needs a password"), "{stdout}");
}

#[test]
fn password_error_names_file_not_password() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let ca = dir.path().join("ca");
    let run = gwtrust(&store, &["lab", "ca", "--out", path_str(&ca)]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let pfx = dir.path().join("owa.pfx");
    let run = run_json(
        &store,
        &[
            "lab",
            "server",
            "--host",
            HOST,
            "--ca",
            path_str(&ca),
            "--out",
            path_str(&dir.path().join("srv")),
            "--pfx",
            path_str(&pfx),
        ],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let text = message(&run);
    assert!(!text.contains("invalid password"), "{text}");
    assert!(text.contains("password for this file is needed"), "{text}");
    assert!(text.contains("--password-env"), "{text}");
}

/// Runs `gwtrust export --format p12` on a terminal, typing `typed`.
fn export_p12_on_terminal(store: &Path, out: &Path, typed: &str) -> (i32, String) {
    let args = format!(
        "export --list presence --format p12 --out {}",
        out.display()
    );
    gwtrust_on_terminal(store, &args, typed)
}

#[test]
fn p12_prompt_confirms_password() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_root(dir.path(), &chain);

    let mismatch = dir.path().join("mismatch.p12");
    let (code, text) = export_p12_on_terminal(&store, &mismatch, "first\nsecond\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("do not match"), "{text}");
    assert!(!mismatch.exists());

    let empty = dir.path().join("empty.p12");
    let (code, text) = export_p12_on_terminal(&store, &empty, "\n");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("the password is empty"), "{text}");
    assert!(!empty.exists());

    let good = dir.path().join("good.p12");
    let (code, text) = export_p12_on_terminal(&store, &good, "changeit\nchangeit\n");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Repeat the password"), "{text}");
    let listed = run_tool(
        "keytool",
        &[
            "-list",
            "-storetype",
            "PKCS12",
            "-keystore",
            path_str(&good),
            "-storepass",
            "changeit",
        ],
    );
    assert!(
        listed.contains("Your keystore contains 1 entry"),
        "{listed}"
    );
}

#[test]
fn builtin_lists_cannot_be_deleted() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_root(dir.path(), &chain);

    for list in ["presence", "tomcat"] {
        let run = run_json(&store, &["list", "delete", list, "--force"]);
        assert_eq!(run.code, 2, "{list}: {}{}", run.stdout, run.stderr);
        let text = message(&run);
        assert!(text.contains("built-in list"), "{text}");
        assert!(text.contains("gwtrust remove"), "{text}");
    }
    assert_eq!(
        stored_fingerprints(&store, "presence").len(),
        1,
        "the pin is kept"
    );
}

#[test]
fn list_used_by_service_needs_force() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let leaf = write(
        dir.path(),
        "leaf-chain.pem",
        &format!("{}{}", chain.leaf.pem, chain.intermediate.pem),
    );
    let key = write(dir.path(), "leaf.key", &chain.leaf.key.serialize_pem());

    let steps: [&[&str]; 3] = [
        &["list", "create", "cas", "--policy", "ca-chain"],
        &["import", path_str(&root), "--list", "cas"],
        &[
            "service",
            "install",
            "webapp",
            "--cert",
            path_str(&leaf),
            "--key",
            path_str(&key),
            "--list",
            "cas",
        ],
    ];
    for step in steps {
        let run = run_json(&store, step);
        assert_eq!(run.code, 0, "{step:?}: {}{}", run.stdout, run.stderr);
    }

    let run = run_json(&store, &["list", "delete", "cas"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(message(&run).contains("webapp"), "{}", run.stdout);
    assert_eq!(stored_fingerprints(&store, "cas").len(), 1);

    let run = run_json(&store, &["list", "delete", "cas", "--force"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
