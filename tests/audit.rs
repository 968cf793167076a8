//! `gwtrust audit`: every finding kind on generated certificates, bad inputs, store lists,
//! exit codes, output shapes, and a 10,000-certificate bundle.

mod common;

#[path = "../benches/support/bundle.rs"]
mod bundle;

use std::path::{Path, PathBuf};

use common::{gwtrust, gwtrust_plain, run_tool, write, Run, TestChain};
use gwtrust_store::{Entry, Policy};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;

/// A generated certificate: DER, PEM, and what signs with it.
struct Cert {
    der: Vec<u8>,
    pem: String,
    key: KeyPair,
    params: CertificateParams,
}

impl Cert {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// How to shape a generated certificate.
struct Spec<'a> {
    name: &'a str,
    ca: IsCa,
    key_usages: Vec<KeyUsagePurpose>,
    sans: Vec<String>,
    validity: Option<(i32, i32)>,
    key: Option<KeyPair>,
}

impl<'a> Spec<'a> {
    fn ca(name: &'a str) -> Spec<'a> {
        Spec {
            name,
            ca: IsCa::Ca(BasicConstraints::Unconstrained),
            key_usages: vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
            sans: Vec::new(),
            validity: None,
            key: None,
        }
    }

    fn leaf(name: &'a str) -> Spec<'a> {
        Spec {
            name,
            ca: IsCa::ExplicitNoCa,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            sans: vec![name.to_string()],
            validity: None,
            key: None,
        }
    }

    /// Signs the certificate with `issuer`, or self-signs it when None.
    fn make(self, issuer: Option<&Cert>) -> Cert {
        let key = self.key.unwrap_or_else(|| {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key")
        });
        let mut params = CertificateParams::new(self.sans).expect("SANs");
        params
            .distinguished_name
            .push(DnType::CommonName, self.name);
        params.is_ca = self.ca;
        params.key_usages = self.key_usages;
        params.use_authority_key_identifier_extension = issuer.is_some();
        if let Some((from, to)) = self.validity {
            params.not_before = rcgen::date_time_ymd(from, 1, 1);
            params.not_after = rcgen::date_time_ymd(to, 1, 1);
        }
        let cert = match issuer {
            Some(issuer) => params.signed_by(&key, &issuer.issuer()).expect("sign"),
            None => params.self_signed(&key).expect("self-sign"),
        };
        Cert {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            key,
            params,
        }
    }
}

/// Runs `gwtrust audit ARGS --json` with an empty store directory.
fn audit(dir: &Path, args: &[&str]) -> (Run, Value) {
    let store = dir.join("no-store");
    let mut full = vec!["audit", "--json"];
    full.extend_from_slice(args);
    let run = gwtrust(&store, &full);
    let json = run.json();
    (run, json)
}

/// Audits one PEM text written to a file, at `at` when given.
fn audit_pem(dir: &Path, name: &str, pem: &str, extra: &[&str]) -> Value {
    let path = write(dir, name, pem);
    let mut args = vec![path.to_str().expect("UTF-8 path")];
    args.extend_from_slice(extra);
    let (run, json) = audit(dir, &args);
    assert!(
        run.code == 0 || run.code == 1,
        "audit failed: {}{}",
        run.stdout,
        run.stderr
    );
    json
}

fn findings(json: &Value) -> &Vec<Value> {
    json["result"]["findings"]
        .as_array()
        .expect("findings array")
}

/// Returns the ids of the findings on certificates whose subject contains `subject`.
fn ids_for(json: &Value, subject: &str) -> Vec<String> {
    findings(json)
        .iter()
        .filter(|f| f["subject"].as_str().is_some_and(|s| s.contains(subject)))
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

fn finding<'a>(json: &'a Value, id: &str) -> &'a Value {
    findings(json)
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} finding in {json:#}"))
}

fn openssl(dir: &Path, args: &[&str]) {
    let mut full = args.to_vec();
    let dir_text = dir.to_str().expect("UTF-8 path");
    full.iter_mut().for_each(|arg| {
        if let Some(name) = arg.strip_prefix('@') {
            *arg = Box::leak(format!("{dir_text}/{name}").into_boxed_str());
        }
    });
    run_tool("openssl", &full);
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("read generated file")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn validity_findings_follow_at() {
    let dir = tempdir();
    let mut spec = Spec::ca("Dated Root");
    spec.validity = Some((2020, 2021));
    let root = spec.make(None);

    let expired = audit_pem(
        dir.path(),
        "r.pem",
        &root.pem,
        &["--at", "2022-06-01T00:00:00Z"],
    );
    assert_eq!(ids_for(&expired, "Dated Root"), ["expired"]);
    assert_eq!(finding(&expired, "expired")["severity"], "error");

    let early = audit_pem(
        dir.path(),
        "r.pem",
        &root.pem,
        &["--at", "2019-06-01T00:00:00Z"],
    );
    assert_eq!(ids_for(&early, "Dated Root"), ["not-yet-valid"]);

    let soon = audit_pem(
        dir.path(),
        "r.pem",
        &root.pem,
        &["--at", "2020-12-20T00:00:00Z"],
    );
    assert_eq!(ids_for(&soon, "Dated Root"), ["expires-soon"]);
    assert_eq!(finding(&soon, "expires-soon")["severity"], "warning");

    let narrow = audit_pem(
        dir.path(),
        "r.pem",
        &root.pem,
        &["--at", "2020-12-20T00:00:00Z", "--warn-days", "5"],
    );
    assert!(ids_for(&narrow, "Dated Root").is_empty(), "{narrow:#}");
}

#[test]
fn rsa_key_sizes_outside_2048_to_4096() {
    let dir = tempdir();
    for (bits, name) in [
        ("1024", "Small RSA"),
        ("4104", "Large RSA"),
        ("2048", "Good RSA"),
    ] {
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                &format!("rsa:{bits}"),
                "-nodes",
                "-keyout",
                "@k.pem",
                "-subj",
                &format!("/CN={name}"),
                "-days",
                "365",
                "-out",
                &format!("@{bits}.pem"),
            ],
        );
    }
    let bundle = ["1024", "4104", "2048"]
        .map(|bits| read(dir.path(), &format!("{bits}.pem")))
        .concat();
    let json = audit_pem(dir.path(), "rsa.pem", &bundle, &[]);

