//! `gateway check` against lab servers on loopback: each of the seven checks passing and failing.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

use common::*;
use gwtrust::gateway::Api;
use gwtrust::lab::serve::{AuthScheme, ServeMode, TlsVersion};
use rcgen::KeyPair;
use rustls::pki_types::CertificateDer;
use serde_json::Value;

const HOST: &str = "owa.gw.example.test";

/// Starts a lab server responding as `mode`, on a free loopback port, in a background thread.
fn start_lab(
    chain: Vec<CertificateDer<'static>>,
    key: &KeyPair,
    send_root: bool,
    mode: ServeMode,
) -> SocketAddr {
    TestServer::start_with_mode(chain, key, send_root, mode).addr
}

fn ews_mode() -> ServeMode {
    ServeMode {
        apis: vec![Api::Ews],
        ..ServeMode::default()
    }
}

/// Starts a lab server for `HOST` with the EWS endpoint, sending its root.
fn default_lab() -> (TestChain, SocketAddr) {
    let chain = TestChain::new(HOST);
    let addr = start_lab(chain.presented(true), &chain.leaf.key, true, ews_mode());
    (chain, addr)
}

/// Runs `gateway check --json` and returns the run and its JSON document.
fn check(store: &Path, host: &str, addr: SocketAddr, extra: &[&str]) -> (Run, Value) {
    let addr = addr.to_string();
    let mut args = vec![
        "gateway",
        "check",
        "--host",
        host,
        "--connect",
        &addr,
        "--json",
        "--timeout",
        "5",
    ];
    args.extend_from_slice(extra);
    let run = gwtrust(store, &args);
    let json = run.json();
    (run, json)
}

/// Returns the checklist line of `id` ("host_form", "account", ...).
fn line<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["result"]["checks"]
        .as_array()
        .expect("checks array")
        .iter()
        .find(|c| c["check"] == id)
        .unwrap_or_else(|| panic!("no {id} check in {json:#}"))
}

fn status<'a>(json: &'a Value, id: &str) -> &'a str {
    line(json, id)["status"].as_str().expect("status")
}

fn fix<'a>(json: &'a Value, id: &str) -> &'a str {
    line(json, id)["fix"].as_str().unwrap_or_default()
}

fn pin_root(store: &Path, addr: SocketAddr) {
    let run = gwtrust(
        store,
        &["pin", HOST, "--connect", &addr.to_string(), "--yes"],
    );
    assert_eq!(run.code, 0, "pin failed: {}{}", run.stdout, run.stderr);
}

