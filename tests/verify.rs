//! `verify_chain` and `gwtrust verify` on chains generated with rcgen: one test per failure kind,
//! each checking that the failure points at the right certificate.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use gwtrust::anchors::Anchor;
use gwtrust::chain::RootSource;
use gwtrust::names::{MatchRule, Profile, ReferenceName};
use gwtrust::verify::{
    verify_chain, verify_presented, FailureKind, StepRole, VerifyOptions, VerifyReport,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;

fn key() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key generation")
}

/// Signs `params` with `issuer`, or self-signs them.
fn sign(params: CertificateParams, issuer: Option<&Generated>) -> Generated {
    let key = key();
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, &issuer.issuer()),
        None => params.self_signed(&key),
    }
    .expect("sign certificate");
    Generated {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

fn ca_params(common_name: &str, constraints: BasicConstraints) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    params
}

fn leaf_params(host: &str) -> CertificateParams {
    let mut params = CertificateParams::new(vec![host.to_string()]).expect("SAN");
    params.distinguished_name.push(DnType::CommonName, host);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params
}

fn anchor(cert: &Generated) -> Anchor {
    let source = RootSource::CaFile {
        path: "test".into(),
    };
    Anchor::from_der(cert.der.clone(), source).expect("anchor")
}

fn run(leaf: &Generated, intermediates: &[&Generated], anchors: &[&Generated]) -> VerifyReport {
    run_with(leaf, intermediates, anchors, VerifyOptions::now())
}

fn run_with(
    leaf: &Generated,
    intermediates: &[&Generated],
    anchors: &[&Generated],
    options: VerifyOptions,
) -> VerifyReport {
    let intermediates: Vec<CertificateDer<'static>> =
        intermediates.iter().map(|c| c.der.clone()).collect();
    let anchors: Vec<Anchor> = anchors.iter().map(|c| anchor(c)).collect();
    verify_chain(&leaf.der, &intermediates, &anchors, &options).expect("verify_chain runs")
}

fn kinds(report: &VerifyReport) -> Vec<FailureKind> {
    report.failures.iter().map(|f| f.kind).collect()
}

/// The fingerprint of the certificate the only failure points at.
fn blamed(report: &VerifyReport) -> String {
    assert_eq!(report.failures.len(), 1, "{:#?}", report.failures);
    report.failures[0]
        .certificate
        .as_ref()
        .and_then(|c| c.fingerprint_sha256.clone())
        .expect("the failure names a certificate")
}

fn at(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 time")
}

#[test]
fn valid_chain_reports_each_step() {
    let chain = TestChain::new("owa.verify.example.test");
    let report = run(&chain.leaf, &[&chain.intermediate], &[&chain.root]);

    assert!(report.valid, "{:#?}", report.failures);
    assert!(report.failures.is_empty());
    let roles: Vec<StepRole> = report.chain.iter().map(|s| s.role).collect();
    assert_eq!(
        roles,
        [
            StepRole::Leaf,
            StepRole::Intermediate,
            StepRole::TrustAnchor
        ]
    );
    let fingerprints: Vec<String> = report
        .chain
        .iter()
        .map(|s| s.fingerprint_sha256.clone().expect("fingerprint"))
        .collect();
    assert_eq!(
        fingerprints,
        [
            sha256_hex(&chain.leaf.der),
            sha256_hex(&chain.intermediate.der),
            sha256_hex(&chain.root.der)
        ]
    );
    assert_eq!(
        report.chain[2].source,
        Some(RootSource::CaFile {
            path: "test".into()
        })
    );
}

#[test]
fn intermediates_in_any_order() {
    let root = sign(
        ca_params("Order Root", BasicConstraints::Unconstrained),
        None,
    );
    let upper = sign(
        ca_params("Order Upper CA", BasicConstraints::Unconstrained),
        Some(&root),
    );
    let lower = sign(
        ca_params("Order Lower CA", BasicConstraints::Unconstrained),
        Some(&upper),
    );
    let unrelated = sign(
        ca_params("Unrelated CA", BasicConstraints::Unconstrained),
        None,
    );
    let leaf = sign(leaf_params("owa.order.example.test"), Some(&lower));

    let report = run(&leaf, &[&unrelated, &upper, &lower], &[&root]);

    assert!(report.valid, "{:#?}", report.failures);
    let subjects: Vec<&str> = report.chain.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "CN=owa.order.example.test",
            "CN=Order Lower CA",
            "CN=Order Upper CA",
            "CN=Order Root"
        ]
    );
}