    assert_eq!(ids_for(&json, "Small RSA"), ["weak-rsa-key"]);
    assert_eq!(ids_for(&json, "Large RSA"), ["rsa-key-too-large"]);
    assert!(ids_for(&json, "Good RSA").is_empty(), "{json:#}");
    assert!(finding(&json, "weak-rsa-key")["message"]
        .as_str()
        .expect("message")
        .contains("1024 bits"));
}

#[test]
fn ec_p192_and_dsa_keys_are_weak() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "prime192v1",
            "-genkey",
            "-out",
            "@ec.key",
        ],
    );
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-key",
            "@ec.key",
            "-subj",
            "/CN=EC192 Root",
            "-days",
            "365",
            "-out",
            "@ec.pem",
        ],
    );
    openssl(dir.path(), &["dsaparam", "-out", "@dsa.params", "1024"]);
    openssl(dir.path(), &["gendsa", "-out", "@dsa.key", "@dsa.params"]);
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-key",
            "@dsa.key",
            "-subj",
            "/CN=DSA Root",
            "-days",
            "365",
            "-out",
            "@dsa.pem",
        ],
    );
    let bundle = read(dir.path(), "ec.pem") + &read(dir.path(), "dsa.pem");
    let json = audit_pem(dir.path(), "weak.pem", &bundle, &[]);

    assert_eq!(ids_for(&json, "EC192 Root"), ["weak-ec-key"]);
    assert!(
        ids_for(&json, "DSA Root").contains(&"dsa-key".to_string()),
        "{json:#}"
    );
}

