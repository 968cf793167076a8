//! `gateway check --hosts FILE`: live lab servers, a closed port and a silent listener together.

mod common;

use std::net::SocketAddr;

use common::*;
use gwtrust::gateway::Api;
use gwtrust::lab::serve::ServeMode;
use serde_json::Value;

/// Two live names on one lab server, one closed port, one listener that never responds.
struct Fleet {
    _dir: tempfile::TempDir,
    _silent: std::net::TcpListener,
    store: std::path::PathBuf,
    hosts: std::path::PathBuf,
}

fn fleet() -> Fleet {
    let chain = TestChain::new("owa.fleet.example.test");
    // One leaf naming two hosts, as an Exchange server with several names has.
    let leaf = leaf_cert(
        "owa.fleet.example.test",
        &["owa.fleet.example.test", "mail.fleet.example.test"],
        &chain.intermediate,
    );
    let mode = ServeMode {
        apis: vec![Api::Ews],
        ..ServeMode::default()
    };
    let live = TestServer::start_with_mode(
        vec![
            leaf.der.clone(),
            chain.intermediate.der.clone(),
            chain.root.der.clone(),
        ],
        &leaf.key,
        true,
        mode,
    )
    .addr;
    let closed = closed_port();
    let (silent, silent_addr) = silent_listener();

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let run = gwtrust(
        &store,
        &[
            "pin",
            "owa.fleet.example.test",
            "--connect",
            &live.to_string(),
            "--yes",
        ],
    );
    assert_eq!(run.code, 0, "pin: {}{}", run.stdout, run.stderr);

    let line = |host: &str, user: &str, addr: SocketAddr| format!("{host},{user},{addr}\n");
    let text = [
        "# fleet under test\n".to_string(),
        line("owa.fleet.example.test", "jdoe@fleet.example.test", live),
        line("dead.fleet.example.test", "", closed),
        "\n".to_string(),
        line(
            "silent.fleet.example.test",
            "jdoe@fleet.example.test",
            silent_addr,
        ),
        line("mail.fleet.example.test", "FLEET\\jdoe", live),
        line("wrong.fleet.example.test", "", live),
    ]
    .concat();
    let hosts = write(dir.path(), "hosts.txt", &text);
    Fleet {
        _dir: dir,
        _silent: silent,
        store,
        hosts,
    }
}

#[test]
fn fleet_json_lines_with_dead_hosts() {
    let fleet = fleet();
    let run = gwtrust(
        &fleet.store,
        &[
            "gateway",
            "check",
            "--hosts",
            fleet.hosts.to_str().unwrap(),
            "--timeout",
            "2",
            // The leaf names two hosts, which exact-san turns into a warning.
            "--profile",
            "rfc6125",
            "--json",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);

    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 6, "five hosts and a summary:\n{}", run.stdout);

    let outcome = |host: &str| {
        lines
            .iter()
            .find(|l| l["host"] == host)
            .unwrap_or_else(|| panic!("no line for {host}"))["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(outcome("owa.fleet.example.test"), "passed");
    assert_eq!(outcome("mail.fleet.example.test"), "warned");
    assert_eq!(outcome("wrong.fleet.example.test"), "failed");
    assert_eq!(outcome("dead.fleet.example.test"), "unreachable");
    assert_eq!(outcome("silent.fleet.example.test"), "unreachable");

    let summary = lines.last().unwrap();
    assert_eq!(summary["command"], "gateway check");
    assert_eq!(summary["exit_code"], 1);
    let counts = &summary["result"]["summary"];
    assert_eq!(counts["hosts"], 5);
    assert_eq!(counts["passed"], 1);
    assert_eq!(counts["warned"], 1);
    assert_eq!(counts["failed"], 1);
    assert_eq!(counts["unreachable"], 2);
}

#[test]
fn fleet_text_table_and_line_numbers() {
    let fleet = fleet();
    let run = gwtrust(
        &fleet.store,
        &[
            "gateway",
            "check",
            "--hosts",
            fleet.hosts.to_str().unwrap(),
            "--timeout",
            "2",
            "--profile",
            "rfc6125",
            "--concurrency",
            "2",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("unreachable       2"), "{}", run.stdout);
    assert!(run.stdout.contains("passed            1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("silent.fleet.example.test (line 5)"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("Gateway owa.fleet.example.test"),
        "passed hosts get no checklist:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.is_empty(),
        "no progress bar without a terminal: {}",
        run.stderr
    );
}

#[test]
fn fleet_all_unreachable_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "a.fleet.example.test,,{}\nb.fleet.example.test,,{}\n",
        closed_port(),
        closed_port()
    );
    let hosts = write(dir.path(), "hosts.txt", &text);
    let run = gwtrust(
        &dir.path().join("store"),
        &["gateway", "check", "--hosts", hosts.to_str().unwrap()],
    );
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
}

#[test]
fn fleet_bad_hosts_file_is_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = write(
        dir.path(),
        "hosts.txt",
        "ok.example.test\nbad.example.test,u,nowhere\n",
    );
    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "gateway",
            "check",
            "--hosts",
            hosts.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, 2);
    let json = run.json();
    assert_eq!(json["error"]["kind"], "invalid_input");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("line 2"));

    let missing = dir.path().join("missing.txt");
    let run = gwtrust(
        &dir.path().join("store"),
        &["gateway", "check", "--hosts", missing.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
}

#[test]
fn host_and_hosts_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let run = gwtrust(
        &dir.path().join("store"),
        &[
            "gateway",
            "check",
            "--host",
            "a.example.test",
            "--hosts",
            "f",
        ],
    );
    assert_eq!(run.code, 2);
    let run = gwtrust(&dir.path().join("store"), &["gateway", "check"]);
    assert_eq!(run.code, 2);
}