#[test]
fn missing_intermediate_is_unknown_issuer() {
    let chain = TestChain::new("owa.verify.example.test");
    let report = run(&chain.leaf, &[], &[&chain.root]);

    assert!(!report.valid);
    assert!(report.chain.is_empty());
    assert_eq!(kinds(&report), [FailureKind::UnknownIssuer]);
    assert_eq!(blamed(&report), sha256_hex(&chain.leaf.der));
    assert!(
        report.failures[0].message.contains("CN=Test Issuing CA"),
        "the message names the missing issuer: {}",
        report.failures[0].message
    );
}

#[test]
fn no_anchor_is_unknown_issuer() {
    let chain = TestChain::new("owa.verify.example.test");
    let report = run(&chain.leaf, &[&chain.intermediate], &[]);

    assert_eq!(kinds(&report), [FailureKind::UnknownIssuer]);
    assert_eq!(blamed(&report), sha256_hex(&chain.intermediate.der));
    assert!(!report.warnings.is_empty(), "a warning says no anchors");
}

#[test]
fn expired_leaf_is_named() {
    let chain = TestChain::new("owa.verify.example.test");
    let mut params = leaf_params("owa.verify.example.test");
    params.not_before = rcgen::date_time_ymd(2019, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let leaf = sign(params, Some(&chain.intermediate));

    let report = run(&leaf, &[&chain.intermediate], &[&chain.root]);

    assert_eq!(kinds(&report), [FailureKind::Expired]);
    assert_eq!(blamed(&report), sha256_hex(&leaf.der));
    assert!(report.failures[0].message.contains("2020-01-01"));
}

#[test]
fn expired_intermediate_is_named() {
    let root = sign(
        ca_params("Expiry Root", BasicConstraints::Unconstrained),
        None,
    );
    let mut params = ca_params("Expired Issuing CA", BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2015, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let intermediate = sign(params, Some(&root));
    let leaf = sign(leaf_params("owa.verify.example.test"), Some(&intermediate));

    let report = run(&leaf, &[&intermediate], &[&root]);

    assert_eq!(kinds(&report), [FailureKind::Expired]);
    assert_eq!(blamed(&report), sha256_hex(&intermediate.der));
    let certificate = report.failures[0].certificate.as_ref().unwrap();
    assert_eq!(certificate.role, StepRole::Intermediate);
}

#[test]
fn not_yet_valid_intermediate_is_named() {
    let root = sign(
        ca_params("Future Root", BasicConstraints::Unconstrained),
        None,
    );
    let mut params = ca_params("Future Issuing CA", BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(2090, 1, 1);
    params.not_after = rcgen::date_time_ymd(2095, 1, 1);
    let intermediate = sign(params, Some(&root));
    let leaf = sign(leaf_params("owa.verify.example.test"), Some(&intermediate));

    let report = run(&leaf, &[&intermediate], &[&root]);

    assert_eq!(kinds(&report), [FailureKind::NotYetValid]);
    assert_eq!(blamed(&report), sha256_hex(&intermediate.der));
}

#[test]
fn validation_time_is_honoured() {
    let chain = TestChain::new("owa.verify.example.test");
    let mut params = leaf_params("owa.verify.example.test");
    params.not_before = rcgen::date_time_ymd(2019, 1, 1);
    params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let leaf = sign(params, Some(&chain.intermediate));

    let mut options = VerifyOptions::now();
    options.at = at("2019-06-01T00:00:00Z");
    let report = run_with(&leaf, &[&chain.intermediate], &[&chain.root], options);

    assert!(report.valid, "{:#?}", report.failures);
    assert_eq!(report.at, "2019-06-01T00:00:00Z");
}

#[test]
fn same_name_other_key_is_bad_signature() {
    let chain = TestChain::new("owa.verify.example.test");
    // Same subject name as the real issuing CA, different key.
    let impostor = ca_cert("Test Issuing CA", Some(&chain.root));
    let leaf = sign(leaf_params("owa.verify.example.test"), Some(&impostor));
    // The leaf's authority key identifier names the impostor's key, so drop it: only the
    // signature tells the two CAs apart.
    let mut params = leaf.params.clone();
    params.use_authority_key_identifier_extension = false;
    let leaf = Generated {
        der: params
            .signed_by(&leaf.key, &impostor.issuer())
            .unwrap()
            .der()
            .clone(),
        ..leaf
    };

    let report = run(&leaf, &[&chain.intermediate], &[&chain.root]);

    assert_eq!(kinds(&report), [FailureKind::BadSignature]);
    assert_eq!(blamed(&report), sha256_hex(&leaf.der));
    assert!(report.failures[0].message.contains("CN=Test Issuing CA"));
}

#[test]
fn leaf_used_as_issuer_is_not_ca() {
    let chain = TestChain::new("owa.verify.example.test");
    let second = sign(leaf_params("second.verify.example.test"), Some(&chain.leaf));

    let report = run(&second, &[&chain.leaf, &chain.intermediate], &[&chain.root]);

    assert_eq!(kinds(&report), [FailureKind::NotCa]);
    assert_eq!(blamed(&report), sha256_hex(&chain.leaf.der));
}

#[test]
fn ca_certificate_as_leaf_is_rejected() {
    let chain = TestChain::new("owa.verify.example.test");
    let report = run(&chain.intermediate, &[], &[&chain.root]);

    assert_eq!(kinds(&report), [FailureKind::CaUsedAsLeaf]);
    assert_eq!(blamed(&report), sha256_hex(&chain.intermediate.der));
}

#[test]
fn path_length_zero_above_intermediate() {
    let root = sign(
        ca_params("PathLen Root", BasicConstraints::Unconstrained),
        None,
    );
    let upper = sign(
        ca_params("PathLen Zero CA", BasicConstraints::Constrained(0)),
        Some(&root),
    );
    let lower = sign(
        ca_params("PathLen Lower CA", BasicConstraints::Unconstrained),
        Some(&upper),
    );
    let leaf = sign(leaf_params("owa.pathlen.example.test"), Some(&lower));

    let report = run(&leaf, &[&lower, &upper], &[&root]);

    assert_eq!(kinds(&report), [FailureKind::PathLengthExceeded]);
    assert_eq!(blamed(&report), sha256_hex(&upper.der));
}

#[test]
fn client_only_usage_is_wrong_usage() {
    let chain = TestChain::new("owa.verify.example.test");
    let mut params = leaf_params("owa.verify.example.test");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = sign(params, Some(&chain.intermediate));

    let report = run(&leaf, &[&chain.intermediate], &[&chain.root]);

    assert_eq!(kinds(&report), [FailureKind::WrongUsage]);
    assert_eq!(blamed(&report), sha256_hex(&leaf.der));
}

#[test]
fn host_mismatch_fails_a_valid_path() {
    let chain = TestChain::new("owa.verify.example.test");
    let mut options = VerifyOptions::now();
    options.host = Some(ReferenceName::parse("mail.verify.example.test").unwrap());
    let report = run_with(&chain.leaf, &[&chain.intermediate], &[&chain.root], options);

    assert!(!report.valid);
    assert_eq!(report.chain.len(), 3, "the path itself validated");
    assert_eq!(kinds(&report), [FailureKind::NameMismatch]);
    assert_eq!(report.webpki_accepts_name, Some(false));
}

#[test]
fn cn_only_leaf_depends_on_profile() {
    let chain = TestChain::new("owa.verify.example.test");
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "owa.cn.example.test");
    params.use_authority_key_identifier_extension = true;
    let leaf = sign(params, Some(&chain.intermediate));
    let host = ReferenceName::parse("owa.cn.example.test").unwrap();

    let mut options = VerifyOptions::now();
    options.host = Some(host.clone());
    let rfc6125 = run_with(&leaf, &[&chain.intermediate], &[&chain.root], options);
    assert!(rfc6125.valid, "{:#?}", rfc6125.failures);
    let matched = rfc6125
        .name_check
        .as_ref()
        .unwrap()
        .matched
        .as_ref()
        .unwrap();
    assert_eq!(matched.rule, MatchRule::CommonNameFallback);
    assert_eq!(rfc6125.webpki_accepts_name, Some(false));
    assert!(
        rfc6125
            .warnings
            .iter()
            .any(|w| w.to_lowercase().contains("current clients reject this")),
        "{:?}",
        rfc6125.warnings
    );

    let mut options = VerifyOptions::now();
    options.host = Some(host);
    options.profile = Profile::ExactSan;
    let exact = run_with(&leaf, &[&chain.intermediate], &[&chain.root], options);
    assert_eq!(kinds(&exact), [FailureKind::NameMismatch]);
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

fn write_pem(dir: &Path, name: &str, certs: &[&Generated]) -> String {
    let pem: String = certs.iter().map(|c| c.pem.as_str()).collect();
    write(dir, name, &pem).to_str().unwrap().to_string()
}

#[test]
fn command_valid_with_ca_file() {
    let chain = TestChain::new("owa.verify.example.test");
    let dir = tempfile::tempdir().unwrap();
    let leaf = write_pem(dir.path(), "leaf.pem", &[&chain.leaf]);
    let intermediates = write_pem(dir.path(), "int.pem", &[&chain.intermediate]);
    let root = write_pem(dir.path(), "root.pem", &[&chain.root]);

    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "verify",
            &leaf,
            "--intermediates",
            &intermediates,
            "--ca-file",
            &root,
            "--host",
            "owa.verify.example.test",
            "--json",
        ],
    );

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["result"]["valid"], true);
    assert_eq!(json["result"]["chain"].as_array().unwrap().len(), 3);
    assert_eq!(
        json["result"]["chain"][2]["fingerprint_sha256"],
        sha256_hex(&chain.root.der)
    );
    assert!(
        !dir.path().join("store").exists(),
        "--ca-file does not touch the store"
    );
}

