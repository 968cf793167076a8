//! `gwtrust verify-host` on certificates generated with rcgen: CN only, SANs with a CN, IP SANs,
//! a NUL in the CN, and a leaf fetched from a loopback server.

mod common;

use std::path::Path;

use common::*;
use rcgen::{CertificateParams, DnType, KeyPair};

/// Self-signs a certificate with these SANs (IP address text becomes an iPAddress entry) and
/// this CN, and writes it as PEM.
fn cert_file(dir: &Path, name: &str, sans: &[&str], common_name: Option<&str>) -> String {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("SANs");
    params.distinguished_name = rcgen::DistinguishedName::new();
    if let Some(common_name) = common_name {
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = params.self_signed(&key).expect("self-sign");
    write(dir, name, &cert.pem()).to_str().unwrap().to_string()
}

fn verify_host(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["verify-host"];
    all.extend_from_slice(args);
    gwtrust(&dir.join("store"), &all)
}

fn rejected_reason<'a>(
    json: &'a serde_json::Value,
    kind: &str,
    name: &str,
) -> &'a serde_json::Value {
    json["result"]["name_check"]["rejected"]
        .as_array()
        .expect("rejected array")
        .iter()
        .find(|r| r["kind"] == kind && r["name"] == name)
        .map(|r| &r["reason"])
        .unwrap_or_else(|| panic!("no rejected {kind} {name:?} in {json:#}"))
}

#[test]
fn cn_only_matches_with_warning() {
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(dir.path(), "cn.pem", &[], Some("owa.example.test"));

    let run = verify_host(
        dir.path(),
        &["OWA.example.test.", "--cert", &cert, "--json"],
    );

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let check = &json["result"]["name_check"];
    assert_eq!(check["matched"]["rule"], "common_name_fallback");
    assert_eq!(check["matched"]["kind"], "common_name");
    let warnings = check["warnings"].to_string().to_lowercase();
    assert!(
        warnings.contains("matched on cn only") && warnings.contains("current clients reject this"),
        "{warnings}"
    );

    let exact = verify_host(
        dir.path(),
        &[
            "owa.example.test",
            "--cert",
            &cert,
            "--profile",
            "exact-san",
            "--json",
        ],
    );
    assert_eq!(exact.code, 1, "{}{}", exact.stdout, exact.stderr);
    assert_eq!(
        rejected_reason(&exact.json(), "common_name", "owa.example.test"),
        "common_name_not_allowed"
    );
}

#[test]
fn san_with_cn_ignores_cn_unless_legacy() {
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(
        dir.path(),
        "san.pem",
        &["mail.example.test", "autodiscover.example.test"],
        Some("owa.example.test"),
    );

    let strict = verify_host(dir.path(), &["owa.example.test", "--cert", &cert, "--json"]);
    assert_eq!(strict.code, 1, "{}{}", strict.stdout, strict.stderr);
    let json = strict.json();
    assert_eq!(json["status"], "check_failed");
    assert!(json["result"]["name_check"]["matched"].is_null());
    assert_eq!(
        rejected_reason(&json, "common_name", "owa.example.test"),
        "common_name_ignored"
    );
    assert_eq!(
        rejected_reason(&json, "dns_san", "mail.example.test"),
        "different_name"
    );
    assert_eq!(
        rejected_reason(&json, "dns_san", "autodiscover.example.test"),
        "different_name"
    );

    let legacy = verify_host(
        dir.path(),
        &[
            "owa.example.test",
            "--cert",
            &cert,
            "--profile",
            "legacy",
            "--json",
        ],
    );
    assert_eq!(legacy.code, 0, "{}{}", legacy.stdout, legacy.stderr);
    assert_eq!(
        legacy.json()["result"]["name_check"]["matched"]["rule"],
        "legacy_common_name"
    );

    let san = verify_host(dir.path(), &["mail.example.test", "--cert", &cert]);
    assert_eq!(san.code, 0, "{}{}", san.stdout, san.stderr);
    assert!(
        san.stdout.contains("MATCHES") && san.stdout.contains("exact DNS name"),
        "{}",
        san.stdout
    );
    assert!(
        san.stdout
            .contains("not matched: dNSName SAN \"autodiscover.example.test\""),
        "every other name is listed with its reason: {}",
        san.stdout
    );
}

