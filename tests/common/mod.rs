//! Shared test helpers: generated chains, loopback TLS servers, and running the binary.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use gwtrust::lab::serve::{LabServer, ServeMode, ServeOptions};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;

/// A generated certificate with its key.
pub struct Generated {
    pub der: CertificateDer<'static>,
    pub pem: String,
    pub key: KeyPair,
    pub params: CertificateParams,
}

impl Generated {
    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// A root, an intermediate and a leaf for `host`.
pub struct TestChain {
    pub root: Generated,
    pub intermediate: Generated,
    pub leaf: Generated,
}

impl TestChain {
    pub fn new(host: &str) -> TestChain {
        let root = ca_cert("Test Root CA", None);
        let intermediate = ca_cert("Test Issuing CA", Some(&root));
        let leaf = leaf_cert(host, &[host], &intermediate);
        TestChain {
            root,
            intermediate,
            leaf,
        }
    }

    /// Leaf, intermediate and, when `with_root`, the root, as a server sends them.
    pub fn presented(&self, with_root: bool) -> Vec<CertificateDer<'static>> {
        let mut chain = vec![self.leaf.der.clone(), self.intermediate.der.clone()];
        if with_root {
            chain.push(self.root.der.clone());
        }
        chain
    }
}

fn key() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key generation")
}

/// Generates a CA certificate, self-signed when `issuer` is None.
pub fn ca_cert(common_name: &str, issuer: Option<&Generated>) -> Generated {
    let key = key();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = issuer.is_some();
    let cert = match issuer {
        Some(issuer) => params.signed_by(&key, &issuer.issuer()).expect("sign CA"),
        None => params.self_signed(&key).expect("self-sign CA"),
    };
    Generated {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

/// Generates a server certificate for `common_name` with these DNS SANs.
pub fn leaf_cert(common_name: &str, sans: &[&str], issuer: &Generated) -> Generated {
    let key = key();
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("SANs");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer.issuer()).expect("sign leaf");
    Generated {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

/// Generates a self-signed server certificate, as a fresh Exchange install has.
pub fn self_signed_leaf(host: &str) -> Generated {
    let key = key();
    let mut params = CertificateParams::new(vec![host.to_string()]).expect("SANs");
    params.distinguished_name.push(DnType::CommonName, host);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).expect("self-sign leaf");
    Generated {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
        params,
    }
}

/// A rustls lab server on 127.0.0.1 in a background thread; it stops when the test process ends.
pub struct TestServer {
    pub addr: SocketAddr,
}

impl TestServer {
    pub fn start(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> TestServer {
        TestServer::start_with_mode(chain, key, true, ServeMode::default())
    }

    /// Starts a lab server that responds as `mode`, sending the root only when `send_root`.
    pub fn start_with_mode(
        chain: Vec<CertificateDer<'static>>,
        key: &KeyPair,
        send_root: bool,
        mode: ServeMode,
    ) -> TestServer {
        let options = ServeOptions {
            chain,
            key_pem: key.serialize_pem().into_bytes(),
            send_root,
        };
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let server = LabServer::bind_with_mode("127.0.0.1:0", &options, mode)
                    .await
                    .expect("bind lab server");
                sender.send(server.local_addr()).expect("send address");
                server.run().await;
            });
        });
        let addr = receiver
            .recv_timeout(Duration::from_secs(10))
            .expect("the lab server started");
        TestServer { addr }
    }
}

/// Binds a TCP listener on 127.0.0.1 that accepts connections and never responds.
pub fn silent_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

/// Returns a loopback address with nothing listening on it.
pub fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    addr
}

/// The result of one run of the gwtrust binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as the JSON document of `--json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs gwtrust with `args` against the store in `store`, stdin closed.
pub fn gwtrust(store: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("GWTRUST_STORE")
        .stdin(Stdio::null())
        .output()
        .expect("run gwtrust");
    finish(output)
}

/// Runs gwtrust without a `--store` argument.
pub fn gwtrust_plain(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_gwtrust"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run gwtrust");
    finish(output)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// Runs `program args`, panicking with its output if it fails.
pub fn run_tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listened on {addr} within {limit:?}");
}

/// Returns the fingerprints stored in `list`, via `gwtrust list --json`.
pub fn stored_fingerprints(store: &Path, list: &str) -> Vec<String> {
    let run = gwtrust(store, &["list", "--list", list, "--json"]);
    assert_eq!(run.code, 0, "list failed: {}{}", run.stdout, run.stderr);
    run.json()["result"]["lists"][0]["certificates"]
        .as_array()
        .expect("certificates array")
        .iter()
        .map(|c| {
            c["fingerprint_sha256"]
                .as_str()
                .expect("fingerprint")
                .to_string()
        })
        .collect()
}

/// Returns the lowercase hex SHA-256 fingerprint of DER bytes.
pub fn sha256_hex(der: &[u8]) -> String {
    gwtrust::cert::fingerprint(der).to_string()
}

/// A child process that is killed and reaped when dropped, so a failing test leaves no server.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `openssl s_server -www` on a free loopback port with `cert` and `key` and `extra`
/// arguments, and waits until it accepts connections.
pub fn openssl_s_server(cert: &Path, key: &Path, extra: &[&str]) -> (KillOnDrop, SocketAddr) {
    let addr = closed_port();
    let child = Command::new("openssl")
        .args(["s_server", "-accept", &addr.to_string(), "-cert"])
        .arg(cert)
        .arg("-key")
        .arg(key)
        .args(extra)
        .args(["-www", "-quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts (install openssl)");
    let server = KillOnDrop(child);
    wait_for_port(addr, Duration::from_secs(10));
    (server, addr)
}

/// Runs gwtrust with `args` under `script` (util-linux), so stdin is a terminal, typing `typed`
/// at it. Returns the exit code and everything the terminal showed.
pub fn gwtrust_on_terminal(store: &Path, args: &str, typed: &str) -> (i32, String) {
    let command = format!(
        "{} --store {} {args}; echo \"exit=$?\"",
        env!("CARGO_BIN_EXE_gwtrust"),
        store.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs (util-linux)");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), typed.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let code = text
        .rsplit("exit=")
        .next()
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or(-1);
    (code, text)
}