#[test]
fn command_leaf_file_with_chain() {
    // A full-chain PEM as LEAF: the rest of the file is used as intermediates.
    let chain = TestChain::new("owa.verify.example.test");
    let dir = tempfile::tempdir().unwrap();
    let leaf = write_pem(dir.path(), "full.pem", &[&chain.leaf, &chain.intermediate]);
    let root = write_pem(dir.path(), "root.pem", &[&chain.root]);

    let run = gwtrust(
        &dir.path().join("store"),
        &["verify", &leaf, "--ca-file", &root],
    );

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Result: VALID"), "{}", run.stdout);
    assert!(run.stdout.contains("intermediate: CN=Test Issuing CA"));
}

#[test]
fn command_expired_exits_one() {
    let chain = TestChain::new("owa.verify.example.test");
    let dir = tempfile::tempdir().unwrap();
    let leaf = write_pem(dir.path(), "leaf.pem", &[&chain.leaf, &chain.intermediate]);
    let root = write_pem(dir.path(), "root.pem", &[&chain.root]);

    // rcgen's default validity ends in 4096.
    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "verify",
            &leaf,
            "--ca-file",
            &root,
            "--at",
            "4097-01-01T00:00:00Z",
            "--json",
        ],
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["status"], "check_failed");
    let failures = json["result"]["failures"].as_array().unwrap();
    assert_eq!(failures[0]["kind"], "expired");
    assert_eq!(failures[0]["certificate"]["role"], "leaf");
}