#[test]
fn sha1_is_error_below_root_info_on_root() {
    let dir = tempdir();
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "@root.key",
            "-sha1",
            "-subj",
            "/CN=SHA1 Root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=keyCertSign,cRLSign",
            "-days",
            "365",
            "-out",
            "@root.pem",
        ],
    );
    write(
        dir.path(),
        "ext.cnf",
        "[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n",
    );
    openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "@int.key",
            "-subj",
            "/CN=SHA1 Intermediate",
            "-out",
            "@int.csr",
        ],
    );
    openssl(
        dir.path(),
        &[
            "x509",
            "-req",
            "-in",
            "@int.csr",
            "-CA",
            "@root.pem",
            "-CAkey",
            "@root.key",
            "-sha1",
            "-days",
            "365",
            "-extfile",
            "@ext.cnf",
            "-extensions",
            "v3",
            "-out",
            "@int.pem",
        ],
    );
    openssl(
        dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "@md5.key",
            "-md5",
            "-subj",
            "/CN=MD5 Root",
            "-days",
            "365",
            "-out",
            "@md5.pem",
        ],
    );
    let bundle = ["root.pem", "int.pem", "md5.pem"]
        .map(|name| read(dir.path(), name))
        .concat();
    let json = audit_pem(dir.path(), "sha1.pem", &bundle, &[]);

    assert_eq!(ids_for(&json, "SHA1 Intermediate"), ["weak-signature"]);
    assert_eq!(finding(&json, "weak-signature")["severity"], "error");
    assert_eq!(ids_for(&json, "SHA1 Root"), ["weak-root-signature"]);
    assert_eq!(finding(&json, "weak-root-signature")["severity"], "info");
    assert!(
        ids_for(&json, "MD5 Root").contains(&"weak-root-signature".to_string()),
        "{json:#}"
    );
}

/// Creates a store with `entries` in the presence list (root-only) and a ca-chain list.
fn store_with(dir: &Path, presence: &[&Cert], chain: &[&Cert]) -> PathBuf {
    let path = dir.join("store");
    let store = gwtrust::trust_store::open(&path).expect("open store");
    store
        .create_list("chain", Policy::CaChain, "2026-01-01T00:00:00Z")
        .expect("create list");
    for (list, certs) in [("presence", presence), ("chain", chain)] {
        for cert in certs {
            store
                .put(&Entry {
                    list: list.to_string(),
                    fingerprint: gwtrust::cert::fingerprint(&cert.der),
                    der: cert.der.clone(),
                    subject: "test".into(),
                    hosts: Vec::new(),
                    source: "test".into(),
                    added: "2026-01-01T00:00:00Z".into(),
                })
                .expect("put entry");
        }
    }
    path
}

#[test]
fn root_only_list_rejects_leaf_and_intermediate() {
    let dir = tempdir();
    let root = Spec::ca("List Root").make(None);
    let intermediate = Spec::ca("List Intermediate").make(Some(&root));
    let leaf = Spec::leaf("owa.example.com").make(Some(&intermediate));
    let store = store_with(
        dir.path(),
        &[&root, &intermediate, &leaf],
        &[&root, &intermediate, &leaf],
    );

    let run = gwtrust(&store, &["audit", "--json", "--list", "presence"]);
    let json = run.json();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(json["result"]["inputs"][0]["role"], "root-only");
    assert!(ids_for(&json, "List Root").is_empty(), "{json:#}");
    assert_eq!(ids_for(&json, "List Intermediate"), ["not-self-signed"]);
    assert_eq!(ids_for(&json, "owa.example.com"), ["not-ca"]);

    // The ca-chain list allows intermediates but not the server certificate.
    let run = gwtrust(&store, &["audit", "--json", "--list", "chain"]);
    let json = run.json();
    assert!(ids_for(&json, "List Intermediate").is_empty(), "{json:#}");
    assert_eq!(ids_for(&json, "owa.example.com"), ["not-ca"]);
    assert!(finding(&json, "not-ca")["location"]["source"] == "chain");
}