#[test]
fn all_checks_pass_after_pin() {
    let (_chain, addr) = default_lab();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    pin_root(&store, addr);

    let (run, json) = check(&store, HOST, addr, &["--user", "jdoe@gw.example.test"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(json["result"]["outcome"], "passed");
    for id in [
        "host_form",
        "account",
        "tls",
        "name",
        "trust",
        "validity",
        "http",
    ] {
        assert_eq!(status(&json, id), "passed", "{id}: {:#}", line(&json, id));
        assert!(line(&json, id)["fix"].is_null(), "{id} has a fix");
    }
    assert_eq!(json["result"]["profile"], "exact-san");
    assert_eq!(json["result"]["root"]["pinned"], true);
    assert_eq!(json["result"]["root"]["hosts"][0], HOST);
}

#[test]
fn text_output_lists_every_check() {
    let (_chain, addr) = default_lab();
    let dir = tempfile::tempdir().unwrap();
    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "gateway",
            "check",
            "--host",
            HOST,
            "--connect",
            &addr.to_string(),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for label in [
        "host form",
        "account",
        "TLS",
        "name",
        "trust",
        "validity",
        "HTTP",
    ] {
        assert!(
            run.stdout.contains(label),
            "{label} missing:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("fix: "), "{}", run.stdout);
    assert!(run.stdout.contains("Result: failed"), "{}", run.stdout);
}

#[test]
fn host_form_single_label_and_ip_fail() {
    let chain = TestChain::new("owa");
    let addr = start_lab(chain.presented(true), &chain.leaf.key, true, ews_mode());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let (run, json) = check(&store, "owa", addr, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(status(&json, "host_form"), "failed");
    assert!(line(&json, "host_form")["detail"]
        .as_str()
        .unwrap()
        .contains("single label"));
    assert!(fix(&json, "host_form").contains("FQDN"));

    let (run, json) = check(&store, "127.0.0.1", addr, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(status(&json, "host_form"), "failed");
    assert!(line(&json, "host_form")["detail"]
        .as_str()
        .unwrap()
        .contains("IP address"));
}

#[test]
fn account_forms() {
    let (_chain, addr) = default_lab();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let (_, json) = check(&store, HOST, addr, &["--user", "jdoe@gw.example.test"]);
    assert_eq!(status(&json, "account"), "passed");

    let (_, json) = check(&store, HOST, addr, &["--user", "CORP\\jdoe"]);
    assert_eq!(status(&json, "account"), "warned");
    assert!(
        fix(&json, "account").contains("jdoe@gw.example.test"),
        "the fix names the UPN to try: {}",
        fix(&json, "account")
    );

    let (_, json) = check(&store, HOST, addr, &["--user", "jdoe"]);
    assert_eq!(status(&json, "account"), "warned");
    assert!(line(&json, "account")["detail"]
        .as_str()
        .unwrap()
        .contains("domain"));

    for bad in [
        "@gw.example.test",
        "jdoe@",
        "a@b@c.example",
        "CORP\\",
        "j doe@x.example",
    ] {
        let (run, json) = check(&store, HOST, addr, &["--user", bad]);
        assert_eq!(status(&json, "account"), "failed", "{bad:?}");
        assert_eq!(run.code, 1, "{bad:?}");
    }

    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(status(&json, "account"), "skipped");
}

#[test]
fn tls_reports_version_and_cipher() {
    let chain = TestChain::new(HOST);
    let mode = ServeMode {
        tls_max: Some(TlsVersion::Tls12),
        ..ews_mode()
    };
    let addr = start_lab(chain.presented(true), &chain.leaf.key, true, mode);
    let dir = tempfile::tempdir().unwrap();

    let (_, json) = check(&dir.path().join("store"), HOST, addr, &[]);
    assert_eq!(status(&json, "tls"), "passed");
    assert_eq!(json["result"]["tls"]["protocol"], "TLSv1_2");
    let cipher = json["result"]["tls"]["cipher_suite"].as_str().unwrap();
    assert!(cipher.starts_with("TLS_ECDHE_"), "{cipher}");
    assert!(line(&json, "tls")["detail"]
        .as_str()
        .unwrap()
        .contains(cipher));
}

/// Starts a loopback listener that replies in plain HTTP, as a port without TLS does.
fn plain_http_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 1024];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        }
    });
    addr
}

#[test]
fn tls_handshake_failure_fails() {
    let addr = plain_http_port();
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = check(&dir.path().join("store"), HOST, addr, &[]);
    assert_eq!(
        run.code, 1,
        "a reachable host that fails TLS is a failed check"
    );
    assert_eq!(json["result"]["outcome"], "failed");
    assert_eq!(status(&json, "tls"), "failed");
    assert!(fix(&json, "tls").contains("TLS 1.2"));
    for id in ["name", "trust", "validity", "http"] {
        assert_eq!(status(&json, id), "skipped", "{id}");
    }
}

#[test]
fn unreachable_host_exits_3() {
    let addr = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = check(&dir.path().join("store"), HOST, addr, &[]);
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert_eq!(json["status"], "network");
    assert_eq!(json["result"]["outcome"], "unreachable");
    assert_eq!(status(&json, "tls"), "failed");
}

#[test]
fn name_mismatch_fails() {
    let (_chain, addr) = default_lab();
    let dir = tempfile::tempdir().unwrap();
    let (run, json) = check(
        &dir.path().join("store"),
        "other.gw.example.test",
        addr,
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(status(&json, "name"), "failed");
    assert!(fix(&json, "name").contains("other.gw.example.test"));
}

#[test]
fn wildcard_passes_rfc6125_fails_exact_san() {
    let root = ca_cert("Wildcard Root CA", None);
    let leaf = leaf_cert("*.gw.example.test", &["*.gw.example.test"], &root);
    let addr = start_lab(
        vec![leaf.der.clone(), root.der.clone()],
        &leaf.key,
        true,
        ServeMode {
            apis: vec![Api::Ews, Api::Webdav],
            ..ServeMode::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let (_, json) = check(&store, HOST, addr, &["--api", "webdav"]);
    assert_eq!(json["result"]["profile"], "rfc6125");
    assert_eq!(status(&json, "name"), "passed", "{:#}", line(&json, "name"));

    let (_, json) = check(&store, HOST, addr, &["--api", "ews"]);
    assert_eq!(json["result"]["profile"], "exact-san");
    assert_eq!(status(&json, "name"), "failed");
    assert!(
        fix(&json, "name").contains("rfc6125"),
        "{}",
        fix(&json, "name")
    );

    let (_, json) = check(
        &store,
        HOST,
        addr,
        &["--api", "ews", "--profile", "rfc6125"],
    );
    assert_eq!(status(&json, "name"), "passed");
}

/// Splits the command after "run: " in a fix and drops the leading `gwtrust`.
fn command_in_fix(fix: &str) -> Vec<String> {
    let command = fix.split("run: ").nth(1).expect("the fix has a command");
    let words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[0], "gwtrust");
    words[1..].to_vec()
}

#[test]
fn trust_fails_then_printed_pin_fixes_it() {
    let (_chain, addr) = default_lab();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let (run, json) = check(&store, HOST, addr, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status(&json, "trust"), "failed");
    assert_eq!(json["result"]["root"]["pinned"], false);
    let words = command_in_fix(fix(&json, "trust"));
    assert!(
        words.contains(&"--expect-fingerprint".to_string()),
        "{words:?}"
    );

    // The printed command, run as printed, pins the root.
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let pinned = gwtrust_plain(&args);
    assert_eq!(pinned.code, 0, "{}{}", pinned.stdout, pinned.stderr);

    let (run, json) = check(&store, HOST, addr, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(status(&json, "trust"), "passed");
    let detail = line(&json, "trust")["detail"].as_str().unwrap();
    assert!(detail.contains("Test Root CA"), "{detail}");
    assert!(detail.contains(HOST), "{detail}");
    assert!(
        detail.contains("pinned 20"),
        "the pin time is shown: {detail}"
    );
}

#[test]
fn trust_missing_root_asks_for_ca_file() {
    let chain = TestChain::new(HOST);
    let addr = start_lab(chain.presented(false), &chain.leaf.key, false, ews_mode());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(status(&json, "trust"), "failed");
    assert!(json["result"]["root"].is_null());
    let fix = fix(&json, "trust");
    assert!(fix.contains("--ca-file"), "{fix}");
    assert!(fix.contains("Test Root CA"), "{fix}");

    // With the root file in place of ROOT.pem, the printed command works.
    let root = write(dir.path(), "root.pem", &chain.root.pem);
    let words: Vec<String> = command_in_fix(fix)
        .into_iter()
        .map(|w| {
            if w == "ROOT.pem" {
                root.display().to_string()
            } else {
                w
            }
        })
        .collect();
    let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
    args.push("--yes");
    let pinned = gwtrust_plain(&args);
    assert_eq!(pinned.code, 0, "{}{}", pinned.stdout, pinned.stderr);

    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(status(&json, "trust"), "passed");
    assert_eq!(json["result"]["root"]["source"]["kind"], "store");
}

/// Issues a leaf for `HOST`, valid from `from_days` to `to_days` days from now.
fn leaf_valid(issuer: &Generated, from_days: i64, to_days: i64) -> Generated {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![HOST.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, HOST);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now + time::Duration::days(from_days);
    params.not_after = now + time::Duration::days(to_days);
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer.issuer()).unwrap();
    Generated {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

#[test]
fn validity_expired_fails_expiring_warns() {
    let root = ca_cert("Validity Root CA", None);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let expired = leaf_valid(&root, -400, -1);
    let addr = start_lab(
        vec![expired.der.clone(), root.der.clone()],
        &expired.key,
        true,
        ews_mode(),
    );
    let (run, json) = check(&store, HOST, addr, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status(&json, "validity"), "failed");
    assert!(line(&json, "validity")["detail"]
        .as_str()
        .unwrap()
        .contains("expired"));
    assert!(fix(&json, "validity").contains("renew"));

    let expiring = leaf_valid(&root, -30, 10);
    let addr = start_lab(
        vec![expiring.der.clone(), root.der.clone()],
        &expiring.key,
        true,
        ews_mode(),
    );
    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(status(&json, "validity"), "warned");
    assert!(line(&json, "validity")["detail"]
        .as_str()
        .unwrap()
        .contains("expires on"));

    let not_yet = leaf_valid(&root, 2, 400);
    let addr = start_lab(
        vec![not_yet.der.clone(), root.der.clone()],
        &not_yet.key,
        true,
        ews_mode(),
    );
    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(status(&json, "validity"), "failed");
}

#[test]
fn http_forms_based_auth_fails() {
    let chain = TestChain::new(HOST);
    let mode = ServeMode {
        forms_based: true,
        ..ews_mode()
    };
    let addr = start_lab(chain.presented(true), &chain.leaf.key, true, mode);
    let dir = tempfile::tempdir().unwrap();

    let (run, json) = check(&dir.path().join("store"), HOST, addr, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status(&json, "http"), "failed");
    assert!(fix(&json, "http").contains("Basic or Integrated Windows authentication"));
    let owa = &json["result"]["http"][0];
    assert_eq!(owa["path"], "/owa/");
    assert_eq!(owa["status"], 302);
    assert_eq!(owa["forms_based"], true);
    assert!(owa["location"]
        .as_str()
        .unwrap()
        .contains("/owa/auth/logon.aspx"));
    let ews = &json["result"]["http"][1];
    assert_eq!(ews["path"], "/EWS/Exchange.asmx");
    assert_eq!(ews["status"], 401);
    assert_eq!(
        ews["new_connection"], false,
        "one connection carries both GETs"
    );
}

#[test]
fn http_schemes_reported_per_auth_mode() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let cases: [(&[AuthScheme], &str, &[&str]); 3] = [
        (&[AuthScheme::Basic], "passed", &["Basic"]),
        (&[AuthScheme::Negotiate], "warned", &["Negotiate"]),
        (&[], "failed", &[]),
    ];
    for (auth, expected, schemes) in cases {
        let mode = ServeMode {
            auth: auth.to_vec(),
            ..ews_mode()
        };
        let addr = start_lab(chain.presented(true), &chain.leaf.key, true, mode);
        let (_, json) = check(&store, HOST, addr, &[]);
        assert_eq!(
            status(&json, "http"),
            expected,
            "{auth:?}: {:#}",
            line(&json, "http")
        );
        for probe in json["result"]["http"].as_array().unwrap() {
            assert_eq!(probe["status"], 401);
            assert_eq!(probe["schemes"], serde_json::json!(schemes), "{auth:?}");
        }
    }
}

#[test]
fn http_missing_api_endpoint_fails() {
    let chain = TestChain::new(HOST);
    // The default mode serves /owa/ only, as before the API endpoints existed.
    let addr = start_lab(
        chain.presented(true),
        &chain.leaf.key,
        true,
        ServeMode::default(),
    );
    let dir = tempfile::tempdir().unwrap();

    let (_, json) = check(&dir.path().join("store"), HOST, addr, &["--api", "webdav"]);
    assert_eq!(status(&json, "http"), "failed");
    assert_eq!(json["result"]["http"][1]["path"], "/exchange/");
    assert_eq!(json["result"]["http"][1]["status"], 404);
    assert!(fix(&json, "http").contains("Exchange virtual directory"));
}

#[test]
fn lab_serve_cli_modes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let ca = dir.path().join("ca");
    let owa = dir.path().join("owa");
    let run = gwtrust(&store, &["lab", "ca", "--out", ca.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = gwtrust(
        &store,
        &[
            "lab",
            "server",
            "--ca",
            ca.to_str().unwrap(),
            "--host",
            HOST,
            "--key",
            "p256",
            "--out",
            owa.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut child = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(["lab", "serve", "--cert", owa.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--json", "--fba", "--api", "ews"])
        .args(["--auth", "basic", "--tls-max", "1.2"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lab serve");
    let stdout = child.stdout.take().unwrap();
    let _server = KillOnDrop(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let listening: Value = serde_json::from_str(&first).expect("the address line is JSON");
    let addr: SocketAddr = listening["address"].as_str().unwrap().parse().unwrap();

    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(json["result"]["tls"]["protocol"], "TLSv1_2");
    assert_eq!(json["result"]["http"][0]["forms_based"], true);
    assert_eq!(
        json["result"]["http"][1]["schemes"],
        serde_json::json!(["Basic"])
    );
    assert_eq!(status(&json, "http"), "failed");

    let run = gwtrust(
        &store,
        &[
            "lab",
            "serve",
            "--cert",
            owa.to_str().unwrap(),
            "--auth",
            "kerberos",
        ],
    );
    assert_eq!(
        run.code, 2,
        "an unknown scheme is a usage error: {}",
        run.stderr
    );
}

#[test]
fn openssl_s_server_www() {
    let chain = TestChain::new(HOST);
    let dir = tempfile::tempdir().unwrap();
    let leaf = write(dir.path(), "leaf.pem", &chain.leaf.pem);
    let key = write(dir.path(), "leaf.key", &chain.leaf.key.serialize_pem());
    let extra = write(
        dir.path(),
        "extra.pem",
        &format!("{}{}", chain.intermediate.pem, chain.root.pem),
    );
    let (_server, addr) = openssl_s_server(&leaf, &key, &["-cert_chain", extra.to_str().unwrap()]);

    let store = dir.path().join("store");
    let (run, json) = check(&store, HOST, addr, &["--user", "jdoe@gw.example.test"]);
    assert_eq!(run.code, 1, "the root is not pinned yet: {}", run.stdout);
    assert_eq!(json["result"]["tls"]["certificates"], 3);
    assert_eq!(status(&json, "trust"), "failed");
    for id in ["host_form", "account", "tls", "name", "validity"] {
        assert_eq!(status(&json, id), "passed", "{id}: {:#}", line(&json, id));
    }
    // s_server -www responds to every GET with a 200 status page and no challenge.
    assert_eq!(status(&json, "http"), "warned");
    for probe in json["result"]["http"].as_array().unwrap() {
        assert_eq!(probe["status"], 200, "{probe:#}");
    }

    pin_root(&store, addr);
    let (_, json) = check(&store, HOST, addr, &[]);
    assert_eq!(status(&json, "trust"), "passed");
}

#[test]
fn exact_san_warns_on_second_san() {
    let chain = TestChain::new(HOST);
    let leaf = leaf_cert(
        HOST,
        &[HOST, "autodiscover.gw.example.test"],
        &chain.intermediate,
    );
    let server = TestServer::start_with_mode(
        vec![
            leaf.der.clone(),
            chain.intermediate.der.clone(),
            chain.root.der.clone(),
        ],
        &leaf.key,
        true,
        ServeMode::default(),
    );
    let dir = tempfile::tempdir().unwrap();

    let (_, json) = check(&dir.path().join("store"), HOST, server.addr, &[]);
    assert_eq!(status(&json, "name"), "warned", "{:#}", line(&json, "name"));
    assert!(fix(&json, "name").contains("only dNSName SAN"));

    let (_, json) = check(
        &dir.path().join("store"),
        HOST,
        server.addr,
        &["--profile", "rfc6125"],
    );
    assert_eq!(status(&json, "name"), "passed");
}