#[test]
fn command_sha1_signature_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| run_tool("openssl", args);

    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &path("root.key"),
        "-out",
        &path("root.pem"),
        "-subj",
        "/CN=SHA-1 Test Root",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &path("leaf.key"),
        "-out",
        &path("leaf.csr"),
        "-subj",
        "/CN=owa.sha1.example.test",
    ]);
    // With extensions, so the leaf is X.509 v3: rustls-webpki rejects v1 leaves outright.
    let extensions = write(
        dir.path(),
        "leaf.ext",
        "subjectAltName=DNS:owa.sha1.example.test\n",
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("leaf.csr"),
        "-CA",
        &path("root.pem"),
        "-CAkey",
        &path("root.key"),
        "-CAcreateserial",
        "-sha1",
        "-days",
        "10",
        "-out",
        &path("leaf.pem"),
        "-extfile",
        extensions.to_str().unwrap(),
    ]);

    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "verify",
            &path("leaf.pem"),
            "--ca-file",
            &path("root.pem"),
            "--json",
        ],
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let failure = &json["result"]["failures"][0];
    assert_eq!(failure["kind"], "unsupported_algorithm");
    assert_eq!(failure["certificate"]["role"], "leaf");
    assert!(failure["message"].as_str().unwrap().contains("sha1"));
}