#[test]
fn store_lists_are_audited_by_default() {
    let dir = tempdir();
    let root = Spec::ca("Default Root").make(None);
    let store = store_with(dir.path(), &[&root], &[]);

    let run = gwtrust(&store, &["audit", "--json"]);
    let json = run.json();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let names: Vec<_> = json["result"]["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect();
    assert!(names.contains(&"presence".to_string()), "{names:?}");
    assert!(names.contains(&"chain".to_string()), "{names:?}");
    assert_eq!(json["result"]["certificates"], 1);

    let missing = gwtrust(&store, &["audit", "--list", "nope"]);
    assert_eq!(missing.code, 2, "{}{}", missing.stdout, missing.stderr);
    assert!(missing.stderr.contains("nope"), "{}", missing.stderr);

    let no_store = gwtrust(&dir.path().join("absent"), &["audit"]);
    assert_eq!(no_store.code, 2, "{}{}", no_store.stdout, no_store.stderr);
    assert!(!dir.path().join("absent").exists(), "audit created a store");
}

#[test]
fn altered_self_signature_is_reported() {
    let dir = tempdir();
    let root = Spec::ca("Altered Root").make(None);
    let mut der = root.der.clone();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let path = dir.path().join("altered.der");
    std::fs::write(&path, &der).expect("write DER");

    let (_, json) = audit(dir.path(), &[path.to_str().expect("path")]);
    assert_eq!(ids_for(&json, "Altered Root"), ["bad-self-signature"]);
}

#[test]
fn orphan_intermediate_unless_issuer_audited() {
    let dir = tempdir();
    let root = Spec::ca("Orphan Root").make(None);
    let intermediate = Spec::ca("Orphan Intermediate").make(Some(&root));
    let int_path = write(dir.path(), "int.pem", &intermediate.pem);
    let root_path = write(dir.path(), "root.pem", &root.pem);

    let (_, alone) = audit(dir.path(), &[int_path.to_str().expect("path")]);
    assert_eq!(ids_for(&alone, "Orphan Intermediate"), ["orphan"]);

    let (_, with_root) = audit(
        dir.path(),
        &[
            int_path.to_str().expect("path"),
            root_path.to_str().expect("path"),
        ],
    );
    assert!(
        ids_for(&with_root, "Orphan Intermediate").is_empty(),
        "{with_root:#}"
    );

    // Same name, other key: not its issuer.
    let impostor = Spec::ca("Orphan Root").make(None);
    let impostor_path = write(dir.path(), "impostor.pem", &impostor.pem);
    let (_, wrong) = audit(
        dir.path(),
        &[
            int_path.to_str().expect("path"),
            impostor_path.to_str().expect("path"),
        ],
    );
    assert_eq!(ids_for(&wrong, "Orphan Intermediate"), ["orphan"]);
}

#[test]
fn duplicate_and_renewed_roots() {
    let dir = tempdir();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let key_pem = key.serialize_pem();
    let mut old = Spec::ca("Renewed Root");
    old.validity = Some((2020, 2030));
    old.key = Some(key);
    let old = old.make(None);
    let mut new = Spec::ca("Renewed Root");
    new.validity = Some((2024, 2040));
    new.key = Some(KeyPair::from_pem(&key_pem).expect("same key"));
    let new = new.make(None);
    let twice = Spec::ca("Twice Root").make(None);

    let bundle = [&old.pem, &new.pem, &twice.pem, &twice.pem]
        .map(String::as_str)
        .concat();
    let json = audit_pem(
        dir.path(),
        "dups.pem",
        &bundle,
        &["--at", "2026-01-01T00:00:00Z"],
    );

    assert_eq!(ids_for(&json, "Twice Root"), ["duplicate"]);
    let renewed = finding(&json, "renewed");
    assert_eq!(renewed["fingerprint"], common::sha256_hex(&old.der));
    assert!(renewed["message"]
        .as_str()
        .expect("message")
        .contains(&common::sha256_hex(&new.der)));
    assert_eq!(
        ids_for(&json, "Renewed Root"),
        ["renewed"],
        "only the older one is reported"
    );
}

#[test]
fn version_1_root_acting_as_ca() {
    let dir = tempdir();
    openssl(dir.path(), &["genrsa", "-out", "@v1.key", "2048"]);
    openssl(
        dir.path(),
        &[
            "req",
            "-new",
            "-key",
            "@v1.key",
            "-subj",
            "/CN=V1 Root",
            "-out",
            "@v1.csr",
        ],
    );
    openssl(
        dir.path(),
        &[
            "x509", "-req", "-in", "@v1.csr", "-signkey", "@v1.key", "-days", "365", "-out",
            "@v1.pem",
        ],
    );
    let json = audit_pem(
        dir.path(),
        "v1-bundle.pem",
        &read(dir.path(), "v1.pem"),
        &[],
    );
    assert_eq!(ids_for(&json, "V1 Root"), ["v1-ca"]);
}

#[test]
fn ca_without_key_cert_sign() {
    let dir = tempdir();
    let mut spec = Spec::ca("No Sign Root");
    spec.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
    let root = spec.make(None);
    let json = audit_pem(dir.path(), "ku.pem", &root.pem, &[]);
    assert_eq!(ids_for(&json, "No Sign Root"), ["ca-without-keycertsign"]);
}

#[test]
fn path_length_constraint_violated_below() {
    let dir = tempdir();
    let mut spec = Spec::ca("Constrained Root");
    spec.ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = spec.make(None);
    let first = Spec::ca("First CA").make(Some(&root));
    let second = Spec::ca("Second CA").make(Some(&first));

    let bundle = [&root.pem, &first.pem, &second.pem]
        .map(String::as_str)
        .concat();
    let json = audit_pem(dir.path(), "pathlen.pem", &bundle, &[]);
    assert!(ids_for(&json, "First CA").is_empty(), "{json:#}");
    assert_eq!(ids_for(&json, "Second CA"), ["path-length-violated"]);

    // In separate inputs the constraint is not this audit's business.
    let root_path = write(dir.path(), "croot.pem", &root.pem);
    let rest_path = write(dir.path(), "crest.pem", &(first.pem.clone() + &second.pem));
    let (_, split) = audit(
        dir.path(),
        &[
            root_path.to_str().expect("path"),
            rest_path.to_str().expect("path"),
        ],
    );
    assert!(ids_for(&split, "Second CA").is_empty(), "{split:#}");
}

#[test]
fn wildcard_certificate_in_trust_list() {
    let dir = tempdir();
    let mut spec = Spec::ca("Wildcard CA");
    spec.sans = vec!["*.example.com".into()];
    let cert = spec.make(None);
    let json = audit_pem(dir.path(), "wild.pem", &cert.pem, &[]);
    assert_eq!(ids_for(&json, "Wildcard CA"), ["wildcard"]);
    assert!(finding(&json, "wildcard")["message"]
        .as_str()
        .expect("message")
        .contains("*.example.com"));
}

#[test]
fn bad_entries_are_findings_with_offsets() {
    let dir = tempdir();
    let good = Spec::ca("Good Root").make(None);
    let key_block = good.key.serialize_pem();
    let bad_base64 = "-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n";
    let not_der = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let truncated = "-----BEGIN CERTIFICATE-----\nMIIB\n";

    let mut text = String::new();
    let bad_base64_at = text.len();
    text += bad_base64;
    let key_at = text.len();
    text += &key_block;
    let not_der_at = text.len();
    text += not_der;
    let cut_at = text.len();
    text += truncated;
    text += &good.pem;
    let truncated_at = text.len();
    text += truncated;
    let bundle = write(dir.path(), "mixed.pem", &text);
    let empty = write(dir.path(), "empty.pem", "");
    let missing = dir.path().join("missing.pem");

    let (run, json) = audit(
        dir.path(),
        &[
            bundle.to_str().expect("path"),
            empty.to_str().expect("path"),
            missing.to_str().expect("path"),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        json["result"]["certificates"], 1,
        "the good root is still read"
    );

    let at = |id: &str| -> Vec<u64> {
        findings(&json)
            .iter()
            .filter(|f| f["id"] == id)
            .filter_map(|f| f["location"]["offset"].as_u64())
            .collect()
    };
    let mut unparseable = at("unparseable");
    unparseable.sort();
    assert_eq!(
        unparseable,
        [
            bad_base64_at as u64,
            not_der_at as u64,
            cut_at as u64,
            truncated_at as u64
        ]
    );
    assert_eq!(at("not-a-certificate"), [key_at as u64]);
    assert_eq!(
        finding(&json, "no-certificate")["location"]["file"],
        empty.to_str().expect("path")
    );
    assert_eq!(
        finding(&json, "unreadable")["location"]["file"],
        missing.to_str().expect("path")
    );
    assert!(ids_for(&json, "Good Root").is_empty(), "{json:#}");
}

#[test]
fn der_files_and_directories() {
    let dir = tempdir();
    let first = Spec::ca("DER One").make(None);
    let second = Spec::ca("DER Two").make(None);
    let third = Spec::ca("PEM Three").make(None);
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).expect("mkdir");
    std::fs::write(
        certs.join("two.der"),
        [first.der.clone(), second.der.clone()].concat(),
    )
    .expect("write DER");
    write(&certs, "three.pem", &third.pem);
    // An OpenSSL hash link to a file already in the directory is read once.
    std::os::unix::fs::symlink(certs.join("three.pem"), certs.join("abcd1234.0")).expect("symlink");

    let (run, json) = audit(dir.path(), &[certs.to_str().expect("path")]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["result"]["certificates"], 3, "{json:#}");
    assert_eq!(json["result"]["inputs"][0]["files"], 2);
    assert_eq!(json["result"]["inputs"][0]["role"], "ca-list");
    assert!(findings(&json).is_empty(), "{json:#}");
}

#[test]
fn exit_code_follows_fail_on() {
    let dir = tempdir();
    let mut spec = Spec::ca("Soon Root");
    spec.validity = Some((2020, 2030));
    let soon = spec.make(None);
    let path = write(dir.path(), "soon.pem", &soon.pem);
    let path = path.to_str().expect("path");
    let at = "2029-12-20T00:00:00Z";

    let run = gwtrust_plain(&["audit", path, "--at", at]);
    assert_eq!(
        run.code, 0,
        "a warning passes the default --fail-on error: {}",
        run.stdout
    );
    let run = gwtrust_plain(&["audit", path, "--at", at, "--fail-on", "warning"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let run = gwtrust_plain(&["audit", path, "--at", "2031-01-01T00:00:00Z"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let run = gwtrust_plain(&[
        "audit",
        path,
        "--at",
        "2031-01-01T00:00:00Z",
        "--fail-on",
        "never",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    let run = gwtrust_plain(&["audit", path, "--fail-on", "sometimes"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = gwtrust_plain(&["audit", path, "--at", "yesterday"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--at"), "{}", run.stderr);
}

#[test]
fn json_document_shape() {
    let dir = tempdir();
    let mut spec = Spec::ca("Shape Root");
    spec.validity = Some((2020, 2021));
    let root = spec.make(None);
    let json = audit_pem(
        dir.path(),
        "shape.pem",
        &root.pem,
        &["--at", "2022-01-01T00:00:00Z"],
    );

    assert_eq!(json["command"], "audit");
    assert_eq!(json["status"], "check_failed");
    assert_eq!(json["exit_code"], 1);
    let result = &json["result"];
    assert_eq!(result["schema_version"], 1);
    assert_eq!(result["at"], "2022-01-01T00:00:00Z");
    assert_eq!(result["warn_days"], 30);
    assert_eq!(result["errors"], 1);
    assert_eq!(result["inputs"][0]["kind"], "path");
    assert_eq!(result["inputs"][0]["certificates"], 1);

    let expired = finding(&json, "expired");
    assert_eq!(expired["fingerprint"], common::sha256_hex(&root.der));
    assert_eq!(expired["subject"], "CN=Shape Root");
    assert_eq!(expired["location"]["offset"], 0);
    assert!(expired["fix"].as_str().is_some_and(|fix| !fix.is_empty()));
    assert!(expired["message"]
        .as_str()
        .is_some_and(|m| m.contains("2021-01-01")));
}

#[test]
fn text_output_grouped_by_severity() {
    let dir = tempdir();
    let mut spec = Spec::ca("Text Root");
    spec.validity = Some((2020, 2030));
    let root = spec.make(None);
    let bundle = root.pem.clone() + &root.pem;
    let path = write(dir.path(), "text.pem", &bundle);

    let run = gwtrust_plain(&[
        "audit",
        path.to_str().expect("path"),
        "--at",
        "2031-01-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let errors = run.stdout.find("Errors (2):").expect("errors heading");
    let warnings = run.stdout.find("Warnings (1):").expect("warnings heading");
    assert!(errors < warnings, "{}", run.stdout);
    assert!(run.stdout.contains("fix: "), "{}", run.stdout);
    let summary = run.stdout.lines().last().expect("summary line");
    assert!(
        summary.starts_with("Audited 2 certificates from 1 input in ")
            && summary.ends_with(" s: 2 errors, 1 warning, 0 info."),
        "{summary}"
    );
}

#[test]
fn ten_thousand_certificate_bundle() {
    let dir = tempdir();
    let pem = bundle::generate(10_000, 8, bundle::KeyType::EcP256);
    let path = write(dir.path(), "10k.pem", &pem);

    let (run, json) = audit(
        dir.path(),
        &[path.to_str().expect("path"), "--at", "2030-01-01T00:00:00Z"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["result"]["certificates"], 10_000);
    assert!(findings(&json).is_empty(), "{:#}", findings(&json)[0]);
}

#[test]
fn openssl_trusted_certificate_is_read() {
    let dir = tempdir();
    let root = Spec::ca("Trusted Form Root").make(None);
    write(dir.path(), "plain.pem", &root.pem);
    openssl(
        dir.path(),
        &[
            "x509",
            "-in",
            "@plain.pem",
            "-trustout",
            "-addtrust",
            "serverAuth",
            "-out",
            "@trusted.pem",
        ],
    );
    let trusted = read(dir.path(), "trusted.pem");
    assert!(trusted.contains("BEGIN TRUSTED CERTIFICATE"), "{trusted}");

    let json = audit_pem(dir.path(), "bundle.pem", &trusted, &[]);
    assert_eq!(json["result"]["certificates"], 1, "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");
}

#[test]
fn mutated_bundles_never_crash() {
    let dir = tempdir();
    let root = Spec::ca("Mutation Root").make(None);
    let intermediate = Spec::ca("Mutation Intermediate").make(Some(&root));
    let pem = root.pem.clone() + &intermediate.pem;
    let der = [root.der.clone(), intermediate.der.clone()].concat();
    let mutated = dir.path().join("mutated");
    std::fs::create_dir(&mutated).expect("mkdir");

    // A fixed linear congruential generator, so a failure is reproducible.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % bound.max(1)
    };
    for case in 0..300 {
        let mut bytes = if case % 2 == 0 {
            pem.clone().into_bytes()
        } else {
            der.clone()
        };
        match case % 3 {
            0 => {
                let at = next(bytes.len());
                bytes[at] ^= 1 << next(8);
            }
            1 => {
                let len = next(bytes.len());
                bytes.truncate(len);
            }
            _ => {
                let at = next(bytes.len());
                let junk = [0x30, 0x82, 0xff, 0xff, b'-', b'\n'];
                bytes.splice(at..at, junk.iter().copied().take(1 + next(junk.len())));
            }
        }
        std::fs::write(mutated.join(format!("case-{case:03}")), bytes).expect("write case");
    }

    let (run, json) = audit(dir.path(), &[mutated.to_str().expect("path")]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert_eq!(json["result"]["inputs"][0]["files"], 300);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn pkcs7_and_pkcs12_exports_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let chain = TestChain::new("owa.audit.example.test");
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let run = gwtrust(
        &store,
        &["import", root.to_str().unwrap(), "--list", "presence"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let p7b = out.join("roots.p7b");
    let run = gwtrust(
        &store,
        &[
            "export",
            "--list",
            "presence",
            "--format",
            "p7b",
            "--out",
            p7b.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let p12 = out.join("roots.p12");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(&store)
        .args([
            "export",
            "--list",
            "presence",
            "--format",
            "p12",
            "--out",
            p12.to_str().unwrap(),
            "--password-env",
            "AUDIT_P12_PASSWORD",
        ])
        .env("AUDIT_P12_PASSWORD", "secret-1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let run = gwtrust(
        &store,
        &[
            "audit",
            out.to_str().unwrap(),
            "--fail-on",
            "never",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let findings = json["result"]["findings"].as_array().unwrap();
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"unparseable"), "{ids:?}");
    assert!(ids.contains(&"needs-password"), "{ids:?}");
    assert_eq!(
        json["result"]["certificates"], 1,
        "the root inside the .p7b was read: {:#}",
        json["result"]
    );
}