#[test]
fn ip_sans_match_any_textual_form() {
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(
        dir.path(),
        "ip.pem",
        &["10.0.0.1", "::1", "owa.example.test"],
        Some("10.0.0.2"),
    );

    let v4 = verify_host(dir.path(), &["10.0.0.1", "--cert", &cert, "--json"]);
    assert_eq!(v4.code, 0, "{}{}", v4.stdout, v4.stderr);
    assert_eq!(
        v4.json()["result"]["name_check"]["matched"]["rule"],
        "ip_address"
    );

    let v6 = verify_host(dir.path(), &["0:0:0:0:0:0:0:1", "--cert", &cert]);
    assert_eq!(v6.code, 0, "{}{}", v6.stdout, v6.stderr);

    // The CN contains this address, and an IP host never matches a CN.
    let cn = verify_host(dir.path(), &["10.0.0.2", "--cert", &cert, "--json"]);
    assert_eq!(cn.code, 1, "{}{}", cn.stdout, cn.stderr);
    assert_eq!(
        rejected_reason(&cn.json(), "common_name", "10.0.0.2"),
        "not_ip_san"
    );
}

#[test]
fn nul_in_cn_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(
        dir.path(),
        "nul.pem",
        &[],
        Some("owa.example.test\0.evil.example"),
    );

    let run = verify_host(dir.path(), &["owa.example.test", "--cert", &cert, "--json"]);

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(
        rejected_reason(&json, "common_name", "owa.example.test\0.evil.example"),
        &serde_json::json!({ "malformed": "control_character" })
    );

    let text = verify_host(dir.path(), &["owa.example.test", "--cert", &cert]);
    assert!(
        text.stdout.contains("\\0"),
        "the NUL is shown escaped: {}",
        text.stdout
    );
}

#[test]
fn target_fetches_the_leaf() {
    let host = "owa.verifyhost.example.test";
    let chain = TestChain::new(host);
    let server = TestServer::start(chain.presented(false), &chain.leaf.key);
    let dir = tempfile::tempdir().unwrap();
    let connect = server.addr.to_string();

    let run = verify_host(
        dir.path(),
        &[host, "--target", host, "--connect", &connect, "--json"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(
        json["result"]["leaf"]["fingerprint_sha256"],
        sha256_hex(&chain.leaf.der)
    );
    assert!(json["result"]["source"]
        .as_str()
        .unwrap()
        .starts_with("server "));

    let other = verify_host(
        dir.path(),
        &[
            "mail.verifyhost.example.test",
            "--target",
            host,
            "--connect",
            &connect,
        ],
    );
    assert_eq!(other.code, 1, "{}{}", other.stdout, other.stderr);
}

#[test]
fn bad_input_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let cert = cert_file(dir.path(), "c.pem", &["owa.example.test"], None);

    let port = verify_host(dir.path(), &["owa.example.test:443", "--cert", &cert]);
    assert_eq!(port.code, 2, "{}", port.stderr);

    let neither = verify_host(dir.path(), &["owa.example.test"]);
    assert_eq!(neither.code, 2, "{}", neither.stderr);

    let profile = verify_host(
        dir.path(),
        &["owa.example.test", "--cert", &cert, "--profile", "loose"],
    );
    assert_eq!(profile.code, 2, "{}", profile.stderr);

    let not_a_cert = write(dir.path(), "junk.pem", "not a certificate");
    let junk = verify_host(
        dir.path(),
        &["owa.example.test", "--cert", not_a_cert.to_str().unwrap()],
    );
    assert_eq!(junk.code, 2, "{}", junk.stderr);
}