#[test]
fn command_uses_pinned_root() {
    let host = "owa.verify.example.test";
    let chain = TestChain::new(host);
    let server = TestServer::start(chain.presented(true), &chain.leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let pin = gwtrust(
        &store,
        &["pin", host, "--connect", &server.addr.to_string(), "--yes"],
    );
    assert_eq!(pin.code, 0, "{}{}", pin.stdout, pin.stderr);

    let leaf = write_pem(dir.path(), "leaf.pem", &[&chain.leaf, &chain.intermediate]);
    let run = gwtrust(&store, &["verify", &leaf, "--json"]);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let anchor = &run.json()["result"]["chain"][2];
    assert_eq!(anchor["source"]["kind"], "store");
    assert_eq!(anchor["source"]["list"], "presence");
    assert_eq!(anchor["fingerprint_sha256"], sha256_hex(&chain.root.der));
}

#[test]
fn command_bad_arguments_exit_two() {
    let chain = TestChain::new("owa.verify.example.test");
    let dir = tempfile::tempdir().unwrap();
    let leaf = write_pem(dir.path(), "leaf.pem", &[&chain.leaf]);
    let root = write_pem(dir.path(), "root.pem", &[&chain.root]);
    let store = dir.path().join("store");

    let bad_time = gwtrust(
        &store,
        &["verify", &leaf, "--ca-file", &root, "--at", "yesterday"],
    );
    assert_eq!(bad_time.code, 2, "{}", bad_time.stderr);
    assert!(bad_time.stderr.contains("--at"), "{}", bad_time.stderr);

    let both = gwtrust(
        &store,
        &["verify", &leaf, "--ca-file", &root, "--list", "presence"],
    );
    assert_eq!(both.code, 2, "{}", both.stderr);

    let bad_host = gwtrust(
        &store,
        &[
            "verify",
            &leaf,
            "--ca-file",
            &root,
            "--host",
            "owa.example.test:443",
        ],
    );
    assert_eq!(bad_host.code, 2, "{}", bad_host.stderr);

    let missing = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(["verify", "/nonexistent/leaf.pem", "--ca-file", &root])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn self_signed_leaf_as_own_anchor() {
    // A fresh Exchange install's certificate, pinned as its own root.
    let leaf = self_signed_leaf("owa.selfsigned.example.test");
    let report = run(&leaf, &[], &[&leaf]);

    assert!(report.valid, "{:#?}", report.failures);
    assert_eq!(report.chain.len(), 2);
    assert_eq!(report.chain[1].role, StepRole::TrustAnchor);
    assert_eq!(
        report.chain[1].fingerprint_sha256.as_deref(),
        Some(sha256_hex(&leaf.der).as_str())
    );
}

#[test]
fn command_small_rsa_key_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| run_tool("openssl", args);

    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:1024",
        "-nodes",
        "-keyout",
        &path("root.key"),
        "-out",
        &path("root.pem"),
        "-subj",
        "/CN=RSA-1024 Test Root",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &path("leaf.key"),
        "-out",
        &path("leaf.csr"),
        "-subj",
        "/CN=owa.rsa1024.example.test",
    ]);
    let extensions = write(
        dir.path(),
        "leaf.ext",
        "subjectAltName=DNS:owa.rsa1024.example.test\n",
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("leaf.csr"),
        "-CA",
        &path("root.pem"),
        "-CAkey",
        &path("root.key"),
        "-CAcreateserial",
        "-sha256",
        "-days",
        "10",
        "-out",
        &path("leaf.pem"),
        "-extfile",
        extensions.to_str().unwrap(),
    ]);

    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "verify",
            &path("leaf.pem"),
            "--ca-file",
            &path("root.pem"),
            "--json",
        ],
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let failure = &json["result"]["failures"][0];
    assert_eq!(failure["kind"], "unsupported_algorithm");
    assert!(failure["message"]
        .as_str()
        .unwrap()
        .contains("1024-bit RSA key"));
}

#[test]
fn presented_chain_with_root() {
    let chain = TestChain::new("owa.verify.example.test");
    let anchors = [anchor(&chain.root)];

    let report = verify_presented(&chain.presented(true), &anchors, &VerifyOptions::now())
        .expect("verify_presented runs");
    assert!(report.valid, "{:#?}", report.failures);
    assert_eq!(report.intermediates_offered, 2);
    assert_eq!(report.chain.len(), 3);

    let empty = verify_presented(&[], &anchors, &VerifyOptions::now());
    assert!(empty.is_err(), "an empty chain is an input error");
}
